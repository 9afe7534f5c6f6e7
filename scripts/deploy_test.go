// Package scripts holds the tests of the repository's shell scripts; the scripts themselves are bash.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tools are the programs deploy.sh may run besides the stubs; nothing else from the host's PATH is
// visible to it, so an AWS CLI or Pulumi CLI installed on the machine cannot leak into a case.
var tools = []string{"bash", "env", "sed", "grep", "awk", "head", "tail", "mkdir", "dirname", "cat", "tr", "sort"}

// stubs are fake commands that log their arguments to $STUB_LOG, one line per call.
var stubs = map[string]string{
	// go run ./cmd/plan: the plan itself is cmd/plan's to test; here it only has to run first.
	"go": `echo "go $*" >> "$STUB_LOG"; echo "offline plan of $*"; exit "${STUB_GO_EXIT:-0}"`,
	// pulumi whoami -v answers as the CLI does when logged in to STUB_BACKEND, and fails like the
	// non-interactive CLI when logged in nowhere.
	"pulumi": `echo "pulumi $*" >> "$STUB_LOG"
case "$1" in
  whoami)
    if [ -z "${STUB_BACKEND:-}" ]; then echo "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions" >&2; exit 255; fi
    printf 'User: alice\nOrganizations: alice, football\nBackend URL: %s\nToken type: personal\n' "$STUB_BACKEND" ;;
esac`,
	// aws sts get-caller-identity answers STUB_AWS_ARN, or fails with STUB_AWS_ERROR.
	"aws": `echo "aws $*" >> "$STUB_LOG"
if [ -n "${STUB_AWS_ARN:-}" ]; then echo "$STUB_AWS_ARN"; exit 0; fi
printf '\n%s\n' "${STUB_AWS_ERROR:-Unable to locate credentials. You can configure credentials by running \"aws configure\".}" >&2; exit 255`,
}

// sandbox is a copy of the project's stack files and the script under test, with its own HOME and PATH.
type sandbox struct {
	t                   *testing.T
	dir, home, bin, log string
	env                 []string
}

func newSandbox(t *testing.T, commands ...string) *sandbox {
	t.Helper()
	root := t.TempDir()
	s := &sandbox{t: t, dir: filepath.Join(root, "project"), home: filepath.Join(root, "home"), bin: filepath.Join(root, "bin"),
		log: filepath.Join(root, "calls.log")}
	for _, d := range []string{filepath.Join(s.dir, "scripts"), s.home, s.bin} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	copyFile(t, "deploy.sh", filepath.Join(s.dir, "scripts", "deploy.sh"))
	stackFiles, err := filepath.Glob("../Pulumi*.yaml")
	require.NoError(t, err)
	for _, f := range stackFiles {
		copyFile(t, f, filepath.Join(s.dir, filepath.Base(f)))
	}
	for _, tool := range tools {
		path, err := exec.LookPath(tool)
		require.NoError(t, err, "deploy.sh needs %s", tool)
		require.NoError(t, os.Symlink(path, filepath.Join(s.bin, tool)))
	}
	for _, name := range append([]string{"go"}, commands...) {
		body, ok := stubs[name]
		require.True(t, ok, "no stub for %s", name)
		require.NoError(t, os.WriteFile(filepath.Join(s.bin, name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755))
	}
	s.env = []string{"HOME=" + s.home, "PATH=" + s.bin, "STUB_LOG=" + s.log, "AWS_EC2_METADATA_DISABLED=true"}
	return s
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o755))
}

// file writes a file under the sandbox's HOME.
func (s *sandbox) file(path, body string) {
	s.t.Helper()
	full := filepath.Join(s.home, path)
	require.NoError(s.t, os.MkdirAll(filepath.Dir(full), 0o755))
	require.NoError(s.t, os.WriteFile(full, []byte(body), 0o600))
}

// run runs deploy.sh with args and extra environment, and returns its exit code, output and the stubs'
// calls in this run.
func (s *sandbox) run(env []string, args ...string) (code int, stdout, stderr string, calls []string) {
	s.t.Helper()
	return s.script(filepath.Join(s.dir, "scripts", "deploy.sh"), env, args...)
}

// script runs a script of the sandbox's project the way run runs deploy.sh.
func (s *sandbox) script(path string, env []string, args ...string) (code int, stdout, stderr string, calls []string) {
	s.t.Helper()
	require.NoError(s.t, os.RemoveAll(s.log))
	cmd := exec.Command(filepath.Join(s.bin, "bash"), append([]string{path}, args...)...)
	cmd.Env = append(append([]string(nil), s.env...), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(s.t, err)
	}
	log, err := os.ReadFile(s.log)
	if err == nil {
		calls = strings.Split(strings.TrimSpace(string(log)), "\n")
	}
	return code, out.String(), errOut.String(), calls
}

const ssoConfig = `[default]
region = ap-northeast-2

[profile football-dev]
sso_session = football
sso_account_id = 111122223333
sso_role_name = PowerUserAccess
region = ap-northeast-2

[sso-session football]
sso_start_url = https://football.awsapps.com/start
sso_region = ap-northeast-2
`

