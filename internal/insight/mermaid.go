package insight

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/football/football-infra/internal/mock"
)

// Diagram is the architecture of one plan: what runs in which subnet of which AZ, and who may talk to
// whom. Everything in it is read from the plan: placement from subnet IDs, traffic from security group
// rules (and, for NAT, from awsx's NAT strategy and the private subnets' routes).
type Diagram struct {
	Region string
	VPCs   []*vpcInfo
	// Nodes are keyed by ID; Edges are unique by (From, To).
	Nodes map[string]*Node
	Edges []*Edge

	order []string
}

// Node is one box of the diagram.
type Node struct {
	ID, Label string
	// Shape is "box", "db" (cylinder) or "circle".
	Shape string
	// Subnet is where the node runs; nil for nodes outside the VPC (users, the internet) or unplaced ones.
	Subnet *subnet
	// Kind classifies the node: users, internet, external, nat-gateway, nat-instance, instance, alb, asg,
	// rds-primary, rds-standby, cache-primary, cache-replica.
	Kind string
	res  *mock.Resource
}

// Edge is allowed traffic from one node to another.
type Edge struct {
	From, To string
	Labels   []string
}

// Node IDs of the nodes outside the VPC.
const (
	nodeUsers    = "users"
	nodeInternet = "internet"
)

var nonID = regexp.MustCompile(`[^A-Za-z0-9]+`)

func nodeID(parts ...string) string {
	return strings.Trim(nonID.ReplaceAllString(strings.Join(parts, "_"), "_"), "_")
}

