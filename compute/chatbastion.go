package compute

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const chatBastionType = "football:compute:ChatBastion"

// chatSection is the config key ChatSettings is decoded from; validation messages name paths under it.
const chatSection = "football:chat"

// Chat modes: how the chat runs.
const (
	// ModeSingle is one chat server in a public subnet on an Elastic IP, which doubles as the SSH bastion
	// (ChatBastion).
	ModeSingle = "single"
	// ModeFleet is chat servers in an Auto Scaling group across the stack's AZs, in the private subnets,
	// reached only through the load balancer (ChatFleet).
	ModeFleet = "fleet"
)

// ChatSettings is the football:chat config section. Zero values mean "use the default".
type ChatSettings struct {
	// Profile is "dev" or "prod", set by the stack; it picks the defaults.
	Profile string `json:"-"`
	// Region is the stack's AWS region, set by the stack from aws:region.
	Region string `json:"-"`

	// InstanceType is the chat server's EC2 type. Optional; default dev t4g.micro, prod t4g.small; allowed
	// the families and sizes UbuntuImage knows (t3, t3a, t4g, m6i, m7i, m7g, c7g, c7i, ...).
	InstanceType string `json:"instanceType,omitempty"`
	// AvailabilityZone is the AZ of the chat server; the stack picks the public subnet there. Optional;
	// default <region>a (the stack: its first AZ); allowed an AZ of the stack's region; refused with mode
	// fleet, which spans every AZ.
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	// ChatPort is the TCP port users' WebSocket connections reach: the server's and, for a fleet without a
	// domain, the load balancer's chat listener. Optional; default 8080 (single), 8443 (fleet); allowed
	// 1..65535 except 22, and for a fleet without a domain neither 80, 443 nor football:api.appPort. Security
	// Hub (FSBP EC2.18/EC2.19) flags 8080 open to the world; 443 passes.
	ChatPort int `json:"chatPort,omitempty"`
	// ChatCidrs may reach the chat port: the server's (single) or the load balancer's chat listener (fleet
	// without a domain). Optional; default ["0.0.0.0/0", "::/0"]; allowed IPv4 and IPv6 CIDR blocks, each
	// once; refused with a domain (the chat is then wss:// on 443).
	ChatCidrs []string `json:"chatCidrs,omitempty"`
	// SSHCidrs may reach SSH (22), which makes the server a bastion into the private subnets (single), or
	// creates a jump host that admits nothing else (fleet). Optional; default none (Session Manager only);
	// allowed CIDR blocks; 0.0.0.0/0 and ::/0 are refused in prod and warned about in dev.
	SSHCidrs []string `json:"sshCidrs,omitempty"`
	// KeyName is the EC2 key pair installed for the ubuntu user. Optional; default none.
	KeyName string `json:"keyName,omitempty"`
	// RootVolumeGiB is the encrypted gp3 root volume's size. Optional; default 16; allowed 8..1024 (GiB).
	RootVolumeGiB int `json:"rootVolumeGiB,omitempty"`
	// ReleaseSettings: release, repository, releasesKept.
	ReleaseSettings
	// Mode is how the chat runs. Optional; default single; allowed single (one server in a public subnet,
	// the SSH bastion too), fleet (an Auto Scaling group in the private subnets behind the load balancer).
	Mode string `json:"mode,omitempty"`
	// Fleet sizes and tunes the chat fleet; its keys are refused unless mode is fleet.
	Fleet ChatFleetSettings `json:"fleet"`
}

