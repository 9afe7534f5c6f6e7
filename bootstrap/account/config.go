package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
	"github.com/football/football-infra/internal/strictconfig"
)

// Project is the bootstrap program's Pulumi project name (bootstrap/Pulumi.yaml), and so the namespace of
// its config keys: football-bootstrap:github, football-bootstrap:project, ...
const Project = "football-bootstrap"

// OIDC provider modes (football-bootstrap:github.oidcProvider).
const (
	// OIDCCreate registers GitHub's OIDC provider in the account.
	OIDCCreate = "create"
	// OIDCExisting looks up the provider the account already has (an account holds at most one per URL).
	OIDCExisting = "existing"
)

// GitHubSettings is football-bootstrap:github: the repository whose workflows may assume the roles.
type GitHubSettings struct {
	// Repository is this repository as owner/name. Required.
	Repository string `json:"repository"`
	// OIDCProvider is "create" or "existing". Optional; default create.
	OIDCProvider string `json:"oidcProvider,omitempty"`
	// ReleaseSubjects are the OIDC subjects the release role trusts. Optional; default
	// repo:<repository>:ref:refs/heads/main; each must start with repo:<repository>: (wildcards only after it).
	ReleaseSubjects []string `json:"releaseSubjects,omitempty"`
}

// EnvironmentSettings is one GitHub environment (football-bootstrap:project.environments.<name>).
type EnvironmentSettings struct {
	// Stacks are the main program's stacks deployed through this environment. Required, at least one.
	Stacks []string `json:"stacks"`
	// MonthlyBudget is the environment's monthly budget in USD, over the resources tagged with
	// Environment=<name>. Required; more than 0.
	MonthlyBudget float64 `json:"monthlyBudget"`
	// PermissionsBoundary must stay true (the default): the deploy role attaches the boundary to every role
	// it creates. It exists so that turning it off is refused by name.
	PermissionsBoundary *bool `json:"permissionsBoundary,omitempty"`
}

// ProjectSettings is football-bootstrap:project: what the account hosts.
type ProjectSettings struct {
	// Name is the main program's Pulumi project. Optional; default football.
	Name string `json:"name,omitempty"`
	// Regions are where the stacks run; the regional baseline (Security Hub, AWS Config, GuardDuty,
	// Access Analyzer, EBS encryption by default) covers each, and aws:region always. Optional; default
	// aws:region.
	Regions []string `json:"regions,omitempty"`
	// Services have one ECR repository per stack (<project>/<stack>/<service>), which the release role
	// may push to. Optional; default api, chat.
	Services []string `json:"services,omitempty"`
	// Environments are the GitHub environments, each with a deploy role and a budget. Required, at least one.
	Environments map[string]EnvironmentSettings `json:"environments"`
}

// StateSettings is football-bootstrap:state.
type StateSettings struct {
	// NoncurrentVersionDays is how long an overwritten or deleted state object stays recoverable, in days.
	// Optional; default 90; allowed 1..3650.
	NoncurrentVersionDays int `json:"noncurrentVersionDays,omitempty"`
}

// BaselineSettings is football-bootstrap:baseline: the account's security and cost baseline. Every switch
// is on by default.
type BaselineSettings struct {
	// CloudTrail is a multi-region trail with log file validation, KMS-encrypted, to its own bucket and
	// to CloudWatch Logs. Optional; default true.
	CloudTrail *bool `json:"cloudTrail,omitempty"`
	// SecurityHub turns on Security Hub with the AWS Foundational Security Best Practices standard, and
	// the AWS Config recorder its controls need, in every region. Optional; default true.
	SecurityHub *bool `json:"securityHub,omitempty"`
	// GuardDuty turns on a GuardDuty detector in every region. Optional; default true.
	GuardDuty *bool `json:"guardDuty,omitempty"`
	// AccessAnalyzer creates an account IAM Access Analyzer in every region. Optional; default true.
	AccessAnalyzer *bool `json:"accessAnalyzer,omitempty"`
	// EBSEncryptionByDefault encrypts every new EBS volume in every region. Optional; default true.
	EBSEncryptionByDefault *bool `json:"ebsEncryptionByDefault,omitempty"`
	// S3PublicAccessBlock blocks public buckets and objects account-wide. Optional; default true.
	S3PublicAccessBlock *bool `json:"s3PublicAccessBlock,omitempty"`
	// Budgets creates a monthly cost budget per environment, alerting at 80% and 100%. Optional; default true.
	Budgets *bool `json:"budgets,omitempty"`
	// BudgetEmails receive the budget alerts. Required with budgets on; 1 to 10 addresses.
	BudgetEmails []string `json:"budgetEmails,omitempty"`
	// LogRetentionDays is how long the trail, AWS Config and access logs are kept, in days (S3 and
	// CloudWatch Logs). Optional; default 365; a CloudWatch Logs retention value.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
}

