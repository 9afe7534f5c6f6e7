// Package data owns the stateful tier of one stack: one RDS instance (MySQL 8.4 or PostgreSQL 17) and one
// ElastiCache replication group (Redis OSS 7.1 or Valkey 8), both in the isolated data subnets, encrypted at
// rest and in transit, and reachable only from the security groups the caller lists, by security group ID.
//
// It needs plain settings (football:data, with the profile and region set by the stack) and wiring values:
// the VPC ID, the data subnet IDs, the client security group IDs and, optionally, a Redis AUTH token. It
// exposes endpoints, ports, the Secrets Manager ARNs of the database's master password and of the AUTH
// token, and the AUTH token itself (secret). It imports nothing from network or compute: the stack wires
// values between components.
package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const dataTierType = "football:data:DataTier"

// configKey prefixes every validation message, so an error names the exact config path to fix.
const configKey = "football:data"

// Profiles pick the defaults.
const (
	profileDev  = "dev"
	profileProd = "prod"
)

// Settings is the football:data config section. Zero values (nil pointers) mean "use the default";
// WithDefaults fills them for the profile.
type Settings struct {
	// Profile is "dev" or "prod", set by the stack; it picks the defaults.
	Profile string `json:"-"`
	// Region is the stack's AWS region, set by the stack; it places the backup and maintenance windows in
	// the region's quiet hours.
	Region string `json:"-"`

	// DB is football:data.db, the RDS instance.
	DB DBSettings `json:"db"`
	// Redis is football:data.redis, the ElastiCache replication group.
	Redis RedisSettings `json:"redis"`
}

// WithDefaults returns s with every unset field filled for its profile and region. It is the only place
// defaults are written.
func (s Settings) WithDefaults() Settings {
	offset := utcOffset(s.Region)
	s.DB = s.DB.withDefaults(s.Profile == profileProd, offset)
	s.Redis = s.Redis.withDefaults(s.Profile == profileProd, offset)
	return s
}

// Validate reports every problem of s at once (errors.Join), each naming its config path, the bad value
// and what is allowed. It expects WithDefaults to have run.
func (s Settings) Validate() error {
	if !s.DB.defaulted() || !s.Redis.defaulted() {
		return errors.New(configKey + ": settings are not defaulted; call WithDefaults before Validate")
	}
	p := &problems{}
	prod := s.Profile == profileProd
	if s.Profile != profileDev && !prod {
		p.errs = append(p.errs, fmt.Errorf("profile: %q is not allowed; allowed dev, prod (set by the stack from football:environment)", s.Profile))
	}
	s.DB.validate(p, prod)
	s.Redis.validate(p, prod)
	return errors.Join(p.errs...)
}

// problems collects validation errors in the house format.
type problems struct{ errs []error }

// fail records "football:data.<path>: <got> is not allowed; <allowed>". Strings are quoted so that an
// empty or padded value is visible.
func (p *problems) fail(path string, got any, allowed string) {
	if s, ok := got.(string); ok {
		got = fmt.Sprintf("%q", s)
	}
	p.errs = append(p.errs, fmt.Errorf("%s.%s: %v is not allowed; %s", configKey, path, got, allowed))
}

// DataTierArgs configures NewDataTier. Settings come from stack config; the rest is wiring.
type DataTierArgs struct {
	Settings
	// VPCID hosts the tier's security groups. Required.
	VPCID pulumi.StringInput
	// SubnetIDs are the isolated data subnets, in at least two AZs (RDS subnet groups need two). Required.
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupIDs may connect to the database port and the Redis port: the API servers' and the
	// chat server's groups. Required, at least one. The count is plain (one ingress rule per client and
	// port); the IDs are Inputs.
	ClientSecurityGroupIDs []pulumi.StringInput
	// AuthToken is the Redis AUTH token. Optional; when nil and transit encryption is on, the tier generates
	// one (random.RandomPassword, kept secret in state). Must satisfy ValidateAuthToken; not allowed when
	// transit encryption is off.
	AuthToken pulumi.StringInput
}

