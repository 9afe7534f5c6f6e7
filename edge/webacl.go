package edge

import "github.com/football/football-infra/internal/awsres"

// The WAF's three resources are registered by their type tokens (internal/awsres says why); their inputs
// use the provider's property names and shapes, which stack.TestWAFInputsMatchTheSDK checks against pulumi-aws's
// wafv2 package.
const (
	webACLType            = "aws:wafv2/webAcl:WebAcl"
	webACLAssociationType = "aws:wafv2/webAclAssociation:WebAclAssociation"
	webACLLoggingType     = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
)

// WebACLTypes are the type tokens of the WAF resources Edge registers.
var WebACLTypes = []string{webACLType, webACLAssociationType, webACLLoggingType}

// object is a provider input object.
type object = awsres.Object
