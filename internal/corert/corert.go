// Package corert is the part of a wazero engine that host/component and
// host/wasip1 share: the runtime with its limits and fuel meter, and the
// cache of compiled core modules by content. Each package's Engine wraps
// it with what it runs (components, preview-1 guests).
package corert

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/internal/fuel"
)

// Config is the engines' configuration; their EngineConfig types convert
// to it (the same fields, documented there).
type Config struct {
	Cache            wazero.CompilationCache
	MemoryLimitPages uint32
	Fuel             uint64
	Context          context.Context
}

// Metered reports whether modules are instrumented with fuel: for a
// budget, or to be stoppable by the context.
func (c Config) Metered() bool { return c.Fuel > 0 || c.Context != nil }

// sharedCache is the compilation cache of runtimes made without one, so
// a module compiled by one engine is not recompiled by the next.
var sharedCache = wazero.NewCompilationCache()

// NewRuntime makes a wazero runtime with cfg's cache (the process-wide
// one if nil), memory limit and core features, and, when cfg is metered,
// the fuel meter's host module instantiated in it.
func NewRuntime(cfg Config, features api.CoreFeatures) (wazero.Runtime, *fuel.Meter, error) {
	cache := cfg.Cache
	if cache == nil {
		cache = sharedCache
	}
	rc := wazero.NewRuntimeConfig().WithCompilationCache(cache).WithCoreFeatures(features)
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if !cfg.Metered() {
		return rt, nil, nil
	}
	meter := fuel.NewMeter(cfg.Fuel, cfg.Context)
	if err := meter.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, nil, err
	}
	return rt, meter, nil
}

// ErrClosed is Modules.Compile's error after Close.
var ErrClosed = errors.New("corert: closed")

// Modules compiles core modules on one runtime, once per content (the
// SHA-256 of their bytes): a module that fails to compile fails every
// time with the same error. It is safe for concurrent use.
type Modules struct {
	rt      wazero.Runtime
	metered bool
	// meterErr and invalidErr prefix the errors of metering and of
	// compiling, in the words of the engine's package.
	meterErr, invalidErr string

	mu     sync.Mutex // guards m and closed
	m      map[[32]byte]*compiled
	closed bool
}

type compiled struct {
	cm  wazero.CompiledModule
	err error
}

// NewModules makes the cache of rt's compiled modules; metered modules
// are instrumented with fuel first. meterErr and invalidErr start the
// two kinds of error ("cannot meter the module", "invalid module").
func NewModules(rt wazero.Runtime, metered bool, meterErr, invalidErr string) *Modules {
	return &Modules{rt: rt, metered: metered, meterErr: meterErr, invalidErr: invalidErr, m: map[[32]byte]*compiled{}}
}

// Compile returns the compiled form of wasm, compiling it on first use.
func (ms *Modules) Compile(wasm []byte) (wazero.CompiledModule, error) {
	key := sha256.Sum256(wasm)
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return nil, ErrClosed
	}
	c, ok := ms.m[key]
	ms.mu.Unlock()
	if ok {
		return c.cm, c.err
	}
	var cm wazero.CompiledModule
	code, err := wasm, error(nil)
	if ms.metered {
		if code, err = fuel.Instrument(wasm); err != nil {
			err = fmt.Errorf("%s: %w", ms.meterErr, err)
		}
	}
	if err == nil {
		if cm, err = ms.rt.CompileModule(context.Background(), code); err != nil {
			err = fmt.Errorf("%s: %w", ms.invalidErr, err)
		}
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		if cm != nil {
			_ = cm.Close(context.Background())
		}
		return nil, ErrClosed
	}
	if c, ok := ms.m[key]; ok { // compiled concurrently
		if cm != nil {
			_ = cm.Close(context.Background())
		}
		return c.cm, c.err
	}
	ms.m[key] = &compiled{cm: cm, err: err}
	return cm, err
}

// Len is the number of distinct modules compiled (or refused).
func (ms *Modules) Len() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.m)
}

// Held is the number of compiled modules held.
func (ms *Modules) Held() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	n := 0
	for _, c := range ms.m {
		if c.cm != nil {
			n++
		}
	}
	return n
}

// Close makes later compiles fail with ErrClosed and forgets the modules
// (the runtime's Close releases them).
func (ms *Modules) Close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.closed, ms.m = true, nil
}
