package component

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/host"
)

// maxBufferLength bounds a stream copy's length, as the canonical ABI
// does.
const maxBufferLength = 1<<28 - 1

// blocked is what an async copy or cancel returns when it did not finish.
const blocked = 0xffff_ffff

// copyInfo is where a pending read delivers what it receives.
type copyInfo struct {
	ptr  uint32
	elem *Type // stream element or future value type (nil: none)
	opts resolvedOpts
}

// copyCode is the Component Model's code of a copy result.
func copyCode(s host.CopyStatus) uint32 {
	switch s {
	case host.Dropped:
		return 1
	case host.Cancelled:
		return 2
	}
	return 0
}

// builtin runs a canonical built-in. Every built-in except context.get
// and context.set (which touch only the calling task's own storage, so
// they commute with everything other tasks do) is a scheduling point:
// the host methods it calls yield first.
func (ci *compInst) builtin(st *hostFuncState, d *BuiltinDef, stack []uint64) error {
	in := ci.hin
	h := func(i int) host.Handle { return host.Handle(uint32(stack[i])) }
	switch d.Op {
	case BuiltinContextGet, BuiltinContextSet:
		t := ci.currentTask()
		if t == nil {
			return trapf("%s outside a task", d.Op)
		}
		if d.ContextIndex >= uint32(len(t.storage)) {
			return trapf("%s index %d", d.Op, d.ContextIndex)
		}
		if d.Op == BuiltinContextGet {
			stack[0] = t.storage[d.ContextIndex]
		} else {
			v := stack[0]
			if d.ContextType == CoreI32 {
				v = uint64(uint32(v))
			}
			t.storage[d.ContextIndex] = v
		}
		return nil

	case BuiltinTaskReturn:
		ci.r.w.Yield()
		t := ci.currentTask()
		if t == nil {
			return trapf("task.return outside a task")
		}
		if !t.fn.opts.async {
			return trapf("task.return in a synchronous task")
		}
		if t.returned {
			return trapf("task.return called twice")
		}
		want := t.fn.def.Type.Result
		if !typesEqual(d.Type, want) {
			return trapf("task.return of type %s in a task returning %s", d.Type, want)
		}
		vals, err := LiftValues(st.cx, nil, MaxFlatParams, &CoreValueIter{Values: stack[:st.sig.nargs]}, st.sig.types)
		if err != nil {
			return err
		}
		t.returned = true
		if len(vals) > 0 {
			t.result = vals[0]
		}
		return nil

	case BuiltinTaskCancel:
		return trapf("task.cancel in a task nobody asked to cancel")

	case BuiltinYield:
		ci.r.w.Yield()
		stack[0] = 0
		return nil

	case BuiltinBackpressureInc:
		ci.backpr++
		if ci.backpr >= 1<<16 {
			return trapf("backpressure counter overflows")
		}
		return nil
	case BuiltinBackpressureDec:
		if ci.backpr == 0 {
			return trapf("backpressure.dec below zero")
		}
		ci.backpr--
		if ci.backpr == 0 && ci.backprQ != nil {
			ci.backprQ.Broadcast()
		}
		return nil

	case BuiltinWaitableSetNew:
		s, err := in.NewWaitableSet()
		stack[0] = uint64(s)
		return err
	case BuiltinWaitableSetWait, BuiltinWaitableSetPoll:
		var ev host.Event
		var err error
		if d.Op == BuiltinWaitableSetWait {
			ev, err = in.WaitEvent(h(0))
		} else {
			ev, err = in.PollEvent(h(0))
		}
		if err != nil {
			return err
		}
		e, err := ci.finishEvent(ev)
		if err != nil {
			return err
		}
		if err := storeU32s(st.opts.mem, uint32(stack[1]), e[1], e[2]); err != nil {
			return err
		}
		stack[0] = uint64(e[0])
		return nil
	case BuiltinWaitableSetDrop:
		return in.DropAs(h(0), host.KindWaitableSet, "waitable-set.drop")
	case BuiltinWaitableJoin:
		return in.Join(h(0), h(1))

	case BuiltinSubtaskCancel:
		if !d.Async && in.InSet(h(0)) != 0 {
			return trapf("synchronous subtask.cancel of a subtask in a waitable set")
		}
		ev, done, err := in.CancelSubtask(h(0))
		if err != nil {
			return err
		}
		if !done {
			if d.Async {
				stack[0] = blocked
				return nil
			}
			if ev, err = in.WaitSubtask(h(0)); err != nil {
				return err
			}
		}
		e, err := ci.finishEvent(ev)
		stack[0] = uint64(e[2])
		return err
	case BuiltinSubtaskDrop:
		return in.DropAs(h(0), host.KindSubtask, "subtask.drop")

	case BuiltinStreamNew, BuiltinFutureNew:
		var r, w host.Handle
		var err error
		what := "guest " + d.Type.String() + " of " + ci.name
		switch {
		case d.Op == BuiltinFutureNew:
			r, w, err = in.NewFuture(what)
		case d.Type.Elem != nil && d.Type.Elem.Kind == U8:
			r, w, err = in.NewStream()
		default:
			r, w, err = in.NewValueStream(what)
		}
		stack[0] = uint64(r) | uint64(w)<<32
		return err

	case BuiltinStreamRead, BuiltinStreamWrite, BuiltinFutureRead, BuiltinFutureWrite:
		return ci.copy(st, d, stack)

	case BuiltinStreamCancelRead, BuiltinStreamCancelWrite, BuiltinFutureCancelRead, BuiltinFutureCancelWrite:
		want := map[Builtin]host.Kind{BuiltinStreamCancelRead: host.KindStreamReader, BuiltinStreamCancelWrite: host.KindStreamWriter,
			BuiltinFutureCancelRead: host.KindFutureReader, BuiltinFutureCancelWrite: host.KindFutureWriter}[d.Op]
		if k := in.KindOf(h(0)); k != 0 && k != want {
			return trapf("%s on a %s", d.Op, k)
		}
		if !d.Async && in.InSet(h(0)) != 0 {
			return trapf("synchronous %s of an end in a waitable set", d.Op)
		}
		ev, err := in.CancelCopy(h(0))
		if err != nil {
			return err
		}
		e, err := ci.finishEvent(ev)
		stack[0] = uint64(e[2])
		return err

	case BuiltinStreamDropReadable:
		return in.DropAs(h(0), host.KindStreamReader, d.Op.String())
	case BuiltinStreamDropWritable:
		return in.DropAs(h(0), host.KindStreamWriter, d.Op.String())
	case BuiltinFutureDropReadable:
		return in.DropAs(h(0), host.KindFutureReader, d.Op.String())
	case BuiltinFutureDropWritable:
		return in.DropAs(h(0), host.KindFutureWriter, d.Op.String())

	case BuiltinResourceNew:
		ci.r.w.Yield()
		rt := d.Resource
		if rt == nil || rt.Defined == nil {
			return trapf("resource.new of a resource the component does not define")
		}
		hh, err := in.NewGuestResource(rt, rt.Name, uint32(stack[0]), ci.destructor(rt))
		stack[0] = uint64(hh)
		return err
	case BuiltinResourceRep:
		ci.r.w.Yield()
		rep, err := in.GuestResourceRep(h(0), d.Resource)
		stack[0] = uint64(rep)
		return err
	case BuiltinResourceDrop:
		rt := d.Resource
		if rt != nil && rt.Defined != nil {
			return in.DropAs(h(0), host.KindGuestResource, "resource.drop")
		}
		if rt != nil {
			if is := ci.r.linker.resources[st.sig.resource]; is != nil && in.KindOf(h(0)) != 0 && !is(in, h(0)) {
				return trapf("resource.drop of %s on a handle of another type (%s)", rt.Name, in.KindOf(h(0)))
			}
		}
		return in.Drop(h(0))

	case BuiltinErrorContextNew:
		ci.r.w.Yield()
		v, err := LiftValues(st.cx, nil, MaxFlatParams, &CoreValueIter{Values: stack[:2]}, []*Type{StringType})
		if err != nil {
			return err
		}
		ec, err := in.NewErrorContext(v[0].(string))
		stack[0] = uint64(ec)
		return err
	case BuiltinErrorContextDebugMessage:
		ci.r.w.Yield()
		msg, err := in.ErrorContextMessage(h(0))
		if err != nil {
			return err
		}
		return Store(st.cx, msg, StringType, uint32(stack[1]))
	case BuiltinErrorContextDrop:
		return in.DropAs(h(0), host.KindErrorContext, "error-context.drop")
	}
	return &UnsupportedError{Construct: "the " + d.Op.String() + " built-in"}
}

