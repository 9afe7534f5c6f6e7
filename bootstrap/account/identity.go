package account

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const ciIdentityType = "football:bootstrap:CIIdentity"

// CIIdentityArgs configures NewCIIdentity.
type CIIdentityArgs struct {
	// Names are the account's fixed names. Required.
	Names Names
	// Repository is this repository, owner/name. Required.
	Repository string
	// OIDCProviderARN is the account's existing GitHub OIDC provider; "" registers one.
	OIDCProviderARN string
	// ReleaseSubjects are the OIDC subjects the release role trusts. Required, each within Repository.
	ReleaseSubjects []string
	// Environments are the GitHub environments and the stacks each deploys. Required, at least one.
	Environments map[string][]string
	// Services have an ECR repository per stack, which the release role may push to. Required.
	Services []string
	// StateKeyARN is the state key. Required.
	StateKeyARN pulumi.StringInput
	// TrailKeyARN is the trail's key, which the deploy roles may not touch; nil without a trail.
	TrailKeyARN pulumi.StringInput
}

// CIIdentity is GitHub Actions' way into the account: the OIDC provider and the roles the workflows assume,
// each trusted only by this repository's tokens for sts.amazonaws.com: preview (pull requests), deploy
// (one per GitHub environment), release (image pushes), and the deploy roles' permissions boundary.
type CIIdentity struct {
	pulumi.ResourceState
	// OIDCProviderARN is the provider the roles trust.
	OIDCProviderARN pulumi.StringOutput
	// PreviewRoleARN is assumed by pull requests.
	PreviewRoleARN pulumi.StringOutput
	// DeployRoleARNs are assumed by the deploy jobs, by GitHub environment.
	DeployRoleARNs map[string]pulumi.StringOutput
	// ReleaseRoleARN pushes images to the stacks' repositories.
	ReleaseRoleARN pulumi.StringOutput
	// BoundaryARN is the permissions boundary of every role a deploy role creates.
	BoundaryARN pulumi.StringOutput
}

func (a CIIdentityArgs) validate() error {
	var errs []error
	if a.Names.Account == "" || a.Names.Project == "" || a.Names.Partition == "" {
		errs = append(errs, errors.New("wiring: Names needs the partition, account and project"))
	}
	if a.StateKeyARN == nil {
		errs = append(errs, errors.New("wiring: StateKeyARN is required"))
	}
	if !repositoryName.MatchString(a.Repository) {
		errs = append(errs, fmt.Errorf("repository: %q is not allowed; owner/name", a.Repository))
	}
	prefix := "repo:" + a.Repository + ":"
	if len(a.ReleaseSubjects) == 0 {
		errs = append(errs, errors.New("releaseSubjects: none; at least one subject within "+prefix))
	}
	for _, s := range a.ReleaseSubjects {
		if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
			errs = append(errs, fmt.Errorf("releaseSubjects: %q is not allowed; must start with %s", s, prefix))
		}
	}
	if len(a.Environments) == 0 {
		errs = append(errs, errors.New("environments: none; at least one"))
	}
	for env, stacks := range a.Environments {
		if len(stacks) == 0 {
			errs = append(errs, fmt.Errorf("environments.%s: no stacks", env))
		}
	}
	if len(a.Services) == 0 {
		errs = append(errs, errors.New("services: none; at least one"))
	}
	return errors.Join(errs...)
}

// PreviewSubject is the OIDC subject of pull_request workflow runs of repository.
func PreviewSubject(repository string) string { return "repo:" + repository + ":pull_request" }

// DeploySubject is the OIDC subject of jobs that run in a GitHub environment of repository.
func DeploySubject(repository, environment string) string {
	return "repo:" + repository + ":environment:" + environment
}

