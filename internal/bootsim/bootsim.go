// Package bootsim runs the servers' generated setup scripts as programs, in a sandbox: a scratch root
// directory (the scripts' FOOTBALL_ROOT, or absolute paths rewritten into it) and a PATH of logging stub
// commands (stubs/) in place of apt-get, systemctl, docker, curl, the CloudWatch agent's control script
// and the rest. It needs neither root nor network, and the stubs are shell scripts: the script under test
// runs in the shell it runs in on a server (dash as sh, or bash), with the host's coreutils.
//
// The stubs remember state between calls, so a second run sees what the first installed, pulled,
// enabled and started, and they can be told to fail (Mode) the way a first boot fails: dpkg's lock held,
// the archive unreachable, a pull refused, a release that does not start. Every stub call is recorded, in
// order, so a test can check what a script asked for and in which order. It imports nothing of the
// project.
package bootsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

//go:embed stubs
var stubs embed.FS

// Mode is a failure the stubs simulate.
type Mode string

const (
	// Lock simulates this: dpkg's lock is held by another apt (Ubuntu's first-boot timers); an apt-get that does not
	// wait for it (DPkg::Lock::Timeout) fails, one that waits gets it.
	Lock Mode = "lock"
	// AptOnce simulates this: the archive fails the first apt-get that needs it, then works.
	AptOnce Mode = "apt-once"
	// Apt simulates this: the archive never answers (update, and installs of archive packages, fail; a local .deb installs).
	Apt Mode = "apt"
	// AptAll simulates this: every apt-get fails (the lock is never released).
	AptAll Mode = "apt-all"
	// Download simulates this: every curl download fails.
	Download Mode = "download"
	// Pull simulates this: every image pull fails, the script's and the unit's.
	Pull Mode = "pull"
	// Start simulates this: the service's unit fails to start.
	Start Mode = "start"
	// Crash simulates this: the service starts, then exits at once.
	Crash Mode = "crash"
)

// hostTools are the host's commands a script and the stubs may use; nothing else of the host is on PATH,
// so a script cannot reach a real apt-get, systemctl or docker.
var hostTools = []string{"sh", "bash", "cat", "cmp", "cp", "rm", "mv", "mkdir", "chmod", "sed", "base64", "env",
	"tr", "grep", "awk", "touch", "basename", "dirname", "head"}

// skeleton are the directories of a fresh Ubuntu server's root that scripts write into without creating.
var skeleton = []string{"etc/systemd/system", "etc/sysctl.d", "etc/logrotate.d", "usr/local/sbin", "usr/local/bin", "var/lib", "var/log", "opt", "tmp"}

// Sandbox is one scratch server. Its state persists across Runs, as a server's does across boots.
type Sandbox struct {
	// Root is the scratch root directory (FOOTBALL_ROOT).
	Root                                string
	bin, installed, stubDir, state, log string
}

