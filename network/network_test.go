package network

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

const testImageID = "ami-0123456789abcdef0"

var testImage = pulumi.String(testImageID)

func settings(profile string) Settings {
	return Settings{Profile: profile, Region: "ap-northeast-2",
		AvailabilityZones: []string{"ap-northeast-2a", "ap-northeast-2c"}}
}

// build runs NewNetwork under the mock engine and returns the recording and the component.
func build(t *testing.T, args *NetworkArgs) (*mock.Mocks, *Network, error) {
	t.Helper()
	var n *Network
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": "ap-northeast-2"}}, func(ctx *pulumi.Context) error {
		var err error
		n, err = NewNetwork(ctx, "net", args)
		if err != nil {
			return err
		}
		mock.Await[string](t, n.VPCID)
		return nil
	})
	return m, n, err
}

func TestNewNetworkDev(t *testing.T) {
	t.Parallel()
	m, n, err := build(t, &NetworkArgs{Settings: settings("dev"), NATImage: testImage})
	require.NoError(t, err)

	vpc := m.One(t, "awsx:ec2:Vpc")
	assert.True(t, vpc.Remote, "awsx Vpc is a remote component")
	assert.Equal(t, []string{"ap-northeast-2a", "ap-northeast-2c"}, vpc.Strs("availabilityZoneNames"))
	assert.Equal(t, "10.0.0.0/16", vpc.Str("cidrBlock"))
	assert.Equal(t, "Auto", vpc.Str("subnetStrategy"))
	assert.Equal(t, "None", vpc.Str("natGateways.strategy"), "dev egress is the NAT instance, not awsx gateways")
	for i, want := range []struct{ typ, name string }{{"Public", "public"}, {"Private", "private"}, {"Isolated", "data"}} {
		spec := "subnetSpecs[" + string(rune('0'+i)) + "]"
		assert.Equal(t, want.typ, vpc.Str(spec+".type"))
		assert.Equal(t, want.name, vpc.Str(spec+".name"))
		assert.Equal(t, n.Plan.CIDRs(Tier(want.name), n.AvailabilityZones), vpc.Strs(spec+".cidrBlocks"))
	}
	dns, _ := vpc.Bool("enableDnsHostnames")
	assert.True(t, dns)
	support, _ := vpc.Bool("enableDnsSupport")
	assert.True(t, support)
	require.Len(t, vpc.Transforms, 1, "the subnet transform must reach awsx")

	// Default security group adopted with no rules (EC2.2).
	dsg := m.One(t, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
	_, hasIngress := dsg.Input("ingress")
	_, hasEgress := dsg.Input("egress")
	assert.False(t, hasIngress || hasEgress, "the default SG must have no rules")

	// The S3 endpoint is a gateway associated with every private and data route table, one each per AZ.
	ep := m.One(t, "aws:ec2/vpcEndpoint:VpcEndpoint")
	assert.Equal(t, "com.amazonaws.ap-northeast-2.s3", ep.Str("serviceName"))
	assert.Equal(t, "Gateway", ep.Str("vpcEndpointType"))
	assocs := m.ByType("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation")
	require.Len(t, assocs, 4)
	tables := map[string]bool{}
	for _, a := range assocs {
		assert.Equal(t, ep.ID, a.Str("vpcEndpointId"))
		tables[a.Str("routeTableId")] = true
	}
	assert.Len(t, tables, 4, "each association must target its own route table")

	// NAT instance: a plain instance (no launch template, whose new versions would replace it), source/dest
	// check off, IMDSv2, encrypted disk, the given image, in the first public subnet, a route from each
	// private table, admitted only from the private subnets.
	nat := m.One(t, "aws:ec2/instance:Instance")
	check, set := nat.Bool("sourceDestCheck")
	assert.True(t, set && !check, "sourceDestCheck must be false")
	assert.Empty(t, m.ByType("aws:ec2/launchTemplate:LaunchTemplate"))
	_, fromTemplate := nat.Input("launchTemplate")
	assert.False(t, fromTemplate)
	assert.Equal(t, testImageID, nat.Str("ami"))
	assert.Equal(t, "t4g.nano", nat.Str("instanceType"))
	assert.Equal(t, "required", nat.Str("metadataOptions.httpTokens"))
	hops, _ := nat.Num("metadataOptions.httpPutResponseHopLimit")
	assert.Equal(t, 1.0, hops)
	encrypted, _ := nat.Bool("rootBlockDevice.encrypted")
	assert.True(t, encrypted)
	assert.Equal(t, mock.Await[[]string](t, n.PublicSubnetIDs)[0], nat.Str("subnetId"))
	replaceOnChange, _ := nat.Bool("userDataReplaceOnChange")
	assert.True(t, replaceOnChange, "a new NAT script only runs on a new instance")
	script := nat.Str("userData")
	assert.Contains(t, script, "net.ipv4.ip_forward=1")
	assert.Contains(t, script, "MASQUERADE")
	assert.Contains(t, script, "cidr=10.0.0.0/16\n", "the NAT masquerades the VPC's traffic")
	routes := m.ByType("aws:ec2/route:Route")
	require.Len(t, routes, 2)
	for _, r := range routes {
		assert.Equal(t, "0.0.0.0/0", r.Str("destinationCidrBlock"))
		assert.Equal(t, nat.Outputs["primaryNetworkInterfaceId"].StringValue(), r.Str("networkInterfaceId"))
		assert.True(t, tables[r.Str("routeTableId")], "NAT routes go into the private tables")
	}
	var ingressCIDRs []string
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		ingressCIDRs = append(ingressCIDRs, r.Str("cidrIpv4"))
	}
	assert.ElementsMatch(t, n.Plan.CIDRs(Private, n.AvailabilityZones), ingressCIDRs)
	eip := m.One(t, "aws:ec2/eip:Eip")
	assert.Equal(t, nat.ID, eip.Str("instance"))

	// No flow logs in dev by default.
	assert.Empty(t, m.ByType("aws:ec2/flowLog:FlowLog"))
	assertOwned(t, m)
}

