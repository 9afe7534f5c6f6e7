package data

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

// TestValidationRegistersNothing: every bad input produces its message (config path, bad value, what is
// allowed) and the tier registers no resource at all, not even itself.
func TestValidationRegistersNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		profile string
		mutate  func(a *DataTierArgs)
		want    string
	}{
		{"replicas", "dev", func(a *DataTierArgs) { a.Redis.Replicas = ptr(7) },
			"football:data.redis.replicas: 7 is not allowed; allowed 0..5"},
		{"replicas just above", "prod", func(a *DataTierArgs) { a.Redis.Replicas = ptr(6) },
			"football:data.redis.replicas: 6 is not allowed; allowed 0..5"},
		{"negative replicas", "dev", func(a *DataTierArgs) { a.Redis.Replicas = ptr(-1) },
			"football:data.redis.replicas: -1 is not allowed; allowed 0..5"},
		{"auth token strategy", "prod", func(a *DataTierArgs) { a.Redis.AuthTokenUpdateStrategy = "DELETE" },
			`football:data.redis.authTokenUpdateStrategy: "DELETE" is not allowed; allowed ROTATE, SET`},
		{"db engine", "dev", func(a *DataTierArgs) { a.DB.Engine = "oracle" },
			`football:data.db.engine: "oracle" is not allowed; allowed mysql, postgres`},
		{"mysql 8.0", "dev", func(a *DataTierArgs) { a.DB.EngineVersion = "8.0" },
			`football:data.db.engineVersion: "8.0" is not allowed; allowed 8.4 or 8.4.<minor> for mysql`},
		{"postgres version format", "dev", func(a *DataTierArgs) { a.DB.Engine, a.DB.EngineVersion = "postgres", "v17" },
			`football:data.db.engineVersion: "v17" is not allowed; allowed 16, 17 or <major>.<minor> for postgres`},
		{"cache engine", "dev", func(a *DataTierArgs) { a.Redis.Engine = "memcached" },
			`football:data.redis.engine: "memcached" is not allowed; allowed redis, valkey`},
		{"redis 6.2", "dev", func(a *DataTierArgs) { a.Redis.EngineVersion = "6.2" },
			`football:data.redis.engineVersion: "6.2" is not allowed; allowed 7.0, 7.1 for redis`},
		{"valkey version", "dev", func(a *DataTierArgs) { a.Redis.Engine, a.Redis.EngineVersion = "valkey", "8" },
			`football:data.redis.engineVersion: "8" is not allowed; allowed 7.2, 8.0, 8.1, 8.2 for valkey`},
		{"instance class prefix", "dev", func(a *DataTierArgs) { a.DB.InstanceClass = "t4g.micro" },
			`football:data.db.instanceClass: "t4g.micro" is not allowed; must be an RDS instance class starting with "db."`},
		{"node type prefix", "dev", func(a *DataTierArgs) { a.Redis.NodeType = "t4g.micro" },
			`football:data.redis.nodeType: "t4g.micro" is not allowed; must be an ElastiCache node type starting with "cache."`},
		{"shards below 1", "prod", func(a *DataTierArgs) { a.Redis.ClusterMode, a.Redis.Shards = true, ptr(0) },
			"football:data.redis.shards: 0 is not allowed; allowed 1..500 with cluster mode"},
		{"too many nodes", "prod", func(a *DataTierArgs) { a.Redis.ClusterMode, a.Redis.Shards, a.Redis.Replicas = true, ptr(100), ptr(5) },
			"football:data.redis.shards: 100 is not allowed; 100 shards with 5 replicas make 600 nodes; ElastiCache allows at most 500"},
		{"cluster without failover", "dev", func(a *DataTierArgs) { a.Redis.ClusterMode, a.Redis.AutomaticFailover = true, ptr(false) },
			"football:data.redis.automaticFailover: false is not allowed; cluster mode requires automatic failover"},
		{"shards without cluster mode", "dev", func(a *DataTierArgs) { a.Redis.Shards = ptr(2) },
			"football:data.redis.shards: 2 is not allowed; shards need redis.clusterMode true"},
		{"failover without replicas", "dev", func(a *DataTierArgs) { a.Redis.AutomaticFailover = ptr(true) },
			"football:data.redis.automaticFailover: true is not allowed; needs redis.replicas >= 1 (a replica to promote)"},
		{"multi-AZ without replicas", "dev", func(a *DataTierArgs) { a.Redis.MultiAZ = ptr(true) },
			"football:data.redis.multiAz: true is not allowed; needs redis.replicas >= 1"},
		{"multi-AZ without failover", "dev", func(a *DataTierArgs) {
			a.Redis.Replicas, a.Redis.AutomaticFailover, a.Redis.MultiAZ = ptr(1), ptr(false), ptr(true)
		}, "football:data.redis.multiAz: true is not allowed; needs redis.automaticFailover true"},
		{"prod without replicas", "prod", func(a *DataTierArgs) { a.Redis.Replicas = ptr(0) },
			"football:data.redis.replicas: 0 is not allowed; prod needs at least 1 replica to fail over to; allowed 1..5"},
		{"prod without failover", "prod", func(a *DataTierArgs) { a.Redis.AutomaticFailover, a.Redis.MultiAZ = ptr(false), ptr(false) },
			"football:data.redis.automaticFailover: false is not allowed; prod keeps automatic failover on (FSBP ElastiCache.3)"},
		{"prod without TLS", "prod", func(a *DataTierArgs) { a.Redis.TransitEncryption = ptr(false) },
			"football:data.redis.transitEncryption: false is not allowed; prod keeps TLS and AUTH on (FSBP ElastiCache.5)"},
		{"snapshot retention", "dev", func(a *DataTierArgs) { a.Redis.SnapshotRetentionDays = ptr(36) },
			"football:data.redis.snapshotRetentionDays: 36 is not allowed; allowed 0..35"},
		{"prod snapshot retention", "prod", func(a *DataTierArgs) { a.Redis.SnapshotRetentionDays = ptr(0) },
			"football:data.redis.snapshotRetentionDays: 0 is not allowed; prod keeps at least 1 daily snapshot (FSBP ElastiCache.1); allowed 1..35"},
		{"storage ceiling", "dev", func(a *DataTierArgs) { a.DB.AllocatedStorage, a.DB.MaxAllocatedStorage = 100, 50 },
			"football:data.db.maxAllocatedStorage: 50 is not allowed; allowed 100 (db.allocatedStorage: no autoscaling) or 110..65536; RDS wants the autoscaling ceiling at least 10% above the allocation"},
		{"storage ceiling under 10% above", "dev", func(a *DataTierArgs) { a.DB.AllocatedStorage, a.DB.MaxAllocatedStorage = 100, 109 },
			"football:data.db.maxAllocatedStorage: 109 is not allowed; allowed 100 (db.allocatedStorage: no autoscaling) or 110..65536"},
		{"storage ceiling rounds up", "dev", func(a *DataTierArgs) { a.DB.AllocatedStorage, a.DB.MaxAllocatedStorage = 21, 23 },
			"football:data.db.maxAllocatedStorage: 23 is not allowed; allowed 21 (db.allocatedStorage: no autoscaling) or 24..65536"},
		{"storage ceiling too large", "dev", func(a *DataTierArgs) { a.DB.MaxAllocatedStorage = 70000 },
			"football:data.db.maxAllocatedStorage: 70000 is not allowed"},
		{"storage floor", "dev", func(a *DataTierArgs) { a.DB.AllocatedStorage = 10 },
			"football:data.db.allocatedStorage: 10 is not allowed; allowed 20..65536 (GiB of gp3)"},
		{"backup retention", "dev", func(a *DataTierArgs) { a.DB.BackupRetentionDays = ptr(36) },
			"football:data.db.backupRetentionDays: 36 is not allowed; allowed 0..35"},
		{"prod backup retention", "prod", func(a *DataTierArgs) { a.DB.BackupRetentionDays = ptr(3) },
			"football:data.db.backupRetentionDays: 3 is not allowed; prod keeps at least 7 days of backups (FSBP RDS.11); allowed 7..35"},
		{"prod deletion protection", "prod", func(a *DataTierArgs) { a.DB.DeletionProtection = ptr(false) },
			"football:data.db.deletionProtection: false is not allowed; prod keeps deletion protection on (FSBP RDS.8)"},
		{"prod final snapshot", "prod", func(a *DataTierArgs) { a.DB.SkipFinalSnapshot = ptr(true) },
			"football:data.db.skipFinalSnapshot: true is not allowed; prod takes a final snapshot before the instance is deleted"},
		{"admin user", "dev", func(a *DataTierArgs) { a.DB.Username = "Admin" },
			`football:data.db.username: "Admin" is not allowed; admin, root, postgres and rdsadmin are reserved or guessable (FSBP RDS.25)`},
		{"postgres user", "dev", func(a *DataTierArgs) { a.DB.Engine, a.DB.Username = "postgres", "postgres" },
			`football:data.db.username: "postgres" is not allowed; admin, root, postgres and rdsadmin`},
		{"rdsadmin user", "dev", func(a *DataTierArgs) { a.DB.Username = "rdsadmin" },
			`football:data.db.username: "rdsadmin" is not allowed`},
		{"root user", "dev", func(a *DataTierArgs) { a.DB.Username = "root" },
			`football:data.db.username: "root" is not allowed`},
		{"long mysql user", "dev", func(a *DataTierArgs) { a.DB.Username = "football_administrator" },
			`football:data.db.username: "football_administrator" is not allowed; allowed a letter, then letters, digits or underscores, at most 16 characters`},
		{"db name", "dev", func(a *DataTierArgs) { a.DB.DBName = "1football" },
			`football:data.db.dbName: "1football" is not allowed; allowed a letter, then letters, digits or underscores, at most 63 characters`},
		{"db port", "dev", func(a *DataTierArgs) { a.DB.Port = 80 },
			"football:data.db.port: 80 is not allowed; allowed 1150..65535"},
		{"PI on micro", "dev", func(a *DataTierArgs) { a.DB.PerformanceInsights = ptr(true) },
			"football:data.db.performanceInsights: true is not allowed; mysql does not support Performance Insights on db.t4g.micro"},
		{"backup window format", "dev", func(a *DataTierArgs) { a.DB.BackupWindow = "3am" },
			`football:data.db.backupWindow: "3am" is not allowed; must be "hh:mm-hh:mm" in UTC`},
		{"backup window too short", "dev", func(a *DataTierArgs) { a.DB.BackupWindow = "18:00-18:20" },
			`football:data.db.backupWindow: "18:00-18:20" is not allowed; must last at least 30 minutes`},
		{"maintenance window format", "dev", func(a *DataTierArgs) { a.DB.MaintenanceWindow = "monday:19:30-monday:20:30" },
			`football:data.db.maintenanceWindow: "monday:19:30-monday:20:30" is not allowed; must be "ddd:hh:mm-ddd:hh:mm" in UTC`},
		{"db windows overlap", "dev", func(a *DataTierArgs) { a.DB.MaintenanceWindow = "sat:18:30-sat:19:30" },
			`football:data.db.maintenanceWindow: "sat:18:30-sat:19:30" is not allowed; overlaps football:data.db.backupWindow (18:00-19:00); the windows must not overlap`},
		{"maintenance window too long", "dev", func(a *DataTierArgs) { a.DB.MaintenanceWindow = "mon:00:00-tue:01:00" },
			`football:data.db.maintenanceWindow: "mon:00:00-tue:01:00" is not allowed; must last 30 minutes to 24 hours`},
		{"redis windows overlap across midnight", "prod", func(a *DataTierArgs) {
			a.Redis.SnapshotWindow, a.Redis.MaintenanceWindow = "23:30-00:30", "sun:00:00-sun:01:00"
		}, `football:data.redis.maintenanceWindow: "sun:00:00-sun:01:00" is not allowed; overlaps football:data.redis.snapshotWindow (23:30-00:30)`},
		{"redis window too short", "dev", func(a *DataTierArgs) { a.Redis.MaintenanceWindow = "wed:01:00-wed:01:30" },
			`football:data.redis.maintenanceWindow: "wed:01:00-wed:01:30" is not allowed; must last 60 minutes to 24 hours`},
		{"profile", "staging", func(*DataTierArgs) {},
			`profile: "staging" is not allowed; allowed dev, prod`},
		{"component name", "dev", nil, // see below: the name is passed to NewDataTier
			`name: "Data" is not allowed; allowed lowercase letters, digits and hyphens`},
		{"no VPC", "dev", func(a *DataTierArgs) { a.VPCID = nil }, "wiring: VPCID is required"},
		{"no subnets", "dev", func(a *DataTierArgs) { a.SubnetIDs = nil }, "wiring: SubnetIDs is required"},
		{"no clients", "dev", func(a *DataTierArgs) { a.ClientSecurityGroupIDs = nil }, "wiring: ClientSecurityGroupIDs needs at least one security group"},
		{"nil client", "dev", func(a *DataTierArgs) { a.ClientSecurityGroupIDs = append(a.ClientSecurityGroupIDs, nil) },
			"wiring: ClientSecurityGroupIDs[2] is nil"},
		{"token without TLS", "dev", func(a *DataTierArgs) {
			a.Redis.TransitEncryption, a.AuthToken = ptr(false), pulumi.String("Abcdefghijklmnop1")
		}, "wiring: AuthToken is set but football:data.redis.transitEncryption is false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs(tc.profile)
			name := "data"
			if tc.mutate == nil {
				name = "Data"
			} else {
				tc.mutate(args)
			}
			m, err := deployNamed(t, name, args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `data tier "`+name+`": `, "the error names the tier")
			assert.Empty(t, m.All(), "bad args must register nothing")
			assertHouseFormat(t, err)
		})
	}
}

