package scripts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTestScriptHelp: test.sh --help prints its usage and runs nothing. Its sandbox has no gofmt and a go
// that fails, so a help flag that fell through to the suite would fail here instead of recursing.
func TestTestScriptHelp(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	copyFile(t, "test.sh", filepath.Join(s.dir, "scripts", "test.sh"))
	script := filepath.Join(s.dir, "scripts", "test.sh")
	for _, arg := range []string{"-h", "--help"} {
		code, out, errOut, calls := s.script(script, []string{"STUB_GO_EXIT=3"}, arg)
		assert.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "Usage: bash scripts/test.sh\n")
		assert.Empty(t, calls)
	}
	code, _, errOut, calls := s.script(script, []string{"STUB_GO_EXIT=3"}, "./...")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "test.sh: takes no arguments (see --help)")
	assert.Empty(t, calls)
}

// TestStacksScript: the workflows' matrix comes from the stack files alone: a new Pulumi.<stack>.yaml
// joins its environment's list, football:environment overrides the name's profile, and a file whose
// environment cannot be told fails the listing rather than being left out.
func TestStacksScript(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	copyFile(t, "stacks.sh", filepath.Join(s.dir, "scripts", "stacks.sh"))
	script := filepath.Join(s.dir, "scripts", "stacks.sh")
	for _, f := range []string{"Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.dev-use1.yaml"} {
		require.FileExists(t, filepath.Join(s.dir, f))
	}
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o644))
	}
	write("Pulumi.prod-euw1.yaml", "config:\n  aws:region: eu-west-1\n")
	write("Pulumi.staging.yaml", "config:\n  aws:region: eu-west-1\n  football:environment: \"prod\" # a prod-sized stack\n")

	code, out, errOut, _ := s.script(script, nil)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "dev dev\ndev-use1 dev\nprod prod\nprod-euw1 prod\nstaging prod\n", out)
	code, out, errOut, _ = s.script(script, nil, "--github-output")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `all=["dev","dev-use1","prod","prod-euw1","staging"]`+"\n"+`dev=["dev","dev-use1"]`+"\n"+
		`prod=["prod","prod-euw1","staging"]`+"\n", out)

	write("Pulumi.qa.yaml", "config:\n  aws:region: eu-west-1\n")
	code, out, errOut, _ = s.script(script, nil, "--github-output")
	assert.Equal(t, 2, code)
	assert.Empty(t, out, "no partial matrix")
	assert.Contains(t, errOut, "stacks.sh: Pulumi.qa.yaml: football:environment is not set and the name picks no profile; set it to dev or prod")

	code, out, _, _ = s.script(script, nil, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage: bash scripts/stacks.sh [--github-output]")
}
