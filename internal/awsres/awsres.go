// Package awsres registers pulumi-aws resources by their type tokens, for the services whose typed Go
// package costs far more to compile than the project uses of it: WAF (12 MB of generated rule types, for
// a web ACL, its association and its logging), Security Hub, GuardDuty, AWS Config, Budgets, Access
// Analyzer, CloudTrail and EBS (the account baseline's one or two resources each). Together they were
// about a third of the AWS provider's share of a cold test build (docs/testing.md).
//
// Inputs are plain Go maps and lists under the provider's property names, the shape the typed package
// would send. Tests hold every input to that package's Go source (mock.SDKSchema): a misspelt or
// misplaced property, a value of the wrong kind or a missing required one fails them as it would fail a
// typed build.
package awsres

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// ProviderVersion is the aws provider plugin version these resources ask the engine for: the pulumi-aws
// SDK's version in go.mod, which every typed pulumi-aws resource asks for. Without it a resource would get
// a default provider of its own, the newest aws plugin installed, which may be another major version. The
// stack and bootstrap tests fail when it differs from the typed resources' (after an SDK upgrade).
const ProviderVersion = "6.83.4"

// Object is a provider input object: property names as the provider spells them, plain Go values.
type Object = map[string]any

// Resource is a registered resource. The engine fills Arn for the types whose state has one ("" for
// the others).
type Resource struct {
	pulumi.CustomResourceState
	// Arn is the resource's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

// Register registers a resource of the type token with the inputs, asking for ProviderVersion.
func Register(ctx *pulumi.Context, token, name string, inputs pulumi.Map, opts ...pulumi.ResourceOption) (*Resource, error) {
	var r Resource
	opts = append([]pulumi.ResourceOption{pulumi.Version(ProviderVersion)}, opts...)
	if err := ctx.RegisterResource(token, name, inputs, &r, opts...); err != nil {
		return nil, err
	}
	return &r, nil
}
