package vnet

import "github.com/wasisim/wasisim/internal/wait"

// pipe is one direction of a TCP connection: a bounded byte ring written by
// one socket and read by the other, plus the end-of-stream flags. All
// fields are guarded by Net.mu.
type pipe struct {
	size    int        // capacity in bytes
	buf     []byte     // ring storage, grown by writes up to size (more only after a shrink)
	r, n    int        // read offset and number of buffered bytes
	fin     bool       // the writer shut down: the reader sees EOF after the data
	gone    bool       // the reading socket was released: writes fail (broken)
	discard bool       // the reader shut down: incoming data is dropped
	reset   bool       // the connection was reset
	q       wait.Queue // readers waiting for data and writers waiting for space
	conn    uint64     // the connection's number (both directions share it), for footprints
}

// space is how many bytes a write may add (none while a shrunken pipe
// still holds more than its new size).
func (p *pipe) space() int { return max(0, p.size-p.n) }

// resize sets the capacity, keeping the buffered bytes (a pipe shrunk
// below them holds them until they are read), and reports whether it
// changed.
func (p *pipe) resize(size int) bool {
	if size == p.size {
		return false
	}
	p.size = size
	if len(p.buf) > max(size, p.n) {
		p.grow(max(size, p.n))
	}
	return true
}

// grow moves the buffered bytes to a new ring of length k (≥ p.n).
func (p *pipe) grow(k int) {
	buf := make([]byte, k)
	n := p.n
	if n > 0 {
		p.read(buf[:n])
	}
	p.buf, p.r, p.n = buf, 0, n
}

// minRing is the smallest ring a pipe allocates: a connection that moves
// a few bytes does not pay for its whole capacity (exploration makes
// thousands of such connections a second), and one that moves a lot
// doubles its ring a few more times.
const minRing = 512

// write copies as much of b as the ring holds and returns the count;
// callers bound b by space. The ring grows (doubling, up to size) as the
// buffered bytes need it.
func (p *pipe) write(b []byte) int {
	if need := p.n + len(b); need > len(p.buf) && len(p.buf) < p.size {
		p.grow(min(p.size, max(need, 2*len(p.buf), minRing)))
	}
	total := 0
	for len(b) > 0 && p.n < len(p.buf) {
		w := (p.r + p.n) % len(p.buf)
		end := len(p.buf)
		if w < p.r {
			end = p.r
		}
		c := copy(p.buf[w:end], b)
		p.n += c
		b = b[c:]
		total += c
	}
	return total
}

// read moves up to len(b) buffered bytes into b and returns the count.
func (p *pipe) read(b []byte) int {
	total := 0
	for len(b) > 0 && p.n > 0 {
		end := p.r + p.n
		if end > len(p.buf) {
			end = len(p.buf)
		}
		c := copy(b, p.buf[p.r:end])
		p.r = (p.r + c) % len(p.buf)
		p.n -= c
		b = b[c:]
		total += c
	}
	if p.n == 0 {
		p.r = 0
	}
	return total
}

// drop discards the buffered bytes and returns how many there were.
func (p *pipe) drop() int {
	c := p.n
	p.r, p.n = 0, 0
	return c
}
