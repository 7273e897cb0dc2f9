package host

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// Variant selects the WASI 0.3 API shape of PR #870.
type Variant uint8

const (
	// P3 is the current WIT: write-via-stream, append-via-stream, send and
	// stdout/stderr write are `func(data: stream<u8>) -> future<result>`;
	// the call lends `self` only while it runs, so a guest may drop the
	// descriptor or socket while the write goes on.
	P3 Variant = iota
	// P3AsyncWrite is the WIT before PR #870: those methods are
	// `async func(data: stream<u8>) -> result`, lending `self` until the
	// stream is consumed; dropping the handle meanwhile traps.
	P3AsyncWrite
)

func (v Variant) String() string {
	if v == P3AsyncWrite {
		return "p3-async-write"
	}
	return "p3"
}

// ParseVariant parses "p3" or "p3-async-write".
func ParseVariant(s string) (Variant, error) {
	switch s {
	case "p3", "":
		return P3, nil
	case "p3-async-write":
		return P3AsyncWrite, nil
	}
	return 0, fmt.Errorf("unknown API variant %q (want p3 or p3-async-write)", s)
}

// DefaultChunk is how many bytes a host consumer takes per copy, as in
// Wasmtime; nothing the host does buffers more than this per stream.
const DefaultChunk = 8 << 10

// Options configures a Host.
type Options struct {
	Variant Variant
	// Chunk is the largest copy a host consumer or producer makes
	// (0: DefaultChunk).
	Chunk int
	// FS and Net are the models the host serves; nil makes fresh ones on
	// the world.
	FS  *vfs.FS
	Net *vnet.Net
	// Preopens maps guest paths to directories of FS; nil preopens the
	// root as "/".
	Preopens []Preopen
	// Stdin is what stdin yields, when StdinReader is nil.
	Stdin []byte
	// StdinReader, if set, is stdin read live (a terminal, a pipe): a
	// chunk is read only when a guest waits for stdin and nothing else
	// in the world can run, and each chunk is recorded in the trace, so
	// a replay needs no reader (see sim.World.Input).
	StdinReader io.Reader
	// Stdout and Stderr, if set, receive what guests write as they write
	// it, and nothing is kept in memory (Host.Stdout and Host.Stderr then
	// return nothing). A write error is the guest's error (pipe).
	Stdout, Stderr io.Writer
	// Network is the network policy every new instance starts with
	// (Instance.SetNetworkPolicy changes one instance's). The zero value
	// allows everything.
	Network NetworkPolicy
}

// Preopen is a directory given to every instance.
type Preopen struct {
	Path string // the guest-visible name, e.g. "/" or "/data"
	Dir  string // the directory in FS, relative to its root ("." for the root)
	// ReadOnly withholds write and mutate-directory.
	ReadOnly bool
}

// Host is the WASI 0.3 host of a world: the filesystem and network models,
// the shared-ownership bookkeeping between handles, streams, futures and
// the objects they keep alive, and the instances that call it. It has no
// lock: its world's tasks call it one at a time (vfs and vnet lock
// themselves). Every holder — a handle, a derived stream or future, a
// preopen — takes its reference with sharedObj.Acquire (or adopt, for a
// new object's first) and gives it back with ref.Release.
type Host struct {
	w      *sim.World
	opt    Options
	fs     *vfs.FS
	net    *vnet.Net
	nextID uint64
	live   map[uint64]tracked // streams and futures not yet finished
	shared []*sharedObj       // in creation order
	pre    []preopen
	insts  []*Instance
	stdout []byte
	stderr []byte
	stdin  stdinState
	// mut is the set of deliberate bugs this module's property suites
	// switched on for the world (mutation.Enable), read once by New; zero
	// in every other use.
	mut mutation.Set
}

type preopen struct {
	path string
	obj  *sharedObj
}

type tracked interface {
	alive() bool
	leakInfo() string
}

