package data

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

const (
	region = "ap-northeast-2"
	apiSG  = "sg-0a11a11a11a11a11a"
	chatSG = "sg-0c4a7c4a7c4a7c4a7"

	typeSG        = "aws:ec2/securityGroup:SecurityGroup"
	typeIngress   = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeDB        = "aws:rds/instance:Instance"
	typeDBParams  = "aws:rds/parameterGroup:ParameterGroup"
	typeDBSubnets = "aws:rds/subnetGroup:SubnetGroup"
	typeRG        = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeRGParams  = "aws:elasticache/parameterGroup:ParameterGroup"
	typeRGSubnets = "aws:elasticache/subnetGroup:SubnetGroup"
	typePassword  = "random:index/randomPassword:RandomPassword"
	typeSecret    = "aws:secretsmanager/secret:Secret"
	typeSecretVer = "aws:secretsmanager/secretVersion:SecretVersion"
)

var clients = []string{apiSG, chatSG}

// validArgs are the wiring the stack passes, for one profile: three data subnets and two clients.
func validArgs(profile string) *DataTierArgs {
	return &DataTierArgs{
		Settings:               Settings{Profile: profile, Region: region},
		VPCID:                  pulumi.String("vpc-0123456789abcdef0"),
		SubnetIDs:              pulumi.ToStringArray([]string{"subnet-0aaa", "subnet-0bbb", "subnet-0ccc"}),
		ClientSecurityGroupIDs: []pulumi.StringInput{pulumi.String(apiSG), pulumi.String(chatSG)},
	}
}

// deploy runs NewDataTier("data", args) under the mock engine; check runs inside the program, where
// outputs can be awaited.
func deploy(t *testing.T, args *DataTierArgs, check func(tier *DataTier)) (*mock.Mocks, error) {
	t.Helper()
	return deployAs(t, "data", args, check)
}

// deployNamed returns NewDataTier's own error, not the engine's wrapping of it.
func deployNamed(t *testing.T, name string, args *DataTierArgs) (*mock.Mocks, error) {
	t.Helper()
	var tierErr error
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": region}}, func(ctx *pulumi.Context) error {
		_, tierErr = NewDataTier(ctx, name, args)
		return tierErr
	})
	if (err == nil) != (tierErr == nil) {
		t.Errorf("the program's error %v does not match the tier's %v", err, tierErr)
	}
	return m, tierErr
}

func deployAs(t *testing.T, name string, args *DataTierArgs, check func(tier *DataTier)) (*mock.Mocks, error) {
	t.Helper()
	return mock.Run(mock.Options{Config: map[string]string{"aws:region": region}}, func(ctx *pulumi.Context) error {
		tier, err := NewDataTier(ctx, name, args)
		if err != nil {
			return err
		}
		if check != nil {
			check(tier)
		}
		return nil
	})
}

func mustDeploy(t *testing.T, args *DataTierArgs) *mock.Mocks {
	t.Helper()
	m, err := deploy(t, args, nil)
	require.NoError(t, err)
	return m
}

