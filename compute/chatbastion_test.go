package compute

import (
	"encoding/base64"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

const (
	testRedisHost = "master.football-redis.abc123.apn2.cache.amazonaws.com"
	testAPIURL    = "https://football-api-1234567890.ap-northeast-2.elb.amazonaws.com"
)

func validChatArgs(profile string) *ChatBastionArgs {
	return &ChatBastionArgs{
		ChatSettings:  ChatSettings{Profile: profile, Region: testRegion},
		VPCID:         pulumi.String("vpc-0123456789abcdef0"),
		SubnetID:      pulumi.String("subnet-0public00000000a"),
		ImageID:       pulumi.String(testImageID),
		OwnRepository: "football/test/chat",
		RedisHost:     pulumi.String(testRedisHost),
		RedisPort:     pulumi.Int(6379),
		RedisTLS:      true,
		APIBaseURL:    pulumi.String(testAPIURL),
		Logs:          LogShipping{Group: "/football/test/chat", RetentionDays: 14},
	}
}

func TestChatSettingsWithDefaults(t *testing.T) {
	t.Parallel()
	dev := ChatSettings{Profile: "dev", Region: testRegion}.WithDefaults()
	assert.Equal(t, "t4g.micro", dev.InstanceType)
	assert.Equal(t, "ap-northeast-2a", dev.AvailabilityZone)
	assert.Equal(t, 8080, dev.ChatPort)
	assert.Equal(t, []string{"0.0.0.0/0", "::/0"}, dev.ChatCidrs)
	assert.Empty(t, dev.SSHCidrs, "no SSH unless configured")
	assert.Equal(t, 16, dev.RootVolumeGiB)
	require.NoError(t, dev.Validate())

	prod := ChatSettings{Profile: "prod", Region: testRegion}.WithDefaults()
	assert.Equal(t, "t4g.small", prod.InstanceType)
	require.NoError(t, prod.Validate())

	set := ChatSettings{Profile: "prod", Region: testRegion, InstanceType: "c7g.large", ChatPort: 443,
		ChatCidrs: []string{"198.51.100.0/24"}, AvailabilityZone: "ap-northeast-2c"}.WithDefaults()
	assert.Equal(t, "c7g.large", set.InstanceType)
	assert.Equal(t, 443, set.ChatPort)
	assert.Equal(t, []string{"198.51.100.0/24"}, set.ChatCidrs)
	assert.Equal(t, "ap-northeast-2c", set.AvailabilityZone)
}

func TestChatSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*ChatSettings)
		want   []string
	}{
		{"typo in size", func(s *ChatSettings) { s.InstanceType = "t4g.mirco" },
			[]string{`football:chat.instanceType: "t4g.mirco" is not allowed; t4g comes in nano, micro`}},
		{"dash instead of dot", func(s *ChatSettings) { s.InstanceType = "t2-micro" },
			[]string{`football:chat.instanceType: "t2-micro" is not allowed; must be <family>.<size>`}},
		{"AZ of another region", func(s *ChatSettings) { s.AvailabilityZone = "us-east-1a" },
			[]string{`football:chat.availabilityZone: "us-east-1a" is not allowed; must be an AZ of the stack's region ap-northeast-2`}},
		{"chat port is SSH", func(s *ChatSettings) { s.ChatPort = 22 },
			[]string{"football:chat.chatPort: 22 is not allowed; 22 is SSH"}},
		{"chat port out of range", func(s *ChatSettings) { s.ChatPort = 70000 },
			[]string{"football:chat.chatPort: 70000 is not allowed; allowed 1..65535"}},
		{"bad chat CIDR", func(s *ChatSettings) { s.ChatCidrs = []string{"0.0.0.0/0", "10.1.2.3/8", "nope"} },
			[]string{`football:chat.chatCidrs[1]: "10.1.2.3/8" is not allowed; host bits are set; did you mean 10.0.0.0/8?`,
				`football:chat.chatCidrs[2]: "nope" is not allowed; must be a CIDR block`}},
		{"duplicate chat CIDR", func(s *ChatSettings) { s.ChatCidrs = []string{"::/0", "::/0"} },
			[]string{`football:chat.chatCidrs[1]: "::/0" is not allowed; is listed twice`}},
		{"bad SSH CIDR", func(s *ChatSettings) { s.SSHCidrs = []string{"203.0.113.0/24", "203.0.113.0/33"} },
			[]string{`football:chat.sshCidrs[1]: "203.0.113.0/33" is not allowed; must be a CIDR block`}},
		{"SSH from anywhere in prod", func(s *ChatSettings) { s.Profile = "prod"; s.SSHCidrs = []string{"203.0.113.0/24", "0.0.0.0/0"} },
			[]string{`football:chat.sshCidrs[1]: "0.0.0.0/0" is not allowed; prod never opens SSH to the whole internet`}},
		{"SSH from all of IPv6 in prod", func(s *ChatSettings) { s.Profile = "prod"; s.SSHCidrs = []string{"::/0"} },
			[]string{`football:chat.sshCidrs[0]: "::/0" is not allowed; prod never opens SSH`}},
		{"key pair name", func(s *ChatSettings) { s.KeyName = "ops\nkey" },
			[]string{`football:chat.keyName: "ops\nkey" is not allowed; must be the name of an EC2 key pair`}},
		{"root volume too small", func(s *ChatSettings) { s.RootVolumeGiB = 4 },
			[]string{"football:chat.rootVolumeGiB: 4 is not allowed; allowed 8..1024 (GiB)"}},
		{"profile not set", func(s *ChatSettings) { s.Profile = "staging" },
			[]string{`wiring: Profile "staging" is not allowed`}},
		{"region not set", func(s *ChatSettings) { s.Region = "" },
			[]string{`wiring: Region "" is not allowed`}},
		{"everything at once", func(s *ChatSettings) { s.ChatPort = 22; s.InstanceType = "t4g.mirco"; s.RootVolumeGiB = 2 },
			[]string{"football:chat.chatPort: 22", "football:chat.instanceType", "football:chat.rootVolumeGiB: 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ChatSettings{Profile: "dev", Region: testRegion}
			tc.change(&s)
			err := s.WithDefaults().Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestChatSettingsWarnings(t *testing.T) {
	t.Parallel()
	s := ChatSettings{Profile: "dev", Region: testRegion, SSHCidrs: []string{"203.0.113.0/24", "0.0.0.0/0"}}.WithDefaults()
	require.NoError(t, s.Validate(), "SSH from anywhere is legal in dev")
	w := s.warnings()
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "football:chat.sshCidrs[1] is 0.0.0.0/0: SSH on the bastion is open to the whole internet")
	assert.Empty(t, ChatSettings{Profile: "dev", Region: testRegion, SSHCidrs: []string{"203.0.113.0/24"}}.WithDefaults().warnings())
}

func TestNewChatBastion(t *testing.T) {
	t.Parallel()
	var out struct{ ip, url, jump, sg, instance string }
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.SSHCidrs = []string{"198.51.100.0/24", "2001:db8::/32"}
		args.KeyName = "ops"
		c, err := NewChatBastion(ctx, "chat", args)
		if err != nil {
			return err
		}
		out.ip = mock.Await[string](t, c.PublicIP)
		out.url = mock.Await[string](t, c.ChatURL)
		out.jump = mock.Await[string](t, c.SSHProxyJump)
		out.sg = mock.Await[string](t, c.SecurityGroupID)
		out.instance = mock.Await[string](t, c.InstanceID)
		return nil
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, chatBastionType, "chat")

	eip := m.One(t, "aws:ec2/eip:Eip")
	instance := m.One(t, "aws:ec2/instance:Instance")
	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	assert.Equal(t, instance.ID, eip.Str("instance"), "the Elastic IP belongs to the chat instance")
	assert.Equal(t, instance.ID, out.instance)
	wantIP := outputStr(t, eip, "publicIp")
	assert.Equal(t, wantIP, out.ip)
	assert.Equal(t, "ws://"+wantIP+":8080", out.url)
	assert.Equal(t, "ssh -J ubuntu@"+wantIP+" ubuntu@<api-private-ip>", out.jump)
	assert.Equal(t, sg.ID, out.sg)

	// A plain instance (no launch template, whose new versions would replace it) with the given image, in
	// the given public subnet, with its security group, IMDSv2 only and an encrypted root volume.
	assert.Empty(t, m.ByType(ltType))
	_, fromTemplate := instance.Input("launchTemplate")
	assert.False(t, fromTemplate)
	_, hasUserData := instance.Input("userData")
	assert.False(t, hasUserData, "settings reach the server through Systems Manager, never user data")
	assert.Equal(t, testImageID, instance.Str("ami"))
	assert.Equal(t, "subnet-0public00000000a", instance.Str("subnetId"))
	assert.Equal(t, []string{sg.ID}, instance.Strs("vpcSecurityGroupIds"))
	assert.Equal(t, "t4g.micro", instance.Str("instanceType"))
	assert.Equal(t, "ops", instance.Str("keyName"))
	assert.Equal(t, "required", instance.Str("metadataOptions.httpTokens"))
	hops, _ := instance.Num("metadataOptions.httpPutResponseHopLimit")
	assert.Equal(t, 1.0, hops)
	encrypted, _ := instance.Bool("rootBlockDevice.encrypted")
	assert.True(t, encrypted)
	size, _ := instance.Num("rootBlockDevice.volumeSize")
	assert.Equal(t, 16.0, size)
	assert.Equal(t, "gp3", instance.Str("rootBlockDevice.volumeType"))

	// Ingress: the chat port from chatCidrs, SSH from sshCidrs only, each rule one CIDR.
	var got []string
	for _, r := range rulesOf(m, ingressType, sg.ID) {
		port, _ := r.Num("fromPort")
		to, _ := r.Num("toPort")
		assert.Equal(t, port, to, r.Name)
		assert.Equal(t, "tcp", r.Str("ipProtocol"), r.Name)
		got = append(got, r.Str("cidrIpv4")+r.Str("cidrIpv6")+"->"+strconv.Itoa(int(port)))
	}
	sort.Strings(got)
	assert.Equal(t, []string{"0.0.0.0/0->8080", "198.51.100.0/24->22", "2001:db8::/32->22", "::/0->8080"}, got)
	assert.ElementsMatch(t, []string{"0.0.0.0/0:8080", "::/0:8080"}, worldIngress(m), "only the chat port is open to the world")
	eg := rulesOf(m, egressType, sg.ID)
	require.Len(t, eg, 1)
	assert.Equal(t, "-1", eg[0].Str("ipProtocol"))

	// Role: Session Manager and nothing else.
	att := m.One(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	assert.Equal(t, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", att.Str("policyArn"))
	var policies []string
	for _, r := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
		policies = append(policies, r.Name)
	}
	assert.ElementsMatch(t, []string{"chat-ecr-pull", "chat-cloudwatch-agent"}, policies,
		"without Redis AUTH the chat server only pulls its images and runs the agent")
	profile := m.One(t, "aws:iam/instanceProfile:InstanceProfile")
	assert.Equal(t, profile.ID, instance.Str("iamInstanceProfile"))

	// Settings: the setup document, run on exactly this instance by an association carrying the env file.
	doc := m.One(t, "aws:ssm/document:Document")
	want, err := chatDocument("/football/test/chat")
	require.NoError(t, err)
	assert.Equal(t, want, doc.Str("content"))
	assert.Equal(t, "Command", doc.Str("documentType"))
	assoc := m.One(t, "aws:ssm/association:Association")
	assert.Equal(t, outputStr(t, doc, "name"), assoc.Str("name"))
	assert.Equal(t, outputStr(t, doc, "latestVersion"), assoc.Str("documentVersion"), "a new script must rerun")
	assert.Equal(t, "InstanceIds", assoc.Str("targets[0].key"))
	assert.Equal(t, []string{instance.ID}, assoc.Strs("targets[0].values"))
	env := chatEnvOf(t, m)
	for _, want := range []string{
		"REDIS_HOST=" + testRedisHost + "\n", "REDIS_PORT=6379\n", "REDIS_TLS=true\n",
		"API_BASE_URL=" + testAPIURL + "\n", "CHAT_PORT=8080\n",
	} {
		assert.Contains(t, env, want)
	}
}

// chatEnvOf decodes the env file the chat server's association hands its setup document.
func chatEnvOf(t *testing.T, m *mock.Mocks) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(m.One(t, "aws:ssm/association:Association").Str("parameters.env"))
	require.NoError(t, err)
	return string(raw)
}

func TestNewChatBastionNoSSHByDefault(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("prod")
		args.ChatPort = 443
		_, err := NewChatBastion(ctx, "football-chat", args)
		return err
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, chatBastionType, "football-chat")
	for _, r := range m.ByType(ingressType) {
		port, _ := r.Num("fromPort")
		assert.Equal(t, float64(443), port, "%s: without sshCidrs only the chat port is open", r.Name)
	}
	assert.Len(t, m.ByType(ingressType), 2)
	instance := m.One(t, "aws:ec2/instance:Instance")
	assert.Equal(t, "t4g.small", instance.Str("instanceType"))
	_, hasKey := instance.Input("keyName")
	assert.False(t, hasKey)
}

