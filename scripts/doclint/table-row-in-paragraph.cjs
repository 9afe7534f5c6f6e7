// A markdownlint rule for the one broken table markdownlint's own rules cannot see: a row left below a
// paragraph that cut it from its table. Markdown renders such a row as text with pipes, so it is not a
// table at all to MD055/MD056/MD058. This rule reports every paragraph line that reads like a table row.
"use strict";

const row = /^\s*\|.*\|\s*$/;

function paragraphs(tokens, out) {
  for (const t of tokens) {
    if (t.type === "paragraph") {
      out.push(t);
    } else if (t.children) {
      paragraphs(t.children, out);
    }
  }
  return out;
}

module.exports = {
  names: ["table-row-in-paragraph"],
  description: "Table row outside a table (a paragraph or blank line cut it from its table)",
  tags: ["table"],
  parser: "micromark",
  function: (params, onError) => {
    for (const p of paragraphs(params.parsers.micromark.tokens, [])) {
      p.text.split("\n").forEach((line, i) => {
        if (row.test(line)) {
          onError({ lineNumber: p.startLine + i, detail: "move the row back into its table", context: line.slice(0, 60) });
        }
      });
    }
  },
};
