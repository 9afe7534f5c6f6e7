// Package edge owns what stands between users and the load balancer: the team's DNS names (alias
// records in its Route 53 hosted zone), the ACM certificate for them, validated through DNS, and the WAF
// web ACL that answers abusive requests before they reach the servers, with its logs.
//
// The load balancer is the ApiTier's: Edge takes its ARN, DNS name and zone as inputs and gives back the
// validated certificate the HTTPS listener uses. It imports nothing from network, compute or data.
package edge

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/awsres"
)

const edgeType = "football:edge:Edge"

// LookupZone finds the public hosted zone named by s.Zone and returns its ID. It runs before anything is
// registered, so a zone that does not exist (or a typo in its name) stops the deployment with the key.
func LookupZone(ctx *pulumi.Context, s DomainSettings) (string, error) {
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(s.Zone), PrivateZone: pulumi.BoolRef(false)})
	if err != nil {
		return "", fmt.Errorf("%s.zone: %q is not allowed; no public Route 53 hosted zone of that name is visible to this account "+
			"(create it first, or check the spelling): %v", domainKey, s.Zone, err)
	}
	return zone.ZoneId, nil
}

// EdgeArgs configures NewEdge.
type EdgeArgs struct {
	// Domain is football:domain (defaults applied by NewEdge); ZoneID is LookupZone's answer. Both empty:
	// no domain.
	Domain DomainSettings
	ZoneID string
	// WAF is football:waf.
	WAF WAFSettings
	// Project and Stack name the web ACL and its log group. Required.
	Project, Stack string
	// LoadBalancerARN, LoadBalancerDNSName and LoadBalancerZoneID are the ApiTier's load balancer.
	// Required.
	LoadBalancerARN, LoadBalancerDNSName, LoadBalancerZoneID pulumi.StringInput
}

var namePart = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (a EdgeArgs) validate() error {
	errs := []error{a.Domain.Validate(), a.WAF.Validate()}
	if a.Domain.Enabled() && a.ZoneID == "" {
		errs = append(errs, errors.New("wiring: ZoneID is required with a domain (LookupZone)"))
	}
	if !namePart.MatchString(a.Project) || !namePart.MatchString(a.Stack) {
		errs = append(errs, fmt.Errorf("wiring: Project %q and Stack %q must be letters, digits, _ and -", a.Project, a.Stack))
	}
	if a.LoadBalancerARN == nil || a.LoadBalancerDNSName == nil || a.LoadBalancerZoneID == nil {
		errs = append(errs, errors.New("wiring: LoadBalancerARN, LoadBalancerDNSName and LoadBalancerZoneID are required"))
	}
	return errors.Join(errs...)
}

// Edge is the domain, certificate and web ACL of one stack.
type Edge struct {
	pulumi.ResourceState

	// CertificateARN is the certificate once ACM has validated it ("" without a domain): a listener that
	// uses it waits for the validation.
	CertificateARN pulumi.StringOutput
	// ZoneID is the hosted zone's ID ("" without a domain).
	ZoneID string
	// APIHost and ChatHost are the names served ("" without a domain).
	APIHost, ChatHost string
	// WebACLARN is the web ACL ("" when the WAF is off).
	WebACLARN pulumi.StringOutput
	// WAFLogGroup is the WAF's log group ("" when off).
	WAFLogGroup pulumi.StringOutput
	// WebACLMetricName names the web ACL in CloudWatch's AWS/WAFV2 metrics ("" when off).
	WebACLMetricName pulumi.StringOutput
}

// NewEdge checks args, then registers the certificate, its validation, the alias records and the web
// ACL. Bad args register nothing.
func NewEdge(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) (*Edge, error) {
	if args == nil {
		return nil, fmt.Errorf("edge %q: args are required", name)
	}
	a := *args
	a.Domain = a.Domain.WithDefaults()
	a.WAF = a.WAF.WithDefaults()
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("edge %q: %w", name, err)
	}
	e := &Edge{ZoneID: a.ZoneID}
	if err := ctx.RegisterComponentResource(edgeType, name, e, opts...); err != nil {
		return nil, err
	}
	e.CertificateARN = pulumi.String("").ToStringOutput()
	if a.Domain.Enabled() {
		e.APIHost, e.ChatHost = a.Domain.APIHost, a.Domain.ChatHost
		if err := e.domain(ctx, name, a); err != nil {
			return nil, err
		}
	}
	e.WebACLARN = pulumi.String("").ToStringOutput()
	e.WAFLogGroup = pulumi.String("").ToStringOutput()
	e.WebACLMetricName = pulumi.String("").ToStringOutput()
	if *a.WAF.Enabled {
		if err := e.webACL(ctx, name, a); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"certificateArn": e.CertificateARN,
		"zoneId":         pulumi.String(e.ZoneID),
		"apiHost":        pulumi.String(e.APIHost),
		"chatHost":       pulumi.String(e.ChatHost),
		"webAclArn":      e.WebACLARN,
		"wafLogGroup":    e.WAFLogGroup,
	}); err != nil {
		return nil, err
	}
	return e, nil
}

