package account

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The IAM policy documents of the bootstrap, as pure functions of plain values, so tests can read every
// statement. ARNs of resources the bootstrap creates are passed in once known (key ARNs) or built from
// the names it gives them (buckets, roles, the trail), which are fixed.

// OIDCHost is GitHub Actions' token issuer; its claims are named <host>:aud and <host>:sub.
const OIDCHost = "token.actions.githubusercontent.com"

// OIDCAudience is the audience aws-actions/configure-aws-credentials requests.
const OIDCAudience = "sts.amazonaws.com"

// Statement is one IAM policy statement.
type Statement struct {
	Sid         string                    `json:"Sid,omitempty"`
	Effect      string                    `json:"Effect"`
	Principal   any                       `json:"Principal,omitempty"`
	Action      Strings                   `json:"Action,omitempty"`
	NotAction   Strings                   `json:"NotAction,omitempty"`
	Resource    Strings                   `json:"Resource,omitempty"`
	NotResource Strings                   `json:"NotResource,omitempty"`
	Condition   map[string]map[string]any `json:"Condition,omitempty"`
}

// Strings is a policy element IAM takes as one string or a list; it is always written as a list.
type Strings []string

// UnmarshalJSON reads a string or a list of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// ParseDocument reads a policy document (tests and the guardrails read the planned JSON with it).
func ParseDocument(raw string) (Document, error) {
	var d Document
	err := json.Unmarshal([]byte(raw), &d)
	return d, err
}

func (d Document) String() string {
	d.Version = "2012-10-17"
	b, err := json.Marshal(d)
	if err != nil {
		// Every field is a string, a slice of strings or a map of them: Marshal cannot fail.
		panic(fmt.Sprintf("policy document: %v", err))
	}
	return string(b)
}

// Names are the fixed names and ARNs of what the bootstrap creates in one account, derived from the main
// project's name, the account and the home region. The deploy role's denies name them before they exist.
type Names struct {
	Partition, Account, Region, Project string
}

func (n Names) iam(kind, pathAndName string) string {
	return "arn:" + n.Partition + ":iam::" + n.Account + ":" + kind + "/" + pathAndName
}

// Path is the IAM path of every role and policy the bootstrap creates; the deploy roles may not touch it.
func (n Names) Path() string { return "/" + n.Project + "-bootstrap/" }

// RoleName is the name of a CI role ("preview", "release", "deploy-<env>").
func (n Names) RoleName(kind string) string { return n.Project + "-ci-" + kind }

// RoleARN is a CI role's ARN.
func (n Names) RoleARN(kind string) string {
	return n.iam("role", strings.TrimPrefix(n.Path(), "/")+n.RoleName(kind))
}

// BoundaryName is the deploy roles' permissions boundary policy name.
func (n Names) BoundaryName() string { return n.Project + "-deploy-boundary" }

// BoundaryARN is the boundary's ARN; the main program names it in football:permissionsBoundary.
func (n Names) BoundaryARN() string {
	return n.iam("policy", strings.TrimPrefix(n.Path(), "/")+n.BoundaryName())
}

// OIDCProviderARN is the ARN of GitHub's OIDC provider in the account (created or existing alike).
func (n Names) OIDCProviderARN() string { return n.iam("oidc-provider", OIDCHost) }

// Bucket is the name of one of the bootstrap's buckets ("state", "trail", "config", "access-logs"):
// global, so it carries the account and region.
func (n Names) Bucket(kind string) string {
	return n.Project + "-" + kind + "-" + n.Account + "-" + n.Region
}

// BucketARN is a bucket's ARN; BucketARN(kind)+"/*" its objects.
func (n Names) BucketARN(kind string) string { return "arn:" + n.Partition + ":s3:::" + n.Bucket(kind) }

// TrailName is the account trail's name.
func (n Names) TrailName() string { return n.Project + "-account" }

// TrailARN is the account trail's ARN.
func (n Names) TrailARN() string {
	return "arn:" + n.Partition + ":cloudtrail:" + n.Region + ":" + n.Account + ":trail/" + n.TrailName()
}

// TrailLogGroup is the trail's CloudWatch Logs group.
func (n Names) TrailLogGroup() string { return "/" + n.Project + "/cloudtrail" }

// TrailLogGroupARN is the trail log group's ARN (without the ":*" CloudTrail wants).
func (n Names) TrailLogGroupARN() string {
	return "arn:" + n.Partition + ":logs:" + n.Region + ":" + n.Account + ":log-group:" + n.TrailLogGroup()
}

// StateKeyAlias is the alias of the state key, which the awskms:// secrets provider URL names.
func (n Names) StateKeyAlias() string { return "alias/" + n.Project + "-state" }

