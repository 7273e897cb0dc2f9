package wasip3

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// This file converts between the host's Go values and component values,
// guided by the types the calling component declared: cases, labels and
// fields are found by name, so a component built against a WIT that
// reorders or extends an enum still gets the right case.

type (
	value = component.Value
	ctype = component.Type
)

// errType is a wrong value or type: it traps the caller.
func errType(format string, args ...any) error {
	return &component.Trap{Reason: fmt.Sprintf(format, args...)}
}

// caseIndex finds a variant case or enum label by name.
func caseIndex(t *ctype, name string) (uint32, bool) {
	switch t.Kind {
	case component.Variant:
		for i, c := range t.Cases {
			if c.Name == name {
				return uint32(i), true
			}
		}
	case component.Enum:
		for i, l := range t.Labels {
			if l == name {
				return uint32(i), true
			}
		}
	}
	return 0, false
}

// caseName is the name of the case a variant or enum value holds, and
// its payload.
func caseName(t *ctype, v value) (string, value, error) {
	switch t.Kind {
	case component.Variant:
		vv, ok := v.(component.VariantValue)
		if !ok || int(vv.Case) >= len(t.Cases) {
			return "", nil, errType("a %s value of type %T", t, v)
		}
		return t.Cases[vv.Case].Name, vv.Value, nil
	case component.Enum:
		i, ok := v.(uint32)
		if !ok || int(i) >= len(t.Labels) {
			return "", nil, errType("an %s value of type %T", t, v)
		}
		return t.Labels[i], nil, nil
	}
	return "", nil, errType("%s is neither a variant nor an enum", t)
}

// named is the value of a payload-less case of a variant or enum.
func named(t *ctype, name string) (value, error) {
	i, ok := caseIndex(t, name)
	if !ok {
		return nil, errType("%s has no case %q", t, name)
	}
	if t.Kind == component.Enum {
		return i, nil
	}
	return bareCase(i), nil
}

// bareCases holds the values of the first payload-less variant cases,
// made once: a value is immutable, and making one per call (an error
// code, a descriptor type) is an allocation per host call.
var bareCases = func() (vs [64]value) {
	for i := range vs {
		vs[i] = component.VariantValue{Case: uint32(i)}
	}
	return vs
}()

// bareCase is the variant value of case i without a payload.
func bareCase(i uint32) value {
	if i < uint32(len(bareCases)) {
		return bareCases[i]
	}
	return component.VariantValue{Case: i}
}

// withPayload is a variant case with a payload.
func withPayload(t *ctype, name string, payload value) (value, error) {
	i, ok := caseIndex(t, name)
	if !ok || t.Kind != component.Variant {
		return nil, errType("%s has no case %q", t, name)
	}
	return component.VariantValue{Case: i, Value: payload}, nil
}

// errorValue is the error-code value of an error from vfs or vnet (or any
// error whose String is a WASI code name). A code the component's type
// does not name becomes other(some(name)) where the type has it, else the
// most general code it has.
func errorValue(t *ctype, err error) (value, error) {
	name := codeName(err)
	if v, e := named(t, name); e == nil {
		return v, nil
	}
	if i, ok := caseIndex(t, "other"); ok && t.Kind == component.Variant {
		payload := value(component.None())
		if c := t.Cases[i].Type; c != nil && c.Kind == component.Option {
			payload = component.Some(name)
		}
		return component.VariantValue{Case: i, Value: payload}, nil
	}
	for _, fallback := range []string{"io", "unknown"} {
		if v, e := named(t, fallback); e == nil {
			return v, nil
		}
	}
	return nil, errType("error %q has no case in %s", name, t)
}

// codeName is the WASI name of an error's code.
func codeName(err error) string {
	var fe vfs.ErrorCode
	if errors.As(err, &fe) {
		return fe.String()
	}
	var ne vnet.ErrorCode
	if errors.As(err, &ne) {
		return ne.String()
	}
	return "io"
}

// result is the value of result<T, E> for a call's outcome: ok(v), or
// err(error-code) for a WASI error. Other errors (traps) are returned.
func result(t *ctype, v value, err error) (value, error) {
	if err != nil {
		if !isWASIError(err) {
			return nil, err
		}
		if t.Kind != component.Result {
			return nil, errType("returning an error as a %s", t)
		}
		if t.Err == nil {
			return bareCase(1), nil // err
		}
		ev, e := errorValue(t.Err, err)
		if e != nil {
			return nil, e
		}
		return component.Err(ev), nil
	}
	if v == nil {
		return bareCase(0), nil // ok
	}
	return component.Ok(v), nil
}

// isWASIError reports whether err is a WASI error code (not a trap).
func isWASIError(err error) bool {
	var fe vfs.ErrorCode
	var ne vnet.ErrorCode
	return errors.As(err, &fe) || errors.As(err, &ne)
}

// record builds a record value from fields by name.
func record(t *ctype, fields map[string]value) (value, error) {
	if t.Kind != component.Record && t.Kind != component.Tuple {
		return nil, errType("%s is not a record", t)
	}
	out := make([]value, len(t.Fields))
	for i, f := range t.Fields {
		v, ok := fields[f.Name]
		if !ok {
			return nil, errType("record %s: no value for field %q", t, f.Name)
		}
		out[i] = v
	}
	return out, nil
}

// field reads a record field by name.
func field(t *ctype, v value, name string) (value, *ctype, error) {
	vs, ok := v.([]value)
	if !ok || len(vs) != len(t.Fields) {
		return nil, nil, errType("a %s value of type %T", t, v)
	}
	for i, f := range t.Fields {
		if f.Name == name {
			return vs[i], f.Type, nil
		}
	}
	return nil, nil, errType("%s has no field %q", t, name)
}