// assertHouseFormat checks every line: lowercase start and no final period.
func assertHouseFormat(t *testing.T, err error) {
	t.Helper()
	for _, line := range strings.Split(err.Error(), "\n") {
		line = regexp.MustCompile(`^.*data tier "[^"]*": `).ReplaceAllString(line, "")
		assert.False(t, strings.HasSuffix(line, "."), "%q ends with a period", line)
		assert.Regexp(t, `^[a-z]`, line)
	}
}

func TestValidationReportsEverything(t *testing.T) {
	t.Parallel()
	args := validArgs("prod")
	args.DB.Engine = "oracle"
	args.DB.DeletionProtection = ptr(false)
	args.Redis.Replicas = ptr(7)
	args.Redis.TransitEncryption = ptr(false)
	args.VPCID = nil
	m, err := deployNamed(t, "data", args)
	require.Error(t, err)
	for _, want := range []string{
		"football:data.db.engine:", "football:data.db.deletionProtection:", "football:data.redis.replicas: 7",
		"football:data.redis.transitEncryption:", "wiring: VPCID is required",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, m.All())

	// Settings.Validate alone reports the same settings problems, joined.
	s := args.Settings.WithDefaults()
	verr := s.Validate()
	require.Error(t, verr)
	assert.Len(t, verr.(interface{ Unwrap() []error }).Unwrap(), 4)
}

