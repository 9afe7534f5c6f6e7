// Command bootstrap is the Pulumi program that prepares one AWS account for football's stacks (package
// account). Run it from this directory: `pulumi up` (see the README, "First deploy").
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/bootstrap/account"
)

func main() { pulumi.Run(account.Program) }
