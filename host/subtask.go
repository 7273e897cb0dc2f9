package host

import "strconv"

// SubtaskState is the state of a subtask, with the Component Model's
// codes.
type SubtaskState uint8

// Subtask states.
const (
	SubtaskStarting                SubtaskState = 0
	SubtaskStarted                 SubtaskState = 1
	SubtaskReturned                SubtaskState = 2
	SubtaskCancelledBeforeStarted  SubtaskState = 3
	SubtaskCancelledBeforeReturned SubtaskState = 4
)

var subtaskStateNames = [...]string{"STARTING", "STARTED", "RETURNED", "CANCELLED_BEFORE_STARTED", "CANCELLED_BEFORE_RETURNED"}

func (s SubtaskState) String() string {
	if int(s) < len(subtaskStateNames) {
		return subtaskStateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// resolved reports whether the subtask reached a final state.
func (s SubtaskState) resolved() bool { return s >= SubtaskReturned }

// Subtask is an async call in progress, made by the instance that holds
// its handle: the Component Model's subtask of an `async`-lowered import
// that did not return at once. Whoever runs the call (a task of the
// component runtime) resolves it with Return or, after a cancellation
// request, with ReturnCancelled; the caller learns it through a SUBTASK
// event of the handle. Handles the call borrows stay lent (dropping them
// traps) until that event is delivered.
type Subtask struct {
	in        *Instance
	name      string
	state     SubtaskState
	value     any
	delivered bool
	lends     []func()
	cancelReq bool
	onCancel  func()
}

// NewSubtask makes a subtask handle for a call whose arguments were
// taken (state STARTED).
func (in *Instance) NewSubtask(what string) (*Subtask, Handle, error) {
	in.h.w.TouchAll() // subtasks are the component runtime's (footprint.go)
	if err := in.check(what); err != nil {
		return nil, 0, err
	}
	st := &Subtask{in: in, name: "subtask " + what, state: SubtaskStarted}
	h := in.insert(KindSubtask, st)
	if in.h.w.Tracing() {
		in.h.w.Event("subtask", in.name, strconv.Itoa(int(h))+" "+what)
	}
	return st, h, nil
}

// Lend lends handle h of the caller for the call: dropping it traps until
// the subtask's resolution is delivered.
func (st *Subtask) Lend(h Handle) error {
	st.in.h.w.TouchAll()
	end, err := st.in.Lend(h, st.name)
	if err != nil {
		return err
	}
	st.lends = append(st.lends, end)
	return nil
}

// State is the subtask's state.
func (st *Subtask) State() SubtaskState { st.in.h.w.TouchAll(); return st.state }

// CancelRequested reports whether the caller asked to cancel the call.
func (st *Subtask) CancelRequested() bool { st.in.h.w.TouchAll(); return st.cancelReq }

// OnCancel registers fn to run when the caller asks to cancel the call
// (for example to wake the task running it); fn may resolve the subtask.
func (st *Subtask) OnCancel(fn func()) { st.in.h.w.TouchAll(); st.onCancel = fn }

// Return resolves the subtask with the call's result.
func (st *Subtask) Return(v any) { st.resolve(SubtaskReturned, v) }

// ReturnCancelled resolves a subtask whose cancellation was requested
// without a result.
func (st *Subtask) ReturnCancelled() { st.resolve(SubtaskCancelledBeforeReturned, nil) }

func (st *Subtask) resolve(s SubtaskState, v any) {
	st.in.h.w.TouchAll()
	if st.state.resolved() {
		return
	}
	st.state, st.value = s, v
	w := st.in.h.w
	if w.Tracing() {
		w.Event("subtask-resolve", st.in.name, st.name+" "+s.String())
	}
	st.in.eventQueue().Broadcast()
}

func (st *Subtask) ready() bool { st.in.h.w.TouchAll(); return st.state.resolved() && !st.delivered }

func (st *Subtask) take(_ *Instance, h Handle) Event {
	st.in.h.w.TouchAll()
	st.delivered = true
	for _, end := range st.lends {
		end()
	}
	st.lends = nil
	return Event{Code: EventSubtask, Handle: h, Subtask: st.state, Value: st.value}
}

func (st *Subtask) dropCheck() (TrapKind, string) {
	st.in.h.w.TouchAll()
	if !st.delivered {
		return TrapUnresolvedSubtask, st.name
	}
	return 0, ""
}

func (st *Subtask) drop()          {}
func (st *Subtask) forceDrop()     { st.delivered = true; st.lends = nil }
func (st *Subtask) String() string { return st.name }

func (in *Instance) subtaskOf(h Handle, call string) (*Subtask, error) {
	e, err := in.get(h, KindSubtask, call)
	if err != nil {
		return nil, err
	}
	st, ok := e.obj.(*Subtask)
	if !ok {
		return nil, in.trap(TrapWrongType, h, call, "not a subtask of an async call")
	}
	return st, nil
}

// CancelSubtask is subtask.cancel: it asks the call behind h to stop. If
// the subtask is (or becomes at once) resolved, its resolution is
// delivered now (done); otherwise the SUBTASK event comes later.
// Cancelling twice, or after the resolution was delivered, traps.
func (in *Instance) CancelSubtask(h Handle) (ev Event, done bool, err error) {
	const call = "subtask.cancel"
	in.h.boundary()
	in.h.w.TouchAll()
	st, err := in.subtaskOf(h, call)
	if err != nil {
		return Event{}, false, err
	}
	if st.delivered {
		return Event{}, false, in.trap(TrapAfterDropped, h, call, "the subtask's resolution was delivered")
	}
	if st.cancelReq {
		return Event{}, false, in.trap(TrapBusyEnd, h, call, "cancellation already requested")
	}
	if !st.state.resolved() {
		st.cancelReq = true
		if st.onCancel != nil {
			st.onCancel()
		}
	}
	if st.ready() {
		return st.take(in, h), true, nil
	}
	return Event{}, false, nil
}

// WaitSubtask blocks until the subtask behind h resolves and delivers its
// resolution (a synchronous subtask.cancel that did not finish at once).
func (in *Instance) WaitSubtask(h Handle) (Event, error) {
	in.h.w.TouchAll()
	const call = "subtask.wait"
	st, err := in.subtaskOf(h, call)
	if err != nil {
		return Event{}, err
	}
	for !st.ready() {
		if st.delivered {
			return Event{}, in.trap(TrapAfterDropped, h, call, "the subtask's resolution was delivered")
		}
		if err := in.eventQueue().Wait(st.name + " of " + in.name); err != nil {
			return Event{}, err
		}
		if err := in.check(call); err != nil {
			return Event{}, err
		}
	}
	return st.take(in, h), nil
}
