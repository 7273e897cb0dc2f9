package sim

import "strconv"

// This file is how a step says what it touched, for partial-order
// reduction. A step is what a task does between two scheduling points.
// Two steps commute when they touch disjoint objects (or only read the
// same ones); exhaustive search then needs to run only one of their two
// orders. The models name the objects: each access of shared state in an
// annotated task calls World.Touch, and the world's own primitives (wait
// queues, the clock, World.Rand, spawning and joining tasks) report
// theirs. A step that cannot say what it touched is global: it is
// dependent on every other step. That is the default: only the steps of
// tasks marked with Task.Annotated are described by their accesses.
//
// Code after a scheduling point often uses what it touched before it (an
// operation that waits, then finishes). So a task's next step starts with
// the footprint of its previous one — except after YieldBoundary, the
// scheduling point between two operations, after which the step is what
// it touches alone.
//
// Recording costs nothing unless the strategy asks for it (the reduced
// DFS does); every other run pays one nil check per access.

// Mode says how a step uses an object.
type Mode uint8

const (
	// Read observes the object.
	Read Mode = iota + 1
	// Write changes the object; it conflicts with every other access.
	Write
	// Update is a change that commutes with other updates of the same
	// object (a counter that only grows) but not with reads or writes.
	Update
	// Publish is a write before which every WaitQueue.Await waiting on
	// the object finds it not ready: a task's end, a variable's first
	// value. It conflicts like Write; but the reduced search does not try
	// an Await's successful check before it, since there that check would
	// only wait for it.
	Publish
	// awaited is the read of an Await's check that succeeded.
	awaited
)

