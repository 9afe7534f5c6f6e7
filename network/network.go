// Package network owns the VPC of one stack: an awsx VPC laid out by PlanSubnets (public, private and data
// subnets in every availability zone), NAT egress for the private tier, an S3 gateway endpoint, flow logs
// and a locked-down default security group.
//
// It needs only plain settings (from football:network) and, for a NAT instance, an image reference. It
// exposes the VPC ID and CIDR, subnet IDs per tier, the AZ list and the address plan. It imports nothing
// from compute or data: the stack wires values between components.
package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	awsxec2 "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

const networkType = "football:network:Network"

// NAT egress strategies for the private tier.
const (
	// NATNone gives the private tier no route to the internet.
	NATNone = "none"
	// NATInstance routes every private subnet through one small Ubuntu instance: about a tenth of a NAT
	// gateway's hourly price, but one instance in one AZ, so fit for dev only.
	NATInstance = "instance"
	// NATSingle is one managed NAT gateway in the first AZ, shared by all AZs.
	NATSingle = "single"
	// NATPerAZ is one NAT gateway per AZ: losing a zone costs only that zone's egress.
	NATPerAZ = "perAz"
)

// Settings is the football:network config section. Zero values mean "use the default".
type Settings struct {
	// Profile is "dev" or "prod", set by the stack; it picks the defaults.
	Profile string `json:"-"`
	// Region is the stack's AWS region, set by the stack from aws:region.
	Region string `json:"-"`

	// CIDR is the VPC's IPv4 block. Optional; default 10.0.0.0/16; allowed /16 to /24 inside 10.0.0.0/8,
	// 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10.
	CIDR string `json:"cidr,omitempty"`
	// SubnetBits splits the VPC into 2^SubnetBits equal subnets. Optional; default 4 (/20s in a /16, 4091
	// usable addresses each); the resulting subnets may be no smaller than /28.
	SubnetBits int `json:"subnetBits,omitempty"`
	// AvailabilityZones are the AZ names, in letter order. Optional; default <region>a and <region>b;
	// at least 2, all in the stack's region.
	AvailabilityZones []string `json:"availabilityZones,omitempty"`
	// Tiers are the subnet tiers to create. Optional; default public, private, data.
	Tiers []Tier `json:"tiers,omitempty"`
	// NAT is the private tier's egress. Optional; default dev "instance", prod "perAz"; allowed none,
	// instance, single, perAz.
	NAT string `json:"nat,omitempty"`
	// NATInstanceType is the NAT instance's type when NAT is "instance". Optional; default t4g.nano.
	NATInstanceType string `json:"natInstanceType,omitempty"`
	// FlowLogs configures VPC flow logs to CloudWatch Logs.
	FlowLogs FlowLogSettings `json:"flowLogs"`
}

// FlowLogSettings is football:network.flowLogs.
type FlowLogSettings struct {
	// Enabled turns flow logs on. Optional; default dev false, prod true (FSBP EC2.6).
	Enabled *bool `json:"enabled,omitempty"`
	// RetentionDays is the log group's retention. Optional; default dev 7, prod 90; allowed by CloudWatch
	// Logs: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.
	RetentionDays int `json:"retentionDays,omitempty"`
	// TrafficType is what to record. Optional; default ALL; allowed ALL, ACCEPT, REJECT.
	TrafficType string `json:"trafficType,omitempty"`
	// Protect sets Pulumi's protect option on the log group, so that no `pulumi destroy` or replacement
	// deletes the recorded traffic without first turning it off. Optional; default dev false, prod true.
	Protect *bool `json:"protect,omitempty"`
	// RetainOnDelete keeps the log group, with its logs until retentionDays expires them, in AWS when
	// Pulumi deletes it (flow logs turned off, the stack torn down). Optional; default dev false, prod true.
	RetainOnDelete *bool `json:"retainOnDelete,omitempty"`
}

