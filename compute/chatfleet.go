package compute

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

const chatFleetType = "football:compute:ChatFleet"

// ChatFleetArgs configures NewChatFleet. Settings come from stack config (mode fleet); the rest is wiring.
type ChatFleetArgs struct {
	ChatSettings
	// PermissionsBoundary is the ARN of the policy every role the fleet creates carries as its permissions
	// boundary (football:permissionsBoundary). Optional; nil is none.
	PermissionsBoundary pulumi.StringPtrInput
	// VPCID hosts the fleet's security group and target group. Required.
	VPCID pulumi.StringInput
	// PrivateSubnetIDs hold the chat servers; the group spans all of them (one per AZ). Required.
	PrivateSubnetIDs pulumi.StringArrayInput
	// ImageID is the Ubuntu 24.04 AMI for InstanceType's architecture. Required. A new image is a new
	// launch template version, rolled out by instance refresh.
	ImageID pulumi.StringInput
	// RedisHost and RedisPort are the cache every chat server publishes to and subscribes on (the fan-out
	// between servers). Required.
	RedisHost pulumi.StringInput
	RedisPort pulumi.IntInput
	// RedisTLS tells the servers to connect to Redis over TLS.
	RedisTLS bool
	// RedisAuthSecretARN is the Secrets Manager secret holding the Redis AUTH token. Optional: nil, or ""
	// with RedisTLS false, when Redis has no AUTH. With RedisTLS the servers' role may read exactly this
	// secret and REDIS_AUTH_SECRET_ARN in /etc/football/chat.env names it.
	RedisAuthSecretARN pulumi.StringInput
	// APIBaseURL is the API's URL. Required.
	APIBaseURL pulumi.StringInput
	// LoadBalancerSecurityGroupID is the only source the chat port admits. Required.
	LoadBalancerSecurityGroupID pulumi.StringInput
	// JumpHostSecurityGroupID, when set, may reach the servers' SSH port. Optional (no SSH without it).
	JumpHostSecurityGroupID pulumi.StringInput
	// IdleTimeout is the load balancer's idle timeout (football:api.idleTimeout, seconds): a WebSocket
	// silent that long is closed, so the servers learn to ping every IdleTimeout/2 (CHAT_PING_SECONDS).
	// Required.
	IdleTimeout int
	// Tags are added to the group and to what it launches (instances, volumes, network interfaces). Optional.
	Tags map[string]string
	// OwnRepository names the ECR repository the fleet creates for its releases when Repository is not set
	// (DefaultRepository). Required then.
	OwnRepository string
	// Image is the release the servers run, resolved by digest (ResolveRelease), or "" for the placeholder.
	Image string
	// ImageTags are the tags the repository holds for Image (Resolved.Tags): the lifecycle policy of the
	// fleet's own repository protects the release through them when it is pinned by digest. Optional.
	ImageTags []string
	// Logs is where the servers' CloudWatch agent ships their logs. Required.
	Logs LogShipping
	// RollbackAlarms name CloudWatch alarms an instance refresh watches; one that fires rolls it back.
	// Optional; they must exist when a refresh starts.
	RollbackAlarms []string
}

func (a ChatFleetArgs) validate() error {
	p := &problems{section: chatSection}
	p.required(
		wired{"VPCID", a.VPCID != nil}, wired{"PrivateSubnetIDs", a.PrivateSubnetIDs != nil}, wired{"ImageID", a.ImageID != nil},
		wired{"RedisHost", a.RedisHost != nil}, wired{"RedisPort", a.RedisPort != nil}, wired{"APIBaseURL", a.APIBaseURL != nil},
		wired{"LoadBalancerSecurityGroupID", a.LoadBalancerSecurityGroupID != nil},
	)
	if a.Mode != ModeFleet {
		p.errs = append(p.errs, fmt.Errorf("wiring: Mode %q is not allowed; a chat fleet runs with mode %s", a.Mode, ModeFleet))
	}
	if a.IdleTimeout < 2 || a.IdleTimeout > 4000 {
		p.errs = append(p.errs, fmt.Errorf("wiring: IdleTimeout %d is not allowed; the load balancer's idle timeout, 2..4000 seconds", a.IdleTimeout))
	}
	p.tags(a.Tags)
	p.repository(a.ReleaseSettings, a.OwnRepository, a.Image)
	p.logs(a.Logs)
	return errors.Join(a.ChatSettings.Validate(), p.err())
}

