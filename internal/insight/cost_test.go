package insight

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func book(t *testing.T) *PriceBook {
	t.Helper()
	b, err := LoadPrices()
	require.NoError(t, err)
	return b
}

// item finds the line item of a resource whose description starts with prefix.
func item(t *testing.T, e *Estimate, resource, prefix string) LineItem {
	t.Helper()
	for _, it := range e.Items {
		if it.Resource == resource && strings.HasPrefix(it.Item, prefix) {
			return it
		}
	}
	t.Fatalf("no item %q for %s in %+v", prefix, resource, e.Items)
	return LineItem{}
}

func TestPricesLoadAndResolve(t *testing.T) {
	t.Parallel()
	b := book(t)
	assert.Equal(t, 730.0, b.HoursPerMonth)
	cases := []struct {
		region, key string
		known       bool
		usd         float64
		derived     string
	}{
		{"ap-northeast-2", "vpc.nat-gateway", true, 0.059, ""},
		{"us-east-1", "vpc.nat-gateway", true, 0.045, ""},
		{"ap-northeast-2", "ec2.t4g.nano", true, 0.0052, "t4g-linear"},
		{"us-east-1", "ec2.t4g.nano", true, 0.0042, "t4g-linear"},
		{"us-east-1", "rds.gp3.multi-az", true, 0.23, "rds-multi-az-double"},
		{"ap-northeast-2", "elasticache.valkey.cache.t4g.micro", true, 0.0192, "valkey-0.8x"},
		{"ap-northeast-2", "rds.mysql.db.t4g.small.single-az", true, 0.05, "managed-t4g-linear"},
		{"ap-northeast-2", "rds.mysql.db.t4g.micro.multi-az", true, 0.05, "rds-multi-az-double"},
		{"ap-northeast-2", "rds.mysql.db.t4g.medium.multi-az", true, 0.2, "managed-t4g-linear-multi-az"},
		{"ap-northeast-2", "elasticache.redis.cache.t4g.small", true, 0.048, "managed-t4g-linear"},
		{"ap-northeast-2", "elasticache.valkey.cache.t4g.small", true, 0.0384, "valkey-managed-t4g-linear"},
		{"ap-northeast-2", "logs.ingestion", true, 0.76, ""},
		{"ap-northeast-2", "rds.postgres.db.t4g.small.single-az", false, 0, ""},
		{"eu-west-1", "vpc.nat-gateway", false, 0, ""},
	}
	for _, c := range cases {
		p := b.Price(c.region, c.key)
		assert.Equal(t, c.known, p.Known, "%s %s", c.region, c.key)
		assert.InDelta(t, c.usd, p.USD, 1e-9, "%s %s", c.region, c.key)
		assert.Equal(t, c.derived, p.Derived, "%s %s", c.region, c.key)
		if !p.Known {
			assert.NotEmpty(t, p.Why, "an unknown price says why")
		}
	}
	assert.Contains(t, b.Price("eu-west-1", "vpc.nat-gateway").Why, "no price for vpc.nat-gateway in eu-west-1")
}

