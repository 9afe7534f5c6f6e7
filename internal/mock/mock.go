// Package mock is the one mock of the Pulumi engine and AWS used by every test and by cmd/plan.
//
// It records each registered resource (type, name, parent, inputs, options, dependencies) and answers with
// outputs shaped the way AWS shapes them: IDs with the service's prefix (sg-, subnet-, i-...), ARNs in the
// stack's region and a fixed test account, endpoints derived from the inputs. Everything is derived from
// names and inputs by hashing, so two runs of the same program produce the same plan. Invokes it does not
// know are errors, never echoes, so a typo in a token fails loudly.
package mock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/football/football-infra/internal/awsfacts"
)

// Account is the AWS account ID every mocked ARN carries.
const Account = "123456789012"

// DefaultRegion is used when the config has no aws:region.
const DefaultRegion = "us-east-1"

// Resource is one registration the program made: what it asked for, and what the mock answered.
type Resource struct {
	Type   string
	Name   string
	URN    string
	Parent string
	// Custom is false for component resources (local and remote).
	Custom bool
	// Remote is true for multi-language components such as awsx:ec2:Vpc.
	Remote bool
	ID     string
	// Inputs are what the program sent, under their Pulumi (camelCase) names.
	Inputs resource.PropertyMap
	// Outputs are what the mock returned: the inputs plus the computed AWS-shaped values.
	Outputs resource.PropertyMap
	// Dependencies are the URNs this resource depends on (explicit and through its inputs).
	Dependencies []string
	// PropertyDependencies are, per input, the URNs whose outputs that input was computed from: a
	// listener's certificateArn that depends on a certificate validation waits for it.
	PropertyDependencies map[string][]string
	// Provider is the URN of the explicit provider the resource was registered with ("" for the
	// default provider of its package).
	Provider string
	// Version is the provider plugin version the resource asks for ("" for none): the typed SDKs set
	// their own, so resources of one package share a default provider.
	Version string
	// Options the engine would honour.
	Protect             bool
	RetainOnDelete      bool
	DeleteBeforeReplace bool
	IgnoreChanges       []string
	// ReplaceOnChanges are input paths whose change replaces the resource ("*": any input).
	ReplaceOnChanges []string
	// ReplaceWith are URNs whose replacement replaces this resource too.
	ReplaceWith []string
	// ReplacementTrigger replaces the resource whenever its value changes (null when not set).
	ReplacementTrigger resource.PropertyValue
	// DeletedWith is the URN of a resource whose deletion deletes this one ("" when not set).
	DeletedWith string
	// Aliases are the URNs the resource was registered under before (pulumi.Aliases), resolved the way the
	// engine resolves an alias spec: unset parts are the resource's own name, type, parent, stack, project.
	Aliases []string
	// Transforms are the resource transforms passed in the options (the engine runs them on children;
	// the mock only keeps them so tests can apply them).
	Transforms []pulumi.ResourceTransform
	// Order is the registration order, starting at 0.
	Order int
}

// Mocks implements pulumi.MockResourceMonitor and records every registration.
type Mocks struct {
	Project string
	Stack   string
	Region  string

	mu        sync.Mutex
	resources []*Resource
	// subnets are those the awsx VPCs were answered with, by VPC ID, so that subnet lookups find them the
	// way AWS would once awsx has created them.
	subnets map[string][]subnet
	// previous answers stack references to the stack itself.
	previous resource.PropertyMap
	// addingAZs are AZs whose subnets the awsx VPC is still creating (see Options.AddingAZs).
	addingAZs []string
	// images are the ECR repositories' contents (see Options.Images).
	images map[string][]string
	zones  []string
	// diagnostics are what the program logged (see Diagnostics).
	diagnostics []Diagnostic
	oidc        []string
}

// subnet is one subnet a mocked awsx VPC holds.
type subnet struct{ id, cidr, az string }

