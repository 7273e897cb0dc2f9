package vnet

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// A pipe's ring grows as bytes need it and keeps their order through
// wrap-arounds, growth and resizes; it is never longer than its size,
// except that a resize below what it holds keeps those bytes.
func TestPipeRingKeepsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := &pipe{size: 10000}
	var ref bytes.Buffer
	next := byte(0)
	held := 0 // what the pipe held when it was last resized: a shrunk ring keeps it
	for i := 0; i < 20000; i++ {
		switch r.IntN(5) {
		case 0, 1:
			b := make([]byte, r.IntN(7000))
			for j := range b {
				b[j] = next
				next++
			}
			b = b[:min(len(b), p.space())]
			if k := p.write(b); k != len(b) {
				t.Fatalf("op %d: wrote %d of %d with space", i, k, len(b))
			}
			ref.Write(b)
		case 2, 3:
			got := make([]byte, r.IntN(7000))
			k := p.read(got)
			want := ref.Next(k)
			if !bytes.Equal(got[:k], want) {
				t.Fatalf("op %d: read %d bytes out of order", i, k)
			}
		case 4:
			p.resize(1000 + r.IntN(20000))
			held = p.n
		}
		if p.n != ref.Len() || len(p.buf) > max(p.size, held, minRing) {
			t.Fatalf("op %d: %d buffered (want %d), ring %d for size %d", i, p.n, ref.Len(), len(p.buf), p.size)
		}
	}
}
