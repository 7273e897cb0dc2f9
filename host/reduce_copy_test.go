package host

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// This file checks partial-order reduction on the part of the Instance
// API that WASI 0.3 components use and the .wsim scenarios do not: copies
// left pending (StartCopy, WaitCopy, CancelCopy, Pending), waitable sets,
// the byte-stream calls, guest-made value streams and futures, and the
// host tasks that consume or produce streams. Each task is annotated and
// touches its instance's memory in every step, as a component's guest
// task does, and a byte slice stands for that memory: the task lends
// parts of it to copies and overwrites it while they are pending. The
// reduced search must reach every outcome plain search reaches.

// rcEnd names one end a task of a drawn program uses.
type rcEnd uint8

const (
	rcOut    rcEnd = iota // a stream<u8> the host consumes into stdout or f
	rcIn                  // read-via-stream of f
	rcVW                  // the writable end of the instance's value stream
	rcVR                  // its readable end
	rcFW                  // the writable end of the instance's future
	rcFR                  // its readable end
	rcOutRes              // the future of out's result, which the host resolves
	rcInRes               // the future of in's result
)

var rcEndNames = [...]string{"out", "in", "vw", "vr", "fw", "fr", "out-result", "in-result"}

func (e rcEnd) String() string { return rcEndNames[e] }

// other is the end that goes with e: a stream's and its result's, a
// value stream's or a future's other end.
func (e rcEnd) other() rcEnd {
	switch e {
	case rcOut, rcIn:
		return e + rcOutRes - rcOut
	case rcOutRes, rcInRes:
		return e - rcOutRes + rcOut
	}
	return e ^ 1 // vw and vr, fw and fr
}

// future reports whether the end is a future's readable or writable end.
func (e rcEnd) future() bool { return e == rcFW || e == rcFR || e == rcOutRes || e == rcInRes }

// Where a task's out stream goes.
const (
	rcNoOut = iota
	rcStdout
	rcWriteAt0
	rcWriteAt1
	rcAppend
	rcOutKinds
)

var rcOutNames = [...]string{"none", "stdout", "write-via-stream@0", "write-via-stream@1", "append-via-stream"}

// rcKind is what an op does.
type rcKind uint8

const (
	// rcStep starts a copy on an end, or ends the one in flight (waits
	// for it or cancels it), or awaits a result.
	rcStep  rcKind = iota
	rcPoke         // overwrite a byte of memory (no call)
	rcPoll         // waitable-set.poll
	rcWait         // waitable-set.wait (a poll when nothing could wake it)
	rcJoin         // waitable.join into the set, or out of it
	rcQuery        // KindOf, InSet, Pending (and Resolved of the result)
	rcDrop         // drop the end
	rcPrint        // stdout.write of a piece of memory
	rcNone         // nothing: only drawn, never run
)

var rcKindNames = [...]string{"step", "poke", "poll", "wait", "join", "query", "drop", "print"}

// What a task does while a copy it started may be in flight, and then.
var (
	rcMeanwhile = []rcKind{rcPoke, rcPrint, rcQuery, rcJoin, rcPoll}
	rcThen      = []rcKind{rcPoll, rcPoll, rcWait, rcStep, rcDrop, rcNone}
)

type rcOp struct {
	Kind   rcKind
	End    rcEnd
	N, Off int  // a piece of memory: [Off, Off+N)
	How    int  // which variant of the call
	V      byte // poke's byte
	// Peer: a query addresses the end of the other task of the instance.
	Peer bool
}

func (o rcOp) String() string {
	s := rcKindNames[o.Kind]
	switch o.Kind {
	case rcStep, rcJoin:
		s += fmt.Sprintf(" %v how=%d", o.End, o.How)
	case rcQuery, rcDrop:
		s += " " + o.End.String()
	}
	if o.Peer {
		s += " of the peer"
	}
	switch o.Kind {
	case rcStep, rcPrint:
		s += fmt.Sprintf(" mem[%d:%d]", o.Off, o.Off+o.N)
	case rcPoke:
		s += fmt.Sprintf(" mem[%d]=%c", o.Off, o.V)
	}
	return s
}

