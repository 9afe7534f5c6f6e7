package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ReleaseSettings are the keys of a service's section (football:api, football:chat) that say which build of
// the team's application its servers run.
type ReleaseSettings struct {
	// Release is the image the servers run: a tag in the service's ECR repository, resolved to its digest
	// at every preview and update, or a digest sha256:<64 hex digits>. The servers always pull by digest,
	// so what runs is what the preview showed. Optional; default none (the placeholder); allowed an OCI
	// tag (letters, digits, . _ -, at most 128, not starting with . or -) other than latest, or a digest.
	Release string `json:"release,omitempty"`
	// Repository is an existing ECR repository of the stack's account and region to take releases from
	// instead of the stack's own, e.g. so that prod runs the digests dev tested. Optional; default the
	// stack's own repository <project>/<stack>/<service>; allowed an ECR repository name.
	Repository string `json:"repository,omitempty"`
	// ReleasesKept is how many images the stack's own repository keeps besides the protected ones (the
	// release the stack runs and keepTags); older ones expire (FSBP ECR.3). Optional; default 30; allowed
	// 1..1000.
	ReleasesKept int `json:"releasesKept,omitempty"`
	// KeepTags are tag patterns whose images the stack's own repository never expires, for releases that
	// other stacks run from it (repository) and rollback targets, e.g. ["v1.4.1", "prod-*"]. The release
	// the stack itself runs is protected without being listed. Optional; default none; allowed at most
	// 20 patterns of tag characters and *, at most four * each, each once; only with the stack's own
	// repository (not with repository).
	KeepTags []string `json:"keepTags,omitempty"`
}

func (s ReleaseSettings) withDefaults() ReleaseSettings {
	if s.ReleasesKept == 0 {
		s.ReleasesKept = 30
	}
	return s
}

