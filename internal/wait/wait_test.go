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
