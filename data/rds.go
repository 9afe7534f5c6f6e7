package data

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Database engines.
const (
	engineMySQL    = "mysql"
	enginePostgres = "postgres"
)

// DBSettings is football:data.db, the RDS instance.
type DBSettings struct {
	// Engine is the database engine. Optional; default mysql; allowed mysql, postgres.
	Engine string `json:"engine,omitempty"`
	// EngineVersion is the major version, optionally with a minor ("8.4", "8.4.5"). Optional; default 8.4
	// for mysql (8.0 leaves standard support on 2026-07-31), 17 for postgres; allowed mysql 8.4, postgres
	// 16 or 17. Minor versions follow autoMinorVersionUpgrade.
	EngineVersion string `json:"engineVersion,omitempty"`
	// InstanceClass is the RDS instance class. Optional; default dev db.t4g.micro, prod db.t4g.medium (the
	// smallest t4g class with Performance Insights on MySQL); must start with "db.". Changing it is an
	// in-place modification (applied in the maintenance window in prod).
	InstanceClass string `json:"instanceClass,omitempty"`
	// AllocatedStorage is the initial gp3 storage in GiB. Optional; default 20; allowed 20..65536.
	AllocatedStorage int `json:"allocatedStorage,omitempty"`
	// MaxAllocatedStorage is the storage autoscaling ceiling in GiB. Optional; default dev 50, prod 200;
	// allowed equal to allocatedStorage (no autoscaling), or at least 10% above it (RDS's rule) up to 65536.
	MaxAllocatedStorage int `json:"maxAllocatedStorage,omitempty"`
	// Port is the database port. Optional; default 3306 for mysql, 5432 for postgres; allowed 1150..65535.
	Port int `json:"port,omitempty"`
	// DBName is the database created with the instance. Optional; default football; a letter, then
	// letters, digits or underscores, at most 63 characters. Changing it replaces the instance.
	DBName string `json:"dbName,omitempty"`
	// Username is the master user. Optional; default football_admin; not admin, root, postgres or
	// rdsadmin (FSBP RDS.25); at most 16 characters for mysql, 63 for postgres. Changing it replaces the
	// instance. Its password is generated and kept by RDS in Secrets Manager, never in config or state.
	Username string `json:"username,omitempty"`
	// MultiAZ runs a synchronous standby in a second AZ. Optional; default dev false, prod true (FSBP RDS.5).
	MultiAZ *bool `json:"multiAz,omitempty"`
	// BackupRetentionDays keeps automated backups this many days. Optional; default dev 1, prod 14; allowed
	// 0..35, prod at least 7 (FSBP RDS.11).
	BackupRetentionDays *int `json:"backupRetentionDays,omitempty"`
	// DeletionProtection makes RDS refuse to delete the instance. Optional; default dev false, prod true;
	// prod must keep it on (FSBP RDS.8).
	DeletionProtection *bool `json:"deletionProtection,omitempty"`
	// SkipFinalSnapshot deletes the instance without a last snapshot. Optional; default dev true, prod
	// false; prod must take the final snapshot.
	SkipFinalSnapshot *bool `json:"skipFinalSnapshot,omitempty"`
	// PerformanceInsights turns on Performance Insights (7 days, the free retention). Optional; default dev
	// false, prod true where the engine supports it on the class (MySQL does not on db.t2/t3/t4g micro
	// and small); true on such a class is an error.
	PerformanceInsights *bool `json:"performanceInsights,omitempty"`
	// CloudWatchLogs exports the engine's logs to CloudWatch Logs (mysql: error, slowquery; postgres:
	// postgresql, upgrade). Optional; default dev false, prod true (FSBP RDS.9, RDS.36).
	CloudWatchLogs *bool `json:"cloudwatchLogs,omitempty"`
	// ApplyImmediately applies modifications now instead of in the maintenance window. Optional; default
	// dev true, prod false.
	ApplyImmediately *bool `json:"applyImmediately,omitempty"`
	// Protect sets Pulumi's protect option on the instance, so no `pulumi destroy` or replacement can
	// delete it. Optional; default dev false, prod true.
	Protect *bool `json:"protect,omitempty"`
	// RetainOnDelete leaves the instance (and the security group, subnet group and parameter group it
	// needs) in AWS when Pulumi deletes it. Optional; default dev false, prod true.
	RetainOnDelete *bool `json:"retainOnDelete,omitempty"`
	// BackupWindow is the daily backup window in UTC, "hh:mm-hh:mm", at least 30 minutes. Optional; default
	// 03:00-04:00 local time of the stack's region (18:00-19:00 UTC in Seoul; UTC for unknown regions);
	// must not overlap maintenanceWindow.
	BackupWindow string `json:"backupWindow,omitempty"`
	// MaintenanceWindow is the weekly maintenance window in UTC, "ddd:hh:mm-ddd:hh:mm", at least 30
	// minutes. Optional; default Tuesday 04:30-05:30 local time (mon:19:30-mon:20:30 in Seoul).
	MaintenanceWindow string `json:"maintenanceWindow,omitempty"`
}

