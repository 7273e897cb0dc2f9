package sim

import (
	"fmt"
	"slices"
	"testing"
)

// A guest's memory is used by its code between scheduling points without
// any Touch, and written by another task's step that copies into it (the
// host completing a read). Task.Touches makes every guest step touch the
// memory, so the search keeps every order of those steps.
func TestTouchesKeepsUnannouncedAccesses(t *testing.T) {
	memory := Obj{Kind: ObjMemory, ID: 1}
	scenario := func(declare bool, out *string) Scenario {
		return func(w *World) error {
			var mem int
			seen := -1
			g := w.Go("guest", func(*Task) error {
				mem = 1 // the guest's code: no Touch
				w.YieldBoundary()
				seen = mem
				w.YieldBoundary()
				mem += 100
				return nil
			})
			if declare {
				g.Touches(memory, Write)
			} else {
				g.Annotated()
			}
			w.Go("copier", func(*Task) error {
				w.Touch(Obj{Kind: ObjUser, ID: 7}, Write)
				w.YieldBoundary()
				w.Touch(memory, Write) // a copy into the guest's buffer
				mem = 10
				return nil
			}).Annotated()
			w.OnIdle(func() bool { *out = fmt.Sprintf("seen %d, memory %d", seen, mem); return false })
			return nil
		}
	}
	outcomes := func(declare, reduce bool) []string {
		s := newSearch(reduce, DFSOptions{}, Spec{Name: "dfs"})
		var got []string
		for {
			var out string
			if _, _, err := RunOnce(Config{Strategy: s.strategy()}, scenario(declare, &out)); err != nil {
				t.Fatal(err)
			}
			if !s.pruned {
				got = append(got, out)
			}
			if !s.next() {
				break
			}
		}
		slices.Sort(got)
		return slices.Compact(got)
	}
	all := outcomes(true, false)
	if len(all) < 3 {
		t.Fatalf("the program has %d outcomes, want several: %q", len(all), all)
	}
	if got := outcomes(true, true); !slices.Equal(got, all) {
		t.Fatalf("reduced search with Touches reaches %q, every schedule %q", got, all)
	}
	// Without the declaration the guest's steps touch nothing, commute
	// with the copy, and the search misses outcomes: what Touches is for.
	if got := outcomes(false, true); slices.Equal(got, all) {
		t.Fatalf("reduced search without Touches reaches every outcome %q; the test shows nothing", got)
	}
}
