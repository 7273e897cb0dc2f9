package wasip3

import (
	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/vfs"
)

// Interface names of WASI 0.3.0 and of the WASI 0.2 interfaces Rust's
// standard library imports.
const (
	ifFilesystem = "wasi:filesystem/types@0.3.0"
	ifPreopens   = "wasi:filesystem/preopens@0.3.0"
	ifSockets    = "wasi:sockets/types@0.3.0"
	ifNameLookup = "wasi:sockets/ip-name-lookup@0.3.0"
	ifMonotonic  = "wasi:clocks/monotonic-clock@0.3.0"
	ifSystem     = "wasi:clocks/system-clock@0.3.0"
	ifTimezone   = "wasi:clocks/timezone@0.3.0"
	ifRandom     = "wasi:random/random@0.3.0"
	ifInsecure   = "wasi:random/insecure@0.3.0"
	ifSeed       = "wasi:random/insecure-seed@0.3.0"
	ifEnv        = "wasi:cli/environment@0.3.0"
	ifExit       = "wasi:cli/exit@0.3.0"
	ifStdin      = "wasi:cli/stdin@0.3.0"
	ifStdout     = "wasi:cli/stdout@0.3.0"
	ifStderr     = "wasi:cli/stderr@0.3.0"
	ifTermStdin  = "wasi:cli/terminal-stdin@0.3.0"
	ifTermStdout = "wasi:cli/terminal-stdout@0.3.0"
	ifTermStderr = "wasi:cli/terminal-stderr@0.3.0"
	ifTermInput  = "wasi:cli/terminal-input@0.3.0"
	ifTermOutput = "wasi:cli/terminal-output@0.3.0"

	ifStreams02    = "wasi:io/streams@0.2.4"
	ifPoll02       = "wasi:io/poll@0.2.4"
	ifError02      = "wasi:io/error@0.2.4"
	ifStdin02      = "wasi:cli/stdin@0.2.4"
	ifStdout02     = "wasi:cli/stdout@0.2.4"
	ifStderr02     = "wasi:cli/stderr@0.2.4"
	ifEnv02        = "wasi:cli/environment@0.2.4"
	ifExit02       = "wasi:cli/exit@0.2.4"
	ifTermStdin02  = "wasi:cli/terminal-stdin@0.2.4"
	ifTermStdout02 = "wasi:cli/terminal-stdout@0.2.4"
	ifTermStderr02 = "wasi:cli/terminal-stderr@0.2.4"
	ifTermInput02  = "wasi:cli/terminal-input@0.2.4"
	ifTermOutput02 = "wasi:cli/terminal-output@0.2.4"
)

// binder registers host functions with a Linker.
type binder struct {
	l *component.Linker
}

type fnImpl = func(c *component.Call, a []value) (value, error)

func (b *binder) fn(iface, name string, f fnImpl) {
	b.l.Func(iface, name, component.HostFunc{Call: f})
}

// blocking registers a function that may wait for other tasks.
func (b *binder) blocking(iface, name string, f fnImpl) {
	b.l.Func(iface, name, component.HostFunc{Call: f, Blocks: true})
}

// NewLinker binds every WASI 0.3.0 import of cli, clocks, random,
// filesystem and sockets, and the WASI 0.2 cli and io imports of Rust's
// standard library, to the host.Instance of the calling guest. The
// functions take what they need of the guest (its arguments, its
// environment) from that instance, not from cfg, so one Linker serves any
// number of guests; each call returns a new one, which the caller may
// extend.
func NewLinker(cfg Config) *component.Linker {
	b := &binder{l: component.NewLinker()}
	b.filesystem()
	b.sockets()
	b.cli()
	b.clocks()
	b.random()
	b.p2()
	b.l.StreamValues = streamValues
	b.l.FutureValue = futureValue
	is := func(k host.Kind) func(*host.Instance, host.Handle) bool {
		return func(in *host.Instance, h host.Handle) bool { return in.KindOf(h) == k }
	}
	b.l.Resource(ifFilesystem, "descriptor", is(host.KindDescriptor))
	b.l.Resource(ifSockets, "tcp-socket", is(host.KindTCPSocket))
	b.l.Resource(ifSockets, "udp-socket", is(host.KindUDPSocket))
	for _, r := range []struct{ iface, name string }{
		{ifStreams02, "input-stream"}, {ifStreams02, "output-stream"}, {ifPoll02, "pollable"}, {ifError02, "error"},
		{ifTermInput, "terminal-input"}, {ifTermOutput, "terminal-output"},
		{ifTermInput02, "terminal-input"}, {ifTermOutput02, "terminal-output"},
	} {
		typ := r.iface + "#" + r.name
		b.l.Resource(r.iface, r.name, func(in *host.Instance, h host.Handle) bool { return in.ResourceType(h) == typ })
	}
	return b.l
}

// streamValues converts what a host stream delivers to component values.
func streamValues(data any, elem *ctype) ([]value, error) {
	switch d := data.(type) {
	case []vfs.DirEntry:
		out := make([]value, len(d))
		for i, e := range d {
			tt, err := fieldType(elem, "type")
			if err != nil {
				return nil, err
			}
			dt, err := descType(tt, e.Type)
			if err != nil {
				return nil, err
			}
			if out[i], err = record(elem, map[string]value{"type": dt, "name": e.Name}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errType("no conversion of %T to %s", data, elem)
}

// futureValue converts a host future's value (an error, nil meaning ok)
// to the future's result type.
func futureValue(v any, t *ctype) (value, error) {
	err, _ := v.(error)
	if v != nil && err == nil {
		return nil, errType("a host future's value of type %T", v)
	}
	return result(t, nil, err)
}

// fieldType is the type of a record's field.
func fieldType(t *ctype, name string) (*ctype, error) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type, nil
		}
	}
	return nil, errType("%s has no field %q", t, name)
}

// descType is the descriptor-type value of a vfs type.
func descType(t *ctype, dt vfs.DescType) (value, error) {
	if v, err := named(t, dt.String()); err == nil {
		return v, nil
	}
	if i, ok := caseIndex(t, "other"); ok {
		return component.VariantValue{Case: i, Value: component.None()}, nil
	}
	return named(t, "unknown")
}

// hd is a handle argument.
func hd(v value) host.Handle {
	u, _ := v.(uint32)
	return host.Handle(u)
}
