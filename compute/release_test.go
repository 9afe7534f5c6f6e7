package compute

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

const testRegistry = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com"

var testAPIImage = testRegistry + "/football/test/api@" + mock.ImageDigest("football/test/api", "v1.4.2")

func TestReleaseSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		release, repository string
		kept                int
		want                string
	}{
		{"v1.4.2", "", 30, ""},
		{"sha256:" + strings.Repeat("ab", 32), "shared/api", 1, ""},
		{"2026-12-01_build.7", "", 1000, ""},
		{"latest", "", 30, `football:api.release: "latest" is not allowed; latest moves with every push`},
		{"sha256:abc", "", 30, `football:api.release: "sha256:abc" is not allowed; a digest is sha256: and 64 lowercase hexadecimal digits`},
		{"v1 2", "", 30, `football:api.release: "v1 2" is not allowed; must be an image tag`},
		{".hidden", "", 30, `football:api.release: ".hidden" is not allowed; must be an image tag`},
		{strings.Repeat("a", 129), "", 30, `football:api.release: "aaaa`},
		{"v1", "Football/API", 30, `football:api.repository: "Football/API" is not allowed; must be an ECR repository name`},
		{"v1", "", 1001, `football:api.releasesKept: 1001 is not allowed; allowed 1..1000`},
	} {
		s := APISettings{Profile: "dev", Region: testRegion,
			ReleaseSettings: ReleaseSettings{Release: tc.release, Repository: tc.repository, ReleasesKept: tc.kept}}.WithDefaults()
		err := s.Validate()
		if tc.want == "" {
			assert.NoError(t, err, tc.release)
			continue
		}
		assert.ErrorContains(t, err, tc.want, tc.release)
	}
	assert.Equal(t, 30, ChatSettings{Profile: "dev", Region: testRegion}.WithDefaults().ReleasesKept)
}

// TestResolveRelease: a tag is looked up in the repository and comes back by digest; a digest is checked
// the same way; what the repository does not hold fails naming the key and the repository.
func TestResolveRelease(t *testing.T) {
	t.Parallel()
	digest := mock.ImageDigest("football/test/api", "v1.4.2")
	var byTag, byDigest, none string
	var errs []error
	_, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": testRegion},
		Images: map[string][]string{"football/test/api": {"v1.4.1", "v1.4.2"}}},
		func(ctx *pulumi.Context) error {
			var err error
			if byTag, err = ResolveRelease(ctx, "football:api", "v1.4.2", "football/test/api"); err != nil {
				return err
			}
			if byDigest, err = ResolveRelease(ctx, "football:api", digest, "football/test/api"); err != nil {
				return err
			}
			if none, err = ResolveRelease(ctx, "football:api", "", "football/test/api"); err != nil {
				return err
			}
			_, err1 := ResolveRelease(ctx, "football:api", "v9.9.9", "football/test/api")
			_, err2 := ResolveRelease(ctx, "football:chat", "v1.4.2", "football/test/chat")
			errs = []error{err1, err2}
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, testRegistry+"/football/test/api@"+digest, byTag)
	assert.Equal(t, byTag, byDigest)
	assert.Empty(t, none, "no release, the placeholder")
	assert.ErrorContains(t, errs[0], `football:api.release: "v9.9.9" is not in the ECR repository football/test/api`)
	assert.ErrorContains(t, errs[0], "ImageNotFoundException")
	assert.ErrorContains(t, errs[1], `football:chat.release: "v1.4.2" is not in the ECR repository football/test/chat`)
	assert.ErrorContains(t, errs[1], "RepositoryNotFoundException")
}

