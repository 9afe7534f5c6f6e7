package compute

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsfacts"
)

// ec2AssumeRole lets EC2 instances assume a role.
const ec2AssumeRole = `{"Version":"` + awsfacts.PolicyVersion + `","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// newInstanceRole registers a role for servers with only AmazonSSMManagedInstanceCore attached, so
// operators reach every server through Session Manager without SSH (FSBP SSM.1), and its instance
// profile. Callers add what their service needs as inline policies on the returned role. boundary (nil
// for none) is the role's permissions boundary: the bootstrap's deploy roles create only roles that carry it.
func newInstanceRole(ctx *pulumi.Context, name, purpose, region string, boundary pulumi.StringPtrInput, opts ...pulumi.ResourceOption) (*iam.Role, *iam.InstanceProfile, error) {
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:         pulumi.String(purpose),
		AssumeRolePolicy:    pulumi.String(ec2AssumeRole),
		PermissionsBoundary: boundary,
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm", &iam.RolePolicyAttachmentArgs{
		Role: role.Name,
		// In the region's partition: the SDK's iam.ManagedPolicyAmazonSSMManagedInstanceCore is the
		// commercial partition's only.
		PolicyArn: pulumi.String(awsfacts.ManagedPolicy(region, "AmazonSSMManagedInstanceCore")),
	}, opts...); err != nil {
		return nil, nil, err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return role, profile, nil
}

// secretReadPolicy allows reading exactly the listed Secrets Manager secrets, by full ARN (no wildcard).
// Both secrets use the account's aws/secretsmanager key, which needs no kms:Decrypt grant of its own.
func secretReadPolicy(sid string, secretARNs ...string) (string, error) {
	if len(secretARNs) == 0 {
		return "", errors.New("secret policy: no secret to allow")
	}
	for _, arn := range secretARNs {
		if arn == "" {
			return "", errors.New("secret policy: a secret ARN is empty")
		}
	}
	return awsfacts.Policy(map[string]any{
		"Sid":      sid,
		"Effect":   "Allow",
		"Action":   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		"Resource": secretARNs,
	})
}

// redisAuthSecret resolves the optional RedisAuthSecretARN wiring of a server. It returns the ARN to
// write into REDIS_AUTH_SECRET_ARN ("" when there is none) and whether the server's role must be allowed
// to read it. The second result is decided on plain values only (a policy created inside an apply would
// be invisible to preview): a secret is read when one is wired and Redis speaks TLS, because ElastiCache
// accepts an AUTH token only with transit encryption. A wired value that contradicts redisTLS fails the
// deployment when it resolves, naming the mistake.
func redisAuthSecret(component string, arn pulumi.StringInput, redisTLS bool) (pulumi.StringOutput, bool) {
	if arn == nil {
		return pulumi.String("").ToStringOutput(), false
	}
	checked := arn.ToStringOutput().ApplyT(func(v string) (string, error) {
		switch {
		case redisTLS && v == "":
			return "", fmt.Errorf("%s: wiring: RedisAuthSecretARN resolved to \"\" while RedisTLS is true; pass nil when Redis has no AUTH token", component)
		case !redisTLS && v != "":
			return "", fmt.Errorf("%s: wiring: RedisAuthSecretARN is set but RedisTLS is false; ElastiCache accepts an AUTH token only with transit encryption", component)
		}
		return v, nil
	}).(pulumi.StringOutput)
	return checked, redisTLS
}
