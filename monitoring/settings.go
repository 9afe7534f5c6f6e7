package monitoring

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/football/football-infra/internal/awsfacts"
)

// settingsKey is the config key Settings is decoded from; validation messages name paths under it.
const settingsKey = "football:monitoring"

// Alarm sets.
const (
	// SetFull is every alarm of the catalogue: prod's default.
	SetFull = "full"
	// SetEssential is the alarms that mean an outage or act on their own (recover, reboot): dev's default.
	SetEssential = "essential"
	// SetNone creates no alarm and no topic.
	SetNone = "none"
)

// Settings is the football:monitoring config section. Zero values mean "use the default".
type Settings struct {
	// Profile is "dev" or "prod", set by the stack; it picks the defaults.
	Profile string `json:"-"`
	// Region is the stack's AWS region, set by the stack.
	Region string `json:"-"`

	// Alarms is which alarms exist. Optional; default dev essential, prod full; allowed full, essential, none.
	Alarms string `json:"alarms,omitempty"`
	// Email lists the addresses the alarm topic mails on ALARM and on OK (each confirms once, from the
	// mail AWS sends). Optional; default none; allowed e-mail addresses, each once, at most 20.
	Email []string `json:"email,omitempty"`
	// Webhook is an HTTPS endpoint the topic posts to as well (a chat webhook). Optional; default none;
	// allowed an https:// URL.
	Webhook string `json:"webhook,omitempty"`
	// Dashboard creates the stack's CloudWatch dashboard. Optional; default dev false, prod true.
	Dashboard *bool `json:"dashboard,omitempty"`
	// LogRetentionDays keeps the servers' logs in CloudWatch Logs. Optional; default dev 14, prod 90;
	// allowed CloudWatch Logs' retention values.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// LogKMSKeyARN encrypts the servers' log groups with a customer managed KMS key whose policy lets
	// CloudWatch Logs use it. Optional; default CloudWatch Logs' own encryption; allowed a KMS key ARN of
	// the stack's region.
	LogKMSKeyARN string `json:"logKmsKeyArn,omitempty"`
	// RetainLogs keeps the servers' log groups, with their logs until logRetentionDays expires them, in
	// AWS when Pulumi deletes them (the stack torn down). Optional; default dev false, prod true.
	RetainLogs *bool `json:"retainLogs,omitempty"`
	// Thresholds tune the alarms.
	Thresholds Thresholds `json:"thresholds"`
}

