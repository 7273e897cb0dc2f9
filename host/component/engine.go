package component

import (
	"context"
	"errors"
	"hash/maphash"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/internal/corert"
	"github.com/wasisim/wasisim/internal/fuel"
)

// Engine compiles components and runs their core modules on one wazero
// runtime. An Engine is safe for concurrent use: worlds running on
// different goroutines may share it.
//
// The Engine owns everything it compiles. Components are kept by their
// bytes, core modules by the SHA-256 of their (rewritten) bytes, so
// compiling the same component again — exploring its
// schedules, running it in a loop — returns the Component compiled the
// first time and holds nothing more. What the Engine holds grows only
// with the distinct components it is given, and all of it is released
// by Close: a process that compiles an open-ended stream of different
// components should compile them on an Engine it closes now and then.
// The Engine also keeps, zeroed, up to 64 MiB of the linear memories of
// closed instances, which later instances take instead of new ones.
type Engine struct {
	rt  wazero.Runtime
	cfg EngineConfig

	modules *corert.Modules // the core modules, by content

	mu sync.Mutex
	// comps holds every component compiled, by a hash of its bytes
	// (seed's: a lookup reads the bytes once, fast, and compares them
	// with the few that hash the same).
	comps map[uint64][]*compiledComponent
	seed  maphash.Seed
	// hostModules counts the host modules compiled and not released.
	hostModules int
	closed      bool
	// meter meters the core modules when the configuration asks for it.
	meter *fuel.Meter
	// modCfg is the configuration of every module instance.
	modCfg wazero.ModuleConfig
	// mems keeps the memories of closed instances for reuse.
	mems memPool
}

// compiledComponent is a component compiled, or being compiled: done is
// closed once c and err are set. wasm is the Engine's copy of its bytes.
type compiledComponent struct {
	done chan struct{}
	wasm []byte
	c    *Component
	err  error
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Cache is wazero's compilation cache (nil: one shared by every
	// Engine of the process).
	Cache wazero.CompilationCache
	// MemoryLimitPages caps every linear memory of a guest, in 64 KiB
	// pages (0: wazero's limit, 4 GiB).
	MemoryLimitPages uint32
	// Fuel bounds the work of each core module instance: every function
	// call and every loop iteration spends one unit, and an instance that
	// has spent them all traps, failing the call with ErrOutOfFuel. Where
	// it runs out is the same in every run of a schedule. 0 means
	// unmetered.
	Fuel uint64
	// Context, if set, stops running guests when it is done (a deadline,
	// an interrupt), failing the call with the context's cause: within a
	// slice of fuel (internal/fuel.Slice units, at most some milliseconds
	// of computing). Modules are metered for it (with all the fuel there
	// is if Fuel is 0); unlike Fuel, where a guest stops is not
	// reproducible.
	Context context.Context
}

// ErrOutOfFuel is the error of a call whose guest spent its
// EngineConfig.Fuel.
var ErrOutOfFuel = fuel.ErrExhausted

func (c *EngineConfig) metered() bool { return corert.Config(*c).Metered() }

// CacheDirEnv names the environment variable that, when set, gives the
// directory of an on-disk compilation cache for DefaultEngine.
const CacheDirEnv = "WASISIM_WAZERO_CACHE"

// NewEngine makes an Engine. Close it when done.
func NewEngine(cfg EngineConfig) *Engine {
	// The runtime is fresh: instantiating the meter's host module in it
	// fails only on a name clash, which there is none of.
	rt, meter, _ := corert.NewRuntime(corert.Config(cfg), api.CoreFeaturesV2)
	return &Engine{rt: rt, cfg: cfg, meter: meter,
		modules: corert.NewModules(rt, cfg.metered(), "cannot meter a core module", "invalid core module"),
		comps:   map[uint64][]*compiledComponent{}, seed: maphash.MakeSeed(),
		// A component's core modules use no WASI of wazero's: a source of
		// zeros spares each instance the seeding of wazero's default one.
		modCfg: wazero.NewModuleConfig().WithName("").WithRandSource(zeros{})}
}

// zeros is an io.Reader of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// forget drops a closed core instance's fuel account.
func (e *Engine) forget(m api.Module) {
	if e.meter != nil {
		e.meter.Forget(m)
	}
}

var (
	defaultOnce   sync.Once
	defaultEngine *Engine
)

// DefaultEngine is the process-wide Engine used when none is given. With
// $WASISIM_WAZERO_CACHE set it keeps compiled code in that directory.
func DefaultEngine() *Engine {
	defaultOnce.Do(func() {
		cfg := EngineConfig{}
		if dir := os.Getenv(CacheDirEnv); dir != "" {
			if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				cfg.Cache = c
			}
		}
		defaultEngine = NewEngine(cfg)
	})
	return defaultEngine
}

// ErrEngineClosed is returned after Engine.Close.
var ErrEngineClosed = errors.New("component: engine closed")

// Close releases the runtime and everything compiled with it: every
// Component the Engine compiled becomes unusable (instantiating it
// fails).
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var hosts []wazero.CompiledModule
	for _, cs := range e.comps {
		for _, cc := range cs {
			select {
			case <-cc.done:
			default:
				continue // its Compile releases what it made when it sees the Engine closed
			}
			if cc.c == nil {
				continue
			}
			for _, p := range cc.c.plans {
				if p.hostMod != nil {
					hosts = append(hosts, p.hostMod)
				}
			}
		}
	}
	e.hostModules -= len(hosts)
	e.mu.Unlock()
	e.modules.Close()
	err := e.rt.Close(context.Background())
	// A host module is not in the compilation cache by content, as core
	// modules are: with a cache shared between Engines, closing the
	// runtime would leave it there for good.
	for _, hm := range hosts {
		_ = hm.Close(context.Background())
	}
	return err
}

// heldModules is the number of wazero compiled modules the engine holds
// (core modules and host modules), for the tests.
func (e *Engine) heldModules() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hostModules + e.modules.Held()
}

// compileCore compiles a core module, once per content.
func (e *Engine) compileCore(wasm []byte) (wazero.CompiledModule, error) {
	cm, err := e.modules.Compile(wasm)
	if errors.Is(err, corert.ErrClosed) {
		return nil, ErrEngineClosed
	}
	return cm, err
}

// StopError is the error of a call whose guest was stopped from outside
// its code: it ran out of fuel, or the engine's Context was done. It
// traps the instance like any trap (Trap); errors.Is finds the cause.
type StopError struct {
	Trap  error
	Cause error
}

func (e *StopError) Error() string { return e.Trap.Error() }

// Unwrap gives the trap and the cause.
func (e *StopError) Unwrap() []error { return []error{e.Trap, e.Cause} }

// stop reports a guest stopped by fuel or the context (err is the wasm
// call's error): it traps the instance with the cause, once, and
// remembers it (Instance.Stopped).
func (r *run) stop(ci *compInst, what string, err error) error {
	if r.stopped != nil {
		return r.stopped
	}
	cause := fuel.StopCause(err)
	if cause == nil {
		return nil
	}
	r.stopped = &StopError{Trap: ci.hin.Abort(what, cause.Error()), Cause: cause}
	return r.stopped
}

// Stopped is the *StopError of an instance whose guest ran out of fuel or
// was stopped by the engine's Context, nil otherwise.
func (i *Instance) Stopped() error {
	if i.r.stopped == nil {
		return nil
	}
	return i.r.stopped
}
