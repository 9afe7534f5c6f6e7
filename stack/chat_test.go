package stack

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/insight"
	"github.com/football/football-infra/internal/mock"
)

// fleet is a committed stack with the chat run as a fleet.
var fleet = map[string]string{"chat.mode": `"fleet"`}

// launchScript is a launch template's user data as cloud-init reads it: base64, then gunzipped if gzip.
func launchScript(t *testing.T, lt *mock.Resource) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(lt.Str("userData"))
	require.NoError(t, err)
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		r, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		b, err = io.ReadAll(r)
		require.NoError(t, err)
	}
	return string(b)
}

// sshRules are every ingress rule of the plan that admits SSH (22), by logical name.
func sshRules(m *mock.Mocks) map[string]*mock.Resource {
	out := map[string]*mock.Resource{}
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		from, _ := r.Num("fromPort")
		to, _ := r.Num("toPort")
		if r.Str("ipProtocol") == "-1" || (from <= 22 && 22 <= to) {
			out[r.Name] = r
		}
	}
	return out
}

// TestProdChatFleet is the "done when" on the plan: prod with mode fleet has its chat Auto Scaling
// group in the private subnets, rolled by instance refresh with automatic rollback on the chat alarms,
// behind the load balancer's chat listener; no chat server has a public address, and no SSH is open.
func TestProdChatFleet(t *testing.T) {
	t.Parallel()
	m := planEdited(t, "prod", fleet, mock.Options{})
	vpc := m.One(t, "awsx:ec2:Vpc")
	private := vpc.Outputs["privateSubnetIds"]
	var privateIDs []string
	for _, v := range private.ArrayValue() {
		privateIDs = append(privateIDs, mock.Unwrap(v).StringValue())
	}

	fleet := m.One(t, "football:compute:ChatFleet")
	assert.Empty(t, m.ByType("football:compute:ChatBastion"), "no single chat server")
	assert.Empty(t, m.ByType("football:compute:JumpHost"), "no jump host without sshCidrs")
	assert.Empty(t, m.ByType("aws:ec2/eip:Eip"), "prod's NAT gateways' addresses are awsx's; no chat or jump address")
	var asg *mock.Resource
	for _, g := range m.ByType("aws:autoscaling/group:Group") {
		if g.Parent == fleet.URN {
			asg = g
		}
	}
	require.NotNil(t, asg, "the chat fleet's group")
	assert.Equal(t, privateIDs, asg.Strs("vpcZoneIdentifiers"), "the chat servers run in every private subnet")
	assert.Len(t, privateIDs, 2, "prod's two AZs")
	for k, want := range map[string]float64{"minSize": 2, "maxSize": 4, "desiredCapacity": 2} {
		v, _ := asg.Num(k)
		assert.Equal(t, want, v, k)
	}
	rollback, _ := asg.Bool("instanceRefresh.preferences.autoRollback")
	assert.True(t, rollback, "instance refresh rolls back by itself")
	minHealthy, _ := asg.Num("instanceRefresh.preferences.minHealthyPercentage")
	assert.Equal(t, float64(100), minHealthy, "launches before it terminates")
	assert.Equal(t, []string{"football-prod-chat-target-errors", "football-prod-chat-unhealthy-hosts"},
		asg.Strs("instanceRefresh.preferences.alarmSpecification.alarms"))
	for _, name := range asg.Strs("instanceRefresh.preferences.alarmSpecification.alarms") {
		found := false
		for _, a := range m.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			found = found || a.Str("name") == name
		}
		assert.True(t, found, "the refresh watches an alarm the stack creates: %s", name)
	}

	// Behind the load balancer: the chat listener forwards to the fleet's target group, which the group
	// registers its servers in.
	tg := named(t, m, "aws:lb/targetGroup:TargetGroup", "chat-tg")
	assert.Equal(t, fleet.URN, tg.Parent)
	assert.Equal(t, []string{tg.ID}, asg.Strs("targetGroupArns"))
	listener := named(t, m, "aws:lb/listener:Listener", "api-chat")
	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	assert.Equal(t, alb.ID, listener.Str("loadBalancerArn"))
	port, _ := listener.Num("port")
	assert.Equal(t, float64(8443), port)
	assert.Equal(t, "HTTP", listener.Str("protocol"), "prod as committed has no certificate yet (allowHttpOnly)")
	assert.Equal(t, tg.ID, listener.Str("defaultActions[0].targetGroupArn"))
	delay, _ := tg.Num("deregistrationDelay")
	assert.Equal(t, float64(120), delay, "connections drain for fleet.drainSeconds")
	assert.Equal(t, "/health", tg.Str("healthCheck.path"))
	_, sticky := tg.Input("stickiness")
	assert.False(t, sticky, "stickiness is off by default")

	// No chat server with a public address: no instance of the chat, and its launch template's interface
	// asks for none.
	for _, i := range m.ByType("aws:ec2/instance:Instance") {
		assert.NotEqual(t, fleet.URN, i.Parent, "the fleet runs no plain instance: %s", i.Name)
	}
	lt := named(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "chat-lt")
	assert.Equal(t, "false", lt.Str("networkInterfaces[0].associatePublicIpAddress"))

	// The chat servers' group admits the chat port from the load balancer only.
	chatSG := named(t, m, "aws:ec2/securityGroup:SecurityGroup", "chat-sg")
	albSG := named(t, m, "aws:ec2/securityGroup:SecurityGroup", "api-alb-sg")
	var in []string
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if r.Str("securityGroupId") == chatSG.ID {
			assert.Empty(t, r.Str("cidrIpv4")+r.Str("cidrIpv6"), "%s: no CIDR reaches a chat server", r.Name)
			assert.Equal(t, albSG.ID, r.Str("referencedSecurityGroupId"), r.Name)
			in = append(in, r.Name)
		}
	}
	assert.Equal(t, []string{"chat-chat-from-alb"}, in)

	// No SSH anywhere: no rule admits port 22.
	assert.Empty(t, sshRules(m), "prod's chat fleet without sshCidrs opens SSH nowhere (Session Manager only)")

	// The chat servers get the cache's endpoint and the AUTH secret, and learn the ping interval the load
	// balancer's idle timeout implies.
	ud := launchScript(t, lt)
	redis := m.One(t, "aws:elasticache/replicationGroup:ReplicationGroup")
	for _, want := range []string{
		"REDIS_HOST=" + output(t, redis, "primaryEndpointAddress") + "\n", "REDIS_TLS=true\n",
		"REDIS_AUTH_SECRET_ARN=arn:aws:secretsmanager:", "CHAT_PORT=8443\n", "CHAT_PING_SECONDS=30\n",
		"football-drain.service",
	} {
		assert.Contains(t, ud, want)
	}
	policy := named(t, m, "aws:iam/rolePolicy:RolePolicy", "chat-redis-secret")
	assert.Equal(t, named(t, m, "aws:iam/role:Role", "chat-role").ID, policy.Str("role"))
	assert.Contains(t, policy.Str("policy"), named(t, m, "aws:secretsmanager/secret:Secret", "data-redis-auth-secret").ID)
}