func TestDeployHelpAndArguments(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	for _, arg := range []string{"-h", "--help"} {
		code, out, errOut, calls := s.run(nil, arg)
		assert.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "Usage: bash scripts/deploy.sh [--up | --plan] [stack]")
		assert.Empty(t, calls, "help plans nothing")
	}
	code, _, errOut, calls := s.run(nil, "--nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "deploy.sh: unknown option --nope (see --help)")
	assert.Empty(t, calls)
	code, _, errOut, _ = s.run(nil, "dev", "prod")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "one stack at a time")
}

// TestDeployFreshMachine: the quick start's main job on a machine with nothing but Go prints the plan and
// exits 0; asked to deploy there, it fails and says why.
func TestDeployFreshMachine(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	code, out, errOut, calls := s.run(nil, "dev")
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, []string{"go run ./cmd/plan -stack dev"}, calls)
	assert.Contains(t, out, "offline plan of run ./cmd/plan -stack dev")
	assert.Contains(t, out, "Stopping after the offline plan: the Pulumi CLI is not installed")

	code, _, errOut, _ = s.run(nil, "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "deploy.sh: cannot deploy stack dev: the Pulumi CLI is not installed")

	code, out, _, _ = s.run(nil, "--plan", "prod")
	assert.Equal(t, 0, code)
	assert.Equal(t, "offline plan of run ./cmd/plan -stack prod\n", out, "--plan stops after the plan, silently")
}

// TestDeployPlanFailureStops: a refused plan (exit 2, bad config) is deploy.sh's exit code, and nothing
// reaches Pulumi.
func TestDeployPlanFailureStops(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi")
	code, _, _, calls := s.run([]string{"STUB_GO_EXIT=2", "AWS_ACCESS_KEY_ID=AKIA0", "AWS_SECRET_ACCESS_KEY=x"}, "--up", "nosuch")
	assert.Equal(t, 2, code)
	assert.Equal(t, []string{"go run ./cmd/plan -stack nosuch"}, calls)
}

// TestDeployNoCredentials: with the Pulumi CLI but no usable credentials anywhere, the main job stops after
// the plan (exit 0) and a requested deploy fails (exit 1), both saying so; Pulumi is never asked to log in.
func TestDeployNoCredentials(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi")
	s.file(".aws/config", "[default]\nregion = ap-northeast-2\n") // a region is not a credential
	code, out, _, calls := s.run(nil, "dev")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Stopping after the offline plan: no AWS credentials found")
	assert.Equal(t, []string{"go run ./cmd/plan -stack dev"}, calls)

	code, out, errOut, calls := s.run(nil, "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "deploy.sh: cannot deploy stack dev: no AWS credentials found")
	assert.NotContains(t, out, "Stopping after")
	for _, c := range calls {
		assert.False(t, strings.HasPrefix(c, "pulumi"), "nothing reaches pulumi without credentials: %s", c)
	}

	code, _, errOut, _ = s.run([]string{"AWS_PROFILE=nosuch"}, "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "AWS_PROFILE=nosuch names no profile with credentials")
	code, _, errOut, _ = s.run([]string{"AWS_ACCESS_KEY_ID=AKIA0"}, "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY")
}

// TestDeployFileBackendWithSidecars: logged in to a file backend that writes sidecar metadata, the deploy
// goes on there and says how to avoid "failed to load checkpoint: EOF".
func TestDeployFileBackendWithSidecars(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi")
	env := []string{"AWS_ACCESS_KEY_ID=AKIA0", "AWS_SECRET_ACCESS_KEY=x", "PULUMI_CONFIG_PASSPHRASE=pass", "STUB_BACKEND=file:///srv/state"}
	code, out, errOut, _ := s.run(env, "--up", "dev")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `a file backend without ?metadata=skip can fail an update with "failed to load checkpoint: EOF"; log in to file:///srv/state?metadata=skip`)

	env[len(env)-1] = "STUB_BACKEND=file:///srv/state?metadata=skip"
	_, out, _, _ = s.run(env, "--up", "dev")
	assert.NotContains(t, out, "metadata=skip can fail")
}

// TestDeploySSOProfileAndCloudBackend: only an SSO profile in ~/.aws/config (what aws configure sso
// writes), no AWS CLI, and a user logged in to Pulumi Cloud: the credentials are found, the Cloud backend is
// used as it is (no login, no passphrase), and the stack is selected or created there before pulumi up.
func TestDeploySSOProfileAndCloudBackend(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi")
	s.file(".aws/config", ssoConfig)
	code, out, errOut, calls := s.run([]string{"AWS_PROFILE=football-dev", "STUB_BACKEND=https://app.pulumi.com/alice"}, "--up", "dev", "--", "--yes")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "AWS credentials: profile football-dev: SSO")
	assert.Contains(t, out, "Pulumi backend: https://app.pulumi.com/alice")
	assert.Equal(t, []string{
		"go run ./cmd/plan -stack dev",
		"pulumi whoami -v --non-interactive",
		"pulumi stack select --create dev",
		"pulumi up --stack dev --yes",
	}, calls)
}