// byName finds the registration of a type whose logical name is name.
func byName(t *testing.T, m *mock.Mocks, typ, name string) *mock.Resource {
	t.Helper()
	for _, r := range m.ByType(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %q", typ, name)
	return nil
}

// params returns a parameter group's parameters as name -> value.
func params(t *testing.T, r *mock.Resource) map[string]string {
	t.Helper()
	v, ok := r.Input("parameters")
	require.True(t, ok, "%s has no parameters", r.Name)
	out := map[string]string{}
	for _, p := range v.ArrayValue() {
		name, _ := mock.Lookup(p, "name")
		value, _ := mock.Lookup(p, "value")
		out[name.StringValue()] = value.StringValue()
	}
	return out
}

// applyMethods returns a parameter group's parameters as name -> applyMethod.
func applyMethods(t *testing.T, r *mock.Resource) map[string]string {
	t.Helper()
	v, ok := r.Input("parameters")
	require.True(t, ok, "%s has no parameters", r.Name)
	out := map[string]string{}
	for _, p := range v.ArrayValue() {
		name, _ := mock.Lookup(p, "name")
		method, _ := mock.Lookup(p, "applyMethod")
		out[name.StringValue()] = method.StringValue()
	}
	return out
}

func num(t *testing.T, r *mock.Resource, path string) int {
	t.Helper()
	v, ok := r.Num(path)
	require.True(t, ok, "%s %s: %s is not set", r.Type, r.Name, path)
	return int(v)
}

func flag(t *testing.T, r *mock.Resource, path string) bool {
	t.Helper()
	v, ok := r.Bool(path)
	require.True(t, ok, "%s %s: %s is not set", r.Type, r.Name, path)
	return v
}

func isSecret(v resource.PropertyValue) bool {
	for {
		switch {
		case v.IsSecret():
			return true
		case v.IsOutput():
			if v.OutputValue().Secret {
				return true
			}
			v = v.OutputValue().Element
		default:
			return false
		}
	}
}

func TestNewDataTierProfiles(t *testing.T) {
	t.Parallel()
	type want struct {
		class, window, maintenance             string
		multiAZ, deletion, skipFinal, applyNow bool
		pi, protect, retain                    bool
		backupDays, maxStorage                 int
		logs                                   []string
		finalSnapshot                          string
		nodeType, snapshotWindow, rgMaint      string
		clusters, snapshotDays                 int
		failover, rgMultiAZ                    bool
		rgFinal                                string
	}
	for _, tc := range []struct {
		profile string
		want    want
	}{
		{"dev", want{
			class: "db.t4g.micro", window: "18:00-19:00", maintenance: "mon:19:30-mon:20:30",
			backupDays: 1, maxStorage: 50, applyNow: true, skipFinal: true,
			nodeType: "cache.t4g.micro", rgMaint: "tue:19:30-tue:20:30", clusters: 1,
		}},
		{"prod", want{
			class: "db.t4g.medium", window: "18:00-19:00", maintenance: "mon:19:30-mon:20:30",
			multiAZ: true, deletion: true, pi: true, protect: true, retain: true,
			backupDays: 14, maxStorage: 200, logs: []string{"error", "slowquery"},
			finalSnapshot: "football-test-data-db-final",
			nodeType:      "cache.t4g.small", snapshotWindow: "17:00-18:00", rgMaint: "tue:19:30-tue:20:30",
			clusters: 2, snapshotDays: 7, failover: true, rgMultiAZ: true, rgFinal: "football-test-data-redis-final",
		}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			w := tc.want
			m := mustDeploy(t, validArgs(tc.profile))

			db := m.One(t, typeDB)
			assert.Equal(t, "football-test-data-db", db.Str("identifier"), "stable explicit identifier")
			assert.Equal(t, "mysql", db.Str("engine"))
			assert.Equal(t, "8.4", db.Str("engineVersion"))
			assert.Equal(t, "open-source-rds-extended-support-disabled", db.Str("engineLifecycleSupport"))
			assert.Equal(t, w.class, db.Str("instanceClass"))
			assert.Equal(t, "gp3", db.Str("storageType"))
			assert.Equal(t, 20, num(t, db, "allocatedStorage"))
			assert.Equal(t, w.maxStorage, num(t, db, "maxAllocatedStorage"))
			assert.Equal(t, "football_admin", db.Str("username"))
			assert.True(t, flag(t, db, "manageMasterUserPassword"))
			_, hasPassword := db.Input("password")
			assert.False(t, hasPassword, "the master password must never be in code or state")
			assert.Equal(t, w.multiAZ, flag(t, db, "multiAz"))
			assert.Equal(t, w.backupDays, num(t, db, "backupRetentionPeriod"))
			assert.Equal(t, w.deletion, flag(t, db, "deletionProtection"))
			assert.Equal(t, w.skipFinal, flag(t, db, "skipFinalSnapshot"))
			assert.Equal(t, w.finalSnapshot, db.Str("finalSnapshotIdentifier"))
			assert.Equal(t, w.applyNow, flag(t, db, "applyImmediately"))
			assert.Equal(t, w.pi, flag(t, db, "performanceInsightsEnabled"))
			assert.Equal(t, w.logs, db.Strs("enabledCloudwatchLogsExports"))
			assert.Equal(t, w.window, db.Str("backupWindow"))
			assert.Equal(t, w.maintenance, db.Str("maintenanceWindow"))
			assert.True(t, flag(t, db, "copyTagsToSnapshot"))
			assert.True(t, flag(t, db, "autoMinorVersionUpgrade"))
			assert.Equal(t, !w.retain, flag(t, db, "deleteAutomatedBackups"))
			assert.Equal(t, w.protect, db.Protect, "pulumi protect on the instance")
			assert.True(t, db.DeleteBeforeReplace, "a replacement deletes the old instance first: its identifier is fixed")
			assert.Equal(t, w.retain, db.RetainOnDelete, "retainOnDelete on the instance")
			// What a retained instance needs is retained with it; nothing else is.
			for _, typ := range []string{typeDBParams, typeDBSubnets} {
				assert.Equal(t, w.retain, m.One(t, typ).RetainOnDelete, typ)
			}
			assert.Equal(t, w.retain, byName(t, m, typeSG, "data-db-sg").RetainOnDelete)
			assert.False(t, byName(t, m, typeSG, "data-redis-sg").RetainOnDelete)
			assert.Equal(t, w.protect, m.One(t, typeRG).Protect, "pulumi protect on the replication group follows the profile")
			assert.True(t, m.One(t, typeRG).DeleteBeforeReplace, "a replacement deletes the old group first: its ID is fixed")
			assert.Equal(t, w.protect, m.One(t, "aws:secretsmanager/secret:Secret").Protect, "the AUTH token's secret is protected with the cache")
			assert.False(t, m.One(t, "aws:secretsmanager/secretVersion:SecretVersion").Protect, "rotating the token replaces its version; protect would block it")

			// The instance uses the tier's own subnet group and parameter group, by their AWS names.
			assert.Equal(t, m.One(t, typeDBSubnets).Outputs["name"].StringValue(), db.Str("dbSubnetGroupName"))
			assert.Equal(t, m.One(t, typeDBParams).Outputs["name"].StringValue(), db.Str("parameterGroupName"))
			assert.Equal(t, []string{"subnet-0aaa", "subnet-0bbb", "subnet-0ccc"}, m.One(t, typeDBSubnets).Strs("subnetIds"))
			assert.Equal(t, []string{"subnet-0aaa", "subnet-0bbb", "subnet-0ccc"}, m.One(t, typeRGSubnets).Strs("subnetIds"))

			assert.True(t, flag(t, db, "allowMajorVersionUpgrade"), "a configured major version change must be accepted by RDS")

			dbp := m.One(t, typeDBParams)
			assert.Equal(t, "mysql8.4", dbp.Str("family"))
			assert.Equal(t, map[string]string{
				"character_set_server": "immediate", "collation_server": "immediate", "require_secure_transport": "immediate",
				"slow_query_log": "immediate", "long_query_time": "immediate", "log_output": "immediate",
			}, applyMethods(t, dbp), "dynamic parameters apply at once; RDS never reboots for pending-reboot ones")
			assert.Equal(t, "utf8mb4", params(t, dbp)["character_set_server"])
			assert.Equal(t, "utf8mb4_unicode_ci", params(t, dbp)["collation_server"])

			rg := m.One(t, typeRG)
			assert.Equal(t, "football-test-data-redis", rg.Str("replicationGroupId"))
			assert.Equal(t, "redis", rg.Str("engine"))
			assert.Equal(t, "7.1", rg.Str("engineVersion"))
			assert.Equal(t, w.nodeType, rg.Str("nodeType"))
			assert.Equal(t, "disabled", rg.Str("clusterMode"))
			assert.Equal(t, w.clusters, num(t, rg, "numCacheClusters"))
			_, sharded := rg.Input("numNodeGroups")
			assert.False(t, sharded)
			assert.Equal(t, w.failover, flag(t, rg, "automaticFailoverEnabled"))
			assert.Equal(t, w.rgMultiAZ, flag(t, rg, "multiAzEnabled"))
			assert.Equal(t, w.snapshotDays, num(t, rg, "snapshotRetentionLimit"))
			assert.Equal(t, w.snapshotWindow, rg.Str("snapshotWindow"))
			assert.Equal(t, w.rgMaint, rg.Str("maintenanceWindow"))
			assert.Equal(t, w.rgFinal, rg.Str("finalSnapshotIdentifier"))
			assert.True(t, flag(t, rg, "autoMinorVersionUpgrade"))
			assert.Equal(t, 6379, num(t, rg, "port"))
			assert.Equal(t, m.One(t, typeRGSubnets).Outputs["name"].StringValue(), rg.Str("subnetGroupName"))
			assert.Equal(t, m.One(t, typeRGParams).Outputs["name"].StringValue(), rg.Str("parameterGroupName"))
			rgp := m.One(t, typeRGParams)
			assert.Equal(t, "redis7", rgp.Str("family"))
			assert.Equal(t, map[string]string{"cluster-enabled": "no"}, params(t, rgp))
		})
	}
}