// TestChatFleetJumpHost: sshCidrs gives the fleet a jump host, the only thing SSH reaches from outside, and
// the servers admit SSH from it alone.
func TestChatFleetJumpHost(t *testing.T) {
	t.Parallel()
	set := map[string]string{"chat.mode": `"fleet"`, "chat.sshCidrs": `["203.0.113.0/24"]`}
	m := planEdited(t, "prod", set, mock.Options{})
	jump := m.One(t, "football:compute:JumpHost")
	server := named(t, m, "aws:ec2/instance:Instance", "jump-server")
	assert.Equal(t, jump.URN, server.Parent)
	assert.Equal(t, "t4g.nano", server.Str("instanceType"))
	assert.Equal(t, "required", server.Str("metadataOptions.httpTokens"))
	eip := named(t, m, "aws:ec2/eip:Eip", "jump-eip")
	assert.Equal(t, server.ID, eip.Str("instance"))
	jumpSG := named(t, m, "aws:ec2/securityGroup:SecurityGroup", "jump-sg")
	assert.Equal(t, []string{jumpSG.ID}, server.Strs("vpcSecurityGroupIds"))

	rules := sshRules(m)
	var names []string
	for name, r := range rules {
		names = append(names, name)
		if r.Str("securityGroupId") == jumpSG.ID {
			assert.Equal(t, "203.0.113.0/24", r.Str("cidrIpv4"), "%s: the allowlist", name)
		} else {
			assert.Equal(t, jumpSG.ID, r.Str("referencedSecurityGroupId"), "%s: servers admit SSH from the jump host only", name)
		}
	}
	assert.ElementsMatch(t, []string{"jump-ssh-203-0-113-0-24", "api-ssh-from-bastion", "chat-ssh-from-jump"}, names)
	var jumpIn []string
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if r.Str("securityGroupId") == jumpSG.ID {
			jumpIn = append(jumpIn, r.Name)
		}
	}
	assert.Equal(t, []string{"jump-ssh-203-0-113-0-24"}, jumpIn, "the jump host admits nothing but SSH from the allowlist")

	// Its exception is the only EC2.9 failure, and it goes with the jump host.
	plan := insight.NewPlan("prod", insight.ProfileProd, "ap-northeast-2", m.All())
	for _, r := range insight.Evaluate(plan).Results {
		if r.Control.ID != "EC2.9" {
			continue
		}
		for _, f := range r.Findings {
			if !f.Pass {
				assert.Equal(t, "jump-server", f.Resource, "only the jump host has a public address")
			}
		}
	}
}

