package insight

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/football/football-infra/internal/mock"
)

// The account-level half of the reports: what the bootstrap program (bootstrap/) creates once per account
// (the trail, Security Hub and AWS Config, GuardDuty, EBS encryption by default, the S3 account block,
// buckets, keys and managed policies), priced and checked against FSBP like the stacks. Controls here that
// find nothing in a plan are "not applicable": a stack's plan has no trail, the bootstrap's has no VPC.

// Type tokens of the account-level resources.
const (
	typeProvider        = "pulumi:providers:aws"
	typeBucketV2        = "aws:s3/bucketV2:BucketV2"
	typeBucket          = "aws:s3/bucket:Bucket"
	typeBucketPolicy    = "aws:s3/bucketPolicy:BucketPolicy"
	typeBucketBlock     = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeBucketLogging   = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	typeBucketLifecycle = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeAccountBlock    = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
	typeTrail           = "aws:cloudtrail/trail:Trail"
	typeIAMPolicy       = "aws:iam/policy:Policy"
	typeEBSDefault      = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	typeDetector        = "aws:guardduty/detector:Detector"
	typeRecorder        = "aws:cfg/recorder:Recorder"
	typeRecorderStatus  = "aws:cfg/recorderStatus:RecorderStatus"
	typeHubStandard     = "aws:securityhub/standardsSubscription:StandardsSubscription"
)

// TierBootstrap is the account-level tier: the bootstrap program's components.
const TierBootstrap = "bootstrap"

// regionOf is the region r is created in: its explicit provider's, else the plan's.
func (p *Plan) regionOf(r *mock.Resource) string {
	if r.Provider != "" {
		for _, prov := range p.ofType(typeProvider) {
			if prov.URN == r.Provider && prov.Str("region") != "" {
				return prov.Str("region")
			}
		}
	}
	return p.Region
}

// hasBaseline tells whether the plan holds account-level services billed by usage.
func (p *Plan) hasBaseline() bool {
	return len(p.ofType(typeTrail))+len(p.ofType(typeHubStandard))+len(p.ofType(typeRecorder))+len(p.ofType(typeDetector)) > 0
}

// baselineCosts prices the account-level services billed by usage, each in its resource's region.
func (e *Estimate) baselineCosts(p *Plan, book *PriceBook) {
	as := book.Assumptions
	monthly := func(r *mock.Resource, item, key string, qty float64) {
		e.add(book, LineItem{Tier: tierOf(r), Resource: r.Name, Item: item, Price: book.Price(p.regionOf(r), key), Quantity: qty})
	}
	for _, r := range p.ofType(typeTrail) {
		// The first trail's management events are free; its CloudWatch Logs copy is not.
		if r.Str("cloudWatchLogsGroupArn") != "" {
			monthly(r, fmt.Sprintf("trail events ingested into CloudWatch Logs (%g GB/month assumed)", as.TrailLogGBPerMonth), "logs.ingestion", as.TrailLogGBPerMonth)
		}
	}
	for _, r := range p.ofType(typeHubStandard) {
		monthly(r, fmt.Sprintf("Security Hub security checks in %s (%g a month assumed)", p.regionOf(r), as.SecurityHubChecks), "securityhub.check", as.SecurityHubChecks)
	}
	for _, r := range p.ofType(typeRecorder) {
		monthly(r, fmt.Sprintf("AWS Config items recorded in %s (%g a month assumed)", p.regionOf(r), as.ConfigItems), "config.item", as.ConfigItems)
	}
	for _, r := range p.ofType(typeDetector) {
		monthly(r, fmt.Sprintf("GuardDuty: CloudTrail management events analysed in %s (%g million assumed)", p.regionOf(r), as.GuardDutyEventsMillions),
			"guardduty.cloudtrail-events", as.GuardDutyEventsMillions)
		monthly(r, fmt.Sprintf("GuardDuty: VPC flow and DNS logs analysed in %s (%g GB assumed)", p.regionOf(r), as.GuardDutyFlowDNSGB),
			"guardduty.flow-dns-logs", as.GuardDutyFlowDNSGB)
	}
	if p.hasBaseline() {
		e.Assumptions = append(e.Assumptions,
			"Account baseline: "+as.SecurityHubChecksNote+"; "+as.ConfigItemsNote+"; "+as.GuardDutyNote+"; "+as.TrailLogGBPerMonthNote+".",
			"Free in the baseline: the first trail's management events, IAM Access Analyzer's external-access analyzers, EBS encryption by "+
				"default, the S3 account public access block, and budgets without actions (AWS Price List, AWSBudgets: $0.00 per budget-day). "+
				"Not included: S3 storage of state, logs and AWS Config snapshots (a few GB), KMS requests, Security Hub finding ingestion beyond the free 10,000 a month.")
	}
}