func (s DBSettings) withDefaults(prod bool, offset int) DBSettings {
	if s.Engine == "" {
		s.Engine = engineMySQL
	}
	if s.EngineVersion == "" {
		s.EngineVersion = map[string]string{engineMySQL: "8.4", enginePostgres: "17"}[s.Engine]
	}
	if s.InstanceClass == "" {
		s.InstanceClass = pick(prod, "db.t4g.medium", "db.t4g.micro")
	}
	if s.AllocatedStorage == 0 {
		s.AllocatedStorage = 20
	}
	if s.MaxAllocatedStorage == 0 {
		s.MaxAllocatedStorage = pick(prod, 200, 50)
	}
	if s.Port == 0 {
		s.Port = map[string]int{engineMySQL: 3306, enginePostgres: 5432}[s.Engine]
	}
	if s.DBName == "" {
		s.DBName = "football"
	}
	if s.Username == "" {
		s.Username = "football_admin"
	}
	s.MultiAZ = orDefault(s.MultiAZ, prod)
	s.BackupRetentionDays = orDefault(s.BackupRetentionDays, pick(prod, 14, 1))
	s.DeletionProtection = orDefault(s.DeletionProtection, prod)
	s.SkipFinalSnapshot = orDefault(s.SkipFinalSnapshot, !prod)
	s.PerformanceInsights = orDefault(s.PerformanceInsights, prod && performanceInsightsSupported(s.Engine, s.InstanceClass))
	s.CloudWatchLogs = orDefault(s.CloudWatchLogs, prod)
	s.ApplyImmediately = orDefault(s.ApplyImmediately, !prod)
	s.Protect = orDefault(s.Protect, prod)
	s.RetainOnDelete = orDefault(s.RetainOnDelete, prod)
	if s.BackupWindow == "" {
		s.BackupWindow = dailyWindow(dbBackupLocal, offset)
	}
	if s.MaintenanceWindow == "" {
		s.MaintenanceWindow = weeklyWindow(dbMaintenanceLocal, offset)
	}
	return s
}

func (s DBSettings) defaulted() bool {
	return s.MultiAZ != nil && s.BackupRetentionDays != nil && s.DeletionProtection != nil &&
		s.SkipFinalSnapshot != nil && s.PerformanceInsights != nil && s.CloudWatchLogs != nil &&
		s.ApplyImmediately != nil && s.Protect != nil && s.RetainOnDelete != nil
}

var (
	dbInstanceClass = regexp.MustCompile(`^db\.[a-z0-9-]+\.[a-z0-9]+$`)
	dbIdentifier    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// dbVersions are the engine versions this code knows the parameter group family of.
	dbVersions = map[string]*regexp.Regexp{
		engineMySQL:    regexp.MustCompile(`^8\.4(\.\d+)?$`),
		enginePostgres: regexp.MustCompile(`^(16|17)(\.\d+)?$`),
	}
	dbVersionsAllowed = map[string]string{
		engineMySQL:    "allowed 8.4 or 8.4.<minor> for mysql",
		enginePostgres: "allowed 16, 17 or <major>.<minor> for postgres",
	}
	// reservedUsernames are refused as the master user: the engines' and RDS's own names, which FSBP RDS.25
	// flags and attackers guess first.
	reservedUsernames = []string{"admin", "root", "postgres", "rdsadmin"}
)

