package scenario_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

// A .wsim script with a planted bug: the checker looks at the file as
// soon as the writer has handed over its last byte, instead of waiting
// for the write to finish.
const plantedBug = `
chunk 4

task writer:
    fd = open root "report.txt" create write
    data, w = stream
    done = write-via-stream fd data
    drop fd
    sent = write w "all of these bytes"
    drop w
    r = await done
    expect r ok
    drop done

task checker:
    wait sent
    expect file "report.txt" == "all of these bytes"
`

// Parse a script and run it under a few seeds: each seed picks one
// schedule, and the bug shows in some of them.
func ExampleScript_Scenario() {
	script, err := scenario.Parse("planted-bug.wsim", []byte(plantedBug))
	if err != nil {
		fmt.Println(err)
		return
	}
	for seed := uint64(1); seed <= 4; seed++ {
		res, _, err := sim.RunOnce(sim.Config{Seed: seed}, script.Scenario(scenario.Options{}))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("seed %d: %s\n", seed, res.Outcome())
	}
	// Output:
	// seed 1: ok
	// seed 2: ok
	// seed 3: task checker#2: planted-bug.wsim:17: checker: `expect file "report.txt" == "all of these bytes"`: file "report.txt" holds "all of these byt", want "all of these bytes"
	// seed 4: ok
}

// Explore the script's schedules until one breaks an assertion; the
// failure names the script line, and its trace replays it exactly.
func ExampleScript_Scenario_explore() {
	script, _ := scenario.Parse("planted-bug.wsim", []byte(plantedBug))
	sc := script.Scenario(scenario.Options{})
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 1, Runs: 200, Workers: 1}, sc)
	if err != nil || len(rep.Failures) == 0 {
		fmt.Println("nothing found", err)
		return
	}
	f := rep.Failures[0]
	var step *scenario.StepError
	fmt.Println("run", f.Run, "fails at line", errors.As(f.Err, &step) && step.Pos.Line == 17)
	res, _, _ := sim.Replay(f.Trace, sim.Config{}, nil, sc)
	fmt.Println("replayed:", res.Divergence == nil && res.Outcome() == rep.Failures[0].Err.Error())
	// Output:
	// run 0 fails at line true
	// replayed: true
}

// A script that does not parse gets one line naming the place and what
// was expected there.
func ExampleParse_error() {
	_, err := scenario.Parse("bad.wsim", []byte("task t:\n    fd = open root out.txt create\n"))
	fmt.Println(err)
	// Output: bad.wsim:2:20: expected a quoted string (path), found "out.txt"
}