// TestChatFleetWithDomain: with a domain the fleet is reached through the HTTPS listener's chat host rule
// (as a single server is), and there is no chat listener and no chat port open to anyone.
func TestChatFleetWithDomain(t *testing.T) {
	t.Parallel()
	set := map[string]string{"chat.mode": `"fleet"`, "domain.zone": `"example.com"`, "api.allowHttpOnly": ``}
	m := planEdited(t, "prod", set, zones)
	tg := named(t, m, "aws:lb/targetGroup:TargetGroup", "chat-tg")
	rule := named(t, m, "aws:lb/listenerRule:ListenerRule", "api-chat-host")
	assert.Equal(t, tg.ID, rule.Str("actions[0].targetGroupArn"))
	assert.Equal(t, []string{"chat.example.com"}, rule.Strs("conditions[0].hostHeader.values"))
	for _, l := range m.ByType("aws:lb/listener:Listener") {
		assert.NotEqual(t, "api-chat", l.Name, "no chat listener with a domain")
	}
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		assert.False(t, strings.HasPrefix(r.Name, "api-alb-chat-"), "%s: the chat port is not open on the load balancer", r.Name)
	}
}

// TestChatFleetStickiness: stickiness is the target group's load balancer cookie.
func TestChatFleetStickiness(t *testing.T) {
	t.Parallel()
	m := planEdited(t, "dev", map[string]string{"chat.mode": `"fleet"`, "chat.fleet": `{"stickinessSeconds": 3600, "drainSeconds": 300}`}, mock.Options{})
	tg := named(t, m, "aws:lb/targetGroup:TargetGroup", "chat-tg")
	assert.Equal(t, "lb_cookie", tg.Str("stickiness.type"))
	d, _ := tg.Num("stickiness.cookieDuration")
	assert.Equal(t, float64(3600), d)
	delay, _ := tg.Num("deregistrationDelay")
	assert.Equal(t, float64(300), delay)
}