// DataTier is the database and cache of one stack.
type DataTier struct {
	pulumi.ResourceState

	// DBEndpoint is the database's "address:port".
	DBEndpoint pulumi.StringOutput
	// DBAddress is the database's DNS name (the writer; with Multi-AZ it follows failover).
	DBAddress pulumi.StringOutput
	// DBName is the database created with the instance.
	DBName pulumi.StringOutput
	// DBSecretARN is the Secrets Manager secret in which RDS keeps the master user's name and password.
	DBSecretARN pulumi.StringOutput
	// DBPort is the database's port.
	DBPort pulumi.IntOutput
	// DBIdentifier is the RDS instance identifier, CloudWatch's DBInstanceIdentifier.
	DBIdentifier pulumi.StringOutput
	// DBSecurityGroupID is the database's security group.
	DBSecurityGroupID pulumi.StringOutput
	// RedisSecurityGroupID is the replication group's security group.
	RedisSecurityGroupID pulumi.StringOutput
	// RedisPrimaryAddress is the primary endpoint; in cluster mode, the configuration endpoint.
	RedisPrimaryAddress pulumi.StringOutput
	// RedisReaderAddress is the reader endpoint; in cluster mode, the configuration endpoint too.
	RedisReaderAddress pulumi.StringOutput
	// RedisPort is the Redis port.
	RedisPort pulumi.IntOutput
	// RedisMembers are the replication group's member clusters (one per node), CloudWatch's
	// CacheClusterId; RedisNodes is how many there are, known before they exist.
	RedisMembers pulumi.StringArrayOutput
	RedisNodes   int
	// RedisTLS tells clients to connect with TLS (transit encryption is on). Known at construction.
	RedisTLS bool
	// RedisAuthToken is the AUTH token (secret); "" when transit encryption is off.
	RedisAuthToken pulumi.StringOutput
	// RedisAuthSecretARN is the Secrets Manager secret whose string is the AUTH token, for the servers to
	// read at start-up; "" when transit encryption is off (no AUTH).
	RedisAuthSecretARN pulumi.StringOutput
}

