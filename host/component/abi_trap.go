package component

import "fmt"

// Trap is a Component Model trap: a guest broke a rule of the canonical
// ABI or of the component model (a pointer out of bounds, an invalid
// char, a dead handle, …), or host code passed a value its type cannot
// hold. It aborts the call that raised it and is returned as an error,
// never raised as a Go panic.
type Trap struct {
	// Reason is a one-line description of what was wrong.
	Reason string
}

// Error implements error.
func (t *Trap) Error() string { return "component trap: " + t.Reason }

// abiTrapf makes a *Trap; it formats, so call it on error paths only.
func abiTrapf(format string, args ...any) error {
	return &Trap{Reason: fmt.Sprintf(format, args...)}
}
