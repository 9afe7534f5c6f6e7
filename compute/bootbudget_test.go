package compute

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBootBudget: the group's grace period and warm-up, and the chat document's timeout, follow from the
// boot steps and the script's bounds; the script uses exactly those bounds.
func TestBootBudget(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 470, bootSeconds("api", true, false), "slow API boot with a release, until healthy")
	assert.Equal(t, 182, bootSeconds("api", false, true), "typical API boot with a release, warmed up")
	assert.Equal(t, 480, healthCheckGracePeriod)
	assert.Equal(t, 210, instanceWarmup)
	assert.GreaterOrEqual(t, healthCheckGracePeriod, bootSeconds("api", true, false), "a slow boot is not replaced")
	assert.Less(t, healthCheckGracePeriod, bootSeconds("api", true, false)+60, "a dead one is not waited on much longer")
	assert.GreaterOrEqual(t, chatSetupTimeout, scriptWorstSeconds(), "Systems Manager never stops the script in an install")
	assert.Equal(t, 0, chatSetupTimeout%300)

	e := sampleAPIEnv()
	e.Image = testAPIImage
	script, err := renderAPIUserData(e)
	require.NoError(t, err)
	for _, want := range []string{
		fmt.Sprintf("-o DPkg::Lock::Timeout=%d ", aptLockSeconds),
		fmt.Sprintf("retry %d %d apt_install docker.io", aptTries, aptRetrySeconds),
		fmt.Sprintf("retry %d %d env DOCKER_CONFIG=", pullTries, pullRetrySeconds),
		fmt.Sprintf("--retry-max-time %d ", downloadSeconds),
		fmt.Sprintf("TimeoutStartSec=%d\n", startTimeoutSeconds),
		fmt.Sprintf("sleep %d ", settleSeconds),
	} {
		assert.Contains(t, script, want)
	}
	doc, err := chatDocument("/football/test/chat")
	require.NoError(t, err)
	assert.Contains(t, doc, fmt.Sprintf(`"timeoutSeconds": "%d"`, chatSetupTimeout))
}

// TestBootBudgetDocumented: the operations docs show the boot budget as the code has it.
func TestBootBudgetDocumented(t *testing.T) {
	t.Parallel()
	want := bootBudgetMarkdown()
	docs, err := filepath.Glob("../docs/*.md")
	require.NoError(t, err)
	for _, path := range append(docs, "../README.md") {
		body, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.Contains(string(body), want) {
			return
		}
	}
	t.Errorf("no doc shows the boot budget as the code has it; put this in the operations docs:\n%s", want)
}