// TestNewApiTierRelease: with a release the servers' env file names the image by digest, the tier's own
// repository is immutable, scanned, encrypted and pruned, and the servers may pull from it and nothing else.
func TestNewApiTierRelease(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("prod")
	args.Release, args.Image = "v1.4.2", testAPIImage
	m, _ := runAPITier(t, args)
	assert.Contains(t, userData(t, m.One(t, ltType)), "FOOTBALL_IMAGE="+testAPIImage+"\n")

	repo := m.One(t, "aws:ecr/repository:Repository")
	assert.Equal(t, "football/test/api", repo.Str("name"))
	assert.Equal(t, "IMMUTABLE", repo.Str("imageTagMutability"), "FSBP ECR.2")
	scan, _ := repo.Bool("imageScanningConfiguration.scanOnPush")
	assert.True(t, scan, "FSBP ECR.1")
	assert.Equal(t, "AES256", repo.Str("encryptionConfigurations[0].encryptionType"))
	force, _ := repo.Bool("forceDelete")
	assert.False(t, force, "prod keeps a repository that holds images")
	lc := m.One(t, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
	assert.Equal(t, "football/test/api", lc.Str("repository"))
	var policy struct {
		Rules []struct {
			Selection struct {
				TagStatus, CountType string
				CountNumber          int
			}
			Action struct{ Type string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(lc.Str("policy")), &policy))
	require.Len(t, policy.Rules, 1)
	assert.Equal(t, "any", policy.Rules[0].Selection.TagStatus)
	assert.Equal(t, "imageCountMoreThan", policy.Rules[0].Selection.CountType)
	assert.Equal(t, 30, policy.Rules[0].Selection.CountNumber)
	assert.Equal(t, "expire", policy.Rules[0].Action.Type)

	pull := parsePolicy(t, policyNamed(t, m, "api-ecr-pull"))
	require.Len(t, pull.Statement, 2)
	assert.Equal(t, []string{"ecr:GetAuthorizationToken"}, pull.Statement[0].Action)
	assert.Equal(t, []string{"*"}, pull.Statement[0].Resource, "the token call has no resource-level permissions")
	assert.ElementsMatch(t, []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}, pull.Statement[1].Action)
	assert.Equal(t, []string{outputStr(t, repo, "arn")}, pull.Statement[1].Resource, "exactly the tier's repository")
	assert.Equal(t, policyNamed(t, m, "api-ecr-pull").Str("role"), m.One(t, "aws:iam/role:Role").ID)

	// Without a release: the placeholder, and the repository is there for the first push.
	m, _ = runAPITier(t, validAPIArgs("dev"))
	ud := userData(t, m.One(t, ltType))
	assert.Contains(t, ud, "FOOTBALL_IMAGE=\n")
	force, _ = m.One(t, "aws:ecr/repository:Repository").Bool("forceDelete")
	assert.True(t, force, "a dev repository goes with the stack")
}

// TestNewApiTierSharedRepository: a configured repository is looked up, not created, and is the one the
// servers may pull from.
func TestNewApiTierSharedRepository(t *testing.T) {
	t.Parallel()
	args := validAPIArgs("prod")
	args.Repository = "football/dev/api"
	args.Release = "v1.4.2"
	args.Image = testRegistry + "/football/dev/api@" + mock.ImageDigest("football/dev/api", "v1.4.2")
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": testRegion}, Images: map[string][]string{"football/dev/api": {"v1.4.2"}}},
		func(ctx *pulumi.Context) error {
			_, err := NewApiTier(ctx, "api", args)
			return err
		})
	require.NoError(t, err)
	assert.Empty(t, m.ByType("aws:ecr/repository:Repository"))
	pull := parsePolicy(t, policyNamed(t, m, "api-ecr-pull"))
	assert.Equal(t, []string{"arn:aws:ecr:ap-northeast-2:123456789012:repository/football/dev/api"}, pull.Statement[1].Resource)

	// An image from another repository than the one in use is the stack's bug.
	args.Image = testAPIImage
	_, err = mock.Run(mock.Options{Config: map[string]string{"aws:region": testRegion}, Images: map[string][]string{"football/dev/api": {"v1.4.2"}}},
		func(ctx *pulumi.Context) error {
			_, err := NewApiTier(ctx, "api", args)
			return err
		})
	assert.ErrorContains(t, err, "is not in the service's repository football/dev/api")
}

// TestSetupScriptRunsARelease runs the setup script with a release, with apt-get, docker and systemctl
// replaced by recorders: the runtime is installed once, the image is pulled by digest before the
// restart, and the unit runs the container on the host's network with the env file and journald.
func TestSetupScriptRunsARelease(t *testing.T) {
	t.Parallel()
	root, bin := t.TempDir(), t.TempDir()
	log := filepath.Join(bin, "calls")
	shim := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \""+name+" $*\" >>"+log+"\n"+body), 0o755))
	}
	for _, name := range []string{"chown", "systemctl", "docker"} {
		shim(name, "")
	}
	// Installing the runtime makes the credential helper appear, as apt would.
	shim("apt-get", `case "$*" in *install*) printf '#!/bin/sh\n' >`+bin+`/docker-credential-ecr-login; chmod +x `+bin+`/docker-credential-ecr-login;; esac`+"\n")
	run := func() string {
		t.Helper()
		e := sampleAPIEnv()
		e.Image = testAPIImage
		script, err := renderAPIUserData(e)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(log, nil, 0o644))
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin", "FOOTBALL_ROOT="+root)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		calls, err := os.ReadFile(log)
		require.NoError(t, err)
		return string(calls)
	}
	first := run()
	assert.Contains(t, first, "apt-get install -y -q --no-install-recommends docker.io amazon-ecr-credential-helper")
	assert.Contains(t, first, "docker pull "+testAPIImage+"\n")
	assert.Less(t, strings.Index(first, "docker pull"), strings.Index(first, "systemctl restart"), "pull before the restart")
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/football-api.service"))
	require.NoError(t, err)
	for _, want := range []string{
		"EnvironmentFile=/etc/football/api.env\n",
		"ExecStart=/usr/bin/docker run --rm --name football-api --network host --env-file /etc/football/api.env --log-driver journald",
		" ${FOOTBALL_IMAGE}\n", "ExecStop=/usr/bin/docker stop --time 30 football-api\n", "Restart=on-failure\n",
		"Environment=DOCKER_CONFIG=/etc/football/docker\n",
	} {
		assert.Contains(t, string(unit), want)
	}
	assert.NotContains(t, string(unit), "placeholder.py")
	cfg, err := os.ReadFile(filepath.Join(root, "etc/football/docker/config.json"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"credHelpers": {"`+testRegistry+`": "ecr-login"}}`, string(cfg))

	again := run()
	assert.NotContains(t, again, "apt-get", "the runtime is installed once")
	assert.NotContains(t, again, "restart", "the same release restarts nothing")
}
