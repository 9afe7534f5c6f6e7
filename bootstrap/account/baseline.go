package account

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsres"
)

// The baseline's services with one or two resources each here (CloudTrail, AWS Config, Security Hub,
// GuardDuty, Access Analyzer, EBS, Budgets) are registered by type token, without their typed packages
// (internal/awsres says why); bootstrap/account's TestBaselineInputsMatchTheSDK holds the inputs to them.
const (
	trailType                 = "aws:cloudtrail/trail:Trail"
	configRecorderType        = "aws:cfg/recorder:Recorder"
	configDeliveryChannelType = "aws:cfg/deliveryChannel:DeliveryChannel"
	configRecorderStatusType  = "aws:cfg/recorderStatus:RecorderStatus"
	securityHubAccountType    = "aws:securityhub/account:Account"
	securityHubStandardType   = "aws:securityhub/standardsSubscription:StandardsSubscription"
	guardDutyDetectorType     = "aws:guardduty/detector:Detector"
	accessAnalyzerType        = "aws:accessanalyzer/analyzer:Analyzer"
	ebsEncryptionType         = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	budgetType                = "aws:budgets/budget:Budget"
)

// BaselineTypes are the type tokens the baseline registers without their typed packages.
var BaselineTypes = []string{trailType, configRecorderType, configDeliveryChannelType, configRecorderStatusType,
	securityHubAccountType, securityHubStandardType, guardDutyDetectorType, accessAnalyzerType, ebsEncryptionType, budgetType}

const baselineType = "football:bootstrap:Baseline"

// BaselineArgs configures NewBaseline.
type BaselineArgs struct {
	// Settings are the switches and retention, defaulted (football-bootstrap:baseline). Required.
	Settings BaselineSettings
	// Names are the account's fixed names; Names.Region is the home region. Required.
	Names Names
	// Regions get the regional baseline; the first is the home region. Required.
	Regions []string
	// DefaultTags are given to the providers of the other regions (the default provider has them from
	// aws:defaultTags).
	DefaultTags map[string]string
	// AccessLogBucket receives the trail and AWS Config buckets' access logs. Required.
	AccessLogBucket pulumi.StringInput
	// Budgets are the monthly budgets in USD, by environment (the stacks' Environment tag). Required
	// with Settings.Budgets.
	Budgets map[string]float64
}

// Baseline is the account's security and cost baseline: the trail, Security Hub with the FSBP standard and
// the AWS Config recorder it reads, GuardDuty, IAM Access Analyzer, EBS encryption by default, the S3
// account public access block and a budget per environment. Each part can be turned off.
type Baseline struct {
	pulumi.ResourceState
	// TrailKeyARN encrypts the trail's log files; "" without a trail.
	TrailKeyARN pulumi.StringOutput
	// TrailARN is the account trail; "" without one.
	TrailARN pulumi.StringOutput
}

func (a BaselineArgs) validate() error {
	var errs []error
	s := a.Settings
	if s.CloudTrail == nil || s.SecurityHub == nil || s.GuardDuty == nil || s.AccessAnalyzer == nil ||
		s.EBSEncryptionByDefault == nil || s.S3PublicAccessBlock == nil || s.Budgets == nil {
		errs = append(errs, errors.New("settings: not defaulted (every switch must be set)"))
	}
	if a.Names.Account == "" || a.Names.Region == "" || a.Names.Partition == "" {
		errs = append(errs, errors.New("wiring: Names needs the partition, account and region"))
	}
	if len(a.Regions) == 0 || a.Regions[0] != a.Names.Region {
		errs = append(errs, fmt.Errorf("regions: %v is not allowed; the home region %s comes first", a.Regions, a.Names.Region))
	}
	if a.AccessLogBucket == nil {
		errs = append(errs, errors.New("wiring: AccessLogBucket is required"))
	}
	if s.Budgets != nil && *s.Budgets {
		if len(a.Budgets) == 0 {
			errs = append(errs, errors.New("budgets: none; at least one environment"))
		}
		for env, usd := range a.Budgets {
			if usd <= 0 {
				errs = append(errs, fmt.Errorf("budgets.%s: %v is not allowed; more than 0", env, usd))
			}
		}
		if len(s.BudgetEmails) == 0 {
			errs = append(errs, errors.New("budgetEmails: none; at least one"))
		}
	}
	return errors.Join(errs...)
}