func TestNilArgs(t *testing.T) {
	t.Parallel()
	m, err := deployNamed(t, "data", nil)
	require.Error(t, err)
	assertHouseFormat(t, err)
	assert.Contains(t, err.Error(), `data tier "data": args are required`)
	assert.Empty(t, m.All())
}

func TestValidateNeedsDefaults(t *testing.T) {
	t.Parallel()
	err := Settings{Profile: "dev"}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "call WithDefaults before Validate")
	assert.NoError(t, Settings{Profile: "dev"}.WithDefaults().Validate())
	assert.NoError(t, Settings{Profile: "prod", Region: "us-east-1"}.WithDefaults().Validate())
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	dev := Settings{Profile: "dev", Region: region}.WithDefaults()
	prod := Settings{Profile: "prod", Region: region}.WithDefaults()
	for _, tc := range []struct {
		name      string
		dev, prod any
	}{
		{"db.engine", dev.DB.Engine, "mysql"},
		{"db.engineVersion", dev.DB.EngineVersion, "8.4"},
		{"db.instanceClass", dev.DB.InstanceClass, "db.t4g.micro"},
		{"db.instanceClass prod", prod.DB.InstanceClass, "db.t4g.medium"},
		{"db.port", dev.DB.Port, 3306},
		{"db.username", dev.DB.Username, "football_admin"},
		{"db.multiAz", *dev.DB.MultiAZ, false},
		{"db.multiAz prod", *prod.DB.MultiAZ, true},
		{"db.performanceInsights", *dev.DB.PerformanceInsights, false},
		{"db.performanceInsights prod", *prod.DB.PerformanceInsights, true},
		{"db.protect prod", *prod.DB.Protect, true},
		{"db.retainOnDelete prod", *prod.DB.RetainOnDelete, true},
		{"db.protect", *dev.DB.Protect, false},
		{"redis.engine", dev.Redis.Engine, "redis"},
		{"redis.engineVersion", dev.Redis.EngineVersion, "7.1"},
		{"redis.replicas", *dev.Redis.Replicas, 0},
		{"redis.replicas prod", *prod.Redis.Replicas, 1},
		{"redis.automaticFailover", *dev.Redis.AutomaticFailover, false},
		{"redis.automaticFailover prod", *prod.Redis.AutomaticFailover, true},
		{"redis.multiAz", *dev.Redis.MultiAZ, false},
		{"redis.multiAz prod", *prod.Redis.MultiAZ, true},
		{"redis.shards", dev.Redis.Shards, (*int)(nil)},
		{"redis.transitEncryption", *dev.Redis.TransitEncryption, true},
	} {
		assert.Equal(t, tc.prod, tc.dev, tc.name)
	}

	// Derived defaults follow explicit choices.
	s := Settings{Profile: "dev", Redis: RedisSettings{Replicas: ptr(2)}, DB: DBSettings{Engine: "postgres"}}.WithDefaults()
	assert.True(t, *s.Redis.AutomaticFailover)
	assert.True(t, *s.Redis.MultiAZ)
	assert.Equal(t, "17", s.DB.EngineVersion)
	assert.Equal(t, 5432, s.DB.Port)
	c := Settings{Profile: "dev", Redis: RedisSettings{ClusterMode: true, Engine: "valkey"}}.WithDefaults()
	assert.Equal(t, 1, *c.Redis.Shards)
	assert.True(t, *c.Redis.AutomaticFailover, "cluster mode needs failover even without replicas")
	assert.False(t, *c.Redis.MultiAZ)
	assert.Equal(t, "8.0", c.Redis.EngineVersion)
	assert.NoError(t, c.Validate())
	// A prod MySQL on a class without Performance Insights defaults it off rather than failing.
	small := Settings{Profile: "prod", DB: DBSettings{InstanceClass: "db.t4g.small"}}.WithDefaults()
	assert.False(t, *small.DB.PerformanceInsights)
	assert.NoError(t, small.Validate())
}

func TestValidateAuthToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token string
		want  string // "" = valid
	}{
		{"Abcdefghijklmnop", ""},
		{"0123456789abcdef!&#$^<>-", ""},
		{strings.Repeat("a", 128), ""},
		{strings.Repeat("a", 15), "redis auth token: 15 characters is not allowed; allowed 16..128"},
		{strings.Repeat("a", 129), "redis auth token: 129 characters is not allowed; allowed 16..128"},
		{"", "redis auth token: 0 characters is not allowed"},
		{"abcdefgh ijklmnop", "redis auth token: the character at position 9 is not allowed; allowed letters, digits and ! & # $ ^ < > -"},
		{`abcdefghijklmnop"`, "position 17 is not allowed"},
		{"abcdefghijklmnop/", "position 17 is not allowed"},
		{"@abcdefghijklmnop", "position 1 is not allowed"},
		{"abcdefghijklmnop%", "position 17 is not allowed"},
		{"abcdefghijklmnop\t", "position 17 is not allowed"},
		{"abcdefghijklmnopé", "position 17 is not allowed"},
	} {
		err := ValidateAuthToken(tc.token)
		if tc.want == "" {
			assert.NoError(t, err, "%q", tc.token)
			continue
		}
		require.Error(t, err, "%q", tc.token)
		assert.Contains(t, err.Error(), tc.want)
		if len(tc.token) > 0 {
			assert.NotContains(t, err.Error(), tc.token, "the token must not be echoed")
		}
	}
	// Both problems are reported together.
	err := ValidateAuthToken("a b")
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 2)
	assert.True(t, errors.Is(err, err))
}

