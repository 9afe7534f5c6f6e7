package insight

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const readmeSkeleton = `# x

## Architecture diagrams
<!-- insight:diagrams:begin (generated) -->
old diagram
<!-- insight:diagrams:end -->

## Monthly cost
<!-- insight:cost:begin (generated) -->
<!-- insight:cost:end -->

## Guardrails
<!-- insight:guardrails:begin (generated) -->
old
<!-- insight:guardrails:end -->

## Alarms
<!-- insight:alarms:begin (generated) -->
<!-- insight:alarms:end -->
tail
`

func TestUpdateAndCheckReadme(t *testing.T) {
	t.Parallel()
	sections := map[string]string{"diagrams": "D", "cost": "C", "guardrails": "G", "alarms": "A"}
	err := CheckReadme([]byte(readmeSkeleton), sections)
	require.Error(t, err)
	assert.Equal(t, "README.md: generated section(s) diagrams, cost, guardrails, alarms are stale; run `go run ./cmd/plan -update-readme`", err.Error())

	got, err := UpdateReadme([]byte(readmeSkeleton), sections)
	require.NoError(t, err)
	assert.Contains(t, string(got), "<!-- insight:diagrams:begin (generated) -->\n\nD\n\n<!-- insight:diagrams:end -->")
	assert.Contains(t, string(got), "<!-- insight:alarms:end -->\ntail\n", "text after the sections is kept")
	assert.NotContains(t, string(got), "old")
	assert.NoError(t, CheckReadme(got, sections))

	again, err := UpdateReadme(got, sections)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "updating twice changes nothing")

	sections["cost"] = "C2"
	err = CheckReadme(got, sections)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "generated section(s) cost are stale")
}

func TestUpdateReadmeNamesMissingMarkers(t *testing.T) {
	t.Parallel()
	_, err := UpdateReadme([]byte(strings.Replace(readmeSkeleton, "<!-- insight:cost:end -->", "", 1)), map[string]string{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `marker "<!-- insight:cost:end -->" not found after "<!-- insight:cost:begin"`)
	_, err = UpdateReadme([]byte("# nothing"), map[string]string{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `README.md: marker "<!-- insight:diagrams:begin -->" not found`)
}

func TestReadmeSections(t *testing.T) {
	t.Parallel()
	plans := []*Plan{
		secureFixture(topology{nat: "instance"}).plan("dev", ProfileDev),
		secureFixture(topology{rdsMultiAZ: true, chatPortOpen: 8080}).plan("prod", ProfileProd),
		secureFixture(topology{}).plan("other", ProfileDev),
	}
	s, err := ReadmeSections(plans)
	require.NoError(t, err)
	assert.Contains(t, s["diagrams"], "### dev (ap-northeast-2)\n\n```mermaid\nflowchart TB\n")
	assert.Contains(t, s["diagrams"], "### prod (ap-northeast-2)")
	assert.NotContains(t, s["diagrams"], "### other", "only DiagramStacks are drawn")
	assert.Contains(t, s["cost"], "### other (ap-northeast-2)", "every stack is priced")
	assert.Contains(t, s["cost"], "Target: at most $100/month.")
	assert.Contains(t, s["cost"], "with awsx's defaults (3 AZs, one NAT gateway each): $")
	assert.Contains(t, s["guardrails"], "| Control | Title | dev | prod | other |")
	assert.Contains(t, s["guardrails"], "| RDS.5 | RDS DB instances should be configured with multiple Availability Zones | exception | pass | exception |")
	assert.Contains(t, s["guardrails"], "- EC2.19, `chat-world` in prod: users reach the chat port")
	assert.Contains(t, s["guardrails"], "- RDS.5, `data-db` in dev, other: dev runs a Single-AZ database")
}
