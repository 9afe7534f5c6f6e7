package monitoring

import (
	"fmt"
	"math"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

// The alarm catalogue. Metrics, statistics and periods follow AWS's "Recommended alarms" page for each
// service (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best_Practice_Recommended_Alarms_AWS_Services.html);
// where that page says the threshold "depends on your situation", the default here is ours and the
// alarm's description says why. The EC2 recover and reboot alarms follow the EC2 user guide ("Add stop,
// terminate, reboot, or recover actions to a CloudWatch alarm"): recover on StatusCheckFailed_System over
// 2 one-minute periods, reboot on StatusCheckFailed_Instance over 3, never the same count for both.
//
// Missing data is chosen per alarm: count metrics that exist only while traffic flows treat silence as
// fine (notBreaching); so do the database's, so that a stopped dev database does not page; the status
// checks of the single servers treat silence as failure (breaching), so that a dead chat server pages.

// alarm is one CloudWatch alarm of the catalogue.
type alarm struct {
	// role names it: <project>-<stack>-<role> in CloudWatch, <role> under its component.
	role string
	// parent is the component whose resource the alarm watches; the alarm is grouped under it.
	parent pulumi.Resource
	// essential alarms exist in the essential set too; the others only in the full set.
	essential   bool
	description string
	namespace   string
	metric      string
	// stat is a statistic (Sum, Average, Minimum, Maximum) or a percentile (p99).
	stat       string
	dimensions pulumi.StringMap
	// queries replace namespace/metric/stat for metric math; the expression's id is "e".
	queries    cloudwatch.MetricAlarmMetricQueryArray
	period     int // seconds
	evaluate   int // evaluation periods
	datapoints int // datapoints to alarm
	comparison string
	threshold  float64
	missing    string
	// actions are EC2 actions (recover, reboot) taken besides notifying.
	actions []string
}

// Comparison operators and missing-data treatments.
const (
	above   = "GreaterThanThreshold"
	atLeast = "GreaterThanOrEqualToThreshold"
	below   = "LessThanThreshold"

	notBreaching = "notBreaching"
	breaching    = "breaching"
	missing      = "missing"
)

// metricQuery is one metric of a metric-math alarm.
func metricQuery(id, namespace, metric, stat string, dims pulumi.StringMap) *cloudwatch.MetricAlarmMetricQueryArgs {
	return &cloudwatch.MetricAlarmMetricQueryArgs{
		Id: pulumi.String(id),
		Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
			Namespace: pulumi.String(namespace), MetricName: pulumi.String(metric), Stat: pulumi.String(stat),
			Period: pulumi.Int(60), Dimensions: dims,
		},
	}
}

// expression is the metric-math result an alarm evaluates.
func expression(expr, label string) *cloudwatch.MetricAlarmMetricQueryArgs {
	return &cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("e"), Expression: pulumi.String(expr),
		Label: pulumi.String(label), ReturnData: pulumi.Bool(true)}
}

