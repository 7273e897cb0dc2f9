package wasip3_test

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/host/wasip3"
	"github.com/wasisim/wasisim/sim"
)

// Two components in one world talk over its loopback network: a server
// that sends a greeting in two writes, and a client that reads once, as
// if one read returned the whole greeting. Running them under a few
// schedules shows the client's bug: in some, it prints half the greeting.
func ExampleSpawn_twoGuests() {
	wasm, err := os.ReadFile("../../testdata/net/netpeer.wasm")
	if err != nil {
		fmt.Println(err)
		return
	}
	comp, err := component.DefaultEngine().Compile(wasm)
	if err != nil {
		fmt.Println(err)
		return
	}
	printed := map[string]bool{}
	for seed := uint64(0); seed < 10; seed++ {
		var out strings.Builder
		w := sim.MustNew(sim.Config{Seed: seed})
		h, _ := host.New(w, host.Options{Stdout: &out})
		wasip3.Spawn(h, comp, wasip3.Config{Name: "server", Args: []string{"greet-server"}})
		wasip3.Spawn(h, comp, wasip3.Config{Name: "client", Args: []string{"greet-client"}})
		if res := w.Run(); res.Failed() {
			fmt.Println(res.Error())
		}
		printed[out.String()] = true
	}
	outputs := make([]string, 0, len(printed))
	for o := range printed {
		outputs = append(outputs, o)
	}
	slices.Sort(outputs)
	for _, o := range outputs {
		fmt.Printf("%q\n", o)
	}
	// Output:
	// "got: hello "
	// "got: hello world\n"
}