// WithDefaults returns s with every unset field filled for its profile.
func (s Settings) WithDefaults() Settings {
	prod := s.Profile == "prod"
	if s.CIDR == "" {
		s.CIDR = "10.0.0.0/16"
	}
	if s.SubnetBits == 0 {
		s.SubnetBits = 4
	}
	if len(s.AvailabilityZones) == 0 && s.Region != "" {
		s.AvailabilityZones = []string{s.Region + "a", s.Region + "b"}
	}
	if len(s.Tiers) == 0 {
		s.Tiers = append([]Tier(nil), tierOrder...)
	}
	if s.NAT == "" {
		s.NAT = map[bool]string{true: NATPerAZ, false: NATInstance}[prod]
	}
	if s.NATInstanceType == "" {
		s.NATInstanceType = "t4g.nano"
	}
	if s.FlowLogs.Enabled == nil {
		on := prod
		s.FlowLogs.Enabled = &on
	}
	if s.FlowLogs.RetentionDays == 0 {
		s.FlowLogs.RetentionDays = map[bool]int{true: 90, false: 7}[prod]
	}
	if s.FlowLogs.TrafficType == "" {
		s.FlowLogs.TrafficType = "ALL"
	}
	if s.FlowLogs.Protect == nil {
		on := prod
		s.FlowLogs.Protect = &on
	}
	if s.FlowLogs.RetainOnDelete == nil {
		on := prod
		s.FlowLogs.RetainOnDelete = &on
	}
	return s
}

var (
	allowedRanges = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
	}
	instanceType = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

const key = "football:network"

// Validate reports every problem of s (defaults applied) at once, each naming its config key.
func (s Settings) Validate() error {
	var errs []error
	fail := func(path string, got any, allowed string) {
		errs = append(errs, fmt.Errorf("%s.%s: %v is not allowed; %s", key, path, got, allowed))
	}
	cidrOK := false
	if p, err := netip.ParsePrefix(s.CIDR); err != nil || !p.Addr().Is4() {
		fail("cidr", fmt.Sprintf("%q", s.CIDR), "must be an IPv4 CIDR block such as 10.0.0.0/16")
	} else if p.Bits() < 16 || p.Bits() > 24 {
		fail("cidr", s.CIDR, "AWS allows VPC prefixes /16 to /28 and this plan needs /16 to /24")
	} else if p.Masked() != p {
		fail("cidr", s.CIDR, fmt.Sprintf("host bits are set; did you mean %s?", p.Masked()))
	} else {
		// The block itself is well formed, so the address plan below can still be checked.
		cidrOK = true
		if !insideAllowed(p) {
			fail("cidr", s.CIDR, "must lie inside private space: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10")
		}
	}
	if len(s.AvailabilityZones) < 2 {
		fail("availabilityZones", s.AvailabilityZones, "list at least 2 AZs: the load balancer and RDS need two, and one zone's loss must not stop the service")
	}
	prev := ""
	for i, az := range s.AvailabilityZones {
		if s.Region != "" && !(strings.HasPrefix(az, s.Region) && len(az) == len(s.Region)+1) {
			fail(fmt.Sprintf("availabilityZones[%d]", i), fmt.Sprintf("%q", az),
				fmt.Sprintf("must be an AZ of the stack's region %s, such as %sa", s.Region, s.Region))
		}
		if prev != "" && az <= prev {
			fail(fmt.Sprintf("availabilityZones[%d]", i), fmt.Sprintf("%q", az),
				fmt.Sprintf("list AZs in letter order (after %q) and only ever append: awsx names subnets by position", prev))
		}
		prev = az
	}
	hasTier := map[Tier]bool{}
	for _, t := range s.Tiers {
		hasTier[t] = true
	}
	if !hasTier[Public] || !hasTier[Private] {
		fail("tiers", s.Tiers, "must include public and private")
	}
	switch s.NAT {
	case NATNone, NATSingle, NATPerAZ:
	case NATInstance:
		if !instanceType.MatchString(s.NATInstanceType) {
			fail("natInstanceType", fmt.Sprintf("%q", s.NATInstanceType), "must be an EC2 instance type such as t4g.nano")
		}
		if s.Profile == "prod" {
			fail("nat", s.NAT, "a NAT instance is one unmanaged server in one AZ; prod allows none, single or perAz")
		}
	default:
		fail("nat", fmt.Sprintf("%q", s.NAT), "allowed none, instance, single, perAz")
	}
	if !awsfacts.ValidLogRetention(s.FlowLogs.RetentionDays) {
		fail("flowLogs.retentionDays", s.FlowLogs.RetentionDays, fmt.Sprintf("CloudWatch Logs allows %v", awsfacts.LogRetentionDays))
	}
	switch s.FlowLogs.TrafficType {
	case "ALL", "ACCEPT", "REJECT":
	default:
		fail("flowLogs.trafficType", fmt.Sprintf("%q", s.FlowLogs.TrafficType), "allowed ALL, ACCEPT, REJECT")
	}
	if s.Profile == "prod" && !*s.FlowLogs.Enabled {
		fail("flowLogs.enabled", false, "prod keeps VPC flow logs on (FSBP EC2.6)")
	}
	// The address plan has its own arithmetic; run it once the CIDR is a well-formed block (even outside
	// private space), so that a malformed CIDR is reported once, by the check above.
	if cidrOK {
		if _, err := PlanSubnets(s.CIDR, s.SubnetBits, s.AvailabilityZones, s.Tiers); err != nil {
			problems := []error{err}
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				problems = joined.Unwrap()
			}
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("%s.%w", key, p))
			}
		}
	}
	return errors.Join(errs...)
}

