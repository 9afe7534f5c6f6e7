package edge

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/football/football-infra/internal/awsfacts"
)

// Config keys the settings are decoded from; validation messages name paths under them.
const (
	domainKey = "football:domain"
	wafKey    = "football:waf"
)

// DomainSettings is the football:domain config section: the team's Route 53 hosted zone and the names
// the stack serves under it. Without a zone the stack has no domain (the quick start: HTTP and ws://).
type DomainSettings struct {
	// Stack is the stack's name, set by the stack; it picks the default host names.
	Stack string `json:"-"`

	// Zone is the public hosted zone's name, e.g. example.com. It must exist (the stack looks it up and
	// never creates it). Optional; default none (no domain).
	Zone string `json:"zone,omitempty"`
	// APIHost is the API's name. Optional; default api.<zone> for the stack named prod, else
	// api.<stack>.<zone>; allowed a name inside the zone.
	APIHost string `json:"apiHost,omitempty"`
	// ChatHost is the chat's name (wss://<chatHost>/). Optional; default chat.<zone> for prod, else
	// chat.<stack>.<zone>; allowed a name inside the zone, other than apiHost.
	ChatHost string `json:"chatHost,omitempty"`
}

// Enabled tells whether a domain is configured.
func (s DomainSettings) Enabled() bool { return s.Zone != "" }

// WithDefaults fills the host names.
func (s DomainSettings) WithDefaults() DomainSettings {
	s.Zone = strings.TrimSuffix(strings.ToLower(s.Zone), ".")
	s.APIHost = strings.TrimSuffix(strings.ToLower(s.APIHost), ".")
	s.ChatHost = strings.TrimSuffix(strings.ToLower(s.ChatHost), ".")
	if s.Zone == "" {
		return s
	}
	under := s.Zone
	if s.Stack != "prod" {
		under = s.Stack + "." + s.Zone
	}
	if s.APIHost == "" {
		s.APIHost = "api." + under
	}
	if s.ChatHost == "" {
		s.ChatHost = "chat." + under
	}
	return s
}

var dnsName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// Validate reports every problem of s (defaults applied), each naming its key.
func (s DomainSettings) Validate() error {
	if s.Zone == "" {
		if s.APIHost != "" || s.ChatHost != "" {
			return fmt.Errorf("%s.zone: not set; apiHost and chatHost need the hosted zone they belong to", domainKey)
		}
		return nil
	}
	var errs []error
	if !dnsName.MatchString(s.Zone) {
		errs = append(errs, fmt.Errorf("%s.zone: %q is not allowed; must be a DNS name such as example.com", domainKey, s.Zone))
	}
	for _, h := range []struct{ key, name string }{{"apiHost", s.APIHost}, {"chatHost", s.ChatHost}} {
		switch {
		case !dnsName.MatchString(h.name) || len(h.name) > 253:
			errs = append(errs, fmt.Errorf("%s.%s: %q is not allowed; must be a DNS name", domainKey, h.key, h.name))
		case !strings.HasSuffix(h.name, "."+s.Zone):
			errs = append(errs, fmt.Errorf("%s.%s: %q is not allowed; must be inside the zone %s (a name ending in .%s)", domainKey, h.key, h.name, s.Zone, s.Zone))
		}
	}
	if s.APIHost == s.ChatHost {
		errs = append(errs, fmt.Errorf("%s.chatHost: %q is not allowed; the load balancer tells the chat from the API by host name, so it must differ from apiHost", domainKey, s.ChatHost))
	}
	return errors.Join(errs...)
}

// WAF actions and modes.
const (
	Block = "block"
	Count = "count"
	Off   = "off"
	Allow = "allow"
)

