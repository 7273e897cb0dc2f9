package host

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// This file is the Component Model's waitable sets: a task joins stream
// and future ends and subtasks to a set and waits for the first of them
// to have an event (a copy that completed, a future that delivered, a
// subtask that resolved), as `waitable-set.wait` and the callback event
// loop do. Components use it through host/component; Go guests may use
// it too, to wait on several streams at once.

// EventCode is the kind of an event, with the Component Model's codes.
type EventCode uint8

// Event codes.
const (
	EventNone          EventCode = 0
	EventSubtask       EventCode = 1
	EventStreamRead    EventCode = 2
	EventStreamWrite   EventCode = 3
	EventFutureRead    EventCode = 4
	EventFutureWrite   EventCode = 5
	EventTaskCancelled EventCode = 6
)

var eventNames = [...]string{"none", "subtask", "stream-read", "stream-write", "future-read", "future-write", "task-cancelled"}

func (c EventCode) String() string {
	if int(c) < len(eventNames) {
		return eventNames[c]
	}
	return "event(" + strconv.Itoa(int(c)) + ")"
}

// Event is what a waitable delivers once: the end of a stream or future
// copy, or a subtask's resolution.
type Event struct {
	Code EventCode
	// Handle is the waitable the event is about.
	Handle Handle
	// Copy is the result of a stream or future read or write.
	Copy CopyResult
	// Data is what a read received: for a stream<u8> a []byte, for the
	// stream of read-directory a []vfs.DirEntry, for a listen stream the
	// []Handle of the accepted sockets (already in the reader's table),
	// for a stream a guest made of other elements a []any; for a future
	// read the value (an error for the futures the host resolves, nil
	// meaning ok). A []byte is valid until the next read on the end.
	Data any
	// FromHost is set for a future read whose value the host resolved
	// (an error, nil meaning ok), rather than one a guest wrote.
	FromHost bool
	// Subtask is the state a subtask event reports, and Value its result.
	Subtask SubtaskState
	Value   any
}

func (e Event) String() string {
	switch e.Code {
	case EventStreamRead, EventStreamWrite, EventFutureRead, EventFutureWrite:
		return fmt.Sprintf("%s %d %s", e.Code, e.Handle, e.Copy)
	case EventSubtask:
		return fmt.Sprintf("subtask %d %s", e.Handle, e.Subtask)
	}
	return e.Code.String()
}

// waitable is a handle object that delivers events: stream and future
// ends and subtasks.
type waitable interface {
	// ready reports whether an event is pending.
	ready() bool
	// take delivers the pending event. Precondition: ready().
	take(in *Instance, h Handle) Event
}

// waitSet is the object behind a waitable-set handle.
type waitSet struct {
	h       Handle
	members []Handle // in join order
	waiting int      // tasks blocked in WaitEvent
}

func (s *waitSet) dropCheck() (TrapKind, string) {
	if len(s.members) > 0 {
		return TrapBadArgument, strconv.Itoa(len(s.members)) + " waitable(s) still joined"
	}
	if s.waiting > 0 {
		return TrapBusyEnd, "a task is waiting on the set"
	}
	return 0, ""
}
func (s *waitSet) drop()          {}
func (s *waitSet) String() string { return "waitable-set " + strconv.Itoa(int(s.h)) }

// eventQueue is the instance's event queue (made with the instance).
func (in *Instance) eventQueue() *sim.WaitQueue { return in.events }

// watch makes a pending op signal the instance's event queue when it
// completes (nothing to do if it completed already).
func (in *Instance) watch(notify **sim.WaitQueue, done bool) {
	if !done {
		*notify = in.eventQueue()
	}
}

// NewWaitableSet is waitable-set.new.
func (in *Instance) NewWaitableSet() (Handle, error) {
	if err := in.check("waitable-set.new"); err != nil {
		return 0, err
	}
	s := &waitSet{h: Handle(len(in.table) + 1)}
	return in.insert(KindWaitableSet, s), nil
}

func (in *Instance) waitSetOf(h Handle, call string) (*waitSet, error) {
	e, err := in.get(h, KindWaitableSet, call)
	if err != nil {
		return nil, err
	}
	return e.obj.(*waitSet), nil
}

