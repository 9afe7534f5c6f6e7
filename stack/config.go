package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/compute"
	"github.com/football/football-infra/data"
	"github.com/football/football-infra/edge"
	"github.com/football/football-infra/internal/strictconfig"
	"github.com/football/football-infra/monitoring"
	"github.com/football/football-infra/network"
)

// Environment profiles. The profile picks every default that differs between a cheap dev stack and a
// highly available prod stack.
const (
	Dev  = "dev"
	Prod = "prod"
)

// Config is the whole configuration of one stack, decoded, defaulted and validated.
type Config struct {
	Project string
	Stack   string
	// Region is aws:region.
	Region string
	// Environment is football:environment: "dev" or "prod".
	Environment string
	// DefaultTags are aws:defaultTags.tags, applied by the AWS provider to every resource.
	DefaultTags map[string]string
	// Network is football:network.
	Network network.Settings
	// Chat is football:chat, the ChatBastion.
	Chat compute.ChatSettings
	// API is football:api, the ApiTier.
	API compute.APISettings
	// Data is football:data, the DataTier.
	Data data.Settings
	// Images is football:images, the pinned Ubuntu images.
	Images compute.ImageSettings
	// Monitoring is football:monitoring: alarms, their notifications, the dashboard and the servers' logs.
	Monitoring monitoring.Settings
	// Domain is football:domain: the hosted zone and names the stack serves under, with their certificate.
	Domain edge.DomainSettings
	// WAF is football:waf: the web ACL in front of the load balancer.
	WAF edge.WAFSettings
	// Architectures are the CPU architectures of the stack's servers (chat, API and, with a NAT instance,
	// NAT), sorted; NATArchitecture is the NAT instance's ("" without one).
	Architectures   []string
	NATArchitecture string
	// RedisAuthToken is football:redisAuthToken, an operator's override of the generated Redis AUTH
	// token; "" when not set. Must be set with --secret.
	RedisAuthToken string
	// PermissionsBoundary is football:permissionsBoundary: the IAM policy every role of the stack carries
	// as its permissions boundary, by path and name (football-bootstrap/football-deploy-boundary, the
	// bootstrap's permissionsBoundary output without the account part) or by ARN; "" for none. The
	// bootstrap's deploy roles create only roles that carry it.
	PermissionsBoundary string
}

// section is one football:<key> object, where it decodes to, and its own checks (run after defaults).
type section struct {
	key      string
	target   any
	validate func() error
}

func (c *Config) sections() []section {
	return []section{
		{"network", &c.Network, func() error { return c.Network.Validate() }},
		{"chat", &c.Chat, func() error { return c.Chat.Validate() }},
		{"api", &c.API, func() error { return c.API.Validate() }},
		{"data", &c.Data, func() error { return c.Data.Validate() }},
		{"images", &c.Images, func() error { return c.Images.Validate() }},
		{"monitoring", &c.Monitoring, func() error { return c.Monitoring.Validate() }},
		{"domain", &c.Domain, func() error { return c.Domain.Validate() }},
		{"waf", &c.WAF, func() error { return c.WAF.Validate() }},
	}
}

// scalarKeys are football:<key> values that are plain strings.
var scalarKeys = []string{"environment", "redisAuthToken", "permissionsBoundary"}

// policyName is an IAM managed policy's path and name (path segments and name of IAM's characters), or
// its ARN.
var policyName = regexp.MustCompile(`^(arn:aws[a-z-]*:iam::[0-9]{12}:policy/)?([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}$`)

// RequiredTags are the tags every resource carries, through aws:defaultTags.
var RequiredTags = []string{"Project", "Environment", "Stack", "ManagedBy"}

var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)

// ConfigError is a configuration that failed validation. Nothing was registered. It is the shared
// strictconfig.Error, so cmd/plan recognises the bootstrap program's config errors the same way.
type ConfigError = strictconfig.Error

