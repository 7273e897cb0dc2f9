package component_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/internal/leb128"
	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
)

// liftRun wraps a core module exporting "run" (no parameters, no result)
// in a component that lifts it as its export "run".
func liftRun(core []byte) []byte {
	sec := func(id byte, body ...byte) []byte {
		return append([]byte{id, byte(len(body))}, body...)
	}
	c := []byte("\x00asm\x0d\x00\x01\x00")
	c = append(c, 0x01) // core module section
	c = append(c, uleb(len(core))...)
	c = append(c, core...)
	c = append(c, sec(0x02, 1, 0x00, 0x00, 0x00)...)                         // core instance 0: instantiate module 0
	c = append(c, sec(0x06, 1, 0x00, 0x00, 0x01, 0x00, 3, 'r', 'u', 'n')...) // alias core func: export "run" of core instance 0
	c = append(c, sec(0x07, 1, 0x40, 0x00, 0x01, 0x00)...)                   // type 0: func()
	c = append(c, sec(0x08, 1, 0x00, 0x00, 0x00, 0x00, 0x00)...)             // canon lift core func 0, no options, type 0
	c = append(c, sec(0x0b, 1, 0x00, 3, 'r', 'u', 'n', 0x01, 0x00, 0x00)...)
	return c
}

func uleb(n int) []byte { return leb128.AppendUint(nil, uint64(n)) }

// loopComponent is a component whose run never returns.
func loopComponent() []byte {
	return liftRun(wasitest.Module(nil, -1, []wasitest.Func{{Export: "run", Body: []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}}}, nil))
}

// callRun instantiates comp in a fresh world and calls its run.
func callRun(t *testing.T, comp *component.Component) (*host.Trap, error) {
	t.Helper()
	w := sim.MustNew(sim.Config{Seed: 1})
	h, err := host.New(w, host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var callErr error
	var trapped *host.Trap
	w.Go("guest", func(*sim.Task) error {
		inst, err := comp.Instantiate(h, component.Config{Name: "loop"})
		if err != nil {
			return err
		}
		defer inst.Close()
		_, callErr = inst.Call([]string{"run"})
		trapped = inst.Host().Trapped()
		if stopped := inst.Stopped(); (stopped == nil) != (callErr == nil) {
			t.Errorf("Stopped() = %v for the call's %v", stopped, callErr)
		}
		return nil
	})
	if res := w.Run(); res.Err != nil {
		t.Fatal(res.Err)
	}
	return trapped, callErr
}

// A component that computes forever runs out of fuel: the call fails
// with ErrOutOfFuel and the instance traps, as for any trap.
func TestFuelEndsAComponentLoop(t *testing.T) {
	eng := component.NewEngine(component.EngineConfig{Fuel: 10_000})
	defer eng.Close()
	comp, err := eng.Compile(loopComponent())
	if err != nil {
		t.Fatal(err)
	}
	trapped, err := callRun(t, comp)
	if !errors.Is(err, component.ErrOutOfFuel) || trapped == nil {
		t.Fatalf("call: %v, trapped %v", err, trapped)
	}
	var tr *host.Trap
	if !errors.As(err, &tr) {
		t.Fatalf("not a trap: %v", err)
	}
}

// A done context stops it, with the context's cause.
func TestContextStopsAComponent(t *testing.T) {
	cause := errors.New("stopped by the test")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	eng := component.NewEngine(component.EngineConfig{Context: ctx})
	defer eng.Close()
	comp, err := eng.Compile(loopComponent())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := callRun(t, comp); !errors.Is(err, cause) {
		t.Fatalf("call: %v", err)
	}
}
