package compute

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// A fleet is the building block every load-balanced service of this package runs on: a target group, a
// launch template, an Auto Scaling group behind the target group that rolls a new template version out by
// instance refresh (launching before it terminates, rolling back by itself on failure or on an alarm), a
// target-tracking scaling policy, and the tags the provider's default tags never reach. The API and the
// chat fleet differ only in the values of fleetSpec and targetGroupSpec.
//
// It is a pair of functions, not a component: the resources it registers are children of the caller's
// component under the caller's names (<name>-tg, <name>-lt, <name>-asg, <name>-scaling), so the API's
// resources kept the URNs they had before the block was extracted from it.

// targetGroupSpec is what differs between the fleets' target groups.
type targetGroupSpec struct {
	vpcID pulumi.StringInput
	// port is the servers' port (traffic and health checks); healthCheckPath answers 200 while a server serves.
	port            int
	healthCheckPath string
	// deregistrationDelay (seconds) is how long the load balancer lets a leaving server's requests and
	// connections finish before it closes them.
	deregistrationDelay int
	// stickiness (seconds) pins a client to one server with the load balancer's cookie (lb_cookie); 0 is off.
	stickiness int
}

// newFleetTargetGroup registers a fleet's target group, <name>-tg: HTTP to the instances' port, health
// checked on the path every 15 s (2 passes to join, 3 failures to leave).
func newFleetTargetGroup(ctx *pulumi.Context, name string, s targetGroupSpec, opts ...pulumi.ResourceOption) (*lb.TargetGroup, error) {
	args := &lb.TargetGroupArgs{
		VpcId:               s.vpcID,
		TargetType:          pulumi.String("instance"),
		Protocol:            pulumi.String("HTTP"),
		Port:                pulumi.Int(s.port),
		DeregistrationDelay: pulumi.Int(s.deregistrationDelay),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTP"),
			Port:               pulumi.String("traffic-port"),
			Path:               pulumi.String(s.healthCheckPath),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(15),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(3),
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(name + "-tg")},
	}
	if s.stickiness > 0 {
		args.Stickiness = &lb.TargetGroupStickinessArgs{
			Enabled:        pulumi.Bool(true),
			Type:           pulumi.String("lb_cookie"),
			CookieDuration: pulumi.Int(s.stickiness),
		}
	}
	return lb.NewTargetGroup(ctx, name+"-tg", args, opts...)
}

// fleetSpec is what differs between the fleets' groups.
type fleetSpec struct {
	// server is the launch template's content.
	server serverSpec
	// subnetIDs are the private subnets the group spans (one per AZ).
	subnetIDs pulumi.StringArrayInput
	// targetGroup receives every server the group launches; its health check is the group's.
	targetGroup *lb.TargetGroup
	// min, max and desired size the group; desired only at creation (the scaling policy owns it after).
	min, max, desired int
	// maxHealthyPercent bounds an instance refresh: 200 replaces every server in one step (all new ones
	// first), lower values replace them in batches.
	maxHealthyPercent int
	// gracePeriod (seconds) is how long the group ignores a new server's failing health checks: the slow
	// boot of the setup script (bootbudget.go). warmup (seconds) keeps a new server's metrics out of the
	// scaling policy and makes a refresh wait: the typical boot.
	gracePeriod, warmup int
	// rollbackAlarms fail an instance refresh, which then rolls back, when one of them fires.
	rollbackAlarms []string
	// tags go on the group itself (not propagated: the template tags what it launches).
	tags map[string]string
	// scaling is the target-tracking policy's configuration for the group.
	scaling func(*autoscaling.Group) *autoscaling.PolicyTargetTrackingConfigurationArgs
}

