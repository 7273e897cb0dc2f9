package component

import (
	"errors"
	"strconv"
	"strings"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// HostFunc implements an imported function. Its arguments arrive lifted
// (see Value for the Go form of each type) and it returns its result the
// same way (nil when the function has none).
type HostFunc struct {
	// Call runs the function. It runs in a task of the world: the calling
	// guest's, or, when the guest lowered the import `async` and Blocks
	// is set, a task of its own while the guest goes on. It may block
	// (world waits only). A returned error traps the calling instance,
	// except an *ExitError, which ends the guest as wasi:cli/exit does.
	Call func(c *Call, args []Value) (Value, error)
	// Blocks marks functions that may wait for other tasks of the world
	// (a connect, a sleep): lowered `async`, they run in a task of their
	// own and the guest gets a subtask. Functions that never wait run at
	// once in the caller's task and return without a subtask.
	Blocks bool
}

// Call is what a host function sees of the call in progress.
type Call struct {
	inst    *host.Instance
	task    *sim.Task
	subtask *host.Subtask
	name    string
	typ     *FuncType
}

// Type is the function's type as the calling component declared it: the
// types its arguments were lifted from and its result is lowered to.
func (c *Call) Type() *FuncType { return c.typ }

// Instance is the host instance (handle table) of the calling guest.
func (c *Call) Instance() *host.Instance { return c.inst }

// Task is the world task the function runs in.
func (c *Call) Task() *sim.Task { return c.task }

// Name is the import's name, "interface#function".
func (c *Call) Name() string { return c.name }

// Subtask is the subtask the guest holds for this call when it runs in a
// task of its own (nil when it runs in the guest's task): the function
// may watch it for cancellation (OnCancel, CancelRequested).
func (c *Call) Subtask() *host.Subtask { return c.subtask }

// ExitError ends a guest the way wasi:cli/exit does: not a trap.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return "exit " + strconv.FormatUint(uint64(e.Code), 10) }

// Linker holds the host implementations a component's imports are bound
// to: functions by interface and name, and the host kinds behind the
// resource types the interfaces define. Build it once and share it; it
// is not changed by instantiation.
type Linker struct {
	funcs map[string]map[string]*HostFunc
	// resources maps "interface#resource" to the check that a handle is
	// of that resource.
	resources map[string]func(in *host.Instance, h host.Handle) bool
	// StreamValues converts what a host stream delivered (for example a
	// []vfs.DirEntry) into component values of the element type elem.
	// Bytes, handles and values a guest wrote need no conversion.
	StreamValues func(data any, elem *Type) ([]Value, error)
	// FutureValue converts the value of a future the host resolved (an
	// error, nil meaning ok) into a component value of type t.
	FutureValue func(v any, t *Type) (Value, error)
}

// ErrCancelled is what a blocking HostFunc returns when it stopped
// because the guest cancelled its subtask: the subtask then resolves as
// cancelled, without a result.
var ErrCancelled = errors.New("component: call cancelled")

// NewLinker makes an empty Linker.
func NewLinker() *Linker {
	return &Linker{funcs: map[string]map[string]*HostFunc{}, resources: map[string]func(*host.Instance, host.Handle) bool{}}
}

// Func binds function name of the imported instance iface (e.g.
// "wasi:filesystem/types@0.3.0", "[method]descriptor.stat"). A top-level
// function import has iface "".
func (l *Linker) Func(iface, name string, f HostFunc) {
	m := l.funcs[iface]
	if m == nil {
		m = map[string]*HostFunc{}
		l.funcs[iface] = m
	}
	m[name] = &f
}

// Resource declares the resource type name of interface iface, and how
// to tell a handle of it: resource.drop of that type checks it.
func (l *Linker) Resource(iface, name string, is func(in *host.Instance, h host.Handle) bool) {
	l.resources[iface+"#"+name] = is
}

// instance finds the functions bound for an imported instance name,
// accepting a semver-compatible version (same major, and same minor for
// 0.x): a component built against wasi:cli/stdout@0.2.0 links with an
// implementation of 0.2.4. Among several compatible ones the highest
// version wins.
func (l *Linker) instance(name string) (map[string]*HostFunc, string, bool) {
	if m, ok := l.funcs[name]; ok {
		return m, name, true
	}
	base, ver, ok := strings.Cut(name, "@")
	if !ok {
		return nil, "", false
	}
	best := ""
	for have := range l.funcs {
		hb, hv, ok := strings.Cut(have, "@")
		if ok && hb == base && semverCompatible(ver, hv) && (best == "" || semverLess(best[len(base)+1:], hv)) {
			best = have
		}
	}
	if best == "" {
		return nil, "", false
	}
	return l.funcs[best], best, true
}

// semverCompatible reports whether versions a and b share their major
// version (and, for 0.x, their minor).
func semverCompatible(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if len(pa) < 2 || len(pb) < 2 || pa[0] != pb[0] {
		return false
	}
	return pa[0] != "0" || pa[1] == pb[1]
}

// semverLess compares the numeric parts of two versions.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
