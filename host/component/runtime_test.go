package component_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
)

func compileFixture(t testing.TB, name string) *component.Component {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := component.DefaultEngine().Compile(b)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return c
}

// apiLinker binds test:host/api: echo upper-cases its string; slow waits
// n virtual milliseconds and returns 2n.
func apiLinker() *component.Linker {
	l := component.NewLinker()
	l.Func("test:host/api", "echo", component.HostFunc{Call: func(c *component.Call, a []component.Value) (component.Value, error) {
		c.Task().World().Yield()
		return strings.ToUpper(a[0].(string)), nil
	}})
	l.Func("test:host/api", "slow", component.HostFunc{Blocks: true, Call: func(c *component.Call, a []component.Value) (component.Value, error) {
		n := a[0].(uint32)
		if err := c.Task().World().Sleep(time.Duration(n) * time.Millisecond); err != nil {
			return nil, err
		}
		return 2 * n, nil
	}})
	return l
}

// runAsync instantiates rt-async and calls run(n) in a task.
func runAsync(comp *component.Component, n uint32) sim.Scenario {
	return func(w *sim.World) error {
		h, err := host.New(w, host.Options{})
		if err != nil {
			return err
		}
		w.Go("guest", func(*sim.Task) error {
			inst, err := comp.Instantiate(h, component.Config{Name: "rt", Linker: apiLinker()})
			if err != nil {
				return err
			}
			defer inst.Close()
			v, err := inst.Call([]string{"run"}, n)
			if err != nil {
				return err
			}
			if v != 2*n+5 {
				return fmt.Errorf("run returned %v, want %d", v, 2*n+5)
			}
			inst.Host().Close()
			return nil
		})
		return nil
	}
}

// A callback-lifted export calls a host function synchronously (strings
// lifted and lowered with realloc) and one async that blocks (a subtask
// whose event wakes the callback), under every schedule.
func TestAsyncCallbackLift(t *testing.T) {
	comp := compileFixture(t, "rt-async")
	for _, st := range []string{"random", "pct", "dfs"} {
		rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 3, Runs: 50, Workers: 1,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 200}, DFS: sim.DFSOptions{MaxSchedules: 50}}}, runAsync(comp, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			t.Fatalf("%s run %d: %v\n%s", st, f.Run, f.Err, f.Trace.Bytes())
		}
	}
}

// Every rule a guest can break ends in a trap of its instance, with a
// message saying what was wrong: never a panic, a hang, or a result.
func TestHostileGuestTraps(t *testing.T) {
	comp := compileFixture(t, "rt-hostile")
	tests := []struct{ export, want string }{
		{"oob-string", "out of bounds"},
		{"oob-result", "out of bounds"},
		{"bad-realloc", "out of bounds"},
		{"trap-realloc", "unreachable"},
		{"unreachable", "unreachable"},
		{"forged", "forged handle"},
		{"drop-unresolved", "unresolved subtask"},
		{"oob-buffer", "out of bounds"},
		{"wrong-end", "wrong handle type"},
		{"return-twice", "task.return called twice"},
		{"bad-code", "callback returned code 7"},
		{"no-return", "without calling task.return"},
	}
	for _, tc := range tests {
		t.Run(tc.export, func(t *testing.T) {
			w := sim.MustNew(sim.Config{Seed: 1})
			h, _ := host.New(w, host.Options{})
			var callErr error
			var trapped *host.Trap
			w.Go("guest", func(*sim.Task) error {
				inst, err := comp.Instantiate(h, component.Config{Name: "hostile", Linker: apiLinker()})
				if err != nil {
					return err
				}
				defer inst.Close()
				_, callErr = inst.Call([]string{tc.export})
				trapped = inst.Host().Trapped()
				return nil
			})
			res := w.Run()
			if callErr == nil || !strings.Contains(callErr.Error(), tc.want) {
				t.Fatalf("call: %v, want an error mentioning %q", callErr, tc.want)
			}
			var tr *host.Trap
			if !errors.As(callErr, &tr) || trapped == nil {
				t.Fatalf("the instance did not trap: %v (trapped %v)", callErr, trapped)
			}
			for _, tk := range res.Tasks {
				var pe *sim.PanicError
				if errors.As(tk.Err, &pe) {
					t.Fatalf("a task panicked: %v\n%s", pe, pe.Stack)
				}
			}
		})
	}
}

// A stackful async export uses the guest-side built-ins on its own
// streams, futures, resources and error contexts; each step checks the
// Component Model's result codes, and nothing is left alive.
func TestGuestBuiltins(t *testing.T) {
	comp := compileFixture(t, "rt-streams")
	sc := func(w *sim.World) error {
		h, err := host.New(w, host.Options{})
		if err != nil {
			return err
		}
		w.Go("guest", func(*sim.Task) error {
			inst, err := comp.Instantiate(h, component.Config{Name: "streams"})
			if err != nil {
				return err
			}
			defer inst.Close()
			v, err := inst.Call([]string{"run"})
			if err != nil {
				return err
			}
			if v != uint32(1234) {
				return fmt.Errorf("run returned %v", v)
			}
			if live := inst.Host().Live(); len(live) != 0 {
				return fmt.Errorf("handles left: %v", live)
			}
			return nil
		})
		return nil
	}
	for _, st := range []string{"random", "pct"} {
		rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 5, Runs: 30, Workers: 1,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 200}}}, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			t.Fatalf("%s run %d: %v\n%s", st, f.Run, f.Err, f.Trace.Bytes())
		}
	}
}

// A component that uses what the runtime does not run is refused when it
// is compiled, with one line naming the construct.
func TestCompileRefusesUnsupported(t *testing.T) {
	for _, tc := range []struct{ fixture, want string }{
		{"async", "threads"},      // the thread.* built-ins
		{"start", "start"},        // a start definition
		{"value-import", "value"}, // a value import
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tc.fixture+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = component.DefaultEngine().Compile(b)
		var ue *component.UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming %q", tc.fixture, err, tc.want)
		}
	}
}

// A component instantiating a nested component twice: each instance's
// host calls reach the instance that made them, and one instance calls
// into the others.
func TestNestedInstancesCallTheHost(t *testing.T) {
	comp := compileFixture(t, "rt-nested")
	w := sim.MustNew(sim.Config{Seed: 1})
	h, err := host.New(w, host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got component.Value
	w.Go("guest", func(*sim.Task) error {
		inst, err := comp.Instantiate(h, component.Config{Name: "nested", Linker: apiLinker()})
		if err != nil {
			return err
		}
		defer inst.Close()
		got, err = inst.Call([]string{"run"}, uint32(10))
		return err
	})
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if got != uint32(46) {
		t.Fatalf("run(10) = %v, want 46", got)
	}
}

// A component calling its own export from inside it traps: an instance
// is not re-entered (before, the call recursed until Go ran out of stack
// and the process died).
func TestReentranceTraps(t *testing.T) {
	comp := compileFixture(t, "rt-reenter")
	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := host.New(w, host.Options{})
	var callErr error
	var trapped *host.Trap
	w.Go("guest", func(*sim.Task) error {
		inst, err := comp.Instantiate(h, component.Config{Name: "reenter"})
		if err != nil {
			return err
		}
		defer inst.Close()
		_, callErr = inst.Call([]string{"run"}, uint32(1))
		trapped = inst.Host().Trapped()
		return nil
	})
	w.Run()
	var tr *host.Trap
	if !errors.As(callErr, &tr) || trapped == nil || !strings.Contains(callErr.Error(), "re-enters") {
		t.Fatalf("call: %v (trapped %v), want a trap saying the instance is re-entered", callErr, trapped)
	}
}