func (m Mode) String() string {
	switch m {
	case Read:
		return "r"
	case Write:
		return "w"
	case Update:
		return "u"
	case Publish:
		return "p"
	case awaited:
		return "a"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// base is the mode as far as commuting goes: Publish is a write, awaited
// a read.
func (m Mode) base() Mode {
	switch m {
	case Publish:
		return Write
	case awaited:
		return Read
	}
	return m
}

// ObjKind is the kind of an object a step touches. The world's own
// objects come first; the models' kinds follow, so that a footprint reads
// the same in every layer.
type ObjKind uint8

// Object kinds.
const (
	ObjQueue    ObjKind = iota + 1 // a WaitQueue
	ObjTask                        // a task's end (Join, Done, Err)
	ObjSpawn                       // the task table: ids follow spawn order
	ObjRand                        // the draws of World.Rand, which are ordered
	ObjClock                       // the virtual clock (Now, WallNow)
	ObjTimers                      // the pending timers (Sleep, WaitTimeout)
	ObjStream                      // a host stream
	ObjFuture                      // a host future
	ObjHandle                      // one entry of an instance's handle table
	ObjInstance                    // an instance's own state: trap, table length, events
	ObjHost                        // host-wide state (ids, stdio, the instance list)
	ObjFS                          // a vfs file system
	ObjNet                         // a vnet network
	ObjVar                         // a scenario variable of an instance
	ObjUser                        // free for tests and Go scenarios
	ObjMemory                      // a guest's linear memory (Task.Touches)
)

var objKindNames = [...]string{"", "queue", "task", "spawn", "rand", "clock", "timers", "stream", "future",
	"handle", "instance", "host", "fs", "net", "var", "user", "memory"}

func (k ObjKind) String() string {
	if int(k) < len(objKindNames) && k != 0 {
		return objKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Obj names an object for the independence relation: steps that touch
// different objects commute. An ID must be the same in every run that
// reaches the object the same way, so it comes from the model's own
// deterministic numbering, never from a pointer.
type Obj struct {
	Kind ObjKind
	ID   uint64
}

func (o Obj) String() string { return o.Kind.String() + "#" + strconv.FormatUint(o.ID, 10) }

// Access is one object a step touched and how.
type Access struct {
	Obj  Obj
	Mode Mode
}

func (a Access) String() string { return a.Obj.String() + ":" + a.Mode.String() }

// footprint is what one step touched: every object, or the accesses.
type footprint struct {
	global bool
	acc    []Access
}

// conflicts reports whether two steps with these footprints may not
// commute.
func (f footprint) conflicts(g footprint) bool {
	if f.global || g.global {
		return true
	}
	for _, a := range f.acc {
		for _, b := range g.acc {
			if a.Obj == b.Obj && !(a.Mode.base() == b.Mode.base() && a.Mode.base() != Write) {
				return true
			}
		}
	}
	return false
}

// empty reports whether the step touched nothing.
func (f footprint) empty() bool { return !f.global && len(f.acc) == 0 }

// union adds g's accesses to f (a write where the modes differ).
func (f *footprint) union(g footprint) {
	if f.global {
		return
	}
	if g.global {
		f.global, f.acc = true, nil
		return
	}
	for _, b := range g.acc {
		f.acc = addAccess(f.acc, b.Obj, b.Mode)
	}
}

func (f footprint) String() string {
	if f.global {
		return "global"
	}
	s := ""
	for i, a := range f.acc {
		if i > 0 {
			s += " "
		}
		s += a.String()
	}
	return s
}

// maxAccesses bounds a step's recorded accesses; a step that touches
// more is treated as global rather than compared object by object.
const maxAccesses = 256

func addAccess(acc []Access, o Obj, m Mode) []Access {
	for i := range acc {
		if acc[i].Obj == o {
			switch old := acc[i].Mode; {
			case old == m:
			case old.base() == Read && m.base() == Read:
				acc[i].Mode = Read // an awaited read and a plain one: plain
			default:
				acc[i].Mode = Write
			}
			return acc
		}
	}
	return append(acc, Access{o, m})
}

// stepObserver is a strategy that wants each step's footprint: the
// reduced DFS. stepBegin is called as a task starts a step, with the ids
// of the runnable tasks it was chosen from (nil: it was the only one); it
// reports whether the run is redundant and should stop. stepEnd is called
// when the step ends, with what it touched and the tasks it woke or
// spawned. World events (timers firing, outside input) are steps of task
// 0 and are global.
type stepObserver interface {
	stepBegin(task int, ready []int) (prune bool)
	stepEnd(task int, fp footprint, woke []int)
	// recorder returns the recorder for the next run: the observer keeps
	// one from run to run, so that its buffers are reused.
	recorder() *recorder
}

// recorder is the world's side of footprints: the step in progress.
type recorder struct {
	obs  stepObserver
	open bool
	task *Task // nil: a world event
	fp   footprint
	woke []int
	// boundary: the step in progress ends at YieldBoundary.
	boundary bool
	// mute > 0: accesses are not recorded (WaitQueue.Await's checks);
	// awaited: reads are those of an Await's check that succeeded.
	mute    int
	awaited bool
	// carry[t] is what task t's last step touched, which its next step
	// starts with unless the last ended at YieldBoundary.
	carry []footprint
}

// reset prepares the recorder for a new run, keeping its buffers.
func (r *recorder) reset(obs stepObserver) {
	r.obs, r.open, r.task, r.boundary, r.mute, r.awaited = obs, false, nil, false, 0, false
	r.fp.global, r.fp.acc, r.woke = false, r.fp.acc[:0], r.woke[:0]
	for i := range r.carry {
		r.carry[i].global, r.carry[i].acc = false, r.carry[i].acc[:0]
	}
}

func (r *recorder) carryOf(t *Task) *footprint {
	for len(r.carry) <= t.id {
		r.carry = append(r.carry, footprint{})
	}
	return &r.carry[t.id]
}

// prunedError is the type of ErrPruned.
type prunedError struct{}

func (prunedError) Error() string { return "sim: run pruned by partial-order reduction" }

// ErrPruned is the run-level error of a run that partial-order reduction
// stopped because it can only repeat schedules already explored; Explore
// does not count such runs.
var ErrPruned error = prunedError{}

// Touch records that the running step uses o in mode m. Models call it
// for every access of state other tasks can see, in the step that makes
// it; outside a run, outside a task, in a task that is not Annotated or
// when the strategy does not want footprints it does nothing.
func (w *World) Touch(o Obj, m Mode) {
	if w.rec != nil {
		w.rec.touch(o, m)
	}
}

// TouchAll records that the running step may have used anything: it is
// dependent on every other step. Models call it where describing the
// accesses is not worth it (a trap tearing an instance down, a check of
// the whole file system).
func (w *World) TouchAll() {
	if r := w.rec; r != nil && r.open {
		r.fp.global, r.fp.acc = true, r.fp.acc[:0]
	}
}

func (r *recorder) touch(o Obj, m Mode) {
	if !r.open || r.fp.global || r.mute > 0 {
		return
	}
	if r.awaited && m == Read {
		m = awaited
	}
	r.fp.acc = addAccess(r.fp.acc, o, m)
	if len(r.fp.acc) > maxAccesses {
		r.fp.global, r.fp.acc = true, r.fp.acc[:0]
	}
}

// recBegin opens the step of task t (nil: a world event). ready are the
// ids t was chosen from (nil: t alone).
func (w *World) recBegin(t *Task, ready []int) {
	r := w.rec
	r.end()
	r.open, r.fp.global, r.fp.acc, r.woke, r.boundary = true, false, r.fp.acc[:0], r.woke[:0], false
	r.task = t
	id := 0
	switch {
	case t == nil || !t.annotated:
		r.fp.global = true
	default:
		c := r.carryOf(t)
		r.fp.global = c.global
		r.fp.acc = append(r.fp.acc, c.acc...)
		for _, a := range t.always {
			r.fp.acc = addAccess(r.fp.acc, a.Obj, a.Mode)
		}
	}
	if t != nil {
		id = t.id
	}
	if r.obs.stepBegin(id, ready) && w.abortErr == nil {
		w.abortErr = ErrPruned
	}
}

// end closes the step in progress, if any, and reports it.
func (r *recorder) end() {
	if !r.open {
		return
	}
	r.open = false
	t := r.task
	if t == nil {
		if len(r.woke) > 0 { // else a world event that did nothing
			r.obs.stepEnd(0, r.fp, r.woke)
		}
		return
	}
	if t.annotated {
		c := r.carryOf(t)
		if r.boundary {
			c.global, c.acc = false, c.acc[:0]
		} else {
			// What carries over is a plain use: a Publish repeated in a
			// later step is no longer the write an Await waited for.
			c.global, c.acc = r.fp.global, append(c.acc[:0], r.fp.acc...)
			for i := range c.acc {
				c.acc[i].Mode = c.acc[i].Mode.base()
			}
		}
	}
	r.obs.stepEnd(t.id, r.fp, r.woke)
}

// YieldBoundary is Yield between two operations of the running task:
// the task's next step is described by what it touches alone, not also
// by what this one touched (see Touch). A host call starts with one.
func (w *World) YieldBoundary() {
	if w.rec != nil && w.rec.open && w.rec.task == w.current {
		w.rec.boundary = true
	}
	w.Yield()
}

// woke notes that the step in progress made t runnable (a wake-up or a
// spawn): t's next step happens after it.
func (w *World) recWoke(t *Task) {
	if r := w.rec; r.open {
		r.woke = append(r.woke, t.id)
	}
}

// Annotated declares that the task touches what other tasks can see only
// through objects that report their accesses (World.Touch, and the
// world's own primitives), so partial-order reduction may let its steps
// commute with steps that touch other objects. Every step of a task that
// is not annotated is dependent on every other step. It returns t.
func (t *Task) Annotated() *Task {
	t.annotated = true
	return t
}

// Touches declares that every step of the task touches o in mode m, and
// makes the task Annotated. It is for state the task uses between any
// two scheduling points without saying so: a WebAssembly guest's linear
// memory, which its code reads and writes anywhere, is touched by every
// step of the guest's task (and by any other step that copies into it).
// Call it from the task itself or before it runs; it returns t.
func (t *Task) Touches(o Obj, m Mode) *Task {
	t.annotated = true
	t.always = append(t.always, Access{Obj: o, Mode: m})
	return t
}
