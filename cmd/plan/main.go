// Command plan shows what a stack would create, offline: no AWS account, credentials, network or Pulumi
// CLI. The project named in <dir>/Pulumi.yaml picks the program: -dir bootstrap plans the account
// bootstrap. It reads Pulumi.yaml and Pulumi.<stack>.yaml, runs the real program under Pulumi's mock engine and
// prints the resource tree, or with -format json a document shaped like `pulumi preview --json`.
//
// Four formats explain the plan (internal/insight): -format mermaid draws the architecture, -format cost
// prices it per month (prices in internal/insight/prices.json), -format guardrails evaluates the AWS FSBP
// controls on the planned inputs, -format alarms lists every alarm (the on-call surface). -update-docs
// plans every stack and rewrites its generated page, docs/stacks/<stack>.md (diagram, cost, guardrails,
// alarms), and their index; `go generate ./...` runs it too.
//
// The program's warnings (risky but legal settings, logged with ctx.Log.Warn) go to stderr under
// "Diagnostics:", grouped by resource, the way `pulumi preview` shows them.
//
// -set plans an edit as a change of the committed stack file, as `pulumi up` would apply it to a stack
// deployed from that file: a change that would replace a protected database or cache is refused.
//
// Exit codes: 0 planned (or -h), 2 bad flags, an unknown stack, invalid configuration or a refused change
// (messages on stderr), 1 a guardrail failed without an exception (-format guardrails), or anything else
// went wrong.
package main

//go:generate go run . -dir ../.. -update-docs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/football/football-infra/internal/insight"
	"github.com/football/football-infra/internal/offline"
	"github.com/football/football-infra/internal/stackfile"
)

// formats are the allowed -format values.
var formats = []string{"text", "json", "mermaid", "cost", "guardrails", "alarms"}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// setFlags collects -set key=value flags.
type setFlags []string

func (s *setFlags) String() string { return strings.Join(*s, ",") }

func (s *setFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not key=value", v)
	}
	*s = append(*s, v)
	return nil
}

// planWith loads the stack, applies the -set changes and plans them as a change of the committed stack.
func planWith(dir, name string, sets setFlags) (*offline.Result, error) {
	if len(sets) == 0 {
		return offline.Plan(dir, name)
	}
	base, err := stackfile.Load(dir, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", offline.ErrConfig, err)
	}
	st, err := stackfile.Load(dir, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", offline.ErrConfig, err)
	}
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		if err := st.Set(k, v); err != nil {
			return nil, fmt.Errorf("%w: -set %v", offline.ErrConfig, err)
		}
	}
	return offline.PlanEdit(base, st)
}

