// Command plan shows what a stack would create, offline: no AWS account, credentials, network or Pulumi
// CLI. It reads Pulumi.yaml and Pulumi.<stack>.yaml, runs the real program under Pulumi's mock engine and
// prints the resource tree, or with -format json a document shaped like `pulumi preview --json`.
//
// Exit codes: 0 planned, 2 unknown stack or invalid configuration (messages on stderr), 1 anything else.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/football/football-infra/internal/offline"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "dev", "stack name: reads Pulumi.<stack>.yaml")
	format := fs.String("format", "text", "output format: text or json")
	dir := fs.String("dir", ".", "project directory (where Pulumi.yaml is)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "plan: -format %q is not allowed; allowed text, json\n", *format)
		return 2
	}
	res, err := offline.Plan(*dir, *stack)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		if errors.Is(err, offline.ErrConfig) {
			return 2
		}
		return 1
	}
	if *format == "json" {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return 1
	}
	return 0
}
