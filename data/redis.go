package data

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cache engines.
const (
	engineRedis  = "redis"
	engineValkey = "valkey"
)

// redisPort is the port of every node. Clients of a cluster-mode group reach each shard's nodes on it too.
const redisPort = 6379

// RedisSettings is football:data.redis, the ElastiCache replication group.
type RedisSettings struct {
	// Engine is the cache engine. Optional; default redis; allowed redis, valkey.
	Engine string `json:"engine,omitempty"`
	// EngineVersion is "major.minor". Optional; default 7.1 for redis (the last Redis OSS release on
	// ElastiCache), 8.0 for valkey; allowed redis 7.0, 7.1; valkey 7.2, 8.0, 8.1, 8.2.
	EngineVersion string `json:"engineVersion,omitempty"`
	// NodeType is the node type. Optional; default dev cache.t4g.micro, prod cache.t4g.small; must start
	// with "cache.".
	NodeType string `json:"nodeType,omitempty"`
	// ClusterMode shards the keyspace (cluster-enabled yes; clients must speak the cluster protocol).
	// Optional; default false. Switching an existing group is not an in-place change.
	ClusterMode bool `json:"clusterMode,omitempty"`
	// Shards is the number of node groups in cluster mode. Optional; default 1 with clusterMode; allowed
	// 1..500, only with clusterMode.
	Shards *int `json:"shards,omitempty"`
	// Replicas is the number of replicas per primary (per shard in cluster mode). Optional; default dev 0,
	// prod 1; allowed 0..5, prod at least 1.
	Replicas *int `json:"replicas,omitempty"`
	// AutomaticFailover promotes a replica when the primary fails. Optional; default true when there are
	// replicas or cluster mode is on; needs replicas without cluster mode; required by cluster mode and by
	// prod (FSBP ElastiCache.3).
	AutomaticFailover *bool `json:"automaticFailover,omitempty"`
	// MultiAZ places replicas in other AZs than their primary. Optional; default true when there are
	// replicas; needs replicas >= 1 and automaticFailover.
	MultiAZ *bool `json:"multiAz,omitempty"`
	// TransitEncryption requires TLS and an AUTH token. Optional; default true; prod must keep it on (FSBP
	// ElastiCache.5).
	TransitEncryption *bool `json:"transitEncryption,omitempty"`
	// SnapshotRetentionDays keeps daily snapshots this many days. Optional; default dev 0 (none), prod 7;
	// allowed 0..35, prod at least 1 (FSBP ElastiCache.1).
	SnapshotRetentionDays *int `json:"snapshotRetentionDays,omitempty"`
	// ApplyImmediately applies modifications now instead of in the maintenance window. Optional; default
	// dev true, prod false.
	ApplyImmediately *bool `json:"applyImmediately,omitempty"`
	// SnapshotWindow is the daily snapshot window in UTC, "hh:mm-hh:mm", at least 60 minutes. Optional;
	// default 02:00-03:00 local time of the stack's region (17:00-18:00 UTC in Seoul); must not overlap
	// maintenanceWindow.
	SnapshotWindow string `json:"snapshotWindow,omitempty"`
	// MaintenanceWindow is the weekly maintenance window in UTC, "ddd:hh:mm-ddd:hh:mm", at least 60
	// minutes. Optional; default Wednesday 04:30-05:30 local time (tue:19:30-tue:20:30 in Seoul), a
	// different night from the database's.
	MaintenanceWindow string `json:"maintenanceWindow,omitempty"`
	// AuthTokenUpdateStrategy is how a changed AUTH token reaches ElastiCache. Optional; default ROTATE:
	// the new token is added and the old one stays valid, so running servers keep working; once they
	// read the new token, set SET and `pulumi up` again to revoke the old one. Allowed ROTATE, SET.
	AuthTokenUpdateStrategy string `json:"authTokenUpdateStrategy,omitempty"`
	// Protect sets Pulumi's protect option on the replication group and on the AUTH token's secret, so
	// neither `pulumi destroy` nor a replacement can delete them without first turning it off. Optional;
	// default dev false, prod true.
	Protect *bool `json:"protect,omitempty"`
}

