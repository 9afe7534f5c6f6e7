package insight

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func resultOf(t *testing.T, rep *Report, id string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Control.ID == id {
			return r
		}
	}
	t.Fatalf("report has no control %s", id)
	return Result{}
}

// TestControlsPassOnSecurePlan and TestControlsFailOnInsecurePlan drive every rule both ways: a rule that
// always passes fails the second test, one that always fails the first.
func TestControlsPassOnSecurePlan(t *testing.T) {
	t.Parallel()
	p := secureFixture(topology{rdsMultiAZ: true}).plan("prod", ProfileProd)
	// The one failure the program builds on purpose: the chat server's Elastic IP, excepted for the bastion.
	excused := map[string]string{"EC2.9": "chat-server"}
	for _, c := range Controls {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			findings := c.Check(p)
			require.NotEmpty(t, findings, "%s must apply to the secure fixture", c.ID)
			for _, f := range findings {
				if f.Pass {
					continue
				}
				assert.Equal(t, excused[c.ID], f.Resource, "%s %s: %s", c.ID, f.Resource, f.Detail)
				assert.NotNil(t, exceptionFor(p, c.ID, f, Exceptions), "%s %s: the failure must be excepted", c.ID, f.Resource)
			}
		})
	}
}

func TestControlsFailOnInsecurePlan(t *testing.T) {
	t.Parallel()
	p := insecureFixture().plan("prod", ProfileProd)
	rep := Evaluate(p)
	for _, c := range Controls {
		res := resultOf(t, rep, c.ID)
		assert.Equal(t, StatusFail, res.Status, "%s must fail on the insecure plan; findings %+v", c.ID, res.Findings)
	}
	assert.Len(t, rep.Failed(), len(Controls))
}

func TestControlsNotApplicableOnEmptyPlan(t *testing.T) {
	t.Parallel()
	rep := Evaluate(NewPlan("empty", ProfileProd, "ap-northeast-2", nil))
	for _, res := range rep.Results {
		assert.Equal(t, StatusNotApplicable, res.Status, res.Control.ID)
	}
	assert.Empty(t, rep.Failed())
	var out bytes.Buffer
	require.NoError(t, rep.WriteText(&out))
	assert.Contains(t, out.String(), "RDS.2          not applicable  -         no RDS instance in the plan")
	assert.Contains(t, out.String(), "0 pass, 0 fail, 0 exception, 53 not applicable")
}

