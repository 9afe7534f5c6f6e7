package stack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
	"github.com/football/football-infra/internal/stackfile"
)

// planWith plans a stack file with one config key replaced.
func planWith(t *testing.T, stack, key, value string) *mock.Mocks {
	t.Helper()
	st, err := stackfile.Load("..", stack)
	require.NoError(t, err)
	if key != "" {
		st.Config[key] = value
	}
	m, err := mock.Run(mock.Options{Project: st.Project, Stack: stack, Config: st.Config, SecretKeys: st.SecretKeys},
		func(ctx *pulumi.Context) error {
			_, err := Deploy(ctx, st.Keys())
			return err
		})
	require.NoError(t, err)
	return m
}

// TestAddingAnAZReplacesNothing plans each stack as committed and with one more AZ. Every resource of the
// first plan must still be there under the same URN (a new URN would mean delete and create), and its
// inputs may differ only by lists that grew at the end (new subnets appended), never by a changed value.
func TestAddingAnAZReplacesNothing(t *testing.T) {
	t.Parallel()
	for stack, grown := range map[string]string{
		"dev":  `["ap-northeast-2a","ap-northeast-2c","ap-northeast-2d"]`,
		"prod": `["ap-northeast-2a","ap-northeast-2c","ap-northeast-2d"]`,
	} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			st, err := stackfile.Load("..", stack)
			require.NoError(t, err)
			var netCfg map[string]any
			require.NoError(t, json.Unmarshal([]byte(st.Config["football:network"]), &netCfg))
			netCfg["availabilityZones"] = json.RawMessage(grown)
			b, err := json.Marshal(netCfg)
			require.NoError(t, err)

			before := planWith(t, stack, "", "")
			after := planWith(t, stack, "football:network", string(b))
			assert.Greater(t, len(after.All()), len(before.All()), "the new AZ brings new resources")
			for _, r := range before.All() {
				grownRes := after.ByURN(r.URN)
				if !assert.NotNil(t, grownRes, "%s would be replaced (its URN is gone)", r.URN) {
					continue
				}
				old, next := plainMap(t, r), plainMap(t, grownRes)
				for k, v := range old {
					if !onlyAppended(v, next[k]) {
						t.Errorf("%s: input %s changed from %v to %v", r.URN, k, v, next[k])
					}
				}
			}
		})
	}
}

func plainMap(t *testing.T, r *mock.Resource) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.Inputs.Mappable())
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// onlyAppended reports whether next equals old, or extends old's lists at their ends (recursively).
func onlyAppended(old, next any) bool {
	switch o := old.(type) {
	case []any:
		n, ok := next.([]any)
		if !ok || len(n) < len(o) {
			return false
		}
		for i := range o {
			if !onlyAppended(o[i], n[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		n, ok := next.(map[string]any)
		if !ok {
			return false
		}
		for k := range o {
			if !onlyAppended(o[k], n[k]) {
				return false
			}
		}
		return true
	case string:
		// A JSON document in a string (a dashboard body, a policy) may grow the same way.
		var o2, n2 any
		if n, ok := next.(string); ok && o != n && json.Unmarshal([]byte(o), &o2) == nil && json.Unmarshal([]byte(n), &n2) == nil {
			if _, isDoc := o2.(map[string]any); isDoc {
				return onlyAppended(o2, n2)
			}
		}
	}
	return reflect.DeepEqual(old, next)
}
