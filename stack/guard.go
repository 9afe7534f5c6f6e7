package stack

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// guardOutput is the stack output that records the settings guardedKeys watch, so that the next
// deployment can compare against them.
const guardOutput = "statefulSettings"

// guardedKey is a config value whose change makes the provider replace a stateful resource: a new, empty
// one is created and the old one, with its data, deleted. Pulumi's preview shows "replace", but among
// dozens of steps; the warning names the key that caused it.
type guardedKey struct {
	key  string // config path under the project's namespace
	what string // what is replaced
	// replaces reports whether the change from old to new replaces it; nil means every change does.
	replaces func(old, new string, cur map[string]string) bool
}

// guardedKeys are, for the current provider (pulumi-aws v6), the config keys that replace the database,
// the cache, a log group, a secret or the network holding them. RDS replaces an instance whose engine,
// username or database name changes; ElastiCache a replication group whose engine changes (except Redis
// OSS to Valkey, an in-place upgrade) or whose engine version goes down. Log groups and secrets take
// names derived from the stack, which no key changes.
var guardedKeys = []guardedKey{
	{key: "data.db.engine", what: "the database (RDS instance data-db)"},
	{key: "data.db.dbName", what: "the database (RDS instance data-db)"},
	{key: "data.db.username", what: "the database (RDS instance data-db)"},
	{key: "data.redis.engine", what: "the cache (ElastiCache replication group data-redis)",
		replaces: func(old, new string, _ map[string]string) bool { return !(old == "redis" && new == "valkey") }},
	{key: "data.redis.engineVersion", what: "the cache (ElastiCache replication group data-redis)",
		replaces: func(old, new string, _ map[string]string) bool { return versionLess(new, old) }},
	{key: "network.cidr", what: "the VPC and everything in it, the database's and the cache's subnets included"},
}

// statefulSettings are the current values of the guarded keys.
func statefulSettings(c *Config) map[string]string {
	return map[string]string{
		"data.db.engine":           c.Data.DB.Engine,
		"data.db.dbName":           c.Data.DB.DBName,
		"data.db.username":         c.Data.DB.Username,
		"data.redis.engine":        c.Data.Redis.Engine,
		"data.redis.engineVersion": c.Data.Redis.EngineVersion,
		"network.cidr":             c.Network.CIDR,
	}
}

// replacementWarnings compares the previous deployment's guarded settings with the current ones and
// returns one warning per change that replaces a stateful resource. prev is empty on the first deployment.
func replacementWarnings(project string, prod bool, prev, cur map[string]string) []string {
	var out []string
	for _, g := range guardedKeys {
		old, ok := prev[g.key]
		now := cur[g.key]
		if !ok || old == "" || old == now {
			continue
		}
		if g.replaces != nil && !g.replaces(old, now, cur) {
			continue
		}
		stop := "outside prod nothing stops it: the data is gone unless you restore a snapshot"
		if prod {
			stop = "prod's protect option stops this update; to go ahead deliberately, turn protect off for it first"
		}
		out = append(out, fmt.Sprintf("%s:%s changes from %q to %q: this REPLACES %s (a new, empty resource; the old one and its data are deleted); %s",
			project, g.key, old, now, g.what, stop))
	}
	return out
}

// versionLess compares "major.minor[.patch]" versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i]) // validated settings: digits only
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// guardReplacements reads this stack's previous outputs through a stack reference to itself and warns,
// in the preview and the update, about every guarded key whose change replaces a stateful resource. It
// returns the output to export under guardOutput.
func guardReplacements(ctx *pulumi.Context, c *Config) (pulumi.StringMap, error) {
	cur := statefulSettings(c)
	self := fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return nil, err
	}
	ref.GetOutput(pulumi.String(guardOutput)).ApplyT(func(v any) error {
		prev := map[string]string{}
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if s, ok := x.(string); ok {
					prev[k] = s
				}
			}
		}
		for _, w := range replacementWarnings(c.Project, c.Environment == Prod, prev, cur) {
			// A failed warning only loses a log line; the preview still shows the replacement.
			_ = ctx.Log.Warn(w, nil)
		}
		return nil
	})
	keys := make([]string, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := pulumi.StringMap{}
	for _, k := range keys {
		out[k] = pulumi.String(cur[k])
	}
	return out, nil
}