type rcTask struct {
	Inst int
	Out  int
	In   bool
	Ends []rcEnd // every end the task uses
	Set  bool    // the task has a waitable set
	Join []rcEnd // joined to the set before the task starts
	Ops  []rcOp
}

// rcProg is a drawn program: two or three guest tasks, each in its own
// instance, or the first two sharing one (and its memory and value
// stream and future).
type rcProg struct {
	Tasks  []rcTask
	Insts  int
	Values []bool // per instance: a value stream and a future
}

func (p *rcProg) String() string {
	var b strings.Builder
	for i, t := range p.Tasks {
		fmt.Fprintf(&b, "task %d in instance %d: out %s, in %v, ends %v", i, t.Inst, rcOutNames[t.Out], t.In, t.Ends)
		if t.Set {
			fmt.Fprintf(&b, ", set %v", t.Join)
		}
		b.WriteString("\n")
		for _, o := range t.Ops {
			b.WriteString("    " + o.String() + "\n")
		}
	}
	return b.String()
}

const (
	rcMem  = 4    // bytes of memory per instance
	rcFile = "pq" // f's first contents
)

var rcMemInit = [...]string{"abcd", "ABCD", "0123"}

func drawCopyProg(t *rapid.T) *rcProg {
	p := &rcProg{}
	n := 2
	if rapid.IntRange(0, 3).Draw(t, "three tasks") == 0 {
		n = 3
	}
	shared := rapid.Bool().Draw(t, "shared instance")
	for i := range n {
		inst := i
		if shared && i > 0 {
			inst = i - 1
		}
		p.Tasks = append(p.Tasks, rcTask{Inst: inst})
	}
	p.Insts = p.Tasks[n-1].Inst + 1
	p.Values = make([]bool, p.Insts)
	// Each host task multiplies the schedules: two guest tasks have at
	// most two host tasks, three guest tasks one and one use each. A
	// stream or a value pair is made only for a task that uses it.
	maxUses, streams := 1, 2
	if n == 3 {
		maxUses, streams = 1, 1
	}
	uses := make([][]rcEnd, n)
	for i := range p.Tasks {
		tk := &p.Tasks[i]
		for range rapid.IntRange(1, maxUses).Draw(t, "uses") {
			var can []rcEnd
			if tk.Out != rcNoOut || streams > 0 {
				can = append(can, rcOut, rcOut, rcOutRes)
			}
			if tk.In || streams > 0 {
				can = append(can, rcIn, rcIn, rcInRes)
			}
			switch {
			case !shared || tk.Inst != 0:
				can = append(can, rcVW, rcVR, rcFW, rcFR)
			case i == 0: // the writer of the instance's pair
				can = append(can, rcVW, rcFW)
			default:
				can = append(can, rcVR, rcFR)
			}
			e := rapid.SampledFrom(can).Draw(t, "use")
			switch {
			case (e == rcOut || e == rcOutRes) && tk.Out == rcNoOut:
				tk.Out = rapid.IntRange(rcStdout, rcOutKinds-1).Draw(t, "out")
				streams--
			case (e == rcIn || e == rcInRes) && !tk.In:
				tk.In = true
				streams--
			case e >= rcVW && e <= rcFR:
				p.Values[tk.Inst] = true
			}
			uses[i] = append(uses[i], e)
		}
		// A second use of the other end of what the first one used (a
		// stream and its result, a pair's two ends) needs no other host
		// task: a result that resolves while a read of it is in flight.
		first := uses[i][0]
		split := shared && tk.Inst == 0 && first >= rcVW && first <= rcFR // the pair's ends are the two tasks'
		if !split && rapid.IntRange(0, 2).Draw(t, "second use") == 0 {
			uses[i] = append(uses[i], first.other())
		}
	}
	for i := range p.Tasks {
		tk := &p.Tasks[i]
		if tk.Out != rcNoOut {
			tk.Ends = append(tk.Ends, rcOut, rcOutRes)
		}
		if tk.In {
			tk.Ends = append(tk.Ends, rcIn, rcInRes)
		}
		if p.Values[tk.Inst] {
			pair := shared && tk.Inst == 0
			switch {
			case !pair:
				tk.Ends = append(tk.Ends, rcVW, rcVR, rcFW, rcFR)
			case i == 0:
				tk.Ends = append(tk.Ends, rcVW, rcFW)
			default:
				tk.Ends = append(tk.Ends, rcVR, rcFR)
			}
		}
		tk.Set = rapid.IntRange(0, 5).Draw(t, "set") > 0
		if tk.Set {
			for _, e := range tk.Ends {
				if rapid.IntRange(0, 3).Draw(t, "joined") > 0 {
					tk.Join = append(tk.Join, e)
				}
			}
		}
	}
	// A use of an end is a step (which starts a copy), maybe something
	// else while it is in flight, then what may see it end (a poll, a
	// wait, another step, a drop), so that most copies race with
	// something.
	for i := range p.Tasks {
		tk := &p.Tasks[i]
		op := func(k rcKind, e rcEnd) {
			o := rcOp{Kind: k, End: e}
			if k == rcQuery && shared && i < 2 && rapid.Bool().Draw(t, "peer") {
				// The tasks of an instance share its handles: a query
				// may look at the other task's end.
				peer := p.Tasks[1-i].Ends
				o.Peer, o.End = true, peer[rapid.IntRange(0, len(peer)-1).Draw(t, "peer end")]
			}
			o.N = rapid.IntRange(1, 2).Draw(t, "n")
			o.Off = rapid.IntRange(0, rcMem-o.N).Draw(t, "off")
			o.How = rapid.IntRange(0, 3).Draw(t, "how")
			o.V = "XYZ"[rapid.IntRange(0, 2).Draw(t, "byte")]
			tk.Ops = append(tk.Ops, o)
		}
		for _, e := range uses[i] {
			op(rcStep, e)
			if rapid.Bool().Draw(t, "meanwhile") {
				op(rapid.SampledFrom(rcMeanwhile).Draw(t, "kind"), e)
			}
			if k := rapid.SampledFrom(rcThen).Draw(t, "then"); k != rcNone {
				op(k, e)
			}
			if rapid.Bool().Draw(t, "poke after") {
				op(rcPoke, e) // a lent buffer overwritten after a call
			}
		}
	}
	return p
}

