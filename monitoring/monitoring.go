// Package monitoring owns what tells the team about one stack: an encrypted SNS topic with its e-mail and
// webhook subscriptions, the CloudWatch alarms AWS recommends for each service the stack runs, with
// recover and reboot actions for the single servers, and one dashboard.
//
// It needs plain settings (football:monitoring) and, for each watched resource, the component that owns
// it and the values CloudWatch names it by (ARN suffixes, instance IDs, identifiers), which the stack
// wires in. Alarms are registered under the component they watch, so a plan lists them with it. It
// imports nothing from network, compute or data.
package monitoring

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

const monitoringType = "football:monitoring:Monitoring"

// RootFSType is the file system of Ubuntu's root volume on Canonical's images, a dimension of the
// CloudWatch agent's disk metric (the agent publishes in awsfacts.AgentNamespace; compute configures it).
const RootFSType = "ext4"

// Roles of the alarms an instance refresh watches to roll a release back: the API's, and the chat fleet's.
const (
	RollbackTarget5xx     = "api-target-5xx"
	RollbackUnhealthy     = "api-unhealthy-hosts"
	RollbackChatErrors    = "chat-target-errors"
	RollbackChatUnhealthy = "chat-unhealthy-hosts"
)

// AlarmName is an alarm's name in CloudWatch: <project>-<stack>-<role>. Names are known before the alarms
// exist, so the API's instance refresh can list the alarms it watches.
func AlarmName(project, stack, role string) string { return project + "-" + stack + "-" + role }

// APIWatch is what the API alarms watch.
type APIWatch struct {
	// Component is the ApiTier; the alarms are registered under it.
	Component pulumi.Resource
	// LoadBalancer and TargetGroup are the ARN suffixes CloudWatch names them by (app/..., targetgroup/...).
	LoadBalancer, TargetGroup pulumi.StringInput
	// AutoScalingGroup is the group's name.
	AutoScalingGroup pulumi.StringInput
	// MinSize is the group's minimum: fewer healthy servers than this page.
	MinSize int
}

// FleetWatch is the chat fleet: its target group behind the load balancer and its Auto Scaling group.
type FleetWatch struct {
	// Component is the ChatFleet; the alarms are registered under it.
	Component pulumi.Resource
	// LoadBalancer and TargetGroup are the ARN suffixes CloudWatch names them by.
	LoadBalancer, TargetGroup pulumi.StringInput
	// AutoScalingGroup is the group's name.
	AutoScalingGroup pulumi.StringInput
	// MinSize and MaxSize are the group's bounds: fewer healthy servers than MinSize page, and so does a
	// fleet that stays at MaxSize (it cannot grow any more).
	MinSize, MaxSize int
}

// InstanceWatch is a single server: the chat server, the jump host, or the NAT instance.
type InstanceWatch struct {
	Component  pulumi.Resource
	Role       string // names its alarms: "chat", "net-nat"
	InstanceID pulumi.StringInput
	// Agent tells that the server runs the CloudWatch agent (its disk is watched).
	Agent bool
}

// NATGatewayWatch is one NAT gateway.
type NATGatewayWatch struct {
	Component pulumi.Resource
	AZ        string
	ID        pulumi.StringInput
}

// DatabaseWatch is the RDS instance.
type DatabaseWatch struct {
	Component     pulumi.Resource
	Identifier    pulumi.StringInput
	Engine        string
	InstanceClass string
	AllocatedGiB  int
}

// CacheWatch is the replication group.
type CacheWatch struct {
	Component pulumi.Resource
	// Members are the member clusters' IDs; Count is how many there are (known before they exist).
	Members  pulumi.StringArrayInput
	Count    int
	Replicas bool
}

// WAFWatch is the web ACL in front of the load balancer.
type WAFWatch struct {
	// Component is the Edge; the alarm is registered under it.
	Component pulumi.Resource
	// WebACL is the web ACL's metric name (its visibility config), CloudWatch's WebACL dimension.
	WebACL pulumi.StringInput
}

