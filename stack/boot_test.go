package stack

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/bootsim"
	"github.com/football/football-infra/internal/mock"
)

// bootScript is one script a server runs at boot, as the plan hands it to AWS.
type bootScript struct {
	name, shell, body string
	// service is the app's unit name (api, chat) for the setup scripts; "" for the NAT script.
	service string
	release bool
}

// bootScripts plans dev, prod (whose chat runs as a fleet), dev with a release of each service and dev's
// chat fleet with a release, and returns every script their servers run at boot: the API launch
// template's user data, the chat server's setup document with its env parameter filled in as Systems
// Manager does or the chat fleet's launch template's user data, and dev's NAT instance script. The plans
// run once for every test that asks.
func bootScripts(t *testing.T) []bootScript {
	t.Helper()
	bootPlans.Do(func() { bootCache = planBootScripts(t) })
	require.Len(t, bootCache, 9, "four plans of two setup scripts, and dev's NAT instance")
	return bootCache
}

var (
	bootPlans sync.Once
	bootCache []bootScript
)

func planBootScripts(t *testing.T) []bootScript {
	t.Helper()
	images := map[string][]string{"football/dev/api": {"v1.4.2"}, "football/dev/chat": {"v0.9.0"}}
	plans := []struct {
		name    string
		m       *mock.Mocks
		release bool
	}{
		{"dev", planEdited(t, "dev", nil, mock.Options{}), false},
		{"prod", planEdited(t, "prod", nil, mock.Options{}), false},
		{"dev+release", planEdited(t, "dev", map[string]string{"api.release": `"v1.4.2"`, "chat.release": `"v0.9.0"`}, mock.Options{Images: images}), true},
		{"dev fleet+release", planEdited(t, "dev", map[string]string{"api.release": `"v1.4.2"`, "chat.release": `"v0.9.0"`, "chat.mode": `"fleet"`},
			mock.Options{Images: images}), true},
	}
	var out []bootScript
	for _, p := range plans {
		ud, err := base64.StdEncoding.DecodeString(byName(t, p.m, "api-lt").Str("userData"))
		require.NoError(t, err)
		out = append(out, bootScript{name: p.name + "/api", shell: "sh", body: string(ud), service: "api", release: p.release})
		out = append(out, bootScript{name: p.name + "/chat", shell: "sh", body: chatScript(t, p.m), service: "chat", release: p.release})
	}
	for _, r := range plans[0].m.ByType("aws:ec2/instance:Instance") {
		if ud := r.Str("userData"); strings.Contains(ud, "football-nat") {
			out = append(out, bootScript{name: "dev/nat", shell: "bash", body: ud})
		}
	}
	return out
}

// chatScript is the chat fleet's launch template user data, or the chat server's setup document's script
// with the association's env parameter pasted in, as Systems Manager runs it.
func chatScript(t *testing.T, m *mock.Mocks) string {
	t.Helper()
	for _, lt := range m.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
		if lt.Name == "chat-lt" {
			return launchScript(t, lt)
		}
	}
	var doc struct {
		MainSteps []struct{ Inputs struct{ RunCommand []string } }
	}
	require.NoError(t, json.Unmarshal([]byte(byName(t, m, "chat-setup", "aws:ssm/document:Document").Str("content")), &doc))
	require.Len(t, doc.MainSteps, 1)
	script := strings.Join(doc.MainSteps[0].Inputs.RunCommand, "\n") + "\n"
	env := byName(t, m, "chat-setup", "aws:ssm/association:Association").Str("parameters.env")
	require.NotEmpty(t, env)
	return strings.Replace(script, "{{ env }}", env, 1)
}

// TestBootScriptsPassShellcheck: every script a server runs at boot is clean under shellcheck, in the
// shell its first line names. scripts/test.sh installs shellcheck and requires it.
func TestBootScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	checker, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("FOOTBALL_REQUIRE_SHELLCHECK") != "" {
			t.Fatal("shellcheck is not installed; scripts/test.sh installs it (apt-get install shellcheck)")
		}
		t.Skip("shellcheck is not installed (scripts/test.sh installs it and sets FOOTBALL_REQUIRE_SHELLCHECK)")
	}
	dir := t.TempDir()
	for _, s := range bootScripts(t) {
		path := filepath.Join(dir, strings.ReplaceAll(s.name, "/", "-")+".sh")
		require.NoError(t, os.WriteFile(path, []byte(s.body), 0o644))
		out, err := exec.Command(checker, "--shell="+s.shell, "--severity=info", path).CombinedOutput()
		assert.NoError(t, err, "%s:\n%s", s.name, out)
	}
}

// queries are the calls that change nothing; a second run of a setup script makes only these.
var queries = []string{"systemctl is-enabled ", "systemctl is-active ", "docker image inspect ", "ip "}

