package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const jumpHostType = "football:compute:JumpHost"

// JumpHostInstanceType is the jump host's EC2 type: the smallest Graviton size. It forwards SSH sessions
// and runs nothing else.
const JumpHostInstanceType = "t4g.nano"

// JumpHostArgs configures NewJumpHost.
type JumpHostArgs struct {
	// Profile is "dev" or "prod" and Region the stack's region, set by the stack.
	Profile, Region string
	// SSHCidrs may reach SSH (22), and nothing else reaches the host: football:chat.sshCidrs. Required, at
	// least one; 0.0.0.0/0 and ::/0 are refused in prod.
	SSHCidrs []string
	// KeyName is the EC2 key pair installed for the ubuntu user (football:chat.keyName). Optional: without
	// it, sign in with EC2 Instance Connect (Ubuntu's images include it).
	KeyName string
	// VPCID hosts the host's security group. Required.
	VPCID pulumi.StringInput
	// SubnetID is a public subnet. Required.
	SubnetID pulumi.StringInput
	// ImageID is the Ubuntu 24.04 arm64 AMI. Required.
	ImageID pulumi.StringInput
	// Tags are added to the root volume (the provider's default tags reach the instance, not the volume).
	// Optional.
	Tags map[string]string
	// PermissionsBoundary is the ARN of the policy the host's role carries as its permissions boundary
	// (football:permissionsBoundary). Optional; nil is none.
	PermissionsBoundary pulumi.StringPtrInput
}

func (a JumpHostArgs) validate() error {
	p := &problems{section: chatSection}
	p.profile(a.Profile)
	p.region(a.Region)
	p.required(wired{"VPCID", a.VPCID != nil}, wired{"SubnetID", a.SubnetID != nil}, wired{"ImageID", a.ImageID != nil})
	if len(a.SSHCidrs) == 0 {
		p.fail("sshCidrs", "[]", "a jump host exists only for the networks listed in sshCidrs; without them use Session Manager")
	}
	refuse := ""
	if a.Profile == profileProd {
		refuse = "prod never opens SSH to the whole internet; list your admin networks, or leave sshCidrs empty and use Session Manager"
	}
	p.cidrs("sshCidrs", a.SSHCidrs, refuse)
	p.keyName("keyName", a.KeyName)
	p.tags(a.Tags)
	return p.err()
}

// JumpHost is the SSH entry into a stack whose chat runs as a fleet (no chat server is a bastion then).
type JumpHost struct {
	pulumi.ResourceState

	// InstanceID is the host's instance (Session Manager works on it too).
	InstanceID pulumi.StringOutput
	// PublicIP is its Elastic IP, kept when the host is replaced.
	PublicIP pulumi.StringOutput
	// SecurityGroupID is its group: the servers admit SSH from it.
	SecurityGroupID pulumi.StringOutput
	// SSHProxyJump shows how to reach a private server through it.
	SSHProxyJump pulumi.StringOutput
}

// NewJumpHost checks args, then registers the jump host: the smallest Graviton instance in a public
// subnet on an Elastic IP, whose security group admits SSH from the allowlist and nothing else, with IMDSv2
// only, an encrypted root volume and a Session Manager role. Bad args register nothing.
//
// It fails FSBP EC2.9 (a public IPv4 address) by design, and exists only while football:chat.sshCidrs
// lists networks.
func NewJumpHost(ctx *pulumi.Context, name string, args *JumpHostArgs, opts ...pulumi.ResourceOption) (*JumpHost, error) {
	if args == nil {
		return nil, fmt.Errorf("jump host %q: args are required", name)
	}
	a := *args
	a.SSHCidrs = append([]string(nil), a.SSHCidrs...)
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("jump host %q: %w", name, err)
	}
	j := &JumpHost{}
	if err := ctx.RegisterComponentResource(jumpHostType, name, j, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(j)
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football SSH jump host: SSH from the allowlist only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-sg")},
	}, child)
	if err != nil {
		return nil, err
	}
	for _, cidr := range a.SSHCidrs {
		rule := &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(22),
			ToPort:          pulumi.Int(22),
			Description:     pulumi.String("SSH from " + cidr),
		}
		if isIPv6(cidr) {
			rule.CidrIpv6 = pulumi.String(cidr)
		} else {
			rule.CidrIpv4 = pulumi.String(cidr)
		}
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-ssh-"+cidrSlug(cidr), rule, child); err != nil {
			return nil, err
		}
	}
	// Egress: SSH sessions onward, and the host's own updates and Session Manager.
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Description:     pulumi.String("all outbound"),
	}, child); err != nil {
		return nil, err
	}
	_, profile, err := newInstanceRole(ctx, name, "football SSH jump host: Session Manager only", a.Region, a.PermissionsBoundary, child)
	if err != nil {
		return nil, err
	}
	instance, err := ec2.NewInstance(ctx, name+"-server", &ec2.InstanceArgs{
		Ami:                 a.ImageID,
		InstanceType:        pulumi.String(JumpHostInstanceType),
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
		// Encrypted gp3 (FSBP EC2.3), Canonical's 8 GiB: the host stores nothing.
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeSize:          pulumi.Int(8),
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
	// The public subnets assign no address at launch (FSBP EC2.15): this is the host's only one, and it
	// stays when the host is replaced (a new image), so admins' SSH configs keep working.
	eip, err := ec2.NewEip(ctx, name+"-eip", &ec2.EipArgs{
		Domain:   pulumi.String("vpc"),
		Instance: instance.ID(),
		Tags:     pulumi.StringMap{"Name": pulumi.String(name)},
	}, child)
	if err != nil {
		return nil, err
	}
	j.InstanceID = instance.ID().ToStringOutput()
	j.PublicIP = eip.PublicIp
	j.SecurityGroupID = sg.ID().ToStringOutput()
	j.SSHProxyJump = pulumi.Sprintf("ssh -J ubuntu@%s ubuntu@<private-ip>", eip.PublicIp)
	if err := ctx.RegisterResourceOutputs(j, pulumi.Map{
		"instanceId":      j.InstanceID,
		"publicIp":        j.PublicIP,
		"securityGroupId": j.SecurityGroupID,
		"sshProxyJump":    j.SSHProxyJump,
	}); err != nil {
		return nil, err
	}
	return j, nil
}
