package insight

import (
	"fmt"
	"strings"

	"github.com/football/football-infra/internal/mock"
)

// ingress is one inbound security group rule, whichever way it was declared: a
// vpc.SecurityGroupIngressRule, an ec2.SecurityGroupRule of type ingress, or an inline rule of a security
// group (or of the default security group).
type ingress struct {
	// res declared the rule; SG is the ID of the group the rule admits traffic to.
	res *mock.Resource
	SG  string
	// CIDRs and SourceSGs are where traffic may come from.
	CIDRs, SourceSGs []string
	// Protocol is "tcp", "udp", "icmp" or "-1" (all); From and To bound the ports (0 and 65535 for all).
	Protocol string
	From, To int
}

// allPorts tells a rule that admits every port: protocol -1, or a TCP/UDP range 0-65535.
func (r ingress) allPorts() bool {
	return r.Protocol == "-1" || (r.From <= 0 && r.To >= 65535)
}

// covers tells whether the rule admits TCP or UDP traffic to port.
func (r ingress) covers(port int) bool {
	return r.allPorts() || ((r.Protocol == "tcp" || r.Protocol == "udp") && r.From <= port && port <= r.To)
}

// world tells whether the rule admits the whole internet (0.0.0.0/0 or ::/0).
func (r ingress) world() bool {
	for _, c := range r.CIDRs {
		if isWorld(c) {
			return true
		}
	}
	return false
}

// ports is a short human form: "tcp 443", "tcp 1024-2048", "all traffic".
func (r ingress) ports() string {
	switch {
	case r.Protocol == "-1":
		return "all traffic"
	case r.From == r.To:
		return fmt.Sprintf("%s %d", r.Protocol, r.From)
	case r.From <= 0 && r.To >= 65535:
		return r.Protocol + " all ports"
	}
	return fmt.Sprintf("%s %d-%d", r.Protocol, r.From, r.To)
}

// normalProtocol maps protocol numbers and aliases to the names rules are compared by.
func normalProtocol(p string) string {
	switch strings.ToLower(p) {
	case "-1", "all", "":
		return "-1"
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	}
	return strings.ToLower(p)
}

// ingressRules gathers every inbound rule of the plan.
func (p *Plan) ingressRules() []ingress {
	var out []ingress
	ports := func(r *mock.Resource, prefix string) (int, int) {
		from, _ := r.Num(prefix + "fromPort")
		to, ok := r.Num(prefix + "toPort")
		if !ok {
			to = from
		}
		return int(from), int(to)
	}
	for _, r := range p.Resources {
		switch r.Type {
		case typeIngressRule:
			in := ingress{res: r, SG: r.Str("securityGroupId"), Protocol: normalProtocol(r.Str("ipProtocol"))}
			in.From, in.To = ports(r, "")
			in.CIDRs = dedupe([]string{r.Str("cidrIpv4"), r.Str("cidrIpv6")})
			in.SourceSGs = dedupe([]string{r.Str("referencedSecurityGroupId")})
			if in.Protocol == "-1" {
				in.From, in.To = 0, 65535
			}
			out = append(out, in)
		case typeSGRule:
			if r.Str("type") != "ingress" {
				continue
			}
			in := ingress{res: r, SG: r.Str("securityGroupId"), Protocol: normalProtocol(r.Str("protocol"))}
			in.From, in.To = ports(r, "")
			in.CIDRs = append(r.Strs("cidrBlocks"), r.Strs("ipv6CidrBlocks")...)
			in.SourceSGs = dedupe([]string{r.Str("sourceSecurityGroupId")})
			if self, _ := r.Bool("self"); self {
				in.SourceSGs = append(in.SourceSGs, in.SG)
			}
			if in.Protocol == "-1" {
				in.From, in.To = 0, 65535
			}
			out = append(out, in)
		case typeSG, typeDefaultSG:
			for i := 0; ; i++ {
				prefix := indexPath("ingress", i)
				if _, ok := r.Input(prefix); !ok {
					break
				}
				in := ingress{res: r, SG: r.ID, Protocol: normalProtocol(r.Str(prefix + ".protocol"))}
				in.From, in.To = ports(r, prefix+".")
				in.CIDRs = append(r.Strs(prefix+".cidrBlocks"), r.Strs(prefix+".ipv6CidrBlocks")...)
				in.SourceSGs = r.Strs(prefix + ".securityGroups")
				if self, _ := r.Bool(prefix + ".self"); self {
					in.SourceSGs = append(in.SourceSGs, r.ID)
				}
				if in.Protocol == "-1" {
					in.From, in.To = 0, 65535
				}
				out = append(out, in)
			}
		}
	}
	return out
}
