package insight

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/football/football-infra/internal/mock"
)

// Status is the outcome of a control, or of one resource under a control.
type Status string

// Statuses. A control fails when any finding fails without an exception; it is "exception" when every
// failure is excepted; "not applicable" when the plan has nothing it evaluates.
const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusException     Status = "exception"
	StatusNotApplicable Status = "not applicable"
)

// Finding is one resource's result under one control.
type Finding struct {
	// Resource is the logical name of the resource evaluated, Type its type token.
	Resource, Type string
	Pass           bool
	// Detail says what was found ("httpTokens is optional; want required").
	Detail string
	// res is the resource the finding is about (for exception subjects); rule the ingress rule, if any.
	res  *mock.Resource
	rule *ingress
}

// Control is one FSBP control and its rule over the plan.
type Control struct {
	// ID is Security Hub's ("EC2.9"), Title its control title.
	ID, Title string
	// Check evaluates the plan: one finding per resource the control applies to.
	Check func(p *Plan) []Finding
}

// Exception excuses a control's failures for one profile ("*" for every profile), optionally only for
// resources of one subject (a component type token, or SubjectNATInstance) and only where Match agrees.
type Exception struct {
	Control, Profile, Subject string
	// Scope says in words what Match admits ("" when it admits every failure of the subject).
	Scope string
	Match func(Finding) bool
	// When, if set, must hold for the plan: an exception an operator opts into in the stack config
	// applies only while the config says so.
	When func(*Plan) bool
	// Reason is why the failure is accepted; it is printed with the finding.
	Reason string
}

// Component type tokens exceptions refer to.
const (
	chatBastionType    = "football:compute:ChatBastion"
	apiTierType        = "football:compute:ApiTier"
	jumpHostType       = "football:compute:JumpHost"
	bootstrapStateType = "football:bootstrap:StateBackend"
)

// isBucket admits a finding about a bucket (not its policy or settings).
func isBucket(f Finding) bool {
	return f.res != nil && (f.res.Type == typeBucketV2 || f.res.Type == typeBucket)
}

// isAccessLogBucket admits the bootstrap's bucket for server access logs (named <project>-access-logs-...).
func isAccessLogBucket(f Finding) bool {
	return f.res != nil && strings.Contains(f.res.Str("bucket"), "-access-logs-")
}

