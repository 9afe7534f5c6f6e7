package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

const apiTierType = "football:compute:ApiTier"

// apiSection is the config key APISettings is decoded from; validation messages name paths under it.
const apiSection = "football:api"

// Scaling metrics.
const (
	// ScaleOnCPU tracks the group's average CPU utilisation (percent).
	ScaleOnCPU = "cpu"
	// ScaleOnRequests tracks ALB requests per target (per minute).
	ScaleOnRequests = "requests"
)

// sslPolicies are the ALB TLS policies Security Hub accepts (FSBP ELB.17), plus AWS's current
// post-quantum recommendation.
var sslPolicies = []string{
	"ELBSecurityPolicy-TLS13-1-2-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
	"ELBSecurityPolicy-TLS13-1-3-2021-06",
	"ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
}

// APISettings is the football:api config section. Zero values mean "use the default".
type APISettings struct {
	// Profile is "dev" or "prod", set by the stack; it picks the defaults.
	Profile string `json:"-"`
	// Region is the stack's AWS region, set by the stack from aws:region.
	Region string `json:"-"`

	// InstanceType is the API servers' EC2 type. Optional; default dev t4g.micro, prod t4g.small; allowed
	// the families and sizes UbuntuImage knows (t3, t3a, t4g, m6i, m7i, m7g, c7g, c7i, ...).
	InstanceType string `json:"instanceType,omitempty"`
	// AppPort is the port the app listens on behind the load balancer. Optional; default 8080; allowed
	// 1024..65535 (the app runs unprivileged; the load balancer owns 80 and 443; 22 is SSH).
	AppPort int `json:"appPort,omitempty"`
	// HealthCheckPath is what the load balancer requests to judge a server healthy (HTTP 200). Optional;
	// default /health; allowed a path starting with / of letters, digits and . _ ~ / -, at most 1024 characters.
	HealthCheckPath string `json:"healthCheckPath,omitempty"`
	// Min, Max and Desired size the Auto Scaling group. Optional; default dev 1/2/1, prod 2/6/2; allowed
	// 1 <= min <= desired <= max <= 100, and min >= 2 in prod. Desired is the size at creation only:
	// afterwards the scaling policy owns it, so an update never shrinks a group that scaled out.
	Min     int `json:"min,omitempty"`
	Max     int `json:"max,omitempty"`
	Desired int `json:"desired,omitempty"`
	// CertificateARN is an ACM certificate in the stack's region for the HTTPS listener; with it, port 80
	// only redirects to 443 (FSBP ELB.1). Optional in dev; required in prod unless allowHttpOnly; allowed
	// arn:<partition>:acm:<stack region>:<12-digit account>:certificate/<id>.
	CertificateARN string `json:"certificateArn,omitempty"`
	// SSLPolicy is the HTTPS listener's TLS policy. Optional; default ELBSecurityPolicy-TLS13-1-2-2021-06;
	// allowed ELBSecurityPolicy-TLS13-1-2-2021-06, -TLS13-1-2-Res-2021-06, -TLS13-1-3-2021-06,
	// -TLS13-1-2-Res-PQ-2025-09.
	SSLPolicy string `json:"sslPolicy,omitempty"`
	// ManagedCertificate tells that the stack issues the certificate itself (football:domain), set by the
	// stack; certificateArn must then stay empty.
	ManagedCertificate bool `json:"-"`
	// AllowHTTPOnly lets a prod stack run without certificateArn (plain HTTP on port 80). Optional;
	// default false.
	AllowHTTPOnly bool `json:"allowHttpOnly,omitempty"`
	// IdleTimeout closes idle connections at the load balancer. Optional; default 60; allowed 1..4000 (seconds).
	IdleTimeout int `json:"idleTimeout,omitempty"`
	// DeletionProtection stops the load balancer from being deleted (FSBP ELB.6). Optional; default dev
	// false, prod true.
	DeletionProtection *bool `json:"deletionProtection,omitempty"`
	// AccessLogs configures the load balancer's access logs (FSBP ELB.5).
	AccessLogs AccessLogSettings `json:"accessLogs"`
	// Scaling configures the target-tracking scaling policy.
	Scaling ScalingSettings `json:"scaling"`
	// KeyName is the EC2 key pair installed for the ubuntu user (SSH through the bastion). Optional;
	// default none (Session Manager only).
	KeyName string `json:"keyName,omitempty"`
	// RootVolumeGiB is the encrypted gp3 root volume's size. Optional; default 16; allowed 8..1024 (GiB).
	RootVolumeGiB int `json:"rootVolumeGiB,omitempty"`
	// ReleaseSettings: release, repository, releasesKept.
	ReleaseSettings
}

// AccessLogSettings is football:api.accessLogs.
type AccessLogSettings struct {
	// Enabled writes access logs to a private, encrypted S3 bucket created for them. Optional; default
	// dev false, prod true.
	Enabled *bool `json:"enabled,omitempty"`
	// RetentionDays expires log objects. Optional; default 90; allowed 1..3650 (days).
	RetentionDays int `json:"retentionDays,omitempty"`
}

