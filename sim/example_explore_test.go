package sim_test

import (
	"context"
	"fmt"

	"github.com/wasisim/wasisim/sim"
)

// Explore a scenario under 200 seeded random schedules on two workers.
// The report is the same whatever order the workers finish in: without
// KeepGoing, Explore stops at the lowest-numbered failing run; with it,
// every run is counted.
func ExampleExplore() {
	opt := sim.ExploreOptions{Strategy: "random", Seed: 7, Runs: 200, Workers: 2}
	rep, err := sim.Explore(context.Background(), opt, lostUpdate)
	if err != nil {
		panic(err)
	}
	f := rep.Failures[0]
	fmt.Printf("first failing run: %d (%v)\n", f.Run, f.Err)

	opt.KeepGoing = true
	rep, _ = sim.Explore(context.Background(), opt, lostUpdate)
	for _, o := range rep.OutcomeList() {
		fmt.Printf("%d runs: %s\n", rep.Outcomes[o], o)
	}
	// Output:
	// first failing run: 0 (task check#3: counter = 1, want 2)
	// 103 runs: ok
	// 97 runs: task check#3: counter = 1, want 2
}
