package host

import "github.com/wasisim/wasisim/sim"

// This file names the host's objects for partial-order reduction (see
// sim.World.Touch): every access of host state that another task can see
// records one of them, in the step that makes it. The file system and the
// network record their own (vfs, vnet); the world's wait queues theirs.
//
//	a handle-table entry and the handle's object   ObjHandle   instance<<32 | handle
//	an instance's trap state and event queue      ObjInstance 2·instance
//	the length of an instance's table             ObjInstance 2·instance + 1
//	the count of an instance's live handles       ObjInstance 2⁶² | instance
//	a stream and its pending copies               ObjStream   the stream's id
//	a future (and a guest's writer of it)         ObjFuture   the future's id
//	a guest's linear memory                       ObjMemory   instance (GuestMemory)
//	host-wide state                               ObjHost     hostIDs, hostShared, …
//
// A trap, which tears the instance down, touches everything, as do
// subtasks (the component runtime's tasks, which are not annotated, are
// the ones that use them). A component's guest task is annotated and
// touches its GuestMemory in every step (wasip3.Spawn).

// Host-wide objects.
const (
	hostIDs    = iota + 1 // the numbering of streams and futures
	hostShared            // the list of shared objects (leak report order)
	hostInsts             // the list of instances
	hostStdout
	hostStderr
	hostStdin
	hostLive // the streams and futures not yet finished
)

func (h *Host) touch(what uint64, m sim.Mode) { h.w.Touch(sim.Obj{Kind: sim.ObjHost, ID: what}, m) }

func (in *Instance) touchHandle(h Handle, m sim.Mode) {
	in.h.w.Touch(sim.Obj{Kind: sim.ObjHandle, ID: uint64(in.idx)<<32 | uint64(h)}, m)
}

// touchState records a use of the instance's trap state and event queue.
func (in *Instance) touchState(m sim.Mode) {
	in.h.w.Touch(sim.Obj{Kind: sim.ObjInstance, ID: 2 * uint64(in.idx)}, m)
}

// touchCount records a use of the count of the instance's live handles
// (LiveHandles, the network policy's limit): a handle made or dropped is
// an Update, which commutes with other makes and drops.
func (in *Instance) touchCount(m sim.Mode) {
	in.h.w.Touch(sim.Obj{Kind: sim.ObjInstance, ID: 1<<62 | uint64(in.idx)}, m)
}

// touchLen records a use of the length of the instance's table.
func (in *Instance) touchLen(m sim.Mode) {
	in.h.w.Touch(sim.Obj{Kind: sim.ObjInstance, ID: 2*uint64(in.idx) + 1}, m)
}

// GuestMemory is the object that stands for the linear memory of the
// guest running as the instance, for partial-order reduction: a guest
// task declares that every step of its touches it (sim.Task.Touches), and
// a copy through a buffer the guest lent to StartCopy, ReadInto or a
// blocking Write touches it in the step that copies, whichever task's
// that is.
func (in *Instance) GuestMemory() sim.Obj {
	return sim.Obj{Kind: sim.ObjMemory, ID: uint64(in.idx)}
}

func (s *stream[T]) touch() { s.h.w.Touch(sim.Obj{Kind: sim.ObjStream, ID: s.id}, sim.Write) }

func (f *future) touch() { f.h.w.Touch(sim.Obj{Kind: sim.ObjFuture, ID: f.id}, sim.Write) }

// resolvedObj is the future's resolution alone, which Await waits for.
func (f *future) resolvedObj() sim.Obj { return sim.Obj{Kind: sim.ObjFuture, ID: 1<<63 | f.id} }

// Boundary is the scheduling point a guest's call of the host starts
// with: what the guest did before does not carry into the call's steps
// (sim.World.YieldBoundary).
func (h *Host) boundary() { h.w.YieldBoundary() }