func (s RedisSettings) withDefaults(prod bool, offset int) RedisSettings {
	if s.Engine == "" {
		s.Engine = engineRedis
	}
	if s.EngineVersion == "" {
		s.EngineVersion = map[string]string{engineRedis: "7.1", engineValkey: "8.0"}[s.Engine]
	}
	if s.NodeType == "" {
		s.NodeType = pick(prod, "cache.t4g.small", "cache.t4g.micro")
	}
	if s.ClusterMode {
		s.Shards = orDefault(s.Shards, 1)
	}
	s.Replicas = orDefault(s.Replicas, pick(prod, 1, 0))
	s.AutomaticFailover = orDefault(s.AutomaticFailover, s.ClusterMode || *s.Replicas > 0)
	s.MultiAZ = orDefault(s.MultiAZ, *s.Replicas > 0 && *s.AutomaticFailover)
	s.TransitEncryption = orDefault(s.TransitEncryption, true)
	s.SnapshotRetentionDays = orDefault(s.SnapshotRetentionDays, pick(prod, 7, 0))
	s.ApplyImmediately = orDefault(s.ApplyImmediately, !prod)
	s.Protect = orDefault(s.Protect, prod)
	if s.AuthTokenUpdateStrategy == "" {
		s.AuthTokenUpdateStrategy = "ROTATE"
	}
	if s.SnapshotWindow == "" {
		s.SnapshotWindow = dailyWindow(redisSnapshotLocal, offset)
	}
	if s.MaintenanceWindow == "" {
		s.MaintenanceWindow = weeklyWindow(redisMaintenanceLocal, offset)
	}
	return s
}

func (s RedisSettings) defaulted() bool {
	return s.Replicas != nil && s.AutomaticFailover != nil && s.MultiAZ != nil && s.TransitEncryption != nil &&
		s.SnapshotRetentionDays != nil && s.ApplyImmediately != nil && s.Protect != nil && (s.Shards != nil || !s.ClusterMode)
}

var (
	cacheNodeType = regexp.MustCompile(`^cache\.[a-z0-9-]+\.[a-z0-9]+$`)
	// cacheVersions are the versions this code knows the parameter group family of.
	cacheVersions = map[string][]string{
		engineRedis:  {"7.0", "7.1"},
		engineValkey: {"7.2", "8.0", "8.1", "8.2"},
	}
)

func (s RedisSettings) validate(p *problems, prod bool) {
	switch versions, ok := cacheVersions[s.Engine]; {
	case !ok:
		p.fail("redis.engine", s.Engine, "allowed redis, valkey")
	case !slices.Contains(versions, s.EngineVersion):
		p.fail("redis.engineVersion", s.EngineVersion, fmt.Sprintf("allowed %s for %s", strings.Join(versions, ", "), s.Engine))
	}
	if !cacheNodeType.MatchString(s.NodeType) {
		p.fail("redis.nodeType", s.NodeType, `must be an ElastiCache node type starting with "cache.", such as cache.t4g.micro`)
	}
	if s.AuthTokenUpdateStrategy != "ROTATE" && s.AuthTokenUpdateStrategy != "SET" {
		// DELETE, the API's third value, would turn AUTH off.
		p.fail("redis.authTokenUpdateStrategy", s.AuthTokenUpdateStrategy, "allowed ROTATE, SET")
	}
	replicas, failover := *s.Replicas, *s.AutomaticFailover
	if replicas < 0 || replicas > 5 {
		p.fail("redis.replicas", replicas, "allowed 0..5")
	} else if prod && replicas < 1 {
		p.fail("redis.replicas", replicas, "prod needs at least 1 replica to fail over to; allowed 1..5")
	}
	if s.ClusterMode {
		shards := *s.Shards
		if shards < 1 || shards > 500 {
			p.fail("redis.shards", shards, "allowed 1..500 with cluster mode")
		} else if replicas >= 0 && shards*(1+replicas) > 500 {
			p.fail("redis.shards", shards, fmt.Sprintf("%d shards with %d replicas make %d nodes; ElastiCache allows at most 500", shards, replicas, shards*(1+replicas)))
		}
		if !failover {
			p.fail("redis.automaticFailover", false, "cluster mode requires automatic failover")
		}
	} else {
		if s.Shards != nil {
			p.fail("redis.shards", *s.Shards, "shards need redis.clusterMode true")
		}
		if failover && replicas == 0 {
			p.fail("redis.automaticFailover", true, "needs redis.replicas >= 1 (a replica to promote)")
		}
	}
	if prod && !failover {
		p.fail("redis.automaticFailover", false, "prod keeps automatic failover on (FSBP ElastiCache.3)")
	}
	if *s.MultiAZ {
		if replicas == 0 {
			p.fail("redis.multiAz", true, "needs redis.replicas >= 1")
		}
		if !failover {
			p.fail("redis.multiAz", true, "needs redis.automaticFailover true")
		}
	}
	if prod && !*s.TransitEncryption {
		p.fail("redis.transitEncryption", false, "prod keeps TLS and AUTH on (FSBP ElastiCache.5)")
	}
	if n := *s.SnapshotRetentionDays; n < 0 || n > 35 {
		p.fail("redis.snapshotRetentionDays", n, "allowed 0..35")
	} else if prod && n < 1 {
		p.fail("redis.snapshotRetentionDays", n, "prod keeps at least 1 daily snapshot (FSBP ElastiCache.1); allowed 1..35")
	}
	checkWindows(p, "redis.snapshotWindow", s.SnapshotWindow, "redis.maintenanceWindow", s.MaintenanceWindow, 60)
}