// Load reads the stack's configuration. keys are every config key set for the stack ("namespace:key"):
// keys under the project's namespace that Load does not know are errors, so a typo never goes unnoticed.
// All problems are reported together, each naming its key, the bad value and what is allowed.
func Load(ctx *pulumi.Context, keys []string) (*Config, error) {
	project := ctx.Project()
	c := &Config{Project: project, Stack: ctx.Stack()}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	known := append([]string(nil), scalarKeys...)
	for _, s := range c.sections() {
		known = append(known, s.key)
	}
	errs = append(errs, strictconfig.UnknownKeys(project, keys, known)...)

	c.Region, _ = ctx.GetConfig("aws:region")
	if !regionName.MatchString(c.Region) {
		add(fmt.Errorf("aws:region: %q is not allowed; set the stack's AWS region, e.g. `pulumi config set aws:region ap-northeast-2`", c.Region))
	}

	env, set := ctx.GetConfig(project + ":environment")
	if !set {
		env = profileFromStack(c.Stack)
	}
	switch env {
	case Dev, Prod:
		c.Environment = env
	case "":
		add(fmt.Errorf("%s:environment: not set, and the stack name %q names no profile; set it to dev or prod", project, c.Stack))
	default:
		add(fmt.Errorf("%s:environment: %q is not allowed; allowed dev, prod", project, env))
	}

	c.PermissionsBoundary, _ = ctx.GetConfig(project + ":permissionsBoundary")
	if c.PermissionsBoundary != "" && !policyName.MatchString(c.PermissionsBoundary) {
		add(fmt.Errorf("%s:permissionsBoundary: %q is not allowed; the boundary policy's path and name, e.g. football-bootstrap/football-deploy-boundary "+
			"(the bootstrap's permissionsBoundary output), or its ARN", project, c.PermissionsBoundary))
	}

	// A section that does not decode is left out of the checks below; everything else is still checked,
	// so one run reports every problem it can.
	decoded := map[string]bool{}
	for _, s := range c.sections() {
		err := strictconfig.DecodeSection(ctx, project, s.key, s.target)
		add(err)
		decoded[s.key] = err == nil
	}
	add(c.loadDefaultTags(ctx))
	if c.Environment == "" || !regionName.MatchString(c.Region) {
		// Every default and check depends on the profile and the region.
		return nil, &ConfigError{Err: errors.Join(errs...)}
	}

	c.Network.Profile, c.Network.Region = c.Environment, c.Region
	c.Network = c.Network.WithDefaults()
	fleet := c.Chat.Mode == compute.ModeFleet
	if decoded["chat"] && fleet && c.Chat.AvailabilityZone != "" {
		add(fmt.Errorf("%s:chat.availabilityZone: %q is not allowed with %s:chat.mode fleet; the fleet spans every AZ of %s:network.availabilityZones",
			project, c.Chat.AvailabilityZone, project, project))
	}
	if c.Chat.AvailabilityZone == "" && len(c.Network.AvailabilityZones) > 0 {
		c.Chat.AvailabilityZone = c.Network.AvailabilityZones[0]
	}
	explicitChatCidrs := len(c.Chat.ChatCidrs) > 0
	c.Chat.Profile, c.Chat.Region = c.Environment, c.Region
	c.Chat = c.Chat.WithDefaults()
	c.API.Profile, c.API.Region = c.Environment, c.Region
	c.API = c.API.WithDefaults()
	c.Data.Profile, c.Data.Region = c.Environment, c.Region
	c.Data = c.Data.WithDefaults()
	c.Monitoring.Profile, c.Monitoring.Region = c.Environment, c.Region
	c.Monitoring = c.Monitoring.WithDefaults()
	c.Domain.Stack = c.Stack
	c.Domain = c.Domain.WithDefaults()
	c.WAF.Profile = c.Environment
	c.WAF = c.WAF.WithDefaults()
	c.API.ManagedCertificate = c.Domain.Enabled()
	if decoded["domain"] && decoded["api"] && c.Domain.Enabled() && c.API.CertificateARN != "" {
		add(fmt.Errorf("%s:domain and %s:api.certificateArn: both set; the stack issues the certificate for %s itself, "+
			"so remove certificateArn (or football:domain to keep using a certificate issued elsewhere)", project, project, c.Domain.APIHost))
	}
	if decoded["domain"] && decoded["chat"] && c.Domain.Enabled() && explicitChatCidrs {
		add(fmt.Errorf("%s:chat.chatCidrs: %v is not allowed while %s:domain is set: users reach the chat through the load balancer "+
			"(wss://%s/), and the chat port admits only the load balancer", project, c.Chat.ChatCidrs, project, c.Domain.ChatHost))
	}
	for _, s := range c.sections() {
		if decoded[s.key] {
			add(s.validate())
		}
	}
	if decoded["network"] && decoded["chat"] && decoded["data"] {
		add(c.crossChecks(ctx))
	}
	if len(errs) > 0 {
		return nil, &ConfigError{Err: errors.Join(errs...)}
	}
	return c, nil
}