// ChatFleetSettings is football:chat.fleet.
type ChatFleetSettings struct {
	// Min, Max and Desired size the chat fleet. Optional; default dev 1/2/1, prod 2/4/2; allowed
	// 1 <= min <= desired <= max <= 100, and min >= 2 in prod (a server in each of two AZs). Desired is the
	// size at creation only: afterwards the scaling policy owns it.
	Min     int `json:"min,omitempty"`
	Max     int `json:"max,omitempty"`
	Desired int `json:"desired,omitempty"`
	// TargetConnections is what the scaling policy keeps each server at: established TCP connections on
	// average across the fleet (the CloudWatch agent's netstat_tcp_established; every WebSocket is one). Optional; default 1000; allowed
	// 10..100000.
	TargetConnections int `json:"targetConnections,omitempty"`
	// DrainSeconds is how long a server leaving the fleet (scale-in, instance refresh) keeps its open
	// connections, the target group's deregistration delay: the server tells its clients to reconnect as
	// soon as it learns it is leaving, and the load balancer closes what is left after this time.
	// Optional; default 120; allowed 10..3600 (seconds).
	DrainSeconds int `json:"drainSeconds,omitempty"`
	// StickinessSeconds pins a client to one server with the load balancer's cookie for that long (a
	// long-polling fallback needs it; WebSockets do not: a connection stays on its server anyway).
	// Optional; default 0 (off); allowed 0..604800 (seconds, a week).
	StickinessSeconds int `json:"stickinessSeconds,omitempty"`
}

// WithDefaults returns s with every unset field filled for its profile.
func (s ChatSettings) WithDefaults() ChatSettings {
	prod := s.Profile == profileProd
	if s.InstanceType == "" {
		s.InstanceType = map[bool]string{true: "t4g.small", false: "t4g.micro"}[prod]
	}
	if s.AvailabilityZone == "" && s.Region != "" {
		s.AvailabilityZone = s.Region + "a"
	}
	if s.Mode == "" {
		s.Mode = ModeSingle
	}
	if s.ChatPort == 0 {
		// A fleet's chat port is also a listener of the load balancer the API's targets sit behind on 8080.
		s.ChatPort = map[bool]int{true: 8443, false: 8080}[s.Mode == ModeFleet]
	}
	if len(s.ChatCidrs) == 0 {
		s.ChatCidrs = []string{"0.0.0.0/0", "::/0"}
	}
	if s.RootVolumeGiB == 0 {
		s.RootVolumeGiB = 16
	}
	s.ReleaseSettings = s.ReleaseSettings.withDefaults()
	if s.Mode == ModeFleet {
		f := &s.Fleet
		if f.Min == 0 {
			f.Min = map[bool]int{true: 2, false: 1}[prod]
		}
		if f.Max == 0 {
			f.Max = map[bool]int{true: 4, false: 2}[prod]
		}
		if f.Desired == 0 {
			f.Desired = max(f.Min, map[bool]int{true: 2, false: 1}[prod])
		}
		if f.TargetConnections == 0 {
			f.TargetConnections = 1000
		}
		if f.DrainSeconds == 0 {
			f.DrainSeconds = 120
		}
	}
	return s
}

// Validate reports every problem of s (defaults applied) at once, each naming its config path, the bad
// value and what is allowed.
func (s ChatSettings) Validate() error {
	p := &problems{section: chatSection}
	p.profile(s.Profile)
	p.region(s.Region)
	p.instanceType("instanceType", s.InstanceType)
	if s.Region != "" && !(len(s.AvailabilityZone) == len(s.Region)+1 && s.AvailabilityZone[:len(s.Region)] == s.Region) {
		p.fail("availabilityZone", s.AvailabilityZone, fmt.Sprintf("must be an AZ of the stack's region %s, such as %sa", s.Region, s.Region))
	}
	switch {
	case s.ChatPort < 1 || s.ChatPort > 65535:
		p.fail("chatPort", s.ChatPort, "allowed 1..65535")
	case s.ChatPort == 22:
		p.fail("chatPort", s.ChatPort, "22 is SSH, which the bastion opens only to sshCidrs; pick another port such as 443 or 8080")
	}
	p.cidrs("chatCidrs", s.ChatCidrs, "")
	refuse := ""
	if s.Profile == profileProd {
		refuse = "prod never opens SSH to the whole internet; list your admin networks, or leave sshCidrs empty and use Session Manager"
	}
	p.cidrs("sshCidrs", s.SSHCidrs, refuse)
	p.keyName("keyName", s.KeyName)
	p.rootVolume("rootVolumeGiB", s.RootVolumeGiB)
	p.release(s.ReleaseSettings)
	switch s.Mode {
	case ModeSingle:
		p.fleetKeysUnused(s.Fleet)
	case ModeFleet:
		p.fleet(s.Fleet, s.Profile == profileProd)
	default:
		p.fail("mode", s.Mode, "allowed single, fleet")
	}
	return p.err()
}