// Exceptions are the accepted failures, keyed by (control, profile). Every one is printed with its reason
// wherever it applies; anything else that fails makes `-format guardrails` exit 1.
var Exceptions = []Exception{
	{Control: "EC2.9", Profile: "*", Subject: chatBastionType,
		Reason: "the chat server is the seed's bastion: the one public host, on an Elastic IP, for its own egress and for SSH where football:chat.sshCidrs lists addresses; without football:domain users also reach the chat on it directly, with a domain only through the load balancer (compute/chatbastion.go)"},
	{Control: "EC2.9", Profile: "*", Subject: jumpHostType,
		Reason: "the SSH jump host of a stack whose chat runs as a fleet: the one public host, on an Elastic IP, admitting SSH from football:chat.sshCidrs and nothing else; it exists only while sshCidrs lists networks (compute/jumphost.go)"},
	{Control: "EC2.9", Profile: ProfileDev, Subject: SubjectNATInstance,
		Reason: "a NAT instance needs a public address to forward the private subnets' traffic; dev only: prod refuses a NAT instance and uses NAT gateways"},
	{Control: "SSM.1", Profile: ProfileDev, Subject: SubjectNATInstance,
		Reason: "the NAT instance only forwards packets and takes no logins; without an instance profile it holds no AWS credentials on a public host; dev only: prod refuses a NAT instance and uses NAT gateways"},
	{Control: "EC2.18", Profile: "*", Subject: chatBastionType, Scope: "one TCP port other than SSH (22)",
		Match:  singleNonSSHPort,
		Reason: "the chat port is meant for everyone: it belongs in Security Hub's EC2.18 authorizedTcpPorts parameter; SSH is never covered"},
	{Control: "EC2.19", Profile: "*", Subject: chatBastionType, Scope: "the chat port: one TCP port other than SSH (22)",
		Match:  singleNonSSHPort,
		Reason: "users reach the chat port (default 8080, as the service's design sets it) from anywhere; 8080 is on Security Hub's high-risk list, so football:chat.chatPort: 443 clears this; SSH is never covered"},
	{Control: "EC2.18", Profile: "*", Subject: apiTierType, Scope: "the chat fleet's listener: one TCP port other than SSH (22)",
		Match: singleNonSSHPort, When: chatFleetListener,
		Reason: "with football:chat.mode fleet and no football:domain, users reach the chat on the load balancer's own listener on football:chat.chatPort (default 8443), which football:chat.chatCidrs opens (default: everyone); it belongs in EC2.18's authorizedTcpPorts; a domain moves the chat to 443 and this listener goes away"},
	{Control: "EC2.19", Profile: "*", Subject: apiTierType, Scope: "the chat fleet's listener: one TCP port other than SSH (22)",
		Match: singleNonSSHPort, When: chatFleetListener,
		Reason: "the chat fleet's listener port is meant for everyone (football:chat.chatPort); the default 8443 is not on Security Hub's high-risk list, a port that is (8080, 8888, ...) is accepted here only because the operator chose it"},
	{Control: "ELB.1", Profile: ProfileProd, When: allowsHTTPOnly,
		Reason: "football:api.allowHttpOnly is set in the stack config because a fresh account has no ACM certificate yet; set football:api.certificateArn and remove allowHttpOnly, and this exception stops applying"},
	{Control: "EC2.6", Profile: ProfileDev,
		Reason: "flow logs are off by default in dev to save CloudWatch Logs ingestion; prod's config check requires them (football:network.flowLogs.enabled)"},
	{Control: "ELB.1", Profile: ProfileDev,
		Reason: "dev may serve plain HTTP without a certificate; prod requires football:api.certificateArn (or an explicit allowHttpOnly)"},
	{Control: "ELB.16", Profile: ProfileDev,
		Reason: "the web ACL is off by default in dev to save its $5 a month plus $1 per rule (football:waf.enabled); on by default in prod"},
	{Control: "ELB.5", Profile: ProfileDev,
		Reason: "access logs are off by default in dev (football:api.accessLogs.enabled); on by default in prod"},
	{Control: "ELB.6", Profile: ProfileDev,
		Reason: "a dev load balancer must go with `pulumi destroy`; prod protects it by default (football:api.deletionProtection)"},
	{Control: "RDS.5", Profile: ProfileDev,
		Reason: "dev runs a Single-AZ database at half the price; prod defaults to Multi-AZ (football:data.db.multiAz)"},
	{Control: "RDS.8", Profile: ProfileDev,
		Reason: "dev databases are disposable; prod's config check keeps deletion protection on (football:data.db.deletionProtection)"},
	{Control: "RDS.11", Profile: ProfileDev,
		Reason: "dev keeps 1 day of backups; prod's config check requires at least 7 (football:data.db.backupRetentionDays)"},
	{Control: "ElastiCache.1", Profile: ProfileDev,
		Reason: "the dev cache holds only rebuildable data and takes no snapshots; prod requires at least 1 day (football:data.redis.snapshotRetentionDays)"},
	{Control: "S3.9", Profile: "*", Subject: bootstrapStateType, Scope: "the access-log bucket", Match: isAccessLogBucket,
		Reason: logBucketException + "; the state, trail and AWS Config buckets log to it (bootstrap/account/state.go)"},
	{Control: "S3.9", Profile: "*", Subject: apiTierType, Scope: "the load balancer's access-log bucket", Match: isBucket,
		Reason: logBucketException + "; the load balancer writes its access logs there (compute/apitier.go)"},
	{Control: "ElastiCache.3", Profile: ProfileDev,
		Reason: "dev runs one cache node with no replica to fail over to; prod requires a replica and automatic failover (football:data.redis.replicas)"},
}

// singleNonSSHPort admits a rule opening exactly one TCP port that is not SSH.
func singleNonSSHPort(f Finding) bool {
	return f.rule != nil && f.rule.Protocol == "tcp" && f.rule.From == f.rule.To && f.rule.From != 22
}

// chatFleetListener reports whether the stack runs the chat as a fleet reached on a listener of its own
// (mode fleet, no football:domain).
func chatFleetListener(p *Plan) bool { return p.ChatFleetListener }

// allowsHTTPOnly reports whether the stack config explicitly lets the API serve plain HTTP.
func allowsHTTPOnly(p *Plan) bool { return p.AllowHTTPOnly }

