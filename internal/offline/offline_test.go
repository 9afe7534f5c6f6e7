package offline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

const repo = "../.."

// planJSON plans a stack of the repository and parses its JSON the way a tool would.
func planJSON(t *testing.T, stack string) Preview {
	t.Helper()
	res, err := Plan(repo, stack)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, res.WriteJSON(&buf))
	var p Preview
	require.NoError(t, json.Unmarshal(buf.Bytes(), &p), "plan JSON must parse")
	return p
}

func stepsOf(p Preview, typ string) []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.NewState.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

func TestPlanJSONShape(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			p := planJSON(t, stack)
			require.NotEmpty(t, p.Steps)
			assert.Equal(t, "pulumi:pulumi:Stack", p.Steps[0].NewState.Type)
			assert.Equal(t, len(p.Steps), p.ChangeSummary["create"])
			urns := map[string]bool{}
			for _, s := range p.Steps {
				assert.Equal(t, "create", s.Op)
				assert.Equal(t, s.URN, s.NewState.URN)
				assert.True(t, strings.HasPrefix(s.URN, "urn:pulumi:"+stack+"::football::"), s.URN)
				// urn:pulumi:<stack>::<project>::<parent types $ type>::<name>: the URN names the step's type.
				parts := strings.SplitN(s.URN, "::", 4)
				if assert.Len(t, parts, 4, s.URN) {
					qualified := parts[2]
					assert.True(t, qualified == s.NewState.Type || strings.HasSuffix(qualified, "$"+s.NewState.Type),
						"%s: the URN's type %s is not the step's %s", s.URN, qualified, s.NewState.Type)
				}
				assert.NotEmpty(t, s.NewState.Type)
				if s.NewState.Type != "pulumi:pulumi:Stack" {
					assert.True(t, urns[s.NewState.Parent], "%s: parent %s must come earlier in the plan", s.URN, s.NewState.Parent)
				}
				for _, d := range s.NewState.Dependencies {
					assert.True(t, urns[d], "%s: dependency %s must come earlier", s.URN, d)
				}
				urns[s.URN] = true
			}
			assert.Contains(t, p.Outputs, "vpcId")
		})
	}
}

