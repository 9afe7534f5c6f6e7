package account_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/bootstrap/account"
	"github.com/football/football-infra/internal/awsres"
	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

const example = "workloads"

// plan runs the bootstrap with the committed example stack, changed by sets ("key.path" -> value as
// `pulumi config set --path` takes it), under the mock engine.
func plan(t testing.TB, sets map[string]string) (*mock.Mocks, map[string]any, error) {
	t.Helper()
	st, err := stackfile.Load("..", example)
	require.NoError(t, err)
	for k, v := range sets {
		require.NoError(t, st.Set(k, v))
	}
	outputs := map[string]any{}
	m, err := mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys,
		OIDCProviders: []string{account.OIDCHost}},
		func(ctx *pulumi.Context) error {
			outs, err := account.Deploy(ctx, st.Keys())
			if err != nil {
				return err
			}
			for k, v := range outs {
				val, _, err := mock.AwaitValue(pulumi.ToOutput(v))
				if err != nil {
					return err
				}
				outputs[k] = val
			}
			return nil
		})
	return m, outputs, err
}

// roleNamed finds a planned role by its IAM name.
func roleNamed(t testing.TB, m *mock.Mocks, name string) *mock.Resource {
	t.Helper()
	for _, r := range m.ByType("aws:iam/role:Role") {
		if r.Str("name") == name {
			return r
		}
	}
	t.Fatalf("no role named %s", name)
	return nil
}

// policiesOf are the inline policies of a role, parsed.
func policiesOf(t testing.TB, m *mock.Mocks, role string) []account.Document {
	t.Helper()
	var out []account.Document
	for _, p := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
		if p.Str("role") == role {
			out = append(out, parse(t, p.Str("policy")))
		}
	}
	require.NotEmpty(t, out, "role %s has no inline policy", role)
	return out
}