// Controls are the FSBP controls evaluated, in report order.
var Controls = []Control{
	{"EC2.2", "VPC default security groups should not allow inbound or outbound traffic", checkEC2_2},
	{"EC2.6", "VPC flow logging should be enabled in all VPCs", checkEC2_6},
	{"EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", checkEC2_8},
	{"EC2.9", "EC2 instances should not have a public IPv4 address", checkEC2_9},
	{"EC2.15", "EC2 subnets should not automatically assign public IP addresses", checkEC2_15},
	{"EC2.18", "Security groups should only allow unrestricted incoming traffic for authorized ports (80, 443)", checkEC2_18},
	{"EC2.19", "Security groups should not allow unrestricted access to ports with high risk", checkEC2_19},
	{"ELB.1", "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS", checkELB_1},
	{"ELB.4", "Application Load Balancer should be configured to drop invalid HTTP headers", checkELB_4},
	{"ELB.5", "Application and Classic Load Balancers logging should be enabled", checkELB_5},
	{"ELB.6", "Application, Gateway, and Network Load Balancers should have deletion protection enabled", checkELB_6},
	{"ELB.12", "Application Load Balancer should be configured with defensive or strictest desync mitigation mode", checkELB_12},
	{"ELB.16", "Application Load Balancers should be associated with an AWS WAF web ACL", checkELB_16},
	{"ELB.17", "Application and Network Load Balancers with listeners should use recommended security policies", checkELB_17},
	{"RDS.2", "RDS DB instances should prohibit public access", checkRDS_2},
	{"RDS.3", "RDS DB instances should have encryption at-rest enabled", checkRDS_3},
	{"RDS.5", "RDS DB instances should be configured with multiple Availability Zones", checkRDS_5},
	{"RDS.8", "RDS DB instances should have deletion protection enabled", checkRDS_8},
	{"RDS.11", "RDS instances should have automatic backups enabled (retention at least 7 days)", checkRDS_11},
	{"RDS.13", "RDS automatic minor version upgrades should be enabled", checkRDS_13},
	{"RDS.17", "RDS DB instances should be configured to copy tags to snapshots", checkRDS_17},
	{"RDS.25", "RDS database instances should use a custom administrator username", checkRDS_25},
	{"ElastiCache.1", "ElastiCache (Redis OSS) clusters should have automatic backups enabled", checkElastiCache_1},
	{"ElastiCache.2", "ElastiCache clusters should have automatic minor version upgrades enabled", checkElastiCache_2},
	{"ElastiCache.3", "ElastiCache replication groups should have automatic failover enabled", checkElastiCache_3},
	{"ElastiCache.4", "ElastiCache replication groups should be encrypted at rest", checkElastiCache_4},
	{"ElastiCache.5", "ElastiCache replication groups should be encrypted in transit", checkElastiCache_5},
	{"ElastiCache.7", "ElastiCache clusters should not use the default subnet group", checkElastiCache_7},
	{"ECR.1", "ECR private repositories should have image scanning configured", checkECR_1},
	{"ECR.2", "ECR private repositories should have tag immutability configured", checkECR_2},
	{"ECR.3", "ECR repositories should have at least one lifecycle policy configured", checkECR_3},
	{"WAF.10", "AWS WAF web ACLs should have at least one rule or rule group", checkWAF_10},
	{"WAF.11", "AWS WAF web ACL logging should be enabled", checkWAF_11},
	{"WAF.12", "AWS WAF rules should have CloudWatch metrics enabled", checkWAF_12},
	{"AutoScaling.1", "Auto Scaling groups associated with a load balancer should use ELB health checks", checkAutoScaling_1},
	{"AutoScaling.2", "Amazon EC2 Auto Scaling group should cover multiple Availability Zones", checkAutoScaling_2},
	{"AutoScaling.3", "Auto Scaling group launch configurations should configure EC2 instances to require IMDSv2", checkAutoScaling_3},
	{"SSM.1", "Amazon EC2 instances should be managed by AWS Systems Manager", checkSSM_1},
	// Account level (internal/insight/account.go): what the bootstrap creates, and the stacks' buckets and keys.
	{"S3.1", "S3 general purpose buckets should have block public access settings enabled (account level)", checkS3_1},
	{"S3.5", "S3 general purpose buckets should require requests to use SSL", checkS3_5},
	{"S3.8", "S3 general purpose buckets should block public access", checkS3_8},
	{"S3.9", "S3 general purpose buckets should have server access logging enabled", checkS3_9},
	{"S3.13", "S3 general purpose buckets should have Lifecycle configurations", checkS3_13},
	{"KMS.4", "AWS KMS key rotation should be enabled", checkKMS_4},
	{"CloudTrail.1", "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events", checkCloudTrail_1},
	{"CloudTrail.2", "CloudTrail should have encryption at-rest enabled", checkCloudTrail_2},
	{"CloudTrail.4", "CloudTrail log file validation should be enabled", checkCloudTrail_4},
	{"CloudTrail.5", "CloudTrail trails should be integrated with Amazon CloudWatch Logs", checkCloudTrail_5},
	{"IAM.1", "IAM policies should not allow full \"*\" administrative privileges", checkIAM_1},
	{"IAM.21", "IAM customer managed policies that you create should not allow wildcard actions for services", checkIAM_21},
	{"EC2.7", "EBS default encryption should be enabled", checkEC2_7},
	{"GuardDuty.1", "GuardDuty should be enabled", checkGuardDuty_1},
	{"Config.1", "AWS Config should be enabled and use the service-linked role for resource recording", checkConfig_1},
}

// find builds a finding about r.
func find(r *mock.Resource, pass bool, format string, args ...any) Finding {
	return Finding{Resource: r.Name, Type: r.Type, Pass: pass, Detail: fmt.Sprintf(format, args...), res: r}
}

// each applies a per-resource rule to every resource of a type.
func each(p *Plan, typ string, rule func(r *mock.Resource) Finding) []Finding {
	var out []Finding
	for _, r := range p.ofType(typ) {
		out = append(out, rule(r))
	}
	return out
}

// boolRule is the common shape "input must be want"; unset means the AWS default def.
func boolRule(p *Plan, typ, path string, want, def bool) []Finding {
	return each(p, typ, func(r *mock.Resource) Finding {
		v, set := r.Bool(path)
		if !set {
			return find(r, def == want, "%s not set (AWS default %t); want %t", path, def, want)
		}
		return find(r, v == want, "%s is %t; want %t", path, v, want)
	})
}

