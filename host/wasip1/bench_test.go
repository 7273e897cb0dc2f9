package wasip1_test

import (
	"testing"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// BenchmarkManyFiles runs the file-heavy guest (1,000 files created,
// written, read back, listed, removed) on wasisim and on wazero's own WASI
// over a temp dir, in the same run. Compilation is cached in both.
func BenchmarkManyFiles(b *testing.B) {
	wasm := guest(b, "manyfiles")
	const want = "files 1000 bytes 256000 listed 1000\n"
	b.Run("wasisim", func(b *testing.B) {
		calls := uint64(0)
		for i := 0; i < b.N; i++ {
			w := sim.MustNew(sim.Config{Seed: uint64(i)})
			fsys := vfs.New(vfs.Options{World: w})
			g, err := wasip1.Spawn(w, wasip1.Config{Name: "bench", Module: wasm, FS: fsys, Dirs: []wasip1.Preopen{{GuestPath: "/"}}})
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Run().Error(); err != nil {
				b.Fatal(err)
			}
			if string(g.Stdout()) != want {
				b.Fatalf("stdout %q", g.Stdout())
			}
			calls += g.Calls()
		}
		b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	})
	b.Run("wazero", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			out, code := runWazero(b, wasm, dir)
			if out != want || code != 0 {
				b.Fatalf("wazero: %q %d", out, code)
			}
		}
	})
}

// BenchmarkHostCall measures one host call (clock_time_get) including its
// scheduling point: the guest loops b.N times.
func BenchmarkHostCall(b *testing.B) {
	// (func $start (local i32)
	//   (loop (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 0)))
	//         (local.set 0 (i32.add (local.get 0) (i32.const 1)))
	//         (br_if 0 (i32.lt_u (local.get 0) (i32.const N)))))
	loop := func(n int32) []byte {
		body := []byte{0x03, 0x40}
		body = append(body, i32c(1)...)
		body = append(body, 0x42, 0x00)
		body = append(body, i32c(0)...)
		body = append(body, call(0)...)
		body = append(body, 0x1a, 0x20, 0x00)
		body = append(body, i32c(1)...)
		body = append(body, 0x6a, 0x21, 0x00, 0x20, 0x00)
		body = append(body, i32c(n)...)
		body = append(body, 0x49, 0x0d, 0x00, 0x0b)
		return (&wmod{
			types:   [][2][]byte{{{tI32, 0x7e, tI32}, {tI32}}, {nil, nil}},
			imports: [][3]any{{"wasi_snapshot_preview1", "clock_time_get", 0}},
			funcs:   []wfunc{{typ: 1, nloc: 1, locals: []byte{1, tI32}, body: body}},
			exports: [][3]any{{"_start", 0, 1}, {"memory", 2, 0}},
			memory:  true,
		}).bytes()
	}
	wasm := loop(int32(b.N))
	w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: int64(b.N) + 100})
	g, err := wasip1.Spawn(w, wasip1.Config{Name: "loop", Module: wasm})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := w.Run().Error(); err != nil {
		b.Fatal(err)
	}
	if g.Calls() != uint64(b.N) || g.Err() != nil {
		b.Fatalf("%d calls, err %v", g.Calls(), g.Err())
	}
}