// crossChecks are the rules that span sections.
func (c *Config) crossChecks(ctx *pulumi.Context) error {
	var errs []error
	fleet := c.Chat.Mode == compute.ModeFleet
	if fleet && len(c.Network.AvailabilityZones) < 2 {
		errs = append(errs, fmt.Errorf("%s:chat.mode: \"fleet\" is not allowed with %d AZ(s) in %s:network.availabilityZones; the fleet spreads its servers "+
			"over at least two AZs so that losing one keeps the chat up", c.Project, len(c.Network.AvailabilityZones), c.Project))
	}
	if fleet && !c.Domain.Enabled() {
		switch p := c.Chat.ChatPort; p {
		case 80, 443:
			errs = append(errs, fmt.Errorf("%s:chat.chatPort: %d is not allowed with mode fleet and no %s:domain; the load balancer's API listeners "+
				"use 80 and 443 and the chat listener needs a port of its own, such as 8443", c.Project, p, c.Project))
		case c.API.AppPort:
			errs = append(errs, fmt.Errorf("%s:chat.chatPort: %d is not allowed with mode fleet and no %s:domain; it equals %s:api.appPort, and on the "+
				"shared load balancer one port number would name both the chat listener and the API's targets: pick another, such as 8443",
				c.Project, p, c.Project, c.Project))
		}
	}
	if !fleet && !slices.Contains(c.Network.AvailabilityZones, c.Chat.AvailabilityZone) {
		errs = append(errs, fmt.Errorf("%s:chat.availabilityZone: %q is not allowed; must be one of football:network.availabilityZones %v",
			c.Project, c.Chat.AvailabilityZone, c.Network.AvailabilityZones))
	}
	if !slices.Contains(c.Network.Tiers, network.Data) {
		errs = append(errs, fmt.Errorf("%s:network.tiers: %v is not allowed; the data tier (RDS, Redis) needs the data subnets", c.Project, c.Network.Tiers))
	}
	archs := map[string]bool{}
	for _, t := range []struct{ key, instanceType string }{
		{"chat.instanceType", c.Chat.InstanceType}, {"api.instanceType", c.API.InstanceType},
		{"network.natInstanceType", map[bool]string{true: c.Network.NATInstanceType}[c.Network.NAT == network.NATInstance]},
		{"chat.sshCidrs (the jump host)", map[bool]string{true: compute.JumpHostInstanceType}[fleet && len(c.Chat.SSHCidrs) > 0]},
	} {
		if t.instanceType == "" {
			continue
		}
		arch, err := compute.Architecture(t.instanceType)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %w", c.Project, t.key, err))
			continue
		}
		archs[arch] = true
		if t.key == "network.natInstanceType" {
			c.NATArchitecture = arch
		}
	}
	c.Architectures = slices.Sorted(maps.Keys(archs))
	if c.Network.NAT == network.NATNone && c.API.Release != "" {
		// The chat server has its own public address; the API servers reach the Ubuntu archive and ECR
		// only through NAT.
		errs = append(errs, fmt.Errorf("%s:api.release: %q is not allowed while %s:network.nat is none: the API servers could not reach "+
			"Ubuntu's archive (the container runtime) or ECR; choose nat instance, single or perAz", c.Project, c.API.Release, c.Project))
	}
	key := c.Project + ":redisAuthToken"
	token, set := ctx.GetConfig(key)
	switch {
	case !set:
	case !ctx.IsConfigSecret(key):
		// The value is not echoed: it may be a real token typed in the clear.
		errs = append(errs, fmt.Errorf("%s: a plain value is not allowed; set it with `pulumi config set --secret redisAuthToken`", key))
	case !*c.Data.Redis.TransitEncryption:
		errs = append(errs, fmt.Errorf("%s: a token is not allowed while %s:data.redis.transitEncryption is false", key, c.Project))
	default:
		if err := data.ValidateAuthToken(token); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		} else {
			c.RedisAuthToken = token
		}
	}
	return errors.Join(errs...)
}

// repository is the ECR repository a service takes its releases from: the configured one, or the one the
// stack creates for it.
func (c *Config) repository(s compute.ReleaseSettings, service string) string {
	if s.Repository != "" {
		return s.Repository
	}
	return compute.DefaultRepository(c.Project, c.Stack, service)
}

// profileFromStack maps "prod", "prod-*" to prod and "dev", "dev-*" to dev.
func profileFromStack(stack string) string {
	for _, p := range []string{Prod, Dev} {
		if stack == p || strings.HasPrefix(stack, p+"-") {
			return p
		}
	}
	return ""
}

// loadDefaultTags checks that the AWS provider tags every resource with the project's tags. Default
// tags reach every resource the provider creates, awsx's children included, with no code per resource.
func (c *Config) loadDefaultTags(ctx *pulumi.Context) error {
	want := map[string]string{"Project": c.Project, "Environment": c.Environment, "Stack": c.Stack, "ManagedBy": "pulumi"}
	example := fmt.Sprintf("aws:defaultTags: {tags: {Project: %s, Environment: %s, Stack: %s, ManagedBy: pulumi}}",
		c.Project, c.Environment, c.Stack)
	raw, ok := ctx.GetConfig("aws:defaultTags")
	if !ok {
		return fmt.Errorf("aws:defaultTags: not set; every resource must carry %s; add to Pulumi.%s.yaml: %s",
			strings.Join(RequiredTags, ", "), c.Stack, example)
	}
	var dt struct {
		Tags map[string]string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(raw), &dt); err != nil {
		return fmt.Errorf("aws:defaultTags: %q is not allowed; want an object like %s", raw, example)
	}
	var errs []error
	for _, k := range RequiredTags {
		if c.Environment == "" && k == "Environment" {
			continue // already reported
		}
		if got := dt.Tags[k]; got != want[k] {
			errs = append(errs, fmt.Errorf("aws:defaultTags.tags.%s: %q is not allowed; must be %q", k, got, want[k]))
		}
	}
	c.DefaultTags = dt.Tags
	return errors.Join(errs...)
}

// EnvConfigKeys lists the config keys of a real run (strictconfig.EnvKeys).
func EnvConfigKeys() ([]string, error) { return strictconfig.EnvKeys() }
