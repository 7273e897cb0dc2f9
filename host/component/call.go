package component

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// cmTask is a Component Model task: one call of a lifted function, with
// its context storage and its result.
type cmTask struct {
	ci       *compInst
	fn       *liftedFunc
	storage  [2]uint64
	returned bool
	result   Value
}

// unwind is the panic a host function raises to stop the wasm code that
// called it: the instance trapped, or the guest exited. wazero returns it
// wrapped in the error of the wasm call.
type unwind struct{ err error }

func (u *unwind) Error() string { return u.err.Error() }
func (u *unwind) Unwrap() error { return u.err }

// hostCall runs host function k of the instance's host module.
func (ci *compInst) hostCall(ctx context.Context, k int, stack []uint64) {
	r := ci.r
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*unwind); !ok {
				// The world unwinds a task blocked in a host call: let
				// wazero return, then raise it again (run.raise).
				r.panicked = p
			}
			panic(p)
		}
	}()
	st := &ci.host[k]
	var err error
	switch {
	case !st.ready:
		err = trapf("a canonical function was called before its definition")
	case !ci.mayLeave:
		err = trapf("a host function was called from a realloc or destructor")
	default:
		switch d := st.def.(type) {
		case *LowerDef:
			err = ci.callLower(st, d, stack)
		case *BuiltinDef:
			err = ci.builtin(st, d, stack)
		}
		if tr := ci.hin.Trapped(); err == nil && tr != nil {
			// The instance trapped inside the call (a destructor's own
			// trap, say) without the call failing: stop the guest too.
			err = tr
		}
	}
	if err != nil {
		panic(&unwind{ci.fail(err)})
	}
}

// fail turns an error into what unwinds the guest: an exit stays an exit,
// anything else traps the instance.
func (ci *compInst) fail(err error) error {
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit
	}
	var ht *host.Trap
	if errors.As(err, &ht) {
		return ht // the host trapped the instance already
	}
	return ci.hin.Abort("component", err.Error())
}

// wasmErr interprets the error of a wasm call: a host function's unwind
// (a trap or an exit), an exit by wazero, or a trap of the guest's code.
func (ci *compInst) wasmErr(err error, what string) error {
	if err == nil {
		return nil
	}
	ci.r.raise()
	var uw *unwind
	if errors.As(err, &uw) {
		return uw.err
	}
	var ex *sys.ExitError
	if errors.As(err, &ex) {
		return &ExitError{Code: ex.ExitCode()}
	}
	if stop := ci.r.stop(ci, what, err); stop != nil {
		return stop
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // wazero appends the wasm stack trace
	}
	return ci.hin.Abort(what, msg)
}

// cx makes the lifting/lowering context of a set of options.
func (ci *compInst) cx(o *resolvedOpts) *LiftLowerContext {
	cx := &LiftLowerContext{Encoding: o.enc}
	if o.mem != nil {
		cx.Memory = o.mem
	}
	if o.realloc != nil {
		rf := o.realloc
		cx.Realloc = func(old, oldSize, align, newSize uint32) (uint32, error) {
			ci.mayLeave = false
			res, err := rf.call(ci.r.ctx(), uint64(old), uint64(oldSize), uint64(align), uint64(newSize))
			ci.mayLeave = true
			if err != nil {
				return 0, ci.wasmErr(err, "realloc")
			}
			return uint32(res[0]), nil
		}
	}
	return cx
}

// callLower runs a lowered function: it lifts the arguments from the
// caller's memory, calls the function and lowers its result. An `async`
// lower of a function that may block runs it in a task of its own and
// returns a subtask.
func (ci *compInst) callLower(st *hostFuncState, d *LowerDef, stack []uint64) error {
	r := ci.r
	if r.w.Tracing() {
		r.w.Event("call", ci.name, st.target.name)
	}
	sig, cx := st.sig, st.cx
	args := stack[:sig.nargs]
	pts, rts := sig.types, sig.rtypes
	fr := new(callFrame)
	if !d.Opts.Async {
		vals, err := LiftValues(cx, fr.args[:0], MaxFlatParams, &CoreValueIter{Values: args}, pts)
		if err != nil {
			return err
		}
		res, err := ci.invoke(st.target, vals, nil, fr)
		if err != nil {
			return err
		}
		var out *uint32
		if sig.outParam {
			p := uint32(stack[sig.nargs])
			out = &p
		}
		var flat [MaxFlatResults]uint64
		var rvs [1]Value
		rvs[0] = res
		flatRes, err := LowerValues(cx, flat[:0], MaxFlatResults, rvs[:len(rts)], rts, out)
		if err != nil {
			return err
		}
		copy(stack, flatRes)
		return nil
	}
	var retptr uint32
	if len(rts) > 0 {
		retptr = uint32(stack[sig.nargs])
	}
	vals, err := LiftValues(cx, fr.args[:0], MaxFlatAsyncParams, &CoreValueIter{Values: args}, pts)
	if err != nil {
		return err
	}
	target := st.target
	if target.host != nil && !target.host.Blocks {
		res, err := ci.invoke(target, vals, nil, fr)
		if err != nil {
			return err
		}
		if len(rts) > 0 {
			if err := Store(cx, res, rts[0], retptr); err != nil {
				return err
			}
		}
		stack[0] = uint64(host.SubtaskReturned)
		return nil
	}
	sub, sh, err := ci.hin.NewSubtask(target.name)
	if err != nil {
		return err
	}
	for i, t := range pts {
		if t.Kind == Borrow {
			if err := sub.Lend(host.Handle(vals[i].(uint32))); err != nil {
				return err
			}
		}
	}
	pend := &pendingResult{types: rts, ptr: retptr, opts: st.opts}
	var chain []*compInst
	if target.lift != nil {
		chain = slices.Clone(r.onStack[r.w.Current()]) // the subtask's callers
	}
	r.w.Go(target.name, func(t *sim.Task) error {
		if len(chain) > 0 {
			r.onStack[t] = chain
			defer delete(r.onStack, t)
		}
		res, err := ci.invoke(target, vals, sub, fr)
		switch {
		case errors.Is(err, ErrCancelled):
			sub.ReturnCancelled()
			return nil
		case err != nil:
			if ci.hin.Trapped() == nil {
				ci.fail(err) // a host function's error traps the caller
			}
			return nil
		}
		pend.value = res
		sub.Return(pend)
		return nil
	})
	stack[0] = uint64(host.SubtaskStarted) | uint64(sh)<<4
	return nil
}