// ScalingSettings is football:api.scaling.
type ScalingSettings struct {
	// Metric is what the policy tracks. Optional; default cpu; allowed cpu (average CPU percent),
	// requests (ALB requests per target per minute).
	Metric string `json:"metric,omitempty"`
	// Target is the metric's target value. Optional; default 50 for cpu, 1000 for requests; allowed
	// 10..90 for cpu, 1..100000 for requests.
	Target float64 `json:"target,omitempty"`
}

// WithDefaults returns s with every unset field filled for its profile.
func (s APISettings) WithDefaults() APISettings {
	prod := s.Profile == profileProd
	if s.InstanceType == "" {
		s.InstanceType = map[bool]string{true: "t4g.small", false: "t4g.micro"}[prod]
	}
	if s.AppPort == 0 {
		s.AppPort = 8080
	}
	if s.HealthCheckPath == "" {
		s.HealthCheckPath = "/health"
	}
	if s.Min == 0 {
		s.Min = map[bool]int{true: 2, false: 1}[prod]
	}
	if s.Max == 0 {
		s.Max = map[bool]int{true: 6, false: 2}[prod]
	}
	if s.Desired == 0 {
		s.Desired = map[bool]int{true: 2, false: 1}[prod]
	}
	if s.SSLPolicy == "" {
		s.SSLPolicy = sslPolicies[0]
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = 60
	}
	if s.DeletionProtection == nil {
		on := prod
		s.DeletionProtection = &on
	}
	if s.AccessLogs.Enabled == nil {
		on := prod
		s.AccessLogs.Enabled = &on
	}
	if s.AccessLogs.RetentionDays == 0 {
		s.AccessLogs.RetentionDays = 90
	}
	if s.Scaling.Metric == "" {
		s.Scaling.Metric = ScaleOnCPU
	}
	if s.Scaling.Target == 0 {
		s.Scaling.Target = map[bool]float64{true: 50, false: 1000}[s.Scaling.Metric == ScaleOnCPU]
	}
	if s.RootVolumeGiB == 0 {
		s.RootVolumeGiB = 16
	}
	s.ReleaseSettings = s.ReleaseSettings.withDefaults()
	return s
}

var (
	healthPath     = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)
	certificateARN = regexp.MustCompile(`^arn:(aws[a-z-]*):acm:([a-z0-9-]+):([0-9]{12}):certificate/[A-Za-z0-9-]+$`)
)

// Validate reports every problem of s (defaults applied) at once, each naming its config path, the bad
// value and what is allowed.
func (s APISettings) Validate() error {
	p := &problems{section: apiSection}
	p.profile(s.Profile)
	p.region(s.Region)
	prod := s.Profile == profileProd
	p.instanceType("instanceType", s.InstanceType)
	switch {
	case s.AppPort < 1 || s.AppPort > 65535:
		p.fail("appPort", s.AppPort, "allowed 1024..65535")
	case s.AppPort == 22 || s.AppPort == 80 || s.AppPort == 443:
		p.fail("appPort", s.AppPort, "22 is SSH and 80/443 are the load balancer's; allowed 1024..65535")
	case s.AppPort < 1024:
		p.fail("appPort", s.AppPort, "the app runs unprivileged and cannot bind it; allowed 1024..65535")
	}
	if !healthPath.MatchString(s.HealthCheckPath) || len(s.HealthCheckPath) > 1024 {
		p.fail("healthCheckPath", s.HealthCheckPath, "must start with / and use only letters, digits and . _ ~ / - (at most 1024 characters)")
	}

	if s.Min < 1 {
		p.fail("min", s.Min, "allowed 1..100")
	} else if prod && s.Min < 2 {
		p.fail("min", s.Min, "prod runs at least 2 servers, so losing one AZ or one server does not stop the API")
	}
	if s.Max < 1 || s.Max > 100 {
		p.fail("max", s.Max, "allowed 1..100")
	}
	if s.Min > s.Desired {
		p.fail("min", s.Min, fmt.Sprintf("must be <= desired (%d)", s.Desired))
	}
	if s.Desired > s.Max {
		p.fail("desired", s.Desired, fmt.Sprintf("must be <= max (%d)", s.Max))
	}

	if s.CertificateARN != "" {
		if m := certificateARN.FindStringSubmatch(s.CertificateARN); m == nil {
			p.fail("certificateArn", s.CertificateARN, "must be an ACM certificate ARN: arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>")
		} else if s.Region != "" && m[2] != s.Region {
			p.fail("certificateArn", s.CertificateARN, fmt.Sprintf("the certificate is in %s; a load balancer uses ACM certificates of its own region %s", m[2], s.Region))
		} else if s.Region != "" && m[1] != awsfacts.Partition(s.Region) {
			p.fail("certificateArn", s.CertificateARN, fmt.Sprintf("the ARN's partition is %s; %s is in partition %s", m[1], s.Region, awsfacts.Partition(s.Region)))
		}
	} else if prod && !s.AllowHTTPOnly && !s.ManagedCertificate {
		p.fail("certificateArn", s.CertificateARN, "prod serves HTTPS (FSBP ELB.1): set an ACM certificate ARN, or allowHttpOnly: true to accept plain HTTP")
	}
	if !slices.Contains(sslPolicies, s.SSLPolicy) {
		p.fail("sslPolicy", s.SSLPolicy, "allowed "+strings.Join(sslPolicies, ", "))
	}
	if s.IdleTimeout < 1 || s.IdleTimeout > 4000 {
		p.fail("idleTimeout", s.IdleTimeout, "allowed 1..4000 (seconds)")
	}
	if s.AccessLogs.RetentionDays < 1 || s.AccessLogs.RetentionDays > 3650 {
		p.fail("accessLogs.retentionDays", s.AccessLogs.RetentionDays, "allowed 1..3650 (days)")
	}
	switch s.Scaling.Metric {
	case ScaleOnCPU:
		if s.Scaling.Target < 10 || s.Scaling.Target > 90 {
			p.fail("scaling.target", s.Scaling.Target, "for cpu allowed 10..90 (percent)")
		}
	case ScaleOnRequests:
		if s.Scaling.Target < 1 || s.Scaling.Target > 100000 {
			p.fail("scaling.target", s.Scaling.Target, "for requests allowed 1..100000 (requests per target per minute)")
		}
	default:
		p.fail("scaling.metric", s.Scaling.Metric, "allowed cpu, requests")
	}
	p.keyName("keyName", s.KeyName)
	p.rootVolume("rootVolumeGiB", s.RootVolumeGiB)
	p.release(s.ReleaseSettings)
	return p.err()
}