// warnings are the legal but risky choices in s, for the deployment log.
func (s Settings) warnings() []string {
	var out []string
	switch s.NAT {
	case NATInstance:
		out = append(out, key+".nat is instance: private-subnet egress depends on one unmanaged instance in "+s.AvailabilityZones[0])
	case NATSingle:
		out = append(out, key+".nat is single: private-subnet egress of every AZ depends on one NAT gateway in "+s.AvailabilityZones[0])
	case NATNone:
		out = append(out, key+".nat is none: the private subnets have no route to the internet (apt and outbound calls fail)")
	}
	if !*s.FlowLogs.Enabled {
		out = append(out, key+".flowLogs.enabled is false: no record of the VPC's traffic (FSBP EC2.6)")
	}
	return out
}

// Plan returns the address plan for valid settings.
func (s Settings) Plan() (Plan, error) {
	return PlanSubnets(s.CIDR, s.SubnetBits, s.AvailabilityZones, s.Tiers)
}

// NetworkArgs configures NewNetwork.
type NetworkArgs struct {
	Settings
	// NATImage is the AMI ID of the NAT instance (an Ubuntu image for NATInstanceType's architecture).
	// Required when NAT is "instance". A new value replaces the NAT instance; nothing else does.
	NATImage pulumi.StringInput
	// Tags go on the NAT instance's volume and network interface, which the provider's default tags do
	// not reach. Optional.
	Tags map[string]string
	// PermissionsBoundary is the ARN of the policy the flow-log role carries as its permissions boundary
	// (football:permissionsBoundary). Optional; nil is none.
	PermissionsBoundary pulumi.StringPtrInput
}

// Network is the VPC of one stack.
type Network struct {
	pulumi.ResourceState

	// VPCID is the VPC's ID.
	VPCID pulumi.StringOutput
	// CIDR is the VPC's IPv4 block.
	CIDR string
	// AvailabilityZones are the AZs in use, in the order of every subnet ID list.
	AvailabilityZones []string
	// Plan is the address plan.
	Plan Plan
	// PublicSubnetIDs, PrivateSubnetIDs and DataSubnetIDs list each tier's subnets, one per AZ. While an
	// AZ is being added, a preview cannot know the new subnet's ID, so the whole list is unknown there;
	// consumers that need one subnet use SubnetID instead.
	PublicSubnetIDs  pulumi.StringArrayOutput
	PrivateSubnetIDs pulumi.StringArrayOutput
	DataSubnetIDs    pulumi.StringArrayOutput
	// NATPublicIP is the NAT instance's Elastic IP ("" with other strategies, whose EIPs awsx owns).
	NATPublicIP pulumi.StringOutput
	// FlowLogGroup is the CloudWatch Logs group of the flow logs ("" when off).
	FlowLogGroup pulumi.StringOutput
	// NATInstanceID is the NAT instance's ID ("" with other strategies).
	NATInstanceID pulumi.StringOutput
	// NATGateways are awsx's NAT gateways, in AZ order (none with other strategies).
	NATGateways []NATGateway
	// VPCResources are the resources awsx created for the VPC: the VPC, subnets, route tables and their
	// associations, routes, the internet and NAT gateways, their Elastic IPs and endpoints. awsx registers
	// them from its own process, so a resource that must be deleted before all of them (prod's destroy
	// lock) names them through this list. Empty under the mock engine, which cannot answer with resource
	// references.
	VPCResources pulumi.ResourceArrayOutput

	// subnets holds each tier's subnet IDs in AZ order; see SubnetID.
	subnets map[Tier][]pulumi.StringOutput
}