// flagsFrom decodes a flags value into bits of the host's own order,
// given the host's label names in bit order.
func flagsFrom(t *ctype, v value, hostNames []string) (uint32, error) {
	bits, ok := v.(uint32)
	if !ok || t.Kind != component.Flags {
		return 0, errType("a %s value of type %T", t, v)
	}
	var out uint32
	for i, l := range t.Labels {
		if bits&(1<<i) == 0 {
			continue
		}
		found := false
		for j, n := range hostNames {
			if n == l {
				out |= 1 << j
				found = true
			}
		}
		if !found {
			return 0, errType("flag %q is not supported", l)
		}
	}
	return out, nil
}

// flagsTo encodes host bits (in the order of hostNames) as the
// component's flags value.
func flagsTo(t *ctype, bits uint32, hostNames []string) (value, error) {
	if t.Kind != component.Flags {
		return nil, errType("%s is not a flags type", t)
	}
	var out uint32
	for j, n := range hostNames {
		if bits&(1<<j) == 0 {
			continue
		}
		found := false
		for i, l := range t.Labels {
			if l == n {
				out |= 1 << i
				found = true
			}
		}
		if !found {
			return nil, errType("flags %s lack %q", t, n)
		}
	}
	return out, nil
}

// instant is the wasi:clocks instant record of a time.
func instant(t *ctype, tm time.Time) (value, error) {
	return record(t, map[string]value{"seconds": tm.Unix(), "nanoseconds": uint32(tm.Nanosecond())})
}

// fromInstant decodes an instant record.
func fromInstant(t *ctype, v value) (time.Time, error) {
	s, _, err := field(t, v, "seconds")
	if err != nil {
		return time.Time{}, err
	}
	ns, _, err := field(t, v, "nanoseconds")
	if err != nil {
		return time.Time{}, err
	}
	sec, ok1 := s.(int64)
	nsec, ok2 := ns.(uint32)
	if !ok1 || !ok2 {
		return time.Time{}, errType("an instant of types %T, %T", s, ns)
	}
	if nsec >= 1e9 {
		return time.Time{}, vfs.ErrInvalid
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

// socketAddress is an ip-socket-address value.
func socketAddress(t *ctype, ap netip.AddrPort) (value, error) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		i, ok := caseIndex(t, "ipv4")
		if !ok {
			return nil, errType("%s has no ipv4 case", t)
		}
		b := a.As4()
		rec, err := record(t.Cases[i].Type, map[string]value{"port": ap.Port(), "address": []value{b[0], b[1], b[2], b[3]}})
		return component.VariantValue{Case: i, Value: rec}, err
	}
	i, ok := caseIndex(t, "ipv6")
	if !ok {
		return nil, errType("%s has no ipv6 case", t)
	}
	b := a.As16()
	words := make([]value, 8)
	for k := range words {
		words[k] = uint16(b[2*k])<<8 | uint16(b[2*k+1])
	}
	rec, err := record(t.Cases[i].Type, map[string]value{"port": ap.Port(), "flow-info": uint32(0), "address": words, "scope-id": uint32(0)})
	return component.VariantValue{Case: i, Value: rec}, err
}

// fromSocketAddress decodes an ip-socket-address value.
func fromSocketAddress(t *ctype, v value) (netip.AddrPort, error) {
	name, payload, err := caseName(t, v)
	if err != nil {
		return netip.AddrPort{}, err
	}
	i, _ := caseIndex(t, name)
	rt := t.Cases[i].Type
	pv, _, err := field(rt, payload, "port")
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, ok := pv.(uint16)
	if !ok {
		return netip.AddrPort{}, errType("a port of type %T", pv)
	}
	av, _, err := field(rt, payload, "address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	parts, ok := av.([]value)
	if !ok {
		return netip.AddrPort{}, errType("an address of type %T", av)
	}
	switch name {
	case "ipv4":
		var b [4]byte
		if len(parts) != 4 {
			return netip.AddrPort{}, errType("an IPv4 address of %d parts", len(parts))
		}
		for k, p := range parts {
			x, ok := p.(uint8)
			if !ok {
				return netip.AddrPort{}, errType("an IPv4 address part of type %T", p)
			}
			b[k] = x
		}
		return netip.AddrPortFrom(netip.AddrFrom4(b), port), nil
	case "ipv6":
		var b [16]byte
		if len(parts) != 8 {
			return netip.AddrPort{}, errType("an IPv6 address of %d parts", len(parts))
		}
		for k, p := range parts {
			x, ok := p.(uint16)
			if !ok {
				return netip.AddrPort{}, errType("an IPv6 address part of type %T", p)
			}
			b[2*k], b[2*k+1] = byte(x>>8), byte(x)
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), port), nil
	}
	return netip.AddrPort{}, errType("ip-socket-address case %q", name)
}

// ipAddress is an ip-address value.
func ipAddress(t *ctype, a netip.Addr) (value, error) {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return withPayload(t, "ipv4", []value{b[0], b[1], b[2], b[3]})
	}
	b := a.As16()
	words := make([]value, 8)
	for k := range words {
		words[k] = uint16(b[2*k])<<8 | uint16(b[2*k+1])
	}
	return withPayload(t, "ipv6", words)
}

// resultTypeOf is the result type of the call's function.
func resultTypeOf(c *component.Call) (*ctype, error) {
	ft := c.Type()
	if ft == nil || ft.Result == nil {
		return nil, errType("%s has no result type", c.Name())
	}
	return ft.Result, nil
}

// paramType is the type of parameter i of the call's function.
func paramType(c *component.Call, i int) (*ctype, error) {
	ft := c.Type()
	if ft == nil || i >= len(ft.Params) {
		return nil, errType("%s has no parameter %d", c.Name(), i)
	}
	return ft.Params[i].Type, nil
}
