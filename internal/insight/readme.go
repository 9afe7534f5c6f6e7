package insight

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ReadmeCommand regenerates the README's generated sections.
const ReadmeCommand = "go run ./cmd/plan -update-readme"

// DiagramStacks are the stacks whose diagrams the README shows (when their stack files exist).
var DiagramStacks = []string{"dev", "prod"}

// Readme section names, in README order. Each lives between
// "<!-- insight:<name>:begin ... -->" and "<!-- insight:<name>:end -->".
var readmeSections = []string{"diagrams", "cost", "guardrails", "alarms"}

// ReadmeSections renders the generated README sections from the plans: diagrams of DiagramStacks, a cost
// table and a guardrail summary for every stack.
func ReadmeSections(plans []*Plan) (map[string]string, error) {
	book, err := LoadPrices()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}

	var b bytes.Buffer
	for _, p := range plans {
		if !slices.Contains(DiagramStacks, p.Stack) {
			continue
		}
		fmt.Fprintf(&b, "### %s (%s)\n\n```mermaid\n", p.Stack, p.Region)
		if err := BuildDiagram(p).WriteMermaid(&b); err != nil {
			return nil, err
		}
		b.WriteString("```\n\n")
	}
	out["diagrams"] = strings.TrimSpace(b.String())

	b.Reset()
	var assumptions []string
	for _, p := range plans {
		e := EstimateCost(p, book)
		alt := e.AWSXDefaults(book)
		fmt.Fprintf(&b, "### %s (%s)\n\n", p.Stack, p.Region)
		if err := e.WriteMarkdown(&b); err != nil {
			return nil, err
		}
		t := e.Totals()
		fmt.Fprintf(&b, "\nPlanned: **%s**.", t.Summary())
		if budget, ok := Budget[p.Stack]; ok {
			fmt.Fprintf(&b, " Target: at most $%.0f/month.", budget)
		}
		fmt.Fprintf(&b, " Same topology with awsx's defaults (%d AZs, one NAT gateway each): %s.\n\n", awsxDefaultAZs, alt.Totals().Summary())
		assumptions = e.Assumptions
	}
	b.WriteString("Assumptions:\n\n")
	for _, a := range assumptions {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	b.WriteString("- Prices, with the source and date of every figure, are in `internal/insight/prices.json` (from `../shared/REFERENCE.md` (e)); a price marked derived is computed from another by the rule the file names.\n")
	out["cost"] = strings.TrimSpace(b.String())

	b.Reset()
	reports := make([]*Report, len(plans))
	b.WriteString("| Control | Title |")
	for i, p := range plans {
		reports[i] = Evaluate(p)
		fmt.Fprintf(&b, " %s |", p.Stack)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(plans)) + "\n")
	for ci, c := range Controls {
		fmt.Fprintf(&b, "| %s | %s |", c.ID, c.Title)
		for _, r := range reports {
			fmt.Fprintf(&b, " %s |", r.Results[ci].Status)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "- **%s** (profile %s): %s.\n", r.Stack, r.Profile, r.Summary())
	}
	// Failures and exceptions are listed once per control and resource, with the stacks they occur in.
	var excepted, failed []string
	stacks := map[string][]string{}
	for _, r := range reports {
		for _, res := range r.Results {
			for _, f := range res.Findings {
				var line string
				switch f.Status {
				case StatusException:
					line = fmt.Sprintf("- %s, `%s` in {stacks}: %s", res.Control.ID, f.Resource, f.Reason)
					if len(stacks[line]) == 0 {
						excepted = append(excepted, line)
					}
				case StatusFail:
					line = fmt.Sprintf("- %s, `%s` in {stacks}: %s", res.Control.ID, f.Resource, f.Detail)
					if len(stacks[line]) == 0 {
						failed = append(failed, line)
					}
				default:
					continue
				}
				if !slices.Contains(stacks[line], r.Stack) {
					stacks[line] = append(stacks[line], r.Stack)
				}
			}
		}
	}
	for _, list := range [][]string{excepted, failed} {
		for i, line := range list {
			list[i] = strings.Replace(line, "{stacks}", strings.Join(stacks[line], ", "), 1)
		}
	}
	if len(failed) > 0 {
		b.WriteString("\nFailing (`-format guardrails` exits 1):\n\n" + strings.Join(failed, "\n") + "\n")
	}
	if len(excepted) > 0 {
		b.WriteString("\nExceptions in force (`internal/insight/guardrails.go`, `Exceptions`):\n\n" + strings.Join(excepted, "\n") + "\n")
	}
	out["guardrails"] = strings.TrimSpace(b.String())

	b.Reset()
	for _, p := range plans {
		if slices.Contains(DiagramStacks, p.Stack) {
			writeAlarmsMarkdown(&b, p)
		}
	}
	out["alarms"] = strings.TrimSpace(b.String())
	return out, nil
}

func markers(name string) (begin, end string) {
	return "<!-- insight:" + name + ":begin", "<!-- insight:" + name + ":end -->"
}

// span finds the generated text of one section: after the begin marker's line, up to the end marker.
func span(readme []byte, name string) (start, stop int, err error) {
	begin, end := markers(name)
	b := bytes.Index(readme, []byte(begin))
	if b < 0 {
		return 0, 0, fmt.Errorf("README.md: marker %q not found; the section %q needs a %q ... %q pair", begin+" -->", name, begin+" -->", end)
	}
	nl := bytes.IndexByte(readme[b:], '\n')
	if nl < 0 {
		return 0, 0, fmt.Errorf("README.md: nothing follows marker %q", begin)
	}
	start = b + nl + 1
	e := bytes.Index(readme[start:], []byte(end))
	if e < 0 {
		return 0, 0, fmt.Errorf("README.md: marker %q not found after %q", end, begin)
	}
	return start, start + e, nil
}

// UpdateReadme replaces each generated section's text with sections[name].
func UpdateReadme(readme []byte, sections map[string]string) ([]byte, error) {
	out := append([]byte(nil), readme...)
	for _, name := range readmeSections {
		start, stop, err := span(out, name)
		if err != nil {
			return nil, err
		}
		body := "\n" + sections[name] + "\n\n"
		out = append(out[:start:start], append([]byte(body), out[stop:]...)...)
	}
	return out, nil
}

// CheckReadme reports every generated section whose text differs from sections, naming the command that
// regenerates them.
func CheckReadme(readme []byte, sections map[string]string) error {
	want, err := UpdateReadme(readme, sections)
	if err != nil {
		return err
	}
	if bytes.Equal(want, readme) {
		return nil
	}
	var stale []string
	for _, name := range readmeSections {
		s1, e1, _ := span(readme, name)
		s2, e2, _ := span(want, name)
		if !bytes.Equal(readme[s1:e1], want[s2:e2]) {
			stale = append(stale, name)
		}
	}
	return errors.New("README.md: generated section(s) " + strings.Join(stale, ", ") + " are stale; run `" + ReadmeCommand + "`")
}