// vpcResources flattens the resource references awsx's VPC answers with into one list.
func vpcResources(v *awsxec2.Vpc) pulumi.ResourceArrayOutput {
	return pulumi.All(v.Vpc, v.InternetGateway, v.Subnets, v.RouteTables, v.RouteTableAssociations, v.Routes,
		v.NatGateways, v.Eips, v.VpcEndpoints).ApplyT(func(all []any) []pulumi.Resource {
		var out []pulumi.Resource
		add := func(x reflect.Value) {
			if r, ok := x.Interface().(pulumi.Resource); ok && !(x.Kind() == reflect.Pointer && x.IsNil()) {
				out = append(out, r)
			}
		}
		for _, x := range all {
			if x == nil {
				continue
			}
			if val := reflect.ValueOf(x); val.Kind() == reflect.Slice {
				for i := 0; i < val.Len(); i++ {
					add(val.Index(i))
				}
			} else {
				add(val)
			}
		}
		return out
	}).(pulumi.ResourceArrayOutput)
}

// NATGateway is one of awsx's NAT gateways.
type NATGateway struct {
	AvailabilityZone string
	ID               pulumi.StringOutput
}

// SubnetID is the ID of the tier's subnet in az, or an error output when the network has no such subnet.
// A subnet that already exists is found by its planned CIDR, so its ID stays known in a preview even while
// awsx's VPC component changes (an AZ being added): a server placed in it is then not shown as replaced.
func (n *Network) SubnetID(t Tier, az string) pulumi.StringOutput {
	i := slices.Index(n.AvailabilityZones, az)
	if i < 0 || i >= len(n.subnets[t]) {
		return pulumi.StringOutput(pulumi.All().ApplyT(func([]any) (string, error) {
			return "", fmt.Errorf("network: no %s subnet in %q; AZs are %v", t, az, n.AvailabilityZones)
		}).(pulumi.StringOutput))
	}
	return n.subnets[t][i]
}