func (s DBSettings) validate(p *problems, prod bool) {
	knownEngine := s.Engine == engineMySQL || s.Engine == enginePostgres
	if !knownEngine {
		p.fail("db.engine", s.Engine, "allowed mysql, postgres")
	} else if !dbVersions[s.Engine].MatchString(s.EngineVersion) {
		p.fail("db.engineVersion", s.EngineVersion, dbVersionsAllowed[s.Engine])
	}
	if !dbInstanceClass.MatchString(s.InstanceClass) {
		p.fail("db.instanceClass", s.InstanceClass, `must be an RDS instance class starting with "db.", such as db.t4g.micro`)
	}
	if s.AllocatedStorage < 20 || s.AllocatedStorage > 65536 {
		p.fail("db.allocatedStorage", s.AllocatedStorage, "allowed 20..65536 (GiB of gp3)")
	}
	if floor := minAutoscalingCeiling(s.AllocatedStorage); s.MaxAllocatedStorage != s.AllocatedStorage &&
		(s.MaxAllocatedStorage < floor || s.MaxAllocatedStorage > 65536) {
		p.fail("db.maxAllocatedStorage", s.MaxAllocatedStorage, fmt.Sprintf("allowed %d (db.allocatedStorage: no autoscaling) or %d..65536; RDS wants the autoscaling ceiling at least 10%% above the allocation", s.AllocatedStorage, floor))
	}
	// An unknown engine has no default port; its own message says enough.
	if (s.Port < 1150 || s.Port > 65535) && (knownEngine || s.Port != 0) {
		p.fail("db.port", s.Port, "allowed 1150..65535")
	}
	if !dbIdentifier.MatchString(s.DBName) || len(s.DBName) > 63 {
		p.fail("db.dbName", s.DBName, "allowed a letter, then letters, digits or underscores, at most 63 characters")
	}
	maxUser := map[bool]int{true: 16, false: 63}[s.Engine == engineMySQL]
	switch {
	case slices.Contains(reservedUsernames, strings.ToLower(s.Username)):
		p.fail("db.username", s.Username, "admin, root, postgres and rdsadmin are reserved or guessable (FSBP RDS.25); use e.g. football_admin")
	case !dbIdentifier.MatchString(s.Username) || len(s.Username) > maxUser:
		p.fail("db.username", s.Username, fmt.Sprintf("allowed a letter, then letters, digits or underscores, at most %d characters", maxUser))
	}
	if n := *s.BackupRetentionDays; n < 0 || n > 35 {
		p.fail("db.backupRetentionDays", n, "allowed 0..35")
	} else if prod && n < 7 {
		p.fail("db.backupRetentionDays", n, "prod keeps at least 7 days of backups (FSBP RDS.11); allowed 7..35")
	}
	if prod && !*s.DeletionProtection {
		p.fail("db.deletionProtection", false, "prod keeps deletion protection on (FSBP RDS.8)")
	}
	if prod && *s.SkipFinalSnapshot {
		p.fail("db.skipFinalSnapshot", true, "prod takes a final snapshot before the instance is deleted")
	}
	if *s.PerformanceInsights && knownEngine && !performanceInsightsSupported(s.Engine, s.InstanceClass) {
		p.fail("db.performanceInsights", true, fmt.Sprintf("%s does not support Performance Insights on %s; use db.t4g.medium or larger, or turn it off", s.Engine, s.InstanceClass))
	}
	checkWindows(p, "db.backupWindow", s.BackupWindow, "db.maintenanceWindow", s.MaintenanceWindow, 30)
}

// minAutoscalingCeiling is the smallest storage autoscaling ceiling RDS accepts for an allocation: "at
// least 10% greater than the current allocated storage", else CreateDBInstance fails with "Invalid max
// storage size" (RDS User Guide, "Managing capacity automatically with Amazon RDS storage autoscaling").
// The provider's own doc (">= allocatedStorage") is looser than AWS.
func minAutoscalingCeiling(allocated int) int { return (allocated*11 + 9) / 10 }