// apiAlarms watch the load balancer, the API servers' target group and their Auto Scaling group.
func apiAlarms(w APIWatch, t Thresholds) []alarm {
	lb := pulumi.StringMap{"LoadBalancer": w.LoadBalancer}
	tg := pulumi.StringMap{"LoadBalancer": w.LoadBalancer, "TargetGroup": w.TargetGroup}
	asg := pulumi.StringMap{"AutoScalingGroupName": w.AutoScalingGroup}
	return []alarm{
		{role: "api-elb-5xx", parent: w.Component, namespace: "AWS/ApplicationELB", metric: "HTTPCode_ELB_5XX_Count",
			stat: "Sum", dimensions: lb, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.ELB5xxPerMinute,
			missing: notBreaching, description: "The load balancer itself answers 5XX (no healthy target, a target that " +
				"closed the connection or timed out). Threshold: our default, tunable (thresholds.elb5xxPerMinute)."},
		{role: RollbackTarget5xx, parent: w.Component, essential: true,
			queries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("errors", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", tg),
				metricQuery("requests", "AWS/ApplicationELB", "RequestCount", "Sum", tg),
				expression("IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)", "5XX share of requests (%)"),
			},
			period: 60, evaluate: 3, datapoints: 3, comparison: above, threshold: t.Target5xxPercent, missing: notBreaching,
			description: "The API servers answer more than the threshold share of requests with 5XX for 3 minutes. " +
				"An instance refresh watches this alarm and rolls a release back when it fires. Threshold: our default (thresholds.target5xxPercent)."},
		{role: "api-latency-p99", parent: w.Component, namespace: "AWS/ApplicationELB", metric: "TargetResponseTime",
			stat: "p99", dimensions: tg, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.LatencyP99Seconds,
			missing: notBreaching, description: "The slowest 1% of API responses take longer than the threshold (seconds) " +
				"for 5 minutes. AWS recommends a percentile of TargetResponseTime; threshold: our default (thresholds.latencyP99Seconds)."},
		{role: RollbackUnhealthy, parent: w.Component, essential: true, namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount",
			stat: "Maximum", dimensions: tg, period: 60, evaluate: 3, datapoints: 3, comparison: atLeast, threshold: 1,
			missing: notBreaching, description: "An API server fails the load balancer's health check for 3 minutes. " +
				"An instance refresh watches this alarm and rolls a release back when it fires."},
		{role: "api-healthy-below-min", parent: w.Component, essential: true, namespace: "AWS/ApplicationELB", metric: "HealthyHostCount",
			stat: "Minimum", dimensions: tg, period: 60, evaluate: 3, datapoints: 3, comparison: below, threshold: float64(w.MinSize),
			missing: breaching, description: fmt.Sprintf("Fewer healthy API servers than the group's minimum (%d) for 3 minutes. "+
				"Missing data counts as failing: no data means nothing healthy.", w.MinSize)},
		{role: "api-rejected-connections", parent: w.Component, namespace: "AWS/ApplicationELB", metric: "RejectedConnectionCount",
			stat: "Sum", dimensions: lb, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: 0,
			missing: notBreaching, description: "The load balancer rejects connections because it reached its connection maximum."},
		{role: "api-in-service-below-desired", parent: w.Component,
			queries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("desired", "AWS/AutoScaling", "GroupDesiredCapacity", "Average", asg),
				metricQuery("inservice", "AWS/AutoScaling", "GroupInServiceInstances", "Average", asg),
				expression("desired - inservice", "servers missing from the desired size"),
			},
			period: 60, evaluate: 10, datapoints: 10, comparison: above, threshold: 0, missing: missing,
			description: "The API group has fewer servers in service than it wants for 10 minutes: launches fail " +
				"(capacity, image, quota) or servers die as fast as they start. Needs the group's metrics collection (on)."},
		{role: "api-disk-used", parent: w.Component, essential: true, namespace: awsfacts.AgentNamespace, metric: "disk_used_percent",
			stat: "Maximum", dimensions: pulumi.StringMap{"AutoScalingGroupName": w.AutoScalingGroup, "path": pulumi.String("/"), "fstype": pulumi.String(RootFSType)},
			period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.DiskUsedPercent, missing: notBreaching,
			description: "An API server's root file system is fuller than the threshold (the CloudWatch agent's disk metric, the most " +
				"used server of the group). Threshold: our default (thresholds.diskUsedPercent)."},
	}
}

