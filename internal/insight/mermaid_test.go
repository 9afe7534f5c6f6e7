package insight

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden diagrams in testdata/")

// placed returns the AZ and subnet name of each node of a kind.
func placed(d *Diagram, kind string) []string {
	var out []string
	for _, id := range d.order {
		n := d.Nodes[id]
		if n.Kind != kind {
			continue
		}
		if n.Subnet == nil {
			out = append(out, "unplaced")
			continue
		}
		out = append(out, n.Subnet.AZ+"/"+n.Subnet.Name)
	}
	return out
}

func hasEdge(d *Diagram, from, to, label string) bool {
	for _, e := range d.Edges {
		if e.From == from && e.To == to && contains(e.Labels, label) {
			return true
		}
	}
	return false
}

func TestDiagramPlacement(t *testing.T) {
	t.Parallel()
	a, b, c := "ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"
	cases := []struct {
		name string
		top  topology
		kind string
		want []string
	}{
		{"NAT gateway in every AZ (OnePerAz)", topology{}, "nat-gateway", []string{a + "/public", b + "/public", c + "/public"}},
		{"one NAT gateway in the first AZ (Single)", topology{nat: natSingle}, "nat-gateway", []string{a + "/public"}},
		{"no NAT gateway (None)", topology{nat: natNone}, "nat-gateway", nil},
		{"NAT instance in its subnet", topology{nat: "instance"}, "nat-instance", []string{a + "/public"}},
		{"ALB node in every public subnet", topology{}, "alb", []string{a + "/public", b + "/public", c + "/public"}},
		{"API group in every private subnet", topology{}, "asg", []string{a + "/private", b + "/private", c + "/private"}},
		{"chat server in its subnet", topology{}, "instance", []string{b + "/public"}},
		{"single-AZ database: primary only", topology{}, "rds-standby", nil},
		{"Multi-AZ database: standby in a second AZ", topology{rdsMultiAZ: true}, "rds-standby", []string{b + "/data"}},
		{"database primary", topology{rdsMultiAZ: true}, "rds-primary", []string{a + "/data"}},
		{"cache primary and replica spread", topology{}, "cache-replica", []string{b + "/data"}},
		{"cluster mode: a primary per shard", topology{redisShards: 2}, "cache-primary", []string{a + "/data", c + "/data"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := BuildDiagram(secureFixture(tc.top).plan("s", ProfileProd))
			assert.Equal(t, tc.want, placed(d, tc.kind))
		})
	}
}

func TestDiagramTraffic(t *testing.T) {
	t.Parallel()
	d := BuildDiagram(secureFixture(topology{rdsMultiAZ: true}).plan("s", ProfileProd))
	albA, apiA, apiB := "api_alb_ap_northeast_2a", "api_asg_ap_northeast_2a", "api_asg_ap_northeast_2b"
	assert.True(t, hasEdge(d, nodeUsers, albA, "tcp 443"), "users reach the ALB on 443")
	assert.True(t, hasEdge(d, nodeUsers, albA, "tcp 80"), "and on 80, from ::/0")
	assert.True(t, hasEdge(d, albA, apiB, "tcp 8080"), "cross-zone: every ALB node reaches every AZ's servers")
	assert.True(t, hasEdge(d, apiA, "data_db_primary", "tcp 3306"))
	assert.False(t, hasEdge(d, apiA, "data_db_standby", "tcp 3306"), "clients reach the primary, not the standby")
	assert.True(t, hasEdge(d, "chat_server", "data_redis_0_0", "tcp 6379"))
	assert.False(t, hasEdge(d, "chat_server", "data_redis_0_1", "tcp 6379"), "clients reach the cache's primary endpoint")
	assert.True(t, hasEdge(d, apiA, "natgw_net_vpc_ap_northeast_2a", "egress"), "OnePerAz: each AZ's own NAT")
	assert.False(t, hasEdge(d, apiA, "natgw_net_vpc_ap_northeast_2b", "egress"))
	assert.True(t, hasEdge(d, "natgw_net_vpc_ap_northeast_2b", nodeInternet, "egress"))
	assert.False(t, hasEdge(d, nodeUsers, apiA, "tcp 8080"), "nothing on the internet reaches a server directly")

	single := BuildDiagram(secureFixture(topology{nat: natSingle}).plan("s", ProfileDev))
	assert.True(t, hasEdge(single, "api_asg_ap_northeast_2c", "natgw_net_vpc_ap_northeast_2a", "egress"), "Single: every AZ uses the first AZ's NAT")
	inst := BuildDiagram(secureFixture(topology{nat: "instance"}).plan("s", ProfileDev))
	assert.True(t, hasEdge(inst, "api_asg_ap_northeast_2b", "net_nat", "egress"))
	assert.True(t, hasEdge(inst, "net_nat", nodeInternet, "egress"))
}

// TestMermaidGolden pins the rendered text of the secure fixture; refresh with -update after a deliberate
// change to the drawing.
func TestMermaidGolden(t *testing.T) {
	t.Parallel()
	for name, top := range map[string]topology{"secure-perAz": {rdsMultiAZ: true, chatPortOpen: 443}, "nat-instance": {nat: "instance"}} {
		var out bytes.Buffer
		require.NoError(t, BuildDiagram(secureFixture(top).plan("s", ProfileProd)).WriteMermaid(&out))
		path := filepath.Join("testdata", name+".mmd")
		if *update {
			require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./internal/insight -run TestMermaidGolden -update")
		assert.Equal(t, string(want), out.String(), "%s differs; rerun with -update if the change is intended", path)
	}
}

func TestDiagramOfEmptyAndUnplacedPlans(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, BuildDiagram(NewPlan("e", ProfileDev, "us-east-1", nil)).WriteMermaid(&out))
	assert.Equal(t, "flowchart TB\n  subgraph region_us_east_1[\"Region us-east-1\"]\n  end\n", out.String())

	// A database whose subnet group is not in the plan is still drawn, inside the region.
	f := &fixture{}
	f.add("", typeRDSInstance, "db", "db", map[string]any{"engine": "postgres", "instanceClass": "db.t4g.micro"}, nil)
	d := BuildDiagram(f.plan("s", ProfileDev))
	assert.Equal(t, []string{"unplaced"}, placed(d, "rds-primary"))
	out.Reset()
	require.NoError(t, d.WriteMermaid(&out))
	assert.Contains(t, out.String(), `    db_primary[("RDS postgres db.t4g.micro<br/>primary")]`)
}
