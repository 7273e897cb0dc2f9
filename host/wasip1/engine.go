package wasip1

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/internal/corert"
	"github.com/wasisim/wasisim/internal/fuel"
)

// Engine is a wazero runtime with this package's wasi_snapshot_preview1
// host module instantiated in it and a cache of compiled guest modules,
// keyed by the SHA-256 of their bytes. Exploring many schedules of one
// scenario compiles each module once: every run instantiates the cached
// CompiledModule under a fresh name and closes the instance when the guest
// ends. An Engine is safe for concurrent use; worlds running on different
// goroutines may share it.
type Engine struct {
	rt      wazero.Runtime
	modules *corert.Modules
	seq     atomic.Uint64
	// meter meters the guests when the configuration asks for it.
	meter *fuel.Meter

	mu     sync.Mutex // guards closed
	closed bool
}

// EngineConfig configures an Engine: its compilation cache and the limits
// of the guests it runs.
type EngineConfig struct {
	// Cache is wazero's compilation cache (nil: the process-wide one).
	Cache wazero.CompilationCache
	// MemoryLimitPages caps a guest's linear memory, in 64 KiB pages (0:
	// wazero's limit, 4 GiB): memory.grow past it fails, as when a host
	// is out of memory, and a module that needs more at the start fails
	// to instantiate.
	MemoryLimitPages uint32
	// Fuel bounds the work of each guest: every function call and every
	// loop iteration spends one unit, and a guest that has spent them all
	// traps, with ErrOutOfFuel as its error. Where a guest runs out is
	// the same in every run of a schedule. 0 means unmetered.
	Fuel uint64
	// Context, if set, stops the guests running when it is done (a
	// deadline, an interrupt), with the context's cause as their error:
	// within a slice of fuel (internal/fuel.Slice units, at most some
	// milliseconds of computing). Guests are metered for it (with all the
	// fuel there is if Fuel is 0); unlike Fuel, where a guest stops is
	// not reproducible.
	Context context.Context
}

// ErrOutOfFuel is the error of a guest that spent its EngineConfig.Fuel.
var ErrOutOfFuel = fuel.ErrExhausted

// CacheDirEnv names the environment variable that, when set, gives the
// directory of an on-disk wazero compilation cache for DefaultEngine, so
// compiled guests survive across processes (the tests set it).
const CacheDirEnv = "WASISIM_WAZERO_CACHE"

// NewEngine makes an Engine using the process-wide in-memory compilation
// cache. Close it when done.
func NewEngine() (*Engine, error) { return NewEngineWithConfig(EngineConfig{}) }

// NewEngineWithCache makes an Engine whose runtime uses cache (for example
// wazero.NewCompilationCacheWithDir). Close it when done.
func NewEngineWithCache(cache wazero.CompilationCache) (*Engine, error) {
	return NewEngineWithConfig(EngineConfig{Cache: cache})
}

// NewEngineWithConfig makes an Engine with limits. Close it when done.
func NewEngineWithConfig(cfg EngineConfig) (*Engine, error) {
	rt, meter, err := corert.NewRuntime(corert.Config(cfg), api.CoreFeaturesV2)
	if err != nil {
		return nil, err
	}
	if err := instantiateHost(context.Background(), rt); err != nil {
		_ = rt.Close(context.Background())
		return nil, err
	}
	return &Engine{rt: rt, meter: meter, modules: corert.NewModules(rt, corert.Config(cfg).Metered(), "cannot meter the module", "invalid module")}, nil
}

// stopped returns why a guest's call failed if the meter stopped it: the
// context's cause, or ErrOutOfFuel; nil otherwise.
func (e *Engine) stopped(err error) error { return fuel.StopCause(err) }

// forget drops a closed instance's fuel account.
func (e *Engine) forget(m api.Module) {
	if e.meter != nil {
		e.meter.Forget(m)
	}
}

var (
	defaultOnce   sync.Once
	defaultEngine *Engine
	defaultErr    error
)

// DefaultEngine is the process-wide Engine that Spawn uses when
// Config.Engine is nil. It lives as long as the process (it holds no
// goroutines, only compiled code). With $WASISIM_WAZERO_CACHE set it
// keeps compiled code in that directory.
func DefaultEngine() (*Engine, error) {
	defaultOnce.Do(func() {
		if dir := os.Getenv(CacheDirEnv); dir != "" {
			if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				defaultEngine, defaultErr = NewEngineWithCache(c)
				return
			}
		}
		defaultEngine, defaultErr = NewEngine()
	})
	return defaultEngine, defaultErr
}

// ErrEngineClosed is returned by Compile and Spawn after Engine.Close.
var ErrEngineClosed = errors.New("wasip1: engine closed")

// Compile returns the compiled form of a module, compiling it on first use.
// A module that fails to compile fails every time with the same error.
func (e *Engine) Compile(wasm []byte) (wazero.CompiledModule, error) {
	cm, err := e.modules.Compile(wasm)
	if errors.Is(err, corert.ErrClosed) {
		return nil, ErrEngineClosed
	}
	return cm, err
}

// Compiled reports how many distinct modules the engine has compiled.
func (e *Engine) Compiled() int { return e.modules.Len() }

// Close closes the runtime, every compiled module and every guest instance
// still open.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.modules.Close()
	return e.rt.Close(context.Background())
}

func (e *Engine) instanceName(guest string) string {
	return fmt.Sprintf("%s#%d", guest, e.seq.Add(1))
}

// guestKey is the context key under which a running guest's state travels
// from the _start call to the host functions.
type guestKey struct{}

func guestFrom(ctx context.Context) *Guest {
	g, _ := ctx.Value(guestKey{}).(*Guest)
	return g
}

// hostFunc is one import of the wasi_snapshot_preview1 module.
type hostFunc struct {
	name   string
	params []api.ValueType
	fn     func(g *Guest, m api.Memory, p []uint64) Errno
	// noResult marks proc_exit, the only import without an errno result.
	noResult bool
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func ps(types ...api.ValueType) []api.ValueType { return types }

// hostFuncs lists every function the host module exports: preview 1 in
// witx order, then the socket extension.
func hostFuncs() []hostFunc {
	var fs []hostFunc
	fs = append(fs, miscFuncs()...)
	fs = append(fs, fsFuncs()...)
	fs = append(fs, sockFuncs()...)
	return fs
}

// instantiateHost registers the wasi_snapshot_preview1 host module in rt.
func instantiateHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(ModuleName)
	for _, h := range hostFuncs() {
		h := h
		var results []api.ValueType
		if !h.noResult {
			results = []api.ValueType{i32}
		}
		fn := api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			g := guestFrom(ctx)
			if g == nil {
				if !h.noResult {
					stack[0] = uint64(ENOSYS)
				}
				return
			}
			errno := g.call(&h, stack)
			if !h.noResult {
				stack[0] = uint64(errno)
			}
		})
		b.NewFunctionBuilder().WithGoModuleFunction(fn, h.params, results).Export(h.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// ModuleName is the import module the host functions are exported under.
const ModuleName = "wasi_snapshot_preview1"
