package vnet

import "github.com/wasisim/wasisim/internal/wait"

// pipe is one direction of a TCP connection: a bounded byte ring written by
// one socket and read by the other, plus the end-of-stream flags. All
// fields are guarded by Net.mu.
type pipe struct {
	size    int        // capacity in bytes
	buf     []byte     // ring storage, grown by writes up to size (see grow)
	r, n    int        // read offset and number of buffered bytes
	fin     bool       // the writer shut down: the reader sees EOF after the data
	gone    bool       // the reading socket was released: writes fail (broken)
	discard bool       // the reader shut down: incoming data is dropped
	reset   bool       // the connection was reset
	q       wait.Queue // readers waiting for data and writers waiting for space
	conn    uint64     // the connection's number (both directions share it), for footprints
}

func (p *pipe) space() int { return p.size - p.n }

// write copies as much of b as fits and returns the count.
func (p *pipe) write(b []byte) int {
	if p.n+len(b) > len(p.buf) && len(p.buf) < p.size {
		p.grow(p.n + len(b))
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

// grow enlarges the ring to hold at least want bytes (at most size),
// with the buffered bytes first. Most connections carry little, so the
// ring starts small instead of at its full size.
func (p *pipe) grow(want int) {
	n := min(p.size, max(want, 2*len(p.buf), 512))
	buf := make([]byte, n)
	c := 0
	for c < p.n {
		end := min(p.r+p.n-c, len(p.buf))
		c += copy(buf[c:], p.buf[p.r:end])
		p.r = (p.r + (end - p.r)) % len(p.buf)
	}
	p.buf, p.r = buf, 0
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
