package host

import (
	"strconv"

	"github.com/wasisim/wasisim/sim"
)

// This file holds the handle kinds that exist for the Component Model
// rather than for one WASI interface: resources a host defines outside
// vfs and vnet (NewResource), resources a guest defines (resource.new),
// error contexts, and lending any handle for a call.

// hostResource is the object behind a KindResource handle.
type hostResource struct {
	h      *Host
	typ    string
	obj    any
	onDrop func()
}

func (r *hostResource) dropCheck() (TrapKind, string) { return 0, "" }
func (r *hostResource) String() string                { return r.typ }
func (r *hostResource) drop() {
	if r.onDrop != nil {
		r.h.w.TouchAll() // a destructor of the embedder's: anything
		r.onDrop()
	}
}

// NewResource puts a host-defined resource of type typ (a name such as
// "wasi:io/streams@0.2.4#output-stream") in the table as an own handle;
// onDrop (may be nil) runs when the handle is dropped, by the guest or at
// teardown.
func (in *Instance) NewResource(typ string, obj any, onDrop func()) (Handle, error) {
	if err := in.check(typ); err != nil {
		return 0, err
	}
	return in.insert(KindResource, &hostResource{h: in.h, typ: typ, obj: obj, onDrop: onDrop}), nil
}

// Resource returns the object of a host-defined resource handle of type
// typ, trapping on a handle of another type. It is the `self` of a plain
// method: the call is a scheduling point, and nothing is lent.
func (in *Instance) Resource(h Handle, typ string) (any, error) {
	r, err := plainSelf[*hostResource](in, h, KindResource, typ)
	if err != nil {
		return nil, err
	}
	if r.typ != typ {
		return nil, in.trap(TrapWrongType, h, typ, "handle is a "+r.typ)
	}
	return r.obj, nil
}

// ResourceType reports the type of a live host-defined resource handle
// ("" if h is not one).
func (in *Instance) ResourceType(h Handle) string {
	if in.KindOf(h) != KindResource {
		return ""
	}
	return in.table[h-1].obj.(*hostResource).typ
}

// guestResource is the object behind a KindGuestResource handle: a
// resource a guest defines, known to the host only by its type's
// identity and a 32-bit representation.
type guestResource struct {
	h      *Host
	typ    any
	name   string
	rep    uint32
	onDrop func(rep uint32) error
}

func (r *guestResource) dropCheck() (TrapKind, string) { return 0, "" }
func (r *guestResource) String() string {
	return r.name + " rep " + strconv.FormatUint(uint64(r.rep), 10)
}
func (r *guestResource) drop() {
	if r.onDrop != nil {
		r.h.w.TouchAll() // the guest's destructor: anything
		r.onDrop(r.rep)  //nolint:errcheck // a destructor's trap is the runtime's to report
	}
}

// NewGuestResource is resource.new: an own handle of the guest-defined
// resource type typ (compared by identity) with representation rep.
// onDrop (may be nil) is the destructor, run when the handle is dropped.
func (in *Instance) NewGuestResource(typ any, name string, rep uint32, onDrop func(rep uint32) error) (Handle, error) {
	if err := in.check("resource.new"); err != nil {
		return 0, err
	}
	return in.insert(KindGuestResource, &guestResource{h: in.h, typ: typ, name: name, rep: rep, onDrop: onDrop}), nil
}

// GuestResourceRep is resource.rep: the representation of a handle of
// the guest-defined resource type typ.
func (in *Instance) GuestResourceRep(h Handle, typ any) (uint32, error) {
	const call = "resource.rep"
	e, err := in.get(h, KindGuestResource, call)
	if err != nil {
		return 0, err
	}
	r := e.obj.(*guestResource)
	if r.typ != typ {
		return 0, in.trap(TrapWrongType, h, call, "handle is a "+r.name)
	}
	return r.rep, nil
}

// errorContext is the object behind an error-context handle.
type errorContext struct{ msg string }

func (c *errorContext) dropCheck() (TrapKind, string) { return 0, "" }
func (c *errorContext) drop()                         {}
func (c *errorContext) String() string                { return "error-context" }

// NewErrorContext is error-context.new.
func (in *Instance) NewErrorContext(msg string) (Handle, error) {
	if err := in.check("error-context.new"); err != nil {
		return 0, err
	}
	return in.insert(KindErrorContext, &errorContext{msg: msg}), nil
}

// ErrorContextMessage is error-context.debug-message.
func (in *Instance) ErrorContextMessage(h Handle) (string, error) {
	e, err := in.get(h, KindErrorContext, "error-context.debug-message")
	if err != nil {
		return "", err
	}
	return e.obj.(*errorContext).msg, nil
}

// Lend lends a live handle of any kind to a call (a borrow argument):
// dropping it traps until the returned func ends the lend.
func (in *Instance) Lend(h Handle, call string) (end func(), err error) {
	e, err := in.live(h, call)
	if err != nil {
		return nil, err
	}
	e.lends++
	return func() { in.touchHandle(h, sim.Write); in.table[h-1].lends-- }, nil
}