// warnings lists the legal but risky choices in s (defaults applied), for the deployment log.
func (s APISettings) warnings() []string {
	var out []string
	if s.CertificateARN == "" && !s.ManagedCertificate {
		out = append(out, fmt.Sprintf("%s.certificateArn is not set: the load balancer serves plain HTTP on port 80 "+
			"and API traffic crosses the internet unencrypted", apiSection))
	}
	if s.Profile == profileProd && !*s.DeletionProtection {
		out = append(out, fmt.Sprintf("%s.deletionProtection is false in prod: the load balancer can be deleted with the stack", apiSection))
	}
	return out
}

// ApiTierArgs configures NewApiTier. Settings come from stack config; the rest is wiring.
type ApiTierArgs struct {
	APISettings
	// PermissionsBoundary is the ARN of the policy every role the tier creates carries as its permissions
	// boundary (football:permissionsBoundary). Optional; nil is none.
	PermissionsBoundary pulumi.StringPtrInput
	// VPCID hosts the tier's security groups and target group. Required.
	VPCID pulumi.StringInput
	// PublicSubnetIDs hold the load balancer: at least two AZs (FSBP ELB.13). Required.
	PublicSubnetIDs pulumi.StringArrayInput
	// PrivateSubnetIDs hold the API servers; the group spans all of them. Required.
	PrivateSubnetIDs pulumi.StringArrayInput
	// ImageID is the Ubuntu 24.04 AMI for InstanceType's architecture. Required. A new image is a new launch
	// template version, which the group rolls out by instance refresh.
	ImageID pulumi.StringInput
	// BastionSecurityGroupID is the only source of SSH (22) to the API servers: the chat server's group (mode
	// single) or the jump host's. Optional: nil admits no SSH at all (Session Manager only).
	BastionSecurityGroupID pulumi.StringInput
	// DBHost, DBPort and DBName locate the database; DBSecretARN is the Secrets Manager secret holding
	// its credentials, the only secret the servers may read. Required.
	DBHost      pulumi.StringInput
	DBPort      pulumi.IntInput
	DBName      pulumi.StringInput
	DBSecretARN pulumi.StringInput
	// RedisHost and RedisPort are the Redis endpoint. Required.
	RedisHost pulumi.StringInput
	RedisPort pulumi.IntInput
	// RedisTLS tells the servers to connect to Redis over TLS.
	RedisTLS bool
	// RedisAuthSecretARN is the Secrets Manager secret holding the Redis AUTH token (the data tier's
	// RedisAuthSecretARN). Optional: nil, or "" with RedisTLS false, when Redis has no AUTH. With RedisTLS,
	// the servers' role may read it (besides DBSecretARN, and nothing else) and REDIS_AUTH_SECRET_ARN in
	// /etc/football/api.env names it; the token itself never enters user data.
	RedisAuthSecretARN pulumi.StringInput
	// Tags are added to the instances, volumes and network interfaces the group launches (the provider's
	// default tags do not reach them). Optional.
	Tags map[string]string
	// OwnRepository names the ECR repository the tier creates for its releases when Repository is not
	// set (DefaultRepository). Required then.
	OwnRepository string
	// Image is the release the servers run, resolved by digest (ResolveRelease), or "" for the placeholder.
	// It must be in the tier's repository.
	Image string
	// ImageTags are the tags the repository holds for Image (Resolved.Tags): the lifecycle policy of the
	// tier's own repository protects the release through them when it is pinned by digest. Optional.
	ImageTags []string
	// Logs is where the servers' CloudWatch agent ships their logs. Required.
	Logs LogShipping
	// Certificate is the certificate the stack issues for its domain (validated), used by the HTTPS listener
	// when ManagedCertificate is set. Required then; certificateArn must be empty.
	Certificate pulumi.StringInput
	// Chat routes wss://<Chat.Host>/ through the HTTPS listener to the chat server. Optional; needs HTTPS.
	Chat *ChatRoute
	// RollbackAlarms name CloudWatch alarms an instance refresh watches: one that fires fails the refresh,
	// which then rolls the group back. Optional; they must exist when a refresh starts.
	RollbackAlarms []string
}

