package account_test

import (
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/bootstrap/account"
)

// A small IAM evaluator for the tests: explicit deny wins, then any allow; Action/NotAction,
// Resource/NotResource with * and ? wildcards, and the condition operators the bootstrap uses
// (StringEquals, StringNotEquals, StringLike, ArnLike, Bool), all keys of a block required. A key missing
// from the request matches only the negated operator, as in IAM.

// request is one API call as IAM sees it.
type request struct {
	action, resource string
	context          map[string]string
}

func wildcard(pattern, s string) bool {
	// IAM's * matches across '/', which path.Match does not: match segment-free.
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

func matchesAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

func values(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, e.(string))
		}
		return out
	case []string:
		return x
	}
	return nil
}

func conditionHolds(cond map[string]map[string]any, ctx map[string]string) bool {
	for op, block := range cond {
		for key, want := range block {
			got, present := ctx[key]
			ws := values(want)
			var ok bool
			switch op {
			case "StringEquals", "Bool":
				ok = present && matchesExact(ws, got)
			case "StringNotEquals":
				ok = !present || !matchesExact(ws, got)
			case "StringLike", "ArnLike":
				ok = present && matchesAny(ws, got, false)
			default:
				return false // an operator this evaluator does not know never grants
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func matchesExact(want []string, got string) bool {
	for _, w := range want {
		if w == got {
			return true
		}
	}
	return false
}

func applies(s account.Statement, r request) bool {
	if len(s.Action) > 0 && !matchesAny(s.Action, r.action, true) {
		return false
	}
	if len(s.NotAction) > 0 && matchesAny(s.NotAction, r.action, true) {
		return false
	}
	if len(s.Resource) > 0 && !matchesAny(s.Resource, r.resource, false) {
		return false
	}
	if len(s.NotResource) > 0 && matchesAny(s.NotResource, r.resource, false) {
		return false
	}
	return conditionHolds(s.Condition, r.context)
}

// allowed evaluates r against the documents together (a role's policies).
func allowed(docs []account.Document, r request) bool {
	allow := false
	for _, d := range docs {
		for _, s := range d.Statement {
			if !applies(s, r) {
				continue
			}
			if s.Effect == "Deny" {
				return false
			}
			allow = true
		}
	}
	return allow
}

// parse reads a planned policy document; statements written with a single string (as AWS allows) are
// normalised by ParseDocument's JSON types only when they are lists, so the bootstrap always writes lists.
func parse(t testing.TB, raw string) account.Document {
	t.Helper()
	d, err := account.ParseDocument(raw)
	require.NoError(t, err, raw)
	require.NotEmpty(t, d.Statement)
	var generic map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &generic))
	return d
}