// truthy reads a boolean that providers sometimes take as a string ("true").
func truthy(v resource.PropertyValue, ok bool) bool {
	switch {
	case !ok:
		return false
	case v.IsBool():
		return v.BoolValue()
	case v.IsString():
		return v.StringValue() == "true"
	}
	return false
}

// vpcID is a VPC's ID as other resources reference it.
func vpcID(r *mock.Resource) string {
	if r.Type == typeVpc {
		return outputStr(r, "vpcId")
	}
	return r.ID
}

func (p *Plan) vpcResources() []*mock.Resource {
	return append(p.ofType(typeVpc), p.ofType("aws:ec2/vpc:Vpc")...)
}

func checkEC2_2(p *Plan) []Finding {
	var out []Finding
	for _, v := range p.vpcResources() {
		var dsg *mock.Resource
		for _, d := range p.ofType(typeDefaultSG) {
			if id := vpcID(v); id != "" && d.Str("vpcId") == id {
				dsg = d
			}
		}
		if dsg == nil {
			out = append(out, find(v, false, "the VPC's default security group is not managed; AWS's default admits all traffic between its members and all egress"))
			continue
		}
		_, in := dsg.Input("ingress[0]")
		_, eg := dsg.Input("egress[0]")
		out = append(out, find(dsg, !in && !eg, "default security group of %s has %s", v.Name, map[bool]string{true: "rules", false: "no rules"}[in || eg]))
	}
	return out
}

func checkEC2_6(p *Plan) []Finding {
	var out []Finding
	for _, v := range p.vpcResources() {
		var logs []string
		for _, fl := range p.ofType(typeFlowLog) {
			if id := vpcID(v); id != "" && fl.Str("vpcId") == id {
				logs = append(logs, fl.Name)
			}
		}
		if len(logs) == 0 {
			out = append(out, find(v, false, "no flow log records this VPC"))
		} else {
			out = append(out, find(v, true, "flow log %s", strings.Join(logs, ", ")))
		}
	}
	return out
}

// computeSubjects are the instances and Auto Scaling groups: what launches EC2 instances.
func (p *Plan) computeSubjects() []*mock.Resource {
	return append(p.ofType(typeInstance), p.ofType(typeASG)...)
}

func imdsv2(p *Plan, r *mock.Resource) Finding {
	tokens := p.effectiveStr(r, "metadataOptions.httpTokens")
	if tokens == "" {
		return find(r, false, "metadataOptions.httpTokens not set (the AMI's default may allow IMDSv1); want required")
	}
	return find(r, tokens == "required", "metadataOptions.httpTokens is %s; want required", tokens)
}

func checkEC2_8(p *Plan) []Finding {
	var out []Finding
	for _, r := range p.computeSubjects() {
		out = append(out, imdsv2(p, r))
	}
	return out
}

func checkEC2_9(p *Plan) []Finding {
	var out []Finding
	for _, r := range p.computeSubjects() {
		var why []string
		for _, e := range p.eipsOf(r) {
			why = append(why, "Elastic IP "+e.Name)
		}
		if truthy(r.Input("associatePublicIpAddress")) {
			why = append(why, "associatePublicIpAddress")
		}
		for i := 0; ; i++ {
			v, ok := p.effective(r, indexPath("networkInterfaces", i))
			if !ok {
				break
			}
			if truthy(mock.Lookup(v, "associatePublicIpAddress")) {
				why = append(why, "launch template network interface associates a public IP")
			}
		}
		if len(why) > 0 {
			out = append(out, find(r, false, "public IPv4: %s", strings.Join(why, ", ")))
		} else {
			out = append(out, find(r, true, "no public IPv4 address"))
		}
	}
	return out
}

func checkEC2_15(p *Plan) []Finding {
	var out []Finding
	for _, v := range p.vpcs() {
		public := false
		for _, s := range v.Subnets {
			public = public || s.Kind == "Public"
		}
		switch {
		case !public:
			out = append(out, find(v.res, true, "no public subnets"))
		case vpcTransformsDisablePublicIPs(v.res):
			out = append(out, find(v.res, true, "a transform sets mapPublicIpOnLaunch false on awsx's subnets"))
		default:
			out = append(out, find(v.res, false, "awsx sets mapPublicIpOnLaunch true on public subnets and no transform turns it off"))
		}
	}
	out = append(out, each(p, typeSubnet, func(r *mock.Resource) Finding {
		on, _ := r.Bool("mapPublicIpOnLaunch")
		return find(r, !on, "mapPublicIpOnLaunch is %t", on)
	})...)
	return out
}

// worldRules are the ingress rules open to 0.0.0.0/0 or ::/0, as findings about the group they open.
func (p *Plan) worldRules(pass func(in ingress) (bool, string)) []Finding {
	var out []Finding
	for _, in := range p.ingressRules() {
		if !in.world() {
			continue
		}
		ok, detail := pass(in)
		f := find(in.res, ok, "%s from %s: %s", in.ports(), strings.Join(in.CIDRs, ", "), detail)
		rule := in
		f.rule = &rule
		out = append(out, f)
	}
	return out
}