func TestPhysicalID(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z]([a-z0-9]|-[a-z0-9])*$`)
	for _, tc := range []struct {
		project, stack, name, role string
		max                        int
		want                       string
	}{
		{"football", "dev", "data", "db", 63, "football-dev-data-db"},
		{"football", "Prod_Seoul", "data", "redis", 40, "football-prod-seoul-data-redis"},
		{"9football", "--x--", "data", "db", 63, "football-x-data-db"},
		{"football", "a-very-long-stack-name-for-the-seoul-region", "data", "redis", 40, ""},
	} {
		got := physicalID(physicalBase(tc.project, tc.stack, tc.name), tc.role, tc.max)
		if tc.want != "" {
			assert.Equal(t, tc.want, got)
		}
		assert.LessOrEqual(t, len(got), tc.max, got)
		assert.Regexp(t, valid, got)
		assert.True(t, strings.HasSuffix(got, "-"+tc.role) || strings.Contains(got, "-"+tc.role+"-"), got)
		assert.Equal(t, got, physicalID(physicalBase(tc.project, tc.stack, tc.name), tc.role, tc.max), "stable")
	}
	a := physicalID(physicalBase("football", "a-very-long-stack-name-for-the-seoul-region-1", "data"), "redis", 40)
	b := physicalID(physicalBase("football", "a-very-long-stack-name-for-the-seoul-region-2", "data"), "redis", 40)
	assert.NotEqual(t, a, b, "cut names keep a hash of the full name")
}

// TestSettingsJSON decodes a football:data section the way the stack does (unknown keys are errors), so
// the JSON names here are the ones the README documents.
func TestSettingsJSON(t *testing.T) {
	t.Parallel()
	raw := `{
		"db": {"engine": "postgres", "engineVersion": "17.6", "instanceClass": "db.t4g.small", "allocatedStorage": 30,
		       "maxAllocatedStorage": 100, "port": 5433, "dbName": "league", "username": "league_admin", "multiAz": true,
		       "backupRetentionDays": 10, "deletionProtection": true, "skipFinalSnapshot": false,
		       "performanceInsights": true, "cloudwatchLogs": true, "applyImmediately": false, "protect": true,
		       "retainOnDelete": true, "backupWindow": "18:00-19:00", "maintenanceWindow": "mon:19:30-mon:20:30"},
		"redis": {"engine": "valkey", "engineVersion": "8.1", "nodeType": "cache.t4g.small", "clusterMode": true,
		          "shards": 2, "replicas": 1, "automaticFailover": true, "multiAz": true, "transitEncryption": true,
		          "snapshotRetentionDays": 3, "applyImmediately": false, "snapshotWindow": "17:00-18:00",
		          "maintenanceWindow": "tue:19:30-tue:20:30", "protect": true, "authTokenUpdateStrategy": "SET"}
	}`
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var s Settings
	require.NoError(t, dec.Decode(&s))
	s.Profile, s.Region = "prod", region
	assert.Equal(t, s, s.WithDefaults(), "every key was set, so no default applies")
	assert.NoError(t, s.Validate())
	assert.Equal(t, 5433, s.DB.Port)
	assert.Equal(t, 2, *s.Redis.Shards)

	dec = json.NewDecoder(strings.NewReader(`{"redis": {"replica": 2}}`))
	dec.DisallowUnknownFields()
	assert.Error(t, dec.Decode(&Settings{}), "a misspelt key is an error")
}
