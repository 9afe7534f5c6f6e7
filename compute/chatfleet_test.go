package compute

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
	"github.com/football/football-infra/internal/mock"
)

const (
	testALBSG  = "sg-0alb0000000000000"
	testJumpSG = "sg-0jump000000000000"
)

func validFleetArgs(profile string) *ChatFleetArgs {
	return &ChatFleetArgs{
		ChatSettings:                ChatSettings{Profile: profile, Region: testRegion, Mode: ModeFleet},
		VPCID:                       pulumi.String("vpc-0123456789abcdef0"),
		PrivateSubnetIDs:            pulumi.ToStringArray(testPrivate),
		ImageID:                     pulumi.String(testImageID),
		OwnRepository:               "football/test/chat",
		RedisHost:                   pulumi.String(testRedisHost),
		RedisPort:                   pulumi.Int(6379),
		RedisTLS:                    true,
		RedisAuthSecretARN:          pulumi.String(testAuthSecretARN),
		APIBaseURL:                  pulumi.String(testAPIURL),
		LoadBalancerSecurityGroupID: pulumi.String(testALBSG),
		IdleTimeout:                 60,
		Logs:                        LogShipping{Group: "/football/test/chat", RetentionDays: 14},
		RollbackAlarms:              []string{"football-test-chat-target-errors", "football-test-chat-unhealthy-hosts"},
	}
}

func runChatFleet(t *testing.T, args *ChatFleetArgs) *mock.Mocks {
	t.Helper()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewChatFleet(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, chatFleetType, "chat")
	return m
}

func TestChatSettingsFleetDefaults(t *testing.T) {
	t.Parallel()
	dev := ChatSettings{Profile: "dev", Region: testRegion, Mode: ModeFleet}.WithDefaults()
	assert.Equal(t, ChatFleetSettings{Min: 1, Max: 2, Desired: 1, TargetConnections: 1000, DrainSeconds: 120}, dev.Fleet)
	assert.Equal(t, 8443, dev.ChatPort, "a fleet's chat listener does not take the API's 8080")
	require.NoError(t, dev.Validate())
	prod := ChatSettings{Profile: "prod", Region: testRegion, Mode: ModeFleet}.WithDefaults()
	assert.Equal(t, ChatFleetSettings{Min: 2, Max: 4, Desired: 2, TargetConnections: 1000, DrainSeconds: 120}, prod.Fleet)
	require.NoError(t, prod.Validate())
	bigger := ChatSettings{Profile: "prod", Region: testRegion, Mode: ModeFleet, Fleet: ChatFleetSettings{Min: 3, Max: 8}}.WithDefaults()
	assert.Equal(t, 3, bigger.Fleet.Desired, "desired follows a raised minimum")

	single := ChatSettings{Profile: "dev", Region: testRegion}.WithDefaults()
	assert.Equal(t, ModeSingle, single.Mode)
	assert.Equal(t, 8080, single.ChatPort)
	assert.Equal(t, ChatFleetSettings{}, single.Fleet, "no fleet defaults for one server")
}

func TestChatFleetSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    ChatSettings
		want []string
	}{
		{"min above max", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{Min: 3, Max: 2}},
			[]string{"football:chat.fleet.min: 3 is not allowed; must be <= max (2)"}},
		{"desired above max", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{Min: 1, Desired: 5, Max: 4}},
			[]string{"football:chat.fleet.desired: 5 is not allowed; must be <= max (4)"}},
		{"max too big", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{Max: 101}},
			[]string{"football:chat.fleet.max: 101 is not allowed; allowed 1..100"}},
		{"connections", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{TargetConnections: 5}},
			[]string{"football:chat.fleet.targetConnections: 5 is not allowed; allowed 10..100000"}},
		{"drain", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{DrainSeconds: 4000}},
			[]string{"football:chat.fleet.drainSeconds: 4000 is not allowed; allowed 10..3600"}},
		{"stickiness range", ChatSettings{Mode: ModeFleet, Fleet: ChatFleetSettings{StickinessSeconds: 700000}},
			[]string{"football:chat.fleet.stickinessSeconds: 700000 is not allowed; allowed 0 (off)..604800"}},
		{"stickiness without fleet", ChatSettings{Fleet: ChatFleetSettings{StickinessSeconds: 60}},
			[]string{"football:chat.fleet.stickinessSeconds: 60 is not allowed; stickiness pins clients"}},
		{"fleet keys without fleet", ChatSettings{Mode: ModeSingle, Fleet: ChatFleetSettings{Min: 2, DrainSeconds: 30}},
			[]string{"football:chat.fleet.min: 2 is not allowed; the chat fleet's settings apply only with mode: fleet",
				"football:chat.fleet.drainSeconds: 30 is not allowed"}},
		{"unknown mode", ChatSettings{Mode: "cluster"}, []string{`football:chat.mode: "cluster" is not allowed; allowed single, fleet`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.s
			s.Profile, s.Region = "dev", testRegion
			err := s.WithDefaults().Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestNewChatFleet(t *testing.T) {
	t.Parallel()
	args := validFleetArgs("prod")
	args.Tags = map[string]string{"Team": "chat"}
	m := runChatFleet(t, args)

	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	in := rulesOf(m, ingressType, sg.ID)
	require.Len(t, in, 1, "the chat port from the load balancer, nothing else (no SSH without a jump host)")
	assert.Equal(t, testALBSG, in[0].Str("referencedSecurityGroupId"))
	assert.Empty(t, in[0].Str("cidrIpv4")+in[0].Str("cidrIpv6"))
	port, _ := in[0].Num("fromPort")
	assert.Equal(t, float64(8443), port)
	assert.Empty(t, worldIngress(m))

	lt := m.One(t, ltType)
	assert.Equal(t, "false", lt.Str("networkInterfaces[0].associatePublicIpAddress"), "no chat server gets a public address")
	assert.Equal(t, []string{sg.ID}, lt.Strs("networkInterfaces[0].securityGroups"))
	assert.Equal(t, "t4g.small", lt.Str("instanceType"))
	assert.Empty(t, m.ByType("aws:ec2/instance:Instance"))
	assert.Empty(t, m.ByType("aws:ec2/eip:Eip"))

	tg := m.One(t, "aws:lb/targetGroup:TargetGroup")
	assert.Equal(t, "chat-tg", tg.Name)
	p, _ := tg.Num("port")
	assert.Equal(t, float64(8443), p)
	assert.Equal(t, "/health", tg.Str("healthCheck.path"))
	delay, _ := tg.Num("deregistrationDelay")
	assert.Equal(t, float64(120), delay)

	asg := m.One(t, "aws:autoscaling/group:Group")
	assert.Equal(t, testPrivate, asg.Strs("vpcZoneIdentifiers"))
	assert.Equal(t, []string{tg.ID}, asg.Strs("targetGroupArns"))
	assert.Equal(t, lt.ID, asg.Str("launchTemplate.id"))
	assert.Equal(t, "ELB", asg.Str("healthCheckType"))
	for k, want := range map[string]float64{"minSize": 2, "maxSize": 4, "desiredCapacity": 2,
		"instanceRefresh.preferences.minHealthyPercentage": 100} {
		v, _ := asg.Num(k)
		assert.Equal(t, want, v, k)
	}
	rollback, _ := asg.Bool("instanceRefresh.preferences.autoRollback")
	assert.True(t, rollback)
	assert.Equal(t, args.RollbackAlarms, asg.Strs("instanceRefresh.preferences.alarmSpecification.alarms"))
	assert.Contains(t, asg.IgnoreChanges, "desiredCapacity")
	assert.Equal(t, "Team", asg.Str("tags[0].key"))

	policy := m.One(t, "aws:autoscaling/policy:Policy")
	spec := "targetTrackingConfiguration.customizedMetricSpecification."
	assert.Equal(t, "CWAgent", policy.Str(spec+"namespace"))
	assert.Equal(t, awsfacts.AgentConnectionMetric, policy.Str(spec+"metricName"))
	assert.Equal(t, "Average", policy.Str(spec+"statistic"))
	assert.Equal(t, "AutoScalingGroupName", policy.Str(spec+"metricDimensions[0].name"))
	assert.Equal(t, outputStr(t, asg, "name"), policy.Str(spec+"metricDimensions[0].value"), "the group's own series")
	target, _ := policy.Num("targetTrackingConfiguration.targetValue")
	assert.Equal(t, float64(1000), target)

	ud := userData(t, lt)
	for _, want := range []string{
		"REDIS_HOST=" + testRedisHost + "\n", "REDIS_TLS=true\n", "REDIS_AUTH_SECRET_ARN=" + testAuthSecretARN + "\n",
		"API_BASE_URL=" + testAPIURL + "\n", "CHAT_PORT=8443\n", "CHAT_PING_SECONDS=30\n",
		"enable_unit football-drain.service", "autoscaling/target-lifecycle-state",
		`"netstat"`, `"AutoScalingGroupName": "${aws:AutoScalingGroupName}"`,
		"docker stop -t 120", // not reached without a release, but the unit template is in the script
	} {
		assert.Contains(t, ud, want)
	}

	// The servers may read exactly the AUTH secret, pull their own images and ship their logs (with the
	// group's name).
	assert.Equal(t, []string{testAuthSecretARN}, parsePolicy(t, policyNamed(t, m, "chat-redis-secret")).Statement[0].Resource)
	agent := parsePolicy(t, policyNamed(t, m, "chat-cloudwatch-agent"))
	assert.Equal(t, "ReadOwnGroupName", agent.Statement[len(agent.Statement)-1].Sid)
}

func TestNewChatFleetSSHFromJumpHost(t *testing.T) {
	t.Parallel()
	args := validFleetArgs("dev")
	args.JumpHostSecurityGroupID = pulumi.String(testJumpSG)
	args.Fleet.StickinessSeconds = 600
	m := runChatFleet(t, args)
	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	from := map[float64]string{}
	for _, r := range rulesOf(m, ingressType, sg.ID) {
		p, _ := r.Num("fromPort")
		from[p] = r.Str("referencedSecurityGroupId")
	}
	assert.Equal(t, map[float64]string{8443: testALBSG, 22: testJumpSG}, from)
	tg := m.One(t, "aws:lb/targetGroup:TargetGroup")
	assert.Equal(t, "lb_cookie", tg.Str("stickiness.type"))
}

func TestNewChatFleetRefusesBadArgs(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validFleetArgs("prod")
		args.Mode = ModeSingle
		args.Fleet.Min = 1
		args.LoadBalancerSecurityGroupID = nil
		args.IdleTimeout = 0
		_, err := NewChatFleet(ctx, "chat", args)
		return err
	})
	require.Error(t, err)
	for _, want := range []string{
		`chat fleet "chat": `, `wiring: Mode "single" is not allowed; a chat fleet runs with mode fleet`,
		"wiring: LoadBalancerSecurityGroupID is required", "wiring: IdleTimeout 0 is not allowed",
		"football:chat.fleet.min: 1 is not allowed; the chat fleet's settings apply only with mode: fleet",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.Empty(t, m.All())

	m, err = mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.Mode = ModeFleet
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	assert.ErrorContains(t, err, `wiring: Mode "fleet" is not allowed; a chat bastion runs with mode single`)
	assert.Empty(t, m.All())
}

func TestSiblingURN(t *testing.T) {
	t.Parallel()
	var got, bad string
	_, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		c := &ChatFleet{}
		if err := ctx.RegisterComponentResource(chatFleetType, "chat", c); err != nil {
			return err
		}
		got = string(mock.Await[pulumi.URN](t, siblingURN(c, chatFleetType, chatBastionType)))
		_, _, err := mock.AwaitValue(siblingURN(c, chatBastionType, chatFleetType))
		if err != nil {
			bad = err.Error()
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "urn:pulumi:test::football::football:compute:ChatBastion::chat", got)
	assert.Contains(t, bad, "does not end in football:compute:ChatBastion::<name>")
}

func TestNewJumpHost(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewJumpHost(ctx, "jump", &JumpHostArgs{
			Profile: "prod", Region: testRegion, SSHCidrs: []string{"203.0.113.0/24", "2001:db8::/32"}, KeyName: "ops",
			VPCID: pulumi.String("vpc-0123456789abcdef0"), SubnetID: pulumi.String(testPublic[0]), ImageID: pulumi.String(testImageID),
		})
		return err
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, jumpHostType, "jump")
	i := m.One(t, "aws:ec2/instance:Instance")
	assert.Equal(t, JumpHostInstanceType, i.Str("instanceType"))
	assert.Equal(t, testPublic[0], i.Str("subnetId"))
	assert.Equal(t, "ops", i.Str("keyName"))
	assert.Equal(t, i.ID, m.One(t, "aws:ec2/eip:Eip").Str("instance"))
	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	var got []string
	for _, r := range rulesOf(m, ingressType, sg.ID) {
		from, _ := r.Num("fromPort")
		to, _ := r.Num("toPort")
		assert.Equal(t, []float64{22, 22}, []float64{from, to}, "%s: SSH only", r.Name)
		got = append(got, r.Str("cidrIpv4")+r.Str("cidrIpv6"))
	}
	assert.ElementsMatch(t, []string{"203.0.113.0/24", "2001:db8::/32"}, got, "the allowlist, nothing else")

	for name, tc := range map[string]struct {
		cidrs []string
		want  string
	}{
		"none":      {nil, `football:chat.sshCidrs: "[]" is not allowed; a jump host exists only for the networks listed in sshCidrs`},
		"the world": {[]string{"::/0"}, `football:chat.sshCidrs[0]: "::/0" is not allowed; prod never opens SSH`},
	} {
		m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
			_, err := NewJumpHost(ctx, "jump", &JumpHostArgs{Profile: "prod", Region: testRegion, SSHCidrs: tc.cidrs,
				VPCID: pulumi.String("vpc-0"), SubnetID: pulumi.String("subnet-0"), ImageID: pulumi.String(testImageID)})
			return err
		})
		assert.ErrorContains(t, err, tc.want, name)
		assert.Empty(t, m.All(), name)
	}
}

