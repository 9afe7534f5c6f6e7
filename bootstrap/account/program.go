// Package account is the bootstrap program: what one AWS account needs before the main program's stacks
// can be previewed by pull requests and deployed by merges. It registers the state backend (bucket and
// KMS key), GitHub Actions' way in (the OIDC provider and the preview, deploy and release roles) and the
// account baseline (CloudTrail, Security Hub with the FSBP standard and AWS Config, GuardDuty, Access
// Analyzer, EBS encryption by default, the S3 account public access block, budgets), and exports exactly
// the GitHub variables the workflows read.
//
// bootstrap/main.go runs Program; cmd/plan (-dir bootstrap) and the tests run Deploy under the mock
// engine. It shares the strict config decoding with the main program (internal/strictconfig) and imports
// none of its components.
package account

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
	"github.com/football/football-infra/internal/strictconfig"
)

// Program is what `pulumi up` and `pulumi preview` run in bootstrap/.
func Program(ctx *pulumi.Context) error {
	keys, err := strictconfig.EnvKeys()
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		// A failed warning only loses a log line.
		_ = ctx.Log.Warn(pulumi.EnvConfig+" is empty: unknown "+Project+":* keys cannot be detected in this run", nil)
	}
	_, err = Deploy(ctx, keys)
	return err
}

// GitHub variable names, as the workflows read them (vars.<NAME>).
const (
	VarPreviewRole     = "AWS_PREVIEW_ROLE_ARN"
	VarDeployRole      = "AWS_DEPLOY_ROLE_ARN"
	VarBackendURL      = "PULUMI_BACKEND_URL"
	VarSecretsProvider = "PULUMI_SECRETS_PROVIDER"
)

// Deploy validates the configuration (keys lists every config key set for the stack), registers the
// account's resources and exports the outputs, which it also returns. A bad configuration registers nothing.
func Deploy(ctx *pulumi.Context, keys []string) (pulumi.Map, error) {
	cfg, err := Load(ctx, keys)
	if err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the account: %w", err)
	}
	if caller.AccountId == "" {
		return nil, errors.New("looking up the account: the caller identity has no account ID")
	}
	names := Names{Partition: awsfacts.Partition(cfg.Region), Account: caller.AccountId, Region: cfg.Region, Project: cfg.Project.Name}

	// An existing provider is looked up before anything is registered: if there is none, nothing starts.
	oidcARN := ""
	if cfg.GitHub.OIDCProvider == OIDCExisting {
		if oidcARN, err = existingOIDCProvider(ctx); err != nil {
			return nil, &strictconfig.Error{Err: err}
		}
	}

	state, err := NewStateBackend(ctx, "state", &StateBackendArgs{
		Names: names, NoncurrentVersionDays: cfg.State.NoncurrentVersionDays, LogRetentionDays: cfg.Baseline.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	budgetsByEnv := map[string]float64{}
	stacksByEnv := map[string][]string{}
	for env, e := range cfg.Project.Environments {
		budgetsByEnv[env] = e.MonthlyBudget
		stacksByEnv[env] = e.Stacks
	}
	baseline, err := NewBaseline(ctx, "baseline", &BaselineArgs{
		Settings: cfg.Baseline, Names: names, Regions: cfg.Project.Regions, DefaultTags: cfg.DefaultTags,
		AccessLogBucket: state.AccessLogBucket, Budgets: budgetsByEnv,
	})
	if err != nil {
		return nil, err
	}
	idArgs := &CIIdentityArgs{
		Names: names, Repository: cfg.GitHub.Repository, OIDCProviderARN: oidcARN, ReleaseSubjects: cfg.GitHub.ReleaseSubjects,
		Environments: stacksByEnv, Services: cfg.Project.Services, StateKeyARN: state.KeyARN,
	}
	if *cfg.Baseline.CloudTrail {
		idArgs.TrailKeyARN = baseline.TrailKeyARN
	}
	identity, err := NewCIIdentity(ctx, "ci", idArgs)
	if err != nil {
		return nil, err
	}

	envVars := pulumi.Map{}
	for env, arn := range identity.DeployRoleARNs {
		envVars[env] = pulumi.StringMap{VarDeployRole: arn}
	}
	outs := pulumi.Map{
		// Exactly the GitHub variables the workflows read, by repository and by environment; no secrets:
		// the state key replaces the passphrase. `go run ./bootstrap/handover` sets them.
		"githubRepository": pulumi.String(cfg.GitHub.Repository),
		"githubVariables": pulumi.StringMap{
			VarPreviewRole:     identity.PreviewRoleARN,
			VarBackendURL:      state.BackendURL,
			VarSecretsProvider: state.SecretsProvider,
		},
		"githubEnvironmentVariables": envVars,
		// For the team's image build workflow, wherever it runs from this repository.
		"releaseRoleArn": identity.ReleaseRoleARN,
		// What the main stacks name: the boundary their roles carry (football:permissionsBoundary, as
		// path/name or this ARN), and the bucket and key for operators.
		"permissionsBoundary": identity.BoundaryARN,
		"stateBucket":         state.BucketName,
		"stateKeyArn":         state.KeyARN,
	}
	for k, v := range outs {
		ctx.Export(k, v)
	}
	return outs, nil
}

// existingOIDCProvider finds the account's GitHub OIDC provider and checks that it issues tokens for
// sts.amazonaws.com.
func existingOIDCProvider(ctx *pulumi.Context) (string, error) {
	key := Project + ":github.oidcProvider"
	url := "https://" + OIDCHost
	found, err := iam.LookupOpenIdConnectProvider(ctx, &iam.LookupOpenIdConnectProviderArgs{Url: &url})
	if err != nil {
		return "", fmt.Errorf("%s: existing, but looking up %s failed: %w; set it to create", key, url, err)
	}
	if found.Arn == "" {
		return "", errors.New(key + ": existing, but the account has no provider for " + url + "; set it to create")
	}
	if !slices.Contains(found.ClientIdLists, OIDCAudience) {
		return "", fmt.Errorf("%s: the existing provider %s does not list the audience %s (it lists %v); add it with "+
			"`aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s`",
			key, found.Arn, OIDCAudience, found.ClientIdLists, found.Arn, OIDCAudience)
	}
	return found.Arn, nil
}
