package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/edge"
	"github.com/football/football-infra/internal/awsres"
	"github.com/football/football-infra/internal/mock"
)

// TestWAFInputsMatchTheSDK: Edge registers the web ACL, its association and its logging configuration by
// type token, without pulumi-aws's wafv2 package (internal/awsres). Every shape of them the settings can
// give (prod's defaults: blocking, one rule counted, filtered logs; then count mode, every override action,
// a group counted and another off, every request logged) is held to that package's Go source: each property
// declared there, of the kind declared, every required one present. Each also asks for the aws provider
// version the typed resources (the load balancer) ask for, so the engine gives all of them one provider.
func TestWAFInputsMatchTheSDK(t *testing.T) {
	t.Parallel()
	variant := "prod, count mode, every override action, all requests logged"
	plans := map[string]*mock.Mocks{
		"prod": planWith(t, "prod", "", ""),
		variant: planEdited(t, "prod", map[string]string{
			"waf.mode": `"count"`,
			"waf.overrides": `[{"group":"common","rule":"NoUserAgent_HEADER","action":"count"},` +
				`{"group":"knownBadInputs","rule":"Log4JRCE_BODY","action":"allow"},{"group":"common","rule":"GenericLFI_BODY","action":"block"}]`,
			"waf.groups.ipReputation": `"count"`,
			"waf.groups.sqli":         `"off"`,
			"waf.logAllRequests":      `true`,
		}, mock.Options{}),
	}
	for label, m := range plans {
		version := m.One(t, "aws:lb/loadBalancer:LoadBalancer").Version
		require.Equal(t, awsres.ProviderVersion, version, "%s: awsres.ProviderVersion is the version the typed pulumi-aws resources ask for", label)
		assert.Empty(t, m.SDKProblems(t, version, edge.WebACLTypes...), label)
	}
	// The variant reached every shape it names.
	acl := plans[variant].One(t, "aws:wafv2/webAcl:WebAcl")
	for _, path := range []string{"overrideAction.count", "statement.managedRuleGroupStatement.ruleActionOverrides[1].actionToUse.block"} {
		_, ok := mock.Lookup(ruleNamed(t, acl, "AWSManagedRulesCommonRuleSet"), path)
		assert.True(t, ok, path)
	}
	_, allowed := mock.Lookup(ruleNamed(t, acl, "AWSManagedRulesKnownBadInputsRuleSet"), "statement.managedRuleGroupStatement.ruleActionOverrides[0].actionToUse.allow")
	assert.True(t, allowed)
	_, filtered := plans[variant].One(t, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").Inputs["loggingFilter"]
	assert.False(t, filtered, "every request logged: no filter")
}
