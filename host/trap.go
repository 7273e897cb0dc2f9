package host

import "fmt"

// TrapKind classifies a Component Model violation.
type TrapKind uint8

const (
	// TrapForgedHandle is an index that was never a handle of the instance.
	TrapForgedHandle TrapKind = iota + 1
	// TrapDeadHandle is a handle used after it was dropped or moved.
	TrapDeadHandle
	// TrapWrongType is a handle of another resource or end type.
	TrapWrongType
	// TrapDropWithLends is dropping a handle lent to a call in progress.
	TrapDropWithLends
	// TrapBusyEnd is dropping, or starting a second copy on, a stream or
	// future end whose copy is in flight (cancel first).
	TrapBusyEnd
	// TrapAfterDropped is a read or write on an end that already reported
	// DROPPED; only dropping it is allowed.
	TrapAfterDropped
	// TrapUnresolvedSubtask is dropping a subtask before it resolved.
	TrapUnresolvedSubtask
	// TrapInstanceTrapped is any call on an instance that trapped before.
	TrapInstanceTrapped
	// TrapBadArgument is an argument the ABI cannot represent (a negative
	// length, a buffer too large).
	TrapBadArgument
	// TrapGuest is a trap the guest's own code raised or the component
	// runtime found: `unreachable`, an out-of-bounds pointer, a bad
	// value in the canonical ABI.
	TrapGuest
)

var trapNames = [...]string{
	TrapForgedHandle:      "forged handle",
	TrapDeadHandle:        "dead handle",
	TrapWrongType:         "wrong handle type",
	TrapDropWithLends:     "drop of a lent handle",
	TrapBusyEnd:           "end busy with a copy",
	TrapAfterDropped:      "use after DROPPED",
	TrapUnresolvedSubtask: "drop of an unresolved subtask",
	TrapInstanceTrapped:   "instance already trapped",
	TrapBadArgument:       "bad argument",
	TrapGuest:             "guest trap",
}

func (k TrapKind) String() string {
	if int(k) < len(trapNames) && trapNames[k] != "" {
		return trapNames[k]
	}
	return fmt.Sprintf("trap(%d)", uint8(k))
}

// Trap is a Component Model violation by a guest. It ends the offending
// call, poisons the instance (every later call returns a Trap too, as a
// trapped component instance cannot be re-entered) and is recorded in the
// trace. It is a value, never a Go panic.
type Trap struct {
	Kind     TrapKind
	Instance string
	Handle   Handle
	Call     string
	Detail   string
}

func (t *Trap) Error() string {
	if t.Kind == TrapGuest {
		return fmt.Sprintf("trap in %s: %s: %s", t.Instance, t.Call, t.Detail)
	}
	s := fmt.Sprintf("trap in %s: %s: %s of handle %d", t.Instance, t.Call, t.Kind, t.Handle)
	if t.Detail != "" {
		s += " (" + t.Detail + ")"
	}
	return s
}

// Is makes errors.Is(err, &Trap{Kind: k}) match any trap of kind k.
func (t *Trap) Is(target error) bool {
	o, ok := target.(*Trap)
	return ok && (o.Kind == 0 || o.Kind == t.Kind) && o.Handle == 0 && o.Call == ""
}

// Abort traps the instance for a reason found outside the host's own
// checks (a component's code trapped, or broke the canonical ABI): the
// instance is poisoned and torn down as for any trap. It returns the
// trap; if the instance had trapped already, that first trap. From a
// goroutine that may not call the host (see Instance calls) it changes
// nothing and returns a trap that says so.
func (in *Instance) Abort(call, detail string) *Trap {
	in.h.w.TouchAll()
	if in.trapped != nil {
		return in.trapped
	}
	if err := in.h.enter(); err != nil {
		return &Trap{Kind: TrapGuest, Instance: in.name, Call: call, Detail: err.Error()}
	}
	return in.trap(TrapGuest, 0, call, detail)
}