// NewNetwork checks args, then registers the VPC and what awsx leaves out. Bad args register nothing.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %q: args are required", name)
	}
	a := *args
	a.Settings = a.Settings.WithDefaults()
	var errs []error
	if err := a.Settings.Validate(); err != nil {
		errs = append(errs, err)
	}
	if a.NAT == NATInstance && a.NATImage == nil {
		errs = append(errs, errors.New("wiring: NATImage is required when NAT is \"instance\""))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("network %q: %w", name, err)
	}
	plan, err := a.Settings.Plan()
	if err != nil {
		return nil, fmt.Errorf("network %q: %w", name, err)
	}

	n := &Network{CIDR: a.CIDR, AvailabilityZones: append([]string(nil), a.AvailabilityZones...), Plan: plan}
	if err := ctx.RegisterComponentResource(networkType, name, n, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(n)
	for _, w := range a.Settings.warnings() {
		// A failed warning only loses a log line; it must not fail the deployment.
		_ = ctx.Log.Warn(w, &pulumi.LogArgs{Resource: n})
	}

	v, err := awsxec2.NewVpc(ctx, name+"-vpc", a.vpcArgs(plan), child, pulumi.Transforms([]pulumi.ResourceTransform{NoPublicIPOnLaunch}))
	if err != nil {
		return nil, err
	}
	n.VPCID = v.VpcId
	n.VPCResources = vpcResources(v)
	existing := n.existingSubnets(ctx, v.VpcId)
	fromAwsx := map[Tier]pulumi.StringArrayOutput{Public: v.PublicSubnetIds, Private: v.PrivateSubnetIds, Data: v.IsolatedSubnetIds}
	n.subnets = map[Tier][]pulumi.StringOutput{}
	for _, t := range a.Tiers {
		for i, az := range a.AvailabilityZones {
			n.subnets[t] = append(n.subnets[t], knownSubnet(existing, plan.CIDR(t, az), fromAwsx[t].Index(pulumi.Int(i))))
		}
	}
	n.PublicSubnetIDs = pulumi.ToStringArrayOutput(n.subnets[Public])
	n.PrivateSubnetIDs = pulumi.ToStringArrayOutput(n.subnets[Private])
	n.DataSubnetIDs = pulumi.ToStringArrayOutput(n.subnets[Data])

	// FSBP EC2.2: adopting the default security group with no rules strips the allow-all rules AWS puts in it.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: v.VpcId,
	}, child); err != nil {
		return nil, err
	}

	// Route tables of the private and data subnets, one each per AZ, looked up by subnet (awsx returns its
	// route tables as resource references, which the mock engine cannot supply).
	tables := map[Tier][]pulumi.StringOutput{}
	for _, t := range []Tier{Private, Data} {
		if !slices.Contains(a.Tiers, t) {
			continue
		}
		for i, az := range a.AvailabilityZones {
			tables[t] = append(tables[t], n.routeTable(ctx, existing, plan.CIDR(t, az), fromAwsx[t].Index(pulumi.Int(i)), v))
		}
	}

	if err := n.s3Endpoint(ctx, name, a, v, tables); err != nil {
		return nil, err
	}
	n.NATPublicIP = pulumi.String("").ToStringOutput()
	n.NATInstanceID = pulumi.String("").ToStringOutput()
	if a.NAT == NATInstance {
		if n.NATInstanceID, n.NATPublicIP, err = n.natInstance(ctx, name, a, plan, v, tables[Private]); err != nil {
			return nil, err
		}
	}
	n.NATGateways = n.natGateways(ctx, a, v)
	n.FlowLogGroup = pulumi.String("").ToStringOutput()
	if *a.FlowLogs.Enabled {
		if n.FlowLogGroup, err = n.flowLogs(ctx, name, a, v); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":             n.VPCID,
		"vpcCidr":           pulumi.String(n.CIDR),
		"availabilityZones": pulumi.ToStringArray(n.AvailabilityZones),
		"publicSubnetIds":   n.PublicSubnetIDs,
		"privateSubnetIds":  n.PrivateSubnetIDs,
		"dataSubnetIds":     n.DataSubnetIDs,
		"natPublicIp":       n.NATPublicIP,
		"natInstanceId":     n.NATInstanceID,
		"flowLogGroup":      n.FlowLogGroup,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// existingSubnets maps the CIDR block of every subnet the VPC has now to the subnet's ID. It does not wait
// for awsx's VPC component: while the VPC's ID is known (every deployment after the first), a preview reads
// the subnets as they are. It is read again in every deployment, so it never goes stale.
func (n *Network) existingSubnets(ctx *pulumi.Context, vpcID pulumi.StringOutput) pulumi.StringMapOutput {
	return vpcID.ApplyT(func(id string) (map[string]string, error) {
		found, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{
			Filters: []ec2.GetSubnetsFilter{{Name: "vpc-id", Values: []string{id}}},
		}, pulumi.Parent(n))
		if err != nil {
			return nil, fmt.Errorf("network: listing the subnets of %s: %w", id, err)
		}
		byCIDR := map[string]string{}
		for _, sid := range found.Ids {
			s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(sid)}, pulumi.Parent(n))
			if err != nil {
				return nil, fmt.Errorf("network: reading subnet %s: %w", sid, err)
			}
			byCIDR[s.CidrBlock] = sid
		}
		return byCIDR, nil
	}).(pulumi.StringMapOutput)
}

// knownSubnet is the subnet planned at cidr: the existing subnet's ID when there is one, else awsx's
// output, which is unknown during the preview of the deployment that creates the subnet.
func knownSubnet(existing pulumi.StringMapOutput, cidr string, fromAwsx pulumi.StringOutput) pulumi.StringOutput {
	return existing.ApplyT(func(m map[string]string) pulumi.StringOutput {
		if id, ok := m[cidr]; ok {
			return pulumi.String(id).ToStringOutput()
		}
		return fromAwsx
	}).(pulumi.StringOutput)
}

// routeTable is the route table of the subnet planned at cidr. For an existing subnet it is read directly,
// so routes and endpoint associations in it are not shown as replaced while awsx's component changes; for
// a new subnet it waits for awsx to create and associate the table.
func (n *Network) routeTable(ctx *pulumi.Context, existing pulumi.StringMapOutput, cidr string, fromAwsx pulumi.StringOutput, v *awsxec2.Vpc) pulumi.StringOutput {
	return existing.ApplyT(func(m map[string]string) (pulumi.StringOutput, error) {
		if id, ok := m[cidr]; ok {
			rt, err := ec2.LookupRouteTable(ctx, &ec2.LookupRouteTableArgs{SubnetId: pulumi.StringRef(id)}, pulumi.Parent(n))
			if err != nil {
				return pulumi.StringOutput{}, fmt.Errorf("network: reading the route table of subnet %s (%s): %w", id, cidr, err)
			}
			return pulumi.String(rt.RouteTableId).ToStringOutput(), nil
		}
		return ec2.LookupRouteTableOutput(ctx, ec2.LookupRouteTableOutputArgs{SubnetId: fromAwsx},
			pulumi.Parent(n), pulumi.DependsOn([]pulumi.Resource{v})).RouteTableId(), nil
	}).(pulumi.StringOutput)
}

