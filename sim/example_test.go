package sim_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/wasisim/wasisim/sim"
)

// lostUpdate is two tasks incrementing a shared counter with a scheduling
// point between the read and the write: a depth-2 ordering bug.
func lostUpdate(w *sim.World) error {
	counter := 0
	inc := func(t *sim.Task) error {
		v := counter
		w.Yield()
		counter = v + 1
		return nil
	}
	a, b := w.Go("inc", inc), w.Go("inc", inc)
	w.Go("check", func(t *sim.Task) error {
		a.Join()
		b.Join()
		if counter != 2 {
			return fmt.Errorf("counter = %d, want 2", counter)
		}
		return nil
	})
	return nil
}

// Explore every schedule of a small program and replay the failing one.
func Example() {
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs"}, lostUpdate)
	if err != nil {
		panic(err)
	}
	f := rep.Failures[0]
	fmt.Println("failing schedule found after", rep.Runs, "runs:", f.Err)

	res, replayed, _ := sim.Replay(f.Trace, sim.Config{}, nil, lostUpdate)
	fmt.Println("replay reproduces:", res.Divergence == nil && bytes.Equal(replayed.Bytes(), f.Trace.Bytes()))
	// Output:
	// failing schedule found after 4 runs: task check#3: counter = 1, want 2
	// replay reproduces: true
}

// A PCT exploration with bug depth 2 over 3 tasks.
func ExampleNewPCT() {
	rep, _ := sim.Explore(context.Background(), sim.ExploreOptions{
		Strategy: "pct", Seed: 1, Runs: 100, Workers: 1,
		Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 2, Steps: 10}},
	}, lostUpdate)
	fmt.Println("found:", len(rep.Failures) == 1)
	// Output: found: true
}

// Tasks see only virtual time: sleeping costs nothing and the clock jumps.
func ExampleWorld_Sleep() {
	w := sim.MustNew(sim.Config{Seed: 1})
	w.Go("sleeper", func(t *sim.Task) error {
		w.Sleep(90 * 60 * 1e9) // 90 minutes
		fmt.Println("woke at", w.Now(), w.WallNow().Format("15:04"))
		return nil
	})
	w.Run()
	// Output: woke at 1h30m0s 01:30
}

// Annotated tasks say what each step touches; exhaustive search then runs
// one schedule per class of equivalent interleavings. Here two tasks of
// four steps each write only their own object, and both read a shared
// one: all 70 interleavings reach the same state, and one schedule covers
// them.
func ExampleTask_Annotated() {
	shared := sim.Obj{Kind: sim.ObjUser, ID: 0}
	program := func(w *sim.World) error {
		for id := range 2 {
			own := sim.Obj{Kind: sim.ObjUser, ID: uint64(id) + 1}
			w.Go("worker", func(t *sim.Task) error {
				for step := range 3 {
					w.Touch(own, sim.Write)
					if step == 1 {
						w.Touch(shared, sim.Read)
					}
					w.YieldBoundary()
				}
				return nil
			}).Annotated()
		}
		return nil
	}
	for _, plain := range []bool{true, false} {
		rep, _ := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs",
			Options: sim.StrategyOptions{DFS: sim.DFSOptions{Plain: plain}}}, program)
		fmt.Println("plain:", plain, "schedules:", rep.Runs, "exhausted:", rep.Exhausted)
	}
	// Output:
	// plain: true schedules: 70 exhausted: true
	// plain: false schedules: 1 exhausted: true
}