// TestPlanJSONVpc checks the awsx VPC step against the stack file on disk: its AZs, and /20 blocks inside
// the VPC CIDR with no overlaps.
func TestPlanJSONVpc(t *testing.T) {
	t.Parallel()
	st, err := stackfile.Load(repo, "dev")
	require.NoError(t, err)
	var netCfg struct {
		AvailabilityZones []string `json:"availabilityZones"`
	}
	require.NoError(t, json.Unmarshal([]byte(st.Config["football:network"]), &netCfg))

	p := planJSON(t, "dev")
	vpcs := stepsOf(p, "awsx:ec2:Vpc")
	require.Len(t, vpcs, 1)
	in := vpcs[0].NewState.Inputs
	assert.Equal(t, toAny(netCfg.AvailabilityZones), in["availabilityZoneNames"])
	vpcCIDR := netip.MustParsePrefix(in["cidrBlock"].(string))
	var blocks []netip.Prefix
	for _, spec := range in["subnetSpecs"].([]any) {
		for _, b := range spec.(map[string]any)["cidrBlocks"].([]any) {
			p := netip.MustParsePrefix(b.(string))
			assert.Equal(t, 20, p.Bits())
			assert.True(t, vpcCIDR.Contains(p.Addr()))
			for _, q := range blocks {
				assert.False(t, p.Overlaps(q), "%s overlaps %s", p, q)
			}
			blocks = append(blocks, p)
		}
	}
	assert.Len(t, blocks, 3*len(netCfg.AvailabilityZones))
	assert.Len(t, stepsOf(p, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"), 1)
	assert.Len(t, stepsOf(p, "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"), 2*len(netCfg.AvailabilityZones))
}

func TestPlanJSONProdNetwork(t *testing.T) {
	t.Parallel()
	p := planJSON(t, "prod")
	vpc := stepsOf(p, "awsx:ec2:Vpc")[0].NewState.Inputs
	assert.Equal(t, "OnePerAz", vpc["natGateways"].(map[string]any)["strategy"])
	logs := stepsOf(p, "aws:ec2/flowLog:FlowLog")
	require.Len(t, logs, 1)
	assert.Equal(t, "cloud-watch-logs", logs[0].NewState.Inputs["logDestinationType"])
	assert.NotEmpty(t, logs[0].NewState.Dependencies, "the flow log depends on its group and role")
}

func TestPlanRejectsUnknownStackAndBadConfig(t *testing.T) {
	t.Parallel()
	_, err := Plan(repo, "nope")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrConfig))
	assert.Contains(t, err.Error(), `stack "nope"`)

	dir := t.TempDir()
	copyFile(t, filepath.Join(repo, "Pulumi.yaml"), filepath.Join(dir, "Pulumi.yaml"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.bad.yaml"), []byte(`config:
  aws:region: ap-northeast-2
  football:environment: dev
  football:network: {subnetBits: 2, availabilityZones: [ap-northeast-2a, ap-northeast-2b], colour: blue}
`), 0o600))
	_, err = Plan(dir, "bad")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrConfig))
	assert.Contains(t, err.Error(), "football:network.colour: unknown key")
	assert.Contains(t, err.Error(), "aws:defaultTags: not set")
}

func TestTextPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	render := func() string {
		res, err := Plan(repo, "dev")
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, res.WriteText(&buf))
		return buf.String()
	}
	first := render()
	assert.Equal(t, first, render())
	assert.Contains(t, first, "net-vpc (awsx:ec2:Vpc)")
}

func toAny(xs []string) []any {
	var out []any
	for _, x := range xs {
		out = append(out, x)
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}

func BenchmarkPlanDev(b *testing.B)  { benchmarkPlan(b, "dev") }
func BenchmarkPlanProd(b *testing.B) { benchmarkPlan(b, "prod") }

func benchmarkPlan(b *testing.B, stack string) {
	st, err := stackfile.Load(repo, stack)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		res, err := PlanStack(st)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Resources)), "resources")
	}
}

// TestCriticalPath keeps the first `pulumi up` within 5 minutes of its slowest single resource: nothing
// may be serialized behind RDS or ElastiCache without need.
func TestCriticalPath(t *testing.T) {
	t.Parallel()
	names, err := stackfile.Names(repo)
	require.NoError(t, err)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := Plan(repo, name)
			require.NoError(t, err)
			cp := res.Critical()
			require.NotNil(t, cp.Slowest)
			t.Logf("%s", cp)
			assert.LessOrEqual(t, cp.Total, cp.SlowestTime+5*time.Minute, "critical path %s vs slowest %s", cp.Total, cp.SlowestTime)
			assert.GreaterOrEqual(t, cp.Total, cp.SlowestTime)
			require.NotEmpty(t, cp.Path)
			var sum time.Duration
			for _, r := range cp.Path {
				sum += createTime(r)
			}
			assert.Equal(t, cp.Total, sum, "the path's steps add up to the total")
		})
	}
}

// TestCriticalPathSeesSerialization builds a chain by hand: a slow resource behind another slow one
// must show up as their sum, and a dependency on a component waits for the component's children.
func TestCriticalPathSeesSerialization(t *testing.T) {
	t.Parallel()
	db := &mock.Resource{Type: "aws:rds/instance:Instance", URN: "db", Custom: true}
	comp := &mock.Resource{Type: "football:data:DataTier", URN: "tier"}
	db.Parent = "tier"
	cache := &mock.Resource{Type: "aws:elasticache/replicationGroup:ReplicationGroup", URN: "cache", Custom: true, Dependencies: []string{"tier"}}
	res := &Result{Resources: []*mock.Resource{comp, db, cache}}
	cp := res.Critical()
	assert.Equal(t, 16*time.Minute, cp.Total)
	assert.Equal(t, []*mock.Resource{db, cache}, cp.Path)
}

// TestPlanStandsInForAWSFromTheTypedConfig: the registry and the hosted zone an offline plan assumes come
// from the configuration as the program read it (defaults applied, names normalised), and so do the facts
// the reports get.
func TestPlanStandsInForAWSFromTheTypedConfig(t *testing.T) {
	t.Parallel()
	st, err := stackfile.Load(repo, "prod")
	require.NoError(t, err)
	require.NoError(t, st.Set("football:domain.zone", "Example.COM."))
	require.NoError(t, st.Set("football:api.allowHttpOnly", ""))
	require.NoError(t, st.Set("football:chat.release", "v0.9.0"))
	require.NoError(t, st.Set("football:chat.mode", "single")) // the release travels in the chat server's association
	res, err := PlanStack(st)
	require.NoError(t, err)
	assert.Equal(t, "example.com", res.Config.Domain.Zone)
	assert.Equal(t, map[string][]string{"football/prod/chat": {"v0.9.0"}}, res.Config.Releases())
	p := res.Insight()
	assert.Equal(t, "prod", p.Profile)
	assert.False(t, p.AllowHTTPOnly)
	assert.True(t, mustPlan(t, "prod").Insight().AllowHTTPOnly, "the committed prod stack accepts plain HTTP until it has a certificate")
	var env []byte
	for _, r := range res.Resources {
		if r.Type == "aws:ssm/association:Association" && r.Name == "chat-setup" {
			env, err = base64.StdEncoding.DecodeString(r.Str("parameters.env"))
			require.NoError(t, err)
		}
	}
	assert.Contains(t, string(env), "@"+mock.ImageDigest("football/prod/chat", "v0.9.0")+"\n",
		"the chat server runs the release ECR is taken to hold, by digest")
}

// mustPlan plans a committed stack.
func mustPlan(t *testing.T, stack string) *Result {
	t.Helper()
	res, err := Plan(repo, stack)
	require.NoError(t, err)
	return res
}
