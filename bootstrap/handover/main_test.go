package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/offline"
)

// exampleOutputs are the outputs of the committed example bootstrap stack, planned offline.
func exampleOutputs(t *testing.T) []byte {
	t.Helper()
	res, err := offline.Plan("..", "workloads")
	require.NoError(t, err)
	raw, err := json.Marshal(res.Outputs)
	require.NoError(t, err)
	return raw
}

// workflowReads are the vars.<NAME> and secrets.<NAME> the workflows read, and for each variable whether
// it is read only in jobs gated by a GitHub environment (else a repository variable must hold it).
func workflowReads(t *testing.T) (vars map[string]bool, secrets []string) {
	t.Helper()
	files, err := filepath.Glob("../../.github/workflows/*.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	vars = map[string]bool{}
	outside := map[string]bool{}
	ref := regexp.MustCompile(`\b(vars|secrets)\.([A-Z0-9_]+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inEnvironmentJob := false
		for _, line := range strings.Split(string(b), "\n") {
			if regexp.MustCompile(`^  [a-z][a-z0-9-]*:\s*$`).MatchString(line) {
				inEnvironmentJob = false // a new job
			}
			if regexp.MustCompile(`^    environment:`).MatchString(line) {
				inEnvironmentJob = true
			}
			for _, m := range ref.FindAllStringSubmatch(line, -1) {
				if m[1] == "vars" {
					vars[m[2]] = true
					outside[m[2]] = outside[m[2]] || !inEnvironmentJob
				} else if !slices.Contains(secrets, m[2]) {
					secrets = append(secrets, m[2])
				}
			}
		}
	}
	for v := range vars {
		vars[v] = !outside[v]
	}
	return vars, secrets
}

// TestOutputsAreExactlyTheWorkflowsVariables: every variable a workflow reads is set by the hand-over,
// at the repository or, for jobs in a GitHub environment, per environment; nothing else is set; and the
// only secrets left are GitHub's own token and the release workflow's, which a person creates.
func TestOutputsAreExactlyTheWorkflowsVariables(t *testing.T) {
	t.Parallel()
	cmds, err := Commands(exampleOutputs(t))
	require.NoError(t, err)
	set := map[string][]string{} // variable -> "" (repository) or environment names
	for _, c := range cmds {
		if c[1] != "variable" {
			continue
		}
		scope := ""
		if i := slices.Index(c, "--env"); i > 0 {
			scope = c[i+1]
		}
		assert.Equal(t, "football-team/football-infra", c[slices.Index(c, "--repo")+1])
		set[c[3]] = append(set[c[3]], scope)
	}
	vars, secrets := workflowReads(t)
	var read, wrote []string
	for v := range vars {
		read = append(read, v)
	}
	for v := range set {
		wrote = append(wrote, v)
	}
	assert.ElementsMatch(t, read, wrote, "the hand-over sets exactly the variables the workflows read")
	for v, gated := range vars {
		if gated {
			assert.ElementsMatch(t, []string{"dev", "prod"}, set[v], "%s is read in environment jobs: one value per environment", v)
		} else {
			assert.Equal(t, []string{""}, set[v], "%s is a repository variable", v)
		}
	}
	assert.ElementsMatch(t, []string{"GITHUB_TOKEN", "RELEASE_PR_TOKEN"}, secrets,
		"no workflow secret is the bootstrap's (the passphrase is gone: the state key encrypts secrets)")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	cmds, err := Commands(exampleOutputs(t))
	require.NoError(t, err)
	var out []string
	for _, c := range cmds {
		out = append(out, strings.Join(c, " "))
	}
	assert.Equal(t, []string{
		"gh api --silent -X PUT repos/football-team/football-infra/environments/dev",
		"gh api --silent -X PUT repos/football-team/football-infra/environments/prod",
		"gh variable set AWS_PREVIEW_ROLE_ARN --repo football-team/football-infra --body arn:aws:iam::123456789012:role/football-bootstrap/football-ci-preview",
		"gh variable set PULUMI_BACKEND_URL --repo football-team/football-infra --body s3://football-state-123456789012-ap-northeast-2?region=ap-northeast-2",
		"gh variable set PULUMI_SECRETS_PROVIDER --repo football-team/football-infra --body awskms://alias/football-state?region=ap-northeast-2",
		"gh variable set AWS_DEPLOY_ROLE_ARN --repo football-team/football-infra --env dev --body arn:aws:iam::123456789012:role/football-bootstrap/football-ci-deploy-dev",
		"gh variable set AWS_DEPLOY_ROLE_ARN --repo football-team/football-infra --env prod --body arn:aws:iam::123456789012:role/football-bootstrap/football-ci-deploy-prod",
	}, out)

	_, err = Commands([]byte(`{"albDnsName":"x"}`))
	assert.ErrorContains(t, err, "is this a bootstrap stack")
}

func TestRunDryRun(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(file, exampleOutputs(t), 0o600))
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run([]string{"-dry-run", "-outputs", file}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "gh variable set AWS_DEPLOY_ROLE_ARN --repo football-team/football-infra --env prod --body arn:aws:iam::123456789012:role/football-bootstrap/football-ci-deploy-prod\n")
	assert.Contains(t, out.String(), "--body 's3://football-state-123456789012-ap-northeast-2?region=ap-northeast-2'")
	assert.Equal(t, 2, run([]string{"extra"}, &out, &errOut))
	require.NoError(t, os.WriteFile(file, []byte(`{}`), 0o600))
	assert.Equal(t, 2, run([]string{"-dry-run", "-outputs", file}, &out, &errOut))
}
