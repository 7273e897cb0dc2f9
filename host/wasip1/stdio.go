package wasip1

import (
	"github.com/wasisim/wasisim/sim"
)

// stdinChunk is the most one read of a live stdin takes.
const stdinChunk = 64 << 10

// stdinState is the guest's stdin: what it has not read yet and, for a
// live reader, whether more may come and the guest waiting for it.
type stdinState struct {
	buf     []byte
	eof     bool
	waiters *sim.WaitQueue
	// chunk is reused for every read: a guest's memory can make the
	// garbage collector let a lot of garbage pile up.
	chunk []byte
}

// readStdin is fd_read on fd 0: what is buffered, else it waits for a
// chunk of a live stdin (read only now, when the guest asks for it), else
// the end of the input (0 bytes).
func (g *Guest) readStdin(iov [][]byte) (uint32, Errno) {
	want := 0
	for _, b := range iov {
		want += len(b)
	}
	for want > 0 && len(g.stdin.buf) == 0 && !g.stdin.eof {
		if g.stdin.waiters == nil {
			g.stdin.waiters = g.w.NewWaitQueue("stdin")
			g.w.OnIdle(g.pumpStdin)
		}
		if err := g.stdin.waiters.Wait(""); err != nil {
			return 0, ToErrno(err)
		}
	}
	total := uint32(0)
	for _, b := range iov {
		n := copy(b, g.stdin.buf)
		g.stdin.buf = g.stdin.buf[n:]
		total += uint32(n)
	}
	return total, ESUCCESS
}

// pumpStdin is the world's idle hook for a live stdin: when the guest
// waits for stdin and nothing else can run, it reads a chunk (or the end)
// through World.Input, which records it for replay.
func (g *Guest) pumpStdin() bool {
	if g.stdin.eof || g.stdin.waiters.Len() == 0 {
		return false
	}
	data, err := g.w.Input("stdin", func() ([]byte, error) {
		if g.stdin.chunk == nil {
			g.stdin.chunk = make([]byte, stdinChunk)
		}
		for {
			n, err := g.cfg.StdinReader.Read(g.stdin.chunk)
			if n > 0 || err != nil {
				return g.stdin.chunk[:n], err
			}
		}
	})
	g.stdin.buf = append(g.stdin.buf, data...)
	if err != nil {
		g.stdin.eof = true
	}
	g.stdin.waiters.Broadcast()
	return true
}

// writeStdio is fd_write on fd 1 or 2: to the configured writer as it
// comes, or kept.
func (g *Guest) writeStdio(stream uint32, iov [][]byte) (uint32, Errno) {
	buf, w := &g.stdout, g.cfg.Stdout
	if stream == 2 {
		buf, w = &g.stderr, g.cfg.Stderr
	}
	total := uint32(0)
	for _, b := range iov {
		if w == nil {
			buf.Write(b)
		} else if _, err := w.Write(b); err != nil {
			if total > 0 {
				break
			}
			return 0, EPIPE
		}
		total += uint32(len(b))
	}
	return total, ESUCCESS
}