// Thresholds are the alarm thresholds a team tunes per stack. Each default is stated where the alarm is
// defined (alarms.go), with its source.
type Thresholds struct {
	// ELB5xxPerMinute: load balancer 5XX responses a minute. Optional; default 10; allowed 1..100000.
	ELB5xxPerMinute float64 `json:"elb5xxPerMinute,omitempty"`
	// Target5xxPercent: share of requests the API servers answer with 5XX. Optional; default 5; allowed 0.1..100.
	Target5xxPercent float64 `json:"target5xxPercent,omitempty"`
	// LatencyP99Seconds: 99th percentile of the API servers' response time. Optional; default 2; allowed 0.01..60.
	LatencyP99Seconds float64 `json:"latencyP99Seconds,omitempty"`
	// DiskUsedPercent: root file system use on any server. Optional; default 85; allowed 50..99.
	DiskUsedPercent float64 `json:"diskUsedPercent,omitempty"`
	// DBCPUPercent: database CPU. Optional; default 90; allowed 10..100.
	DBCPUPercent float64 `json:"dbCpuPercent,omitempty"`
	// DBConnectionsPercent: connections as a share of the engine's max_connections for the class. Optional;
	// default 80; allowed 10..100.
	DBConnectionsPercent float64 `json:"dbConnectionsPercent,omitempty"`
	// DBFreeStoragePercent: free storage as a share of the allocation. Optional; default 10; allowed 1..50.
	DBFreeStoragePercent float64 `json:"dbFreeStoragePercent,omitempty"`
	// DBFreeMemoryPercent: freeable memory as a share of the class's memory. Optional; default 10; allowed 1..50.
	DBFreeMemoryPercent float64 `json:"dbFreeMemoryPercent,omitempty"`
	// CacheCPUPercent: the cache engine's CPU. Optional; default 90; allowed 10..100.
	CacheCPUPercent float64 `json:"cacheCpuPercent,omitempty"`
	// CacheMemoryPercent: the cache's memory use. Optional; default 90; allowed 10..100.
	CacheMemoryPercent float64 `json:"cacheMemoryPercent,omitempty"`
	// CacheConnections: connections to one cache node. Optional; default 1000; allowed 1..65000.
	CacheConnections float64 `json:"cacheConnections,omitempty"`
	// CacheEvictionsPerMinute: keys evicted a minute for lack of memory. Optional; default 100; allowed 1..1000000.
	CacheEvictionsPerMinute float64 `json:"cacheEvictionsPerMinute,omitempty"`
	// CacheReplicationLagSeconds: a replica's lag behind the primary. Optional; default 10; allowed 1..3600.
	CacheReplicationLagSeconds float64 `json:"cacheReplicationLagSeconds,omitempty"`
	// ChatErrorsPerMinute: chat requests (WebSocket upgrades) the chat fleet answers with 5XX plus connections
	// the load balancer could not open to it, a minute, for 3 minutes. Optional; default 5; allowed 1..100000.
	ChatErrorsPerMinute float64 `json:"chatErrorsPerMinute,omitempty"`
	// WAFBlockedPerMinute: requests the web ACL blocks a minute, sustained for 5 minutes (the internet's
	// background of scanners is blocked all day; a spike means an attack or a rule hitting real users).
	// Optional; default 100; allowed 1..1000000.
	WAFBlockedPerMinute float64 `json:"wafBlockedPerMinute,omitempty"`
}

