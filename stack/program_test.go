package stack

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

// documentedOutputs are the stack outputs the README documents; every stack must export all of them.
var documentedOutputs = []string{
	"environment", "region", "vpcId", "vpcCidr", "availabilityZones", "publicSubnetIds", "privateSubnetIds",
	"dataSubnetIds", "subnetPlan", "natPublicIp", "flowLogGroup",
}

// TestEveryStackFile plans each Pulumi.<stack>.yaml in the repository, read from disk, and checks the
// outputs and the network wiring.
func TestEveryStackFile(t *testing.T) {
	t.Parallel()
	names, err := stackfile.Names("..")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(names), 2, "dev and prod at least")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := stackfile.Load("..", name)
			require.NoError(t, err)
			outputs := map[string]any{}
			m, err := mock.Run(mock.Options{Project: st.Project, Stack: name, Config: st.Config, SecretKeys: st.SecretKeys},
				func(ctx *pulumi.Context) error {
					outs, err := Deploy(ctx, st.Keys())
					if err != nil {
						return err
					}
					for k, v := range outs {
						val, _, err := mock.AwaitValue(pulumi.ToOutput(v))
						require.NoError(t, err, k)
						outputs[k] = normalize(t, val)
					}
					return nil
				})
			require.NoError(t, err)
			for _, k := range documentedOutputs {
				assert.Contains(t, outputs, k)
				assert.NotNil(t, outputs[k], "output %s must be known", k)
			}

			vpc := m.One(t, "awsx:ec2:Vpc")
			assert.Equal(t, outputs["vpcId"], vpc.Outputs["vpcId"].StringValue())
			azs := vpc.Strs("availabilityZoneNames")
			assert.Equal(t, azs, toStrings(outputs["availabilityZones"]))
			cidr := netip.MustParsePrefix(vpc.Str("cidrBlock"))
			for _, tier := range []string{"publicSubnetIds", "privateSubnetIds", "dataSubnetIds"} {
				assert.Len(t, outputs[tier], len(azs), tier)
			}
			for _, s := range outputs["subnetPlan"].([]any) {
				p := netip.MustParsePrefix(s.(map[string]any)["cidr"].(string))
				assert.True(t, cidr.Contains(p.Addr()) && p.Bits() > cidr.Bits(), "%s inside %s", p, cidr)
			}
			env := outputs["environment"]
			if env == Prod {
				assert.NotEqual(t, "None", vpc.Str("natGateways.strategy"), "prod needs egress")
				assert.Len(t, m.ByType("aws:ec2/flowLog:FlowLog"), 1, "prod keeps flow logs")
				assert.GreaterOrEqual(t, len(azs), 3, "prod spans three AZs")
			}
		})
	}
}

// normalize turns typed Go values ([]string, map[string]string...) into what JSON would give.
func normalize(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}
