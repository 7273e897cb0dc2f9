package host

import (
	"strconv"

	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
)

// future is a host-written future<result<_, error-code>> (or, under
// p3-async-write, the completion of an async call). It carries exactly one
// value. The host resolves it once; the value is delivered when the guest
// reads it. Until then — or until the guest drops the readable end — the
// future holds whatever references it was given (the open file
// description or socket it reports on); onDone releases them.
type future struct {
	h        *Host
	id       uint64
	name     string
	resolved bool
	// value is the future's value once resolved: for a host future an
	// error (nil is ok(())), for one a guest wrote whatever it wrote.
	value     any
	delivered bool
	rdDrop    bool
	wrDrop    bool // the guest's writable end was dropped
	reading   bool
	q         *sim.WaitQueue
	onDone    []func()
	// subtask: the async call also lends a handle until it resolves.
	endLend func()
	// notify is the event queue of the instance reading the future
	// asynchronously (future.read that did not complete at once).
	notify *sim.WaitQueue
	// The guest's writable end, for futures a guest made with
	// future.new: the value it offers until the reader takes it.
	writer *futureWriter
}

func newFuture(h *Host, what string) *future {
	id := h.newID()
	f := &future{h: h, id: id, name: "future#" + strconv.FormatUint(id, 10)}
	f.q = h.w.NewWaitQueue(f.name + " " + what)
	h.track(id, f)
	f.touch()
	h.w.Event("future.new", f.name, what)
	return f
}

func (f *future) String() string { return f.name }

func (f *future) alive() bool { f.touch(); return !(f.rdDrop && (f.resolved || f.wrDrop)) }

func (f *future) leakInfo() string {
	if f.resolved {
		return f.name + " (readable end not dropped)"
	}
	return f.name + " (never resolved)"
}

// resolve sets the future's value; it is called exactly once by the host.
func (f *future) resolve(v error) {
	f.touch()
	f.h.w.Touch(f.resolvedObj(), sim.Publish) // the only time resolved changes
	var val any
	if v != nil {
		val = v
	}
	if f.resolved {
		if f.h.mut.Has(mutation.ResolveWriteEarly) {
			return // the mutation resolved it first
		}
		panic("host: future resolved twice: " + f.name) // host bug, not guest input
	}
	f.resolved = true
	f.value = val
	if f.h.w.Tracing() {
		f.h.w.Event("resolve", f.name, resultString(v))
	}
	if f.endLend != nil {
		f.endLend()
		f.endLend = nil
	}
	f.q.Broadcast()
	if f.notify != nil {
		f.notify.Broadcast()
	}
	f.h.untrackIfDead(f.id, f)
}

// whenDropped registers a release to run when the readable end is
// dropped: until then the future keeps what it reports on alive.
func (f *future) whenDropped(fn func()) {
	f.touch()
	if f.rdDrop {
		fn()
		return
	}
	f.onDone = append(f.onDone, fn)
}

func resultString(err error) string {
	if err == nil {
		return "ok"
	}
	return "err(" + err.Error() + ")"
}

// futureEnd is the guest's readable end of a future, or a subtask handle.
type futureEnd struct {
	f       *future
	subtask bool
	// async is set while a future.read started with StartCopy waits for
	// the value; cancelled while its CANCELLED event is undelivered.
	async, cancelled bool
}

func (e *futureEnd) String() string { return e.f.name }

func (e *futureEnd) dropCheck() (TrapKind, string) {
	e.f.touch()
	if e.f.reading || e.busy() {
		return TrapBusyEnd, "read in flight on " + e.f.name
	}
	if e.subtask && !e.f.resolved {
		return TrapUnresolvedSubtask, e.f.name
	}
	return 0, ""
}

func (e *futureEnd) forceDrop() { e.drop() }

func (e *futureEnd) drop() {
	f := e.f
	f.touch()
	f.rdDrop = true
	if f.writer != nil && f.writer.pending {
		f.writer.end(Dropped)
	}
	f.h.w.Event("drop-readable", f.name, "")
	fns := f.onDone
	f.onDone = nil
	for _, fn := range fns {
		fn()
	}
	// An unresolved host future stays tracked until the host resolves it:
	// a host-side future always resolves.
	f.h.untrackIfDead(f.id, f)
}

// Await reads a future<result<_, error-code>> (or waits for a subtask):
// it blocks until the host resolves it and returns the value — nil for
// ok, else the WASI error code (*vfs or *vnet ErrorCode). The second
// error is a Trap if the call itself was invalid.
func (in *Instance) Await(h Handle) (result error, trap error) {
	const call = "future.read"
	in.h.boundary()
	fe, err := in.futureOf(h, call)
	if err != nil {
		return nil, err
	}
	// delivered and reading are the reader's own: the handle's object.
	f := fe.f
	if f.delivered {
		return nil, in.trap(TrapAfterDropped, h, call, "the future already delivered its value")
	}
	if f.reading || fe.busy() {
		return nil, in.trap(TrapBusyEnd, h, call, "a read is already in flight")
	}
	f.reading = true
	// resolve publishes the value and signals f.q in one step: an Await.
	err = f.q.Await(f.name, func() bool {
		f.h.w.Touch(f.resolvedObj(), sim.Read)
		return f.resolved
	})
	f.reading = false
	if err != nil {
		return nil, err
	}
	if err := in.check(call); err != nil {
		return nil, err // the instance trapped while this task waited
	}
	f.deliver(in)
	result, _ = f.value.(error)
	return result, nil
}

// Resolved reports whether the future or subtask behind h has a value
// (the readiness probe of a future), without consuming it.
func (in *Instance) Resolved(h Handle) (bool, error) {
	fe, err := in.futureOf(h, "future.probe")
	if err != nil {
		return false, err
	}
	fe.f.touch()
	return fe.f.resolved, nil
}

// futureOf resolves the readable end of a future or a subtask handle.
func (in *Instance) futureOf(h Handle, call string) (*futureEnd, error) {
	e, err := in.live(h, call)
	if err != nil {
		return nil, err
	}
	fe, ok := e.obj.(*futureEnd)
	if !ok {
		return nil, in.trap(TrapWrongType, h, call, "handle is a "+e.kind.String()+", want a future or subtask")
	}
	return fe, nil
}
