package stack

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

// setting is one config key at a value other than its default, and the input of the plan it must reach.
type setting struct {
	// key is the path under the project's namespace ("network.flowLogs.trafficType"); value is JSON.
	key, value string
	// got reads the input the key sets from a plan; want is what it must be with value set (a
	// func(*testing.T, *mock.Mocks) any is evaluated on that plan).
	got  func(t *testing.T, m *mock.Mocks) any
	want any
	// absent says that at the default the input does not exist at all (no key pair, no e-mail).
	absent bool
}

// group is a set of settings planned together: the stack file with every key of the group removed (the
// defaults) against the same file with every key set, both with base applied so that the inputs exist.
type group struct {
	name  string
	stack string
	base  map[string]string
	opts  mock.Options
	rows  []setting
}

const (
	testCert = `"arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"`
	testKey  = "arn:aws:kms:ap-northeast-2:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)

// releases are the images the dev groups find in ECR.
var releases = mock.Options{Images: map[string][]string{"football/dev/api": {"v2.0.0"}, "football/dev/chat": {"v1.2.3"}}}

// networkSettings: football:network.
var networkSettings = []group{
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "network.cidr", value: `"10.30.0.0/16"`, got: input("net-vpc", "cidrBlock"), want: "10.30.0.0/16"},
		{key: "network.subnetBits", value: `5`, got: prefixBits("net-vpc", "subnetSpecs[0].cidrBlocks[0]"), want: 21},
		{key: "network.availabilityZones", value: `["ap-northeast-2a","ap-northeast-2b","ap-northeast-2c"]`,
			got: input("net-vpc", "availabilityZoneNames"), want: []string{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"}},
		{key: "network.natInstanceType", value: `"t4g.micro"`, got: input("net-nat", "instanceType"), want: "t4g.micro"},
		{key: "network.flowLogs.enabled", value: `true`, got: count("aws:ec2/flowLog:FlowLog"), want: 1},
	}},
	{name: "dev, flow logs on", stack: "dev", base: map[string]string{"network.flowLogs.enabled": `true`},
		opts: mock.Options{HostedZones: []string{"example.com"}}, rows: []setting{
			{key: "network.flowLogs.retentionDays", value: `30`, got: input("net-flow-logs", "retentionInDays"), want: 30},
			{key: "network.flowLogs.trafficType", value: `"REJECT"`, got: input("net-flow-log", "trafficType"), want: "REJECT"},
			{key: "network.flowLogs.protect", value: `true`, got: protected("net-flow-logs"), want: true},
		}},
	{name: "prod", stack: "prod", rows: []setting{
		{key: "network.nat", value: `"single"`, got: input("net-vpc", "natGateways.strategy"), want: "Single"},
		{key: "network.flowLogs.retainOnDelete", value: `false`, got: retained("net-flow-logs"), want: false},
	}},
}