// New makes a host on a world and registers its leak check: at the end of
// the run every open file description, socket, stream and future still
// alive is reported with what still references it.
func New(w *sim.World, opt Options) (*Host, error) {
	if opt.Chunk < 0 {
		return nil, fmt.Errorf("host: chunk size %d is negative", opt.Chunk)
	}
	if opt.Chunk == 0 {
		opt.Chunk = DefaultChunk
	}
	h := &Host{w: w, opt: opt, fs: opt.FS, net: opt.Net, live: map[uint64]tracked{}, mut: mutation.Take(w)}
	h.stdin = stdinState{buf: opt.Stdin, eof: opt.StdinReader == nil}
	if h.fs == nil {
		h.fs = vfs.New(vfs.Options{World: w})
	}
	if h.net == nil {
		h.net = vnet.New(vnet.Options{World: w})
	}
	pres := opt.Preopens
	if pres == nil {
		pres = []Preopen{{Path: "/", Dir: "."}}
	}
	root := h.fs.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef() //nolint:errcheck
	// A read-only preopen is opened through a read-only root, so that
	// everything reached from it stays read-only, metadata included.
	var roRoot *vfs.OFD
	defer func() {
		if roRoot != nil {
			roRoot.DecRef() //nolint:errcheck
		}
	}()
	for _, p := range pres {
		// Directories carry read and mutate-directory; write is for files
		// (vfs refuses it on a directory, as WASI hosts do).
		flags := vfs.Read | vfs.MutateDirectory
		if p.ReadOnly {
			flags = vfs.Read
		}
		var d *vfs.OFD
		var err error
		if p.Dir == "." || p.Dir == "" {
			d = h.fs.Root(flags)
		} else {
			base := root
			if p.ReadOnly {
				if roRoot == nil {
					roRoot = h.fs.Root(vfs.Read)
				}
				base = roRoot
			}
			d, err = base.OpenAt(vfs.SymlinkFollow, p.Dir, vfs.OpenDirectory, flags)
			if err != nil {
				return nil, fmt.Errorf("host: preopen %s: %w", p.Dir, err)
			}
		}
		so := h.adopt(d, "ofd#"+strconv.FormatUint(d.ID(), 10), holder{what: "the host", preopen: p.Path})
		h.pre = append(h.pre, preopen{path: p.Path, obj: so})
	}
	w.AddLeakCheck("host", h.leaks)
	w.AddFailureCheck("host", h.ignoredTraps)
	return h, nil
}

// ignoredTraps lists the instances that trapped while no task returned a
// trap of theirs (a guest that got a trap and carried on as if nothing
// happened): a trapped instance fails the run even then, unless the trap
// was provoked on purpose (AcceptTrap). An instance that was closed (its
// guest exited) did not trap.
func (h *Host) ignoredTraps(tasks []sim.TaskResult) []string {
	var out []string
	for _, in := range h.insts {
		t := in.trapped
		if t == nil || t.Kind == TrapInstanceTrapped || in.trapAccepted || reportsTrapOf(tasks, in.name) {
			continue
		}
		out = append(out, "instance "+in.name+" trapped and no task returned the trap: "+t.Error())
	}
	return out
}

// reportsTrapOf reports whether a task's error holds a Trap of the
// instance named name (anywhere in its tree of wrapped errors).
func reportsTrapOf(tasks []sim.TaskResult, name string) bool {
	var holds func(err error) bool
	holds = func(err error) bool {
		switch e := err.(type) {
		case nil:
			return false
		case *Trap:
			if e.Instance == name {
				return true
			}
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if holds(x) {
					return true
				}
			}
			return false
		}
		return holds(errors.Unwrap(err))
	}
	for _, t := range tasks {
		if holds(t.Err) {
			return true
		}
	}
	return false
}

// World is the host's world.
func (h *Host) World() *sim.World { return h.w }

// FS is the host's filesystem model.
func (h *Host) FS() *vfs.FS { return h.fs }

// Net is the host's network model.
func (h *Host) Net() *vnet.Net { return h.net }

// Variant is the API variant the host serves.
func (h *Host) Variant() Variant { return h.opt.Variant }

// Stdout is everything the guests wrote to stdout so far.
func (h *Host) Stdout() []byte {
	h.touch(hostStdout, sim.Read)
	return h.stdout
}

// Stderr is everything the guests wrote to stderr so far.
func (h *Host) Stderr() []byte {
	h.touch(hostStderr, sim.Read)
	return h.stderr
}

