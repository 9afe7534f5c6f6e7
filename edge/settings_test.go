package edge

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

func TestHostNamesByStack(t *testing.T) {
	t.Parallel()
	prod := DomainSettings{Stack: "prod", Zone: "Example.com."}.WithDefaults()
	assert.Equal(t, "example.com", prod.Zone)
	assert.Equal(t, []string{"api.example.com", "chat.example.com"}, []string{prod.APIHost, prod.ChatHost})
	dev := DomainSettings{Stack: "dev-use1", Zone: "example.com"}.WithDefaults()
	assert.Equal(t, []string{"api.dev-use1.example.com", "chat.dev-use1.example.com"}, []string{dev.APIHost, dev.ChatHost})
	require.NoError(t, dev.Validate())
	none := DomainSettings{Stack: "dev"}.WithDefaults()
	assert.False(t, none.Enabled())
	assert.NoError(t, none.Validate())
	assert.ErrorContains(t, DomainSettings{Stack: "dev", ChatHost: "chat.example.com"}.WithDefaults().Validate(),
		"football:domain.zone: not set")
	same := DomainSettings{Stack: "prod", Zone: "example.com", APIHost: "www.example.com", ChatHost: "www.example.com"}.WithDefaults()
	assert.ErrorContains(t, same.Validate(), "must differ from apiHost")
	// "example.com" itself is not inside the zone as a host: records at the apex cannot be told apart here.
	apex := DomainSettings{Stack: "prod", Zone: "example.com", APIHost: "example.com"}.WithDefaults()
	assert.ErrorContains(t, apex.Validate(), `football:domain.apiHost: "example.com" is not allowed; must be inside the zone`)
}

func TestWAFDefaults(t *testing.T) {
	t.Parallel()
	dev := WAFSettings{Profile: "dev"}.WithDefaults()
	assert.False(t, *dev.Enabled)
	prod := WAFSettings{Profile: "prod"}.WithDefaults()
	assert.True(t, *prod.Enabled)
	assert.Equal(t, Block, prod.Mode)
	assert.Equal(t, 2000, prod.RateLimit)
	assert.Equal(t, map[string]string{"common": Block, "knownBadInputs": Block, "ipReputation": Block, "sqli": Block}, prod.Groups)
	assert.Equal(t, []Override{{Group: "common", Rule: "NoUserAgent_HEADER", Action: Count}}, prod.Overrides)
	require.NoError(t, prod.Validate())
	off := WAFSettings{Profile: "prod", Groups: map[string]string{"common": Off}}.WithDefaults()
	assert.ErrorContains(t, off.Validate(), `football:waf.overrides[0].group: "common" is not allowed; the group is off`)
}

func TestEdgeWithoutDomainOrWAFRegistersOnlyItself(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": "ap-northeast-2"}}, func(ctx *pulumi.Context) error {
		_, err := NewEdge(ctx, "edge", &EdgeArgs{Domain: DomainSettings{Stack: "dev"}, WAF: WAFSettings{Profile: "dev"},
			Project: "football", Stack: "dev", LoadBalancerARN: pulumi.String("arn"), LoadBalancerDNSName: pulumi.String("dns"),
			LoadBalancerZoneID: pulumi.String("Z1")})
		return err
	})
	require.NoError(t, err)
	assert.Len(t, m.All(), 1, "only the component")

	_, err = mock.Run(mock.Options{Config: map[string]string{"aws:region": "ap-northeast-2"}}, func(ctx *pulumi.Context) error {
		_, err := NewEdge(ctx, "edge", &EdgeArgs{Domain: DomainSettings{Stack: "dev", Zone: "example.com"}, WAF: WAFSettings{Profile: "dev"},
			Project: "football", Stack: "dev"})
		return err
	})
	assert.ErrorContains(t, err, "wiring: ZoneID is required with a domain")
	assert.ErrorContains(t, err, "wiring: LoadBalancerARN, LoadBalancerDNSName and LoadBalancerZoneID are required")
}

// TestWAFRateLimitRange: the limit AWS WAF and the pinned provider both accept, 10..2000000000, at both ends.
func TestWAFRateLimitRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit int
		ok    bool
	}{{9, false}, {10, true}, {99, true}, {2000000000, true}, {2000000001, false}} {
		err := WAFSettings{Profile: "prod", RateLimit: tc.limit}.WithDefaults().Validate()
		if tc.ok {
			assert.NoError(t, err, "%d", tc.limit)
		} else {
			assert.ErrorContains(t, err, "football:waf.rateLimit: ", "%d", tc.limit)
			assert.ErrorContains(t, err, "allowed 10..2000000000 requests per client IP in 5 minutes", "%d", tc.limit)
		}
	}
}