func (a ApiTierArgs) validate() error {
	p := &problems{section: apiSection}
	p.required(
		wired{"VPCID", a.VPCID != nil}, wired{"PublicSubnetIDs", a.PublicSubnetIDs != nil},
		wired{"PrivateSubnetIDs", a.PrivateSubnetIDs != nil}, wired{"ImageID", a.ImageID != nil},
		wired{"DBHost", a.DBHost != nil}, wired{"DBPort", a.DBPort != nil}, wired{"DBName", a.DBName != nil},
		wired{"DBSecretARN", a.DBSecretARN != nil}, wired{"RedisHost", a.RedisHost != nil}, wired{"RedisPort", a.RedisPort != nil},
	)
	p.tags(a.Tags)
	p.repository(a.ReleaseSettings, a.OwnRepository, a.Image)
	p.logs(a.Logs)
	wiring := func(msg string) { p.errs = append(p.errs, errors.New("wiring: "+msg)) }
	switch {
	case a.ManagedCertificate && a.Certificate == nil:
		wiring("Certificate is required with ManagedCertificate")
	case !a.ManagedCertificate && a.Certificate != nil:
		wiring("Certificate is used only with ManagedCertificate")
	}
	if c := a.Chat; c != nil {
		https := a.CertificateARN != "" || a.ManagedCertificate
		switch {
		case (c.InstanceID == nil) == (c.TargetGroupARN == nil):
			wiring("Chat needs exactly one of InstanceID (a single server) and TargetGroupARN (a fleet)")
		case c.Host != "" && !https:
			wiring("Chat with a Host needs the HTTPS listener, so a certificate")
		case c.Host == "" && c.InstanceID != nil:
			wiring("Chat without a Host (a listener on the chat port) is for a fleet: TargetGroupARN")
		case c.Host == "" && len(c.Cidrs) == 0:
			wiring("Chat without a Host needs Cidrs: who may reach the chat port")
		}
		if c.SecurityGroupID == nil || c.Port < 1 || c.Port > 65535 || (c.InstanceID != nil && c.HealthCheckPath == "") {
			wiring("Chat needs Port (1..65535), SecurityGroupID and, for a single server, HealthCheckPath")
		}
		if c.Host == "" {
			switch c.Port {
			case 80, 443, 22:
				p.errs = append(p.errs, fmt.Errorf("%s.chatPort: %d is not allowed; the load balancer listens on 80 and 443 for the API and 22 is SSH; "+
					"the chat's listener needs a port of its own, such as 8443", chatSection, c.Port))
			case a.AppPort:
				p.errs = append(p.errs, fmt.Errorf("%s.chatPort: %d is not allowed; it is %s.appPort too, and the shared load balancer's chat listener "+
					"and the API's targets would share one port number: pick another, such as 8443", chatSection, c.Port, apiSection))
			}
			for _, cidr := range c.Cidrs {
				if _, _, err := net.ParseCIDR(cidr); err != nil {
					wiring(fmt.Sprintf("Chat.Cidrs: %q is not a CIDR block", cidr))
				}
			}
		}
	}
	return errors.Join(a.APISettings.Validate(), p.err())
}

// ChatRoute is the chat behind the load balancer. With Host, a rule on the HTTPS listener sends
// wss://<Host>/ to it (a single server or a fleet); without Host, a listener of its own on the chat port
// (HTTPS with the API's certificate, else HTTP) forwards to the fleet, and only Cidrs may reach that port.
// Either way the chat port on the servers faces only the load balancer.
type ChatRoute struct {
	// Host is the chat's DNS name; "" for a listener on Port.
	Host string
	// InstanceID is a single chat server, which the tier puts in a target group of its own; HealthCheckPath
	// answers 200 while it serves. TargetGroupARN is a fleet's target group instead (its owner keeps it).
	InstanceID      pulumi.StringInput
	HealthCheckPath string
	TargetGroupARN  pulumi.StringInput
	// Port is the chat port: the servers' port and, without Host, the listener's.
	Port int
	// SecurityGroupID is the chat servers' group: the load balancer may reach its chat port.
	SecurityGroupID pulumi.StringInput
	// Cidrs may reach the chat listener (without Host only): football:chat.chatCidrs.
	Cidrs []string
}

// ApiTier is the API of one stack: a load balancer and the Auto Scaling group behind it.
type ApiTier struct {
	pulumi.ResourceState

	// LoadBalancerDNSName is the load balancer's DNS name.
	LoadBalancerDNSName pulumi.StringOutput
	// LoadBalancerZoneID is the load balancer's hosted zone, for a Route 53 alias record.
	LoadBalancerZoneID pulumi.StringOutput
	// URL is https://<dns name> with a certificate, http://<dns name> without.
	URL pulumi.StringOutput
	// TargetGroupARN is the API servers' target group.
	TargetGroupARN pulumi.StringOutput
	// LoadBalancerARN is the load balancer (a WAF web ACL is associated with it).
	LoadBalancerARN pulumi.StringOutput
	// LoadBalancerARNSuffix (app/<name>/<id>) and TargetGroupARNSuffix (targetgroup/<name>/<id>) name the
	// load balancer and the target group in CloudWatch metrics.
	LoadBalancerARNSuffix pulumi.StringOutput
	TargetGroupARNSuffix  pulumi.StringOutput
	// AutoScalingGroupName is the API servers' group.
	AutoScalingGroupName pulumi.StringOutput
	// SecurityGroupID is the API servers' security group: the data tier admits it.
	SecurityGroupID pulumi.StringOutput
	// LoadBalancerSecurityGroupID is the load balancer's security group.
	LoadBalancerSecurityGroupID pulumi.StringOutput
	// RepositoryURL is the ECR repository the API's releases are pushed to.
	RepositoryURL pulumi.StringOutput
	// Image is the release the servers run ("" for the placeholder).
	Image pulumi.StringOutput
}

