package component

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// memoryRound instantiates rt-memory in a fresh world, calls the exports
// in order (a number argument is dirty's byte; "offer" and "nonzero" are
// called as they are), checks what nonzero returns against want, and
// closes the instance, then its handles.
func memoryRound(t *testing.T, comp *Component, calls []any, want []uint32) {
	t.Helper()
	if err := tryMemoryRound(comp, calls, want); err != nil {
		t.Fatal(err)
	}
}

func tryMemoryRound(comp *Component, calls []any, want []uint32) error {
	w := sim.MustNew(sim.Config{Seed: 1})
	h, err := host.New(w, host.Options{})
	if err != nil {
		return err
	}
	var got []uint32
	w.Go("guest", func(*sim.Task) error {
		inst, err := comp.Instantiate(h, Config{Name: "memory"})
		if err != nil {
			return err
		}
		// The handles go after the core instances: a pending write's
		// buffer is still held when they close.
		defer inst.Host().Close()
		defer inst.Close()
		for _, c := range calls {
			var v Value
			switch c := c.(type) {
			case uint8:
				_, err = inst.Call([]string{"dirty"}, c)
			case string:
				v, err = inst.Call([]string{c})
			}
			if err != nil {
				return err
			}
			if n, ok := v.(uint32); ok {
				got = append(got, n)
			}
		}
		return nil
	})
	if err := w.Run().Error(); err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("nonzero returned %v, want %v", got, want)
	}
	return nil
}

func memoryComponent(t *testing.T) (*Engine, *Component) {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("testdata", "rt-memory.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(EngineConfig{Cache: wazero.NewCompilationCache()})
	t.Cleanup(func() { eng.Close() })
	comp, err := eng.Compile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return eng, comp
}

// The memory of a closed instance is reused by the next, and the next
// sees zeros wherever the first wrote: in its first page and in the page
// it grows into, which the first had grown into and filled too.
func TestReusedMemoryIsZero(t *testing.T) {
	eng, comp := memoryComponent(t)
	for round := 0; round < 4; round++ {
		memoryRound(t, comp, []any{"nonzero", uint8(0xa5), "nonzero"}, []uint32{0, 3 << 16})
	}
	if eng.mems.reused < 3 {
		t.Fatalf("%d memories reused in 4 instantiations, want 3", eng.mems.reused)
	}
}

// An instance closed while a stream write of its memory is pending (the
// host holds a view of the buffer) does not give its memory back.
func TestMemoryWithACopyInFlightIsNotReused(t *testing.T) {
	eng, comp := memoryComponent(t)
	memoryRound(t, comp, []any{uint8(0xa5), "offer"}, nil)
	eng.mems.mu.Lock()
	kept := len(eng.mems.free)
	eng.mems.mu.Unlock()
	if kept != 0 {
		t.Fatalf("%d memories kept from an instance closed with a write pending", kept)
	}
	memoryRound(t, comp, []any{"nonzero", uint8(0xa5)}, []uint32{0})
	memoryRound(t, comp, []any{"nonzero"}, []uint32{0})
	if eng.mems.reused != 1 {
		t.Fatalf("%d memories reused, want 1", eng.mems.reused)
	}
}

// Worlds on several goroutines share an engine's memories: each instance
// still sees zeros.
func TestMemoryReuseAcrossGoroutines(t *testing.T) {
	eng, comp := memoryComponent(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 10; round++ {
				if err := tryMemoryRound(comp, []any{"nonzero", uint8(0x5a), "nonzero"}, []uint32{0, 3 << 16}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if eng.mems.reused == 0 {
		t.Fatal("no memory was reused")
	}
}