// TestOnlyClientsReachTheTier inspects every ingress rule the tier makes: each admits exactly one client
// security group, by ID, on exactly the service's port, into one of the tier's own groups. No CIDR, no
// prefix list, no egress rules, no inline rules, and no 0.0.0.0/0 or ::/0 anywhere in the tier.
func TestOnlyClientsReachTheTier(t *testing.T) {
	t.Parallel()
	postgres := validArgs("prod")
	postgres.DB.Engine = "postgres"
	postgres.DB.Port = 6432
	cluster := validArgs("prod")
	cluster.Redis.ClusterMode = true
	for name, tc := range map[string]struct {
		args   *DataTierArgs
		dbPort int
	}{
		"dev":      {validArgs("dev"), 3306},
		"prod":     {validArgs("prod"), 3306},
		"postgres": {postgres, 6432},
		"cluster":  {cluster, 3306},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := mustDeploy(t, tc.args)
			dbSG, redisSG := byName(t, m, typeSG, "data-db-sg"), byName(t, m, typeSG, "data-redis-sg")
			portOf := map[string]int{dbSG.ID: tc.dbPort, redisSG.ID: 6379}

			rules := m.ByType(typeIngress)
			require.Len(t, rules, 2*len(clients), "one rule per client per port")
			seen := map[string]bool{}
			for _, r := range rules {
				group, client := r.Str("securityGroupId"), r.Str("referencedSecurityGroupId")
				port, ok := portOf[group]
				require.True(t, ok, "%s opens %q, which is not one of the tier's groups", r.Name, group)
				assert.Contains(t, clients, client, "%s admits a group that is not a client", r.Name)
				assert.Equal(t, "tcp", r.Str("ipProtocol"), r.Name)
				assert.Equal(t, port, num(t, r, "fromPort"), r.Name)
				assert.Equal(t, port, num(t, r, "toPort"), r.Name)
				for _, k := range []string{"cidrIpv4", "cidrIpv6", "prefixListId"} {
					_, set := r.Input(k)
					assert.False(t, set, "%s must admit by security group only, not %s", r.Name, k)
				}
				seen[group+"<-"+client] = true
			}
			assert.Len(t, seen, 2*len(clients), "every client reaches both services, each once")

			for _, sg := range m.ByType(typeSG) {
				for _, k := range []string{"ingress", "egress"} {
					v, set := sg.Input(k)
					assert.False(t, set && v.IsArray() && len(v.ArrayValue()) > 0, "%s has inline %s rules", sg.Name, k)
				}
			}
			assert.Empty(t, m.ByType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"))
			assert.Empty(t, m.ByType("aws:ec2/securityGroupRule:SecurityGroupRule"))

			db, rg := m.One(t, typeDB), m.One(t, typeRG)
			assert.False(t, flag(t, db, "publiclyAccessible"))
			assert.Equal(t, []string{dbSG.ID}, db.Strs("vpcSecurityGroupIds"))
			assert.Equal(t, []string{redisSG.ID}, rg.Strs("securityGroupIds"))
			assert.Equal(t, tc.dbPort, num(t, db, "port"))

			for _, r := range m.All() {
				for _, world := range []string{"0.0.0.0/0", "::/0"} {
					assert.False(t, containsString(resource.NewProperty(r.Inputs), world), "%s %s mentions %s", r.Type, r.Name, world)
				}
			}
		})
	}
}

