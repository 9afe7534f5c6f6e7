// Package stack is the one place where football's components meet: it loads the stack's configuration,
// builds the Network, DataTier, ApiTier and ChatBastion, wires their outputs into each other and exports
// the stack outputs. main.go runs Program; cmd/plan and the tests run Deploy under the mock engine, so
// all three execute the same code.
package stack

import (
	"errors"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/football/football-infra/compute"
	"github.com/football/football-infra/data"
	"github.com/football/football-infra/edge"
	"github.com/football/football-infra/internal/awsfacts"
	"github.com/football/football-infra/monitoring"
	"github.com/football/football-infra/network"
)

// Program is what `pulumi up` and `pulumi preview` run.
func Program(ctx *pulumi.Context) error {
	keys, err := EnvConfigKeys()
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		// Automation API inline programs get their config another way; the key check then sees nothing.
		// A failed warning only loses a log line.
		_ = ctx.Log.Warn(pulumi.EnvConfig+" is empty: unknown football:* keys cannot be detected in this run", nil)
	}
	_, err = Deploy(ctx, keys)
	return err
}

// Deploy validates the configuration (keys lists every config key set for the stack), registers the
// stack's resources and exports its outputs, which it also returns. A bad configuration registers nothing.
//
// The components need each other's values in a circle: the data tier admits the API servers' and the
// chat server's security groups, the API servers' user data carries the data tier's endpoints, the chat
// server needs the API's URL and the API servers admit SSH from the chat server's group. The circle is
// only between values, not resources (each rule or template is its own resource), so it is closed with
// deferred outputs that resolve as soon as the components that own the values exist.
func Deploy(ctx *pulumi.Context, keys []string) (pulumi.Map, error) {
	cfg, err := Load(ctx, keys)
	if err != nil {
		return nil, err
	}
	return DeployConfig(ctx, cfg)
}

