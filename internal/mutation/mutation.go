// Package mutation lists deliberate bugs that can be switched on in the
// models, to prove that wasisim's property suites catch them.
//
// The switch is one hook: a test calls Enable with the world it is about
// to build a host on, and host.New takes the set with Take into an
// unexported field, which the few mutated paths read. There is no
// exported field or option for it, and the package is internal, so only
// this module's tests can turn a mutation on; everywhere else Take
// returns the empty set.
package mutation

import (
	"sync"

	"github.com/wasisim/wasisim/sim"
)

// enabled maps a world to the mutations Enable set for it, until Take.
var enabled struct {
	sync.Mutex
	m map[*sim.World]Set
}

// Enable switches the mutations s on for the next host made on w. Only
// tests call it; an empty s does nothing.
func Enable(w *sim.World, s Set) {
	if s == 0 {
		return
	}
	enabled.Lock()
	defer enabled.Unlock()
	if enabled.m == nil {
		enabled.m = map[*sim.World]Set{}
	}
	enabled.m[w] = s
}

// Take returns the mutations enabled for w and forgets them (so the map
// keeps no world alive); without Enable it is the empty set.
func Take(w *sim.World) Set {
	enabled.Lock()
	defer enabled.Unlock()
	s, ok := enabled.m[w]
	if ok {
		delete(enabled.m, w)
	}
	return s
}

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