// MonitoringArgs configures NewMonitoring. Settings come from stack config; the rest is wiring.
type MonitoringArgs struct {
	Settings
	// Project and Stack name the alarms and the dashboard. Required.
	Project, Stack string
	API            *APIWatch
	// Chat is the single chat server; ChatFleet the chat fleet (exactly one of them).
	Chat      *InstanceWatch
	ChatFleet *FleetWatch
	// JumpHost is the SSH jump host, when the stack has one.
	JumpHost *InstanceWatch
	// NAT is the NAT instance, when the network has one.
	NAT         *InstanceWatch
	NATGateways []NATGatewayWatch
	Database    *DatabaseWatch
	Cache       *CacheWatch
	// WAF is the web ACL, when the stack has one.
	WAF *WAFWatch
}

var namePart = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (a MonitoringArgs) validate() error {
	errs := []error{a.Settings.Validate()}
	if !namePart.MatchString(a.Project) || !namePart.MatchString(a.Stack) {
		errs = append(errs, fmt.Errorf("wiring: Project %q and Stack %q must be letters, digits, _ and -", a.Project, a.Stack))
	}
	if a.API == nil || a.Database == nil || a.Cache == nil {
		errs = append(errs, errors.New("wiring: API, Database and Cache are required"))
	}
	if (a.Chat == nil) == (a.ChatFleet == nil) {
		errs = append(errs, errors.New("wiring: exactly one of Chat (a single server) and ChatFleet is required"))
	}
	return errors.Join(errs...)
}

// Monitoring is the alarm topic, the alarms and the dashboard of one stack.
type Monitoring struct {
	pulumi.ResourceState

	// TopicARN is the alarm topic ("" when alarms are off).
	TopicARN pulumi.StringOutput
	// DashboardURL opens the stack's dashboard in the console ("" when off).
	DashboardURL pulumi.StringOutput
	// Alarms are the names of every alarm created.
	Alarms []string
}

