package insight

import (
	"context"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/internal/mock"
)

// Synthetic plans built by hand: resources as the mock engine records them (type, name, URN with the
// component chain, ID, inputs, outputs), so every rule can be driven to pass and to fail without running
// a Pulumi program.

const (
	compNetwork = "football:network:Network"
	compAPI     = "football:compute:ApiTier"
	compChat    = chatBastionType
	compData    = "football:data:DataTier"
)

type fixture struct{ rs []*mock.Resource }

// add records a resource under a component (comp may be ""); outputs start as the inputs, like the mock.
func (f *fixture) add(comp, typ, name, id string, in, out map[string]any) *mock.Resource {
	qualified := typ
	if comp != "" {
		qualified = comp + "$" + typ
	}
	outs := map[string]any{}
	for k, v := range in {
		outs[k] = v
	}
	for k, v := range out {
		outs[k] = v
	}
	r := &mock.Resource{
		Type: typ, Name: name, ID: id, Custom: typ != typeVpc, Remote: typ == typeVpc,
		URN:    "urn:pulumi:test::football::" + qualified + "::" + name,
		Inputs: resource.NewPropertyMapFromMap(in), Outputs: resource.NewPropertyMapFromMap(outs),
		Order: len(f.rs),
	}
	f.rs = append(f.rs, r)
	return r
}

func (f *fixture) plan(stack, profile string) *Plan {
	return NewPlan(stack, profile, "ap-northeast-2", f.rs)
}

// find returns the fixture's resource by name (tests mutate it to break one rule).
func (f *fixture) find(name string) *mock.Resource {
	for _, r := range f.rs {
		if r.Name == name {
			return r
		}
	}
	panic("fixture has no resource " + name)
}