// natGateways finds awsx's NAT gateways by the public subnet each is in (perAz: every AZ; single: the
// first). awsx returns them as resource references, which the mock engine cannot supply; the lookup waits
// for awsx's component, so a gateway that is being created is found once it exists.
func (n *Network) natGateways(ctx *pulumi.Context, a NetworkArgs, v *awsxec2.Vpc) []NATGateway {
	azs := map[string][]string{NATSingle: a.AvailabilityZones[:1], NATPerAZ: a.AvailabilityZones}[a.NAT]
	var out []NATGateway
	for i, az := range azs {
		id := ec2.LookupNatGatewayOutput(ctx, ec2.LookupNatGatewayOutputArgs{
			SubnetId: v.PublicSubnetIds.Index(pulumi.Int(i)),
			State:    pulumi.String("available"),
		}, pulumi.Parent(n), pulumi.DependsOn([]pulumi.Resource{v})).Id()
		out = append(out, NATGateway{AvailabilityZone: az, ID: id})
	}
	return out
}

// vpcArgs hands awsx the plan: explicit AZ names and one explicit CIDR per AZ on every spec, so awsx lays
// out nothing by itself and an awsx upgrade cannot move a subnet.
func (a NetworkArgs) vpcArgs(plan Plan) *awsxec2.VpcArgs {
	specType := map[Tier]awsxec2.SubnetType{
		Public: awsxec2.SubnetTypePublic, Private: awsxec2.SubnetTypePrivate, Data: awsxec2.SubnetTypeIsolated,
	}
	var specs []awsxec2.SubnetSpecArgs
	for _, t := range tierOrder {
		if !slices.Contains(a.Tiers, t) {
			continue
		}
		specs = append(specs, awsxec2.SubnetSpecArgs{
			Type:       specType[t],
			Name:       pulumi.StringRef(string(t)),
			CidrBlocks: plan.CIDRs(t, a.AvailabilityZones),
		})
	}
	strategy := map[string]awsxec2.NatGatewayStrategy{
		NATNone: awsxec2.NatGatewayStrategyNone, NATInstance: awsxec2.NatGatewayStrategyNone,
		NATSingle: awsxec2.NatGatewayStrategySingle, NATPerAZ: awsxec2.NatGatewayStrategyOnePerAz,
	}[a.NAT]
	auto := awsxec2.SubnetAllocationStrategyAuto
	return &awsxec2.VpcArgs{
		CidrBlock:             pulumi.StringRef(a.CIDR),
		AvailabilityZoneNames: append([]string(nil), a.AvailabilityZones...),
		SubnetStrategy:        &auto,
		SubnetSpecs:           specs,
		NatGateways:           &awsxec2.NatGatewayConfigurationArgs{Strategy: strategy},
		EnableDnsHostnames:    pulumi.Bool(true),
		EnableDnsSupport:      pulumi.Bool(true),
	}
}

// NoPublicIPOnLaunch is passed to the awsx VPC as a resource transform: awsx turns on
// mapPublicIpOnLaunch for public subnets, and FSBP EC2.15 wants it off everywhere. Servers that need a
// public address (the chat server, the NAT instance) get an Elastic IP; load balancers get theirs from AWS.
func NoPublicIPOnLaunch(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if args.Type != "aws:ec2/subnet:Subnet" {
		return nil
	}
	props := pulumi.Map{}
	for k, v := range args.Props {
		props[k] = v
	}
	props["mapPublicIpOnLaunch"] = pulumi.Bool(false)
	return &pulumi.ResourceTransformResult{Props: props, Opts: args.Opts}
}