// NewApiTier checks args, then registers the tier. Bad args register nothing.
func NewApiTier(ctx *pulumi.Context, name string, args *ApiTierArgs, opts ...pulumi.ResourceOption) (*ApiTier, error) {
	if args == nil {
		return nil, fmt.Errorf("api tier %q: args are required", name)
	}
	a := *args
	a.APISettings = a.APISettings.WithDefaults()
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("api tier %q: %w", name, err)
	}

	t := &ApiTier{}
	if err := ctx.RegisterComponentResource(apiTierType, name, t, opts...); err != nil {
		return nil, err
	}
	https := a.CertificateARN != "" || a.ManagedCertificate
	for _, w := range append(a.APISettings.warnings(), releaseWarnings(apiSection, a.ReleaseSettings, a.ImageTags)...) {
		if err := ctx.Log.Warn(w, &pulumi.LogArgs{Resource: t}); err != nil {
			return nil, err
		}
	}

	albSG, appSG, err := t.securityGroups(ctx, name, a, https)
	if err != nil {
		return nil, err
	}
	alb, tg, listener, err := t.loadBalancer(ctx, name, a, https, albSG)
	if err != nil {
		return nil, err
	}
	if a.Chat != nil {
		if err := t.chatRoute(ctx, name, a, albSG, alb, listener, https); err != nil {
			return nil, err
		}
	}
	policy := &autoscaling.PolicyTargetTrackingConfigurationArgs{
		TargetValue: pulumi.Float64(a.Scaling.Target),
		PredefinedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
		},
	}
	if a.Scaling.Metric == ScaleOnRequests {
		policy.PredefinedMetricSpecification = &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String("ALBRequestCountPerTarget"),
			// app/<lb name>/<lb id>/targetgroup/<tg name>/<tg id>
			ResourceLabel: pulumi.Sprintf("%s/%s", alb.ArnSuffix, tg.ArnSuffix),
		}
	}
	group, err := t.servers(ctx, name, a, appSG, tg, policy)
	if err != nil {
		return nil, err
	}

	t.LoadBalancerDNSName = alb.DnsName
	t.LoadBalancerZoneID = alb.ZoneId
	t.URL = pulumi.Sprintf("%s://%s", map[bool]string{true: "https", false: "http"}[https], alb.DnsName)
	t.TargetGroupARN = tg.Arn
	t.LoadBalancerARN = alb.Arn
	t.LoadBalancerARNSuffix = alb.ArnSuffix
	t.TargetGroupARNSuffix = tg.ArnSuffix
	t.AutoScalingGroupName = group.Name
	t.SecurityGroupID = appSG.ID().ToStringOutput()
	t.LoadBalancerSecurityGroupID = albSG.ID().ToStringOutput()
	t.Image = pulumi.String(a.Image).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{
		"repositoryUrl":               t.RepositoryURL,
		"image":                       t.Image,
		"loadBalancerDnsName":         t.LoadBalancerDNSName,
		"loadBalancerZoneId":          t.LoadBalancerZoneID,
		"url":                         t.URL,
		"targetGroupArn":              t.TargetGroupARN,
		"loadBalancerArn":             t.LoadBalancerARN,
		"loadBalancerArnSuffix":       t.LoadBalancerARNSuffix,
		"targetGroupArnSuffix":        t.TargetGroupARNSuffix,
		"autoScalingGroupName":        t.AutoScalingGroupName,
		"securityGroupId":             t.SecurityGroupID,
		"loadBalancerSecurityGroupId": t.LoadBalancerSecurityGroupID,
	}); err != nil {
		return nil, err
	}
	return t, nil
}

