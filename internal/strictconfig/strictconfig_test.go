package strictconfig

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	errs := UnknownKeys("p", []string{"p:a", "p:typo", "aws:region", "other:x"}, []string{"a", "b"})
	require.Len(t, errs, 1)
	assert.EqualError(t, errs[0], "p:typo: unknown key; allowed p:a, p:b")
}

func TestDecodeSection(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int `json:"n"`
	}
	type settings struct {
		Name  string           `json:"name"`
		Inner inner            `json:"inner"`
		Map   map[string]inner `json:"map"`
	}
	cases := map[string]string{
		`{"name":"x","inner":{"n":1},"map":{"k":{"n":2}}}`: "",
		`{"nam":"x"}`:           "p:s.nam: unknown key; allowed inner, map, name",
		`{"map":{"k":{"m":1}}}`: "p:s.map.k.m: unknown key; allowed n",
		`{"inner":{"n":"one"}}`: "p:s.inner.n: a string is not allowed; must be a number",
		`["not","an","object"]`: `p:s: "[\"not\",\"an\",\"object\"]" is not allowed; must be an object of settings`,
	}
	for raw, want := range cases {
		var got settings
		_, err := mock.Run(mock.Options{Project: "p", Config: map[string]string{"p:s": raw}}, func(ctx *pulumi.Context) error {
			return DecodeSection(ctx, "p", "s", &got)
		})
		if want == "" {
			assert.NoError(t, err, raw)
			assert.Equal(t, 2, got.Map["k"].N)
			continue
		}
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want)
	}
}
