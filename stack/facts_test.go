package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/football/football-infra/compute"
)

// TestReleases: a release is listed in the repository its service takes releases from, a configured
// repository even without a release, the stack's own repository only with one.
func TestReleases(t *testing.T) {
	t.Parallel()
	c := &Config{Project: "football", Stack: "prod"}
	assert.Empty(t, c.Releases(), "nothing configured: ECR holds nothing the plan needs")
	c.API.ReleaseSettings = compute.ReleaseSettings{Repository: "football/dev/api"}
	c.Chat.ReleaseSettings = compute.ReleaseSettings{Release: "v0.9.0"}
	assert.Equal(t, map[string][]string{"football/dev/api": {}, "football/prod/chat": {"v0.9.0"}}, c.Releases())
}
