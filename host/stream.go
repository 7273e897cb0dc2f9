package host

import (
	"fmt"
	"strconv"

	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
)

// CopyStatus is how a stream read or write ended.
type CopyStatus uint8

const (
	// Completed: the copy happened (possibly partially; see Progress).
	Completed CopyStatus = iota + 1
	// Dropped: the other end was dropped. For a reader this is the end of
	// the stream; for a writer, the consumer wants no more. Not an error.
	Dropped
	// Cancelled: the copy was cancelled before it completed.
	Cancelled
)

func (s CopyStatus) String() string {
	switch s {
	case Completed:
		return "COMPLETED"
	case Dropped:
		return "DROPPED"
	case Cancelled:
		return "CANCELLED"
	}
	return "pending"
}

// CopyResult is the outcome of one stream read or write: how many elements
// moved and why it ended. {Progress: 4, Status: Dropped} is legal.
type CopyResult struct {
	Progress int
	Status   CopyStatus
}

func (r CopyResult) String() string { return fmt.Sprintf("{%d %s}", r.Progress, r.Status) }

type copyOp[T any] struct {
	buf   []T // write: data offered; read: data received
	space int // read: how many elements the reader takes
	res   CopyResult
	done  bool
	// notify, if set, is signalled when the op completes: the event queue
	// of the instance whose end started it, for waitable sets.
	notify *sim.WaitQueue
	// mem, if set, is the memory of the guest whose buffer buf is a view
	// of (Instance.StartCopy): the step that copies through it touches it.
	mem sim.Obj
}

// stream is a Component Model stream<T>: a readable and a writable end and
// no buffer of its own. A copy happens only when a read and a write are both
// pending; it moves min(reader space, writer data) elements and completes
// both. Zero-length reads and writes are readiness probes: they complete
// when the other side is waiting, without completing it.
type stream[T any] struct {
	h      *Host
	id     uint64
	name   string
	rdDrop bool
	wrDrop bool
	rop    *copyOp[T]
	wop    *copyOp[T]
	q      *sim.WaitQueue
	// progress counts every element moved, for tests and traces.
	moved int64
	// At most one read and one write are pending at a time, and each
	// result is taken before its side starts another, so the ops live in
	// the stream instead of one allocation per copy.
	rslot, wslot copyOp[T]
	// onDead runs when both ends are dropped: the references the stream
	// holds are released then.
	onDead   []func()
	onRdDrop []func()
	onWrDrop []func()
	// produced marks a stream the host writes into: when the guest drops
	// the readable end, the host's writable end goes with it at once, so
	// the references the stream holds are released in the same step as
	// the guest's drop. The producer task notices at its next step.
	produced bool
}

// whenWriterDropped registers fn to run when the writable end is dropped.
func (s *stream[T]) whenWriterDropped(fn func()) { s.touch(); s.onWrDrop = append(s.onWrDrop, fn) }

// whenReaderDropped registers fn to run when the readable end is dropped,
// so a host producer blocked elsewhere can notice.
func (s *stream[T]) whenReaderDropped(fn func()) { s.touch(); s.onRdDrop = append(s.onRdDrop, fn) }

// whenDead registers fn to run once both ends are dropped.
func (s *stream[T]) whenDead(fn func()) { s.touch(); s.onDead = append(s.onDead, fn) }

func (s *stream[T]) died() {
	s.touch()
	if s.alive() {
		return
	}
	fns := s.onDead
	s.onDead = nil
	for _, fn := range fns {
		fn()
	}
	s.h.untrackIfDead(s.id, s)
}

func newStream[T any](h *Host, what string) *stream[T] {
	id := h.newID()
	s := &stream[T]{h: h, id: id, name: "stream#" + strconv.FormatUint(id, 10)}
	s.q = h.w.NewWaitQueue(s.name + " " + what) // "" waits report this name
	h.track(id, s)
	s.touch()
	h.w.Event("stream.new", s.name, what)
	return s
}

