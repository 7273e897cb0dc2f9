package fuel_test

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/internal/fuel"
	"github.com/wasisim/wasisim/internal/wasitest"
)

// countTo is a module whose _start counts a local to 10 million in a loop
// that also calls a small function each iteration.
func countTo() []byte {
	inc := wasitest.Func{Params: []byte{wasitest.I32}, Results: []byte{wasitest.I32}, Body: []byte{0x20, 0x00, 0x41, 0x01, 0x6a}}
	start := wasitest.Func{Export: "_start", Locals: []byte{wasitest.I32}, Body: []byte{
		0x03, 0x40, // loop
		0x20, 0x00, 0x10, 0x01, 0x22, 0x00, // local.get 0; call inc; local.tee 0
		0x41, 0x80, 0xad, 0xe2, 0x04, 0x48, 0x0d, 0x00, // i32.const 10000000; i32.lt_s; br_if 0
		0x0b,
	}}
	return wasitest.Module(nil, 1, []wasitest.Func{start, inc}, nil)
}

// BenchmarkLoop measures what metering costs a tight loop with a call:
// 10 million iterations, 20 million units.
func BenchmarkLoop(b *testing.B) {
	for _, metered := range []bool{false, true} {
		name := "plain"
		wasm := countTo()
		if metered {
			name = "metered"
			wasm, _ = fuel.Instrument(wasm)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			r := wazero.NewRuntime(ctx)
			defer r.Close(ctx)
			fuel.NewMeter(0, nil).Instantiate(ctx, r)
			cm, err := r.CompileModule(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.ExportedFunction("_start").Call(ctx); err != nil {
					b.Fatal(err)
				}
				m.Close(ctx)
			}
		})
	}
}

// BenchmarkInstrument measures the rewrite of a Go program (2.6 MB).
func BenchmarkInstrument(b *testing.B) {
	wasm := wasitest.Guest(b, "hello")
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := fuel.Instrument(wasm); err != nil {
			b.Fatal(err)
		}
	}
}
