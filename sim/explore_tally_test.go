package sim

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// An exploration that stops at its first failure reports the same counts
// however its parallel workers finish: exactly the runs up to the failing
// one.
func TestExploreCountsAreDeterministic(t *testing.T) {
	// The runs whose seed draws 7 mod 50 fail, after 100000 steps; the
	// others take at most 100, so other workers finish later runs while a
	// failing one goes on.
	sc := func(w *World) error {
		n := w.Rand().IntN(100) + 1
		fail := w.Rand().IntN(50) == 7
		if fail {
			n = 100_000
		}
		w.Go("a", func(*Task) error {
			for range n {
				w.Yield()
			}
			if fail {
				return errors.New("planted")
			}
			return nil
		})
		return nil
	}
	var first *Report
	for i := range 6 {
		rep, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Seed: 9, Runs: 5000, Workers: 4}, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) != 1 || uint64(rep.Runs) != rep.Failures[0].Run+1 {
			t.Fatalf("try %d: %d runs, failures %v", i, rep.Runs, rep.Failures)
		}
		if first == nil {
			first = rep
			continue
		}
		if rep.Runs != first.Runs || !reflect.DeepEqual(rep.Outcomes, first.Outcomes) {
			t.Fatalf("try %d: %d runs %v, first try %d runs %v", i, rep.Runs, rep.Outcomes, first.Runs, first.Outcomes)
		}
	}
}

// The tally takes out what a lower failure makes too many, and forgets
// runs once nothing can take them out.
func TestTally(t *testing.T) {
	rep := &Report{Outcomes: map[string]int{}}
	c := newTally(rep, 0, 1)
	none := ^uint64(0)
	c.add(1, "ok", none)
	c.add(3, "ok", none)
	c.add(0, "ok", none) // low moves past 1: run 3 stays in the window
	if rep.Runs != 3 || len(c.window) != 1 {
		t.Fatalf("%d runs, window %v", rep.Runs, c.window)
	}
	c.cut(2)
	c.add(2, "bad", none)
	if rep.Runs != 3 || rep.Outcomes["ok"] != 2 || rep.Outcomes["bad"] != 1 || len(c.window) != 0 {
		t.Fatalf("after the cut: %d runs %v, window %v", rep.Runs, rep.Outcomes, c.window)
	}
	c.add(4, "ok", 2) // above the failure: not counted
	if rep.Runs != 3 {
		t.Fatalf("%d runs", rep.Runs)
	}
}