// chatSettings: football:chat, the ChatBastion.
var chatSettings = []group{
	{name: "dev, chat mode", stack: "dev", rows: []setting{
		{key: "chat.mode", value: `"fleet"`, got: count("aws:autoscaling/group:Group", "chat-asg"), want: 1},
	}},
	{name: "dev, chat fleet", stack: "dev", base: map[string]string{"chat.mode": `"fleet"`}, rows: []setting{
		{key: "chat.fleet.min", value: `2`, got: input("chat-asg", "minSize"), want: 2},
		{key: "chat.fleet.desired", value: `3`, got: input("chat-asg", "desiredCapacity"), want: 3},
		{key: "chat.fleet.max", value: `5`, got: input("chat-asg", "maxSize"), want: 5},
		{key: "chat.fleet.targetConnections", value: `500`, got: input("chat-scaling", "targetTrackingConfiguration.targetValue"), want: 500},
		{key: "chat.fleet.drainSeconds", value: `300`, got: input("chat-tg", "deregistrationDelay"), want: 300},
		{key: "chat.fleet.stickinessSeconds", value: `3600`, got: input("chat-tg", "stickiness.cookieDuration"), want: 3600, absent: true},
	}},
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "chat.instanceType", value: `"t4g.small"`, got: input("chat-server", "instanceType"), want: "t4g.small"},
		{key: "chat.availabilityZone", value: `"ap-northeast-2c"`, got: input("chat-server", "subnetId"), want: publicSubnetIn("ap-northeast-2c")},
		{key: "chat.chatPort", value: `443`, got: chatIngress(false, "port"), want: []int{443}},
		{key: "chat.chatCidrs", value: `["203.0.113.0/24"]`, got: chatIngress(false, "source"), want: []string{"203.0.113.0/24"}},
		{key: "chat.sshCidrs", value: `["198.51.100.0/24"]`, got: chatIngress(true, "source"), want: []string{"198.51.100.0/24"}},
		{key: "chat.keyName", value: `"ops"`, got: input("chat-server", "keyName"), want: "ops", absent: true},
		{key: "chat.rootVolumeGiB", value: `32`, got: input("chat-server", "rootBlockDevice.volumeSize"), want: 32},
		{key: "chat.release", value: `"v1.2.3"`, got: chatImage,
			want: mock.Account + ".dkr.ecr.ap-northeast-2.amazonaws.com/football/dev/chat@" + mock.ImageDigest("football/dev/chat", "v1.2.3")},
		{key: "chat.releasesKept", value: `10`, got: keptImages("chat-repo-lifecycle"), want: 10},
		{key: "chat.keepTags", value: `["rc-*"]`, got: protectedTags("chat-repo-lifecycle"), want: []string{"v1.2.3", "rc-*"}},
	}},
	{name: "dev, shared repositories", stack: "dev",
		opts: mock.Options{Images: map[string][]string{"football/shared/api": {}, "football/shared/chat": {}}}, rows: []setting{
			{key: "chat.repository", value: `"football/shared/chat"`, got: pulled("chat-ecr-pull"),
				want: []string{"arn:aws:ecr:ap-northeast-2:123456789012:repository/football/shared/chat"}},
			{key: "api.repository", value: `"football/shared/api"`, got: pulled("api-ecr-pull"),
				want: []string{"arn:aws:ecr:ap-northeast-2:123456789012:repository/football/shared/api"}},
		}},
}

// apiSettings: football:api, the ApiTier.
var apiSettings = []group{
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "api.instanceType", value: `"t4g.small"`, got: input("api-lt", "instanceType"), want: "t4g.small"},
		{key: "api.appPort", value: `9090`, got: input("api-tg", "port"), want: 9090},
		{key: "api.healthCheckPath", value: `"/ready"`, got: input("api-tg", "healthCheck.path"), want: "/ready"},
		{key: "api.min", value: `2`, got: input("api-asg", "minSize"), want: 2},
		{key: "api.desired", value: `3`, got: input("api-asg", "desiredCapacity"), want: 3},
		{key: "api.max", value: `4`, got: input("api-asg", "maxSize"), want: 4},
		{key: "api.certificateArn", value: testCert, got: input("api-https", "certificateArn"), want: strings.Trim(testCert, `"`), absent: true},
		{key: "api.idleTimeout", value: `120`, got: input("api-alb", "idleTimeout"), want: 120},
		{key: "api.deletionProtection", value: `true`, got: input("api-alb", "enableDeletionProtection"), want: true},
		{key: "api.accessLogs.enabled", value: `true`, got: input("api-alb", "accessLogs.enabled"), want: true, absent: true},
		{key: "api.scaling.metric", value: `"requests"`, got: input("api-scaling", "targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"),
			want: "ALBRequestCountPerTarget"},
		{key: "api.scaling.target", value: `500`, got: input("api-scaling", "targetTrackingConfiguration.targetValue"), want: 500},
		{key: "api.keyName", value: `"ops"`, got: input("api-lt", "keyName"), want: "ops", absent: true},
		{key: "api.rootVolumeGiB", value: `32`, got: input("api-lt", "blockDeviceMappings[0].ebs.volumeSize"), want: 32},
		{key: "api.release", value: `"v2.0.0"`, got: apiImage,
			want: mock.Account + ".dkr.ecr.ap-northeast-2.amazonaws.com/football/dev/api@" + mock.ImageDigest("football/dev/api", "v2.0.0")},
		{key: "api.releasesKept", value: `10`, got: keptImages("api-repo-lifecycle"), want: 10},
		{key: "api.keepTags", value: `["rc-*"]`, got: protectedTags("api-repo-lifecycle"), want: []string{"v2.0.0", "rc-*"}},
	}},
	{name: "dev, https", stack: "dev", base: map[string]string{"api.certificateArn": testCert}, rows: []setting{
		{key: "api.sslPolicy", value: `"ELBSecurityPolicy-TLS13-1-3-2021-06"`, got: input("api-https", "sslPolicy"), want: "ELBSecurityPolicy-TLS13-1-3-2021-06"},
	}},
	{name: "prod", stack: "prod", rows: []setting{
		{key: "api.accessLogs.retentionDays", value: `30`, got: input("api-alb-logs-expiry", "rules[0].expiration.days"), want: 30},
	}},
}

