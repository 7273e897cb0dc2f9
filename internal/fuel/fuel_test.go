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
	out     string
	code    uint32
	spent   uint64 // fuel spent
	stopped error  // the meter's cause, if it stopped the guest
	err     error
}

// run instruments a module and runs its _start on wazero's own WASI with
// a meter of budget.
func run(t *testing.T, wasm []byte, budget uint64, args ...string) result {
	t.Helper()
	m, err := fuel.Instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return runMetered(t, m, fuel.NewMeter(budget, nil), args...)
}

func runMetered(t *testing.T, wasm []byte, meter *fuel.Meter, args ...string) result {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	if err := meter.Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
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
	return result{out.String(), code, meter.Spent(m), fuel.StopCause(err), err}
}

// A loop that never ends stops once its budget is spent, and the stop is
// told apart from the guest's own trap.
func TestLoopRunsOutOfFuel(t *testing.T) {
	for _, budget := range []uint64{1, 1000, 100_000, 3 * fuel.Slice / 2} {
		r := run(t, wasitest.Loop(), budget)
		if !errors.Is(r.err, fuel.ErrExhausted) || r.stopped != fuel.ErrExhausted || r.spent != budget {
			t.Fatalf("budget %d: %+v", budget, r)
		}
	}
	// The guest's own unreachable is not a stop.
	if r := run(t, wasitest.Start(0x00), 10); r.err == nil || r.stopped != nil || r.spent != 1 {
		t.Fatalf("unreachable: %+v", r)
	}
}

