package linmem

import "testing"

// Growing a page at a time copies a few times, never past the maximum,
// and keeps the contents.
func TestGrowth(t *testing.T) {
	const page, max = 1 << 16, 1 << 30
	m := Allocator.Allocate(page, max)
	b := m.Reallocate(page)
	b[0], b[page-1] = 1, 2
	moves := 0
	for size := uint64(2 * page); size <= max; size += page {
		nb := m.Reallocate(size)
		if uint64(len(nb)) != size || nb[0] != 1 || nb[page-1] != 2 {
			t.Fatalf("grow to %d: len %d, contents lost", size, len(nb))
		}
		if &nb[0] != &b[0] {
			moves++
		}
		b = nb
	}
	if moves > 12 || cap(b) != max {
		t.Fatalf("%d copies, capacity %d", moves, cap(b))
	}
	if m.Reallocate(max+page) != nil {
		t.Fatal("grew past the maximum")
	}
	m.Free()
}