// ManagedGroups are the AWS managed rule groups the web ACL can use, by config name, with the rules each
// contains (for overrides; from AWS WAF's "AWS Managed Rules rule groups list").
var ManagedGroups = map[string]ManagedGroup{
	"ipReputation": {Name: "AWSManagedRulesAmazonIpReputationList", Priority: 0,
		Rules: []string{"AWSManagedIPReputationList", "AWSManagedReconnaissanceList", "AWSManagedIPDDoSList"}},
	"knownBadInputs": {Name: "AWSManagedRulesKnownBadInputsRuleSet", Priority: 2,
		Rules: []string{"JavaDeserializationRCE_HEADER", "JavaDeserializationRCE_BODY", "JavaDeserializationRCE_URIPATH",
			"JavaDeserializationRCE_QUERYSTRING", "Host_localhost_HEADER", "PROPFIND_METHOD", "ExploitablePaths_URIPATH",
			"Log4JRCE_HEADER", "Log4JRCE_QUERYSTRING", "Log4JRCE_BODY", "Log4JRCE_URIPATH"}},
	"common": {Name: "AWSManagedRulesCommonRuleSet", Priority: 3,
		Rules: []string{"NoUserAgent_HEADER", "UserAgent_BadBots_HEADER", "SizeRestrictions_QUERYSTRING",
			"SizeRestrictions_Cookie_HEADER", "SizeRestrictions_BODY", "SizeRestrictions_URIPATH", "EC2MetaDataSSRF_BODY",
			"EC2MetaDataSSRF_COOKIE", "EC2MetaDataSSRF_URIPATH", "EC2MetaDataSSRF_QUERYARGUMENTS", "GenericLFI_QUERYARGUMENTS",
			"GenericLFI_URIPATH", "GenericLFI_BODY", "RestrictedExtensions_URIPATH", "RestrictedExtensions_QUERYARGUMENTS",
			"GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY", "GenericRFI_URIPATH", "CrossSiteScripting_COOKIE",
			"CrossSiteScripting_QUERYARGUMENTS", "CrossSiteScripting_BODY", "CrossSiteScripting_URIPATH"}},
	"sqli": {Name: "AWSManagedRulesSQLiRuleSet", Priority: 4,
		Rules: []string{"SQLi_QUERYARGUMENTS", "SQLiExtendedPatterns_QUERYARGUMENTS", "SQLi_BODY", "SQLiExtendedPatterns_BODY",
			"SQLi_COOKIE", "SQLi_URIPATH"}},
}

// ManagedGroup is one AWS managed rule group.
type ManagedGroup struct {
	Name     string
	Priority int
	Rules    []string
}

// minRateLimit and maxRateLimit bound a rate-based statement's limit, as both AWS WAF and the provider
// accept it.
const (
	minRateLimit = 10
	maxRateLimit = 2000000000
)

// ratePriority places the rate-based rule after the IP reputation list and before the inspections.
const ratePriority = 1

// Override changes one rule of a managed group, for a known false positive.
type Override struct {
	// Group is the managed group's config name (common, knownBadInputs, ipReputation, sqli).
	Group string `json:"group"`
	// Rule is the rule's name in that group, e.g. SizeRestrictions_BODY.
	Rule string `json:"rule"`
	// Action is count (log, do not block), allow or block.
	Action string `json:"action"`
}

// WAFSettings is the football:waf config section: the web ACL in front of the load balancer.
type WAFSettings struct {
	// Profile is "dev" or "prod", set by the stack.
	Profile string `json:"-"`

	// Enabled puts a web ACL in front of the load balancer. Optional; default dev false, prod true.
	Enabled *bool `json:"enabled,omitempty"`
	// Mode is block, or count to log what every rule would block without blocking (a first deploy).
	// Optional; default block.
	Mode string `json:"mode,omitempty"`
	// RateLimit is the most requests one client IP may send in 5 minutes before it is blocked. Optional;
	// default 2000; allowed 10..2000000000: AWS WAF's range for a rate-based statement's limit (10 since
	// August 2024), which is also what the pinned provider validates (terraform-provider-aws v5.66 and later,
	// hashicorp/terraform-provider-aws#39107; pulumi-aws v6.83.4 is built on a later v5 release).
	RateLimit int `json:"rateLimit,omitempty"`
	// Groups sets each managed group to block, count or off. Optional; default every group block.
	Groups map[string]string `json:"groups,omitempty"`
	// Overrides change single rules of the managed groups. Optional; default NoUserAgent_HEADER of common
	// counted (WebSocket and native clients may send no User-Agent); a list given replaces the default.
	Overrides []Override `json:"overrides,omitempty"`
	// LogRetentionDays keeps the WAF's logs. Optional; default dev 14, prod 90.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// LogAllRequests logs every request, not only those a rule blocked or counted (the load balancer's
	// access logs already record every request). Optional; default false.
	LogAllRequests bool `json:"logAllRequests,omitempty"`
	// RetainLogs keeps the log group, with its logs until logRetentionDays expires them, in AWS when
	// Pulumi deletes it: the WAF turned off, or the stack torn down. Optional; default dev false, prod true.
	RetainLogs *bool `json:"retainLogs,omitempty"`
}