// chatFleetAlarms watch the chat fleet: its target group (errors, health) and its Auto Scaling group (size,
// disk). A WebSocket is one request, its upgrade: a server that refuses upgrades answers 5XX, one that is
// gone or overloaded shows as connection errors, so both count.
func chatFleetAlarms(w FleetWatch, t Thresholds) []alarm {
	tg := pulumi.StringMap{"LoadBalancer": w.LoadBalancer, "TargetGroup": w.TargetGroup}
	asg := pulumi.StringMap{"AutoScalingGroupName": w.AutoScalingGroup}
	return []alarm{
		{role: RollbackChatErrors, parent: w.Component, essential: true,
			queries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("errors", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", tg),
				metricQuery("connerrors", "AWS/ApplicationELB", "TargetConnectionErrorCount", "Sum", tg),
				expression("FILL(errors, 0) + FILL(connerrors, 0)", "chat 5XX and connection errors (per minute)"),
			},
			period: 60, evaluate: 3, datapoints: 3, comparison: above, threshold: t.ChatErrorsPerMinute, missing: notBreaching,
			description: "The chat servers answer WebSocket upgrades with 5XX, or the load balancer cannot connect to them, more than " +
				"the threshold a minute for 3 minutes. The chat fleet's instance refresh watches this alarm and rolls a release back " +
				"when it fires. Threshold: our default (thresholds.chatErrorsPerMinute)."},
		{role: RollbackChatUnhealthy, parent: w.Component, essential: true, namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount",
			stat: "Maximum", dimensions: tg, period: 60, evaluate: 3, datapoints: 3, comparison: atLeast, threshold: 1,
			missing: notBreaching, description: "A chat server fails the load balancer's health check for 3 minutes. " +
				"The chat fleet's instance refresh watches this alarm and rolls a release back when it fires."},
		{role: "chat-healthy-below-min", parent: w.Component, essential: true, namespace: "AWS/ApplicationELB", metric: "HealthyHostCount",
			stat: "Minimum", dimensions: tg, period: 60, evaluate: 3, datapoints: 3, comparison: below, threshold: float64(w.MinSize),
			missing: breaching, description: fmt.Sprintf("Fewer healthy chat servers than the fleet's minimum (%d) for 3 minutes. "+
				"Missing data counts as failing: no data means nothing healthy.", w.MinSize)},
		{role: "chat-fleet-at-max", parent: w.Component, namespace: "AWS/AutoScaling", metric: "GroupDesiredCapacity",
			stat: "Minimum", dimensions: asg, period: 60, evaluate: 15, datapoints: 15, comparison: atLeast, threshold: float64(w.MaxSize),
			missing: notBreaching, description: fmt.Sprintf("The chat fleet has wanted its maximum size (%d servers) for 15 minutes: "+
				"it cannot grow any further, and connections per server climb past the scaling target. Raise "+
				"football:chat.fleet.max (or the instance type).", w.MaxSize)},
		{role: "chat-in-service-below-desired", parent: w.Component,
			queries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("desired", "AWS/AutoScaling", "GroupDesiredCapacity", "Average", asg),
				metricQuery("inservice", "AWS/AutoScaling", "GroupInServiceInstances", "Average", asg),
				expression("desired - inservice", "servers missing from the desired size"),
			},
			period: 60, evaluate: 10, datapoints: 10, comparison: above, threshold: 0, missing: missing,
			description: "The chat fleet has fewer servers in service than it wants for 10 minutes: launches fail " +
				"(capacity, image, quota) or servers die as fast as they start."},
		// Not chat-disk-used: that is the single server's alarm, and a move between the modes creates this one
		// before it deletes that one. Alarm names are CloudWatch's keys (creating one overwrites an alarm of
		// the same name), so the delete would take the new alarm with it.
		{role: "chat-fleet-disk-used", parent: w.Component, essential: true, namespace: awsfacts.AgentNamespace, metric: "disk_used_percent",
			stat: "Maximum", dimensions: pulumi.StringMap{"AutoScalingGroupName": w.AutoScalingGroup, "path": pulumi.String("/"), "fstype": pulumi.String(RootFSType)},
			period: 300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.DiskUsedPercent, missing: notBreaching,
			description: "A chat server's root file system is fuller than the threshold (the CloudWatch agent's disk metric, the most " +
				"used server of the fleet). Threshold: our default (thresholds.diskUsedPercent)."},
	}
}

// instanceAlarms watch a single server: recover on a host failure, reboot on an instance failure, and
// (with the agent) its disk.
func instanceAlarms(w InstanceWatch, region string, t Thresholds) []alarm {
	id := pulumi.StringMap{"InstanceId": w.InstanceID}
	out := []alarm{
		{role: w.Role + "-system-check", parent: w.Component, essential: true, namespace: "AWS/EC2", metric: "StatusCheckFailed_System",
			stat: "Maximum", dimensions: id, period: 60, evaluate: 2, datapoints: 2, comparison: atLeast, threshold: 1, missing: breaching,
			actions: []string{awsfacts.EC2AlarmAction(region, "recover")},
			description: "The host under the server failed (AWS's system status check) for 2 minutes: EC2 recovers the " +
				"instance onto new hardware, keeping its ID, private and Elastic IP addresses and EBS volumes; memory and open " +
				"connections are lost (a reboot). Missing data counts as failing: a server that stops reporting must page."},
		{role: w.Role + "-instance-check", parent: w.Component, essential: true, namespace: "AWS/EC2", metric: "StatusCheckFailed_Instance",
			stat: "Maximum", dimensions: id, period: 60, evaluate: 3, datapoints: 3, comparison: atLeast, threshold: 1, missing: breaching,
			actions:     []string{awsfacts.EC2AlarmAction(region, "reboot")},
			description: "The server's own status check failed for 3 minutes (kernel, network configuration, exhausted memory): EC2 reboots it."},
	}
	if w.Agent {
		out = append(out, alarm{role: w.Role + "-disk-used", parent: w.Component, essential: true, namespace: awsfacts.AgentNamespace,
			metric: "disk_used_percent", stat: "Maximum",
			dimensions: pulumi.StringMap{"InstanceId": w.InstanceID, "path": pulumi.String("/"), "fstype": pulumi.String(RootFSType)},
			period:     300, evaluate: 1, datapoints: 1, comparison: above, threshold: t.DiskUsedPercent, missing: notBreaching,
			description: "The server's root file system is fuller than the threshold (the CloudWatch agent's disk metric)."})
	}
	return out
}