// s3Endpoint adds the S3 gateway endpoint (free; keeps apt mirrors on S3 and S3 traffic off NAT) and
// associates it with every private and data route table, which awsx v2 does not do.
func (n *Network) s3Endpoint(ctx *pulumi.Context, name string, a NetworkArgs, v *awsxec2.Vpc, tables map[Tier][]pulumi.StringOutput) error {
	endpoint, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           v.VpcId,
		ServiceName:     pulumi.String(awsfacts.EndpointService(a.Region, "s3")),
		VpcEndpointType: pulumi.String("Gateway"),
	}, pulumi.Parent(n))
	if err != nil {
		return err
	}
	for _, t := range []Tier{Private, Data} {
		for i, rt := range tables[t] {
			if _, err := ec2.NewVpcEndpointRouteTableAssociation(ctx, fmt.Sprintf("%s-s3-%s-%s", name, t, azSuffix(a.AvailabilityZones[i])),
				&ec2.VpcEndpointRouteTableAssociationArgs{VpcEndpointId: endpoint.ID(), RouteTableId: rt}, pulumi.Parent(n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// natInstance runs one Ubuntu instance in the first public subnet that forwards and masquerades the
// private subnets' traffic, and points every private route table at it.
func (n *Network) natInstance(ctx *pulumi.Context, name string, a NetworkArgs, plan Plan, v *awsxec2.Vpc, privateTables []pulumi.StringOutput) (id, publicIP pulumi.StringOutput, err error) {
	child := pulumi.Parent(n)
	sg, err := ec2.NewSecurityGroup(ctx, name+"-nat-sg", &ec2.SecurityGroupArgs{
		VpcId:       v.VpcId,
		Description: pulumi.String("NAT instance: all traffic from the private subnets, out to anywhere"),
	}, child)
	if err != nil {
		return id, publicIP, err
	}
	for _, cidr := range plan.CIDRs(Private, a.AvailabilityZones) {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-nat-from-"+strings.NewReplacer(".", "-", "/", "-").Replace(cidr), &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(),
			IpProtocol:      pulumi.String("-1"),
			CidrIpv4:        pulumi.String(cidr),
			Description:     pulumi.String("private subnet " + cidr),
		}, child); err != nil {
			return id, publicIP, err
		}
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-nat-egress", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Description:     pulumi.String("forwarded traffic to the internet"),
	}, child); err != nil {
		return id, publicIP, err
	}
	// A plain instance, not one launched from a template: an instance launched from a template is
	// replaced whenever the template gets a new version, while a new instance type here is applied in
	// place (stopped, changed, started: about a minute without egress). Only a new image (NATImage) or a
	// new NAT script replaces it, and the preview shows that.
	instance, err := ec2.NewInstance(ctx, name+"-nat", &ec2.InstanceArgs{
		Ami:                 a.NATImage,
		InstanceType:        pulumi.String(a.NATInstanceType),
		SubnetId:            n.subnets[Public][0],
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		// A NAT forwards packets that are neither from nor to itself.
		SourceDestCheck: pulumi.Bool(false),
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeSize: pulumi.Int(8), VolumeType: pulumi.String("gp3"),
			Encrypted: pulumi.Bool(true), DeleteOnTermination: pulumi.Bool(true),
			// The provider's default tags stop at the instance; its volume gets them here.
			Tags: natTags(name, a.Tags),
		},
		UserData: pulumi.String(natUserData(a.CIDR)),
		// The script runs at first boot only, so a new one needs a new instance to take effect.
		UserDataReplaceOnChange: pulumi.Bool(true),
		Tags:                    pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, child)
	if err != nil {
		return id, publicIP, err
	}
	eip, err := ec2.NewEip(ctx, name+"-nat-eip", &ec2.EipArgs{
		Domain:   pulumi.String("vpc"),
		Instance: instance.ID(),
		Tags:     pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, child)
	if err != nil {
		return id, publicIP, err
	}
	for i, rt := range privateTables {
		if _, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-nat-route-%s", name, azSuffix(a.AvailabilityZones[i])), &ec2.RouteArgs{
			RouteTableId:         rt,
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NetworkInterfaceId:   instance.PrimaryNetworkInterfaceId,
		}, child); err != nil {
			return id, publicIP, err
		}
	}
	return instance.ID().ToStringOutput(), eip.PublicIp, nil
}

