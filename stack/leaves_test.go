package stack

import (
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module is this repository's module path.
const module = "github.com/football/football-infra"

// leaves are the component packages. Only this package wires them together: a leaf that imported
// another would tie their lifecycles and let a change in one break the other's tests.
var leaves = []string{"network", "compute", "data", "edge", "monitoring"}

// shared are the module's packages a leaf may import: the AWS facts and the registration of resources by
// type token in production code, and the mock engine and the boot script sandbox in tests. None imports a
// leaf.
var shared = map[string]bool{module + "/internal/awsfacts": true, module + "/internal/awsres": true}
var sharedInTests = map[string]bool{module + "/internal/awsfacts": true, module + "/internal/awsres": true, module + "/internal/mock": true,
	module + "/internal/bootsim": true}

// TestLeavesImportNoSibling reads the imports of every Go file of the leaf packages (tests included) and of
// the packages they may share, and fails on any import of this module that the layering does not allow.
func TestLeavesImportNoSibling(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, dir := range append(append([]string(nil), leaves...), "internal/awsfacts", "internal/awsres", "internal/mock", "internal/bootsim") {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no Go files in %s", dir)
		for _, file := range files {
			for _, imp := range imports(t, file) {
				if !strings.HasPrefix(imp, module+"/") && imp != module {
					continue // the standard library and third-party modules
				}
				checked++
				allowed := shared
				if strings.HasSuffix(file, "_test.go") {
					allowed = sharedInTests
				}
				switch dir {
				case "internal/awsfacts", "internal/awsres", "internal/bootsim":
					allowed = nil // the facts and the sandbox stand alone
				case "internal/mock":
					allowed = shared
				}
				assert.True(t, allowed[imp], "%s imports %s; a component imports only the standard library, the SDKs and %v",
					filepath.ToSlash(strings.TrimPrefix(file, "../")), imp, slices.Sorted(maps.Keys(allowed)))
			}
		}
	}
	assert.NotZero(t, checked, "the leaves import the shared packages, so the check has something to judge")
}

// TestLeafImportCheckCatches: the check above reads real import declarations (a sibling import written
// into a file is reported), so it cannot pass for want of parsing.
func TestLeafImportCheckCatches(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "bad.go")
	require.NoError(t, os.WriteFile(file, []byte("package network\n\nimport (\n\t\"fmt\"\n\n\t\""+module+"/compute\"\n)\n"), 0o600))
	assert.Equal(t, []string{"fmt", module + "/compute"}, imports(t, file))
}

// imports lists a Go file's import paths.
func imports(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	require.NoError(t, err)
	var out []string
	for _, s := range f.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		require.NoError(t, err)
		out = append(out, p)
	}
	return out
}