// policyStatement is the part of an IAM statement the guardrails read.
type policyStatement struct {
	Effect      string          `json:"Effect"`
	Action      json.RawMessage `json:"Action"`
	NotAction   json.RawMessage `json:"NotAction"`
	Resource    json.RawMessage `json:"Resource"`
	NotResource json.RawMessage `json:"NotResource"`
	Condition   map[string]map[string]json.RawMessage
}

// strs reads a policy element that is a string or a list of strings.
func strs(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// statements parses a policy document input; ok is false when it is absent or not a policy.
func statements(r *mock.Resource, path string) ([]policyStatement, bool) {
	raw := r.Str(path)
	if raw == "" {
		return nil, false
	}
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(raw), &doc) != nil {
		return nil, false
	}
	var list []policyStatement
	if json.Unmarshal(doc.Statement, &list) != nil {
		var one policyStatement
		if json.Unmarshal(doc.Statement, &one) != nil {
			return nil, false
		}
		list = []policyStatement{one}
	}
	return list, true
}

// buckets are the planned general purpose buckets.
func (p *Plan) buckets() []*mock.Resource {
	return append(p.ofType(typeBucketV2), p.ofType(typeBucket)...)
}

// bucketSetting finds the resource of typ that configures bucket b (by its ID, which is its name).
func (p *Plan) bucketSetting(b *mock.Resource, typ string) *mock.Resource {
	for _, r := range p.ofType(typ) {
		if id := r.Str("bucket"); id != "" && (id == b.ID || id == outputStr(b, "bucket")) {
			return r
		}
	}
	return nil
}

func checkS3_1(p *Plan) []Finding {
	return each(p, typeAccountBlock, func(r *mock.Resource) Finding { return allFourBlocks(r, "account public access block") })
}

func allFourBlocks(r *mock.Resource, what string) Finding {
	var off []string
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if on, _ := r.Bool(k); !on {
			off = append(off, k)
		}
	}
	if len(off) > 0 {
		return find(r, false, "%s leaves %s off", what, strings.Join(off, ", "))
	}
	return find(r, true, "%s: all four settings on", what)
}

func checkS3_5(p *Plan) []Finding {
	var out []Finding
	for _, b := range p.buckets() {
		pol := p.bucketSetting(b, typeBucketPolicy)
		if pol == nil {
			out = append(out, find(b, false, "no bucket policy; want a Deny of s3:* when aws:SecureTransport is false"))
			continue
		}
		list, _ := statements(pol, "policy")
		ok := false
		for _, s := range list {
			cond := s.Condition["Bool"]["aws:SecureTransport"]
			if s.Effect == "Deny" && (strings.Contains(string(cond), "false")) &&
				(containsAny(strs(s.Action), "s3:*", "*")) {
				ok = true
			}
		}
		out = append(out, find(b, ok, "policy %s denies requests without TLS: %t", pol.Name, ok))
	}
	return out
}

func containsAny(list []string, want ...string) bool {
	for _, w := range want {
		if contains(list, w) {
			return true
		}
	}
	return false
}

func checkS3_8(p *Plan) []Finding {
	var out []Finding
	for _, b := range p.buckets() {
		block := p.bucketSetting(b, typeBucketBlock)
		if block == nil {
			out = append(out, find(b, false, "no bucket public access block"))
			continue
		}
		f := allFourBlocks(block, "bucket public access block")
		f.Resource, f.Type, f.res = b.Name, b.Type, b
		out = append(out, f)
	}
	return out
}

func checkS3_9(p *Plan) []Finding {
	var out []Finding
	for _, b := range p.buckets() {
		if l := p.bucketSetting(b, typeBucketLogging); l != nil {
			out = append(out, find(b, true, "server access logs to %s", l.Str("targetBucket")))
		} else {
			out = append(out, find(b, false, "no server access logging"))
		}
	}
	return out
}

func checkS3_13(p *Plan) []Finding {
	var out []Finding
	for _, b := range p.buckets() {
		l := p.bucketSetting(b, typeBucketLifecycle)
		out = append(out, find(b, l != nil, "lifecycle configuration: %t", l != nil))
	}
	return out
}