// fleetKeysUnused refuses football:chat.fleet keys on a single chat server, which has no fleet to apply
// them to (a key that does nothing is a mistake the config should name).
func (p *problems) fleetKeysUnused(f ChatFleetSettings) {
	for _, k := range []struct {
		path string
		v    int
	}{
		{"fleet.min", f.Min}, {"fleet.max", f.Max}, {"fleet.desired", f.Desired},
		{"fleet.targetConnections", f.TargetConnections}, {"fleet.drainSeconds", f.DrainSeconds},
	} {
		if k.v != 0 {
			p.fail(k.path, k.v, "the chat fleet's settings apply only with mode: fleet")
		}
	}
	if f.StickinessSeconds != 0 {
		p.fail("fleet.stickinessSeconds", f.StickinessSeconds, "stickiness pins clients to one of several servers behind the load balancer: "+
			"only with mode: fleet")
	}
}

// fleet checks the chat fleet's settings (defaults applied).
func (p *problems) fleet(f ChatFleetSettings, prod bool) {
	if f.Min < 1 {
		p.fail("fleet.min", f.Min, "allowed 1..100")
	} else if prod && f.Min < 2 {
		p.fail("fleet.min", f.Min, "prod runs at least 2 chat servers, one in each of two AZs, so losing one AZ or one server does not stop the chat")
	}
	if f.Max < 1 || f.Max > 100 {
		p.fail("fleet.max", f.Max, "allowed 1..100")
	}
	if f.Min > f.Max {
		p.fail("fleet.min", f.Min, fmt.Sprintf("must be <= max (%d)", f.Max))
	} else {
		if f.Min > f.Desired {
			p.fail("fleet.min", f.Min, fmt.Sprintf("must be <= desired (%d)", f.Desired))
		}
		if f.Desired > f.Max {
			p.fail("fleet.desired", f.Desired, fmt.Sprintf("must be <= max (%d)", f.Max))
		}
	}
	if f.TargetConnections < 10 || f.TargetConnections > 100000 {
		p.fail("fleet.targetConnections", f.TargetConnections, "allowed 10..100000 (connections per server)")
	}
	if f.DrainSeconds < 10 || f.DrainSeconds > 3600 {
		p.fail("fleet.drainSeconds", f.DrainSeconds, "allowed 10..3600 (seconds; the load balancer's deregistration delay)")
	}
	if f.StickinessSeconds < 0 || f.StickinessSeconds > 604800 {
		p.fail("fleet.stickinessSeconds", f.StickinessSeconds, "allowed 0 (off)..604800 (seconds, a week)")
	}
}

// warnings lists the legal but risky choices in s (defaults applied), for the deployment log.
func (s ChatSettings) warnings() []string {
	var out []string
	host := map[bool]string{true: "the jump host", false: "the bastion"}[s.Mode == ModeFleet]
	for i, cidr := range s.SSHCidrs {
		if isWorld(cidr) {
			out = append(out, fmt.Sprintf("%s.sshCidrs[%d] is %s: SSH on %s is open to the whole internet; "+
				"prod refuses this, list your admin networks instead", chatSection, i, cidr, host))
		}
	}
	return out
}

