package wasip3

import (
	"errors"
	"io"

	"github.com/wasisim/wasisim/host/component"
)

// This file is the WASI 0.2 cli and io surface that Rust's standard
// library imports even in a WASI 0.3 program (println! writes through a
// 0.2 output-stream): stdio streams, pollables and errors, backed by the
// same host stdio as the 0.3 interfaces.

// Host resource type names of the 0.2 io objects.
const (
	rOutputStream = ifStreams02 + "#output-stream"
	rInputStream  = ifStreams02 + "#input-stream"
	rPollable     = ifPoll02 + "#pollable"
)

// stdioStream is the object behind a 0.2 stdio stream handle.
type stdioStream struct{ fd int }

// writeBudget is what check-write grants: stdout takes everything.
const writeBudget = 1 << 20

func (b *binder) p2() {
	out := func(fd int) fnImpl {
		return func(c *component.Call, _ []value) (value, error) {
			h, err := c.Instance().NewResource(rOutputStream, &stdioStream{fd: fd}, nil)
			return uint32(h), err
		}
	}
	b.fn(ifStdout02, "get-stdout", out(1))
	b.fn(ifStderr02, "get-stderr", out(2))
	b.fn(ifStdin02, "get-stdin", func(c *component.Call, _ []value) (value, error) {
		h, err := c.Instance().NewResource(rInputStream, &stdioStream{fd: 0}, nil)
		return uint32(h), err
	})

	os := func(name string, f fnImpl) { b.fn(ifStreams02, "[method]output-stream."+name, f) }
	is := func(name string, f fnImpl) { b.fn(ifStreams02, "[method]input-stream."+name, f) }
	stream := func(c *component.Call, h value, typ string) (*stdioStream, error) {
		obj, err := c.Instance().Resource(hd(h), typ)
		if err != nil {
			return nil, err
		}
		return obj.(*stdioStream), nil
	}
	write := func(c *component.Call, a []value) (value, error) {
		s, err := stream(c, a[0], rOutputStream)
		if err != nil {
			return nil, err
		}
		data, ok := a[1].([]byte)
		if !ok {
			return nil, errType("output-stream write of a %T", a[1])
		}
		if s.fd == 2 {
			err = c.Instance().StderrWrite(data)
		} else {
			err = c.Instance().StdoutWrite(data)
		}
		if err != nil {
			return nil, err
		}
		return component.Ok(nil), nil
	}
	okNil := func(c *component.Call, a []value) (value, error) {
		if _, err := stream(c, a[0], rOutputStream); err != nil {
			return nil, err
		}
		return component.Ok(nil), nil
	}
	os("check-write", func(c *component.Call, a []value) (value, error) {
		if _, err := stream(c, a[0], rOutputStream); err != nil {
			return nil, err
		}
		return component.Ok(uint64(writeBudget)), nil
	})
	os("write", write)
	os("blocking-write-and-flush", write)
	os("flush", okNil)
	os("blocking-flush", okNil)
	zeroes := func(c *component.Call, a []value) (value, error) {
		n, _ := a[1].(uint64)
		return write(c, []value{a[0], make([]byte, min(n, writeBudget))})
	}
	os("write-zeroes", zeroes)
	os("blocking-write-zeroes-and-flush", zeroes)
	subscribe := func(typ string) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			if _, err := stream(c, a[0], typ); err != nil {
				return nil, err
			}
			h, err := c.Instance().NewResource(rPollable, struct{}{}, nil)
			return uint32(h), err
		}
	}
	os("subscribe", subscribe(rOutputStream))
	is("subscribe", subscribe(rInputStream))
	read := func(c *component.Call, a []value) (value, error) {
		if _, err := stream(c, a[0], rInputStream); err != nil {
			return nil, err
		}
		n, _ := a[1].(uint64)
		data, err := c.Instance().StdinRead(int(min(n, writeBudget)))
		if errors.Is(err, io.EOF) {
			t, terr := resultTypeOf(c)
			if terr != nil {
				return nil, terr
			}
			closed, nerr := named(t.Err, "closed")
			if nerr != nil {
				return nil, nerr
			}
			return component.Err(closed), nil
		}
		if err != nil {
			return nil, err
		}
		return component.Ok(data), nil
	}
	is("read", read)
	is("blocking-read", read)

	// Stdio is always ready: a pollable is ready at once.
	b.fn(ifPoll02, "[method]pollable.ready", func(c *component.Call, a []value) (value, error) {
		if _, err := c.Instance().Resource(hd(a[0]), rPollable); err != nil {
			return nil, err
		}
		return true, nil
	})
	b.fn(ifPoll02, "[method]pollable.block", func(c *component.Call, a []value) (value, error) {
		_, err := c.Instance().Resource(hd(a[0]), rPollable)
		return nil, err
	})
	b.fn(ifPoll02, "poll", func(c *component.Call, a []value) (value, error) {
		ps, _ := a[0].([]value)
		if len(ps) == 0 {
			return nil, errType("poll of no pollables")
		}
		out := make([]value, len(ps))
		for i := range ps {
			if _, err := c.Instance().Resource(hd(ps[i]), rPollable); err != nil {
				return nil, err
			}
			out[i] = uint32(i)
		}
		return out, nil
	})
	b.fn(ifError02, "[method]error.to-debug-string", func(c *component.Call, a []value) (value, error) {
		return "error", nil
	})
}