// natGatewayAlarms watch one NAT gateway.
func natGatewayAlarms(w NATGatewayWatch) []alarm {
	id := pulumi.StringMap{"NatGatewayId": w.ID}
	suffix := "net-nat-" + w.AZ[len(w.AZ)-1:]
	return []alarm{
		{role: suffix + "-port-allocation", parent: w.Component, namespace: "AWS/NATGateway", metric: "ErrorPortAllocation",
			stat: "Sum", dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: 0, missing: notBreaching,
			description: "The NAT gateway in " + w.AZ + " cannot allocate source ports: too many simultaneous connections to one destination."},
		{role: suffix + "-packets-dropped", parent: w.Component,
			queries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("dropped", "AWS/NATGateway", "PacketsDropCount", "Sum", id),
				metricQuery("fromsrc", "AWS/NATGateway", "PacketsInFromSource", "Sum", id),
				metricQuery("fromdst", "AWS/NATGateway", "PacketsInFromDestination", "Sum", id),
				expression("IF(fromsrc + fromdst > 0, 100 * FILL(dropped, 0) / (fromsrc + fromdst), 0)", "dropped share of packets (%)"),
			},
			period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: 0.01, missing: notBreaching,
			description: "The NAT gateway in " + w.AZ + " drops more than 0.01% of packets (AWS's recommended threshold) for 5 minutes."},
	}
}

// wafAlarm watches the requests the web ACL blocks, all rules together (Rule "ALL"). AWS publishes no
// recommended threshold for WAF; the default is ours (see Thresholds.WAFBlockedPerMinute).
func wafAlarm(w WAFWatch, region string, t Thresholds) alarm {
	all := pulumi.StringMap{"WebACL": w.WebACL, "Rule": pulumi.String("ALL"), "Region": pulumi.String(region)}
	return alarm{role: "edge-waf-blocked", parent: w.Component, namespace: "AWS/WAFV2", metric: "BlockedRequests", stat: "Sum",
		dimensions: all, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.WAFBlockedPerMinute, missing: notBreaching,
		description: fmt.Sprintf("The web ACL blocks more than %g requests a minute for 5 minutes: an attack, or a rule stopping "+
			"real users (read the WAF log group; football:monitoring.thresholds.wafBlockedPerMinute tunes it, our default).", t.WAFBlockedPerMinute)}
}

// databaseAlarms watch the RDS instance. A Multi-AZ standby publishes no metric of its own (ReplicaLag
// belongs to read replicas, which this stack has none of); its failovers come as RDS events.
func databaseAlarms(w DatabaseWatch, t Thresholds) []alarm {
	id := pulumi.StringMap{"DBInstanceIdentifier": w.Identifier}
	gib := classMemoryGiB(w.InstanceClass)
	out := []alarm{
		{role: "data-db-cpu", parent: w.Component, namespace: "AWS/RDS", metric: "CPUUtilization", stat: "Average",
			dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.DBCPUPercent, missing: notBreaching,
			description: "The database's CPU stays above the threshold for 5 minutes (AWS recommends 90%; thresholds.dbCpuPercent)."},
		{role: "data-db-free-storage", parent: w.Component, essential: true, namespace: "AWS/RDS", metric: "FreeStorageSpace",
			stat: "Minimum", dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: below,
			threshold: math.Round(float64(w.AllocatedGiB) * (1 << 30) * t.DBFreeStoragePercent / 100), missing: notBreaching,
			description: fmt.Sprintf("Free storage below %g%% of the %d GiB allocation (in bytes; storage autoscaling, when on, "+
				"grows the volume near 10%% free, so this fires when it cannot keep up or has reached its ceiling).", t.DBFreeStoragePercent, w.AllocatedGiB)},
	}
	if gib > 0 {
		out = append(out,
			alarm{role: "data-db-freeable-memory", parent: w.Component, namespace: "AWS/RDS", metric: "FreeableMemory", stat: "Average",
				dimensions: id, period: 60, evaluate: 15, datapoints: 15, comparison: below,
				threshold: math.Round(gib * (1 << 30) * t.DBFreeMemoryPercent / 100), missing: notBreaching,
				description: fmt.Sprintf("Freeable memory below %g%% of %s's %g GiB for 15 minutes (in bytes).", t.DBFreeMemoryPercent, w.InstanceClass, gib)},
			alarm{role: "data-db-connections", parent: w.Component, namespace: "AWS/RDS", metric: "DatabaseConnections", stat: "Average",
				dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above,
				threshold: float64(int(maxConnections(w.Engine, gib) * t.DBConnectionsPercent / 100)), missing: notBreaching,
				description: fmt.Sprintf("Connections above %g%% of the engine's default max_connections for %s (about %d, from "+
					"RDS's formula over the class memory) for 5 minutes.", t.DBConnectionsPercent, w.InstanceClass, int(maxConnections(w.Engine, gib)))})
	}
	return out
}