// ChatFleet is the chat of one stack when it outgrew one server: chat servers in an Auto Scaling group
// across the stack's AZs, in the private subnets, behind the load balancer's chat target group. Messages
// reach the clients of every server through the cache's pub/sub (the application's contract).
type ChatFleet struct {
	pulumi.ResourceState

	// TargetGroupARN is the chat servers' target group: the stack's load balancer routes the chat to it.
	TargetGroupARN pulumi.StringOutput
	// TargetGroupARNSuffix (targetgroup/<name>/<id>) names the target group in CloudWatch metrics.
	TargetGroupARNSuffix pulumi.StringOutput
	// AutoScalingGroupName is the chat servers' group.
	AutoScalingGroupName pulumi.StringOutput
	// SecurityGroupID is the chat servers' security group: the data tier admits it.
	SecurityGroupID pulumi.StringOutput
	// RepositoryURL is the ECR repository the chat's releases are pushed to.
	RepositoryURL pulumi.StringOutput
	// Image is the release the servers run ("" for the placeholder).
	Image pulumi.StringOutput
}

// NewChatFleet checks args, then registers the fleet: a security group that admits the chat port from the
// load balancer only (and SSH from the jump host, when there is one), an instance role, the service's ECR
// repository and log group (the ones a single chat server had, kept by alias), and the shared fleet
// building block: target group, launch template, Auto Scaling group with instance refresh and automatic
// rollback, and a target-tracking policy on connections per server. Bad args register nothing.
//
// No chat server has a public address: users reach the fleet through the load balancer only.
func NewChatFleet(ctx *pulumi.Context, name string, args *ChatFleetArgs, opts ...pulumi.ResourceOption) (*ChatFleet, error) {
	if args == nil {
		return nil, fmt.Errorf("chat fleet %q: args are required", name)
	}
	a := *args
	a.ChatSettings = a.ChatSettings.WithDefaults()
	a.SSHCidrs = append([]string(nil), a.SSHCidrs...)
	a.ChatCidrs = append([]string(nil), a.ChatCidrs...)
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("chat fleet %q: %w", name, err)
	}
	c := &ChatFleet{}
	if err := ctx.RegisterComponentResource(chatFleetType, name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	for _, w := range append(a.ChatSettings.warnings(), releaseWarnings(chatSection, a.ReleaseSettings, a.ImageTags)...) {
		if err := ctx.Log.Warn(w, &pulumi.LogArgs{Resource: c}); err != nil {
			return nil, err
		}
	}

	sg, err := c.securityGroup(ctx, name, a)
	if err != nil {
		return nil, err
	}
	svc, err := newChatService(ctx, name, c, chatService{
		component: fmt.Sprintf("chat fleet %q", name), own: chatFleetType, other: chatBastionType,
		purpose:  "football chat servers: Session Manager and, with Redis AUTH, the token secret",
		settings: a.ChatSettings, boundary: a.PermissionsBoundary, imageTags: a.ImageTags,
		ownRepository: a.OwnRepository, logs: a.Logs, byGroup: true,
		redisAuthSecretARN: a.RedisAuthSecretARN, redisTLS: a.RedisTLS,
	})
	if err != nil {
		return nil, err
	}
	profile, authARN := svc.profile, svc.authARN
	c.RepositoryURL = svc.repositoryURL

	tg, err := newFleetTargetGroup(ctx, name, targetGroupSpec{
		vpcID: a.VPCID, port: a.ChatPort, healthCheckPath: ChatHealthCheckPath,
		deregistrationDelay: a.Fleet.DrainSeconds, stickiness: a.Fleet.StickinessSeconds,
	}, child)
	if err != nil {
		return nil, err
	}
	f := a.Fleet
	userData := pulumi.All(a.RedisHost, a.RedisPort, a.APIBaseURL, authARN).ApplyT(func(v []any) (string, error) {
		ud, err := renderChatUserData(chatEnv{
			RedisHost: v[0].(string), RedisPort: v[1].(int), RedisTLS: a.RedisTLS, RedisAuthSecretARN: v[3].(string),
			APIBaseURL: v[2].(string), Region: a.Region, ChatPort: a.ChatPort, Image: a.Image, LogGroup: a.Logs.Group,
			PingSeconds: pingSeconds(a.IdleTimeout),
		}, f.DrainSeconds)
		if err != nil {
			return "", err
		}
		// The relay placeholder takes the script past EC2's 16 KB of user data; gzipped it fits.
		return encodeGzipUserData(ud)
	}).(pulumi.StringOutput)
	group, err := newFleet(ctx, name, fleetSpec{
		server: serverSpec{
			image: a.ImageID, instanceType: a.InstanceType, keyName: a.KeyName, rootVolumeGiB: a.RootVolumeGiB,
			instanceProfile: profile.Arn, userData: userData, securityGroupID: sg.ID(), nameTag: name, tags: a.Tags,
		},
		subnetIDs: a.PrivateSubnetIDs, targetGroup: tg,
		min: f.Min, max: f.Max, desired: f.Desired,
		// Every old server's clients reconnect once, to servers that already pass health checks.
		maxHealthyPercent: 200,
		gracePeriod:       healthCheckGracePeriod,
		warmup:            instanceWarmup,
		rollbackAlarms:    a.RollbackAlarms,
		tags:              a.Tags,
		scaling: func(g *autoscaling.Group) *autoscaling.PolicyTargetTrackingConfigurationArgs {
			return connectionTracking(g, f.TargetConnections)
		},
	}, child)
	if err != nil {
		return nil, err
	}

	c.TargetGroupARN = tg.Arn
	c.TargetGroupARNSuffix = tg.ArnSuffix
	c.AutoScalingGroupName = group.Name
	c.SecurityGroupID = sg.ID().ToStringOutput()
	c.Image = pulumi.String(a.Image).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"targetGroupArn":       c.TargetGroupARN,
		"targetGroupArnSuffix": c.TargetGroupARNSuffix,
		"autoScalingGroupName": c.AutoScalingGroupName,
		"securityGroupId":      c.SecurityGroupID,
		"repositoryUrl":        c.RepositoryURL,
		"image":                c.Image,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// securityGroup registers the chat servers' group: the chat port from the load balancer (traffic and
// health checks), SSH from the jump host when there is one, and no CIDR-based ingress at all.
func (c *ChatFleet) securityGroup(ctx *pulumi.Context, name string, a ChatFleetArgs) (*ec2.SecurityGroup, error) {
	child := pulumi.Parent(c)
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football chat servers (fleet behind the load balancer)"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-sg")},
	}, child)
	if err != nil {
		return nil, err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-chat-from-alb", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(a.ChatPort),
		ToPort:                    pulumi.Int(a.ChatPort),
		ReferencedSecurityGroupId: a.LoadBalancerSecurityGroupID,
		Description:               pulumi.String("chat (WebSocket) and health checks from the load balancer"),
	}, child); err != nil {
		return nil, err
	}
	if a.JumpHostSecurityGroupID != nil {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-ssh-from-jump", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           sg.ID(),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(22),
			ToPort:                    pulumi.Int(22),
			ReferencedSecurityGroupId: a.JumpHostSecurityGroupID,
			Description:               pulumi.String("SSH from the jump host"),
		}, child); err != nil {
			return nil, err
		}
	}
	// Egress stays open: apt, Session Manager, Secrets Manager, Redis, the API.
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Description:     pulumi.String("all outbound"),
	}, child); err != nil {
		return nil, err
	}
	return sg, nil
}