// destructor is what dropping an own handle of a defined resource runs.
func (ci *compInst) destructor(rt *ResourceType) func(uint32) error {
	if rt.Defined == nil || rt.Defined.Dtor < 0 {
		return nil
	}
	return func(rep uint32) error {
		f, err := ci.coreFuncOf(rt.Defined.Dtor)
		if err != nil {
			return err
		}
		_, err = f.call(ci.r.ctx(), uint64(rep))
		return ci.wasmErr(err, "resource destructor")
	}
}

// copy runs stream.read/write and future.read/write.
func (ci *compInst) copy(st *hostFuncState, d *BuiltinDef, stack []uint64) error {
	in := ci.hin
	end := host.Handle(uint32(stack[0]))
	ptr := uint32(stack[1])
	isStream := d.Op == BuiltinStreamRead || d.Op == BuiltinStreamWrite
	reading := d.Op == BuiltinStreamRead || d.Op == BuiltinFutureRead
	n := uint32(1)
	if isStream {
		n = uint32(stack[2])
	}
	want := map[Builtin]host.Kind{BuiltinStreamRead: host.KindStreamReader, BuiltinStreamWrite: host.KindStreamWriter,
		BuiltinFutureRead: host.KindFutureReader, BuiltinFutureWrite: host.KindFutureWriter}[d.Op]
	if k := in.KindOf(end); k != 0 && k != want {
		return trapf("%s on a %s", d.Op, k)
	}
	if !d.Opts.Async && in.InSet(end) != 0 {
		return trapf("synchronous %s on an end in a waitable set", d.Op)
	}
	elem := d.Type.Elem
	cx := st.cx
	if err := checkBuffer(st.opts.mem, elem, ptr, n); err != nil {
		return err
	}
	var data any
	if !reading {
		v, err := loadElems(cx, st.opts.mem, elem, ptr, n, isStream)
		if err != nil {
			return err
		}
		data = v
	} else if isStream && elem != nil && elem.Kind == U8 {
		// The bytes land in the reader's buffer when the copy happens, as
		// the canonical ABI has it, with no buffer in between.
		if b, ok := st.opts.mem.Read(ptr, n); ok {
			data = b
		}
	}
	ev, done, err := in.StartCopy(end, int(n), data)
	if err != nil {
		return err
	}
	info := &copyInfo{ptr: ptr, elem: elem, opts: st.opts}
	if !done {
		if d.Opts.Async {
			ci.pendingCopy()[end] = info
			stack[0] = blocked
			return nil
		}
		if ev, err = in.WaitCopy(end); err != nil {
			ci.r.viewsLeft = true // the copy may still hold its buffer
			return err
		}
	}
	ci.pendingCopy()[end] = info
	e, err := ci.finishEvent(ev)
	stack[0] = uint64(e[2])
	return err
}