// stateObjects are the S3 keys a stack's state occupies in a DIY backend without a path prefix:
// .pulumi/stacks/<project>/<stack>.json (and .json.bak, .json.attrs), its history, backups and lock.
func (n Names) stateObjects(stacks []string) []string {
	bucket := n.BucketARN("state")
	var out []string
	for _, s := range stacks {
		out = append(out,
			bucket+"/.pulumi/stacks/"+n.Project+"/"+s+".json*",
			bucket+"/.pulumi/history/"+n.Project+"/"+s+"/*",
			bucket+"/.pulumi/backups/"+n.Project+"/"+s+"/*",
			bucket+"/.pulumi/locks/"+n.Project+"/"+s+"/*")
	}
	return out
}

// trustPolicy lets GitHub Actions tokens for exactly these subjects, issued to sts.amazonaws.com, assume
// a role. A subject with a wildcard after the repository is matched with StringLike.
func trustPolicy(oidcARN string, subjects []string) string {
	op := "StringEquals"
	for _, s := range subjects {
		if strings.ContainsAny(s, "*?") {
			op = "StringLike"
		}
	}
	cond := map[string]map[string]any{
		"StringEquals": {OIDCHost + ":aud": OIDCAudience},
	}
	if op == "StringEquals" {
		cond["StringEquals"][OIDCHost+":sub"] = subjects
	} else {
		cond["StringLike"] = map[string]any{OIDCHost + ":sub": subjects}
	}
	return Document{Statement: []Statement{{
		Sid: "GitHubActions", Effect: "Allow",
		Principal: map[string]string{"Federated": oidcARN},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: cond,
	}}}.String()
}

// readOnlyAccess is the AWS managed policy the preview role gets for `pulumi preview`'s lookups.
func (n Names) readOnlyAccess() string {
	return "arn:" + n.Partition + ":iam::aws:policy/ReadOnlyAccess"
}

