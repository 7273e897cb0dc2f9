package host

import (
	"strconv"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// NetworkPolicy is what an instance may do on the network, in the manner
// of Wasmtime's -S flags (tcp, udp, allow-ip-name-lookup). The zero value
// allows everything. A denied call fails with access-denied and changes
// nothing; it is a "denied" event in the trace.
type NetworkPolicy struct {
	// DenyTCP refuses tcp-socket.create; DenyUDP udp-socket.create (so a
	// guest denied UDP never holds a udp-socket).
	DenyTCP, DenyUDP bool
	// DenyBind refuses explicit binds: tcp-socket.bind and
	// udp-socket.bind. The implicit binds of connect, listen and send
	// follow their own rules.
	DenyBind bool
	// DenyListen refuses tcp-socket.listen.
	DenyListen bool
	// DenyConnect refuses tcp-socket.connect.
	DenyConnect bool
	// DenyNameLookup refuses ip-name-lookup.resolve-addresses.
	DenyNameLookup bool
	// MaxHandles, if positive, bounds the live handles of the instance
	// (of every kind, as RLIMIT_NOFILE counts every descriptor). A socket
	// constructor called when the instance already holds that many fails
	// with out-of-memory: wasi:sockets 0.3 names no socket-limit case, and
	// out-of-memory is its code for an exhausted resource (ENOMEM,
	// ENOBUFS). A listen stream delivers no connection meanwhile: like a
	// Linux accept failing with EMFILE, the connection waits in the
	// backlog until the instance drops a handle.
	MaxHandles int
}

// SetNetworkPolicy sets the instance's network policy (an instance starts
// with Options.Network).
func (in *Instance) SetNetworkPolicy(p NetworkPolicy) {
	in.h.w.TouchAll() // rare, and it changes what later calls may do
	in.policy = p
}

// NetworkPolicy is the instance's network policy.
func (in *Instance) NetworkPolicy() NetworkPolicy { return in.policy }

// LiveHandles is the number of live handles of the instance.
func (in *Instance) LiveHandles() int {
	in.touchCount(sim.Read)
	return in.nlive
}

// deny reports access-denied, as a trace event, when denied is true.
func (in *Instance) deny(denied bool, call string) error {
	if !denied {
		return nil
	}
	in.h.w.Event("denied", in.name, call)
	return vnet.ErrAccessDenied
}

// atHandleLimit reports whether the instance may not make a new handle
// under its policy.
func (in *Instance) atHandleLimit() bool {
	if in.policy.MaxHandles <= 0 {
		return false
	}
	in.touchCount(sim.Read)
	return in.nlive >= in.policy.MaxHandles
}

// newSocketAllowed applies the policy to a socket constructor.
func (in *Instance) newSocketAllowed(denied bool, call string) error {
	if err := in.deny(denied, call); err != nil {
		return err
	}
	if in.atHandleLimit() {
		in.h.w.Event("denied", in.name, call+": "+strconv.Itoa(in.nlive)+" live handles")
		return vnet.ErrOutOfMemory
	}
	return nil
}

// handleGone is called when a handle of the instance dies: under a handle
// limit, a listen stream holding connections back may now deliver one.
func (in *Instance) handleGone() {
	in.nlive--
	in.touchCount(sim.Update)
	if in.policy.MaxHandles > 0 {
		in.h.net.Wake()
	}
}