// ChatBastionArgs configures NewChatBastion. Settings come from stack config; the rest is wiring.
type ChatBastionArgs struct {
	ChatSettings
	// PermissionsBoundary is the ARN of the policy every role the tier creates carries as its permissions
	// boundary (football:permissionsBoundary). Optional; nil is none.
	PermissionsBoundary pulumi.StringPtrInput
	// VPCID hosts the server's security group. Required.
	VPCID pulumi.StringInput
	// SubnetID is a public subnet in ChatSettings.AvailabilityZone. Required.
	SubnetID pulumi.StringInput
	// ImageID is the Ubuntu 24.04 AMI for InstanceType's architecture. Required. A new image replaces the
	// server (deliberately: it is the only routine change that does).
	ImageID pulumi.StringInput
	// RedisHost and RedisPort are the Redis endpoint chat uses for fan-out. Required.
	RedisHost pulumi.StringInput
	RedisPort pulumi.IntInput
	// RedisTLS tells the server to connect to Redis over TLS.
	RedisTLS bool
	// RedisAuthSecretARN is the Secrets Manager secret holding the Redis AUTH token (the data tier's
	// RedisAuthSecretARN). Optional: nil, or "" with RedisTLS false, when Redis has no AUTH. With RedisTLS,
	// the server's role may read exactly this secret and REDIS_AUTH_SECRET_ARN in /etc/football/chat.env
	// names it; the token itself never enters user data.
	RedisAuthSecretARN pulumi.StringInput
	// APIBaseURL is the API's URL (the load balancer's http(s)://dns). Required.
	APIBaseURL pulumi.StringInput
	// Tags are added to the server, its root volume and its network interface (the provider's default
	// tags reach the instance but not the volume or the interface EC2 creates with it). Optional.
	Tags map[string]string
	// OwnRepository names the ECR repository the server creates for its releases when Repository is not
	// set (DefaultRepository). Required then.
	OwnRepository string
	// Image is the release the server runs, resolved by digest (ResolveRelease), or "" for the placeholder.
	// It must be in the server's repository.
	Image string
	// ImageTags are the tags the repository holds for Image (Resolved.Tags): the lifecycle policy of the
	// server's own repository protects the release through them when it is pinned by digest. Optional.
	ImageTags []string
	// Logs is where the server's CloudWatch agent ships its logs. Required.
	Logs LogShipping
	// LoadBalancerSecurityGroupID, when set, is the only source the chat port admits: users reach the chat
	// through the load balancer (wss://), and chatCidrs is not used. Optional.
	LoadBalancerSecurityGroupID pulumi.StringInput
}

func (a ChatBastionArgs) validate() error {
	p := &problems{section: chatSection}
	p.required(
		wired{"VPCID", a.VPCID != nil}, wired{"SubnetID", a.SubnetID != nil}, wired{"ImageID", a.ImageID != nil},
		wired{"RedisHost", a.RedisHost != nil},
		wired{"RedisPort", a.RedisPort != nil}, wired{"APIBaseURL", a.APIBaseURL != nil},
	)
	if a.Mode != ModeSingle {
		p.errs = append(p.errs, fmt.Errorf("wiring: Mode %q is not allowed; a chat bastion runs with mode %s", a.Mode, ModeSingle))
	}
	p.tags(a.Tags)
	p.repository(a.ReleaseSettings, a.OwnRepository, a.Image)
	p.logs(a.Logs)
	return errors.Join(a.ChatSettings.Validate(), p.err())
}

// ChatBastion is the chat server and SSH bastion of one stack.
type ChatBastion struct {
	pulumi.ResourceState

	// InstanceID is the EC2 instance's ID (for Session Manager: aws ssm start-session --target <id>).
	InstanceID pulumi.StringOutput
	// PublicIP is the Elastic IP; it survives a replacement of the instance.
	PublicIP pulumi.StringOutput
	// ChatURL is ws://<public ip>:<chat port>.
	ChatURL pulumi.StringOutput
	// SSHProxyJump shows how to reach a private server through the bastion.
	SSHProxyJump pulumi.StringOutput
	// SecurityGroupID is the server's security group: the API servers and the data tier admit it.
	SecurityGroupID pulumi.StringOutput
	// RepositoryURL is the ECR repository the chat's releases are pushed to.
	RepositoryURL pulumi.StringOutput
	// Image is the release the server runs ("" for the placeholder).
	Image pulumi.StringOutput
}