// dataSettings: football:data, the DataTier.
var dataSettings = []group{
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "data.db.engine", value: `"postgres"`, got: input("data-db", "engine"), want: "postgres"},
		{key: "data.db.engineVersion", value: `"16"`, got: input("data-db", "engineVersion"), want: "16"},
		{key: "data.db.instanceClass", value: `"db.t4g.medium"`, got: input("data-db", "instanceClass"), want: "db.t4g.medium"},
		{key: "data.db.allocatedStorage", value: `30`, got: input("data-db", "allocatedStorage"), want: 30},
		{key: "data.db.maxAllocatedStorage", value: `100`, got: input("data-db", "maxAllocatedStorage"), want: 100},
		{key: "data.db.port", value: `6000`, got: input("data-db", "port"), want: 6000},
		{key: "data.db.dbName", value: `"league"`, got: input("data-db", "dbName"), want: "league"},
		{key: "data.db.username", value: `"league_admin"`, got: input("data-db", "username"), want: "league_admin"},
		{key: "data.db.multiAz", value: `true`, got: input("data-db", "multiAz"), want: true},
		{key: "data.db.backupRetentionDays", value: `3`, got: input("data-db", "backupRetentionPeriod"), want: 3},
		{key: "data.db.deletionProtection", value: `true`, got: input("data-db", "deletionProtection"), want: true},
		{key: "data.db.skipFinalSnapshot", value: `false`, got: input("data-db", "skipFinalSnapshot"), want: false},
		{key: "data.db.performanceInsights", value: `true`, got: input("data-db", "performanceInsightsEnabled"), want: true},
		{key: "data.db.cloudwatchLogs", value: `true`, got: input("data-db", "enabledCloudwatchLogsExports"),
			want: []string{"postgresql", "upgrade"}, absent: true},
		{key: "data.db.applyImmediately", value: `false`, got: input("data-db", "applyImmediately"), want: false},
		{key: "data.db.protect", value: `true`, got: protected("data-db"), want: true},
		{key: "data.db.retainOnDelete", value: `true`, got: retained("data-db"), want: true},
		{key: "data.db.backupWindow", value: `"15:00-16:00"`, got: input("data-db", "backupWindow"), want: "15:00-16:00"},
		{key: "data.db.maintenanceWindow", value: `"sun:22:00-sun:23:00"`, got: input("data-db", "maintenanceWindow"), want: "sun:22:00-sun:23:00"},

		{key: "data.redis.engine", value: `"valkey"`, got: input("data-redis", "engine"), want: "valkey"},
		{key: "data.redis.engineVersion", value: `"8.1"`, got: input("data-redis", "engineVersion"), want: "8.1"},
		{key: "data.redis.nodeType", value: `"cache.t4g.small"`, got: input("data-redis", "nodeType"), want: "cache.t4g.small"},
		{key: "data.redis.replicas", value: `2`, got: input("data-redis", "numCacheClusters"), want: 3},
		{key: "data.redis.snapshotRetentionDays", value: `3`, got: input("data-redis", "snapshotRetentionLimit"), want: 3},
		{key: "data.redis.applyImmediately", value: `false`, got: input("data-redis", "applyImmediately"), want: false},
		{key: "data.redis.maintenanceWindow", value: `"thu:20:00-thu:21:00"`, got: input("data-redis", "maintenanceWindow"), want: "thu:20:00-thu:21:00"},
		{key: "data.redis.authTokenUpdateStrategy", value: `"SET"`, got: input("data-redis", "authTokenUpdateStrategy"), want: "SET"},
		{key: "data.redis.protect", value: `true`, got: protected("data-redis"), want: true},
	}},
	{name: "dev, flow logs on", stack: "dev", base: map[string]string{"network.flowLogs.enabled": `true`},
		opts: mock.Options{HostedZones: []string{"example.com"}}, rows: []setting{
			{key: "data.redis.clusterMode", value: `true`, got: input("data-redis", "clusterMode"), want: "enabled"},
		}},
	{name: "dev, https", stack: "dev", base: map[string]string{"api.certificateArn": testCert}, rows: []setting{
		{key: "data.redis.transitEncryption", value: `false`, got: input("data-redis", "transitEncryptionEnabled"), want: false},
	}},
	{name: "dev, a cache replica", stack: "dev", base: map[string]string{"data.redis.replicas": `1`}, rows: []setting{
		{key: "data.redis.automaticFailover", value: `false`, got: input("data-redis", "automaticFailoverEnabled"), want: false},
		{key: "data.redis.multiAz", value: `false`, got: input("data-redis", "multiAzEnabled"), want: false},
	}},
	{name: "dev, cluster mode", stack: "dev", base: map[string]string{"data.redis.clusterMode": `true`}, rows: []setting{
		{key: "data.redis.shards", value: `2`, got: input("data-redis", "numNodeGroups"), want: 2},
	}},
	{name: "prod", stack: "prod", rows: []setting{
		{key: "data.redis.snapshotWindow", value: `"14:00-15:00"`, got: input("data-redis", "snapshotWindow"), want: "14:00-15:00"},
	}},
}

