// Package offline plans a stack without AWS, credentials or the Pulumi CLI: it reads the stack's config
// files, runs the project's program (stack.Deploy, or account.Deploy for bootstrap/) under the mock engine and renders what the program registered, as a tree for
// people or as JSON shaped like `pulumi preview --json` for tools.
package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/bootstrap/account"
	"github.com/football/football-infra/compute"
	"github.com/football/football-infra/internal/insight"
	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
	"github.com/football/football-infra/stack"
)

// Result is the plan of one stack.
type Result struct {
	Stack *stackfile.Stack
	// Config is the main program's configuration as it read it (stack.Load: defaults applied, checked); nil
	// for a bootstrap stack.
	Config *stack.Config
	// Facts are what the reports need of the configuration the program read (its Load: defaults applied,
	// checked).
	Facts     insight.Facts
	Region    string
	Resources []*mock.Resource
	// Outputs are the stack outputs; secret ones hold "[secret]".
	Outputs map[string]any
	// StackURN is the root stack resource's URN (the mock engine never sees it).
	StackURN string
	// Diagnostics are the messages the program logged (warnings about risky but legal settings), which
	// `pulumi preview` shows under "Diagnostics:".
	Diagnostics []mock.Diagnostic
}

// ErrConfig marks a plan refused for its configuration (the CLI exits 2 for it).
var ErrConfig = errors.New("invalid configuration")

// Plan reads dir's Pulumi.yaml and Pulumi.<name>.yaml and plans the stack.
func Plan(dir, name string) (*Result, error) {
	st, err := stackfile.Load(dir, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return PlanStack(st)
}

// PlanStack plans an already loaded stack as a first deployment. The configuration is read once, by the
// program's own Load; the plan then stands in for AWS with what that configuration names: every release it
// names is taken as pushed to its repository, and its hosted zone as existing (an offline plan cannot see
// ECR or Route 53). A bootstrap stack (bootstrap/Pulumi.yaml) runs the bootstrap's program, which finds
// GitHub's OIDC provider when it looks it up (nor can an offline plan see IAM).
func PlanStack(st *stackfile.Stack) (*Result, error) {
	if st.Project == account.Project {
		return planBootstrap(st)
	}
	return planAfter(st, nil)
}

// PlanEdit plans edited as a change of base, as if base were deployed: the replacement guard compares
// edited's stateful settings with base's, and refuses (ErrConfig) what `pulumi up` would refuse.
func PlanEdit(base, edited *stackfile.Stack) (*Result, error) {
	if base.Project == account.Project {
		return planBootstrap(edited)
	}
	var previous map[string]any
	_, err := mock.Run(mock.Options{Project: base.Project, Stack: base.Name, Config: base.Config, SecretKeys: base.SecretKeys},
		func(ctx *pulumi.Context) error {
			var err error
			previous, err = stack.GuardedOutputs(ctx, base.Keys())
			return err
		})
	if err != nil {
		var cfgErr *stack.ConfigError
		if errors.As(err, &cfgErr) {
			return nil, fmt.Errorf("%w: stack %s as committed:\n%v", ErrConfig, base.Name, cfgErr.Err)
		}
		return nil, err
	}
	return planAfter(edited, previous)
}

// planAfter plans st after a deployment that left previous as its outputs (nil: the first deployment).
func planAfter(st *stackfile.Stack, previous map[string]any) (*Result, error) {
	opts := mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys, Previous: previous}
	var cfg *stack.Config
	_, err := mock.Run(opts, func(ctx *pulumi.Context) error {
		var err error
		cfg, err = stack.Load(ctx, st.Keys())
		return err
	})
	if err != nil {
		return nil, configError(st, err)
	}
	opts.Images = cfg.Releases()
	if cfg.Domain.Enabled() {
		opts.HostedZones = []string{cfg.Domain.Zone}
	}
	facts := insight.Facts{Stack: cfg.Stack, Profile: cfg.Environment, Region: cfg.Region, AllowHTTPOnly: cfg.API.AllowHTTPOnly,
		ChatFleetListener: cfg.Chat.Mode == compute.ModeFleet && !cfg.Domain.Enabled()}
	res, err := run(st, opts, facts, func(ctx *pulumi.Context) (pulumi.Map, error) { return stack.DeployConfig(ctx, cfg) })
	if err != nil {
		return nil, err
	}
	res.Config = cfg
	return res, nil
}