// NewChatBastion checks args, then registers the chat server: a security group, an instance role, the
// instance, its Elastic IP, and the Systems Manager document and association that keep its settings. Bad
// args register nothing.
//
// The server fails FSBP EC2.9 (public IPv4 address) by design: users connect to it directly.
func NewChatBastion(ctx *pulumi.Context, name string, args *ChatBastionArgs, opts ...pulumi.ResourceOption) (*ChatBastion, error) {
	if args == nil {
		return nil, fmt.Errorf("chat bastion %q: args are required", name)
	}
	a := *args
	a.ChatSettings = a.ChatSettings.WithDefaults()
	a.ChatCidrs = append([]string(nil), a.ChatCidrs...)
	a.SSHCidrs = append([]string(nil), a.SSHCidrs...)
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("chat bastion %q: %w", name, err)
	}

	c := &ChatBastion{}
	if err := ctx.RegisterComponentResource(chatBastionType, name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	for _, w := range append(a.ChatSettings.warnings(), releaseWarnings(chatSection, a.ReleaseSettings, a.ImageTags)...) {
		if err := ctx.Log.Warn(w, &pulumi.LogArgs{Resource: c}); err != nil {
			return nil, err
		}
	}

	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football chat server and SSH bastion"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-sg")},
	}, child)
	if err != nil {
		return nil, err
	}
	chatCidrs := a.ChatCidrs
	if a.LoadBalancerSecurityGroupID != nil {
		chatCidrs = nil
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-chat-from-alb", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           sg.ID(),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(a.ChatPort),
			ToPort:                    pulumi.Int(a.ChatPort),
			ReferencedSecurityGroupId: a.LoadBalancerSecurityGroupID,
			Description:               pulumi.String("chat (WebSocket) from the load balancer"),
		}, child); err != nil {
			return nil, err
		}
	}
	for _, r := range []struct {
		role, what string
		port       int
		cidrs      []string
	}{
		{"chat", "chat (WebSocket)", a.ChatPort, chatCidrs},
		{"ssh", "SSH", 22, a.SSHCidrs},
	} {
		for _, cidr := range r.cidrs {
			rule := &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: sg.ID(),
				IpProtocol:      pulumi.String("tcp"),
				FromPort:        pulumi.Int(r.port),
				ToPort:          pulumi.Int(r.port),
				Description:     pulumi.String(r.what + " from " + cidr),
			}
			if isIPv6(cidr) {
				rule.CidrIpv6 = pulumi.String(cidr)
			} else {
				rule.CidrIpv4 = pulumi.String(cidr)
			}
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-"+r.role+"-"+cidrSlug(cidr), rule, child); err != nil {
				return nil, err
			}
		}
	}
	// Egress stays open: apt, Session Manager, Redis, the API and users' connections all leave here.
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Description:     pulumi.String("all outbound"),
	}, child); err != nil {
		return nil, err
	}

	svc, err := newChatService(ctx, name, c, chatService{
		component: fmt.Sprintf("chat bastion %q", name), own: chatBastionType, other: chatFleetType,
		purpose:  "football chat server: Session Manager and, with Redis AUTH, the token secret",
		settings: a.ChatSettings, boundary: a.PermissionsBoundary, imageTags: a.ImageTags,
		ownRepository: a.OwnRepository, logs: a.Logs,
		redisAuthSecretARN: a.RedisAuthSecretARN, redisTLS: a.RedisTLS,
	})
	if err != nil {
		return nil, err
	}
	profile, authARN := svc.profile, svc.authARN
	c.RepositoryURL = svc.repositoryURL
	// The chat server is a plain instance, not one launched from a template: the provider replaces an
	// instance whose template version changes, and every settings change (an API URL, a Redis endpoint, a
	// release) would then cost every connected user a new server. Here only the image, the subnet (the AZ)
	// and the key pair replace it; the instance type is changed in place (stop, change, start) and tags
	// are updated. Its settings reach it through Systems Manager: the association below runs the setup
	// document on the instance when it is created and again whenever its parameters change, and the
	// script restarts the service only when something changed.
	instance, err := ec2.NewInstance(ctx, name+"-server", &ec2.InstanceArgs{
		Ami:                 a.ImageID,
		InstanceType:        pulumi.String(a.InstanceType),
		SubnetId:            a.SubnetID,
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		IamInstanceProfile:  profile.Name,
		KeyName:             keyName(a.KeyName),
		// IMDSv2 only, hop limit 1 (FSBP EC2.8).
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		// Encrypted gp3 (FSBP EC2.3); a new size is applied in place. The provider's default tags stop at
		// the instance, so the volume gets the stack's tags here.
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeSize:          pulumi.Int(a.RootVolumeGiB),
			VolumeType:          pulumi.String("gp3"),
			Encrypted:           pulumi.Bool(true),
			DeleteOnTermination: pulumi.Bool(true),
			Tags:                serverTags(name, a.Tags),
		},
		Tags: serverTags(name, a.Tags),
	}, child)
	if err != nil {
		return nil, err
	}
	if err := c.settings(ctx, name, a, authARN, instance); err != nil {
		return nil, err
	}
	// The public subnets do not assign public addresses at launch (FSBP EC2.15); this address is the
	// server's only one, and stays when the instance is replaced.
	eip, err := ec2.NewEip(ctx, name+"-eip", &ec2.EipArgs{
		Domain:   pulumi.String("vpc"),
		Instance: instance.ID(),
		Tags:     pulumi.StringMap{"Name": pulumi.String(name)},
	}, child)
	if err != nil {
		return nil, err
	}

	c.InstanceID = instance.ID().ToStringOutput()
	c.PublicIP = eip.PublicIp
	c.ChatURL = pulumi.Sprintf("ws://%s:%d", eip.PublicIp, a.ChatPort)
	c.SSHProxyJump = pulumi.Sprintf("ssh -J ubuntu@%s ubuntu@<api-private-ip>", eip.PublicIp)
	c.SecurityGroupID = sg.ID().ToStringOutput()
	c.Image = pulumi.String(a.Image).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"repositoryUrl":   c.RepositoryURL,
		"image":           c.Image,
		"instanceId":      c.InstanceID,
		"publicIp":        c.PublicIP,
		"chatUrl":         c.ChatURL,
		"sshProxyJump":    c.SSHProxyJump,
		"securityGroupId": c.SecurityGroupID,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// settings registers the chat server's setup document and the association that runs it on the server with
