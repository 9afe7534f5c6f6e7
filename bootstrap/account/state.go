package account

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const stateBackendType = "football:bootstrap:StateBackend"

// StateBackendArgs configures NewStateBackend.
type StateBackendArgs struct {
	// Names are the account's fixed names. Required.
	Names Names
	// NoncurrentVersionDays is how long overwritten state stays recoverable. Required, 1..3650.
	NoncurrentVersionDays int
	// LogRetentionDays is how long the access logs are kept. Required, at least 1.
	LogRetentionDays int
}

// StateBackend is where every stack of the account keeps its state and encrypts its secrets: a versioned,
// KMS-encrypted, TLS-only bucket and a rotating KMS key, both protected and retained on delete, and the
// bucket that receives the server access logs of the bootstrap's buckets.
type StateBackend struct {
	pulumi.ResourceState
	// BucketName is the state bucket.
	BucketName pulumi.StringOutput
	// KeyARN is the state key: SSE-KMS for the bucket, and the awskms:// secrets provider.
	KeyARN pulumi.StringOutput
	// AccessLogBucket receives server access logs (the trail and AWS Config buckets log to it too).
	AccessLogBucket pulumi.StringOutput
	// BackendURL is what `pulumi login` takes: s3://<bucket>?region=<region>.
	BackendURL pulumi.StringOutput
	// SecretsProvider is what `pulumi stack init --secrets-provider` takes: awskms://<alias>?region=<region>.
	SecretsProvider pulumi.StringOutput
}

func (a StateBackendArgs) validate() error {
	var errs []error
	if a.Names.Account == "" || a.Names.Region == "" || a.Names.Project == "" || a.Names.Partition == "" {
		errs = append(errs, errors.New("wiring: Names needs the partition, account, region and project"))
	}
	if a.NoncurrentVersionDays < 1 || a.NoncurrentVersionDays > 3650 {
		errs = append(errs, fmt.Errorf("noncurrentVersionDays: %d is not allowed; allowed 1..3650", a.NoncurrentVersionDays))
	}
	if a.LogRetentionDays < 1 {
		errs = append(errs, fmt.Errorf("logRetentionDays: %d is not allowed; at least 1", a.LogRetentionDays))
	}
	return errors.Join(errs...)
}

// NewStateBackend checks args, then registers the state backend. Bad args register nothing.
func NewStateBackend(ctx *pulumi.Context, name string, args *StateBackendArgs, opts ...pulumi.ResourceOption) (*StateBackend, error) {
	if args == nil {
		return nil, fmt.Errorf("state backend %q: args are required", name)
	}
	a := *args
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("state backend %q: %w", name, err)
	}
	s := &StateBackend{}
	if err := ctx.RegisterComponentResource(stateBackendType, name, s, opts...); err != nil {
		return nil, err
	}
	n := a.Names
	keep := []pulumi.ResourceOption{pulumi.Parent(s), pulumi.Protect(true), pulumi.RetainOnDelete(true)}
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String(n.Project + ": Pulumi state (SSE-KMS) and stack secrets (awskms:// secrets provider)"),
		EnableKeyRotation:    pulumi.Bool(true), // FSBP KMS.4
		DeletionWindowInDays: pulumi.Int(30),
		// The account's IAM policies decide who may use the key (the CI roles' policies name it).
		Policy: pulumi.String(Document{Statement: []Statement{{
			Sid: "AccountIAMPolicies", Effect: "Allow", Principal: map[string]string{"AWS": "arn:" + n.Partition + ":iam::" + n.Account + ":root"},
			Action: []string{"kms:*"}, Resource: []string{"*"},
		}}}.String()),
	}, keep...)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name+"-key-alias", &kms.AliasArgs{
		Name:        pulumi.String(n.StateKeyAlias()),
		TargetKeyId: key.KeyId,
	}, pulumi.Parent(s)); err != nil {
		return nil, err
	}
	logs, _, err := newBucket(ctx, name+"-access-logs", bucketSpec{
		Name:       n.Bucket("access-logs"),
		ExpireDays: a.LogRetentionDays,
		// S3 server access logging delivers as logging.s3.amazonaws.com, for this account's buckets only.
		Grants: []Statement{{Sid: "ServerAccessLogs", Effect: "Allow", Principal: map[string]string{"Service": "logging.s3.amazonaws.com"},
			Action: []string{"s3:PutObject"}, Resource: []string{n.BucketARN("access-logs") + "/*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": n.Account}}}},
		Keep: true,
	}, s)
	if err != nil {
		return nil, err
	}
	bucket, _, err := newBucket(ctx, name+"-bucket", bucketSpec{
		Name:            n.Bucket("state"),
		KMSKeyARN:       key.Arn,
		Versioned:       true,
		NoncurrentDays:  a.NoncurrentVersionDays,
		AccessLogBucket: logs.Bucket,
		Keep:            true,
	}, s)
	if err != nil {
		return nil, err
	}
	s.BucketName, s.KeyARN, s.AccessLogBucket = bucket.Bucket, key.Arn, logs.Bucket
	s.BackendURL = pulumi.Sprintf("s3://%s?region=%s", bucket.Bucket, n.Region)
	s.SecretsProvider = pulumi.String(fmt.Sprintf("awskms://%s?region=%s", n.StateKeyAlias(), n.Region)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"bucketName": s.BucketName, "keyArn": s.KeyARN, "accessLogBucket": s.AccessLogBucket,
		"backendUrl": s.BackendURL, "secretsProvider": s.SecretsProvider,
	}); err != nil {
		return nil, err
	}
	return s, nil
}
