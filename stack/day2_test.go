package stack

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

// forceNew lists, per resource type, the inputs whose change makes the AWS provider (pulumi-aws v6, i.e.
// terraform-provider-aws v5) replace the resource instead of updating it. Only the types whose replacement
// costs users something are listed: servers, the load balancer and its target group, the stateful
// resources, and what holds their names.
var forceNew = map[string][]string{
	// instanceType, userData (without userDataReplaceOnChange), vpcSecurityGroupIds, iamInstanceProfile,
	// metadataOptions, tags and the root volume's size are updated in place.
	"aws:ec2/instance:Instance": {"ami", "availabilityZone", "keyName", "launchTemplate", "networkInterfaces",
		"privateIp", "subnetId", "associatePublicIpAddress", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId",
		"hostId", "tenancy", "placementGroup"},
	"aws:lb/loadBalancer:LoadBalancer": {"internal", "loadBalancerType", "name", "namePrefix"},
	"aws:lb/targetGroup:TargetGroup": {"name", "namePrefix", "port", "protocol", "protocolVersion", "targetType",
		"vpcId"},
	"aws:rds/instance:Instance": {"engine", "username", "dbName", "storageEncrypted", "kmsKeyId", "availabilityZone",
		"characterSetName"},
	"aws:elasticache/replicationGroup:ReplicationGroup": {"atRestEncryptionEnabled", "kmsKeyId", "subnetGroupName",
		"port", "replicationGroupId", "engine"},
	"aws:secretsmanager/secret:Secret":    {"name", "namePrefix"},
	"aws:cloudwatch/logGroup:LogGroup":    {"name", "namePrefix"},
	"aws:ssm/parameter:Parameter":         {"name", "dataType"},
	"aws:autoscaling/group:Group":         {"name", "namePrefix"},
	"aws:ec2/securityGroup:SecurityGroup": {"name", "namePrefix", "description", "vpcId"},
}

// day2 is one routine operation: config keys set (JSON values, "" deletes a key) in a stack.
type day2 struct {
	name  string
	stack string
	// base is where the operation starts: the committed stack edited so (nil: as committed).
	base map[string]string
	set  map[string]string // "section.path" (under football:) -> JSON value, or a top-level key
	// replaced are the resources (by logical name) this operation deliberately replaces.
	replaced []string
}

// routine are the README's day-2 operations. None of them may replace a server, the load balancer or a
// stateful resource; a new image replaces exactly the two single servers, on purpose.
var routine = []day2{
	{name: "add an AZ", stack: "dev", set: map[string]string{"network.availabilityZones": `["ap-northeast-2a","ap-northeast-2c","ap-northeast-2d"]`}},
	{name: "add an AZ", stack: "prod", set: map[string]string{"network.availabilityZones": `["ap-northeast-2a","ap-northeast-2c","ap-northeast-2d"]`}},
	{name: "API instance type", stack: "prod", set: map[string]string{"api.instanceType": `"t4g.medium"`}},
	{name: "chat instance type", stack: "prod", set: map[string]string{"chat.instanceType": `"t4g.small"`}},
	{name: "chat instance type (single server)", stack: "dev", set: map[string]string{"chat.instanceType": `"t4g.small"`}},
	{name: "NAT instance type", stack: "dev", set: map[string]string{"network.natInstanceType": `"t4g.micro"`}},
	{name: "set a certificate", stack: "prod", set: map[string]string{
		"api.certificateArn": `"arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"`,
		"api.allowHttpOnly":  ``}},
	{name: "DB class and storage", stack: "prod", set: map[string]string{"data.db.instanceClass": `"db.t4g.large"`, "data.db.allocatedStorage": `40`}},
	{name: "flow logs on", stack: "dev", set: map[string]string{"network.flowLogs.enabled": `true`}},
	{name: "access logs on", stack: "dev", set: map[string]string{"api.accessLogs.enabled": `true`}},
	{name: "SSH CIDR", stack: "prod", set: map[string]string{"chat.sshCidrs": `["203.0.113.0/24"]`}},
	{name: "chat port (single server)", stack: "prod", base: map[string]string{"chat.mode": `"single"`}, set: map[string]string{"chat.chatPort": `443`}},
	// The fleet's target group is on the chat port, which a target group cannot change (like the API's
	// app port): a new one takes over, the servers follow by instance refresh.
	{name: "chat port (fleet)", stack: "prod", set: map[string]string{"chat.chatPort": `9443`}, replaced: []string{"chat-tg"}},
	{name: "new Ubuntu image", stack: "dev", set: map[string]string{"images.arm64": `"ami-0fedcba9876543210"`},
		replaced: []string{"chat-server", "net-nat", "ubuntu-arm64"}}, // the pin takes over from the recorded image
}

// planEdited plans a committed stack file with config edits applied.
func planEdited(t *testing.T, stack string, set map[string]string, opts mock.Options) *mock.Mocks {
	t.Helper()
	m, err := runEdited(t, stack, set, opts)
	require.NoError(t, err)
	return m
}

