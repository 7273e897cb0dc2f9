package wasip1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"reflect"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasisim/wasisim/internal/fuel"
	"github.com/wasisim/wasisim/internal/linmem"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// Preopen is a directory of the world's file system handed to a guest as a
// preopened descriptor.
type Preopen struct {
	// GuestPath is the name the guest sees (fd_prestat_dir_name), e.g. "/"
	// or "/data". Go's wasip1 runtime resolves absolute paths against the
	// preopen with the longest matching GuestPath.
	GuestPath string
	// Path is the directory in Config.FS ("", "." or "/" for the root).
	Path string
	// ReadOnly opens it without mutate-directory: the guest cannot change
	// the tree below it (EROFS).
	ReadOnly bool
}

// Config describes one guest.
type Config struct {
	// Name names the guest in errors, traces and the task; it is argv[0].
	Name string
	// Module is the WebAssembly binary (a core module importing
	// wasi_snapshot_preview1, exporting _start and memory).
	Module []byte
	// Args are argv[1:]; Env are "KEY=VALUE" entries.
	Args, Env []string
	// Stdin is what the guest reads from fd 0, when StdinReader is nil.
	Stdin []byte
	// StdinReader, if set, is stdin read live (a terminal, a pipe): a
	// chunk is read only when the guest waits in fd_read on fd 0 and
	// nothing else in the world can run, and each chunk is recorded in
	// the trace (sim.World.Input), so a replay needs no reader. A guest
	// that never reads stdin never waits for it.
	StdinReader io.Reader
	// Stdout and Stderr, if set, receive what the guest writes to fd 1 and
	// 2 as it writes it, and nothing is kept (Guest.Stdout and
	// Guest.Stderr then return nothing); a write that fails is EPIPE for
	// the guest. Nil keeps the output in memory.
	Stdout, Stderr io.Writer
	// FS is the world's file system; Dirs are preopened from it as fds 3,
	// 4, … in order.
	FS   *vfs.FS
	Dirs []Preopen
	// Net is the world's network; it backs the socket extension
	// (sock_open…) and poll_oneoff on sockets.
	Net *vnet.Net
	// Listeners are listening sockets preopened after the directories (like
	// wazero's WithTCPListener). The guest takes its own reference to each
	// (IncRef); the caller keeps and eventually drops its own.
	Listeners []*vnet.TCPSocket
	// BlockingListeners preopens the listeners without the nonblock fdflag
	// (as wazero's WithTCPListener does). By default they are non-blocking:
	// Go's os.NewFile then hands them to its poller, so a Go server serves
	// connections concurrently (blocking in poll_oneoff, a world wait);
	// with blocking listeners every accept and read blocks the whole guest.
	BlockingListeners bool
	// Engine compiles and runs the module; nil means DefaultEngine().
	Engine *Engine
}

// TrapExitCode is the exit code of a guest that trapped or failed to
// start (what Wasmtime's CLI reports for a trap: 128+SIGABRT).
const TrapExitCode = 134

// GuestError is how a guest failed: it could not be instantiated, it has
// no _start, it trapped, or it was unwound at the end of the run.
type GuestError struct {
	Guest    string // the guest's task name, e.g. "server#1"
	ExitCode uint32
	Step     int64 // the world's scheduling step when it failed
	Err      error
}

func (e *GuestError) Error() string {
	return fmt.Sprintf("wasip1: guest %s failed at trace step %d (exit code %d): %v", e.Guest, e.Step, e.ExitCode, e.Err)
}

func (e *GuestError) Unwrap() error { return e.Err }

// Guest is a WebAssembly guest running as a task of a world.
type Guest struct {
	w      *sim.World
	cfg    Config
	eng    *Engine
	cm     wazero.CompiledModule
	task   *sim.Task
	fds    fdTable
	rng    *rand.Rand
	args   []string
	stdin  stdinState
	stdout bytes.Buffer
	stderr bytes.Buffer

	mem api.Memory // the guest's memory (nil if it has none)

	exitCode uint32
	err      error
	done     bool
	calls    uint64
	panicked any
	// inCall is the host call running, for saying where a guest was
	// unwound.
	inCall string
}