// cacheFamily is the parameter group family of a validated engine and version ("redis7", "valkey8").
func cacheFamily(engine, version string) string {
	return engine + strings.SplitN(version, ".", 2)[0]
}

// authTokenSpecials are the only non-alphanumeric characters ElastiCache accepts in an AUTH token
// (CreateReplicationGroup API reference, AuthToken).
const authTokenSpecials = "!&#$^<>-"

// ValidateAuthToken checks a Redis AUTH token against ElastiCache's rules: 16 to 128 printable ASCII
// characters, of which the non-alphanumeric ones may only be ! & # $ ^ < > - (so never a space, ", / or
// @). The messages never echo the token.
func ValidateAuthToken(token string) error {
	var errs []error
	if n := len(token); n < 16 || n > 128 {
		errs = append(errs, fmt.Errorf("redis auth token: %d characters is not allowed; allowed 16..128", n))
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune(authTokenSpecials, rune(c)) {
			errs = append(errs, fmt.Errorf("redis auth token: the character at position %d is not allowed; allowed letters, digits and %s (no space, \", / or @)",
				i+1, strings.Join(strings.Split(authTokenSpecials, ""), " ")))
			break // one is enough; the position is all that is said about a secret
		}
	}
	return errors.Join(errs...)
}

// cache registers the replication group with its security group, subnet group, parameter group and,
// with transit encryption, its AUTH token (generated unless given) and the secret that delivers it.
func (tier *DataTier) cache(ctx *pulumi.Context, name, base string, a DataTierArgs, subnets pulumi.StringArrayOutput) error {
	s := a.Redis
	prod := a.Profile == profileProd
	transit := *s.TransitEncryption
	child := pulumi.Parent(tier)

	sg, err := ec2.NewSecurityGroup(ctx, name+"-redis-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("football data tier: redis, from client security groups only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-redis")},
	}, child)
	if err != nil {
		return err
	}
	// No egress rules, as for the database: the group is stateful and the cache initiates nothing.
	if err := clientIngress(ctx, name+"-redis-from", sg.ID(), a.ClientSecurityGroupIDs, redisPort, s.Engine, child); err != nil {
		return err
	}

	subnetGroup, err := elasticache.NewSubnetGroup(ctx, name+"-redis-subnets", &elasticache.SubnetGroupArgs{
		SubnetIds:   subnets,
		Description: pulumi.String("football data tier: isolated data subnets"), // FSBP ElastiCache.7
	}, child)
	if err != nil {
		return err
	}
	params, err := elasticache.NewParameterGroup(ctx, name+"-redis-params", &elasticache.ParameterGroupArgs{
		Family:      pulumi.String(cacheFamily(s.Engine, s.EngineVersion)),
		Description: pulumi.String("football data tier: " + s.Engine + " settings"),
		Parameters: elasticache.ParameterGroupParameterArray{elasticache.ParameterGroupParameterArgs{
			Name: pulumi.String("cluster-enabled"), Value: pulumi.String(pick(s.ClusterMode, "yes", "no")),
		}},
	}, child)
	if err != nil {
		return err
	}

	token := pulumi.String("").ToStringOutput()
	if transit {
		if a.AuthToken != nil {
			// The token is a wiring value, unknown at construction; it is checked when it resolves.
			token = a.AuthToken.ToStringOutput().ApplyT(func(t string) (string, error) {
				if err := ValidateAuthToken(t); err != nil {
					return "", fmt.Errorf("data tier %q: AuthToken: %w", name, err)
				}
				return t, nil
			}).(pulumi.StringOutput)
		} else {
			pw, err := random.NewRandomPassword(ctx, name+"-redis-auth", &random.RandomPasswordArgs{
				Length: pulumi.Int(32),
				// Letters and digits only: always inside ElastiCache's character rules, and safe in URLs.
				Special:    pulumi.Bool(false),
				MinUpper:   pulumi.Int(1),
				MinLower:   pulumi.Int(1),
				MinNumeric: pulumi.Int(1),
			}, child)
			if err != nil {
				return err
			}
			token = pw.Result
		}
		token = pulumi.ToSecret(token).(pulumi.StringOutput)
	}
	secretARN := pulumi.String("").ToStringOutput()
	if transit {
		if secretARN, err = authSecret(ctx, name, base, prod, *s.Protect, token, child); err != nil {
			return err
		}
	}

	replicas := *s.Replicas
	id := physicalID(base, "redis", 40)
	args := &elasticache.ReplicationGroupArgs{
		ReplicationGroupId:       pulumi.String(id),
		Description:              pulumi.String("football data tier cache"),
		Engine:                   pulumi.String(s.Engine),
		EngineVersion:            pulumi.String(s.EngineVersion),
		NodeType:                 pulumi.String(s.NodeType),
		Port:                     pulumi.Int(redisPort),
		ParameterGroupName:       params.Name,
		SubnetGroupName:          subnetGroup.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},
		AtRestEncryptionEnabled:  pulumi.Bool(true), // FSBP ElastiCache.4; redis defaults to false
		TransitEncryptionEnabled: pulumi.Bool(transit),
		AutomaticFailoverEnabled: pulumi.Bool(*s.AutomaticFailover),
		MultiAzEnabled:           pulumi.Bool(*s.MultiAZ),
		AutoMinorVersionUpgrade:  pulumi.Bool(true), // FSBP ElastiCache.2
		SnapshotRetentionLimit:   pulumi.Int(*s.SnapshotRetentionDays),
		MaintenanceWindow:        pulumi.String(s.MaintenanceWindow),
		ApplyImmediately:         pulumi.Bool(*s.ApplyImmediately),
		Tags:                     pulumi.StringMap{"Name": pulumi.String(id)},
	}
	if transit {
		args.AuthToken = token
		args.AuthTokenUpdateStrategy = pulumi.String(s.AuthTokenUpdateStrategy)
	}
	if *s.SnapshotRetentionDays > 0 {
		args.SnapshotWindow = pulumi.String(s.SnapshotWindow)
	}
	if prod {
		// A last snapshot when the group is deleted; a fixed name, as for the database.
		args.FinalSnapshotIdentifier = pulumi.String(id + "-final")
	}
	if s.ClusterMode {
		args.ClusterMode = pulumi.String("enabled")
		args.NumNodeGroups = pulumi.Int(*s.Shards)
		args.ReplicasPerNodeGroup = pulumi.Int(replicas)
	} else {
		args.ClusterMode = pulumi.String("disabled")
		args.NumCacheClusters = pulumi.Int(1 + replicas)
	}
	// The group keeps its ID, from which its endpoints derive, so a replacement must delete the old group
	// before it creates the new one: ElastiCache refuses a second group with the same ID.
	groupOpts := []pulumi.ResourceOption{child, pulumi.DeleteBeforeReplace(true)}
	if *s.Protect {
		groupOpts = append(groupOpts, pulumi.Protect(true))
	}
	rg, err := elasticache.NewReplicationGroup(ctx, name+"-redis", args, groupOpts...)
	if err != nil {
		return err
	}

	tier.RedisSecurityGroupID = sg.ID().ToStringOutput()
	if s.ClusterMode {
		tier.RedisPrimaryAddress = rg.ConfigurationEndpointAddress
		tier.RedisReaderAddress = rg.ConfigurationEndpointAddress
	} else {
		tier.RedisPrimaryAddress = rg.PrimaryEndpointAddress
		tier.RedisReaderAddress = rg.ReaderEndpointAddress
	}
	tier.RedisPort = rg.Port.Elem()
	tier.RedisMembers = rg.MemberClusters
	tier.RedisNodes = 1 + replicas
	if s.ClusterMode {
		tier.RedisNodes = *s.Shards * (1 + replicas)
	}
	tier.RedisAuthToken = token
	tier.RedisAuthSecretARN = secretARN
	return nil
}

