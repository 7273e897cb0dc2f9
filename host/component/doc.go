// Package component runs WebAssembly components (the Component Model,
// with its async ABI) on wazero, on a sim world, with every handle,
// stream, future, subtask and resource living in a host.Instance: the
// same handle table, the same traps, leak report and trace events as a
// guest written in Go against package host. It knows the Component Model,
// not WASI: package host/wasip3 binds the WASI interfaces to it.
//
// # Loading
//
// Engine.Compile decodes a component binary (Decode; see decode.go),
// refuses at load what wasisim cannot run with one line naming it (an
// *UnsupportedError: value definitions, start functions, the threads
// built-ins, imported core modules), and plans its instantiation: each
// core instance's module is compiled with its imports renamed to where
// the component's instantiate and alias definitions say each item really
// comes from — an export of an earlier core instance, or a function of
// the runtime's host module (one function per `canon lower` and per
// built-in). No knowledge of one toolchain's layout is assumed: the
// wit-component shape (program, trampoline shim, fixup module filling
// the shim's table) is one case of the general wiring. Compiled code is
// cached by content, in memory and optionally on disk, and so is the whole
// compiled Component: the Engine owns it, returns it again for the same
// bytes, and releases it (its wazero modules included) on Engine.Close.
//
// # Running
//
// Component.Instantiate, in a task of a world, instantiates the core
// modules in definition order, binding imports to a Linker of HostFuncs
// (an import the Linker lacks traps when called, naming it, so a
// component that never calls it still runs). Instance.Call calls an
// export. A lifted function may be synchronous, `async` with a callback
// (the runtime runs the event loop: EXIT, YIELD — a scheduling point —
// and WAIT on a waitable set), or `async` without one (stackful: the
// export blocks inside waitable-set.wait, which parks its task).
//
// A lowered import runs its HostFunc with the lifted arguments. Lowered
// synchronously, it runs in the caller's task and may block it (a world
// wait; no goroutine races the scheduler). Lowered `async`, a function
// that never blocks runs at once and returns RETURNED; one marked Blocks
// runs in a task of its own and the guest gets a subtask, whose borrowed
// handles stay lent until its SUBTASK event is delivered. Results of a
// subtask, and what a pending stream or future read receives, are
// written into the guest's memory when the guest takes the event.
//
// Every built-in is a scheduling point except context.get and
// context.set, which touch only the calling task's own storage. Which of
// several ready events a waitable set delivers first is a choice of the
// world's strategy.
//
// # Traps
//
// A guest that breaks the canonical ABI (a pointer out of bounds, a bad
// discriminant, a realloc that returns garbage) or the async rules (a
// forged or dead handle, dropping a lent handle or an unresolved
// subtask, task.return twice, a call into an instance already on the
// stack) traps its instance, as does its own code
// (`unreachable`): the call returns the *host.Trap, the instance is torn
// down, and nothing panics. A host function's error traps the caller,
// except an *ExitError, which ends the guest as wasi:cli/exit does.
//
// # Not modelled
//
// Cancelling an export's task from the host, and calls between two
// component instances that pass handles, are not supported (the last is
// a clean error when called). Backpressure holds new calls of an
// instance's exports until it is lifted. Strings are lowered from UTF-8 into any of
// the three encodings and lifted from any of them.
package component
