package component

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// engineFixtures are a test component and a real WASI 0.3 program.
var engineFixtures = []string{
	filepath.Join("testdata", "rt-async.wasm"),
	filepath.Join("..", "..", "testdata", "wasi-testsuite-p3", "wasm32-wasip3", "cli-env.wasm"),
}

// Compiling the same bytes again returns the Component compiled the first
// time, and the engine holds no more wazero modules than after the first
// compile: a long-lived process compiling one component in a loop does
// not grow.
func TestCompileSameBytesHoldsNothingMore(t *testing.T) {
	for _, path := range engineFixtures {
		t.Run(filepath.Base(path), func(t *testing.T) {
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
			defer eng.Close()
			first, err := eng.Compile(wasm)
			if err != nil {
				t.Fatal(err)
			}
			held := eng.heldModules()
			if held == 0 {
				t.Fatal("the engine holds no modules after a compile")
			}
			for i := 0; i < 50; i++ {
				c, err := eng.Compile(append([]byte(nil), wasm...))
				if err != nil {
					t.Fatal(err)
				}
				if c != first {
					t.Fatalf("compile %d returned another Component", i+2)
				}
			}
			if got := eng.heldModules(); got != held {
				t.Fatalf("the engine holds %d wazero modules after 51 compiles, %d after one", got, held)
			}
		})
	}
}

// Goroutines compiling the same bytes at once share one compilation.
func TestCompileConcurrentlyCompilesOnce(t *testing.T) {
	wasm, err := os.ReadFile(engineFixtures[0])
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
	defer eng.Close()
	comps := make([]*Component, 8)
	var wg sync.WaitGroup
	for i := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := eng.Compile(wasm)
			if err != nil {
				t.Error(err)
			}
			comps[i] = c
		}()
	}
	wg.Wait()
	for _, c := range comps[1:] {
		if c != comps[0] {
			t.Fatal("concurrent compiles returned different Components")
		}
	}
	eng.mu.Lock()
	hostModules := eng.hostModules
	eng.mu.Unlock()
	if want := len(comps[0].plans); hostModules > want {
		t.Fatalf("%d host modules compiled for %d bodies", hostModules, want)
	}
}

// A component that fails to compile (to decode, or to plan) fails the
// same way again, holding nothing more.
func TestCompileFailureHoldsNothingMore(t *testing.T) {
	for _, name := range []string{"missing-arg", "async"} {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
			defer eng.Close()
			_, first := eng.Compile(wasm)
			if first == nil {
				t.Fatal("compiled")
			}
			held := eng.heldModules()
			for i := 0; i < 20; i++ {
				if _, err := eng.Compile(wasm); err == nil || err.Error() != first.Error() {
					t.Fatalf("compile %d: %v, want %v", i+2, err, first)
				}
			}
			if got := eng.heldModules(); got != held {
				t.Fatalf("the engine holds %d wazero modules after 21 failed compiles, %d after one", got, held)
			}
		})
	}
}

// A closed engine compiles nothing, even bytes it compiled before.
func TestCompileAfterClose(t *testing.T) {
	wasm, err := os.ReadFile(engineFixtures[0])
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
	if _, err := eng.Compile(wasm); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if _, err := eng.Compile(wasm); err != ErrEngineClosed {
		t.Fatalf("compile after Close: %v", err)
	}
}

// Compile keeps a copy of the bytes it needs: the caller may reuse its
// buffer while the Engine keeps the Component.
func TestCompileKeepsNoCallerBytes(t *testing.T) {
	wasm, err := os.ReadFile(engineFixtures[0])
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
	defer eng.Close()
	buf := append([]byte(nil), wasm...)
	c, err := eng.Compile(buf)
	if err != nil {
		t.Fatal(err)
	}
	clear(buf)
	again, err := eng.Compile(wasm)
	if err != nil || again != c {
		t.Fatalf("compile again: %v (same Component: %v)", err, again == c)
	}
	for _, d := range c.Body().Defs {
		if m, ok := d.(*CoreModuleDef); ok && !IsCoreModule(m.Bytes) {
			t.Fatal("a core module of the kept Component changed with the caller's buffer")
		}
	}
}

// Close releases the host modules of every component the engine
// compiled. wazero keeps compiled core modules in a shared cache by
// content, but a host module by identity: an Engine per run on one
// cache would otherwise leave one behind each time.
func TestCloseReleasesHostModules(t *testing.T) {
	wasm, err := os.ReadFile(engineFixtures[1])
	if err != nil {
		t.Fatal(err)
	}
	cache := wazero.NewCompilationCache()
	defer cache.Close(t.Context()) //nolint:errcheck
	for i := 0; i < 3; i++ {
		eng := NewEngine(EngineConfig{Cache: cache})
		if _, err := eng.Compile(wasm); err != nil {
			t.Fatal(err)
		}
		eng.mu.Lock()
		hosts := eng.hostModules
		eng.mu.Unlock()
		if hosts == 0 {
			t.Fatal("a compiled component has no host module")
		}
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		eng.mu.Lock()
		hosts = eng.hostModules
		eng.mu.Unlock()
		if hosts != 0 {
			t.Fatalf("engine %d still holds %d host modules after Close", i, hosts)
		}
		if err := eng.Close(); err != nil {
			t.Fatalf("closing twice: %v", err)
		}
	}
}
