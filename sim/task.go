package sim

import (
	"container/heap"
	"math"
	"sync"
	"time"
)

type taskState uint8

const (
	stateReady taskState = iota
	stateRunning
	stateBlocked
	stateDone
)

// Task is a cooperative task of a world: a Go function run as a coroutine
// (iter.Pull), so switching between tasks costs a coroutine switch rather
// than a goroutine handoff, and exactly one task runs at a time.
type Task struct {
	w         *World
	id        int
	name      string
	full      string // name#id, built once
	state     taskState
	next      func() (struct{}, bool)
	stop      func()
	yield     func(struct{}) bool
	waitingOn string
	g         uintptr // the goroutine running the task (goid.Get), once started
	err       error
	done      *WaitQueue
	killed    bool
	timedOut  bool
	timer     *timer
	queue     *WaitQueue
	// annotated: the task's steps are described by what they touch
	// (Annotated), and each also by always (Touches); nq numbers the
	// wait queues it makes.
	annotated bool
	always    []Access
	nq        uint32
}

// ID is the task's number, 1 for the first task spawned; ids follow spawn
// order, so they are the same in every run of a scenario.
func (t *Task) ID() int { return t.id }

// Name is the task's name with its id, e.g. "writer#2".
func (t *Task) Name() string { return t.full }

// World is the world the task belongs to.
func (t *Task) World() *World { return t.w }

// Done reports whether the task has ended.
func (t *Task) Done() bool {
	t.w.Touch(t.obj(), Read)
	return t.state == stateDone
}

// Err is the task's error once it has ended.
func (t *Task) Err() error {
	t.w.Touch(t.obj(), Read)
	return t.err
}

func (t *Task) obj() Obj { return Obj{ObjTask, uint64(t.id)} }

// Join blocks the running task until t ends and returns t's error. From
// a goroutine CheckCaller refuses it returns ErrNotInTask.
func (t *Task) Join() error {
	// Await checks the caller first.
	err := t.done.Await("join "+t.Name(), func() bool {
		t.w.Touch(t.obj(), Read)
		return t.state == stateDone
	})
	if err != nil {
		return err
	}
	return t.err
}

// park gives control back to the world loop. The task resumes when the
// strategy picks it again; if the run ends first, it unwinds.
func (t *Task) park() {
	if t.killed || !t.yield(struct{}{}) || t.killed {
		panic(errKilledSentinel)
	}
}

// WaitQueue is a condition a task can block on until another task signals
// it. Waiters are woken in FIFO order; which woken task runs first is the
// strategy's choice. Use it in a loop: for !cond() { q.Wait(...) }.
type WaitQueue struct {
	w       *World
	name    string
	waiters []*Task
	obj     Obj
}

// NewWaitQueue makes a wait queue named for deadlock reports.
func (w *World) NewWaitQueue(name string) *WaitQueue {
	// The queue's number for footprints comes from its maker's own count,
	// so it is the same whatever other tasks made meanwhile.
	var id uint64
	if t := w.current; t != nil {
		t.nq++
		id = uint64(t.id)<<32 | uint64(t.nq)
	} else {
		w.nq++
		id = uint64(w.nq)
	}
	return &WaitQueue{w: w, name: name, obj: Obj{ObjQueue, id}}
}

// Len is the number of blocked waiters.
func (q *WaitQueue) Len() int {
	q.w.Touch(q.obj, Read)
	return len(q.waiters)
}

// touchSignal records a signal: it changes the queue only if someone waits.
func (q *WaitQueue) touchSignal() {
	if len(q.waiters) == 0 {
		q.w.Touch(q.obj, Read)
	} else {
		q.w.Touch(q.obj, Write)
	}
}

// Wait blocks the running task until the queue is signalled. reason says
// what the task waits for, for deadlock reports ("" uses the queue's name).
func (q *WaitQueue) Wait(reason string) error {
	_, err := q.WaitTimeout(reason, -1)
	return err
}

// WaitTimeout is Wait with a virtual-time limit; d < 0 means no limit. It
// reports whether the limit passed before a signal.
func (q *WaitQueue) WaitTimeout(reason string, d time.Duration) (timedOut bool, err error) {
	if err := q.wait(reason, d, true); err != nil {
		return false, err
	}
	return q.w.current.timedOut, nil
}

// wait blocks the running task on the queue; recorded says whether the
// step records it (Await's waits are not).
func (q *WaitQueue) wait(reason string, d time.Duration, recorded bool) error {
	t := q.w.caller()
	if t == nil {
		return ErrNotInTask
	}
	if reason == "" {
		reason = q.name
	}
	if recorded {
		q.w.Touch(q.obj, Write)
	}
	t.waitingOn = reason
	t.state = stateBlocked
	t.timedOut = false
	t.queue = q
	q.waiters = append(q.waiters, t)
	if d >= 0 {
		q.w.addTimer(t, d)
	}
	t.park()
	return nil
}