// NewBaseline checks args, then registers the baseline. Bad args register nothing.
func NewBaseline(ctx *pulumi.Context, name string, args *BaselineArgs, opts ...pulumi.ResourceOption) (*Baseline, error) {
	if args == nil {
		return nil, fmt.Errorf("baseline %q: args are required", name)
	}
	a := *args
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("baseline %q: %w", name, err)
	}
	b := &Baseline{TrailKeyARN: pulumi.String("").ToStringOutput(), TrailARN: pulumi.String("").ToStringOutput()}
	if err := ctx.RegisterComponentResource(baselineType, name, b, opts...); err != nil {
		return nil, err
	}
	s := a.Settings
	if *s.CloudTrail {
		if err := b.trail(ctx, name, a); err != nil {
			return nil, err
		}
	}
	var configDeps []pulumi.Resource
	if *s.SecurityHub {
		deps, err := b.config(ctx, name, a)
		if err != nil {
			return nil, err
		}
		configDeps = deps
	}
	for i, region := range a.Regions {
		if err := b.regional(ctx, name, a, region, i == 0, configDeps); err != nil {
			return nil, err
		}
	}
	if *s.S3PublicAccessBlock {
		if _, err := s3.NewAccountPublicAccessBlock(ctx, name+"-s3-public-access-block", &s3.AccountPublicAccessBlockArgs{
			BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
			IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
		}, pulumi.Parent(b)); err != nil {
			return nil, err
		}
	}
	if *s.Budgets {
		if err := b.budgets(ctx, name, a); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"trailKeyArn": b.TrailKeyARN, "trailArn": b.TrailARN}); err != nil {
		return nil, err
	}
	return b, nil
}

