package stack

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

// server registers one instance and a route that depends on it, with the given options on the instance.
func server(t *testing.T, instanceType, ami string, routeWith bool, opts ...pulumi.ResourceOption) *mock.Mocks {
	t.Helper()
	m, err := mock.Run(mock.Options{}, func(ctx *pulumi.Context) error {
		s, err := ec2.NewInstance(ctx, "server", &ec2.InstanceArgs{InstanceType: pulumi.String(instanceType), Ami: pulumi.String(ami),
			Tags: pulumi.StringMap{"Name": pulumi.String("server"), "Owner": pulumi.String(ami)}}, opts...)
		if err != nil {
			return err
		}
		var routeOpts []pulumi.ResourceOption
		if routeWith {
			routeOpts = append(routeOpts, pulumi.ReplaceWith([]pulumi.Resource{s}))
		}
		_, err = ec2.NewRoute(ctx, "route", &ec2.RouteArgs{RouteTableId: pulumi.String("rtb-1"), DestinationCidrBlock: pulumi.String("0.0.0.0/0")}, routeOpts...)
		return err
	})
	require.NoError(t, err)
	return m
}

// TestReplacedByReadsResourceOptions: the day-2 comparison judges a replacement the way the engine would,
// from the options the program registered, not from the provider's replace-forcing inputs alone.
func TestReplacedByReadsResourceOptions(t *testing.T) {
	t.Parallel()
	const ami1, ami2 = "ami-0123456789abcdef0", "ami-0fedcba9876543210"
	cases := []struct {
		name          string
		before, after *mock.Mocks
		want          map[string][]string
	}{
		{"an instance type change is in place", server(t, "t4g.micro", ami1, false), server(t, "t4g.small", ami1, false), map[string][]string{}},
		{"replaceOnChanges makes it a replacement",
			server(t, "t4g.micro", ami1, false, pulumi.ReplaceOnChanges([]string{"instanceType"})),
			server(t, "t4g.small", ami1, false, pulumi.ReplaceOnChanges([]string{"instanceType"})),
			map[string][]string{"server": {"replaceOnChanges instanceType"}}},
		{"replaceOnChanges * covers every input",
			server(t, "t4g.micro", ami1, false, pulumi.ReplaceOnChanges([]string{"*"})),
			server(t, "t4g.small", ami1, false, pulumi.ReplaceOnChanges([]string{"*"})),
			map[string][]string{"server": {"replaceOnChanges *"}}},
		{"a new image replaces", server(t, "t4g.micro", ami1, false), server(t, "t4g.micro", ami2, false),
			map[string][]string{"server": {"ami"}}},
		{"ignoreChanges hides the new image",
			server(t, "t4g.micro", ami1, false, pulumi.IgnoreChanges([]string{"ami"})),
			server(t, "t4g.micro", ami2, false, pulumi.IgnoreChanges([]string{"ami"})), map[string][]string{}},
		{"ignoreChanges inside a replaceOnChanges path",
			server(t, "t4g.micro", ami1, false, pulumi.ReplaceOnChanges([]string{"tags"}), pulumi.IgnoreChanges([]string{"ami", "tags.Owner"})),
			server(t, "t4g.micro", ami2, false, pulumi.ReplaceOnChanges([]string{"tags"}), pulumi.IgnoreChanges([]string{"ami", "tags.Owner"})),
			map[string][]string{}},
		{"replaceWith follows the server",
			server(t, "t4g.micro", ami1, true), server(t, "t4g.micro", ami2, true),
			map[string][]string{"server": {"ami"}, "route": {"replaceWith urn:pulumi:test::football::aws:ec2/instance:Instance::server"}}},
		{"a changed replacement trigger replaces",
			server(t, "t4g.micro", ami1, false, pulumi.ReplacementTrigger(pulumi.String("v1"))),
			server(t, "t4g.micro", ami1, false, pulumi.ReplacementTrigger(pulumi.String("v2"))),
			map[string][]string{"server": {"replacementTrigger"}}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, replacedBy(c.before, c.after), c.name)
	}
	protected := server(t, "t4g.micro", ami1, false, pulumi.Protect(true), pulumi.RetainOnDelete(true), pulumi.DeleteBeforeReplace(true))
	r := protected.One(t, "aws:ec2/instance:Instance")
	assert.True(t, r.Protect && r.RetainOnDelete && r.DeleteBeforeReplace, "the mock records protect, retainOnDelete and deleteBeforeReplace")
}