// performanceInsightsSupported reports whether RDS offers Performance Insights for the engine on the
// class. AWS lists db.t2, db.t3 and db.t4g micro and small as unsupported for MySQL and MariaDB, with no
// such restriction for PostgreSQL ("Amazon RDS DB engine, Region, and instance class support for Database
// Insights", RDS User Guide).
func performanceInsightsSupported(engine, class string) bool {
	if engine != engineMySQL {
		return true
	}
	return !slices.Contains([]string{"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}, class)
}

// dbFamily is the parameter group family of a validated engine and version ("mysql8.4", "postgres17").
func dbFamily(engine, version string) string {
	if engine == engineMySQL {
		return "mysql8.4"
	}
	return "postgres" + strings.SplitN(version, ".", 2)[0]
}

// dbParameter is one engine setting. Static parameters only take effect after a reboot and must be
// applied "pending-reboot"; dynamic ones are applied "immediate", so a change reaches the running
// database at once. "pending-reboot" on a dynamic parameter would be accepted but would leave the change
// waiting for a manual reboot: RDS never reboots for pending parameter changes, not even in the
// maintenance window (RDS User Guide, "Modifying parameters in a DB parameter group"; the CloudFormation
// RDS handler maps dynamic to immediate and static to pending-reboot the same way).
type dbParameter struct {
	name, value string
	static      bool
}

// dbParameters are the engine settings the project relies on. All of them are dynamic in mysql8.4 and
// postgres17 (the RDS docs say require_secure_transport and rds.force_ssl need no reboot).
//
// Changing only the apply method of a parameter that AWS already stores is ignored by AWS and shows as
// a perpetual diff in the provider (terraform-provider-aws #36419, #24737): change a method together with
// its value.
func dbParameters(engine string) rds.ParameterGroupParameterArray {
	var params []dbParameter
	if engine == engineMySQL {
		params = []dbParameter{
			// Korean (and emoji) text needs 4-byte UTF-8; unicode_ci sorts Hangul by code point, as players expect.
			{name: "character_set_server", value: "utf8mb4"},
			{name: "collation_server", value: "utf8mb4_unicode_ci"},
			// Refuse unencrypted connections (FSBP asks for encryption in transit everywhere). RDS for MySQL
			// instances store 1/0 (clusters use ON/OFF); 1 avoids a diff against what AWS reports.
			{name: "require_secure_transport", value: "1"},
			// The slowquery export needs the slow log on and written to a file, not a table.
			{name: "slow_query_log", value: "1"},
			{name: "long_query_time", value: "1"},
			{name: "log_output", value: "FILE"},
		}
	} else {
		params = []dbParameter{
			// Refuse unencrypted connections (the default from PostgreSQL 15 on RDS; pinned so it stays).
			{name: "rds.force_ssl", value: "1"},
		}
	}
	var out rds.ParameterGroupParameterArray
	for _, p := range params {
		out = append(out, rds.ParameterGroupParameterArgs{
			Name: pulumi.String(p.name), Value: pulumi.String(p.value), ApplyMethod: pulumi.String(p.applyMethod()),
		})
	}
	return out
}

// applyMethod is "pending-reboot" for a static parameter (RDS refuses "immediate" for it) and
// "immediate" for a dynamic one.
func (p dbParameter) applyMethod() string { return pick(p.static, "pending-reboot", "immediate") }

// dbLogExports are the CloudWatch Logs exports per engine: MySQL's error and slow query logs (the general
// log is too loud and costly for production), PostgreSQL's server and upgrade logs (FSBP RDS.36).
func dbLogExports(engine string) []string {
	if engine == engineMySQL {
		return []string{"error", "slowquery"}
	}
	return []string{"postgresql", "upgrade"}
}

// database registers the RDS instance with its security group, subnet group and parameter group.
//
// Changing the instance class or storage must modify the instance in place, never replace it. The
// provider replaces an RDS instance when engine, username, dbName, storageEncrypted, kmsKeyId,
// characterSetName or availabilityZone change (and, in older provider versions, identifier), so all of
// these are either fixed here or derived from stable names, and the identifier is explicit.
func (tier *DataTier) database(ctx *pulumi.Context, name, base string, a DataTierArgs, subnets pulumi.StringArrayOutput) error {
	s := a.DB
	prod := a.Profile == profileProd
	child := pulumi.Parent(tier)
	// The instance's supporting resources share its retention: AWS will not delete a security group or a
	// subnet group that a retained instance still uses, and a deletion attempt would fail the destroy.
	// Options are only added when on, so that a protect the caller puts on the tier still reaches the
	// instance through Pulumi's inheritance.
	// The instance keeps its identifier, so a replacement must delete the old instance before it creates
	// the new one: RDS refuses a second instance with the same identifier.
	support := []pulumi.ResourceOption{child}
	instance := []pulumi.ResourceOption{child, pulumi.DeleteBeforeReplace(true)}
	if *s.RetainOnDelete {
		support = []pulumi.ResourceOption{child, pulumi.RetainOnDelete(true)}
		instance = append(instance, pulumi.RetainOnDelete(true))
	}
	if *s.Protect {
		instance = append(instance, pulumi.Protect(true))
	}

	sg, err := ec2.NewSecurityGroup(ctx, name+"-db-sg", &ec2.SecurityGroupArgs{
		VpcId: a.VPCID,
		// The description cannot change without replacing the group; keep it fixed.
		Description: pulumi.String("football data tier: database, from client security groups only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-db")},
	}, support...)
	if err != nil {
		return err
	}
	// No egress rules: the provider removes AWS's default allow-all egress rule, and none is needed because
	// security groups are stateful, so replies to admitted connections flow back regardless. The database
	// never opens connections of its own.
	if err := clientIngress(ctx, name+"-db-from", sg.ID(), a.ClientSecurityGroupIDs, s.Port, s.Engine, child); err != nil {
		return err
	}

	subnetGroup, err := rds.NewSubnetGroup(ctx, name+"-db-subnets", &rds.SubnetGroupArgs{
		SubnetIds:   subnets,
		Description: pulumi.String("football data tier: isolated data subnets"),
	}, support...)
	if err != nil {
		return err
	}
	params, err := rds.NewParameterGroup(ctx, name+"-db-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String(dbFamily(s.Engine, s.EngineVersion)),
		Description: pulumi.String("football data tier: " + s.Engine + " settings"),
		Parameters:  dbParameters(s.Engine),
	}, support...)
	if err != nil {
		return err
	}

	identifier := physicalID(base, "db", 63)
	args := &rds.InstanceArgs{
		Identifier:    pulumi.String(identifier),
		Engine:        pulumi.String(s.Engine),
		EngineVersion: pulumi.String(s.EngineVersion),
		// Validation allows postgres 16 and 17, so changing db.engineVersion from 16 to 17 is a supported
		// config change; ModifyDBInstance refuses a new major version unless this flag is set. It allows
		// nothing by itself: the version only moves when the config does.
		AllowMajorVersionUpgrade: pulumi.Bool(true),
		// Without this, RDS silently enrols a major version past its standard support in paid Extended
		// Support; disabled, RDS upgrades it instead.
		EngineLifecycleSupport: pulumi.String("open-source-rds-extended-support-disabled"),
		InstanceClass:          pulumi.String(s.InstanceClass),
		AllocatedStorage:       pulumi.Int(s.AllocatedStorage),
		// 0 switches storage autoscaling off explicitly; RDS refuses a ceiling equal to the allocation.
		MaxAllocatedStorage: pulumi.Int(pick(s.MaxAllocatedStorage == s.AllocatedStorage, 0, s.MaxAllocatedStorage)),
		StorageType:         pulumi.String("gp3"),
		StorageEncrypted:    pulumi.Bool(true), // FSBP RDS.3; can only be chosen at creation
		Port:                pulumi.Int(s.Port),
		DbName:              pulumi.String(s.DBName),
		Username:            pulumi.String(s.Username),
		// RDS generates the master password and keeps it in Secrets Manager (and rotates it), so it never
		// appears in config, code or Pulumi state.
		ManageMasterUserPassword: pulumi.Bool(true),
		// IAM authentication adds a way to log in without a password; it costs nothing unless used (FSBP RDS.10).
		IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
		DbSubnetGroupName:                subnetGroup.Name,
		VpcSecurityGroupIds:              pulumi.StringArray{sg.ID()},
		ParameterGroupName:               params.Name,
		PubliclyAccessible:               pulumi.Bool(false), // FSBP RDS.2
		MultiAz:                          pulumi.Bool(*s.MultiAZ),
		CaCertIdentifier:                 pulumi.String("rds-ca-rsa2048-g1"),
		BackupRetentionPeriod:            pulumi.Int(*s.BackupRetentionDays),
		BackupWindow:                     pulumi.String(s.BackupWindow),
		MaintenanceWindow:                pulumi.String(s.MaintenanceWindow),
		// Prod: class and storage changes wait for the maintenance window.
		ApplyImmediately:        pulumi.Bool(*s.ApplyImmediately),
		AutoMinorVersionUpgrade: pulumi.Bool(true), // FSBP RDS.13
		CopyTagsToSnapshot:      pulumi.Bool(true), // FSBP RDS.17
		DeletionProtection:      pulumi.Bool(*s.DeletionProtection),
		SkipFinalSnapshot:       pulumi.Bool(*s.SkipFinalSnapshot),
		// Prod keeps automated backups after the instance is deleted, until they expire.
		DeleteAutomatedBackups:     pulumi.Bool(!prod),
		PerformanceInsightsEnabled: pulumi.Bool(*s.PerformanceInsights),
		Tags:                       pulumi.StringMap{"Name": pulumi.String(identifier)},
	}
	if !*s.SkipFinalSnapshot {
		// A fixed name, not a timestamp: the argument is read at deletion time and must not produce a diff
		// on every update. A second deletion of a same-named instance must remove the old snapshot first.
		args.FinalSnapshotIdentifier = pulumi.String(identifier + "-final")
	}
	if *s.PerformanceInsights {
		args.PerformanceInsightsRetentionPeriod = pulumi.Int(7) // the free retention
	}
	if *s.CloudWatchLogs {
		args.EnabledCloudwatchLogsExports = pulumi.ToStringArray(dbLogExports(s.Engine))
	}
	db, err := rds.NewInstance(ctx, name+"-db", args, instance...)
	if err != nil {
		return err
	}

	tier.DBEndpoint = db.Endpoint
	tier.DBAddress = db.Address
	tier.DBName = db.DbName
	tier.DBPort = db.Port
	tier.DBIdentifier = db.Identifier
	// RDS reports the secret as a one-element list. Index(0) would panic on an empty list (an instance
	// imported without a managed password), so the list is read with a check that names the cause.
	tier.DBSecretARN = db.MasterUserSecrets.ApplyT(func(secrets []rds.InstanceMasterUserSecret) (string, error) {
		if len(secrets) == 0 || secrets[0].SecretArn == nil {
			return "", fmt.Errorf("data tier %q: RDS reports no master user secret for %s; is manageMasterUserPassword off?", name, identifier)
		}
		return *secrets[0].SecretArn, nil
	}).(pulumi.StringOutput)
	tier.DBSecurityGroupID = sg.ID().ToStringOutput()
	return nil
}

// clientIngress admits each client security group, by ID, on one TCP port: one rule per client, named by
// the client's position. Only referenced security groups are used, never CIDR blocks, so nothing outside
// the listed groups (and certainly not 0.0.0.0/0) can reach the port. Removing a client from the middle
// of the list renumbers the later rules, which Pulumi replaces (a brief gap for those clients).
func clientIngress(ctx *pulumi.Context, prefix string, sgID pulumi.IDOutput, clients []pulumi.StringInput, port int, what string, opts ...pulumi.ResourceOption) error {
	for i, client := range clients {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-%d", prefix, i), &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           sgID,
			ReferencedSecurityGroupId: client,
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(port),
			ToPort:                    pulumi.Int(port),
			Description:               pulumi.String(fmt.Sprintf("%s from client security group %d", what, i)),
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// pick returns a when cond holds (mostly: in prod), b otherwise.
func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

// orDefault returns p when set, else a pointer to def. It never writes through p, which may be shared with
// the caller's settings.
func orDefault[T any](p *T, def T) *T {
	if p != nil {
		return p
	}
	return &def
}