func containsString(v resource.PropertyValue, s string) bool {
	v = mock.Unwrap(v)
	switch {
	case v.IsString():
		return strings.Contains(v.StringValue(), s)
	case v.IsArray():
		return slices.ContainsFunc(v.ArrayValue(), func(e resource.PropertyValue) bool { return containsString(e, s) })
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if containsString(e, s) {
				return true
			}
		}
	}
	return false
}

// TestEncryptedEverywhere: storage, backups and connections of both services are encrypted in every
// shape of the tier.
func TestEncryptedEverywhere(t *testing.T) {
	t.Parallel()
	postgres := validArgs("dev")
	postgres.DB.Engine = "postgres"
	valkey := validArgs("prod")
	valkey.Redis.Engine = "valkey"
	valkey.Redis.ClusterMode = true
	for name, args := range map[string]*DataTierArgs{"dev": validArgs("dev"), "prod": validArgs("prod"), "postgres": postgres, "valkey": valkey} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var tls bool
			m, err := deploy(t, args, func(tier *DataTier) { tls = tier.RedisTLS })
			require.NoError(t, err)
			db := m.One(t, typeDB)
			assert.True(t, flag(t, db, "storageEncrypted"))
			assert.Equal(t, "rds-ca-rsa2048-g1", db.Str("caCertIdentifier"))
			p := params(t, m.One(t, typeDBParams))
			if db.Str("engine") == "mysql" {
				assert.Equal(t, "1", p["require_secure_transport"])
			} else {
				assert.Equal(t, "1", p["rds.force_ssl"])
			}
			rg := m.One(t, typeRG)
			assert.True(t, flag(t, rg, "atRestEncryptionEnabled"))
			assert.True(t, flag(t, rg, "transitEncryptionEnabled"))
			assert.True(t, tls)
			token, ok := rg.Inputs["authToken"]
			require.True(t, ok, "transit encryption needs an AUTH token")
			assert.True(t, isSecret(token), "the AUTH token must be a secret in state")
			assert.Equal(t, "ROTATE", rg.Str("authTokenUpdateStrategy"), "a new token must not lock out running servers")
		})
	}
}

