package stack

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

// TestReleasesReachTheServers plans dev with a release of each service: the API's launch template and
// the chat server's settings name the image by the digest ECR gave for the tag, each role may pull from
// exactly its own repository, and the refresh that rolls the release out can roll itself back.
func TestReleasesReachTheServers(t *testing.T) {
	t.Parallel()
	images := map[string][]string{"football/dev/api": {"v1.4.1", "v1.4.2"}, "football/dev/chat": {"v0.9.0"}}
	m := planEdited(t, "dev", map[string]string{"api.release": `"v1.4.2"`, "chat.release": `"v0.9.0"`}, mock.Options{Images: images})
	apiImage := mock.Account + ".dkr.ecr.ap-northeast-2.amazonaws.com/football/dev/api@" + mock.ImageDigest("football/dev/api", "v1.4.2")
	chatImage := mock.Account + ".dkr.ecr.ap-northeast-2.amazonaws.com/football/dev/chat@" + mock.ImageDigest("football/dev/chat", "v0.9.0")

	ud, err := base64.StdEncoding.DecodeString(byName(t, m, "api-lt").Str("userData"))
	require.NoError(t, err)
	assert.Contains(t, string(ud), "\nFOOTBALL_IMAGE="+apiImage+"\n")
	assert.Contains(t, string(ud), "--network host --env-file /etc/football/api.env")
	env, err := base64.StdEncoding.DecodeString(byName(t, m, "chat-setup", "aws:ssm/association:Association").Str("parameters.env"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "FOOTBALL_IMAGE="+chatImage+"\n")

	asg := byName(t, m, "api-asg")
	rollback, _ := asg.Bool("instanceRefresh.preferences.autoRollback")
	assert.True(t, rollback)
	minHealthy, _ := asg.Num("instanceRefresh.preferences.minHealthyPercentage")
	assert.Equal(t, 100.0, minHealthy, "a release never shrinks serving capacity")
	assert.Regexp(t, `^ami-[0-9a-f]{17}$`, byName(t, m, "api-lt").Str("imageId"), "automatic rollback refuses resolve:ssm: images")

	for svc, tag := range map[string]string{"api": "v1.4.2", "chat": "v0.9.0"} {
		repo := byName(t, m, svc+"-repo")
		assert.Equal(t, "football/dev/"+svc, repo.Str("name"))
		// The repository never expires the release the stack runs: its first lifecycle rule selects that tag.
		var lc struct {
			Rules []struct {
				RulePriority int
				Selection    struct {
					TagStatus      string
					TagPatternList []string
				}
			}
		}
		require.NoError(t, json.Unmarshal([]byte(byName(t, m, svc+"-repo-lifecycle").Str("policy")), &lc))
		require.Len(t, lc.Rules, 2)
		assert.Equal(t, []string{tag}, lc.Rules[0].Selection.TagPatternList, "%s protects its running release", svc)
		assert.Equal(t, "any", lc.Rules[1].Selection.TagStatus)
		var doc struct {
			Statement []struct{ Action, Resource []string }
		}
		require.NoError(t, json.Unmarshal([]byte(byName(t, m, svc+"-ecr-pull").Str("policy")), &doc))
		require.Len(t, doc.Statement, 2)
		assert.Equal(t, []string{repo.Outputs["arn"].StringValue()}, doc.Statement[1].Resource, "%s pulls only its own repository", svc)
		assert.Equal(t, byName(t, m, svc+"-role").ID, byName(t, m, svc+"-ecr-pull").Str("role"))
	}

	// Without a release: the placeholder, as before.
	plain := planEdited(t, "dev", nil, mock.Options{})
	ud, err = base64.StdEncoding.DecodeString(byName(t, plain, "api-lt").Str("userData"))
	require.NoError(t, err)
	assert.Contains(t, string(ud), "\nFOOTBALL_IMAGE=\n")
}

// TestMissingReleaseRegistersNothing: a tag the repository does not hold stops the deployment before any
// resource exists, naming the key and the repository.
func TestMissingReleaseRegistersNothing(t *testing.T) {
	t.Parallel()
	st, err := stackfile.Load("..", "prod")
	require.NoError(t, err)
	require.NoError(t, st.Set("football:api.release", "v2.0.0"))
	m, err := mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys,
		Images: map[string][]string{"football/prod/api": {"v1.4.2"}}},
		func(ctx *pulumi.Context) error {
			_, err := Deploy(ctx, st.Keys())
			return err
		})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `football:api.release: "v2.0.0" is not in the ECR repository football/prod/api`)
	var custom []string
	for _, r := range m.All() {
		if !strings.HasPrefix(r.Type, "pulumi:") {
			custom = append(custom, r.Name)
		}
	}
	assert.Empty(t, custom, "nothing is registered")
}
