// Package vnet is wasisim's simulated loopback network: a port table, TCP
// and UDP socket objects with WASI 0.3 (wasi:sockets@0.3.0) semantics,
// connection byte buffers, name lookup, and adapters to net.Conn,
// net.Listener and net.PacketConn. It knows nothing of WASI handles or
// streams; package host builds tcp-socket and udp-socket on it.
//
// # Model
//
// Addresses: the IPv4 loopback net 127.0.0.0/8, IPv6 ::1, and the
// unspecified addresses (a socket bound to 0.0.0.0 or :: is reachable on
// every loopback address of its family). Binding any other unicast address
// is ErrAddressNotBindable; multicast, broadcast and IPv4-mapped IPv6
// addresses, and addresses of the wrong family, are ErrInvalidArgument.
// IPv6 sockets are v6-only. Connecting or sending to a non-loopback address
// is ErrRemoteUnreachable (there is no route off the host).
//
// Port table: one ordered table (google/btree) per protocol and family,
// keyed by port, address and socket. Port 0 and implicit binds pick an
// ephemeral port from [EphemeralLow, EphemeralHigh] (default 32768–60999,
// Linux's range): a random start drawn from World.Rand() (or a source
// seeded with Options.Seed without a world), then the next free port, so
// the choice is deterministic; none free is ErrAddressInUse. There is no
// TIME_WAIT (implicit SO_REUSEADDR): a released socket never blocks a new
// bind. A bind overlapping a listening TCP socket, or any UDP socket, is
// ErrAddressInUse. Two bound-but-not-listening TCP sockets on one
// address:port are allowed by default (SharedBindAllow, which is Linux with
// SO_REUSEADDR as WASI hosts set it, and what Wasmtime does); the second
// Listen on it then fails with ErrAddressInUse. SharedBindRefuse is the
// strict alternative. Bindings and PortBound show the table.
//
// Sockets are reference-counted through internal/refs, the mechanism vfs
// open file descriptions use too (in the manner of gVisor's
// FileDescriptionRefs): NewTCP and NewUDP return one reference;
// IncRef/DecRef add and drop holders; the last DecRef releases: the port
// binding is freed, a listener's unaccepted connections are reset, a
// connection is closed — with FIN if every received byte was read,
// otherwise with RST, as Linux does. A DecRef after release or an IncRef
// of a released socket is a misuse: it changes nothing, returns an error
// wrapping ErrInvalidState, is listed by RefErrors and, with a world, is a
// "misuse" event and a failure of the run. TryIncRef asks whether a socket
// is still alive without that being a misuse. With a world, each
// release is a "release" event ("unbind 127.0.0.1:8080"), and Live lists
// the sockets still referenced (registered as the world's "vnet" leak check
// unless Options.NoLeakCheck).
//
// TCP follows the WASI state machine unbound → bound → listening |
// connecting → connected | closed. A method in the wrong state returns
// ErrInvalidState and changes nothing. Connect binds implicitly, is refused
// when nothing listens, and a failed connect leaves the socket closed (an
// argument error leaves it as it was). Listen binds implicitly; the
// backlog (default 128, 0 is ErrInvalidArgument) holds established
// connections until Accept, which returns a new, independent socket that
// inherits the listener's options as they are at accept time. Each
// connection has two byte buffers of Options.BufferSize (default 64 KiB);
// a writer waits while the peer's buffer is full. ShutdownWrite is a FIN
// (the peer reads io.EOF after the buffered bytes); ShutdownRead discards
// unread and later bytes. Reads after a reset return the bytes delivered
// before it, then ErrConnectionReset; writes to a reset connection fail
// with ErrConnectionReset, writes to a peer that closed (or after
// ShutdownWrite) with ErrConnectionBroken. Options (keep-alive enabled,
// idle time, interval, count; hop limit; receive and send buffer sizes):
// 0 is ErrInvalidArgument, other values are clamped to the limits
// (MinKeepAliveTime…, MinSocketBufferSize…), in-range values read back
// exactly. The buffer-size options are bookkeeping; the capacity is
// Options.BufferSize.
//
// UDP: bind, connect (repeatable, last wins; a connected socket only
// receives from its peer), disconnect, Send (at most MaxDatagramSize bytes,
// else ErrDatagramTooLarge; implicit bind; never blocks), Receive with the
// sender's address. Each socket's queue holds Options.UDPQueueLen
// datagrams (default 64); more are dropped and counted (Dropped). A send
// from a connected socket to a port nobody holds makes its next Receive
// fail with ErrConnectionRefused, as the ICMP error does on Linux.
//
// Name lookup (Resolve): "localhost" is 127.0.0.1 and ::1, IP literals
// resolve to themselves, names added with AddHost to their addresses;
// malformed names ("", "127.0.0.1:80", "http://x/") are ErrInvalidArgument
// and unknown well-formed names a *LookupError (name-unresolvable).
//
// # Blocking: one mechanism, two modes
//
// Every blocking operation (Accept, Connect waiting for backlog space, Read
// waiting for data, Write waiting for space, UDP Receive, WaitChange) is a
// loop around one wait queue (internal/wait, which vfs's Lock uses too)
// under the Net's mutex, which the wait releases while it blocks. With
// Options.World the queue is a
// sim.WaitQueue: the scheduler decides when the operation proceeds,
// deadlines are virtual wall time (World.WallNow) and a wait nobody can end
// is reported by sim as a deadlock instead of hanging; Connect is also a
// scheduling point (World.Yield). Calls that change the network or wait
// must then come from the world's running task: from any other goroutine
// (one a task started, a net/http transport's reader) they return
// sim.ErrNotInTask and change nothing. Without a world the
// queue is a channel closed on wake-up and deadlines are real time, so
// vnet is an ordinary in-memory network for goroutines; the net.Conn
// adapter passes golang.org/x/net/nettest.TestConn in that mode. The Try*
// methods never block and return ErrWouldBlock instead. Readable,
// Writable and Acceptable tell whether an operation would complete without
// waiting, and WaitChange (WaitChangeFrom with Generation in goroutine
// mode) waits until any socket changes: together they implement poll.
//
// # Faults
//
// Options.Faults injects connection resets (on Write) and short copies
// (Read and Write move fewer bytes than they could), drawn from the world's
// seeded source, each recorded as a "fault" event, so runs with faults
// replay exactly.
//
// # Errors
//
// Errors are ErrorCode values, the wasi:sockets@0.3.0 error-code cases in
// WIT order, whose String is the WIT name. errors.Is matches the syscall
// errno: access-denied EACCES/EPERM, not-supported EOPNOTSUPP,
// invalid-argument EINVAL/EAFNOSUPPORT, out-of-memory ENOMEM/ENOBUFS,
// timeout ETIMEDOUT and os.ErrDeadlineExceeded, invalid-state
// EISCONN/ENOTCONN/EALREADY, address-not-bindable EADDRNOTAVAIL,
// address-in-use EADDRINUSE, remote-unreachable EHOSTUNREACH/ENETUNREACH,
// connection-refused ECONNREFUSED, connection-broken EPIPE,
// connection-reset ECONNRESET, connection-aborted ECONNABORTED,
// datagram-too-large EMSGSIZE. ErrWouldBlock (not a WIT code) matches
// EAGAIN. The adapters wrap errors in *net.OpError and report
// net.ErrClosed after Close.
package vnet