func TestEngines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                  string
		mutate                func(*DataTierArgs)
		family, version       string
		port                  int
		params                map[string]string
		logs                  []string
		pi                    bool
		cacheFamily, cacheVer string
		cacheEngine           string
		dbEndpointPort        int
	}{
		{name: "postgres prod", mutate: func(a *DataTierArgs) { a.Profile = "prod"; a.DB.Engine = "postgres" },
			family: "postgres17", version: "17", port: 5432, params: map[string]string{"rds.force_ssl": "1"},
			logs: []string{"postgresql", "upgrade"}, pi: true, cacheFamily: "redis7", cacheVer: "7.1", cacheEngine: "redis"},
		{name: "postgres 16 small", mutate: func(a *DataTierArgs) {
			a.Profile = "prod"
			a.DB.Engine, a.DB.EngineVersion, a.DB.InstanceClass = "postgres", "16.4", "db.t4g.small"
		},
			family: "postgres16", version: "16.4", port: 5432, params: map[string]string{"rds.force_ssl": "1"},
			logs: []string{"postgresql", "upgrade"}, pi: true, cacheFamily: "redis7", cacheVer: "7.1", cacheEngine: "redis"},
		{name: "mysql small has no PI", mutate: func(a *DataTierArgs) { a.Profile = "prod"; a.DB.InstanceClass = "db.t4g.small" },
			family: "mysql8.4", version: "8.4", port: 3306, logs: []string{"error", "slowquery"}, pi: false,
			cacheFamily: "redis7", cacheVer: "7.1", cacheEngine: "redis"},
		{name: "valkey", mutate: func(a *DataTierArgs) { a.Redis.Engine = "valkey" },
			family: "mysql8.4", version: "8.4", port: 3306, cacheFamily: "valkey8", cacheVer: "8.0", cacheEngine: "valkey"},
		{name: "valkey 7.2", mutate: func(a *DataTierArgs) { a.Redis.Engine, a.Redis.EngineVersion = "valkey", "7.2" },
			family: "mysql8.4", version: "8.4", port: 3306, cacheFamily: "valkey7", cacheVer: "7.2", cacheEngine: "valkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs("dev")
			tc.mutate(args)
			var port int
			m, err := deploy(t, args, func(tier *DataTier) { port = mock.Await[int](t, tier.DBPort) })
			require.NoError(t, err)
			db := m.One(t, typeDB)
			assert.Equal(t, tc.version, db.Str("engineVersion"))
			assert.Equal(t, tc.port, num(t, db, "port"))
			assert.Equal(t, tc.port, port, "the port output comes from the instance")
			assert.Equal(t, tc.logs, db.Strs("enabledCloudwatchLogsExports"))
			assert.Equal(t, tc.pi, flag(t, db, "performanceInsightsEnabled"))
			if tc.pi {
				assert.Equal(t, 7, num(t, db, "performanceInsightsRetentionPeriod"))
			}
			dbp := m.One(t, typeDBParams)
			assert.Equal(t, tc.family, dbp.Str("family"))
			for k, v := range tc.params {
				assert.Equal(t, v, params(t, dbp)[k], k)
				assert.Equal(t, "immediate", applyMethods(t, dbp)[k], k)
			}
			rg := m.One(t, typeRG)
			assert.Equal(t, tc.cacheEngine, rg.Str("engine"))
			assert.Equal(t, tc.cacheVer, rg.Str("engineVersion"))
			assert.Equal(t, tc.cacheFamily, m.One(t, typeRGParams).Str("family"))
		})
	}
}

