package scripts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runnableInfo is the info string of a fenced code block whose commands run offline: ```sh offline.
// Markdown renderers use the first word ("sh") for highlighting and ignore the rest.
const runnableInfo = "sh offline"

// theTestCommand is the quick start's test command: it is running this test, so it is not run again.
const theTestCommand = "bash scripts/test.sh"

// docCommand is one command of a runnable block.
type docCommand struct {
	file string
	line int
	cmd  string
	// exit is the status the command is documented to end with: 0, or the N of a trailing "# exits N".
	exit int
}

var exitsComment = regexp.MustCompile(`#\s*exits (\d+)\b`)

// runnableCommands reads every ```sh offline block of the Markdown files: one command a line, a trailing
// backslash continues it, and a # comment ends it.
func runnableCommands(t *testing.T, files []string) []docCommand {
	t.Helper()
	var out []docCommand
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		n, in, pending, start := 0, false, "", 0
		for sc.Scan() {
			n++
			line := sc.Text()
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "```") {
				if !in {
					in = strings.TrimSpace(strings.TrimPrefix(trimmed, "```")) == runnableInfo
				} else {
					require.Empty(t, pending, "%s:%d: a runnable block ends inside a continued command", file, n)
					in = false
				}
				continue
			}
			if !in || trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			if pending == "" {
				start = n
			}
			if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
				pending += strings.TrimSpace(cont) + " "
				continue
			}
			full := pending + trimmed
			pending = ""
			c := docCommand{file: file, line: start, cmd: strings.TrimSpace(stripComment(full))}
			if m := exitsComment.FindStringSubmatch(full[len(c.cmd):]); m != nil {
				c.exit, _ = strconv.Atoi(m[1])
			}
			out = append(out, c)
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
	}
	return out
}

// stripComment cuts a shell comment: a # at the start of a word, outside quotes.
func stripComment(s string) string {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// docFiles are README.md and every Markdown file under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../README.md"}
	require.NoError(t, filepath.WalkDir("../docs", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	}))
	return files
}

// freshMachineEnv is the environment of a machine with Go and nothing else: no Pulumi CLI or AWS CLI on the
// PATH, an empty HOME (no ~/.aws, no ~/.pulumi), no AWS or Pulumi variables, no instance metadata. The Go
// caches and build settings stay the test command's, so the commands reuse what is already built.
func freshMachineEnv(t *testing.T) []string {
	t.Helper()
	goEnv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT").Output()
	require.NoError(t, err)
	vals := strings.Split(strings.TrimSpace(string(goEnv)), "\n")
	require.Len(t, vals, 4)
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if has(dir, "pulumi") || has(dir, "aws") {
			continue
		}
		path = append(path, dir)
	}
	path = append(path, filepath.Join(vals[3], "bin")) // go itself, even if it shared a directory with pulumi
	// The test command's own build settings plus two of the commands' own (-vet=off: the test step has
	// vetted every package; -ldflags=-w: no debug information, which a command run once does not need):
	// the commands reuse the test step's compiles; what they do is unchanged.
	goflags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -ldflags=-w -vet=off")
	env := []string{"HOME=" + t.TempDir(), "PATH=" + strings.Join(path, string(os.PathListSeparator)),
		"GOCACHE=" + vals[0], "GOMODCACHE=" + vals[1], "GOPATH=" + vals[2], "GOFLAGS=" + goflags, "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "PATH" || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "PULUMI_"):
		case k == "GOCACHE" || k == "GOMODCACHE" || k == "GOPATH" || k == "GOFLAGS":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// has reports whether dir holds an executable named name.
func has(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// TestDocsRunnableCommands runs every command of every ```sh offline block in README.md and docs/, from
// the repository's root, as a fresh machine would (see freshMachineEnv), one after another so that the
// first `go run ./cmd/plan` builds what the others reuse. Each must end with its documented status (0, or
// "# exits N"); a `go test` that matches no test fails, since it would pass while proving nothing.
func TestDocsRunnableCommands(t *testing.T) {
	t.Parallel()
	dependOnRepository(t)
	commands := runnableCommands(t, docFiles(t))
	require.NotEmpty(t, commands, "no ```%s block in README.md or docs/", runnableInfo)
	env := freshMachineEnv(t)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	for _, c := range commands {
		where := fmt.Sprintf("%s:%d: %s", strings.TrimPrefix(c.file, "../"), c.line, c.cmd)
		if c.cmd == theTestCommand {
			t.Logf("%s: this is the test command now running", where)
			continue
		}
		require.False(t, strings.Contains(c.cmd, "scripts/test.sh") && !strings.Contains(c.cmd, "--help") ||
			regexp.MustCompile(`go test\b.*(\./\.\.\.|\./scripts\b)`).MatchString(c.cmd),
			"%s: would run this test again; it cannot be marked runnable", where)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", c.cmd)
		cmd.Dir, cmd.Env = root, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		cancel()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err, where)
		}
		t.Logf("%s: exit %d in %s", where, code, time.Since(start).Round(100*time.Millisecond))
		assert.Equal(t, c.exit, code, "%s\n%s", where, tail(out.String(), 40))
		if strings.HasPrefix(c.cmd, "go test") {
			assert.NotContains(t, out.String(), "no tests to run", "%s: runs no test", where)
		}
	}
}

// TestRunnableCommandsParse: the block reader keeps what a shell would run and the documented status.
func TestRunnableCommandsParse(t *testing.T) {
	t.Parallel()
	md := filepath.Join(t.TempDir(), "x.md")
	require.NoError(t, os.WriteFile(md, []byte("# x\n\n```sh\nnot runnable\n```\n\n```sh offline\n"+
		"# a comment\ngo run ./cmd/plan -stack dev   # the plan\n"+
		"go run ./cmd/plan \\\n  -stack nosuch   # exits 2\necho 'a # b'\n```\n"), 0o644))
	got := runnableCommands(t, []string{md})
	assert.Equal(t, []docCommand{
		{file: md, line: 9, cmd: "go run ./cmd/plan -stack dev"},
		{file: md, line: 10, cmd: "go run ./cmd/plan -stack nosuch", exit: 2},
		{file: md, line: 12, cmd: "echo 'a # b'"},
	}, got)
}

// dependOnRepository opens every source file of the repository. The commands a test runs in another
// process read them, which Go's test cache cannot see; opened here, a change to any of them invalidates the
// cached result, so a warm run never passes on a stale one.
func dependOnRepository(t *testing.T) {
	t.Helper()
	require.NoError(t, filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") && name != ".github" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".mod", ".sum", ".sh", ".py", ".yaml", ".yml", ".json", ".md":
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			return f.Close()
		}
		return nil
	}))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