// TestBadChatFleetConfig: every bad fleet input exits before anything is planned, naming its key.
func TestBadChatFleetConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stack string
		set   map[string]string
		want  []string
	}{
		{"fleet in one AZ", "dev", map[string]string{"chat.mode": `"fleet"`, "network.availabilityZones": `["ap-northeast-2a"]`},
			[]string{`football:chat.mode: "fleet" is not allowed with 1 AZ(s) in football:network.availabilityZones`}},
		{"min above max", "dev", map[string]string{"chat.mode": `"fleet"`, "chat.fleet": `{"min": 3, "max": 2}`},
			[]string{"football:chat.fleet.min: 3 is not allowed; must be <= max (2)"}},
		{"chat port is the app port", "dev", map[string]string{"chat.mode": `"fleet"`, "chat.chatPort": `8080`},
			[]string{"football:chat.chatPort: 8080 is not allowed with mode fleet and no football:domain; it equals football:api.appPort"}},
		{"chat port is the API's listener", "dev", map[string]string{"chat.mode": `"fleet"`, "chat.chatPort": `443`},
			[]string{"football:chat.chatPort: 443 is not allowed with mode fleet and no football:domain"}},
		{"stickiness without the fleet", "dev", map[string]string{"chat.fleet": `{"stickinessSeconds": 60}`},
			[]string{"football:chat.fleet.stickinessSeconds: 60 is not allowed; stickiness pins clients to one of several servers behind the load balancer: only with mode: fleet"}},
		{"SSH from the world in prod", "prod", map[string]string{"chat.mode": `"fleet"`, "chat.sshCidrs": `["0.0.0.0/0"]`},
			[]string{`football:chat.sshCidrs[0]: "0.0.0.0/0" is not allowed; prod never opens SSH to the whole internet`}},
		{"prod fleet of one", "prod", map[string]string{"chat.mode": `"fleet"`, "chat.fleet": `{"min": 1}`},
			[]string{"football:chat.fleet.min: 1 is not allowed; prod runs at least 2 chat servers"}},
		{"a mode that does not exist", "dev", map[string]string{"chat.mode": `"cluster"`},
			[]string{`football:chat.mode: "cluster" is not allowed; allowed single, fleet`}},
		{"an AZ for a fleet", "dev", map[string]string{"chat.mode": `"fleet"`, "chat.availabilityZone": `"ap-northeast-2a"`},
			[]string{`football:chat.availabilityZone: "ap-northeast-2a" is not allowed with football:chat.mode fleet`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := runEdited(t, tc.stack, tc.set, mock.Options{})
			require.Error(t, err)
			var cfgErr *ConfigError
			assert.True(t, errors.As(err, &cfgErr), "a config problem (exit 2): %v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, m.All(), "a bad config registers nothing")
		})
	}
}

// TestChatModesKeepTheServicesResources plans prod with one chat server and with the fleet. A resource
// that AWS knows by its name (a log group, a repository and its lifecycle policy, an alarm) and that
// exists in both plans under different URNs would be created by the move before the old one is deleted:
// the create collides with (or overwrites) the old one, and the delete then takes the name away. Each
// such resource must alias the other plan's URN, so that the engine moves it instead.
func TestChatModesKeepTheServicesResources(t *testing.T) {
	t.Parallel()
	plans := map[string]*mock.Mocks{
		"single": planEdited(t, "prod", map[string]string{"chat.mode": `"single"`}, mock.Options{}),
		"fleet":  planEdited(t, "prod", fleet, mock.Options{}),
	}
	// physical is how AWS names a resource, for the types whose name the program sets.
	physical := func(r *mock.Resource) string {
		switch r.Type {
		case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
			return r.Type + " " + r.Str("repository")
		case "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository", "aws:cloudwatch/metricAlarm:MetricAlarm":
			if r.Str("name") == "" {
				return "" // autonamed (a name prefix and a suffix of the engine's): no two can collide
			}
			return r.Type + " " + r.Str("name")
		}
		return ""
	}
	moved := 0
	for from, to := range map[string]string{"single": "fleet", "fleet": "single"} {
		byName := map[string]*mock.Resource{}
		for _, r := range plans[from].All() {
			if p := physical(r); p != "" {
				byName[p] = r
			}
		}
		for _, r := range plans[to].All() {
			old, ok := byName[physical(r)]
			if physical(r) == "" || !ok || old.URN == r.URN {
				continue
			}
			moved++
			assert.Contains(t, r.Aliases, old.URN, "%s: %s moves from %s; it must alias %s", to, r.Name, from, old.URN)
		}
	}
	assert.Equal(t, 6, moved, "the chat's repository, its lifecycle policy and its log group, each way")
}
