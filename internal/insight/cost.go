package insight

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/football/football-infra/internal/mock"
)

//go:embed prices.json
var pricesJSON []byte

// Budget is the monthly target of each stack, in USD: what TestCostTargets checks the plan against.
var Budget = map[string]float64{"dev": 100, "prod": 400}

// PriceBook holds the prices of prices.json.
type PriceBook struct {
	HoursPerMonth float64 `json:"hoursPerMonth"`
	Assumptions   struct {
		ALBLCUs                 float64 `json:"albLCUs"`
		ALBLCUsNote             string  `json:"albLCUsNote"`
		FlowLogGBPerMonth       float64 `json:"flowLogGBPerMonth"`
		FlowLogGBPerMonthNote   string  `json:"flowLogGBPerMonthNote"`
		ECRGBPerRepository      float64 `json:"ecrGBPerRepository"`
		ECRGBPerRepositoryNote  string  `json:"ecrGBPerRepositoryNote"`
		WAFRequestsMillions     float64 `json:"wafRequestsMillions"`
		WAFRequestsMillionsNote string  `json:"wafRequestsMillionsNote"`
		WAFLogGBPerMonth        float64 `json:"wafLogGBPerMonth"`
		WAFLogGBPerMonthNote    string  `json:"wafLogGBPerMonthNote"`
		ServerLogGBPerGroup     float64 `json:"serverLogGBPerGroup"`
		ServerLogGBPerGroupNote string  `json:"serverLogGBPerGroupNote"`
		SecurityHubChecks       float64 `json:"securityHubChecks"`
		SecurityHubChecksNote   string  `json:"securityHubChecksNote"`
		ConfigItems             float64 `json:"configItems"`
		ConfigItemsNote         string  `json:"configItemsNote"`
		GuardDutyEventsMillions float64 `json:"guardDutyEventsMillions"`
		GuardDutyFlowDNSGB      float64 `json:"guardDutyFlowDnsGB"`
		GuardDutyNote           string  `json:"guardDutyNote"`
		TrailLogGBPerMonth      float64 `json:"trailLogGBPerMonth"`
		TrailLogGBPerMonthNote  string  `json:"trailLogGBPerMonthNote"`
	} `json:"assumptions"`
	Rules  map[string]string `json:"rules"`
	Prices []PriceEntry      `json:"prices"`

	index map[string]*PriceEntry
}

// PriceEntry is one figure of prices.json: a quoted price with its source and date, a price derived from
// another entry by a named rule, or a known gap (USD null).
type PriceEntry struct {
	Key    string   `json:"key"`
	Region string   `json:"region"`
	Unit   string   `json:"unit"`
	USD    *float64 `json:"usd"`
	Source string   `json:"source,omitempty"`
	Date   string   `json:"date,omitempty"`
	Note   string   `json:"note,omitempty"`
	// DerivedFrom, Factor and Rule make a derived price: Factor times the DerivedFrom entry of the same
	// region, or of DerivedRegion when set.
	DerivedFrom   string  `json:"derivedFrom,omitempty"`
	DerivedRegion string  `json:"derivedRegion,omitempty"`
	Factor        float64 `json:"factor,omitempty"`
	Rule          string  `json:"rule,omitempty"`
}

// baseRegion is the region of the entry a derived price is derived from.
func (e *PriceEntry) baseRegion() string {
	if e.DerivedRegion != "" {
		return e.DerivedRegion
	}
	return e.Region
}

// Price is a resolved unit price.
type Price struct {
	Key, Region, Unit string
	// Known is false when no figure exists; USD is then 0.
	Known bool
	USD   float64
	// Derived names the rule a derived price came from.
	Derived string
	// Why explains an unknown price.
	Why string
}

// LoadPrices reads the embedded prices.json and checks it: every quoted figure has a source and a date,
// every derived one a known rule and an existing base, and no key is listed twice for a region.
func LoadPrices() (*PriceBook, error) { return parsePrices(pricesJSON) }

