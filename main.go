// Command football-infra is the Pulumi program of football's AWS environment.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/stack"
)

func main() { pulumi.Run(stack.Program) }
