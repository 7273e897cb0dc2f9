package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/wasmrun"
	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

// target is what explore, replay and shrink run under the world: a .wsim
// scenario, or a wasm binary (a WASI 0.3 component or a preview-1
// module) with its mounts and arguments.
type target struct {
	path   string
	script *scenario.Script
	prog   *wasmrun.Program
}

// variant is the scenario's API variant, or the binary's kind.
func (t *target) variant() string {
	if t.script != nil {
		return t.script.Variant.String()
	}
	return t.prog.Spec.Kind
}

// config identifies the target in a trace header.
func (t *target) config() sim.Config {
	if t.script != nil {
		return simConfig(t.path, t.script)
	}
	return t.prog.Config()
}

// scenario builds a world for one run. A binary's runs are checked
// against what its first schedule showed (wasmrun.Program.Explored).
func (t *target) scenario() sim.Scenario {
	if t.script != nil {
		return t.script.Scenario(scenario.Options{})
	}
	return t.prog.Explored()
}

// base names files written for the target.
func (t *target) base() string {
	b := filepath.Base(strings.TrimPrefix(t.path, embeddedPrefix))
	return strings.TrimSuffix(strings.TrimSuffix(b, ".wsim"), ".wasm")
}

// wasmFlags are the flags that describe a wasm run besides its binary.
type wasmFlags struct {
	dirs, env stringList
	stdin     string
	limits    limitFlags
	net       wasmrun.NetFlags
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// register declares the flags; bridging adds the ones that connect a run
// to the machine's network (run has them; explore's runs have no machine
// to talk to).
func (wf *wasmFlags) register(fs *flag.FlagSet, bridging bool) {
	fs.Var(&wf.dirs, "dir", "wasm: HOST[::GUEST] directory copied into the world and preopened (repeatable)")
	fs.Var(&wf.env, "env", "wasm: K=V environment variable of the guest (repeatable; K alone passes the host's K)")
	fs.StringVar(&wf.stdin, "stdin", "", "wasm: FILE the guest's stdin is read from, the same in every run (explore: default empty; run: default wasisim's stdin)")
	wf.limits.register(fs)
	wf.net.Register(fs, bridging)
}

// spec is the wasm run the flags describe.
func (wf *wasmFlags) spec(bin string, guest []string) (wasmrun.Spec, error) {
	l := &wf.limits
	if err := l.check(); err != nil {
		return wasmrun.Spec{}, err
	}
	spec := wasmrun.Spec{Path: bin, Args: guest, MaxSteps: l.maxSteps, Fuel: l.fuel, MemoryPages: l.pages(),
		FSBytes: int64(l.maxFSBytes), FSInodes: l.maxFSNodes}
	for _, d := range wf.dirs {
		h, g, ok := strings.Cut(d, "::")
		if !ok {
			g = h
		}
		if h == "" || g == "" {
			return spec, usagef("--dir %q: want HOST or HOST::GUEST", d)
		}
		spec.Dirs = append(spec.Dirs, wasmrun.DirSpec{Host: h, Guest: g})
	}
	for _, kv := range wf.env {
		if !strings.Contains(kv, "=") {
			kv = kv + "=" + os.Getenv(kv)
		}
		spec.Env = append(spec.Env, kv)
	}
	if err := wf.net.Apply(&spec); err != nil {
		return spec, usagef("%v", err)
	}
	if wf.stdin != "" {
		spec.Stdin = &wasmrun.FileSpec{Path: wf.stdin}
	}
	return spec, nil
}

// splitWasm finds a wasm binary among the arguments: the first operand
// that is one (by its magic number). Flags are the arguments before it;
// the guest's arguments come after it. ok is false when the first
// operand is not a binary.
func splitWasm(fs *flag.FlagSet, args []string) (flags []string, bin string, guest []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := fs.Lookup(name); f != nil {
				if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool || !b.IsBoolFlag() {
					i++
				}
			}
			continue
		}
		if !wasmrun.IsWasm(a) && !missingWasm(a) {
			return nil, "", nil, false
		}
		return args[:i], a, args[i+1:], true
	}
	return nil, "", nil, false
}