// domain registers the certificate for both names, one validation record per name, the validation that
// waits for ACM, and an alias A record per name pointing at the load balancer (IPv4 only, as it is).
func (e *Edge) domain(ctx *pulumi.Context, name string, a EdgeArgs) error {
	child := pulumi.Parent(e)
	cert, err := acm.NewCertificate(ctx, name+"-cert", &acm.CertificateArgs{
		DomainName:              pulumi.String(a.Domain.APIHost),
		SubjectAlternativeNames: pulumi.StringArray{pulumi.String(a.Domain.ChatHost)},
		ValidationMethod:        pulumi.String("DNS"),
		Tags:                    pulumi.StringMap{"Name": pulumi.String(a.Domain.APIHost)},
	}, child)
	if err != nil {
		return err
	}
	var fqdns pulumi.StringArray
	for _, host := range []struct{ role, name string }{{"api", a.Domain.APIHost}, {"chat", a.Domain.ChatHost}} {
		// ACM names one CNAME per name; each is found by its domain name, so the records are known before
		// the certificate exists and none is created inside an apply.
		option := cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (acm.CertificateDomainValidationOption, error) {
			for _, o := range opts {
				if o.DomainName != nil && *o.DomainName == host.name {
					return o, nil
				}
			}
			return acm.CertificateDomainValidationOption{}, fmt.Errorf("edge %q: ACM gave no validation record for %s", name, host.name)
		}).(acm.CertificateDomainValidationOptionOutput)
		record, err := route53.NewRecord(ctx, name+"-"+host.role+"-validation", &route53.RecordArgs{
			ZoneId:  pulumi.String(a.ZoneID),
			Name:    option.ResourceRecordName().Elem(),
			Type:    option.ResourceRecordType().Elem(),
			Records: pulumi.StringArray{option.ResourceRecordValue().Elem()},
			Ttl:     pulumi.Int(300),
			// A record left by an earlier certificate for the same name holds the same value.
			AllowOverwrite: pulumi.Bool(true),
		}, child)
		if err != nil {
			return err
		}
		fqdns = append(fqdns, record.Fqdn)
	}
	validation, err := acm.NewCertificateValidation(ctx, name+"-cert-validation", &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, child)
	if err != nil {
		return err
	}
	e.CertificateARN = validation.CertificateArn
	for _, host := range []struct{ role, name string }{{"api", a.Domain.APIHost}, {"chat", a.Domain.ChatHost}} {
		if _, err := route53.NewRecord(ctx, name+"-"+host.role+"-alias", &route53.RecordArgs{
			ZoneId: pulumi.String(a.ZoneID),
			Name:   pulumi.String(host.name),
			Type:   pulumi.String("A"),
			Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
				Name:                 a.LoadBalancerDNSName,
				ZoneId:               a.LoadBalancerZoneID,
				EvaluateTargetHealth: pulumi.Bool(true),
			}},
		}, child); err != nil {
			return err
		}
	}
	return nil
}

