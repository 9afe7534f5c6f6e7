package network

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// Tier is a row of subnets with one subnet per availability zone.
type Tier string

// The tiers, in the order of their blocks in the VPC. The order is part of the address plan: a tier's
// position fixes its block, so it must never change. New tiers are appended (the fourth block is free).
const (
	// Public subnets route to the internet gateway: load balancer nodes, the chat server, NAT.
	Public Tier = "public"
	// Private subnets reach the internet only outbound, through NAT: the API servers.
	Private Tier = "private"
	// Data subnets have no route to the internet at all: RDS and ElastiCache.
	Data Tier = "data"
)

// tierOrder fixes each tier's block. Append only.
var tierOrder = []Tier{Public, Private, Data}

// tierBlocks is how many equal blocks the VPC is cut into, one per tier. It is one more than the tiers in
// use, so that a tier added later gets a block without moving anybody.
const tierBlocks = 4

// awsReserved is the number of addresses AWS keeps in every subnet (network, router, DNS, future, broadcast).
const awsReserved = 5

// PlannedSubnet is one subnet of the plan.
type PlannedSubnet struct {
	Tier             Tier   `json:"tier"`
	AvailabilityZone string `json:"availabilityZone"`
	CIDR             string `json:"cidr"`
	// Usable is the address count left after AWS's five reserved addresses.
	Usable int `json:"usable"`
	// Slot is the subnet's index among the VPC's 2^subnetBits slots.
	Slot int `json:"slot"`
}

// Plan is the address plan of one VPC.
type Plan struct {
	VPCCIDR    string `json:"vpcCidr"`
	SubnetBits int    `json:"subnetBits"`
	// SubnetPrefix is the prefix length of every subnet (/20 for a /16 with 4 bits).
	SubnetPrefix int `json:"subnetPrefix"`
	// Slots is 2^SubnetBits, the subnets the VPC can hold; SlotsPerTier is a quarter of that.
	Slots        int             `json:"slots"`
	SlotsPerTier int             `json:"slotsPerTier"`
	Subnets      []PlannedSubnet `json:"subnets"`
}

// CIDRs returns the tier's CIDR blocks in the order of the given AZs.
func (p Plan) CIDRs(t Tier, azs []string) []string {
	var out []string
	for _, az := range azs {
		for _, s := range p.Subnets {
			if s.Tier == t && s.AvailabilityZone == az {
				out = append(out, s.CIDR)
			}
		}
	}
	return out
}

// CIDR returns the block of the tier's subnet in az, or "" when the plan has none.
func (p Plan) CIDR(t Tier, az string) string {
	if c := p.CIDRs(t, []string{az}); len(c) == 1 {
		return c[0]
	}
	return ""
}

