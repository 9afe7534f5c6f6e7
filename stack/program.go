// Package stack is the one place where football's components meet: it loads the stack's configuration,
// builds the Network, DataTier, ApiTier and ChatBastion, wires their outputs into each other and exports
// the stack outputs. main.go runs Program; cmd/plan and the tests run Deploy under the mock engine, so
// all three execute the same code.
package stack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/network"
)

// Program is what `pulumi up` and `pulumi preview` run.
func Program(ctx *pulumi.Context) error {
	keys, err := EnvConfigKeys()
	if err != nil {
		return err
	}
	_, err = Deploy(ctx, keys)
	return err
}

// Deploy validates the configuration (keys lists every config key set for the stack), registers the
// stack's resources and exports its outputs, which it also returns. A bad configuration registers nothing.
func Deploy(ctx *pulumi.Context, keys []string) (pulumi.Map, error) {
	cfg, err := Load(ctx, keys)
	if err != nil {
		return nil, err
	}
	var natImage string
	if cfg.Network.NAT == network.NATInstance {
		if natImage, err = ubuntuImage(cfg.Network.NATInstanceType); err != nil {
			return nil, &ConfigError{fmt.Errorf("football:network.natInstanceType: %w", err)}
		}
	}

	net, err := network.NewNetwork(ctx, "net", &network.NetworkArgs{Settings: cfg.Network, NATImage: natImage})
	if err != nil {
		return nil, err
	}

	outputs := pulumi.Map{
		"environment":       pulumi.String(cfg.Environment),
		"region":            pulumi.String(cfg.Region),
		"vpcId":             net.VPCID,
		"vpcCidr":           pulumi.String(net.CIDR),
		"availabilityZones": pulumi.ToStringArray(net.AvailabilityZones),
		"publicSubnetIds":   net.PublicSubnetIDs,
		"privateSubnetIds":  net.PrivateSubnetIDs,
		"dataSubnetIds":     net.DataSubnetIDs,
		"subnetPlan":        planOutput(net.Plan),
		"natPublicIp":       net.NATPublicIP,
		"flowLogGroup":      net.FlowLogGroup,
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return outputs, nil
}

// planOutput renders the address plan as a list of objects for the stack outputs.
func planOutput(p network.Plan) pulumi.Array {
	var out pulumi.Array
	for _, s := range p.Subnets {
		out = append(out, pulumi.Map{
			"tier":             pulumi.String(string(s.Tier)),
			"availabilityZone": pulumi.String(s.AvailabilityZone),
			"cidr":             pulumi.String(s.CIDR),
			"usable":           pulumi.Int(s.Usable),
		})
	}
	return out
}

// ubuntuImage is the Ubuntu 24.04 image for an instance type's architecture, resolved by EC2 at launch.
func ubuntuImage(instanceType string) (string, error) {
	arch := "amd64"
	if len(instanceType) > 2 && instanceType[2] == 'g' || len(instanceType) > 3 && instanceType[3] == 'g' {
		arch = "arm64"
	}
	return "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/" + arch + "/hvm/ebs-gp3/ami-id", nil
}