// A done context stops a guest computing forever, however much fuel it
// has, with the context's cause.
func TestContextStopsALoop(t *testing.T) {
	cause := errors.New("stopped by the test")
	ctx, cancel := context.WithCancelCause(context.Background())
	m, err := fuel.Instrument(wasitest.Loop())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan result)
	go func() { done <- runMetered(t, m, fuel.NewMeter(0, ctx)) }()
	cancel(cause)
	if r := <-done; r.stopped != cause {
		t.Fatalf("%+v", r)
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
	// 1 entry of _start, 3 entries of f, 3×4 loop iterations.
	if r := run(t, wasitest.Module(nil, 1, []wasitest.Func{start, f}, nil), 100); r.err != nil || r.spent != 1+3+12 {
		t.Fatalf("%+v, want 16 spent", r)
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
	// 2 entries, memory.fill 1+64, memory.grow 1024+2×64.
	if r := run(t, wasitest.Module(nil, 1, []wasitest.Func{start, f}, nil), 10_000); r.err != nil || r.spent != 2+65+1152 {
		t.Fatalf("%+v, want %d spent", r, 2+65+1152)
	}
	// A loop of failing memory.grow ends.
	if r := run(t, wasitest.GrowLoop(), 1_000_000); r.stopped != fuel.ErrExhausted {
		t.Fatalf("grow loop: %+v", r)
	}
}

// An instrumented program does what the original does, and what it
// spends is the same in every run.
func TestGoGuestUnchanged(t *testing.T) {
	wasm := wasitest.Guest(t, "hello")
	want := runMetered(t, wasm, fuel.NewMeter(0, nil), "a", "b")
	if want.err != nil {
		t.Fatal(want.err)
	}
	got := run(t, wasm, 0, "a", "b")
	if got.err != nil || got.out != want.out || got.code != want.code {
		t.Fatalf("instrumented: %+v, want %+v", got, want)
	}
	if again := run(t, wasm, 0, "a", "b"); again.spent != got.spent {
		t.Fatalf("fuel spent differs between runs: %d, %d", got.spent, again.spent)
	}
	t.Logf("hello spent %d units", got.spent)
	// Just enough fuel passes; one unit less stops it.
	for _, b := range []uint64{got.spent, got.spent - 1} {
		r := run(t, wasm, b, "a", "b")
		if (b == got.spent) != (r.err == nil) || (b < got.spent) != (r.stopped == fuel.ErrExhausted) {
			t.Fatalf("budget %d of %d: %+v", b, got.spent, r)
		}
	}
}

// Every module the tests ship is instrumented into a valid module.
func TestShippedModulesInstrument(t *testing.T) {
	for _, name := range []string{"hello", "files", "echoserver", "echoclient", "sleeper", "manyfiles", "p1conformance"} {
		m, err := fuel.Instrument(wasitest.Guest(t, name))
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
		if _, err := fuel.Instrument(b); err == nil {
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
		m, err := fuel.Instrument(b)
		if err != nil {
			return
		}
		ctx := context.Background()
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		if err := fuel.NewMeter(5, nil).Instantiate(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CompileModule(ctx, b); err != nil {
			return
		}
		if _, err := r.CompileModule(ctx, m); err != nil {
			t.Fatalf("the original compiles, the instrumented one does not: %v", err)
		}
	})
}

// Function indexes move up past the tick everywhere a module names a
// function: a direct call, tables filled by element segments, ref.func in
// a global, the start function, exports and names. The module computes
// 42 (f through the table) + 7 (the import through the table) + 42 (f
// called directly) + 1 (set by the start function) = 92.
func TestIndexesShift(t *testing.T) {
	sec := func(id byte, parts ...[]byte) []byte {
		var body []byte
		for _, p := range parts {
			body = append(body, p...)
		}
		return append(append([]byte{id}, leb(len(body))...), body...)
	}
	str := func(s string) []byte { return append(leb(len(s)), s...) }
	b := func(x ...byte) []byte { return x }
	mod := []byte("\x00asm\x01\x00\x00\x00")
	mod = append(mod, sec(1, b(2), b(0x60, 0, 0), b(0x60, 0, 1, 0x7f))...)               // types: ()->(), ()->i32
	mod = append(mod, sec(2, b(1), str("env"), str("seven"), b(0x00, 1))...)             // import func 0: seven
	mod = append(mod, sec(3, b(3, 1, 0, 0))...)                                          // f=1 ()->i32, _start=2, init=3
	mod = append(mod, sec(4, b(1, 0x70, 0x00, 2))...)                                    // table: funcref, 2
	mod = append(mod, sec(6, b(3), b(0x7f, 1, 0x41, 0, 0x0b), b(0x7f, 1, 0x41, 0, 0x0b), // globals: result, started,
		b(0x70, 0, 0xd2, 1, 0x0b))...) // a funcref: ref.func f
	mod = append(mod, sec(7, b(2), str("_start"), b(0, 2), str("result"), b(3, 0))...)
	mod = append(mod, sec(8, b(3))...)                            // start: init
	mod = append(mod, sec(9, b(1, 0, 0x41, 0, 0x0b, 2, 1, 0))...) // elem: table[0] = f, table[1] = seven
	fn := func(body ...byte) []byte {
		return append(leb(len(body)+2), append(append([]byte{0}, body...), 0x0b)...)
	}
	mod = append(mod, sec(10, b(3),
		fn(0x41, 42),
		fn(0x41, 0, 0x11, 1, 0, 0x41, 1, 0x11, 1, 0, 0x6a, 0x10, 1, 0x6a, 0x23, 1, 0x6a, 0x23, 2, 0xd1, 0x1a, 0x24, 0),
		fn(0x41, 1, 0x24, 1))...)
	mod = append(mod, sec(0, str("name"), b(1), leb(len(append(b(3, 1), str("f")...))+len(str("_start"))+1+len(str("init"))+1),
		b(3, 1), str("f"), b(2), str("_start"), b(3), str("init"))...)

	for _, wasm := range [][]byte{mod} {
		m, err := fuel.Instrument(wasm)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		_, err = r.NewHostModuleBuilder("env").NewFunctionBuilder().
			WithFunc(func() int32 { return 7 }).Export("seven").Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		meter := fuel.NewMeter(1000, nil)
		if err := meter.Instantiate(ctx, r); err != nil {
			t.Fatal(err)
		}
		inst, err := r.InstantiateWithConfig(ctx, m, wazero.NewModuleConfig().WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.ExportedFunction("_start").Call(ctx); err != nil {
			t.Fatal(err)
		}
		if got := int32(inst.ExportedGlobal("result").Get()); got != 92 {
			t.Fatalf("result %d, want 92", got)
		}
		if spent := meter.Spent(inst); spent != 4 {
			t.Fatalf("spent %d, want 4 (init, _start, f twice)", spent)
		}
		if name := inst.ExportedFunction("_start").Definition().Name(); name != "_start" {
			t.Fatalf("the name section names _start %q", name)
		}
	}
}

func leb(n int) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