// rcEndState is a task's view of one of its ends.
type rcEndState struct {
	h       Handle
	host    bool        // a host task consumes or produces the stream
	res     *rcEndState // out and in: the future of the result
	of      *rcEndState // a result: its stream's end
	pending bool        // a copy is in flight
	done    bool        // the end reported DROPPED, or its future copy finished
	dropped bool
}

// hostBacked reports whether a host task completes a copy on the end
// whatever the guests do, so that a guest may block on it: the host
// consumes or produces the stream until it ends, and resolves a result
// once the guest dropped the stream.
func (s *rcEndState) hostBacked() bool { return s.host || s.of != nil && s.of.dropped }

// rcRun is one run of a program: its host, instances, memories and what
// each task observed.
type rcRun struct {
	p     *rcProg
	h     *Host
	insts []*Instance
	mem   [][]byte
	sets  []Handle
	ends  []map[rcEnd]*rcEndState
	obs   [][]string
}

// setup makes what each task uses before the run starts, so that it adds
// no scheduling points: the file, the streams the host consumes and
// produces, the value streams and futures, the waitable sets.
func (r *rcRun) setup(w *sim.World) error {
	h, err := New(w, Options{Chunk: 2})
	if err != nil {
		return err
	}
	r.h = h
	root := h.FS().Root(vfs.Read | vfs.MutateDirectory)
	f, err := root.OpenAt(0, "f", vfs.OpenCreate, vfs.Read|vfs.Write)
	root.DecRef() //nolint:errcheck
	if err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(rcFile), 0); err != nil {
		return err
	}
	f.DecRef() //nolint:errcheck
	type pair struct{ vr, vw, fr, fw Handle }
	var values []pair
	var roots []Handle
	for i := range r.p.Insts {
		in := h.NewInstance(fmt.Sprintf("inst%d", i))
		r.insts = append(r.insts, in)
		r.mem = append(r.mem, []byte(rcMemInit[i]))
		pre, err := in.Preopens()
		if err != nil {
			return err
		}
		roots = append(roots, pre[0].Handle)
		var v pair
		if r.p.Values[i] {
			if v.vr, v.vw, err = in.NewValueStream("values"); err != nil {
				return err
			}
			if v.fr, v.fw, err = in.NewFuture("value"); err != nil {
				return err
			}
		}
		values = append(values, v)
	}
	for _, tk := range r.p.Tasks {
		in := r.insts[tk.Inst]
		ends := map[rcEnd]*rcEndState{}
		if tk.Out != rcNoOut {
			rd, wr, err := in.NewStream()
			if err != nil {
				return err
			}
			var res Handle
			if tk.Out == rcStdout {
				res, err = in.WriteStdout(rd)
			} else {
				res, err = r.fileWrite(in, roots[tk.Inst], tk.Out, rd)
			}
			if err != nil {
				return err
			}
			ends[rcOutRes] = &rcEndState{h: res}
			ends[rcOut] = &rcEndState{h: wr, host: true, res: ends[rcOutRes]}
			ends[rcOutRes].of = ends[rcOut]
		}
		if tk.In {
			fd, err := in.OpenAt(roots[tk.Inst], 0, "f", 0, vfs.Read)
			if err != nil {
				return err
			}
			data, res, err := in.ReadViaStream(fd, 0)
			if err != nil {
				return err
			}
			if err := in.Drop(fd); err != nil {
				return err
			}
			ends[rcInRes] = &rcEndState{h: res}
			ends[rcIn] = &rcEndState{h: data, host: true, res: ends[rcInRes]}
			ends[rcInRes].of = ends[rcIn]
		}
		v := values[tk.Inst]
		for _, e := range tk.Ends {
			switch e {
			case rcVW:
				ends[e] = &rcEndState{h: v.vw}
			case rcVR:
				ends[e] = &rcEndState{h: v.vr}
			case rcFW:
				ends[e] = &rcEndState{h: v.fw}
			case rcFR:
				ends[e] = &rcEndState{h: v.fr}
			}
		}
		var set Handle
		if tk.Set {
			var err error
			if set, err = in.NewWaitableSet(); err != nil {
				return err
			}
			for _, e := range tk.Join {
				if err := in.Join(ends[e].h, set); err != nil {
					return err
				}
			}
		}
		r.sets = append(r.sets, set)
		r.ends = append(r.ends, ends)
		r.obs = append(r.obs, nil)
	}
	for i, tk := range r.p.Tasks {
		in := r.insts[tk.Inst]
		w.Go(fmt.Sprintf("guest%d", i), func(*sim.Task) error {
			r.guest(i)
			return nil
		}).Touches(in.GuestMemory(), sim.Write)
	}
	return nil
}