// imageSettings: football:images.
var imageSettings = []group{
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "images.arm64", value: `"ami-0fedcba9876543210"`, got: input("chat-server", "ami"), want: "ami-0fedcba9876543210"},
	}},
	{name: "dev, amd64 chat server", stack: "dev", base: map[string]string{"chat.instanceType": `"t3.micro"`}, rows: []setting{
		{key: "images.amd64", value: `"ami-0123456789abcdef0"`, got: input("chat-server", "ami"), want: "ami-0123456789abcdef0"},
	}},
}

// monitoringSettings: football:monitoring. The log settings reach the servers' log groups, which compute
// creates: the stack wires them across.
var monitoringSettings = []group{
	{name: "dev, chat fleet", stack: "dev", base: map[string]string{"chat.mode": `"fleet"`}, rows: []setting{
		{key: "monitoring.thresholds.chatErrorsPerMinute", value: `9`, got: threshold("chat-target-errors"), want: 9},
	}},
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "monitoring.alarms", value: `"full"`, got: count("aws:cloudwatch/metricAlarm:MetricAlarm", "api-elb-5xx"), want: 1},
		{key: "monitoring.email", value: `["oncall@example.com"]`, got: input("monitoring-email-0", "endpoint"), want: "oncall@example.com", absent: true},
		{key: "monitoring.webhook", value: `"https://hooks.example.com/T0/B0"`, got: input("monitoring-webhook", "endpoint"),
			want: "https://hooks.example.com/T0/B0", absent: true},
		{key: "monitoring.dashboard", value: `true`, got: count("aws:cloudwatch/dashboard:Dashboard"), want: 1},
		{key: "monitoring.logRetentionDays", value: `30`, got: inputs("retentionInDays", "api-logs", "chat-logs"), want: []int{30, 30}},
		{key: "monitoring.logKmsKeyArn", value: `"` + testKey + `"`, got: inputs("kmsKeyId", "api-logs", "chat-logs"),
			want: []string{testKey, testKey}, absent: true},
	}},
	{name: "prod", stack: "prod", rows: []setting{
		{key: "monitoring.thresholds.elb5xxPerMinute", value: `50`, got: threshold("api-elb-5xx"), want: 50},
		{key: "monitoring.retainLogs", value: `false`, got: inputsRetained("api-logs", "chat-logs"), want: []bool{false, false}},
		{key: "monitoring.thresholds.target5xxPercent", value: `2`, got: threshold("api-target-5xx"), want: 2},
		{key: "monitoring.thresholds.latencyP99Seconds", value: `1`, got: threshold("api-latency-p99"), want: 1},
		{key: "monitoring.thresholds.diskUsedPercent", value: `70`, got: threshold("api-disk-used"), want: 70},
		{key: "monitoring.thresholds.dbCpuPercent", value: `75`, got: threshold("data-db-cpu"), want: 75},
		// 50% of MySQL's max_connections for db.t4g.medium: 4 GiB / 12582880 = 341.3, so 170.
		{key: "monitoring.thresholds.dbConnectionsPercent", value: `50`, got: threshold("data-db-connections"), want: 170},
		// 20% of the 20 GiB allocation, and of the class's 4 GiB, in bytes.
		{key: "monitoring.thresholds.dbFreeStoragePercent", value: `20`, got: threshold("data-db-free-storage"), want: 4294967296},
		{key: "monitoring.thresholds.dbFreeMemoryPercent", value: `20`, got: threshold("data-db-freeable-memory"), want: 858993459},
		{key: "monitoring.thresholds.cacheCpuPercent", value: `75`, got: threshold("data-cache-1-cpu"), want: 75},
		{key: "monitoring.thresholds.cacheMemoryPercent", value: `75`, got: threshold("data-cache-1-memory"), want: 75},
		{key: "monitoring.thresholds.cacheConnections", value: `500`, got: threshold("data-cache-1-connections"), want: 500},
		{key: "monitoring.thresholds.cacheEvictionsPerMinute", value: `50`, got: threshold("data-cache-1-evictions"), want: 50},
		{key: "monitoring.thresholds.cacheReplicationLagSeconds", value: `30`, got: threshold("data-cache-1-replication-lag"), want: 30},
		{key: "monitoring.thresholds.wafBlockedPerMinute", value: `500`, got: threshold("edge-waf-blocked"), want: 500},
	}},
}

