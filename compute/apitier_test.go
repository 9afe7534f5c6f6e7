package compute

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

const (
	testCert      = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	testDBHost    = "football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com"
	testSecretARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcdef"
	testBastionSG = "sg-0bastion000000000"
	testImageID   = "ami-0123456789abcdef0"
)

var (
	testPublic  = []string{"subnet-0pub0000000000a", "subnet-0pub0000000000b", "subnet-0pub0000000000c"}
	testPrivate = []string{"subnet-0prv0000000000a", "subnet-0prv0000000000b", "subnet-0prv0000000000c"}
)

func validAPIArgs(profile string) *ApiTierArgs {
	a := &ApiTierArgs{
		APISettings:            APISettings{Profile: profile, Region: testRegion},
		VPCID:                  pulumi.String("vpc-0123456789abcdef0"),
		PublicSubnetIDs:        pulumi.ToStringArray(testPublic),
		PrivateSubnetIDs:       pulumi.ToStringArray(testPrivate),
		ImageID:                pulumi.String(testImageID),
		OwnRepository:          "football/test/api",
		BastionSecurityGroupID: pulumi.String(testBastionSG),
		DBHost:                 pulumi.String(testDBHost),
		DBPort:                 pulumi.Int(3306),
		DBName:                 pulumi.String("football"),
		DBSecretARN:            pulumi.String(testSecretARN),
		RedisHost:              pulumi.String(testRedisHost),
		RedisPort:              pulumi.Int(6379),
		RedisTLS:               true,
		Logs:                   LogShipping{Group: testLogGroup, RetentionDays: 14},
	}
	if profile == "prod" {
		a.CertificateARN = testCert
	}
	return a
}

func TestAPISettingsWithDefaults(t *testing.T) {
	t.Parallel()
	dev := APISettings{Profile: "dev", Region: testRegion}.WithDefaults()
	assert.Equal(t, "t4g.micro", dev.InstanceType)
	assert.Equal(t, []int{1, 1, 2}, []int{dev.Min, dev.Desired, dev.Max})
	assert.Equal(t, 8080, dev.AppPort)
	assert.Equal(t, "/health", dev.HealthCheckPath)
	assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", dev.SSLPolicy)
	assert.Equal(t, 60, dev.IdleTimeout)
	assert.False(t, *dev.DeletionProtection)
	assert.False(t, *dev.AccessLogs.Enabled)
	assert.Equal(t, 90, dev.AccessLogs.RetentionDays)
	assert.Equal(t, ScalingSettings{Metric: "cpu", Target: 50}, dev.Scaling)
	require.NoError(t, dev.Validate(), "dev may run without a certificate")

	prod := APISettings{Profile: "prod", Region: testRegion, CertificateARN: testCert}.WithDefaults()
	assert.Equal(t, "t4g.small", prod.InstanceType)
	assert.Equal(t, []int{2, 2, 6}, []int{prod.Min, prod.Desired, prod.Max})
	assert.True(t, *prod.DeletionProtection)
	assert.True(t, *prod.AccessLogs.Enabled)
	require.NoError(t, prod.Validate())

	req := APISettings{Profile: "dev", Region: testRegion, Scaling: ScalingSettings{Metric: "requests"}}.WithDefaults()
	assert.Equal(t, float64(1000), req.Scaling.Target)
	off := false
	kept := APISettings{Profile: "prod", Region: testRegion, DeletionProtection: &off}.WithDefaults()
	assert.False(t, *kept.DeletionProtection, "an explicit false survives the defaults")

	httpOnly := APISettings{Profile: "prod", Region: testRegion, AllowHTTPOnly: true}.WithDefaults()
	require.NoError(t, httpOnly.Validate(), "prod may opt into plain HTTP explicitly")
}

func TestAPISettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*APISettings)
		want   []string
	}{
		{"min above desired", func(s *APISettings) { s.Min, s.Desired, s.Max = 3, 2, 6 },
			[]string{"football:api.min: 3 is not allowed; must be <= desired (2)"}},
		{"desired above max", func(s *APISettings) { s.Min, s.Desired, s.Max = 1, 7, 6 },
			[]string{"football:api.desired: 7 is not allowed; must be <= max (6)"}},
		{"max too large", func(s *APISettings) { s.Max = 101 },
			[]string{"football:api.max: 101 is not allowed; allowed 1..100"}},
		{"min below 1", func(s *APISettings) { s.Min = -1 },
			[]string{"football:api.min: -1 is not allowed; allowed 1..100"}},
		{"prod single server", func(s *APISettings) { s.Profile = "prod"; s.CertificateARN = testCert; s.Min, s.Desired = 1, 1 },
			[]string{"football:api.min: 1 is not allowed; prod runs at least 2 servers"}},
		{"typo in size", func(s *APISettings) { s.InstanceType = "t4g.mirco" },
			[]string{`football:api.instanceType: "t4g.mirco" is not allowed; t4g comes in`}},
		{"dash instead of dot", func(s *APISettings) { s.InstanceType = "t2-micro" },
			[]string{`football:api.instanceType: "t2-micro" is not allowed; must be <family>.<size>`}},
		{"app port is the ALB's", func(s *APISettings) { s.AppPort = 443 },
			[]string{"football:api.appPort: 443 is not allowed; 22 is SSH and 80/443 are the load balancer's"}},
		{"app port 80", func(s *APISettings) { s.AppPort = 80 },
			[]string{"football:api.appPort: 80 is not allowed"}},
		{"app port SSH", func(s *APISettings) { s.AppPort = 22 },
			[]string{"football:api.appPort: 22 is not allowed"}},
		{"app port privileged", func(s *APISettings) { s.AppPort = 1000 },
			[]string{"football:api.appPort: 1000 is not allowed; the app runs unprivileged"}},
		{"app port out of range", func(s *APISettings) { s.AppPort = 70000 },
			[]string{"football:api.appPort: 70000 is not allowed; allowed 1024..65535"}},
		{"health path without slash", func(s *APISettings) { s.HealthCheckPath = "health" },
			[]string{`football:api.healthCheckPath: "health" is not allowed; must start with /`}},
		{"health path with space", func(s *APISettings) { s.HealthCheckPath = "/he alth" },
			[]string{`football:api.healthCheckPath: "/he alth" is not allowed`}},
		{"certificate ARN shape", func(s *APISettings) { s.CertificateARN = "arn:aws:iam::123456789012:server-certificate/x" },
			[]string{`football:api.certificateArn: "arn:aws:iam::123456789012:server-certificate/x" is not allowed; must be an ACM certificate ARN`}},
		{"certificate account digits", func(s *APISettings) { s.CertificateARN = "arn:aws:acm:ap-northeast-2:1234:certificate/abc" },
			[]string{`football:api.certificateArn: "arn:aws:acm:ap-northeast-2:1234:certificate/abc" is not allowed`}},
		{"certificate in another region", func(s *APISettings) {
			s.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c"
		}, []string{"is not allowed; the certificate is in us-east-1; a load balancer uses ACM certificates of its own region ap-northeast-2"}},
		{"prod without HTTPS", func(s *APISettings) { s.Profile = "prod" },
			[]string{`football:api.certificateArn: "" is not allowed; prod serves HTTPS (FSBP ELB.1)`}},
		{"weak TLS policy", func(s *APISettings) { s.CertificateARN = testCert; s.SSLPolicy = "ELBSecurityPolicy-2016-08" },
			[]string{`football:api.sslPolicy: "ELBSecurityPolicy-2016-08" is not allowed; allowed ELBSecurityPolicy-TLS13-1-2-2021-06`}},
		{"idle timeout", func(s *APISettings) { s.IdleTimeout = 5000 },
			[]string{"football:api.idleTimeout: 5000 is not allowed; allowed 1..4000 (seconds)"}},
		{"log retention", func(s *APISettings) { s.AccessLogs.RetentionDays = -1 },
			[]string{"football:api.accessLogs.retentionDays: -1 is not allowed; allowed 1..3650 (days)"}},
		{"scaling metric", func(s *APISettings) { s.Scaling.Metric = "memory" },
			[]string{`football:api.scaling.metric: "memory" is not allowed; allowed cpu, requests`}},
		{"cpu target", func(s *APISettings) { s.Scaling.Target = 95 },
			[]string{"football:api.scaling.target: 95 is not allowed; for cpu allowed 10..90 (percent)"}},
		{"requests target", func(s *APISettings) { s.Scaling = ScalingSettings{Metric: "requests", Target: 0.5} },
			[]string{"football:api.scaling.target: 0.5 is not allowed; for requests allowed 1..100000"}},
		{"key pair name", func(s *APISettings) { s.KeyName = strings.Repeat("k", 256) },
			[]string{"football:api.keyName: "}},
		{"root volume", func(s *APISettings) { s.RootVolumeGiB = 2000 },
			[]string{"football:api.rootVolumeGiB: 2000 is not allowed; allowed 8..1024 (GiB)"}},
		{"profile", func(s *APISettings) { s.Profile = "" },
			[]string{`wiring: Profile "" is not allowed`}},
		{"everything at once", func(s *APISettings) { s.Min, s.Desired = 3, 2; s.AppPort = 80; s.HealthCheckPath = "x" },
			[]string{"football:api.min: 3", "football:api.appPort: 80", "football:api.healthCheckPath"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := APISettings{Profile: "dev", Region: testRegion}
			tc.change(&s)
			err := s.WithDefaults().Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestAPISettingsWarnings(t *testing.T) {
	t.Parallel()
	dev := APISettings{Profile: "dev", Region: testRegion}.WithDefaults()
	require.Len(t, dev.warnings(), 1)
	assert.Contains(t, dev.warnings()[0], "football:api.certificateArn is not set: the load balancer serves plain HTTP")
	off := false
	prod := APISettings{Profile: "prod", Region: testRegion, AllowHTTPOnly: true, DeletionProtection: &off}.WithDefaults()
	assert.Len(t, prod.warnings(), 2)
	assert.Empty(t, APISettings{Profile: "prod", Region: testRegion, CertificateARN: testCert}.WithDefaults().warnings())
}

type apiOutputs struct{ dns, url, tg, asg, sg, albSG, zone string }

func runAPITier(t *testing.T, args *ApiTierArgs) (*mock.Mocks, apiOutputs) {
	t.Helper()
	var out apiOutputs
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		tier, err := NewApiTier(ctx, "api", args)
		if err != nil {
			return err
		}
		out = apiOutputs{
			dns: mock.Await[string](t, tier.LoadBalancerDNSName), url: mock.Await[string](t, tier.URL),
			tg: mock.Await[string](t, tier.TargetGroupARN), asg: mock.Await[string](t, tier.AutoScalingGroupName),
			sg: mock.Await[string](t, tier.SecurityGroupID), albSG: mock.Await[string](t, tier.LoadBalancerSecurityGroupID),
			zone: mock.Await[string](t, tier.LoadBalancerZoneID),
		}
		return nil
	})
	require.NoError(t, err)
	checkComponentInvariants(t, m, apiTierType, "api")
	return m, out
}

func TestNewApiTierWithHTTPS(t *testing.T) {
	t.Parallel()
	m, out := runAPITier(t, validAPIArgs("prod"))

	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	assert.Equal(t, "https://"+out.dns, out.url)
	assert.Equal(t, outputStr(t, alb, "dnsName"), out.dns)
	assert.Equal(t, outputStr(t, alb, "zoneId"), out.zone)
	assert.Equal(t, "application", alb.Str("loadBalancerType"))
	internal, _ := alb.Bool("internal")
	assert.False(t, internal, "internet-facing")
	assert.Equal(t, testPublic, alb.Strs("subnets"), "the load balancer sits in the public subnets")
	assert.Equal(t, []string{out.albSG}, alb.Strs("securityGroups"))
	drop, _ := alb.Bool("dropInvalidHeaderFields")
	assert.True(t, drop, "FSBP ELB.4")
	assert.Equal(t, "defensive", alb.Str("desyncMitigationMode"))
	idle, _ := alb.Num("idleTimeout")
	assert.Equal(t, float64(60), idle)
	protect, _ := alb.Bool("enableDeletionProtection")
	assert.True(t, protect, "prod protects the load balancer")

	// Listeners: HTTPS forwards, HTTP only redirects (FSBP ELB.1).
	tg := m.One(t, "aws:lb/targetGroup:TargetGroup")
	assert.Equal(t, tg.ID, out.tg)
	listeners := map[float64]*mock.Resource{}
	for _, l := range m.ByType("aws:lb/listener:Listener") {
		port, _ := l.Num("port")
		listeners[port] = l
		assert.Equal(t, alb.ID, l.Str("loadBalancerArn"))
	}
	require.Len(t, listeners, 2)
	https, http := listeners[443], listeners[80]
	require.NotNil(t, https)
	require.NotNil(t, http)
	assert.Equal(t, "HTTPS", https.Str("protocol"))
	assert.Equal(t, testCert, https.Str("certificateArn"))
	assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", https.Str("sslPolicy"))
	assert.Equal(t, "forward", https.Str("defaultActions[0].type"))
	assert.Equal(t, tg.ID, https.Str("defaultActions[0].targetGroupArn"))
	assert.Equal(t, "HTTP", http.Str("protocol"))
	assert.Equal(t, "redirect", http.Str("defaultActions[0].type"))
	assert.Equal(t, "443", http.Str("defaultActions[0].redirect.port"))
	assert.Equal(t, "HTTPS", http.Str("defaultActions[0].redirect.protocol"))
	assert.Equal(t, "HTTP_301", http.Str("defaultActions[0].redirect.statusCode"))
	assert.Empty(t, http.Str("defaultActions[0].targetGroupArn"), "port 80 must not serve the API")

	// The load balancer's group: 80 and 443 from anywhere, out only to the servers' app port.
	assert.ElementsMatch(t, []string{"0.0.0.0/0:80", "::/0:80", "0.0.0.0/0:443", "::/0:443"}, worldIngress(m),
		"the only world-open ports are the load balancer's")
	albIn := rulesOf(m, ingressType, out.albSG)
	assert.Len(t, albIn, 4)
	albOut := rulesOf(m, egressType, out.albSG)
	require.Len(t, albOut, 1)
	assert.Equal(t, out.sg, albOut[0].Str("referencedSecurityGroupId"))
	assert.Empty(t, albOut[0].Str("cidrIpv4"))
	port, _ := albOut[0].Num("fromPort")
	assert.Equal(t, float64(8080), port)

	// Access logs (prod default): private, encrypted bucket with the ELB delivery policy.
	bucket := m.One(t, "aws:s3/bucketV2:BucketV2")
	assert.Equal(t, bucket.ID, alb.Str("accessLogs.bucket"))
	enabled, _ := alb.Bool("accessLogs.enabled")
	assert.True(t, enabled)
	block := m.One(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		v, _ := block.Bool(k)
		assert.True(t, v, k)
	}
	sse := m.One(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	assert.Equal(t, "AES256", sse.Str("rules[0].applyServerSideEncryptionByDefault.sseAlgorithm"))
	policy := m.One(t, "aws:s3/bucketPolicy:BucketPolicy")
	assert.Contains(t, policy.Str("policy"), `"AWS":"arn:aws:iam::600734575887:root"`, "Seoul's ELB log delivery account")
	assert.Contains(t, policy.Str("policy"), `"Resource":"arn:aws:s3:::`+bucket.ID+`/alb/AWSLogs/*"`)
	assert.Contains(t, alb.Dependencies, policy.URN, "logging is switched on only once AWS may write")
}

func TestNewApiTierHTTPOnly(t *testing.T) {
	t.Parallel()
	m, out := runAPITier(t, validAPIArgs("dev"))
	assert.Equal(t, "http://"+out.dns, out.url)
	l := m.One(t, "aws:lb/listener:Listener")
	port, _ := l.Num("port")
	assert.Equal(t, float64(80), port)
	assert.Equal(t, "HTTP", l.Str("protocol"))
	assert.Equal(t, "forward", l.Str("defaultActions[0].type"))
	assert.Equal(t, out.tg, l.Str("defaultActions[0].targetGroupArn"))
	assert.ElementsMatch(t, []string{"0.0.0.0/0:80", "::/0:80"}, worldIngress(m), "no listener on 443, no port 443 open")
	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	protect, _ := alb.Bool("enableDeletionProtection")
	assert.False(t, protect)
	_, logs := alb.Input("accessLogs")
	assert.False(t, logs, "dev writes no access logs by default")
	assert.Empty(t, m.ByType("aws:s3/bucketV2:BucketV2"))
}

func TestNewApiTierServers(t *testing.T) {
	t.Parallel()
	m, out := runAPITier(t, validAPIArgs("prod"))

	// Nothing on the internet reaches a server: its group has no CIDR ingress at all.
	appIn := rulesOf(m, ingressType, out.sg)
	require.Len(t, appIn, 2)
	from := map[float64]string{}
	for _, r := range appIn {
		assert.Empty(t, r.Str("cidrIpv4")+r.Str("cidrIpv6"), "%s: the servers admit security groups only", r.Name)
		_, hasPrefixList := r.Input("prefixListId")
		assert.False(t, hasPrefixList, r.Name)
		p, _ := r.Num("fromPort")
		to, _ := r.Num("toPort")
		assert.Equal(t, p, to, r.Name)
		from[p] = r.Str("referencedSecurityGroupId")
	}
	assert.Equal(t, map[float64]string{8080: out.albSG, 22: testBastionSG}, from,
		"the app port from the load balancer, SSH from the bastion")
	eg := rulesOf(m, egressType, out.sg)
	require.Len(t, eg, 1)
	assert.Equal(t, "-1", eg[0].Str("ipProtocol"))

	// Launch template: no public IP, the servers' group on the interface, Graviton Ubuntu.
	lt := m.One(t, ltType)
	assert.Equal(t, "false", lt.Str("networkInterfaces[0].associatePublicIpAddress"), "FSBP EC2.25, AutoScaling.5")
	assert.Equal(t, []string{out.sg}, lt.Strs("networkInterfaces[0].securityGroups"))
	assert.Equal(t, "t4g.small", lt.Str("instanceType"))
	assert.Equal(t, testImageID, lt.Str("imageId"))

	// The group spans every private subnet, behind the target group, rolled on template changes.
	asg := m.One(t, "aws:autoscaling/group:Group")
	assert.Equal(t, out.asg, outputStr(t, asg, "name"))
	assert.Equal(t, testPrivate, asg.Strs("vpcZoneIdentifiers"))
	assert.Equal(t, []string{out.tg}, asg.Strs("targetGroupArns"))
	assert.Equal(t, lt.ID, asg.Str("launchTemplate.id"))
	assert.Equal(t, "1", asg.Str("launchTemplate.version"), "the template's number, so a new version rolls the group")
	assert.Equal(t, "ELB", asg.Str("healthCheckType"))
	// From the boot budget (bootSteps): the slow boot with a release, and the typical one with warm-up.
	grace, _ := asg.Num("healthCheckGracePeriod")
	assert.Equal(t, float64(480), grace)
	warmup, _ := asg.Num("defaultInstanceWarmup")
	assert.Equal(t, float64(210), warmup)
	for k, want := range map[string]float64{"minSize": 2, "maxSize": 6, "desiredCapacity": 2} {
		v, _ := asg.Num(k)
		assert.Equal(t, want, v, k)
	}
	assert.Equal(t, "Rolling", asg.Str("instanceRefresh.strategy"))
	// A refresh launches before it terminates, waits for health and warm-up, skips what matches, and
	// rolls back by itself when it fails.
	for k, want := range map[string]float64{"minHealthyPercentage": 100, "maxHealthyPercentage": 200} {
		v, _ := asg.Num("instanceRefresh.preferences." + k)
		assert.Equal(t, want, v, k)
	}
	for _, k := range []string{"autoRollback", "skipMatching"} {
		v, _ := asg.Bool("instanceRefresh.preferences." + k)
		assert.True(t, v, k)
	}
	assert.Equal(t, "210", asg.Str("instanceRefresh.preferences.instanceWarmup"))
	assert.Contains(t, asg.IgnoreChanges, "desiredCapacity", "the scaling policy owns desired after creation")

	tg := m.One(t, "aws:lb/targetGroup:TargetGroup")
	assert.Equal(t, "HTTP", tg.Str("protocol"))
	assert.Equal(t, "instance", tg.Str("targetType"))
	p, _ := tg.Num("port")
	assert.Equal(t, float64(8080), p)
	delay, _ := tg.Num("deregistrationDelay")
	assert.Equal(t, float64(30), delay)
	assert.Equal(t, "/health", tg.Str("healthCheck.path"))
	assert.Equal(t, "200", tg.Str("healthCheck.matcher"))

	policy := m.One(t, "aws:autoscaling/policy:Policy")
	assert.Equal(t, out.asg, policy.Str("autoscalingGroupName"))
	assert.Equal(t, "TargetTrackingScaling", policy.Str("policyType"))
	assert.Equal(t, "ASGAverageCPUUtilization", policy.Str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"))
	target, _ := policy.Num("targetTrackingConfiguration.targetValue")
	assert.Equal(t, float64(50), target)

	// IAM: Session Manager plus reading exactly the database secret.
	att := m.One(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	assert.Equal(t, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", att.Str("policyArn"))
	assert.Len(t, m.ByType("aws:iam/rolePolicy:RolePolicy"), 3, "the secrets, pulling the tier's own images and the CloudWatch agent")
	rp := policyNamed(t, m, "api-db-secret")
	doc := parsePolicy(t, rp)
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.ElementsMatch(t, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, doc.Statement[0].Action)
	assert.Equal(t, []string{testSecretARN}, doc.Statement[0].Resource, "exactly the database secret, no wildcard (no Redis AUTH wired)")
	role := m.One(t, "aws:iam/role:Role")
	assert.Equal(t, role.ID, rp.Str("role"))
	assert.Equal(t, role.ID, att.Str("role"))

	ud := userData(t, lt)
	for _, want := range []string{
		"DB_HOST=" + testDBHost + "\n", "DB_PORT=3306\n", "DB_NAME=football\n", "DB_SECRET_ARN=" + testSecretARN + "\n",
		"REDIS_HOST=" + testRedisHost + "\n", "REDIS_PORT=6379\n", "REDIS_TLS=true\n",
		"AWS_REGION=ap-northeast-2\n", "APP_PORT=8080\n", "--health /health", "REDIS_AUTH_SECRET_ARN=\n",
		"FOOTBALL_LOG_GROUP=" + testLogGroup + "\n",
	} {
		assert.Contains(t, ud, want)
	}
}

// TestNewApiTierRedisAuthSecret: with Redis AUTH the servers may read exactly the database secret and
// the token's secret, and learn the latter's ARN (never the token) from their env file.
func TestNewApiTierRedisAuthSecret(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("prod")
	args.RedisAuthSecretARN = pulumi.String(testAuthSecretARN)
	m, _ := runAPITier(t, args)
	rp := policyNamed(t, m, "api-db-secret")
	doc := parsePolicy(t, rp)
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.ElementsMatch(t, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, doc.Statement[0].Action)
	assert.Equal(t, []string{testSecretARN, testAuthSecretARN}, doc.Statement[0].Resource, "exactly the two secrets")
	assert.Equal(t, m.One(t, "aws:iam/role:Role").ID, rp.Str("role"))
	ud := userData(t, m.One(t, ltType))
	assert.Contains(t, ud, "REDIS_AUTH_SECRET_ARN="+testAuthSecretARN+"\n")

	// No TLS, no AUTH: an empty ARN (the data tier's output then) is ignored.
	plain := validAPIArgs("dev")
	plain.RedisTLS = false
	plain.RedisAuthSecretARN = pulumi.String("")
	m, _ = runAPITier(t, plain)
	assert.Equal(t, []string{testSecretARN}, parsePolicy(t, policyNamed(t, m, "api-db-secret")).Statement[0].Resource)
	assert.Contains(t, userData(t, m.One(t, ltType)), "REDIS_TLS=false\nREDIS_AUTH_SECRET_ARN=\n")
}

// TestRedisAuthSecretWiringMistakes: an ARN that contradicts RedisTLS fails the deployment, naming it.
func TestRedisAuthSecretWiringMistakes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		tls  bool
		arn  string
		want string
	}{
		"empty with TLS":     {true, "", `api tier "api": wiring: RedisAuthSecretARN resolved to "" while RedisTLS is true`},
		"secret without TLS": {false, testAuthSecretARN, `api tier "api": wiring: RedisAuthSecretARN is set but RedisTLS is false`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
				args := validAPIArgs("dev")
				args.RedisTLS, args.RedisAuthSecretARN = tc.tls, pulumi.String(tc.arn)
				_, err := NewApiTier(ctx, "api", args)
				return err
			})
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewApiTierTags(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("dev")
	args.Tags = map[string]string{"Team": "platform", "CostCenter": "cc-42"}
	m, _ := runAPITier(t, args)
	lt := m.One(t, ltType)
	for typ, tags := range launchTags(t, lt) {
		assert.Equal(t, map[string]string{"Name": "api", "Team": "platform", "CostCenter": "cc-42"}, tags, typ)
	}
	assert.Equal(t, "api", lt.Str("tags.Name"))
	assert.Empty(t, lt.Str("tags.Team"), "the template itself gets the provider's default tags already")
	// Default tags do not reach Auto Scaling groups: the group carries the tags itself, not propagated
	// (instances get theirs from the template).
	asg := m.One(t, "aws:autoscaling/group:Group")
	got := map[string]string{}
	for i := 0; ; i++ {
		k := asg.Str(fmt.Sprintf("tags[%d].key", i))
		if k == "" {
			break
		}
		got[k] = asg.Str(fmt.Sprintf("tags[%d].value", i))
		propagate, _ := asg.Bool(fmt.Sprintf("tags[%d].propagateAtLaunch", i))
		assert.False(t, propagate, k)
	}
	assert.Equal(t, map[string]string{"Team": "platform", "CostCenter": "cc-42"}, got)
	assert.Equal(t, map[string]string{"Team": "platform", "CostCenter": "cc-42"}, args.Tags, "the caller's map is not changed")
}

func TestTagsValidation(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	for name, tc := range map[string]struct {
		tags map[string]string
		want []string
	}{
		"Name":       {map[string]string{"Name": "x"}, []string{`wiring: Tags key "Name" is not allowed; the component names its servers`}},
		"aws prefix": {map[string]string{"AWS:owner": "x"}, []string{`wiring: Tags key "AWS:owner" is not allowed; the aws: prefix is reserved for AWS`}},
		"empty key":  {map[string]string{"": "x"}, []string{`wiring: Tags key "" is not allowed; allowed 1..128 characters`}},
		"long key":   {map[string]string{strings.Repeat("k", 129): "x"}, []string{"allowed 1..128 characters"}},
		"long value": {map[string]string{"Team": strings.Repeat("v", 257)}, []string{`wiring: Tags["Team"] value is not allowed; allowed at most 256 characters`}},
		"too many":   {many, []string{"wiring: Tags has 50 tags; allowed at most 49"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := validAPIArgs("dev")
			api.APISettings, api.Tags = api.APISettings.WithDefaults(), tc.tags
			chat := validChatArgs("dev")
			chat.ChatSettings, chat.Tags = chat.ChatSettings.WithDefaults(), tc.tags
			for _, err := range []error{api.validate(), chat.validate()} {
				require.Error(t, err)
				for _, w := range tc.want {
					assert.ErrorContains(t, err, w)
				}
				assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 1, "only the tag problem: %v", err)
			}
		})
	}
	ok := validAPIArgs("dev")
	ok.APISettings = ok.APISettings.WithDefaults()
	ok.Tags = map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256), "Team": ""}
	assert.NoError(t, ok.validate(), "limits are inclusive and empty values are legal")
}

func TestNewApiTierScalesOnRequests(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("dev")
	args.Scaling = ScalingSettings{Metric: ScaleOnRequests, Target: 500}
	args.AppPort = 3000
	args.HealthCheckPath = "/api/healthz"
	m, out := runAPITier(t, args)
	policy := m.One(t, "aws:autoscaling/policy:Policy")
	spec := "targetTrackingConfiguration.predefinedMetricSpecification."
	assert.Equal(t, "ALBRequestCountPerTarget", policy.Str(spec+"predefinedMetricType"))
	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	tg := m.One(t, "aws:lb/targetGroup:TargetGroup")
	assert.Equal(t, outputStr(t, alb, "arnSuffix")+"/"+outputStr(t, tg, "arnSuffix"), policy.Str(spec+"resourceLabel"))
	target, _ := policy.Num("targetTrackingConfiguration.targetValue")
	assert.Equal(t, float64(500), target)

	p, _ := tg.Num("port")
	assert.Equal(t, float64(3000), p)
	assert.Equal(t, "/api/healthz", tg.Str("healthCheck.path"))
	for _, r := range append(rulesOf(m, egressType, out.albSG), rulesOf(m, ingressType, out.sg)...) {
		if r.Str("referencedSecurityGroupId") == testBastionSG {
			continue
		}
		from, _ := r.Num("fromPort")
		assert.Equal(t, float64(3000), from, "%s follows appPort", r.Name)
	}
	ud := userData(t, m.One(t, ltType))
	assert.Contains(t, ud, "APP_PORT=3000\n")
	assert.Contains(t, ud, "--health /api/healthz")
}

func TestNewApiTierRefusesBadArgs(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validAPIArgs("prod")
		args.CertificateARN = ""
		args.Min, args.Desired = 3, 2
		args.InstanceType = "t4g.mirco"
		args.PrivateSubnetIDs = nil
		args.DBSecretARN = nil
		_, err := NewApiTier(ctx, "api", args)
		return err
	})
	require.Error(t, err)
	for _, want := range []string{
		`api tier "api": `,
		"football:api.min: 3 is not allowed; must be <= desired (2)",
		`football:api.certificateArn: "" is not allowed; prod serves HTTPS`,
		`football:api.instanceType: "t4g.mirco" is not allowed`,
		"wiring: PrivateSubnetIDs is required", "wiring: DBSecretARN is required",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.Empty(t, m.All(), "bad args register nothing")

	m, err = mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewApiTier(ctx, "api", nil)
		return err
	})
	assert.ErrorContains(t, err, `api tier "api": args are required`)
	assert.Empty(t, m.All())
}

