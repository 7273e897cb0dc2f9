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
// exactly. The buffer-size options size the connection: the buffer from A
// to B holds the mean of A's send buffer size and B's receive buffer size,
// a size never set counting as Options.BufferSize (so the capacity is
// Options.BufferSize until one is set); a size set on a connected socket
// applies at once (a shrunk buffer keeps the bytes it holds).
//
// UDP: bind, connect (repeatable, last wins; a connected socket only
// receives from its peer; a socket bound to the unspecified address is
// narrowed to the loopback address its datagrams leave from, as Linux
// reports it, until disconnect), disconnect, Send (at most MaxDatagramSize
// bytes, else ErrDatagramTooLarge; implicit bind; never blocks), Receive
// with the sender's address. Each socket's queue holds Options.UDPQueueLen
// datagrams (default 64) and, once the receive buffer size is set, drops a
// datagram while the bytes queued exceed it (the send buffer size bounds
// nothing: no datagram waits to be sent); dropped datagrams are counted
// (Dropped). A send from a connected socket to a port nobody holds makes
// its next Receive fail with ErrConnectionRefused, as the ICMP error does
// on Linux.
//
// Name lookup (Resolve): "localhost" is 127.0.0.1 and ::1, IP literals
// resolve to themselves, names added with AddHost to their addresses;
// malformed names ("", "127.0.0.1:80", "http://x/") are ErrInvalidArgument
// and unknown well-formed names a *LookupError (name-unresolvable).
//
// # Outside the Net
//
// Nothing leaves the Net unless a Gateway routes it (SetGateway): a
// Connect to an address where nothing of the Net listens asks the
// gateway, which dials outside and gets the Net's end of the connection;
// the gateway decides which addresses it carries, and any other is
// refused or unreachable as without one. OnListen tells a watcher (the
// bridge that publishes guest listeners) when a socket starts listening.
// Package vnet/bridge builds the bridge to the machine's network on these.
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
// queue is a channel closed on wake-up and deadlines are on the time
// package's clock (real time, or a synctest bubble's fake time), so
// vnet is an ordinary in-memory network for goroutines; the net.Conn
// adapter passes golang.org/x/net/nettest.TestConn in that mode. The Try*
// methods never block and return ErrWouldBlock instead. Readable,
// Writable and Acceptable tell whether an operation would complete without
// waiting, and WaitChange (WaitChangeFrom with Generation in goroutine
// mode) waits until any socket changes: together they implement poll.
//
// # Which mode for which code
//
// A world is for code written as world tasks — guests of package host,
// .wsim scenarios, models of a protocol — whose every interleaving is to
// be explored, replayed from a trace and shrunk. Goroutine mode is for
// ordinary Go networking code (net/http, gRPC, a protocol of your own),
// which starts goroutines of its own: those are not world tasks, so in a
// world their blocking calls fail with sim.ErrNotInTask. Dial, DialContext
// (the shape of http.Transport.DialContext), Listen and ListenPacket plug
// vnet into such code:
//
//	l, _ := n.Listen("tcp", "127.0.0.1:8080")
//	go srv.Serve(l)
//	client := &http.Client{Transport: &http.Transport{DialContext: n.DialContext}}
//
// Goroutine mode works inside a testing/synctest bubble: a goroutine
// blocked in Accept, Read, Write, a Connect waiting for backlog space or
// WaitChange is durably blocked (synctest.Wait returns while it waits),
// and deadlines and the contexts of DialContext run on the bubble's fake
// clock, so a client timeout fires the moment everything else waits, with
// no real sleep. Goroutines of a bubble and goroutines outside it must not
// wait on the same connection or listener at the same time (a wait blocks
// on a channel of the bubble of its first waiter); a Net made outside the
// bubble may be used inside it, and again after it.
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
