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
// on every other resource of the stack. `pulumi destroy` deletes in waves, a resource only after every
// resource that depends on it, so the lock is alone in the first wave; Pulumi refuses to delete a
// protected resource, and once a delete has failed it deletes nothing the failed resource depends on: the
// destroy ends with nothing deleted. A normal `pulumi up` is unaffected: nothing depends on the lock and
// its inputs never change, so it is never replaced, and a resource the program stops declaring is deleted
// as usual (the lock's dependencies are recorded anew first).
//
// deps are every resource the program registered; remote lists the resources of remote components (awsx),
// which the program never sees registered. Both are needed: should the lock's delete fail, Pulumi goes on
// deleting whatever the lock does not itself depend on, and it does not count a component's children as
// the lock's dependencies there.
func destroyLock(ctx *pulumi.Context, deps []pulumi.Resource, remote pulumi.ResourceArrayInput) (*random.RandomId, error) {
	// Nothing in its inputs may ever change: a change replaces a random resource, which protect refuses.
	return random.NewRandomId(ctx, destroyLockName, &random.RandomIdArgs{ByteLength: pulumi.Int(4)},
		pulumi.Protect(true), pulumi.DependsOn(deps), pulumi.DependsOnInputs(remote))
}

// registrations records every resource the program registers once it is installed (awsx's remote VPC
// too, not the children awsx registers for it). A stack transformation runs inside
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
