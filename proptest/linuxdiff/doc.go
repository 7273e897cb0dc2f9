// Package linuxdiff holds differential tests of package vfs and package
// vnet against the real Linux kernel. pgregory.net/rapid generates
// operation sequences; each sequence runs on the kernel (through
// golang.org/x/sys/unix, on a fresh temporary directory or on real
// loopback sockets) and on the simulator, and every result is compared.
//
// # Files
//
// TestFilesAgainstLinux runs sequences of openat (O_CREAT, O_EXCL,
// O_TRUNC, O_DIRECTORY, O_APPEND, O_NOFOLLOW), pread, pwrite, append,
// ftruncate, fstat, fstatat, mkdirat, unlinkat (with and without
// AT_REMOVEDIR), renameat, linkat, symlinkat, readlinkat, getdents, dup,
// close and flock (LOCK_SH, LOCK_EX, LOCK_UN, always LOCK_NB) on several
// open file descriptions and dup'ed descriptors. On vfs an openat is a new
// *vfs.OFD, a dup is IncRef on the same OFD and a close is DecRef. Paths are
// relative to a base directory descriptor (or to another open directory),
// drawn from a four-name alphabet with "." and ".." so that operations
// collide. After every step the harness compares each open descriptor's
// lock (Linux: the "lock:" lines of /proc/self/fdinfo, which name the open
// file description that owns a flock) with OFD.LockState; at the end it
// walks both trees and compares names, types, sizes, contents, symlink
// targets, link counts and which names share an inode, and that vfs freed
// every unlinked inode and released every OFD and lock once all were
// closed. TestFlockScenarios runs fixed sequences through the flock rules
// (a dup shares the lock, the lock survives closing one dup and goes with
// the last close, two opens conflict) with the same comparisons.
//
// Kernel errors are mapped to wasi:filesystem error codes through the one
// table FileErrno (the errno mapping Wasmtime uses on Linux); EWOULDBLOCK
// from flock corresponds to vfs.ErrWouldBlock.
//
// # Sockets
//
// TestSocketsAgainstLinux runs sequences of socket, bind (explicit and
// ephemeral ports, 127.0.0.1, 127.0.0.2, 0.0.0.0, ::1, ::), listen, connect,
// accept, send, receive, shutdown and close on real TCP sockets (with
// SO_REUSEADDR, as WASI mandates, and IPV6_V6ONLY) and on a vnet.Net in
// goroutine mode. Ports are symbolic: "the port socket 3 was given", so
// outcomes are compared, never port numbers. The kernel sockets are
// non-blocking; where the kernel needs time (a segment crossing loopback)
// the harness waits with poll(2) and a generous timeout, never with sleeps,
// and the simulator's answer tells it what to wait for. Errors are mapped
// through SockErrno.
//
// # Deliberate differences
//
// Where WASI (or a documented wasisim choice) deliberately differs from
// Linux, the difference is a row of Divergences, and the harness maps it
// by the row's ID; README.md carries the same table. Any other difference
// fails the test, and rapid prints the shrunk operation sequence.
// Differences that are bugs in vfs or vnet are listed in knownFileBugs and
// knownSockBugs (in the tests) with a minimal reproduction; the random tests stop a sequence
// that reaches one, and TestKnownBugs replays each reproduction, skipping
// while the bug is present and failing once it is fixed, so the list stays
// honest.
//
// # Running
//
// The tests need Linux (they are built only there; elsewhere the package
// has a test that skips). By default they replay the regression seeds and
// run 2000 sequences from a fixed seed, fast enough for CI under -race and
// the same on every run; WASISIM_SOAK=N runs N sequences per test from a
// random seed instead (a soak: a failure names its seed, which becomes a
// regression seed once fixed), and -rapid.checks, -rapid.seed and the
// other rapid flags work as usual:
//
//	go test -race ./proptest/linuxdiff/
//	WASISIM_SOAK=20000 go test ./proptest/linuxdiff/ -run Files
package linuxdiff