// Await blocks the running task until ready reports true, checking it
// again each time the queue is signalled. ready must only read state, and
// every change of that state that can make it true must signal the queue
// in the step that makes it (Task.Join's queue is signalled by the end of
// the task, in its last step). Then a check that fails and waits changes
// nothing the reduced search has to order: it is not part of the step's
// footprint, only the check that succeeds is (with what ready records
// through World.Touch). A change that makes ready true for the first time
// should be recorded as a Publish: the search then does not try the
// successful check before it, where it would only wait.
func (q *WaitQueue) Await(reason string, ready func() bool) error {
	return q.AwaitLocked(nil, reason, ready)
}

// AwaitLocked is Await for a caller that holds mu (nil: none) while it
// checks ready: mu is released while the task waits and taken again
// before the next check, also when the run ends while the task waits.
func (q *WaitQueue) AwaitLocked(mu sync.Locker, reason string, ready func() bool) error {
	if err := q.w.CheckCaller(); err != nil {
		return err // before ready runs: another goroutine must not read the models
	}
	for {
		r := q.w.rec
		if r != nil {
			r.mute++
		}
		ok := ready()
		if r != nil {
			r.mute--
		}
		if ok {
			if r != nil {
				r.awaited = true
			}
			ready() // again, recorded
			if r != nil {
				r.awaited = false
			}
			return nil
		}
		if err := q.waitUnlocked(mu, reason); err != nil {
			return err
		}
	}
}

func (q *WaitQueue) waitUnlocked(mu sync.Locker, reason string) error {
	if mu == nil {
		return q.wait(reason, -1, false)
	}
	mu.Unlock()
	defer mu.Lock()
	return q.wait(reason, -1, false)
}

// Signal wakes the oldest waiter and reports whether there was one.
func (q *WaitQueue) Signal() bool {
	q.touchSignal()
	if len(q.waiters) == 0 {
		return false
	}
	t := q.waiters[0]
	// Shift down in place so the queue keeps its backing array.
	copy(q.waiters, q.waiters[1:])
	q.waiters[len(q.waiters)-1] = nil
	q.waiters = q.waiters[:len(q.waiters)-1]
	q.w.wake(t)
	return true
}

// Broadcast wakes every waiter and returns how many there were.
func (q *WaitQueue) Broadcast() int {
	q.touchSignal()
	n := len(q.waiters)
	ws := q.waiters
	for _, t := range ws {
		q.w.wake(t) // wake never adds to a queue, so ws stays as it is
	}
	clear(ws)
	q.waiters = ws[:0]
	return n
}

func (q *WaitQueue) remove(t *Task) {
	for i, x := range q.waiters {
		if x == t {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			return
		}
	}
}

func (w *World) wake(t *Task) {
	if t.state != stateBlocked {
		return
	}
	if t.timer != nil {
		w.Touch(Obj{ObjTimers, 0}, Write)
		w.timers.remove(t.timer)
		t.timer = nil
	}
	t.queue = nil
	t.waitingOn = ""
	w.makeReady(t)
	if w.rec != nil {
		w.recWoke(t)
	}
}

type timer struct {
	at    time.Duration
	seq   uint64
	task  *Task
	index int
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)   { t := x.(*timer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
func (h *timerHeap) remove(t *timer) {
	if t.index >= 0 {
		heap.Remove(h, t.index)
	}
}

func (w *World) addTimer(t *Task, d time.Duration) {
	w.Touch(Obj{ObjTimers, 0}, Write)
	w.timerSq++
	now := w.Now()
	at := now + d
	if d > math.MaxInt64-now {
		// Saturate: a wrapped sum would be in the past and wake this
		// task before tasks that sleep less.
		at = math.MaxInt64
	}
	tm := &timer{at: at, seq: w.timerSq, task: t}
	t.timer = tm
	heap.Push(&w.timers, tm)
}

// fireTimers advances the virtual clock to the earliest timer when no task
// can run, and wakes every task due at that instant. It reports whether it
// woke anyone.
func (w *World) fireTimers() bool {
	if len(w.timers) == 0 {
		return false
	}
	at := w.timers[0].at
	if at > w.Now() {
		w.now.Store(int64(at))
		if w.full {
			w.record(Event{Step: w.step, Kind: "clock", Detail: at.String()})
		}
	}
	for len(w.timers) > 0 && w.timers[0].at == at {
		tm := heap.Pop(&w.timers).(*timer)
		t := tm.task
		t.timer = nil
		if t.queue != nil {
			t.queue.remove(t)
			t.timedOut = true
		}
		w.wake(t)
	}
	return true
}
