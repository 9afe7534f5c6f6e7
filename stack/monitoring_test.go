package stack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/monitoring"
)

const alarmType = "aws:cloudwatch/metricAlarm:MetricAlarm"

// output reads a resource's output as the mock engine resolved it.
func output(t *testing.T, r *mock.Resource, path string) string {
	t.Helper()
	v, ok := r.Output(path)
	require.True(t, ok, "%s has no output %s", r.Name, path)
	return v.StringValue()
}

// alarmDimensions lists an alarm's metrics as "namespace/metric" with their dimensions, for a plain
// alarm and for each metric of a metric-math alarm.
func alarmDimensions(t *testing.T, a *mock.Resource) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	dims := func(v resource.PropertyValue) map[string]string {
		m := map[string]string{}
		if v.IsObject() {
			for k, d := range v.ObjectValue() {
				m[string(k)] = d.StringValue()
			}
		}
		return m
	}
	if q, ok := a.Input("metricQueries"); ok {
		for _, e := range q.ArrayValue() {
			metric, isMetric := mock.Lookup(e, "metric")
			if !isMetric {
				continue
			}
			ns, _ := mock.Lookup(metric, "namespace")
			name, _ := mock.Lookup(metric, "metricName")
			d, _ := mock.Lookup(metric, "dimensions")
			out[ns.StringValue()+"/"+name.StringValue()] = dims(d)
		}
		return out
	}
	d, _ := a.Input("dimensions")
	out[a.Str("namespace")+"/"+a.Str("metricName")] = dims(d)
	return out
}

// TestAlarmsWatchTheStacksOwnResources plans prod as committed: every alarm's dimensions are outputs of
// the resource it watches (never strings that could drift from it), every alarm notifies the topic on
// ALARM and on OK, the single servers recover and reboot themselves, and the instance refresh watches
// the two rollback alarms, which exist.
func TestAlarmsWatchTheStacksOwnResources(t *testing.T) {
	t.Parallel()
	for mode, set := range map[string]map[string]string{"fleet (committed)": nil, "single": {"chat.mode": `"single"`}} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			alarmsWatchOwnResources(t, planEdited(t, "prod", set, mock.Options{}), set != nil)
		})
	}
}