// domainSettings: football:domain.
var domainSettings = []group{
	{name: "dev, flow logs on", stack: "dev", base: map[string]string{"network.flowLogs.enabled": `true`},
		opts: mock.Options{HostedZones: []string{"example.com"}}, rows: []setting{
			{key: "domain.zone", value: `"example.com"`, got: input("edge-api-alias", "name"), want: "api.dev.example.com", absent: true},
		}},
	{name: "prod, domain", stack: "prod", base: map[string]string{"domain.zone": `"example.com"`, "api.allowHttpOnly": ``},
		opts: mock.Options{HostedZones: []string{"example.com"}}, rows: []setting{
			{key: "domain.apiHost", value: `"rest.example.com"`, got: input("edge-cert", "domainName"), want: "rest.example.com"},
			{key: "domain.chatHost", value: `"ws.example.com"`, got: input("edge-cert", "subjectAlternativeNames"), want: []string{"ws.example.com"}},
		}},
}

// wafSettings: football:waf.
var wafSettings = []group{
	{name: "dev", stack: "dev", opts: releases, rows: []setting{
		{key: "waf.enabled", value: `true`, got: count("aws:wafv2/webAcl:WebAcl"), want: 1},
	}},
	{name: "prod", stack: "prod", rows: []setting{
		{key: "waf.mode", value: `"count"`, got: wafRule("rate-per-ip", "action"), want: map[string]any{"count": map[string]any{}}},
		{key: "waf.rateLimit", value: `5000`, got: wafRule("rate-per-ip", "statement.rateBasedStatement.limit"), want: 5000},
		{key: "waf.groups", value: `{"sqli":"off"}`, got: wafRules, want: []string{"AWSManagedRulesAmazonIpReputationList",
			"rate-per-ip", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"}},
		{key: "waf.overrides", value: `[{"group":"common","rule":"SizeRestrictions_BODY","action":"count"}]`,
			got: wafRule("AWSManagedRulesCommonRuleSet", "statement.managedRuleGroupStatement.ruleActionOverrides[0].name"), want: "SizeRestrictions_BODY"},
		{key: "waf.logRetentionDays", value: `30`, got: input("edge-waf-logs", "retentionInDays"), want: 30},
		{key: "waf.retainLogs", value: `false`, got: retained("edge-waf-logs"), want: false},
		{key: "waf.logAllRequests", value: `true`, got: has("edge-waf-logging", "loggingFilter"), want: false},
	}},
}

// noInputOfItsOwn are the keys no resource input follows, and why.
var noInputOfItsOwn = map[string]string{
	"network.tiers": "the only valid value is the default: the network needs public and private, the stack's data " +
		"tier the data subnets (TestLoadRejectsBadConfigBeforeAnyResource)",
	"api.allowHttpOnly": "it only lets prod pass validation without a certificate; the listeners follow certificateArn",
}

// settingGroups are every component's table, grouped by the plans they share.
func settingGroups() []group {
	byName := map[string]*group{}
	var order []string
	for _, table := range [][]group{networkSettings, chatSettings, apiSettings, dataSettings, imageSettings, monitoringSettings, domainSettings, wafSettings} {
		for _, g := range table {
			if merged, ok := byName[g.name]; ok {
				merged.rows = append(merged.rows, g.rows...)
				continue
			}
			g.rows = append([]setting(nil), g.rows...)
			byName[g.name] = &g
			order = append(order, g.name)
		}
	}
	var out []group
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// TestEverySettingReachesAWS plans each group of settings at non-default values and checks, key by key,
// the input the program asks AWS for; the same input of the default plan must differ, so a value the
// program ignored (a hard-coded default) fails here.
func TestEverySettingReachesAWS(t *testing.T) {
	t.Parallel()
	for _, g := range settingGroups() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			defaults, set := map[string]string{}, map[string]string{}
			maps.Copy(defaults, g.base)
			maps.Copy(set, g.base)
			for _, r := range g.rows {
				defaults[r.key], set[r.key] = "", r.value
			}
			before := planEdited(t, g.stack, defaults, g.opts)
			after := planEdited(t, g.stack, set, g.opts)
			for _, r := range g.rows {
				t.Run(r.key, func(t *testing.T) {
					t.Parallel()
					want := r.want
					if f, ok := want.(func(*testing.T, *mock.Mocks) any); ok {
						want = f(t, after)
					}
					want = plain(t, want)
					assert.Equal(t, want, r.got(t, after), "%s: %s", r.key, r.value)
					old := r.got(t, before)
					assert.NotEqual(t, want, old, "%s: %s is the default; test a value the default plan does not have", r.key, r.value)
					if !r.absent {
						assert.NotNil(t, old, "%s: the default plan has no such input; mark the row absent if that is the default", r.key)
					}
				})
			}
		})
	}
}

