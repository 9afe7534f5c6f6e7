package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPermissionsBoundaryOnEveryRole: football:permissionsBoundary reaches every role the stack creates, as
// an ARN in the stack's account (or verbatim when given as one); without it, no role has a boundary.
func TestPermissionsBoundaryOnEveryRole(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{
		"football-bootstrap/football-deploy-boundary":                         "arn:aws:iam::123456789012:policy/football-bootstrap/football-deploy-boundary",
		"arn:aws:iam::210987654321:policy/football-bootstrap/custom-boundary": "arn:aws:iam::210987654321:policy/football-bootstrap/custom-boundary",
		"": "",
	} {
		cfg := baseConfig("dev")
		cfg["football:network"] = `{"flowLogs":{"enabled":true}}` // the flow-log role too
		if value != "" {
			cfg["football:permissionsBoundary"] = value
		}
		m, err := deploy(t, "dev", cfg)
		require.NoError(t, err, value)
		roles := m.ByType("aws:iam/role:Role")
		require.Len(t, roles, 3, "chat, API and flow-log roles")
		for _, r := range roles {
			assert.Equal(t, want, r.Str("permissionsBoundary"), "%s with %q", r.Name, value)
		}
	}
	_, err := deploy(t, "dev", map[string]string{"football:permissionsBoundary": "no spaces allowed"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `football:permissionsBoundary: "no spaces allowed" is not allowed; the boundary policy's path and name`)
}