// WithDefaults fills every unset field for the profile.
func (s WAFSettings) WithDefaults() WAFSettings {
	prod := s.Profile == "prod"
	if s.Enabled == nil {
		s.Enabled = &prod
	}
	if s.Mode == "" {
		s.Mode = Block
	}
	if s.RateLimit == 0 {
		s.RateLimit = 2000
	}
	groups := map[string]string{}
	for g := range ManagedGroups {
		groups[g] = Block
	}
	for g, v := range s.Groups {
		groups[g] = v
	}
	s.Groups = groups
	if s.Overrides == nil {
		s.Overrides = []Override{{Group: "common", Rule: "NoUserAgent_HEADER", Action: Count}}
	}
	if s.LogRetentionDays == 0 {
		s.LogRetentionDays = map[bool]int{true: 90, false: 14}[prod]
	}
	if s.RetainLogs == nil {
		retain := prod
		s.RetainLogs = &retain
	}
	return s
}

// Validate reports every problem of s (defaults applied), each naming its key.
func (s WAFSettings) Validate() error {
	var errs []error
	fail := func(path string, got any, allowed string) {
		if str, ok := got.(string); ok {
			got = fmt.Sprintf("%q", str)
		}
		errs = append(errs, fmt.Errorf("%s.%s: %v is not allowed; %s", wafKey, path, got, allowed))
	}
	if s.Mode != Block && s.Mode != Count {
		fail("mode", s.Mode, "allowed block, count")
	}
	if s.RateLimit < minRateLimit || s.RateLimit > maxRateLimit {
		fail("rateLimit", s.RateLimit, fmt.Sprintf("allowed %d..%d requests per client IP in 5 minutes", minRateLimit, maxRateLimit))
	}
	names := slices.Sorted(maps.Keys(ManagedGroups))
	for _, g := range slices.Sorted(maps.Keys(s.Groups)) {
		if _, ok := ManagedGroups[g]; !ok {
			fail("groups."+g, g, "unknown group; allowed "+strings.Join(names, ", "))
			continue
		}
		if v := s.Groups[g]; v != Block && v != Count && v != Off {
			fail("groups."+g, v, "allowed block, count, off")
		}
	}
	seen := map[string]bool{}
	for i, o := range s.Overrides {
		at := fmt.Sprintf("overrides[%d]", i)
		group, ok := ManagedGroups[o.Group]
		switch {
		case !ok:
			fail(at+".group", o.Group, "allowed "+strings.Join(names, ", "))
		case !slices.Contains(group.Rules, o.Rule):
			fail(at+".rule", o.Rule, fmt.Sprintf("not a rule of %s (%s); its rules are %s", o.Group, group.Name, strings.Join(group.Rules, ", ")))
		case s.Groups[o.Group] == Off:
			fail(at+".group", o.Group, "the group is off")
		case seen[o.Group+"/"+o.Rule]:
			fail(at+".rule", o.Rule, "is overridden twice")
		}
		seen[o.Group+"/"+o.Rule] = true
		if o.Action != Count && o.Action != Allow && o.Action != Block {
			fail(at+".action", o.Action, "allowed count, allow, block")
		}
	}
	if !awsfacts.ValidLogRetention(s.LogRetentionDays) {
		fail("logRetentionDays", s.LogRetentionDays, fmt.Sprintf("CloudWatch Logs allows %v", awsfacts.LogRetentionDays))
	}
	return errors.Join(errs...)
}