func checkEC2_18(p *Plan) []Finding {
	return p.worldRules(func(in ingress) (bool, string) {
		if in.Protocol == "tcp" && in.From == in.To && (in.From == 80 || in.From == 443) {
			return true, "authorized port"
		}
		return false, "not an authorized port (80, 443)"
	})
}

// highRiskPorts are the ports EC2.19 refuses to the world (Security Hub control reference).
var highRiskPorts = []int{20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300}

func checkEC2_19(p *Plan) []Finding {
	return p.worldRules(func(in ingress) (bool, string) {
		var hit []string
		for _, port := range highRiskPorts {
			if in.covers(port) {
				hit = append(hit, strconv.Itoa(port))
			}
		}
		if len(hit) > 0 {
			return false, "opens high-risk port(s) " + strings.Join(hit, ", ")
		}
		return true, "no high-risk port"
	})
}

// albs are the application load balancers (loadBalancerType unset means application).
func (p *Plan) albs() []*mock.Resource {
	var out []*mock.Resource
	for _, r := range p.ofType(typeLoadBalancer) {
		if t := r.Str("loadBalancerType"); t == "" || t == "application" {
			out = append(out, r)
		}
	}
	return out
}

// listeners are the listeners of a load balancer.
func (p *Plan) listeners(lb *mock.Resource) []*mock.Resource {
	arn := outputStr(lb, "arn")
	var out []*mock.Resource
	for _, l := range p.ofType(typeListener) {
		if a := l.Str("loadBalancerArn"); a != "" && (a == arn || a == lb.ID) {
			out = append(out, l)
		}
	}
	return out
}

func checkELB_1(p *Plan) []Finding {
	var out []Finding
	for _, lb := range p.albs() {
		var bad []string
		for _, l := range p.listeners(lb) {
			if l.Str("protocol") != "HTTP" {
				continue
			}
			for i := 0; ; i++ {
				at := indexPath("defaultActions", i)
				typ := l.Str(at + ".type")
				if typ == "" {
					break
				}
				if typ != "redirect" || l.Str(at+".redirect.protocol") != "HTTPS" {
					bad = append(bad, fmt.Sprintf("%s (port %g) %s", l.Name, num(l, "port"), typ))
				}
			}
		}
		if len(bad) > 0 {
			out = append(out, find(lb, false, "HTTP listener does not redirect to HTTPS: %s", strings.Join(bad, "; ")))
		} else {
			out = append(out, find(lb, true, "every HTTP listener redirects to HTTPS"))
		}
	}
	return out
}

func checkELB_4(p *Plan) []Finding {
	return albBool(p, "dropInvalidHeaderFields", false)
}

func checkELB_5(p *Plan) []Finding {
	var out []Finding
	for _, lb := range p.albs() {
		on, _ := lb.Bool("accessLogs.enabled")
		bucket := lb.Str("accessLogs.bucket")
		out = append(out, find(lb, on && bucket != "", "accessLogs.enabled %t, bucket %q", on, bucket))
	}
	return out
}

func checkELB_6(p *Plan) []Finding {
	var out []Finding
	for _, lb := range p.ofType(typeLoadBalancer) {
		on, _ := lb.Bool("enableDeletionProtection")
		out = append(out, find(lb, on, "enableDeletionProtection is %t; want true", on))
	}
	return out
}

func albBool(p *Plan, path string, def bool) []Finding {
	var out []Finding
	for _, lb := range p.albs() {
		v, set := lb.Bool(path)
		if !set {
			v = def
		}
		out = append(out, find(lb, v, "%s is %t (set: %t); want true", path, v, set))
	}
	return out
}

func checkELB_12(p *Plan) []Finding {
	var out []Finding
	for _, lb := range p.albs() {
		mode := orDefault(lb.Str("desyncMitigationMode"), "defensive")
		out = append(out, find(lb, mode == "defensive" || mode == "strictest", "desyncMitigationMode is %s; want defensive or strictest", mode))
	}
	return out
}

// acceptedSSLPolicies are the policies ELB.17 is documented to accept (turbot/steampipe-mod-aws-compliance,
// foundational_security_elb_17.md).
// ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 is AWS's current recommendation but its acceptance by the
// control is not verified, so it is reported as failing until it is.
var acceptedSSLPolicies = []string{
	"ELBSecurityPolicy-TLS13-1-2-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
	"ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
}

func checkELB_17(p *Plan) []Finding {
	var out []Finding
	for _, l := range p.ofType(typeListener) {
		if proto := l.Str("protocol"); proto != "HTTPS" && proto != "TLS" {
			continue
		}
		policy := l.Str("sslPolicy")
		if policy == "" {
			out = append(out, find(l, false, "sslPolicy not set (AWS default ELBSecurityPolicy-2016-08); want one of %s", strings.Join(acceptedSSLPolicies[:3], ", ")))
			continue
		}
		out = append(out, find(l, slices.Contains(acceptedSSLPolicies, policy), "sslPolicy is %s", policy))
	}
	return out
}