// connectionTracking is the chat fleet's scaling policy: keep the group's average of established TCP
// connections per server (the CloudWatch agent's awsfacts.AgentConnectionMetric, published under the group's name) at
// target. Why not the load balancer's metrics: ALBRequestCountPerTarget counts requests, and a WebSocket
// is one request (its upgrade) however long it stays open, so a fleet full of quiet long-lived connections
// would look idle; ActiveConnectionCount is the load balancer's alone (no target group dimension) and
// counts the API's connections too. New servers count only after their warm-up; scale-in is target
// tracking's own gradual one, and each server that leaves drains (fleet.drainSeconds).
func connectionTracking(g *autoscaling.Group, target int) *autoscaling.PolicyTargetTrackingConfigurationArgs {
	return &autoscaling.PolicyTargetTrackingConfigurationArgs{
		TargetValue: pulumi.Float64(float64(target)),
		CustomizedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs{
			Namespace:  pulumi.String(awsfacts.AgentNamespace),
			MetricName: pulumi.String(awsfacts.AgentConnectionMetric),
			Statistic:  pulumi.String("Average"),
			MetricDimensions: autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimensionArray{
				&autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimensionArgs{
					Name: pulumi.String("AutoScalingGroupName"), Value: g.Name,
				},
			},
		},
	}
}

// pingSeconds is how often a chat server pings a quiet WebSocket so that the load balancer, which closes
// a connection silent for idleTimeout seconds, never does: half the idle timeout leaves room for one lost
// ping.
func pingSeconds(idleTimeout int) int { return max(1, idleTimeout/2) }

// siblingURN is the URN c would have as a component of type other instead of own, with the same name and
// parent: the parent URN under which the chat's other component (ChatBastion, ChatFleet) registered the
// children they share, for their aliases. c's own URN ends in "<own>::<name>".
func siblingURN(c pulumi.Resource, own, other string) pulumi.URNOutput {
	return c.URN().ApplyT(func(u pulumi.URN) (pulumi.URN, error) {
		s := string(u)
		i := strings.LastIndex(s, "::")
		j := strings.LastIndex(s[:max(i, 0)], own)
		if i < 0 || j < 0 || j+len(own) != i {
			return "", fmt.Errorf("component URN %q does not end in %s::<name>", s, own)
		}
		return pulumi.URN(s[:j] + other + s[i:]), nil
	}).(pulumi.URNOutput)
}