func alarmsWatchOwnResources(t *testing.T, m *mock.Mocks, single bool) {
	alarms := m.ByType(alarmType)
	require.NotEmpty(t, alarms)

	alb := m.One(t, "aws:lb/loadBalancer:LoadBalancer")
	asg := named(t, m, "aws:autoscaling/group:Group", "api-asg")
	var tgs, asgs []string
	for _, tg := range m.ByType("aws:lb/targetGroup:TargetGroup") {
		tgs = append(tgs, output(t, tg, "arnSuffix"))
	}
	for _, g := range m.ByType("aws:autoscaling/group:Group") {
		asgs = append(asgs, g.ID)
	}
	db := m.One(t, "aws:rds/instance:Instance")
	rg := m.One(t, "aws:elasticache/replicationGroup:ReplicationGroup")
	topic := m.One(t, "aws:sns/topic:Topic")
	acl := m.One(t, "aws:wafv2/webAcl:WebAcl")
	var instances []string
	for _, i := range m.ByType("aws:ec2/instance:Instance") {
		if i.Name == "chat-server" {
			instances = append(instances, i.ID)
		}
	}
	require.Equal(t, single, len(instances) == 1, "a chat server in mode single only")
	members, ok := rg.Output("memberClusters")
	require.True(t, ok)
	var memberIDs []string
	for _, v := range members.ArrayValue() {
		memberIDs = append(memberIDs, v.StringValue())
	}
	require.Len(t, memberIDs, 2, "prod: a primary and a replica")

	// What each dimension must equal: the watched resource's own output.
	want := map[string][]string{
		"LoadBalancer":         {output(t, alb, "arnSuffix")},
		"TargetGroup":          tgs,
		"AutoScalingGroupName": asgs,
		"InstanceId":           instances,
		"DBInstanceIdentifier": {output(t, db, "identifier")},
		"CacheClusterId":       memberIDs,
		"path":                 {"/"},
		"fstype":               {monitoring.RootFSType},
		"WebACL":               {output(t, acl, "visibilityConfig.metricName")},
		"Rule":                 {"ALL"},
		"Region":               {"ap-northeast-2"},
	}
	seen := map[string]bool{}
	gateways := map[string]bool{}
	for _, a := range alarms {
		for metric, dims := range alarmDimensions(t, a) {
			require.NotEmpty(t, dims, "%s: %s has no dimensions", a.Name, metric)
			for k, v := range dims {
				seen[k] = true
				if k == "NatGatewayId" {
					assert.True(t, strings.HasPrefix(v, "nat-"), "%s: %s=%q", a.Name, k, v)
					gateways[v] = true
					continue
				}
				require.Contains(t, want, k, "%s: unexpected dimension %s", a.Name, k)
				assert.Contains(t, want[k], v, "%s: %s=%q is not the watched resource's", a.Name, k, v)
			}
		}
		assert.Equal(t, "football-prod-"+a.Name, a.Str("name"), "CloudWatch names are <project>-<stack>-<role>")
		topicARN := output(t, topic, "arn")
		assert.Contains(t, a.Strs("alarmActions"), topicARN, "%s pages", a.Name)
		assert.Equal(t, []string{topicARN}, a.Strs("okActions"), "%s says when it is over", a.Name)
		assert.NotEmpty(t, a.Str("treatMissingData"), a.Name)
	}
	for _, k := range []string{"LoadBalancer", "TargetGroup", "AutoScalingGroupName", "DBInstanceIdentifier", "CacheClusterId", "NatGatewayId", "WebACL"} {
		assert.True(t, seen[k], "no alarm watches %s", k)
	}
	assert.Equal(t, single, seen["InstanceId"], "only the single chat server is watched by instance")
	assert.Len(t, gateways, 2, "one set of alarms per NAT gateway (perAz, 2 AZs)")

	byName := map[string]*mock.Resource{}
	for _, a := range alarms {
		byName[a.Name] = a
	}
	if single {
		recover := byName["chat-system-check"]
		require.NotNil(t, recover)
		assert.Equal(t, "StatusCheckFailed_System", recover.Str("metricName"))
		assert.Contains(t, recover.Strs("alarmActions"), "arn:aws:automate:ap-northeast-2:ec2:recover")
		assert.Equal(t, "breaching", recover.Str("treatMissingData"), "a chat server that stops reporting must page")
		assert.Contains(t, byName["chat-instance-check"].Strs("alarmActions"), "arn:aws:automate:ap-northeast-2:ec2:reboot")
	} else {
		atMax := byName["chat-fleet-at-max"]
		require.NotNil(t, atMax, "the fleet pages when it cannot grow")
		limit, _ := atMax.Num("threshold")
		maxSize, _ := named(t, m, "aws:autoscaling/group:Group", "chat-asg").Num("maxSize")
		assert.Equal(t, maxSize, limit, "at its maximum size")
		chatRollback := named(t, m, "aws:autoscaling/group:Group", "chat-asg").Strs("instanceRefresh.preferences.alarmSpecification.alarms")
		assert.Equal(t, []string{"football-prod-chat-target-errors", "football-prod-chat-unhealthy-hosts"}, chatRollback)
	}
	assert.Equal(t, "notBreaching", byName["data-db-cpu"].Str("treatMissingData"), "a stopped database does not page")

	rollback := asg.Strs("instanceRefresh.preferences.alarmSpecification.alarms")
	require.Len(t, rollback, 2)
	for _, name := range rollback {
		found := slices.ContainsFunc(alarms, func(a *mock.Resource) bool { return a.Str("name") == name })
		assert.True(t, found, "the refresh watches %s, which the stack creates", name)
	}
	assert.Subset(t, asg.Strs("enabledMetrics"), []string{"GroupDesiredCapacity", "GroupInServiceInstances"},
		"the in-service alarm needs the group's metrics")

	// Alarms are grouped under the component they watch.
	for _, a := range alarms {
		parent := m.ByURN(a.Parent)
		require.NotNil(t, parent, a.Name)
		switch {
		case strings.HasPrefix(a.Name, "api-"):
			assert.Equal(t, "football:compute:ApiTier", parent.Type, a.Name)
		case strings.HasPrefix(a.Name, "chat-"):
			assert.Equal(t, map[bool]string{true: "football:compute:ChatBastion", false: "football:compute:ChatFleet"}[single], parent.Type, a.Name)
		case strings.HasPrefix(a.Name, "data-"):
			assert.Equal(t, "football:data:DataTier", parent.Type, a.Name)
		case strings.HasPrefix(a.Name, "net-"):
			assert.Equal(t, "football:network:Network", parent.Type, a.Name)
		case strings.HasPrefix(a.Name, "edge-"):
			assert.Equal(t, "football:edge:Edge", parent.Type, a.Name)
		default:
			t.Errorf("%s: no component", a.Name)
		}
	}
	assert.Len(t, m.ByType("aws:cloudwatch/dashboard:Dashboard"), 1, "prod has its dashboard")
	// The disk alarms read the namespace the servers' agents may publish in.
	for _, role := range []string{"api", "chat"} {
		var agent struct{ Statement []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(named(t, m, "aws:iam/rolePolicy:RolePolicy", role+"-cloudwatch-agent").Str("policy")), &agent))
		allowed := agent.Statement[1]["Condition"].(map[string]any)["StringEquals"].(map[string]any)["cloudwatch:namespace"]
		alarm := role + "-disk-used"
		if role == "chat" && !single {
			alarm = "chat-fleet-disk-used"
		}
		assert.Equal(t, allowed, named(t, m, alarmType, alarm).Str("namespace"), role)
	}
}