var (
	// OCI distribution spec: a tag is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
	imageTag    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	imageDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// ECR repository names: lowercase path components separated by / (2..256 characters).
	repositoryName = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	// keepTagPattern is an ECR lifecycle tagPatternList entry: tag characters and * wildcards.
	keepTagPattern = regexp.MustCompile(`^[A-Za-z0-9_.*-]{1,128}$`)
	// imageURI is what the servers pull: <account>.dkr.ecr.<region>.<domain>/<repository>@sha256:<digest>.
	imageURI = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)@sha256:[0-9a-f]{64}$`)
)

func (p *problems) release(s ReleaseSettings) {
	switch r := s.Release; {
	case r == "":
	case strings.HasPrefix(r, "sha256:"):
		if !imageDigest.MatchString(r) {
			p.fail("release", r, "a digest is sha256: and 64 lowercase hexadecimal digits")
		}
	case r == "latest":
		p.fail("release", r, "latest moves with every push, so a preview could not say what runs; name a release tag or a digest")
	case !imageTag.MatchString(r):
		p.fail("release", r, "must be an image tag (letters, digits, . _ -, at most 128, not starting with . or -) or sha256:<64 hex digits>")
	}
	if s.Repository != "" && (len(s.Repository) < 2 || len(s.Repository) > 256 || !repositoryName.MatchString(s.Repository)) {
		p.fail("repository", s.Repository, "must be an ECR repository name: lowercase letters, digits and . _ - in / separated parts, 2..256 characters")
	}
	if s.ReleasesKept < 1 || s.ReleasesKept > 1000 {
		p.fail("releasesKept", s.ReleasesKept, "allowed 1..1000")
	}
	if len(s.KeepTags) > maxKeepTags {
		p.fail("keepTags", fmt.Sprintf("%d patterns", len(s.KeepTags)), fmt.Sprintf("allowed at most %d (one lifecycle rule each)", maxKeepTags))
	}
	if len(s.KeepTags) > 0 && s.Repository != "" {
		p.fail("keepTags", s.KeepTags, fmt.Sprintf("keepTags protects images of the stack's own repository; repository is %s, "+
			"whose owning stack's keepTags decide what expires there", s.Repository))
	}
	seen := map[string]bool{}
	for i, k := range s.KeepTags {
		at := fmt.Sprintf("keepTags[%d]", i)
		switch {
		case !keepTagPattern.MatchString(k):
			p.fail(at, k, "must be a tag pattern: letters, digits, . _ - and * (at most 128 characters)")
		case strings.Count(k, "*") > 4:
			p.fail(at, k, "ECR allows at most four * in a tag pattern")
		case seen[k]:
			p.fail(at, k, "is listed twice")
		}
		seen[k] = true
	}
}

// maxKeepTags bounds keepTags: each pattern is a rule of the lifecycle policy, whose JSON ECR caps at
// 30,720 characters.
const maxKeepTags = 20

// DefaultRepository is the repository a stack creates for one of its services: <project>/<stack>/<service>.
func DefaultRepository(project, stack, service string) string {
	return strings.ToLower(project + "/" + stack + "/" + service)
}

// Resolved is a release as its repository holds it.
type Resolved struct {
	// Image is what the servers pull, by digest: <registry>/<repository>@sha256:...; "" without a release.
	Image string
	// Tags are every tag the repository holds for that image, sorted; none for an untagged image pinned
	// by digest. The repository's lifecycle policy protects the release through one of them.
	Tags []string
}

// ResolveRelease looks a release up in its repository and returns the image to pull, by digest, with its
// tags; the zero Resolved without a release. It runs before anything is registered, in previews too, so
// a release that does not exist stops the deployment before it starts. section names the config key in
// errors (football:api).
func ResolveRelease(ctx *pulumi.Context, section, release, repository string) (Resolved, error) {
	if release == "" {
		return Resolved{}, nil
	}
	args := &ecr.GetImageArgs{RepositoryName: repository}
	if strings.HasPrefix(release, "sha256:") {
		args.ImageDigest = pulumi.StringRef(release)
	} else {
		args.ImageTag = pulumi.StringRef(release)
	}
	img, err := ecr.GetImage(ctx, args)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s.release: %q is not in the ECR repository %s (push it first, or fix the tag): %w", section, release, repository, err)
	}
	if !imageURI.MatchString(img.ImageUri) {
		return Resolved{}, fmt.Errorf("%s.release: ECR answered %q for %q in %s, which is not an image URI by digest", section, img.ImageUri, release, repository)
	}
	tags := slices.Clone(img.ImageTags)
	slices.Sort(tags)
	return Resolved{Image: img.ImageUri, Tags: slices.Compact(tags)}, nil
}

// repository is the ECR repository a service's servers pull from.
type repository struct {
	name string
	arn  pulumi.StringOutput
	url  pulumi.StringOutput
}

// newRepository registers the service's own repository, or looks an existing one up when the settings
// name one. An own repository takes immutable tags (FSBP ECR.2), scans on push (ECR.1), is encrypted at rest
// with ECR's AES-256 keys, and expires images by releaseLifecycle (ECR.3): never the running release nor
// keepTags, and the rest beyond the newest ReleasesKept. Prod's refuses to be deleted while it holds images.
// imageTags are the tags of the release the stack runs (Resolved.Tags). aliases name where the repository
// and its policy were registered before (another component of the same service), so that moving between
// components keeps them.
func newRepository(ctx *pulumi.Context, name string, s ReleaseSettings, imageTags []string, defaultName string, prod bool,
	parent pulumi.Resource, aliases []pulumi.Alias) (*repository, error) {
	if s.Repository != "" {
		found := ecr.LookupRepositoryOutput(ctx, ecr.LookupRepositoryOutputArgs{Name: pulumi.String(s.Repository)}, pulumi.Parent(parent))
		return &repository{name: s.Repository, arn: found.Arn(), url: found.RepositoryUrl()}, nil
	}
	repo, err := ecr.NewRepository(ctx, name+"-repo", &ecr.RepositoryArgs{
		Name:                       pulumi.String(defaultName),
		ImageTagMutability:         pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{&ecr.RepositoryEncryptionConfigurationArgs{
			EncryptionType: pulumi.String("AES256"),
		}},
		ForceDelete: pulumi.Bool(!prod),
	}, pulumi.Parent(parent), pulumi.Aliases(aliases))
	if err != nil {
		return nil, err
	}
	policy, err := releaseLifecycle(protectedTags(s, imageTags), s.ReleasesKept)
	if err != nil {
		return nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name+"-repo-lifecycle", &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(policy),
	}, pulumi.Parent(parent), pulumi.Aliases(aliases)); err != nil {
		return nil, err
	}
	return &repository{name: defaultName, arn: repo.Arn, url: repo.RepositoryUrl}, nil
}

// protectedTags are the tag patterns the stack's own repository must never expire: the release the stack
// runs (the configured tag, or for a release pinned by digest one of the tags its image carries; an
// untagged image cannot be protected, see releaseWarnings), then keepTags, each once.
func protectedTags(s ReleaseSettings, imageTags []string) []string {
	var out []string
	switch {
	case s.Release == "":
	case !strings.HasPrefix(s.Release, "sha256:"):
		out = append(out, s.Release)
	case len(imageTags) > 0:
		out = append(out, imageTags[0])
	}
	for _, k := range s.KeepTags {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// keepCount is what a protecting rule lets an image pattern keep: ECR has no "keep" action, so a rule
// that selects the protected tags and expires only beyond this many of them (the per-repository image
// quota is 100,000 by default, and a release tag, immutable, names one image) protects them in practice.
const keepCount = 9999

// releaseLifecycle is the ECR lifecycle policy of a stack's own repository. ECR applies rules in
// rulePriority order, and an image selected by a rule's tag filter is never expired by a rule of lower
// priority (a higher rulePriority number); a rule selecting tagStatus any must come last. So rules 1..n
// each select one protected tag pattern (a tagPatternList of several patterns would select only images
// carrying all of them) and expire beyond keepCount, which never happens; the last rule expires every
// other image beyond the newest kept, by push time. Rules are listed in ascending priority: the provider
// replaces a policy whose rules ECR would reorder.
func releaseLifecycle(protect []string, kept int) (string, error) {
	rules := make([]any, 0, len(protect)+1)
	for i, tag := range protect {
		rules = append(rules, map[string]any{
			"rulePriority": i + 1,
			"description":  "never expire images tagged " + tag,
			"selection": map[string]any{"tagStatus": "tagged", "tagPatternList": []string{tag},
				"countType": "imageCountMoreThan", "countNumber": keepCount},
			"action": map[string]any{"type": "expire"},
		})
	}
	rules = append(rules, map[string]any{
		"rulePriority": len(protect) + 1,
		"description":  fmt.Sprintf("keep the last %d other images", kept),
		"selection":    map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": kept},
		"action":       map[string]any{"type": "expire"},
	})
	b, err := json.Marshal(map[string]any{"rules": rules})
	return string(b), err
}

// releaseWarnings are the legal but risky release choices: a release the lifecycle policy cannot protect
// (an untagged image pinned by digest), and one whose protection is another stack's business (an image
// in a repository this stack does not own).
func releaseWarnings(section string, s ReleaseSettings, imageTags []string) []string {
	switch {
	case s.Release == "":
		return nil
	case s.Repository != "":
		return []string{fmt.Sprintf("%s.release %s comes from %s, which this stack does not own: that repository's lifecycle "+
			"policy decides when the image expires; protect it there (keepTags of the stack that owns it, e.g. %q)",
			section, s.Release, s.Repository, protectedOrDigest(s.Release, imageTags))}
	case strings.HasPrefix(s.Release, "sha256:") && len(imageTags) == 0:
		return []string{fmt.Sprintf("%s.release %s is an untagged image: the repository's lifecycle policy selects images by tag "+
			"and cannot protect it, so it expires once releasesKept newer images are pushed and new servers then fail to pull it; "+
			"tag it and release the tag", section, s.Release)}
	}
	return nil
}

// protectedOrDigest names what another stack should list in keepTags for a release: its tag.
func protectedOrDigest(release string, imageTags []string) string {
	if !strings.HasPrefix(release, "sha256:") {
		return release
	}
	if len(imageTags) > 0 {
		return imageTags[0]
	}
	return "<a tag of " + release + ">"
}

// pullPolicy lets a server pull from exactly one repository. GetAuthorizationToken has no resource-level
// permissions (AWS requires "*"); it only yields a token, which is worth nothing without the pull rights.
func pullPolicy(repositoryARN string) (string, error) {
	if repositoryARN == "" {
		return "", errors.New("pull policy: the repository ARN is empty")
	}
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "RegistryLogin", "Effect": "Allow", "Action": []string{"ecr:GetAuthorizationToken"}, "Resource": []string{"*"}},
			{"Sid": "PullOwnRepository", "Effect": "Allow",
				"Action":   []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
				"Resource": []string{repositoryARN}},
		},
	})
	return string(b), err
}

// allowPull attaches pullPolicy for repo to a server role.
func allowPull(ctx *pulumi.Context, name string, role *iam.Role, repo *repository, opts ...pulumi.ResourceOption) error {
	_, err := iam.NewRolePolicy(ctx, name+"-ecr-pull", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: repo.arn.ApplyT(pullPolicy).(pulumi.StringOutput),
	}, opts...)
	return err
}

// repository checks the release wiring: the repository the component creates when none is configured,
// and a resolved image that belongs to the repository in use.
func (p *problems) repository(s ReleaseSettings, own, image string) {
	repo := s.Repository
	if repo == "" {
		repo = own
		if own == "" || !repositoryName.MatchString(own) {
			p.errs = append(p.errs, fmt.Errorf("wiring: OwnRepository %q is not allowed; without a configured repository the component needs a repository name (DefaultRepository)", own))
		}
	}
	if (image == "") != (s.Release == "") {
		p.errs = append(p.errs, fmt.Errorf("wiring: Image %q does not match release %q; resolve the release with ResolveRelease", image, s.Release))
	}
	if image == "" {
		return
	}
	m := imageURI.FindStringSubmatch(image)
	switch {
	case m == nil:
		p.errs = append(p.errs, fmt.Errorf("wiring: Image %q is not allowed; must be <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest> (ResolveRelease)", image))
	case m[2] != repo:
		p.errs = append(p.errs, fmt.Errorf("wiring: Image %q is not in the service's repository %s", image, repo))
	}
}