// Join is waitable.join: it moves waitable w into set (0: out of any
// set). w must be a stream or future end or a subtask.
func (in *Instance) Join(w, set Handle) error {
	const call = "waitable.join"
	e, err := in.live(w, call)
	if err != nil {
		return err
	}
	if _, ok := e.obj.(waitable); !ok {
		return in.trap(TrapWrongType, w, call, "a "+e.kind.String()+" is not waitable")
	}
	var s *waitSet
	if set != 0 {
		if s, err = in.waitSetOf(set, call); err != nil {
			return err
		}
	}
	if e.set != 0 {
		in.leaveSet(w, e)
	}
	if s != nil {
		e.set = set
		s.members = append(s.members, w)
	}
	return nil
}

// InSet reports the waitable set h is joined to (0: none).
func (in *Instance) InSet(h Handle) Handle {
	if in.KindOf(h) == 0 {
		return 0
	}
	return in.table[h-1].set
}

// leaveSet takes the waitable behind e out of its set.
func (in *Instance) leaveSet(h Handle, e *entry) {
	in.touchHandle(e.set, sim.Write)
	se := &in.table[e.set-1]
	e.set = 0
	if !se.alive {
		return
	}
	s := se.obj.(*waitSet)
	if i := slices.Index(s.members, h); i >= 0 {
		s.members = slices.Delete(s.members, i, i+1)
	}
}

// pollSet delivers one pending event of the set, if any. When several
// are pending, which one is delivered first is a choice of the world's
// strategy, so exploration tries each order.
func (in *Instance) pollSet(s *waitSet) (Event, bool) {
	var ready []Handle
	for _, m := range s.members {
		in.touchHandle(m, sim.Write)
		if in.table[m-1].obj.(waitable).ready() {
			ready = append(ready, m)
		}
	}
	if len(ready) == 0 {
		return Event{}, false
	}
	m := ready[0]
	if len(ready) > 1 {
		m = ready[in.h.w.Choose("event of "+s.String(), len(ready))]
	}
	ev := in.table[m-1].obj.(waitable).take(in, m)
	if in.h.w.Tracing() {
		in.h.w.Event("event", in.name, ev.String())
	}
	return ev, true
}

// PollEvent is waitable-set.poll: the event of one waitable of the set
// that has one, or an EventNone event.
func (in *Instance) PollEvent(set Handle) (Event, error) {
	in.h.boundary()
	s, err := in.waitSetOf(set, "waitable-set.poll")
	if err != nil {
		return Event{}, err
	}
	ev, _ := in.pollSet(s)
	return ev, nil
}

// WaitEvent is waitable-set.wait: it blocks the running task until a
// waitable of the set has an event, and delivers it.
func (in *Instance) WaitEvent(set Handle) (Event, error) {
	const call = "waitable-set.wait"
	in.h.boundary()
	s, err := in.waitSetOf(set, call)
	if err != nil {
		return Event{}, err
	}
	s.waiting++
	defer func() { s.waiting-- }()
	for {
		if ev, ok := in.pollSet(s); ok {
			return ev, nil
		}
		if err := in.eventQueue().Wait(s.String() + " of " + in.name); err != nil {
			return Event{}, err
		}
		if err := in.check(call); err != nil {
			return Event{}, err // the instance trapped while this task waited
		}
	}
}

// ---- stream ends as waitables ----

func (e *readEnd[T]) ready() bool  { e.s.touch(); return e.pending != nil && e.pending.done }
func (e *writeEnd[T]) ready() bool { e.s.touch(); return e.pending != nil && e.pending.done }

func (e *readEnd[T]) take(in *Instance, h Handle) Event {
	e.s.touch()
	op := e.pending
	e.pending = nil
	if op.res.Status == Dropped {
		e.sawDrop = true
	}
	return Event{Code: EventStreamRead, Handle: h, Copy: op.res, Data: in.received(op.buf)}
}

func (e *writeEnd[T]) take(_ *Instance, h Handle) Event {
	e.s.touch()
	op := e.pending
	e.pending = nil
	if op.res.Status == Dropped {
		e.sawDrop = true
	}
	return Event{Code: EventStreamWrite, Handle: h, Copy: op.res}
}

// received is what a read delivers to the reading instance: accepted
// sockets become own handles of it; everything else as read.
func (in *Instance) received(buf any) any {
	socks, ok := buf.([]*vnet.TCPSocket)
	if !ok {
		return buf
	}
	out := make([]Handle, len(socks))
	for i, s := range socks {
		out[i] = in.insertTCP(s)
	}
	return out
}