// previewPolicy is the preview role's own policy, beside ReadOnlyAccess: read every stack's state, create
// a stack's file (the pull-request workflow's `upsert: true` creates a stack that is new in the pull
// request; `pulumi preview` itself writes nothing to a DIY backend: no lock, no history), use the state key
// (decrypt the state and the stacks' secrets, encrypt a new stack's key and the SSE-KMS objects it writes),
// and deny the data reads ReadOnlyAccess would otherwise allow beyond what a preview needs.
func (n Names) previewPolicy(stateKeyARN string) string {
	state := n.BucketARN("state")
	return Document{Statement: []Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{state}},
		{Sid: "ReadState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{state + "/.pulumi/*"}},
		{Sid: "CreateStacks", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{state + "/.pulumi/stacks/" + n.Project + "/*"}},
		{Sid: "UseStateKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: []string{stateKeyARN}},
		{Sid: "NoObjectReadsElsewhere", Effect: "Deny", Action: []string{"s3:GetObject", "s3:GetObjectVersion"}, NotResource: []string{state + "/.pulumi/*"}},
		{Sid: "NoSecretValues", Effect: "Deny", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{"*"}},
		{Sid: "OnlyPublicParameters", Effect: "Deny", Action: []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"},
			NotResource: []string{"arn:" + n.Partition + ":ssm:*::parameter/aws/service/*"}},
	}}.String()
}

// deployServices are the services the main program's stacks create resources in, granted whole to the
// deploy roles (IAM, Route 53, S3 and KMS are narrowed below).
var deployServices = []string{
	"acm", "autoscaling", "cloudwatch", "ec2", "ecr", "elasticache", "elasticloadbalancing", "kms", "logs",
	"rds", "secretsmanager", "sns", "ssm", "wafv2",
}

// serviceLinkedRoles are the services whose service-linked roles a first deployment creates.
var serviceLinkedRoles = []string{
	"autoscaling.amazonaws.com", "elasticache.amazonaws.com", "elasticloadbalancing.amazonaws.com",
	"rds.amazonaws.com", "wafv2.amazonaws.com",
}

// deployPolicy is the policy of one environment's deploy role. stacks are the environment's stacks.
func (n Names) deployPolicy(stacks []string, stateKeyARN, trailKeyARN string) string {
	var services []string
	for _, s := range deployServices {
		services = append(services, s+":*")
	}
	ownBuckets := []string{}
	for _, kind := range []string{"state", "trail", "config", "access-logs"} {
		ownBuckets = append(ownBuckets, n.BucketARN(kind), n.BucketARN(kind)+"/*")
	}
	rolesAndPolicies := []string{n.iam("role", "*"), n.iam("instance-profile", "*")}
	protectedIAM := []string{
		n.iam("role", strings.TrimPrefix(n.Path(), "/")+"*"), n.iam("policy", strings.TrimPrefix(n.Path(), "/")+"*"),
		n.OIDCProviderARN(),
		// IAM Identity Center's roles (human administrators), service-linked roles and the role AWS
		// Organizations creates in member accounts.
		n.iam("role", "aws-reserved/*"), n.iam("role", "aws-service-role/*"), n.iam("role", "OrganizationAccountAccessRole"),
	}
	boundary := map[string]map[string]any{"StringEquals": {"iam:PermissionsBoundary": n.BoundaryARN()}}
	state := n.BucketARN("state")
	doc := Document{Statement: []Statement{
		{Sid: "StackServices", Effect: "Allow", Action: services, Resource: []string{"*"}},
		{Sid: "Route53Records", Effect: "Allow", Action: []string{
			"route53:ChangeResourceRecordSets", "route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZones",
			"route53:ListHostedZonesByName", "route53:ListResourceRecordSets", "route53:ListTagsForResource"}, Resource: []string{"*"}},
		// The stacks' own buckets (load balancer access logs); never the bootstrap's.
		{Sid: "StackBuckets", Effect: "Allow", Action: []string{"s3:*"}, NotResource: ownBuckets},
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{state}},
		{Sid: "BackendMeta", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{state + "/.pulumi/meta.yaml"}},
		{Sid: "OwnStacksState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: n.stateObjects(stacks)},
		{Sid: "ReadIAM", Effect: "Allow", Action: []string{"iam:Get*", "iam:List*"}, Resource: []string{"*"}},
		{Sid: "RolesOnlyWithTheBoundary", Effect: "Allow", Action: []string{
			"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
			"iam:PutRolePolicy", "iam:DeleteRolePolicy"}, Resource: []string{n.iam("role", "*")}, Condition: boundary},
		{Sid: "StackRoles", Effect: "Allow", Action: []string{
			"iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:TagRole", "iam:UntagRole",
			"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
			"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile"}, Resource: rolesAndPolicies},
		{Sid: "PassStackRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{n.iam("role", "*")},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": []string{"ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"}}}},
		{Sid: "ServiceLinkedRoles", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"iam:AWSServiceName": serviceLinkedRoles}}},
		{Sid: "Identity", Effect: "Allow", Action: []string{"sts:GetCallerIdentity"}, Resource: []string{"*"}},

		{Sid: "NeverRemoveTheBoundary", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: []string{"*"}},
		{Sid: "NoOtherBoundary", Effect: "Deny", Action: []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringNotEquals": {"iam:PermissionsBoundary": n.BoundaryARN()}}},
		{Sid: "NoTrustChanges", Effect: "Deny", Action: []string{"iam:UpdateAssumeRolePolicy"}, Resource: []string{"*"}},
		{Sid: "NoUsersOrKeys", Effect: "Deny", Action: []string{
			"iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
			"iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:AddUserToGroup", "iam:CreateServiceSpecificCredential",
			"iam:UploadSSHPublicKey", "iam:CreateVirtualMFADevice"}, Resource: []string{"*"}},
		{Sid: "NoPolicyObjects", Effect: "Deny", Action: []string{
			"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
			"iam:CreateOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
			"iam:DeleteOpenIDConnectProvider", "iam:CreateSAMLProvider"}, Resource: []string{"*"}},
		{Sid: "BootstrapIdentitiesUntouchable", Effect: "Deny", NotAction: []string{"iam:Get*", "iam:List*"}, Resource: protectedIAM},
		{Sid: "StateKeyUseOnly", Effect: "Deny", NotAction: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*"},
			Resource: []string{stateKeyARN}},
		{Sid: "StateBucketObjectsOnly", Effect: "Deny", NotAction: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"},
			Resource: []string{state, state + "/*"}},
		{Sid: "AuditBucketsUntouchable", Effect: "Deny", Action: []string{"s3:*"}, Resource: ownBuckets[2:]},
		{Sid: "TrailUntouchable", Effect: "Deny", Action: []string{
			"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
			"cloudtrail:PutInsightSelectors", "cloudtrail:RemoveTags"}, Resource: []string{n.TrailARN()}},
		{Sid: "TrailLogsUntouchable", Effect: "Deny", NotAction: []string{"logs:Describe*", "logs:Get*", "logs:List*", "logs:FilterLogEvents", "logs:StartQuery"},
			Resource: []string{n.TrailLogGroupARN(), n.TrailLogGroupARN() + ":*"}},
		{Sid: "AccountBaselineUntouchable", Effect: "Deny", Action: []string{
			"ec2:DisableEbsEncryptionByDefault", "ec2:ModifyEbsDefaultKmsKeyId", "ec2:ResetEbsDefaultKmsKeyId",
			"s3:PutAccountPublicAccessBlock"}, Resource: []string{"*"}},
	}}
	if trailKeyARN != "" {
		doc.Statement = append(doc.Statement, Statement{Sid: "TrailKeyUntouchable", Effect: "Deny", NotAction: []string{"kms:DescribeKey"}, Resource: []string{trailKeyARN}})
	}
	return doc.String()
}

// ssmInstanceCore are the actions of the AWS managed policy AmazonSSMManagedInstanceCore, which the main
// program attaches to its servers' roles; the boundary admits them, or Session Manager stops working.
var ssmInstanceCore = []string{
	"ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument",
	"ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations", "ssm:ListInstanceAssociations",
	"ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus",
	"ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
	"ec2messages:GetMessages", "ec2messages:SendReply",
}

// boundaryPolicy is the most any role a deploy role creates may do: what the stacks' servers and flow
// logs need (Session Manager, shipping logs and agent metrics, reading the stack's secrets, pulling its
// images), in this account only. No IAM, no STS beyond the role's own session, no data stores.
func (n Names) boundaryPolicy() string {
	acct := n.Account
	p := n.Partition
	return Document{Statement: []Statement{
		{Sid: "SessionManager", Effect: "Allow", Action: ssmInstanceCore, Resource: []string{"*"}},
		{Sid: "ShipLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resource: []string{"arn:" + p + ":logs:*:" + acct + ":log-group:*"}},
		// Listing groups and the agent's lookups take no resource.
		{Sid: "AgentLookups", Effect: "Allow", Action: []string{"logs:DescribeLogGroups", "cloudwatch:PutMetricData", "ec2:DescribeTags"}, Resource: []string{"*"}},
		{Sid: "StackSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resource: []string{"arn:" + p + ":secretsmanager:*:" + acct + ":secret:*"}},
		{Sid: "SecretsKeyViaSecretsManager", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"arn:" + p + ":kms:*:" + acct + ":key/*"},
			Condition: map[string]map[string]any{"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}},
		{Sid: "PullImages", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
			Resource: []string{"*"}},
	}}.String()
}

// releasePolicy lets the release role push images to the stacks' repositories, and nothing else.
func (n Names) releasePolicy(stacks, services []string) string {
	var repos []string
	for _, st := range stacks {
		for _, svc := range services {
			repos = append(repos, "arn:"+n.Partition+":ecr:*:"+n.Account+":repository/"+strings.ToLower(n.Project+"/"+st+"/"+svc))
		}
	}
	sort.Strings(repos)
	return Document{Statement: []Statement{
		{Sid: "RegistryLogin", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
		{Sid: "PushToStackRepositories", Effect: "Allow", Action: []string{
			"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
			"ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages", "ecr:DescribeRepositories"},
			Resource: repos},
	}}.String()
}

// tlsOnly is the statement every bucket policy starts with (FSBP S3.5).
func tlsOnly(bucketARN string) Statement {
	return Statement{Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: []string{"s3:*"},
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}}}
}

// servicePuts lets an AWS service write objects under prefix and read the bucket's ACL, for this
// account's resources only (sourceARN may end in a wildcard).
func (n Names) servicePuts(bucketARN, service, prefix, sourceARN string, ownerFullControl bool) []Statement {
	cond := map[string]map[string]any{"StringEquals": {"aws:SourceAccount": n.Account}}
	if sourceARN != "" {
		cond["ArnLike"] = map[string]any{"aws:SourceArn": sourceARN}
	}
	put := map[string]map[string]any{"StringEquals": {"aws:SourceAccount": n.Account}}
	if ownerFullControl {
		put["StringEquals"]["s3:x-amz-acl"] = "bucket-owner-full-control"
	}
	if sourceARN != "" {
		put["ArnLike"] = map[string]any{"aws:SourceArn": sourceARN}
	}
	principal := map[string]string{"Service": service}
	return []Statement{
		{Sid: "BucketCheck", Effect: "Allow", Principal: principal, Action: []string{"s3:GetBucketAcl", "s3:ListBucket"}, Resource: []string{bucketARN}, Condition: cond},
		{Sid: "Deliver", Effect: "Allow", Principal: principal, Action: []string{"s3:PutObject"}, Resource: []string{bucketARN + "/" + prefix + "AWSLogs/" + n.Account + "/*"}, Condition: put},
	}
}