// pendingResult is the result of an async call, lowered into the
// caller's memory when the caller takes the SUBTASK event.
type pendingResult struct {
	types []*Type
	ptr   uint32
	opts  resolvedOpts
	value Value
}

// callFrame is a host call and room for its arguments, allocated at once.
type callFrame struct {
	call Call
	args [4]Value
}

// invoke calls a component function with lifted arguments; a host
// function's Call is made in fr.
func (ci *compInst) invoke(c *callee, args []Value, sub *host.Subtask, fr *callFrame) (Value, error) {
	if c.host != nil {
		fr.call = Call{inst: ci.hin, task: ci.r.w.Current(), subtask: sub, name: c.name, typ: c.typ}
		return c.host.Call(&fr.call, args)
	}
	if c.lift != nil {
		if containsHandles(c.typ) {
			return nil, &UnsupportedError{Construct: "a call between two component instances that passes handles"}
		}
		return c.lift.ci.callLifted(c.lift, args)
	}
	return nil, fmt.Errorf("function %s has no implementation", c.name)
}

// callLifted calls a lifted function with its arguments and returns its
// result: the embedder calling an export (or one component instance
// calling another). For an `async` lift with a callback it runs the
// event loop: each WAIT waits on the set's events (a world wait), each
// YIELD is a scheduling point.
func (ci *compInst) callLifted(lf *liftedFunc, args []Value) (Value, error) {
	r := ci.r
	// A component instance is not re-entered: a call into one already on
	// the stack traps, as the Component Model has it (and a guest that
	// calls its own export cannot recurse until the process runs out of
	// stack).
	self := r.w.Current()
	for _, on := range r.onStack[self] {
		if on == ci {
			return nil, ci.fail(trapf("a call re-enters component instance %s, which is already on the stack", ci.name))
		}
	}
	r.onStack[self] = append(r.onStack[self], ci)
	defer func() {
		if s := r.onStack[self]; len(s) > 1 {
			r.onStack[self] = s[:len(s)-1]
		} else {
			delete(r.onStack, self)
		}
	}()
	// While the instance applies backpressure, new calls wait to enter.
	for ci.backpr > 0 {
		if ci.backprQ == nil {
			ci.backprQ = r.w.NewWaitQueue("backpressure of " + ci.name)
		}
		if err := ci.backprQ.Wait(""); err != nil {
			return nil, err
		}
	}
	cx, pts, rts := lf.cx, lf.pts, lf.rts
	flat, err := LowerValues(cx, nil, MaxFlatParams, args, pts, nil)
	if err != nil {
		return nil, ci.fail(err)
	}
	if !lf.opts.async {
		res, err := lf.core.call(r.ctx(), flat...)
		if err := ci.wasmErr(err, "call"); err != nil {
			return nil, err
		}
		vals, err := LiftValues(cx, nil, MaxFlatResults, &CoreValueIter{Values: res}, rts)
		if err != nil {
			return nil, ci.fail(err)
		}
		if lf.opts.postReturn != nil {
			ci.mayLeave = false
			_, err := lf.opts.postReturn.call(r.ctx(), res...)
			ci.mayLeave = true
			if err := ci.wasmErr(err, "post-return"); err != nil {
				return nil, err
			}
		}
		if len(vals) == 0 {
			return nil, nil
		}
		return vals[0], nil
	}
	t := &cmTask{ci: ci, fn: lf}
	r.tasks[self] = append(r.tasks[self], t)
	defer func() {
		s := r.tasks[self]
		r.tasks[self] = s[:len(s)-1]
		if len(s) == 1 {
			delete(r.tasks, self)
		}
	}()
	res, err := lf.core.call(r.ctx(), flat...)
	if err := ci.wasmErr(err, "call"); err != nil {
		return nil, err
	}
	if lf.opts.callback != nil {
		if len(res) != 1 {
			return nil, ci.fail(trapf("a callback-lifted function returned %d values", len(res)))
		}
		if err := ci.eventLoop(t, uint32(res[0])); err != nil {
			return nil, err
		}
	}
	if !t.returned {
		return nil, ci.fail(trapf("the task ended without calling task.return"))
	}
	return t.result, nil
}