func (s *stream[T]) String() string { return s.name }

func (s *stream[T]) alive() bool { s.touch(); return !(s.rdDrop && s.wrDrop) }

func (s *stream[T]) leakInfo() string {
	var st string
	switch {
	case !s.rdDrop && !s.wrDrop:
		st = "both ends open"
	case !s.rdDrop:
		st = "readable end open"
	default:
		st = "writable end open"
	}
	return s.name + " (" + st + ")"
}

func (s *stream[T]) complete(op *copyOp[T], n int, st CopyStatus) {
	op.res = CopyResult{Progress: op.res.Progress + n, Status: st}
	op.done = true
	s.q.Broadcast()
	if op.notify != nil {
		op.notify.Broadcast()
	}
}

// rendezvous moves data when both sides are pending.
func (s *stream[T]) rendezvous() {
	r, w := s.rop, s.wop
	if r == nil || w == nil {
		return
	}
	switch {
	case len(w.buf) == 0: // write probe: a reader is ready
		s.wop = nil
		s.complete(w, 0, Completed)
	case r.space == 0: // read probe: a writer is ready
		s.rop = nil
		s.complete(r, 0, Completed)
	default:
		n := min(r.space, len(w.buf))
		for _, m := range [2]sim.Obj{r.mem, w.mem} {
			if m.Kind != 0 {
				s.h.w.Touch(m, sim.Write)
			}
		}
		r.buf = append(r.buf, w.buf[:n]...)
		w.buf = w.buf[n:]
		s.moved += int64(n)
		s.rop, s.wop = nil, nil
		if s.h.w.Tracing() {
			s.h.w.Event("copy", s.name, strconv.Itoa(n))
		}
		s.complete(r, n, Completed)
		s.complete(w, n, Completed)
	}
}

// startWrite offers data; the op completes at a rendezvous, on a reader
// drop, or on cancel.
func (s *stream[T]) startWrite(data []T) *copyOp[T] { return s.startWriteFrom(data, sim.Obj{}) }

// startWriteFrom is startWrite of a view of the memory mem stands for.
func (s *stream[T]) startWriteFrom(data []T, mem sim.Obj) *copyOp[T] {
	s.touch()
	op := &s.wslot
	*op = copyOp[T]{buf: data, mem: mem}
	if s.rdDrop {
		s.complete(op, 0, Dropped)
		return op
	}
	s.wop = op
	s.rendezvous()
	return op
}

func (s *stream[T]) startRead(n int) *copyOp[T] { return s.startReadInto(nil, n, sim.Obj{}) }

// startReadInto reads into dst[:0] (reusing its capacity); mem, if set,
// stands for the memory dst is a view of.
func (s *stream[T]) startReadInto(dst []T, n int, mem sim.Obj) *copyOp[T] {
	s.touch()
	op := &s.rslot
	*op = copyOp[T]{space: n, buf: dst[:0], mem: mem}
	if s.wrDrop {
		s.complete(op, 0, Dropped)
		return op
	}
	s.rop = op
	s.rendezvous()
	return op
}

// wait blocks the running task until op completes.
func (s *stream[T]) wait(op *copyOp[T]) error {
	for s.touch(); !op.done; s.touch() {
		if err := s.q.Wait(""); err != nil {
			return err
		}
	}
	return nil
}

func (s *stream[T]) cancel(op *copyOp[T]) {
	s.touch()
	if op.done {
		return // the cancel lost the race: report what happened
	}
	if s.rop == op {
		s.rop = nil
	}
	if s.wop == op {
		s.wop = nil
	}
	s.complete(op, 0, Cancelled)
}