// New returns an empty recorder for the given stack and region.
func New(project, stack, region string) *Mocks {
	if region == "" {
		region = DefaultRegion
	}
	return &Mocks{Project: project, Stack: stack, Region: region}
}

// Options configure Run.
type Options struct {
	// Project defaults to "football", Stack to "test".
	Project string
	Stack   string
	// Config is keyed "namespace:key" exactly as Pulumi passes it to a program; objects are JSON text.
	Config map[string]string
	// SecretKeys lists the config keys that are secrets.
	SecretKeys []string
	// Previous are the stack outputs of the previous deployment, which a stack reference to the stack
	// itself reads; nil is a first deployment.
	Previous map[string]any
	// Preview runs the program as `pulumi preview` does (a dry run). With AddingAZs, the awsx VPC answers
	// the way it does in the preview of a deployment that adds those AZs: its subnet ID lists are unknown
	// (a new subnet has no ID yet), while the subnets of the other AZs already exist and lookups find them.
	Preview   bool
	AddingAZs []string
	// Images are what the account's ECR repositories hold, by repository name: tags, and digests
	// (sha256:...). ECR lookups find exactly these; a repository not listed does not exist, except the
	// repositories the program itself creates, which start empty.
	Images map[string][]string
	// HostedZones are the account's public Route 53 hosted zones, by name; lookups of any other fail.
	HostedZones []string
	// OIDCProviders are the hosts of the account's IAM OIDC providers (token.actions.githubusercontent.com);
	// lookups of any other fail. Each lists the audience sts.amazonaws.com.
	OIDCProviders []string
}

// Run runs fn under the mock engine with the given config and returns the recording, including what the
// program logged through ctx.Log (Diagnostics). The error is the program's (pulumi.RunErr wraps it).
func Run(opts Options, fn pulumi.RunFunc) (*Mocks, error) {
	if opts.Project == "" {
		opts.Project = "football"
	}
	if opts.Stack == "" {
		opts.Stack = "test"
	}
	m := New(opts.Project, opts.Stack, opts.Config["aws:region"])
	m.previous = resource.NewPropertyMapFromMap(opts.Previous)
	m.addingAZs = opts.AddingAZs
	m.images = opts.Images
	m.zones = opts.HostedZones
	m.oidc = opts.OIDCProviders
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = opts.Config
		info.ConfigSecretKeys = opts.SecretKeys
		info.DryRun = opts.Preview
	}
	body := func(ctx *pulumi.Context) error {
		ctx.Log = diagLog{Log: ctx.Log, ctx: ctx, m: m}
		return fn(ctx)
	}
	err := pulumi.RunErr(body, pulumi.WithMocks(opts.Project, opts.Stack, m), withConfig)
	return m, err
}

// NewResource records a registration and answers with AWS-shaped outputs.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{
		Type:       args.TypeToken,
		Name:       args.Name,
		Custom:     args.Custom,
		Inputs:     args.Inputs.Copy(),
		Transforms: args.Transforms,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Remote = rpc.GetRemote()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.IgnoreChanges = append([]string(nil), rpc.GetIgnoreChanges()...)
		r.ReplaceOnChanges = append([]string(nil), rpc.GetReplaceOnChanges()...)
		r.ReplaceWith = append([]string(nil), rpc.GetReplaceWith()...)
		r.DeletedWith = rpc.GetDeletedWith()
		for _, a := range rpc.GetAliases() {
			r.Aliases = append(r.Aliases, m.aliasURN(r, a))
		}
		r.Aliases = append(r.Aliases, rpc.GetAliasURNs()...)
		r.PropertyDependencies = map[string][]string{}
		for k, deps := range rpc.GetPropertyDependencies() {
			r.PropertyDependencies[k] = append([]string(nil), deps.GetUrns()...)
		}
		if trigger := rpc.GetReplacementTrigger(); trigger != nil {
			v, err := plugin.UnmarshalPropertyValue("replacementTrigger", trigger, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
			if err != nil {
				return "", nil, fmt.Errorf("mock %s %q: reading replacementTrigger: %w", r.Type, r.Name, err)
			}
			if v != nil {
				r.ReplacementTrigger = *v
			}
		}
		r.Provider = providerURN(rpc.GetProvider())
		r.Version = rpc.GetVersion()
	}
	if rpc := args.ReadRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
	}
	r.URN = m.urn(r)

	id, outs, err := m.answer(r)
	if err != nil {
		return "", nil, fmt.Errorf("mock %s %q: %w", r.Type, r.Name, err)
	}
	r.ID = id
	r.Outputs = outs

	m.mu.Lock()
	r.Order = len(m.resources)
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, outs, nil
}

