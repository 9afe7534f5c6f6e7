// Package insight explains an offline plan (internal/offline) without AWS: an architecture diagram in
// Mermaid, a monthly cost estimate priced from the embedded prices.json, and the AWS Foundational Security
// Best Practices (FSBP) controls evaluated on the planned inputs.
//
// It only reads the plan's recorded registrations (type, name, URN, inputs, mock outputs). It imports no
// component package and hard-codes no topology: a resource the plan does not contain (a dev plan without a
// database, say) is simply absent from the diagram, the bill and the report.
package insight

import (
	"context"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

// Profiles, as the stack package names them.
const (
	ProfileDev  = "dev"
	ProfileProd = "prod"
)

// Type tokens this package reads.
const (
	typeVpc            = "awsx:ec2:Vpc"
	typeSubnet         = "aws:ec2/subnet:Subnet"
	typeInstance       = "aws:ec2/instance:Instance"
	typeLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	typeEIP            = "aws:ec2/eip:Eip"
	typeRoute          = "aws:ec2/route:Route"
	typeFlowLog        = "aws:ec2/flowLog:FlowLog"
	typeLogGroup       = "aws:cloudwatch/logGroup:LogGroup"
	typeMetricAlarm    = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeDashboard      = "aws:cloudwatch/dashboard:Dashboard"
	typeKMSKey         = "aws:kms/key:Key"
	typeDefaultSG      = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typeSG             = "aws:ec2/securityGroup:SecurityGroup"
	typeSGRule         = "aws:ec2/securityGroupRule:SecurityGroupRule"
	typeIngressRule    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeLoadBalancer   = "aws:lb/loadBalancer:LoadBalancer"
	typeListener       = "aws:lb/listener:Listener"
	typeASG            = "aws:autoscaling/group:Group"
	typeScalingPolicy  = "aws:autoscaling/policy:Policy"
	typeInstanceProf   = "aws:iam/instanceProfile:InstanceProfile"
	typeRoleAttachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	typeRDSInstance    = "aws:rds/instance:Instance"
	typeRDSSubnetGroup = "aws:rds/subnetGroup:SubnetGroup"
	typeReplGroup      = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeCacheSubnetGrp = "aws:elasticache/subnetGroup:SubnetGroup"
)

// Plan is what every report reads: one stack's planned resources plus the facts that pick prices and
// exceptions.
type Plan struct {
	// Stack is the stack name, Profile "dev" or "prod", Region the AWS region.
	Stack, Profile, Region string
	// Resources are the planned registrations, in plan order.
	Resources []*mock.Resource
	// AllowHTTPOnly is football:api.allowHttpOnly: the operator accepted a plain-HTTP API in prod (false
	// for hand-built plans). The exception for it applies only while it is set.
	AllowHTTPOnly bool
	// ChatFleetListener: the chat runs as a fleet (football:chat.mode fleet) on a load balancer listener of
	// its own, since the stack has no football:domain to route it by host name.
	ChatFleetListener bool

	byID map[string]*mock.Resource
}

// NewPlan indexes resources for the reports.
func NewPlan(stack, profile, region string, resources []*mock.Resource) *Plan {
	p := &Plan{Stack: stack, Profile: profile, Region: region, Resources: resources, byID: map[string]*mock.Resource{}}
	for _, r := range resources {
		if r.ID != "" {
			p.byID[r.ID] = r
		}
	}
	return p
}

// Facts are what the reports need from a stack's configuration. The caller takes them from the typed
// configuration the program read (stack.Config), so this package neither decodes config nor depends on the
// program it explains.
type Facts struct {
	// Stack is the stack name, Profile "dev" or "prod" (football:environment, defaults applied), Region
	// aws:region.
	Stack, Profile, Region string
	// AllowHTTPOnly is football:api.allowHttpOnly.
	AllowHTTPOnly bool
	// ChatFleetListener: the chat runs as a fleet (football:chat.mode fleet) on a load balancer listener of
	// its own, since the stack has no football:domain to route it by host name.
	ChatFleetListener bool
}

// PlanOf adapts an offline plan: its resources, and the facts of its configuration.
func PlanOf(f Facts, resources []*mock.Resource) *Plan {
	p := NewPlan(f.Stack, f.Profile, f.Region, resources)
	p.AllowHTTPOnly = f.AllowHTTPOnly
	p.ChatFleetListener = f.ChatFleetListener
	return p
}

// ofType returns the planned resources of one type, in plan order.
func (p *Plan) ofType(typ string) []*mock.Resource { return mock.OfType(p.Resources, typ) }

// ref finds the resource whose ID is id (a security group ID, a launch template ID, a subnet group name).
func (p *Plan) ref(id string) *mock.Resource {
	if id == "" {
		return nil
	}
	return p.byID[id]
}

// component is the type token of the nearest football component above r ("football:compute:ApiTier"),
// read from r's URN, or "".
func component(r *mock.Resource) string {
	parts := strings.SplitN(r.URN, "::", 4)
	if len(parts) < 4 {
		return ""
	}
	chain := strings.Split(parts[2], "$")
	for i := len(chain) - 2; i >= 0; i-- {
		if strings.HasPrefix(chain[i], "football:") {
			return chain[i]
		}
	}
	return ""
}

// Tiers of the cost report, from the component a resource belongs to.
const (
	TierNetwork = "network"
	TierCompute = "compute"
	TierData    = "data"
	TierOther   = "other"
	// TierMonitoring is the stack's alarm topic and dashboard; alarms belong to the tier they watch.
	TierMonitoring = "monitoring"
	// TierEdge is the domain, certificate and web ACL.
	TierEdge = "edge"
)

// tierOf is the module of r's component (football:<module>:<Type>).
// tiers orders the tiers in reports.
var tiers = []string{TierNetwork, TierCompute, TierData, TierEdge, TierMonitoring, TierBootstrap, TierOther}

func tierOf(r *mock.Resource) string {
	parts := strings.Split(component(r), ":")
	if len(parts) == 3 {
		switch parts[1] {
		case TierNetwork, TierCompute, TierData, TierMonitoring, TierEdge, TierBootstrap:
			return parts[1]
		}
	}
	return TierOther
}

// launchTemplate is the launch template an instance or Auto Scaling group launches from, or nil.
func (p *Plan) launchTemplate(r *mock.Resource) *mock.Resource {
	for _, path := range []string{
		"launchTemplate.id", "launchTemplate.name",
		"mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateId",
		"mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateName",
	} {
		v := r.Str(path)
		if v == "" {
			continue
		}
		if lt := p.ref(v); lt != nil {
			return lt
		}
		for _, lt := range p.ofType(typeLaunchTemplate) {
			if name, ok := lt.Output("name"); ok && name.IsString() && name.StringValue() == v {
				return lt
			}
		}
	}
	return nil
}

// effective reads path from r's own inputs, falling back to its launch template's.
func (p *Plan) effective(r *mock.Resource, path string) (resource.PropertyValue, bool) {
	if v, ok := r.Input(path); ok {
		return v, true
	}
	if lt := p.launchTemplate(r); lt != nil {
		return lt.Input(path)
	}
	return resource.PropertyValue{}, false
}

func (p *Plan) effectiveStr(r *mock.Resource, path string) string {
	v, ok := p.effective(r, path)
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// instanceType is an instance's or group's EC2 type, from its inputs or its launch template.
func (p *Plan) instanceType(r *mock.Resource) string { return p.effectiveStr(r, "instanceType") }

// securityGroups lists the security group IDs a resource's network interfaces carry.
func (p *Plan) securityGroups(r *mock.Resource) []string {
	var out []string
	add := func(res *mock.Resource) {
		for _, path := range []string{"vpcSecurityGroupIds", "securityGroups", "securityGroupIds"} {
			out = append(out, res.Strs(path)...)
		}
		for i := 0; ; i++ {
			if _, ok := res.Input(indexPath("networkInterfaces", i)); !ok {
				break
			}
			out = append(out, res.Strs(indexPath("networkInterfaces", i)+".securityGroups")...)
		}
	}
	add(r)
	if lt := p.launchTemplate(r); lt != nil {
		add(lt)
	}
	return dedupe(out)
}

// isNATInstance tells an instance that forwards other hosts' traffic: source/destination check off, or
// a route pointing at its network interface.
func (p *Plan) isNATInstance(r *mock.Resource) bool {
	if r.Type != typeInstance {
		return false
	}
	if check, set := r.Bool("sourceDestCheck"); set && !check {
		return true
	}
	eni, ok := r.Output("primaryNetworkInterfaceId")
	if !ok || !eni.IsString() {
		return false
	}
	for _, rt := range p.ofType(typeRoute) {
		if rt.Str("networkInterfaceId") == eni.StringValue() {
			return true
		}
	}
	return false
}

// eipsOf lists the Elastic IPs associated with an instance in the plan.
func (p *Plan) eipsOf(r *mock.Resource) []*mock.Resource {
	var out []*mock.Resource
	eni, _ := r.Output("primaryNetworkInterfaceId")
	for _, e := range p.ofType(typeEIP) {
		if r.ID != "" && e.Str("instance") == r.ID || eni.IsString() && e.Str("networkInterface") == eni.StringValue() {
			out = append(out, e)
		}
	}
	return out
}

// subjects are the names an exception may target a resource by: its component's type token and, for a
// NAT instance, "nat-instance".
func (p *Plan) subjects(r *mock.Resource) []string {
	var out []string
	if c := component(r); c != "" {
		out = append(out, c)
	}
	if p.isNATInstance(r) {
		out = append(out, SubjectNATInstance)
	}
	return out
}

// SubjectNATInstance names a NAT instance in the exception table.
const SubjectNATInstance = "nat-instance"

// vpcTransformsDisablePublicIPs applies the Vpc's recorded resource transforms to a subnet the way awsx
// declares a public one and reports whether mapPublicIpOnLaunch ends up false.
func vpcTransformsDisablePublicIPs(v *mock.Resource) bool {
	props := pulumi.Map{"mapPublicIpOnLaunch": pulumi.Bool(true)}
	for _, tr := range v.Transforms {
		if tr == nil {
			continue
		}
		if res := tr(context.Background(), &pulumi.ResourceTransformArgs{Type: typeSubnet, Custom: true, Props: props}); res != nil {
			props = res.Props
		}
	}
	b, ok := props["mapPublicIpOnLaunch"].(pulumi.Bool)
	return ok && !bool(b)
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
