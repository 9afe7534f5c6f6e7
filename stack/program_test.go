package stack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

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
	"albDnsName", "albZoneId", "apiUrl", "apiTargetGroupArn", "apiAsgName", "apiSecurityGroupId",
	"chatUrl", "chatMode", "chatAsgName", "bastionPublicIp", "bastionInstanceId", "sshProxyJump", "chatSecurityGroupId",
	"rdsEndpoint", "dbAddress", "dbPort", "dbName", "dbSecretArn",
	"redisEndpoint", "redisReaderEndpoint", "redisPort", "redisTls", "redisAuthSecretArn",
}

// TestEveryStackFile plans each Pulumi.<stack>.yaml in the repository, read from disk, and checks the
// outputs and the network wiring.
func TestEveryStackFile(t *testing.T) {
	t.Parallel()
	names, err := stackfile.Names("..")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(names), 2, "dev and prod at least")
	// The workflows' stack matrix (scripts/stacks.sh) must list every stack under the environment the
	// program gives it, or a stack would deploy through the wrong GitHub environment, or not at all.
	listed, err := exec.Command("bash", "../scripts/stacks.sh").Output()
	require.NoError(t, err)
	matrix := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(listed)), "\n") {
		stack, env, _ := strings.Cut(line, " ")
		matrix[stack] = env
	}
	assert.Len(t, matrix, len(names), "scripts/stacks.sh lists %v", matrix)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := stackfile.Load("..", name)
			require.NoError(t, err)
			outputs := map[string]any{}
			var m *mock.Mocks
			// A cycle closed through the deferred outputs would never register its resources: the run
			// would hang rather than fail, so it gets a deadline.
			done := make(chan error, 1)
			go func() {
				var err error
				m, err = mock.Run(mock.Options{Project: st.Project, Stack: name, Config: st.Config, SecretKeys: st.SecretKeys},
					func(ctx *pulumi.Context) error {
						outs, err := Deploy(ctx, st.Keys())
						if err != nil {
							return err
						}
						for k, v := range outs {
							val, _, err := mock.AwaitValue(pulumi.ToOutput(v))
							if err != nil {
								return fmt.Errorf("output %s: %w", k, err)
							}
							outputs[k] = normalize(t, val)
						}
						return nil
					})
				done <- err
			}()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(2 * time.Minute):
				t.Fatalf("planning %s did not finish in 2 minutes: a dependency cycle through the deferred outputs?", name)
			}
			for _, k := range documentedOutputs {
				assert.Contains(t, outputs, k)
				assert.NotNil(t, outputs[k], "output %s must be known", k)
			}
			assert.Equal(t, outputs["environment"], matrix[name], "scripts/stacks.sh's environment for %s", name)

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
			checkWiring(t, m, outputs)
			checkExposure(t, m, st)
			checkNoCycle(t, m)
			checkCounts(t, m, st)

			env := outputs["environment"]
			if env == Prod {
				assert.NotEqual(t, "None", vpc.Str("natGateways.strategy"), "prod needs egress")
				assert.Len(t, m.ByType("aws:ec2/flowLog:FlowLog"), 1, "prod keeps flow logs")
				assert.GreaterOrEqual(t, len(azs), 2, "prod spans at least two AZs")
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

// checkWiring follows the values that cross components: endpoints into user data, security groups into
// the data tier's rules.
func checkWiring(t *testing.T, m *mock.Mocks, outputs map[string]any) {
	t.Helper()
	userData := func(name string) string {
		for _, lt := range m.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
			if lt.Name == name {
				b, err := base64.StdEncoding.DecodeString(lt.Str("userData"))
				require.NoError(t, err)
				return string(b)
			}
		}
		t.Fatalf("no launch template %s", name)
		return ""
	}
	api := userData("api-lt")
	require.Contains(t, api, "api.env.new\" <<'FOOTBALL_EOF' || exit 1\n", "the API's settings are readable in its user data")
	var chat string
	fleet := outputs["chatMode"] == "fleet"
	if fleet {
		// The fleet's settings are in its launch template's (gzipped) user data.
		chat = launchScript(t, named(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "chat-lt"))
		assert.Empty(t, m.ByType("aws:ssm/association:Association"), "a fleet needs no association")
	} else {
		assoc := m.One(t, "aws:ssm/association:Association")
		chatEnv, err := base64.StdEncoding.DecodeString(assoc.Str("parameters.env"))
		require.NoError(t, err)
		chat = string(chatEnv)
		assert.Equal(t, []string{outputs["bastionInstanceId"].(string)}, assoc.Strs("targets[0].values"), "the chat settings go to the chat server")
	}
	for _, k := range []string{"dbAddress", "dbSecretArn", "redisEndpoint"} {
		assert.Contains(t, api, outputs[k].(string), "API user data must carry %s", k)
	}
	assert.Contains(t, api, fmt.Sprint(outputs["dbPort"]))
	assert.Contains(t, chat, outputs["redisEndpoint"].(string), "chat settings must carry the Redis endpoint")
	assert.Contains(t, chat, outputs["albDnsName"].(string), "chat settings must carry the API's address")
	if outputs["redisTls"] == true {
		for _, ud := range []string{api, chat} {
			assert.Contains(t, ud, "REDIS_AUTH_SECRET_ARN="+outputs["redisAuthSecretArn"].(string), "servers find the AUTH token's secret")
		}
	}
	// Instances launched from templates carry the stack's tags (default tags do not reach them).
	for _, lt := range m.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
		specs, _ := lt.Input("tagSpecifications")
		require.True(t, specs.IsArray() && len(specs.ArrayValue()) > 0, "%s has tag specifications", lt.Name)
		for i := range specs.ArrayValue() {
			assert.NotEmpty(t, lt.Str(fmt.Sprintf("tagSpecifications[%d].tags.Environment", i)), "%s spec %d carries the stack tags", lt.Name, i)
		}
	}

	// The data tier admits exactly the API servers' and the chat server's groups, on its two ports.
	clients := map[string]bool{outputs["apiSecurityGroupId"].(string): true, outputs["chatSecurityGroupId"].(string): true}
	dataSGs := map[string][]string{}
	for _, sg := range m.ByType("aws:ec2/securityGroup:SecurityGroup") {
		if strings.HasPrefix(sg.Name, "data-") {
			dataSGs[sg.ID] = nil
		}
	}
	require.Len(t, dataSGs, 2, "RDS and Redis have a group each")
	for _, rule := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if _, ok := dataSGs[rule.Str("securityGroupId")]; !ok {
			continue
		}
		assert.True(t, clients[rule.Str("referencedSecurityGroupId")], "%s admits %q", rule.Name, rule.Str("referencedSecurityGroupId"))
		assert.Empty(t, rule.Str("cidrIpv4")+rule.Str("cidrIpv6"), "%s must not admit a CIDR", rule.Name)
		sg := rule.Str("securityGroupId")
		dataSGs[sg] = append(dataSGs[sg], rule.Str("referencedSecurityGroupId"))
	}
	for sg, admitted := range dataSGs {
		assert.ElementsMatch(t, []string{outputs["apiSecurityGroupId"].(string), outputs["chatSecurityGroupId"].(string)}, admitted,
			"%s must admit exactly the API and chat groups", sg)
	}
	// SSH to the API servers comes from the bastion's group only: the chat server's (single), the jump
	// host's (fleet with sshCidrs), or nowhere.
	var bastions []string
	switch {
	case !fleet:
		bastions = []string{outputs["chatSecurityGroupId"].(string)}
	case outputs["bastionInstanceId"] != "":
		bastions = []string{named(t, m, "aws:ec2/securityGroup:SecurityGroup", "jump-sg").ID}
	}
	var ssh []string
	for _, rule := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if rule.Str("securityGroupId") == outputs["apiSecurityGroupId"] {
			if port, _ := rule.Num("fromPort"); port == 22 {
				ssh = append(ssh, rule.Str("referencedSecurityGroupId"))
			}
		}
	}
	assert.Equal(t, bastions, ssh)
}

