// Package wait is the one blocking mechanism of vfs and vnet. A blocking
// operation is a loop "for !ready { q.Wait(mu, …) }" under its owner's
// mutex; Wait releases the mutex while it blocks and re-acquires it before
// returning, so a parked task or goroutine never holds the lock.
//
// A Queue has two modes. On a sim.World it is a sim.WaitQueue: the world's
// strategy decides when a waiter proceeds, deadlines are virtual wall time,
// and a wait that nobody can end is reported as a deadlock naming the
// queue. Without a world it is a channel closed on wake-up, for plain
// goroutines, with deadlines on the time package's clock. That mode works
// inside a testing/synctest bubble: a waiter is durably blocked (it blocks
// only on a channel, and a timer, made in its bubble) and deadlines are on
// the bubble's fake clock.
package wait

import (
	"sync"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// Queue is a set of waiters woken together. It is guarded by its owner's
// mutex: every method requires it (Preconditions: the owner's mutex is
// held; Wait releases it while it blocks).
type Queue interface {
	// Wait blocks until Wake or the deadline (zero: none) and reports
	// whether the deadline passed. In world mode it fails with
	// sim.ErrNotInTask outside a task. reason ("": the queue's name) is
	// what a deadlock report says the waiter waits for.
	//
	// Preconditions: mu is held; it is held again on return, also when
	// the world unwinds the waiting task. mu is the owner's lock: a Locker
	// whose Lock also records the owner's access in the world (see
	// sim.World.Touch), so the step that resumes after the wait records it.
	Wait(mu sync.Locker, reason string, deadline time.Time) (timedOut bool, err error)
	// Await blocks until ready reports true, checking it at every Wake
	// (it must only read state whose changes Wake the queue in the same
	// step or under the same lock): sim.WaitQueue.AwaitLocked in world
	// mode, so that checks that fail are not part of the step's footprint.
	//
	// Preconditions: mu is held; it is held again on return.
	Await(mu sync.Locker, reason string, ready func() bool) error
	// Wake wakes every current waiter.
	//
	// Preconditions: the owner's mutex is held.
	Wake()
}

// New makes a Queue of w's mode (nil: goroutine mode); name labels
// deadlock reports.
func New(w *sim.World, name string) Queue {
	if w != nil {
		return &worldQueue{w: w, q: w.NewWaitQueue(name)}
	}
	return &chanQueue{}
}

// CanWait reports whether a caller may block on a Queue of w's mode: in
// goroutine mode always, in world mode only from the world's running
// task (the calling goroutine, not whichever task the world runs).
func CanWait(w *sim.World) bool { return w == nil || w.Current() != nil }

// Check is the entry check of a layer's calls in w's mode: nil in
// goroutine mode; in world mode, sim.ErrNotInTask from a goroutine that is
// not the world's running task while the world runs (World.CheckCaller).
// A layer calls it before touching its state.
func Check(w *sim.World) error {
	if w == nil {
		return nil
	}
	return w.CheckCaller()
}

// Now is the time deadlines are compared with: w's virtual wall time, or
// the real clock without a world.
func Now(w *sim.World) time.Time {
	if w != nil {
		return w.WallNow()
	}
	return time.Now()
}

type worldQueue struct {
	w *sim.World
	q *sim.WaitQueue
}

func (wq *worldQueue) Wait(mu sync.Locker, reason string, deadline time.Time) (bool, error) {
	d := time.Duration(-1)
	if !deadline.IsZero() {
		d = deadline.Sub(wq.w.WallNow())
		if d <= 0 {
			return true, nil
		}
	}
	if wq.w.Current() == nil {
		return false, sim.ErrNotInTask
	}
	mu.Unlock()
	// Re-lock even when the task is unwound (killed at the end of a run)
	// inside WaitTimeout, so the caller's deferred Unlock stays balanced.
	defer mu.Lock()
	return wq.q.WaitTimeout(reason, d)
}

func (wq *worldQueue) Await(mu sync.Locker, reason string, ready func() bool) error {
	if wq.w.Current() == nil {
		if ready() {
			return nil
		}
		return sim.ErrNotInTask
	}
	return wq.q.AwaitLocked(mu, reason, ready)
}

func (wq *worldQueue) Wake() {
	if wq.q.Len() > 0 {
		wq.q.Broadcast()
	}
}

// chanQueue is goroutine mode. A waiter blocks on a channel that Wake
// closes. The channel lives only while someone waits on it: the first
// waiter makes it and the last one to give up (its deadline passed) lets
// it go. Inside a testing/synctest bubble a channel belongs to the bubble
// of the goroutine that made it; waiting on it there is durably blocking,
// and closing it from outside is a fatal error — so a channel must not
// outlive the waiters that made it, or a Wake after the bubble ended
// would close it from outside.
type chanQueue struct {
	cur *chanGen // the current waiters; nil when nobody waits. Guarded by the owner's mutex
}

// chanGen is one generation of waiters: those that Wake will wake together.
type chanGen struct {
	ch      chan struct{}
	waiters int
}

func (cq *chanQueue) Wait(mu sync.Locker, _ string, deadline time.Time) (bool, error) {
	var d time.Duration
	if !deadline.IsZero() {
		d = time.Until(deadline)
		if d <= 0 {
			return true, nil
		}
	}
	g := cq.cur
	if g == nil {
		g = &chanGen{ch: make(chan struct{})}
		cq.cur = g
	}
	g.waiters++
	mu.Unlock()
	timedOut := false
	if deadline.IsZero() {
		<-g.ch
	} else {
		t := time.NewTimer(d)
		select {
		case <-g.ch:
		case <-t.C:
			timedOut = true
		}
		t.Stop()
	}
	mu.Lock()
	g.waiters--
	if g.waiters == 0 && cq.cur == g {
		cq.cur = nil
	}
	return timedOut, nil
}

func (cq *chanQueue) Await(mu sync.Locker, reason string, ready func() bool) error {
	for !ready() {
		if _, err := cq.Wait(mu, reason, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

func (cq *chanQueue) Wake() {
	if cq.cur != nil {
		close(cq.cur.ch)
		cq.cur = nil
	}
}