func TestClusterMode(t *testing.T) {
	t.Parallel()
	args := validArgs("prod")
	args.Redis.ClusterMode = true
	shards, replicas := 3, 2
	args.Redis.Shards, args.Redis.Replicas = &shards, &replicas
	var primary, reader string
	m, err := deploy(t, args, func(tier *DataTier) {
		primary = mock.Await[string](t, tier.RedisPrimaryAddress)
		reader = mock.Await[string](t, tier.RedisReaderAddress)
	})
	require.NoError(t, err)

	rg := m.One(t, typeRG)
	assert.Equal(t, "enabled", rg.Str("clusterMode"))
	assert.Equal(t, 3, num(t, rg, "numNodeGroups"))
	assert.Equal(t, 2, num(t, rg, "replicasPerNodeGroup"))
	_, set := rg.Input("numCacheClusters")
	assert.False(t, set, "numCacheClusters conflicts with numNodeGroups")
	assert.True(t, flag(t, rg, "automaticFailoverEnabled"))
	assert.Equal(t, map[string]string{"cluster-enabled": "yes"}, params(t, m.One(t, typeRGParams)))

	cfg := rg.Outputs["configurationEndpointAddress"].StringValue()
	assert.True(t, strings.HasPrefix(cfg, "clustercfg."), cfg)
	assert.Equal(t, cfg, primary, "in cluster mode clients use the configuration endpoint")
	assert.Equal(t, cfg, reader)
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	var (
		endpoint, address, dbName, secretARN, dbSG, redisSG, primary, reader string
		dbPort, redisPort                                                    int
		tls                                                                  bool
		token                                                                any
		tokenSecret                                                          bool
	)
	m, err := deploy(t, validArgs("dev"), func(tier *DataTier) {
		endpoint = mock.Await[string](t, tier.DBEndpoint)
		address = mock.Await[string](t, tier.DBAddress)
		dbName = mock.Await[string](t, tier.DBName)
		secretARN = mock.Await[string](t, tier.DBSecretARN)
		dbPort = mock.Await[int](t, tier.DBPort)
		dbSG = mock.Await[string](t, tier.DBSecurityGroupID)
		redisSG = mock.Await[string](t, tier.RedisSecurityGroupID)
		primary = mock.Await[string](t, tier.RedisPrimaryAddress)
		reader = mock.Await[string](t, tier.RedisReaderAddress)
		redisPort = mock.Await[int](t, tier.RedisPort)
		tls = tier.RedisTLS
		var err error
		token, tokenSecret, err = mock.AwaitValue(tier.RedisAuthToken)
		assert.NoError(t, err)
	})
	require.NoError(t, err)

	assert.True(t, strings.HasPrefix(address, "football-test-data-db."), address)
	assert.True(t, strings.HasSuffix(address, "."+region+".rds.amazonaws.com"), address)
	assert.Equal(t, fmt.Sprintf("%s:%d", address, 3306), endpoint)
	assert.Equal(t, 3306, dbPort)
	assert.Equal(t, "football", dbName)
	assert.True(t, strings.HasPrefix(secretARN, "arn:aws:secretsmanager:"+region+":"+mock.Account+":secret:rds!db-"), secretARN)
	assert.Equal(t, byName(t, m, typeSG, "data-db-sg").ID, dbSG)
	assert.Equal(t, byName(t, m, typeSG, "data-redis-sg").ID, redisSG)
	assert.True(t, strings.HasPrefix(dbSG, "sg-") && dbSG != redisSG)
	assert.True(t, strings.HasPrefix(primary, "master.football-test-data-redis.") && strings.HasSuffix(primary, ".cache.amazonaws.com"), primary)
	assert.True(t, strings.HasPrefix(reader, "replica.football-test-data-redis."), reader)
	assert.Equal(t, 6379, redisPort)
	assert.True(t, tls)

	pw := m.One(t, typePassword)
	assert.Equal(t, 32, num(t, pw, "length"))
	assert.False(t, flag(t, pw, "special"), "specials other than !&#$^<>- are refused by ElastiCache")
	assert.True(t, tokenSecret, "RedisAuthToken must be a secret")
	generated := mock.Unwrap(pw.Outputs["result"]).StringValue()
	assert.Equal(t, generated, token, "the AUTH token is the generated password")
	assert.Equal(t, generated, mock.Unwrap(m.One(t, typeRG).Inputs["authToken"]).StringValue())
	assert.NoError(t, ValidateAuthToken(generated))
}