// DeployConfig is Deploy for a configuration Load has already read, so that a tool that needs the typed
// configuration (the offline plan, the reports) reads it once, with the program's own rules.
func DeployConfig(ctx *pulumi.Context, cfg *Config) (pulumi.Map, error) {
	// Releases are looked up before anything is registered, so a release that is not in its repository
	// stops the deployment before it starts.
	apiRepo, chatRepo := cfg.repository(cfg.API.ReleaseSettings, "api"), cfg.repository(cfg.Chat.ReleaseSettings, "chat")
	apiImage, apiErr := compute.ResolveRelease(ctx, cfg.Project+":api", cfg.API.Release, apiRepo)
	chatImage, chatErr := compute.ResolveRelease(ctx, cfg.Project+":chat", cfg.Chat.Release, chatRepo)
	// The hosted zone, too: a zone that does not exist stops the deployment before it starts.
	var zoneID string
	var zoneErr error
	if cfg.Domain.Enabled() {
		zoneID, zoneErr = edge.LookupZone(ctx, cfg.Domain)
	}
	if err := errors.Join(apiErr, chatErr, zoneErr); err != nil {
		return nil, &ConfigError{Err: err}
	}
	// Before the first registration (the reference to the previous deployment): prod's destroy lock
	// depends on everything registered.
	registered, err := recordRegistrations(ctx)
	if err != nil {
		return nil, err
	}
	guarded, err := guardReplacements(ctx, cfg)
	if err != nil {
		return nil, err
	}
	images, err := compute.NewUbuntuImages(ctx, "ubuntu", &compute.UbuntuImagesArgs{
		ImageSettings:   cfg.Images,
		Architectures:   cfg.Architectures,
		ParameterPrefix: "/" + cfg.Project + "/" + cfg.Stack,
	})
	if err != nil {
		return nil, err
	}
	boundary := permissionsBoundary(ctx, cfg)
	netArgs := &network.NetworkArgs{Settings: cfg.Network, Tags: cfg.DefaultTags, PermissionsBoundary: boundary}
	if cfg.NATArchitecture != "" {
		netArgs.NATImage = images.IDs[cfg.NATArchitecture]
	}
	net, err := network.NewNetwork(ctx, "net", netArgs)
	if err != nil {
		return nil, err
	}
	imageOf := func(instanceType string) pulumi.StringOutput {
		arch, _ := compute.Architecture(instanceType) // checked by Load
		return images.IDs[arch]
	}

	apiSG, resolveAPISG := deferredString(ctx)
	chatSG, resolveChatSG := deferredString(ctx)
	apiURL, resolveAPIURL := deferredString(ctx)
	// The edge (certificate, records, web ACL) comes before the load balancer whose listener uses its
	// certificate, and points at that load balancer.
	albARN, resolveALBARN := deferredString(ctx)
	albDNS, resolveALBDNS := deferredString(ctx)
	albZone, resolveALBZone := deferredString(ctx)
	albSG, resolveALBSG := deferredString(ctx)
	// Should a constructor fail after the deferred values were handed out, reject them so that nothing
	// waits on them forever.
	resolved := false
	defer func() {
		if !resolved {
			failed := pulumi.StringOutput(pulumi.All().ApplyT(func([]any) (string, error) {
				return "", errors.New("not created: an earlier component failed")
			}).(pulumi.StringOutput))
			for _, resolve := range []func(pulumi.StringOutput){resolveAPISG, resolveChatSG, resolveAPIURL, resolveALBARN, resolveALBDNS, resolveALBZone, resolveALBSG} {
				resolve(failed)
			}
		}
	}()

	front, err := edge.NewEdge(ctx, "edge", &edge.EdgeArgs{
		Domain: cfg.Domain, ZoneID: zoneID, WAF: cfg.WAF, Project: cfg.Project, Stack: cfg.Stack,
		LoadBalancerARN: albARN, LoadBalancerDNSName: albDNS, LoadBalancerZoneID: albZone,
	})
	if err != nil {
		return nil, err
	}
	// With a domain the chat server's API URL is the API's name, which its certificate matches.
	chatAPIURL := apiURL
	if cfg.Domain.Enabled() {
		chatAPIURL = pulumi.String("https://" + cfg.Domain.APIHost).ToStringOutput()
	}

	var authToken pulumi.StringInput
	if cfg.RedisAuthToken != "" {
		authToken = pulumi.ToSecret(pulumi.String(cfg.RedisAuthToken)).(pulumi.StringOutput)
	}
	db, err := data.NewDataTier(ctx, "data", &data.DataTierArgs{
		Settings:               cfg.Data,
		VPCID:                  net.VPCID,
		SubnetIDs:              net.DataSubnetIDs,
		ClientSecurityGroupIDs: []pulumi.StringInput{apiSG, chatSG},
		AuthToken:              authToken,
	})
	if err != nil {
		return nil, err
	}

	chat, err := cfg.deployChat(ctx, chatArgs{
		net: net, db: db, image: imageOf(cfg.Chat.InstanceType), arm64: images.IDs["arm64"],
		apiURL: chatAPIURL, albSG: albSG, repository: chatRepo, release: chatImage, boundary: boundary,
	})
	if err != nil {
		return nil, err
	}

	api, err := compute.NewApiTier(ctx, "api", &compute.ApiTierArgs{
		APISettings:            cfg.API,
		PermissionsBoundary:    boundary,
		VPCID:                  net.VPCID,
		PublicSubnetIDs:        net.PublicSubnetIDs,
		PrivateSubnetIDs:       net.PrivateSubnetIDs,
		ImageID:                imageOf(cfg.API.InstanceType),
		BastionSecurityGroupID: chat.bastionSG,
		DBHost:                 db.DBAddress,
		DBPort:                 db.DBPort,
		DBName:                 db.DBName,
		DBSecretARN:            db.DBSecretARN,
		RedisHost:              db.RedisPrimaryAddress,
		RedisPort:              db.RedisPort,
		RedisTLS:               db.RedisTLS,
		RedisAuthSecretARN:     db.RedisAuthSecretARN,
		Tags:                   cfg.DefaultTags,
		OwnRepository:          apiRepo,
		Image:                  apiImage.Image,
		ImageTags:              apiImage.Tags,
		Logs:                   cfg.logShipping("api"),
		RollbackAlarms:         cfg.rollbackAlarms(),
		Certificate:            map[bool]pulumi.StringInput{true: front.CertificateARN, false: nil}[cfg.Domain.Enabled()],
		Chat:                   chat.route,
	})
	if err != nil {
		return nil, err
	}
	resolveAPISG(api.SecurityGroupID)
	resolveChatSG(chat.securityGroupID)
	resolveAPIURL(api.URL)
	resolveALBARN(api.LoadBalancerARN)
	resolveALBDNS(api.LoadBalancerDNSName)
	resolveALBZone(api.LoadBalancerZoneID)
	resolveALBSG(api.LoadBalancerSecurityGroupID)
	resolved = true

	mon, err := monitoring.NewMonitoring(ctx, "monitoring", cfg.monitoringArgs(net, api, chat, db, front))
	if err != nil {
		return nil, err
	}
	// Last, once everything it must depend on is registered.
	lockURN := pulumi.String("").ToStringOutput()
	if cfg.Environment == Prod {
		lock, err := destroyLock(ctx, registered.resources(), net.VPCResources)
		if err != nil {
			return nil, err
		}
		lockURN = lock.URN().ToStringOutput()
	}

	outputs := pulumi.Map{
		"environment":       pulumi.String(cfg.Environment),
		"region":            pulumi.String(cfg.Region),
		"vpcId":             net.VPCID,
		"vpcCidr":           pulumi.String(net.CIDR),
		"availabilityZones": pulumi.ToStringArray(net.AvailabilityZones),
		"publicSubnetIds":   net.PublicSubnetIDs,
		"privateSubnetIds":  net.PrivateSubnetIDs,
		"dataSubnetIds":     net.DataSubnetIDs,
		"subnetPlan":        planOutput(net.Plan),
		"natPublicIp":       net.NATPublicIP,
		"flowLogGroup":      net.FlowLogGroup,
		"ubuntuImages":      pulumi.ToStringMapOutput(images.IDs),

		"albDnsName":          api.LoadBalancerDNSName,
		"albZoneId":           api.LoadBalancerZoneID,
		"apiUrl":              api.URL,
		"certificateArn":      front.CertificateARN,
		"hostedZoneId":        pulumi.String(front.ZoneID),
		"webAclArn":           front.WebACLARN,
		"wafLogGroup":         front.WAFLogGroup,
		"apiTargetGroupArn":   api.TargetGroupARN,
		"apiAsgName":          api.AutoScalingGroupName,
		"apiSecurityGroupId":  api.SecurityGroupID,
		"chatUrl":             chat.url(api),
		"chatMode":            pulumi.String(cfg.Chat.Mode),
		"chatAsgName":         chat.asgName,
		"bastionPublicIp":     chat.publicIP,
		"bastionInstanceId":   chat.instanceID,
		"sshProxyJump":        chat.proxyJump,
		"chatSecurityGroupId": chat.securityGroupID,
		"apiRepositoryUrl":    api.RepositoryURL,
		"apiImage":            api.Image,
		"chatRepositoryUrl":   chat.repositoryURL,
		"chatImage":           chat.image,

		"rdsEndpoint":         db.DBEndpoint,
		"dbAddress":           db.DBAddress,
		"dbPort":              db.DBPort,
		"dbName":              db.DBName,
		"dbSecretArn":         db.DBSecretARN,
		"redisEndpoint":       db.RedisPrimaryAddress,
		"redisReaderEndpoint": db.RedisReaderAddress,
		"redisPort":           db.RedisPort,
		"redisTls":            pulumi.Bool(db.RedisTLS),
		"redisAuthSecretArn":  db.RedisAuthSecretARN,

		"alarmTopicArn": mon.TopicARN,
		"dashboardUrl":  mon.DashboardURL,
		"alarms":        pulumi.ToStringArray(mon.Alarms),
		"logGroups": pulumi.StringMap{
			"api": pulumi.String(cfg.logShipping("api").Group), "chat": pulumi.String(cfg.logShipping("chat").Group),
		},

		guardOutput: guarded,
		// `pulumi state unprotect $(pulumi stack output destroyLock)` unlocks prod's destroy ("" outside prod).
		"destroyLock": lockURN,
	}
	if cfg.Domain.Enabled() {
		outputs["apiUrl"] = pulumi.String("https://" + cfg.Domain.APIHost)
		outputs["chatUrl"] = pulumi.String("wss://" + cfg.Domain.ChatHost + "/")
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return outputs, nil
}

// logShipping is where a service's servers send their logs: /<project>/<stack>/<service>.
func (c *Config) logShipping(service string) compute.LogShipping {
	return compute.LogShipping{
		Group:         "/" + c.Project + "/" + c.Stack + "/" + service,
		RetentionDays: c.Monitoring.LogRetentionDays,
		KMSKeyARN:     c.Monitoring.LogKMSKeyARN,
		// What the servers logged (logins through the bastion included) outlives the stack in prod.
		RetainOnDelete: *c.Monitoring.RetainLogs,
	}
}

// chatRollbackAlarms are the alarms the chat fleet's instance refresh watches (none while alarms are off).
func (c *Config) chatRollbackAlarms() []string {
	if !c.Monitoring.AlarmsOn() {
		return nil
	}
	return []string{
		monitoring.AlarmName(c.Project, c.Stack, monitoring.RollbackChatErrors),
		monitoring.AlarmName(c.Project, c.Stack, monitoring.RollbackChatUnhealthy),
	}
}

// rollbackAlarms are the alarms the API's instance refresh watches (none while alarms are off).
func (c *Config) rollbackAlarms() []string {
	if !c.Monitoring.AlarmsOn() {
		return nil
	}
	return []string{
		monitoring.AlarmName(c.Project, c.Stack, monitoring.RollbackTarget5xx),
		monitoring.AlarmName(c.Project, c.Stack, monitoring.RollbackUnhealthy),
	}
}

// monitoringArgs wires what the alarms and the dashboard watch: each component and the values CloudWatch
// names its resources by.
func (c *Config) monitoringArgs(net *network.Network, api *compute.ApiTier, chat *chatSide, db *data.DataTier, front *edge.Edge) *monitoring.MonitoringArgs {
	a := &monitoring.MonitoringArgs{
		Settings: c.Monitoring,
		Project:  c.Project,
		Stack:    c.Stack,
		API: &monitoring.APIWatch{
			Component: api, LoadBalancer: api.LoadBalancerARNSuffix, TargetGroup: api.TargetGroupARNSuffix,
			AutoScalingGroup: api.AutoScalingGroupName, MinSize: c.API.Min,
		},
		Database: &monitoring.DatabaseWatch{
			Component: db, Identifier: db.DBIdentifier, Engine: c.Data.DB.Engine,
			InstanceClass: c.Data.DB.InstanceClass, AllocatedGiB: c.Data.DB.AllocatedStorage,
		},
		Cache: &monitoring.CacheWatch{Component: db, Members: db.RedisMembers, Count: db.RedisNodes, Replicas: *c.Data.Redis.Replicas > 0},
	}
	switch {
	case chat.single != nil:
		a.Chat = &monitoring.InstanceWatch{Component: chat.single, Role: "chat", InstanceID: chat.single.InstanceID, Agent: true}
	case chat.fleet != nil:
		a.ChatFleet = &monitoring.FleetWatch{
			Component: chat.fleet, LoadBalancer: api.LoadBalancerARNSuffix, TargetGroup: chat.fleet.TargetGroupARNSuffix,
			AutoScalingGroup: chat.fleet.AutoScalingGroupName, MinSize: c.Chat.Fleet.Min, MaxSize: c.Chat.Fleet.Max,
		}
	}
	if chat.jump != nil {
		a.JumpHost = &monitoring.InstanceWatch{Component: chat.jump, Role: "jump", InstanceID: chat.jump.InstanceID}
	}
	if c.Network.NAT == network.NATInstance {
		a.NAT = &monitoring.InstanceWatch{Component: net, Role: "net-nat", InstanceID: net.NATInstanceID}
	}
	for _, g := range net.NATGateways {
		a.NATGateways = append(a.NATGateways, monitoring.NATGatewayWatch{Component: net, AZ: g.AvailabilityZone, ID: g.ID})
	}
	if *c.WAF.Enabled {
		a.WAF = &monitoring.WAFWatch{Component: front, WebACL: front.WebACLMetricName}
	}
	return a
}

// deferredString is a string output whose value is supplied later by another output.
func deferredString(ctx *pulumi.Context) (pulumi.StringOutput, func(pulumi.StringOutput)) {
	out, resolve := pulumi.DeferredOutput[string](ctx.Context())
	return pulumi.StringOutput{OutputState: out.OutputState}, func(o pulumi.StringOutput) { resolve(o) }
}

// planOutput renders the address plan as a list of objects for the stack outputs.
func planOutput(p network.Plan) pulumi.Array {
	var out pulumi.Array
	for _, s := range p.Subnets {
		out = append(out, pulumi.Map{
			"tier":             pulumi.String(string(s.Tier)),
			"availabilityZone": pulumi.String(s.AvailabilityZone),
			"cidr":             pulumi.String(s.CIDR),
			"usable":           pulumi.Int(s.Usable),
		})
	}
	return out
}

// permissionsBoundary is the ARN of football:permissionsBoundary in the stack's account, or nil without
// one. A path and name become an ARN in the account the stack deploys to.
func permissionsBoundary(ctx *pulumi.Context, cfg *Config) pulumi.StringPtrInput {
	b := cfg.PermissionsBoundary
	switch {
	case b == "":
		return nil
	case strings.HasPrefix(b, "arn:"):
		return pulumi.StringPtr(b)
	}
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}).AccountId()
	region := cfg.Region
	return account.ApplyT(func(acct string) *string {
		arn := awsfacts.IAMARN(region, acct, "policy/"+b)
		return &arn
	}).(pulumi.StringPtrOutput)
}
