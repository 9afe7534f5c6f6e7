// Package awsfacts holds, once, the AWS facts that more than one package needs: the partition a region
// belongs to and the ARN and endpoint forms that follow from it, the retention values CloudWatch Logs
// accepts, the CloudWatch agent's metric namespace, and how IAM policy documents are written.
//
// It imports only the standard library. The components (network, compute, data, edge, monitoring) may
// import it without depending on each other; it must never import any of them.
package awsfacts

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Partitions.
const (
	PartitionAWS   = "aws"
	PartitionChina = "aws-cn"
	PartitionGov   = "aws-us-gov"
)

// isoRegion matches the regions of the isolated partitions: us-iso-east-1 (aws-iso), us-isob-east-1
// (aws-iso-b), eu-isoe-west-1 (aws-iso-e), us-isof-south-1 (aws-iso-f).
var isoRegion = regexp.MustCompile(`^[a-z]{2}-iso([a-z]?)-`)

// Partition is the ARN partition of a region. AWS-managed ARNs (managed policies, service accounts,
// resources of the stack itself) carry it, so "arn:aws:" is right only in the commercial regions: in
// us-gov-west-1 the SSM policy is arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return PartitionChina
	case strings.HasPrefix(region, "us-gov-"):
		return PartitionGov
	}
	if m := isoRegion.FindStringSubmatch(region); m != nil {
		if m[1] == "" {
			return "aws-iso"
		}
		return "aws-iso-" + m[1]
	}
	return PartitionAWS
}

// DNSSuffix is the domain of a partition's service endpoints (s3.<region>.<suffix>), as the AWS SDKs'
// partition table gives it.
func DNSSuffix(partition string) string {
	switch partition {
	case PartitionChina:
		return "amazonaws.com.cn"
	case "aws-iso":
		return "c2s.ic.gov"
	case "aws-iso-b":
		return "sc2s.sgov.gov"
	case "aws-iso-e":
		return "cloud.adc-e.uk"
	case "aws-iso-f":
		return "csp.hci.ic.gov"
	}
	return "amazonaws.com"
}

// ARN is arn:<partition of region>:<service>:<region>:<account>:<resource>, the form of a regional
// resource (an EC2 flow log, a log group, a certificate).
func ARN(region, service, account, resource string) string {
	return "arn:" + Partition(region) + ":" + service + ":" + region + ":" + account + ":" + resource
}

// IAMARN is an IAM ARN in region's partition: IAM is global, so the region field is empty
// (arn:aws-cn:iam::123456789012:role/x).
func IAMARN(region, account, resource string) string {
	return "arn:" + Partition(region) + ":iam::" + account + ":" + resource
}

// AccountRoot is the principal that stands for a whole account in a policy.
func AccountRoot(region, account string) string { return IAMARN(region, account, "root") }

// ManagedPolicy is an AWS managed policy's ARN: the SDK's iam.ManagedPolicy* constants are the commercial
// partition's only.
func ManagedPolicy(region, name string) string { return IAMARN(region, "aws", "policy/"+name) }

// EC2AlarmAction is the ARN of a CloudWatch alarm's EC2 action (recover, reboot, stop, terminate).
func EC2AlarmAction(region, action string) string {
	return "arn:" + Partition(region) + ":automate:" + region + ":ec2:" + action
}

// EndpointService is the service name of a VPC endpoint for an AWS service: com.amazonaws.<region>.<service>,
// and in the China regions cn.com.amazonaws.<region>.<service>.
func EndpointService(region, service string) string {
	prefix := "com.amazonaws."
	if Partition(region) == PartitionChina {
		prefix = "cn." + prefix
	}
	return prefix + region + "." + service
}

// LogRetentionDays are the retention values CloudWatch Logs accepts (PutRetentionPolicy).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ValidLogRetention tells whether CloudWatch Logs accepts days as a retention.
func ValidLogRetention(days int) bool { return slices.Contains(LogRetentionDays, days) }

// AgentNamespace is the namespace the CloudWatch agent publishes its metrics in (mem_used_percent,
// disk_used_percent) unless its configuration names another: compute configures the agent with it and
// monitoring alarms on it.
const AgentNamespace = "CWAgent"

// AgentConnectionMetric is the CloudWatch agent's count of a server's established TCP connections: its
// netstat plugin's tcp_established, named <plugin>_<measurement> like every agent metric. The chat fleet's
// servers publish it under their Auto Scaling group's name; the fleet scales on it and the dashboard draws it.
const AgentConnectionMetric = "netstat_tcp_established"

// PolicyVersion is the current IAM policy language version; every document states it.
const PolicyVersion = "2012-10-17"

// Policy renders an IAM policy document (identity, resource, trust or key policy) with the given
// statements.
func Policy(statements ...any) (string, error) {
	return JSON(map[string]any{"Version": PolicyVersion, "Statement": statements})
}

// JSON renders v compactly, map keys sorted (encoding/json's order), so the same document always renders
// the same text and a plan shows no change where nothing changed.
func JSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
