package stack

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

// planOutputs plans a committed stack and returns the recording and the stack outputs.
func planOutputs(t *testing.T, stack string) (*mock.Mocks, map[string]any) {
	t.Helper()
	st, err := stackfile.Load("..", stack)
	require.NoError(t, err)
	outs := map[string]any{}
	m, err := mock.Run(mock.Options{Project: st.Project, Stack: st.Name, Config: st.Config, SecretKeys: st.SecretKeys},
		func(ctx *pulumi.Context) error {
			o, err := Deploy(ctx, st.Keys())
			if err != nil {
				return err
			}
			outs["destroyLock"] = mock.Await[string](t, pulumi.ToOutput(o["destroyLock"]))
			return nil
		})
	require.NoError(t, err)
	return m, outs
}

// TestProdDestroyLock: prod's destroy lock is protected and depends on every resource the stack holds,
// so that a destroy, which deletes dependents first, must delete it before anything else and stops at
// it. Everything a deployment registers counts: custom resources, awsx's remote VPC (whose children the
// engine counts with it) and the reference to the previous deployment. Nothing depends on the lock, and
// its inputs depend on nothing, so no replacement elsewhere can ever drag it along.
func TestProdDestroyLock(t *testing.T) {
	t.Parallel()
	m, outs := planOutputs(t, "prod")
	var lock *mock.Resource
	for _, r := range m.ByType("random:index/randomId:RandomId") {
		if r.Name == destroyLockName {
			lock = r
		}
	}
	require.NotNil(t, lock, "prod has a destroy lock")
	assert.True(t, lock.Protect, "the lock is protected")
	assert.Equal(t, lock.URN, outs["destroyLock"], "the destroyLock output is the URN to unprotect")
	deps := map[string]bool{}
	for _, d := range lock.Dependencies {
		deps[d] = true
	}
	covered := 0
	for _, r := range m.All() {
		if r == lock || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		if r.Custom || r.Remote || r.Type == "pulumi:pulumi:StackReference" {
			assert.True(t, deps[r.URN], "the destroy lock must depend on %s %s", r.Type, r.Name)
			covered++
		}
		for _, d := range r.Dependencies {
			assert.NotEqual(t, lock.URN, d, "%s %s must not depend on the destroy lock", r.Type, r.Name)
		}
	}
	assert.Greater(t, covered, 100, "the lock covers the whole stack")
	for k, v := range lock.Inputs {
		assert.False(t, v.ContainsUnknowns() || v.IsOutput(), "the lock's input %s must be a constant", k)
	}

	dev, devOuts := planOutputs(t, "dev")
	assert.Empty(t, dev.ByType("random:index/randomId:RandomId"), "dev has no destroy lock")
	assert.Equal(t, "", devOuts["destroyLock"])
	for _, r := range dev.All() {
		assert.False(t, r.Protect && r.Type == "random:index/randomId:RandomId")
	}
}

// TestProdKeepsAuditLogs: prod's flow-log, WAF and servers' log groups stay in AWS when Pulumi deletes them
// (the WAF turned off, a teardown); dev's go with the stack.
func TestProdKeepsAuditLogs(t *testing.T) {
	t.Parallel()
	groups := []string{"net-flow-logs", "edge-waf-logs", "api-logs", "chat-logs"}
	prod := planEdited(t, "prod", nil, mock.Options{})
	dev := planEdited(t, "dev", map[string]string{"network.flowLogs.enabled": `true`, "waf.enabled": `true`}, mock.Options{})
	for _, name := range groups {
		assert.True(t, named(t, prod, "aws:cloudwatch/logGroup:LogGroup", name).RetainOnDelete, "prod keeps %s", name)
		assert.False(t, named(t, dev, "aws:cloudwatch/logGroup:LogGroup", name).RetainOnDelete, "dev deletes %s", name)
	}
	off := planEdited(t, "prod", map[string]string{"network.flowLogs.retainOnDelete": `false`, "waf.retainLogs": `false`,
		"monitoring.retainLogs": `false`}, mock.Options{})
	for _, name := range groups {
		assert.False(t, named(t, off, "aws:cloudwatch/logGroup:LogGroup", name).RetainOnDelete, "%s follows its key", name)
	}
}
