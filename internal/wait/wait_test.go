package wait

import (
	"sync"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
)

func TestGoroutineModeWaitsForWake(t *testing.T) {
	var mu sync.Mutex
	q := New(nil, "q")
	ready := false
	done := make(chan struct{})
	go func() {
		mu.Lock()
		defer mu.Unlock()
		for !ready {
			if _, err := q.Wait(&mu, "", time.Time{}); err != nil {
				t.Error(err)
				return
			}
		}
		close(done)
	}()
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	ready = true
	q.Wake()
	mu.Unlock()
	<-done
	mu.Lock()
	timedOut, err := q.Wait(&mu, "", time.Now().Add(5*time.Millisecond))
	mu.Unlock()
	if !timedOut || err != nil {
		t.Errorf("deadline: %v %v", timedOut, err)
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