// planBootstrap plans a stack of the bootstrap program. It has no environment profile: its reports hold
// the account-wide controls.
func planBootstrap(st *stackfile.Stack) (*Result, error) {
	opts := mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys,
		OIDCProviders: []string{account.OIDCHost}}
	region := st.Config["aws:region"]
	return run(st, opts, insight.Facts{Stack: st.Name, Region: region}, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return account.Deploy(ctx, st.Keys())
	})
}

// run runs deploy under the mock engine and collects what it registered and exported.
func run(st *stackfile.Stack, opts mock.Options, facts insight.Facts, deploy func(*pulumi.Context) (pulumi.Map, error)) (*Result, error) {
	outputs := map[string]any{}
	m, err := mock.Run(opts, func(ctx *pulumi.Context) error {
		outs, err := deploy(ctx)
		if err != nil {
			return err
		}
		for k, v := range outs {
			val, secret, err := mock.AwaitValue(pulumi.ToOutput(v))
			if err != nil {
				return fmt.Errorf("output %s: %w", k, err)
			}
			if secret {
				val = "[secret]"
			}
			outputs[k] = val
		}
		return nil
	})
	if err != nil {
		return nil, configError(st, err)
	}
	return &Result{
		Stack: st, Facts: facts, Region: m.Region, Resources: ordered(m.All()), Outputs: outputs,
		StackURN:    fmt.Sprintf("urn:pulumi:%s::%s::pulumi:pulumi:Stack::%s-%s", st.Name, st.Project, st.Project, st.Name),
		Diagnostics: m.Diagnostics(),
	}, nil
}

// WriteDiagnostics prints what the program logged the way `pulumi preview` ends: a "Diagnostics:"
// section, grouped by resource, each message with its severity. It prints nothing when nothing was logged.
func (r *Result) WriteDiagnostics(w io.Writer) error {
	return mock.WriteDiagnostics(w, r.Diagnostics, r.Resources, r.Stack.Project+"-"+r.Stack.Name)
}

// configError marks a refused configuration with ErrConfig; other errors pass unchanged.
func configError(st *stackfile.Stack, err error) error {
	var cfgErr *stack.ConfigError
	if errors.As(err, &cfgErr) {
		return fmt.Errorf("%w: stack %s:\n%v", ErrConfig, st.Name, cfgErr.Err)
	}
	return err
}

// Insight is the plan as the reports read it (internal/insight), with the facts they need from the typed
// configuration.
func (r *Result) Insight() *insight.Plan {
	return insight.PlanOf(r.Facts, r.Resources)
}

// ordered sorts resources the way a deployment could create them: parents and dependencies first, ties
// broken by URN, so the same program always prints the same plan (registrations arrive concurrently).
func ordered(rs []*mock.Resource) []*mock.Resource {
	byURN := map[string]*mock.Resource{}
	for _, r := range rs {
		byURN[r.URN] = r
	}
	sorted := append([]*mock.Resource(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].URN < sorted[j].URN })
	var out []*mock.Resource
	done := map[string]bool{}
	var visit func(r *mock.Resource)
	visit = func(r *mock.Resource) {
		if done[r.URN] {
			return
		}
		done[r.URN] = true // set first: a cycle cannot recurse forever
		before := append([]string{r.Parent}, r.Dependencies...)
		sort.Strings(before[1:])
		for _, u := range before {
			if dep, ok := byURN[u]; ok {
				visit(dep)
			}
		}
		out = append(out, r)
	}
	for _, r := range sorted {
		visit(r)
	}
	return out
}

// Count returns how many resources of each type the plan registers.
func (r *Result) Count() map[string]int {
	out := map[string]int{}
	for _, res := range r.Resources {
		out[res.Type]++
	}
	return out
}

// Step is one entry of `pulumi preview --json`'s steps.
type Step struct {
	Op       string `json:"op"`
	URN      string `json:"urn"`
	NewState State  `json:"newState"`
}

// State is a step's planned resource state.
type State struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Custom       bool           `json:"custom"`
	Parent       string         `json:"parent,omitempty"`
	Inputs       map[string]any `json:"inputs"`
	Dependencies []string       `json:"dependencies,omitempty"`
	Protect      bool           `json:"protect,omitempty"`
	RetainOnDel  bool           `json:"retainOnDelete,omitempty"`
}

// Preview is the JSON document WriteJSON prints.
type Preview struct {
	Steps         []Step         `json:"steps"`
	Outputs       map[string]any `json:"outputs"`
	ChangeSummary map[string]int `json:"changeSummary"`
}

