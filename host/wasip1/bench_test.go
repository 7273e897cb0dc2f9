package wasip1_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(t.TempDir(), "files.wasm")
	if err := os.WriteFile(mod, guest(t, "files"), 0o644); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	var out, errb bytes.Buffer
	code := wasip1.RunCLI([]string{"run", "--dir", dir + "::/", "--seed", "9", "--trace", trace, "--dir-write-back", mod}, nil, &out, &errb)
	if code != 0 || !strings.HasSuffix(out.String(), "done\n") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	tree := hostTree(t, dir)
	if tree["keep.txt"] != "file:kept" || tree["work/t.txt"] != "file:0123" || tree["work/sub/c1"] != "file:c1c1" {
		t.Errorf("written-back tree:\n%s", treeString(tree))
	}
	tr, err := sim.ReadTraceFile(trace)
	if err != nil || len(tr.Events) == 0 {
		t.Fatalf("trace: %v", err)
	}
	// Exit codes and usage errors.
	hello := filepath.Join(t.TempDir(), "hello.wasm")
	os.WriteFile(hello, guest(t, "hello"), 0o644)
	out.Reset()
	if code := wasip1.RunCLI([]string{"--env", "EXIT=5", "--env", "GREETING=yo", hello, "x"}, strings.NewReader("in"), &out, &errb); code != 5 {
		t.Errorf("exit code %d, want 5", code)
	}
	if !strings.Contains(out.String(), "arg x\nenv GREETING = yo\nstdin \"in\"") {
		t.Errorf("stdout %q", out.String())
	}
	if code := wasip1.RunCLI([]string{"--bogus", hello}, nil, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := wasip1.RunCLI([]string{"run"}, nil, &out, &errb); code != 2 {
		t.Errorf("no module: exit %d", code)
	}
	o, err := wasip1.ParseCLI([]string{"run", "--dir", "a", "--dir", "b::/x", "--listen", ":8080", "m.wasm", "--not-a-flag"})
	if err != nil || len(o.Dirs) != 2 || o.Dirs[0] != (wasip1.DirMap{Host: "a", Guest: "a"}) || o.Dirs[1].Guest != "/x" || o.Args[0] != "--not-a-flag" || o.Listen[0] != ":8080" {
		t.Errorf("ParseCLI: %+v %v", o, err)
	}
}