// set overwrites one top-level input of a resource.
func set(r *mock.Resource, key string, v any) {
	r.Inputs[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
}

// noPublicIPs stands in for network.NoPublicIPOnLaunch: the transform the Vpc registration carries.
func noPublicIPs(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if a.Type != typeSubnet {
		return nil
	}
	props := pulumi.Map{}
	for k, v := range a.Props {
		props[k] = v
	}
	props["mapPublicIpOnLaunch"] = pulumi.Bool(false)
	return &pulumi.ResourceTransformResult{Props: props, Opts: a.Opts}
}

var fixtureAZs = []any{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"}

func ids(prefix string) []any {
	return []any{prefix + "-a", prefix + "-b", prefix + "-c"}
}

// topology is what secureFixture varies.
type topology struct {
	nat          string // awsx strategy, or "instance"
	rdsMultiAZ   bool
	rdsClass     string
	redisNodes   int // numCacheClusters; 0 with shards
	redisShards  int
	apiDesired   int
	chatPortOpen int  // the chat port, open to the world (0: 8080 from the load balancer only)
	httpOnly     bool // port 80 forwards instead of redirecting
}

// secureFixture is a full plan shaped like the program's prod plan with a domain, in which every FSBP control
// passes except the one the exception table grants the chat server (EC2.9, its Elastic IP): a three-AZ
// awsx VPC, an ALB with an HTTPS listener and an HTTP redirect, an Auto Scaling group, the chat server,
// a Multi-AZ RDS instance and a replicated, encrypted Redis group.
func secureFixture(t topology) *fixture {
	if t.nat == "" {
		t.nat = natOnePerAZ
	}
	if t.rdsClass == "" {
		t.rdsClass = "db.t4g.micro"
	}
	if t.redisNodes == 0 && t.redisShards == 0 {
		t.redisNodes = 2
	}
	if t.apiDesired == 0 {
		t.apiDesired = 2
	}
	f := &fixture{}
	f.add("", "football:network:Network", "net", "", nil, nil).Custom = false
	strategy := t.nat
	if strategy == "instance" {
		strategy = natNone
	}
	vpc := f.add(compNetwork, typeVpc, "net-vpc", "", map[string]any{
		"availabilityZoneNames": fixtureAZs,
		"cidrBlock":             "10.0.0.0/16",
		"natGateways":           map[string]any{"strategy": strategy},
		"subnetSpecs": []any{
			map[string]any{"type": "Public", "name": "public", "cidrBlocks": []any{"10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"}},
			map[string]any{"type": "Private", "name": "private", "cidrBlocks": []any{"10.0.64.0/20", "10.0.80.0/20", "10.0.96.0/20"}},
			map[string]any{"type": "Isolated", "name": "data", "cidrBlocks": []any{"10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"}},
		},
	}, map[string]any{
		"vpcId": "vpc-1", "publicSubnetIds": ids("pub"), "privateSubnetIds": ids("priv"), "isolatedSubnetIds": ids("data"),
	})
	vpc.Transforms = []pulumi.ResourceTransform{noPublicIPs}
	f.add(compNetwork, typeDefaultSG, "net-default-sg", "sg-default", map[string]any{"vpcId": "vpc-1"}, nil)
	f.add(compNetwork, typeFlowLog, "net-flow-log", "fl-1", map[string]any{"vpcId": "vpc-1", "logDestinationType": "cloud-watch-logs"}, nil)
	if t.nat == "instance" {
		// As network.natInstance builds it: a plain instance (no launch template, no instance profile: it
		// forwards packets and holds no AWS credentials), an Elastic IP, and the private subnets' default
		// routes through its network interface.
		f.add(compNetwork, typeInstance, "net-nat", "i-nat", map[string]any{
			"instanceType": "t4g.nano", "subnetId": "pub-a", "sourceDestCheck": false, "vpcSecurityGroupIds": []any{"sg-nat"},
			"metadataOptions": map[string]any{"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
			"rootBlockDevice": map[string]any{"volumeSize": 8, "volumeType": "gp3", "encrypted": true, "deleteOnTermination": true},
		}, map[string]any{"primaryNetworkInterfaceId": "eni-nat"})
		f.add(compNetwork, typeEIP, "net-nat-eip", "eipalloc-nat", map[string]any{"instance": "i-nat", "domain": "vpc"}, nil)
		for _, az := range []string{"a", "b", "c"} {
			f.add(compNetwork, typeRoute, "net-nat-route-"+az, "r-nat-"+az, map[string]any{
				"routeTableId": "rtb-priv-" + az, "destinationCidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-nat"}, nil)
		}
	}

	// API tier: ALB in the public subnets, HTTPS plus an HTTP redirect, the group in the private subnets.
	f.add(compAPI, typeSG, "api-alb-sg", "sg-alb", map[string]any{"vpcId": "vpc-1"}, nil)
	f.add(compAPI, typeSG, "api-sg", "sg-api", map[string]any{"vpcId": "vpc-1"}, nil)
	f.add(compAPI, typeIngressRule, "api-alb-443", "sgr-1", map[string]any{
		"securityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}, nil)
	f.add(compAPI, typeIngressRule, "api-alb-80", "sgr-2", map[string]any{
		"securityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "cidrIpv6": "::/0"}, nil)
	f.add(compAPI, typeIngressRule, "api-from-alb", "sgr-3", map[string]any{
		"securityGroupId": "sg-api", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "referencedSecurityGroupId": "sg-alb"}, nil)
	f.add(compAPI, typeLoadBalancer, "api-alb", "arn:alb", map[string]any{
		"loadBalancerType": "application", "internal": false, "subnets": ids("pub"), "securityGroups": []any{"sg-alb"},
		"dropInvalidHeaderFields": true, "desyncMitigationMode": "defensive", "enableDeletionProtection": true,
		"accessLogs": map[string]any{"enabled": true, "bucket": "logs"},
	}, map[string]any{"arn": "arn:alb"})
	f.add(compAPI, typeListener, "api-https", "arn:l1", map[string]any{
		"loadBalancerArn": "arn:alb", "port": 443, "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
		"defaultActions": []any{map[string]any{"type": "forward", "targetGroupArn": "arn:tg"}}}, nil)
	httpAction := map[string]any{"type": "redirect", "redirect": map[string]any{"protocol": "HTTPS", "port": "443"}}
	if t.httpOnly {
		httpAction = map[string]any{"type": "forward", "targetGroupArn": "arn:tg"}
	}
	f.add(compAPI, typeListener, "api-http", "arn:l2", map[string]any{
		"loadBalancerArn": "arn:alb", "port": 80, "protocol": "HTTP", "defaultActions": []any{httpAction}}, nil)
	f.add(compAPI, typeInstanceProf, "api-profile", "api-profile-x", map[string]any{"role": "api-role"}, map[string]any{"arn": "arn:profile/api"})
	f.add(compAPI, typeRoleAttachment, "api-ssm", "api-ssm", map[string]any{"role": "api-role", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}, nil)
	f.add(compAPI, typeLaunchTemplate, "api-lt", "lt-api", map[string]any{
		"instanceType":        "t4g.small",
		"metadataOptions":     map[string]any{"httpTokens": "required"},
		"iamInstanceProfile":  map[string]any{"arn": "arn:profile/api"},
		"networkInterfaces":   []any{map[string]any{"associatePublicIpAddress": "false", "securityGroups": []any{"sg-api"}}},
		"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"volumeSize": 16, "volumeType": "gp3", "encrypted": "true"}}},
	}, nil)
	f.add(compAPI, typeASG, "api-asg", "api-asg", map[string]any{
		"vpcZoneIdentifiers": ids("priv"), "minSize": 2, "maxSize": 6, "desiredCapacity": t.apiDesired,
		"launchTemplate": map[string]any{"id": "lt-api"}, "healthCheckType": "ELB", "targetGroupArns": []any{"arn:tg"},
	}, nil)

	// The chat server as compute.NewChatBastion builds it: a plain instance (no launch template) in a public
	// subnet with IMDSv2, Session Manager's instance profile and an encrypted root volume, reached through
	// its Elastic IP; its chat port admits the load balancer (a stack with a domain), SSH nothing.
	f.add(compChat, typeSG, "chat-sg", "sg-chat", map[string]any{"vpcId": "vpc-1"}, nil)
	if t.chatPortOpen != 0 {
		f.add(compChat, typeIngressRule, "chat-world", "sgr-chat", map[string]any{
			"securityGroupId": "sg-chat", "ipProtocol": "tcp", "fromPort": t.chatPortOpen, "toPort": t.chatPortOpen, "cidrIpv4": "0.0.0.0/0"}, nil)
	} else {
		f.add(compChat, typeIngressRule, "chat-chat-from-alb", "sgr-chat-alb", map[string]any{
			"securityGroupId": "sg-chat", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "referencedSecurityGroupId": "sg-alb"}, nil)
	}
	f.add(compChat, typeInstanceProf, "chat-profile", "chat-profile-x", map[string]any{"role": "chat-role"},
		map[string]any{"arn": "arn:profile/chat", "name": "chat-profile-x"})
	f.add(compChat, typeRoleAttachment, "chat-ssm", "chat-ssm", map[string]any{"role": "chat-role", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}, nil)
	f.add(compChat, typeInstance, "chat-server", "i-chat", map[string]any{
		"instanceType": "t4g.micro", "subnetId": "pub-b", "vpcSecurityGroupIds": []any{"sg-chat"}, "iamInstanceProfile": "chat-profile-x",
		"metadataOptions": map[string]any{"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
		"rootBlockDevice": map[string]any{"volumeSize": 16, "volumeType": "gp3", "encrypted": true, "deleteOnTermination": true},
	}, map[string]any{"primaryNetworkInterfaceId": "eni-chat"})
	f.add(compChat, typeEIP, "chat-eip", "eipalloc-chat", map[string]any{"instance": "i-chat", "domain": "vpc"}, nil)

	// Data tier.
	f.add(compData, typeSG, "data-db-sg", "sg-db", map[string]any{"vpcId": "vpc-1"}, nil)
	f.add(compData, typeSG, "data-redis-sg", "sg-redis", map[string]any{"vpcId": "vpc-1"}, nil)
	for i, client := range []string{"sg-api", "sg-chat"} {
		f.add(compData, typeIngressRule, "data-db-from-"+strconv.Itoa(i), "sgr-db"+strconv.Itoa(i), map[string]any{
			"securityGroupId": "sg-db", "ipProtocol": "tcp", "fromPort": 3306, "toPort": 3306, "referencedSecurityGroupId": client}, nil)
		f.add(compData, typeIngressRule, "data-redis-from-"+strconv.Itoa(i), "sgr-redis"+strconv.Itoa(i), map[string]any{
			"securityGroupId": "sg-redis", "ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379, "referencedSecurityGroupId": client}, nil)
	}
	f.add(compData, typeRDSSubnetGroup, "data-db-subnets", "data-db-subnets-x", map[string]any{"subnetIds": ids("data")}, map[string]any{"name": "data-db-subnets-x"})
	f.add(compData, typeRDSInstance, "data-db", "football-db", map[string]any{
		"engine": "mysql", "instanceClass": t.rdsClass, "multiAz": t.rdsMultiAZ, "allocatedStorage": 20, "storageType": "gp3",
		"storageEncrypted": true, "publiclyAccessible": false, "backupRetentionPeriod": 14, "deletionProtection": true,
		"autoMinorVersionUpgrade": true, "copyTagsToSnapshot": true, "username": "football_admin",
		"dbSubnetGroupName": "data-db-subnets-x", "vpcSecurityGroupIds": []any{"sg-db"},
	}, nil)
	f.add(compData, typeCacheSubnetGrp, "data-redis-subnets", "data-redis-subnets-x", map[string]any{"subnetIds": ids("data")}, nil)
	redis := map[string]any{
		"engine": "redis", "nodeType": "cache.t4g.micro", "automaticFailoverEnabled": true, "multiAzEnabled": true,
		"atRestEncryptionEnabled": true, "transitEncryptionEnabled": true, "snapshotRetentionLimit": 7,
		"autoMinorVersionUpgrade": true, "subnetGroupName": "data-redis-subnets-x", "securityGroupIds": []any{"sg-redis"},
	}
	if t.redisShards > 0 {
		redis["numNodeGroups"], redis["replicasPerNodeGroup"] = t.redisShards, 1
	} else {
		redis["numCacheClusters"] = t.redisNodes
	}
	f.add(compData, typeReplGroup, "data-redis", "football-redis", redis, nil)

	// The API's image repository and its lifecycle policy.
	f.add(compAPI, typeRepository, "api-repo", "football/prod/api", map[string]any{
		"name": "football/prod/api", "imageTagMutability": "IMMUTABLE",
		"imageScanningConfiguration": map[string]any{"scanOnPush": true},
	}, nil)
	f.add(compAPI, typeLifecyclePolicy, "api-repo-lifecycle", "football/prod/api", map[string]any{
		"repository": "football/prod/api", "policy": `{"rules":[]}`}, nil)

	// The web ACL in front of the load balancer, associated and logged.
	const compEdge = "football:edge:Edge"
	visible := map[string]any{"cloudwatchMetricsEnabled": true, "sampledRequestsEnabled": true, "metricName": "m"}
	f.add(compEdge, typeWebACL, "edge-waf", "acl-1", map[string]any{
		"scope": "REGIONAL", "visibilityConfig": visible,
		"rules": []any{map[string]any{"name": "rate-per-ip", "priority": 1, "visibilityConfig": visible}},
	}, map[string]any{"arn": "arn:acl"})
	f.add(compEdge, typeWebACLAssociation, "edge-waf-alb", "assoc-1", map[string]any{"resourceArn": "arn:alb", "webAclArn": "arn:acl"}, nil)
	f.add(compEdge, typeWebACLLogging, "edge-waf-logging", "log-1", map[string]any{
		"resourceArn": "arn:acl", "logDestinationConfigs": []any{"arn:logs:aws-waf-logs-x"}}, nil)
	accountFixture(f, true)
	return f
}

// accountFixture adds what the bootstrap registers once per account: a bucket with its settings, the
// account public access block, a key, the trail, a managed policy, EBS encryption by default, GuardDuty
// and an AWS Config recorder. secure false breaks every one of their controls.
func accountFixture(f *fixture, secure bool) {
	const comp = "football:bootstrap:Baseline"
	tls := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents","ssm:Get*"],"Resource":"*"}]}`
	on, trail := true, map[string]any{"isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:key",
		"cloudWatchLogsGroupArn": "arn:lg:*", "cloudWatchLogsRoleArn": "arn:role", "s3BucketName": "t"}
	slr := "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
	if !secure {
		tls = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`
		policy = `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		on, trail = false, map[string]any{"isMultiRegionTrail": false, "s3BucketName": "t"}
		slr = "arn:aws:iam::123456789012:role/my-config-role"
	}
	f.add(comp, typeBucketV2, "account-bucket", "b", map[string]any{"bucket": "b"}, nil)
	f.add(comp, typeBucketPolicy, "account-bucket-policy", "b", map[string]any{"bucket": "b", "policy": tls}, nil)
	block := map[string]any{"bucket": "b", "blockPublicAcls": true, "blockPublicPolicy": on, "ignorePublicAcls": true, "restrictPublicBuckets": true}
	f.add(comp, typeBucketBlock, "account-bucket-block", "b", block, nil)
	f.add(comp, typeAccountBlock, "account-block", "123456789012", map[string]any{
		"blockPublicAcls": on, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}, nil)
	if secure {
		f.add(comp, typeBucketLogging, "account-bucket-logging", "b", map[string]any{"bucket": "b", "targetBucket": "logs", "targetPrefix": "b/"}, nil)
		f.add(comp, typeBucketLifecycle, "account-bucket-lifecycle", "b", map[string]any{"bucket": "b"}, nil)
	}
	f.add(comp, typeKMSKey, "account-key", "k", map[string]any{"enableKeyRotation": on}, nil)
	f.add(comp, typeTrail, "account-trail", "arn:trail", trail, nil)
	f.add(comp, typeIAMPolicy, "account-boundary", "arn:policy", map[string]any{"policy": policy}, nil)
	f.add(comp, typeEBSDefault, "account-ebs", "ebs", map[string]any{"enabled": on}, nil)
	f.add(comp, typeDetector, "account-guardduty", "d", map[string]any{"enable": on}, nil)
	f.add(comp, typeRecorder, "account-recorder", "football", map[string]any{"name": "football", "roleArn": slr,
		"recordingGroup": map[string]any{"allSupported": true}}, nil)
	f.add(comp, typeRecorderStatus, "account-recording", "football", map[string]any{"name": "football", "isEnabled": on}, nil)
}

// insecureFixture breaks every control at once: each rule must report a failure on it.
func insecureFixture() *fixture {
	f := &fixture{}
	f.add("", typeVpc, "bad-vpc", "", map[string]any{
		"availabilityZoneNames": []any{"ap-northeast-2a"},
		"subnetSpecs":           []any{map[string]any{"type": "Public", "cidrBlocks": []any{"10.0.0.0/20"}}},
	}, map[string]any{"vpcId": "vpc-bad", "publicSubnetIds": []any{"pub-a"}})
	f.add("", typeDefaultSG, "bad-default-sg", "sg-default", map[string]any{"vpcId": "vpc-bad",
		"ingress": []any{map[string]any{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": true}}}, nil)
	f.add("", typeSubnet, "bad-subnet", "subnet-bad", map[string]any{"mapPublicIpOnLaunch": true}, nil)
	f.add("", typeSG, "bad-sg", "sg-bad", map[string]any{"vpcId": "vpc-bad",
		"ingress": []any{map[string]any{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"0.0.0.0/0"}}}}, nil)
	f.add("", typeLaunchTemplate, "bad-lt", "lt-bad", map[string]any{
		"instanceType": "t4g.micro", "metadataOptions": map[string]any{"httpTokens": "optional"},
		"networkInterfaces": []any{map[string]any{"associatePublicIpAddress": "true"}}}, nil)
	f.add("", typeInstance, "bad-server", "i-bad", map[string]any{
		"instanceType": "t4g.micro", "associatePublicIpAddress": true, "subnetId": "pub-a"}, nil)
	f.add("", typeLoadBalancer, "bad-alb", "arn:bad", map[string]any{
		"subnets": []any{"pub-a"}, "dropInvalidHeaderFields": false, "desyncMitigationMode": "monitor",
		"enableDeletionProtection": false}, map[string]any{"arn": "arn:bad"})
	f.add("", typeListener, "bad-http", "arn:bl1", map[string]any{"loadBalancerArn": "arn:bad", "port": 80, "protocol": "HTTP",
		"defaultActions": []any{map[string]any{"type": "forward"}}}, nil)
	f.add("", typeListener, "bad-https", "arn:bl2", map[string]any{"loadBalancerArn": "arn:bad", "port": 443, "protocol": "HTTPS",
		"sslPolicy": "ELBSecurityPolicy-2016-08", "defaultActions": []any{map[string]any{"type": "forward"}}}, nil)
	f.add("", typeASG, "bad-asg", "bad-asg", map[string]any{
		"vpcZoneIdentifiers": []any{"pub-a"}, "minSize": 1, "maxSize": 1, "desiredCapacity": 1,
		"launchTemplate": map[string]any{"id": "lt-bad"}, "healthCheckType": "EC2", "targetGroupArns": []any{"arn:tg"}}, nil)
	f.add("", typeRDSInstance, "bad-db", "bad-db", map[string]any{
		"engine": "mysql", "instanceClass": "db.t4g.micro", "publiclyAccessible": true, "storageEncrypted": false,
		"multiAz": false, "deletionProtection": false, "backupRetentionPeriod": 1, "autoMinorVersionUpgrade": false,
		"copyTagsToSnapshot": false, "username": "admin"}, nil)
	f.add("", typeReplGroup, "bad-redis", "bad-redis", map[string]any{
		"engine": "redis", "nodeType": "cache.t4g.micro", "snapshotRetentionLimit": 0, "autoMinorVersionUpgrade": false,
		"automaticFailoverEnabled": false, "atRestEncryptionEnabled": false, "transitEncryptionEnabled": false,
		"subnetGroupName": "default"}, nil)
	f.add("", typeRepository, "bad-repo", "bad", map[string]any{"name": "bad"}, nil)
	f.add("", typeWebACL, "bad-waf", "acl-bad", map[string]any{"scope": "REGIONAL",
		"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": false}}, map[string]any{"arn": "arn:acl-bad"})
	accountFixture(f, false)
	return f
}
