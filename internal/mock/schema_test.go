package mock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkSource is a package shaped like a generated Pulumi SDK: a plain args struct with required and
// optional properties, a nested struct, a list of structs and a map.
const sdkSource = `package thing

type thingArgs struct {
	Name     string            ` + "`pulumi:\"name\"`" + `
	Limit    *int              ` + "`pulumi:\"limit\"`" + `
	Enabled  *bool             ` + "`pulumi:\"enabled\"`" + `
	Rules    []ThingRule       ` + "`pulumi:\"rules\"`" + `
	Tags     map[string]string ` + "`pulumi:\"tags\"`" + `
	Untagged string
}

type ThingRule struct {
	Action   *ThingRuleAction ` + "`pulumi:\"action\"`" + `
	Priority int              ` + "`pulumi:\"priority\"`" + `
}

type ThingRuleAction struct {
	Block *ThingRuleActionBlock ` + "`pulumi:\"block\"`" + `
}

type ThingRuleActionBlock struct {
}
`

// TestSDKSchemaCheck: inputs in the SDK's shape pass; a misspelt property, a value of the wrong kind, a
// fractional integer and a missing required property are each reported with their path; unknown values
// pass.
func TestSDKSchemaCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "thing.go"), []byte(sdkSource), 0o600))
	s, err := LoadSDKSchema(dir)
	require.NoError(t, err)

	good := resource.NewPropertyMapFromMap(map[string]any{
		"name": "a", "limit": 3, "enabled": true,
		"rules": []any{map[string]any{"priority": 1, "action": map[string]any{"block": map[string]any{}}}},
		"tags":  map[string]any{"team": "backend"},
	})
	assert.Empty(t, s.Check("thingArgs", good))
	good["limit"] = resource.MakeComputed(resource.NewStringProperty(""))
	good["name"] = resource.NewOutputProperty(resource.Output{Known: false})
	assert.Empty(t, s.Check("thingArgs", good), "unknown values pass")

	bad := resource.NewPropertyMapFromMap(map[string]any{
		"limit": 2.5, "enabled": "yes",
		"rules": []any{map[string]any{"prority": 1, "action": map[string]any{"blok": map[string]any{}}}},
		"tags":  map[string]any{"team": 7},
	})
	assert.Equal(t, []string{
		"enabled: string where the SDK has a bool",
		"limit: number where the SDK has an integer",
		"name: required by thingArgs, missing",
		"rules[0].action.blok: ThingRuleAction declares no such property",
		"rules[0].priority: required by ThingRule, missing",
		"rules[0].prority: ThingRule declares no such property",
		"tags.team: number where the SDK has a string",
	}, s.Check("thingArgs", bad))
	assert.Equal(t, []string{"the package declares no struct nothingArgs"}, s.Check("nothingArgs", good))
}

// TestAWSArgsStruct: a type token names its typed package and plain args struct; anything else is refused.
func TestAWSArgsStruct(t *testing.T) {
	t.Parallel()
	pkg, args, err := AWSArgsStruct("aws:cfg/recorderStatus:RecorderStatus")
	require.NoError(t, err)
	assert.Equal(t, "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cfg", pkg)
	assert.Equal(t, "recorderStatusArgs", args)
	for _, bad := range []string{"awsx:ec2:Vpc", "aws:cfg", "aws:/x:X", "random:index/randomId:RandomId"} {
		_, _, err := AWSArgsStruct(bad)
		assert.Error(t, err, bad)
	}
}
