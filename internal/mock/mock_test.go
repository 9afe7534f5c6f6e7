package mock

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnswersAreAWSShapedAndRepeatable(t *testing.T) {
	t.Parallel()
	run := func() (sgID, dbAddr, secretARN string, m *Mocks) {
		m, err := Run(Options{Config: map[string]string{"aws:region": "ap-northeast-2"}}, func(ctx *pulumi.Context) error {
			sg, err := ec2.NewSecurityGroup(ctx, "web-sg", &ec2.SecurityGroupArgs{})
			if err != nil {
				return err
			}
			db, err := rds.NewInstance(ctx, "db", &rds.InstanceArgs{
				InstanceClass: pulumi.String("db.t4g.micro"), Engine: pulumi.String("postgres"),
				ManageMasterUserPassword: pulumi.Bool(true),
			})
			if err != nil {
				return err
			}
			sgID = Await[string](t, sg.ID().ToStringOutput())
			dbAddr = Await[string](t, db.Address)
			secretARN = Await[string](t, db.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem())
			port := Await[int](t, db.Port)
			assert.Equal(t, 5432, port, "postgres answers on its default port")
			return nil
		})
		require.NoError(t, err)
		return sgID, dbAddr, secretARN, m
	}
	sg1, addr1, secret1, m := run()
	sg2, addr2, secret2, _ := run()
	assert.Equal(t, sg1, sg2)
	assert.Equal(t, addr1, addr2)
	assert.Equal(t, secret1, secret2)
	assert.Regexp(t, `^sg-0[0-9a-f]{16}$`, sg1)
	assert.True(t, strings.HasSuffix(addr1, ".ap-northeast-2.rds.amazonaws.com"), addr1)
	assert.True(t, strings.HasPrefix(secret1, "arn:aws:secretsmanager:ap-northeast-2:"+Account+":secret:rds!db-"), secret1)
	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	assert.Equal(t, "urn:pulumi:test::football::aws:ec2/securityGroup:SecurityGroup::web-sg", sg.URN)
	assert.Equal(t, "arn:aws:ec2:ap-northeast-2:"+Account+":security-group/"+sg1, sg.Outputs["arn"].StringValue())
}

func TestUnknownInvokeFails(t *testing.T) {
	t.Parallel()
	_, err := Run(Options{}, func(ctx *pulumi.Context) error {
		_, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws:ec2/getVpc:getVpc is not mocked")
}

func TestLookup(t *testing.T) {
	t.Parallel()
	m, err := Run(Options{}, func(ctx *pulumi.Context) error {
		_, err := ec2.NewLaunchTemplate(ctx, "lt", &ec2.LaunchTemplateArgs{
			MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{HttpTokens: pulumi.String("required")},
			BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
				DeviceName: pulumi.String("/dev/sda1"),
			}},
		})
		return err
	})
	require.NoError(t, err)
	r := m.One(t, "aws:ec2/launchTemplate:LaunchTemplate")
	assert.Equal(t, "required", r.Str("metadataOptions.httpTokens"))
	assert.Equal(t, "/dev/sda1", r.Str("blockDeviceMappings[0].deviceName"))
	_, ok := r.Input("blockDeviceMappings[3].deviceName")
	assert.False(t, ok)
	assert.Equal(t, "", r.Str("nope.deeper"))
}

// TestDiagnostics: what the program logs is recorded with the resource it names (the SDK's mock engine
// drops it) and printed the way the Pulumi CLI prints its Diagnostics section.
func TestDiagnostics(t *testing.T) {
	t.Parallel()
	m, err := Run(Options{Stack: "dev"}, func(ctx *pulumi.Context) error {
		sg, err := ec2.NewSecurityGroup(ctx, "web-sg", &ec2.SecurityGroupArgs{})
		if err != nil {
			return err
		}
		if err := ctx.Log.Warn("port 22 is open", &pulumi.LogArgs{Resource: sg}); err != nil {
			return err
		}
		if err := ctx.Log.Info("two lines\nof news", nil); err != nil {
			return err
		}
		if err := ctx.Log.Debug("not shown", nil); err != nil {
			return err
		}
		return ctx.Log.Warn("stack-wide", nil)
	})
	require.NoError(t, err)
	sg := m.One(t, "aws:ec2/securityGroup:SecurityGroup")
	assert.Equal(t, []Diagnostic{
		{Severity: "warning", URN: sg.URN, Message: "port 22 is open"},
		{Severity: "info", Message: "two lines\nof news"},
		{Severity: "warning", Message: "stack-wide"},
	}, m.Diagnostics())
	assert.Equal(t, []string{"port 22 is open", "stack-wide"}, m.Warnings())

	var b strings.Builder
	require.NoError(t, WriteDiagnostics(&b, m.Diagnostics(), m.All(), "football-dev"))
	assert.Equal(t, "Diagnostics:\n"+
		"  pulumi:pulumi:Stack (football-dev):\n    two lines\n    of news\n    warning: stack-wide\n\n"+
		"  aws:ec2/securityGroup:SecurityGroup (web-sg):\n    warning: port 22 is open\n\n", b.String())
	b.Reset()
	require.NoError(t, WriteDiagnostics(&b, nil, m.All(), "football-dev"))
	assert.Empty(t, b.String(), "no diagnostics, no section")
}

// TestAnswersAreInTheRegionsPartition: a GovCloud or China stack gets ARNs and endpoints of its own
// partition, so a test of such a stack sees what AWS would answer there.
func TestAnswersAreInTheRegionsPartition(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]struct{ partition, suffix string }{
		"us-gov-west-1": {"aws-us-gov", "amazonaws.com"}, "cn-north-1": {"aws-cn", "amazonaws.com.cn"},
	} {
		m, err := Run(Options{Config: map[string]string{"aws:region": region}}, func(ctx *pulumi.Context) error {
			p, err := aws.GetPartition(ctx, &aws.GetPartitionArgs{})
			if err != nil {
				return err
			}
			assert.Equal(t, want.partition, p.Partition, region)
			assert.Equal(t, want.suffix, p.DnsSuffix, region)
			if _, err := ec2.NewSecurityGroup(ctx, "sg", &ec2.SecurityGroupArgs{}); err != nil {
				return err
			}
			_, err = iam.NewRole(ctx, "role", &iam.RoleArgs{AssumeRolePolicy: pulumi.String("{}")})
			return err
		})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(m.One(t, "aws:ec2/securityGroup:SecurityGroup").Outputs["arn"].StringValue(),
			"arn:"+want.partition+":ec2:"+region+":"+Account+":security-group/sg-"), region)
		assert.True(t, strings.HasPrefix(m.One(t, "aws:iam/role:Role").Outputs["arn"].StringValue(),
			"arn:"+want.partition+":iam::"+Account+":role/role-"), region)
	}
}