func TestExampleStackPlans(t *testing.T) {
	t.Parallel()
	m, outs, err := plan(t, nil)
	require.NoError(t, err)
	for typ, n := range map[string]int{
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider": 1, "aws:iam/policy:Policy": 1,
		"aws:cloudtrail/trail:Trail": 1, "aws:securityhub/standardsSubscription:StandardsSubscription": 2,
		"aws:guardduty/detector:Detector": 2, "aws:accessanalyzer/analyzer:Analyzer": 2, "aws:budgets/budget:Budget": 2,
		"aws:ebs/encryptionByDefault:EncryptionByDefault": 2, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": 1,
		"aws:kms/key:Key": 2, "aws:s3/bucketV2:BucketV2": 4, "aws:cfg/recorder:Recorder": 2,
	} {
		assert.Len(t, m.ByType(typ), n, typ)
	}
	for _, r := range m.Custom() {
		if r.Type == "pulumi:providers:aws" {
			assert.Contains(t, r.Parent, "football:bootstrap:Baseline", "provider %s", r.Name)
			continue
		}
		assert.Regexp(t, `::football:bootstrap:(StateBackend|CIIdentity|Baseline)::`, r.Parent, "%s %s must be parented to a component", r.Type, r.Name)
	}
	// The regional parts of us-east-1 go through that region's provider, with the stack's default tags.
	prov := m.One(t, "pulumi:providers:aws")
	assert.Equal(t, "us-east-1", prov.Str("region"))
	assert.Equal(t, "pulumi", prov.Str("defaultTags.tags.ManagedBy"))
	for _, typ := range []string{"aws:guardduty/detector:Detector", "aws:securityhub/account:Account", "aws:cfg/recorder:Recorder"} {
		var regions []string
		for _, r := range m.ByType(typ) {
			regions = append(regions, map[bool]string{true: "us-east-1", false: "home"}[r.Provider == prov.URN])
		}
		sort.Strings(regions)
		assert.Equal(t, []string{"home", "us-east-1"}, regions, typ)
	}
	// IAM is recorded once, in the home region.
	for _, r := range m.ByType("aws:cfg/recorder:Recorder") {
		global, _ := r.Bool("recordingGroup.includeGlobalResourceTypes")
		assert.Equal(t, r.Provider == "", global, r.Name)
	}

	// IAM's size limits, which only AWS would enforce: a role's inline policies together 10,240 characters,
	// a managed policy 6,144, a trust policy 2,048 (whitespace not counted; the documents have none).
	inline := map[string]int{}
	for _, p := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
		inline[p.Str("role")] += len(p.Str("policy"))
	}
	for role, n := range inline {
		assert.LessOrEqual(t, n, 10240, "inline policies of %s", role)
	}
	for _, p := range m.ByType("aws:iam/policy:Policy") {
		assert.LessOrEqual(t, len(p.Str("policy")), 6144, p.Name)
	}
	for _, r := range m.ByType("aws:iam/role:Role") {
		assert.LessOrEqual(t, len(r.Str("assumeRolePolicy")), 2048, r.Name)
	}

	vars := outs["githubVariables"].(map[string]string)
	assert.Equal(t, "s3://football-state-123456789012-ap-northeast-2?region=ap-northeast-2", vars[account.VarBackendURL])
	assert.Equal(t, roleNamed(t, m, "football-ci-preview").Outputs["arn"].StringValue(), vars[account.VarPreviewRole])
	env := outs["githubEnvironmentVariables"].(map[string]any)
	assert.Equal(t, []string{"dev", "prod"}, sortedKeys(env))
	assert.Equal(t, "arn:aws:iam::123456789012:role/football-bootstrap/football-ci-deploy-prod",
		env["prod"].(map[string]string)[account.VarDeployRole])
	assert.Equal(t, "awskms://alias/football-state?region=ap-northeast-2", vars[account.VarSecretsProvider])
	assert.Equal(t, roleNamed(t, m, "football-ci-release").Outputs["arn"].StringValue(), outs["releaseRoleArn"])
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestStateBackend(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, map[string]string{"football-bootstrap:state.noncurrentVersionDays": "30"})
	require.NoError(t, err)
	var state *mock.Resource
	for _, b := range m.ByType("aws:s3/bucketV2:BucketV2") {
		if b.Name == "state-bucket" {
			state = b
		}
	}
	require.NotNil(t, state)
	assert.True(t, state.Protect && state.RetainOnDelete, "the state bucket is protected and retained")
	key := m.ByType("aws:kms/key:Key")
	var stateKey *mock.Resource
	for _, k := range key {
		if k.Name == "state-key" {
			stateKey = k
		}
	}
	require.NotNil(t, stateKey)
	assert.True(t, stateKey.Protect && stateKey.RetainOnDelete)
	rotation, _ := stateKey.Bool("enableKeyRotation")
	assert.True(t, rotation)

	setting := func(typ string) *mock.Resource {
		for _, r := range m.ByType(typ) {
			if r.Str("bucket") == state.ID {
				return r
			}
		}
		t.Fatalf("no %s for the state bucket", typ)
		return nil
	}
	assert.Equal(t, "Enabled", setting("aws:s3/bucketVersioningV2:BucketVersioningV2").Str("versioningConfiguration.status"))
	sse := setting("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	assert.Equal(t, "aws:kms", sse.Str("rules[0].applyServerSideEncryptionByDefault.sseAlgorithm"))
	assert.Equal(t, stateKey.Outputs["arn"].StringValue(), sse.Str("rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	days, _ := setting("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2").Num("rules[0].noncurrentVersionExpiration.noncurrentDays")
	assert.Equal(t, 30.0, days)
	block := setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		on, _ := block.Bool(k)
		assert.True(t, on, k)
	}
	policy := parse(t, setting("aws:s3/bucketPolicy:BucketPolicy").Str("policy"))
	anon := map[string]string{"aws:SecureTransport": "false"}
	assert.False(t, allowed([]account.Document{policy, allowAll()}, request{"s3:GetObject", "arn:aws:s3:::" + state.ID + "/x", anon}),
		"plain HTTP is refused")
	assert.True(t, allowed([]account.Document{policy, allowAll()}, request{"s3:GetObject", "arn:aws:s3:::" + state.ID + "/x",
		map[string]string{"aws:SecureTransport": "true"}}))
}

// allowAll stands for a principal's own identity policy, so that a bucket policy's denies can be seen.
func allowAll() account.Document {
	return account.Document{Statement: []account.Statement{{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}}}
}

// TestTrustPoliciesPinRepositoryAndAudience: every CI role trusts only GitHub's provider, only tokens
// issued to sts.amazonaws.com, and only subjects of this repository: pull requests for preview, its own
// environment for each deploy role.
func TestTrustPoliciesPinRepositoryAndAudience(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, nil)
	require.NoError(t, err)
	provider := m.One(t, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
	assert.Equal(t, []string{"sts.amazonaws.com"}, provider.Strs("clientIdLists"))
	oidc := provider.Outputs["arn"].StringValue()
	repo := "football-team/football-infra"
	want := map[string][]string{
		"football-ci-preview":     {"repo:" + repo + ":pull_request"},
		"football-ci-deploy-dev":  {"repo:" + repo + ":environment:dev"},
		"football-ci-deploy-prod": {"repo:" + repo + ":environment:prod"},
		"football-ci-release":     {"repo:" + repo + ":ref:refs/heads/main"},
	}
	for name, subjects := range want {
		doc := parse(t, roleNamed(t, m, name).Str("assumeRolePolicy"))
		require.Len(t, doc.Statement, 1, name)
		s := doc.Statement[0]
		assert.Equal(t, "Allow", s.Effect)
		assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, []string(s.Action), name)
		assert.Equal(t, map[string]any{"Federated": oidc}, s.Principal, name)
		base := map[string]string{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
		assume := func(ctx map[string]string) bool {
			for k, v := range base {
				if _, set := ctx[k]; !set {
					ctx[k] = v
				}
			}
			return allowed([]account.Document{doc}, request{"sts:AssumeRoleWithWebIdentity", "*", ctx})
		}
		for _, sub := range subjects {
			assert.True(t, assume(map[string]string{"token.actions.githubusercontent.com:sub": sub}), "%s trusts %s", name, sub)
			assert.False(t, assume(map[string]string{"token.actions.githubusercontent.com:sub": sub,
				"token.actions.githubusercontent.com:aud": "https://github.com/football-team"}), "%s: another audience", name)
		}
		for _, other := range []string{
			"repo:football-team/other:pull_request", "repo:someone/football-infra:pull_request",
			"repo:" + repo + ":ref:refs/heads/feature", "repo:" + repo + ":environment:staging",
		} {
			if !contains(subjects, other) {
				assert.False(t, assume(map[string]string{"token.actions.githubusercontent.com:sub": other}), "%s must not trust %s", name, other)
			}
		}
		assert.False(t, assume(map[string]string{}), "%s: a token without a subject", name)
	}
	// A deploy role trusts only its own environment: dev's token cannot deploy prod.
	prod := parse(t, roleNamed(t, m, "football-ci-deploy-prod").Str("assumeRolePolicy"))
	assert.False(t, allowed([]account.Document{prod}, request{"sts:AssumeRoleWithWebIdentity", "*", map[string]string{
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "repo:" + repo + ":environment:dev"}}))
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestPreviewRoleWritesOnlyStateObjects reads every Allow statement of the preview role's own policy:
// what writes, writes state objects of the main project only (a new stack's file); everything else is a
// read of the state or the use of the state key. Its one managed policy is ReadOnlyAccess.
func TestPreviewRoleWritesOnlyStateObjects(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, nil)
	require.NoError(t, err)
	var attached []string
	for _, a := range m.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Str("role") == "football-ci-preview" {
			attached = append(attached, a.Str("policyArn"))
		}
	}
	assert.Equal(t, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, attached)
	stateKey := ""
	for _, k := range m.ByType("aws:kms/key:Key") {
		if k.Name == "state-key" {
			stateKey = k.Outputs["arn"].StringValue()
		}
	}
	state := "arn:aws:s3:::football-state-123456789012-ap-northeast-2"
	stateObjects := state + "/.pulumi/"
	reads := func(action string) bool {
		verb := action[strings.Index(action, ":")+1:]
		return strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || strings.HasPrefix(verb, "Describe")
	}
	keyUse := map[string]bool{"kms:Decrypt": true, "kms:Encrypt": true, "kms:GenerateDataKey": true, "kms:DescribeKey": true}
	docs := policiesOf(t, m, "football-ci-preview")
	for _, d := range docs {
		for _, s := range d.Statement {
			if s.Effect != "Allow" {
				continue
			}
			assert.Empty(t, s.NotAction, "%s: an Allow with NotAction grants too much", s.Sid)
			assert.Empty(t, s.NotResource, "%s: an Allow with NotResource grants too much", s.Sid)
			for _, a := range s.Action {
				for _, r := range s.Resource {
					switch {
					case keyUse[a]:
						assert.Equal(t, stateKey, r, "%s: %s only with the state key", s.Sid, a)
					case reads(a):
						assert.True(t, r == state || strings.HasPrefix(r, stateObjects), "%s reads %s, outside the state", s.Sid, r)
					default:
						assert.True(t, strings.HasPrefix(r, stateObjects), "%s: %s on %s writes something that is not a state object", s.Sid, a, r)
					}
				}
			}
		}
	}
	// And as IAM would decide it (the preview role's own policy; ReadOnlyAccess adds reads only).
	can := func(action, resource string) bool { return allowed(docs, request{action, resource, nil}) }
	assert.True(t, can("s3:GetObject", state+"/.pulumi/stacks/football/prod.json"))
	assert.True(t, can("s3:PutObject", state+"/.pulumi/stacks/football/staging.json"), "upsert creates a new stack's file")
	assert.False(t, can("s3:DeleteObject", state+"/.pulumi/stacks/football/prod.json"))
	assert.False(t, can("s3:PutObject", state+"/.pulumi/stacks/football-bootstrap/workloads.json"), "the bootstrap's own state")
	assert.False(t, can("s3:PutObject", state+"/.pulumi/history/football/prod/x.json"))
	assert.False(t, can("s3:PutObject", "arn:aws:s3:::football-trail-123456789012-ap-northeast-2/x"))
	assert.False(t, can("s3:PutBucketPolicy", state))
	assert.True(t, can("kms:Decrypt", stateKey))
	assert.False(t, can("kms:ScheduleKeyDeletion", stateKey))
	assert.False(t, can("iam:CreateRole", "arn:aws:iam::123456789012:role/x"))
	// Its denies take back what ReadOnlyAccess would read beyond a preview's needs.
	withReadOnly := append(docs, account.Document{Statement: []account.Statement{{Effect: "Allow",
		Action: []string{"s3:Get*", "secretsmanager:GetSecretValue", "ssm:GetParameter"}, Resource: []string{"*"}}}})
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "arn:aws:s3:::football-trail-123456789012-ap-northeast-2/AWSLogs/x", false},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:football-prod-data-redis-auth", false},
		{"ssm:GetParameter", "arn:aws:ssm:ap-northeast-2:123456789012:parameter/football/prod/secret", false},
		{"ssm:GetParameter", "arn:aws:ssm:ap-northeast-2::parameter/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id", true},
	} {
		assert.Equal(t, c.want, allowed(withReadOnly, request{c.action, c.resource, nil}), "%s %s", c.action, c.resource)
	}
}