// Callback codes.
const (
	callbackExit  = 0
	callbackYield = 1
	callbackWait  = 2
)

// eventLoop runs a callback-lifted task until it exits.
func (ci *compInst) eventLoop(t *cmTask, packed uint32) error {
	r := ci.r
	for {
		code, si := packed&0xf, packed>>4
		var ev [3]uint32
		switch code {
		case callbackExit:
			return nil
		case callbackYield:
			r.w.Yield()
			if tr := ci.hin.Trapped(); tr != nil {
				return tr
			}
		case callbackWait:
			e, err := ci.hin.WaitEvent(host.Handle(si))
			if err != nil {
				return ci.fail(err)
			}
			if ev, err = ci.finishEvent(e); err != nil {
				return ci.fail(err)
			}
		default:
			return ci.fail(trapf("callback returned code %d", code))
		}
		res, err := t.fn.opts.callback.call(r.ctx(), uint64(ev[0]), uint64(ev[1]), uint64(ev[2]))
		if err := ci.wasmErr(err, "callback"); err != nil {
			return err
		}
		if len(res) != 1 {
			return ci.fail(trapf("a callback returned %d values", len(res)))
		}
		packed = uint32(res[0])
	}
}

// currentTask is the Component Model task running on the world task.
func (ci *compInst) currentTask() *cmTask {
	s := ci.r.tasks[ci.r.w.Current()]
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].ci == ci {
			return s[i]
		}
	}
	return nil
}

func paramTypes(ft *FuncType) []*Type {
	ts := make([]*Type, len(ft.Params))
	for i, p := range ft.Params {
		ts[i] = p.Type
	}
	return ts
}

func resultTypes(ft *FuncType) []*Type {
	if ft.Result == nil {
		return nil
	}
	return []*Type{ft.Result}
}

// containsHandles reports whether a function's types carry handles
// (resources, streams, futures, error contexts).
func containsHandles(ft *FuncType) bool {
	for _, t := range append(paramTypes(ft), resultTypes(ft)...) {
		if hasHandle(t, 0) {
			return true
		}
	}
	return false
}

func hasHandle(t *Type, depth int) bool {
	if t == nil || depth > 64 {
		return false
	}
	switch t.Kind {
	case Own, Borrow, Stream, Future, ErrorContext:
		return true
	}
	for _, f := range t.Fields {
		if hasHandle(f.Type, depth+1) {
			return true
		}
	}
	for _, c := range t.Cases {
		if hasHandle(c.Type, depth+1) {
			return true
		}
	}
	return hasHandle(t.Elem, depth+1) || hasHandle(t.Key, depth+1) || hasHandle(t.Ok, depth+1) || hasHandle(t.Err, depth+1)
}

// Call calls a function the instance exports, by export path: the name of
// an exported function, or an exported instance's name and its
// function's ("wasi:cli/run@0.3.0", "run"). It must run in a task of the
// instance's world; it returns the function's result, an *ExitError if
// the guest exited, or the trap that ended the instance.
func (i *Instance) Call(path []string, args ...Value) (Value, error) {
	if i.r.w.Current() == nil {
		return nil, sim.ErrNotInTask
	}
	if tr := i.root.hin.Trapped(); tr != nil {
		return nil, tr
	}
	it, ok := i.root.exports[path[0]]
	for _, name := range path[1:] {
		if !ok || it.inst == nil {
			break
		}
		it, ok = it.inst.exports[name]
	}
	if !ok || it.fn == nil || it.fn.lift == nil {
		return nil, fmt.Errorf("component exports no function %s", strings.Join(path, " "))
	}
	lf := it.fn.lift
	v, err := lf.ci.callLifted(lf, args)
	i.r.raise()
	return v, err
}

// Exports lists the names of the instance's exports.
func (i *Instance) Exports() []string {
	var out []string
	for _, e := range i.comp.body.Exports {
		out = append(out, e.Name)
	}
	return out
}

var _ = api.ValueTypeI32

// trapf makes a trap of the component runtime.
func trapf(format string, args ...any) error {
	return &Trap{Reason: fmt.Sprintf(format, args...)}
}

// flattenAll flattens a list of types.
func flattenAll(ts []*Type) []CoreValType {
	var out []CoreValType
	for _, t := range ts {
		out = append(out, Flatten(t)...)
	}
	return out
}