// fileWrite gives data to write-via-stream (at offset 0 or 1) or
// append-via-stream of f and returns the result.
func (r *rcRun) fileWrite(in *Instance, root Handle, out int, data Handle) (Handle, error) {
	fd, err := in.OpenAt(root, 0, "f", 0, vfs.Write)
	if err != nil {
		return 0, err
	}
	var res Handle
	switch out {
	case rcWriteAt0:
		res, err = in.WriteViaStream(fd, data, 0)
	case rcWriteAt1:
		res, err = in.WriteViaStream(fd, data, 1)
	default:
		res, err = in.AppendViaStream(fd, data)
	}
	if err != nil {
		return 0, err
	}
	return res, in.Drop(fd)
}

// guest runs task i's ops. Each op is valid whatever the schedule: it
// looks at what the task knows of its ends (a copy it started and has
// not seen end is pending), so no run traps, and it blocks only on what
// a host task completes, so no run deadlocks.
func (r *rcRun) guest(i int) {
	tk := r.p.Tasks[i]
	in, mem, set, ends := r.insts[tk.Inst], r.mem[tk.Inst], r.sets[i], r.ends[i]
	note := func(format string, args ...any) { r.obs[i] = append(r.obs[i], fmt.Sprintf(format, args...)) }
	event := func(what string, ev Event, err error) {
		if err != nil {
			note("%s: %v", what, err)
			return
		}
		if ev.Code == EventNone {
			note("%s: none", what)
			return
		}
		var end rcEnd
		var st *rcEndState
		for e, s := range ends {
			if s.h == ev.Handle {
				end, st = e, s
			}
		}
		st.pending = false
		if ev.Copy.Status == Dropped || end.future() && ev.Copy.Status == Completed {
			st.done = true
		}
		switch d := ev.Data.(type) {
		case []byte:
			note("%s: %v %v %q", what, end, ev.Copy, d)
		case nil:
			note("%s: %v %v", what, end, ev.Copy)
		default:
			note("%s: %v %v %v", what, end, ev.Copy, d)
		}
	}
	result := func(what string, res CopyResult, err error) {
		if err != nil {
			note("%s: %v", what, err)
			return
		}
		note("%s: %v", what, res)
	}
	// hostWait reports whether a pending copy on an end joined to the set
	// will complete whatever the guests do.
	hostWait := func() bool {
		ok := false
		for _, e := range tk.Ends { // in order: the calls are part of the step
			if s := ends[e]; s.hostBacked() && s.pending && !s.dropped && in.InSet(s.h) == set {
				ok = true
			}
		}
		return ok
	}
	for _, o := range tk.Ops {
		st := ends[o.End]
		piece := mem[o.Off : o.Off+o.N]
		switch o.Kind {
		case rcStep:
			switch {
			case st.dropped || st.done:
				note("skip")
			case !st.pending && st.of != nil && o.How == 2 && st.hostBacked():
				v, err := in.Await(st.h)
				st.done = true
				note("await: %v %v", v, err)
			case !st.pending:
				rcStartCopy(in, o, st, piece, note, event, result)
			case !st.hostBacked() || o.How == 1 || o.End.future() && o.How == 3:
				ev, err := in.CancelCopy(st.h)
				event("cancel", ev, err)
			case o.How == 0 || o.End.future():
				ev, err := in.WaitCopy(st.h)
				event("wait", ev, err)
			case o.End == rcOut:
				res, err := finishWrite[byte](in, st.h, o.How == 3)
				st.pending = false
				st.done = st.done || res.Status == Dropped
				result("finish-write", res, err)
			default:
				got, res, err := finishRead[byte](in, st.h, o.How == 3)
				st.pending = false
				st.done = st.done || res.Status == Dropped
				result(fmt.Sprintf("finish-read %q", got), res, err)
			}
		case rcPoke:
			mem[o.Off] = o.V
		case rcPoll:
			if set != 0 {
				ev, err := in.PollEvent(set)
				event("poll", ev, err)
			}
		case rcWait:
			if set != 0 {
				var ev Event
				var err error
				if hostWait() {
					ev, err = in.WaitEvent(set)
				} else {
					ev, err = in.PollEvent(set)
				}
				event("wait-event", ev, err)
			}
		case rcJoin:
			if set != 0 && !st.dropped {
				to := set
				if o.How == 1 {
					to = 0
				}
				if err := in.Join(st.h, to); err != nil {
					note("join: %v", err)
				}
			}
		case rcQuery:
			if o.Peer {
				st = r.ends[1-i][o.End]
			}
			note("query: kind %v, set %d, pending %v", in.KindOf(st.h), in.InSet(st.h), in.Pending(st.h))
			if st.res != nil && !st.res.dropped {
				ok, err := in.Resolved(st.res.h)
				note("resolved: %v %v", ok, err)
			}
		case rcDrop:
			if st.dropped || st.pending || o.End == rcFW && !st.done {
				note("keep")
				break
			}
			st.dropped = true
			if err := in.Drop(st.h); err != nil {
				note("drop: %v", err)
			}
		case rcPrint:
			if err := in.StdoutWrite(piece); err != nil {
				note("print: %v", err)
			}
		}
	}
}