// cacheAlarms watch every node of the replication group. ElastiCache publishes these metrics per member
// cluster (CacheClusterId), not per replication group.
func cacheAlarms(w CacheWatch, t Thresholds) []alarm {
	var out []alarm
	for i := 0; i < w.Count; i++ {
		member := w.Members.ToStringArrayOutput().Index(pulumi.Int(i))
		id := pulumi.StringMap{"CacheClusterId": member}
		n := fmt.Sprintf("data-cache-%d", i+1)
		out = append(out,
			alarm{role: n + "-cpu", parent: w.Component, namespace: "AWS/ElastiCache", metric: "EngineCPUUtilization", stat: "Average",
				dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.CacheCPUPercent, missing: missing,
				description: "The cache engine's thread is busier than the threshold for 5 minutes (AWS recommends 90%)."},
			alarm{role: n + "-memory", parent: w.Component, essential: true, namespace: "AWS/ElastiCache", metric: "DatabaseMemoryUsagePercentage",
				stat: "Average", dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.CacheMemoryPercent,
				missing: missing, description: "The cache uses more than the threshold of its memory for 5 minutes (AWS recommends 90%): evictions follow."},
			alarm{role: n + "-evictions", parent: w.Component, namespace: "AWS/ElastiCache", metric: "Evictions", stat: "Sum",
				dimensions: id, period: 60, evaluate: 5, datapoints: 5, comparison: above, threshold: t.CacheEvictionsPerMinute,
				missing: notBreaching, description: "The cache evicts keys for lack of memory; threshold: our default (thresholds.cacheEvictionsPerMinute)."},
			alarm{role: n + "-connections", parent: w.Component, namespace: "AWS/ElastiCache", metric: "CurrConnections", stat: "Average",
				dimensions: id, period: 60, evaluate: 10, datapoints: 10, comparison: above, threshold: t.CacheConnections,
				missing: missing, description: "More client connections than the threshold for 10 minutes: a connection leak; threshold: our default (thresholds.cacheConnections)."},
		)
		if w.Replicas {
			out = append(out, alarm{role: n + "-replication-lag", parent: w.Component, namespace: "AWS/ElastiCache", metric: "ReplicationLag",
				stat: "Average", dimensions: id, period: 60, evaluate: 15, datapoints: 15, comparison: above,
				threshold: t.CacheReplicationLagSeconds, missing: notBreaching,
				description: "A replica lags the primary by more than the threshold (seconds) for 15 minutes; the primary reports no lag."})
		}
	}
	return out
}

// classMemoryGiB is the memory of an RDS instance class (db.<family>.<size>), or 0 when the family is not
// one of the Graviton and Intel general-purpose, burstable or memory-optimised families listed.
func classMemoryGiB(class string) float64 {
	parts := strings.Split(class, ".")
	if len(parts) != 3 {
		return 0
	}
	sizes := map[string]float64{"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128}
	gib, ok := sizes[parts[2]]
	if !ok {
		return 0
	}
	switch family := parts[1]; {
	case family == "t3" || family == "t4g" || strings.HasPrefix(family, "m5") || strings.HasPrefix(family, "m6") || strings.HasPrefix(family, "m7"):
		return gib
	case strings.HasPrefix(family, "r5") || strings.HasPrefix(family, "r6") || strings.HasPrefix(family, "r7"):
		if parts[2] == "micro" || parts[2] == "small" || parts[2] == "medium" {
			return 0
		}
		return gib * 2
	}
	return 0
}

// maxConnections is the engine's default max_connections for a class memory, from RDS's parameter
// formulas: MySQL {DBInstanceClassMemory/12582880}, PostgreSQL LEAST({DBInstanceClassMemory/9531392}, 5000).
// DBInstanceClassMemory is a little below the class memory, so this slightly overestimates.
func maxConnections(engine string, gib float64) float64 {
	bytes := gib * (1 << 30)
	if engine == "postgres" {
		return min(bytes/9531392, 5000)
	}
	return bytes / 12582880
}