// TestDeployRolePolicy evaluates the dev deploy role's policy as IAM would.
func TestDeployRolePolicy(t *testing.T) {
	t.Parallel()
	m, outs, err := plan(t, nil)
	require.NoError(t, err)
	docs := policiesOf(t, m, "football-ci-deploy-dev")
	boundary := outs["permissionsBoundary"].(string)
	acct := "arn:aws:iam::123456789012:"
	state := "arn:aws:s3:::football-state-123456789012-ap-northeast-2"
	keys := map[string]string{}
	for _, k := range m.ByType("aws:kms/key:Key") {
		keys[k.Name] = k.Outputs["arn"].StringValue()
	}
	withBoundary := map[string]string{"iam:PermissionsBoundary": boundary}
	cases := []struct {
		action, resource string
		ctx              map[string]string
		want             bool
	}{
		// The boundary: attached to every role it creates, never removed or swapped.
		{"iam:CreateRole", acct + "role/api-role-1234567", withBoundary, true},
		{"iam:CreateRole", acct + "role/api-role-1234567", nil, false},
		{"iam:CreateRole", acct + "role/api-role-1234567", map[string]string{"iam:PermissionsBoundary": acct + "policy/Other"}, false},
		{"iam:PutRolePolicy", acct + "role/api-role-1234567", withBoundary, true},
		{"iam:PutRolePolicy", acct + "role/someone-elses-role", nil, false},
		{"iam:AttachRolePolicy", acct + "role/admin", nil, false},
		{"iam:DeleteRolePermissionsBoundary", acct + "role/api-role-1234567", withBoundary, false},
		{"iam:PutRolePermissionsBoundary", acct + "role/api-role-1234567", map[string]string{"iam:PermissionsBoundary": acct + "policy/Other"}, false},
		// Its own role, the other CI roles and the boundary are untouchable.
		{"iam:PutRolePolicy", acct + "role/football-bootstrap/football-ci-deploy-dev", withBoundary, false},
		{"iam:AttachRolePolicy", acct + "role/football-bootstrap/football-ci-deploy-prod", withBoundary, false},
		{"iam:DeleteRole", acct + "role/football-bootstrap/football-ci-preview", nil, false},
		{"iam:CreatePolicyVersion", boundary, nil, false},
		{"iam:DeletePolicy", boundary, nil, false},
		{"iam:UpdateAssumeRolePolicy", acct + "role/api-role-1234567", nil, false},
		{"iam:PassRole", acct + "role/football-bootstrap/football-ci-deploy-prod", map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}, false},
		{"iam:PassRole", acct + "role/api-role-1234567", map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}, true},
		{"iam:PassRole", acct + "role/api-role-1234567", map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}, false},
		// No IAM users or access keys.
		{"iam:CreateUser", acct + "user/backdoor", nil, false},
		{"iam:CreateAccessKey", acct + "user/backdoor", nil, false},
		// The state key is used, never re-keyed; the trail and its key are out of reach.
		{"kms:Decrypt", keys["state-key"], nil, true},
		{"kms:PutKeyPolicy", keys["state-key"], nil, false},
		{"kms:ScheduleKeyDeletion", keys["state-key"], nil, false},
		{"kms:PutKeyPolicy", keys["baseline-trail-key"], nil, false},
		{"kms:CreateKey", "*", nil, true},
		{"cloudtrail:StopLogging", "arn:aws:cloudtrail:ap-northeast-2:123456789012:trail/football-account", nil, false},
		{"cloudtrail:DeleteTrail", "arn:aws:cloudtrail:ap-northeast-2:123456789012:trail/football-account", nil, false},
		{"logs:DeleteLogGroup", "arn:aws:logs:ap-northeast-2:123456789012:log-group:/football/cloudtrail", nil, false},
		{"logs:DeleteLogGroup", "arn:aws:logs:ap-northeast-2:123456789012:log-group:/football/dev/api", nil, true},
		// Its environment's state only.
		{"s3:PutObject", state + "/.pulumi/stacks/football/dev.json", nil, true},
		{"s3:PutObject", state + "/.pulumi/locks/football/dev-use1/1.json", nil, true},
		{"s3:PutObject", state + "/.pulumi/stacks/football/prod.json", nil, false},
		{"s3:GetObject", state + "/.pulumi/history/football-bootstrap/workloads/x", nil, false},
		{"s3:PutBucketPolicy", state, nil, false},
		{"s3:PutBucketPolicy", "arn:aws:s3:::api-alb-logs-1234567", nil, true},
		{"s3:DeleteObject", "arn:aws:s3:::football-trail-123456789012-ap-northeast-2/AWSLogs/1", nil, false},
		// The services the stacks create, and not the account baseline.
		{"ec2:RunInstances", "*", nil, true},
		{"rds:CreateDBInstance", "*", nil, true},
		{"ec2:DisableEbsEncryptionByDefault", "*", nil, false},
		{"s3:PutAccountPublicAccessBlock", "*", nil, false},
		{"guardduty:DeleteDetector", "*", nil, false},
		{"securityhub:DisableSecurityHub", "*", nil, false},
		{"route53:DeleteHostedZone", "*", nil, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, allowed(docs, request{c.action, c.resource, c.ctx}), "%s on %s with %v", c.action, c.resource, c.ctx)
	}
	// The denies hold whatever else a deploy role is ever allowed: evaluated beside an Allow of everything
	// (an administrator attaching more later), the guarded actions stay refused.
	widened := append(append([]account.Document(nil), docs...), allowAll())
	for _, c := range []struct{ action, resource string }{
		{"iam:DeleteRolePermissionsBoundary", acct + "role/api-role-1234567"},
		{"iam:CreateRole", acct + "role/no-boundary"},
		{"iam:PutRolePermissionsBoundary", acct + "role/api-role-1234567"},
		{"iam:PutRolePolicy", acct + "role/football-bootstrap/football-ci-deploy-dev"},
		{"iam:DetachRolePolicy", acct + "role/football-bootstrap/football-ci-deploy-dev"},
		{"iam:CreatePolicyVersion", boundary},
		{"iam:CreateUser", acct + "user/backdoor"},
		{"iam:CreateAccessKey", acct + "user/admin"},
		{"iam:UpdateAssumeRolePolicy", acct + "role/admin"},
		{"kms:PutKeyPolicy", keys["state-key"]},
		{"cloudtrail:StopLogging", "arn:aws:cloudtrail:ap-northeast-2:123456789012:trail/football-account"},
		{"s3:PutBucketPolicy", state},
		{"ec2:DisableEbsEncryptionByDefault", "*"},
	} {
		assert.False(t, allowed(widened, request{c.action, c.resource, nil}), "%s on %s must be denied outright", c.action, c.resource)
	}

	// The prod role may not write dev's state.
	prod := policiesOf(t, m, "football-ci-deploy-prod")
	assert.False(t, allowed(prod, request{"s3:PutObject", state + "/.pulumi/stacks/football/dev.json", nil}))
	assert.True(t, allowed(prod, request{"s3:PutObject", state + "/.pulumi/stacks/football/prod.json", nil}))
}

