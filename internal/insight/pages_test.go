package insight

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixturePlans() []*Plan {
	return []*Plan{
		secureFixture(topology{nat: "instance"}).plan("dev", ProfileDev),
		secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 8080}).plan("prod", ProfileProd),
		secureFixture(topology{}).plan("other", ProfileDev),
	}
}

func TestStackPages(t *testing.T) {
	t.Parallel()
	pages, err := StackPages(fixturePlans())
	require.NoError(t, err)
	require.Len(t, pages, 4, "a page per stack and the index")

	dev := string(pages["dev.md"])
	assert.Contains(t, dev, "# Stack dev\n\n"+generatedNote+"\n\nRegion ap-northeast-2, profile dev, from [`Pulumi.dev.yaml`](../../Pulumi.dev.yaml)")
	assert.Contains(t, dev, "## Diagram\n\n[How it is drawn](../offline-plan.md#architecture-diagrams).\n\n```mermaid\nflowchart TB\n")
	assert.Contains(t, dev, "Target: at most $100/month.")
	assert.Contains(t, dev, "with awsx's defaults (3 AZs, one NAT gateway each): $")
	assert.Contains(t, dev, "- RDS.5, `data-db`: dev runs a Single-AZ database")
	other := string(pages["other.md"])
	assert.Contains(t, other, "# Stack other", "every stack gets a page, drawn and priced")
	assert.Contains(t, other, "```mermaid\nflowchart TB\n")
	assert.NotContains(t, other, "Target:", "a stack without a budget has no target")
	prod := string(pages["prod.md"])
	assert.Contains(t, prod, "- EC2.19, `chat-world`: users reach the chat port")
	assert.NotContains(t, prod, "RDS.5, `data-db`", "a page lists only its own stack's findings")

	index := string(pages["README.md"])
	assert.Contains(t, index, "| [dev](dev.md) | ap-northeast-2 | dev | $")
	assert.Contains(t, index, "| Control | Title | dev | prod | other |")
	assert.Contains(t, index, "| RDS.5 | RDS DB instances should be configured with multiple Availability Zones | exception | pass | exception |")
	assert.Contains(t, index, "## Cost assumptions\n\n- ")

	_, err = StackPages([]*Plan{secureFixture(topology{}).plan("README", ProfileDev)})
	assert.EqualError(t, err, `stack name "README" cannot name a page in docs/stacks`)
}

func TestWriteAndCheckPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pages := map[string][]byte{"README.md": []byte("# Stacks\n"), "dev.md": []byte("# Stack dev\n"), "prod.md": []byte("# Stack prod\n")}
	err := CheckPages(dir, pages)
	require.Error(t, err)
	assert.Equal(t, "docs/stacks/README.md is missing; docs/stacks/dev.md is missing; docs/stacks/prod.md is missing; run `go run ./cmd/plan -update-docs`", err.Error())

	require.NoError(t, WritePages(dir, pages))
	require.NoError(t, CheckPages(dir, pages))
	root := filepath.Join(dir, StacksDir)
	require.NoError(t, os.WriteFile(filepath.Join(root, "dev.md"), []byte("# Stack dev, edited by hand\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "gone.md"), []byte("# Stack gone\n"), 0o644))
	err = CheckPages(dir, pages)
	require.Error(t, err)
	assert.Equal(t, "docs/stacks/dev.md is stale; docs/stacks/gone.md belongs to no stack file; run `go run ./cmd/plan -update-docs`", err.Error())

	require.NoError(t, WritePages(dir, pages))
	require.NoError(t, CheckPages(dir, pages), "writing again repairs the edit and removes the leftover page")
	assert.NoFileExists(t, filepath.Join(root, "gone.md"))
}