// fleetRoute is the API tier with the chat fleet behind its load balancer.
func fleetRoute(args *ApiTierArgs, host string) {
	args.Chat = &ChatRoute{Host: host, Port: 8443, TargetGroupARN: pulumi.String(testChatTG), SecurityGroupID: pulumi.String("sg-0chat000000000000")}
	if host == "" {
		args.Chat.Cidrs = []string{"0.0.0.0/0", "::/0"}
	}
}

const testChatTG = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/chat-tg/0123456789abcdef"

func TestApiTierChatListener(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		profile, protocol string
	}{"dev over HTTP": {"dev", "HTTP"}, "prod over HTTPS": {"prod", "HTTPS"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := validAPIArgs(tc.profile)
			args.BastionSecurityGroupID = nil
			fleetRoute(args, "")
			m, out := runAPITier(t, args)
			var chat *mock.Resource
			for _, l := range m.ByType("aws:lb/listener:Listener") {
				if l.Name == "api-chat" {
					chat = l
				}
			}
			require.NotNil(t, chat, "a listener on the chat port")
			port, _ := chat.Num("port")
			assert.Equal(t, float64(8443), port)
			assert.Equal(t, tc.protocol, chat.Str("protocol"))
			assert.Equal(t, testChatTG, chat.Str("defaultActions[0].targetGroupArn"))
			if tc.protocol == "HTTPS" {
				assert.Equal(t, testCert, chat.Str("certificateArn"))
			}
			assert.Contains(t, worldIngress(m), "0.0.0.0/0:8443")
			assert.Contains(t, worldIngress(m), "::/0:8443")
			assert.Empty(t, m.ByType("aws:lb/listenerRule:ListenerRule"))
			// No bastion: the API servers admit no SSH.
			for _, r := range rulesOf(m, ingressType, out.sg) {
				p, _ := r.Num("fromPort")
				assert.NotEqual(t, float64(22), p, r.Name)
			}
		})
	}
}