func (s *stream[T]) dropReader() {
	s.touch()
	if s.rdDrop {
		return
	}
	s.rdDrop = true
	if w := s.wop; w != nil {
		s.wop = nil
		s.complete(w, 0, Dropped)
	}
	s.h.w.Event("drop-readable", s.name, "")
	s.q.Broadcast()
	fns := s.onRdDrop
	s.onRdDrop = nil
	for _, fn := range fns {
		fn()
	}
	if s.produced && !s.wrDrop {
		s.dropWriter()
		return
	}
	s.died()
}

func (s *stream[T]) dropWriter() {
	s.touch()
	if s.wrDrop {
		return
	}
	s.wrDrop = true
	if r := s.rop; r != nil {
		s.rop = nil
		if s.h.mut.Has(mutation.DeliverAfterDropped) && r.space > 0 {
			var junk T // mutation: an element that was never written
			r.buf = append(r.buf, junk)
			s.complete(r, 1, Dropped)
		} else {
			s.complete(r, 0, Dropped)
		}
	}
	s.h.w.Event("drop-writable", s.name, "")
	s.q.Broadcast()
	for _, fn := range s.onWrDrop {
		fn()
	}
	s.onWrDrop = nil
	s.died()
}

// ---- ends as seen through a handle ----

// readEnd and writeEnd are the guest's view of one end: an async copy it
// started and whether the end already reported DROPPED.
type readEnd[T any] struct {
	s       *stream[T]
	pending *copyOp[T]
	sawDrop bool
}

type writeEnd[T any] struct {
	s       *stream[T]
	pending *copyOp[T]
	sawDrop bool
}

func (e *readEnd[T]) busy() bool  { return e.pending != nil }
func (e *writeEnd[T]) busy() bool { return e.pending != nil }

func (e *readEnd[T]) dropCheck() (TrapKind, string) {
	if e.pending != nil {
		return TrapBusyEnd, "read in flight on " + e.s.name + "; cancel it first"
	}
	return 0, ""
}

func (e *writeEnd[T]) dropCheck() (TrapKind, string) {
	if e.pending != nil {
		return TrapBusyEnd, "write in flight on " + e.s.name + "; cancel it first"
	}
	return 0, ""
}

func (e *readEnd[T]) drop() { e.s.dropReader() }

func (e *readEnd[T]) forceDrop() {
	if e.pending != nil {
		e.s.cancel(e.pending)
		e.pending = nil
	}
	e.s.dropReader()
}

func (e *writeEnd[T]) forceDrop() {
	if e.pending != nil {
		e.s.cancel(e.pending)
		e.pending = nil
	}
	e.s.dropWriter()
}

func (e *writeEnd[T]) drop()          { e.s.dropWriter() }
func (e *readEnd[T]) String() string  { return e.s.name + " readable" }
func (e *writeEnd[T]) String() string { return e.s.name + " writable" }

// ---- host-side ends: what the host uses to produce into or consume a stream ----

// hostWrite writes all of data into the stream from a host task, in
// copies of whatever the reader takes. It returns the elements written
// and whether the reader dropped its end.
func (s *stream[T]) hostWrite(data []T) (int, bool, error) {
	written := 0
	for {
		op := s.startWrite(data[written:])
		if err := s.wait(op); err != nil {
			return written, false, err
		}
		written += op.res.Progress
		if op.res.Status == Dropped {
			return written, true, nil
		}
		if written == len(data) {
			return written, false, nil
		}
	}
}

// hostRead reads up to n elements from a host task into buf's storage. dropped reports the
// writer's end was dropped (end of stream).
func (s *stream[T]) hostRead(buf []T, n int) ([]T, bool, error) {
	op := s.startReadInto(buf, n, sim.Obj{})
	if err := s.wait(op); err != nil {
		return nil, false, err
	}
	return op.buf, op.res.Status == Dropped, nil
}

// ---- guest operations on byte streams ----

func readEndOf[T any](in *Instance, h Handle, call string) (*readEnd[T], error) {
	e, err := in.get(h, KindStreamReader, call)
	if err != nil {
		return nil, err
	}
	r, ok := e.obj.(*readEnd[T])
	if !ok {
		return nil, in.trap(TrapWrongType, h, call, "stream of another element type")
	}
	return r, nil
}