// securityGroups registers the load balancer's group (80/443 from anywhere, out only to the servers'
// app port) and the servers' group (the app port from the load balancer, SSH from the bastion, and no
// CIDR-based ingress at all, so nothing on the internet reaches a server directly).
func (t *ApiTier) securityGroups(ctx *pulumi.Context, name string, a ApiTierArgs, https bool) (alb, app *ec2.SecurityGroup, err error) {
	child := pulumi.Parent(t)
	alb, err = ec2.NewSecurityGroup(ctx, name+"-alb-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football API load balancer"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-alb-sg")},
	}, child)
	if err != nil {
		return nil, nil, err
	}
	app, err = ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football API servers"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-sg")},
	}, child)
	if err != nil {
		return nil, nil, err
	}

	ports := []int{80}
	if https {
		ports = append(ports, 443)
	}
	for _, port := range ports {
		for _, cidr := range []string{"0.0.0.0/0", "::/0"} {
			rule := &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: alb.ID(),
				IpProtocol:      pulumi.String("tcp"),
				FromPort:        pulumi.Int(port),
				ToPort:          pulumi.Int(port),
				Description:     pulumi.String(fmt.Sprintf("HTTP(S) %d from anywhere", port)),
			}
			family := "ipv4"
			if isIPv6(cidr) {
				rule.CidrIpv6, family = pulumi.String(cidr), "ipv6"
			} else {
				rule.CidrIpv4 = pulumi.String(cidr)
			}
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-alb-%d-%s", name, port, family), rule, child); err != nil {
				return nil, nil, err
			}
		}
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-alb-to-app", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           alb.ID(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(a.AppPort),
		ToPort:                    pulumi.Int(a.AppPort),
		ReferencedSecurityGroupId: app.ID(),
		Description:               pulumi.String("to the API servers' app port (traffic and health checks)"),
	}, child); err != nil {
		return nil, nil, err
	}

	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-app-from-alb", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           app.ID(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(a.AppPort),
		ToPort:                    pulumi.Int(a.AppPort),
		ReferencedSecurityGroupId: alb.ID(),
		Description:               pulumi.String("app port from the load balancer"),
	}, child); err != nil {
		return nil, nil, err
	}
	if a.BastionSecurityGroupID != nil {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-ssh-from-bastion", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           app.ID(),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(22),
			ToPort:                    pulumi.Int(22),
			ReferencedSecurityGroupId: a.BastionSecurityGroupID,
			Description:               pulumi.String("SSH from the bastion"),
		}, child); err != nil {
			return nil, nil, err
		}
	}
	// Egress stays open: apt, Session Manager, Secrets Manager, the database and Redis.
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: app.ID(),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Description:     pulumi.String("all outbound"),
	}, child); err != nil {
		return nil, nil, err
	}
	return alb, app, nil
}

// loadBalancer registers the internet-facing ALB, its target group and listeners: with a certificate,
// HTTPS on 443 and a port-80 listener that only redirects to it (FSBP ELB.1); without, port 80 forwards.
func (t *ApiTier) loadBalancer(ctx *pulumi.Context, name string, a ApiTierArgs, https bool, sg *ec2.SecurityGroup) (*lb.LoadBalancer, *lb.TargetGroup, *lb.Listener, error) {
	child := pulumi.Parent(t)
	var listener *lb.Listener
	args := &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  a.PublicSubnetIDs,
		SecurityGroups:           pulumi.StringArray{sg.ID()},
		DropInvalidHeaderFields:  pulumi.Bool(true),                  // FSBP ELB.4
		DesyncMitigationMode:     pulumi.String("defensive"),         // FSBP ELB.12
		EnableDeletionProtection: pulumi.Bool(*a.DeletionProtection), // FSBP ELB.6
		IdleTimeout:              pulumi.Int(a.IdleTimeout),
		Tags:                     pulumi.StringMap{"Name": pulumi.String(name + "-alb")},
	}
	var lbOpts []pulumi.ResourceOption
	if *a.AccessLogs.Enabled {
		bucket, policy, err := t.accessLogBucket(ctx, name, a)
		if err != nil {
			return nil, nil, nil, err
		}
		args.AccessLogs = &lb.LoadBalancerAccessLogsArgs{
			Bucket:  bucket.Bucket,
			Prefix:  pulumi.String(accessLogPrefix),
			Enabled: pulumi.Bool(true),
		}
		// AWS checks that it may write to the bucket when logging is switched on, so the policy must
		// exist first; nothing in the load balancer's inputs says so.
		lbOpts = append(lbOpts, pulumi.DependsOn([]pulumi.Resource{policy}))
	}
	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", args, append(lbOpts, child)...)
	if err != nil {
		return nil, nil, nil, err
	}
	tg, err := newFleetTargetGroup(ctx, name, targetGroupSpec{
		vpcID: a.VPCID, port: a.AppPort, healthCheckPath: a.HealthCheckPath,
		// A scale-in or instance refresh waits this long for requests in flight; the default is 300 s.
		deregistrationDelay: deregistrationDelay,
	}, child)
	if err != nil {
		return nil, nil, nil, err
	}

	forward := lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: tg.Arn,
	}}
	http := forward
	if https {
		http = lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Port:       pulumi.String("443"),
				Protocol:   pulumi.String("HTTPS"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		cert := pulumi.StringInput(pulumi.String(a.CertificateARN))
		if a.ManagedCertificate {
			cert = a.Certificate
		}
		if listener, err = lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			CertificateArn:  cert,
			SslPolicy:       pulumi.String(a.SSLPolicy),
			DefaultActions:  forward,
		}, child); err != nil {
			return nil, nil, nil, err
		}
	}
	if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  http,
	}, child); err != nil {
		return nil, nil, nil, err
	}
	return alb, tg, listener, nil
}