// rcStartCopy starts a copy on an end that has none in flight, through one of
// the calls that can.
func rcStartCopy(in *Instance, o rcOp, st *rcEndState, piece []byte, note func(string, ...any),
	event func(string, Event, error), result func(string, CopyResult, error)) {
	started := func(what string, ev Event, done bool, err error) {
		switch {
		case err != nil:
			note("%s: %v", what, err)
		case done:
			event(what, ev, nil)
		default:
			st.pending = true
			note("%s: pending", what)
		}
	}
	switch o.End {
	case rcOut:
		switch o.How {
		case 0, 3: // a view of memory, lent until the copy ends
			ev, done, err := in.StartCopy(st.h, o.N, piece)
			started("copy-out", ev, done, err)
		case 1: // copied at the call
			if err := in.StartWrite(st.h, piece); err != nil {
				note("start-write: %v", err)
				break
			}
			st.pending = true
			note("start-write")
		case 2:
			res, err := in.Write(st.h, piece)
			st.done = res.Status == Dropped
			result("write", res, err)
		}
	case rcIn:
		switch o.How {
		case 0: // into a view of memory
			ev, done, err := in.StartCopy(st.h, o.N, piece)
			started("copy-in", ev, done, err)
		case 1:
			ev, done, err := in.StartCopy(st.h, o.N, nil)
			started("copy-in", ev, done, err)
		case 2:
			n, res, err := in.ReadInto(st.h, piece)
			st.done = res.Status == Dropped
			result(fmt.Sprintf("read-into %d", n), res, err)
		case 3:
			if err := in.StartRead(st.h, o.N); err != nil {
				note("start-read: %v", err)
				break
			}
			st.pending = true
			note("start-read")
		}
	case rcVW:
		vals := make([]any, len(piece))
		for i, c := range piece {
			vals[i] = string(c)
		}
		ev, done, err := in.StartCopy(st.h, 0, vals)
		started("copy-values", ev, done, err)
	case rcVR:
		ev, done, err := in.StartCopy(st.h, o.N, nil)
		started("copy-values-in", ev, done, err)
	case rcFW:
		ev, done, err := in.StartCopy(st.h, 1, string(piece))
		started("copy-future", ev, done, err)
	case rcFR:
		ev, done, err := in.StartCopy(st.h, 1, nil)
		started("copy-future-in", ev, done, err)
	case rcOutRes, rcInRes:
		ev, done, err := in.StartCopy(st.h, 1, nil)
		started("copy-result", ev, done, err)
	}
}