func checkRDS_2(p *Plan) []Finding {
	return each(p, typeRDSInstance, func(r *mock.Resource) Finding {
		public, _ := r.Bool("publiclyAccessible")
		return find(r, !public, "publiclyAccessible is %t", public)
	})
}

func checkRDS_3(p *Plan) []Finding {
	return boolRule(p, typeRDSInstance, "storageEncrypted", true, false)
}

func checkRDS_5(p *Plan) []Finding { return boolRule(p, typeRDSInstance, "multiAz", true, false) }

func checkRDS_8(p *Plan) []Finding {
	return boolRule(p, typeRDSInstance, "deletionProtection", true, false)
}

func checkRDS_11(p *Plan) []Finding {
	return each(p, typeRDSInstance, func(r *mock.Resource) Finding {
		days, set := r.Num("backupRetentionPeriod")
		if !set {
			return find(r, false, "backupRetentionPeriod not set (API default 1 day); want at least 7")
		}
		return find(r, days >= 7, "backupRetentionPeriod is %g days; want at least 7", days)
	})
}

func checkRDS_13(p *Plan) []Finding {
	return boolRule(p, typeRDSInstance, "autoMinorVersionUpgrade", true, true)
}

func checkRDS_17(p *Plan) []Finding {
	return boolRule(p, typeRDSInstance, "copyTagsToSnapshot", true, false)
}

func checkRDS_25(p *Plan) []Finding {
	return each(p, typeRDSInstance, func(r *mock.Resource) Finding {
		user := r.Str("username")
		if user == "" {
			return find(r, false, "username not set; want a custom administrator name")
		}
		return find(r, user != "admin" && user != "postgres", "username is %q; admin and postgres are the engines' defaults", user)
	})
}

func checkElastiCache_1(p *Plan) []Finding {
	return each(p, typeReplGroup, func(r *mock.Resource) Finding {
		days, _ := r.Num("snapshotRetentionLimit")
		return find(r, days >= 1, "snapshotRetentionLimit is %g days; want at least 1", days)
	})
}

func checkElastiCache_2(p *Plan) []Finding {
	return boolRule(p, typeReplGroup, "autoMinorVersionUpgrade", true, true)
}

func checkElastiCache_3(p *Plan) []Finding {
	return boolRule(p, typeReplGroup, "automaticFailoverEnabled", true, false)
}

func checkElastiCache_4(p *Plan) []Finding {
	return boolRule(p, typeReplGroup, "atRestEncryptionEnabled", true, false)
}

func checkElastiCache_5(p *Plan) []Finding {
	return boolRule(p, typeReplGroup, "transitEncryptionEnabled", true, false)
}

func checkElastiCache_7(p *Plan) []Finding {
	return each(p, typeReplGroup, func(r *mock.Resource) Finding {
		g := r.Str("subnetGroupName")
		return find(r, g != "" && g != "default", "subnetGroupName is %q; want a subnet group of its own", g)
	})
}

func checkAutoScaling_1(p *Plan) []Finding {
	var out []Finding
	for _, r := range p.ofType(typeASG) {
		_, tg := r.Input("targetGroupArns[0]")
		_, clb := r.Input("loadBalancers[0]")
		_, ts := r.Input("trafficSources[0]")
		if !tg && !clb && !ts {
			continue // not behind a load balancer: the control does not apply
		}
		hc := r.Str("healthCheckType")
		out = append(out, find(r, strings.Contains(hc, "ELB"), "healthCheckType is %q; want ELB", orDefault(hc, "EC2 (default)")))
	}
	return out
}

func checkAutoScaling_2(p *Plan) []Finding {
	index := subnetIndex(p.vpcs())
	return each(p, typeASG, func(r *mock.Resource) Finding {
		azs := r.Strs("availabilityZones")
		unknown := 0
		for _, id := range r.Strs("vpcZoneIdentifiers") {
			if s, ok := index[id]; ok {
				azs = append(azs, s.AZ)
			} else {
				unknown++
			}
		}
		azs = dedupe(azs)
		if unknown > 0 {
			return find(r, len(azs) >= 2, "spans %d known AZ(s) (%s); %d subnet(s) not in the plan", len(azs), strings.Join(azs, ", "), unknown)
		}
		return find(r, len(azs) >= 2, "spans %d AZ(s): %s", len(azs), strings.Join(azs, ", "))
	})
}

func checkAutoScaling_3(p *Plan) []Finding {
	var out []Finding
	for _, r := range p.ofType(typeASG) {
		out = append(out, imdsv2(p, r))
	}
	return out
}