// TestDevHasTheEssentialAlarms: dev watches outages and heals its single servers (NAT instance included),
// with no dashboard; alarms none removes the topic, its key and every alarm, and the refresh then
// watches nothing.
func TestDevHasTheEssentialAlarms(t *testing.T) {
	t.Parallel()
	dev := planWith(t, "dev", "", "")
	var names []string
	for _, a := range dev.ByType(alarmType) {
		names = append(names, a.Name)
	}
	assert.ElementsMatch(t, []string{
		"api-target-5xx", "api-unhealthy-hosts", "api-healthy-below-min", "api-disk-used",
		"chat-system-check", "chat-instance-check", "chat-disk-used",
		"net-nat-system-check", "net-nat-instance-check",
		"data-db-free-storage", "data-cache-1-memory",
	}, names)
	for _, a := range dev.ByType(alarmType) {
		if a.Name == "net-nat-system-check" {
			var natID string
			for _, i := range dev.ByType("aws:ec2/instance:Instance") {
				if i.Name == "net-nat" {
					natID = i.ID
				}
			}
			assert.Equal(t, natID, a.Str("dimensions.InstanceId"))
			assert.Contains(t, a.Strs("alarmActions"), "arn:aws:automate:ap-northeast-2:ec2:recover")
		}
	}
	assert.Empty(t, dev.ByType("aws:cloudwatch/dashboard:Dashboard"), "no dashboard in dev by default")

	off := planWith(t, "dev", "football:monitoring", `{"alarms":"none"}`)
	for _, typ := range []string{alarmType, "aws:sns/topic:Topic", "aws:kms/key:Key"} {
		assert.Empty(t, off.ByType(typ), typ)
	}
	_, ok := off.One(t, "aws:autoscaling/group:Group").Input("instanceRefresh.preferences.alarmSpecification")
	assert.False(t, ok, "no alarm to roll back on")
	assert.Len(t, off.ByType("aws:cloudwatch/logGroup:LogGroup"), 2, "the servers' logs are shipped anyway")
}

// TestNotificationsFromConfig: e-mail addresses and a webhook become subscriptions of the topic.
func TestNotificationsFromConfig(t *testing.T) {
	t.Parallel()
	m := planWith(t, "prod", "football:monitoring", `{"email":["oncall@example.com","lead@example.com"],"webhook":"https://hooks.example.com/T0/B0"}`)
	topicARN := output(t, m.One(t, "aws:sns/topic:Topic"), "arn")
	var got []string
	for _, s := range m.ByType("aws:sns/topicSubscription:TopicSubscription") {
		assert.Equal(t, topicARN, s.Str("topic"))
		got = append(got, s.Str("protocol")+":"+s.Str("endpoint"))
	}
	assert.ElementsMatch(t, []string{"email:oncall@example.com", "email:lead@example.com", "https:https://hooks.example.com/T0/B0"}, got)
	key := m.One(t, "aws:kms/key:Key")
	assert.Equal(t, output(t, key, "arn"), m.One(t, "aws:sns/topic:Topic").Str("kmsMasterKeyId"), "the topic is encrypted with the stack's key")
	rotation, _ := key.Bool("enableKeyRotation")
	assert.True(t, rotation)
}

// TestBadMonitoringConfigNamesTheKey: every problem of the section at once, each naming its path.
func TestBadMonitoringConfigNamesTheKey(t *testing.T) {
	t.Parallel()
	cfg := baseConfig("prod")
	cfg["football:monitoring"] = `{"alarms":"most","email":["not-an-address","a@example.com","A@example.com"],` +
		`"webhook":"http://hooks.example.com/x","logRetentionDays":10,"thresholds":{"diskUsedPercent":100,"latencyP99Seconds":0.001,"wafBlockedPerMinute":-5}}`
	m, err := deploy(t, "prod", cfg)
	require.Error(t, err)
	var cfgErr *ConfigError
	require.ErrorAs(t, err, &cfgErr)
	for _, want := range []string{
		`football:monitoring.alarms: "most" is not allowed; allowed full, essential, none`,
		`football:monitoring.email[0]: "not-an-address" is not allowed`,
		`football:monitoring.email[2]: "A@example.com" is not allowed; is listed twice`,
		`football:monitoring.webhook: "http://hooks.example.com/x" is not allowed; must be an https:// URL`,
		`football:monitoring.logRetentionDays: 10 is not allowed`,
		`football:monitoring.thresholds.diskUsedPercent: 100 is not allowed; allowed 50..99`,
		`football:monitoring.thresholds.latencyP99Seconds: 0.001 is not allowed; allowed 0.01..60`,
		`football:monitoring.thresholds.wafBlockedPerMinute: -5 is not allowed; allowed 1..1000000`,
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.Empty(t, m.All(), "nothing registered")
}
