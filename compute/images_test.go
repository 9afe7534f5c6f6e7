package compute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

// TestNewUbuntuImagesRecordsUnpinned: an unpinned architecture gets Canonical's newest image, recorded in
// a stack-owned SSM parameter whose value later deployments ignore; a pinned one is used as it is and
// records nothing.
func TestNewUbuntuImagesRecordsUnpinned(t *testing.T) {
	t.Parallel()
	ids := map[string]string{}
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		imgs, err := NewUbuntuImages(ctx, "ubuntu", &UbuntuImagesArgs{
			ImageSettings:   ImageSettings{AMD64: "ami-0fedcba9876543210"},
			Architectures:   []string{ARM64, AMD64, ARM64},
			ParameterPrefix: "/football/dev",
		})
		if err != nil {
			return err
		}
		for arch, o := range imgs.IDs {
			ids[arch] = mock.Await[string](t, o)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "ami-0fedcba9876543210", ids[AMD64], "a pin is used as it is")
	p := m.One(t, "aws:ssm/parameter:Parameter")
	assert.Equal(t, "/football/dev/ubuntu-24.04/arm64/ami-id", p.Str("name"))
	assert.Equal(t, "aws:ec2:image", p.Str("dataType"), "SSM checks that the value is an image")
	assert.Equal(t, "String", p.Str("type"))
	assert.Equal(t, []string{"insecureValue"}, p.IgnoreChanges, "a newer Canonical image must not change a running stack")
	assert.Regexp(t, `^ami-0[0-9a-f]{16}$`, p.Str("insecureValue"))
	assert.Equal(t, p.Str("insecureValue"), ids[ARM64])
	comp := m.One(t, ubuntuImagesType)
	assert.Equal(t, comp.URN, p.Parent)
	assert.Len(t, ids, 2)
}

func TestNewUbuntuImagesRefusesBadArgs(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewUbuntuImages(ctx, "ubuntu", &UbuntuImagesArgs{
			ImageSettings:   ImageSettings{ARM64: "ami-123", AMD64: "resolve:ssm:/aws/service/x"},
			Architectures:   []string{"x86_64"},
			ParameterPrefix: "football dev",
		})
		return err
	})
	require.Error(t, err)
	for _, want := range []string{
		`football:images.arm64: "ami-123" is not allowed; must be an AMI ID such as ami-0123456789abcdef0 (find the newest: aws ssm get-parameter --region <region> --name /aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id`,
		`football:images.amd64: "resolve:ssm:/aws/service/x" is not allowed`,
		`wiring: Architectures has "x86_64"; allowed arm64, amd64`,
		`wiring: ParameterPrefix "football dev" is not allowed`,
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.Empty(t, m.All(), "bad args register nothing")
}
