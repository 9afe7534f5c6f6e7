package stack

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

func TestReplacementWarnings(t *testing.T) {
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
	for _, tc := range []struct {
		name      string
		prev, cur map[string]string
		prod      bool
		want      []string
	}{
		{"first deployment", map[string]string{}, base, false, nil},
		{"nothing changed", base, base, true, nil},
		{"db engine", base, with("data.db.engine", "postgres"), false, []string{
			`football:data.db.engine changes from "mysql" to "postgres": this REPLACES the database (RDS instance data-db) (a new, empty resource; the old one and its data are deleted); outside prod nothing stops it`}},
		{"db name in prod", base, with("data.db.dbName", "ball"), true, []string{
			`football:data.db.dbName changes from "football" to "ball": this REPLACES the database`, "prod's protect option stops this update"}},
		{"db user", base, with("data.db.username", "admin2"), false, []string{`football:data.db.username changes`}},
		{"redis to valkey is in place", base, with("data.redis.engine", "valkey"), false, nil},
		{"valkey back to redis replaces", with("data.redis.engine", "valkey"), base, false, []string{
			`football:data.redis.engine changes from "valkey" to "redis": this REPLACES the cache (ElastiCache replication group data-redis)`}},
		{"version upgrade is in place", base, with("data.redis.engineVersion", "7.2"), false, nil},
		{"version downgrade replaces", with("data.redis.engineVersion", "8.1"), with("data.redis.engineVersion", "8.0"), false, []string{
			`football:data.redis.engineVersion changes from "8.1" to "8.0": this REPLACES the cache`}},
		{"vpc block", base, with("network.cidr", "10.11.0.0/16"), false, []string{`football:network.cidr changes from "10.10.0.0/16" to "10.11.0.0/16": this REPLACES the VPC`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := replacementWarnings("football", tc.prod, tc.prev, tc.cur)
			if tc.want == nil {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			for _, w := range tc.want {
				assert.Contains(t, got[0], w)
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
		Previous: map[string]any{guardOutput: map[string]any{"data.db.engine": "postgres"}}},
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
