package host

import (
	"github.com/wasisim/wasisim/sim"
)

// WriteStdout is wasi:cli/stdout.write-via-stream(data): the host consumes
// the stream into the buffer Host.Stdout returns. Under P3 it returns a
// future; under P3AsyncWrite a subtask (stdio has no self to lend).
func (in *Instance) WriteStdout(data Handle) (Handle, error) {
	return in.writeStdio(data, "stdout.write-via-stream", &in.h.stdout)
}

// WriteStderr is wasi:cli/stderr.write-via-stream(data).
func (in *Instance) WriteStderr(data Handle) (Handle, error) {
	return in.writeStdio(data, "stderr.write-via-stream", &in.h.stderr)
}

func (in *Instance) writeStdio(data Handle, call string, out *[]byte) (Handle, error) {
	in.h.w.Yield()
	re, err := readEndOf[byte](in, data, call)
	if err == nil {
		_, err = in.take(data, KindStreamReader, call)
	}
	if err != nil {
		return 0, err
	}
	s := re.s
	f := newFuture(in.h, call)
	kind := KindFutureReader
	if in.h.opt.Variant == P3AsyncWrite {
		kind = KindSubtask
	}
	result := in.insert(kind, &futureEnd{f: f, subtask: kind == KindSubtask})
	chunk := in.h.opt.Chunk
	rbuf := make([]byte, 0, chunk)
	in.h.w.Go(call, func(*sim.Task) error {
		for {
			buf, dropped, err := s.hostRead(rbuf, chunk)
			if err != nil {
				return err
			}
			*out = append(*out, buf...)
			if dropped {
				s.dropReader()
				f.resolve(nil)
				return nil
			}
		}
	})
	return result, nil
}

// ReadStdin is wasi:cli/stdin.read-via-stream: a stream of the host's stdin
// (Options.Stdin) from where the previous reader stopped, and a future of
// the result.
func (in *Instance) ReadStdin() (data, result Handle, err error) {
	in.h.w.Yield()
	if err := in.check("stdin.read-via-stream"); err != nil {
		return 0, 0, err
	}
	s := newStream[byte](in.h, "stdin")
	s.produced = true
	f := newFuture(in.h, "stdin")
	data = in.insert(KindStreamReader, &readEnd[byte]{s: s})
	result = in.insert(KindFutureReader, &futureEnd{f: f})
	h := in.h
	chunk := h.opt.Chunk
	h.w.Go("stdin", func(*sim.Task) error {
		for h.stdinRd < len(h.opt.Stdin) {
			end := min(h.stdinRd+chunk, len(h.opt.Stdin))
			n, dropped, err := s.hostWrite(h.opt.Stdin[h.stdinRd:end])
			h.stdinRd += n
			if err != nil {
				return err
			}
			if dropped {
				break
			}
		}
		s.dropWriter()
		f.resolve(nil)
		return nil
	})
	return data, result, nil
}
