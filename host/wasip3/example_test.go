package wasip3_test

import (
	"fmt"
	"os"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/host/wasip3"
	"github.com/wasisim/wasisim/sim"
)

// Run a WASI 0.3 component in a deterministic world: its files live in
// the world's file system, its clocks are the world's virtual clocks,
// and every host call is a scheduling point of the world's strategy.
func ExampleSpawn() {
	wasm, err := os.ReadFile("../../testdata/wasi-testsuite-p3/wasm32-wasip3/monotonic-clock.wasm")
	if err != nil {
		fmt.Println(err)
		return
	}
	comp, err := component.DefaultEngine().Compile(wasm)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := host.New(w, host.Options{})
	g := wasip3.Spawn(h, comp, wasip3.Config{Name: "monotonic-clock.wasm"})
	res := w.Run()
	// The guest slept twice for a millisecond: on the world's clock.
	fmt.Println("exit code", g.ExitCode(), "run:", res.Outcome(), "virtual time:", w.Now())
	// Output: exit code 0 run: ok virtual time: 2ms
}
