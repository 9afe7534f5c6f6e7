package mock

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Await resolves an output inside a running program. It fails the test when the value is unknown, errored
// or not a T, so a nil never passes an assertion by accident.
func Await[T any](t testing.TB, o pulumi.Output) T {
	t.Helper()
	var zero T
	res, err := internals.UnsafeAwaitOutput(context.Background(), o)
	if err != nil {
		t.Errorf("awaiting output: %v", err)
		return zero
	}
	if !res.Known {
		t.Errorf("output is unknown under mocks; the mock must supply it")
		return zero
	}
	v, ok := res.Value.(T)
	if !ok {
		t.Errorf("output is %T (%v), want %T", res.Value, res.Value, zero)
		return zero
	}
	return v
}

// AwaitValue resolves an output outside tests (cmd/plan). Unknown values come back as nil.
func AwaitValue(o pulumi.Output) (value any, secret bool, err error) {
	res, err := internals.UnsafeAwaitOutput(context.Background(), o)
	if err != nil || !res.Known {
		return nil, res.Secret, err
	}
	return res.Value, res.Secret, nil
}

// One returns the single registration of a type and fails the test unless there is exactly one.
func (m *Mocks) One(t testing.TB, typ string) *Resource {
	t.Helper()
	rs := m.ByType(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	return rs[0]
}