// Spawn compiles (or takes from the engine's cache) the module and starts
// it as a task of w named cfg.Name: the task instantiates the module and
// calls _start, so the guest runs on the task's coroutine and each of its
// host calls is a scheduling point. Spawn takes the references of the
// preopened directories and listeners at once. It fails on a nil world,
// an invalid module, a module without _start, or a bad preopen.
func Spawn(w *sim.World, cfg Config) (*Guest, error) {
	if w == nil {
		return nil, errors.New("wasip1: Spawn needs a world")
	}
	if cfg.Name == "" {
		cfg.Name = "guest"
	}
	fail := func(err error) (*Guest, error) {
		return nil, fmt.Errorf("wasip1: guest %s: %w", cfg.Name, err)
	}
	eng := cfg.Engine
	if eng == nil {
		var err error
		if eng, err = DefaultEngine(); err != nil {
			return fail(err)
		}
	}
	cm, err := eng.Compile(cfg.Module)
	if err != nil {
		return fail(err)
	}
	if _, ok := cm.ExportedFunctions()["_start"]; !ok {
		return fail(errors.New("module has no _start export"))
	}
	if err := checkImports(cm); err != nil {
		return fail(err)
	}
	for _, kv := range cfg.Env {
		if !strings.Contains(kv, "=") {
			return fail(fmt.Errorf("environment entry %q is not KEY=VALUE", kv))
		}
	}
	g := &Guest{
		w:     w,
		cfg:   cfg,
		eng:   eng,
		cm:    cm,
		rng:   rand.New(rand.NewPCG(w.Rand().Uint64(), w.Rand().Uint64())),
		args:  append([]string{cfg.Name}, cfg.Args...),
		stdin: stdinState{buf: cfg.Stdin, eof: cfg.StdinReader == nil},
	}
	g.fds.put(&stdioFD{fdState: fdState{base: stdinRights}, stream: 0})
	g.fds.put(&stdioFD{fdState: fdState{base: stdoutRights}, stream: 1})
	g.fds.put(&stdioFD{fdState: fdState{base: stdoutRights}, stream: 2})
	for _, p := range cfg.Dirs {
		d, err := openPreopen(cfg.FS, p)
		if err != nil {
			g.closeFDs()
			return fail(err)
		}
		g.fds.put(g.newOFDEntry(d, fdState{base: dirRights, inh: dirRights | fileRights}, p.GuestPath))
	}
	for _, l := range cfg.Listeners {
		if l == nil || !l.TryIncRef() {
			g.closeFDs()
			return fail(errors.New("listener is nil or released"))
		}
		flags := fdflagNonblock
		if cfg.BlockingListeners {
			flags = 0
		}
		g.fds.put(g.newSockFD(l, fdState{flags: flags, base: sockRights, inh: sockRights}))
	}
	g.task = w.Go(cfg.Name, g.run)
	w.AddLeakCheck("wasip1", g.leaks)
	return g, nil
}

// checkImports refuses, before the guest starts, a module importing what
// the host does not provide (wazero would fail its instantiation inside
// the run, which then looks like the guest's failure).
func checkImports(cm wazero.CompiledModule) error {
	provided := map[string]*hostFunc{}
	fns := hostFuncs()
	for i := range fns {
		provided[fns[i].name] = &fns[i]
	}
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		if mod == fuel.Module {
			continue // the meter's, added by Engine.Compile
		}
		h := provided[name]
		if mod != ModuleName || h == nil {
			return fmt.Errorf("module imports %s.%s, which wasisim does not provide", mod, name)
		}
		results := 1
		if h.noResult {
			results = 0
		}
		if !reflect.DeepEqual(def.ParamTypes(), h.params) && !(len(def.ParamTypes()) == 0 && len(h.params) == 0) || len(def.ResultTypes()) != results {
			return fmt.Errorf("module imports %s.%s with another signature than wasisim's", mod, name)
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		return fmt.Errorf("module imports memory %s.%s, which wasisim does not provide", mod, name)
	}
	return nil
}

func openPreopen(fsys *vfs.FS, p Preopen) (*vfs.OFD, error) {
	if fsys == nil {
		return nil, errors.New("preopened directory without Config.FS")
	}
	if p.GuestPath == "" {
		return nil, errors.New("preopened directory without a guest path")
	}
	flags := vfs.Read | vfs.MutateDirectory
	if p.ReadOnly {
		flags = vfs.Read
	}
	root := fsys.Root(flags)
	rel := strings.Trim(path.Clean("/"+p.Path), "/")
	if rel == "" {
		return root, nil
	}
	defer func() { _ = root.DecRef() }()
	d, err := root.OpenAt(vfs.SymlinkFollow, rel, vfs.OpenDirectory, flags)
	if err != nil {
		return nil, fmt.Errorf("preopen %q: %w", p.Path, err)
	}
	return d, nil
}

