package stack

import (
	"encoding/base64"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/insight"
	"github.com/football/football-infra/internal/mock"
)

// withDomain is prod as committed, with the domain its comment shows set (and allowHttpOnly gone), and
// one chat server (mode single) behind the load balancer; chat_test.go covers the fleet with a domain.
var withDomain = map[string]string{"domain.zone": `"example.com"`, "api.allowHttpOnly": ``, "chat.mode": `"single"`}

// zones is the account's hosted zones in these tests.
var zones = mock.Options{HostedZones: []string{"example.com"}}

func named(t *testing.T, m *mock.Mocks, typ, name string) *mock.Resource {
	t.Helper()
	for _, r := range m.ByType(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", typ, name)
	return nil
}

// TestDomainServesHTTPSAndWSS: with a domain, the HTTPS listener uses the certificate ACM validated
// through records in the zone, port 80 redirects, the chat server is a target of a host rule, its chat
// port admits only the load balancer, and both names are aliases of the load balancer.
func TestDomainServesHTTPSAndWSS(t *testing.T) {
	t.Parallel()
	m := planEdited(t, "prod", withDomain, zones)

	cert := m.One(t, "aws:acm/certificate:Certificate")
	assert.Equal(t, "api.example.com", cert.Str("domainName"))
	assert.Equal(t, []string{"chat.example.com"}, cert.Strs("subjectAlternativeNames"))
	assert.Equal(t, "DNS", cert.Str("validationMethod"))
	validation := m.One(t, "aws:acm/certificateValidation:CertificateValidation")
	certARN := output(t, cert, "arn")
	assert.Equal(t, certARN, validation.Str("certificateArn"))
	options, ok := cert.Output("domainValidationOptions")
	require.True(t, ok)
	zoneID := named(t, m, "aws:route53/record:Record", "edge-api-alias").Str("zoneId")
	require.NotEmpty(t, zoneID)
	var fqdns []string
	for i, role := range []string{"api", "chat"} {
		rec := named(t, m, "aws:route53/record:Record", "edge-"+role+"-validation")
		opt := options.ArrayValue()[i]
		name, _ := mock.Lookup(opt, "resourceRecordName")
		value, _ := mock.Lookup(opt, "resourceRecordValue")
		assert.Equal(t, name.StringValue(), rec.Str("name"), "%s: ACM's record name", role)
		assert.Equal(t, []string{value.StringValue()}, rec.Strs("records"), "%s: ACM's record value", role)
		assert.Equal(t, "CNAME", rec.Str("type"))
		assert.Equal(t, zoneID, rec.Str("zoneId"))
		fqdns = append(fqdns, output(t, rec, "fqdn"))
	}
	assert.Equal(t, fqdns, validation.Strs("validationRecordFqdns"), "the validation waits for both records")

	https := named(t, m, "aws:lb/listener:Listener", "api-https")
	// The listener waits for ACM: its certificate comes out of the validation, not the certificate itself
	// (whose ARN is the same string, so comparing values would not tell them apart).
	assert.Equal(t, []string{validation.URN}, https.PropertyDependencies["certificateArn"], "the listener's certificate is the validation's output")
	assert.Contains(t, https.Dependencies, validation.URN, "the listener is created after the validation")
	http := named(t, m, "aws:lb/listener:Listener", "api-http")
	assert.Equal(t, "redirect", http.Str("defaultActions[0].type"))
	assert.Equal(t, "HTTPS", http.Str("defaultActions[0].redirect.protocol"))

	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	for _, host := range []string{"api", "chat"} {
		alias := named(t, m, "aws:route53/record:Record", "edge-"+host+"-alias")
		assert.Equal(t, host+".example.com", alias.Str("name"))
		assert.Equal(t, "A", alias.Str("type"))
		assert.Equal(t, output(t, alb, "dnsName"), alias.Str("aliases[0].name"))
		assert.Equal(t, output(t, alb, "zoneId"), alias.Str("aliases[0].zoneId"))
	}

	chat := named(t, m, "aws:ec2/instance:Instance", "chat-server")
	chatTG := named(t, m, "aws:lb/targetGroup:TargetGroup", "api-chat-tg")
	port, _ := chatTG.Num("port")
	assert.Equal(t, float64(8080), port)
	assert.Equal(t, "/health", chatTG.Str("healthCheck.path"))
	attachment := m.One(t, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
	assert.Equal(t, chat.ID, attachment.Str("targetId"), "the chat target group holds the chat server")
	assert.Equal(t, output(t, chatTG, "arn"), attachment.Str("targetGroupArn"))
	rule := m.One(t, "aws:lb/listenerRule:ListenerRule")
	assert.Equal(t, https.ID, rule.Str("listenerArn"))
	assert.Equal(t, []string{"chat.example.com"}, rule.Strs("conditions[0].hostHeader.values"))
	assert.Equal(t, output(t, chatTG, "arn"), rule.Str("actions[0].targetGroupArn"))

	chatSG := named(t, m, "aws:ec2/securityGroup:SecurityGroup", "chat-sg")
	albSG := named(t, m, "aws:ec2/securityGroup:SecurityGroup", "api-alb-sg")
	var chatPortSources []string
	for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if from, _ := r.Num("fromPort"); r.Str("securityGroupId") == chatSG.ID && from == 8080 {
			chatPortSources = append(chatPortSources, r.Str("cidrIpv4")+r.Str("cidrIpv6")+r.Str("referencedSecurityGroupId"))
		}
	}
	assert.Equal(t, []string{albSG.ID}, chatPortSources, "the chat port admits only the load balancer")
	toChat := named(t, m, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "api-alb-to-chat")
	assert.Equal(t, chatSG.ID, toChat.Str("referencedSecurityGroupId"))

	// The chat server calls the API by its name (the certificate's), not the load balancer's.
	assert.Contains(t, chatEnvOfStack(t, m), "API_BASE_URL=https://api.example.com\n")
}

// TestDomainGuardrails: with a domain, no ingress rule opens a port to the internet except the load
// balancer's 80/443, so prod carries no EC2.18/EC2.19 exception; the web ACL passes WAF.10-12 and ELB.16.
func TestDomainGuardrails(t *testing.T) {
	t.Parallel()
	m := planEdited(t, "prod", withDomain, zones)
	rep := insight.Evaluate(insight.NewPlan("prod", "prod", "ap-northeast-2", m.All()))
	for _, res := range rep.Results {
		switch res.Control.ID {
		case "EC2.18", "EC2.19", "ELB.1", "ELB.16", "WAF.10", "WAF.11", "WAF.12":
			assert.Equal(t, insight.StatusPass, res.Status, res.Control.ID)
		}
	}
	assert.Empty(t, rep.Failed())
}

// TestWebACL: prod's web ACL holds the four managed groups and the rate rule, blocks by default with
// NoUserAgent_HEADER counted, is associated with the load balancer and logs what it blocks or counts, with
// the authorization and cookie headers redacted.
func TestWebACL(t *testing.T) {
	t.Parallel()
	m := planWith(t, "prod", "", "")
	acl := m.One(t, "aws:wafv2/webAcl:WebAcl")
	assert.Equal(t, "REGIONAL", acl.Str("scope"))
	assert.Equal(t, []string{"AWSManagedRulesAmazonIpReputationList", "rate-per-ip", "AWSManagedRulesKnownBadInputsRuleSet",
		"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"}, sortedByPriority(t, acl))
	limit, _ := mock.Lookup(ruleNamed(t, acl, "rate-per-ip"), "statement.rateBasedStatement.limit")
	assert.Equal(t, 2000.0, limit.NumberValue())
	common := ruleNamed(t, acl, "AWSManagedRulesCommonRuleSet")
	override, _ := mock.Lookup(common, "statement.managedRuleGroupStatement.ruleActionOverrides[0].name")
	assert.Equal(t, "NoUserAgent_HEADER", override.StringValue())
	_, none := mock.Lookup(common, "overrideAction.none")
	assert.True(t, none, "the group blocks")

	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	assoc := m.One(t, "aws:wafv2/webAclAssociation:WebAclAssociation")
	assert.Equal(t, output(t, alb, "arn"), assoc.Str("resourceArn"))
	assert.Equal(t, output(t, acl, "arn"), assoc.Str("webAclArn"))
	logging := m.One(t, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
	group := named(t, m, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs")
	assert.Equal(t, "aws-waf-logs-football-prod-", group.Str("namePrefix"), "a prefix: a kept group must not block turning the WAF on again")
	assert.True(t, group.RetainOnDelete, "prod keeps the WAF's logs when the web ACL goes")
	assert.Equal(t, []string{output(t, group, "arn")}, logging.Strs("logDestinationConfigs"))
	assert.Equal(t, "authorization", logging.Str("redactedFields[0].singleHeader.name"))
	assert.Equal(t, "cookie", logging.Str("redactedFields[1].singleHeader.name"))
	assert.Equal(t, "DROP", logging.Str("loggingFilter.defaultBehavior"))

	count := planEdited(t, "prod", map[string]string{"waf.mode": `"count"`}, mock.Options{})
	for _, r := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"} {
		_, counted := mock.Lookup(ruleNamed(t, count.One(t, "aws:wafv2/webAcl:WebAcl"), r), "overrideAction.count")
		assert.True(t, counted, "count mode: %s only counts", r)
	}
	assert.Empty(t, planWith(t, "dev", "", "").ByType("aws:wafv2/webAcl:WebAcl"), "no web ACL in dev by default")
}

// resourceValue is a property value of a planned resource.
type resourceValue = resource.PropertyValue

// chatEnvOfStack decodes the chat server's env file from its Systems Manager association.
func chatEnvOfStack(t *testing.T, m *mock.Mocks) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(m.One(t, "aws:ssm/association:Association").Str("parameters.env"))
	require.NoError(t, err)
	return string(raw)
}

func ruleNamed(t *testing.T, acl *mock.Resource, name string) resourceValue {
	t.Helper()
	rules, _ := acl.Input("rules")
	for _, r := range rules.ArrayValue() {
		if n, _ := mock.Lookup(r, "name"); n.StringValue() == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return resourceValue{}
}

func sortedByPriority(t *testing.T, acl *mock.Resource) []string {
	t.Helper()
	rules, _ := acl.Input("rules")
	out := make([]string, len(rules.ArrayValue()))
	for _, r := range rules.ArrayValue() {
		p, _ := mock.Lookup(r, "priority")
		n, _ := mock.Lookup(r, "name")
		require.Less(t, int(p.NumberValue()), len(out))
		out[int(p.NumberValue())] = n.StringValue()
	}
	return out
}

// TestBadDomainAndWAFConfig: every problem is reported at once, naming its key, and nothing is registered.
func TestBadDomainAndWAFConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit map[string]string
		want []string
	}{
		{"host outside the zone", map[string]string{"football:domain": `{"zone":"example.com","apiHost":"api.example.org"}`},
			[]string{`football:domain.apiHost: "api.example.org" is not allowed; must be inside the zone example.com`}},
		{"zone with a typo", map[string]string{"football:domain": `{"zone":"exmaple.com"}`},
			[]string{`football:domain.zone: "exmaple.com" is not allowed; no public Route 53 hosted zone of that name`}},
		{"zone with a trailing typo", map[string]string{"football:domain": `{"zone":"example.com,"}`},
			[]string{`football:domain.zone: "example.com," is not allowed; must be a DNS name`}},
		{"domain and certificateArn", map[string]string{"football:domain": `{"zone":"example.com"}`,
			"football:api": `{"certificateArn":"arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"}`},
			[]string{"football:domain and football:api.certificateArn: both set"}},
		{"chat CIDRs with a domain", map[string]string{"football:domain": `{"zone":"example.com"}`, "football:chat": `{"chatCidrs":["0.0.0.0/0"]}`},
			[]string{`football:chat.chatCidrs: [0.0.0.0/0] is not allowed while football:domain is set`}},
		{"rate limit and overrides", map[string]string{"football:waf": `{"enabled":true,"rateLimit":9,"overrides":[{"group":"common","rule":"SizeRestrictions_Body","action":"count"},{"group":"bots","rule":"x","action":"count"}],"groups":{"sqli":"maybe"}}`},
			[]string{`football:waf.rateLimit: 9 is not allowed; allowed 10..2000000000`,
				`football:waf.overrides[0].rule: "SizeRestrictions_Body" is not allowed; not a rule of common`,
				`football:waf.overrides[1].group: "bots" is not allowed`,
				`football:waf.groups.sqli: "maybe" is not allowed; allowed block, count, off`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig("dev")
			for k, v := range c.edit {
				cfg[k] = v
			}
			m, err := mock.Run(mock.Options{Stack: "dev", Config: cfg, HostedZones: []string{"example.com"}}, func(ctx *pulumi.Context) error {
				_, err := Deploy(ctx, keysOf(cfg))
				return err
			})
			require.Error(t, err)
			var cfgErr *ConfigError
			assert.ErrorAs(t, err, &cfgErr)
			for _, w := range c.want {
				assert.ErrorContains(t, err, w)
			}
			assert.Empty(t, m.All(), "nothing registered")
		})
	}
}
