package host

import "io"

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
	if err := in.check(call); err != nil {
		return 0, err
	}
	// Stdio has no self to lend, under either variant.
	s, f, result, err := in.input(data, call, nil, call, nil)
	if err != nil {
		return 0, err
	}
	in.consume(call, s, f, func(buf []byte) error {
		*out = append(*out, buf...)
		return nil
	}, nil)
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
	h := in.h
	s, f, data, result := output[byte](in, nil, "stdin")
	produce(in, "stdin", s, f, func() ([]byte, error) {
		if h.stdinRd >= len(h.opt.Stdin) {
			return nil, io.EOF
		}
		return h.opt.Stdin[h.stdinRd:min(h.stdinRd+h.opt.Chunk, len(h.opt.Stdin))], nil
	}, func(n int) { h.stdinRd += n }) // what the guest does not take is offered to the next reader
	return data, result, nil
}

// StdoutWrite writes p to stdout at once (a wasi:io 0.2 output-stream
// write): a scheduling point, then every byte is appended.
func (in *Instance) StdoutWrite(p []byte) error {
	return in.stdioWrite(p, "stdout.write", &in.h.stdout)
}

// StderrWrite is StdoutWrite for stderr.
func (in *Instance) StderrWrite(p []byte) error {
	return in.stdioWrite(p, "stderr.write", &in.h.stderr)
}

func (in *Instance) stdioWrite(p []byte, call string, out *[]byte) error {
	in.h.w.Yield()
	if err := in.check(call); err != nil {
		return err
	}
	*out = append(*out, p...)
	return nil
}

// StdinRead reads up to n bytes of stdin from where the previous reader
// stopped (a wasi:io 0.2 input-stream read); at the end it returns io.EOF.
func (in *Instance) StdinRead(n int) ([]byte, error) {
	in.h.w.Yield()
	if err := in.check("stdin.read"); err != nil {
		return nil, err
	}
	h := in.h
	if h.stdinRd >= len(h.opt.Stdin) {
		return nil, io.EOF
	}
	end := min(h.stdinRd+n, len(h.opt.Stdin))
	b := append([]byte(nil), h.opt.Stdin[h.stdinRd:end]...)
	h.stdinRd = end
	return b, nil
}
