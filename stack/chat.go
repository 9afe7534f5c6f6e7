package stack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/compute"
	"github.com/football/football-infra/data"
	"github.com/football/football-infra/network"
)

// chatArgs is the wiring the chat needs from the rest of the stack.
type chatArgs struct {
	net *network.Network
	db  *data.DataTier
	// image is the Ubuntu AMI for the chat servers' architecture; arm64 the Graviton one (the jump host).
	image, arm64 pulumi.StringOutput
	// apiURL is the URL the chat servers call the API at; albSG the load balancer's security group.
	apiURL, albSG pulumi.StringOutput
	// repository is the chat's ECR repository name; release the resolved image (Image "" for the
	// placeholder) and its tags.
	repository string
	release    compute.Resolved
	// boundary is football:permissionsBoundary as the roles take it (nil: none).
	boundary pulumi.StringPtrInput
}

// chatSide is what the rest of the stack takes from the chat, whichever way it runs: one server that is
// also the bastion (mode single), or a fleet behind the load balancer with a jump host only while
// football:chat.sshCidrs is set (mode fleet).
type chatSide struct {
	single *compute.ChatBastion
	fleet  *compute.ChatFleet
	jump   *compute.JumpHost

	// securityGroupID is the chat servers' group (the data tier admits it); bastionSG is where the API
	// servers admit SSH from (nil: nowhere).
	securityGroupID pulumi.StringOutput
	bastionSG       pulumi.StringInput
	// route puts the chat behind the load balancer (nil: a single server without a domain, reached directly).
	route *compute.ChatRoute
	// The stack outputs: the bastion or jump host ("" without one), the chat's group ("" for one server),
	// its repository and release.
	publicIP, instanceID, proxyJump, asgName, repositoryURL, image pulumi.StringOutput

	https bool
	port  int
}

// deployChat registers the chat for the configured mode.
func (c *Config) deployChat(ctx *pulumi.Context, w chatArgs) (*chatSide, error) {
	none := pulumi.String("").ToStringOutput()
	side := &chatSide{https: c.API.CertificateARN != "" || c.Domain.Enabled(), port: c.Chat.ChatPort}
	if c.Chat.Mode != compute.ModeFleet {
		chat, err := compute.NewChatBastion(ctx, "chat", &compute.ChatBastionArgs{
			ChatSettings:        c.Chat,
			PermissionsBoundary: w.boundary,
			VPCID:               w.net.VPCID,
			// One subnet by AZ, not an index into the tier's list: that list is unknown in the preview of a
			// deployment that adds an AZ, and an unknown subnet would show the server as replaced.
			SubnetID:  w.net.SubnetID(network.Public, c.Chat.AvailabilityZone),
			ImageID:   w.image,
			RedisHost: w.db.RedisPrimaryAddress,
			RedisPort: w.db.RedisPort,
			RedisTLS:  w.db.RedisTLS,
			// Ignored (and "") when Redis runs without TLS and AUTH.
			RedisAuthSecretARN: w.db.RedisAuthSecretARN,
			APIBaseURL:         w.apiURL,
			// The provider's default tags stop at the resources Pulumi creates; launches get them here.
			Tags:          c.DefaultTags,
			OwnRepository: w.repository,
			Image:         w.release.Image,
			ImageTags:     w.release.Tags,
			Logs:          c.logShipping("chat"),
			// With a domain the chat port admits only the load balancer (wss:// through the HTTPS listener).
			LoadBalancerSecurityGroupID: map[bool]pulumi.StringInput{true: w.albSG, false: nil}[c.Domain.Enabled()],
		})
		if err != nil {
			return nil, err
		}
		side.single = chat
		side.securityGroupID, side.bastionSG = chat.SecurityGroupID, chat.SecurityGroupID
		side.publicIP, side.instanceID, side.proxyJump = chat.PublicIP, chat.InstanceID, chat.SSHProxyJump
		side.asgName, side.repositoryURL, side.image = none, chat.RepositoryURL, chat.Image
		if c.Domain.Enabled() {
			side.route = &compute.ChatRoute{
				Host: c.Domain.ChatHost, InstanceID: chat.InstanceID, Port: c.Chat.ChatPort,
				HealthCheckPath: compute.ChatHealthCheckPath, SecurityGroupID: chat.SecurityGroupID,
			}
		}
		return side, nil
	}

	side.publicIP, side.instanceID, side.proxyJump = none, none, none
	var jumpSG pulumi.StringInput
	if len(c.Chat.SSHCidrs) > 0 {
		jump, err := compute.NewJumpHost(ctx, "jump", &compute.JumpHostArgs{
			Profile: c.Environment, Region: c.Region, SSHCidrs: c.Chat.SSHCidrs, KeyName: c.Chat.KeyName,
			VPCID:    w.net.VPCID,
			SubnetID: w.net.SubnetID(network.Public, c.Network.AvailabilityZones[0]),
			ImageID:  w.arm64,
			Tags:     c.DefaultTags,
			// The deploy role creates roles only with the boundary.
			PermissionsBoundary: w.boundary,
		})
		if err != nil {
			return nil, err
		}
		side.jump, jumpSG, side.bastionSG = jump, jump.SecurityGroupID, jump.SecurityGroupID
		side.publicIP, side.instanceID, side.proxyJump = jump.PublicIP, jump.InstanceID, jump.SSHProxyJump
	}
	fleet, err := compute.NewChatFleet(ctx, "chat", &compute.ChatFleetArgs{
		ChatSettings:                c.Chat,
		PermissionsBoundary:         w.boundary,
		VPCID:                       w.net.VPCID,
		PrivateSubnetIDs:            w.net.PrivateSubnetIDs,
		ImageID:                     w.image,
		RedisHost:                   w.db.RedisPrimaryAddress,
		RedisPort:                   w.db.RedisPort,
		RedisTLS:                    w.db.RedisTLS,
		RedisAuthSecretARN:          w.db.RedisAuthSecretARN,
		APIBaseURL:                  w.apiURL,
		LoadBalancerSecurityGroupID: w.albSG,
		JumpHostSecurityGroupID:     jumpSG,
		IdleTimeout:                 c.API.IdleTimeout,
		Tags:                        c.DefaultTags,
		OwnRepository:               w.repository,
		Image:                       w.release.Image,
		ImageTags:                   w.release.Tags,
		Logs:                        c.logShipping("chat"),
		RollbackAlarms:              c.chatRollbackAlarms(),
	})
	if err != nil {
		return nil, err
	}
	side.fleet = fleet
	side.securityGroupID, side.asgName = fleet.SecurityGroupID, fleet.AutoScalingGroupName
	side.repositoryURL, side.image = fleet.RepositoryURL, fleet.Image
	side.route = &compute.ChatRoute{Port: c.Chat.ChatPort, TargetGroupARN: fleet.TargetGroupARN, SecurityGroupID: fleet.SecurityGroupID}
	if c.Domain.Enabled() {
		side.route.Host = c.Domain.ChatHost
	} else {
		side.route.Cidrs = c.Chat.ChatCidrs
	}
	return side, nil
}

// url is the chat's address for clients without a domain (the stack overrides it with wss://<chatHost>/
// when there is one): the single server's ws://<Elastic IP>:<port>, or the load balancer's chat listener.
func (s *chatSide) url(api *compute.ApiTier) pulumi.StringOutput {
	if s.single != nil {
		return s.single.ChatURL
	}
	scheme := map[bool]string{true: "wss", false: "ws"}[s.https]
	return pulumi.Sprintf("%s://%s:%d/", scheme, api.LoadBalancerDNSName, s.port)
}