// chatRoute sends the chat to its servers. A single server (with a domain) gets a target group of that
// one instance on its chat port (health-checked on its health path) and a host rule on the HTTPS listener;
// a fleet brings its own target group, reached by the same host rule with a domain, or else by a listener
// of its own on the chat port, which only Cidrs may reach. Either way the load balancer gets its way out
// to the chat port. The load balancer's idle timeout (api.idleTimeout) must stay above the chat app's
// WebSocket ping interval, or quiet connections are cut.
func (t *ApiTier) chatRoute(ctx *pulumi.Context, name string, a ApiTierArgs, albSG *ec2.SecurityGroup, alb *lb.LoadBalancer, listener *lb.Listener, https bool) error {
	child := pulumi.Parent(t)
	c := a.Chat
	tgARN := c.TargetGroupARN
	if c.InstanceID != nil {
		tg, err := lb.NewTargetGroup(ctx, name+"-chat-tg", &lb.TargetGroupArgs{
			Port:       pulumi.Int(c.Port),
			Protocol:   pulumi.String("HTTP"),
			TargetType: pulumi.String("instance"),
			VpcId:      a.VPCID,
			// A WebSocket lives as long as the connection; on deregistration (a replaced chat server) clients
			// get this long to finish before the load balancer closes them, then reconnect.
			DeregistrationDelay: pulumi.Int(deregistrationDelay),
			HealthCheck: &lb.TargetGroupHealthCheckArgs{
				Enabled: pulumi.Bool(true), Path: pulumi.String(c.HealthCheckPath), Matcher: pulumi.String("200"),
				Protocol: pulumi.String("HTTP"), Interval: pulumi.Int(15), HealthyThreshold: pulumi.Int(2), UnhealthyThreshold: pulumi.Int(2),
			},
			Tags: pulumi.StringMap{"Name": pulumi.String(name + "-chat-tg")},
		}, child)
		if err != nil {
			return err
		}
		if _, err := lb.NewTargetGroupAttachment(ctx, name+"-chat-target", &lb.TargetGroupAttachmentArgs{
			TargetGroupArn: tg.Arn, TargetId: c.InstanceID, Port: pulumi.Int(c.Port),
		}, child); err != nil {
			return err
		}
		tgARN = tg.Arn
	}
	forward := lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tgARN}}
	if c.Host != "" {
		if _, err := lb.NewListenerRule(ctx, name+"-chat-host", &lb.ListenerRuleArgs{
			ListenerArn: listener.Arn,
			Priority:    pulumi.Int(10),
			Conditions: lb.ListenerRuleConditionArray{&lb.ListenerRuleConditionArgs{
				HostHeader: &lb.ListenerRuleConditionHostHeaderArgs{Values: pulumi.StringArray{pulumi.String(c.Host)}},
			}},
			Actions: lb.ListenerRuleActionArray{&lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tgARN}},
		}, child); err != nil {
			return err
		}
	} else {
		args := &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(c.Port),
			Protocol:        pulumi.String("HTTP"),
			DefaultActions:  forward,
		}
		if https {
			// The API's certificate and TLS policy: wss://<load balancer>:<chat port>/.
			args.Protocol, args.SslPolicy = pulumi.String("HTTPS"), pulumi.String(a.SSLPolicy)
			args.CertificateArn = pulumi.StringInput(pulumi.String(a.CertificateARN))
			if a.ManagedCertificate {
				args.CertificateArn = a.Certificate
			}
		}
		if _, err := lb.NewListener(ctx, name+"-chat", args, child); err != nil {
			return err
		}
		for _, cidr := range c.Cidrs {
			rule := &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: albSG.ID(),
				IpProtocol:      pulumi.String("tcp"),
				FromPort:        pulumi.Int(c.Port),
				ToPort:          pulumi.Int(c.Port),
				Description:     pulumi.String(fmt.Sprintf("chat listener %d from %s", c.Port, cidr)),
			}
			if isIPv6(cidr) {
				rule.CidrIpv6 = pulumi.String(cidr)
			} else {
				rule.CidrIpv4 = pulumi.String(cidr)
			}
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-alb-chat-"+cidrSlug(cidr), rule, child); err != nil {
				return err
			}
		}
	}
	_, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-alb-to-chat", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           albSG.ID(),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(c.Port),
		ToPort:                    pulumi.Int(c.Port),
		ReferencedSecurityGroupId: c.SecurityGroupID,
		Description:               pulumi.String("to the chat server's chat port (WebSockets and health checks)"),
	}, child)
	return err
}

// accessLogPrefix is where the load balancer writes in its log bucket.
const accessLogPrefix = "alb"

// elbAccounts are the Elastic Load Balancing accounts that deliver access logs in regions opened before
// August 2022. Later regions deliver as the service principal logdelivery.elasticloadbalancing.amazonaws.com.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html (the
// GovCloud and China accounts are in those partitions' versions of the page and the provider's
// elb.getServiceAccount table).
var elbAccounts = map[string]string{
	"us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
	"cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
	"af-south-1": "098369216593", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
	"eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
	"eu-west-3": "009996457667", "eu-north-1": "897822967062", "ap-east-1": "754344448648",
	"ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331",
	"ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266", "ap-southeast-3": "589379963580",
	"ap-south-1": "718504428378", "me-south-1": "076674570225", "sa-east-1": "507241528517",
}

