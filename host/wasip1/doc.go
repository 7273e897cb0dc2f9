// Package wasip1 runs real WebAssembly guests — core modules importing WASI
// preview 1 (wasi_snapshot_preview1) — as tasks of a sim.World, on wazero,
// with the world's virtual file system (vfs), loopback network (vnet),
// clock and randomness.
//
// # Design: preview 1 directly on vfs and vnet
//
// Preview-1 calls do not go through package host (the WASI 0.3 surface).
// Preview 1 has no streams, futures or resource handles; routing it through
// the p3 model would add a handle table, lends and stream tasks whose only
// effect would be extra scheduling points that a preview-1 guest cannot
// observe. Instead each guest has its own descriptor table — one type per
// kind of descriptor (stdio, file, directory, socket) — whose entries each
// hold exactly ONE reference on a vfs.OFD (files, directories, preopens)
// or a vnet.TCPSocket (preopened listeners, accepted and extension
// sockets), through the same mechanism (internal/refs) as host's handles,
// streams and futures, so the leak report names the descriptor that holds
// it. fd_close drops that reference (DecRef);
// fd_renumber(from, to) closes `to` (dropping its reference) and moves
// `from`'s entry; process exit — return from _start, proc_exit, a trap, or
// the world unwinding a blocked guest — closes every descriptor. Preview 1
// has no dup, so no two descriptors share an entry; sharing happens across
// guests and the host (a listener preopened into a guest is IncRef'd for
// it). Release therefore follows the shared ownership package host
// describes: an OFD's advisory locks are released and an unlinked inode
// freed when the last holder anywhere drops it; a socket's port is
// unbound, and its pending connections reset, when the last descriptor on
// it is closed. The file offset, fdflags and
// rights live in the descriptor entry (vfs OFDs are offset-free).
//
// # Scheduling
//
// A guest is a task (World.Go) whose function instantiates the module and
// calls _start synchronously: the guest runs on the task's coroutine, so
// the host functions it calls execute on that coroutine too. Every host
// call begins with World.Yield — a scheduling point recorded as a "sched"
// choice — and, when tracing, ends with a "wasi" event naming the call and
// its errno. Blocking calls are world waits, never goroutine blocks:
// accept, recv and send on a blocking socket wait inside vnet (a
// sim.WaitQueue); poll_oneoff waits on vnet's change generation
// (Net.WaitChangeFrom) bounded by the earliest clock subscription, or a
// virtual World.Sleep for clocks alone. When a run ends with a guest still
// blocked, the world unwinds its coroutine by panicking inside the host
// call; wazero recovers that panic into an error, the package re-raises it
// after releasing the guest's descriptors, and the guest's Err reports it.
//
// Clocks: realtime is World.WallNow (sim.Epoch-based virtual wall time);
// monotonic, process and thread CPU time read World.Now plus one second;
// clock_res_get reports 1ns. random_get draws from a PCG seeded from
// World.Rand when the guest is spawned. sched_yield is just the scheduling
// point every call has. proc_raise is ENOSYS.
//
// # Preview 1 semantics
//
// Every fd_* and path_* call is implemented on vfs; vfs error codes map to
// errnos through one exhaustive table (see ToErrno; vnet codes through a
// second one). Notes on the choices:
//
//   - Rights: the access mode of a path_open comes from the requested
//     rights — FD_READ or FD_READDIR ask for read; FD_WRITE or the append
//     fdflag for write — and vfs enforces it (reading a write-only
//     descriptor is EBADF). FD_DATASYNC, FD_ALLOCATE and
//     FD_FILESTAT_SET_SIZE do not ask for write (wasi-testsuite opens
//     directories with some of them, Go asks for the last with O_RDONLY).
//     Descriptors report the requested rights masked by their type and the
//     directory's inheriting rights; fd_fdstat_set_rights may only drop
//     rights (else ENOTCAPABLE), and a call that needs a dropped right
//     fails with ENOTCAPABLE. Otherwise rights are not enforced, as in
//     Wasmtime's and wazero's current preview-1 implementations.
//   - fdflags: append makes each fd_write append atomically per iovec and
//     moves the offset to the end; nonblock makes socket calls return
//     EAGAIN instead of waiting; only append and nonblock can change after
//     open (ENOTSUP for the sync flags, as Wasmtime).
//   - Preopens: fds 3… are the Config.Dirs (fd_prestat_get /
//     fd_prestat_dir_name), then Config.Listeners (filetype
//     socket_stream, non-blocking unless Config.BlockingListeners).
//     Preopens may be closed or renumbered like any descriptor.
//   - fd_readdir lists ".", ".." and then the entries in vfs order (sorted,
//     or shuffled with vfs.Options.ShuffleReaddir); the cookie of an entry
//     is its index+1; cookie 0 snapshots the directory and later cookies
//     continue that snapshot; a last entry that does not fit is truncated
//     so that bufused == buf_len. d_ino is the inode number.
//   - fd_renumber requires both descriptors to be open (EBADF), as
//     Wasmtime and the wasi-testsuite renumber test require.
//   - Paths: vfs's sandboxing applies (absolute paths and escapes are
//     EPERM, symlink loops ELOOP, trailing slashes require directories).
//   - Guest memory: every pointer and length is bounds-checked; an address
//     out of range (or a module without memory) is EFAULT, an iovec list
//     longer than 1024 entries EINVAL. No guest input panics the host.
//
// # Sockets
//
// Preview 1's sock_accept, sock_recv (RECV_WAITALL supported, RECV_PEEK is
// ENOTSUP), sock_send and sock_shutdown work on any socket descriptor, and
// so do fd_read, fd_write, fd_fdstat_* and poll_oneoff.
//
// So that client guests can dial, the module also exports the WasmEdge
// socket extension, ABI version 2 (WasmEdge ≥ 0.12; the ABI of
// github.com/dispatchrun/net (formerly stealthrocket/net) and
// github.com/stealthrocket/wasi-go's WasmEdgeV2), all in module
// wasi_snapshot_preview1:
//
//	sock_open(af i32, socktype i32, *fd) errno            af: 0 unspec→IPv4, 1 inet, 2 inet6 (3 unix: EAFNOSUPPORT); socktype: 0 any→stream, 2 stream (1 dgram: EPROTONOSUPPORT)
//	sock_bind(fd, *addr, port u32) errno
//	sock_connect(fd, *addr, port u32) errno               completes at once on the loopback (also for non-blocking sockets: never EINPROGRESS)
//	sock_listen(fd, backlog i32) errno                    backlog ≤ 0 keeps the default (128)
//	sock_getlocaladdr(fd, *addr, *port u32) errno         unbound: unspecified address, port 0
//	sock_getpeeraddr(fd, *addr, *port u32) errno          ENOTCONN unless connected
//	sock_getaddrinfo(node, node_len, service, service_len, *hints, *res, max_res_len, *res_len) errno
//	sock_setsockopt(fd, level, name, *value, value_len) errno
//	sock_getsockopt(fd, level, name, *value, value_len) errno
//
// An address (*addr) is a record {buf u32, buf_len u32}; the buffer holds
// a raw IPv4 (4 bytes) or IPv6 (16 bytes) address, or the v2 128-byte
// sockaddr form: family u16 little-endian (1 inet, 2 inet6), then the
// address bytes. The getters write the raw form into a 4- or 16-byte
// buffer and the family form into a larger one. Options, level 0
// (SOL_SOCKET) only: SO_REUSEADDR (0, stored), SO_TYPE (1, get: 2), SO_ERROR
// (2, get), SO_BROADCAST (4, stored), SO_SNDBUF (5) and SO_RCVBUF (6)
// (vnet buffer sizes), SO_KEEPALIVE (7), SO_RCVTIMEO (11) and SO_SNDTIMEO
// (12) as a 16-byte timeval (virtual-time deadlines on blocking recv and
// send; expiry is EAGAIN), SO_ACCEPTCONN (13, get); others ENOPROTOOPT.
// value_len is the length itself when it is 4 or 16 (wasi-go and
// dispatchrun/net pass it by value) and otherwise a pointer to the length
// (WasmEdge's C and Rust bindings), which getsockopt updates.
// sock_getaddrinfo follows WasmEdge: the guest links max_res_len addrinfo
// records (28 bytes: flags u16, family u8, socktype u8, protocol u32,
// addrlen u32, addr ptr, canonname ptr, canonname_len u32, next ptr), each
// pointing to a sockaddr record (family u16 at 0, sa_data_len u32 at 4,
// sa_data ptr at 8); the host fills sa_data with the port (big-endian)
// then the address, sets family, socktype (2), protocol (1: TCP) and
// addrlen (bytes of sa_data used) and writes the count. Names resolve with
// vnet.Net.Resolve ("localhost", IP literals, AddHost names); services are
// port numbers, "http" or "https"; an empty node is the loopback (or the
// unspecified address with AI_PASSIVE). The V1 variants (4-argument
// getlocaladdr/getpeeraddr, 2-argument sock_accept), sock_send_to,
// sock_recv_from and UDP are not provided.
//
// # API
//
// Spawn starts a guest in a world (Config: module bytes, name, args, env,
// stdin, preopened vfs directories and vnet listeners); Guest gives its
// Stdout, Stderr, ExitCode and Err once the world has run. Modules are
// compiled once per Engine (keyed by their SHA-256) and every Engine shares
// one wazero compilation cache, so exploring many schedules never
// recompiles; DefaultEngine serves Spawn when Config.Engine is nil. Guest
// instances are closed when they end, and Engine.Close closes the runtime.
// An invalid module or a missing _start fails Spawn with the guest's name;
// a trap makes Err a *GuestError with the guest's name, exit code
// (TrapExitCode) and the trace step.
//
// # Limits and stdio
//
// An Engine made with NewEngineWithConfig bounds its guests: MemoryLimitPages
// caps linear memory (memory.grow fails past it); Fuel meters the code —
// one unit per function call and loop iteration, inserted into the module
// before it is compiled — so a guest that computes forever traps with
// ErrOutOfFuel at the same point in every run; a done Context stops the
// guests running, at a point that is not reproducible. A guest that the
// run ends while it waits in a host call fails with an *UnwoundError
// naming the call. Stdout and stderr go to Config.Stdout and Config.Stderr
// as they are written, or are kept; a live stdin (Config.StdinReader) is
// read only when the guest reads fd 0, and what it read is in the trace.
//
// The wasmtime-shaped command line, `wasisim run [--dir HOST::GUEST]
// [--env K=V] [--listen ADDR] … MODULE [ARGS…]`, is part of cmd/wasisim.
package wasip1