// the current env file. A new env file is an in-place update of the association, which Systems Manager
// runs at once; the script restarts the service (clients reconnect once), and the instance stays.
func (c *ChatBastion) settings(ctx *pulumi.Context, name string, a ChatBastionArgs, authARN pulumi.StringOutput, instance *ec2.Instance) error {
	child := pulumi.Parent(c)
	content, err := chatDocument(a.Logs.Group)
	if err != nil {
		return err
	}
	doc, err := ssm.NewDocument(ctx, name+"-setup", &ssm.DocumentArgs{
		DocumentType:   pulumi.String("Command"),
		DocumentFormat: pulumi.String("JSON"),
		Content:        pulumi.String(content),
		TargetType:     pulumi.String("/AWS::EC2::Instance"),
	}, child)
	if err != nil {
		return err
	}
	env := pulumi.All(a.RedisHost, a.RedisPort, a.APIBaseURL, authARN).ApplyT(func(v []any) (string, error) {
		return chatEnvParameter(chatEnv{
			RedisHost: v[0].(string), RedisPort: v[1].(int), RedisTLS: a.RedisTLS, RedisAuthSecretARN: v[3].(string),
			APIBaseURL: v[2].(string), Region: a.Region, ChatPort: a.ChatPort, Image: a.Image, LogGroup: a.Logs.Group,
		})
	}).(pulumi.StringOutput)
	_, err = ssm.NewAssociation(ctx, name+"-setup", &ssm.AssociationArgs{
		Name: doc.Name,
		// The version number, not $DEFAULT: a changed script is then a change of the association too, and
		// runs on the server.
		DocumentVersion: doc.LatestVersion,
		Targets: ssm.AssociationTargetArray{&ssm.AssociationTargetArgs{
			Key:    pulumi.String("InstanceIds"),
			Values: pulumi.StringArray{instance.ID()},
		}},
		Parameters: pulumi.StringMap{"env": env},
		// Record failures as non-compliant with a severity the console sorts first.
		ComplianceSeverity: pulumi.String("HIGH"),
	}, child)
	return err
}

// keyName is the key pair input: nil (none) for "".
func keyName(name string) pulumi.StringPtrInput {
	if name == "" {
		return nil
	}
	return pulumi.String(name)
}
