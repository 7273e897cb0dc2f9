// Package goid identifies the calling goroutine. A sim.World runs one task
// at a time and must refuse, not race with, a call from any other
// goroutine (one a task started, a net/http transport's reader); Go has
// no goroutine-local state, so the world compares the caller's identity
// with its running task's.
//
// On 386, amd64, arm, arm64, loong64, ppc64x, riscv64 and s390x the
// identity is the address of the runtime's goroutine descriptor, read in
// two instructions (the TLS slot or the g register); elsewhere it is the
// goroutine number parsed from runtime.Stack, correct but microseconds
// slower.
package goid

// Get returns an identifier of the calling goroutine: never 0, and
// different for every goroutine alive at the same time (a goroutine that
// has ended may leave its identifier to a new one).
func Get() uintptr { return get() }