// WithDefaults returns s with every unset field filled for its profile.
func (s Settings) WithDefaults() Settings {
	prod := s.Profile == "prod"
	if s.Alarms == "" {
		s.Alarms = map[bool]string{true: SetFull, false: SetEssential}[prod]
	}
	if s.Dashboard == nil {
		// Off in dev: at $3 a month beyond the account's three free dashboards it would push dev past its
		// $100 budget; turn it on where the free allowance covers it.
		on := prod
		s.Dashboard = &on
	}
	if s.LogRetentionDays == 0 {
		s.LogRetentionDays = map[bool]int{true: 90, false: 14}[prod]
	}
	if s.RetainLogs == nil {
		retain := prod
		s.RetainLogs = &retain
	}
	t := &s.Thresholds
	for _, d := range []struct {
		v   *float64
		def float64
	}{
		{&t.ELB5xxPerMinute, 10}, {&t.Target5xxPercent, 5}, {&t.LatencyP99Seconds, 2}, {&t.DiskUsedPercent, 85},
		{&t.DBCPUPercent, 90}, {&t.DBConnectionsPercent, 80}, {&t.DBFreeStoragePercent, 10}, {&t.DBFreeMemoryPercent, 10},
		{&t.CacheCPUPercent, 90}, {&t.CacheMemoryPercent, 90}, {&t.CacheConnections, 1000},
		{&t.CacheEvictionsPerMinute, 100}, {&t.CacheReplicationLagSeconds, 10}, {&t.WAFBlockedPerMinute, 100},
		{&t.ChatErrorsPerMinute, 5},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	return s
}

var (
	email  = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	kmsKey = regexp.MustCompile(`^arn:(aws[a-z-]*):kms:([a-z0-9-]+):[0-9]{12}:key/[A-Za-z0-9-]+$`)
)

// Validate reports every problem of s (defaults applied) at once, each naming its config path, the bad
// value and what is allowed.
func (s Settings) Validate() error {
	var errs []error
	fail := func(path string, got any, allowed string) {
		if str, ok := got.(string); ok {
			got = fmt.Sprintf("%q", str)
		}
		errs = append(errs, fmt.Errorf("%s.%s: %v is not allowed; %s", settingsKey, path, got, allowed))
	}
	if !slices.Contains([]string{SetFull, SetEssential, SetNone}, s.Alarms) {
		fail("alarms", s.Alarms, "allowed full, essential, none")
	}
	if len(s.Email) > 20 {
		fail("email", len(s.Email), "at most 20 addresses; use a mailing list")
	}
	seen := map[string]bool{}
	for i, e := range s.Email {
		switch {
		case !email.MatchString(e):
			fail(fmt.Sprintf("email[%d]", i), e, "must be an e-mail address such as oncall@example.com")
		case seen[strings.ToLower(e)]:
			fail(fmt.Sprintf("email[%d]", i), e, "is listed twice")
		}
		seen[strings.ToLower(e)] = true
	}
	if s.Webhook != "" {
		u, err := url.Parse(s.Webhook)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			fail("webhook", s.Webhook, "must be an https:// URL without credentials in it")
		}
	}
	if s.Alarms == SetNone && (len(s.Email) > 0 || s.Webhook != "") {
		fail("alarms", s.Alarms, "nothing would notify the listed email/webhook; choose essential or full, or remove them")
	}
	if !awsfacts.ValidLogRetention(s.LogRetentionDays) {
		fail("logRetentionDays", s.LogRetentionDays, fmt.Sprintf("CloudWatch Logs allows %v", awsfacts.LogRetentionDays))
	}
	if s.LogKMSKeyARN != "" {
		if m := kmsKey.FindStringSubmatch(s.LogKMSKeyARN); m == nil {
			fail("logKmsKeyArn", s.LogKMSKeyARN, "must be a KMS key ARN: arn:aws:kms:<region>:<account>:key/<id>")
		} else if s.Region != "" && m[2] != s.Region {
			fail("logKmsKeyArn", s.LogKMSKeyARN, fmt.Sprintf("the key is in %s; log groups use keys of their own region %s", m[2], s.Region))
		} else if s.Region != "" && m[1] != awsfacts.Partition(s.Region) {
			fail("logKmsKeyArn", s.LogKMSKeyARN, fmt.Sprintf("the ARN's partition is %s; %s is in partition %s", m[1], s.Region, awsfacts.Partition(s.Region)))
		}
	}
	t := s.Thresholds
	for _, r := range []struct {
		path     string
		v, lo, h float64
	}{
		{"elb5xxPerMinute", t.ELB5xxPerMinute, 1, 100000}, {"target5xxPercent", t.Target5xxPercent, 0.1, 100},
		{"latencyP99Seconds", t.LatencyP99Seconds, 0.01, 60}, {"diskUsedPercent", t.DiskUsedPercent, 50, 99},
		{"dbCpuPercent", t.DBCPUPercent, 10, 100}, {"dbConnectionsPercent", t.DBConnectionsPercent, 10, 100},
		{"dbFreeStoragePercent", t.DBFreeStoragePercent, 1, 50}, {"dbFreeMemoryPercent", t.DBFreeMemoryPercent, 1, 50},
		{"cacheCpuPercent", t.CacheCPUPercent, 10, 100}, {"cacheMemoryPercent", t.CacheMemoryPercent, 10, 100},
		{"cacheConnections", t.CacheConnections, 1, 65000}, {"cacheEvictionsPerMinute", t.CacheEvictionsPerMinute, 1, 1000000},
		{"cacheReplicationLagSeconds", t.CacheReplicationLagSeconds, 1, 3600},
		{"wafBlockedPerMinute", t.WAFBlockedPerMinute, 1, 1000000},
		{"chatErrorsPerMinute", t.ChatErrorsPerMinute, 1, 100000},
	} {
		if r.v < r.lo || r.v > r.h {
			fail("thresholds."+r.path, r.v, "allowed "+strconv.FormatFloat(r.lo, 'f', -1, 64)+".."+strconv.FormatFloat(r.h, 'f', -1, 64))
		}
	}
	return errors.Join(errs...)
}

// AlarmsOn tells whether the settings (defaults applied) create alarms.
func (s Settings) AlarmsOn() bool { return s.Alarms == SetFull || s.Alarms == SetEssential }
