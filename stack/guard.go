package stack

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// guardOutput is the stack output that records the settings guardedKeys watch, so that the next
// deployment can compare against them.
const guardOutput = "statefulSettings"

// guardedKey is a config value whose change makes the provider replace a stateful resource: a new, empty
// one is created and the old one, with its data, deleted. Pulumi's preview shows "replace", but among
// dozens of steps; the guard names the key that caused it.
type guardedKey struct {
	key  string // config path under the project's namespace
	what string // what is replaced
	// replaces reports whether the change from old to new replaces it, given all previous and current
	// settings; nil means every change does.
	replaces func(old, new string, prev, cur map[string]string) bool
	// protects are the protect keys (config paths) that guard what is replaced.
	protects []string
	// caveat qualifies the deliberate way ("" when there is none).
	caveat string
}

// guardedKeys are, for the current provider (pulumi-aws v6), the config keys that replace the database,
// the cache, a log group, a secret or the network holding them. RDS replaces an instance whose engine,
// username or database name changes; ElastiCache a replication group whose engine changes (except Redis
// OSS to Valkey, an in-place upgrade) or whose engine version goes down. Log groups and secrets take
// names derived from the stack, which no key changes. A new VPC block rebuilds the network the database
// and the cache live in, so both of their protect keys guard it.
var guardedKeys = []guardedKey{
	{key: "data.db.engine", what: "the database (RDS instance data-db)", protects: []string{dbProtect}, caveat: dbCaveat},
	{key: "data.db.dbName", what: "the database (RDS instance data-db)", protects: []string{dbProtect}, caveat: dbCaveat},
	{key: "data.db.username", what: "the database (RDS instance data-db)", protects: []string{dbProtect}, caveat: dbCaveat},
	{key: "data.redis.engine", what: "the cache (ElastiCache replication group data-redis)", protects: []string{redisProtect},
		replaces: func(old, new string, _, _ map[string]string) bool { return !(old == "redis" && new == "valkey") }},
	{key: "data.redis.engineVersion", what: "the cache (ElastiCache replication group data-redis)", protects: []string{redisProtect},
		// Across engines the engine's own change says it (the versions are not comparable).
		replaces: func(old, new string, prev, cur map[string]string) bool {
			engine, recorded := prev["data.redis.engine"]
			return (!recorded || engine == cur["data.redis.engine"]) && versionLess(new, old)
		}},
	{key: "network.cidr", what: "the VPC and everything in it, the database's and the cache's subnets included",
		protects: []string{dbProtect, redisProtect}, caveat: "in prod a new VPC block is a migration to a new stack instead"},
}

// dbCaveat is why prod does not replace its database through a config change.
const dbCaveat = "in prod, which keeps deletion protection and retainOnDelete on the instance, a new engine, database name or user is a migration to a new stack instead"

// The protect keys the guard reads.
const (
	dbProtect    = "data.db.protect"
	redisProtect = "data.redis.protect"
)

// protectOn reports whether a protect key is on in c.
func (c *Config) protectOn(key string) bool {
	switch key {
	case dbProtect:
		return *c.Data.DB.Protect
	case redisProtect:
		return *c.Data.Redis.Protect
	}
	return false
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

// checkReplacements compares the previous deployment's guarded settings (prev; empty on the first
// deployment) with the current ones. A change that replaces a resource still protected in c is refused:
// Pulumi would stop at the replacement only after the update had applied other steps, leaving the stack
// half changed. The other changes come back as warnings.
func checkReplacements(c *Config, prev, cur map[string]string) (warnings []string, refused []error) {
	for _, g := range guardedKeys {
		old, ok := prev[g.key]
		now := cur[g.key]
		if !ok || old == "" || old == now {
			continue
		}
		if g.replaces != nil && !g.replaces(old, now, prev, cur) {
			continue
		}
		var on []string
		for _, k := range g.protects {
			if c.protectOn(k) {
				on = append(on, c.Project+":"+k)
			}
		}
		if len(on) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s:%s changes from %q to %q: this REPLACES %s (a new, empty resource; the old one and its data are deleted); "+
				"nothing protects it: the data is gone unless you restore a snapshot", c.Project, g.key, old, now, g.what))
			continue
		}
		caveat := ""
		if g.caveat != "" {
			caveat = "; " + g.caveat
		}
		refused = append(refused, fmt.Errorf("%s:%s: changing %q to %q is refused while %s %s true: it REPLACES %s (a new, empty resource; the old one and its data are deleted), "+
			"and protect would stop the update half-way, after other changes were applied. To replace it deliberately: take a backup, set %s to false "+
			"in the same change, pulumi up, then set it back to true%s (README, \"Replacing the database or the cache\")",
			c.Project, g.key, old, now, strings.Join(on, " and "), map[bool]string{true: "is", false: "are"}[len(on) == 1], g.what, strings.Join(on, " and "), caveat))
	}
	return warnings, refused
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

// GuardedOutputs loads the configuration and returns, without registering anything, the stack outputs a
// deployment of it leaves for the replacement guard of the next one (cmd/plan plans an edit against them).
func GuardedOutputs(ctx *pulumi.Context, keys []string) (map[string]any, error) {
	c, err := Load(ctx, keys)
	if err != nil {
		return nil, err
	}
	recorded := map[string]any{}
	for k, v := range statefulSettings(c) {
		recorded[k] = v
	}
	return map[string]any{guardOutput: recorded}, nil
}

// guardReplacements reads this stack's previous outputs through a stack reference to itself, refuses (as
// a ConfigError, before anything else is registered) every guarded change that would replace a protected
// resource, and warns about the others. It returns the output to export under guardOutput.
func guardReplacements(ctx *pulumi.Context, c *Config) (pulumi.StringMap, error) {
	cur := statefulSettings(c)
	self := fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return nil, err
	}
	// Awaited here, not in an apply: a refusal must come before the program registers anything. A
	// stack reference is read in previews too, and depends on no other resource.
	res, err := internals.UnsafeAwaitOutput(ctx.Context(), ref.GetOutput(pulumi.String(guardOutput)))
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's %s output: %w", guardOutput, err)
	}
	prev := map[string]string{}
	if m, ok := res.Value.(map[string]any); ok {
		for k, x := range m {
			if s, ok := x.(string); ok {
				prev[k] = s
			}
		}
	}
	warnings, refused := checkReplacements(c, prev, cur)
	if len(refused) > 0 {
		return nil, &ConfigError{Err: errors.Join(refused...)}
	}
	for _, w := range warnings {
		// A failed warning only loses a log line; the preview still shows the replacement.
		_ = ctx.Log.Warn(w, nil)
	}
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