var (
	componentName      = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	notIdentifierChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// NewDataTier checks args, then registers the tier. Bad args register nothing.
func NewDataTier(ctx *pulumi.Context, name string, args *DataTierArgs, opts ...pulumi.ResourceOption) (*DataTier, error) {
	if args == nil {
		return nil, fmt.Errorf("data tier %q: args are required", name)
	}
	a := *args // work on a copy; never mutate the caller's struct
	a.Settings = a.Settings.WithDefaults()
	if err := a.validate(name); err != nil {
		return nil, fmt.Errorf("data tier %q: %w", name, err)
	}

	tier := &DataTier{RedisTLS: *a.Redis.TransitEncryption}
	if err := ctx.RegisterComponentResource(dataTierType, name, tier, opts...); err != nil {
		return nil, err
	}
	tier.warn(ctx, a.Settings)

	// RDS and ElastiCache both refuse a subnet group in one AZ; saying so here names the cause.
	subnets := a.SubnetIDs.ToStringArrayOutput().ApplyT(func(ids []string) ([]string, error) {
		if len(ids) < 2 {
			return nil, fmt.Errorf("data tier %q: SubnetIDs has %d subnet(s); RDS and ElastiCache need subnets in at least 2 AZs", name, len(ids))
		}
		return ids, nil
	}).(pulumi.StringArrayOutput)
	base := physicalBase(ctx.Project(), ctx.Stack(), name)

	if err := tier.database(ctx, name, base, a, subnets); err != nil {
		return nil, err
	}
	if err := tier.cache(ctx, name, base, a, subnets); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(tier, pulumi.Map{
		"dbEndpoint":           tier.DBEndpoint,
		"dbAddress":            tier.DBAddress,
		"dbName":               tier.DBName,
		"dbSecretArn":          tier.DBSecretARN,
		"dbPort":               tier.DBPort,
		"dbIdentifier":         tier.DBIdentifier,
		"redisMembers":         tier.RedisMembers,
		"dbSecurityGroupId":    tier.DBSecurityGroupID,
		"redisSecurityGroupId": tier.RedisSecurityGroupID,
		"redisPrimaryAddress":  tier.RedisPrimaryAddress,
		"redisReaderAddress":   tier.RedisReaderAddress,
		"redisPort":            tier.RedisPort,
		"redisTls":             pulumi.Bool(tier.RedisTLS),
		"redisAuthToken":       tier.RedisAuthToken,
		"redisAuthSecretArn":   tier.RedisAuthSecretARN,
	}); err != nil {
		return nil, err
	}
	return tier, nil
}

// validate checks the settings and the wiring together, so one run reports every problem.
func (a DataTierArgs) validate(name string) error {
	var errs []error
	if !componentName.MatchString(name) {
		errs = append(errs, fmt.Errorf("name: %q is not allowed; allowed lowercase letters, digits and hyphens, starting with a letter (it seeds AWS identifiers)", name))
	}
	if err := a.Settings.Validate(); err != nil {
		errs = append(errs, err)
	}
	if a.VPCID == nil {
		errs = append(errs, errors.New("wiring: VPCID is required"))
	}
	if a.SubnetIDs == nil {
		errs = append(errs, errors.New("wiring: SubnetIDs is required (the isolated data subnets)"))
	}
	if len(a.ClientSecurityGroupIDs) == 0 {
		errs = append(errs, errors.New("wiring: ClientSecurityGroupIDs needs at least one security group; nothing could reach the data tier"))
	}
	for i, id := range a.ClientSecurityGroupIDs {
		if id == nil {
			errs = append(errs, fmt.Errorf("wiring: ClientSecurityGroupIDs[%d] is nil", i))
		}
	}
	if a.AuthToken != nil && a.Redis.TransitEncryption != nil && !*a.Redis.TransitEncryption {
		errs = append(errs, errors.New("wiring: AuthToken is set but football:data.redis.transitEncryption is false; ElastiCache accepts an AUTH token only with transit encryption"))
	}
	return errors.Join(errs...)
}

// warn announces choices that are legal but risky, once per deployment.
func (tier *DataTier) warn(ctx *pulumi.Context, s Settings) {
	var msgs []string
	if s.Profile == profileProd {
		if !*s.DB.MultiAZ {
			msgs = append(msgs, "football:data.db.multiAz is false in prod: an AZ outage or instance failure stops the database until it is replaced (FSBP RDS.5)")
		}
		if !*s.DB.Protect {
			msgs = append(msgs, "football:data.db.protect is false in prod: a mistaken `pulumi destroy` or replacement can delete the database (deletion protection still applies)")
		}
		if !*s.Redis.MultiAZ {
			msgs = append(msgs, "football:data.redis.multiAz is false in prod: the primary and its replicas may share one AZ")
		}
	}
	if !*s.Redis.TransitEncryption {
		msgs = append(msgs, "football:data.redis.transitEncryption is false: Redis traffic is plaintext and has no AUTH token")
	}
	for _, m := range msgs {
		// A failed warning only loses a log line; it must not fail the deployment.
		_ = ctx.Log.Warn(m, &pulumi.LogArgs{Resource: tier})
	}
}

// physicalBase is the stem of the tier's AWS identifiers: project, stack and component name, so that two
// stacks in one account never collide. It is derived, never random, so that it is stable across updates:
// renaming an RDS instance or a replication group is disruptive, and Pulumi would plan a replacement.
func physicalBase(project, stack, name string) string {
	s := strings.ToLower(project + "-" + stack + "-" + name)
	s = notIdentifierChars.ReplaceAllString(s, "-")
	s = strings.TrimLeft(s, "-0123456789")
	if s == "" {
		s = "data"
	}
	return strings.Trim(s, "-")
}

// physicalID appends a role to base and fits the result into max characters, the way RDS and ElastiCache
// identifiers must look: a letter first, lowercase letters, digits and single hyphens, no trailing
// hyphen. Too long a name is cut and given a short hash of the full name, so it stays unique and stable.
func physicalID(base, role string, max int) string {
	full := base + "-" + role
	if len(full) <= max {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	tail := "-" + role + "-" + hex.EncodeToString(sum[:])[:6]
	return strings.TrimRight(base[:max-len(tail)], "-") + tail
}
