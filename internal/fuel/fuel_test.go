package fuel_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasisim/wasisim/internal/fuel"
	"github.com/wasisim/wasisim/internal/wasitest"
)

var cache wazero.CompilationCache

func TestMain(m *testing.M) {
	cache = wazero.NewCompilationCache()
	if dir := wasitest.UseCompilationCache(); dir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			cache = c
		}
	}
	os.Exit(m.Run())
}

// result is how a run ended.
type result struct {
	out       string
	code      uint32
	left      uint64 // fuel left
	exhausted bool
	err       error
}

// run runs a module's _start on wazero's own WASI.
func run(t *testing.T, wasm []byte, args ...string) result {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var out bytes.Buffer
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStdout(&out).WithStderr(&out).
		WithArgs(append([]string{"guest"}, args...)...).WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	_, err = m.ExportedFunction("_start").Call(ctx)
	code := uint32(0)
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		code, err = exit.ExitCode(), nil
	}
	return result{out.String(), code, fuel.Remaining(m), fuel.Exhausted(m), err}
}

// A loop that never ends traps once its budget is spent, and the trap is
// told apart from the guest's own.
func TestLoopRunsOutOfFuel(t *testing.T) {
	for _, budget := range []uint64{0, 1, 1000, 100_000} {
		m, err := fuel.Instrument(wasitest.Loop(), budget)
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, m)
		if r.err == nil || !r.exhausted || r.left != 0 {
			t.Fatalf("budget %d: %+v", budget, r)
		}
	}
	// The guest's own unreachable is not a fuel trap.
	m, err := fuel.Instrument(wasitest.Start(0x00), 10)
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, m); r.err == nil || r.exhausted || r.left != 9 {
		t.Fatalf("unreachable: %+v", r)
	}
}

// Fuel counts function entries and loop iterations, exactly.
func TestFuelCounts(t *testing.T) {
	// _start calls f 3 times; f loops 4 times (local counter).
	f := wasitest.Func{Locals: []byte{wasitest.I32}, Body: []byte{
		0x03, 0x40, // loop
		0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, // local.get 0; i32.const 1; i32.add; local.tee 0
		0x41, 0x04, 0x48, 0x0d, 0x00, // i32.const 4; i32.lt_s; br_if 0
		0x0b,
	}}
	start := wasitest.Func{Export: "_start", Body: []byte{0x10, 0x01, 0x10, 0x01, 0x10, 0x01}}
	m, err := fuel.Instrument(wasitest.Module(nil, 1, []wasitest.Func{start, f}, nil), 100)
	if err != nil {
		t.Fatal(err)
	}
	// 1 entry of _start, 3 entries of f, 3×4 loop iterations.
	if r := run(t, m); r.err != nil || r.left != 100-1-3-12 {
		t.Fatalf("%+v, want %d left", r, 100-16)
	}
}

// Instructions that work by size pay by size: memory.fill per KiB,
// memory.grow 1024 units and 64 per page.
func TestSizedInstructionsPay(t *testing.T) {
	// A parameter and a local of its own, so the size local comes third.
	f := wasitest.Func{Params: []byte{wasitest.I32}, Locals: []byte{wasitest.I32}, Body: []byte{
		0x41, 0x00, 0x41, 0x07, 0x41, 0x80, 0x80, 0x04, 0xfc, 0x0b, 0x00, // memory.fill(0, 7, 65536)
		0x41, 0x02, 0x40, 0x00, 0x1a, // drop(memory.grow(2))
		0x20, 0x00, 0x21, 0x01, // local.set 1 (local.get 0): the function's own locals still work
	}}
	start := wasitest.Func{Export: "_start", Body: []byte{0x41, 0x05, 0x10, 0x01}}
	m, err := fuel.Instrument(wasitest.Module(nil, 1, []wasitest.Func{start, f}, nil), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	// 2 entries, memory.fill 1+64, memory.grow 1024+2×64.
	if r := run(t, m); r.err != nil || r.left != 10_000-2-65-1152 {
		t.Fatalf("%+v, want %d left", r, 10_000-2-65-1152)
	}
	// A loop of failing memory.grow ends.
	m, err = fuel.Instrument(wasitest.GrowLoop(), 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, m); !r.exhausted {
		t.Fatalf("grow loop: %+v", r)
	}
}

// An instrumented program does what the original does, and what it
// spends is the same in every run.
func TestGoGuestUnchanged(t *testing.T) {
	wasm := wasitest.Guest(t, "hello")
	want := run(t, wasm, "a", "b")
	if want.err != nil {
		t.Fatal(want.err)
	}
	m, err := fuel.Instrument(wasm, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, m, "a", "b")
	if got.err != nil || got.out != want.out || got.code != want.code {
		t.Fatalf("instrumented: %+v, want %+v", got, want)
	}
	if again := run(t, m, "a", "b"); again.left != got.left {
		t.Fatalf("fuel left differs between runs: %d, %d", got.left, again.left)
	}
	spent := 1<<40 - got.left
	t.Logf("hello spent %d units", spent)
	// Just enough fuel passes; one unit less traps.
	for _, b := range []uint64{spent, spent - 1} {
		m, _ := fuel.Instrument(wasm, b)
		r := run(t, m, "a", "b")
		if (b == spent) != (r.err == nil) || (b < spent) != r.exhausted {
			t.Fatalf("budget %d of %d: %+v", b, spent, r)
		}
	}
}

// Every module the tests ship is instrumented into a valid module.
func TestShippedModulesInstrument(t *testing.T) {
	for _, name := range []string{"hello", "files", "echoserver", "echoclient", "sleeper", "manyfiles", "p1conformance"} {
		m, err := fuel.Instrument(wasitest.Guest(t, name), 1000)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ctx := context.Background()
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
		if _, err := r.CompileModule(ctx, m); err != nil {
			t.Errorf("%s instrumented does not compile: %v", name, err)
		}
		r.Close(ctx)
	}
}

// Malformed and unsupported input is an error, never a panic.
func TestBadModules(t *testing.T) {
	good := wasitest.Loop()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not wasm":  []byte("hello world"),
		"version 2": append([]byte("\x00asm\x02\x00\x00\x00"), good[8:]...),
		"truncated": good[:len(good)-3],
		"try":       wasitest.Start(0x06, 0x40, 0x0b),
		"no end":    wasitest.Start(0x02, 0x40),
	} {
		if _, err := fuel.Instrument(b, 10); err == nil {
			t.Errorf("%s: instrumented", name)
		}
	}
}

// FuzzInstrument: whatever the input, Instrument returns an error or a
// module; a module wazero compiles stays one it compiles.
func FuzzInstrument(f *testing.F) {
	f.Add(wasitest.Loop())
	f.Add(wasitest.GrowLoop())
	f.Add(wasitest.WriteLoop())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := fuel.Instrument(b, 5)
		if err != nil {
			return
		}
		ctx := context.Background()
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		if _, err := r.CompileModule(ctx, b); err != nil {
			return
		}
		if _, err := r.CompileModule(ctx, m); err != nil {
			t.Fatalf("the original compiles, the instrumented one does not: %v", err)
		}
	})
}
