// Package linmem allocates the linear memories of wasm guests so that a
// guest growing its memory a page at a time does not make the host hold
// several times what the guest holds (wazero's own growth appends,
// copying the memory and leaving the old one to the garbage collector at
// every step).
package linmem

import "github.com/tetratelabs/wazero/experimental"

// Jump is the size past which a memory grows straight to its maximum.
const Jump = 64 << 20

// Allocator grows a memory by doubling up to 64 MiB, then straight to its
// maximum: the maximum is reserved address space that the host only
// backs as the guest touches it, so what the host holds at once stays
// under the memory's size plus 64 MiB.
var Allocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
	return New(make([]byte, 0, min(capacity, max)), max)
})

// Memory is a linear memory that grows as Allocator's do.
type Memory struct {
	max uint64
	buf []byte
}

// New makes a Memory of at most max bytes on buf, which must have length
// 0 and be zero up to its capacity.
func New(buf []byte, max uint64) *Memory { return &Memory{max: max, buf: buf} }

// Reallocate implements experimental.LinearMemory. Growing past the
// capacity moves the memory to a new array and leaves the old one to the
// garbage collector.
func (m *Memory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	c := max(2*uint64(cap(m.buf)), size, 1<<16)
	if c > Jump {
		c = m.max
	}
	b := make([]byte, size, min(c, m.max))
	copy(b, m.buf)
	m.buf = b
	return b
}

// Bytes is the memory's current array (nil once freed).
func (m *Memory) Bytes() []byte { return m.buf }

// Free implements experimental.LinearMemory.
func (m *Memory) Free() { m.buf = nil }