// TestEverySettingHasARow: each key of every football:<section> object (every field of the typed config) has
// a row above, or a reason in noInputOfItsOwn; a new setting without a test fails here.
func TestEverySettingHasARow(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, g := range settingGroups() {
		for _, r := range g.rows {
			assert.False(t, covered[r.key], "%s has two rows", r.key)
			covered[r.key] = true
		}
	}
	var keys []string
	for _, s := range (&Config{}).sections() {
		keys = append(keys, settingKeys(s.key+".", reflect.TypeOf(s.target).Elem())...)
	}
	require.NotEmpty(t, keys)
	for _, k := range keys {
		_, exempt := noInputOfItsOwn[k]
		assert.True(t, covered[k] != exempt, "%s: needs exactly one of a row in the settings tables or a reason in noInputOfItsOwn", k)
		delete(covered, k)
	}
	assert.Empty(t, slices.Sorted(maps.Keys(covered)), "rows for keys the config does not have")
}

// settingKeys lists the JSON paths of the leaves of a settings type (nested objects are walked, embedded
// structs flattened; lists and maps are leaves).
func settingKeys(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name := strings.Split(tag, ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case f.Anonymous && name == "":
			out = append(out, settingKeys(prefix, ft)...)
		case ft.Kind() == reflect.Struct:
			out = append(out, settingKeys(prefix+name+".", ft)...)
		default:
			out = append(out, prefix+name)
		}
	}
	return out
}