// Config is the whole configuration of one bootstrap stack, decoded, defaulted and validated.
type Config struct {
	Stack string
	// Region is aws:region: where the state bucket, the keys, the trail and its buckets live.
	Region string
	// DefaultTags are aws:defaultTags.tags; the providers of the other regions get them too.
	DefaultTags map[string]string
	GitHub      GitHubSettings
	Project     ProjectSettings
	State       StateSettings
	Baseline    BaselineSettings
}

// section is one football-bootstrap:<key> object and where it decodes to.
type section struct {
	key    string
	target any
}

func (c *Config) sections() []section {
	return []section{
		{"github", &c.GitHub}, {"project", &c.Project}, {"state", &c.State}, {"baseline", &c.Baseline},
	}
}

var (
	regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	// GitHub owners are letters, digits and single hyphens (at most 39); repositories letters, digits,
	// '.', '_' and '-' (at most 100).
	repositoryName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}/[A-Za-z0-9._-]{1,100}$`)
	simpleName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	serviceName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)
)

// withDefaults fills every optional setting; home is aws:region.
func (c Config) withDefaults() Config {
	on := func(b *bool) *bool {
		if b == nil {
			t := true
			return &t
		}
		return b
	}
	if c.GitHub.OIDCProvider == "" {
		c.GitHub.OIDCProvider = OIDCCreate
	}
	if len(c.GitHub.ReleaseSubjects) == 0 && c.GitHub.Repository != "" {
		c.GitHub.ReleaseSubjects = []string{"repo:" + c.GitHub.Repository + ":ref:refs/heads/main"}
	}
	if c.Project.Name == "" {
		c.Project.Name = "football"
	}
	// The home region first, then the others in the order given.
	regions := []string{c.Region}
	for _, r := range c.Project.Regions {
		if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	c.Project.Regions = regions
	if len(c.Project.Services) == 0 {
		c.Project.Services = []string{"api", "chat"}
	}
	envs := map[string]EnvironmentSettings{}
	for name, e := range c.Project.Environments {
		e.PermissionsBoundary = on(e.PermissionsBoundary)
		envs[name] = e
	}
	c.Project.Environments = envs
	if c.State.NoncurrentVersionDays == 0 {
		c.State.NoncurrentVersionDays = 90
	}
	b := &c.Baseline
	b.CloudTrail, b.SecurityHub, b.GuardDuty = on(b.CloudTrail), on(b.SecurityHub), on(b.GuardDuty)
	b.AccessAnalyzer, b.EBSEncryptionByDefault = on(b.AccessAnalyzer), on(b.EBSEncryptionByDefault)
	b.S3PublicAccessBlock, b.Budgets = on(b.S3PublicAccessBlock), on(b.Budgets)
	if b.LogRetentionDays == 0 {
		b.LogRetentionDays = 365
	}
	return c
}

// validate checks the defaulted config and returns every problem, each naming its key.
func (c Config) validate() error {
	var errs []error
	fail := func(key string, got any, allowed string) {
		errs = append(errs, fmt.Errorf("%s:%s: %v is not allowed; %s", Project, key, got, allowed))
	}
	g := c.GitHub
	repoOK := repositoryName.MatchString(g.Repository)
	if !repoOK {
		fail("github.repository", fmt.Sprintf("%q", g.Repository), "must be this repository as owner/name, e.g. football-team/football-infra")
	}
	if g.OIDCProvider != OIDCCreate && g.OIDCProvider != OIDCExisting {
		fail("github.oidcProvider", fmt.Sprintf("%q", g.OIDCProvider), "allowed create, existing")
	}
	if repoOK {
		prefix := "repo:" + g.Repository + ":"
		for i, s := range g.ReleaseSubjects {
			if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) {
				fail(fmt.Sprintf("github.releaseSubjects[%d]", i), fmt.Sprintf("%q", s),
					"a subject must name this repository exactly and what in it may assume the role: "+prefix+"ref:refs/heads/main, "+prefix+"ref:refs/tags/v*")
			}
		}
	}

	p := c.Project
	if !simpleName.MatchString(p.Name) {
		fail("project.name", fmt.Sprintf("%q", p.Name), "the main program's Pulumi project name (football)")
	}
	for i, s := range p.Services {
		if !serviceName.MatchString(s) {
			fail(fmt.Sprintf("project.services[%d]", i), fmt.Sprintf("%q", s), "lower-case letters, digits and '-'")
		}
	}
	if len(p.Environments) == 0 {
		fail("project.environments", "{}", "at least one GitHub environment, e.g. {dev: {stacks: [dev], monthlyBudget: 100}}")
	}
	owner := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(p.Environments)) {
		e := p.Environments[name]
		at := "project.environments." + name
		if !simpleName.MatchString(name) {
			fail(at, fmt.Sprintf("%q", name), "a GitHub environment name of letters, digits, '.', '_' and '-'")
		}
		if len(e.Stacks) == 0 {
			fail(at+".stacks", "[]", "at least one stack deployed through this environment")
		}
		for i, s := range e.Stacks {
			switch {
			case !simpleName.MatchString(s):
				fail(fmt.Sprintf("%s.stacks[%d]", at, i), fmt.Sprintf("%q", s), "a Pulumi stack name")
			case owner[s] != "":
				fail(fmt.Sprintf("%s.stacks[%d]", at, i), fmt.Sprintf("%q", s), "already deployed through environment "+owner[s]+"; a stack has one deploy role")
			default:
				owner[s] = name
			}
		}
		if e.MonthlyBudget <= 0 {
			fail(at+".monthlyBudget", e.MonthlyBudget, "a monthly budget in USD, more than 0")
		}
		if !*e.PermissionsBoundary {
			fail(at+".permissionsBoundary", false, "every deploy role attaches the permissions boundary to the roles it creates and cannot remove it; remove the key")
		}
	}

	if n := c.State.NoncurrentVersionDays; n < 1 || n > 3650 {
		fail("state.noncurrentVersionDays", n, "allowed 1..3650")
	}
	b := c.Baseline
	if !awsfacts.ValidLogRetention(b.LogRetentionDays) {
		fail("baseline.logRetentionDays", b.LogRetentionDays, fmt.Sprintf("allowed %v (CloudWatch Logs retention periods)", awsfacts.LogRetentionDays))
	}
	if *b.Budgets {
		if len(b.BudgetEmails) == 0 || len(b.BudgetEmails) > 10 {
			fail("baseline.budgetEmails", b.BudgetEmails, "1 to 10 e-mail addresses for the budget alerts (or baseline.budgets: false)")
		}
		for i, e := range b.BudgetEmails {
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
				fail(fmt.Sprintf("baseline.budgetEmails[%d]", i), fmt.Sprintf("%q", e), "a plain e-mail address")
			}
		}
	}
	return errors.Join(errs...)
}

// Load reads and checks the stack's configuration. keys are every config key set for the stack; those in
// the project's namespace that Load does not know are errors. All problems are reported together.
func Load(ctx *pulumi.Context, keys []string) (*Config, error) {
	c := &Config{Stack: ctx.Stack()}
	var errs []error
	var known []string
	for _, s := range c.sections() {
		known = append(known, s.key)
	}
	errs = append(errs, strictconfig.UnknownKeys(Project, keys, known)...)
	if ctx.Project() != Project {
		errs = append(errs, fmt.Errorf("project %q (Pulumi.yaml) is not allowed; the bootstrap program's project is %s", ctx.Project(), Project))
	}
	c.Region, _ = ctx.GetConfig("aws:region")
	if !regionName.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("aws:region: %q is not allowed; set the account's home region, e.g. `pulumi config set aws:region ap-northeast-2`", c.Region))
	}
	decoded := true
	for _, s := range c.sections() {
		if err := strictconfig.DecodeSection(ctx, Project, s.key, s.target); err != nil {
			errs = append(errs, err)
			decoded = false
		}
	}
	if raw, ok := ctx.GetConfig("aws:defaultTags"); ok {
		var dt struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(raw), &dt); err != nil {
			errs = append(errs, fmt.Errorf("aws:defaultTags: %q is not allowed; want an object like {tags: {Project: football, ManagedBy: pulumi}}", raw))
		}
		c.DefaultTags = dt.Tags
	}
	for i, r := range c.Project.Regions {
		if !regionName.MatchString(r) {
			errs = append(errs, fmt.Errorf("%s:project.regions[%d]: %q is not allowed; an AWS region name, e.g. us-east-1", Project, i, r))
		}
	}
	if decoded {
		*c = c.withDefaults()
		errs = append(errs, c.validate())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, &strictconfig.Error{Err: err}
	}
	return c, nil
}
