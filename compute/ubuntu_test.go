package compute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUbuntuImage(t *testing.T) {
	t.Parallel()
	const prefix = "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/"
	for _, tc := range []struct{ instanceType, arch string }{
		{"t4g.micro", "arm64"}, {"t4g.nano", "arm64"}, {"m7g.large", "arm64"}, {"c7g.medium", "arm64"},
		{"t3.micro", "amd64"}, {"t3a.small", "amd64"}, {"m7i.large", "amd64"}, {"c7i.xlarge", "amd64"},
	} {
		got, err := UbuntuImage(tc.instanceType)
		require.NoError(t, err, tc.instanceType)
		assert.Equal(t, prefix+tc.arch+"/hvm/ebs-gp3/ami-id", got, tc.instanceType)
	}
	for _, bad := range []string{"", "t2-micro", "x1e.xlarge", "a1.large", "T4G.micro"} {
		_, err := UbuntuImage(bad)
		assert.ErrorContains(t, err, "is not allowed; family must be one of", "%q", bad)
	}
}

func TestCheckInstanceType(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"t4g.nano", "t4g.2xlarge", "t3.micro", "m7g.medium", "m7i.large", "c7a.medium", "r7g.16xlarge"} {
		assert.Empty(t, checkInstanceType(ok), ok)
	}
	for bad, want := range map[string]string{
		"t4g.mirco":  "t4g comes in nano, micro",
		"t2-micro":   "must be <family>.<size>",
		"t2.micro":   "must be <family>.<size>",
		"m7i.medium": "m7i comes in large,",
		"m7g.nano":   "m7g comes in medium, large",
		"t4g.":       "t4g comes in",
		"":           "must be <family>.<size>",
	} {
		assert.Contains(t, checkInstanceType(bad), want, "%q", bad)
	}
}

func TestCidrSlug(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "0-0-0-0-0", cidrSlug("0.0.0.0/0"))
	assert.Equal(t, "xx-0", cidrSlug("::/0"))
	assert.Equal(t, "2001xdb8xx-32", cidrSlug("2001:db8::/32"))
}
