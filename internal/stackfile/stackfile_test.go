package stackfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
}

func TestLoadFlattensLikeThePulumiCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "Pulumi.yaml", `name: football
runtime: go
config:
  aws:skipMetadataApiCheck: {value: false}
  football:declaredOnly: {default: 3}
`)
	write(t, dir, "Pulumi.dev.yaml", `config:
  aws:region: ap-northeast-2
  environment: dev
  football:network: {subnetBits: 4, availabilityZones: [a, b], flowLogs: {enabled: true}}
  football:redisAuthToken: {secure: AAABAKxyz}
  football:nested: {token: {secure: AAAB}}
`)
	st, err := Load(dir, "dev")
	require.NoError(t, err)
	assert.Equal(t, "football", st.Project)
	assert.Equal(t, "ap-northeast-2", st.Config["aws:region"])
	assert.Equal(t, "dev", st.Config["football:environment"], "bare keys belong to the project")
	assert.JSONEq(t, `{"subnetBits":4,"availabilityZones":["a","b"],"flowLogs":{"enabled":true}}`, st.Config["football:network"])
	assert.Equal(t, Placeholder, st.Config["football:redisAuthToken"])
	assert.JSONEq(t, `{"token":"`+Placeholder+`"}`, st.Config["football:nested"])
	assert.Equal(t, []string{"football:nested", "football:redisAuthToken"}, st.SecretKeys)
	assert.Equal(t, "false", st.Config["aws:skipMetadataApiCheck"], "project-level values apply")
	assert.NotContains(t, st.Config, "football:declaredOnly", "a bare default is a declaration, not a value")
}

func TestLoadUnknownStack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "Pulumi.yaml", "name: football\nruntime: go\n")
	write(t, dir, "Pulumi.dev.yaml", "config: {}\n")
	_, err := Load(dir, "qa")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stack "qa"`)
	assert.Contains(t, err.Error(), "stacks here: dev")
}