// outcome describes a run that ended: what each task observed, the
// memories, stdout, f and anything left alive.
func (r *rcRun) outcome() string {
	var b strings.Builder
	for i, o := range r.obs {
		fmt.Fprintf(&b, "task %d: %s\n", i, strings.Join(o, "; "))
	}
	for i, m := range r.mem {
		fmt.Fprintf(&b, "memory %d: %q\n", i, m)
	}
	data, err := fs.ReadFile(r.h.FS().IOFS(), "f")
	fmt.Fprintf(&b, "stdout %q, f %q %v\n", r.h.Stdout(), data, err)
	if l := r.h.Leaks(); len(l) > 0 {
		fmt.Fprintf(&b, "alive: %v\n", l)
	}
	return b.String()
}

// rcOutcomes explores every schedule of p (plain or reduced, up to
// budget schedules) and returns the outcomes of the runs that ended, the
// outcomes of the runs that failed, the schedules run and whether the
// search exhausted the tree.
func rcOutcomes(t fatalf, p *rcProg, plain bool, budget int) (ok, failed []string, runs int, exhausted bool, estimate float64) {
	seen := map[string]bool{}
	var last string
	// The outcome is taken when nothing can run any more (an idle hook):
	// every task, the host's too, has ended. A run the reduced search
	// stops early as redundant never gets there, so it does not count;
	// the next run's setup commits the previous run's outcome.
	commit := func() {
		if last != "" {
			seen[last] = true
		}
		last = ""
	}
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs", Workers: 1, KeepGoing: true, Runs: budget,
		Options: sim.StrategyOptions{DFS: sim.DFSOptions{Plain: plain}}}, func(w *sim.World) error {
		commit()
		r := &rcRun{p: p}
		if err := r.setup(w); err != nil {
			return err
		}
		// When nothing can run, the guests have ended (or are stuck):
		// their instances close, as a component's do when it exits,
		// which ends the host tasks; when nothing can run again, the
		// run is over. Closing here rather than in the guests' last
		// steps keeps a step that touches everything out of the races
		// the reduced search must find.
		closed := false
		w.OnIdle(func() bool {
			if !closed {
				closed = true
				for _, in := range r.insts {
					in.Close()
				}
				return true
			}
			last = r.outcome()
			return false
		})
		return nil
	})
	commit()
	if err != nil {
		t.Fatalf("%v\n%s", err, p)
	}
	for o := range rep.Outcomes {
		if o != "ok" {
			failed = append(failed, o)
		}
	}
	slices.Sort(failed)
	return slices.Sorted(maps.Keys(seen)), failed, rep.Runs, rep.Exhausted, rep.Estimate
}

