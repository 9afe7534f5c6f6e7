package offline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/football/football-infra/internal/mock"
)

// Typical creation times per resource type: what `pulumi up` waits for before a resource counts as
// created. They are estimates for planning, not guarantees:
//   - RDS: creation passes through creating, modifying and backing-up before "available"; Multi-AZ adds
//     the standby. hashicorp/terraform#1097 reports up to half an hour for large instances; small gp3
//     instances usually take 5-10 minutes single-AZ and 10-15 Multi-AZ. The provider's default create
//     timeout is 40 minutes.
//   - ElastiCache: hashicorp/terraform#8275's acceptance run created a one-node cluster in 395 s; a
//     replication group with replicas creates its nodes in parallel but waits for replication. Default
//     create timeout 60 minutes (terraform-provider-aws#4093).
//   - NAT gateways "take up to 5 minutes" to become available (kubernetes/kops#944); typically 1-2.
//   - VPC, subnets, route tables: seconds each (steampipe-plugin-aws#184 logs: VPC 20-39 s, subnets 5-8 s).
//   - ALB: provisioning until "active", 2-3 minutes. EC2 instances: until "running", under a minute.
//   - An Auto Scaling group is created once its minimum capacity is InService (the provider's
//     wait_for_capacity, default timeout 10 minutes): launch and boot, 1-2 minutes; during the health
//     check grace period the group counts its instances healthy.
//   - IAM instance profiles wait out IAM's eventual consistency (about 10 s); everything else (security
//     groups and rules, roles, policies, launch templates, log groups, endpoints, subnet and parameter
//     groups, listeners, target groups) takes a few seconds.
var typicalCreate = map[string]time.Duration{
	"aws:rds/instance:Instance":                         8 * time.Minute,
	"aws:elasticache/replicationGroup:ReplicationGroup": 8 * time.Minute,
	"aws:lb/loadBalancer:LoadBalancer":                  3 * time.Minute,
	"aws:ec2/instance:Instance":                         45 * time.Second,
	"aws:autoscaling/group:Group":                       2 * time.Minute,
	"aws:iam/instanceProfile:InstanceProfile":           10 * time.Second,
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   15 * time.Second,
	"aws:ec2/eip:Eip":                                   5 * time.Second,
	"random:index/randomPassword:RandomPassword":        time.Second,
}

const defaultCreate = 5 * time.Second

// createTime estimates how long one resource takes to create, from its type and key inputs.
func createTime(r *mock.Resource) time.Duration {
	switch r.Type {
	case "awsx:ec2:Vpc":
		// VPC, subnets, route tables and the internet gateway; NAT gateways (created per AZ in
		// parallel) come after their subnets.
		d := 45 * time.Second
		if s := r.Str("natGateways.strategy"); s == "Single" || s == "OnePerAz" {
			d += 2 * time.Minute
		}
		return d
	case "aws:rds/instance:Instance":
		if multi, _ := r.Bool("multiAz"); multi {
			return 13 * time.Minute
		}
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		nodes, _ := r.Num("numCacheClusters")
		shards, _ := r.Num("numNodeGroups")
		if nodes > 1 || shards > 1 {
			return 12 * time.Minute
		}
	}
	if !r.Custom {
		return 0 // local components create nothing themselves
	}
	if d, ok := typicalCreate[r.Type]; ok {
		return d
	}
	return defaultCreate
}

// CriticalPath is the longest chain of creations in a plan.
type CriticalPath struct {
	// Total is the estimated wall time of a first `pulumi up` with unlimited parallelism.
	Total time.Duration
	// Path lists the chain, first creation first.
	Path []*mock.Resource
	// Slowest is the slowest single resource, and SlowestTime its estimate.
	Slowest     *mock.Resource
	SlowestTime time.Duration
}

// Critical estimates the plan's critical path. A resource starts when everything it depends on has
// been created; depending on a component means depending on all of the component's descendants.
func (r *Result) Critical() CriticalPath {
	byURN := map[string]*mock.Resource{}
	children := map[string][]*mock.Resource{}
	for _, res := range r.Resources {
		byURN[res.URN] = res
		children[res.Parent] = append(children[res.Parent], res)
	}
	finish := map[string]time.Duration{}
	via := map[string]string{} // the dependency a resource waited for last
	visiting := map[string]bool{}
	var done func(urn string) time.Duration
	done = func(urn string) time.Duration {
		if d, ok := finish[urn]; ok {
			return d
		}
		res := byURN[urn]
		if res == nil || visiting[urn] {
			return 0 // outside the plan, or a cycle (reported by the whole-stack tests)
		}
		visiting[urn] = true
		var start time.Duration
		wait := func(dep string) {
			if d := done(dep); d > start || (d == start && via[urn] == "") {
				start, via[urn] = d, dep
			}
		}
		for _, dep := range res.Dependencies {
			wait(dep)
		}
		end := start + createTime(res)
		if !res.Custom && !res.Remote {
			// A local component is done when all of its children are.
			for _, c := range children[urn] {
				if d := done(c.URN); d > end {
					end, via[urn] = d, c.URN
				}
			}
		}
		visiting[urn] = false
		finish[urn] = end
		return end
	}

	var cp CriticalPath
	var last string
	urns := make([]string, 0, len(byURN))
	for u := range byURN {
		urns = append(urns, u)
	}
	sort.Strings(urns)
	for _, u := range urns {
		if d := done(u); d > cp.Total {
			cp.Total, last = d, u
		}
		if d := createTime(byURN[u]); d > cp.SlowestTime {
			cp.Slowest, cp.SlowestTime = byURN[u], d
		}
	}
	for u := last; u != ""; u = via[u] {
		if res := byURN[u]; res.Custom || res.Remote {
			cp.Path = append([]*mock.Resource{res}, cp.Path...)
		}
	}
	return cp
}

// String renders the estimate for the plan's text output.
func (cp CriticalPath) String() string {
	if cp.Slowest == nil {
		return "Estimated `pulumi up` critical path: nothing to create\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Estimated first `pulumi up` (critical path, typical creation times): %s; slowest single resource %s (%s), %s\n",
		cp.Total, cp.Slowest.Name, cp.Slowest.Type, cp.SlowestTime)
	for _, res := range cp.Path {
		fmt.Fprintf(&b, "  %8s  %s (%s)\n", createTime(res), res.Name, res.Type)
	}
	return b.String()
}
