package compute

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// chatService is what the chat's servers need whichever way the chat runs (one ChatBastion or a
// ChatFleet): their instance role, the service's ECR repository and log group, and the role's read of the
// Redis AUTH secret.
type chatService struct {
	// component names the component in errors ("chat fleet \"chat\""); purpose describes the role.
	component, purpose string
	// own is the component's type token, other the other mode's: the repository and the log group are the
	// service's, not one component's, so they alias the other mode's component and a move between the
	// modes keeps them (with their images and logs) instead of deleting them.
	own, other string
	settings   ChatSettings
	boundary   pulumi.StringPtrInput
	// imageTags, ownRepository: as ChatBastionArgs' and ChatFleetArgs'.
	imageTags     []string
	ownRepository string
	logs          LogShipping
	// byGroup: the servers are an Auto Scaling group's (their agent names them by the group).
	byGroup            bool
	redisAuthSecretARN pulumi.StringInput
	redisTLS           bool
}

// chatServiceParts are what newChatService registered that the component goes on with.
type chatServiceParts struct {
	profile       *iam.InstanceProfile
	repositoryURL pulumi.StringOutput
	// authARN is the Redis AUTH secret the servers read ("" without AUTH).
	authARN pulumi.StringOutput
}

// newChatService registers the chat servers' role and instance profile, the service's repository (which
// the role may pull from) and log group (which the role's agent ships to), and, with AUTH, the role's
// read of exactly the AUTH secret. Everything is a child of c.
func newChatService(ctx *pulumi.Context, name string, c pulumi.Resource, s chatService) (*chatServiceParts, error) {
	child := pulumi.Parent(c)
	role, profile, err := newInstanceRole(ctx, name, s.purpose, s.settings.Region, s.boundary, child)
	if err != nil {
		return nil, err
	}
	moved := []pulumi.Alias{{ParentURN: siblingURN(c, s.own, s.other)}}
	repo, err := newRepository(ctx, name, s.settings.ReleaseSettings, s.imageTags, s.ownRepository, s.settings.Profile == profileProd, c, moved)
	if err != nil {
		return nil, err
	}
	if err := allowPull(ctx, name, role, repo, child); err != nil {
		return nil, err
	}
	if _, err := shipLogs(ctx, name, role, s.logs, s.byGroup, moved, child); err != nil {
		return nil, err
	}
	authARN, readAuth := redisAuthSecret(s.component, s.redisAuthSecretARN, s.redisTLS)
	if readAuth {
		if _, err := iam.NewRolePolicy(ctx, name+"-redis-secret", &iam.RolePolicyArgs{
			Role: role.Name,
			Policy: authARN.ApplyT(func(arn string) (string, error) {
				return secretReadPolicy("ReadRedisAuthToken", arn)
			}).(pulumi.StringOutput),
		}, child); err != nil {
			return nil, err
		}
	}
	return &chatServiceParts{profile: profile, repositoryURL: repo.url, authARN: authARN}, nil
}