func writeEndOf[T any](in *Instance, h Handle, call string) (*writeEnd[T], error) {
	e, err := in.get(h, KindStreamWriter, call)
	if err != nil {
		return nil, err
	}
	w, ok := e.obj.(*writeEnd[T])
	if !ok {
		return nil, in.trap(TrapWrongType, h, call, "stream of another element type")
	}
	return w, nil
}

// NewStream creates a stream<u8> (stream.new) and returns its readable
// and writable ends.
func (in *Instance) NewStream() (r, w Handle, err error) {
	if err := in.check("stream.new"); err != nil {
		return 0, 0, err
	}
	s := newStream[byte](in.h, "guest stream<u8> of "+in.name)
	r = in.insert(KindStreamReader, &readEnd[byte]{s: s})
	w = in.insert(KindStreamWriter, &writeEnd[byte]{s: s})
	return r, w, nil
}

// StartWrite starts an async stream.write of data on a writable end. The
// copy is in flight until FinishWrite or CancelWrite observes it.
func (in *Instance) StartWrite(h Handle, data []byte) error {
	return startWrite(in, h, data, true)
}

// startWrite starts a guest write; clone copies data first, as the caller
// may reuse its buffer before the copy happens (a blocking write need not).
func startWrite[T any](in *Instance, h Handle, data []T, clone bool) error {
	const call = "stream.write"
	in.h.boundary()
	we, err := writeEndOf[T](in, h, call)
	if err != nil {
		return err
	}
	if we.pending != nil {
		return in.trap(TrapBusyEnd, h, call, "a write is already in flight")
	}
	if we.sawDrop {
		return in.trap(TrapAfterDropped, h, call, "")
	}
	var mem sim.Obj
	if clone {
		data = append([]T(nil), data...)
	} else {
		mem = in.GuestMemory() // data stays the caller's, and may be a view of its memory
	}
	we.pending = we.s.startWriteFrom(data, mem)
	in.watch(&we.pending.notify, we.pending.done)
	return nil
}

// FinishWrite waits for the write started on h and returns its result.
func (in *Instance) FinishWrite(h Handle) (CopyResult, error) { return finishWrite[byte](in, h, false) }

// CancelWrite cancels the write in flight on h. The result may be
// COMPLETED or DROPPED instead of CANCELLED if the copy won the race.
func (in *Instance) CancelWrite(h Handle) (CopyResult, error) { return finishWrite[byte](in, h, true) }

func finishWrite[T any](in *Instance, h Handle, cancel bool) (CopyResult, error) {
	call := "stream.write"
	if cancel {
		call = "stream.cancel-write"
	}
	we, err := writeEndOf[T](in, h, call)
	if err != nil {
		return CopyResult{}, err
	}
	op := we.pending
	if op == nil {
		return CopyResult{}, in.trap(TrapBadArgument, h, call, "no write in flight")
	}
	if cancel {
		we.s.cancel(op)
	}
	if err := we.s.wait(op); err != nil {
		return CopyResult{}, err
	}
	if err := in.check(call); err != nil {
		return CopyResult{}, err // the instance trapped while this task waited
	}
	we.pending = nil
	if op.res.Status == Dropped {
		we.sawDrop = true
	}
	return op.res, nil
}

// Write is a blocking stream.write: StartWrite then FinishWrite.
func (in *Instance) Write(h Handle, data []byte) (CopyResult, error) {
	if err := startWrite(in, h, data, false); err != nil {
		return CopyResult{}, err
	}
	return in.FinishWrite(h)
}

// WriteAll writes data in as many copies as the reader takes, until all is
// written or the reader drops its end.
func (in *Instance) WriteAll(h Handle, data []byte) (int, CopyStatus, error) {
	n := 0
	for {
		res, err := in.Write(h, data[n:])
		if err != nil {
			return n, 0, err
		}
		n += res.Progress
		if res.Status == Dropped || n == len(data) {
			return n, res.Status, nil
		}
	}
}

