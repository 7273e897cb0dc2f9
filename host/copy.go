package host

import (
	"fmt"
	"strconv"

	"github.com/wasisim/wasisim/sim"
)

// This file is the element-type-independent face of streams and futures
// that the Component Model's built-ins need (stream.read/write,
// future.read/write, their cancels, stream.new and future.new for any
// element type), next to the typed Go methods of stream.go and future.go.
// A copy either completes at once, or stays pending and later becomes an
// event of the end (delivered by WaitEvent/PollEvent, or by WaitCopy).

// copier is a stream or future end as the built-ins see it.
type copier interface {
	waitable
	// startCopy starts a read of up to n elements (readable ends) or a
	// write of data (writable ends). It reports a trap detail for an
	// argument of the wrong type.
	startCopy(in *Instance, n int, data any) string
	// busy reports whether a copy is pending.
	busy() bool
	// done reports whether the end reported DROPPED (or, for a future,
	// finished its one copy): only dropping it is allowed.
	finished() bool
	// cancelCopy cancels the pending copy; it completes at once (with
	// CANCELLED, or what the copy achieved if it won the race).
	cancelCopy()
}

func (in *Instance) copierOf(h Handle, call string) (copier, error) {
	e, err := in.live(h, call)
	if err != nil {
		return nil, err
	}
	c, ok := e.obj.(copier)
	if !ok {
		return nil, in.trap(TrapWrongType, h, call, "a "+e.kind.String()+" is not a stream or future end")
	}
	return c, nil
}

// StartCopy is stream.read, stream.write, future.read or future.write on
// end h, whatever its element type: a read of up to n elements, or a
// write of data (a []byte for stream<u8>, a []any for a stream a guest
// made of other elements, the value for a future); for a read, data may
// be the buffer to read into (a []byte of capacity n for stream<u8>). If the copy completes
// at once its event is returned with done set; otherwise it is pending
// and becomes an event of h later. A pending copy on h, or a copy after
// the end reported DROPPED, traps.
func (in *Instance) StartCopy(h Handle, n int, data any) (ev Event, done bool, err error) {
	const call = "copy"
	in.h.boundary()
	c, err := in.copierOf(h, call)
	if err != nil {
		return Event{}, false, err
	}
	if n < 0 || n > maxCopy {
		return Event{}, false, in.trap(TrapBadArgument, h, call, "length "+strconv.Itoa(n))
	}
	if c.busy() {
		return Event{}, false, in.trap(TrapBusyEnd, h, call, "a copy is already in flight")
	}
	if c.finished() {
		return Event{}, false, in.trap(TrapAfterDropped, h, call, "")
	}
	if detail := c.startCopy(in, n, data); detail != "" {
		return Event{}, false, in.trap(TrapWrongType, h, call, detail)
	}
	if c.ready() {
		return c.take(in, h), true, nil
	}
	return Event{}, false, nil
}

// WaitCopy blocks until the copy pending on h completes and returns its
// event (a synchronous stream.read and the like).
func (in *Instance) WaitCopy(h Handle) (Event, error) {
	const call = "copy"
	c, err := in.copierOf(h, call)
	if err != nil {
		return Event{}, err
	}
	if !c.busy() {
		return Event{}, in.trap(TrapBadArgument, h, call, "no copy in flight")
	}
	for !c.ready() {
		if err := in.eventQueue().Wait("copy on handle " + strconv.Itoa(int(h)) + " of " + in.name); err != nil {
			return Event{}, err
		}
		if err := in.check(call); err != nil {
			return Event{}, err
		}
	}
	return c.take(in, h), nil
}

// CancelCopy is stream.cancel-read/-write and future.cancel-read/-write:
// it cancels the copy pending on h and returns its event, which may
// report COMPLETED or DROPPED instead of CANCELLED if the copy won the
// race. It never blocks.
func (in *Instance) CancelCopy(h Handle) (Event, error) {
	const call = "cancel"
	in.h.boundary()
	c, err := in.copierOf(h, call)
	if err != nil {
		return Event{}, err
	}
	if !c.busy() {
		return Event{}, in.trap(TrapBadArgument, h, call, "no copy in flight")
	}
	if !c.ready() {
		c.cancelCopy()
	}
	return c.take(in, h), nil
}