// plain turns a value into what a recorded input looks like once read back: JSON's numbers, lists and
// objects.
func plain(t *testing.T, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// resourceNamed is the one resource with the logical name, or nil when the plan has none.
func resourceNamed(t *testing.T, m *mock.Mocks, name string) *mock.Resource {
	t.Helper()
	var found []*mock.Resource
	for _, r := range m.All() {
		if r.Name == name {
			found = append(found, r)
		}
	}
	require.LessOrEqual(t, len(found), 1, "several resources are named %s", name)
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

// input reads one input of the named resource (nil when the resource or the input is absent).
func input(name, path string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		t.Helper()
		r := resourceNamed(t, m, name)
		if r == nil {
			return nil
		}
		v, ok := r.Input(path)
		if !ok || v.IsNull() {
			return nil
		}
		return plain(t, v.Mappable())
	}
}

// inputs reads the same input of several resources, in order.
func inputs(path string, names ...string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		t.Helper()
		var out []any
		for _, n := range names {
			v := input(n, path)(t, m)
			if v == nil {
				return nil
			}
			out = append(out, v)
		}
		return out
	}
}

// has tells whether the named resource has the input.
func has(name, path string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		t.Helper()
		return input(name, path)(t, m) != nil
	}
}

// count is how many resources of the type (and, when given, the name) the plan registers.
func count(typ string, name ...string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		n := 0
		for _, r := range m.ByType(typ) {
			if len(name) == 0 || r.Name == name[0] {
				n++
			}
		}
		return float64(n)
	}
}

// protected and retained read the resource options the program registered.
func protected(name string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		if r := resourceNamed(t, m, name); r != nil {
			return r.Protect
		}
		return nil
	}
}

func retained(name string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		if r := resourceNamed(t, m, name); r != nil {
			return r.RetainOnDelete
		}
		return nil
	}
}

// inputsRetained lists whether each named resource is retained on delete.
func inputsRetained(names ...string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		var out []any
		for _, n := range names {
			out = append(out, retained(n)(t, m))
		}
		return out
	}
}

// prefixBits is the length of the CIDR prefix at path.
func prefixBits(name, path string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		v, _ := input(name, path)(t, m).(string)
		p, err := netip.ParsePrefix(v)
		require.NoError(t, err)
		return float64(p.Bits())
	}
}

// publicSubnetIn is the ID of the public subnet the awsx VPC made in az (its output, not an input echoed).
func publicSubnetIn(az string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		vpc := m.One(t, "awsx:ec2:Vpc")
		i := slices.Index(vpc.Strs("availabilityZoneNames"), az)
		ids, ok := vpc.Output("publicSubnetIds")
		if i < 0 || !ok || i >= len(ids.ArrayValue()) {
			return nil
		}
		return ids.ArrayValue()[i].StringValue()
	}
}