// New lays a sandbox out in dir (which must exist and be empty, e.g. a test's TempDir).
func New(dir string) (*Sandbox, error) {
	s := &Sandbox{
		Root: filepath.Join(dir, "root"), bin: filepath.Join(dir, "bin"), installed: filepath.Join(dir, "installed"),
		stubDir: filepath.Join(dir, "stubs"), state: filepath.Join(dir, "state"), log: filepath.Join(dir, "calls"),
	}
	for _, d := range []string{s.Root, s.bin, s.installed, s.stubDir, filepath.Join(s.state, "systemd", "loaded"), filepath.Join(s.state, "images")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, d := range skeleton {
		if err := os.MkdirAll(filepath.Join(s.Root, d), 0o755); err != nil {
			return nil, err
		}
	}
	entries, err := fs.ReadDir(stubs, "stubs")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		body, err := stubs.ReadFile("stubs/" + e.Name())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(s.stubDir, e.Name()), body, 0o755); err != nil {
			return nil, err
		}
	}
	// What a fresh Ubuntu server has on PATH: everything but the commands a package install brings
	// (docker, the credential helper), which apt-get's stub puts into installed/.
	for _, name := range []string{"apt-get", "systemctl", "curl", "dpkg", "chown", "sleep", "sysctl", "ip", "iptables"} {
		if err := os.Symlink(filepath.Join(s.stubDir, name), filepath.Join(s.bin, name)); err != nil {
			return nil, err
		}
	}
	for _, name := range hostTools {
		path, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("bootsim needs %s on the host: %w", name, err)
		}
		if err := os.Symlink(path, filepath.Join(s.bin, name)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Result is what one run of a script did.
type Result struct {
	// Exit is the script's exit status.
	Exit int
	// Output is its standard output and error, interleaved.
	Output string
	// Calls are the stubbed commands it ran, in order, as "name arg...".
	Calls []string
}

// Called reports whether a call starting with prefix was made.
func (r Result) Called(prefix string) bool { return r.Index(prefix) >= 0 }

// Index is the position of the first call starting with prefix, or -1.
func (r Result) Index(prefix string) int {
	for i, c := range r.Calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

// Count is how many calls start with prefix.
func (r Result) Count(prefix string) int {
	n := 0
	for _, c := range r.Calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// Run runs script with shell ("sh" or "bash") in the sandbox, with the given failures on. A script that
// does not end within a minute is killed (its stubs never block, so that is a hang in the script).
func (s *Sandbox) Run(shell, script string, modes ...Mode) (Result, error) {
	if err := os.WriteFile(s.log, nil, 0o644); err != nil {
		return Result{}, err
	}
	path := filepath.Join(s.state, "script")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return Result{}, err
	}
	fail := make([]string, len(modes))
	for i, m := range modes {
		fail[i] = string(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, shell), path)
	cmd.Env = []string{
		"PATH=" + s.bin + ":" + s.installed, "HOME=" + s.state, "LC_ALL=C",
		"FOOTBALL_ROOT=" + s.Root, "BOOTSIM_LOG=" + s.log, "BOOTSIM_STATE=" + s.state,
		"BOOTSIM_STUBS=" + s.stubDir, "BOOTSIM_INSTALLED=" + s.installed, "BOOTSIM_FAIL=" + strings.Join(fail, " "),
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := Result{Output: out.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("the script did not finish within a minute: %s", out.String())
	case errors.As(err, &exit):
		res.Exit = exit.ExitCode()
	case err != nil:
		return res, err
	}
	calls, err := os.ReadFile(s.log)
	if err != nil {
		return res, err
	}
	if c := strings.TrimSuffix(string(calls), "\n"); c != "" {
		res.Calls = strings.Split(c, "\n")
	}
	return res, nil
}

// Files is every file under Root with its mode and a digest of its content, for comparing two runs.
func (s *Sandbox) Files() (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(s.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		rel, _ := filepath.Rel(s.Root, path) // path is under Root
		files["/"+rel] = info.Mode().String() + " " + hex.EncodeToString(sum[:8])
		return nil
	})
	return files, err
}

// Read returns the content of a file under Root, by its path on the server (/etc/football/api.env).
func (s *Sandbox) Read(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Root, path))
	return string(b), err
}

// Active reports whether the systemctl stub holds a unit as running.
func (s *Sandbox) Active(unit string) bool {
	return exists(filepath.Join(s.state, "systemd", unit+".active"))
}

// Enabled reports whether the systemctl stub holds a unit as enabled.
func (s *Sandbox) Enabled(unit string) bool {
	return exists(filepath.Join(s.state, "systemd", unit+".enabled"))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Rooted rewrites a script's absolute paths under prefixes (such as /etc/ or /usr/local/sbin/) into the
// sandbox's root, for scripts that do not read FOOTBALL_ROOT. Only paths in file positions should be
// listed: every occurrence of a prefix is rewritten.
func (s *Sandbox) Rooted(script string, prefixes ...string) string {
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	for _, p := range prefixes {
		script = strings.ReplaceAll(script, " "+p, " "+s.Root+p)
		script = strings.ReplaceAll(script, ">"+p, ">"+s.Root+p)
	}
	return script
}