// NewMonitoring checks args, then registers the topic, the alarms and the dashboard. Bad args register
// nothing.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil {
		return nil, fmt.Errorf("monitoring %q: args are required", name)
	}
	a := *args
	a.Settings = a.Settings.WithDefaults()
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource(monitoringType, name, m, opts...); err != nil {
		return nil, err
	}
	m.TopicARN = pulumi.String("").ToStringOutput()
	if a.AlarmsOn() {
		topic, err := m.topic(ctx, name, a)
		if err != nil {
			return nil, err
		}
		m.TopicARN = topic
		for _, al := range a.catalogue() {
			if a.Alarms == SetEssential && !al.essential {
				continue
			}
			if err := m.alarm(ctx, a, al, topic); err != nil {
				return nil, err
			}
		}
	}
	m.DashboardURL = pulumi.String("").ToStringOutput()
	if *a.Dashboard {
		url, err := m.dashboard(ctx, name, a)
		if err != nil {
			return nil, err
		}
		m.DashboardURL = url
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"topicArn":     m.TopicARN,
		"dashboardUrl": m.DashboardURL,
		"alarms":       pulumi.ToStringArray(m.Alarms),
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// catalogue lists every alarm of the full set for what args watch.
func (a MonitoringArgs) catalogue() []alarm {
	out := apiAlarms(*a.API, a.Thresholds)
	if a.Chat != nil {
		out = append(out, instanceAlarms(*a.Chat, a.Region, a.Thresholds)...)
	}
	if a.ChatFleet != nil {
		out = append(out, chatFleetAlarms(*a.ChatFleet, a.Thresholds)...)
	}
	if a.JumpHost != nil {
		out = append(out, instanceAlarms(*a.JumpHost, a.Region, a.Thresholds)...)
	}
	if a.NAT != nil {
		out = append(out, instanceAlarms(*a.NAT, a.Region, a.Thresholds)...)
	}
	for _, g := range a.NATGateways {
		out = append(out, natGatewayAlarms(g)...)
	}
	out = append(out, databaseAlarms(*a.Database, a.Thresholds)...)
	out = append(out, cacheAlarms(*a.Cache, a.Thresholds)...)
	if a.WAF != nil {
		out = append(out, wafAlarm(*a.WAF, a.Region, a.Thresholds))
	}
	return out
}

// topic registers the alarm topic, encrypted with a customer managed key: CloudWatch cannot publish to a
// topic encrypted with the AWS managed key alias/aws/sns, whose policy cannot be changed to admit it.
func (m *Monitoring) topic(ctx *pulumi.Context, name string, a MonitoringArgs) (pulumi.StringOutput, error) {
	child := pulumi.Parent(m)
	account := accountOf(ctx, m)
	keyPolicy := account.ApplyT(func(acct string) (string, error) {
		return awsfacts.Policy(
			map[string]any{"Sid": "AccountAdministers", "Effect": "Allow",
				"Principal": map[string]any{"AWS": awsfacts.AccountRoot(a.Region, acct)},
				"Action":    "kms:*", "Resource": "*"},
			map[string]any{"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": acct}}},
		)
	}).(pulumi.StringOutput)
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:       pulumi.String("football " + a.Stack + ": encrypts the alarm topic"),
		EnableKeyRotation: pulumi.Bool(true), // FSBP KMS.4
		Policy:            keyPolicy,
	}, child)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.String(a.Project + "-" + a.Stack + "-alarms"),
		KmsMasterKeyId: key.Arn,
	}, child)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	policy := pulumi.All(topic.Arn, account).ApplyT(func(v []any) (string, error) {
		return awsfacts.Policy(map[string]any{
			"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Action":    "sns:Publish", "Resource": v[0].(string),
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": v[1].(string)}},
		})
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, name+"-alarms-policy", &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}, child); err != nil {
		return pulumi.StringOutput{}, err
	}
	for i, address := range a.Email {
		// By position, not address: a changed address replaces its subscription, which needs a new
		// confirmation anyway.
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-email-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(address),
		}, child); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	if a.Webhook != "" {
		if _, err := sns.NewTopicSubscription(ctx, name+"-webhook", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("https"), Endpoint: pulumi.String(a.Webhook),
			// The endpoint must confirm the subscription (visit SubscribeURL) within this time.
			ConfirmationTimeoutInMinutes: pulumi.Int(5),
		}, child); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return topic.Arn, nil
}

// alarm registers one alarm under the component it watches. It notifies the topic on ALARM and on OK.
func (m *Monitoring) alarm(ctx *pulumi.Context, a MonitoringArgs, al alarm, topic pulumi.StringOutput) error {
	actions := pulumi.Array{topic}
	for _, act := range al.actions {
		actions = append(actions, pulumi.String(act))
	}
	args := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(AlarmName(a.Project, a.Stack, al.role)),
		AlarmDescription:   pulumi.String(al.description),
		ComparisonOperator: pulumi.String(al.comparison),
		EvaluationPeriods:  pulumi.Int(al.evaluate),
		DatapointsToAlarm:  pulumi.Int(al.datapoints),
		Threshold:          pulumi.Float64(al.threshold),
		TreatMissingData:   pulumi.String(al.missing),
		AlarmActions:       actions,
		OkActions:          pulumi.Array{topic},
	}
	if al.queries != nil {
		args.MetricQueries = al.queries
	} else {
		args.Namespace = pulumi.String(al.namespace)
		args.MetricName = pulumi.String(al.metric)
		args.Dimensions = al.dimensions
		args.Period = pulumi.Int(al.period)
		if strings.HasPrefix(al.stat, "p") {
			args.ExtendedStatistic = pulumi.String(al.stat)
		} else {
			args.Statistic = pulumi.String(al.stat)
		}
	}
	if _, err := cloudwatch.NewMetricAlarm(ctx, al.role, args, pulumi.Parent(al.parent)); err != nil {
		return err
	}
	m.Alarms = append(m.Alarms, AlarmName(a.Project, a.Stack, al.role))
	slices.Sort(m.Alarms)
	return nil
}
