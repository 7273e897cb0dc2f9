package component

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Engine compiles components and runs their core modules on one wazero
// runtime. Compiled code is cached by content, so exploring many
// schedules of a component compiles it once. An Engine is safe for
// concurrent use: worlds running on different goroutines may share it.
type Engine struct {
	rt  wazero.Runtime
	cfg EngineConfig

	mu       sync.Mutex
	modules  map[[32]byte]*compiledModule
	closed   bool
	hostMods sync.Map // api.Module of a host module instance → *compInst
}

type compiledModule struct {
	cm  wazero.CompiledModule
	err error
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Cache is wazero's compilation cache (nil: one shared by every
	// Engine of the process).
	Cache wazero.CompilationCache
	// MemoryLimitPages caps every linear memory of a guest, in 64 KiB
	// pages (0: wazero's limit, 4 GiB).
	MemoryLimitPages uint32
}

// sharedCache is the compilation cache of Engines made without one.
var sharedCache = wazero.NewCompilationCache()

// CacheDirEnv names the environment variable that, when set, gives the
// directory of an on-disk compilation cache for DefaultEngine.
const CacheDirEnv = "WASISIM_WAZERO_CACHE"

// NewEngine makes an Engine. Close it when done.
func NewEngine(cfg EngineConfig) *Engine {
	cache := cfg.Cache
	if cache == nil {
		cache = sharedCache
	}
	rc := wazero.NewRuntimeConfig().WithCompilationCache(cache).
		WithCoreFeatures(api.CoreFeaturesV2)
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	return &Engine{rt: wazero.NewRuntimeWithConfig(context.Background(), rc), cfg: cfg, modules: map[[32]byte]*compiledModule{}}
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

// Close releases the runtime and everything compiled with it.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return e.rt.Close(context.Background())
}

// compileCore compiles a core module, once per content.
func (e *Engine) compileCore(wasm []byte) (wazero.CompiledModule, error) {
	key := sha256.Sum256(wasm)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrEngineClosed
	}
	c, ok := e.modules[key]
	e.mu.Unlock()
	if ok {
		return c.cm, c.err
	}
	cm, err := e.rt.CompileModule(context.Background(), wasm)
	if err != nil {
		err = fmt.Errorf("invalid core module: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.modules[key]; ok { // compiled concurrently
		if cm != nil {
			_ = cm.Close(context.Background())
		}
		return c.cm, c.err
	}
	e.modules[key] = &compiledModule{cm: cm, err: err}
	return cm, err
}