// TestSingleRuleBreaks breaks one input of the secure plan per case and expects exactly that control to
// fail: each rule reads the input it is meant to.
func TestSingleRuleBreaks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		control string
		breakIt func(f *fixture)
		// also lists controls that necessarily fail with it.
		also []string
	}{
		{"EC2.2", func(f *fixture) {
			set(f.find("net-default-sg"), "egress", []any{map[string]any{"protocol": "-1", "cidrBlocks": []any{"0.0.0.0/0"}}})
		}, nil},
		{"EC2.6", func(f *fixture) { set(f.find("net-flow-log"), "vpcId", "vpc-other") }, nil},
		{"EC2.8", func(f *fixture) {
			set(f.find("chat-server"), "metadataOptions", map[string]any{"httpTokens": "optional"})
		}, nil},
		{"EC2.9", func(f *fixture) {
			set(f.find("api-lt"), "networkInterfaces", []any{map[string]any{"associatePublicIpAddress": "true", "securityGroups": []any{"sg-api"}}})
		}, nil},
		{"EC2.15", func(f *fixture) { f.find("net-vpc").Transforms = nil }, nil},
		{"EC2.18", func(f *fixture) { set(f.find("api-alb-443"), "toPort", 444) }, nil},
		{"EC2.19", func(f *fixture) { set(f.find("api-alb-443"), "ipProtocol", "-1") }, []string{"EC2.18"}},
		{"ELB.1", func(f *fixture) {
			set(f.find("api-http"), "defaultActions", []any{map[string]any{"type": "forward"}})
		}, nil},
		{"ELB.4", func(f *fixture) { set(f.find("api-alb"), "dropInvalidHeaderFields", false) }, nil},
		{"ELB.5", func(f *fixture) { set(f.find("api-alb"), "accessLogs", map[string]any{"enabled": false}) }, nil},
		{"ELB.6", func(f *fixture) { set(f.find("api-alb"), "enableDeletionProtection", false) }, nil},
		{"ELB.12", func(f *fixture) { set(f.find("api-alb"), "desyncMitigationMode", "monitor") }, nil},
		{"ELB.17", func(f *fixture) { set(f.find("api-https"), "sslPolicy", "ELBSecurityPolicy-2016-08") }, nil},
		{"RDS.2", func(f *fixture) { set(f.find("data-db"), "publiclyAccessible", true) }, nil},
		{"RDS.3", func(f *fixture) { delete(f.find("data-db").Inputs, "storageEncrypted") }, nil},
		{"RDS.5", func(f *fixture) { set(f.find("data-db"), "multiAz", false) }, nil},
		{"RDS.8", func(f *fixture) { set(f.find("data-db"), "deletionProtection", false) }, nil},
		{"RDS.11", func(f *fixture) { set(f.find("data-db"), "backupRetentionPeriod", 6) }, nil},
		{"RDS.13", func(f *fixture) { set(f.find("data-db"), "autoMinorVersionUpgrade", false) }, nil},
		{"RDS.17", func(f *fixture) { set(f.find("data-db"), "copyTagsToSnapshot", false) }, nil},
		{"RDS.25", func(f *fixture) { set(f.find("data-db"), "username", "postgres") }, nil},
		{"ElastiCache.1", func(f *fixture) { set(f.find("data-redis"), "snapshotRetentionLimit", 0) }, nil},
		{"ElastiCache.2", func(f *fixture) { set(f.find("data-redis"), "autoMinorVersionUpgrade", false) }, nil},
		{"ElastiCache.3", func(f *fixture) { set(f.find("data-redis"), "automaticFailoverEnabled", false) }, nil},
		{"ElastiCache.4", func(f *fixture) { set(f.find("data-redis"), "atRestEncryptionEnabled", false) }, nil},
		{"ElastiCache.5", func(f *fixture) { set(f.find("data-redis"), "transitEncryptionEnabled", false) }, nil},
		{"ElastiCache.7", func(f *fixture) { delete(f.find("data-redis").Inputs, "subnetGroupName") }, nil},
		{"ECR.1", func(f *fixture) {
			set(f.find("api-repo"), "imageScanningConfiguration", map[string]any{"scanOnPush": false})
		}, nil},
		{"ECR.2", func(f *fixture) { set(f.find("api-repo"), "imageTagMutability", "MUTABLE") }, nil},
		{"ECR.3", func(f *fixture) { set(f.find("api-repo-lifecycle"), "repository", "football/prod/other") }, nil},
		{"ELB.16", func(f *fixture) { set(f.find("edge-waf-alb"), "resourceArn", "arn:other") }, nil},
		{"WAF.10", func(f *fixture) { set(f.find("edge-waf"), "rules", []any{}) }, nil},
		{"WAF.11", func(f *fixture) { set(f.find("edge-waf-logging"), "resourceArn", "arn:other") }, nil},
		{"WAF.12", func(f *fixture) {
			set(f.find("edge-waf"), "rules", []any{map[string]any{"name": "r", "visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": false}}})
		}, nil},
		{"AutoScaling.1", func(f *fixture) { set(f.find("api-asg"), "healthCheckType", "EC2") }, nil},
		{"AutoScaling.2", func(f *fixture) { set(f.find("api-asg"), "vpcZoneIdentifiers", []any{"priv-a"}) }, nil},
		{"AutoScaling.3", func(f *fixture) { set(f.find("api-lt"), "metadataOptions", map[string]any{"httpTokens": "optional"}) },
			[]string{"EC2.8"}},
		{"SSM.1", func(f *fixture) { set(f.find("chat-ssm"), "policyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess") }, nil},
		{"S3.1", func(f *fixture) { set(f.find("account-block"), "restrictPublicBuckets", false) }, nil},
		{"S3.5", func(f *fixture) {
			set(f.find("account-bucket-policy"), "policy", `{"Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`)
		}, nil},
		{"S3.8", func(f *fixture) { set(f.find("account-bucket-block"), "ignorePublicAcls", false) }, nil},
		{"S3.9", func(f *fixture) { set(f.find("account-bucket-logging"), "bucket", "other") }, nil},
		{"S3.13", func(f *fixture) { set(f.find("account-bucket-lifecycle"), "bucket", "other") }, nil},
		{"KMS.4", func(f *fixture) { delete(f.find("account-key").Inputs, "enableKeyRotation") }, nil},
		{"CloudTrail.1", func(f *fixture) { set(f.find("account-trail"), "includeGlobalServiceEvents", false) }, nil},
		{"CloudTrail.2", func(f *fixture) { delete(f.find("account-trail").Inputs, "kmsKeyId") }, nil},
		{"CloudTrail.4", func(f *fixture) { set(f.find("account-trail"), "enableLogFileValidation", false) }, nil},
		{"CloudTrail.5", func(f *fixture) { delete(f.find("account-trail").Inputs, "cloudWatchLogsGroupArn") }, nil},
		{"IAM.1", func(f *fixture) {
			set(f.find("account-boundary"), "policy", `{"Statement":[{"Effect":"Allow","Action":["*"],"Resource":["*"]}]}`)
		}, []string{"IAM.21"}},
		{"IAM.21", func(f *fixture) {
			set(f.find("account-boundary"), "policy", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"arn:aws:ec2:*:1:instance/*"}]}`)
		}, nil},
		{"EC2.7", func(f *fixture) { set(f.find("account-ebs"), "enabled", false) }, nil},
		{"GuardDuty.1", func(f *fixture) { set(f.find("account-guardduty"), "enable", false) }, nil},
		{"Config.1", func(f *fixture) { set(f.find("account-recording"), "isEnabled", false) }, nil},
	}
	require.Len(t, cases, len(Controls), "one case per control")
	for _, c := range cases {
		t.Run(c.control, func(t *testing.T) {
			t.Parallel()
			f := secureFixture(topology{rdsMultiAZ: true})
			c.breakIt(f)
			rep := Evaluate(f.plan("prod", ProfileProd))
			var failed []string
			for _, res := range rep.Failed() {
				failed = append(failed, res.Control.ID)
			}
			assert.ElementsMatch(t, append([]string{c.control}, c.also...), failed)
		})
	}
}

func TestExceptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fixture func() *fixture
		profile string
		control string
		want    Status
	}{
		{"dev single-AZ database is excepted", func() *fixture { return secureFixture(topology{}) }, ProfileDev, "RDS.5", StatusException},
		{"prod single-AZ database fails", func() *fixture { return secureFixture(topology{}) }, ProfileProd, "RDS.5", StatusFail},
		{"chat server's public IP is excepted in prod", func() *fixture { return secureFixture(topology{rdsMultiAZ: true}) }, ProfileProd, "EC2.9", StatusException},
		{"any other public instance fails even in dev", func() *fixture {
			f := secureFixture(topology{})
			f.add("", typeInstance, "stray", "i-stray", map[string]any{"associatePublicIpAddress": true,
				"metadataOptions": map[string]any{"httpTokens": "required"}}, nil)
			return f
		}, ProfileDev, "EC2.9", StatusFail},
		{"dev NAT instance's public IP is excepted", func() *fixture { return secureFixture(topology{nat: "instance"}) }, ProfileDev, "EC2.9", StatusException},
		{"prod NAT instance's public IP fails", func() *fixture { return secureFixture(topology{nat: "instance", rdsMultiAZ: true}) }, ProfileProd, "EC2.9", StatusFail},
		{"chat port open to the world is excepted", func() *fixture { return secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 8080}) }, ProfileProd, "EC2.18", StatusException},
		{"chat port 8080 on the high-risk list is excepted", func() *fixture { return secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 8080}) }, ProfileProd, "EC2.19", StatusException},
		{"SSH open to the world on the chat server is never excepted", func() *fixture { return secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 22}) }, ProfileDev, "EC2.18", StatusFail},
		{"SSH open to the world is a high-risk failure too", func() *fixture { return secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 22}) }, ProfileDev, "EC2.19", StatusFail},
		{"chat on 443 passes both", func() *fixture { return secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 443}) }, ProfileProd, "EC2.19", StatusPass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := resultOf(t, Evaluate(c.fixture().plan("s", c.profile)), c.control)
			assert.Equal(t, c.want, res.Status, "%+v", res.Findings)
			for _, f := range res.Findings {
				if f.Status == StatusException {
					assert.NotEmpty(t, f.Reason, "an exception must carry its reason")
				}
			}
		})
	}
}

func TestEveryExceptionNamesAControlAndAReason(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, c := range Controls {
		known[c.ID] = true
	}
	for _, e := range Exceptions {
		assert.True(t, known[e.Control], "exception for unknown control %q", e.Control)
		assert.Contains(t, []string{"*", ProfileDev, ProfileProd}, e.Profile, e.Control)
		assert.NotEmpty(t, e.Reason, e.Control)
		assert.Equal(t, e.Match != nil, e.Scope != "", "%s: Scope must describe Match", e.Control)
	}
}

func TestReportTextNamesFailures(t *testing.T) {
	t.Parallel()
	rep := Evaluate(insecureFixture().plan("bad", ProfileProd))
	var out bytes.Buffer
	require.NoError(t, rep.WriteText(&out))
	text := out.String()
	assert.Contains(t, text, "FSBP guardrails for stack bad (profile prod, ap-northeast-2)")
	assert.Contains(t, text, "FAIL RDS.25 (RDS database instances should use a custom administrator username): bad-db: username is \"admin\"")
	assert.Contains(t, text, "FAIL EC2.19 (Security groups should not allow unrestricted access to ports with high risk): bad-sg: tcp 22 from 0.0.0.0/0: opens high-risk port(s) 22")
	assert.Contains(t, text, "0 pass, 53 fail, 0 exception, 0 not applicable")
	assert.Equal(t, countFailFindings(rep), strings.Count(text, "\nFAIL "), "one FAIL line per failing finding")
}

func countFailFindings(rep *Report) int {
	n := 0
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			if f.Status == StatusFail {
				n++
			}
		}
	}
	return n
}

// TestHTTPOnlyExceptionNeedsTheExplicitOptIn: prod's plain-HTTP listener is excepted only while the stack
// config says allowHttpOnly.
func TestHTTPOnlyExceptionNeedsTheExplicitOptIn(t *testing.T) {
	t.Parallel()
	insecure := func() *fixture { return secureFixture(topology{rdsMultiAZ: true, httpOnly: true}) }
	p := insecure().plan("s", ProfileProd)
	assert.Equal(t, StatusFail, resultOf(t, Evaluate(p), "ELB.1").Status)
	p.AllowHTTPOnly = true
	assert.Equal(t, StatusException, resultOf(t, Evaluate(p), "ELB.1").Status)
	p.AllowHTTPOnly = false
	assert.Equal(t, StatusFail, resultOf(t, Evaluate(p), "ELB.1").Status)
}
