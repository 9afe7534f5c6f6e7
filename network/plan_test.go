package network

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allTiers = []Tier{Public, Private, Data}

func TestPlanSubnetsDefaultLayout(t *testing.T) {
	t.Parallel()
	plan, err := PlanSubnets("10.0.0.0/16", 4, []string{"ap-northeast-2a", "ap-northeast-2c"}, allTiers)
	require.NoError(t, err)
	assert.Equal(t, 20, plan.SubnetPrefix)
	assert.Equal(t, 16, plan.Slots)
	assert.Equal(t, 4, plan.SlotsPerTier)
	want := []PlannedSubnet{
		{Public, "ap-northeast-2a", "10.0.0.0/20", 4091, 0},
		{Private, "ap-northeast-2a", "10.0.64.0/20", 4091, 4},
		{Data, "ap-northeast-2a", "10.0.128.0/20", 4091, 8},
		{Public, "ap-northeast-2c", "10.0.32.0/20", 4091, 2},
		{Private, "ap-northeast-2c", "10.0.96.0/20", 4091, 6},
		{Data, "ap-northeast-2c", "10.0.160.0/20", 4091, 10},
	}
	assert.Equal(t, want, plan.Subnets)
	assert.Equal(t, []string{"10.0.64.0/20", "10.0.96.0/20"}, plan.CIDRs(Private, []string{"ap-northeast-2a", "ap-northeast-2c"}))
}

