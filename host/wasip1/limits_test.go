package wasip1_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
)

// spawn runs one guest on eng in a fresh traced world and returns it, the
// result and the trace.
func spawn(t *testing.T, eng *wasip1.Engine, cfg wasip1.Config) (*wasip1.Guest, *sim.Result, *sim.Trace) {
	t.Helper()
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	cfg.Engine = eng
	if cfg.Name == "" {
		cfg.Name = "guest"
	}
	g, err := wasip1.Spawn(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := w.Run()
	return g, res, w.Trace()
}

func engine(t *testing.T, cfg wasip1.EngineConfig) *wasip1.Engine {
	t.Helper()
	e, err := wasip1.NewEngineWithConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// A guest that loops forever runs out of fuel, at the same point in
// every run, and its error says so.
func TestFuelEndsALoop(t *testing.T) {
	eng := engine(t, wasip1.EngineConfig{Fuel: 100_000})
	var traces []string
	for range 2 {
		g, _, tr := spawn(t, eng, wasip1.Config{Module: wasitest.Loop()})
		if !errors.Is(g.Err(), wasip1.ErrOutOfFuel) || g.ExitCode() != wasip1.TrapExitCode {
			t.Fatalf("err %v, exit %d", g.Err(), g.ExitCode())
		}
		traces = append(traces, string(tr.Bytes()))
	}
	if traces[0] != traces[1] {
		t.Fatal("two runs out of fuel wrote different traces")
	}
	// A Go program runs as without fuel, given enough.
	g, res, _ := spawn(t, engine(t, wasip1.EngineConfig{Fuel: 1 << 40}), wasip1.Config{Module: guest(t, "hello"), Args: []string{"x"}})
	if g.Err() != nil || res.Failed() || !strings.Contains(string(g.Stdout()), "arg x") {
		t.Fatalf("hello with fuel: %v %v %q", g.Err(), res.Error(), g.Stdout())
	}
}

// A done context stops a guest computing forever, with its cause.
func TestContextStopsALoop(t *testing.T) {
	cause := errors.New("interrupted by the test")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	eng := engine(t, wasip1.EngineConfig{Context: ctx})
	g, _, _ := spawn(t, eng, wasip1.Config{Module: wasitest.Loop()})
	if !errors.Is(g.Err(), cause) {
		t.Fatalf("err %v", g.Err())
	}
}

// growToLimit grows its memory a page at a time until it cannot, then
// exits with its size in pages.
func growToLimit() []byte {
	procExit := wasitest.Import{Module: "wasi_snapshot_preview1", Name: "proc_exit", Params: []byte{wasitest.I32}}
	body := []byte{
		0x03, 0x40, // loop
		0x41, 0x01, 0x40, 0x00, // memory.grow 1
		0x41, 0x7f, 0x46, // == -1
		0x04, 0x40, 0x3f, 0x00, 0x10, 0x00, 0x0b, // if: call proc_exit(memory.size)
		0x0c, 0x00, 0x0b, // br 0; end
	}
	return wasitest.Module([]wasitest.Import{procExit}, 1, []wasitest.Func{{Export: "_start", Body: body}}, nil)
}

// Linear memory stops growing at the limit: memory.grow fails there.
func TestMemoryLimit(t *testing.T) {
	g, _, _ := spawn(t, engine(t, wasip1.EngineConfig{MemoryLimitPages: 16}), wasip1.Config{Module: growToLimit()})
	if g.Err() != nil || g.ExitCode() != 16 {
		t.Fatalf("err %v, exit code %d (pages), want 16", g.Err(), g.ExitCode())
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

// Output goes to the writers as it is written and is not kept.
func TestStdoutStreamed(t *testing.T) {
	var out countingWriter
	eng := engine(t, wasip1.EngineConfig{Fuel: 100})
	g, _, _ := spawn(t, eng, wasip1.Config{Module: wasitest.WriteLoop(), Stdout: &out})
	if !errors.Is(g.Err(), wasip1.ErrOutOfFuel) || out.n < 20*64<<10 || len(g.Stdout()) != 0 {
		t.Fatalf("err %v, %d bytes written, %d kept", g.Err(), out.n, len(g.Stdout()))
	}
	// A write that fails is EPIPE for the guest.
	g, _, _ = spawn(t, engine(t, wasip1.EngineConfig{}), wasip1.Config{Module: writeOnce(), Stdout: failingWriter{}})
	if g.ExitCode() != uint32(wasip1.EPIPE) {
		t.Fatalf("a guest whose stdout fails got errno %d, want EPIPE", g.ExitCode())
	}
}

// writeOnce writes 3 bytes to stdout and exits with fd_write's errno.
func writeOnce() []byte {
	i32 := wasitest.I32
	imps := []wasitest.Import{
		{Module: "wasi_snapshot_preview1", Name: "fd_write", Params: []byte{i32, i32, i32, i32}, Results: []byte{i32}},
		{Module: "wasi_snapshot_preview1", Name: "proc_exit", Params: []byte{i32}},
	}
	body := []byte{0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, 0x10, 0x00, 0x10, 0x01}
	iov := []byte{16, 0, 0, 0, 3, 0, 0, 0}
	return wasitest.Module(imps, 1, []wasitest.Func{{Export: "_start", Body: body}}, []wasitest.Data{{Offset: 0, Bytes: iov}, {Offset: 16, Bytes: []byte("abc")}})
}

// panicReader fails the test if it is read.
type panicReader struct{ t *testing.T }

func (r panicReader) Read([]byte) (int, error) {
	r.t.Error("stdin was read by a guest that does not read it")
	return 0, io.EOF
}

// chunks yields its chunks one read at a time, then EOF.
type chunks struct {
	parts []string
	reads int
}

func (c *chunks) Read(p []byte) (int, error) {
	c.reads++
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts = c.parts[1:]
	return n, nil
}

// Stdin is read when the guest reads it, not before: a guest that never
// reads never waits for it; what was read is in the trace, and replay
// needs no reader.
func TestStdinReadLazily(t *testing.T) {
	eng := engine(t, wasip1.EngineConfig{})
	g, res, _ := spawn(t, eng, wasip1.Config{Module: wasitest.Start(), StdinReader: panicReader{t}})
	if g.Err() != nil || res.Failed() {
		t.Fatalf("%v %v", g.Err(), res.Error())
	}
	in := &chunks{parts: []string{"ab", "cd"}}
	cfg := wasip1.Config{Name: "guest", Module: guest(t, "hello"), StdinReader: in, Engine: eng}
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	g, err := wasip1.Spawn(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := w.Run(); res.Failed() || !strings.Contains(string(g.Stdout()), `stdin "abcd"`) || in.reads != 3 {
		t.Fatalf("%v: stdout %q after %d reads", res.Error(), g.Stdout(), in.reads)
	}
	tr := w.Trace()
	cfg.StdinReader = panicReader{t}
	var again *wasip1.Guest
	rres, got, err := sim.Replay(tr, sim.Config{}, nil, func(w *sim.World) error {
		again, err = wasip1.Spawn(w, cfg)
		return err
	})
	if err != nil || rres.Divergence != nil || string(got.Bytes()) != string(tr.Bytes()) || !strings.Contains(string(again.Stdout()), `stdin "abcd"`) {
		t.Fatalf("replay: %v %v %q", err, rres.Divergence, again.Stdout())
	}
}

// A guest the run ends while it waits says in which call it waited.
func TestUnwoundSaysWhere(t *testing.T) {
	eng := engine(t, wasip1.EngineConfig{})
	w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 5})
	g, err := wasip1.Spawn(w, wasip1.Config{Name: "guest", Module: guest(t, "hello"), Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	if res := w.Run(); !errors.Is(res.Err, sim.ErrStepLimit) {
		t.Fatalf("run: %v", res.Err)
	}
	var ue *wasip1.UnwoundError
	if !errors.As(g.Err(), &ue) || ue.Call == "" || strings.Contains(g.Err().Error(), "{}") {
		t.Fatalf("err %v", g.Err())
	}
}

// A module importing what the host does not provide is refused by Spawn,
// before it runs.
func TestSpawnChecksImports(t *testing.T) {
	for name, imp := range map[string]wasitest.Import{
		"unknown module": {Module: "env", Name: "f"},
		"unknown call":   {Module: "wasi_snapshot_preview1", Name: "no_such_call"},
		"bad signature":  {Module: "wasi_snapshot_preview1", Name: "proc_exit", Params: []byte{wasitest.I64}},
	} {
		mod := wasitest.Module([]wasitest.Import{imp}, 1, []wasitest.Func{{Export: "_start"}}, nil)
		w := sim.MustNew(sim.Config{})
		if _, err := wasip1.Spawn(w, wasip1.Config{Module: mod}); err == nil || !strings.Contains(err.Error(), imp.Name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
