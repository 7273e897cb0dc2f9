package host

import (
	"io"

	"github.com/wasisim/wasisim/sim"
)

// This file is the one mechanism behind every method that derives streams
// and futures from a descriptor or socket: it makes them, gives each one
// reference on the shared object (see "Shared ownership" in the package
// doc), and runs the host task that produces into or consumes them.

// output makes what read-via-stream, read-directory and receive return: a
// stream<T> the host produces into and a future of the result, each
// holding a reference on so (nil: nothing to keep alive, as for stdin).
func output[T any](in *Instance, so *sharedObj, what string) (s *stream[T], f *future, data, result Handle) {
	s = newStream[T](in.h, what)
	s.produced = true
	f = newFuture(in.h, what)
	data = in.insert(KindStreamReader, &readEnd[T]{s: s})
	result = in.insert(KindFutureReader, &futureEnd{f: f})
	keepAlive(so, s, f)
	return s, f, data, result
}

// keepAlive gives the stream and the future (f may be nil) one reference
// each on so (nil: nothing to keep alive): the stream's is released when
// both its ends are gone, the future's when its readable end is dropped.
func keepAlive[T any](so *sharedObj, s *stream[T], f *future) {
	if so == nil {
		return
	}
	s.whenDead(so.Acquire(holder{what: s.name}).Release)
	if f != nil {
		f.whenDropped(so.Acquire(holder{what: f.name}).Release)
	}
}

// writerSelf resolves the `self` of a writing method (write-via-stream,
// append-via-stream, send): under P3 a plain func, which lends nothing
// observable; under P3AsyncWrite an async func, which lends self until its
// stream is consumed, so it returns the func that ends the lend when the
// result resolves.
func writerSelf[T any](in *Instance, h Handle, kind Kind, call string) (T, func(), error) {
	if in.h.opt.Variant == P3AsyncWrite {
		return lentSelf[T](in, h, kind, call)
	}
	obj, err := plainSelf[T](in, h, kind, call)
	return obj, nil, err
}

// input takes the readable end data as the input of a writing method and
// makes its result: a future, or under P3AsyncWrite a subtask. The stream
// and the result each hold a reference on so (nil: none). On a trap the
// lend is ended and nothing is taken.
func (in *Instance) input(data Handle, call string, so *sharedObj, what string, endLend func()) (*stream[byte], *future, Handle, error) {
	re, err := readEndOf[byte](in, data, call)
	if err == nil {
		_, err = in.take(data, KindStreamReader, call)
	}
	if err != nil {
		if endLend != nil {
			endLend()
		}
		return nil, nil, 0, err
	}
	s := re.s
	f := newFuture(in.h, what)
	kind, subtask := KindFutureReader, false
	if in.h.opt.Variant == P3AsyncWrite {
		kind, subtask = KindSubtask, true
		f.endLend = endLend
	}
	result := in.insert(kind, &futureEnd{f: f, subtask: subtask})
	keepAlive(so, s, f)
	return s, f, result, nil
}

// refuse ends a writing call whose error is known at call time: the
// future resolves err at once and the input stream is dropped, so the
// guest's writer sees DROPPED with no progress.
func refuse(s *stream[byte], f *future, err error) {
	s.dropReader()
	f.resolve(err)
}

// consume runs the host task of a writing method: it reads the guest's
// stream in chunks of at most Options.Chunk bytes and hands each to sink.
// When the guest drops its end, finish runs (a FIN for send; nil: nothing)
// and the future resolves with its error; a sink error resolves the future
// with it and drops the stream, so the guest's writer sees DROPPED.
func (in *Instance) consume(name string, s *stream[byte], f *future, sink func([]byte) error, finish func() error) {
	chunk := in.h.opt.Chunk
	var buf []byte // grown by the reads, up to chunk, and reused
	in.h.w.Go(name, func(*sim.Task) error {
		for {
			got, dropped, err := s.hostRead(buf, chunk)
			if err != nil {
				return err
			}
			if len(got) > 0 {
				if err := sink(got); err != nil {
					refuse(s, f, err)
					return nil
				}
			}
			buf = got[:0]
			if dropped {
				var err error
				if finish != nil {
					err = finish()
				}
				s.dropReader()
				f.resolve(err)
				return nil
			}
		}
	}).Annotated() // host code: its accesses are recorded (footprint.go)
}

// produce runs the host task of a reading method: next returns the next
// elements to deliver, or an error (io.EOF: the normal end). The stream
// ends at the error and the future resolves with it (ok for io.EOF). If
// the guest drops the stream early, the future resolves ok: not reading to
// the end is not an error. taken, if set, learns how many of each batch
// the guest actually took.
func produce[T any](in *Instance, name string, s *stream[T], f *future, next func() ([]T, error), taken func(int)) {
	in.h.w.Go(name, func(*sim.Task) error {
		for {
			if s.touch(); s.rdDrop {
				f.resolve(nil)
				return nil
			}
			items, err := next()
			if s.touch(); s.rdDrop {
				f.resolve(nil)
				return nil
			}
			if len(items) > 0 {
				n, dropped, werr := s.hostWrite(items)
				if taken != nil {
					taken(n)
				}
				if werr != nil {
					return werr
				}
				if dropped {
					f.resolve(nil)
					return nil
				}
			}
			if err != nil {
				s.dropWriter()
				if err == io.EOF {
					err = nil
				}
				f.resolve(err)
				return nil
			}
		}
	}).Annotated() // host code: its accesses are recorded (footprint.go)
}