// trail registers the multi-region trail (FSBP CloudTrail.1, .2, .4, .5): its key, its bucket and its
// CloudWatch Logs group with the role CloudTrail writes to it with. The key and the bucket stay in AWS
// when the program drops them: they hold the audit record.
func (b *Baseline) trail(ctx *pulumi.Context, name string, a BaselineArgs) error {
	child := pulumi.Parent(b)
	n := a.Names
	root := "arn:" + n.Partition + ":iam::" + n.Account + ":root"
	key, err := kms.NewKey(ctx, name+"-trail-key", &kms.KeyArgs{
		Description:          pulumi.String(n.Project + ": CloudTrail log files"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy: pulumi.String(Document{Statement: []Statement{
			{Sid: "AccountIAMPolicies", Effect: "Allow", Principal: map[string]string{"AWS": root}, Action: []string{"kms:*"}, Resource: []string{"*"}},
			{Sid: "CloudTrailEncrypts", Effect: "Allow", Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"},
				Action: []string{"kms:GenerateDataKey*"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{
					"StringEquals": {"aws:SourceArn": n.TrailARN()},
					"StringLike":   {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:" + n.Partition + ":cloudtrail:*:" + n.Account + ":trail/*"},
				}},
			{Sid: "CloudTrailDescribes", Effect: "Allow", Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"},
				Action: []string{"kms:DescribeKey"}, Resource: []string{"*"}},
		}}.String()),
	}, child, pulumi.RetainOnDelete(true))
	if err != nil {
		return err
	}
	bucket, policy, err := newBucket(ctx, name+"-trail-bucket", bucketSpec{
		Name:            n.Bucket("trail"),
		KMSKeyARN:       key.Arn,
		Versioned:       true,
		NoncurrentDays:  a.Settings.LogRetentionDays,
		ExpireDays:      a.Settings.LogRetentionDays,
		AccessLogBucket: a.AccessLogBucket,
		Grants:          n.servicePuts(n.BucketARN("trail"), "cloudtrail.amazonaws.com", "", n.TrailARN(), true),
		Keep:            true,
	}, b)
	if err != nil {
		return err
	}
	group, err := cloudwatch.NewLogGroup(ctx, name+"-trail-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(n.TrailLogGroup()),
		RetentionInDays: pulumi.Int(a.Settings.LogRetentionDays),
	}, child)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-trail-logs-role", &iam.RoleArgs{
		Name: pulumi.String(n.Project + "-cloudtrail-logs"),
		Path: pulumi.String(n.Path()),
		AssumeRolePolicy: pulumi.String(Document{Statement: []Statement{{
			Effect: "Allow", Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"}, Action: []string{"sts:AssumeRole"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceArn": n.TrailARN()}},
		}}}.String()),
	}, child)
	if err != nil {
		return err
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-trail-logs-policy", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.String(Document{Statement: []Statement{{
			Sid: "WriteTrailLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{n.TrailLogGroupARN() + ":log-stream:*"},
		}}}.String()),
	}, child)
	if err != nil {
		return err
	}
	trail, err := awsres.Register(ctx, trailType, name+"-trail", pulumi.Map{
		"name":                       pulumi.String(n.TrailName()),
		"s3BucketName":               bucket.Bucket,
		"isMultiRegionTrail":         pulumi.Bool(true),
		"includeGlobalServiceEvents": pulumi.Bool(true),
		"enableLogFileValidation":    pulumi.Bool(true),
		"enableLogging":              pulumi.Bool(true),
		"kmsKeyId":                   key.Arn,
		"cloudWatchLogsGroupArn":     pulumi.Sprintf("%s:*", group.Arn), // CloudTrail wants the stream wildcard
		"cloudWatchLogsRoleArn":      role.Arn,
	}, child, pulumi.DependsOn([]pulumi.Resource{policy, rolePolicy})) // CloudTrail checks both when it starts
	if err != nil {
		return err
	}
	b.TrailKeyARN, b.TrailARN = key.Arn, trail.Arn
	return nil
}

// configRoleARN is AWS Config's service-linked role, which FSBP Config.1 wants the recorders to use.
func configRoleARN(n Names) string {
	return n.iam("role", "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
}

// config registers AWS Config's service-linked role and delivery bucket, and returns what the recorders
// wait for; regional registers a recorder per region (Security Hub's controls evaluate what it records).
func (b *Baseline) config(ctx *pulumi.Context, name string, a BaselineArgs) ([]pulumi.Resource, error) {
	n := a.Names
	role, err := iam.NewServiceLinkedRole(ctx, name+"-config-role", &iam.ServiceLinkedRoleArgs{
		AwsServiceName: pulumi.String("config.amazonaws.com"),
	}, pulumi.Parent(b))
	if err != nil {
		return nil, err
	}
	_, policy, err := newBucket(ctx, name+"-config-bucket", bucketSpec{
		Name:            n.Bucket("config"),
		ExpireDays:      a.Settings.LogRetentionDays,
		AccessLogBucket: a.AccessLogBucket,
		Grants:          n.servicePuts(n.BucketARN("config"), "config.amazonaws.com", "", "", true),
	}, b)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{role, policy}, nil
}

// regional registers the per-region parts in region (the home region through the default provider).
func (b *Baseline) regional(ctx *pulumi.Context, name string, a BaselineArgs, region string, home bool, configDeps []pulumi.Resource) error {
	s, n := a.Settings, a.Names
	opts := []pulumi.ResourceOption{pulumi.Parent(b)}
	suffix := ""
	if !home {
		tags := pulumi.StringMap{}
		for k, v := range a.DefaultTags {
			tags[k] = pulumi.String(v)
		}
		provider, err := aws.NewProvider(ctx, name+"-"+region, &aws.ProviderArgs{
			Region:      pulumi.String(region),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: tags},
		}, pulumi.Parent(b))
		if err != nil {
			return err
		}
		opts = append(opts, pulumi.Provider(provider))
		suffix = "-" + region
	}
	if *s.SecurityHub {
		recorder, err := awsres.Register(ctx, configRecorderType, name+"-config-recorder"+suffix, pulumi.Map{
			"name":    pulumi.String(n.Project),
			"roleArn": pulumi.String(configRoleARN(n)),
			"recordingGroup": pulumi.Any(awsres.Object{
				"allSupported": true,
				// IAM is global: recorded once, in the home region, so its items are not billed per region.
				"includeGlobalResourceTypes": home,
			}),
		}, append(opts, pulumi.DependsOn(configDeps))...)
		if err != nil {
			return err
		}
		channel, err := awsres.Register(ctx, configDeliveryChannelType, name+"-config-delivery"+suffix, pulumi.Map{
			"name":         pulumi.String(n.Project),
			"s3BucketName": pulumi.String(n.Bucket("config")),
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{recorder}))...)
		if err != nil {
			return err
		}
		// Recording starts once the recorder has somewhere to deliver to.
		if _, err := awsres.Register(ctx, configRecorderStatusType, name+"-config-recording"+suffix, pulumi.Map{
			"name":      pulumi.String(n.Project),
			"isEnabled": pulumi.Bool(true),
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{recorder, channel}))...); err != nil {
			return err
		}
		hub, err := awsres.Register(ctx, securityHubAccountType, name+"-security-hub"+suffix, pulumi.Map{
			// Only the standard chosen below, one finding per control across standards.
			"enableDefaultStandards":  pulumi.Bool(false),
			"controlFindingGenerator": pulumi.String("SECURITY_CONTROL"),
			"autoEnableControls":      pulumi.Bool(true),
		}, opts...)
		if err != nil {
			return err
		}
		if _, err := awsres.Register(ctx, securityHubStandardType, name+"-fsbp"+suffix, pulumi.Map{
			"standardsArn": pulumi.String(FSBPStandardARN(n.Partition, region)),
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{hub}))...); err != nil {
			return err
		}
	}
	if *s.GuardDuty {
		if _, err := awsres.Register(ctx, guardDutyDetectorType, name+"-guardduty"+suffix, pulumi.Map{
			"enable":                     pulumi.Bool(true),
			"findingPublishingFrequency": pulumi.String("FIFTEEN_MINUTES"),
		}, opts...); err != nil {
			return err
		}
	}
	if *s.AccessAnalyzer {
		if _, err := awsres.Register(ctx, accessAnalyzerType, name+"-access-analyzer"+suffix, pulumi.Map{
			"analyzerName": pulumi.String(n.Project + "-account"),
			"type":         pulumi.String("ACCOUNT"),
		}, opts...); err != nil {
			return err
		}
	}
	if *s.EBSEncryptionByDefault {
		if _, err := awsres.Register(ctx, ebsEncryptionType, name+"-ebs-encryption"+suffix, pulumi.Map{
			"enabled": pulumi.Bool(true),
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// FSBPStandardARN is the AWS Foundational Security Best Practices standard (v1.0.0) in a region.
func FSBPStandardARN(partition, region string) string {
	return "arn:" + partition + ":securityhub:" + region + "::standards/aws-foundational-security-best-practices/v/1.0.0"
}

// BudgetThresholds are the percentages of a budget at which its e-mails go out.
var BudgetThresholds = []float64{80, 100}

// budgets registers a monthly cost budget per environment over the costs tagged Environment=<env>.
func (b *Baseline) budgets(ctx *pulumi.Context, name string, a BaselineArgs) error {
	envs := make([]string, 0, len(a.Budgets))
	for env := range a.Budgets {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	for _, env := range envs {
		var notes []any
		for _, pct := range BudgetThresholds {
			notes = append(notes, awsres.Object{
				"notificationType":         "ACTUAL",
				"comparisonOperator":       "GREATER_THAN",
				"threshold":                pct,
				"thresholdType":            "PERCENTAGE",
				"subscriberEmailAddresses": a.Settings.BudgetEmails,
			})
		}
		if _, err := awsres.Register(ctx, budgetType, name+"-budget-"+env, pulumi.Map{
			"name":        pulumi.String(a.Names.Project + "-" + env + "-monthly"),
			"budgetType":  pulumi.String("COST"),
			"timeUnit":    pulumi.String("MONTHLY"),
			"limitAmount": pulumi.String(strconv.FormatFloat(a.Budgets[env], 'f', 2, 64)),
			"limitUnit":   pulumi.String("USD"),
			// The stacks tag everything Environment=<env> (aws:defaultTags); Budgets names user tags user:<key>.
			"costFilters": pulumi.Any([]any{awsres.Object{
				"name":   "TagKeyValue",
				"values": []string{"user:Environment$" + env},
			}}),
			"notifications": pulumi.Any(notes),
		}, pulumi.Parent(b)); err != nil {
			return err
		}
	}
	return nil
}
