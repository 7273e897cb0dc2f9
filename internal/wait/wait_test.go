package wait

import (
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wasisim/wasisim/sim"
)

func TestGoroutineModeWaitsForWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		q := New(nil, "q")
		ready, woken := false, false
		go func() {
			mu.Lock()
			defer mu.Unlock()
			for !ready {
				if _, err := q.Wait(&mu, "", time.Time{}); err != nil {
					t.Error(err)
					return
				}
			}
			woken = true
		}()
		// The waiter is durably blocked: Wait returns with it still parked.
		synctest.Wait()
		mu.Lock()
		if woken {
			t.Fatal("woken before Wake")
		}
		ready = true
		q.Wake()
		mu.Unlock()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if !woken {
			t.Fatal("not woken by Wake")
		}
	})
}

func TestGoroutineModeDeadlineIsOnTheBubbleClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		q := New(nil, "q")
		start := time.Now()
		mu.Lock()
		timedOut, err := q.Wait(&mu, "", start.Add(5*time.Second))
		mu.Unlock()
		if !timedOut || err != nil {
			t.Errorf("deadline: %v %v", timedOut, err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("waited %v of fake time, want 5s", got)
		}
		mu.Lock()
		timedOut, err = q.Wait(&mu, "", start)
		mu.Unlock()
		if !timedOut || err != nil {
			t.Errorf("past deadline: %v %v", timedOut, err)
		}
	})
}

// A queue outlives a synctest bubble that waited on it (a Net made by the
// test, a connection read with a deadline inside the bubble): waking it
// afterwards, from outside, must not touch a channel of the bubble, which
// is a fatal error.
func TestGoroutineModeQueueOutlivesABubble(t *testing.T) {
	var mu sync.Mutex
	q := New(nil, "q")
	synctest.Test(t, func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if timedOut, _ := q.Wait(&mu, "", time.Now().Add(time.Second)); !timedOut {
			t.Error("not timed out")
		}
	})
	mu.Lock()
	q.Wake()
	mu.Unlock()
	done := make(chan struct{})
	go func() {
		mu.Lock()
		defer mu.Unlock()
		q.Wait(&mu, "", time.Time{}) //nolint:errcheck // goroutine mode never fails
		close(done)
	}()
	// The goroutine may not wait yet: wake until it is through.
	for {
		select {
		case <-done:
			return
		default:
		}
		mu.Lock()
		q.Wake()
		mu.Unlock()
		runtime.Gosched()
	}
}

func TestWorldModeIsAWaitQueue(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	var mu sync.Mutex
	q := New(w, "flock inode 2")
	mu.Lock()
	if _, err := q.Wait(&mu, "", time.Time{}); err != sim.ErrNotInTask || CanWait(w) {
		t.Errorf("outside a task: %v", err)
	}
	mu.Unlock()
	w.Go("waiter", func(*sim.Task) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := q.Wait(&mu, "", time.Time{})
		return err
	})
	res := w.Run()
	if len(res.Deadlock) != 1 || res.Deadlock[0].WaitingOn != "flock inode 2" {
		t.Fatalf("deadlock %+v", res.Deadlock)
	}
}

// The world-mode checks look at the caller, not at which task the world
// runs: a goroutine a task started is refused while that task runs.
func TestWorldModeRefusesOtherGoroutines(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	var mu sync.Mutex
	q := New(w, "q")
	w.Go("task", func(*sim.Task) error {
		if err := Check(w); err != nil || !CanWait(w) {
			t.Errorf("the task itself: Check %v, CanWait %v", err, CanWait(w))
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := Check(w); err != sim.ErrNotInTask || CanWait(w) {
				t.Errorf("another goroutine: Check %v, CanWait %v", err, CanWait(w))
			}
			mu.Lock()
			defer mu.Unlock()
			if _, err := q.Wait(&mu, "", time.Time{}); err != sim.ErrNotInTask {
				t.Errorf("another goroutine's Wait: %v", err)
			}
		}()
		<-done
		return nil
	})
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if err := Check(w); err != nil {
		t.Errorf("after the run: %v", err)
	}
	if err := Check(nil); err != nil {
		t.Errorf("goroutine mode: %v", err)
	}
}
