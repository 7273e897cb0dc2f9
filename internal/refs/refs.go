// Package refs is wasisim's one reference-counting mechanism, in the
// manner of gVisor's FileDescriptionRefs: a count, release hooks and a
// record of misuse, embedded by every reference-counted object (vfs open
// file descriptions, vnet TCP and UDP sockets), and the bookkeeping of who
// holds each reference (Shared, Ref), used by every holder in host and
// host/wasip1.
//
// # Ownership
//
// An object is made with one reference, owned by its creator. Each holder
// (a component handle, a stream or future derived from it, a preview-1
// descriptor) owns exactly one reference, taken with IncRef and given back
// with DecRef; the last DecRef releases the object, and what release does
// is the object's own business (a file description drops its locks, a
// socket its port binding). Holders hold objects through the Object
// interface and track themselves in a Shared, so that a leak report names
// every holder still alive.
//
// # Misuse
//
// A misuse is a DecRef after the object was released or an IncRef that
// would resurrect a released one. It never panics and is never dropped in
// silence: it changes nothing, returns a *MisuseError, is counted on the
// object, appears as a "misuse" event in the trace, and is listed in the
// owner's Log, which reports every entry as a failure of the run
// (sim.World.AddMisuseCheck). TryIncRef is the one way to ask whether an
// object is still alive without that being a misuse.
//
// # Synchronisation
//
// A Count and a Log are guarded by their owner's mutex (vfs.FS's, vnet.Net's),
// because release must be atomic with the owner's other state: every
// method whose name ends in Locked requires it. Shared and Ref are used by
// one host or guest at a time, as the world's tasks run one at a time;
// they are not safe for concurrent use.
package refs

import (
	"fmt"
	"sync"

	"github.com/wasisim/wasisim/sim"
)

// Object is what holders hold: a reference-counted object. IncRef takes a
// reference (on a released object it is a misuse, returning an error that
// wraps a *MisuseError); DecRef drops one (the last releases the object; a
// DecRef after release is a misuse). String names the object in reports.
type Object interface {
	IncRef() error
	DecRef() error
	String() string
}

// MisuseError is the error of a misuse: Op ("IncRef" or "DecRef") on the
// released object Obj.
type MisuseError struct {
	Op  string
	Obj string
}

func (e *MisuseError) Error() string { return e.Op + " on released " + e.Obj }

// Count is the reference count of one object, embedded in it. The zero
// value is a released object; Init gives it its creator's reference.
//
// Every method but Init requires the owner's mutex (Preconditions: the
// owner's mutex is held), which also guards the fields.
type Count struct {
	n        int64    // references held; 0 once released
	released bool     // the last reference was dropped
	misused  uint32   // misuses seen on this object
	hooks    []func() // run once, outside the owner's lock, at release
	log      *Log     // where misuses are reported
}

// Init gives the object one reference, owned by its creator, and names the
// Log its misuses go to. It runs before the object is shared, so it needs
// no lock.
func (c *Count) Init(log *Log) {
	c.n = 1
	c.log = log
}

// RefsLocked is the number of references (0 once released).
//
// Preconditions: the owner's mutex is held.
func (c *Count) RefsLocked() int64 { return c.n }

// ReleasedLocked reports whether the last reference was dropped.
//
// Preconditions: the owner's mutex is held.
func (c *Count) ReleasedLocked() bool { return c.released || c.n <= 0 }

// MisusedLocked is the number of misuses seen on this object.
//
// Preconditions: the owner's mutex is held.
func (c *Count) MisusedLocked() uint32 { return c.misused }

// TryIncRefLocked takes a reference unless the object was released, and
// reports whether it did. A refusal is not a misuse: it is how a caller
// asks whether the object is still alive.
//
// Preconditions: the owner's mutex is held.
func (c *Count) TryIncRefLocked() bool {
	if c.ReleasedLocked() {
		return false
	}
	c.n++
	return true
}

// IncRefLocked takes a reference. On a released object it is a misuse:
// nothing changes and the *MisuseError is returned (and recorded).
//
// Preconditions: the owner's mutex is held.
func (c *Count) IncRefLocked(obj fmt.Stringer) error {
	if c.TryIncRefLocked() {
		return nil
	}
	return c.misuseLocked("IncRef", obj)
}

// DecRefLocked drops a reference and reports whether it was the last: then
// the object counts as released and the caller performs its release and
// runs the hooks of TakeHooksLocked once it has unlocked. On a released
// object it is a misuse: nothing changes and the *MisuseError is returned
// (and recorded).
//
// Preconditions: the owner's mutex is held.
func (c *Count) DecRefLocked(obj fmt.Stringer) (last bool, err error) {
	if c.ReleasedLocked() {
		return false, c.misuseLocked("DecRef", obj)
	}
	c.n--
	if c.n > 0 {
		return false, nil
	}
	c.released = true
	return true, nil
}

// ReleaseLocked releases the object whatever its count, for an owner that
// holds the only reference itself (a listener's unaccepted connections).
// It reports false if the object was already released.
//
// Preconditions: the owner's mutex is held.
func (c *Count) ReleaseLocked() bool {
	if c.released {
		return false
	}
	c.n = 0
	c.released = true
	return true
}

// OnReleaseLocked registers fn to run at release and reports true, or, on
// a released object, reports false: the caller then runs fn itself, after
// unlocking.
//
// Preconditions: the owner's mutex is held.
func (c *Count) OnReleaseLocked(fn func()) bool {
	if c.ReleasedLocked() {
		return false
	}
	c.hooks = append(c.hooks, fn)
	return true
}

// TakeHooksLocked returns the release hooks, in registration order, and
// forgets them; the caller runs them after unlocking, so that a hook may
// call back into the owner.
//
// Preconditions: the owner's mutex is held.
func (c *Count) TakeHooksLocked() []func() {
	h := c.hooks
	c.hooks = nil
	return h
}

func (c *Count) misuseLocked(op string, obj fmt.Stringer) *MisuseError {
	c.misused++
	e := &MisuseError{Op: op, Obj: obj.String()}
	if c.log != nil {
		c.log.recordLocked(e)
	}
	return e
}

// Log lists the misuses of one owner's objects and reports them as
// failures of the world's run. It is guarded by the owner's mutex, which
// Register is given so that the end-of-run check can take it.
type Log struct {
	w     *sim.World  // nil: no events, no run to fail
	layer string      // what the run's failures name
	mu    sync.Locker // the owner's mutex
	list  []string    // the misuses' messages, in order
}

// Register makes every misuse a "misuse" event of w's trace (when tracing)
// and a failure of w's run, reported under layer. mu is the owner's mutex.
// A nil w does nothing. The check is added to the world at the first
// misuse, so a run without one pays nothing for it.
func (l *Log) Register(w *sim.World, layer string, mu sync.Locker) {
	l.w, l.layer, l.mu = w, layer, mu
}

// ListLocked lists the misuses seen so far, in order (a copy).
//
// Preconditions: the owner's mutex is held.
func (l *Log) ListLocked() []string { return append([]string(nil), l.list...) }

func (l *Log) recordLocked(e *MisuseError) {
	if len(l.list) == 0 && l.w != nil {
		l.w.AddMisuseCheck(l.layer, func() []string {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.ListLocked()
		})
	}
	l.list = append(l.list, e.Error())
	if l.w != nil && l.w.Tracing() {
		l.w.Event("misuse", e.Obj, e.Op+" on released")
	}
}