// TestReleaseRolePushesToTheStacksRepositoriesOnly.
func TestReleaseRolePushesToTheStacksRepositoriesOnly(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, nil)
	require.NoError(t, err)
	docs := policiesOf(t, m, "football-ci-release")
	repo := func(name string) string { return "arn:aws:ecr:us-east-1:123456789012:repository/" + name }
	for _, stack := range []string{"dev", "dev-use1", "prod"} {
		for _, svc := range []string{"api", "chat"} {
			assert.True(t, allowed(docs, request{"ecr:PutImage", repo("football/" + stack + "/" + svc), nil}), stack+"/"+svc)
		}
	}
	assert.False(t, allowed(docs, request{"ecr:PutImage", repo("someone-else/app"), nil}))
	assert.False(t, allowed(docs, request{"ecr:DeleteRepository", repo("football/prod/api"), nil}))
	assert.False(t, allowed(docs, request{"ecr:PutLifecyclePolicy", repo("football/prod/api"), nil}))
	assert.True(t, allowed(docs, request{"ecr:GetAuthorizationToken", "*", nil}))
}

// TestBadConfigIsRefusedNamingTheKey: each problem the issue names is refused with its key, all in one
// run, and nothing is registered.
func TestBadConfigIsRefusedNamingTheKey(t *testing.T) {
	t.Parallel()
	p := "football-bootstrap:"
	cases := []struct {
		sets map[string]string
		want []string
	}{
		{map[string]string{p + "github.releaseSubjects": `["repo:football-team/*:ref:refs/heads/main"]`},
			[]string{p + `github.releaseSubjects[0]: "repo:football-team/*:ref:refs/heads/main" is not allowed`}},
		{map[string]string{p + "github.releaseSubjects": `["*"]`}, []string{p + `github.releaseSubjects[0]: "*" is not allowed`}},
		{map[string]string{p + "github.releaseSubjects": `["repo:football-team/football-infra:"]`}, []string{p + "github.releaseSubjects[0]"}},
		{map[string]string{p + "project.environments.prod.permissionsBoundary": "false"},
			[]string{p + "project.environments.prod.permissionsBoundary: false is not allowed"}},
		{map[string]string{p + "project.environments.dev.monthlyBudget": "0"}, []string{p + "project.environments.dev.monthlyBudget: 0 is not allowed"}},
		{map[string]string{p + "project.environments.prod.monthlyBudget": "-5"}, []string{p + "project.environments.prod.monthlyBudget: -5 is not allowed"}},
		{map[string]string{p + "github.repository": "football-infra"}, []string{p + `github.repository: "football-infra" is not allowed`}},
		{map[string]string{p + "github.repository": "football-team/football-infra/extra"}, []string{p + "github.repository"}},
		{map[string]string{p + "github.oidcProvider": "maybe"}, []string{p + `github.oidcProvider: "maybe" is not allowed; allowed create, existing`}},
		{map[string]string{p + "project.environments.prod.stacks": `["dev"]`}, []string{p + `project.environments.prod.stacks[0]: "dev" is not allowed; already deployed through environment dev`}},
		{map[string]string{p + "baseline.budgetEmails": `["not an address"]`}, []string{p + "baseline.budgetEmails[0]"}},
		{map[string]string{p + "baseline.logRetentionDays": "100"}, []string{p + "baseline.logRetentionDays: 100 is not allowed"}},
		{map[string]string{p + "project.regions": `["mars-1"]`}, []string{p + `project.regions[0]: "mars-1" is not allowed`}},
		{map[string]string{p + "baseline.cloudtrail": "false"}, []string{p + "baseline.cloudtrail: unknown key; allowed"}},
		{map[string]string{p + "githb": `{}`}, []string{p + "githb: unknown key; allowed football-bootstrap:baseline, football-bootstrap:github"}},
		// Everything at once: every message, one run.
		{map[string]string{
			p + "github.releaseSubjects":                       `["repo:*:ref:refs/heads/main"]`,
			p + "project.environments.dev.permissionsBoundary": "false",
			p + "project.environments.prod.monthlyBudget":      "0",
		}, []string{p + "github.releaseSubjects[0]", p + "project.environments.dev.permissionsBoundary", p + "project.environments.prod.monthlyBudget"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.sets), func(t *testing.T) {
			t.Parallel()
			m, _, err := plan(t, c.sets)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, m.All(), "a refused config registers nothing")
		})
	}
	_, _, err := plan(t, map[string]string{p + "github.repository": "football-infra"})
	var cfgErr interface{ Unwrap() error }
	assert.ErrorAs(t, err, &cfgErr)
}

