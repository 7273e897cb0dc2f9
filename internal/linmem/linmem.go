// Package linmem allocates the linear memories of wasm guests so that a
// guest growing its memory a page at a time does not make the host hold
// several times what the guest holds (wazero's own growth appends,
// copying the memory and leaving the old one to the garbage collector at
// every step).
package linmem

import "github.com/tetratelabs/wazero/experimental"

// jump is the size past which a memory grows straight to its maximum.
const jump = 64 << 20

// Allocator grows a memory by doubling up to 64 MiB, then straight to its
// maximum: the maximum is reserved address space that the host only
// backs as the guest touches it, so what the host holds at once stays
// under the memory's size plus 64 MiB.
var Allocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
	return &memory{max: max, buf: make([]byte, 0, min(capacity, max))}
})

type memory struct {
	max uint64
	buf []byte
}

func (m *memory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	c := max(2*uint64(cap(m.buf)), size, 1<<16)
	if c > jump {
		c = m.max
	}
	b := make([]byte, size, min(c, m.max))
	copy(b, m.buf)
	m.buf = b
	return b
}

func (m *memory) Free() { m.buf = nil }