// Pending reports whether a copy is in flight on the end h.
func (in *Instance) Pending(h Handle) bool {
	if in.KindOf(h) == 0 {
		return false
	}
	c, ok := in.table[h-1].obj.(copier)
	return ok && c.busy()
}

// NewValueStream is stream.new for a stream whose elements are not bytes:
// the elements are Go values (a component's lifted values), carried as
// they are.
func (in *Instance) NewValueStream(what string) (r, w Handle, err error) {
	if err := in.check("stream.new"); err != nil {
		return 0, 0, err
	}
	s := newStream[any](in.h, what)
	r = in.insert(KindStreamReader, &readEnd[any]{s: s})
	w = in.insert(KindStreamWriter, &writeEnd[any]{s: s})
	return r, w, nil
}

// ---- stream ends as copiers ----

func (e *readEnd[T]) finished() bool { return e.sawDrop }
func (e *readEnd[T]) cancelCopy()    { e.s.cancel(e.pending) }

// startCopy reads into dst's storage when the caller passes a []T of
// capacity n (a component's own buffer), else into a new slice.
func (e *readEnd[T]) startCopy(in *Instance, n int, dst any) string {
	buf, _ := dst.([]T)
	if cap(buf) < n {
		buf = nil
	}
	var mem sim.Obj
	if buf != nil {
		mem = in.GuestMemory() // buf is a view of the guest's memory
	}
	e.pending = e.s.startReadInto(buf, n, mem)
	in.watch(&e.pending.notify, e.pending.done)
	return ""
}

func (e *writeEnd[T]) finished() bool { return e.sawDrop }
func (e *writeEnd[T]) cancelCopy()    { e.s.cancel(e.pending) }

func (e *writeEnd[T]) startCopy(in *Instance, _ int, data any) string {
	d, ok := data.([]T)
	if !ok {
		var want []T
		return fmt.Sprintf("writing %T to a stream of %T", data, want)
	}
	e.pending = e.s.startWriteFrom(d, in.GuestMemory()) // d may be a view of the guest's memory
	in.watch(&e.pending.notify, e.pending.done)
	return ""
}

// ---- futures a guest makes (future.new) ----

// futureWriter is the guest's writable end of a future it made. Its one
// write offers the value; the write ends when the reader takes it
// (COMPLETED) or drops its end (DROPPED); a cancelled write may be
// retried.
type futureWriter struct {
	f *future
	// pending is set while the offered value waits for the reader.
	pending bool
	// ev is set when the write ended (or was cancelled) and the event has
	// not been delivered; res is its result.
	ev  bool
	res CopyResult
	// final is set once the write completed or saw DROPPED: only dropping
	// the end is allowed then.
	final bool
	// in is the instance that started the write, told when it ends.
	in *Instance
}

// NewFuture is future.new: a future the guest writes (StartCopy on the
// writable end) and reads (StartCopy or Await on the readable end).
func (in *Instance) NewFuture(what string) (r, w Handle, err error) {
	if err := in.check("future.new"); err != nil {
		return 0, 0, err
	}
	f := newFuture(in.h, what)
	f.writer = &futureWriter{f: f}
	r = in.insert(KindFutureReader, &futureEnd{f: f})
	w = in.insert(KindFutureWriter, f.writer)
	return r, w, nil
}

// A future's writer is part of the future's object: the reader ends its
// write.
func (fw *futureWriter) String() string { return fw.f.name + " writable" }
func (fw *futureWriter) busy() bool     { fw.f.touch(); return fw.pending || fw.ev }
func (fw *futureWriter) finished() bool { fw.f.touch(); return fw.final }
func (fw *futureWriter) ready() bool    { fw.f.touch(); return fw.ev }