// TestBootScriptsRunInASandbox runs every boot script in a sandbox (internal/bootsim) as a fresh server,
// with dpkg's lock held at first as on a first boot: it runs to the end, sets up logs and metrics before
// the runtime and the release, and a second run changes no file and makes no change.
func TestBootScriptsRunInASandbox(t *testing.T) {
	t.Parallel()
	for _, s := range bootScripts(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sb, err := bootsim.New(t.TempDir())
			require.NoError(t, err)
			body := s.body
			if s.service == "" {
				body = sb.Rooted(body, "/etc/", "/usr/local/sbin/")
			}
			first, err := sb.Run(s.shell, body, bootsim.Lock)
			require.NoError(t, err)
			require.Equal(t, 0, first.Exit, "%s\n%s", first.Output, strings.Join(first.Calls, "\n"))
			files, err := sb.Files()
			require.NoError(t, err)

			again, err := sb.Run(s.shell, body, bootsim.Lock)
			require.NoError(t, err)
			require.Equal(t, 0, again.Exit, again.Output)
			filesAgain, err := sb.Files()
			require.NoError(t, err)
			assert.Equal(t, files, filesAgain, "a second run changes no file")
			for _, c := range again.Calls {
				query := false
				for _, q := range queries {
					query = query || strings.HasPrefix(c, q)
				}
				if s.service == "" && (strings.HasPrefix(c, "systemctl daemon-reload") || strings.HasPrefix(c, "systemctl enable --now")) {
					query = true // the NAT script reapplies its idempotent unit at every run, as it always did
				}
				assert.True(t, query, "a second run changes nothing, but called %q", c)
			}

			if s.service == "" {
				natChecks(t, sb)
				return
			}
			unit := "football-" + s.service + ".service"
			assert.True(t, sb.Active(unit) && sb.Enabled(unit), "%s runs", unit)
			observed(t, sb, first)
			// Observability first, then the runtime, then the release.
			agent := first.Index("amazon-cloudwatch-agent-ctl -a fetch-config")
			assert.Less(t, first.Index("systemctl restart football-journal.service"), agent)
			assert.Less(t, agent, first.Index("systemctl restart "+unit), "the agent is set up before the service starts")
			if s.release {
				runtime := first.Index("apt-get -o DPkg::Lock::Timeout=120 -q install -y --no-install-recommends docker.io amazon-ecr-credential-helper")
				pull := first.Index("docker pull ")
				assert.True(t, agent < runtime && runtime < pull && pull < first.Index("systemctl restart "+unit),
					"logs and metrics, then the runtime, then the pull, then the start: %v", first.Calls)
			}
			for _, c := range first.Calls {
				if strings.HasPrefix(c, "apt-get ") {
					assert.Contains(t, c, "-o DPkg::Lock::Timeout=120", "every apt-get waits for dpkg's lock")
				}
			}
		})
	}
}

// observed asserts that a run left logs and metrics set up: the journal export enabled and running, and
// the agent configured and running.
func observed(t *testing.T, sb *bootsim.Sandbox, r bootsim.Result) {
	t.Helper()
	assert.True(t, sb.Active("football-journal.service") && sb.Enabled("football-journal.service"), "the journal export runs: %v", r.Calls)
	_, err := sb.Read("/opt/aws/amazon-cloudwatch-agent/etc/football.json")
	assert.NoError(t, err, "the agent is configured")
	assert.True(t, sb.Active("amazon-cloudwatch-agent"), "the agent runs: %s", r.Output)
}

// natChecks runs the NAT script's boot unit, as systemd would at every boot: forwarding on and one
// masquerade rule, which a second boot does not add again.
func natChecks(t *testing.T, sb *bootsim.Sandbox) {
	t.Helper()
	assert.True(t, sb.Active("football-nat.service") && sb.Enabled("football-nat.service"))
	nat, err := sb.Read("/usr/local/sbin/football-nat")
	require.NoError(t, err)
	for boot := 0; boot < 2; boot++ {
		r, err := sb.Run("bash", nat)
		require.NoError(t, err)
		require.Equal(t, 0, r.Exit, r.Output)
		assert.True(t, r.Called("sysctl -q -w net.ipv4.ip_forward=1"))
		assert.Equal(t, 1-boot, r.Count("iptables -t nat -A POSTROUTING -s 10.10.0.0/16 -o ens5 -j MASQUERADE"), "boot %d: %v", boot, r.Calls)
	}
}