// runEdited is planEdited for configurations that may be refused: it returns the program's error.
func runEdited(t *testing.T, stack string, set map[string]string, opts mock.Options) (*mock.Mocks, error) {
	t.Helper()
	st, err := stackfile.Load("..", stack)
	require.NoError(t, err)
	cfg := map[string]string{}
	for k, v := range st.Config {
		cfg[k] = v
	}
	for path, value := range set {
		section, rest, _ := strings.Cut(path, ".")
		key := st.Project + ":" + section
		var obj map[string]any
		if raw, ok := cfg[key]; ok {
			require.NoError(t, json.Unmarshal([]byte(raw), &obj))
		} else {
			obj = map[string]any{}
		}
		setPath(t, obj, strings.Split(rest, "."), value)
		b, err := json.Marshal(obj)
		require.NoError(t, err)
		cfg[key] = string(b)
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	opts.Project, opts.Stack, opts.Config, opts.SecretKeys = st.Project, stack, cfg, st.SecretKeys
	return mock.Run(opts, func(ctx *pulumi.Context) error {
		_, err := Deploy(ctx, keys)
		return err
	})
}

func setPath(t *testing.T, obj map[string]any, path []string, value string) {
	t.Helper()
	if len(path) == 1 {
		if value == "" {
			delete(obj, path[0])
			return
		}
		var v any
		require.NoError(t, json.Unmarshal([]byte(value), &v))
		obj[path[0]] = v
		return
	}
	next, ok := obj[path[0]].(map[string]any)
	if !ok {
		next = map[string]any{}
		obj[path[0]] = next
	}
	setPath(t, next, path[1:], value)
}

// replacedBy lists the resources of before that the change to after replaces, each with why: its URN is
// gone; an input the provider replaces it for (forceNew) or one the program marks with ReplaceOnChanges
// differs; its replacementTrigger changed; or a resource it is to be replaced with (ReplaceWith) is
// replaced. Inputs under IgnoreChanges never count: the engine does not diff them.
func replacedBy(before, after *mock.Mocks) map[string][]string {
	out := map[string][]string{}
	replacedURNs := map[string]bool{}
	for _, r := range before.All() {
		next := after.ByURN(r.URN)
		if next == nil {
			out[r.Name] = []string{"(gone)"}
			replacedURNs[r.URN] = true
			continue
		}
		var why []string
		for _, p := range forceNew[r.Type] {
			if changed(r, next, p) {
				why = append(why, p)
			}
		}
		for _, p := range next.ReplaceOnChanges {
			if changed(r, next, p) {
				why = append(why, "replaceOnChanges "+p)
			}
		}
		if !reflect.DeepEqual(r.ReplacementTrigger.Mappable(), next.ReplacementTrigger.Mappable()) {
			why = append(why, "replacementTrigger")
		}
		if len(why) > 0 {
			out[r.Name] = why
			replacedURNs[r.URN] = true
		}
	}
	// ReplaceWith: replaced along with any resource it names, transitively.
	for grew := true; grew; {
		grew = false
		for _, r := range after.All() {
			for _, with := range r.ReplaceWith {
				if replacedURNs[with] && !replacedURNs[r.URN] && before.ByURN(r.URN) != nil {
					out[r.Name] = append(out[r.Name], "replaceWith "+with)
					replacedURNs[r.URN], grew = true, true
				}
			}
		}
	}
	return out
}

// changed tells whether the input at path differs between two registrations of a resource, ignoring what
// the new registration's IgnoreChanges covers. A path with a [*] wildcard compares the list it is in;
// "*" compares every input.
func changed(old, next *mock.Resource, path string) bool {
	path, _, _ = strings.Cut(path, "[*]")
	if path == "*" {
		path = ""
	}
	a, had := prunedInput(old, path, next.IgnoreChanges)
	b, has := prunedInput(next, path, next.IgnoreChanges)
	return had != has || (had && !reflect.DeepEqual(a, b))
}

// prunedInput is r's input at path as plain values, with the ignored paths removed.
func prunedInput(r *mock.Resource, path string, ignore []string) (any, bool) {
	for _, ig := range ignore {
		if ig == path || strings.HasPrefix(path, ig+".") || strings.HasPrefix(path, ig+"[") {
			return nil, false // ignored as a whole
		}
	}
	v, ok := r.Input(path)
	if !ok {
		return nil, false
	}
	plain := v.Mappable()
	for _, ig := range ignore {
		rest := ig
		if path != "" {
			var inside bool
			if rest, inside = strings.CutPrefix(ig, path+"."); !inside {
				continue
			}
		}
		deletePath(plain, strings.Split(rest, "."))
	}
	return plain, true
}

// deletePath removes a dotted path from nested maps (a copy made by Mappable, so the recording is unchanged).
func deletePath(v any, path []string) {
	m, ok := v.(map[string]any)
	if !ok || len(path) == 0 {
		return
	}
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	deletePath(m[path[0]], path[1:])
}

// TestRoutineChangesReplaceNothing plans each committed stack before and after each routine operation and
// compares, resource by resource, the inputs the provider replaces a resource for. A regression that,
// say, puts an endpoint back into the chat server's user data or launch template fails here, although CI
// cannot run the real engine.
func TestRoutineChangesReplaceNothing(t *testing.T) {
	t.Parallel()
	for _, op := range routine {
		t.Run(op.stack+"/"+op.name, func(t *testing.T) {
			t.Parallel()
			before := planEdited(t, op.stack, op.base, mock.Options{})
			edits := map[string]string{}
			for _, m := range []map[string]string{op.base, op.set} {
				for k, v := range m {
					edits[k] = v
				}
			}
			after := planEdited(t, op.stack, edits, mock.Options{})
			got := replacedBy(before, after)
			names := []string{}
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			want := append([]string{}, op.replaced...)
			sort.Strings(want)
			assert.Equal(t, want, names, "replaced: %v", got)
			// Even a deliberate replacement must be one the engine can carry out and that leaves nothing
			// behind: a protected resource stops the update, a retained one stays in AWS, unmanaged.
			for _, n := range names {
				for _, r := range before.All() {
					if r.Name == n {
						assert.False(t, r.Protect, "%s is protected: `pulumi up` would refuse to replace it", n)
						assert.False(t, r.RetainOnDelete, "%s is retained on delete: the replaced one would stay in AWS", n)
					}
				}
			}
		})
	}
}

// TestChatServerIgnoresItsSettings: whatever the chat server's settings are (the API's URL, the Redis
// endpoint, the chat port), its instance's inputs stay the same; the settings travel in the association.
func TestChatServerIgnoresItsSettings(t *testing.T) {
	t.Parallel()
	single := map[string]string{"chat.mode": `"single"`}
	before := planEdited(t, "prod", single, mock.Options{})
	after := planEdited(t, "prod", map[string]string{
		"api.certificateArn": `"arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"`,
		"api.allowHttpOnly":  ``, "chat.chatPort": `443`, "chat.mode": `"single"`,
	}, mock.Options{})
	chatBefore, chatAfter := byName(t, before, "chat-server"), byName(t, after, "chat-server")
	assert.Equal(t, chatBefore.Inputs.Mappable(), chatAfter.Inputs.Mappable(), "the chat server's inputs must not follow its settings")
	envBefore := byName(t, before, "chat-setup", "aws:ssm/association:Association").Str("parameters.env")
	envAfter := byName(t, after, "chat-setup", "aws:ssm/association:Association").Str("parameters.env")
	assert.NotEqual(t, envBefore, envAfter, "the new settings reach the server through the association")
}

// TestPreviewOfANewAZKnowsWhatExists plans prod as `pulumi preview` would while an AZ is being added:
// awsx's subnet lists are unknown, because the new AZ's subnets have no IDs yet. Everything placed in an
// existing subnet must still have known, unchanged placement, or the preview would show it replaced.
func TestPreviewOfANewAZKnowsWhatExists(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			grow := map[string]string{"network.availabilityZones": `["ap-northeast-2a","ap-northeast-2c","ap-northeast-2d"]`}
			before := planEdited(t, stack, nil, mock.Options{})
			preview := planEdited(t, stack, grow, mock.Options{Preview: true, AddingAZs: []string{"ap-northeast-2d"}})
			checked := 0
			for _, old := range before.All() {
				r := preview.ByURN(old.URN)
				require.NotNil(t, r, "%s is gone from the preview", old.URN)
				for _, p := range []string{"subnetId", "routeTableId"} {
					prev, had := old.Input(p)
					if !had {
						continue
					}
					checked++
					v, ok := r.Input(p)
					if assert.True(t, ok && !v.ContainsUnknowns(), "%s %s: %s is unknown in the preview, which shows a replacement", r.Type, r.Name, p) {
						assert.Equal(t, prev.StringValue(), v.StringValue(), "%s %s: %s", r.Type, r.Name, p)
					}
				}
			}
			// In dev the chat server, the NAT instance, its two routes and the four S3 associations; in prod
			// (a chat fleet, NAT gateways) the four S3 associations.
			assert.GreaterOrEqual(t, checked, map[string]int{"dev": 7, "prod": 4}[stack])
			// The simulation is real: the lists awsx returns are unknown, so the load balancer's are too.
			subnets, known := byName(t, preview, "api-alb").Input("subnets")
			assert.True(t, !known || subnets.ContainsUnknowns(), "the preview must not know the new AZ's subnet: %v", subnets)
		})
	}
}

// byName returns the one resource with the logical name (and type, when given).
func byName(t *testing.T, m *mock.Mocks, name string, typ ...string) *mock.Resource {
	t.Helper()
	var found []*mock.Resource
	for _, r := range m.All() {
		if r.Name == name && (len(typ) == 0 || r.Type == typ[0]) {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "resources named %s", name)
	return found[0]
}