// usage introduces the flags; the flag package prints their list below it.
const usage = `Usage: go run ./cmd/plan [-stack name] [-format format] [-set key.path=value]... [-dir dir]
       go run ./cmd/plan -update-docs [-dir dir]

Plans a stack offline (no AWS account, credentials, network or Pulumi CLI): reads Pulumi.yaml and
Pulumi.<stack>.yaml, runs the program under Pulumi's mock engine and prints what it would create. The
program's warnings go to stderr under "Diagnostics:", as pulumi preview shows them.
Exit codes: 0 planned, 2 bad flags or configuration, 1 a guardrail failed (-format guardrails) or
anything else went wrong.

Flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Parse reports a bad flag itself; the usage follows on stderr, or on stdout when asked for.
	fs.Usage = func() {}
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	stack := fs.String("stack", "dev", "stack `name`: reads Pulumi.<name>.yaml")
	format := fs.String("format", "text", "output `format`: "+strings.Join(formats, ", "))
	dir := fs.String("dir", ".", "project `directory` (where Pulumi.yaml is)")
	updateDocs := fs.Bool("update-docs", false, "plan every stack and rewrite its page in "+insight.StacksDir+" and their index (ignores -stack and -format)")
	var sets setFlags
	fs.Var(&sets, "set", "plan with a config value changed first, the way pulumi config set --path would change it, "+
		"as a change of the committed stack (a change that would replace a protected database or cache is refused): "+
		"-set `key.path=value`, e.g. -set football:api.release=v1.4.2 (repeatable; a JSON value for numbers, lists and objects; key= deletes)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return 0
		}
		printUsage(stderr)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plan: unexpected argument %q (flags only; the stack is -stack %s)\n", fs.Arg(0), fs.Arg(0))
		return 2
	}
	if !slices.Contains(formats, *format) {
		fmt.Fprintf(stderr, "plan: -format %q is not allowed; allowed %s\n", *format, strings.Join(formats, ", "))
		return 2
	}
	if *updateDocs {
		return writeDocs(*dir, stdout, stderr)
	}
	res, err := planWith(*dir, *stack, sets)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		if errors.Is(err, offline.ErrConfig) {
			return 2
		}
		return 1
	}
	code := 0
	switch *format {
	case "json":
		err = res.WriteJSON(stdout)
	case "mermaid":
		err = insight.BuildDiagram(planOf(res)).WriteMermaid(stdout)
	case "cost":
		err = writeCost(planOf(res), stdout)
	case "alarms":
		err = insight.WriteAlarms(stdout, planOf(res))
	case "guardrails":
		rep := insight.Evaluate(planOf(res))
		if err = rep.WriteText(stdout); err == nil {
			code = guardrailCode(rep, stderr)
		}
	default:
		if err = res.WriteText(stdout); err == nil {
			if _, err = fmt.Fprintln(stdout); err == nil {
				err = insight.WriteCostSummary(stdout, planOf(res))
			}
		}
	}
	if err == nil {
		err = res.WriteDiagnostics(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 1
	}
	return code
}

// guardrailCode is -format guardrails' exit code: 1 when a control fails without an exception.
func guardrailCode(rep *insight.Report, stderr io.Writer) int {
	if failed := rep.Failed(); len(failed) > 0 {
		fmt.Fprintf(stderr, "plan: stack %s fails %d guardrail(s) without an exception\n", rep.Stack, len(failed))
		return 1
	}
	return 0
}

// planOf hands an offline plan to the insight reports.
func planOf(res *offline.Result) *insight.Plan { return res.Insight() }

// planAll plans every stack with a Pulumi.<stack>.yaml in dir, in name order.
func planAll(dir string) ([]*insight.Plan, error) {
	names, err := stackfile.Names(dir)
	if err != nil {
		return nil, fmt.Errorf("listing stacks in %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no Pulumi.<stack>.yaml in %s", offline.ErrConfig, dir)
	}
	var out []*insight.Plan
	for _, name := range names {
		res, err := offline.Plan(dir, name)
		if err != nil {
			return nil, fmt.Errorf("planning stack %s: %w", name, err)
		}
		out = append(out, planOf(res))
	}
	return out, nil
}

// writeCost prints the plan's estimate and, for comparison, the same topology with awsx's defaults.
func writeCost(p *insight.Plan, w io.Writer) error {
	book, err := insight.LoadPrices()
	if err != nil {
		return err
	}
	e := insight.EstimateCost(p, book)
	if err := e.WriteText(w); err != nil || !e.ComparesWithAWSX() {
		return err
	}
	alt := e.AWSXDefaults(book)
	_, err = fmt.Fprintf(w, "\nSame topology with awsx's defaults (3 AZs, one NAT gateway each): %s\n", alt.Totals().Summary())
	return err
}

// writeDocs regenerates the per-stack pages from every stack's plan.
func writeDocs(dir string, stdout, stderr io.Writer) int {
	plans, err := planAll(dir)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		if errors.Is(err, offline.ErrConfig) {
			return 2
		}
		return 1
	}
	pages, err := insight.StackPages(plans)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 1
	}
	if err := insight.WritePages(dir, pages); err != nil {
		fmt.Fprintf(stderr, "plan: writing %s: %v\n", filepath.Join(dir, insight.StacksDir), err)
		return 1
	}
	fmt.Fprintf(stdout, "updated %s from %d stack(s)\n", filepath.Join(dir, insight.StacksDir), len(plans))
	return 0
}
