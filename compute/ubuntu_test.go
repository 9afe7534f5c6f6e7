package compute

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArchitecture(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ instanceType, arch string }{
		{"t4g.micro", ARM64}, {"t4g.nano", ARM64}, {"m7g.large", ARM64}, {"c7g.medium", ARM64},
		{"t3.micro", AMD64}, {"t3a.small", AMD64}, {"m7i.large", AMD64}, {"c7i.xlarge", AMD64},
	} {
		got, err := Architecture(tc.instanceType)
		require.NoError(t, err, tc.instanceType)
		assert.Equal(t, tc.arch, got, tc.instanceType)
	}
	for _, bad := range []string{"", "t2-micro", "x1e.xlarge", "a1.large", "T4G.micro"} {
		_, err := Architecture(bad)
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