// chatIngress reads the chat server's ingress rules: those on SSH (22) or the others, by port or by source.
func chatIngress(ssh bool, what string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		sg := resourceNamed(t, m, "chat-sg")
		require.NotNil(t, sg)
		out := []any{}
		for _, r := range m.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			port, _ := r.Num("fromPort")
			if r.Str("securityGroupId") != sg.ID || (port == 22) != ssh {
				continue
			}
			var v any = port
			if what == "source" {
				v = r.Str("cidrIpv4") + r.Str("cidrIpv6") + r.Str("referencedSecurityGroupId")
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
}

// envLine is the value of key in a base64-encoded env file or user-data script ("" when unset).
func envLine(t *testing.T, encoded, key string) any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return nil
}

// chatImage and apiImage are the release each service's servers run, as their settings name it.
func chatImage(t *testing.T, m *mock.Mocks) any {
	for _, r := range m.ByType("aws:ssm/association:Association") {
		if r.Name == "chat-setup" {
			return envLine(t, r.Str("parameters.env"), "FOOTBALL_IMAGE")
		}
	}
	return nil
}

func apiImage(t *testing.T, m *mock.Mocks) any {
	return envLine(t, resourceNamed(t, m, "api-lt").Str("userData"), "FOOTBALL_IMAGE")
}

// policyDoc parses a resource's JSON document input.
func policyDoc(t *testing.T, m *mock.Mocks, name, key string) map[string]any {
	t.Helper()
	r := resourceNamed(t, m, name)
	require.NotNil(t, r, "no %s", name)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Str(key)), &doc))
	return doc
}

// keptImages is how many images a repository's lifecycle policy keeps of those no earlier rule protects:
// the count of its last rule, the one that selects every image.
func keptImages(name string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		rules := policyDoc(t, m, name, "policy")["rules"].([]any)
		return rules[len(rules)-1].(map[string]any)["selection"].(map[string]any)["countNumber"]
	}
}

// protectedTags lists the tag patterns a repository's lifecycle policy protects, one rule each.
func protectedTags(name string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		tags := []any{} // none protected is a value too: the default plan's
		for _, r := range policyDoc(t, m, name, "policy")["rules"].([]any) {
			sel := r.(map[string]any)["selection"].(map[string]any)
			tags = append(tags, asList(sel["tagPatternList"])...)
		}
		return tags
	}
}

// asList is v as a list, or nothing.
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// pulled lists the repositories a server role may pull from.
func pulled(name string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		doc := policyDoc(t, m, name, "policy")
		return doc["Statement"].([]any)[1].(map[string]any)["Resource"]
	}
}

// threshold is the threshold of the named alarm.
func threshold(name string) func(*testing.T, *mock.Mocks) any { return input(name, "threshold") }

// wafRule reads a path inside the named rule of the web ACL.
func wafRule(rule, path string) func(*testing.T, *mock.Mocks) any {
	return func(t *testing.T, m *mock.Mocks) any {
		acl := resourceNamed(t, m, "edge-waf")
		if acl == nil {
			return nil
		}
		rules, _ := acl.Input("rules")
		for _, r := range rules.ArrayValue() {
			if n, _ := mock.Lookup(r, "name"); n.StringValue() == rule {
				v, ok := mock.Lookup(r, path)
				if !ok {
					return nil
				}
				return plain(t, v.Mappable())
			}
		}
		return nil
	}
}

// wafRules lists the web ACL's rules by priority.
func wafRules(t *testing.T, m *mock.Mocks) any {
	acl := resourceNamed(t, m, "edge-waf")
	if acl == nil {
		return nil
	}
	rules, _ := acl.Input("rules")
	byPriority := map[float64]string{}
	for _, r := range rules.ArrayValue() {
		p, _ := mock.Lookup(r, "priority")
		n, _ := mock.Lookup(r, "name")
		byPriority[p.NumberValue()] = n.StringValue()
	}
	var out []any
	for _, p := range slices.Sorted(maps.Keys(byPriority)) {
		out = append(out, byPriority[p])
	}
	return out
}
