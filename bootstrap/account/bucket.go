package account

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// bucketSpec is what differs between the bootstrap's buckets; everything else is the same for all:
// public access blocked, ACLs disabled (bucket owner enforced), default encryption, a lifecycle, a
// TLS-only policy (FSBP S3.5, S3.8, S3.12, S3.13).
type bucketSpec struct {
	// Name is the bucket's fixed name (Names.Bucket).
	Name string
	// KMSKeyARN encrypts objects with SSE-KMS (and a bucket key, to keep KMS requests few); nil is SSE-S3,
	// which server access logging and AWS Config deliveries need for their target.
	KMSKeyARN pulumi.StringInput
	// Versioned keeps overwritten and deleted objects as noncurrent versions for NoncurrentDays.
	Versioned      bool
	NoncurrentDays int
	// ExpireDays deletes current objects after this many days (0: never).
	ExpireDays int
	// AccessLogBucket receives the bucket's server access logs under <name>/ (FSBP S3.9); "" for none.
	AccessLogBucket pulumi.StringInput
	// Grants are statements the bucket policy adds after the TLS-only deny.
	Grants []Statement
	// Keep protects the bucket and leaves it in AWS when it leaves the program.
	Keep bool
}

// newBucket registers a bucket and its settings, all parented to parent, and returns it with its policy
// (services that check the policy when they are set up wait for it). The policy waits for the public
// access block: S3 refuses some policies while the block is being set.
func newBucket(ctx *pulumi.Context, name string, spec bucketSpec, parent pulumi.Resource) (*s3.BucketV2, *s3.BucketPolicy, error) {
	child := pulumi.Parent(parent)
	bucketOpts := []pulumi.ResourceOption{child}
	if spec.Keep {
		bucketOpts = append(bucketOpts, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{Bucket: pulumi.String(spec.Name)}, bucketOpts...)
	if err != nil {
		return nil, nil, err
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name+"-block", &s3.BucketPublicAccessBlockArgs{
		Bucket:          bucket.ID(),
		BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, child)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name+"-ownership", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, child); err != nil {
		return nil, nil, err
	}
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	rule := &s3.BucketServerSideEncryptionConfigurationV2RuleArgs{ApplyServerSideEncryptionByDefault: sse}
	if spec.KMSKeyARN != nil {
		sse.SseAlgorithm, sse.KmsMasterKeyId = pulumi.String("aws:kms"), spec.KMSKeyARN
		rule.BucketKeyEnabled = pulumi.Bool(true)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-sse", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{rule},
	}, child); err != nil {
		return nil, nil, err
	}
	var versioning pulumi.Resource
	if spec.Versioned {
		v, err := s3.NewBucketVersioningV2(ctx, name+"-versioning", &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, child)
		if err != nil {
			return nil, nil, err
		}
		versioning = v
	}
	lifecycle := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("retention"),
		Status: pulumi.String("Enabled"),
		Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(7),
		},
	}
	if spec.ExpireDays > 0 {
		lifecycle.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(spec.ExpireDays)}
	}
	if spec.Versioned {
		lifecycle.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(spec.NoncurrentDays),
		}
	}
	lifecycleOpts := []pulumi.ResourceOption{child}
	if versioning != nil {
		// S3 applies noncurrent-version rules only once versioning is on.
		lifecycleOpts = append(lifecycleOpts, pulumi.DependsOn([]pulumi.Resource{versioning}))
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  s3.BucketLifecycleConfigurationV2RuleArray{lifecycle},
	}, lifecycleOpts...); err != nil {
		return nil, nil, err
	}
	if spec.AccessLogBucket != nil {
		if _, err := s3.NewBucketLoggingV2(ctx, name+"-logging", &s3.BucketLoggingV2Args{
			Bucket:       bucket.ID(),
			TargetBucket: spec.AccessLogBucket,
			TargetPrefix: pulumi.String(spec.Name + "/"),
		}, child); err != nil {
			return nil, nil, err
		}
	}
	grants := spec.Grants
	policy := bucket.Arn.ApplyT(func(arn string) string {
		return Document{Statement: append([]Statement{tlsOnly(arn)}, grants...)}.String()
	}).(pulumi.StringOutput)
	bp, err := s3.NewBucketPolicy(ctx, name+"-policy", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policy,
	}, child, pulumi.DependsOn([]pulumi.Resource{block}))
	if err != nil {
		return nil, nil, err
	}
	return bucket, bp, nil
}
