package vnet

import (
	"bytes"
	"testing"
)

// TestPipeGrows checks the ring that starts small: bytes come out in
// order whatever the wrap-around when it grows, and it never holds more
// than its size.
func TestPipeGrows(t *testing.T) {
	p := &pipe{size: 1024}
	var want, got []byte
	next := byte(0)
	write := func(n int) {
		b := make([]byte, n)
		for i := range b {
			b[i] = next
			next++
		}
		c := p.write(b)
		want = append(want, b[:c]...)
	}
	read := func(n int) {
		b := make([]byte, n)
		got = append(got, b[:p.read(b)]...)
	}
	write(600)
	read(500)
	write(900) // wraps, then grows with the data split across the end
	read(300)
	write(2000) // fills up to the size
	if p.n != p.size || len(p.buf) != p.size {
		t.Fatalf("holds %d in a ring of %d, want both %d", p.n, len(p.buf), p.size)
	}
	read(4096)
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes differing from the %d written", len(got), len(want))
	}
}