// providerURN is the URN part of a provider reference ("<urn>::<id>"); "" for the default provider.
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 {
		return ref[:i]
	}
	return ""
}

// urn builds the URN the engine would give: the parent's qualified type, "$", the child's type.
func (m *Mocks) urn(r *Resource) string {
	typ := r.Type
	// A URN is urn:pulumi:<stack>::<project>::<qualified type>::<name>; the stack type is not chained.
	if parts := strings.SplitN(r.Parent, "::", 4); len(parts) == 4 && parts[2] != "pulumi:pulumi:Stack" {
		typ = parts[2] + "$" + r.Type
	}
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", m.Stack, m.Project, typ, r.Name)
}

// aliasURN resolves one alias of r: a URN as given, or a spec whose unset parts are r's own.
func (m *Mocks) aliasURN(r *Resource, a *pulumirpc.Alias) string {
	if u := a.GetUrn(); u != "" {
		return u
	}
	spec := a.GetSpec()
	old := &Resource{Name: r.Name, Type: r.Type, Parent: r.Parent}
	if spec.GetName() != "" {
		old.Name = spec.GetName()
	}
	if spec.GetType() != "" {
		old.Type = spec.GetType()
	}
	switch {
	case spec.GetNoParent():
		old.Parent = ""
	case spec.GetParentUrn() != "":
		old.Parent = spec.GetParentUrn()
	}
	stack, project := m.Stack, m.Project
	if spec.GetStack() != "" {
		stack = spec.GetStack()
	}
	if spec.GetProject() != "" {
		project = spec.GetProject()
	}
	return (&Mocks{Stack: stack, Project: project}).urn(old)
}