func TestPlanSubnetsRefusals(t *testing.T) {
	t.Parallel()
	azs6 := []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}
	cases := []struct {
		name  string
		cidr  string
		bits  int
		azs   []string
		tiers []Tier
		want  []string
	}{
		{"too many subnets", "10.0.0.0/16", 4, azs6, allTiers,
			[]string{"3 tiers × 6 AZs = 18 subnets", "2^4 = 16 /20 slots"}},
		{"az letter beyond block", "10.0.0.0/16", 4, []string{"us-east-1a", "us-east-1e"}, allTiers,
			[]string{`"us-east-1e" takes slot 4`, "4 per tier (AZ letters a-d)", "raise subnetBits to 5"}},
		{"subnets below /28", "10.0.0.0/24", 5, []string{"x-y-1a", "x-y-1b"}, allTiers,
			[]string{"subnetBits: 5 is not allowed", "/29 subnets", "up to 4 bits"}},
		{"one bit", "10.0.0.0/16", 1, []string{"x-y-1a"}, allTiers, []string{"subnetBits: 1 is not allowed"}},
		{"not a cidr", "10.0.0.0", 4, []string{"x-y-1a"}, allTiers, []string{`"10.0.0.0" is not an IPv4 CIDR`}},
		{"host bits", "10.0.0.1/16", 4, []string{"x-y-1a"}, allTiers, []string{"host bits set; the network is 10.0.0.0/16"}},
		{"duplicate az", "10.0.0.0/16", 4, []string{"x-y-1a", "x-y-1a"}, allTiers, []string{`"x-y-1a" is listed twice`}},
		{"bad az", "10.0.0.0/16", 4, []string{"nowhere"}, allTiers, []string{`"nowhere" is not an availability zone`}},
		{"bad tier", "10.0.0.0/16", 4, []string{"x-y-1a"}, []Tier{"dmz"}, []string{`"dmz" is not a tier`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := PlanSubnets(c.cidr, c.bits, c.azs, c.tiers)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// checkPlan asserts the plan's invariants: every subnet inside the VPC, of the planned size, none
// overlapping, at most 2^bits of them, one per tier and AZ.
func checkPlan(t *testing.T, plan Plan, vpc string, bits int, azs []string, tiers []Tier) {
	t.Helper()
	outer := netip.MustParsePrefix(vpc)
	require.Len(t, plan.Subnets, len(azs)*len(tiers))
	require.LessOrEqual(t, len(plan.Subnets), 1<<bits)
	seen := map[string]bool{}
	var prefixes []netip.Prefix
	for _, s := range plan.Subnets {
		p := netip.MustParsePrefix(s.CIDR)
		assert.Equal(t, outer.Bits()+bits, p.Bits(), s.CIDR)
		assert.True(t, outer.Contains(p.Addr()), "%s outside %s", s.CIDR, vpc)
		assert.Equal(t, 1<<(32-p.Bits())-5, s.Usable)
		for _, q := range prefixes {
			assert.False(t, p.Overlaps(q), "%s overlaps %s", p, q)
		}
		prefixes = append(prefixes, p)
		key := string(s.Tier) + "/" + s.AvailabilityZone
		assert.False(t, seen[key], "two subnets for %s", key)
		seen[key] = true
	}
}

func TestPlanSubnetsStableWhenAddingAZsAndTiers(t *testing.T) {
	t.Parallel()
	small, err := PlanSubnets("10.0.0.0/16", 4, []string{"r-1a", "r-1c"}, []Tier{Public, Private})
	require.NoError(t, err)
	big, err := PlanSubnets("10.0.0.0/16", 4, []string{"r-1a", "r-1b", "r-1c", "r-1d"}, allTiers)
	require.NoError(t, err)
	checkPlan(t, big, "10.0.0.0/16", 4, []string{"r-1a", "r-1b", "r-1c", "r-1d"}, allTiers)
	for _, s := range small.Subnets {
		assert.Contains(t, big.Subnets, s, "adding AZs and a tier moved %v", s)
	}
}

// FuzzPlanSubnets checks containment, non-overlap and stability on arbitrary inputs: whatever plan is
// accepted is sound, and every subnet of a plan survives unchanged in the plan with one more AZ and all tiers.
func FuzzPlanSubnets(f *testing.F) {
	f.Add(uint32(0x0a000000), uint8(16), uint8(4), uint8(0b0101), uint8(0b011))
	f.Add(uint32(0xac100000), uint8(20), uint8(3), uint8(0b0011), uint8(0b111))
	f.Add(uint32(0xc0a80000), uint8(24), uint8(4), uint8(0b1111), uint8(0b101))
	f.Add(uint32(0x64400000), uint8(18), uint8(6), uint8(0b110011), uint8(0b111))
	f.Fuzz(func(t *testing.T, base uint32, prefix, bits, azMask, tierMask uint8) {
		prefix = 16 + prefix%9
		bits %= 13
		ip := netip.AddrFrom4([4]byte{byte(base >> 24), byte(base >> 16), byte(base >> 8), byte(base)})
		vpc := netip.PrefixFrom(ip, int(prefix)).Masked().String()
		var azs []string
		for i := 0; i < 8; i++ {
			if azMask&(1<<i) != 0 {
				azs = append(azs, fmt.Sprintf("zz-test-1%c", 'a'+i))
			}
		}
		var tiers []Tier
		for i, tier := range allTiers {
			if tierMask&(1<<i) != 0 {
				tiers = append(tiers, tier)
			}
		}
		plan, err := PlanSubnets(vpc, int(bits), azs, tiers)
		if err != nil {
			// Refusals must explain themselves with the rule that failed.
			if !strings.Contains(err.Error(), "subnetBits") && !strings.Contains(err.Error(), "AZs") {
				t.Fatalf("refusal without the arithmetic: %v", err)
			}
			return
		}
		checkPlan(t, plan, vpc, int(bits), azs, tiers)

		// Stability: one more AZ (the next free letter) and every tier.
		next := 'a'
		for _, az := range azs {
			next = rune(az[len(az)-1]) + 1
		}
		more := append(append([]string(nil), azs...), fmt.Sprintf("zz-test-1%c", next))
		bigger, err := PlanSubnets(vpc, int(bits), more, allTiers)
		if err != nil {
			return // no room to grow; refusing is right
		}
		for _, s := range plan.Subnets {
			if !containsSubnet(bigger.Subnets, s) {
				t.Fatalf("growing the plan moved %+v", s)
			}
		}
	})
}

func containsSubnet(xs []PlannedSubnet, s PlannedSubnet) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