// pendingCopy is where pending reads deliver, by end handle.
func (ci *compInst) pendingCopy() map[host.Handle]*copyInfo {
	if ci.pending == nil {
		ci.pending = map[host.Handle]*copyInfo{}
	}
	return ci.pending
}

// finishEvent completes an event before the guest sees it: what a read
// received is stored into the reader's memory, an async call's result
// into its return area. It returns the event's three core values.
func (ci *compInst) finishEvent(ev host.Event) ([3]uint32, error) {
	out := [3]uint32{uint32(ev.Code), uint32(ev.Handle), 0}
	switch ev.Code {
	case host.EventNone:
		out[1] = 0
	case host.EventStreamRead, host.EventStreamWrite:
		info := ci.pending[ev.Handle]
		delete(ci.pending, ev.Handle)
		out[2] = copyCode(ev.Copy.Status) | uint32(ev.Copy.Progress)<<4
		if ev.Code == host.EventStreamRead && ev.Copy.Progress > 0 {
			if info == nil {
				return out, trapf("a read delivered to an end with no buffer")
			}
			if err := ci.storeElems(info, ev.Data, ev.Copy.Progress); err != nil {
				return out, err
			}
		}
	case host.EventFutureRead, host.EventFutureWrite:
		info := ci.pending[ev.Handle]
		delete(ci.pending, ev.Handle)
		out[2] = copyCode(ev.Copy.Status)
		if ev.Code == host.EventFutureRead && ev.Copy.Status == host.Completed && info != nil && info.elem != nil {
			v := ev.Data
			if ev.FromHost {
				conv := ci.r.linker.FutureValue
				if conv == nil {
					return out, trapf("a host future's value has no conversion to %s", info.elem)
				}
				var err error
				if v, err = conv(v, info.elem); err != nil {
					return out, err
				}
			}
			if err := Store(ci.cx(&info.opts), v, info.elem, info.ptr); err != nil {
				return out, err
			}
		}
	case host.EventSubtask:
		out[2] = uint32(ev.Subtask)
		if pr, ok := ev.Value.(*pendingResult); ok && ev.Subtask == host.SubtaskReturned && len(pr.types) > 0 {
			if err := Store(ci.cx(&pr.opts), pr.value, pr.types[0], pr.ptr); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// checkBuffer checks a copy buffer: alignment and bounds, before any copy.
func checkBuffer(mem api.Memory, elem *Type, ptr, n uint32) error {
	if n > maxBufferLength {
		return trapf("buffer of %d elements", n)
	}
	if elem == nil || n == 0 {
		return nil
	}
	if mem == nil {
		return trapf("a copy of values without a memory option")
	}
	size, align := Size(elem), Align(elem)
	if ptr%align != 0 {
		return trapf("buffer at %d is not aligned to %d", ptr, align)
	}
	end := uint64(ptr) + uint64(n)*uint64(size)
	if end > uint64(mem.Size()) {
		return trapf("buffer [%d, %d) is out of bounds", ptr, end)
	}
	return nil
}

// loadElems reads what a write offers: bytes for a stream<u8>, values
// otherwise, or the one value of a future.
func loadElems(cx *LiftLowerContext, mem api.Memory, elem *Type, ptr, n uint32, stream bool) (any, error) {
	if !stream {
		if elem == nil {
			return nil, nil
		}
		return Load(cx, ptr, elem)
	}
	if elem == nil {
		return make([]any, n), nil
	}
	if elem.Kind == U8 {
		b, ok := mem.Read(ptr, n)
		if !ok {
			return nil, trapf("buffer out of bounds")
		}
		// A view, not a copy: the writer may not touch its buffer while
		// the write is pending, and the host takes bytes from it as
		// readers come (a consumer taking 8 KiB at a time must not make a
		// 64 KiB write cost eight copies of what is left).
		return b, nil
	}
	out := make([]any, n)
	size := Size(elem)
	for i := range out {
		v, err := Load(cx, ptr+uint32(i)*size, elem)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// storeElems stores n received elements into the reader's buffer.
func (ci *compInst) storeElems(info *copyInfo, data any, n int) error {
	if info.elem == nil {
		return nil
	}
	cx := ci.cx(&info.opts)
	size := Size(info.elem)
	switch d := data.(type) {
	case []byte:
		b, ok := info.opts.mem.Read(info.ptr, uint32(len(d)))
		if !ok {
			return trapf("read buffer out of bounds")
		}
		if len(d) > 0 && &b[0] == &d[0] {
			return nil // the copy read straight into the buffer
		}
		copy(b, d)
		return nil
	case []host.Handle:
		for i, x := range d {
			if err := Store(cx, uint32(x), info.elem, info.ptr+uint32(i)*size); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, v := range d {
			if err := Store(cx, v, info.elem, info.ptr+uint32(i)*size); err != nil {
				return err
			}
		}
		return nil
	}
	conv := ci.r.linker.StreamValues
	if conv == nil {
		return trapf("a host stream of %T has no conversion to %s", data, info.elem)
	}
	vals, err := conv(data, info.elem)
	if err != nil {
		return err
	}
	for i, v := range vals {
		if err := Store(cx, v, info.elem, info.ptr+uint32(i)*size); err != nil {
			return err
		}
	}
	return nil
}

// storeU32s stores two u32 values at ptr (an event's payload).
func storeU32s(mem interface {
	WriteUint32Le(offset, v uint32) bool
}, ptr, a, b uint32) error {
	if mem == nil {
		return trapf("waitable-set.wait without a memory")
	}
	if ptr%4 != 0 {
		return trapf("event pointer %d is not aligned", ptr)
	}
	if !mem.WriteUint32Le(ptr, a) || !mem.WriteUint32Le(ptr+4, b) {
		return trapf("event pointer %d is out of bounds", ptr)
	}
	return nil
}

// typesEqual compares two value types structurally (task.return's type
// and the task's result type come from different definitions).
func typesEqual(a, b *Type) bool { return typesEqualDepth(a, b, 0) }

func typesEqualDepth(a, b *Type, depth int) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || depth > 64 || a.Kind != b.Kind || a.Len != b.Len ||
		len(a.Fields) != len(b.Fields) || len(a.Cases) != len(b.Cases) || len(a.Labels) != len(b.Labels) || a.Resource != b.Resource {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || !typesEqualDepth(a.Fields[i].Type, b.Fields[i].Type, depth+1) {
			return false
		}
	}
	for i := range a.Cases {
		if a.Cases[i].Name != b.Cases[i].Name || !typesEqualDepth(a.Cases[i].Type, b.Cases[i].Type, depth+1) {
			return false
		}
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			return false
		}
	}
	return typesEqualDepth(a.Elem, b.Elem, depth+1) && typesEqualDepth(a.Key, b.Key, depth+1) &&
		typesEqualDepth(a.Ok, b.Ok, depth+1) && typesEqualDepth(a.Err, b.Err, depth+1)
}
