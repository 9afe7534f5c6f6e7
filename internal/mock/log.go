package mock

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Diagnostic is one message the program logged through ctx.Log (the engine shows these under
// "Diagnostics:" at the end of a preview or update).
type Diagnostic struct {
	// Severity is "info", "warning" or "error", the prefix the Pulumi CLI prints.
	Severity string
	// URN is the resource the message names; empty for the stack itself.
	URN     string
	Message string
}

// diagLog records what the program logs. The SDK's mock engine drops every log message (its logger is
// unexported and nil), so without this an offline plan would hide the warnings `pulumi preview` shows.
type diagLog struct {
	pulumi.Log
	ctx *pulumi.Context
	m   *Mocks
}

func (l diagLog) Info(msg string, args *pulumi.LogArgs) error {
	return l.record("info", msg, args, l.Log.Info)
}

func (l diagLog) Warn(msg string, args *pulumi.LogArgs) error {
	return l.record("warning", msg, args, l.Log.Warn)
}

func (l diagLog) Error(msg string, args *pulumi.LogArgs) error {
	return l.record("error", msg, args, l.Log.Error)
}

// record keeps the message with its resource's URN, resolved the way the SDK's own logger resolves it,
// then hands it on to the mock engine.
func (l diagLog) record(severity, msg string, args *pulumi.LogArgs, next func(string, *pulumi.LogArgs) error) error {
	d := Diagnostic{Severity: severity, Message: strings.ToValidUTF8(msg, "\uFFFD")}
	if args != nil && args.Resource != nil {
		res, err := internals.UnsafeAwaitOutput(l.ctx.Context(), args.Resource.URN())
		if err != nil {
			return err
		}
		switch urn := res.Value.(type) {
		case pulumi.URN:
			d.URN = string(urn)
		case string:
			d.URN = urn
		}
	}
	l.m.mu.Lock()
	l.m.diagnostics = append(l.m.diagnostics, d)
	l.m.mu.Unlock()
	return next(msg, args)
}

// Diagnostics returns what the program logged, in the order it logged it.
func (m *Mocks) Diagnostics() []Diagnostic {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.diagnostics)
}

// Warnings returns the messages logged at warning severity.
func (m *Mocks) Warnings() []string {
	var out []string
	for _, d := range m.Diagnostics() {
		if d.Severity == "warning" {
			out = append(out, d.Message)
		}
	}
	return out
}

// WriteDiagnostics prints diags the way the Pulumi CLI ends a preview: a "Diagnostics:" section with one
// "type (name):" group per resource (the stack first, then in registration order) and each message under
// its severity prefix. The stack is named stackType (stackName); nothing is printed without diagnostics.
func WriteDiagnostics(w io.Writer, diags []Diagnostic, resources []*Resource, stackName string) error {
	if len(diags) == 0 {
		return nil
	}
	order := map[string]int{"": -1}
	header := map[string]string{"": "pulumi:pulumi:Stack (" + stackName + ")"}
	for _, r := range resources {
		order[r.URN] = r.Order
		header[r.URN] = r.Type + " (" + r.Name + ")"
	}
	groups := map[string][]Diagnostic{}
	var urns []string
	for _, d := range diags {
		if _, known := header[d.URN]; !known {
			// A resource the recording does not hold (not expected); still show the message.
			header[d.URN], order[d.URN] = d.URN, len(resources)
		}
		if _, seen := groups[d.URN]; !seen {
			urns = append(urns, d.URN)
		}
		groups[d.URN] = append(groups[d.URN], d)
	}
	slices.SortStableFunc(urns, func(a, b string) int { return order[a] - order[b] })
	var b strings.Builder
	b.WriteString("Diagnostics:\n")
	for _, urn := range urns {
		fmt.Fprintf(&b, "  %s:\n", header[urn])
		for _, d := range groups[urn] {
			prefix := d.Severity + ": "
			if d.Severity == "info" {
				prefix = ""
			}
			for _, line := range strings.Split(strings.TrimRight(prefix+d.Message, " \t\n"), "\n") {
				fmt.Fprintf(&b, "    %s\n", strings.TrimRight(line, " \t"))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