func TestAccessLogPolicyPrincipal(t *testing.T) {
	t.Parallel()
	old, err := accessLogPolicy("ap-northeast-2", "arn:aws:s3:::logs")
	require.NoError(t, err)
	assert.Contains(t, old, `{"AWS":"arn:aws:iam::600734575887:root"}`)
	assert.Contains(t, old, `"aws:SecureTransport":"false"`)
	use1, err := accessLogPolicy("us-east-1", "arn:aws:s3:::logs")
	require.NoError(t, err)
	assert.Contains(t, use1, `{"AWS":"arn:aws:iam::127311923021:root"}`)
	newer, err := accessLogPolicy("ap-southeast-5", "arn:aws:s3:::logs")
	require.NoError(t, err)
	assert.Contains(t, newer, `{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"}`)
	gov, err := accessLogPolicy("us-gov-west-1", "arn:aws-us-gov:s3:::logs")
	require.NoError(t, err)
	assert.Contains(t, gov, `{"AWS":"arn:aws-us-gov:iam::048591011584:root"}`, "GovCloud has its own account and partition")
	cn, err := accessLogPolicy("cn-north-1", "arn:aws-cn:s3:::logs")
	require.NoError(t, err)
	assert.Contains(t, cn, `{"AWS":"arn:aws-cn:iam::638102146993:root"}`)
}

func TestCertificatePartition(t *testing.T) {
	t.Parallel()
	gov := APISettings{Profile: "prod", Region: "us-gov-west-1",
		CertificateARN: "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0f1e2d3c"}.WithDefaults()
	assert.NoError(t, gov.Validate(), "a GovCloud certificate has a GovCloud ARN")
	gov.CertificateARN = "arn:aws:acm:us-gov-west-1:123456789012:certificate/0f1e2d3c"
	assert.ErrorContains(t, gov.Validate(), "the ARN's partition is aws; us-gov-west-1 is in partition aws-us-gov")
}

func TestNewApiTierInGovCloud(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": "us-gov-west-1"}}, func(ctx *pulumi.Context) error {
		args := validAPIArgs("dev")
		args.Region = "us-gov-west-1"
		_, err := NewApiTier(ctx, "api", args)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore",
		m.One(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").Str("policyArn"))
}