// natTags are the tags of the NAT instance's root volume: the caller's tags and its Name.
func natTags(name string, tags map[string]string) pulumi.StringMap {
	all := pulumi.StringMap{"Name": pulumi.String(name + "-nat")}
	for k, v := range tags {
		all[k] = pulumi.String(v)
	}
	return all
}

// natUserData turns an Ubuntu instance into a NAT: forwarding on, and traffic from the VPC masqueraded
// behind the instance's address, both re-applied at every boot by a systemd unit. Its security group
// decides which subnets may use it; the script names only the VPC's block, so adding an AZ changes
// neither the launch template nor the instance.
func natUserData(vpcCIDR string) string {
	script := `#!/bin/bash
set -euo pipefail
cat >/usr/local/sbin/football-nat <<'EOF'
#!/bin/bash
set -euo pipefail
sysctl -q -w net.ipv4.ip_forward=1
dev=$(ip -4 route show default | awk '{print $5; exit}')
cidr=` + vpcCIDR + `
iptables -t nat -C POSTROUTING -s "$cidr" -o "$dev" -j MASQUERADE 2>/dev/null ||
  iptables -t nat -A POSTROUTING -s "$cidr" -o "$dev" -j MASQUERADE
EOF
chmod 0755 /usr/local/sbin/football-nat
cat >/etc/systemd/system/football-nat.service <<'EOF'
[Unit]
Description=football NAT (forwarding and masquerade for the private subnets)
After=network-online.target
Wants=network-online.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/football-nat
RemainAfterExit=yes
[Install]
WantedBy=multi-user.target
EOF
echo 'net.ipv4.ip_forward = 1' >/etc/sysctl.d/60-football-nat.conf
systemctl daemon-reload
systemctl enable --now football-nat.service
`
	return script
}

// flowLogs sends the VPC's flow logs to a CloudWatch Logs group through a role that may write to that
// group only (FSBP EC2.6).
func (n *Network) flowLogs(ctx *pulumi.Context, name string, a NetworkArgs, v *awsxec2.Vpc) (pulumi.StringOutput, error) {
	child := pulumi.Parent(n)
	groupOpts := []pulumi.ResourceOption{child}
	if *a.FlowLogs.Protect {
		groupOpts = append(groupOpts, pulumi.Protect(true))
	}
	if *a.FlowLogs.RetainOnDelete {
		groupOpts = append(groupOpts, pulumi.RetainOnDelete(true))
	}
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(a.FlowLogs.RetentionDays),
	}, groupOpts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Parent(n)).AccountId()
	// The confused-deputy conditions keep other accounts' flow logs from using this role. The flow logs'
	// ARNs are in the region's partition (arn:aws-us-gov:ec2:..., arn:aws-cn:ec2:...).
	assume := account.ApplyT(func(acct string) (string, error) {
		return flowLogTrust(a.Region, acct)
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name+"-flow-logs-role", &iam.RoleArgs{
		AssumeRolePolicy:    assume,
		Description:         pulumi.String("Lets VPC flow logs write to one log group"),
		PermissionsBoundary: a.PermissionsBoundary,
	}, child)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		return awsfacts.Policy(
			map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				"Resource": []string{arn, arn + ":*"},
			},
			// DescribeLogGroups has no resource-level permissions on a single group.
			map[string]any{
				"Effect":   "Allow",
				"Action":   "logs:DescribeLogGroups",
				"Resource": "*",
			},
		)
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs-policy", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, child); err != nil {
		return pulumi.StringOutput{}, err
	}
	if _, err := ec2.NewFlowLog(ctx, name+"-flow-log", &ec2.FlowLogArgs{
		VpcId:                  v.VpcId,
		TrafficType:            pulumi.String(a.FlowLogs.TrafficType),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(600),
	}, child); err != nil {
		return pulumi.StringOutput{}, err
	}
	return group.Name, nil
}

// flowLogTrust lets VPC flow logs of account acct, in region, assume the flow-log role.
func flowLogTrust(region, acct string) (string, error) {
	return awsfacts.Policy(map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
		"Action":    "sts:AssumeRole",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": acct},
			"ArnLike":      map[string]any{"aws:SourceArn": awsfacts.ARN(region, "ec2", acct, "vpc-flow-log/*")},
		},
	})
}

func insideAllowed(p netip.Prefix) bool {
	for _, r := range allowedRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// azSuffix is the AZ's letter, used in child names so they follow the AZ, not its list position.
func azSuffix(az string) string { return az[len(az)-1:] }
