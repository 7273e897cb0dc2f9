package sim_test

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/sim"
)

// racyCounter is two tasks incrementing a counter with a scheduling point
// between the read and the write.
func racyCounter(w *sim.World) error {
	counter := 0
	inc := func(*sim.Task) error {
		v := counter
		w.Yield()
		counter = v + 1
		return nil
	}
	a, b := w.Go("inc", inc), w.Go("inc", inc)
	w.Go("check", func(*sim.Task) error {
		a.Join()
		b.Join()
		if counter != 2 {
			return fmt.Errorf("counter = %d, want 2", counter)
		}
		return nil
	})
	return nil
}

// testRacyCounter is a property test whose schedule rapid draws: every
// choice of the world comes from the *rapid.T, so when a schedule fails,
// rapid shrinks it along with the test's other inputs and reports the
// shortest one it finds, with the seed that reproduces it. Call it from a
// test function:
//
//	func TestRacyCounter(t *testing.T) { testRacyCounter(t) }
//
// It fails: racyCounter loses an update when both tasks read before
// either writes.
func testRacyCounter(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		res, _, err := sim.RunOnce(sim.Config{Strategy: sim.NewRapid(rt)}, racyCounter)
		if err != nil {
			rt.Fatal(err)
		}
		if err := res.Error(); err != nil {
			rt.Fatal(err)
		}
	})
}

func ExampleNewRapid() {
	_ = testRacyCounter
}
