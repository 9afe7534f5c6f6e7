package stack

import (
	"errors"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

// baseConfig is a minimal valid dev configuration.
func baseConfig(stack string) map[string]string {
	return map[string]string{
		"aws:region":      "ap-northeast-2",
		"aws:defaultTags": `{"tags":{"Project":"football","Environment":"dev","Stack":"` + stack + `","ManagedBy":"pulumi"}}`,
	}
}

func keysOf(cfg map[string]string) []string {
	var keys []string
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deploy runs Deploy under the mock engine with cfg as the stack's whole configuration.
func deploy(t *testing.T, stack string, cfg map[string]string) (*mock.Mocks, error) {
	t.Helper()
	return mock.Run(mock.Options{Stack: stack, Config: cfg}, func(ctx *pulumi.Context) error {
		_, err := Deploy(ctx, keysOf(cfg))
		return err
	})
}

func TestLoadRejectsBadConfigBeforeAnyResource(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		stack string
		edit  map[string]string
		want  []string
	}{
		{"unknown top-level key", "dev", map[string]string{"football:netwrok": `{}`},
			[]string{"football:netwrok: unknown key; allowed football:api, football:chat, football:data, football:domain, football:environment, football:images, football:monitoring, football:network, football:permissionsBoundary, football:redisAuthToken, football:waf"}},
		{"unknown nested key", "dev", map[string]string{"football:network": `{"cidr":"10.0.0.0/16","flowLogs":{"retention":7},"nats":"single"}`},
			[]string{"football:network.flowLogs.retention: unknown key; allowed enabled, protect, retainOnDelete, retentionDays, trafficType",
				"football:network.nats: unknown key; allowed"}},
		{"wrong type", "dev", map[string]string{"football:network": `{"subnetBits":"four"}`},
			[]string{"football:network.subnetBits: a string is not allowed; must be a number"}},
		{"not an object", "dev", map[string]string{"football:network": `10.0.0.0/16`},
			[]string{`football:network: "10.0.0.0/16" is not allowed; must be an object of settings`}},
		{"public cidr and too many AZs", "dev", map[string]string{"football:network": `{"cidr":"8.8.0.0/16","subnetBits":2,"availabilityZones":["ap-northeast-2a","ap-northeast-2b"]}`},
			[]string{"football:network.cidr: 8.8.0.0/16 is not allowed", "3 tiers × 2 AZs = 6 subnets"}},
		{"NAT instance type Ubuntu has no image for", "dev", map[string]string{"football:network": `{"natInstanceType":"x1.nano"}`},
			[]string{"football:network.natInstanceType:"}},
		{"az of another region", "dev", map[string]string{"football:network": `{"availabilityZones":["ap-northeast-2a","us-east-1b"]}`},
			[]string{`football:network.availabilityZones[1]: "us-east-1b" is not allowed; must be an AZ of the stack's region ap-northeast-2`}},
		{"no region", "dev", map[string]string{"aws:region": ""},
			[]string{`aws:region: "" is not allowed`}},
		{"bad environment", "dev", map[string]string{"football:environment": "staging"},
			[]string{`football:environment: "staging" is not allowed; allowed dev, prod`}},
		{"no profile from stack name", "sandbox", nil,
			[]string{`football:environment: not set, and the stack name "sandbox" names no profile`}},
		{"missing default tags", "dev", map[string]string{"aws:defaultTags": `{"tags":{"Project":"football"}}`},
			[]string{`aws:defaultTags.tags.Stack: "" is not allowed; must be "dev"`, `aws:defaultTags.tags.ManagedBy: "" is not allowed; must be "pulumi"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(c.stack)
			for k, v := range c.edit {
				cfg[k] = v
			}
			m, err := deploy(t, c.stack, cfg)
			require.Error(t, err)
			var cfgErr *ConfigError
			assert.True(t, errors.As(err, &cfgErr), "config problems must be a ConfigError: %v", err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, m.All(), "a bad config must register nothing")
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	cfg := baseConfig("dev")
	cfg["football:environment"] = "qa"
	cfg["football:typo"] = "1"
	cfg["aws:region"] = "seoul"
	_, err := deploy(t, "dev", cfg)
	require.Error(t, err)
	for _, w := range []string{"football:environment", "football:typo", "aws:region"} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestProfileFromStackName(t *testing.T) {
	t.Parallel()
	for stack, want := range map[string]string{
		"dev": Dev, "dev-use1": Dev, "prod": Prod, "prod-eu": Prod, "production": "", "devops": "", "qa": "",
	} {
		assert.Equal(t, want, profileFromStack(stack), stack)
	}
}

func TestEnvironmentOverridesStackName(t *testing.T) {
	t.Parallel()
	cfg := baseConfig("sandbox")
	cfg["football:environment"] = "dev"
	m, err := deploy(t, "sandbox", cfg)
	require.NoError(t, err)
	assert.NotEmpty(t, m.All())
}

// TestLoadReportsProblemsOfEverySection: an unknown key or a broken section does not hide the problems
// of the other sections.
func TestLoadReportsProblemsOfEverySection(t *testing.T) {
	t.Parallel()
	cfg := baseConfig("dev")
	cfg["football:typo"] = "1"
	cfg["football:network"] = `{"cidr":"8.8.0.0/16","subnetBits":"four"}`
	cfg["football:api"] = `{"min":3,"desired":2,"max":1}`
	cfg["football:chat"] = `{"sshCidrs":["10.0.0.0/33"]}`
	cfg["football:data"] = `{"redis":{"replicas":7}}`
	m, err := deploy(t, "dev", cfg)
	require.Error(t, err)
	for _, w := range []string{
		"football:typo: unknown key",
		"football:network.subnetBits: a string is not allowed; must be a number",
		"football:api.min: 3 is not allowed; must be <= desired (2)",
		`football:chat.sshCidrs[0]: "10.0.0.0/33" is not allowed`,
		"football:data.redis.replicas: 7 is not allowed; allowed 0..5",
	} {
		assert.Contains(t, err.Error(), w)
	}
	assert.Empty(t, m.All())
}
