package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// Options configures how a script is run.
type Options struct {
	// OnHost, if set, is called with the host each time the scenario builds
	// one (once per run), so tools can inspect it after the run (stdout,
	// leaks, the filesystem).
	OnHost func(*host.Host)
}

// StepError is a statement that failed: a broken expectation, an error
// result nobody expected, or a trap. It is the error of the task that ran
// the statement.
type StepError struct {
	File string
	Pos  Pos
	Task string
	// Stmt is the statement as written (canonical form).
	Stmt string
	// Kind is "expect" (an assertion did not hold), "error" (a WASI error
	// that no "expect error" accepted) or "trap".
	Kind string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s:%d: %s: `%s`: %v", e.File, e.Pos.Line, e.Task, e.Stmt, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Where is "file:line", the statement's location.
func (e *StepError) Where() string { return fmt.Sprintf("%s:%d", e.File, e.Pos.Line) }

type copyVal struct {
	data []byte
	res  host.CopyResult
	read bool
}

type resultVal struct{ err error }

type addrVal netip.AddrPort

type listVal []netip.Addr

type runInst struct {
	name string
	in   *host.Instance
	vars map[string]any
	q    *sim.WaitQueue
}

type runner struct {
	s     *Script
	w     *sim.World
	h     *host.Host
	fs    *vfs.FS
	insts map[string]*runInst
	tasks map[string]*sim.Task
}

// Scenario returns the sim.Scenario that runs the script: it builds a host
// (variant, chunk and initial files from the header) and one instance per
// instance name (each with the variable root bound to its preopened "/"),
// and starts one world task per script task. A failed statement ends its
// task with a *StepError naming the file and line.
func (s *Script) Scenario(opt Options) sim.Scenario {
	return func(w *sim.World) error {
		r := &runner{s: s, w: w, insts: map[string]*runInst{}, tasks: map[string]*sim.Task{}}
		r.fs = vfs.New(vfs.Options{World: w})
		if err := r.setupFiles(); err != nil {
			return err
		}
		h, err := host.New(w, host.Options{Variant: s.Variant, Chunk: s.Chunk, FS: r.fs})
		if err != nil {
			return err
		}
		r.h = h
		if opt.OnHost != nil {
			opt.OnHost(h)
		}
		for _, t := range s.Tasks {
			name := t.Instance()
			if r.insts[name] != nil {
				continue
			}
			in := h.NewInstance(name)
			pre, err := in.Preopens()
			if err != nil || len(pre) == 0 {
				return fmt.Errorf("instance %s: no preopened directory: %v", name, err)
			}
			r.insts[name] = &runInst{name: name, in: in, vars: map[string]any{"root": pre[0].Handle},
				q: w.NewWaitQueue("variables of " + name)}
		}
		for _, t := range s.Tasks {
			t := t
			ri := r.insts[t.Instance()]
			// Annotated: between host calls a task touches only the
			// variables of its instance, and records that (touchVar).
			r.tasks[t.Name] = w.Go(t.Name, func(*sim.Task) error { return r.runTask(t, ri) }).Annotated()
		}
		return nil
	}
}

func (r *runner) setupFiles() error {
	root := r.fs.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef() //nolint:errcheck
	mkdirs := func(p string) error {
		parts := strings.Split(p, "/")
		for i := range parts {
			if err := root.CreateDirectoryAt(strings.Join(parts[:i+1], "/")); err != nil && !errors.Is(err, vfs.ErrExist) {
				return err
			}
		}
		return nil
	}
	for _, f := range r.s.Files {
		where := fmt.Sprintf("%s:%d", r.s.Name, f.Pos.Line)
		if f.Dir {
			if err := mkdirs(f.Path); err != nil {
				return fmt.Errorf("%s: dir %q: %w", where, f.Path, err)
			}
			continue
		}
		if dir := path.Dir(f.Path); dir != "." {
			if err := mkdirs(dir); err != nil {
				return fmt.Errorf("%s: file %q: %w", where, f.Path, err)
			}
		}
		d, err := root.OpenAt(0, f.Path, vfs.OpenCreate|vfs.OpenTruncate, vfs.Read|vfs.Write)
		if err != nil {
			return fmt.Errorf("%s: file %q: %w", where, f.Path, err)
		}
		_, err = d.WriteAt([]byte(f.Content), 0)
		d.DecRef() //nolint:errcheck
		if err != nil {
			return fmt.Errorf("%s: file %q: %w", where, f.Path, err)
		}
	}
	return nil
}

func (r *runner) runTask(t *Task, ri *runInst) error {
	for _, st := range t.Body {
		if st.checks != nil {
			continue // checked with its statement
		}
		res, err := r.exec(st, ri)
		if o := st.outcome; o != nil {
			if e := outcomeMismatch(o, err); e != nil {
				return &StepError{File: r.s.Name, Pos: o.Pos, Task: t.Name, Stmt: st.String() + "` then `" + o.String(), Kind: "expect", Err: e}
			}
			if o.args[0].s == "trap" {
				ri.in.AcceptTrap() // the script asserted it: not an ignored trap
			}
			continue
		}
		if err != nil {
			kind := "error"
			var tr *host.Trap
			if errors.As(err, &tr) {
				kind = "trap"
			} else if _, ok := err.(expectError); ok {
				kind = "expect"
			}
			return &StepError{File: r.s.Name, Pos: st.Pos, Task: t.Name, Stmt: st.String(), Kind: kind, Err: err}
		}
		for i, name := range st.Results {
			m := sim.Write
			if _, ok := ri.vars[name]; !ok {
				m = sim.Publish // its first value: gets that waited for it need it
			}
			r.touchVar(ri, name, m)
			ri.vars[name] = res[i]
		}
		if len(st.Results) > 0 {
			ri.q.Broadcast()
		}
	}
	return nil
}

// touchVar records a use of a variable of an instance, for partial-order
// reduction: the variables are what tasks of one instance share besides
// the host. Its number is a hash of the instance's and the variable's
// names: two variables that collide are only taken as one, which is safe.
func (r *runner) touchVar(ri *runInst, name string, m sim.Mode) {
	h := fnv.New64a()
	h.Write([]byte(ri.name)) //nolint:errcheck // a hash does not fail
	h.Write([]byte{0})       //nolint:errcheck
	h.Write([]byte(name))    //nolint:errcheck
	r.w.Touch(sim.Obj{Kind: sim.ObjVar, ID: h.Sum64()}, m)
}

// expectError is a broken assertion.
type expectError string

func (e expectError) Error() string { return string(e) }

func failf(format string, args ...any) error { return expectError(fmt.Sprintf(format, args...)) }

// errName is the WASI name of an error code, or the error text.
func errName(err error) string {
	var fc vfs.ErrorCode
	if errors.As(err, &fc) {
		return fc.String()
	}
	var nc vnet.ErrorCode
	if errors.As(err, &nc) {
		return nc.String()
	}
	if errors.Is(err, vfs.ErrWouldBlock) {
		return "would-block"
	}
	return err.Error()
}

func outcomeMismatch(o *Stmt, err error) error {
	var tr *host.Trap
	isTrap := errors.As(err, &tr)
	switch o.args[0].s {
	case "error":
		want := o.args[1].s
		switch {
		case err == nil:
			return failf("expected error %s, but the statement succeeded", want)
		case isTrap:
			return failf("expected error %s, got %v", want, err)
		case errName(err) != want:
			return failf("expected error %s, got error %s", want, errName(err))
		}
	case "trap":
		switch {
		case err == nil:
			return failf("expected a trap, but the statement succeeded")
		case !isTrap:
			return failf("expected a trap, got error %s", errName(err))
		case len(o.args) > 1 && trapKinds[o.args[1].s] != tr.Kind:
			return failf("expected a %s trap, got a %s trap (%v)", o.args[1].s, trapKindName(tr.Kind), err)
		}
	}
	return nil
}

func (r *runner) get(ri *runInst, name string) (any, error) {
	// Await: runTask signals ri.q in the step that sets a variable.
	err := ri.q.Await("variable "+name+" of "+ri.name, func() bool {
		r.touchVar(ri, name, sim.Read)
		_, ok := ri.vars[name]
		return ok
	})
	if err != nil {
		return nil, err
	}
	return ri.vars[name], nil
}

func (r *runner) handle(ri *runInst, pv pval) (host.Handle, error) {
	v, err := r.get(ri, pv.s)
	if err != nil {
		return 0, err
	}
	h, ok := v.(host.Handle)
	if !ok {
		return 0, fmt.Errorf("%s is not a handle", pv.s)
	}
	return h, nil
}

// handles resolves every variable argument, in order.
func (r *runner) handles(ri *runInst, st *Stmt) ([]host.Handle, error) {
	var hs []host.Handle
	for _, a := range st.args {
		if a.kind == pVar {
			h, err := r.handle(ri, a)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
		}
	}
	return hs, nil
}

// exec runs a statement: its verb's exec, with the handles of its
// variable arguments resolved first (waiting for variables not set yet)
// unless the verb reads its variables itself.
func (r *runner) exec(st *Stmt, ri *runInst) ([]any, error) {
	x := &call{r: r, ri: ri, in: ri.in, st: st, a: st.args}
	if st.verb.use == nil {
		hs, err := r.handles(ri, st)
		if err != nil {
			return nil, err
		}
		x.hs = hs
	}
	return st.verb.exec(x)
}

func (r *runner) expect(st *Stmt, ri *runInst) error {
	a := st.args
	switch {
	case a[0].kind == pWord && a[0].s == "file":
		r.w.YieldBoundary()
		if a[2].s != "==" {
			_, err := r.fs.IOFS().Stat(a[1].s)
			missing := errors.Is(err, fs.ErrNotExist)
			if err != nil && !missing {
				return failf("file %q: %v", a[1].s, err)
			}
			if a[2].s == "missing" && !missing {
				return failf("file %q exists", a[1].s)
			}
			if a[2].s == "exists" && missing {
				return failf("file %q does not exist", a[1].s)
			}
			return nil
		}
		data, err := r.fs.IOFS().ReadFile(a[1].s)
		missing := errors.Is(err, fs.ErrNotExist)
		if err != nil && !missing {
			return failf("file %q: %v", a[1].s, err)
		}
		switch a[2].s {
		case "==":
			if missing {
				return failf("file %q does not exist, want %s", a[1].s, strconv.Quote(a[3].s))
			}
			if string(data) != a[3].s {
				return failf("file %q holds %s, want %s", a[1].s, strconv.Quote(string(data)), strconv.Quote(a[3].s))
			}
		}
		return nil
	case a[0].kind == pWord && a[0].s == "lock":
		r.w.YieldBoundary()
		fi, err := r.fs.IOFS().Stat(a[1].s)
		if err != nil {
			return failf("lock on %q: %v", a[1].s, err)
		}
		ino := fi.Sys().(vfs.Stat).Inode
		state := "free"
		for _, l := range r.fs.Locks() {
			if l.Inode != ino {
				continue
			}
			if l.Kind == vfs.LockExclusive {
				state = "exclusive"
			} else if state == "free" {
				state = "shared"
			}
		}
		if state != a[2].s {
			return failf("lock on %q is %s, want %s", a[1].s, state, a[2].s)
		}
		return nil
	case a[0].kind == pWord && a[0].s == "port":
		r.w.YieldBoundary()
		proto := vnet.TCP
		if a[1].s == "udp" {
			proto = vnet.UDP
		}
		bound := r.h.Net().PortBound(proto, a[2].a)
		state := "free"
		if bound {
			state = "bound"
		}
		if state != a[3].s {
			return failf("%s port %s is %s, want %s", a[1].s, a[2].a, state, a[3].s)
		}
		return nil
	case a[0].kind == pWord && (a[0].s == "stdout" || a[0].s == "stderr"):
		r.w.YieldBoundary()
		got := r.h.Stdout()
		if a[0].s == "stderr" {
			got = r.h.Stderr()
		}
		if string(got) != a[2].s {
			return failf("%s holds %s, want %s", a[0].s, strconv.Quote(string(got)), strconv.Quote(a[2].s))
		}
		return nil
	}
	v, err := r.get(ri, a[0].s)
	if err != nil {
		return err
	}
	name := a[0].s
	switch val := v.(type) {
	case resultVal:
		switch a[1].s {
		case "ok":
			if val.err != nil {
				return failf("%s is err(%s), want ok", name, errName(val.err))
			}
		case "err":
			if val.err == nil {
				return failf("%s is ok, want err(%s)", name, a[2].s)
			}
			if errName(val.err) != a[2].s {
				return failf("%s is err(%s), want err(%s)", name, errName(val.err), a[2].s)
			}
		}
		return nil
	case copyVal:
		if a[1].s == "==" {
			if !bytes.Equal(val.data, []byte(a[2].s)) {
				return failf("%s read %s, want %s", name, strconv.Quote(string(val.data)), strconv.Quote(a[2].s))
			}
			return nil
		}
		want := map[string]host.CopyStatus{"completed": host.Completed, "dropped": host.Dropped, "cancelled": host.Cancelled}[a[1].s]
		if val.res.Status != want || (len(a) > 2 && uint64(val.res.Progress) != a[2].n) {
			w := strings.ToUpper(a[1].s)
			if len(a) > 2 {
				w = fmt.Sprintf("{%d %s}", a[2].n, w)
			}
			return failf("%s is %s, want %s", name, val.res, w)
		}
		return nil
	case addrVal:
		if got := netip.AddrPort(val).String(); got != a[2].s {
			return failf("%s is %s, want %s", name, got, a[2].s)
		}
		return nil
	case listVal:
		parts := make([]string, len(val))
		for i, x := range val {
			parts[i] = x.String()
		}
		if got := strings.Join(parts, " "); got != a[2].s {
			return failf("%s is %q, want %q", name, got, a[2].s)
		}
		return nil
	}
	return fmt.Errorf("internal: %s holds %T", name, v)
}
