package component_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
)

// Run a component against host functions of your own, in a world. The
// component (testdata/rt-async.wat) imports test:host/api with a
// synchronous echo and an async slow, and exports run(n), which returns
// slow(n) + len(echo("hello")). slow is marked Blocks: the guest calls it
// async and gets a subtask, while the host function sleeps on the
// world's virtual clock.
func ExampleLinker() {
	wasm, err := os.ReadFile("testdata/rt-async.wasm")
	if err != nil {
		fmt.Println(err)
		return
	}
	comp, err := component.DefaultEngine().Compile(wasm)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := component.NewLinker()
	l.Func("test:host/api", "echo", component.HostFunc{
		Call: func(c *component.Call, args []component.Value) (component.Value, error) {
			return strings.ToUpper(args[0].(string)), nil
		},
	})
	l.Func("test:host/api", "slow", component.HostFunc{
		Blocks: true,
		Call: func(c *component.Call, args []component.Value) (component.Value, error) {
			n := args[0].(uint32)
			err := c.Task().World().Sleep(time.Duration(n) * time.Millisecond)
			return 2 * n, err
		},
	})

	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := host.New(w, host.Options{})
	w.Go("guest", func(*sim.Task) error {
		inst, err := comp.Instantiate(h, component.Config{Name: "rt", Linker: l})
		if err != nil {
			return err
		}
		defer inst.Close()
		v, err := inst.Call([]string{"run"}, uint32(20))
		fmt.Println("run(20) =", v, err)
		inst.Host().Close()
		return nil
	})
	res := w.Run()
	fmt.Println("outcome:", res.Outcome(), "virtual time:", w.Now())
	// Output:
	// run(20) = 45 <nil>
	// outcome: ok virtual time: 20ms
}