func checkSSM_1(p *Plan) []Finding {
	var out []Finding
	for _, r := range p.computeSubjects() {
		ref := r.Str("iamInstanceProfile")
		if ref == "" {
			ref = p.effectiveStr(r, "iamInstanceProfile.arn")
		}
		if ref == "" {
			ref = p.effectiveStr(r, "iamInstanceProfile.name")
		}
		if ref == "" {
			out = append(out, find(r, false, "no instance profile: the SSM agent cannot register"))
			continue
		}
		var prof *mock.Resource
		for _, ip := range p.ofType(typeInstanceProf) {
			if ref == ip.ID || ref == outputStr(ip, "arn") || ref == outputStr(ip, "name") {
				prof = ip
			}
		}
		if prof == nil {
			out = append(out, find(r, false, "instance profile %s is not in the plan; cannot see AmazonSSMManagedInstanceCore", ref))
			continue
		}
		role, ssm := prof.Str("role"), false
		for _, a := range p.ofType(typeRoleAttachment) {
			ssm = ssm || a.Str("role") == role && strings.HasSuffix(a.Str("policyArn"), "/AmazonSSMManagedInstanceCore")
		}
		out = append(out, find(r, ssm, "instance profile %s, role %s: AmazonSSMManagedInstanceCore attached %t", prof.Name, role, ssm))
	}
	return out
}

func num(r *mock.Resource, path string) float64 {
	v, _ := r.Num(path)
	return v
}

// Judged is a finding with its final status and, when excepted, the reason.
type Judged struct {
	Finding
	Status Status
	Reason string
}

// Result is one control's outcome on one plan.
type Result struct {
	Control  Control
	Status   Status
	Findings []Judged
}

// Report is every control's outcome on one plan.
type Report struct {
	Stack, Profile, Region string
	Results                []Result
}

// exceptionFor returns the exception covering a failed finding under the plan's profile, or nil.
func exceptionFor(p *Plan, control string, f Finding, table []Exception) *Exception {
	for i, e := range table {
		if e.Control != control || (e.Profile != "*" && e.Profile != p.Profile) {
			continue
		}
		if e.Subject != "" && (f.res == nil || !slices.Contains(p.subjects(f.res), e.Subject)) {
			continue
		}
		if e.Match != nil && !e.Match(f) {
			continue
		}
		if e.When != nil && !e.When(p) {
			continue
		}
		return &table[i]
	}
	return nil
}

// Evaluate runs every control on the plan and applies the exception table.
func Evaluate(p *Plan) *Report { return evaluate(p, Controls, Exceptions) }

