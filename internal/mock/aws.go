package mock

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/football/football-infra/internal/awsfacts"
)

// answer returns the ID and outputs for one registration. Outputs start as the inputs (what the
// provider would store) and gain the values AWS computes.
func (m *Mocks) answer(r *Resource) (string, resource.PropertyMap, error) {
	outs := r.Inputs.Copy()
	set := func(k string, v any) { outs[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	// physical is the name AWS would see: the explicit one, or Pulumi's auto-name (logical name plus a
	// random suffix; here a hash, so runs are repeatable).
	physical := func(key string) string {
		if s := r.Str(key); s != "" {
			return s
		}
		if p := r.Str(key + "Prefix"); p != "" {
			return p + hashHex(7, r.URN)
		}
		return r.Name + "-" + hashHex(7, r.URN)
	}
	ec2ID := func(prefix string) string { return prefix + "-0" + hash17(prefix, r.URN)[1:] }

	if !r.Custom {
		switch r.Type {
		case "awsx:ec2:Vpc":
			return m.awsxVpc(r, outs)
		case "pulumi:pulumi:StackReference":
			self := "organization/" + m.Project + "/" + m.Stack
			if r.Str("name") != self {
				return "", nil, fmt.Errorf("only a reference to the stack itself (%s) is mocked, not %q", self, r.Str("name"))
			}
			outs["outputs"] = resource.NewProperty(m.previous)
			outs["secretOutputNames"] = resource.NewProperty([]resource.PropertyValue{})
			return self, outs, nil
		}
		// Local components have no ID and no outputs of their own.
		return "", outs, nil
	}

	switch r.Type {
	case "pulumi:providers:aws", "pulumi:providers:random":
		return hashHex(12, r.URN), outs, nil

	case "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		id := ec2ID("sg")
		set("name", physical("name"))
		set("arn", m.arn("ec2", "security-group/"+id))
		set("ownerId", Account)
		return id, outs, nil
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
		"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		id := ec2ID("sgr")
		set("securityGroupRuleId", id)
		set("arn", m.arn("ec2", "security-group-rule/"+id))
		return id, outs, nil
	case "aws:ec2/securityGroupRule:SecurityGroupRule":
		return ec2ID("sgrule"), outs, nil
	case "aws:ec2/instance:Instance":
		id := ec2ID("i")
		set("arn", m.arn("ec2", "instance/"+id))
		set("primaryNetworkInterfaceId", ec2ID("eni"))
		set("privateIp", m.privateIP(r.URN))
		set("privateDns", "ip-"+strings.ReplaceAll(m.privateIP(r.URN), ".", "-")+"."+m.Region+".compute.internal")
		if b, _ := r.Bool("associatePublicIpAddress"); b {
			set("publicIp", publicIP(r.URN))
		}
		return id, outs, nil
	case "aws:ec2/eip:Eip":
		id := ec2ID("eipalloc")
		ip := publicIP(r.URN)
		set("allocationId", id)
		set("publicIp", ip)
		set("publicDns", "ec2-"+strings.ReplaceAll(ip, ".", "-")+"."+m.Region+".compute."+m.dnsSuffix())
		set("arn", m.arn("ec2", "elastic-ip/"+id))
		return id, outs, nil
	case "aws:ec2/eipAssociation:EipAssociation":
		return ec2ID("eipassoc"), outs, nil
	case "aws:ec2/launchTemplate:LaunchTemplate":
		id := ec2ID("lt")
		set("arn", m.arn("ec2", "launch-template/"+id))
		set("latestVersion", 1)
		set("defaultVersion", 1)
		set("name", physical("name"))
		return id, outs, nil
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		id := ec2ID("vpce")
		set("arn", m.arn("ec2", "vpc-endpoint/"+id))
		set("prefixListId", ec2ID("pl"))
		set("state", "available")
		return id, outs, nil
	case "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation":
		return "a-" + r.Str("vpcEndpointId") + hashHex(10, r.Str("routeTableId")), outs, nil
	case "aws:ec2/route:Route":
		return "r-" + r.Str("routeTableId") + hashHex(10, r.Str("destinationCidrBlock")), outs, nil
	case "aws:ec2/flowLog:FlowLog":
		id := ec2ID("fl")
		set("arn", m.arn("ec2", "vpc-flow-log/"+id))
		return id, outs, nil

	case "aws:cloudwatch/logGroup:LogGroup":
		name := physical("name")
		set("name", name)
		set("arn", m.arn("logs", "log-group:"+name))
		return name, outs, nil
	case "aws:acm/certificate:Certificate":
		id := uuid(r.URN)
		arn := m.arn("acm", "certificate/"+id)
		set("arn", arn)
		set("status", "PENDING_VALIDATION")
		// One CNAME per name, as ACM gives them: _<hash>.<name>. -> _<hash>.<hash>.acm-validations.aws.
		var options []resource.PropertyValue
		for _, name := range append([]string{r.Str("domainName")}, r.Strs("subjectAlternativeNames")...) {
			options = append(options, resource.NewProperty(resource.PropertyMap{
				"domainName":          resource.NewProperty(name),
				"resourceRecordName":  resource.NewProperty("_" + hashHex(32, arn, name) + "." + name + "."),
				"resourceRecordType":  resource.NewProperty("CNAME"),
				"resourceRecordValue": resource.NewProperty("_" + hashHex(32, name) + "." + hashHex(10, arn) + ".acm-validations.aws."),
			}))
		}
		outs["domainValidationOptions"] = resource.NewProperty(options)
		return arn, outs, nil
	case "aws:acm/certificateValidation:CertificateValidation":
		set("certificateArn", r.Str("certificateArn"))
		return r.Str("certificateArn"), outs, nil
	case "aws:route53/record:Record":
		name := strings.TrimSuffix(r.Str("name"), ".")
		set("fqdn", name)
		return r.Str("zoneId") + "_" + name + "_" + r.Str("type"), outs, nil
	case "aws:wafv2/webAcl:WebAcl":
		id := uuid(r.URN)
		set("arn", m.arn("wafv2", "regional/webacl/"+r.Str("name")+"/"+id))
		set("capacity", 1400)
		return id, outs, nil
	case "aws:kms/key:Key":
		id := uuid(r.URN)
		set("keyId", id)
		set("arn", m.arn("kms", "key/"+id))
		return id, outs, nil
	case "aws:sns/topic:Topic":
		arn := m.arn("sns", physical("name"))
		set("name", physical("name"))
		set("arn", arn)
		return arn, outs, nil
	case "aws:sns/topicSubscription:TopicSubscription":
		arn := r.Str("topic") + ":" + uuid(r.URN)
		set("arn", arn)
		return arn, outs, nil
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		name := physical("name")
		set("arn", m.arn("cloudwatch", "alarm:"+name))
		return name, outs, nil
	case "aws:cloudwatch/dashboard:Dashboard":
		name := r.Str("dashboardName")
		set("dashboardArn", "arn:"+m.partition()+":cloudwatch::"+Account+":dashboard/"+name)
		return name, outs, nil
	case "aws:iam/role:Role":
		name := physical("name")
		set("name", name)
		set("arn", awsfacts.IAMARN(m.Region, Account, "role"+iamPath(r)+name))
		set("uniqueId", "AROA"+strings.ToUpper(hashHex(17, r.URN)))
		return name, outs, nil
	case "aws:iam/instanceProfile:InstanceProfile":
		name := physical("name")
		set("name", name)
		set("arn", awsfacts.IAMARN(m.Region, Account, "instance-profile/"+name))
		return name, outs, nil
	case "aws:iam/rolePolicy:RolePolicy":
		name := physical("name")
		set("name", name)
		return r.Str("role") + ":" + name, outs, nil
	case "aws:iam/policy:Policy":
		name := physical("name")
		set("name", name)
		arn := awsfacts.IAMARN(m.Region, Account, "policy"+iamPath(r)+name)
		set("arn", arn)
		return arn, outs, nil
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		arn := awsfacts.IAMARN(m.Region, Account, "oidc-provider/"+strings.TrimPrefix(r.Str("url"), "https://"))
		set("arn", arn)
		return arn, outs, nil
	case "aws:iam/serviceLinkedRole:ServiceLinkedRole":
		service := r.Str("awsServiceName")
		name := "AWSServiceRoleFor" + strings.ToUpper(service[:1]) + strings.TrimSuffix(service[1:], ".amazonaws.com")
		arn := awsfacts.IAMARN(m.Region, Account, "role/aws-service-role/"+service+"/"+name)
		set("name", name)
		set("arn", arn)
		return arn, outs, nil
	case "aws:cloudtrail/trail:Trail":
		name := physical("name")
		arn := m.arn("cloudtrail", "trail/"+name)
		set("arn", arn)
		set("homeRegion", m.Region)
		return arn, outs, nil
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return r.Str("role") + "-" + hashHex(8, r.Str("policyArn")), outs, nil

	case "aws:rds/instance:Instance":
		return m.rdsInstance(r, outs, physical)
	case "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup":
		name := strings.ToLower(physical("name"))
		set("name", name)
		kind := map[bool]string{true: "subgrp", false: "pg"}[r.Type == "aws:rds/subnetGroup:SubnetGroup"]
		set("arn", m.arn("rds", kind+":"+name))
		return name, outs, nil
	case "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup":
		name := strings.ToLower(physical("name"))
		set("name", name)
		kind := map[bool]string{true: "subnetgroup", false: "parametergroup"}[r.Type == "aws:elasticache/subnetGroup:SubnetGroup"]
		set("arn", m.arn("elasticache", kind+":"+name))
		return name, outs, nil
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		return m.replicationGroup(r, outs, physical)

	case "aws:lb/loadBalancer:LoadBalancer":
		name := physical("name")
		if len(name) > 32 { // AWS limits load balancer names to 32 characters.
			name = name[:32]
		}
		suffix := "app/" + name + "/" + hashHex(16, r.URN)
		dns := name + "-" + fmt.Sprint(1000000000+int(hashNum(r.URN)%900000000)) + "." + m.Region + ".elb." + m.dnsSuffix()
		if b, _ := r.Bool("internal"); b {
			dns = "internal-" + dns
		}
		set("name", name)
		set("arn", m.arn("elasticloadbalancing", "loadbalancer/"+suffix))
		set("arnSuffix", suffix)
		set("dnsName", dns)
		set("zoneId", "Z"+strings.ToUpper(hashHex(12, m.Region)))
		return m.arn("elasticloadbalancing", "loadbalancer/"+suffix), outs, nil
	case "aws:lb/targetGroup:TargetGroup":
		name := physical("name")
		if len(name) > 32 {
			name = name[:32]
		}
		suffix := "targetgroup/" + name + "/" + hashHex(16, r.URN)
		set("name", name)
		set("arn", m.arn("elasticloadbalancing", suffix))
		set("arnSuffix", suffix)
		return m.arn("elasticloadbalancing", suffix), outs, nil
	case "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule":
		arn := m.arn("elasticloadbalancing", "listener/app/"+hashHex(16, r.Str("loadBalancerArn"))+"/"+hashHex(16, r.URN))
		set("arn", arn)
		return arn, outs, nil
	case "aws:autoscaling/group:Group":
		name := physical("name")
		set("name", name)
		set("arn", m.arn("autoscaling", "autoScalingGroup:"+hashHex(8, r.URN)+":autoScalingGroupName/"+name))
		return name, outs, nil
	case "aws:autoscaling/policy:Policy":
		name := physical("name")
		set("name", name)
		set("arn", m.arn("autoscaling", "scalingPolicy:"+hashHex(8, r.URN)+":policyName/"+name))
		return m.arn("autoscaling", "scalingPolicy:"+name), outs, nil

	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		name := strings.ToLower(physical("bucket"))
		set("bucket", name)
		set("arn", "arn:"+m.partition()+":s3:::"+name)
		set("bucketDomainName", name+".s3."+m.dnsSuffix())
		set("bucketRegionalDomainName", name+".s3."+m.Region+"."+m.dnsSuffix())
		return name, outs, nil

	case "aws:secretsmanager/secret:Secret":
		name := physical("name")
		arn := m.arn("secretsmanager", "secret:"+name+"-"+hashHex(6, r.URN))
		set("name", name)
		set("arn", arn)
		return arn, outs, nil
	case "aws:secretsmanager/secretVersion:SecretVersion":
		version := uuid(r.URN, "version")
		set("versionId", version)
		set("arn", r.Str("secretId"))
		return r.Str("secretId") + "|" + version, outs, nil

	case "aws:ecr/repository:Repository":
		name := physical("name")
		set("name", name)
		set("arn", m.arn("ecr", "repository/"+name))
		set("registryId", Account)
		set("repositoryUrl", m.registry()+"/"+name)
		return name, outs, nil
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		set("registryId", Account)
		return r.Str("repository"), outs, nil

	case "aws:ssm/document:Document":
		name := physical("name")
		set("name", name)
		set("arn", m.arn("ssm", "document/"+name))
		set("latestVersion", "1")
		set("defaultVersion", "1")
		set("documentVersion", "1")
		set("owner", Account)
		return name, outs, nil
	case "aws:ssm/association:Association":
		id := uuid(r.URN, "association")
		set("associationId", id)
		set("arn", m.arn("ssm", "association/"+id))
		return id, outs, nil
	case "aws:ssm/parameter:Parameter":
		name := r.Str("name")
		if name == "" {
			return "", nil, fmt.Errorf("the mock needs an explicit parameter name")
		}
		set("arn", m.arn("ssm", "parameter"+name))
		set("version", 1)
		return name, outs, nil

	case "random:index/randomPassword:RandomPassword":
		n := 16
		if v, ok := r.Num("length"); ok {
			n = int(v)
		}
		pw := password(r.URN, n)
		outs["result"] = resource.MakeSecret(resource.NewProperty(pw))
		outs["bcryptHash"] = resource.MakeSecret(resource.NewProperty("$2a$10$" + hashHex(53, pw)))
		return "none", outs, nil
	}

	// Any other AWS resource: a name-derived ID and an ARN of the usual shape.
	if strings.HasPrefix(r.Type, "aws:") {
		service := strings.SplitN(strings.TrimPrefix(r.Type, "aws:"), "/", 2)[0]
		id := r.Name + "-" + hashHex(8, r.URN)
		set("arn", m.arn(service, id))
		return id, outs, nil
	}
	return hashHex(12, r.URN), outs, nil
}

// iamPath is an IAM role's or policy's path ("/" when unset), as its ARN carries it.
func iamPath(r *Resource) string {
	if p := r.Str("path"); p != "" {
		return p
	}
	return "/"
}

// awsxVpc stands in for the remote awsx:ec2:Vpc component, whose children never reach the mock. It
// answers with the outputs the program reads: the VPC ID and one subnet ID per planned block, in the
// order awsx returns them (AZ-major, one list per subnet type).
func (m *Mocks) awsxVpc(r *Resource, outs resource.PropertyMap) (string, resource.PropertyMap, error) {
	vpcID := "vpc-0" + hash17(r.URN)[1:]
	azs := r.Strs("availabilityZoneNames")
	specs, _ := r.Input("subnetSpecs")
	if len(azs) == 0 || !specs.IsArray() {
		return "", nil, fmt.Errorf("awsx:ec2:Vpc %q: the mock needs explicit availabilityZoneNames and subnetSpecs", r.Name)
	}
	ids := map[string][]resource.PropertyValue{}
	var made []subnet
	for az := range azs {
		for i, spec := range specs.ArrayValue() {
			blocks, ok := Lookup(spec, "cidrBlocks")
			typ, _ := Lookup(spec, "type")
			if !ok || !blocks.IsArray() || len(blocks.ArrayValue()) != len(azs) || !typ.IsString() {
				return "", nil, fmt.Errorf("awsx:ec2:Vpc %q: subnetSpecs[%d] needs a type and one cidrBlock per AZ", r.Name, i)
			}
			cidr := Unwrap(blocks.ArrayValue()[az]).StringValue()
			key := strings.ToLower(typ.StringValue())
			id := "subnet-0" + hash17(vpcID, cidr)[1:]
			ids[key] = append(ids[key], resource.NewProperty(id))
			if !slices.Contains(m.addingAZs, azs[az]) {
				made = append(made, subnet{id: id, cidr: cidr, az: azs[az]})
			}
		}
	}
	m.mu.Lock()
	if m.subnets == nil {
		m.subnets = map[string][]subnet{}
	}
	m.subnets[vpcID] = made
	m.mu.Unlock()
	outs["vpcId"] = resource.NewProperty(vpcID)
	// awsx answers natGateways with the gateways it created (resource references, which the mock cannot
	// give); the input of the same name, the NAT configuration, must not stand in for them (the SDK falls
	// back to an input for an output the answer lacks).
	outs["natGateways"] = resource.NewProperty([]resource.PropertyValue{})
	for key, out := range map[string]string{"public": "publicSubnetIds", "private": "privateSubnetIds", "isolated": "isolatedSubnetIds"} {
		outs[resource.PropertyKey(out)] = resource.NewProperty(ids[key])
		if len(m.addingAZs) > 0 {
			outs[resource.PropertyKey(out)] = resource.MakeComputed(resource.NewProperty(""))
		}
	}
	return "", outs, nil
}

// rdsInstance answers like RDS: an endpoint under the identifier, the engine's default port and, with
// manageMasterUserPassword, the Secrets Manager secret RDS creates.
func (m *Mocks) rdsInstance(r *Resource, outs resource.PropertyMap, physical func(string) string) (string, resource.PropertyMap, error) {
	id := strings.ToLower(physical("identifier"))
	port := 3306
	if strings.HasPrefix(r.Str("engine"), "postgres") {
		port = 5432
	}
	if p, ok := r.Num("port"); ok {
		port = int(p)
	}
	address := fmt.Sprintf("%s.c%s.%s.rds.%s", id, hashHex(11, Account, m.Region), m.Region, m.dnsSuffix())
	set := func(k string, v any) { outs[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	set("identifier", id)
	set("address", address)
	set("port", port)
	set("endpoint", fmt.Sprintf("%s:%d", address, port))
	set("arn", m.arn("rds", "db:"+id))
	set("resourceId", "db-"+strings.ToUpper(hashHex(26, r.URN)))
	set("hostedZoneId", "Z"+strings.ToUpper(hashHex(12, m.Region, "rds")))
	if b, _ := r.Bool("manageMasterUserPassword"); b {
		secret := m.arn("secretsmanager", "secret:rds!db-"+uuid(r.URN)+"-"+hashHex(6, r.URN, "s"))
		outs["masterUserSecrets"] = resource.NewProperty([]resource.PropertyValue{
			resource.NewProperty(resource.PropertyMap{
				"secretArn":    resource.NewProperty(secret),
				"secretStatus": resource.NewProperty("active"),
				"kmsKeyId":     resource.NewProperty(m.arn("kms", "key/"+uuid(r.URN, "kms"))),
			}),
		})
	}
	return id, outs, nil
}

// replicationGroup answers like ElastiCache: primary and reader endpoints with cluster mode disabled,
// a configuration endpoint with it enabled.
func (m *Mocks) replicationGroup(r *Resource, outs resource.PropertyMap, physical func(string) string) (string, resource.PropertyMap, error) {
	id := strings.ToLower(physical("replicationGroupId"))
	shortRegion := regionCode(m.Region)
	host := func(prefix string) string {
		return fmt.Sprintf("%s.%s.%s.%s.cache.%s", prefix, id, hashHex(6, id, m.Region), shortRegion, m.dnsSuffix())
	}
	set := func(k string, v any) { outs[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	port := 6379
	if p, ok := r.Num("port"); ok {
		port = int(p)
	}
	set("replicationGroupId", id)
	set("port", port)
	// Member clusters as ElastiCache names them: <group>-<node> (001, 002, ...), in cluster mode
	// <group>-<shard>-<node> (0001-001, ...).
	var members []resource.PropertyValue
	if clusters, ok := r.Num("numCacheClusters"); ok {
		for i := 1; i <= int(clusters); i++ {
			members = append(members, resource.NewProperty(fmt.Sprintf("%s-%03d", id, i)))
		}
	} else {
		replicas, _ := r.Num("replicasPerNodeGroup")
		for shard := 1; shard <= int(max(nodeGroupsOf(r), 1)); shard++ {
			for node := 1; node <= 1+int(replicas); node++ {
				members = append(members, resource.NewProperty(fmt.Sprintf("%s-%04d-%03d", id, shard, node)))
			}
		}
	}
	outs["memberClusters"] = resource.NewProperty(members)
	set("arn", m.arn("elasticache", "replicationgroup:"+id))
	if r.Str("clusterMode") == "enabled" || nodeGroupsOf(r) > 1 {
		set("configurationEndpointAddress", host("clustercfg"))
		set("primaryEndpointAddress", "")
		set("readerEndpointAddress", "")
	} else {
		set("primaryEndpointAddress", host("master"))
		set("readerEndpointAddress", host("replica"))
	}
	return id, outs, nil
}

// nodeGroupsOf is a replication group's numNodeGroups (0 when not set).
func nodeGroupsOf(r *Resource) float64 {
	n, _ := r.Num("numNodeGroups")
	return n
}

// registry is the account's ECR registry host in the stack's region.
func (m *Mocks) registry() string { return Account + ".dkr.ecr." + m.Region + "." + m.dnsSuffix() }

func (m *Mocks) arn(service, rest string) string {
	return awsfacts.ARN(m.Region, service, Account, rest)
}

// partition is the stack region's ARN partition, dnsSuffix the domain of its endpoints.
func (m *Mocks) partition() string { return awsfacts.Partition(m.Region) }
func (m *Mocks) dnsSuffix() string { return awsfacts.DNSSuffix(m.partition()) }

// privateIP picks a stable 10.x address; the mock does not model subnets' ranges.
func (m *Mocks) privateIP(seed string) string {
	n := hashNum(seed)
	return fmt.Sprintf("10.0.%d.%d", n%200, 4+n/200%250)
}

// publicIP returns an address in TEST-NET-3 (203.0.113.0/24), reserved for documentation.
func publicIP(seed string) string { return fmt.Sprintf("203.0.113.%d", 1+hashNum(seed)%254) }

func hashNum(seed string) uint64 {
	var n uint64
	for _, c := range hashHex(12, seed) {
		n = n*16 + uint64(strings.IndexRune("0123456789abcdef", c))
	}
	return n
}

func uuid(parts ...string) string {
	h := hashHex(32, parts...)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// password derives a repeatable password of n characters from letters and digits.
func password(seed string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h := hashHex(2*n, seed)
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[(int(h[2*i])*31+int(h[2*i+1]))%len(alphabet)]
	}
	return string(out)
}

// regionCode shortens a region the way ElastiCache endpoints do (ap-northeast-2 -> apn2).
func regionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	code := parts[0]
	for _, w := range []string{"north", "south", "east", "west", "central"} {
		if strings.HasPrefix(parts[1], w) {
			code += w[:1]
			parts[1] = strings.TrimPrefix(parts[1], w)
		}
	}
	return code + parts[2]
}
