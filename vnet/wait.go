package vnet

import (
	"sync"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// waiter is the one blocking mechanism of vnet. Every blocking operation
// is a loop "for !ready { wait }" under Net.mu; wait releases the mutex
// while it blocks and re-acquires it before returning, so a parked task or
// goroutine never holds the lock. There are two implementations: a
// sim.WaitQueue (world mode: the scheduler decides, deadlines are virtual)
// and a channel closed on wake (plain goroutines, real-time deadlines).
type waiter interface {
	// wait blocks until wakeAll or the deadline (zero: none). mu is held
	// on entry and on return. timedOut reports that the deadline passed.
	wait(mu *sync.Mutex, reason string, deadline time.Time) (timedOut bool, err error)
	// wakeAll wakes every current waiter; mu is held.
	wakeAll()
}

type worldWaiter struct {
	w *sim.World
	q *sim.WaitQueue
}

func (ww *worldWaiter) wait(mu *sync.Mutex, reason string, deadline time.Time) (bool, error) {
	d := time.Duration(-1)
	if !deadline.IsZero() {
		d = deadline.Sub(ww.w.WallNow())
		if d <= 0 {
			return true, nil
		}
	}
	if ww.w.Current() == nil {
		return false, sim.ErrNotInTask
	}
	mu.Unlock()
	// Re-lock even when the task is unwound (killed at the end of a run)
	// inside WaitTimeout, so the caller's deferred Unlock stays balanced.
	defer mu.Lock()
	return ww.q.WaitTimeout(reason, d)
}

func (ww *worldWaiter) wakeAll() {
	if ww.q.Len() > 0 {
		ww.q.Broadcast()
	}
}

type chanWaiter struct {
	ch chan struct{} // created by the first waiter, closed by wakeAll
}

func (cw *chanWaiter) wait(mu *sync.Mutex, reason string, deadline time.Time) (bool, error) {
	var d time.Duration
	if !deadline.IsZero() {
		d = time.Until(deadline)
		if d <= 0 {
			return true, nil
		}
	}
	if cw.ch == nil {
		cw.ch = make(chan struct{})
	}
	ch := cw.ch
	mu.Unlock()
	timedOut := false
	if deadline.IsZero() {
		<-ch
	} else {
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
			timedOut = true
		}
		t.Stop()
	}
	mu.Lock()
	return timedOut, nil
}

func (cw *chanWaiter) wakeAll() {
	if cw.ch != nil {
		close(cw.ch)
		cw.ch = nil
	}
}

// newWaiter makes a waiter of the Net's mode; name labels deadlock reports.
func (n *Net) newWaiter(name string) waiter {
	if n.w != nil {
		return &worldWaiter{w: n.w, q: n.w.NewWaitQueue(name)}
	}
	return &chanWaiter{}
}

// now is the time deadlines are compared with: virtual wall time in world
// mode, the real clock otherwise.
func (n *Net) now() time.Time {
	if n.w != nil {
		return n.w.WallNow()
	}
	return time.Now()
}

// expired reports whether the deadline (zero: none) has passed; a call
// whose deadline has passed fails with ErrTimeout even when it could
// proceed, as net.Conn requires.
func (n *Net) expired(deadline time.Time) bool {
	return !deadline.IsZero() && !n.now().Before(deadline)
}
