package component

import (
	"context"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasisim/wasisim/internal/linmem"
)

// This file allocates the linear memories of a component's core
// instances. A Rust program's memory is over 1 MiB (its stack alone), and
// exploring a component instantiates it once per schedule: making each
// memory afresh cost more than the rest of the instantiation (the garbage
// collector hands the pages back to the system, and every new memory
// faults them in again and zeroes them). So the memories of a closed
// instance go back to its Engine, zeroed, and later instances take them:
// an instance sees exactly what a fresh memory holds, zeros.
//
// A memory goes back only when nothing can reach it any more. The host
// holds views of guest memory while stream copies are in flight, so the
// memories of an instance closed with a copy pending are left to the
// garbage collector, as is the old backing array of a memory that grew.

const (
	// memPoolCount and memPoolBytes bound what an Engine keeps for reuse.
	memPoolCount = 16
	memPoolBytes = 64 << 20
)

// memPool keeps zeroed memories for reuse; memories that grew straight
// to their maximum (past linmem.Jump) are not kept. It is safe for
// concurrent use.
type memPool struct {
	mu sync.Mutex
	// free are backing arrays of length 0, zero up to their capacity.
	free  [][]byte
	bytes uint64
	// reused counts the memories taken from the pool (for tests).
	reused int
}

// get takes the smallest kept array of capacity in [capacity, max], or
// returns nil.
func (p *memPool) get(capacity, max uint64) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		c := uint64(cap(b))
		if c >= capacity && c <= max && (best < 0 || c < uint64(cap(p.free[best]))) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b := p.free[best]
	p.free = slices.Delete(p.free, best, best+1)
	p.bytes -= uint64(cap(b))
	p.reused++
	return b
}

// put zeroes b and keeps it, if there is room. Only b[:len(b)] needs
// zeroing: a memory never shrinks, and what lies past its length was
// never exposed, so it is still zero.
func (p *memPool) put(b []byte) {
	c := uint64(cap(b))
	if c == 0 || c > linmem.Jump || !p.room(c) {
		return
	}
	clear(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < memPoolCount && p.bytes+c <= memPoolBytes {
		p.free = append(p.free, b[:0])
		p.bytes += c
	}
}

func (p *memPool) room(c uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) < memPoolCount && p.bytes+c <= memPoolBytes
}

// linearMemory is a core instance's memory: it grows as linmem's do.
type linearMemory struct {
	*linmem.Memory
	pool *memPool
	// reuse says Free may give the array back to the pool: set by the
	// instance's Close when no view of it can be left.
	reuse bool
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	if m.reuse {
		m.pool.put(m.Bytes())
	}
	m.Memory.Free()
}

// allocate is the run's experimental.MemoryAllocator: memories come from
// the engine's pool when it has one that fits, and the run keeps them so
// that Close can say whether they may go back.
func (r *run) allocate(capacity, max uint64) experimental.LinearMemory {
	capacity = min(capacity, max)
	buf := r.eng.mems.get(capacity, max)
	if buf == nil {
		buf = make([]byte, 0, capacity)
	}
	m := &linearMemory{Memory: linmem.New(buf, max), pool: &r.eng.mems}
	r.mems = append(r.mems, m)
	return m
}

// newRunContext is the context of a run's wasm calls and instantiations:
// it allocates memories, and host functions find the run in it.
func (r *run) newRunContext() context.Context {
	ctx := experimental.WithMemoryAllocator(context.Background(), experimental.MemoryAllocatorFunc(r.allocate))
	return context.WithValue(ctx, runKey{}, r)
}

// memoryUnreachable reports whether nothing outside the run's instances
// can still reach their memories: no stream or future copy is in flight
// (the host may hold a view of the buffer until its event is delivered).
func (r *run) memoryUnreachable() bool {
	if r.viewsLeft {
		return false
	}
	for _, ci := range r.insts {
		if len(ci.pending) > 0 {
			return false
		}
	}
	return true
}