// chatOf is the chat's mode and port in a stack file, defaults applied.
func chatOf(t *testing.T, st *stackfile.Stack) (fleet bool, port int) {
	t.Helper()
	var chat struct {
		Mode     string `json:"mode"`
		ChatPort int    `json:"chatPort"`
	}
	if raw, ok := st.Config["football:chat"]; ok {
		require.NoError(t, json.Unmarshal([]byte(raw), &chat))
	}
	fleet = chat.Mode == "fleet"
	if chat.ChatPort == 0 {
		chat.ChatPort = map[bool]int{true: 8443, false: 8080}[fleet]
	}
	return fleet, chat.ChatPort
}

// checkNoCycle proves the recorded dependencies form a DAG (the deferred outputs must not close a loop).
func checkNoCycle(t *testing.T, m *mock.Mocks) {
	t.Helper()
	deps := map[string][]string{}
	for _, r := range m.All() {
		deps[r.URN] = r.Dependencies
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(u string, path []string)
	visit = func(u string, path []string) {
		switch state[u] {
		case 1:
			t.Fatalf("dependency cycle: %s", strings.Join(append(path, u), " -> "))
		case 2:
			return
		}
		state[u] = 1
		for _, d := range deps[u] {
			visit(d, append(path, u))
		}
		state[u] = 2
	}
	for u := range deps {
		visit(u, nil)
	}
}

// checkCounts holds each stack to the documented architecture: one VPC, one ALB in front of one Auto
// Scaling group over every private subnet, one chat server, one database, one cache, and NAT per config.
func checkCounts(t *testing.T, m *mock.Mocks, st *stackfile.Stack) {
	t.Helper()
	fleet, _ := chatOf(t, st)
	one := map[bool]int{true: 1, false: 0}
	for typ, n := range map[string]int{
		"awsx:ec2:Vpc": 1, "aws:lb/loadBalancer:LoadBalancer": 1, "aws:autoscaling/group:Group": 1 + one[fleet],
		"aws:rds/instance:Instance": 1, "aws:elasticache/replicationGroup:ReplicationGroup": 1,
		"football:network:Network": 1, "football:data:DataTier": 1, "football:compute:ApiTier": 1,
		"football:compute:ChatBastion": one[!fleet], "football:compute:ChatFleet": one[fleet],
		"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 1,
	} {
		assert.Len(t, m.ByType(typ), n, typ)
	}
	vpc := m.One(t, "awsx:ec2:Vpc")
	nat := vpc.Str("natGateways.strategy")
	natInstance := nat == "None" && strings.Contains(st.Config["football:network"], `"instance"`)
	jump := fleet && strings.Contains(st.Config["football:chat"], "sshCidrs")
	assert.Len(t, m.ByType("aws:ec2/instance:Instance"), one[!fleet]+one[natInstance]+one[jump], "chat server (single), NAT instance, jump host")
	for _, asg := range m.ByType("aws:autoscaling/group:Group") {
		assert.Len(t, asg.Strs("vpcZoneIdentifiers"), len(vpc.Strs("availabilityZoneNames")), "%s spans every private subnet", asg.Name)
	}
}

// checkExposure holds the whole stack to its security posture: the only ingress from anywhere is the
// ALB's 80/443 and the chat port, and every launch template requires IMDSv2 and encrypts its disk.
func checkExposure(t *testing.T, m *mock.Mocks, st *stackfile.Stack) {
	t.Helper()
	fleet, chatPort := chatOf(t, st)
	// Users reach the chat port on the chat server (single) or on the load balancer's chat listener (fleet).
	chatGroup := map[bool]string{true: "api-alb-sg", false: "chat-sg"}[fleet]
	groups := map[string]string{} // security group ID -> name
	for _, sg := range m.ByType("aws:ec2/securityGroup:SecurityGroup") {
		groups[sg.ID] = sg.Name
	}
	open := 0
	for _, rule := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		cidr := rule.Str("cidrIpv4") + rule.Str("cidrIpv6")
		if cidr != "0.0.0.0/0" && cidr != "::/0" {
			continue
		}
		open++
		from, _ := rule.Num("fromPort")
		to, _ := rule.Num("toPort")
		group := groups[rule.Str("securityGroupId")]
		switch {
		case group == "api-alb-sg" && from == to && (from == 80 || from == 443):
		case group == chatGroup && from == to && int(from) == chatPort:
		default:
			t.Errorf("%s opens %s %v-%v to %s", rule.Name, group, from, to, cidr)
		}
	}
	assert.GreaterOrEqual(t, open, 2, "the ALB and the chat port are public")
	for _, lt := range m.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
		assert.Equal(t, "required", lt.Str("metadataOptions.httpTokens"), "%s requires IMDSv2", lt.Name)
		hops, _ := lt.Num("metadataOptions.httpPutResponseHopLimit")
		assert.Equal(t, 1.0, hops, "%s hop limit", lt.Name)
		assert.Equal(t, "true", lt.Str("blockDeviceMappings[0].ebs.encrypted"), "%s encrypts its root volume", lt.Name)
		assert.Regexp(t, `^ami-[0-9a-f]{17}$`, lt.Str("imageId"), "%s boots a pinned image", lt.Name)
	}
	for _, i := range m.ByType("aws:ec2/instance:Instance") {
		assert.Equal(t, "required", i.Str("metadataOptions.httpTokens"), "%s requires IMDSv2", i.Name)
		hops, _ := i.Num("metadataOptions.httpPutResponseHopLimit")
		assert.Equal(t, 1.0, hops, "%s hop limit", i.Name)
		encrypted, _ := i.Bool("rootBlockDevice.encrypted")
		assert.True(t, encrypted, "%s encrypts its root volume", i.Name)
		assert.Regexp(t, `^ami-[0-9a-f]{17}$`, i.Str("ami"), "%s boots a pinned image", i.Name)
		assert.NotEmpty(t, i.Str("rootBlockDevice.tags.Environment"), "%s's volume carries the stack tags", i.Name)
	}
	// API and chat fleet servers get no public address, and their groups span only private subnets.
	for _, lt := range m.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
		assert.Equal(t, "false", lt.Str("networkInterfaces[0].associatePublicIpAddress"), lt.Name)
	}
	private := map[string]bool{}
	for _, id := range m.One(t, "awsx:ec2:Vpc").Outputs["privateSubnetIds"].ArrayValue() {
		private[id.StringValue()] = true
	}
	for _, asg := range m.ByType("aws:autoscaling/group:Group") {
		for _, id := range asg.Strs("vpcZoneIdentifiers") {
			assert.True(t, private[id], "%s uses private subnet %s only", asg.Name, id)
		}
	}
}
