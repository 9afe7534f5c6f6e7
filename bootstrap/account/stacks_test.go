package account_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/bootstrap/account"
	"github.com/football/football-infra/internal/insight"
	"github.com/football/football-infra/internal/offline"
	"github.com/football/football-infra/internal/stackfile"
)

// mainStacks plans every committed stack of the main program.
func mainStacks(t *testing.T) map[string]*offline.Result {
	t.Helper()
	names, err := stackfile.Names("../..")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	out := map[string]*offline.Result{}
	for _, n := range names {
		res, err := offline.Plan("../..", n)
		require.NoError(t, err, n)
		out[n] = res
	}
	return out
}

// TestStackRolesCarryTheBoundaryAndFitInIt: the deploy roles create only roles with the boundary, so every
// role of every committed stack names it (football:permissionsBoundary resolves to the bootstrap's
// permissionsBoundary output), and nothing a stack grants its roles is cut off by it.
func TestStackRolesCarryTheBoundaryAndFitInIt(t *testing.T) {
	t.Parallel()
	m, outs, err := plan(t, nil)
	require.NoError(t, err)
	boundaryARN := outs["permissionsBoundary"].(string)
	boundary := parse(t, m.One(t, "aws:iam/policy:Policy").Str("policy"))
	for name, res := range mainStacks(t) {
		roles := 0
		for _, r := range res.Resources {
			switch r.Type {
			case "aws:iam/role:Role":
				roles++
				assert.Equal(t, boundaryARN, r.Str("permissionsBoundary"), "%s: role %s", name, r.Name)
			case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
				assert.Equal(t, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", r.Str("policyArn"),
					"%s: %s attaches a managed policy whose actions the boundary does not list", name, r.Name)
			case "aws:iam/rolePolicy:RolePolicy":
				doc := parse(t, r.Str("policy"))
				for _, s := range doc.Statement {
					require.Equal(t, "Allow", s.Effect, "%s %s", name, r.Name)
					for _, a := range s.Action {
						for _, res := range s.Resource {
							assert.True(t, allowed([]account.Document{boundary}, request{a, res, nil}),
								"%s: %s grants %s on %s, which the boundary cuts off", name, r.Name, a, res)
						}
					}
				}
			}
		}
		assert.NotZero(t, roles, name)
	}
}

// TestExampleMatchesTheMainStacks: the example account stack deploys exactly the committed stacks, each
// through the GitHub environment of its profile, covers their regions, and budgets at least their cost
// targets.
func TestExampleMatchesTheMainStacks(t *testing.T) {
	t.Parallel()
	st, err := stackfile.Load("..", example)
	require.NoError(t, err)
	var project account.ProjectSettings
	require.NoError(t, json.Unmarshal([]byte(st.Config["football-bootstrap:project"]), &project))
	byEnv := map[string][]string{}
	for name, res := range mainStacks(t) {
		env, _ := res.Outputs["environment"].(string)
		require.NotEmpty(t, env, "%s exports its environment", name)
		byEnv[env] = append(byEnv[env], name)
		assert.Contains(t, append(project.Regions, st.Config["aws:region"]), res.Region, "%s's region has the regional baseline", name)
	}
	require.Len(t, project.Environments, len(byEnv))
	for env, stacks := range byEnv {
		e, ok := project.Environments[env]
		require.True(t, ok, "environment %s has no deploy role", env)
		assert.ElementsMatch(t, stacks, e.Stacks, env)
		assert.GreaterOrEqual(t, e.MonthlyBudget, insight.Budget[env]*float64(len(stacks)), "%s's budget covers its stacks' cost targets", env)
	}
}