// missingWasm reports whether a names a .wasm file that is not there, so
// that the error says the binary is missing rather than treating it as a
// scenario.
func missingWasm(a string) bool {
	_, err := os.Stat(a)
	return strings.HasSuffix(a, ".wasm") && errors.Is(err, os.ErrNotExist)
}

// loadWasm loads a wasm binary with the flags' mounts, environment and
// limits, to explore it.
func loadWasm(bin string, guest []string, wf *wasmFlags) (*target, error) {
	spec, err := wf.spec(bin, guest)
	if err != nil {
		return nil, err
	}
	p, err := wasmrun.Load(spec, wasmrun.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return &target{path: bin, prog: p}, nil
}

// wasmTarget rebuilds the target of a trace recorded from a wasm run;
// ok is false when the trace's configuration is not one. binFlag
// overrides the binary's recorded path; the binary must have the
// recorded hash.
func wasmTarget(h sim.Header, binFlag string) (*target, bool, error) {
	spec, ok, err := wasmrun.ParseSpec(h.Config)
	if !ok || err != nil {
		return nil, ok, err
	}
	recorded := spec.Path
	if binFlag != "" {
		spec.Path = binFlag
	}
	p, err := wasmrun.Load(*spec, wasmrun.LoadOptions{})
	if err != nil {
		return nil, true, fmt.Errorf("%w (the trace was recorded from %s; pass --scenario FILE with the binary if it moved)", err, recorded)
	}
	// The trace names the binary as it was recorded; the content hash is
	// what must match.
	p.Spec.Path = recorded
	return &target{path: spec.Path, prog: p}, true, nil
}

// readTarget reads a trace and rebuilds what it was recorded from (see
// targetFor).
func readTarget(path, pathFlag string) (*sim.Trace, *target, string, error) {
	tr, err := sim.ReadTraceFile(path)
	if err != nil {
		return nil, nil, "", traceError(err)
	}
	t, sp, err := targetFor(tr.Header, pathFlag)
	if err != nil {
		return nil, nil, "", err
	}
	return tr, t, sp, nil
}

// targetFor rebuilds what a trace with header h was recorded from: a
// wasm run (the binary at its recorded path, or pathFlag, with the
// recorded hash), or a scenario (see scriptFor). The string is the path
// the target was read from.
func targetFor(h sim.Header, pathFlag string) (*target, string, error) {
	t, ok, err := wasmTarget(h, pathFlag)
	if ok {
		if err != nil {
			return nil, "", err
		}
		return t, t.path, nil
	}
	s, sp, err := scriptFor(h, pathFlag)
	if err != nil {
		return nil, "", err
	}
	return &target{path: s.Name, script: s}, sp, nil
}

// openTrace opens a trace file to read it one event at a time, its
// header read and checked.
func openTrace(path string) (*os.File, *sim.TraceReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, traceError(err)
	}
	r, err := sim.NewTraceReader(f)
	if err != nil {
		f.Close()
		return nil, nil, traceError(fmt.Errorf("%s: %w", path, err))
	}
	return f, r, nil
}

// traceEnd reads a whole trace file, one event at a time, and returns its
// end line: the trace is checked, and its end known, before a replay
// starts, without holding its events.
func traceEnd(path string) (*sim.End, error) {
	f, r, err := openTrace(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for {
		if _, err := r.Next(); err == io.EOF {
			return r.End(), nil
		} else if err != nil {
			return nil, traceError(fmt.Errorf("%s: %w", path, err))
		}
	}
}

// traceError says why a trace could not be read.
func traceError(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot read trace: %w", err)
	}
	return fmt.Errorf("bad trace: %w", err)
}