// TestBootScriptFailures runs the setup scripts with a release (API and chat) as fresh servers whose
// first boot goes wrong, one way at a time. Whatever fails, the journal export and the agent are set up
// (but for an apt that never works, which cannot install the agent: then the export still runs and the
// failure is logged), and the script exits as its header documents.
func TestBootScriptFailures(t *testing.T) {
	t.Parallel()
	var scripts []bootScript
	for _, s := range bootScripts(t) {
		if s.release {
			scripts = append(scripts, s)
		}
	}
	require.Len(t, scripts, 4) // the API and the chat, with one chat server and with a chat fleet
	for _, tc := range []struct {
		name      string
		modes     []bootsim.Mode
		exit      int
		say       string
		agentRuns bool
	}{
		{"archive down", []bootsim.Mode{bootsim.Lock, bootsim.Apt}, 2, "FAILED: Docker could not be installed", true},
		{"dpkg lock never free", []bootsim.Mode{bootsim.AptAll}, 2, "WARNING: the CloudWatch agent could not be set up", false},
		{"pull refused", []bootsim.Mode{bootsim.Lock, bootsim.Pull}, 3, "could not be pulled; this server stays up, ships its logs", true},
		{"start fails", []bootsim.Mode{bootsim.Lock, bootsim.Start}, 4, "did not start the release", true},
		{"exits at once", []bootsim.Mode{bootsim.Lock, bootsim.Crash}, 4, "stopped right after it started", true},
		{"agent download fails", []bootsim.Mode{bootsim.Lock, bootsim.Download}, 0, "WARNING: the CloudWatch agent could not be set up", false},
		{"archive fails once", []bootsim.Mode{bootsim.Lock, bootsim.AptOnce}, 0, "failed, trying again in 10s", true},
	} {
		for _, s := range scripts {
			t.Run(tc.name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				sb, err := bootsim.New(t.TempDir())
				require.NoError(t, err)
				r, err := sb.Run(s.shell, s.body, tc.modes...)
				require.NoError(t, err)
				assert.Equal(t, tc.exit, r.Exit, "%s\n%s", r.Output, strings.Join(r.Calls, "\n"))
				assert.Contains(t, r.Output, tc.say)
				if tc.exit != 0 {
					assert.Contains(t, r.Output, "football-setup: FAILED: ", "a failed release says so")
				}
				assert.True(t, sb.Active("football-journal.service") && sb.Enabled("football-journal.service"), "the journal export runs: %v", r.Calls)
				_, err = sb.Read("/opt/aws/amazon-cloudwatch-agent/etc/football.json")
				assert.NoError(t, err, "the agent's configuration is written")
				assert.Equal(t, tc.agentRuns, sb.Active("amazon-cloudwatch-agent"), "the agent runs: %s", r.Output)
				// Retries are bounded: at most three waits of 10, 20 and 40 s per step.
				assert.LessOrEqual(t, r.Count("sleep "), 2*3+1, r.Calls)
				unit := "football-" + s.service + ".service"
				switch tc.exit {
				case 3:
					// A fresh server starts the unit anyway, which keeps trying to pull.
					assert.True(t, r.Called("systemctl start --no-block "+unit), r.Calls)
					assert.Equal(t, 3, r.Count("docker pull "), "three tries")
				case 0:
					assert.True(t, sb.Active(unit))
				}
			})
		}
	}
}

// TestChatServerKeepsARunningReleaseItCannotReplace: on the long-lived chat server, a new release that
// cannot be pulled does not stop the one that runs; the run fails (exit 3, the association reports it).
func TestChatServerKeepsARunningReleaseItCannotReplace(t *testing.T) {
	t.Parallel()
	var chat bootScript
	for _, s := range bootScripts(t) {
		if s.name == "dev+release/chat" { // the single server's document; a fleet's servers are replaced instead
			chat = s
		}
	}
	require.NotEmpty(t, chat.body)
	sb, err := bootsim.New(t.TempDir())
	require.NoError(t, err)
	r, err := sb.Run("sh", chat.body)
	require.NoError(t, err)
	require.Equal(t, 0, r.Exit, r.Output)

	// The next release, as the association's new env parameter carries it.
	m := strings.SplitN(chat.body, "printf '%s' '", 2)
	require.Len(t, m, 2)
	encoded, _, _ := strings.Cut(m[1], "'")
	env, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err)
	at := strings.Index(string(env), "@sha256:")
	require.GreaterOrEqual(t, at, 0, string(env))
	next := strings.Replace(string(env), string(env)[at+8:at+8+64], strings.Repeat("ab", 32), 1)
	require.NotEqual(t, string(env), next)
	body := strings.Replace(chat.body, encoded, base64.StdEncoding.EncodeToString([]byte(next)), 1)

	r, err = sb.Run("sh", body, bootsim.Pull)
	require.NoError(t, err)
	assert.Equal(t, 3, r.Exit, r.Output)
	assert.False(t, r.Called("systemctl restart football-chat.service") || r.Called("systemctl start"), "the running release stays: %v", r.Calls)
	assert.True(t, sb.Active("football-chat.service"))
}