// TestDeployCredentialSources: each source the AWS SDK's default chain reads is found without the AWS CLI.
func TestDeployCredentialSources(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		env   []string
		want  string
	}{
		{"environment", nil, []string{"AWS_ACCESS_KEY_ID=AKIA0", "AWS_SECRET_ACCESS_KEY=x"}, "environment variables (AWS_ACCESS_KEY_ID)"},
		{"default profile keys", map[string]string{".aws/credentials": "[default]\naws_access_key_id = AKIA0\naws_secret_access_key = x\n"}, nil,
			"profile default: access keys"},
		{"SSO default profile", map[string]string{".aws/config": "[default]\nsso_session = s\nsso_account_id = 1\n"}, nil, "profile default: SSO"},
		{"legacy SSO", map[string]string{"cfg": "[profile old]\nsso_start_url = https://x.awsapps.com/start\n"}, []string{"AWS_PROFILE=old", "AWS_CONFIG_FILE=HOME/cfg"},
			"profile old: SSO"},
		{"credential_process", map[string]string{".aws/config": "[profile p]\ncredential_process = /bin/true\n"}, []string{"AWS_PROFILE=p"}, "profile p: credential_process"},
		{"assumed role", map[string]string{".aws/config": "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"}, []string{"AWS_PROFILE=r"},
			"profile r: assumed role"},
		{"web identity", nil, []string{"AWS_WEB_IDENTITY_TOKEN_FILE=/tmp/token", "AWS_ROLE_ARN=arn:aws:iam::1:role/ci"}, "web identity token (AWS_ROLE_ARN=arn:aws:iam::1:role/ci)"},
		{"container", nil, []string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x"}, "container credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, "pulumi")
			for path, body := range c.files {
				s.file(path, body)
			}
			env := append([]string{"STUB_BACKEND=https://app.pulumi.com/alice"}, c.env...)
			for i, e := range env {
				env[i] = strings.ReplaceAll(e, "HOME/", s.home+"/")
			}
			code, out, errOut, _ := s.run(env, "--up", "dev")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "AWS credentials: "+c.want)
		})
	}
}

// TestDeployAWSCLIDecides: where the AWS CLI exists, AWS itself answers (sts get-caller-identity in the
// stack's region); its failure, e.g. an expired SSO session, is the reason given.
func TestDeployAWSCLIDecides(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi", "aws")
	s.file(".aws/config", ssoConfig)
	env := []string{"AWS_PROFILE=football-dev", "STUB_BACKEND=https://app.pulumi.com/alice"}
	code, out, errOut, calls := s.run(append(env, "STUB_AWS_ARN=arn:aws:sts::111122223333:assumed-role/PowerUserAccess/alice"), "--up", "dev")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "AWS credentials: arn:aws:sts::111122223333:assumed-role/PowerUserAccess/alice (aws sts get-caller-identity)")
	assert.Contains(t, calls, "aws sts get-caller-identity --region ap-northeast-2 --query Arn --output text")

	expired := "Error when retrieving token from sso: Token has expired and refresh failed"
	code, _, errOut, calls = s.run(append(env, "STUB_AWS_ERROR="+expired), "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "cannot deploy stack dev: aws sts get-caller-identity failed: "+expired)
	assert.NotContains(t, calls, "pulumi up --stack dev")
}

// TestDeployLocalBackend: logged in nowhere, the stack lives in ./.pulumi-state, without the sidecar
// metadata files a stack reference can read half written: login first, then the stack is selected
// (created) in that backend, and its secrets need the passphrase.
func TestDeployLocalBackend(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, "pulumi")
	creds := []string{"AWS_ACCESS_KEY_ID=AKIA0", "AWS_SECRET_ACCESS_KEY=x"}
	local := "file://" + s.dir + "/.pulumi-state?metadata=skip"

	code, _, errOut, calls := s.run(creds, "--up", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts this stack's secrets in "+local)
	assert.NotContains(t, calls, "pulumi up --stack dev")

	code, out, errOut, calls := s.run(append(creds, "PULUMI_CONFIG_PASSPHRASE=pass"), "--up", "dev")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Pulumi backend: "+local)
	assert.Equal(t, []string{
		"go run ./cmd/plan -stack dev",
		"pulumi whoami -v --non-interactive",
		"pulumi login " + local,
		"pulumi stack select --create dev",
		"pulumi up --stack dev",
	}, calls)
	assert.DirExists(t, filepath.Join(s.dir, ".pulumi-state"))

	// Logged in nowhere with PULUMI_BACKEND_URL set: that backend, logged in to first.
	code, _, errOut, calls = s.run(append(creds, "PULUMI_CONFIG_PASSPHRASE=pass", "PULUMI_BACKEND_URL=s3://state/football"), "--up", "dev")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "pulumi login s3://state/football", calls[2])
}
