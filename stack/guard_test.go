package stack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

func TestCheckReplacements(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"data.db.engine": "mysql", "data.db.dbName": "football", "data.db.username": "football_admin",
		"data.redis.engine": "redis", "data.redis.engineVersion": "7.1", "network.cidr": "10.10.0.0/16",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	protected := func(db, redis bool) *Config {
		c := &Config{Project: "football"}
		c.Data.DB.Protect, c.Data.Redis.Protect = &db, &redis
		return c
	}
	for _, tc := range []struct {
		name      string
		prev, cur map[string]string
		cfg       *Config
		warn      []string // substrings of the one warning; nil for none
		refuse    []string // substrings of the one refusal; nil for none
	}{
		{name: "first deployment", prev: map[string]string{}, cur: base, cfg: protected(true, true)},
		{name: "nothing changed", prev: base, cur: base, cfg: protected(true, true)},
		{name: "db engine, unprotected", prev: base, cur: with("data.db.engine", "postgres"), cfg: protected(false, true), warn: []string{
			`football:data.db.engine changes from "mysql" to "postgres": this REPLACES the database (RDS instance data-db) (a new, empty resource; the old one and its data are deleted); nothing protects it`}},
		{name: "db engine, protected", prev: base, cur: with("data.db.engine", "postgres"), cfg: protected(true, false), refuse: []string{
			`football:data.db.engine: changing "mysql" to "postgres" is refused while football:data.db.protect is true: it REPLACES the database (RDS instance data-db)`,
			"protect would stop the update half-way", "set football:data.db.protect to false in the same change", "a migration to a new stack instead"}},
		{name: "db name, protected", prev: base, cur: with("data.db.dbName", "ball"), cfg: protected(true, true), refuse: []string{`football:data.db.dbName: changing "football" to "ball" is refused`}},
		{name: "db user, unprotected", prev: base, cur: with("data.db.username", "admin2"), cfg: protected(false, false), warn: []string{`football:data.db.username changes`}},
		{name: "redis to valkey is in place", prev: base, cur: with("data.redis.engine", "valkey"), cfg: protected(true, true)},
		{name: "valkey back to redis, protected", prev: with("data.redis.engine", "valkey"), cur: base, cfg: protected(false, true), refuse: []string{
			`football:data.redis.engine: changing "valkey" to "redis" is refused while football:data.redis.protect is true: it REPLACES the cache (ElastiCache replication group data-redis)`}},
		{name: "valkey back to redis, unprotected", prev: with("data.redis.engine", "valkey"), cur: base, cfg: protected(true, false), warn: []string{
			`football:data.redis.engine changes from "valkey" to "redis": this REPLACES the cache (ElastiCache replication group data-redis)`}},
		{name: "version upgrade is in place", prev: base, cur: with("data.redis.engineVersion", "7.2"), cfg: protected(true, true)},
		{name: "version downgrade, protected", prev: with("data.redis.engineVersion", "8.1"), cur: with("data.redis.engineVersion", "8.0"), cfg: protected(false, true),
			refuse: []string{`football:data.redis.engineVersion: changing "8.1" to "8.0" is refused`}},
		{name: "valkey 8.0 back to redis 7.1 is one replacement", prev: with("data.redis.engine", "valkey"), cur: with("data.redis.engineVersion", "7.0"),
			cfg: protected(true, true), refuse: []string{`football:data.redis.engine: changing "valkey" to "redis" is refused`}},
		{name: "vpc block, both protected", prev: base, cur: with("network.cidr", "10.11.0.0/16"), cfg: protected(true, true), refuse: []string{
			`football:network.cidr: changing "10.10.0.0/16" to "10.11.0.0/16" is refused while football:data.db.protect and football:data.redis.protect are true: it REPLACES the VPC`}},
		{name: "vpc block, cache protected", prev: base, cur: with("network.cidr", "10.11.0.0/16"), cfg: protected(false, true), refuse: []string{
			`is refused while football:data.redis.protect is true`}},
		{name: "vpc block, unprotected", prev: base, cur: with("network.cidr", "10.11.0.0/16"), cfg: protected(false, false), warn: []string{
			`football:network.cidr changes from "10.10.0.0/16" to "10.11.0.0/16": this REPLACES the VPC`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			warnings, refused := checkReplacements(tc.cfg, tc.prev, tc.cur)
			if tc.warn == nil {
				assert.Empty(t, warnings)
			} else if assert.Len(t, warnings, 1) {
				for _, w := range tc.warn {
					assert.Contains(t, warnings[0], w)
				}
			}
			if tc.refuse == nil {
				assert.Empty(t, refused)
			} else if assert.Len(t, refused, 1) {
				for _, r := range tc.refuse {
					assert.Contains(t, refused[0].Error(), r)
				}
			}
		})
	}
	assert.True(t, versionLess("7.2", "8.0"))
	assert.True(t, versionLess("8.0", "8.10"), "numeric, not lexical")
	assert.False(t, versionLess("8.1", "8.1"))
}