// newFleet registers a fleet's launch template (<name>-lt), its Auto Scaling group (<name>-asg) and the
// group's target-tracking policy (<name>-scaling).
func newFleet(ctx *pulumi.Context, name string, s fleetSpec, opts ...pulumi.ResourceOption) (*autoscaling.Group, error) {
	lt, err := newServerTemplate(ctx, name+"-lt", s.server, opts...)
	if err != nil {
		return nil, err
	}
	group, err := autoscaling.NewGroup(ctx, name+"-asg", &autoscaling.GroupArgs{
		VpcZoneIdentifiers: s.subnetIDs,
		MinSize:            pulumi.Int(s.min),
		MaxSize:            pulumi.Int(s.max),
		DesiredCapacity:    pulumi.Int(s.desired),
		// The template's version number, not "$Latest": a new version is then a change to the group,
		// which starts the instance refresh below and rolls every server onto it.
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
		TargetGroupArns:        pulumi.StringArray{s.targetGroup.Arn},
		HealthCheckType:        pulumi.String("ELB"), // FSBP AutoScaling.1
		HealthCheckGracePeriod: pulumi.Int(s.gracePeriod),
		DefaultInstanceWarmup:  pulumi.Int(s.warmup),
		// A new template version (a release, a new image, new settings) rolls every server: new ones are
		// launched before old ones go (100% of the desired size stays healthy, up to maxHealthyPercent
		// run), each must pass the load balancer's health check and warm up, servers already on the new
		// version are skipped, and a refresh that fails rolls the group back to the previous version.
		// Automatic rollback needs the template's image to be an AMI ID, not a resolve:ssm: parameter.
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage:      pulumi.Int(100),
				MaxHealthyPercentage:      pulumi.Int(s.maxHealthyPercent),
				AutoRollback:              pulumi.Bool(true),
				SkipMatching:              pulumi.Bool(true),
				InstanceWarmup:            pulumi.String(fmt.Sprint(s.warmup)),
				ScaleInProtectedInstances: pulumi.String("Ignore"),
				StandbyInstances:          pulumi.String("Ignore"),
				AlarmSpecification:        rollbackAlarms(s.rollbackAlarms),
			},
		},
		// The group's size metrics (free, every minute) for the dashboard and the in-service alarm.
		EnabledMetrics: pulumi.ToStringArray(groupMetrics),
		// The provider's default tags do not apply to Auto Scaling groups; the group itself gets the
		// stack's tags here (instances get theirs from the launch template, so no propagation).
		Tags: groupTags(s.tags),
	}, append([]pulumi.ResourceOption{pulumi.IgnoreChanges([]string{"desiredCapacity"})}, opts...)...) // the scaling policy owns it after creation
	if err != nil {
		return nil, err
	}
	if _, err := autoscaling.NewPolicy(ctx, name+"-scaling", &autoscaling.PolicyArgs{
		AutoscalingGroupName:        group.Name,
		PolicyType:                  pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: s.scaling(group),
	}, opts...); err != nil {
		return nil, err
	}
	return group, nil
}

// groupMetrics are the Auto Scaling group metrics the group publishes.
var groupMetrics = []string{"GroupDesiredCapacity", "GroupInServiceInstances", "GroupMinSize", "GroupMaxSize", "GroupTotalInstances"}

// rollbackAlarms is the instance refresh's alarm specification, or nil when no alarm is watched.
func rollbackAlarms(names []string) autoscaling.GroupInstanceRefreshPreferencesAlarmSpecificationPtrInput {
	if len(names) == 0 {
		return nil
	}
	return &autoscaling.GroupInstanceRefreshPreferencesAlarmSpecificationArgs{Alarms: pulumi.ToStringArray(names)}
}

// groupTags renders tags for an Auto Scaling group, sorted so the plan is stable.
func groupTags(tags map[string]string) autoscaling.GroupTagArray {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out autoscaling.GroupTagArray
	for _, k := range keys {
		out = append(out, &autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: pulumi.String(tags[k]), PropagateAtLaunch: pulumi.Bool(false)})
	}
	return out
}