// Call answers the invokes the program is known to make; anything else is an error.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:ec2/getRouteTable:getRouteTable":
		subnet := args.Args["subnetId"]
		if !subnet.IsString() || subnet.StringValue() == "" {
			return nil, errors.New("mock getRouteTable: only lookups by subnetId are mocked")
		}
		id := "rtb-" + hash17(subnet.StringValue())
		return resource.PropertyMap{
			"id":           resource.NewProperty(id),
			"routeTableId": resource.NewProperty(id),
			"subnetId":     subnet,
			"ownerId":      resource.NewProperty(Account),
			"arn":          resource.NewProperty(m.arn("ec2", "route-table/"+id)),
		}, nil
	case "aws:route53/getZone:getZone":
		name := strings.TrimSuffix(args.Args["name"].StringValue(), ".")
		if !slices.Contains(m.zones, name) {
			return nil, fmt.Errorf("no matching Route 53 Hosted Zone found: %s", name)
		}
		id := "Z" + strings.ToUpper(hashHex(20, name))
		return resource.PropertyMap{
			"id": resource.NewProperty(id), "zoneId": resource.NewProperty(id), "name": resource.NewProperty(name + "."),
			"privateZone": resource.NewProperty(false), "arn": resource.NewProperty("arn:" + m.partition() + ":route53:::hostedzone/" + id),
		}, nil
	case "aws:ec2/getNatGateway:getNatGateway":
		// awsx makes one gateway in each public subnet it puts one in; the mock answers for any subnet.
		subnet := args.Args["subnetId"]
		if !subnet.IsString() || subnet.StringValue() == "" {
			return nil, errors.New("mock getNatGateway: only lookups by subnetId are mocked")
		}
		id := "nat-" + hash17(subnet.StringValue())
		return resource.PropertyMap{
			"id":       resource.NewProperty(id),
			"subnetId": subnet,
			"state":    resource.NewProperty("available"),
		}, nil
	case "aws:ec2/getSubnets:getSubnets":
		vpcID, ok := filterValue(args.Args, "vpc-id")
		if tags := args.Args["tags"]; !ok || (tags.IsObject() && len(tags.ObjectValue()) > 0) {
			return nil, errors.New("mock getSubnets: only a lookup by a single vpc-id filter is mocked")
		}
		var ids []resource.PropertyValue
		for _, s := range m.subnetsOf(vpcID) {
			ids = append(ids, resource.NewProperty(s.id))
		}
		return resource.PropertyMap{"id": resource.NewProperty(m.Region), "ids": resource.NewProperty(ids)}, nil
	case "aws:ec2/getSubnet:getSubnet":
		id := args.Args["id"]
		if !id.IsString() {
			return nil, errors.New("mock getSubnet: only lookups by id are mocked")
		}
		for vpcID, list := range m.allSubnets() {
			for _, s := range list {
				if s.id == id.StringValue() {
					return resource.PropertyMap{
						"id": id, "cidrBlock": resource.NewProperty(s.cidr), "vpcId": resource.NewProperty(vpcID),
						"availabilityZone": resource.NewProperty(s.az), "state": resource.NewProperty("available"),
						"arn": resource.NewProperty(m.arn("ec2", "subnet/"+s.id)),
					}, nil
				}
			}
		}
		return nil, fmt.Errorf("reading EC2 Subnet (%s): no matching EC2 Subnet found", id.StringValue())
	case "aws:ecr/getImage:getImage":
		return m.ecrImage(args.Args)
	case "aws:ecr/getRepository:getRepository":
		name := args.Args["name"]
		if _, ok := m.images[name.StringValue()]; !name.IsString() || !ok {
			return nil, fmt.Errorf("reading ECR Repository (%s): RepositoryNotFoundException: The repository with name '%s' does not exist in the registry with id '%s'",
				name.StringValue(), name.StringValue(), Account)
		}
		return resource.PropertyMap{
			"id": name, "name": name, "registryId": resource.NewProperty(Account),
			"arn":                resource.NewProperty(m.arn("ecr", "repository/"+name.StringValue())),
			"repositoryUrl":      resource.NewProperty(m.registry() + "/" + name.StringValue()),
			"imageTagMutability": resource.NewProperty("IMMUTABLE"),
		}, nil
	case "aws:ssm/getParameter:getParameter":
		name := args.Args["name"]
		if !name.IsString() || !strings.HasPrefix(name.StringValue(), "/aws/service/canonical/ubuntu/") {
			return nil, errors.New("mock getParameter: only Canonical's public Ubuntu image parameters are mocked")
		}
		// Canonical's parameters hold the newest image of the region: a region-specific AMI ID.
		ami := "ami-0" + hash17(m.Region, name.StringValue())[1:]
		return resource.PropertyMap{
			"id": name, "name": name, "type": resource.NewProperty("String"), "version": resource.NewProperty(1.0),
			"value": resource.MakeSecret(resource.NewProperty(ami)), "insecureValue": resource.NewProperty(ami),
			"arn": resource.NewProperty("arn:" + m.partition() + ":ssm:" + m.Region + "::parameter" + name.StringValue()),
		}, nil
	case "aws:index/getRegion:getRegion":
		return resource.PropertyMap{
			"id": resource.NewProperty(m.Region), "name": resource.NewProperty(m.Region),
			"region": resource.NewProperty(m.Region),
		}, nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.PropertyMap{
			"id": resource.NewProperty(Account), "accountId": resource.NewProperty(Account),
			"arn":    resource.NewProperty(awsfacts.IAMARN(m.Region, Account, "user/mock")),
			"userId": resource.NewProperty("AIDAMOCK"),
		}, nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		host := strings.TrimPrefix(args.Args["url"].StringValue(), "https://")
		if !args.Args["url"].IsString() || !slices.Contains(m.oidc, host) {
			return nil, fmt.Errorf("finding IAM OIDC Provider: no OpenID Connect provider found for %q", args.Args["url"].StringValue())
		}
		arn := awsfacts.IAMARN(m.Region, Account, "oidc-provider/"+host)
		return resource.PropertyMap{
			"id": resource.NewProperty(arn), "arn": resource.NewProperty(arn), "url": resource.NewProperty(host),
			"clientIdLists":   resource.NewProperty([]resource.PropertyValue{resource.NewProperty("sts.amazonaws.com")}),
			"thumbprintLists": resource.NewProperty([]resource.PropertyValue{}),
		}, nil
	case "aws:index/getPartition:getPartition":
		return resource.PropertyMap{
			"id": resource.NewProperty(m.partition()), "partition": resource.NewProperty(m.partition()),
			"dnsSuffix": resource.NewProperty(m.dnsSuffix()),
		}, nil
	}
	return nil, fmt.Errorf("mock: invoke %s is not mocked; add it to internal/mock", args.Token)
}