// TestBaselineInputsMatchTheSDK: the baseline's resources registered by type token (internal/awsres), in
// the home region and the other one of the example stack, are held to their typed packages' Go source
// (every property declared there, of its kind, every required one present) and ask for the aws provider
// version the typed resources ask for.
func TestBaselineInputsMatchTheSDK(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, nil)
	require.NoError(t, err)
	version := roleNamed(t, m, "football-ci-deploy-prod").Version
	require.Equal(t, awsres.ProviderVersion, version, "awsres.ProviderVersion is the version the typed pulumi-aws resources ask for")
	assert.Len(t, m.ByType("aws:securityhub/account:Account"), 2, "both regions of the example stack")
	assert.Empty(t, m.SDKProblems(t, version, account.BaselineTypes...))
}

// TestSwitchesTurnPartsOff: every part of the baseline can be turned off, and the rest stays.
func TestSwitchesTurnPartsOff(t *testing.T) {
	t.Parallel()
	p := "football-bootstrap:baseline."
	cases := map[string]string{
		"cloudTrail": "aws:cloudtrail/trail:Trail", "securityHub": "aws:securityhub/account:Account",
		"guardDuty": "aws:guardduty/detector:Detector", "accessAnalyzer": "aws:accessanalyzer/analyzer:Analyzer",
		"ebsEncryptionByDefault": "aws:ebs/encryptionByDefault:EncryptionByDefault",
		"s3PublicAccessBlock":    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "budgets": "aws:budgets/budget:Budget",
	}
	for key, typ := range cases {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			m, _, err := plan(t, map[string]string{p + key: "false"})
			require.NoError(t, err)
			assert.Empty(t, m.ByType(typ))
			assert.NotEmpty(t, m.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
		})
	}
	// Without Security Hub there is no AWS Config either; without a trail the deploy roles deny nothing
	// about a trail key that does not exist.
	m, _, err := plan(t, map[string]string{p + "securityHub": "false", p + "cloudTrail": "false"})
	require.NoError(t, err)
	assert.Empty(t, m.ByType("aws:cfg/recorder:Recorder"))
	for _, d := range policiesOf(t, m, "football-ci-deploy-prod") {
		for _, s := range d.Statement {
			assert.NotEqual(t, "TrailKeyUntouchable", s.Sid)
			for _, r := range s.Resource {
				assert.NotEmpty(t, r, s.Sid)
			}
		}
	}
}

// TestExistingOIDCProvider: looked up, not created; a missing one stops everything, naming the key.
func TestExistingOIDCProvider(t *testing.T) {
	t.Parallel()
	m, _, err := plan(t, map[string]string{"football-bootstrap:github.oidcProvider": "existing"})
	require.NoError(t, err)
	assert.Empty(t, m.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
	doc := parse(t, roleNamed(t, m, "football-ci-preview").Str("assumeRolePolicy"))
	assert.Equal(t, map[string]any{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, doc.Statement[0].Principal)

	st, err := stackfile.Load("..", example)
	require.NoError(t, err)
	require.NoError(t, st.Set("football-bootstrap:github.oidcProvider", "existing"))
	none, err := mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config}, func(ctx *pulumi.Context) error {
		_, err := account.Deploy(ctx, st.Keys())
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "football-bootstrap:github.oidcProvider: existing, but looking up https://token.actions.githubusercontent.com failed")
	assert.Empty(t, none.All())
}