func TestNewChatBastionRefusesBadArgs(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("prod")
		args.ChatPort = 22
		args.SSHCidrs = []string{"0.0.0.0/0"}
		args.VPCID = nil
		args.APIBaseURL = nil
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.Error(t, err)
	for _, want := range []string{
		`chat bastion "chat": `,
		"football:chat.chatPort: 22 is not allowed",
		`football:chat.sshCidrs[0]: "0.0.0.0/0" is not allowed`,
		"wiring: VPCID is required", "wiring: APIBaseURL is required",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.Empty(t, m.All(), "bad args register nothing")

	m, err = mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewChatBastion(ctx, "chat", nil)
		return err
	})
	assert.ErrorContains(t, err, `chat bastion "chat": args are required`)
	assert.Empty(t, m.All())
}

func TestNewChatBastionDoesNotMutateArgs(t *testing.T) {
	t.Parallel()
	args := validChatArgs("dev")
	_, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	assert.Empty(t, args.InstanceType, "defaults go on a copy")
	assert.Nil(t, args.ChatCidrs)
}

// TestNewChatBastionRedisAuthSecret: with Redis AUTH the chat role may read exactly the token's secret,
// and the env file names it.
func TestNewChatBastionRedisAuthSecret(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.RedisAuthSecretARN = pulumi.String(testAuthSecretARN)
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, chatBastionType, "chat")
	rp := policyNamed(t, m, "chat-redis-secret")
	assert.Equal(t, m.One(t, "aws:iam/role:Role").ID, rp.Str("role"))
	doc := parsePolicy(t, rp)
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.ElementsMatch(t, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, doc.Statement[0].Action)
	assert.Equal(t, []string{testAuthSecretARN}, doc.Statement[0].Resource, "exactly the AUTH token's secret")
	assert.Contains(t, chatEnvOf(t, m), "REDIS_AUTH_SECRET_ARN="+testAuthSecretARN+"\n")

	// Without TLS there is no AUTH: the data tier's "" is ignored and no policy is made.
	m, err = mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.RedisTLS, args.RedisAuthSecretARN = false, pulumi.String("")
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	assert.Len(t, m.ByType("aws:iam/rolePolicy:RolePolicy"), 2, "only the image pull and CloudWatch agent policies")
	assert.Contains(t, chatEnvOf(t, m), "REDIS_AUTH_SECRET_ARN=\n")

	_, err = mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.RedisAuthSecretARN = pulumi.String("")
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	assert.ErrorContains(t, err, `chat bastion "chat": wiring: RedisAuthSecretARN resolved to "" while RedisTLS is true`)
}

// TestNewChatBastionTags: the caller's tags reach the server and its root volume.
func TestNewChatBastionTags(t *testing.T) {
	t.Parallel()
	tags := map[string]string{"Team": "chat", "CostCenter": "cc-7"}
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("prod")
		args.Tags = tags
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, chatBastionType, "chat")
	want := map[string]string{"Name": "chat", "Team": "chat", "CostCenter": "cc-7"}
	instance := m.One(t, "aws:ec2/instance:Instance")
	for k, v := range want {
		assert.Equal(t, v, instance.Str("tags."+k), k)
		assert.Equal(t, v, instance.Str("rootBlockDevice.tags."+k), k)
	}
	assert.Len(t, tags, 2, "the caller's map is not changed")
}

func TestNewChatBastionInGovCloud(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": "us-gov-west-1"}}, func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.Region = "us-gov-west-1"
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore",
		m.One(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").Str("policyArn"))
}
