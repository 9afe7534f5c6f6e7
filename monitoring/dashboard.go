package monitoring

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

// accountOf is the account the stack deploys to.
func accountOf(ctx *pulumi.Context, m *Monitoring) pulumi.StringOutput {
	return aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Parent(m)).AccountId()
}

// widget is one graph of the dashboard: a title and its metrics, each
// [namespace, metric, dimension name, value, ...] with an optional trailing options object.
type widget struct {
	title   string
	stat    string
	metrics [][]any
}

// dashboard registers the stack's dashboard: requests, errors and latency at the load balancer; the API
// fleet's size and CPU; the chat server's CPU, status and disk; the database's and the cache's vitals; NAT.
// It returns the console URL.
func (m *Monitoring) dashboard(ctx *pulumi.Context, name string, a MonitoringArgs) (pulumi.StringOutput, error) {
	// The dimension values are outputs; the body is assembled once they are known.
	inputs := pulumi.Map{
		"lb": a.API.LoadBalancer, "tg": a.API.TargetGroup, "asg": a.API.AutoScalingGroup,
		"db": a.Database.Identifier, "members": a.Cache.Members,
	}
	if a.Chat != nil {
		inputs["chat"] = a.Chat.InstanceID
	}
	if f := a.ChatFleet; f != nil {
		inputs["chatTg"], inputs["chatAsg"] = f.TargetGroup, f.AutoScalingGroup
	}
	if a.NAT != nil {
		inputs["nat"] = a.NAT.InstanceID
	}
	gateways := pulumi.Array{}
	for _, g := range a.NATGateways {
		gateways = append(gateways, g.ID)
	}
	inputs["gateways"] = gateways
	body := inputs.ToMapOutput().ApplyT(func(v map[string]any) (string, error) {
		s := func(k string) string { str, _ := v[k].(string); return str }
		lb, tg, asg, chat, db := s("lb"), s("tg"), s("asg"), s("chat"), s("db")
		chatTg, chatAsg := s("chatTg"), s("chatAsg")
		widgets := []widget{
			{"API requests and errors (per minute)", "Sum", [][]any{
				{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb},
				{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg},
				{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb},
				{"AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", lb, "TargetGroup", tg},
			}},
			{"API latency (p50, p99; seconds)", "p99", [][]any{
				{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, map[string]any{"stat": "p50"}},
				{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, map[string]any{"stat": "p99"}},
			}},
			{"API fleet: desired, in service, healthy", "Average", [][]any{
				{"AWS/AutoScaling", "GroupDesiredCapacity", "AutoScalingGroupName", asg},
				{"AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", asg},
				{"AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg},
			}},
			{"API fleet CPU (%)", "Average", [][]any{{"AWS/EC2", "CPUUtilization", "AutoScalingGroupName", asg}}},
			{"Database: CPU (%), connections", "Average", [][]any{
				{"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db},
				{"AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db},
			}},
			{"Database: free storage and freeable memory (bytes)", "Minimum", [][]any{
				{"AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db},
				{"AWS/RDS", "FreeableMemory", "DBInstanceIdentifier", db},
			}},
		}
		if a.Chat != nil {
			widgets = append(widgets[:4], append(chatWidgets(chat, asg), widgets[4:]...)...)
		} else {
			widgets = append(widgets[:4], append(chatFleetWidgets(lb, chatTg, chatAsg, asg), widgets[4:]...)...)
		}
		cache := widget{title: "Cache: engine CPU and memory used (%)", stat: "Average"}
		members, _ := v["members"].([]string)
		for _, id := range members {
			cache.metrics = append(cache.metrics,
				[]any{"AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", id},
				[]any{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", id})
		}
		widgets = append(widgets, cache)
		nat := widget{title: "NAT", stat: "Sum"}
		if id := s("nat"); id != "" {
			nat.title, nat.stat = "NAT instance CPU (%) and network out (bytes)", "Average"
			nat.metrics = append(nat.metrics, []any{"AWS/EC2", "CPUUtilization", "InstanceId", id},
				[]any{"AWS/EC2", "NetworkOut", "InstanceId", id, map[string]any{"stat": "Sum", "yAxis": "right"}})
		}
		gws, _ := v["gateways"].([]any)
		for _, g := range gws {
			id, _ := g.(string)
			nat.title = "NAT gateways: bytes out, dropped packets, port allocation errors"
			nat.metrics = append(nat.metrics, []any{"AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", id},
				[]any{"AWS/NATGateway", "PacketsDropCount", "NatGatewayId", id},
				[]any{"AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId", id})
		}
		if len(nat.metrics) > 0 {
			widgets = append(widgets, nat)
		}
		var out []any
		for i, w := range widgets {
			out = append(out, map[string]any{
				"type": "metric", "width": 12, "height": 6, "x": (i % 2) * 12, "y": (i / 2) * 6,
				"properties": map[string]any{"title": w.title, "region": a.Region, "stat": w.stat, "period": 60,
					"view": "timeSeries", "metrics": w.metrics},
			})
		}
		b, err := json.Marshal(map[string]any{"widgets": out})
		return string(b), err
	}).(pulumi.StringOutput)
	dashName := a.Project + "-" + a.Stack
	if _, err := cloudwatch.NewDashboard(ctx, name+"-dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(dashName),
		DashboardBody: body,
	}, pulumi.Parent(m)); err != nil {
		return pulumi.StringOutput{}, err
	}
	return pulumi.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s", a.Region, a.Region, dashName), nil
}

// chatWidgets are the single chat server's graphs, and the servers' memory and disk beside the API's (asg).
func chatWidgets(chat, asg string) []widget {
	return []widget{
		{"Chat server CPU (%) and status checks", "Maximum", [][]any{
			{"AWS/EC2", "CPUUtilization", "InstanceId", chat, map[string]any{"stat": "Average"}},
			{"AWS/EC2", "StatusCheckFailed", "InstanceId", chat},
		}},
		{"Servers: memory and root disk used (%)", "Maximum", [][]any{
			{awsfacts.AgentNamespace, "mem_used_percent", "AutoScalingGroupName", asg},
			{awsfacts.AgentNamespace, "disk_used_percent", "AutoScalingGroupName", asg, "path", "/", "fstype", RootFSType},
			{awsfacts.AgentNamespace, "mem_used_percent", "InstanceId", chat},
			{awsfacts.AgentNamespace, "disk_used_percent", "InstanceId", chat, "path", "/", "fstype", RootFSType},
		}},
	}
}

// chatFleetWidgets are the chat fleet's graphs: connections per server (what it scales on), its size and
// health, its errors, and the servers' memory and disk beside the API's (asg).
func chatFleetWidgets(lb, tg, chatAsg, asg string) []widget {
	return []widget{
		{"Chat fleet: connections per server (average, busiest)", "Average", [][]any{
			{awsfacts.AgentNamespace, awsfacts.AgentConnectionMetric, "AutoScalingGroupName", chatAsg},
			{awsfacts.AgentNamespace, awsfacts.AgentConnectionMetric, "AutoScalingGroupName", chatAsg, map[string]any{"stat": "Maximum"}},
		}},
		{"Chat fleet: desired, in service, healthy", "Average", [][]any{
			{"AWS/AutoScaling", "GroupDesiredCapacity", "AutoScalingGroupName", chatAsg},
			{"AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", chatAsg},
			{"AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg},
		}},
		{"Chat: upgrades, 5XX and connection errors (per minute)", "Sum", [][]any{
			{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, "TargetGroup", tg},
			{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg},
			{"AWS/ApplicationELB", "TargetConnectionErrorCount", "LoadBalancer", lb, "TargetGroup", tg},
		}},
		{"Servers: memory and root disk used (%)", "Maximum", [][]any{
			{awsfacts.AgentNamespace, "mem_used_percent", "AutoScalingGroupName", asg},
			{awsfacts.AgentNamespace, "disk_used_percent", "AutoScalingGroupName", asg, "path", "/", "fstype", RootFSType},
			{awsfacts.AgentNamespace, "mem_used_percent", "AutoScalingGroupName", chatAsg},
			{awsfacts.AgentNamespace, "disk_used_percent", "AutoScalingGroupName", chatAsg, "path", "/", "fstype", RootFSType},
		}},
	}
}