// webACL registers the regional web ACL, associates it with the load balancer and logs it to a log group
// whose name starts with aws-waf-logs- (WAF's requirement), with the authorization and cookie headers
// redacted. The three WAF resources are registered by type token (webacl.go).
func (e *Edge) webACL(ctx *pulumi.Context, name string, a EdgeArgs) error {
	child := pulumi.Parent(e)
	metric := a.Project + "-" + a.Stack
	visible := func(m string) object {
		return object{"cloudwatchMetricsEnabled": true, "sampledRequestsEnabled": true, "metricName": m}
	}
	groupNames := make([]string, 0, len(ManagedGroups))
	for g := range ManagedGroups {
		groupNames = append(groupNames, g)
	}
	sort.Slice(groupNames, func(i, j int) bool {
		return ManagedGroups[groupNames[i]].Priority < ManagedGroups[groupNames[j]].Priority
	})

	rateAction := object{"block": object{}}
	if a.WAF.Mode == Count {
		rateAction = object{"count": object{}}
	}
	rules := []any{object{
		"name":     "rate-per-ip",
		"priority": ratePriority,
		"action":   rateAction,
		"statement": object{"rateBasedStatement": object{
			"limit": a.WAF.RateLimit, "aggregateKeyType": "IP", "evaluationWindowSec": 300,
		}},
		"visibilityConfig": visible(metric + "-rate-per-ip"),
	}}
	for _, g := range groupNames {
		mode := a.WAF.Groups[g]
		if mode == Off {
			continue
		}
		group := ManagedGroups[g]
		override := object{"none": object{}}
		if mode == Count || a.WAF.Mode == Count {
			override = object{"count": object{}}
		}
		statement := object{"vendorName": "AWS", "name": group.Name}
		var ruleOverrides []any
		for _, o := range a.WAF.Overrides {
			if o.Group != g {
				continue
			}
			use := "block"
			switch o.Action {
			case Count:
				use = "count"
			case Allow:
				use = "allow"
			}
			ruleOverrides = append(ruleOverrides, object{"name": o.Rule, "actionToUse": object{use: object{}}})
		}
		if len(ruleOverrides) > 0 {
			statement["ruleActionOverrides"] = ruleOverrides
		}
		rules = append(rules, object{
			"name":             group.Name,
			"priority":         group.Priority,
			"overrideAction":   override,
			"statement":        object{"managedRuleGroupStatement": statement},
			"visibilityConfig": visible(metric + "-" + g),
		})
	}
	acl, err := awsres.Register(ctx, webACLType, name+"-waf", pulumi.Map{
		"name":             pulumi.String(metric),
		"description":      pulumi.String("football " + a.Stack + ": managed rules and a per-IP rate limit in front of the load balancer"),
		"scope":            pulumi.String("REGIONAL"),
		"defaultAction":    pulumi.Any(object{"allow": object{}}),
		"rules":            pulumi.Any(rules),
		"visibilityConfig": pulumi.Any(visible(metric)),
	}, child)
	if err != nil {
		return err
	}
	if _, err := awsres.Register(ctx, webACLAssociationType, name+"-waf-alb", pulumi.Map{
		"resourceArn": a.LoadBalancerARN,
		"webAclArn":   acl.Arn,
	}, child); err != nil {
		return err
	}
	groupOpts := []pulumi.ResourceOption{child}
	if *a.WAF.RetainLogs {
		// Security logs outlive the web ACL: turning the WAF off drops the group from the stack, not
		// from AWS, and its logs expire with their retention.
		groupOpts = append(groupOpts, pulumi.RetainOnDelete(true))
	}
	group, err := cloudwatch.NewLogGroup(ctx, name+"-waf-logs", &cloudwatch.LogGroupArgs{
		// A prefix and a generated suffix, not a fixed name: a group kept on delete would otherwise make
		// turning the WAF back on fail (CreateLogGroup refuses an existing name).
		NamePrefix:      pulumi.String("aws-waf-logs-" + metric + "-"),
		RetentionInDays: pulumi.Int(a.WAF.LogRetentionDays),
	}, groupOpts...)
	if err != nil {
		return err
	}
	redact := func(header string) object { return object{"singleHeader": object{"name": header}} }
	logging := pulumi.Map{
		"resourceArn":           acl.Arn,
		"logDestinationConfigs": pulumi.StringArray{group.Arn},
		"redactedFields":        pulumi.Any([]any{redact("authorization"), redact("cookie")}),
	}
	if !a.WAF.LogAllRequests {
		// Only what a rule blocked or counted: what a reviewer of a false positive needs, at a fraction of
		// the ingestion (every allowed request is in the load balancer's access logs).
		var conditions []any
		for _, action := range []string{"BLOCK", "COUNT", "EXCLUDED_AS_COUNT"} {
			conditions = append(conditions, object{"actionCondition": object{"action": action}})
		}
		logging["loggingFilter"] = pulumi.Any(object{
			"defaultBehavior": "DROP",
			"filters":         []any{object{"behavior": "KEEP", "requirement": "MEETS_ANY", "conditions": conditions}},
		})
	}
	if _, err := awsres.Register(ctx, webACLLoggingType, name+"-waf-logging", logging, child); err != nil {
		return err
	}
	e.WebACLARN = acl.Arn
	e.WAFLogGroup = group.Name
	// The metric name is the web ACL's own input; reading it through the ACL's URN keeps the alarms that
	// use it after the ACL, and the name known in a preview.
	e.WebACLMetricName = acl.URN().ApplyT(func(pulumi.URN) string { return metric }).(pulumi.StringOutput)
	return nil
}
