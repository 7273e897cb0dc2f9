package wasip3

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
)

// RunInterface is the interface whose run function is a WASI 0.3 command's
// entry point; RunInterface02 the WASI 0.2 one, used when a component
// exports only that.
const (
	RunInterface   = "wasi:cli/run@0.3.0"
	RunInterface02 = "wasi:cli/run@0.2.0"
)

// TrapExitCode is the exit code of a guest that trapped or could not be
// instantiated (what Wasmtime's CLI reports for a trap: 128+SIGABRT).
const TrapExitCode = 134

// Config describes one guest.
type Config struct {
	// Name names the guest: its task, its instance, argv[0].
	Name string
	// Args are the arguments after the program name; Env the
	// environment as KEY=VALUE pairs.
	Args []string
	Env  [][2]string
	// InitialCwd is what get-initial-cwd returns ("" for none).
	InitialCwd string
}

// Guest is a component running as a task of a world.
type Guest struct {
	cfg      Config
	task     *sim.Task
	inst     *component.Instance
	done     bool
	exitCode uint32
	err      error
}

// GuestError is how a guest failed: it could not be instantiated, it
// exports no run function, or it trapped.
type GuestError struct {
	Guest    string
	ExitCode uint32
	Err      error
}

func (e *GuestError) Error() string {
	return fmt.Sprintf("guest %s failed (exit code %d): %v", e.Guest, e.ExitCode, e.Err)
}

func (e *GuestError) Unwrap() error { return e.Err }

// Spawn starts a component as a guest task of h's world: it instantiates
// the component with the WASI 0.3 imports (and the 0.2 ones Rust's
// standard library uses) bound to h, and calls its wasi:cli/run export.
// The guest's exit code is 0 when run returns ok, 1 when it returns an
// error, the code it passed to exit, or TrapExitCode if it trapped.
func Spawn(h *host.Host, comp *component.Component, cfg Config) *Guest {
	if cfg.Name == "" {
		cfg.Name = "guest"
	}
	g := &Guest{cfg: cfg}
	g.task = h.World().Go(cfg.Name, func(*sim.Task) error { return g.run(h, comp) })
	return g
}

// spawnLinker is the Linker of every guest Spawn starts. It depends on
// nothing of a guest (a guest's arguments and environment reach the
// functions through its host.Instance) and instantiation does not change
// it, so one serves every guest of every world at once.
var spawnLinker = sync.OnceValue(func() *component.Linker { return NewLinker(Config{}) })

func (g *Guest) run(h *host.Host, comp *component.Component) error {
	defer func() {
		g.done = true
		if p := recover(); p != nil {
			// The world unwinds the task: the run ended (a deadlock, the
			// step limit) while the guest was blocked.
			g.exitCode = TrapExitCode
			g.err = &GuestError{Guest: g.task.Name(), ExitCode: g.exitCode, Err: errUnwound}
			panic(p)
		}
	}()
	if err := Supported(comp); err != nil {
		return g.end(err)
	}
	env := g.cfg.Environment()
	inst, err := comp.Instantiate(h, component.Config{Name: g.cfg.Name, Linker: spawnLinker(),
		Setup: func(in *host.Instance) { in.SetEnvironment(env) }})
	g.inst = inst
	if inst != nil {
		defer inst.Close()
	}
	if err != nil {
		return g.end(err)
	}
	// From here the task runs the guest alone: its steps are what its
	// host calls touch plus its memory, which its code uses anywhere
	// between two scheduling points.
	g.task.Touches(inst.Host().GuestMemory(), sim.Write)
	var res component.Value
	switch {
	case hasExport(comp, RunInterface):
		res, err = inst.Call([]string{RunInterface, "run"})
	case hasExport(comp, RunInterface02):
		res, err = inst.Call([]string{RunInterface02, "run"})
	default:
		err = fmt.Errorf("the component exports neither %s nor %s", RunInterface, RunInterface02)
	}
	if err == nil {
		if v, ok := res.(component.VariantValue); ok && v.Case != 0 {
			g.exitCode = 1
		}
		g.dropAll()
		return nil
	}
	return g.end(err)
}

// end records how the guest ended: an exit is not a failure.
func (g *Guest) end(err error) error {
	var exit *component.ExitError
	if errors.As(err, &exit) {
		g.exitCode = exit.Code
		g.dropAll()
		return nil
	}
	g.exitCode = TrapExitCode
	g.err = &GuestError{Guest: g.task.Name(), ExitCode: g.exitCode, Err: err}
	return g.err
}

// dropAll drops what the guest still holds, as its process ending would.
func (g *Guest) dropAll() {
	if g.inst != nil {
		g.inst.Host().Close()
	}
}

// errUnwound is the error of a guest the world unwound.
var errUnwound = errors.New("the run ended while the guest was blocked")

// Supported reports, before the component runs, a world it needs that
// wasisim does not provide (wasi:http), naming it.
func Supported(c *component.Component) error {
	for _, im := range c.Body().Imports {
		if strings.HasPrefix(im.Name, "wasi:http/") {
			return fmt.Errorf("the component imports %s: wasi:http is not provided by wasisim", im.Name)
		}
	}
	for _, ex := range c.Body().Exports {
		if strings.HasPrefix(ex.Name, "wasi:http/") {
			return fmt.Errorf("the component exports %s: wasi:http is not provided by wasisim", ex.Name)
		}
	}
	return nil
}

func hasExport(c *component.Component, name string) bool {
	for _, e := range c.Body().Exports {
		if e.Name == name {
			return true
		}
	}
	return false
}

// Task is the guest's task.
func (g *Guest) Task() *sim.Task { return g.task }

// Instance is the guest's component instance (nil before it was made).
func (g *Guest) Instance() *component.Instance { return g.inst }

// Done reports whether the guest has ended.
func (g *Guest) Done() bool { return g.done }

// ExitCode is the guest's exit code once it has ended.
func (g *Guest) ExitCode() uint32 { return g.exitCode }

// Err is nil when the guest ended normally (whatever its exit code),
// else a *GuestError.
func (g *Guest) Err() error { return g.err }
