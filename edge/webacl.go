package edge

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The WAF's three resources are registered by their Pulumi type tokens, not through pulumi-aws's wafv2
// package. That package is 12 MB of generated Go covering WAF's whole rule language, of which the web ACL
// uses a rate rule and managed rule groups, and compiling it was the largest single part of a cold test
// run (71 s of the 245 s it took to build the tests, docs/testing.md). The inputs are plain maps and lists
// under the provider's property names; stack/waf_schema_test.go holds every name, type and required
// property to the wafv2 package's own Go source, so a misspelt or misplaced property fails the tests as
// it would fail a typed build.
const (
	webACLType            = "aws:wafv2/webAcl:WebAcl"
	webACLAssociationType = "aws:wafv2/webAclAssociation:WebAclAssociation"
	webACLLoggingType     = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
)

// WebACLTypes are the type tokens of the WAF resources Edge registers.
var WebACLTypes = []string{webACLType, webACLAssociationType, webACLLoggingType}

// object is a provider input object: property names as the provider spells them, plain Go values.
type object = map[string]any

// webACLResource is a registered web ACL; the engine fills Arn from the provider's answer.
type webACLResource struct {
	pulumi.CustomResourceState
	// Arn is the web ACL's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

// wafAttachment is a registered association or logging configuration, of which nothing is read back.
type wafAttachment struct {
	pulumi.CustomResourceState
}

// awsProviderVersion is the version of the aws provider plugin the WAF resources ask the engine for: the
// pulumi-aws SDK's version in go.mod, which every typed pulumi-aws resource asks for. A resource registered
// without one would get a default provider of its own, the newest aws plugin installed, which may be
// another major version. stack.TestWAFInputsMatchTheSDK fails when the two differ (after an SDK upgrade).
const awsProviderVersion = "6.83.4"
