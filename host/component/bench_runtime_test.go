package component_test

import (
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/host/wasip3"
	"github.com/wasisim/wasisim/sim"
)

// benchLinker is the WASI 0.3 linker plus test:bench/api nop, which
// returns its argument.
func benchLinker() *component.Linker {
	l := wasip3.NewLinker(wasip3.Config{})
	l.Func("test:bench/api", "nop", component.HostFunc{Call: func(_ *component.Call, a []component.Value) (component.Value, error) {
		return a[0], nil
	}})
	return l
}

// BenchmarkHostCall is the cost of one host call, one op per call:
//
//   - lowered/nop: a wasm loop calling a test host function bound with a
//     Linker (u32 -> u32): the floor of a lowered call (lower, lift, the
//     HostFunc);
//   - lowered/get-type, lowered/get-type-async: the same loop calling
//     wasi:filesystem's [method]descriptor.get-type through the real
//     wasip3 linker, lowered sync and async (a borrow of the descriptor,
//     a result<descriptor-type, error-code> stored to memory);
//   - go/get-type: a Go task calling host.Instance.GetType on a preopen,
//     what the lowered call ends in;
//   - go/yield: a Go task calling World.Yield, the scheduling point that
//     every get-type contains.
//
// The loops run in one instance inside one world run (instantiation is
// before the timer).
func BenchmarkHostCall(b *testing.B) {
	comp := compileFixture(b, "bench-call")
	for _, export := range []string{"nop", "get-type", "get-type-async"} {
		b.Run("lowered/"+export, func(b *testing.B) {
			name := export + "-loop"
			if export == "get-type-async" {
				name = export
			}
			w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 4*int64(b.N) + 1000})
			h, err := host.New(w, host.Options{})
			if err != nil {
				b.Fatal(err)
			}
			var got component.Value
			w.Go("guest", func(*sim.Task) error {
				inst, err := comp.Instantiate(h, component.Config{Name: "bench", Linker: benchLinker()})
				if err != nil {
					return err
				}
				defer inst.Close()
				b.ResetTimer()
				got, err = inst.Call([]string{name}, uint32(b.N))
				b.StopTimer()
				return err
			})
			if err := w.Run().Error(); err != nil {
				b.Fatal(err)
			}
			want := uint32(b.N)
			if export == "nop" {
				want = uint32(uint64(b.N) * uint64(b.N-1) / 2)
			}
			if got != want {
				b.Fatalf("%s(%d) returned %v, want %d", name, b.N, got, want)
			}
		})
	}
	b.Run("go/get-type", func(b *testing.B) {
		w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 4*int64(b.N) + 1000})
		h, err := host.New(w, host.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w.Go("guest", func(*sim.Task) error {
			in := h.NewInstance("go")
			pre, err := in.Preopens()
			if err != nil {
				return err
			}
			fd := pre[0].Handle
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := in.GetType(fd); err != nil {
					return err
				}
			}
			b.StopTimer()
			return in.DropAll()
		})
		if err := w.Run().Error(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("go/yield", func(b *testing.B) {
		w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 4*int64(b.N) + 1000})
		w.Go("guest", func(*sim.Task) error {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Yield()
			}
			b.StopTimer()
			return nil
		})
		if err := w.Run().Error(); err != nil {
			b.Fatal(err)
		}
	})
}
