package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/edge"
	"github.com/football/football-infra/internal/mock"
)

// wafArgsStructs are the plain args structs of the wafv2 package's resources, by type token.
var wafArgsStructs = map[string]string{
	"aws:wafv2/webAcl:WebAcl":                                         "webAclArgs",
	"aws:wafv2/webAclAssociation:WebAclAssociation":                   "webAclAssociationArgs",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "webAclLoggingConfigurationArgs",
}

// TestWAFInputsMatchTheSDK: Edge registers the web ACL, its association and its logging configuration by
// type token, without pulumi-aws's wafv2 package (edge/webacl.go). Every shape of them the settings can
// give (prod's defaults: blocking, one rule counted, filtered logs; then count mode, every override action,
// a group counted and another off, every request logged) is held to that package's Go source: each property
// declared there, of the kind declared, every required one present. Each also asks for the pulumi-aws
// version the typed resources ask for, so the engine gives all of them one provider.
func TestWAFInputsMatchTheSDK(t *testing.T) {
	t.Parallel()
	dir, err := mock.PackageDir("github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2")
	require.NoError(t, err)
	schema, err := mock.LoadSDKSchema(dir)
	require.NoError(t, err)

	plans := map[string]*mock.Mocks{
		"prod": planWith(t, "prod", "", ""),
		"prod, count mode, every override action, all requests logged": planEdited(t, "prod", map[string]string{
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
		require.NotEmpty(t, version, "%s: the typed pulumi-aws resources ask for a provider version", label)
		for _, typ := range edge.WebACLTypes {
			r := m.One(t, typ)
			assert.Empty(t, schema.Check(wafArgsStructs[typ], r.Inputs), "%s: %s %s", label, typ, r.Name)
			assert.Equal(t, version, r.Version, "%s: %s asks for the aws provider the rest of the stack uses", label, typ)
		}
	}
	// The variant reached every shape it names.
	acl := plans["prod, count mode, every override action, all requests logged"].One(t, "aws:wafv2/webAcl:WebAcl")
	for _, path := range []string{"overrideAction.count", "statement.managedRuleGroupStatement.ruleActionOverrides[1].actionToUse.block"} {
		_, ok := mock.Lookup(ruleNamed(t, acl, "AWSManagedRulesCommonRuleSet"), path)
		assert.True(t, ok, path)
	}
	_, allowed := mock.Lookup(ruleNamed(t, acl, "AWSManagedRulesKnownBadInputsRuleSet"), "statement.managedRuleGroupStatement.ruleActionOverrides[0].actionToUse.allow")
	assert.True(t, allowed)
	_, filtered := plans["prod, count mode, every override action, all requests logged"].One(t, edge.WebACLTypes[2]).Inputs["loggingFilter"]
	assert.False(t, filtered, "every request logged: no filter")
}
