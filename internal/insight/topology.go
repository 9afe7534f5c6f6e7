package insight

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/football/football-infra/internal/mock"
)

// awsx natGateways.strategy values; OnePerAz is awsx v2's default.
const (
	natNone     = "None"
	natSingle   = "Single"
	natOnePerAZ = "OnePerAz"
)

// awsxDefaultAZs is how many AZs awsx v2 uses when none are named (the first three of the region).
const awsxDefaultAZs = 3

// subnet is one planned subnet: awsx's, placed by the Vpc's inputs and the IDs the plan recorded for it.
type subnet struct {
	ID, AZ, CIDR string
	// Name is the spec's name ("public", "private", "data"); Kind is awsx's type (Public, Private, Isolated).
	Name, Kind string
	vpc        *vpcInfo
}

// vpcInfo is an awsx VPC as the plan describes it.
type vpcInfo struct {
	res     *mock.Resource
	CIDR    string
	AZs     []string
	Subnets []*subnet
	// NAT is awsx's natGateways.strategy (OnePerAz when unset, as in awsx).
	NAT string
}

// natGatewayAZs are the AZs awsx puts a NAT gateway in: none, the first AZ, or every AZ.
func (v *vpcInfo) natGatewayAZs() []string {
	switch v.NAT {
	case natSingle:
		return v.AZs[:min(1, len(v.AZs))]
	case natOnePerAZ:
		return v.AZs
	}
	return nil
}

// firstSubnet returns the first subnet of an awsx type in an AZ, or nil.
func (v *vpcInfo) firstSubnet(az, kind string) *subnet {
	for _, s := range v.Subnets {
		if s.AZ == az && s.Kind == kind {
			return s
		}
	}
	return nil
}

// vpcs reads every awsx VPC of the plan. Subnet IDs come from the Vpc's recorded outputs, listed the way
// awsx (and the mock) return them: for each AZ, each spec of a type in spec order.
func (p *Plan) vpcs() []*vpcInfo {
	var out []*vpcInfo
	for _, r := range p.ofType(typeVpc) {
		v := &vpcInfo{res: r, CIDR: r.Str("cidrBlock"), AZs: r.Strs("availabilityZoneNames"), NAT: r.Str("natGateways.strategy")}
		if v.NAT == "" {
			v.NAT = natOnePerAZ
		}
		if len(v.AZs) == 0 {
			n := awsxDefaultAZs
			if f, ok := r.Num("numberOfAvailabilityZones"); ok && f > 0 {
				n = int(f)
			}
			for i := range n {
				v.AZs = append(v.AZs, "AZ "+strconv.Itoa(i+1))
			}
		}
		ids := map[string][]string{}
		for _, kind := range []string{"public", "private", "isolated"} {
			if o, ok := r.Output(kind + "SubnetIds"); ok && o.IsArray() {
				for _, e := range o.ArrayValue() {
					if e = mock.Unwrap(e); e.IsString() {
						ids[kind] = append(ids[kind], e.StringValue())
					}
				}
			}
		}
		specs, _ := r.Input("subnetSpecs")
		used := map[string]int{}
		for az := range v.AZs {
			if !specs.IsArray() {
				break
			}
			for _, spec := range specs.ArrayValue() {
				kind := lookupStr(spec, "type")
				name := lookupStr(spec, "name")
				if name == "" {
					name = strings.ToLower(kind)
				}
				s := &subnet{AZ: v.AZs[az], Name: name, Kind: kind, vpc: v}
				if blocks, ok := mock.Lookup(spec, "cidrBlocks["+strconv.Itoa(az)+"]"); ok && blocks.IsString() {
					s.CIDR = blocks.StringValue()
				}
				key := strings.ToLower(kind)
				if i := used[key]; i < len(ids[key]) {
					s.ID = ids[key][i]
				}
				used[key]++
				v.Subnets = append(v.Subnets, s)
			}
		}
		out = append(out, v)
	}
	return out
}

// subnetIndex maps subnet IDs to subnets across every VPC of the plan.
func subnetIndex(vpcs []*vpcInfo) map[string]*subnet {
	out := map[string]*subnet{}
	for _, v := range vpcs {
		for _, s := range v.Subnets {
			if s.ID != "" {
				out[s.ID] = s
			}
		}
	}
	return out
}

// subnetsOf maps IDs to planned subnets, dropping the ones the plan does not know.
func subnetsOf(ids []string, index map[string]*subnet) []*subnet {
	var out []*subnet
	for _, id := range ids {
		if s, ok := index[id]; ok {
			out = append(out, s)
		}
	}
	return out
}

// loadBalancerSubnets are the subnets an ELB is placed in (subnets, else subnetMappings).
func loadBalancerSubnets(r *mock.Resource) []string {
	ids := r.Strs("subnets")
	for i := 0; ; i++ {
		id := r.Str(indexPath("subnetMappings", i) + ".subnetId")
		if id == "" {
			break
		}
		ids = append(ids, id)
	}
	return dedupe(ids)
}

// groupSubnets are the subnet IDs of the RDS or ElastiCache subnet group a database or cache uses.
func (p *Plan) groupSubnets(r *mock.Resource) []string {
	name := r.Str("dbSubnetGroupName")
	typ := typeRDSSubnetGroup
	if r.Type == typeReplGroup {
		name, typ = r.Str("subnetGroupName"), typeCacheSubnetGrp
	}
	if name == "" {
		return nil
	}
	for _, g := range p.ofType(typ) {
		if g.ID == name || outputStr(g, "name") == name {
			return g.Strs("subnetIds")
		}
	}
	return nil
}

// cacheNodes is a replication group's shard count and nodes per shard: numCacheClusters nodes in one
// shard, or numNodeGroups shards of 1 + replicasPerNodeGroup nodes. ElastiCache's defaults apply when
// neither is set (one shard of one node).
func cacheNodes(r *mock.Resource) (shards, perShard int) {
	if n, ok := r.Num("numNodeGroups"); ok && n > 0 {
		replicas, _ := r.Num("replicasPerNodeGroup")
		return int(n), 1 + int(replicas)
	}
	if n, ok := r.Num("numCacheClusters"); ok && n > 0 {
		return 1, int(n)
	}
	return 1, 1
}

// cidrCovers reports whether outer contains inner (both CIDR blocks).
func cidrCovers(outer, inner string) bool {
	o, err1 := netip.ParsePrefix(outer)
	i, err2 := netip.ParsePrefix(inner)
	return err1 == nil && err2 == nil && o.Bits() <= i.Bits() && o.Contains(i.Addr())
}

func isWorld(cidr string) bool { return cidr == "0.0.0.0/0" || cidr == "::/0" }

func lookupStr(v resource.PropertyValue, path string) string {
	if x, ok := mock.Lookup(v, path); ok && x.IsString() {
		return x.StringValue()
	}
	return ""
}

func outputStr(r *mock.Resource, path string) string {
	if v, ok := r.Output(path); ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}
