// Package wasip3 runs WASI 0.3 components as guests of a sim world: it
// binds the wasi:cli, wasi:clocks, wasi:random, wasi:filesystem and
// wasi:sockets 0.3.0 imports — and the WASI 0.2 cli and io imports that
// Rust's standard library pulls in, so println! and process::exit work —
// to the host.Instance of the calling component, and starts the
// component's wasi:cli/run export.
//
// Spawn is the entry point: it runs a compiled component as a task of
// the world of a host.Host. The guest's handles, streams and futures are
// the host's, so a component that drops a descriptor while its
// write-via-stream is pending behaves exactly as a Go guest does: every
// byte lands. A component built against the WIT before WASI PR #870,
// where write-via-stream, append-via-stream, send and the stdio writes
// were `async func`s returning their result, gets that result when the
// stream is consumed; lowering such a call lends `self` until then (the
// Component Model's rule), so the same drop traps.
//
// Values are converted by name, guided by the types the component
// declares: an error code, a flag or a descriptor type is found by its
// WIT name, so a component built against a WIT that adds or reorders
// cases still gets the right one, and a code its WIT lacks becomes
// other(some(name)) where the type has that case.
//
// Clocks are the world's virtual clocks (wait-for and wait-until are
// world timers, cancellable through their subtask); randomness is the
// world's seeded source; stdio is the host's (Options.Stdin or a live
// StdinReader, Options.Stdout and Stderr). Stdio is never a terminal.
// A component that imports or exports wasi:http is refused at start
// with one line: wasisim does not provide it.
package wasip3