func TestNewNetworkProd(t *testing.T) {
	t.Parallel()
	s := settings("prod")
	s.AvailabilityZones = []string{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"}
	m, n, err := build(t, &NetworkArgs{Settings: s})
	require.NoError(t, err)

	vpc := m.One(t, "awsx:ec2:Vpc")
	assert.Equal(t, "OnePerAz", vpc.Str("natGateways.strategy"))
	assert.Empty(t, m.ByType("aws:ec2/instance:Instance"), "prod has no NAT instance")
	assert.Len(t, m.ByType("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"), 6)

	fl := m.One(t, "aws:ec2/flowLog:FlowLog")
	assert.True(t, m.One(t, "aws:cloudwatch/logGroup:LogGroup").Protect, "prod protects the recorded traffic")
	group := m.One(t, "aws:cloudwatch/logGroup:LogGroup")
	role := m.One(t, "aws:iam/role:Role")
	assert.Equal(t, "ALL", fl.Str("trafficType"))
	assert.Equal(t, "cloud-watch-logs", fl.Str("logDestinationType"))
	assert.Equal(t, group.Outputs["arn"].StringValue(), fl.Str("logDestination"))
	assert.Equal(t, role.Outputs["arn"].StringValue(), fl.Str("iamRoleArn"))
	assert.Equal(t, vpc.Outputs["vpcId"].StringValue(), fl.Str("vpcId"))
	days, _ := group.Num("retentionInDays")
	assert.Equal(t, 90.0, days)

	var trust struct {
		Statement []struct {
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.Str("assumeRolePolicy")), &trust))
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, "vpc-flow-logs.amazonaws.com", trust.Statement[0].Principal["Service"])
	assert.Equal(t, mock.Account, trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])

	// The write permissions name the one log group, nothing wider.
	var policy struct {
		Statement []struct {
			Action   any
			Resource any
		}
	}
	pol := m.One(t, "aws:iam/rolePolicy:RolePolicy")
	require.NoError(t, json.Unmarshal([]byte(pol.Str("policy")), &policy))
	groupARN := group.Outputs["arn"].StringValue()
	for _, st := range policy.Statement {
		if st.Action == "logs:DescribeLogGroups" {
			continue
		}
		assert.Equal(t, []any{groupARN, groupARN + ":*"}, st.Resource)
	}
	assert.Equal(t, []string{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"}, n.AvailabilityZones)
	assertOwned(t, m)
}

// assertOwned checks that every resource is a child of the component and named after it.
func assertOwned(t *testing.T, m *mock.Mocks) {
	t.Helper()
	for _, r := range m.All() {
		if r.Type == networkType {
			continue
		}
		assert.Contains(t, r.Parent, networkType, "%s %s must be parented to the network", r.Type, r.Name)
		assert.True(t, strings.HasPrefix(r.Name, "net-"), "%s must be named after the component", r.Name)
	}
}

func TestNoPublicIPOnLaunch(t *testing.T) {
	t.Parallel()
	got := NoPublicIPOnLaunch(context.Background(), &pulumi.ResourceTransformArgs{
		Type:  "aws:ec2/subnet:Subnet",
		Props: pulumi.Map{"mapPublicIpOnLaunch": pulumi.Bool(true), "cidrBlock": pulumi.String("10.0.0.0/20")},
	})
	require.NotNil(t, got)
	assert.Equal(t, pulumi.Bool(false), got.Props["mapPublicIpOnLaunch"])
	assert.Equal(t, pulumi.String("10.0.0.0/20"), got.Props["cidrBlock"])
	assert.Nil(t, NoPublicIPOnLaunch(context.Background(), &pulumi.ResourceTransformArgs{Type: "aws:ec2/routeTable:RouteTable"}))
}

// TestVpcTransformTurnsOffPublicIPs applies the transform the program actually passed to the awsx VPC to
// a subnet the way awsx declares its public ones.
func TestVpcTransformTurnsOffPublicIPs(t *testing.T) {
	t.Parallel()
	m, _, err := build(t, &NetworkArgs{Settings: settings("dev"), NATImage: testImage})
	require.NoError(t, err)
	vpc := m.One(t, "awsx:ec2:Vpc")
	require.NotEmpty(t, vpc.Transforms)
	props := pulumi.Map{"mapPublicIpOnLaunch": pulumi.Bool(true)}
	for _, tr := range vpc.Transforms {
		if res := tr(context.Background(), &pulumi.ResourceTransformArgs{Type: "aws:ec2/subnet:Subnet", Custom: true, Props: props}); res != nil {
			props = res.Props
		}
	}
	assert.Equal(t, pulumi.Bool(false), props["mapPublicIpOnLaunch"])
}

func TestNewNetworkRejectsBadSettingsBeforeAnyResource(t *testing.T) {
	t.Parallel()
	bad := Settings{
		Profile: "prod", Region: "ap-northeast-2",
		CIDR:              "8.8.0.0/16",
		AvailabilityZones: []string{"us-east-1a"},
		NAT:               "cheap",
		FlowLogs:          FlowLogSettings{RetentionDays: 10, TrafficType: "SOME"},
	}
	m, _, err := build(t, &NetworkArgs{Settings: bad})
	require.Error(t, err)
	for _, want := range []string{
		`football:network.cidr: 8.8.0.0/16 is not allowed; must lie inside private space`,
		`football:network.availabilityZones: [us-east-1a] is not allowed; list at least 2 AZs`,
		`football:network.availabilityZones[0]: "us-east-1a" is not allowed; must be an AZ of the stack's region ap-northeast-2`,
		`football:network.nat: "cheap" is not allowed; allowed none, instance, single, perAz`,
		`football:network.flowLogs.retentionDays: 10 is not allowed`,
		`football:network.flowLogs.trafficType: "SOME" is not allowed`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, m.All(), "bad settings must register nothing")
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"public cidr", func(s *Settings) { s.CIDR = "52.0.0.0/16" }, "cidr: 52.0.0.0/16 is not allowed; must lie inside private space"},
		{"too big", func(s *Settings) { s.CIDR = "10.0.0.0/8" }, "cidr: 10.0.0.0/8 is not allowed; AWS allows VPC prefixes /16 to /28"},
		{"too small", func(s *Settings) { s.CIDR = "10.0.0.0/25" }, "this plan needs /16 to /24"},
		{"host bits", func(s *Settings) { s.CIDR = "10.0.0.1/16" }, "did you mean 10.0.0.0/16?"},
		{"garbage cidr", func(s *Settings) { s.CIDR = "ten" }, `cidr: "ten" is not allowed; must be an IPv4 CIDR`},
		{"cgnat ok", func(s *Settings) { s.CIDR = "100.64.0.0/16" }, ""},
		{"one az", func(s *Settings) { s.AvailabilityZones = s.AvailabilityZones[:1] }, "list at least 2 AZs"},
		{"other region", func(s *Settings) { s.AvailabilityZones[1] = "us-east-1c" }, `availabilityZones[1]: "us-east-1c" is not allowed; must be an AZ of the stack's region`},
		{"unsorted", func(s *Settings) {
			s.AvailabilityZones = []string{"ap-northeast-2c", "ap-northeast-2a"}
		}, "list AZs in letter order"},
		{"too many", func(s *Settings) {
			s.CIDR, s.SubnetBits = "10.0.0.0/16", 2
		}, "3 tiers × 2 AZs = 6 subnets, but a /16 with subnetBits 2 has only 2^2 = 4 /18 slots"},
		{"az beyond", func(s *Settings) { s.AvailabilityZones = []string{"ap-northeast-2a", "ap-northeast-2e"} }, "raise subnetBits to 5"},
		{"no private tier", func(s *Settings) { s.Tiers = []Tier{Public, Data} }, "tiers: [public data] is not allowed; must include public and private"},
		{"nat instance in prod", func(s *Settings) { s.Profile, s.NAT = "prod", NATInstance }, "nat: instance is not allowed; a NAT instance is one unmanaged server"},
		{"flow logs off in prod", func(s *Settings) {
			off := false
			s.Profile, s.FlowLogs.Enabled = "prod", &off
		}, "flowLogs.enabled: false is not allowed; prod keeps VPC flow logs on"},
		{"bad nat type", func(s *Settings) { s.NATInstanceType = "tiny" }, `natInstanceType: "tiny" is not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := settings("dev")
			s.AvailabilityZones = append([]string(nil), s.AvailabilityZones...)
			c.edit(&s)
			err := s.WithDefaults().Validate()
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if strings.HasPrefix(c.want, "cidr: ") || c.name == "host bits" {
				assert.Equal(t, 1, strings.Count(err.Error(), key+".cidr"), "a bad cidr is reported once:\n%v", err)
			}
		})
	}
}

func TestSettingsDefaultsByProfile(t *testing.T) {
	t.Parallel()
	dev := Settings{Profile: "dev", Region: "eu-west-1"}.WithDefaults()
	prod := Settings{Profile: "prod", Region: "eu-west-1"}.WithDefaults()
	assert.Equal(t, "10.0.0.0/16", dev.CIDR)
	assert.Equal(t, 4, dev.SubnetBits)
	assert.Equal(t, []string{"eu-west-1a", "eu-west-1b"}, dev.AvailabilityZones)
	assert.Equal(t, NATInstance, dev.NAT)
	assert.Equal(t, NATPerAZ, prod.NAT)
	assert.False(t, *dev.FlowLogs.Enabled)
	assert.True(t, *prod.FlowLogs.Enabled)
	assert.Equal(t, 7, dev.FlowLogs.RetentionDays)
	assert.Equal(t, 90, prod.FlowLogs.RetentionDays)
	require.NoError(t, dev.Validate())
	require.NoError(t, prod.Validate())
}

func TestNATInstanceNeedsImage(t *testing.T) {
	t.Parallel()
	m, _, err := build(t, &NetworkArgs{Settings: settings("dev")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NATImage is required")
	assert.Empty(t, m.All())
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	dev := settings("dev").WithDefaults()
	assert.Equal(t, []string{
		"football:network.nat is instance: private-subnet egress depends on one unmanaged instance in ap-northeast-2a",
		"football:network.flowLogs.enabled is false: no record of the VPC's traffic (FSBP EC2.6)",
	}, dev.warnings())
	prod := settings("prod").WithDefaults()
	assert.Empty(t, prod.warnings(), "prod's defaults are not risky")
	prod.NAT = NATSingle
	assert.Equal(t, []string{"football:network.nat is single: private-subnet egress of every AZ depends on one NAT gateway in ap-northeast-2a"}, prod.warnings())
}
