package compute

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

// LogShipping is where a tier's servers send their logs and metrics. The tier creates the log group (so
// `pulumi destroy` removes it, unless RetainOnDelete) and runs the CloudWatch agent on every server, which
// ships the journal of the service's unit and cloud-init's output to it and publishes memory and disk use
// in the agent's namespace (awsfacts.AgentNamespace): API servers with the AutoScalingGroupName dimension
// (one series for the whole group, its maximum being the fullest server), the chat server with InstanceId;
// the disk metric also carries path and fstype.
type LogShipping struct {
	// Group is the log group's name, e.g. /football/prod/api. Required.
	Group string
	// RetentionDays keeps the logs. Required; a CloudWatch Logs retention value.
	RetentionDays int
	// KMSKeyARN encrypts the group with a customer managed key whose policy admits CloudWatch Logs.
	// Optional; "" keeps CloudWatch Logs' own encryption.
	KMSKeyARN string
	// RetainOnDelete keeps the group, and the logs in it until they expire, in AWS when Pulumi deletes it.
	// Optional; default false.
	RetainOnDelete bool
}

var logGroupName = regexp.MustCompile(`^[A-Za-z0-9_/.#-]{1,512}$`)

// logs checks the LogShipping wiring.
func (p *problems) logs(l LogShipping) {
	if !logGroupName.MatchString(l.Group) {
		p.errs = append(p.errs, fmt.Errorf("wiring: Logs.Group %q is not allowed; a log group name of letters, digits and _/.#-", l.Group))
	}
	if !awsfacts.ValidLogRetention(l.RetentionDays) {
		p.errs = append(p.errs, fmt.Errorf("wiring: Logs.RetentionDays %d is not allowed; CloudWatch Logs allows %v", l.RetentionDays, awsfacts.LogRetentionDays))
	}
}

// shipLogs registers the tier's log group and lets role run the CloudWatch agent: write to that group's
// streams and publish metrics in the agent's namespace, nothing else. The agent creates no group (the stack owns
// it, with its retention); byGroup adds ec2:DescribeTags, which the agent needs to name an instance's Auto
// Scaling group (it has no resource-level permissions). aliases name where the group was registered before
// (another component of the same service), so that moving between components keeps it and its logs.
func shipLogs(ctx *pulumi.Context, name string, role *iam.Role, l LogShipping, byGroup bool, aliases []pulumi.Alias,
	opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	args := &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(l.Group),
		RetentionInDays: pulumi.Int(l.RetentionDays),
	}
	if l.KMSKeyARN != "" {
		args.KmsKeyId = pulumi.String(l.KMSKeyARN)
	}
	groupOpts := append([]pulumi.ResourceOption{pulumi.Aliases(aliases)}, opts...)
	if l.RetainOnDelete {
		groupOpts = append(groupOpts, pulumi.RetainOnDelete(true))
	}
	group, err := cloudwatch.NewLogGroup(ctx, name+"-logs", args, groupOpts...)
	if err != nil {
		return nil, err
	}
	_, err = iam.NewRolePolicy(ctx, name+"-cloudwatch-agent", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: group.Arn.ApplyT(func(arn string) (string, error) {
			return agentPolicy(arn, byGroup)
		}).(pulumi.StringOutput),
	}, opts...)
	return group, err
}

// agentPolicy is the CloudWatch agent's permissions for one log group (its ARN without the trailing :*).
func agentPolicy(groupARN string, byGroup bool) (string, error) {
	statements := []any{
		map[string]any{"Sid": "ShipLogs", "Effect": "Allow",
			"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			"Resource": []string{groupARN, groupARN + ":log-stream:*"}},
		map[string]any{"Sid": "PublishAgentMetrics", "Effect": "Allow", "Action": []string{"cloudwatch:PutMetricData"}, "Resource": []string{"*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": awsfacts.AgentNamespace}}},
	}
	if byGroup {
		statements = append(statements, map[string]any{"Sid": "ReadOwnGroupName", "Effect": "Allow",
			"Action": []string{"ec2:DescribeTags"}, "Resource": []string{"*"}})
	}
	return awsfacts.Policy(statements...)
}

// agentConfig is the CloudWatch agent's configuration for a server of service (api or chat): the
// journal export (the service's unit, docker and cloud-init, whose output includes the user data's) into
// group, one stream per instance, and memory and root-disk use every minute. A server of an Auto Scaling
// group (fleet) publishes its metrics under the group's name, one series for the group; a chat server of a
// fleet also publishes its established TCP connections (awsfacts.AgentConnectionMetric), which the chat
// fleet scales on.
func agentConfig(service, group string, fleet bool) (string, error) {
	dimension := map[string]string{"InstanceId": "${aws:InstanceId}"}
	if fleet {
		dimension = map[string]string{"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}
	}
	collected := map[string]any{
		"mem":  map[string]any{"measurement": []string{"mem_used_percent"}},
		"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": []string{"/"}, "drop_device": true},
	}
	if fleet && service == "chat" {
		collected["netstat"] = map[string]any{"measurement": []string{"tcp_established"}}
	}
	cfg := map[string]any{
		"agent": map[string]any{"metrics_collection_interval": 60, "run_as_user": "root"},
		"metrics": map[string]any{
			"namespace":         awsfacts.AgentNamespace,
			"append_dimensions": dimension,
			"metrics_collected": collected,
		},
		"logs": map[string]any{
			"logs_collected": map[string]any{"files": map[string]any{"collect_list": []any{
				// Only the journal export: cloud-init's output is in it already (cloud-final.service), so
				// shipping /var/log/cloud-init-output.log too would send it twice.
				map[string]any{"file_path": journalFile, "log_group_name": group, "log_stream_name": "{instance_id}"},
			}}},
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	return string(b), err
}

// journalFile is where a server's journal export writes the entries of its service's unit and of
// cloud-init, for the agent to ship (the agent reads files, not the journal).
const journalFile = "/var/log/football/journal.log"
