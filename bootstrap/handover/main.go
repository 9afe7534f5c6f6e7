// Command handover sets the GitHub variables the workflows read from a bootstrap stack's outputs: the
// repository's (the preview role, the state backend and the secrets provider) and each environment's
// (its deploy role), creating the environments that do not exist yet. It runs `pulumi stack output --json`
// in bootstrap/ (the selected stack, or -stack) and `gh` as the logged-in user, who needs admin rights on
// the repository.
//
//	go run ./bootstrap/handover            # set them
//	go run ./bootstrap/handover -dry-run   # print the gh commands instead
//
// Exit codes: 0 done, 2 bad usage or outputs that are not a bootstrap stack's, 1 a command failed.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// outputs are the bootstrap stack outputs handover reads.
type outputs struct {
	Repository  string                       `json:"githubRepository"`
	Variables   map[string]string            `json:"githubVariables"`
	Environment map[string]map[string]string `json:"githubEnvironmentVariables"`
}

// Commands are the gh invocations that hand the outputs over, in a stable order: the environments first
// (gh variable set --env needs them to exist), then the repository's variables, then each environment's.
func Commands(raw []byte) ([][]string, error) {
	var o outputs
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("reading the stack outputs: %w", err)
	}
	if o.Repository == "" || len(o.Variables) == 0 {
		return nil, errors.New("the stack outputs have no githubRepository or githubVariables: is this a bootstrap stack (bootstrap/Pulumi.<account>.yaml)?")
	}
	var cmds [][]string
	envs := slices.Sorted(maps.Keys(o.Environment))
	for _, env := range envs {
		cmds = append(cmds, []string{"gh", "api", "--silent", "-X", "PUT", "repos/" + o.Repository + "/environments/" + env})
	}
	for _, name := range slices.Sorted(maps.Keys(o.Variables)) {
		cmds = append(cmds, []string{"gh", "variable", "set", name, "--repo", o.Repository, "--body", o.Variables[name]})
	}
	for _, env := range envs {
		for _, name := range slices.Sorted(maps.Keys(o.Environment[env])) {
			cmds = append(cmds, []string{"gh", "variable", "set", name, "--repo", o.Repository, "--env", env, "--body", o.Environment[env][name]})
		}
	}
	return cmds, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("handover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "print the gh commands instead of running them")
	stack := fs.String("stack", "", "the bootstrap stack (default: the selected one)")
	from := fs.String("outputs", "", "read the outputs from this JSON file instead of `pulumi stack output --json`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "handover: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var raw []byte
	var err error
	if *from != "" {
		raw, err = os.ReadFile(*from)
	} else {
		raw, err = stackOutputs(*stack)
	}
	if err != nil {
		fmt.Fprintf(stderr, "handover: %v\n", err)
		return 1
	}
	cmds, err := Commands(raw)
	if err != nil {
		fmt.Fprintf(stderr, "handover: %v\n", err)
		return 2
	}
	for _, c := range cmds {
		if *dry {
			fmt.Fprintln(stdout, shellQuote(c))
			continue
		}
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stderr, "handover: %s: %v\n", shellQuote(c), err)
			return 1
		}
		fmt.Fprintf(stdout, "done: %s\n", strings.Join(c[:min(len(c), 6)], " "))
	}
	return 0
}

// stackOutputs runs `pulumi stack output --json` in bootstrap/ (next to this command's directory).
func stackOutputs(stack string) ([]byte, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..")
	if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err != nil {
		dir = "bootstrap" // a binary built elsewhere: run from the repository's root
	}
	args := []string{"stack", "output", "--json"}
	if stack != "" {
		args = append(args, "--stack", stack)
	}
	cmd := exec.Command("pulumi", args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pulumi stack output --json in %s: %v: %s", dir, err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

// shellQuote prints a command the way a shell would take it back.
func shellQuote(c []string) string {
	var parts []string
	for _, a := range c {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
			parts = append(parts, a)
			continue
		}
		parts = append(parts, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(parts, " ")
}
