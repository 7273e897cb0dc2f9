// Package mutation lists deliberate bugs that can be switched on in the
// models, to prove that wasisim's property suites catch them. It is
// internal: only this module's tests can construct a Set, so no user of the
// public API can turn a mutation on by accident.
package mutation

// Set is a set of mutations.
type Set uint32

const (
	// ReleaseLocksOnHandleDrop releases an open file description's locks
	// when a descriptor handle is dropped, instead of at the last reference.
	ReleaseLocksOnHandleDrop Set = 1 << iota
	// CloseSocketOnHandleDrop closes a socket (freeing its port) when its
	// tcp-socket handle is dropped, instead of at the last reference.
	CloseSocketOnHandleDrop
	// ResolveWriteEarly resolves a write-via-stream future ok as soon as the
	// guest drops the stream, before the last chunk is written.
	ResolveWriteEarly
	// DeliverAfterDropped makes a stream hand a pending reader one byte
	// that was never written when the writer drops its end.
	DeliverAfterDropped
)

// All lists every mutation with its name, for tests that try each.
var All = []struct {
	Name string
	Set  Set
}{
	{"release-locks-on-handle-drop", ReleaseLocksOnHandleDrop},
	{"close-socket-on-handle-drop", CloseSocketOnHandleDrop},
	{"resolve-write-early", ResolveWriteEarly},
	{"deliver-after-dropped", DeliverAfterDropped},
}

// Has reports whether m is switched on.
func (s Set) Has(m Set) bool { return s&m != 0 }