// BuildDiagram derives the architecture from the plan.
func BuildDiagram(p *Plan) *Diagram {
	d := &Diagram{Region: p.Region, VPCs: p.vpcs(), Nodes: map[string]*Node{}}
	index := subnetIndex(d.VPCs)
	// receivers are the nodes that accept traffic for a resource; senders those that originate it.
	receivers := map[*mock.Resource][]string{}
	senders := map[*mock.Resource][]string{}
	natFor := map[*subnet]string{} // private subnet -> NAT node serving it

	for _, v := range d.VPCs {
		for _, az := range v.natGatewayAZs() {
			s := v.firstSubnet(az, "Public")
			id := nodeID("natgw", v.res.Name, az)
			d.add(&Node{ID: id, Label: "NAT gateway<br/>+ Elastic IP", Shape: "box", Subnet: s, Kind: "nat-gateway"})
			for _, ps := range v.Subnets {
				if ps.Kind != "Private" {
					continue
				}
				if v.NAT == natSingle || ps.AZ == az {
					natFor[ps] = id
				}
			}
		}
	}

	for _, r := range p.Resources {
		switch r.Type {
		case typeInstance:
			s := index[r.Str("subnetId")]
			typ := p.instanceType(r)
			id := nodeID(r.Name)
			if p.isNATInstance(r) {
				d.add(&Node{ID: id, Label: fmt.Sprintf("NAT instance %s<br/>EC2 %s%s", r.Name, orUnknown(typ), eipNote(p, r)),
					Shape: "box", Subnet: s, Kind: "nat-instance", res: r})
				if s != nil {
					for _, ps := range s.vpc.Subnets {
						if ps.Kind == "Private" && natFor[ps] == "" {
							natFor[ps] = id
						}
					}
				}
				continue
			}
			d.add(&Node{ID: id, Label: fmt.Sprintf("%s%s<br/>EC2 %s%s", componentPrefix(r), r.Name, orUnknown(typ), eipNote(p, r)),
				Shape: "box", Subnet: s, Kind: "instance", res: r})
			receivers[r], senders[r] = []string{id}, []string{id}
		case typeLoadBalancer:
			kind := "ALB"
			if t := r.Str("loadBalancerType"); t != "" && t != "application" {
				kind = strings.ToUpper(t[:1]) + "LB"
			}
			if internal, _ := r.Bool("internal"); internal {
				kind = "internal " + kind
			}
			for _, s := range subnetsOf(loadBalancerSubnets(r), index) {
				id := nodeID(r.Name, s.AZ)
				d.add(&Node{ID: id, Label: fmt.Sprintf("%s %s<br/>node in %s", kind, r.Name, s.AZ), Shape: "box", Subnet: s, Kind: "alb", res: r})
				receivers[r] = append(receivers[r], id)
				senders[r] = append(senders[r], id)
			}
		case typeASG:
			size := asgSize(r)
			for _, s := range subnetsOf(r.Strs("vpcZoneIdentifiers"), index) {
				id := nodeID(r.Name, s.AZ)
				d.add(&Node{ID: id, Label: fmt.Sprintf("%s%s<br/>Auto Scaling group, EC2 %s<br/>%s", componentPrefix(r), r.Name, orUnknown(p.instanceType(r)), size),
					Shape: "box", Subnet: s, Kind: "asg", res: r})
				receivers[r] = append(receivers[r], id)
				senders[r] = append(senders[r], id)
			}
		case typeRepository:
			d.add(&Node{ID: nodeID(r.Name), Label: "ECR repository<br/>" + outputStr(r, "name"), Shape: "db", Kind: "registry", res: r})
		case typeRDSInstance:
			subnets := subnetsOf(p.groupSubnets(r), index)
			primary, standby := rdsPlacement(r, subnets)
			what := fmt.Sprintf("RDS %s %s", orUnknown(r.Str("engine")), orUnknown(r.Str("instanceClass")))
			id := nodeID(r.Name, "primary")
			d.add(&Node{ID: id, Label: what + "<br/>primary", Shape: "db", Subnet: primary, Kind: "rds-primary", res: r})
			receivers[r] = []string{id}
			if multi, _ := r.Bool("multiAz"); multi {
				d.add(&Node{ID: nodeID(r.Name, "standby"), Label: what + "<br/>standby (Multi-AZ)", Shape: "db", Subnet: standby, Kind: "rds-standby", res: r})
			}
		case typeReplGroup:
			subnets := subnetsOf(p.groupSubnets(r), index)
			shards, perShard := cacheNodes(r)
			what := fmt.Sprintf("ElastiCache %s %s", orDefault(r.Str("engine"), "redis"), orUnknown(r.Str("nodeType")))
			azs := r.Strs("preferredCacheClusterAzs")
			n := 0
			for sh := range shards {
				for k := range perShard {
					var s *subnet
					switch {
					case n < len(azs):
						s = subnetInAZ(subnets, azs[n])
					case len(subnets) > 0:
						s = subnets[n%len(subnets)]
					}
					role, kind := "primary", "cache-primary"
					if k > 0 {
						role, kind = fmt.Sprintf("replica %d", k), "cache-replica"
					}
					if shards > 1 {
						role = fmt.Sprintf("shard %d %s", sh+1, role)
					}
					id := nodeID(r.Name, fmt.Sprint(sh), fmt.Sprint(k))
					d.add(&Node{ID: id, Label: what + "<br/>" + role, Shape: "db", Subnet: s, Kind: kind, res: r})
					if k == 0 {
						receivers[r] = append(receivers[r], id)
					}
					n++
				}
			}
		}
	}

	// Traffic allowed by security groups: every rule becomes edges from its sources to the receivers of
	// the resources that carry the rule's group.
	carriers := map[string][]*mock.Resource{}
	for _, r := range p.Resources {
		if _, ok := receivers[r]; !ok {
			if _, ok := senders[r]; !ok {
				continue
			}
		}
		for _, sg := range p.securityGroups(r) {
			carriers[sg] = append(carriers[sg], r)
		}
	}
	for _, rule := range p.ingressRules() {
		var to []string
		for _, r := range carriers[rule.SG] {
			to = append(to, receivers[r]...)
		}
		if len(to) == 0 {
			continue
		}
		var from []string
		for _, sg := range rule.SourceSGs {
			for _, r := range carriers[sg] {
				from = append(from, senders[r]...)
			}
		}
		for _, cidr := range rule.CIDRs {
			switch inside := d.nodesInside(cidr); {
			case isWorld(cidr):
				d.add(&Node{ID: nodeUsers, Label: "Users<br/>(internet)", Shape: "circle", Kind: "users"})
				from = append(from, nodeUsers)
			case len(inside) > 0:
				from = append(from, inside...)
			default:
				id := nodeID("cidr", cidr)
				d.add(&Node{ID: id, Label: cidr, Shape: "circle", Kind: "external"})
				from = append(from, id)
			}
		}
		for _, f := range dedupe(from) {
			for _, t := range dedupe(to) {
				if f != t {
					d.edge(f, t, rule.ports())
				}
			}
		}
	}

	// Servers pull their releases from their component's repository.
	for _, repo := range p.ofType(typeRepository) {
		for _, r := range p.Resources {
			if component(r) != component(repo) || (r.Type != typeInstance && r.Type != typeASG) {
				continue
			}
			for _, from := range senders[r] {
				d.edge(from, nodeID(repo.Name), "image pull")
			}
		}
	}

	// Egress of the private subnets through their NAT, and from the NATs to the internet.
	nats := map[string]bool{}
	for _, id := range d.order {
		n := d.Nodes[id]
		if n.Subnet == nil || n.Kind == "nat-instance" || n.Kind == "nat-gateway" {
			continue
		}
		if nat := natFor[n.Subnet]; nat != "" {
			d.edge(id, nat, "egress")
			nats[nat] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(nats)) {
		d.add(&Node{ID: nodeInternet, Label: "Internet", Shape: "circle", Kind: "internet"})
		d.edge(id, nodeInternet, "egress")
	}
	sort.SliceStable(d.Edges, func(i, j int) bool {
		return d.rank(d.Edges[i].From) < d.rank(d.Edges[j].From) ||
			d.rank(d.Edges[i].From) == d.rank(d.Edges[j].From) && d.rank(d.Edges[i].To) < d.rank(d.Edges[j].To)
	})
	return d
}

func (d *Diagram) add(n *Node) {
	if _, ok := d.Nodes[n.ID]; ok {
		return
	}
	d.Nodes[n.ID] = n
	d.order = append(d.order, n.ID)
}

func (d *Diagram) rank(id string) int {
	for i, o := range d.order {
		if o == id {
			return i
		}
	}
	return len(d.order)
}

func (d *Diagram) edge(from, to, label string) {
	for _, e := range d.Edges {
		if e.From == from && e.To == to {
			if !contains(e.Labels, label) {
				e.Labels = append(e.Labels, label)
			}
			return
		}
	}
	d.Edges = append(d.Edges, &Edge{From: from, To: to, Labels: []string{label}})
}

// nodesInside lists the nodes placed in subnets inside cidr (a rule admitting a private subnet's block
// admits what runs there).
func (d *Diagram) nodesInside(cidr string) []string {
	var out []string
	for _, id := range d.order {
		n := d.Nodes[id]
		if n.Subnet != nil && n.Subnet.CIDR != "" && cidrCovers(cidr, n.Subnet.CIDR) {
			out = append(out, id)
		}
	}
	return out
}

// rdsPlacement puts the primary in its availabilityZone (else the group's first subnet) and a Multi-AZ
// standby in the group's next AZ. AWS picks the real AZs; the diagram shows one valid placement.
func rdsPlacement(r *mock.Resource, subnets []*subnet) (primary, standby *subnet) {
	if len(subnets) == 0 {
		return nil, nil
	}
	primary = subnets[0]
	if az := r.Str("availabilityZone"); az != "" {
		if s := subnetInAZ(subnets, az); s != nil {
			primary = s
		}
	}
	for _, s := range subnets {
		if s.AZ != primary.AZ {
			return primary, s
		}
	}
	return primary, nil
}

func subnetInAZ(subnets []*subnet, az string) *subnet {
	for _, s := range subnets {
		if s.AZ == az {
			return s
		}
	}
	return nil
}

func asgSize(r *mock.Resource) string {
	lo, _ := r.Num("minSize")
	hi, _ := r.Num("maxSize")
	if want, ok := r.Num("desiredCapacity"); ok {
		return fmt.Sprintf("%g–%g instances, %g at creation", lo, hi, want)
	}
	return fmt.Sprintf("%g–%g instances", lo, hi)
}

// componentPrefix names the football component a resource belongs to ("ChatBastion: ").
func componentPrefix(r *mock.Resource) string {
	c := component(r)
	if c == "" {
		return ""
	}
	return c[strings.LastIndex(c, ":")+1:] + ": "
}

func eipNote(p *Plan, r *mock.Resource) string {
	if len(p.eipsOf(r)) > 0 {
		return "<br/>Elastic IP"
	}
	if b, _ := r.Bool("associatePublicIpAddress"); b {
		return "<br/>public IPv4"
	}
	return ""
}

func orUnknown(s string) string { return orDefault(s, "(unknown)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// WriteMermaid prints the diagram as a Mermaid flowchart: region, VPC, AZs and subnets as nested
// subgraphs, resources inside the subnet they run in, allowed traffic as labelled arrows.
func (d *Diagram) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart TB\n")
	outside := func(kinds ...string) {
		for _, id := range d.order {
			if n := d.Nodes[id]; n.Subnet == nil && contains(kinds, n.Kind) {
				fmt.Fprintf(&b, "  %s\n", shape(n))
			}
		}
	}
	outside("users", "external")
	fmt.Fprintf(&b, "  subgraph %s[\"Region %s\"]\n", nodeID("region", d.Region), d.Region)
	for _, v := range d.VPCs {
		fmt.Fprintf(&b, "    subgraph %s[\"VPC %s<br/>%s\"]\n", nodeID("vpc", v.res.Name), v.res.Name, v.CIDR)
		for _, az := range v.AZs {
			fmt.Fprintf(&b, "      subgraph %s[\"%s\"]\n", nodeID(v.res.Name, az), az)
			for _, s := range v.Subnets {
				if s.AZ != az {
					continue
				}
				fmt.Fprintf(&b, "        subgraph %s[\"%s subnet<br/>%s\"]\n", nodeID(v.res.Name, az, s.Name), s.Name, s.CIDR)
				for _, id := range d.order {
					if n := d.Nodes[id]; n.Subnet == s {
						fmt.Fprintf(&b, "          %s\n", shape(n))
					}
				}
				b.WriteString("        end\n")
			}
			b.WriteString("      end\n")
		}
		b.WriteString("    end\n")
	}
	// Resources the plan does not place in a known subnet still appear, inside the region.
	for _, id := range d.order {
		if n := d.Nodes[id]; n.Subnet == nil && !contains([]string{"users", "external", "internet"}, n.Kind) {
			fmt.Fprintf(&b, "    %s\n", shape(n))
		}
	}
	b.WriteString("  end\n")
	outside("internet")
	for _, line := range d.edgeLines() {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// edgeLines renders the edges, merging those that share a label and a set of targets into one Mermaid
// line ("a & b -->|tcp 8080| c & d"), so a load balancer's nodes and the group's AZs read as one path.
func (d *Diagram) edgeLines() []string {
	type fan struct{ label, to string }
	targets := map[string]map[string][]string{} // from -> label -> targets
	for _, e := range d.Edges {
		label := strings.Join(e.Labels, ", ")
		if targets[e.From] == nil {
			targets[e.From] = map[string][]string{}
		}
		targets[e.From][label] = append(targets[e.From][label], e.To)
	}
	var order []fan
	sources := map[fan][]string{}
	for _, e := range d.Edges {
		label := strings.Join(e.Labels, ", ")
		f := fan{label, strings.Join(targets[e.From][label], " & ")}
		if contains(sources[f], e.From) {
			continue
		}
		if len(sources[f]) == 0 {
			order = append(order, f)
		}
		sources[f] = append(sources[f], e.From)
	}
	var out []string
	for _, f := range order {
		out = append(out, fmt.Sprintf("%s -->|\"%s\"| %s", strings.Join(sources[f], " & "), f.label, f.to))
	}
	return out
}

func shape(n *Node) string {
	label := strings.ReplaceAll(n.Label, `"`, "#quot;")
	switch n.Shape {
	case "db":
		return fmt.Sprintf("%s[(\"%s\")]", n.ID, label)
	case "circle":
		return fmt.Sprintf("%s((\"%s\"))", n.ID, label)
	}
	return fmt.Sprintf("%s[\"%s\"]", n.ID, label)
}