// JSON builds the preview document: every resource as a create step, the root stack first.
func (r *Result) JSON() Preview {
	p := Preview{Outputs: r.Outputs, ChangeSummary: map[string]int{"create": len(r.Resources) + 1}}
	p.Steps = append(p.Steps, Step{Op: "create", URN: r.StackURN, NewState: State{
		URN: r.StackURN, Type: "pulumi:pulumi:Stack", Inputs: map[string]any{},
	}})
	for _, res := range r.Resources {
		p.Steps = append(p.Steps, Step{Op: "create", URN: res.URN, NewState: State{
			URN: res.URN, Type: res.Type, Custom: res.Custom, Parent: res.Parent,
			Inputs: plain(res.Inputs), Dependencies: res.Dependencies,
			Protect: res.Protect, RetainOnDel: res.RetainOnDelete,
		}})
	}
	return p
}

// WriteJSON prints the preview document.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.JSON())
}

// WriteText prints the resource tree with each resource's key inputs, then the outputs.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %s (%s, region %s): %d resources to create\n\n", r.Stack.Name, r.Stack.Project, r.Region, len(r.Resources)+1)
	children := map[string][]*mock.Resource{}
	for _, res := range r.Resources {
		children[res.Parent] = append(children[res.Parent], res)
	}
	fmt.Fprintf(&b, "%s-%s (pulumi:pulumi:Stack)\n", r.Stack.Project, r.Stack.Name)
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		kids := children[parent]
		for i, res := range kids {
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			flags := ""
			if res.Protect {
				flags += " [protect]"
			}
			if res.RetainOnDelete {
				flags += " [retainOnDelete]"
			}
			fmt.Fprintf(&b, "%s%s%s (%s)%s\n", indent, branch, res.Name, res.Type, flags)
			for _, kv := range keyInputs(res) {
				fmt.Fprintf(&b, "%s%s    %s\n", indent, next, kv)
			}
			walk(res.URN, indent+next)
		}
	}
	walk(r.StackURN, "")
	walk("", "")

	fmt.Fprintf(&b, "\nResources by type:\n")
	counts := r.Count()
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "  %3d  %s\n", counts[t], t)
	}
	fmt.Fprintf(&b, "\nOutputs:\n")
	for _, k := range slices.Sorted(maps.Keys(r.Outputs)) {
		fmt.Fprintf(&b, "  %-22s %s\n", k, truncate(compactJSON(r.Outputs[k]), 160))
	}
	fmt.Fprintf(&b, "\n%s", r.Critical())
	_, err := io.WriteString(w, b.String())
	return err
}

// keyInputs flattens a resource's inputs to "path = value" lines, leaving out tags and cutting long values.
func keyInputs(res *mock.Resource) []string {
	var out []string
	var walk func(prefix string, v resource.PropertyValue, depth int)
	walk = func(prefix string, v resource.PropertyValue, depth int) {
		switch {
		case v.IsSecret():
			out = append(out, prefix+" = [secret]")
		case v.IsObject() && depth < 3:
			obj := v.ObjectValue()
			for _, k := range obj.StableKeys() {
				walk(joinPath(prefix, string(k)), obj[k], depth+1)
			}
		case v.IsArray() && depth < 3 && len(v.ArrayValue()) > 0 && (v.ArrayValue()[0].IsObject()):
			for i, e := range v.ArrayValue() {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e, depth+1)
			}
		default:
			out = append(out, prefix+" = "+truncate(compactJSON(plainValue(v)), 100))
		}
	}
	for _, k := range res.Inputs.StableKeys() {
		if k == "tags" || k == "__defaults" {
			continue
		}
		walk(string(k), res.Inputs[k], 0)
	}
	return out
}

// compactJSON renders a value as one line of JSON, leaving <, > and & readable.
func compactJSON(v any) string {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// plain converts a property map into JSON-ready values under the Pulumi (camelCase) names, with secrets
// shown as "[secret]" the way the CLI shows them.
func plain(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "__defaults" {
			continue
		}
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := []any{}
		for _, e := range v.ArrayValue() {
			out = append(out, plainValue(e))
		}
		return out
	case v.IsObject():
		return plain(v.ObjectValue())
	case v.IsSecret():
		return "[secret]"
	case v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known):
		return "[unknown]"
	case v.IsOutput():
		return plainValue(v.OutputValue().Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	}
	return fmt.Sprint(v)
}