// TestStatefulSettingsAreExported: every deployment records the guarded settings and reads the previous
// deployment's through a reference to the stack itself, which is what the warnings compare.
func TestStatefulSettingsAreExported(t *testing.T) {
	t.Parallel()
	st, err := stackfile.Load("..", "prod")
	require.NoError(t, err)
	var outs map[string]any
	m, err := mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys,
		Previous: map[string]any{guardOutput: map[string]any{"data.redis.engine": "redis"}}},
		func(ctx *pulumi.Context) error {
			o, err := Deploy(ctx, st.Keys())
			if err != nil {
				return err
			}
			outs = map[string]any{guardOutput: mock.Await[map[string]string](t, pulumi.ToOutput(o[guardOutput]))}
			return nil
		})
	require.NoError(t, err)
	ref := m.One(t, "pulumi:pulumi:StackReference")
	assert.Equal(t, "organization/football/prod", ref.Str("name"))
	assert.Equal(t, map[string]string{
		"data.db.engine": "mysql", "data.db.dbName": "football", "data.db.username": "football_admin",
		"data.redis.engine": "valkey", "data.redis.engineVersion": "8.0", "network.cidr": "10.20.0.0/16",
	}, outs[guardOutput])
}

// TestProdRefusesReplacingTheCache: moving prod's protected cache back to Redis OSS is refused as a config
// error before anything but the read of the previous deployment is registered, so nothing is planned and
// nothing half applied; turning the cache's protect off in the same change is the deliberate way through,
// and dev, which protects nothing, goes ahead with a warning.
func TestProdRefusesReplacingTheCache(t *testing.T) {
	t.Parallel()
	previous := func(stack string) map[string]any {
		st, err := stackfile.Load("..", stack)
		require.NoError(t, err)
		var out map[string]any
		_, err = mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys},
			func(ctx *pulumi.Context) error {
				out, err = GuardedOutputs(ctx, st.Keys())
				return err
			})
		require.NoError(t, err)
		return out
	}
	toRedis := map[string]string{"data.redis.engine": `"redis"`, "data.redis.engineVersion": ``}

	m, err := runEdited(t, "prod", toRedis, mock.Options{Previous: previous("prod")})
	var cfgErr *ConfigError
	require.ErrorAs(t, err, &cfgErr)
	assert.Contains(t, cfgErr.Error(), `football:data.redis.engine: changing "valkey" to "redis" is refused while football:data.redis.protect is true`)
	assert.NotContains(t, cfgErr.Error(), "football:data.redis.engineVersion", "one replacement, reported once")
	var registered []string
	for _, r := range m.All() {
		registered = append(registered, r.Type)
	}
	assert.Equal(t, []string{"pulumi:pulumi:StackReference"}, registered, "nothing but the read of the previous deployment")

	deliberate := map[string]string{"data.redis.engine": `"redis"`, "data.redis.engineVersion": ``, "data.redis.protect": `false`}
	m = planEdited(t, "prod", deliberate, mock.Options{Previous: previous("prod")})
	rg := m.One(t, "aws:elasticache/replicationGroup:ReplicationGroup")
	assert.Equal(t, "redis", rg.Str("engine"))
	assert.False(t, rg.Protect)

	m = planEdited(t, "dev", toRedis, mock.Options{Previous: previous("dev")})
	assert.Equal(t, "redis", m.One(t, "aws:elasticache/replicationGroup:ReplicationGroup").Str("engine"), "dev goes ahead (with a warning)")
}
