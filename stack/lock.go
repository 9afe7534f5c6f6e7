package stack

import (
	"slices"
	"sync"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// destroyLockName is the logical name of prod's destroy lock.
const destroyLockName = "destroy-lock"

// destroyLock registers prod's destroy lock: one protected resource, free and outside AWS, that depends
// on every other resource of the stack. `pulumi destroy` deletes in waves, a resource only in a wave after
// every resource that depends on it, and stops at the end of the first wave that fails; the lock depends
// on everything, so it is alone in the first wave, and Pulumi refuses to delete a protected resource. The
// destroy stops there with nothing deleted. A normal `pulumi up` is unaffected: nothing depends on the
// lock and its inputs never change, so it is never replaced, and a resource the program stops declaring
// is deleted as usual (the lock's dependencies are recorded anew first).
func destroyLock(ctx *pulumi.Context, deps []pulumi.Resource) (*random.RandomId, error) {
	// Nothing in its inputs may ever change: a change replaces a random resource, which protect refuses.
	return random.NewRandomId(ctx, destroyLockName, &random.RandomIdArgs{ByteLength: pulumi.Int(4)},
		pulumi.Protect(true), pulumi.DependsOn(deps))
}

// registrations records every resource the program registers once it is installed, awsx's remote VPC
// included (the engine counts that component's children with it). A stack transformation runs inside
// each registration call, so the record is complete as soon as the calls have returned; the SDK's own
// expansion of a component into its children, by contrast, runs in the background and can miss children
// whose registration has not started yet.
type registrations struct {
	mu  sync.Mutex
	all []pulumi.Resource
}

// recordRegistrations installs the recorder; call it before the program registers anything.
func recordRegistrations(ctx *pulumi.Context) (*registrations, error) {
	r := &registrations{}
	err := ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.all = append(r.all, args.Resource)
		return nil // unchanged
	})
	return r, err
}

// resources are the resources registered so far.
func (r *registrations) resources() []pulumi.Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}