// PlanSubnets lays the tiers' subnets out in the VPC.
//
// The VPC is split into 2^subnetBits equal slots and the slots into four equal blocks, one per tier (public,
// private, data, and one kept free). Inside its tier's block, a subnet's slot is its AZ's letter: "a" is the
// first, "b" the second. So a subnet's CIDR depends only on its tier and its AZ's letter, never on how many
// AZs or tiers there are or in which order they are listed: adding an AZ or a tier never moves an existing
// subnet, and moving a subnet means replacing it with everything inside it.
//
// With the defaults (10.0.0.0/16, 4 bits) the subnets are /20s, 4091 usable addresses each, four AZs per
// tier: public 10.0.0.0/20 (a), 10.0.16.0/20 (b)...; private from 10.0.64.0/20; data from 10.0.128.0/20.
func PlanSubnets(vpcCIDR string, subnetBits int, azs []string, tiers []Tier) (Plan, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	prefix, err := netip.ParsePrefix(vpcCIDR)
	if err != nil || !prefix.Addr().Is4() {
		return Plan{}, fmt.Errorf("cidr: %q is not an IPv4 CIDR block", vpcCIDR)
	}
	if prefix.Masked() != prefix {
		return Plan{}, fmt.Errorf("cidr: %q has host bits set; the network is %s", vpcCIDR, prefix.Masked())
	}
	subnetPrefix := prefix.Bits() + subnetBits
	switch {
	case subnetBits < 2:
		fail("subnetBits: %d is not allowed; at least 2 bits are needed for the %d tier blocks", subnetBits, tierBlocks)
	case subnetPrefix > 28:
		fail("subnetBits: %d is not allowed; a /%d VPC split by %d bits gives /%d subnets, and AWS's smallest subnet is a /28 (allowed up to %d bits)",
			subnetBits, prefix.Bits(), subnetBits, subnetPrefix, 28-prefix.Bits())
	}
	if len(errs) > 0 {
		return Plan{}, errors.Join(errs...)
	}
	slots := 1 << subnetBits
	perTier := slots / tierBlocks

	if need := len(tiers) * len(azs); need > slots {
		fail("subnetBits: %d is not allowed; %d tiers × %d AZs = %d subnets, but a /%d with subnetBits %d has only 2^%d = %d /%d slots; use fewer AZs or more subnetBits",
			subnetBits, len(tiers), len(azs), need, prefix.Bits(), subnetBits, subnetBits, slots, subnetPrefix)
	}
	seenAZ := map[string]bool{}
	for _, az := range azs {
		if seenAZ[az] {
			fail("availabilityZones: %q is listed twice", az)
		}
		seenAZ[az] = true
		idx, ok := azIndex(az)
		if !ok {
			fail("availabilityZones: %q is not an availability zone name ending in a letter", az)
			continue
		}
		if idx >= perTier {
			fail("availabilityZones: %q takes slot %d of each tier's block, but subnetBits %d gives 2^%d = %d slots / %d tier blocks = %d per tier (AZ letters a-%c); raise subnetBits to %d",
				az, idx, subnetBits, subnetBits, slots, tierBlocks, perTier, 'a'+perTier-1, bitsFor(idx+1))
		}
	}
	seenTier := map[Tier]bool{}
	for _, t := range tiers {
		if tierIndex(t) < 0 {
			fail("tiers: %q is not a tier; allowed %s", t, strings.Join(tierNames(), ", "))
		}
		if seenTier[t] {
			fail("tiers: %q is listed twice", t)
		}
		seenTier[t] = true
	}
	if len(errs) > 0 {
		return Plan{}, errors.Join(errs...)
	}

	plan := Plan{VPCCIDR: prefix.String(), SubnetBits: subnetBits, SubnetPrefix: subnetPrefix, Slots: slots, SlotsPerTier: perTier}
	usable := 1<<(32-subnetPrefix) - awsReserved
	for _, az := range azs {
		idx, _ := azIndex(az) // checked above
		for _, t := range tierOrder {
			if !seenTier[t] {
				continue
			}
			slot := tierIndex(t)*perTier + idx
			plan.Subnets = append(plan.Subnets, PlannedSubnet{
				Tier: t, AvailabilityZone: az, CIDR: nthSubnet(prefix, subnetPrefix, slot).String(), Usable: usable, Slot: slot,
			})
		}
	}
	return plan, nil
}

// nthSubnet returns the n-th /bits subnet of the prefix.
func nthSubnet(p netip.Prefix, bits, n int) netip.Prefix {
	a := p.Addr().As4()
	base := new(big.Int).SetBytes(a[:])
	base.Add(base, new(big.Int).Lsh(big.NewInt(int64(n)), uint(32-bits)))
	var out [4]byte
	base.FillBytes(out[:])
	return netip.PrefixFrom(netip.AddrFrom4(out), bits)
}

// azIndex maps an AZ name to its letter's position: ap-northeast-2a -> 0, ap-northeast-2c -> 2.
func azIndex(az string) (int, bool) {
	if len(az) < 2 {
		return 0, false
	}
	c := az[len(az)-1]
	if c < 'a' || c > 'z' || az[len(az)-2] < '0' || az[len(az)-2] > '9' {
		return 0, false
	}
	return int(c - 'a'), true
}

func tierIndex(t Tier) int {
	for i, x := range tierOrder {
		if x == t {
			return i
		}
	}
	return -1
}

func tierNames() []string {
	var out []string
	for _, t := range tierOrder {
		out = append(out, string(t))
	}
	return out
}

// bitsFor returns the subnet bits that give at least n slots per tier block.
func bitsFor(n int) int {
	b := 2
	for (1<<b)/tierBlocks < n {
		b++
	}
	return b
}
