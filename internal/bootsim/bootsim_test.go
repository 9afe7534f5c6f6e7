package bootsim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStubsBehaveLikeAServer: the stubs fail the way a first boot does and remember what a run did.
func TestStubsBehaveLikeAServer(t *testing.T) {
	t.Parallel()
	sb, err := New(t.TempDir())
	require.NoError(t, err)
	run := func(script string, modes ...Mode) Result {
		t.Helper()
		r, err := sb.Run("sh", script, modes...)
		require.NoError(t, err)
		return r
	}

	// dpkg's lock: an apt-get that does not wait fails, one that waits gets it.
	r := run("apt-get install -y docker.io", Lock)
	assert.Equal(t, 100, r.Exit)
	assert.Contains(t, r.Output, "Could not get lock")
	r = run("command -v docker || echo missing", Lock)
	assert.Contains(t, r.Output, "missing", "nothing installed, and no host docker on PATH")
	r = run("apt-get -o DPkg::Lock::Timeout=60 install -y docker.io && command -v docker", Lock)
	assert.Equal(t, 0, r.Exit, r.Output)
	assert.Equal(t, []string{"apt-get -o DPkg::Lock::Timeout=60 install -y docker.io"}, r.Calls)

	// The archive: down, or down once; a local package still installs.
	assert.Equal(t, 100, run("apt-get update", Apt).Exit)
	assert.Equal(t, 100, run("apt-get update", AptOnce).Exit)
	assert.Equal(t, 0, run("apt-get update", AptOnce).Exit, "once")
	r = run(`echo deb >"$FOOTBALL_ROOT/tmp/agent.deb" && apt-get install -y "$FOOTBALL_ROOT/tmp/agent.deb"`, Apt)
	assert.Equal(t, 0, r.Exit, r.Output)
	assert.FileExists(t, filepath.Join(sb.Root, "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"))

	// systemd: a unit starts only as daemon-reload last loaded it; an app's unit pulls a missing image.
	unit := "[Service]\nEnvironmentFile=/etc/football/api.env\nExecStartPre=/bin/sh -c 'docker pull x'\n"
	require.NoError(t, os.MkdirAll(filepath.Join(sb.Root, "etc/football"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sb.Root, "etc/football/api.env"), []byte("FOOTBALL_IMAGE=r/a@sha256:1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sb.Root, "etc/systemd/system/football-api.service"), []byte(unit), 0o644))
	r = run("systemctl start football-api.service")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Output, "run systemctl daemon-reload")
	assert.Equal(t, 1, run("systemctl daemon-reload && systemctl start football-api.service", Pull).Exit)
	assert.False(t, sb.Active("football-api.service"))
	assert.Equal(t, 0, run("systemctl start football-api.service").Exit)
	assert.True(t, sb.Active("football-api.service"))
	assert.Equal(t, 0, run("docker image inspect r/a@sha256:1").Exit, "the unit pulled the image")
	assert.Equal(t, 0, run("systemctl restart football-api.service", Crash).Exit)
	assert.False(t, sb.Active("football-api.service"), "started, then exited")

	// Paths of scripts that do not read FOOTBALL_ROOT are rewritten into the root.
	r = run(sb.Rooted("echo x >/etc/sysctl.d/x.conf && cat /etc/sysctl.d/x.conf", "/etc/"))
	assert.Equal(t, "x\n", r.Output)
	assert.FileExists(t, filepath.Join(sb.Root, "etc/sysctl.d/x.conf"))
}
