package host

import (
	"fmt"
	"strconv"

	"github.com/wasisim/wasisim/sim"
)

// Handle is an index in an instance's handle table. 0 is never a handle.
type Handle uint32

// Kind is the type of the resource or end a handle refers to.
type Kind uint8

// Handle kinds.
const (
	KindDescriptor Kind = iota + 1
	KindTCPSocket
	KindUDPSocket
	KindStreamReader // readable end of a stream
	KindStreamWriter // writable end of a stream
	KindFutureReader // readable end of a future
	KindSubtask      // an async call in progress
	KindWaitableSet  // a set of waitables a task waits on
	KindFutureWriter // writable end of a future
	KindResource     // a host-defined resource (see NewResource)
	KindGuestResource
	KindErrorContext
)

var kindNames = [...]string{
	KindDescriptor:    "descriptor",
	KindTCPSocket:     "tcp-socket",
	KindUDPSocket:     "udp-socket",
	KindStreamReader:  "stream reader",
	KindStreamWriter:  "stream writer",
	KindFutureReader:  "future reader",
	KindSubtask:       "subtask",
	KindWaitableSet:   "waitable-set",
	KindFutureWriter:  "future writer",
	KindResource:      "resource",
	KindGuestResource: "guest resource",
	KindErrorContext:  "error-context",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

type entry struct {
	kind  Kind
	obj   any
	lends int
	alive bool
	// set is the waitable set the handle is joined to (0: none).
	set Handle
}

// Instance is one component instance: a handle table and the guest tasks
// that call the host through it. Handles are never reused within an
// instance, so a use after drop is always caught as TrapDeadHandle rather
// than silently reaching a newer resource.
type Instance struct {
	h       *Host
	name    string
	idx     int // its place in the host's list, which names its objects (footprint.go)
	table   []entry
	trapped *Trap
	// trapAccepted: a trap was provoked on purpose (AcceptTrap).
	trapAccepted bool
	// events is signalled whenever a waitable of the instance may have
	// an event: a copy on one of its ends completed, a future it reads
	// resolved, a subtask it started resolved.
	events *sim.WaitQueue
	// env is what wasi:cli/environment returns (SetEnvironment).
	env Environment
	// policy is the instance's network policy; nlive counts its live
	// handles, for the policy's limit.
	policy NetworkPolicy
	nlive  int
}

// Name is the instance's name.
func (in *Instance) Name() string { return in.name }

// Host is the host the instance runs on.
func (in *Instance) Host() *Host { return in.h }

// Trapped returns the trap that poisoned the instance, or nil.
func (in *Instance) Trapped() *Trap {
	in.touchState(sim.Read)
	return in.trapped
}

func (in *Instance) insert(k Kind, obj any) Handle {
	in.touchLen(sim.Write)
	in.table = append(in.table, entry{kind: k, obj: obj, alive: true})
	in.nlive++
	in.touchCount(sim.Update)
	h := Handle(len(in.table))
	in.touchHandle(h, sim.Write)
	return h
}

// trap records a violation, poisons the instance and returns the Trap.
func (in *Instance) trap(kind TrapKind, h Handle, call, detail string) *Trap {
	in.h.w.TouchAll() // the teardown touches everything the instance held
	t := &Trap{Kind: kind, Instance: in.name, Handle: h, Call: call, Detail: detail}
	in.h.w.Event("trap", in.name, t.Error())
	if in.trapped == nil {
		in.trapped = t
		in.teardown()
	}
	return t
}

// teardown destroys a trapped instance's handles, as the Component Model
// does when an instance traps: the trapping call changed nothing, but the
// instance is gone, so everything it held is dropped — in-flight copies
// are cancelled first, lends and unresolved subtasks no longer matter.
// Objects still referenced by host work (a write's stream) live on.
func (in *Instance) teardown() {
	in.h.w.Event("teardown", in.name, "")
	in.events.Broadcast() // tasks waiting on its waitable sets end with the trap
	for i := range in.table {
		e := &in.table[i]
		if !e.alive {
			continue
		}
		e.alive = false
		in.handleGone()
		obj := e.obj
		e.obj = nil
		if f, ok := obj.(forceDropper); ok {
			f.forceDrop()
		} else if d, ok := obj.(dropper); ok {
			in.h.drop(d)
		}
	}
}

// Close ends the instance as a guest that exits does: every handle it
// still holds is dropped as at a trap's teardown (copies in flight
// cancelled first, lends no longer counted), but nothing trapped. Later
// calls of the instance return a trap. Closing twice does nothing.
func (in *Instance) Close() {
	if in.h.enter() != nil {
		return
	}
	in.h.w.TouchAll()
	if in.trapped != nil {
		return
	}
	in.trapped = &Trap{Kind: TrapInstanceTrapped, Instance: in.name, Call: "close", Detail: "the instance was closed"}
	in.teardown()
}

// AcceptTrap says that a trap of the instance is provoked on purpose — by
// a test, or a scenario's "expect trap" — so that it does not fail the run
// as a trap that no task returns does (see New). It changes nothing else:
// the instance traps, and stays trapped, all the same.
func (in *Instance) AcceptTrap() {
	if in.h.enter() == nil {
		in.trapAccepted = true
	}
}

// forceDropper is a handle object with in-flight state that must be
// cancelled before it can be dropped at teardown.
type forceDropper interface{ forceDrop() }

// check validates that the instance may run a call: it comes from the
// world's running task (not from another goroutine, which would race with
// it), the run has not ended, and the instance has not trapped. Every
// guest call checks before it touches any state.
func (in *Instance) check(call string) error {
	if err := in.h.enter(); err != nil {
		return err
	}
	in.touchState(sim.Read)
	if in.trapped != nil {
		return &Trap{Kind: TrapInstanceTrapped, Instance: in.name, Call: call, Detail: in.trapped.Error()}
	}
	return nil
}

// live resolves a live handle of any kind, trapping on a forged or dead
// one (or on any call of a trapped instance).
func (in *Instance) live(h Handle, call string) (*entry, error) {
	if err := in.check(call); err != nil {
		return nil, err
	}
	if h == 0 || int(h) > len(in.table) {
		return nil, in.trap(TrapForgedHandle, h, call, "")
	}
	in.touchHandle(h, sim.Write)
	e := &in.table[h-1]
	if !e.alive {
		return nil, in.trap(TrapDeadHandle, h, call, "")
	}
	return e, nil
}

// get resolves a handle of the wanted kind.
func (in *Instance) get(h Handle, want Kind, call string) (*entry, error) {
	e, err := in.live(h, call)
	if err != nil {
		return nil, err
	}
	if e.kind != want {
		return nil, in.trap(TrapWrongType, h, call, fmt.Sprintf("handle is a %s, want a %s", e.kind, want))
	}
	return e, nil
}

// take removes a handle from the table without dropping what it refers
// to: ownership moves to the callee (a stream end passed to a call).
func (in *Instance) take(h Handle, want Kind, call string) (any, error) {
	e, err := in.get(h, want, call)
	if err != nil {
		return nil, err
	}
	if e.lends > 0 {
		return nil, in.trap(TrapDropWithLends, h, call, "moving a lent handle")
	}
	if b, ok := e.obj.(interface{ busy() bool }); ok && b.busy() {
		return nil, in.trap(TrapBusyEnd, h, call, "moving an end with a copy in flight")
	}
	e.alive = false
	in.handleGone()
	obj := e.obj
	e.obj = nil
	return obj, nil
}

// lend borrows a handle for the duration of a call; the returned func ends
// the lend. Dropping the handle meanwhile traps.
func (in *Instance) lend(h Handle, want Kind, call string) (*entry, func(), error) {
	e, err := in.get(h, want, call)
	if err != nil {
		return nil, nil, err
	}
	e.lends++
	// Decrement through the table, not e: inserts may move the table.
	return e, func() { in.touchHandle(h, sim.Write); in.table[h-1].lends-- }, nil
}

// lendAs lends handle h of the given kind for a call and returns its
// object; the returned func ends the lend.
func lendAs[T any](in *Instance, h Handle, kind Kind, call string) (T, func(), error) {
	e, end, err := in.lend(h, kind, call)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return e.obj.(T), end, nil
}

// plainSelf starts a plain `func` method: the call is a scheduling point,
// then self is looked up. Such a call never blocks, so its lend cannot be
// observed and is not taken.
func plainSelf[T any](in *Instance, h Handle, kind Kind, call string) (T, error) {
	in.h.boundary()
	e, err := in.get(h, kind, call)
	if err != nil {
		var zero T
		return zero, err
	}
	return e.obj.(T), nil
}

// lentSelf starts an `async func` method: a scheduling point, then self is
// lent until the returned func ends the lend, so dropping it meanwhile
// traps.
func lentSelf[T any](in *Instance, h Handle, kind Kind, call string) (T, func(), error) {
	in.h.boundary()
	return lendAs[T](in, h, kind, call)
}

// ended is err, unless the instance trapped while the call waited: then
// the call ends with the trap.
func (in *Instance) ended(call string, err error) error {
	if t := in.check(call); t != nil {
		return t
	}
	return err
}

// Drop drops a handle: resource.drop for descriptors and sockets,
// stream.drop-readable/writable, future.drop-readable or subtask.drop. It
// traps if the handle is lent to a call in progress, if a copy on the end
// is in flight, or if a subtask has not resolved.
func (in *Instance) Drop(h Handle) error {
	const call = "drop"
	in.h.boundary()
	e, err := in.live(h, call)
	if err != nil {
		return err
	}
	if e.lends > 0 {
		return in.trap(TrapDropWithLends, h, call, fmt.Sprintf("%s lent to %d call(s) in progress", e.kind, e.lends))
	}
	d, ok := e.obj.(dropper)
	if !ok {
		return in.trap(TrapWrongType, h, call, "not droppable")
	}
	if kind, detail := d.dropCheck(); kind != 0 {
		return in.trap(kind, h, call, detail)
	}
	if e.set != 0 {
		in.leaveSet(h, e)
	}
	e.alive = false
	in.handleGone()
	e.obj = nil
	if in.h.w.Tracing() {
		in.h.w.Event("drop", in.name, fmt.Sprintf("handle %d (%s)", h, d.String()))
	}
	in.h.drop(d)
	return nil
}

// DropAs drops a handle that must be of kind k (a typed drop built-in
// such as stream.drop-readable), trapping on a handle of another kind.
func (in *Instance) DropAs(h Handle, k Kind, call string) error {
	if e, err := in.live(h, call); err != nil {
		return err
	} else if e.kind != k {
		return in.trap(TrapWrongType, h, call, fmt.Sprintf("handle is a %s, want a %s", e.kind, k))
	}
	return in.Drop(h)
}

// dropper is what a handle's object does when the handle is dropped.
type dropper interface {
	// dropCheck reports a trap kind if dropping now is a violation.
	dropCheck() (TrapKind, string)
	drop()
	String() string
}

// KindOf reports the kind of a live handle (0 if the handle is not live),
// for tests and tools; it does not trap.
func (in *Instance) KindOf(h Handle) Kind {
	if h == 0 || int(h) > len(in.table) {
		in.touchLen(sim.Read)
		return 0
	}
	in.touchHandle(h, sim.Read)
	if !in.table[h-1].alive {
		return 0
	}
	return in.table[h-1].kind
}

// Live lists the live handles of the instance in index order.
func (in *Instance) Live() []Handle {
	var out []Handle
	in.touchLen(sim.Read)
	for i, e := range in.table {
		in.touchHandle(Handle(i+1), sim.Read)
		if e.alive {
			out = append(out, Handle(i+1))
		}
	}
	return out
}

// DropAll drops every live handle in index order, as an instance that
// exits cleanly would; handles that cannot be dropped yet (lent, busy) are
// reported in the error.
func (in *Instance) DropAll() error {
	if err := in.h.enter(); err != nil {
		return err
	}
	var first error
	for _, h := range in.Live() {
		if err := in.Drop(h); err != nil && first == nil {
			first = err
		}
	}
	return first
}