func evaluate(p *Plan, controls []Control, table []Exception) *Report {
	rep := &Report{Stack: p.Stack, Profile: p.Profile, Region: p.Region}
	for _, c := range controls {
		res := Result{Control: c, Status: StatusNotApplicable}
		for _, f := range c.Check(p) {
			j := Judged{Finding: f, Status: StatusPass}
			if !f.Pass {
				j.Status = StatusFail
				if e := exceptionFor(p, c.ID, f, table); e != nil {
					j.Status, j.Reason = StatusException, e.Reason
				}
			}
			res.Findings = append(res.Findings, j)
			res.Status = worse(res.Status, j.Status)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// worse orders statuses: fail > exception > pass > not applicable.
func worse(a, b Status) Status {
	rank := map[Status]int{StatusNotApplicable: 0, StatusPass: 1, StatusException: 2, StatusFail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Failed lists the controls with a failure no exception covers.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == StatusFail {
			out = append(out, res)
		}
	}
	return out
}

// Count returns how many controls ended in each status.
func (r *Report) Count() map[Status]int {
	out := map[Status]int{}
	for _, res := range r.Results {
		out[res.Status]++
	}
	return out
}

// Summary is "25 pass, 1 fail, 4 exception, 1 not applicable".
func (r *Report) Summary() string {
	c := r.Count()
	return fmt.Sprintf("%d pass, %d fail, %d exception, %d not applicable",
		c[StatusPass], c[StatusFail], c[StatusException], c[StatusNotApplicable])
}

// WriteText prints every control with its findings, then the summary and the failures.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "FSBP guardrails for stack %s (profile %s, %s), evaluated on the planned inputs\n\n", r.Stack, orDefault(r.Profile, "none: an account stack"), r.Region)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tSTATUS\tRESOURCE\tDETAIL")
	for _, res := range r.Results {
		if len(res.Findings) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\tno %s in the plan\n", res.Control.ID, res.Status, subjectOf(res.Control.ID))
			continue
		}
		for _, f := range res.Findings {
			detail := f.Detail
			if f.Reason != "" {
				detail += " — excepted: " + f.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Control.ID, f.Status, f.Resource, detail)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	for _, res := range r.Failed() {
		for _, f := range res.Findings {
			if f.Status == StatusFail {
				fmt.Fprintf(&b, "FAIL %s (%s): %s: %s\n", res.Control.ID, res.Control.Title, f.Resource, f.Detail)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// subjectOf says what a control evaluates, for "not applicable" lines.
func subjectOf(id string) string {
	switch {
	case strings.HasPrefix(id, "ELB.17"):
		return "HTTPS or TLS listener"
	case strings.HasPrefix(id, "ELB."):
		return "load balancer"
	case strings.HasPrefix(id, "RDS."):
		return "RDS instance"
	case strings.HasPrefix(id, "ElastiCache."):
		return "ElastiCache replication group"
	case strings.HasPrefix(id, "WAF."):
		return "WAF web ACL"
	case strings.HasPrefix(id, "ECR."):
		return "ECR repository the stack owns"
	case id == "AutoScaling.1":
		return "Auto Scaling group behind a load balancer"
	case strings.HasPrefix(id, "AutoScaling."):
		return "Auto Scaling group"
	case id == "EC2.18" || id == "EC2.19":
		return "ingress rule open to 0.0.0.0/0 or ::/0"
	case id == "EC2.2" || id == "EC2.6" || id == "EC2.15":
		return "VPC"
	case id == "S3.1":
		return "account public access block (bootstrap)"
	case strings.HasPrefix(id, "S3."):
		return "S3 bucket"
	case strings.HasPrefix(id, "KMS."):
		return "KMS key"
	case strings.HasPrefix(id, "CloudTrail."):
		return "trail (bootstrap)"
	case strings.HasPrefix(id, "IAM."):
		return "customer managed IAM policy"
	case id == "EC2.7":
		return "EBS encryption-by-default setting (bootstrap)"
	case strings.HasPrefix(id, "GuardDuty."):
		return "GuardDuty detector (bootstrap)"
	case strings.HasPrefix(id, "Config."):
		return "AWS Config recorder (bootstrap)"
	}
	return "EC2 instance or Auto Scaling group"
}

const (
	typeWebACL            = "aws:wafv2/webAcl:WebAcl"
	typeWebACLAssociation = "aws:wafv2/webAclAssociation:WebAclAssociation"
	typeWebACLLogging     = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
)

func checkELB_16(p *Plan) []Finding {
	return each(p, typeLoadBalancer, func(r *mock.Resource) Finding {
		arn := outputStr(r, "arn")
		for _, a := range p.ofType(typeWebACLAssociation) {
			if a.Str("resourceArn") == arn {
				return find(r, true, "web ACL association %s", a.Name)
			}
		}
		return find(r, false, "no web ACL is associated with %s", arn)
	})
}

func checkWAF_10(p *Plan) []Finding {
	return each(p, typeWebACL, func(r *mock.Resource) Finding {
		rules, _ := r.Input("rules")
		n := 0
		if rules.IsArray() {
			n = len(rules.ArrayValue())
		}
		return find(r, n > 0, "%d rule(s)", n)
	})
}

func checkWAF_11(p *Plan) []Finding {
	return each(p, typeWebACL, func(r *mock.Resource) Finding {
		arn := outputStr(r, "arn")
		for _, l := range p.ofType(typeWebACLLogging) {
			if l.Str("resourceArn") == arn && len(l.Strs("logDestinationConfigs")) > 0 {
				return find(r, true, "logging configuration %s to %v", l.Name, l.Strs("logDestinationConfigs"))
			}
		}
		return find(r, false, "no logging configuration names %s", arn)
	})
}

func checkWAF_12(p *Plan) []Finding {
	return each(p, typeWebACL, func(r *mock.Resource) Finding {
		var off []string
		if on, _ := r.Bool("visibilityConfig.cloudwatchMetricsEnabled"); !on {
			off = append(off, "the web ACL")
		}
		rules, _ := r.Input("rules")
		if rules.IsArray() {
			for _, rule := range rules.ArrayValue() {
				name, _ := mock.Lookup(rule, "name")
				on, _ := mock.Lookup(rule, "visibilityConfig.cloudwatchMetricsEnabled")
				if !on.IsBool() || !on.BoolValue() {
					off = append(off, name.StringValue())
				}
			}
		}
		return find(r, len(off) == 0, "CloudWatch metrics off for %v", off)
	})
}

const (
	typeRepository      = "aws:ecr/repository:Repository"
	typeLifecyclePolicy = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
)

func checkECR_1(p *Plan) []Finding {
	return each(p, typeRepository, func(r *mock.Resource) Finding {
		on, _ := r.Bool("imageScanningConfiguration.scanOnPush")
		return find(r, on, "imageScanningConfiguration.scanOnPush is %t; want true", on)
	})
}

func checkECR_2(p *Plan) []Finding {
	return each(p, typeRepository, func(r *mock.Resource) Finding {
		m := r.Str("imageTagMutability")
		if m == "" {
			m = "MUTABLE (AWS default)"
		}
		return find(r, m == "IMMUTABLE", "imageTagMutability is %s; want IMMUTABLE", m)
	})
}

func checkECR_3(p *Plan) []Finding {
	return each(p, typeRepository, func(r *mock.Resource) Finding {
		name := outputStr(r, "name")
		for _, lc := range p.ofType(typeLifecyclePolicy) {
			if lc.Str("repository") == name {
				return find(r, true, "lifecycle policy %s", lc.Name)
			}
		}
		return find(r, false, "no lifecycle policy names repository %s", name)
	})
}