func TestAuthTokenFromArgs(t *testing.T) {
	t.Parallel()
	const given = "Given-token-0123456789"
	args := validArgs("prod")
	// Given as a plain string: the tier must still keep it secret.
	args.AuthToken = pulumi.String(given)
	var token any
	var secret bool
	m, err := deploy(t, args, func(tier *DataTier) {
		var err error
		token, secret, err = mock.AwaitValue(tier.RedisAuthToken)
		assert.NoError(t, err)
	})
	require.NoError(t, err)
	assert.Empty(t, m.ByType(typePassword), "no password is generated when one is given")
	rg := m.One(t, typeRG)
	assert.Equal(t, given, mock.Unwrap(rg.Inputs["authToken"]).StringValue())
	assert.True(t, isSecret(rg.Inputs["authToken"]))
	assert.Equal(t, given, token)
	assert.True(t, secret)
	version := m.One(t, typeSecretVer)
	assert.Equal(t, given, version.Str("secretString"), "the secret delivers the given token")
	assert.True(t, isSecret(version.Inputs["secretString"]))

	// A bad token fails the deployment when it resolves, without revealing it.
	bad := validArgs("dev")
	bad.AuthToken = pulumi.String("short/secret")
	_, err = deploy(t, bad, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AuthToken: redis auth token: 12 characters is not allowed; allowed 16..128")
	assert.Contains(t, err.Error(), "redis auth token: the character at position 6 is not allowed")
	assert.NotContains(t, err.Error(), "short/secret")
}

func TestTransitEncryptionOffInDev(t *testing.T) {
	t.Parallel()
	args := validArgs("dev")
	off := false
	args.Redis.TransitEncryption = &off
	var tls bool
	var token any
	var secretARN string
	m, err := deploy(t, args, func(tier *DataTier) {
		tls = tier.RedisTLS
		token, _, _ = mock.AwaitValue(tier.RedisAuthToken)
		secretARN = mock.Await[string](t, tier.RedisAuthSecretARN)
	})
	require.NoError(t, err)
	assert.False(t, tls)
	assert.Equal(t, "", token)
	assert.Empty(t, m.ByType(typePassword))
	rg := m.One(t, typeRG)
	assert.False(t, flag(t, rg, "transitEncryptionEnabled"))
	_, set := rg.Input("authToken")
	assert.False(t, set)
	_, set = rg.Input("authTokenUpdateStrategy")
	assert.False(t, set, "no token, no strategy")
	assert.True(t, flag(t, rg, "atRestEncryptionEnabled"), "at-rest encryption stays on")
	assert.Equal(t, "", secretARN, "no AUTH, no secret to read")
	assert.Empty(t, m.ByType(typeSecret))
	assert.Empty(t, m.ByType(typeSecretVer))
}

// TestChildren: every resource the tier makes is parented to it (so a second tier never collides and
// `pulumi destroy` of the tier finds them all) and named after it.
func TestChildren(t *testing.T) {
	t.Parallel()
	cluster := validArgs("prod")
	cluster.Redis.ClusterMode = true
	for name, args := range map[string]*DataTierArgs{"dev": validArgs("dev"), "prod": validArgs("prod"), "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := mustDeploy(t, args)
			tier := m.One(t, dataTierType)
			custom := m.Custom()
			// Per service: security group, subnet group, parameter group, the service, one rule per client;
			// plus the generated AUTH token and the secret (and its version) that delivers it.
			require.Len(t, custom, 2*(4+len(clients))+3)
			for _, r := range custom {
				assert.Equal(t, tier.URN, r.Parent, "%s %s must be parented to the tier", r.Type, r.Name)
				assert.True(t, strings.HasPrefix(r.Name, "data-"), "%s %s must be named after the tier", r.Type, r.Name)
			}
		})
	}
}