// accessLogPolicy lets Elastic Load Balancing write under the log prefix and refuses plain-HTTP access.
func accessLogPolicy(region, bucketARN string) (string, error) {
	principal := map[string]string{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
	if account, ok := elbAccounts[region]; ok {
		principal = map[string]string{"AWS": awsfacts.AccountRoot(region, account)}
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid": "ELBAccessLogs", "Effect": "Allow", "Principal": principal,
				"Action": "s3:PutObject", "Resource": bucketARN + "/" + accessLogPrefix + "/AWSLogs/*",
			},
			{
				"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{bucketARN, bucketARN + "/*"},
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// accessLogBucket registers a private bucket for the load balancer's access logs: public access
// blocked, SSE-S3 (the only server-side encryption ALB log delivery supports), objects expired after
// the retention period, and the delivery policy. Dev buckets are emptied on destroy; prod ones are not.
func (t *ApiTier) accessLogBucket(ctx *pulumi.Context, name string, a ApiTierArgs) (*s3.BucketV2, *s3.BucketPolicy, error) {
	child := pulumi.Parent(t)
	bucket, err := s3.NewBucketV2(ctx, name+"-alb-logs", &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(a.Profile != profileProd),
		Tags:         pulumi.StringMap{"Name": pulumi.String(name + "-alb-logs")},
	}, child)
	if err != nil {
		return nil, nil, err
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name+"-alb-logs-block", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, child)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-alb-logs-sse", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}, child); err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-alb-logs-expiry", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String("expire-access-logs"),
			Status:     pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(accessLogPrefix + "/")},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(a.AccessLogs.RetentionDays)},
		}},
	}, child); err != nil {
		return nil, nil, err
	}
	region := a.Region
	policy, err := s3.NewBucketPolicy(ctx, name+"-alb-logs-policy", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(func(arn string) (string, error) { return accessLogPolicy(region, arn) }).(pulumi.StringOutput),
	}, child, pulumi.DependsOn([]pulumi.Resource{block})) // S3 refuses a policy while the block is being set
	if err != nil {
		return nil, nil, err
	}
	return bucket, policy, nil
}

// servers registers the API servers' role and their fleet: launch template, Auto Scaling group and scaling policy.
func (t *ApiTier) servers(ctx *pulumi.Context, name string, a ApiTierArgs, sg *ec2.SecurityGroup, tg *lb.TargetGroup,
	scaling *autoscaling.PolicyTargetTrackingConfigurationArgs) (*autoscaling.Group, error) {
	child := pulumi.Parent(t)
	role, profile, err := newInstanceRole(ctx, name, "football API servers: Session Manager, the database and Redis AUTH secrets", a.Region, a.PermissionsBoundary, child)
	if err != nil {
		return nil, err
	}
	authARN, readAuth := redisAuthSecret(fmt.Sprintf("api tier %q", name), a.RedisAuthSecretARN, a.RedisTLS)
	// One policy for the servers' secrets: exactly the database secret and, with Redis AUTH, the token's
	// secret. Its logical name predates the second secret and stays, so existing stacks keep the policy.
	policy := a.DBSecretARN.ToStringOutput().ApplyT(func(db string) (string, error) {
		return secretReadPolicy("ReadSecrets", db)
	}).(pulumi.StringOutput)
	if readAuth {
		policy = pulumi.All(a.DBSecretARN, authARN).ApplyT(func(v []any) (string, error) {
			return secretReadPolicy("ReadSecrets", v[0].(string), v[1].(string))
		}).(pulumi.StringOutput)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-db-secret", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, child); err != nil {
		return nil, err
	}

	repo, err := newRepository(ctx, name, a.ReleaseSettings, a.ImageTags, a.OwnRepository, a.Profile == profileProd, t, nil)
	if err != nil {
		return nil, err
	}
	t.RepositoryURL = repo.url
	if err := allowPull(ctx, name, role, repo, child); err != nil {
		return nil, err
	}
	if _, err := shipLogs(ctx, name, role, a.Logs, true, nil, child); err != nil {
		return nil, err
	}

	userData := pulumi.All(a.DBHost, a.DBPort, a.DBName, a.DBSecretARN, a.RedisHost, a.RedisPort, authARN).ApplyT(func(v []any) (string, error) {
		ud, err := renderAPIUserData(apiEnv{
			DBHost: v[0].(string), DBPort: v[1].(int), DBName: v[2].(string), DBSecretARN: v[3].(string),
			RedisHost: v[4].(string), RedisPort: v[5].(int), RedisTLS: a.RedisTLS, RedisAuthSecretARN: v[6].(string),
			Region: a.Region, AppPort: a.AppPort, HealthCheckPath: a.HealthCheckPath, Image: a.Image, LogGroup: a.Logs.Group,
		})
		return encodeUserData(ud), err
	}).(pulumi.StringOutput)

	return newFleet(ctx, name, fleetSpec{
		server: serverSpec{
			image:           a.ImageID,
			instanceType:    a.InstanceType,
			keyName:         a.KeyName,
			rootVolumeGiB:   a.RootVolumeGiB,
			instanceProfile: profile.Arn,
			userData:        userData,
			securityGroupID: sg.ID(),
			nameTag:         name,
			tags:            a.Tags,
		},
		subnetIDs:         a.PrivateSubnetIDs,
		targetGroup:       tg,
		min:               a.Min,
		max:               a.Max,
		desired:           a.Desired,
		maxHealthyPercent: 200,
		gracePeriod:       healthCheckGracePeriod,
		warmup:            instanceWarmup,
		rollbackAlarms:    a.RollbackAlarms,
		tags:              a.Tags,
		scaling: func(*autoscaling.Group) *autoscaling.PolicyTargetTrackingConfigurationArgs {
			return scaling
		},
	}, child)
}

// deregistrationDelay (seconds) is how long the load balancer lets requests in flight finish on a server
// that leaves the group; the released app gets as long after SIGTERM.
const deregistrationDelay = 30