// authSecret stores the AUTH token in Secrets Manager, where servers read it at start-up with their
// instance role. The token must not travel in user data: anyone allowed ec2:DescribeLaunchTemplateVersions
// or ec2:DescribeInstanceAttribute can read that. It is encrypted with the account's aws/secretsmanager
// key, which needs no extra KMS grant for readers in the account.
//
// A deleted secret keeps its name for the recovery window, so the name is a prefix plus a provider-made
// suffix: a replacement or a re-created stack never collides with a secret still pending deletion. Dev
// deletes at once (window 0); prod keeps 30 days, the maximum and the API's default, so a mistaken
// deletion can be undone with RestoreSecret. With protect the secret itself is protected, not its value:
// rotating the token replaces the value's version, which must stay possible.
func authSecret(ctx *pulumi.Context, name, base string, prod, protect bool, token pulumi.StringOutput, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	secretOpts := append([]pulumi.ResourceOption(nil), opts...)
	if protect { // only when on, so that a protect put on the tier still reaches the secret
		secretOpts = append(secretOpts, pulumi.Protect(true))
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-redis-auth-secret", &secretsmanager.SecretArgs{
		NamePrefix:           pulumi.String(base + "-redis-auth-"),
		Description:          pulumi.String("football data tier: Redis AUTH token (read by the API and chat servers)"),
		RecoveryWindowInDays: pulumi.Int(pick(prod, 30, 0)),
	}, secretOpts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// The provider keeps secretString secret in state on its own; the token is a secret output anyway.
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-redis-auth-value", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: token,
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Arn, nil
}