// NewCIIdentity checks args, then registers the provider (unless it exists), the boundary and the roles.
func NewCIIdentity(ctx *pulumi.Context, name string, args *CIIdentityArgs, opts ...pulumi.ResourceOption) (*CIIdentity, error) {
	if args == nil {
		return nil, fmt.Errorf("CI identity %q: args are required", name)
	}
	a := *args
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("CI identity %q: %w", name, err)
	}
	c := &CIIdentity{DeployRoleARNs: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(ciIdentityType, name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	n := a.Names

	c.OIDCProviderARN = pulumi.String(a.OIDCProviderARN).ToStringOutput()
	if a.OIDCProviderARN == "" {
		// IAM has GitHub's certificate authorities in its trust store, so no thumbprint is needed.
		provider, err := iam.NewOpenIdConnectProvider(ctx, name+"-github", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String("https://" + OIDCHost),
			ClientIdLists: pulumi.StringArray{pulumi.String(OIDCAudience)},
		}, child)
		if err != nil {
			return nil, err
		}
		c.OIDCProviderARN = provider.Arn
	}

	boundary, err := iam.NewPolicy(ctx, name+"-boundary", &iam.PolicyArgs{
		Name:        pulumi.String(n.BoundaryName()),
		Path:        pulumi.String(n.Path()),
		Description: pulumi.String("The most a role created by a " + n.Project + " deploy role may do"),
		Policy:      pulumi.String(n.boundaryPolicy()),
	}, child)
	if err != nil {
		return nil, err
	}
	c.BoundaryARN = boundary.Arn

	role := func(kind, purpose string, subjects []string) (*iam.Role, error) {
		return iam.NewRole(ctx, name+"-"+kind, &iam.RoleArgs{
			Name:               pulumi.String(n.RoleName(kind)),
			Path:               pulumi.String(n.Path()),
			Description:        pulumi.String(purpose),
			MaxSessionDuration: pulumi.Int(3600),
			AssumeRolePolicy: c.OIDCProviderARN.ApplyT(func(arn string) string {
				return trustPolicy(arn, subjects)
			}).(pulumi.StringOutput),
		}, child)
	}
	inline := func(r *iam.Role, policyName string, doc pulumi.StringInput) error {
		_, err := iam.NewRolePolicy(ctx, name+"-"+policyName, &iam.RolePolicyArgs{Role: r.Name, Name: pulumi.String(policyName), Policy: doc}, child)
		return err
	}

	preview, err := role("preview", "pull requests of "+a.Repository+": pulumi preview", []string{PreviewSubject(a.Repository)})
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-preview-read-only", &iam.RolePolicyAttachmentArgs{
		Role: preview.Name, PolicyArn: pulumi.String(n.readOnlyAccess()),
	}, child); err != nil {
		return nil, err
	}
	previewDoc := a.StateKeyARN.ToStringOutput().ApplyT(n.previewPolicy).(pulumi.StringOutput)
	if err := inline(preview, "preview-state", previewDoc); err != nil {
		return nil, err
	}
	c.PreviewRoleARN = preview.Arn

	trailKey := pulumi.String("").ToStringOutput()
	if a.TrailKeyARN != nil {
		trailKey = a.TrailKeyARN.ToStringOutput()
	}
	envs := make([]string, 0, len(a.Environments))
	var allStacks []string
	for env := range a.Environments {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	for _, env := range envs {
		stacks := a.Environments[env]
		allStacks = append(allStacks, stacks...)
		r, err := role("deploy-"+env, "GitHub environment "+env+" of "+a.Repository+": pulumi up of "+fmt.Sprint(stacks), []string{DeploySubject(a.Repository, env)})
		if err != nil {
			return nil, err
		}
		doc := pulumi.All(a.StateKeyARN, trailKey).ApplyT(func(v []any) string {
			return n.deployPolicy(stacks, v[0].(string), v[1].(string))
		}).(pulumi.StringOutput)
		if err := inline(r, "deploy-"+env, doc); err != nil {
			return nil, err
		}
		c.DeployRoleARNs[env] = r.Arn
	}

	release, err := role("release", "image pushes of "+a.Repository+" to the stacks' ECR repositories", a.ReleaseSubjects)
	if err != nil {
		return nil, err
	}
	sort.Strings(allStacks)
	if err := inline(release, "release-push", pulumi.String(n.releasePolicy(allStacks, a.Services))); err != nil {
		return nil, err
	}
	c.ReleaseRoleARN = release.Arn

	deploy := pulumi.StringMap{}
	for env, arn := range c.DeployRoleARNs {
		deploy[env] = arn
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"oidcProviderArn": c.OIDCProviderARN, "previewRoleArn": c.PreviewRoleARN, "deployRoleArns": deploy,
		"releaseRoleArn": c.ReleaseRoleARN, "boundaryArn": c.BoundaryARN,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
