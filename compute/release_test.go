package compute

import (
	"encoding/json"
	"fmt"
	"regexp"
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

// TestResolveRelease: a tag is looked up in the repository and comes back by digest with every tag of the
// image; a digest is checked the same way (an untagged one has no tags); what the repository does not hold
// fails naming the key and the repository.
func TestResolveRelease(t *testing.T) {
	t.Parallel()
	digest := mock.ImageDigest("football/test/api", "v1.4.2")
	untagged := "sha256:" + strings.Repeat("0f", 32)
	var byTag, byDigest, byUntagged, none Resolved
	var errs []error
	_, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": testRegion},
		Images: map[string][]string{"football/test/api": {"v1.4.1", "v1.4.2", untagged}}},
		func(ctx *pulumi.Context) error {
			var err error
			if byTag, err = ResolveRelease(ctx, "football:api", "v1.4.2", "football/test/api"); err != nil {
				return err
			}
			if byDigest, err = ResolveRelease(ctx, "football:api", digest, "football/test/api"); err != nil {
				return err
			}
			if byUntagged, err = ResolveRelease(ctx, "football:api", untagged, "football/test/api"); err != nil {
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
	assert.Equal(t, Resolved{Image: testRegistry + "/football/test/api@" + digest, Tags: []string{"v1.4.2"}}, byTag)
	assert.Equal(t, byTag, byDigest, "a digest finds the image's tags")
	assert.Equal(t, testRegistry+"/football/test/api@"+untagged, byUntagged.Image)
	assert.Empty(t, byUntagged.Tags)
	assert.Zero(t, none, "no release, the placeholder")
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
	policy := parseLifecycle(t, lc.Str("policy"))
	require.Len(t, policy.Rules, 2, "the running release, then the rest")
	assert.Equal(t, lifecycleRule{Priority: 1, TagStatus: "tagged", Patterns: []string{"v1.4.2"}, CountType: "imageCountMoreThan",
		CountNumber: keepCount, Action: "expire"}, policy.Rules[0], "the running release never expires")
	assert.Equal(t, lifecycleRule{Priority: 2, TagStatus: "any", CountType: "imageCountMoreThan", CountNumber: 30, Action: "expire"},
		policy.Rules[1], "the rest beyond releasesKept")

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

// lifecycleRule is one rule of an ECR lifecycle policy, flattened.
type lifecycleRule struct {
	Priority    int
	TagStatus   string
	Patterns    []string
	CountType   string
	CountNumber int
	Action      string
}

type lifecycle struct{ Rules []lifecycleRule }

func parseLifecycle(t *testing.T, doc string) lifecycle {
	t.Helper()
	var raw struct {
		Rules []struct {
			RulePriority int
			Selection    struct {
				TagStatus, CountType string
				TagPatternList       []string
				CountNumber          int
			}
			Action struct{ Type string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &raw))
	var out lifecycle
	for _, r := range raw.Rules {
		out.Rules = append(out.Rules, lifecycleRule{Priority: r.RulePriority, TagStatus: r.Selection.TagStatus,
			Patterns: r.Selection.TagPatternList, CountType: r.Selection.CountType, CountNumber: r.Selection.CountNumber, Action: r.Action.Type})
	}
	return out
}

// image is one image of a repository in the lifecycle evaluation: its tags, newest pushed last.
type image struct {
	tags []string
}

// tagMatches is ECR's tagPatternList matching of one pattern: * matches any run of characters.
func tagMatches(pattern, tag string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile(re).MatchString(tag)
}

// expire evaluates policy the way ECR documents it (lifecycle_policy_parameters and the evaluation rules
// of the ECR user guide): rules in ascending rulePriority; a rule selects images by tag status and, for
// tagged, images with a tag matching every pattern of its list; an image selected by a rule is never
// expired by a later one; imageCountMoreThan expires the selected images beyond the newest N, by push
// time. images is in push order, oldest first; the result is the indexes expired.
func expire(t *testing.T, policy lifecycle, images []image) map[int]bool {
	t.Helper()
	claimed, expired := map[int]bool{}, map[int]bool{}
	for i, r := range policy.Rules {
		require.Equal(t, i+1, r.Priority, "rules in ascending priority")
		require.Equal(t, "imageCountMoreThan", r.CountType)
		var selected []int
		for n := len(images) - 1; n >= 0; n-- { // newest first
			img := images[n]
			ok := false
			switch r.TagStatus {
			case "any":
				require.Equal(t, len(policy.Rules)-1, i, "a tagStatus any rule must come last")
				ok = true
			case "untagged":
				ok = len(img.tags) == 0
			case "tagged":
				ok = len(r.Patterns) > 0
				for _, p := range r.Patterns {
					any := false
					for _, tag := range img.tags {
						any = any || tagMatches(p, tag)
					}
					ok = ok && any
				}
			}
			if ok {
				selected = append(selected, n)
			}
		}
		for rank, n := range selected {
			if rank >= r.CountNumber && !claimed[n] && r.Action == "expire" {
				expired[n] = true
			}
		}
		for _, n := range selected {
			claimed[n] = true
		}
	}
	return expired
}

// TestLifecycleNeverExpiresWhatRuns: 60 releases pushed after the one a stack runs, with releasesKept 30,
// expire everything older than the newest 30 except the running release (by tag, or pinned by digest
// through its tag) and the keepTags patterns (another stack's release, a promoted prod-* series).
func TestLifecycleNeverExpiresWhatRuns(t *testing.T) {
	t.Parallel()
	var images []image
	for i := 0; i < 80; i++ {
		tags := []string{fmt.Sprintf("v1.%d.0", i)}
		if i == 5 || i == 7 {
			tags = append(tags, fmt.Sprintf("prod-v1.%d.0", i))
		}
		images = append(images, image{tags: tags})
	}
	images = append(images, image{}) // an untagged push, the newest
	for _, tc := range []struct {
		name     string
		settings ReleaseSettings
		tags     []string // of the running image, as ResolveRelease reports them
		kept     []int
	}{
		{"by tag", ReleaseSettings{Release: "v1.3.0"}, []string{"v1.3.0"}, []int{3}},
		{"by digest", ReleaseSettings{Release: "sha256:" + strings.Repeat("ab", 32)}, []string{"v1.3.0"}, []int{3}},
		{"keepTags", ReleaseSettings{Release: "v1.3.0", KeepTags: []string{"v1.10.0", "prod-*"}}, []string{"v1.3.0"}, []int{3, 10, 5, 7}},
		{"no release", ReleaseSettings{}, nil, nil},
	} {
		s := tc.settings
		s.ReleasesKept = 30
		doc, err := releaseLifecycle(protectedTags(s, tc.tags), s.ReleasesKept)
		require.NoError(t, err)
		gone := expire(t, parseLifecycle(t, doc), images)
		for _, n := range tc.kept {
			assert.False(t, gone[n], "%s: %v must never expire", tc.name, images[n].tags)
		}
		assert.Len(t, gone, len(images)-30-len(tc.kept), "%s: the rest beyond the newest 30 expire", tc.name)
		assert.False(t, gone[len(images)-1], "%s: the newest push stays", tc.name)
	}
	// The old policy, newest 30 whatever runs, expired the running release.
	gone := expire(t, parseLifecycle(t, `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}]}`), images)
	assert.True(t, gone[3], "the evaluation reproduces the defect it guards against")
}

// TestReleaseWarnings: a release the stack's own policy cannot protect, and one in another stack's
// repository, are announced; a tagged release in the own repository is not.
func TestReleaseWarnings(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("ab", 32)
	assert.Empty(t, releaseWarnings(apiSection, ReleaseSettings{Release: "v1.4.2"}, []string{"v1.4.2"}))
	assert.Empty(t, releaseWarnings(apiSection, ReleaseSettings{Release: digest}, []string{"v1.4.2"}))
	w := releaseWarnings(apiSection, ReleaseSettings{Release: digest}, nil)
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "football:api.release "+digest+" is an untagged image: the repository's lifecycle policy selects images by tag")
	w = releaseWarnings(chatSection, ReleaseSettings{Release: "v0.9.0", Repository: "football/dev/chat"}, []string{"v0.9.0"})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], `football:chat.release v0.9.0 comes from football/dev/chat, which this stack does not own`)
	assert.Contains(t, w[0], `keepTags of the stack that owns it, e.g. "v0.9.0"`)
}

// TestKeepTagsValidate: patterns ECR's tagPatternList takes, each once, only for the stack's own repository.
func TestKeepTagsValidate(t *testing.T) {
	t.Parallel()
	check := func(keep []string, repository string) error {
		return APISettings{Profile: "dev", Region: testRegion,
			ReleaseSettings: ReleaseSettings{KeepTags: keep, Repository: repository}}.WithDefaults().Validate()
	}
	assert.NoError(t, check([]string{"v1.4.1", "prod-*", "*-rc*"}, ""))
	err := check([]string{"v1 4", "a*b*c*d*e*f", "prod-*", "prod-*"}, "")
	assert.ErrorContains(t, err, `football:api.keepTags[0]: "v1 4" is not allowed; must be a tag pattern`)
	assert.ErrorContains(t, err, `football:api.keepTags[1]: "a*b*c*d*e*f" is not allowed; ECR allows at most four * in a tag pattern`)
	assert.ErrorContains(t, err, `football:api.keepTags[3]: "prod-*" is not allowed; is listed twice`)
	assert.ErrorContains(t, check([]string{"v1"}, "football/dev/api"),
		"football:api.keepTags: [v1] is not allowed; keepTags protects images of the stack's own repository; repository is football/dev/api")
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("v%d", i)
	}
	assert.ErrorContains(t, check(many, ""), `football:api.keepTags: "21 patterns" is not allowed; allowed at most 20 (one lifecycle rule each)`)
}