// Task is the guest's task.
func (g *Guest) Task() *sim.Task { return g.task }

// Name is the guest's task name, e.g. "client#2".
func (g *Guest) Name() string { return g.task.Name() }

// Stdout is everything the guest wrote to fd 1 so far (nothing when
// Config.Stdout was set: it went there).
func (g *Guest) Stdout() []byte { return g.stdout.Bytes() }

// Stderr is everything the guest wrote to fd 2 so far (nothing when
// Config.Stderr was set).
func (g *Guest) Stderr() []byte { return g.stderr.Bytes() }

// Done reports whether the guest has ended.
func (g *Guest) Done() bool { return g.done }

// ExitCode is the guest's exit code once it has ended: its proc_exit
// argument, 0 when _start returned, TrapExitCode when it failed.
func (g *Guest) ExitCode() uint32 { return g.exitCode }

// Err is nil when the guest ended by returning from _start or calling
// proc_exit (whatever the code), else a *GuestError.
func (g *Guest) Err() error { return g.err }

// Calls is the number of host calls the guest has made.
func (g *Guest) Calls() uint64 { return g.calls }

func (g *Guest) fail(err error) error {
	g.exitCode = TrapExitCode
	g.err = &GuestError{Guest: g.task.Name(), ExitCode: g.exitCode, Step: g.w.Step(), Err: err}
	return g.err
}

// run is the task: instantiate, call _start, release every descriptor.
func (g *Guest) run(t *sim.Task) (err error) {
	defer func() {
		g.closeFDs()
		g.done = true
		if p := g.panicked; p != nil {
			// A host call was unwound (the run ended while the guest was
			// blocked, or a host bug): wazero recovered the panic to
			// return an error; re-raise it so the world sees it.
			g.panicked = nil
			g.exitCode = TrapExitCode
			g.err = &GuestError{Guest: t.Name(), ExitCode: g.exitCode, Step: g.w.Step(), Err: &UnwoundError{Call: g.inCall}}
			panic(p)
		}
	}()
	ctx := experimental.WithMemoryAllocator(context.WithValue(context.Background(), guestKey{}, g), linmem.Allocator)
	mcfg := wazero.NewModuleConfig().WithName(g.eng.instanceName(t.Name())).WithStartFunctions()
	mod, err := g.eng.rt.InstantiateModule(ctx, g.cm, mcfg)
	if err != nil {
		if g.panicked != nil {
			return nil
		}
		if stop := g.eng.stopped(err); stop != nil {
			return g.fail(stop) // in the start function
		}
		return g.fail(fmt.Errorf("instantiate: %w", err))
	}
	defer func() {
		g.eng.forget(mod)
		_ = mod.Close(context.Background())
	}()
	if m := mod.Memory(); m != nil && !reflect.ValueOf(m).IsNil() {
		g.mem = m
	}
	_, err = mod.ExportedFunction("_start").Call(ctx)
	if g.panicked != nil {
		return nil
	}
	var exit *sys.ExitError
	switch {
	case err == nil:
		g.exitCode = 0
		return nil
	case errors.As(err, &exit):
		g.exitCode = exit.ExitCode()
		return nil
	}
	if stop := g.eng.stopped(err); stop != nil {
		return g.fail(stop)
	}
	return g.fail(fmt.Errorf("trap: %w", err))
}

// UnwoundError is how a guest ended that was blocked in a host call when
// the run ended (a deadlock, the step limit): the world unwound it.
type UnwoundError struct {
	// Call is the host call it was blocked in.
	Call string
}

func (e *UnwoundError) Error() string {
	return "the run ended while the guest was waiting in " + e.Call
}

// closeFDs drops every descriptor's reference, as process exit closes
// every fd.
func (g *Guest) closeFDs() {
	for fd := range g.fds.fds {
		if e := g.fds.fds[fd]; e != nil {
			g.fds.fds[fd] = nil
			e.close()
		}
	}
}

// call runs one host function: a scheduling point, then the call itself.
func (g *Guest) call(h *hostFunc, stack []uint64) (errno Errno) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*sys.ExitError); !ok {
				g.panicked = r
			}
			panic(r)
		}
	}()
	g.calls++
	g.inCall = h.name
	g.w.Yield()
	errno = h.fn(g, g.mem, stack)
	if g.w.Tracing() {
		g.w.Event("wasi", g.task.Name(), h.name+" "+errno.String())
	}
	return errno
}