// StartRead starts an async stream.read of up to n elements.
func (in *Instance) StartRead(h Handle, n int) error { return startRead[byte](in, h, n) }

func startRead[T any](in *Instance, h Handle, n int) error {
	const call = "stream.read"
	in.h.boundary()
	re, err := readEndOf[T](in, h, call)
	if err != nil {
		return err
	}
	if n < 0 || n > maxCopy {
		return in.trap(TrapBadArgument, h, call, fmt.Sprintf("length %d", n))
	}
	if re.pending != nil {
		return in.trap(TrapBusyEnd, h, call, "a read is already in flight")
	}
	if re.sawDrop {
		return in.trap(TrapAfterDropped, h, call, "")
	}
	re.pending = re.s.startRead(n)
	in.watch(&re.pending.notify, re.pending.done)
	return nil
}

// maxCopy bounds one copy's length so a guest cannot make the host
// allocate without bound.
const maxCopy = 1 << 30

// FinishRead waits for the read started on h.
func (in *Instance) FinishRead(h Handle) ([]byte, CopyResult, error) {
	return finishRead[byte](in, h, false)
}

// CancelRead cancels the read in flight on h (see CancelWrite).
func (in *Instance) CancelRead(h Handle) ([]byte, CopyResult, error) {
	return finishRead[byte](in, h, true)
}

func finishRead[T any](in *Instance, h Handle, cancel bool) ([]T, CopyResult, error) {
	call := "stream.read"
	if cancel {
		call = "stream.cancel-read"
	}
	re, err := readEndOf[T](in, h, call)
	if err != nil {
		return nil, CopyResult{}, err
	}
	op := re.pending
	if op == nil {
		return nil, CopyResult{}, in.trap(TrapBadArgument, h, call, "no read in flight")
	}
	if cancel {
		re.s.cancel(op)
	}
	if err := re.s.wait(op); err != nil {
		return nil, CopyResult{}, err
	}
	if err := in.check(call); err != nil {
		return nil, CopyResult{}, err // the instance trapped while this task waited
	}
	re.pending = nil
	if op.res.Status == Dropped {
		re.sawDrop = true
	}
	return op.buf, op.res, nil
}

// ReadInto is a blocking stream.read into p (up to len(p) bytes, copied
// into p's storage, like io.Reader): it returns how many bytes arrived.
func (in *Instance) ReadInto(h Handle, p []byte) (int, CopyResult, error) {
	const call = "stream.read"
	in.h.boundary()
	re, err := readEndOf[byte](in, h, call)
	if err != nil {
		return 0, CopyResult{}, err
	}
	if re.pending != nil {
		return 0, CopyResult{}, in.trap(TrapBusyEnd, h, call, "a read is already in flight")
	}
	if re.sawDrop {
		return 0, CopyResult{}, in.trap(TrapAfterDropped, h, call, "")
	}
	re.pending = re.s.startReadInto(p, len(p), in.GuestMemory()) // p may be a view of a guest's memory
	got, res, err := finishRead[byte](in, h, false)
	return len(got), res, err
}

// Read is a blocking stream.read of up to n bytes.
func (in *Instance) Read(h Handle, n int) ([]byte, CopyResult, error) {
	if err := in.StartRead(h, n); err != nil {
		return nil, CopyResult{}, err
	}
	return in.FinishRead(h)
}

// ReadAll reads until the writer drops its end, in reads of up to chunk
// bytes.
func (in *Instance) ReadAll(h Handle, chunk int) ([]byte, error) {
	var out []byte
	for {
		b, res, err := in.Read(h, chunk)
		if err != nil {
			return out, err
		}
		out = append(out, b...)
		if res.Status == Dropped {
			return out, nil
		}
	}
}