// ImageDigest is the digest the mock's ECR gives the image pushed to repository under tag.
func ImageDigest(repository, tag string) string {
	sum := sha256.Sum256([]byte(repository + ":" + tag))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ecrImage answers ecr.GetImage like ECR's DescribeImages: by tag or digest, from Options.Images.
func (m *Mocks) ecrImage(args resource.PropertyMap) (resource.PropertyMap, error) {
	repo := args["repositoryName"].StringValue()
	held, ok := m.images[repo]
	if !ok {
		return nil, fmt.Errorf("reading ECR Images: RepositoryNotFoundException: The repository with name '%s' does not exist in the registry with id '%s'", repo, Account)
	}
	var tag, digest string
	if v := args["imageTag"]; v.IsString() {
		tag = v.StringValue()
	}
	if v := args["imageDigest"]; v.IsString() {
		digest = v.StringValue()
	}
	digestOf := func(h string) string {
		if strings.HasPrefix(h, "sha256:") {
			return h
		}
		return ImageDigest(repo, h)
	}
	for _, h := range held {
		d := digestOf(h)
		if (tag != "" && h == tag) || (digest != "" && d == digest) {
			// Every tag the repository holds for that image, as DescribeImages lists them; a digest
			// listed on its own is an untagged image.
			var tags []resource.PropertyValue
			for _, other := range held {
				if !strings.HasPrefix(other, "sha256:") && digestOf(other) == d {
					tags = append(tags, resource.NewProperty(other))
				}
			}
			return resource.PropertyMap{
				"id": resource.NewProperty(d), "repositoryName": resource.NewProperty(repo),
				"registryId": resource.NewProperty(Account), "imageDigest": resource.NewProperty(d),
				"imageUri":  resource.NewProperty(m.registry() + "/" + repo + "@" + d),
				"imageTags": resource.NewProperty(tags),
			}, nil
		}
	}
	return nil, fmt.Errorf("reading ECR Images: ImageNotFoundException: The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
		digest, tag, repo, Account)
}

// filterValue returns the single value of the named filter in an invoke's "filters" argument.
func filterValue(args resource.PropertyMap, name string) (string, bool) {
	fs := args["filters"]
	if !fs.IsArray() {
		return "", false
	}
	for _, f := range fs.ArrayValue() {
		if !f.IsObject() || !f.ObjectValue()["name"].IsString() || f.ObjectValue()["name"].StringValue() != name {
			continue
		}
		vals := f.ObjectValue()["values"]
		if vals.IsArray() && len(vals.ArrayValue()) == 1 && vals.ArrayValue()[0].IsString() {
			return vals.ArrayValue()[0].StringValue(), true
		}
	}
	return "", false
}

func (m *Mocks) subnetsOf(vpcID string) []subnet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]subnet(nil), m.subnets[vpcID]...)
}