// NewInstance makes a component instance with an empty handle table.
func (h *Host) NewInstance(name string) *Instance {
	h.touch(hostInsts, sim.Write)
	in := &Instance{h: h, name: name, idx: len(h.insts), events: h.w.NewWaitQueue("events of " + name), policy: h.opt.Network}
	h.insts = append(h.insts, in)
	return in
}

// enter is the check every guest call makes before it touches state: the
// caller is the world's running task (sim.ErrNotInTask otherwise: another
// goroutine would race with the run) and the run has not ended
// (sim.ErrRunEnded).
func (h *Host) enter() error {
	if err := h.w.CheckCaller(); err != nil {
		return err
	}
	if h.w.Ended() {
		return sim.ErrRunEnded
	}
	return nil
}

func (h *Host) newID() uint64 {
	h.touch(hostIDs, sim.Write)
	h.nextID++
	return h.nextID
}

// track and untrackIfDead change the set of live streams and futures by
// one id each: they commute with each other.
func (h *Host) track(id uint64, t tracked) {
	h.touch(hostLive, sim.Update)
	h.live[id] = t
}

func (h *Host) untrackIfDead(id uint64, t tracked) {
	if !t.alive() {
		h.touch(hostLive, sim.Update)
		delete(h.live, id)
	}
}

// ---- shared ownership ----

// sharedObj is an open file description or a socket and the holders of
// its references (handles, streams, futures), through package refs: the
// object is released by its own last DecRef; the holders are for leak
// reports.
type sharedObj = refs.Shared[holder]

// ref is one reference held by one holder.
type ref = refs.Ref[holder]

// holder says who holds a reference. It is formatted only for reports, so
// that taking a reference costs no string building.
type holder struct {
	what    string    // "descriptor", "tcp-socket", or a stream's or future's name
	inst    *Instance // the instance of a handle, else nil
	h       Handle
	preopen string // the preopen's path: a reference the host or a preopen handle holds
}

func (x holder) String() string {
	var s string
	switch {
	case x.inst != nil:
		s = x.what + " " + strconv.Itoa(int(x.h)) + " of " + x.inst.name
	default:
		s = x.what
	}
	if x.preopen != "" {
		s = "preopen " + x.preopen + " " + s
	}
	return s
}

// handleRef is the reference a descriptor, tcp-socket or udp-socket
// handle holds, embedded in the handle's object: dropping the handle gives
// it back, and dropping is never a trap.
type handleRef struct{ r *ref }

func (x handleRef) dropCheck() (TrapKind, string) { return 0, "" }
func (x handleRef) drop()                         { x.r.Release() }
func (x handleRef) sharedRef() *ref               { return x.r }

// adopt starts tracking obj, taking over the reference its creator gave.
func (h *Host) adopt(obj refs.Object, name string, by holder) *sharedObj {
	h.touch(hostShared, sim.Write)
	so := refs.Adopt(obj, name, by)
	h.shared = append(h.shared, so)
	return so
}

// Holders lists what references the object behind a descriptor or socket
// handle (for tests and tools).
func (in *Instance) Holders(h Handle) []string {
	in.h.w.TouchAll() // the holders of an object of vfs or vnet
	if h == 0 || int(h) > len(in.table) || !in.table[h-1].alive {
		return nil
	}
	if r, ok := in.table[h-1].obj.(interface{ sharedRef() *ref }); ok {
		return r.sharedRef().Shared().Holders()
	}
	return nil
}

// leaks lists everything still alive, in creation order.
func (h *Host) leaks() []string {
	var out []string
	kept := h.shared[:0]
	for _, so := range h.shared {
		if !so.Held() {
			continue
		}
		kept = append(kept, so)
		if so.HeldOnlyBy(func(x holder) bool { return x.preopen != "" }) {
			continue // only the host and guests' preopen handles hold it
		}
		out = append(out, so.Name()+" held by "+strings.Join(so.Holders(), ", "))
	}
	h.shared = kept
	ids := make([]uint64, 0, len(h.live))
	for id, t := range h.live {
		if t.alive() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, h.live[id].leakInfo())
	}
	return out
}

// Leaks returns what would be reported as leaked if the run ended now.
func (h *Host) Leaks() []string {
	h.w.TouchAll()
	return h.leaks()
}
