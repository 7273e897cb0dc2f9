package host

import (
	"io"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// stdinState is the host's stdin: what guests have not read yet, and,
// for a live reader, the tasks waiting for more.
type stdinState struct {
	buf     []byte // not yet taken by a guest
	eof     bool   // no more will come
	waiters *sim.WaitQueue
}

// WriteStdout is wasi:cli/stdout.write-via-stream(data): the host consumes
// the stream into Options.Stdout, or the buffer Host.Stdout returns.
// Under P3 it returns a future; under P3AsyncWrite a subtask (stdio has
// no self to lend).
func (in *Instance) WriteStdout(data Handle) (Handle, error) {
	return in.writeStdio(data, "stdout.write-via-stream", 1)
}

// WriteStderr is wasi:cli/stderr.write-via-stream(data).
func (in *Instance) WriteStderr(data Handle) (Handle, error) {
	return in.writeStdio(data, "stderr.write-via-stream", 2)
}

func (in *Instance) writeStdio(data Handle, call string, fd int) (Handle, error) {
	in.h.boundary()
	if err := in.check(call); err != nil {
		return 0, err
	}
	// Stdio has no self to lend, under either variant.
	s, f, result, err := in.input(data, call, nil, call, nil)
	if err != nil {
		return 0, err
	}
	in.consume(call, s, f, func(buf []byte) error { return in.h.emit(fd, buf) }, nil)
	return result, nil
}

// emit writes guest output to stdout (fd 1) or stderr (fd 2).
func (h *Host) emit(fd int, p []byte) error {
	w, keep := h.opt.Stdout, &h.stdout
	what := uint64(hostStdout)
	if fd == 2 {
		w, keep, what = h.opt.Stderr, &h.stderr, hostStderr
	}
	h.touch(what, sim.Write)
	if w == nil {
		*keep = append(*keep, p...)
		return nil
	}
	if _, err := w.Write(p); err != nil {
		return vfs.ErrPipe
	}
	return nil
}

// ReadStdin is wasi:cli/stdin.read-via-stream: a stream of the host's
// stdin from where the previous reader stopped, and a future of the
// result. A live stdin (Options.StdinReader) is read only while the
// guest reads the stream.
func (in *Instance) ReadStdin() (data, result Handle, err error) {
	in.h.boundary()
	if err := in.check("stdin.read-via-stream"); err != nil {
		return 0, 0, err
	}
	h := in.h
	s, f, data, result := output[byte](in, nil, "stdin")
	produce(in, "stdin", s, f, func() ([]byte, error) {
		for h.touch(hostStdin, sim.Write); len(h.stdin.buf) == 0 && !h.stdin.eof; h.touch(hostStdin, sim.Write) {
			// Wait for a reader before asking for input, so nothing is
			// read for a guest that does not read.
			if _, dropped, err := s.hostWrite(nil); err != nil || dropped {
				return nil, err
			}
			if err := h.waitStdin(); err != nil {
				return nil, err
			}
		}
		if len(h.stdin.buf) == 0 {
			return nil, io.EOF
		}
		return h.stdin.buf[:min(h.opt.Chunk, len(h.stdin.buf))], nil
	}, func(n int) { h.touch(hostStdin, sim.Write); h.stdin.buf = h.stdin.buf[n:] }) // what the guest does not take is offered to the next reader
	return data, result, nil
}

// waitStdin blocks the running task until more stdin arrived or it ended.
func (h *Host) waitStdin() error {
	if h.stdin.waiters == nil {
		h.stdin.waiters = h.w.NewWaitQueue("stdin")
		h.w.OnIdle(h.pumpStdin)
	}
	return h.stdin.waiters.Wait("")
}

// pumpStdin is the world's idle hook for a live stdin: when a guest waits
// for stdin and nothing else can run, it reads a chunk (or the end).
func (h *Host) pumpStdin() bool {
	if h.stdin.eof || h.stdin.waiters.Len() == 0 {
		return false
	}
	data, err := h.w.Input("stdin", func() ([]byte, error) {
		buf := make([]byte, h.opt.Chunk)
		for {
			n, err := h.opt.StdinReader.Read(buf)
			if n > 0 || err != nil {
				return buf[:n], err
			}
		}
	})
	h.stdin.buf = append(h.stdin.buf, data...)
	if err != nil {
		h.stdin.eof = true
	}
	h.stdin.waiters.Broadcast()
	return true
}

// StdoutWrite writes p to stdout at once (a wasi:io 0.2 output-stream
// write): a scheduling point, then every byte is written.
func (in *Instance) StdoutWrite(p []byte) error { return in.stdioWrite(p, "stdout.write", 1) }

// StderrWrite is StdoutWrite for stderr.
func (in *Instance) StderrWrite(p []byte) error { return in.stdioWrite(p, "stderr.write", 2) }

func (in *Instance) stdioWrite(p []byte, call string, fd int) error {
	in.h.boundary()
	if err := in.check(call); err != nil {
		return err
	}
	return in.h.emit(fd, p)
}

// StdinRead reads up to n bytes of stdin from where the previous reader
// stopped (a wasi:io 0.2 input-stream read), waiting for a live stdin;
// at the end it returns io.EOF.
func (in *Instance) StdinRead(n int) ([]byte, error) {
	in.h.boundary()
	if err := in.check("stdin.read"); err != nil {
		return nil, err
	}
	h := in.h
	for h.touch(hostStdin, sim.Write); len(h.stdin.buf) == 0 && !h.stdin.eof; h.touch(hostStdin, sim.Write) {
		if err := h.waitStdin(); err != nil {
			return nil, err
		}
		if err := in.check("stdin.read"); err != nil {
			return nil, err
		}
	}
	if len(h.stdin.buf) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(h.stdin.buf))
	b := append([]byte(nil), h.stdin.buf[:k]...)
	h.stdin.buf = h.stdin.buf[k:]
	return b, nil
}