func parsePrices(raw []byte) (*PriceBook, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b PriceBook
	var doc struct {
		About string `json:"about"`
		PriceBook
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("prices.json: %w", err)
	}
	b = doc.PriceBook
	b.index = map[string]*PriceEntry{}
	var errs []error
	if b.HoursPerMonth <= 0 {
		errs = append(errs, fmt.Errorf("prices.json: hoursPerMonth %v is not allowed; must be positive (730)", b.HoursPerMonth))
	}
	for i := range b.Prices {
		e := &b.Prices[i]
		at := fmt.Sprintf("prices.json: prices[%d] (%s in %s)", i, e.Key, e.Region)
		if e.Key == "" || e.Region == "" || e.Unit == "" {
			errs = append(errs, fmt.Errorf("%s: key, region and unit are required", at))
		}
		id := e.Region + "/" + e.Key
		if _, dup := b.index[id]; dup {
			errs = append(errs, fmt.Errorf("%s: listed twice", at))
		}
		b.index[id] = e
		switch {
		case e.DerivedFrom != "":
			if _, ok := b.Rules[e.Rule]; !ok {
				errs = append(errs, fmt.Errorf("%s: rule %q is not in rules", at, e.Rule))
			}
			if e.Factor <= 0 || e.USD != nil {
				errs = append(errs, fmt.Errorf("%s: a derived price needs a positive factor and no usd", at))
			}
		case e.USD != nil:
			if e.Source == "" || e.Date == "" {
				errs = append(errs, fmt.Errorf("%s: a price needs its source and date", at))
			}
			if *e.USD <= 0 {
				errs = append(errs, fmt.Errorf("%s: usd %v is not allowed; must be positive (use null for unknown)", at, *e.USD))
			}
		default:
			if e.Note == "" {
				errs = append(errs, fmt.Errorf("%s: an unknown price (usd null) needs a note saying why", at))
			}
		}
	}
	for i, e := range b.Prices {
		if e.DerivedFrom == "" {
			continue
		}
		base, ok := b.index[e.baseRegion()+"/"+e.DerivedFrom]
		if !ok || base.USD == nil {
			errs = append(errs, fmt.Errorf("prices.json: prices[%d] (%s in %s): base %s has no quoted price in %s", i, e.Key, e.Region, e.DerivedFrom, e.baseRegion()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &b, nil
}

// Price resolves a key in a region. A key prices.json does not list is unknown, never guessed.
func (b *PriceBook) Price(region, key string) Price {
	p := Price{Key: key, Region: region}
	e, ok := b.index[region+"/"+key]
	if !ok {
		p.Why = fmt.Sprintf("no price for %s in %s in prices.json", key, region)
		return p
	}
	p.Unit = e.Unit
	switch {
	case e.USD != nil:
		p.Known, p.USD = true, *e.USD
	case e.DerivedFrom != "":
		base := b.index[e.baseRegion()+"/"+e.DerivedFrom] // checked at load
		p.Known, p.USD, p.Derived = true, round(*base.USD*e.Factor, 6), e.Rule
	default:
		p.Why = e.Note
	}
	return p
}

// LineItem is one billable quantity of the plan.
type LineItem struct {
	// Tier is network, compute, data or other (from the resource's component).
	Tier string
	// Resource is the planned resource's logical name; Item says what is billed.
	Resource, Item string
	Price          Price
	// Quantity counts units (instances, addresses, GB); Hours is hoursPerMonth for hourly prices, else 0.
	Quantity, Hours float64
	// Monthly is Price × Quantity (× Hours); 0 when the price is unknown.
	Monthly float64
	// kind marks the items the awsx-default comparison replaces.
	kind string
}

// Estimate is the monthly bill of one plan.
type Estimate struct {
	Stack, Region, Title string
	HoursPerMonth        float64
	Items                []LineItem
	Assumptions          []string
	// vpc is set when the plan has a VPC, the only thing AWSXDefaults compares.
	vpc bool
}

// ComparesWithAWSX tells whether AWSXDefaults means anything for the plan: it re-lays out a VPC.
func (e *Estimate) ComparesWithAWSX() bool { return e.vpc }

// Item kinds that AWSXDefaults rewrites.
const (
	kindNATGateway   = "nat-gateway"
	kindNATGatewayIP = "nat-gateway-ip"
	kindNATInstance  = "nat-instance"
	kindALBAddress   = "alb-ip"
)

// EstimateCost prices every billable resource of the plan.
func EstimateCost(p *Plan, book *PriceBook) *Estimate {
	e := &Estimate{Stack: p.Stack, Region: p.Region, HoursPerMonth: book.HoursPerMonth,
		Title: fmt.Sprintf("stack %s (%s)", p.Stack, p.Region)}
	hourly := func(tier, res, item, key string, qty float64, kind string) {
		e.add(book, LineItem{Tier: tier, Resource: res, Item: item, Price: book.Price(p.Region, key), Quantity: qty, Hours: book.HoursPerMonth, kind: kind})
	}
	monthly := func(tier, res, item, key string, qty float64, kind string) {
		e.add(book, LineItem{Tier: tier, Resource: res, Item: item, Price: book.Price(p.Region, key), Quantity: qty, kind: kind})
	}
	volumes := func(r *mock.Resource, tier string, count float64, kind string) {
		for typ, gb := range p.volumes(r) {
			item := "EBS " + typ + " volumes (GB)"
			if typ == "" {
				item, typ = "EBS volumes of unstated type (GB)", "unstated"
			}
			monthly(tier, r.Name, fmt.Sprintf("%s × %g instance(s)", item, count), "ebs."+typ, gb*count, kind)
		}
	}
	flowLogs, lcus := book.Assumptions.FlowLogGBPerMonth, book.Assumptions.ALBLCUs

	for _, r := range p.Resources {
		tier := tierOf(r)
		switch r.Type {
		case typeVpc:
			for _, v := range p.vpcs() {
				if v.res != r {
					continue
				}
				if n := float64(len(v.natGatewayAZs())); n > 0 {
					hourly(tier, r.Name, fmt.Sprintf("NAT gateway hours (awsx %s)", v.NAT), "vpc.nat-gateway", n, kindNATGateway)
					hourly(tier, r.Name, "public IPv4 of the NAT gateways' Elastic IPs", "vpc.public-ipv4", n, kindNATGatewayIP)
				}
			}
		case typeInstance:
			kind := ""
			if p.isNATInstance(r) {
				kind = kindNATInstance
			}
			hourly(tier, r.Name, "EC2 "+orUnknown(p.instanceType(r)), "ec2."+p.instanceType(r), 1, kind)
			volumes(r, tier, 1, kind)
			if b, _ := r.Bool("associatePublicIpAddress"); b && len(p.eipsOf(r)) == 0 {
				hourly(tier, r.Name, "public IPv4 assigned at launch", "vpc.public-ipv4", 1, kind)
			}
		case typeEIP:
			kind, what := "", "public IPv4 (Elastic IP)"
			for _, inst := range p.ofType(typeInstance) {
				for _, eip := range p.eipsOf(inst) {
					if eip == r {
						what = "public IPv4 (Elastic IP of " + inst.Name + ")"
						if p.isNATInstance(inst) {
							kind = kindNATInstance
						}
					}
				}
			}
			hourly(tier, r.Name, what, "vpc.public-ipv4", 1, kind)
		case typeLoadBalancer:
			if t := r.Str("loadBalancerType"); t != "" && t != "application" {
				hourly(tier, r.Name, t+" load balancer hours", "elb."+t, 1, "")
				continue
			}
			hourly(tier, r.Name, "ALB hours", "elb.alb", 1, "")
			hourly(tier, r.Name, fmt.Sprintf("ALB LCUs (%g assumed)", lcus), "elb.alb-lcu", lcus, "")
			if internal, _ := r.Bool("internal"); !internal {
				hourly(tier, r.Name, "public IPv4 of the ALB's nodes (one per AZ subnet)", "vpc.public-ipv4", float64(len(loadBalancerSubnets(r))), kindALBAddress)
			}
		case typeASG:
			n, ok := r.Num("desiredCapacity")
			what := fmt.Sprintf("desiredCapacity %g", n)
			if !ok {
				n, _ = r.Num("minSize")
				what = fmt.Sprintf("minSize %g (no desiredCapacity)", n)
			}
			hourly(tier, r.Name, fmt.Sprintf("EC2 %s × %s", orUnknown(p.instanceType(r)), what), "ec2."+p.instanceType(r), n, "")
			volumes(r, tier, n, "")
		case typeRDSInstance:
			deployment := "single-az"
			if multi, _ := r.Bool("multiAz"); multi {
				deployment = "multi-az"
			}
			engine, class := r.Str("engine"), r.Str("instanceClass")
			hourly(tier, r.Name, fmt.Sprintf("RDS %s %s %s", orUnknown(engine), orUnknown(class), deployment),
				fmt.Sprintf("rds.%s.%s.%s", engine, class, deployment), 1, "")
			if gb, ok := r.Num("allocatedStorage"); ok {
				storage := orDefault(r.Str("storageType"), "unstated")
				item := fmt.Sprintf("RDS %s storage %s (GB)", storage, deployment)
				if max, ok := r.Num("maxAllocatedStorage"); ok && max > gb {
					item += fmt.Sprintf("; autoscaling to %g GB not included", max)
				}
				monthly(tier, r.Name, item, fmt.Sprintf("rds.%s.%s", storage, deployment), gb, "")
			}
		case typeReplGroup:
			shards, perShard := cacheNodes(r)
			engine := orDefault(r.Str("engine"), "redis")
			node := r.Str("nodeType")
			hourly(tier, r.Name, fmt.Sprintf("ElastiCache %s %s × %d node(s)", engine, orUnknown(node), shards*perShard),
				fmt.Sprintf("elasticache.%s.%s", engine, node), float64(shards*perShard), "")
		case typeFlowLog:
			dest := orDefault(r.Str("logDestinationType"), "cloud-watch-logs")
			key := "logs.ingestion"
			if dest != "cloud-watch-logs" {
				key = "logs.vended-" + dest
			}
			monthly(tier, r.Name, fmt.Sprintf("flow logs ingested to %s (%g GB/month assumed)", dest, flowLogs), key, flowLogs, "")
		case typeRepository:
			gb := book.Assumptions.ECRGBPerRepository
			monthly(tier, r.Name, fmt.Sprintf("ECR image storage (%g GB assumed)", gb), "ecr.storage", gb, "")
		case typeWebACL:
			rules, _ := r.Input("rules")
			n := 0
			if rules.IsArray() {
				n = len(rules.ArrayValue())
			}
			monthly(tier, r.Name, "WAF web ACL", "waf.web-acl", 1, "")
			monthly(tier, r.Name, fmt.Sprintf("WAF rules (%d; a managed group is one)", n), "waf.rule", float64(n), "")
			reqs := book.Assumptions.WAFRequestsMillions
			monthly(tier, r.Name, fmt.Sprintf("WAF requests inspected (%g million assumed)", reqs), "waf.requests", reqs, "")
		case typeLogGroup:
			if strings.HasPrefix(r.Str("name"), "aws-waf-logs-") || strings.HasPrefix(r.Str("namePrefix"), "aws-waf-logs-") {
				gb := book.Assumptions.WAFLogGBPerMonth
				monthly(tier, r.Name, fmt.Sprintf("WAF logs ingested (%g GB/month assumed)", gb), "logs.ingestion", gb, "")
				continue
			}
			if tier != TierCompute {
				continue // the flow-log group is priced with its flow log
			}
			// A server log group: the CloudWatch agent's logs and its two custom metrics.
			gb := book.Assumptions.ServerLogGBPerGroup
			monthly(tier, r.Name, fmt.Sprintf("server logs ingested (%g GB/month assumed)", gb), "logs.ingestion", gb, "")
			monthly(tier, r.Name, "agent metrics mem_used_percent, disk_used_percent", "cloudwatch.custom-metric", 2, "")
		case typeScalingPolicy:
			// A policy tracking a metric of the servers' CloudWatch agent (the chat fleet's connections) adds
			// that custom metric, one series for the group.
			if ns := r.Str("targetTrackingConfiguration.customizedMetricSpecification.namespace"); ns == "CWAgent" {
				metric := r.Str("targetTrackingConfiguration.customizedMetricSpecification.metricName")
				monthly(tier, r.Name, "agent metric "+orUnknown(metric)+" (the scaling policy's)", "cloudwatch.custom-metric", 1, "")
			}
		case typeKMSKey:
			monthly(tier, r.Name, "KMS customer managed key", "kms.key", 1, "")
		case typeDashboard:
			monthly(tier, r.Name, "CloudWatch dashboard", "cloudwatch.dashboard", 1, "")
		}
	}
	e.vpc = len(p.vpcResources()) > 0
	// Alarms are billed by the metrics they evaluate; one line per tier keeps the table short.
	alarms, metrics := map[string]int{}, map[string]int{}
	for _, r := range p.ofType(typeMetricAlarm) {
		alarms[tierOf(r)]++
		metrics[tierOf(r)] += alarmMetrics(r)
	}
	for _, tier := range tiers {
		if alarms[tier] > 0 {
			monthly(tier, "alarms", fmt.Sprintf("CloudWatch alarms: %d, evaluating %d metrics", alarms[tier], metrics[tier]),
				"cloudwatch.alarm-metric", float64(metrics[tier]), "")
		}
	}
	e.Assumptions = []string{
		fmt.Sprintf("On-demand prices, %g hours a month; no free tier, savings plans or reservations.", book.HoursPerMonth),
		"Auto Scaling groups are priced at desiredCapacity (minSize when unset); scale-out costs more.",
		"ALB: " + book.Assumptions.ALBLCUsNote + ".",
		"Flow logs: " + book.Assumptions.FlowLogGBPerMonthNote + ".",
		"ECR: " + book.Assumptions.ECRGBPerRepositoryNote + ".",
		"Server logs: " + book.Assumptions.ServerLogGBPerGroupNote + ".",
		"WAF (where on): " + book.Assumptions.WAFRequestsMillionsNote + "; " + book.Assumptions.WAFLogGBPerMonthNote + ".",
		"Domain (where set): the hosted zone ($0.50 a month) is the team's, not the stack's; Route 53 answers alias queries for the load balancer's names at no charge, and ACM's public certificate is free.",
		"Not included: data transfer, NAT gateway data processing, CloudWatch Logs storage, S3 access-log storage, " +
			"RDS backup storage beyond the free allowance, the Secrets Manager secret of an RDS-managed password, " +
			"SNS notifications (e-mail and HTTPS deliveries of a few alarms a month are within SNS's free tier), " +
			"CloudWatch's free tier (10 alarm metrics, 10 custom metrics, 3 dashboards per account).",
	}
	e.baselineCosts(p, book)
	return e
}

// alarmMetrics is how many metrics an alarm evaluates: one, or each metric of its metric math.
func alarmMetrics(r *mock.Resource) int {
	queries, ok := r.Input("metricQueries")
	if !ok || !queries.IsArray() {
		return 1
	}
	n := 0
	for _, q := range queries.ArrayValue() {
		if _, isMetric := mock.Lookup(q, "metric"); isMetric {
			n++
		}
	}
	return n
}

func (e *Estimate) add(book *PriceBook, it LineItem) {
	if it.Price.Unit == "" {
		it.Price.Unit = map[bool]string{true: "hour", false: "GB-month"}[it.Hours > 0]
	}
	e.Items = append(e.Items, it.priced())
}

func (it LineItem) priced() LineItem {
	it.Monthly = 0
	if it.Price.Known {
		h := it.Hours
		if h == 0 {
			h = 1
		}
		it.Monthly = round(it.Price.USD*it.Quantity*h, 2)
	}
	return it
}

// volumes sums an instance's or group's EBS volumes by type (GB per instance): the launch template's
// block device mappings and the instance's own root and EBS devices.
func (p *Plan) volumes(r *mock.Resource) map[string]float64 {
	out := map[string]float64{}
	add := func(res *mock.Resource, list string) {
		for i := 0; ; i++ {
			prefix := indexPath(list, i)
			if _, ok := res.Input(prefix); !ok {
				return
			}
			if list == "blockDeviceMappings" {
				prefix += ".ebs"
			}
			if gb, ok := res.Num(prefix + ".volumeSize"); ok {
				out[res.Str(prefix+".volumeType")] += gb
			}
		}
	}
	if lt := p.launchTemplate(r); lt != nil {
		add(lt, "blockDeviceMappings")
	}
	if gb, ok := r.Num("rootBlockDevice.volumeSize"); ok {
		out[r.Str("rootBlockDevice.volumeType")] += gb
	}
	add(r, "ebsBlockDevices")
	return out
}

// AWSXDefaults prices the same topology the way awsx v2 lays it out by default: three AZs with one NAT
// gateway (and its Elastic IP) each instead of the planned NAT, and the load balancer's nodes in all three.
func (e *Estimate) AWSXDefaults(book *PriceBook) *Estimate {
	out := &Estimate{Stack: e.Stack, Region: e.Region, HoursPerMonth: e.HoursPerMonth, Assumptions: e.Assumptions,
		Title: fmt.Sprintf("stack %s (%s) with awsx defaults: %d AZs, one NAT gateway each", e.Stack, e.Region, awsxDefaultAZs)}
	n := float64(awsxDefaultAZs)
	tier := TierNetwork
	for _, it := range e.Items {
		switch it.kind {
		case kindNATGateway, kindNATGatewayIP, kindNATInstance:
			tier = it.Tier
			continue
		case kindALBAddress:
			it.Quantity = n
			it.Item = fmt.Sprintf("public IPv4 of the ALB's nodes (%d AZs)", awsxDefaultAZs)
		}
		out.Items = append(out.Items, it.priced())
	}
	region := e.Region
	out.Items = append([]LineItem{
		LineItem{Tier: tier, Resource: "awsx default", Item: "NAT gateway hours (awsx OnePerAz)", Price: book.Price(region, "vpc.nat-gateway"), Quantity: n, Hours: e.HoursPerMonth}.priced(),
		LineItem{Tier: tier, Resource: "awsx default", Item: "public IPv4 of the NAT gateways' Elastic IPs", Price: book.Price(region, "vpc.public-ipv4"), Quantity: n, Hours: e.HoursPerMonth}.priced(),
	}, out.Items...)
	return out
}

// Totals are an estimate's sums: per tier and overall, over known prices only.
type Totals struct {
	ByTier map[string]float64
	Total  float64
	// Unknown lists the items without a price; Total leaves them out.
	Unknown []LineItem
}

// Complete tells whether every item had a price.
func (t Totals) Complete() bool { return len(t.Unknown) == 0 }

// Totals sums the estimate.
func (e *Estimate) Totals() Totals {
	t := Totals{ByTier: map[string]float64{}}
	for _, it := range e.Items {
		if !it.Price.Known {
			t.Unknown = append(t.Unknown, it)
			continue
		}
		t.ByTier[it.Tier] += it.Monthly
		t.Total += it.Monthly
	}
	for k, v := range t.ByTier {
		t.ByTier[k] = round(v, 2)
	}
	t.Total = round(t.Total, 2)
	return t
}

// Summary is one line: "$52.13/month (network $11.68, compute $40.45) + 2 unknown".
func (t Totals) Summary() string {
	var parts []string
	for _, tier := range tiers {
		if v, ok := t.ByTier[tier]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", tier, usd(v)))
		}
	}
	s := usd(t.Total) + "/month"
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if !t.Complete() {
		var keys []string
		for _, it := range t.Unknown {
			keys = append(keys, it.Price.Key)
		}
		s += fmt.Sprintf(" + %d unknown price(s): %s — total incomplete", len(t.Unknown), strings.Join(dedupe(keys), ", "))
	}
	return s
}

// ordered returns the items grouped by tier (network, compute, data, other), plan order within a tier.
func (e *Estimate) ordered() []LineItem {
	var out []LineItem
	for _, tier := range tiers {
		for _, it := range e.Items {
			if it.Tier == tier {
				out = append(out, it)
			}
		}
	}
	return out
}

// WriteText prints the estimate as an aligned table with per-tier and stack totals.
func (e *Estimate) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Monthly cost estimate: %s, on-demand USD, %g hours/month\n\n", e.Title, e.HoursPerMonth)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tRESOURCE\tITEM\tUNIT PRICE\tQTY\tHOURS\tMONTHLY")
	for _, it := range e.ordered() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g\t%s\t%s\n", it.Tier, it.Resource, it.Item, unitPrice(it.Price), it.Quantity, hours(it), monthlyCell(it))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := e.Totals()
	fmt.Fprintln(&b)
	for _, tier := range tiers {
		if v, ok := t.ByTier[tier]; ok {
			fmt.Fprintf(&b, "  %-10s %s\n", tier, usd(v))
		}
	}
	fmt.Fprintf(&b, "  %-10s %s\n", "total", t.Summary())
	for _, it := range t.Unknown {
		fmt.Fprintf(&b, "  unknown: %s %s: %s\n", it.Resource, it.Price.Key, it.Price.Why)
	}
	fmt.Fprintln(&b, "\nAssumptions:")
	for _, a := range e.Assumptions {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteMarkdown prints the estimate as a Markdown table (for the README).
func (e *Estimate) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| Tier | Resource | Item | Unit price | Qty | Hours | Monthly |\n|---|---|---|---|--:|--:|--:|\n")
	for _, it := range e.ordered() {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %g | %s | %s |\n", it.Tier, it.Resource, it.Item, unitPrice(it.Price), it.Quantity, hours(it), monthlyCell(it))
	}
	t := e.Totals()
	for _, tier := range tiers {
		if v, ok := t.ByTier[tier]; ok {
			fmt.Fprintf(&b, "| **%s** | | | | | | **%s** |\n", tier, usd(v))
		}
	}
	fmt.Fprintf(&b, "| **total** | | | | | | **%s** |\n", usd(t.Total))
	if !t.Complete() {
		fmt.Fprintf(&b, "\nIncomplete: %d item(s) have no price in `internal/insight/prices.json`:", len(t.Unknown))
		for _, it := range t.Unknown {
			fmt.Fprintf(&b, " `%s` (%s);", it.Price.Key, it.Price.Why)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCostSummary prints a few lines for the plan's default text output: the totals of the plan and of
// the same topology with awsx's defaults. offline.WriteText can call it.
func WriteCostSummary(w io.Writer, p *Plan) error {
	book, err := LoadPrices()
	if err != nil {
		return err
	}
	e := EstimateCost(p, book)
	if !e.ComparesWithAWSX() {
		_, err = fmt.Fprintf(w, "Monthly cost (on-demand, go run ./cmd/plan -format cost):\n  planned:       %s\n", e.Totals().Summary())
		return err
	}
	_, err = fmt.Fprintf(w, "Monthly cost (on-demand, go run ./cmd/plan -format cost):\n  planned:       %s\n  awsx defaults: %s\n",
		e.Totals().Summary(), e.AWSXDefaults(book).Totals().Summary())
	return err
}

func unitPrice(p Price) string {
	if !p.Known {
		return "unknown"
	}
	s := fmt.Sprintf("$%s/%s", trimFloat(p.USD), p.Unit)
	if p.Derived != "" {
		s += " (derived: " + p.Derived + ")"
	}
	return s
}

func hours(it LineItem) string {
	if it.Hours == 0 {
		return "-"
	}
	return fmt.Sprintf("%g", it.Hours)
}

func monthlyCell(it LineItem) string {
	if !it.Price.Known {
		return "unknown"
	}
	return usd(it.Monthly)
}

func usd(v float64) string { return fmt.Sprintf("$%.2f", v) }

func trimFloat(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
}

func round(v float64, places int) float64 {
	f := math.Pow(10, float64(places))
	return math.Round(v*f) / f
}