func (m *Mocks) allSubnets() map[string][]subnet {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]subnet{}
	for k, v := range m.subnets {
		out[k] = append([]subnet(nil), v...)
	}
	return out
}

// All returns every registration in order.
func (m *Mocks) All() []*Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]*Resource(nil), m.resources...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// Custom returns the custom (provider-managed) resources.
func (m *Mocks) Custom() []*Resource {
	var out []*Resource
	for _, r := range m.All() {
		if r.Custom {
			out = append(out, r)
		}
	}
	return out
}

// ByType returns the registrations of one type token.
func (m *Mocks) ByType(typ string) []*Resource { return OfType(m.All(), typ) }

// OfType keeps the resources of one type token, in their order.
func OfType(rs []*Resource, typ string) []*Resource {
	var out []*Resource
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// ByURN finds a registration by URN.
func (m *Mocks) ByURN(urn string) *Resource {
	for _, r := range m.All() {
		if r.URN == urn {
			return r
		}
	}
	return nil
}

// Input returns an input by dotted path ("metadataOptions.httpTokens", "ingress[0].cidrBlocks[1]"),
// looking through secrets. The second result is false when the path does not exist.
func (r *Resource) Input(path string) (resource.PropertyValue, bool) {
	return Lookup(resource.NewProperty(r.Inputs), path)
}

// Output is Input over the mock's answer.
func (r *Resource) Output(path string) (resource.PropertyValue, bool) {
	return Lookup(resource.NewProperty(r.Outputs), path)
}

// Str returns a string input, or "" when absent or of another kind.
func (r *Resource) Str(path string) string {
	v, ok := r.Input(path)
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// Bool returns a bool input and whether it was set.
func (r *Resource) Bool(path string) (value, set bool) {
	v, ok := r.Input(path)
	if !ok || !v.IsBool() {
		return false, false
	}
	return v.BoolValue(), true
}

// Num returns a number input and whether it was set.
func (r *Resource) Num(path string) (float64, bool) {
	v, ok := r.Input(path)
	if !ok || !v.IsNumber() {
		return 0, false
	}
	return v.NumberValue(), true
}

// Strs returns a list-of-strings input (nil when absent).
func (r *Resource) Strs(path string) []string {
	v, ok := r.Input(path)
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		e = Unwrap(e)
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// Unwrap looks through secrets and resolved outputs.
func Unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

// Lookup walks a dotted path with [i] indexes through objects and arrays.
func Lookup(v resource.PropertyValue, path string) (resource.PropertyValue, bool) {
	if path == "" {
		return Unwrap(v), true
	}
	for _, part := range strings.Split(path, ".") {
		key, idx := part, []int(nil)
		if i := strings.Index(part, "["); i >= 0 {
			key = part[:i]
			for _, s := range strings.Split(strings.TrimSuffix(part[i+1:], "]"), "][") {
				var n int
				if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
					return resource.PropertyValue{}, false
				}
				idx = append(idx, n)
			}
		}
		v = Unwrap(v)
		if key != "" {
			if !v.IsObject() {
				return resource.PropertyValue{}, false
			}
			next, ok := v.ObjectValue()[resource.PropertyKey(key)]
			if !ok || next.IsNull() {
				return resource.PropertyValue{}, false
			}
			v = next
		}
		for _, n := range idx {
			v = Unwrap(v)
			if !v.IsArray() || n < 0 || n >= len(v.ArrayValue()) {
				return resource.PropertyValue{}, false
			}
			v = v.ArrayValue()[n]
		}
	}
	return Unwrap(v), true
}

// hashHex returns n hex digits derived from the seed parts.
func hashHex(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	s := hex.EncodeToString(sum[:])
	for len(s) < n {
		s += s
	}
	return s[:n]
}

// hash17 is the 17-hex-digit suffix EC2 uses for resource IDs (sg-0123456789abcdef0).
func hash17(parts ...string) string { return hashHex(17, parts...) }