func TestPricesRejectDefects(t *testing.T) {
	t.Parallel()
	cases := []struct{ doc, want string }{
		{`{"hoursPerMonth": 730, "prices": [{"key": "a", "region": "r", "unit": "hour", "usd": 1, "date": "2026"}]}`,
			"prices[0] (a in r): a price needs its source and date"},
		{`{"hoursPerMonth": 730, "prices": [{"key": "a", "region": "r", "unit": "hour", "usd": null}]}`,
			"prices[0] (a in r): an unknown price (usd null) needs a note saying why"},
		{`{"hoursPerMonth": 730, "prices": [{"key": "a", "region": "r", "unit": "hour", "derivedFrom": "b", "factor": 2, "rule": "x"}]}`,
			`rule "x" is not in rules`},
		{`{"hoursPerMonth": 730, "rules": {"x": "y"}, "prices": [{"key": "a", "region": "r", "unit": "hour", "derivedFrom": "b", "factor": 2, "rule": "x"}]}`,
			"base b has no quoted price in r"},
		{`{"hoursPerMonth": 730, "prices": [{"key": "a", "region": "r", "unit": "hour", "usd": 1, "source": "s", "date": "d"},
		  {"key": "a", "region": "r", "unit": "hour", "usd": 2, "source": "s", "date": "d"}]}`,
			"prices[1] (a in r): listed twice"},
		{`{"hoursPerMonth": 0, "prices": []}`, "hoursPerMonth 0 is not allowed"},
		{`{"hoursPerMonth": 730, "prices": [], "pirces": []}`, `unknown field "pirces"`},
	}
	for _, c := range cases {
		_, err := parsePrices([]byte(c.doc))
		require.Error(t, err, c.doc)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestEstimateCostSecurePlan(t *testing.T) {
	t.Parallel()
	b := book(t)
	e := EstimateCost(secureFixture(topology{}).plan("s", ProfileProd), b)
	cases := []struct {
		resource, item string
		qty, monthly   float64
		tier           string
	}{
		{"net-vpc", "NAT gateway hours (awsx OnePerAz)", 3, 129.21, TierNetwork},
		{"net-vpc", "public IPv4 of the NAT gateways", 3, 10.95, TierNetwork},
		{"api-alb", "ALB hours", 1, 16.43, TierCompute},
		{"api-alb", "ALB LCUs (1 assumed)", 1, 5.84, TierCompute},
		{"api-alb", "public IPv4 of the ALB's nodes", 3, 10.95, TierCompute},
		{"api-asg", "EC2 t4g.small × desiredCapacity 2", 2, 30.37, TierCompute},
		{"api-asg", "EBS gp3 volumes (GB) × 2 instance(s)", 32, 2.92, TierCompute},
		{"chat-server", "EC2 t4g.micro", 1, 7.59, TierCompute},
		{"data-db", "RDS mysql db.t4g.micro single-az", 1, 18.25, TierData},
		{"data-db", "RDS gp3 storage single-az (GB)", 20, 2.62, TierData},
		{"data-redis", "ElastiCache redis cache.t4g.micro × 2 node(s)", 2, 35.04, TierData},
	}
	for _, c := range cases {
		it := item(t, e, c.resource, c.item)
		assert.Equal(t, c.qty, it.Quantity, c.item)
		assert.InDelta(t, c.monthly, it.Monthly, 0.001, c.item)
		assert.Equal(t, c.tier, it.Tier, c.item)
	}
	logs := item(t, e, "net-flow-log", "flow logs ingested to cloud-watch-logs (5 GB/month assumed)")
	assert.True(t, logs.Price.Known)
	assert.InDelta(t, 3.80, logs.Monthly, 0.001, "5 GB × $0.76")
	tot := e.Totals()
	assert.InDelta(t, 143.96, tot.ByTier[TierNetwork], 0.001)
	assert.True(t, tot.Complete())
	assert.Empty(t, tot.Unknown)

	var out bytes.Buffer
	require.NoError(t, e.WriteText(&out))
	assert.Regexp(t, `flow logs ingested.*\$0\.76/GB\s+5\s+-\s+\$3\.80`, out.String())
}

func TestEstimateCostNAT(t *testing.T) {
	t.Parallel()
	b := book(t)
	count := func(e *Estimate, prefix string) float64 {
		for _, it := range e.Items {
			if strings.HasPrefix(it.Item, prefix) {
				return it.Quantity
			}
		}
		return 0
	}
	single := EstimateCost(secureFixture(topology{nat: natSingle}).plan("s", ProfileDev), b)
	assert.Equal(t, 1.0, count(single, "NAT gateway hours (awsx Single)"))
	none := EstimateCost(secureFixture(topology{nat: natNone}).plan("s", ProfileDev), b)
	assert.Equal(t, 0.0, count(none, "NAT gateway hours"))

	inst := EstimateCost(secureFixture(topology{nat: "instance"}).plan("s", ProfileDev), b)
	assert.InDelta(t, 3.80, item(t, inst, "net-nat", "EC2 t4g.nano").Monthly, 0.001)
	assert.InDelta(t, 0.73, item(t, inst, "net-nat", "EBS gp3 volumes (GB) × 1").Monthly, 0.001)
	assert.InDelta(t, 3.65, item(t, inst, "net-nat-eip", "public IPv4 (Elastic IP of net-nat)").Monthly, 0.001)
	// NAT instance 3.80 + its disk 0.73 + its address 3.65, and the fixture's flow logs 3.80.
	assert.InDelta(t, 11.98, inst.Totals().ByTier[TierNetwork], 0.001)

	// awsx's defaults: three NAT gateways with their addresses instead of the instance, ALB in 3 AZs.
	alt := inst.AWSXDefaults(b)
	for _, it := range alt.Items {
		assert.NotContains(t, it.Resource, "net-nat", "the NAT instance is gone: %+v", it)
	}
	assert.InDelta(t, 143.96, alt.Totals().ByTier[TierNetwork], 0.001, "3 × (NAT gateway 43.07 + address 3.65) + flow logs 3.80")
	assert.Equal(t, 3.0, count(alt, "public IPv4 of the ALB's nodes"))
	assert.InDelta(t, inst.Totals().ByTier[TierData], alt.Totals().ByTier[TierData], 0.001, "data tier unchanged")
}

func TestEstimateCostRedisClusterModeAndMultiAZ(t *testing.T) {
	t.Parallel()
	b := book(t)
	e := EstimateCost(secureFixture(topology{redisShards: 2, rdsMultiAZ: true, rdsClass: "db.r7g.large"}).plan("s", ProfileProd), b)
	redis := item(t, e, "data-redis", "ElastiCache redis cache.t4g.micro × 4 node(s)")
	assert.Equal(t, 4.0, redis.Quantity, "2 shards × (1 primary + 1 replica)")
	db := item(t, e, "data-db", "RDS mysql db.r7g.large multi-az")
	assert.False(t, db.Price.Known, "a class prices.json does not list is unknown, not guessed")
	assert.Equal(t, "rds.mysql.db.r7g.large.multi-az", db.Price.Key)
	assert.InDelta(t, 5.24, item(t, e, "data-db", "RDS gp3 storage multi-az").Monthly, 0.001)

	var md bytes.Buffer
	require.NoError(t, e.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "| data | `data-db` | RDS mysql db.r7g.large multi-az | unknown | 1 | 730 | unknown |")
	assert.Contains(t, md.String(), "Incomplete: 1 item(s) have no price")
}

func TestWriteCostSummary(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, WriteCostSummary(&out, secureFixture(topology{nat: "instance"}).plan("s", ProfileDev)))
	assert.Contains(t, out.String(), "planned:       $")
	assert.Contains(t, out.String(), "awsx defaults: $")
}

// TestBaselineCostsPerRegion: the account baseline's usage-billed services are priced in the region their
// provider deploys them to, and a plan without a VPC has no awsx comparison.
func TestBaselineCostsPerRegion(t *testing.T) {
	t.Parallel()
	book, err := LoadPrices()
	require.NoError(t, err)
	f := &fixture{}
	const comp = "football:bootstrap:Baseline"
	prov := f.add(comp, typeProvider, "baseline-us-east-1", "p", map[string]any{"region": "us-east-1"}, nil)
	f.add(comp, typeDetector, "guardduty", "d1", map[string]any{"enable": true}, nil)
	f.add(comp, typeDetector, "guardduty-us-east-1", "d2", map[string]any{"enable": true}, nil).Provider = prov.URN
	f.add(comp, typeHubStandard, "fsbp", "s1", map[string]any{}, nil)
	f.add(comp, typeRecorder, "recorder", "r1", map[string]any{}, nil)
	f.add(comp, typeTrail, "trail", "t", map[string]any{"cloudWatchLogsGroupArn": "arn:lg:*"}, nil)
	e := EstimateCost(f.plan("workloads", ""), book)
	assert.False(t, e.ComparesWithAWSX())
	regions := map[string]string{}
	for _, it := range e.Items {
		assert.True(t, it.Price.Known, "%s %s", it.Resource, it.Price.Why)
		assert.Equal(t, TierBootstrap, it.Tier)
		regions[it.Resource+" "+it.Price.Key] = it.Price.Region
	}
	assert.Equal(t, "ap-northeast-2", regions["guardduty guardduty.cloudtrail-events"])
	assert.Equal(t, "us-east-1", regions["guardduty-us-east-1 guardduty.cloudtrail-events"])
	assert.Equal(t, "us-east-1", regions["guardduty-us-east-1 guardduty.flow-dns-logs"])
	assert.Contains(t, regions, "fsbp securityhub.check")
	assert.Contains(t, regions, "recorder config.item")
	assert.Equal(t, "ap-northeast-2", regions["trail logs.ingestion"])
	assert.Contains(t, strings.Join(e.Assumptions, "\n"), "Account baseline: 5,000 Security Hub checks a region a month")
}
