// Package host is the WASI 0.3 surface of wasisim: component instances
// with handle tables, Component Model streams and futures, and the
// wasi:filesystem, wasi:sockets and wasi:cli methods, running on a sim
// world over the vfs and vnet models.
//
// # Calls
//
// A guest is Go code running in a sim task that calls methods of an
// Instance with handles, the way a component calls its imports. Every
// WASI method and every call that moves data or polls is a scheduling
// point; the Component Model's bookkeeping calls (KindOf, InSet, Pending,
// Join, NewWaitableSet, NewValueStream, NewFuture) are part of the step
// around them, and WaitCopy yields only when it has to wait. What each
// touches is recorded either way. `async func` methods (open-at, stat,
// connect, …) lend their `self` handle for the whole call; plain `func`
// methods (read-via-stream, write-via-stream, listen, send, receive, …)
// never block and lend nothing observable. WASI errors are returned as
// vfs.ErrorCode (filesystem) or vnet.ErrorCode (sockets) values; an error
// known at call time of a method that returns a future comes back as an
// already-resolved err future, with the input stream dropped.
//
// Calls come from the world's tasks. A call from any other goroutine while
// the world runs (one a task started, say) returns sim.ErrNotInTask and
// changes nothing, since it would race with the running task; a call after
// Run has returned gets sim.ErrRunEnded.
//
// # Streams and futures
//
// stream<T> is a rendezvous: a copy happens only when a read and a write
// are both pending and moves min(reader space, writer data) elements,
// completing both with their progress. Results are COMPLETED, DROPPED or
// CANCELLED; zero-length copies are readiness probes; a cancel may lose the
// race and report COMPLETED. Host consumers take at most Options.Chunk
// bytes per copy (8 KiB by default), so nothing buffers without bound.
// A host future carries exactly one value and always resolves.
//
// # Shared ownership (WASI PR #870)
//
// A descriptor or socket handle is not the object. The open file
// description or socket is reference-counted: the handle, and each stream
// and future derived from it (read-via-stream, write-via-stream,
// append-via-stream, read-directory, send, receive, listen) hold one
// reference; the last drop releases it, which frees advisory locks, port
// bindings and unlinked data, observably and as a trace event. A stream
// holds its reference until both its ends are gone (a stream the host
// produces into ends with the guest's readable end; a stream the host
// consumes ends after the host wrote its last chunk); a future until its
// readable end is dropped. Dropping a descriptor does not cancel a
// pending write: every byte lands and the future resolves ok.
//
// Variant P3AsyncWrite serves the WIT from before PR #870, where the
// writing methods were `async func` and lent `self` until the stream was
// consumed: the same program that drops a descriptor mid-write completes
// under P3 and traps under P3AsyncWrite.
//
// # Traps
//
// Component Model violations — a forged or dead handle, a handle of the
// wrong type, dropping a lent handle or an end with a copy in flight,
// reading an end after DROPPED, dropping an unresolved subtask — return a
// *Trap, are recorded in the trace and end the instance, as the Component
// Model does: the trapping call changes nothing, then the instance is torn
// down (copies in flight cancelled, every handle dropped, so what only it
// held is released), calls blocked in its other tasks return the trap, and
// every later call returns a Trap too. Nothing a guest does panics the host.
// A trapped instance fails the run (Result.Error) even when the task that
// got the trap ignores it; a test that provokes a trap on purpose says so
// with Instance.AcceptTrap, as a scenario's "expect trap" does.
//
// # Leaks
//
// New registers a leak check with the world: at the end of a run every
// open file description, socket, stream and future still alive is reported
// with what still holds it (handles of the preopened directories are not
// counted). Instance.DropAll drops what an instance still holds.
//
// # Partial-order reduction
//
// Every access of host state another task can see records the object it
// touches (sim.World.Touch: handle entries, streams, futures, host-wide
// counters; vfs and vnet record theirs), and every call starts at
// sim.World.YieldBoundary, so exhaustive search can tell which steps
// commute. The host's own tasks are annotated (sim.Task.Annotated); a
// guest task is if its code between host calls touches nothing else that
// other tasks see, as the .wsim runner's tasks are, or only its own
// memory, as a WASI 0.3 component's is (wasip3.Spawn declares
// Instance.GuestMemory with sim.Task.Touches, and a copy through a buffer
// the guest lent to StartCopy, ReadInto or a blocking Write touches it in
// the step that copies).
//
// # Reading without copying twice
//
// Instance.Read returns a new slice per call; Instance.ReadInto fills the
// caller's buffer, like io.Reader, for guests that move a lot of data.
package host