func TestSubnetsInTwoAZs(t *testing.T) {
	t.Parallel()
	args := validArgs("dev")
	args.SubnetIDs = pulumi.ToStringArray([]string{"subnet-0aaa"})
	_, err := deploy(t, args, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SubnetIDs has 1 subnet(s); RDS and ElastiCache need subnets in at least 2 AZs")
}

// TestSettingsAreCopied: NewDataTier and WithDefaults never write into the caller's settings.
func TestSettingsAreCopied(t *testing.T) {
	t.Parallel()
	args := validArgs("prod")
	replicas := 2
	args.Redis.Replicas = &replicas
	before := *args
	mustDeploy(t, args)
	assert.Equal(t, before.Settings, args.Settings)
	assert.Nil(t, args.DB.MultiAZ)
	assert.Equal(t, 2, replicas)
}

// TestRedisAuthSecret: with transit encryption the AUTH token is delivered through a Secrets Manager
// secret of the tier (never through user data), whose ARN is an output of the tier.
func TestRedisAuthSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile string
		window  int
	}{{"dev", 0}, {"prod", 30}} {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			var arn string
			var token any
			m, err := deploy(t, validArgs(tc.profile), func(tier *DataTier) {
				arn = mock.Await[string](t, tier.RedisAuthSecretARN)
				token, _, _ = mock.AwaitValue(tier.RedisAuthToken)
			})
			require.NoError(t, err)
			tier := m.One(t, dataTierType)
			secret, version := m.One(t, typeSecret), m.One(t, typeSecretVer)
			for _, r := range []*mock.Resource{secret, version} {
				assert.Equal(t, tier.URN, r.Parent, "%s must be parented to the tier", r.Name)
			}
			assert.Equal(t, "football-test-data-redis-auth-", secret.Str("namePrefix"), "a prefix, so a secret pending deletion never blocks a new one")
			_, named := secret.Input("name")
			assert.False(t, named)
			assert.Equal(t, tc.window, num(t, secret, "recoveryWindowInDays"))
			assert.NotEmpty(t, secret.Str("description"))

			assert.Equal(t, outputStr(t, secret, "arn"), arn)
			assert.Regexp(t, `^arn:aws:secretsmanager:`+region+`:`+mock.Account+`:secret:football-test-data-redis-auth-`, arn)
			assert.Equal(t, secret.ID, version.Str("secretId"))
			assert.Equal(t, token, version.Str("secretString"), "the secret's string is the AUTH token itself")
			assert.Equal(t, mock.Unwrap(m.One(t, typeRG).Inputs["authToken"]).StringValue(), version.Str("secretString"))
			assert.True(t, isSecret(version.Inputs["secretString"]), "the token stays a secret in state")
		})
	}
}

func outputStr(t *testing.T, r *mock.Resource, path string) string {
	t.Helper()
	v, ok := r.Output(path)
	require.True(t, ok && v.IsString(), "%s %s has no output %s", r.Type, r.Name, path)
	return v.StringValue()
}

// TestStorageAutoscalingOff: a ceiling equal to the allocation is sent as 0, which switches autoscaling
// off; RDS refuses a ceiling that is not at least 10% above the allocation.
func TestStorageAutoscalingOff(t *testing.T) {
	t.Parallel()
	args := validArgs("dev")
	args.DB.AllocatedStorage, args.DB.MaxAllocatedStorage = 40, 40
	db := mustDeploy(t, args).One(t, typeDB)
	assert.Equal(t, 40, num(t, db, "allocatedStorage"))
	assert.Equal(t, 0, num(t, db, "maxAllocatedStorage"))

	args = validArgs("dev")
	args.DB.AllocatedStorage, args.DB.MaxAllocatedStorage = 100, 110
	assert.Equal(t, 110, num(t, mustDeploy(t, args).One(t, typeDB), "maxAllocatedStorage"), "exactly 10% above is allowed")
}

func TestParameterApplyMethod(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "pending-reboot", dbParameter{name: "performance_schema", value: "1", static: true}.applyMethod())
	assert.Equal(t, "immediate", dbParameter{name: "long_query_time", value: "1"}.applyMethod())
}