func (fw *futureWriter) startCopy(in *Instance, _ int, data any) string {
	f := fw.f
	f.touch()
	fw.in = in
	if f.rdDrop {
		fw.end(Dropped)
		return ""
	}
	fw.pending = true
	f.offer(data)
	return ""
}

func (fw *futureWriter) take(_ *Instance, h Handle) Event {
	fw.f.touch()
	fw.ev = false
	return Event{Code: EventFutureWrite, Handle: h, Copy: fw.res}
}

// cancelCopy retracts a value the reader has not taken.
func (fw *futureWriter) cancelCopy() {
	f := fw.f
	f.touch()
	f.resolved, f.value = false, nil
	fw.pending = false
	fw.ev, fw.res = true, CopyResult{Status: Cancelled}
}

// end ends the write: the reader took the value or dropped its end.
func (fw *futureWriter) end(st CopyStatus) {
	fw.f.touch()
	fw.pending = false
	fw.final = true
	fw.ev = true
	fw.res = CopyResult{Status: st}
	if st == Completed {
		fw.res.Progress = 1
	}
	if fw.in != nil {
		fw.in.eventQueue().Broadcast()
	}
}

func (fw *futureWriter) dropCheck() (TrapKind, string) {
	fw.f.touch()
	if fw.busy() {
		return TrapBusyEnd, "write in flight on " + fw.f.name + "; cancel it first"
	}
	if !fw.final {
		return TrapBadArgument, "dropping the writable end of " + fw.f.name + " before writing it"
	}
	return 0, ""
}

func (fw *futureWriter) drop() {
	fw.f.touch()
	fw.f.wrDrop = true
	fw.f.h.w.Event("drop-writable", fw.f.name, "")
}

// offer makes a guest-written value available to the reader.
func (f *future) offer(v any) {
	f.touch()
	f.resolved = true
	f.value = v
	if f.h.w.Tracing() {
		f.h.w.Event("offer", f.name, "")
	}
	f.q.Broadcast()
	if f.notify != nil {
		f.notify.Broadcast()
	}
}

// ---- the readable end of a future, and p3-async-write subtasks ----

func (e *futureEnd) busy() bool     { return e.async || e.cancelled }
func (e *futureEnd) finished() bool { e.f.touch(); return e.f.delivered }

func (e *futureEnd) ready() bool {
	e.f.touch()
	if e.subtask {
		return e.f.resolved && !e.f.delivered
	}
	return e.cancelled || e.async && e.f.resolved
}

func (e *futureEnd) startCopy(in *Instance, _ int, _ any) string {
	e.f.touch()
	if e.subtask {
		return "a subtask is not read"
	}
	e.async = true
	e.f.reading = true
	e.f.notify = in.eventQueue()
	return ""
}

func (e *futureEnd) cancelCopy() {
	e.f.touch()
	e.async = false
	e.f.reading = false
	e.cancelled = true
}

func (e *futureEnd) take(in *Instance, h Handle) Event {
	f := e.f
	f.touch()
	if e.subtask {
		f.delivered = true
		return Event{Code: EventSubtask, Handle: h, Subtask: SubtaskReturned, Value: f.value}
	}
	if e.cancelled {
		e.cancelled = false
		return Event{Code: EventFutureRead, Handle: h, Copy: CopyResult{Status: Cancelled}}
	}
	e.async = false
	f.reading = false
	f.deliver(in)
	return Event{Code: EventFutureRead, Handle: h, Copy: CopyResult{Progress: 1, Status: Completed}, Data: f.value, FromHost: f.writer == nil}
}

// deliver marks the value read, ending the guest writer's write.
func (f *future) deliver(in *Instance) {
	f.touch()
	f.delivered = true
	if in.h.w.Tracing() {
		in.h.w.Event("deliver", f.name, valueString(f.value))
	}
	if f.writer != nil {
		f.writer.end(Completed)
	}
}

func valueString(v any) string {
	if err, ok := v.(error); ok || v == nil {
		return resultString(err)
	}
	return "value"
}