func TestApiTierChatHostRuleToFleet(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("prod")
	fleetRoute(args, "chat.example.com")
	m, _ := runAPITier(t, args)
	rule := m.One(t, "aws:lb/listenerRule:ListenerRule")
	assert.Equal(t, testChatTG, rule.Str("actions[0].targetGroupArn"))
	assert.Len(t, m.ByType("aws:lb/targetGroup:TargetGroup"), 1, "only the API's: the fleet brings its own")
	assert.Empty(t, m.ByType("aws:lb/targetGroupAttachment:TargetGroupAttachment"))
}

func TestApiTierChatRouteWiring(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		edit func(*ApiTierArgs)
		want string
	}{
		"app port": {func(a *ApiTierArgs) { fleetRoute(a, ""); a.Chat.Port = 8080 },
			"football:chat.chatPort: 8080 is not allowed; it is football:api.appPort too"},
		"443": {func(a *ApiTierArgs) { fleetRoute(a, ""); a.Chat.Port = 443 }, "football:chat.chatPort: 443 is not allowed"},
		"both targets": {func(a *ApiTierArgs) { fleetRoute(a, ""); a.Chat.InstanceID = pulumi.String("i-0") },
			"wiring: Chat needs exactly one of InstanceID"},
		"host without HTTPS": {func(a *ApiTierArgs) { fleetRoute(a, "chat.example.com") }, "wiring: Chat with a Host needs the HTTPS listener"},
		"no cidrs":           {func(a *ApiTierArgs) { fleetRoute(a, ""); a.Chat.Cidrs = nil }, "wiring: Chat without a Host needs Cidrs"},
	} {
		args := validAPIArgs("dev")
		args.APISettings = args.APISettings.WithDefaults()
		tc.edit(args)
		assert.ErrorContains(t, args.validate(), tc.want, name)
	}
}

// TestChatAgentConfig: a chat fleet server publishes its connections and its metrics under the group's
// name; a single chat server publishes per instance and no connections.
func TestChatAgentConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fleet       bool
		dimension   string
		connections bool
	}{{true, "AutoScalingGroupName", true}, {false, "InstanceId", false}} {
		raw, err := agentConfig("chat", "/football/test/chat", tc.fleet)
		require.NoError(t, err)
		var cfg struct {
			Metrics struct {
				AppendDimensions map[string]string `json:"append_dimensions"`
				Collected        map[string]struct {
					Measurement []string `json:"measurement"`
				} `json:"metrics_collected"`
			} `json:"metrics"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
		assert.Equal(t, []string{tc.dimension}, keys(cfg.Metrics.AppendDimensions))
		netstat, ok := cfg.Metrics.Collected["netstat"]
		assert.Equal(t, tc.connections, ok)
		if ok {
			// The agent names a metric <plugin>_<measurement>: what the policy and the dashboard read.
			assert.Equal(t, awsfacts.AgentConnectionMetric, "netstat_"+strings.Join(netstat.Measurement, ","))
		}
	}
}
