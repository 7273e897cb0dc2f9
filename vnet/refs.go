package vnet

import (
	"fmt"

	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/sim"
)

// sockRefs is the reference count of a socket and the methods of
// refs.Object that TCPSocket and UDPSocket share: every holder (a handle,
// a stream, a future, a preview-1 descriptor) owns one reference, and the
// last DecRef releases the socket. Misuse follows package refs: it changes
// nothing, is recorded in the Net's misuse log (a failure of the world's
// run) and returns an error wrapping ErrInvalidState.
type sockRefs struct {
	n    *Net       // immutable
	name string     // immutable: "tcp#3", "udp#4"
	id   uint64     // immutable
	rc   refs.Count // guarded by n.mu
}

func (r *sockRefs) init(n *Net, id uint64, name string) {
	r.n, r.id, r.name = n, id, name
	r.rc.Init(&n.misuse)
}

// lockRef takes the Net's lock for a use of the reference count only:
// in a world it records a change of the socket's object (see netObj).
func (r *sockRefs) lockRef() {
	n := r.n
	n.mu.Lock()
	if n.w != nil {
		// No other call reads a count, only whether the socket was
		// released, which the last decRef changes (releaseLocked).
		n.w.Touch(refObj(r.id), sim.Write)
	}
}

// String names the socket, e.g. "tcp#3".
func (r *sockRefs) String() string { return r.name }

// IncRef takes a reference. On a released socket it is a misuse and
// returns an error wrapping ErrInvalidState (TryIncRef asks instead).
func (r *sockRefs) IncRef() error {
	if err := r.n.enter(); err != nil {
		return err
	}
	r.lockRef()
	defer r.n.mu.Unlock()
	if err := r.rc.IncRefLocked(r); err != nil {
		return fmt.Errorf("vnet: IncRef of released %s: %w", r.name, ErrInvalidState)
	}
	return nil
}

// TryIncRef takes a reference unless the socket is already released; a
// refusal is not a misuse.
func (r *sockRefs) TryIncRef() bool {
	r.lockRef()
	defer r.n.mu.Unlock()
	return r.rc.TryIncRefLocked()
}

// Refs is the number of references (0 once released).
func (r *sockRefs) Refs() int64 {
	r.lockRef()
	defer r.n.mu.Unlock()
	return r.rc.RefsLocked()
}

// OnRelease registers f to run (outside vnet's lock) when the socket is
// released; on an already released socket f runs at once.
func (r *sockRefs) OnRelease(f func()) {
	r.lockRef()
	ok := r.rc.OnReleaseLocked(f)
	r.n.mu.Unlock()
	if !ok {
		f()
	}
}

// decRef drops a reference; at the last one release (called with n.mu
// held) performs the socket's release and returns the hooks to run after
// unlocking, the socket's own first. release names what it changes (see
// netObj).
func (r *sockRefs) decRef(release func() []func()) error {
	n := r.n
	if err := n.enter(); err != nil {
		return err
	}
	r.lockRef()
	last, err := r.rc.DecRefLocked(r)
	if !last {
		n.mu.Unlock()
		if err != nil {
			return fmt.Errorf("vnet: DecRef of released %s: %w", r.name, ErrInvalidState)
		}
		return nil
	}
	hooks := release()
	n.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	return nil
}

// RefErrors lists the reference-count misuses seen so far (a DecRef after
// release, an IncRef of a released socket), in order. Each had no effect;
// with a World each is also a failure of the run.
func (n *Net) RefErrors() []string {
	n.lock()
	defer n.mu.Unlock()
	return n.misuse.ListLocked()
}
