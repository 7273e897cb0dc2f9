// Package proptest holds wasisim's property suites and fuzz targets for the
// drop semantics of WASI 0.3 (package host's doc, "Shared ownership"):
// rapid-generated programs run on a deterministic world whose every
// scheduling choice is drawn from the same *rapid.T (sim.NewRapid), so
// rapid shrinks programs and schedules together.
//
// # Suites (the tests of this package)
//
//   - TestVFSMatchesModel: random operation sequences on vfs and on model, a
//     small map-based reference (open-at with flags, write, append,
//     set-size, unlink, rename, link, symlink, mkdir, rmdir, readdir, locks
//     on several open descriptions, close); results, the whole tree, every
//     open description's bytes and lock, and the usage must agree after
//     every step.
//   - TestFileDropSemantics (p3 and p3-async-write): two guest tasks run
//     scripts drawn up front (fileProgramGen) — open-at, write-via-stream
//     and append-via-stream with random chunking, read-via-stream,
//     read-directory, drops of descriptors, stream ends and futures at any
//     legal point, guest and host-side try-lock/unlock, unlink, rename, a
//     guest-to-guest stream — while the harness tracks every reference
//     itself and checks, after every step and at points rapid chooses:
//     each open description's reference count lies within what the harness
//     knows (released neither early nor late), its locks are held exactly
//     while it has references, inodes are freed exactly when their last link
//     and reference are gone (FS.Usage), every byte of a file was written
//     by one write at its place and at most once, a write whose future
//     resolved ok is entirely in the file, a stream delivers exactly what
//     was written and nothing after DROPPED, read-directory delivers its
//     snapshot; at the end, no reference, lock, leak (sim.Result.Leaks,
//     which include Host.Leaks) or unresolved future remains, and every
//     future resolved exactly once (from the trace). Under p3-async-write,
//     dropping a descriptor lent to a write traps and changes nothing else.
//   - TestSocketDropSemantics: a server and one or two clients
//     (socketCaseGen): bind/listen/accept/connect, send and receive with
//     random chunking, drops of sockets, listen streams, stream ends and
//     futures in any order. A port is bound exactly while some reference
//     to its socket lives; bytes arrive in order and exactly once, a FIN
//     ends the receiver's stream with everything written and an ok future,
//     a send fails only if its peer did not read to the end; accepted
//     sockets outlive their listener.
//   - TestReadOnlyPreopenStaysReadOnly: a guest with a read-only preopen
//     and a writable one runs a random program of open-at (any flags),
//     link-at and rename-at between any two directories it holds,
//     symlink-at with targets across the preopens, set-times, set-times-at,
//     set-size, write-via-stream, unlink, mkdir and rmdir; after every
//     call nothing under the read-only preopen has changed, and no
//     descriptor the guest holds with write access is one of its files.
//   - TestMutationsAreCaught: every mutation of internal/mutation is caught
//     by its suite within a bounded number of checks (logged).
//   - TestRegressions: every trace in testdata/regressions is replayed
//     strictly and must reproduce byte for byte.
//
// # Determinism and replay
//
// Every run records a trace whose header holds the generated testCase as JSON,
// so replay rebuilds any run from its trace alone. checkCase replays every
// run it makes and requires an identical trace hash. A failing run saves
// its trace to failureDir (the last one saved is rapid's shrunk case);
// copy it into testdata/regressions to keep it.
//
// # Budgets
//
// Under `go test` each suite runs 300 rapid checks from a fixed seed, so a
// green run reproduces exactly; WASISIM_SOAK=N runs N checks from a
// random seed instead (a soak), and -rapid.seed / -rapid.checks override
// both. A seed a soak finds failing becomes a regression seed of the
// suite once fixed.
package proptest