type fatalf interface{ Fatalf(string, ...any) }

// rcBudget bounds the plain search of a drawn program: a program whose
// tree is larger is skipped, and so is one whose tree Knuth's estimate
// after rcFirst schedules puts over half of it (the estimate is low
// rather than high on these trees).
const (
	rcBudget = 20000
	rcFirst  = 1000
)

// TestReductionKeepsCopyOutcomesRandom draws small programs of guest
// tasks that use pending copies, waitable sets, value streams and
// futures, stdout and a file through streams, and lend their memory to
// copies, and compares the reduced search with plain search: both must
// reach the same outcomes, the reduced one in no more schedules.
func TestReductionKeepsCopyOutcomesRandom(t *testing.T) {
	compared, skipped, plainRuns, reducedRuns := 0, 0, 0, 0
	checks := 40
	if raceDetector {
		checks = 10
	}
	soak.Check(t, checks, func(rt *rapid.T) {
		p := drawCopyProg(rt)
		// A first look bounds the cost of a tree too large to compare.
		po, pf, pn, pdone, est := rcOutcomes(rt, p, true, rcFirst)
		if !pdone && est <= rcBudget/2 {
			po, pf, pn, pdone, _ = rcOutcomes(rt, p, true, rcBudget)
		}
		if !pdone {
			skipped++
			return
		}
		if len(pf) > 0 {
			rt.Fatalf("a run failed: %q\n%s", pf, p)
		}
		ro, rf, rn, rdone, _ := rcOutcomes(rt, p, false, rcBudget)
		if !rdone {
			rt.Fatalf("the reduced search did not finish in %d schedules where plain search did in %d\n%s", rn, pn, p)
		}
		if !slices.Equal(po, ro) || len(rf) > 0 {
			rt.Fatalf("outcomes differ (%d schedules plain, %d reduced)\nonly plain:\n%s\nonly reduced:\n%s\nfailed reduced: %q\n%s",
				pn, rn, strings.Join(minus(po, ro), "--\n"), strings.Join(minus(ro, po), "--\n"), rf, p)
		}
		if rn > pn {
			rt.Fatalf("the reduced search ran %d schedules, plain search %d\n%s", rn, pn, p)
		}
		compared++
		plainRuns += pn
		reducedRuns += rn
	})
	t.Logf("%d programs compared (%d schedules plain, %d reduced), %d skipped (plain tree over %d, or estimated over half of it)",
		compared, plainRuns, reducedRuns, skipped, rcBudget)
}

// minus is what a has and b has not (both sorted).
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

// A blocking Write lends its data to the host until the copy, as
// StartCopy does: the copy reads the writer's memory, so it must touch
// it. Here one task of an instance blocks in Write of a piece of the
// instance's memory while the other sees the write pending and
// overwrites that piece; the host copies either bytes, and the reduced
// search must reach both.
func TestReductionKeepsBlockingWriteOfLentMemory(t *testing.T) {
	p := &rcProg{Insts: 1, Values: []bool{false}, Tasks: []rcTask{
		{Inst: 0, Out: rcStdout, Ends: []rcEnd{rcOut}, Ops: []rcOp{{Kind: rcStep, End: rcOut, N: 2, How: 2}}},
		{Inst: 0, Ops: []rcOp{{Kind: rcQuery, End: rcOut, Peer: true}, {Kind: rcPoke, V: 'X'}}},
	}}
	all, _, n, _, _ := rcOutcomes(t, p, true, 0)
	red, _, m, _, _ := rcOutcomes(t, p, false, 0)
	pendingX := 0
	for _, o := range all {
		if strings.Contains(o, "pending true") && strings.Contains(o, `stdout "Xb"`) {
			pendingX++
		}
	}
	if pendingX == 0 {
		t.Fatalf("no schedule copies the overwritten byte while the write is pending: %q", all)
	}
	if !slices.Equal(red, all) {
		t.Fatalf("the reduced search (%d schedules) reaches\n%q\nplain search (%d)\n%q", m, red, n, all)
	}
}