func checkKMS_4(p *Plan) []Finding {
	return each(p, typeKMSKey, func(r *mock.Resource) Finding {
		if spec := r.Str("customerMasterKeySpec"); spec != "" && spec != "SYMMETRIC_DEFAULT" {
			return find(r, true, "asymmetric key (%s): rotation does not apply", spec)
		}
		on, _ := r.Bool("enableKeyRotation")
		return find(r, on, "enableKeyRotation is %t; want true", on)
	})
}

func checkCloudTrail_1(p *Plan) []Finding {
	return each(p, typeTrail, func(r *mock.Resource) Finding {
		multi, _ := r.Bool("isMultiRegionTrail")
		global, set := r.Bool("includeGlobalServiceEvents")
		if !set {
			global = true // the API default
		}
		mgmt := true
		for i := 0; ; i++ {
			at := indexPath("eventSelectors", i)
			if _, ok := r.Input(at); !ok {
				break
			}
			inc, set := r.Bool(at + ".includeManagementEvents")
			rw := orDefault(r.Str(at+".readWriteType"), "All")
			mgmt = mgmt && (inc || !set) && rw == "All"
		}
		return find(r, multi && global && mgmt, "multi-region %t, global service events %t, all management events %t", multi, global, mgmt)
	})
}

func checkCloudTrail_2(p *Plan) []Finding {
	return each(p, typeTrail, func(r *mock.Resource) Finding {
		k := r.Str("kmsKeyId")
		return find(r, k != "", "kmsKeyId %q", k)
	})
}

func checkCloudTrail_4(p *Plan) []Finding {
	return boolRule(p, typeTrail, "enableLogFileValidation", true, false)
}

func checkCloudTrail_5(p *Plan) []Finding {
	return each(p, typeTrail, func(r *mock.Resource) Finding {
		g := r.Str("cloudWatchLogsGroupArn")
		return find(r, g != "" && r.Str("cloudWatchLogsRoleArn") != "", "cloudWatchLogsGroupArn %q", g)
	})
}

// managedPolicyRule judges every Allow statement of every customer managed policy.
func managedPolicyRule(p *Plan, bad func(s policyStatement) string) []Finding {
	return each(p, typeIAMPolicy, func(r *mock.Resource) Finding {
		list, ok := statements(r, "policy")
		if !ok {
			return find(r, false, "the policy document is not readable JSON")
		}
		var why []string
		for _, s := range list {
			if s.Effect != "Allow" {
				continue
			}
			if w := bad(s); w != "" {
				why = append(why, w)
			}
		}
		if len(why) > 0 {
			return find(r, false, "%s", strings.Join(why, "; "))
		}
		return find(r, true, "%d statement(s), none too wide", len(list))
	})
}

func checkIAM_1(p *Plan) []Finding {
	return managedPolicyRule(p, func(s policyStatement) string {
		if contains(strs(s.Action), "*") && contains(strs(s.Resource), "*") {
			return `Allow "*" on "*" (full administrative access)`
		}
		return ""
	})
}

func checkIAM_21(p *Plan) []Finding {
	return managedPolicyRule(p, func(s policyStatement) string {
		var wild []string
		for _, a := range strs(s.Action) {
			if a == "*" || strings.HasSuffix(a, ":*") {
				wild = append(wild, a)
			}
		}
		if len(s.NotAction) > 0 {
			wild = append(wild, "NotAction")
		}
		if len(wild) > 0 {
			return "wildcard service actions " + strings.Join(wild, ", ")
		}
		return ""
	})
}

func checkEC2_7(p *Plan) []Finding {
	return boolRule(p, typeEBSDefault, "enabled", true, true)
}

func checkGuardDuty_1(p *Plan) []Finding {
	return boolRule(p, typeDetector, "enable", true, true)
}

func checkConfig_1(p *Plan) []Finding {
	return each(p, typeRecorder, func(r *mock.Resource) Finding {
		all, set := r.Bool("recordingGroup.allSupported")
		if !set {
			all = true
		}
		slr := strings.HasSuffix(r.Str("roleArn"), ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
		on := false
		for _, s := range p.ofType(typeRecorderStatus) {
			if s.Provider == r.Provider && s.Str("name") == r.Str("name") {
				on, _ = s.Bool("isEnabled")
			}
		}
		return find(r, all && slr && on, "records all supported resources %t, uses AWS Config's service-linked role %t, recording %t", all, slr, on)
	})
}

// logBucketException is the reason a bucket that receives logs is not itself logged.
const logBucketException = "a bucket that only receives AWS's log deliveries: its own access logs would need another bucket, and that one a third"
