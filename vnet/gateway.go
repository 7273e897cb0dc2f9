package vnet

import "net/netip"

// A Gateway carries TCP connections from the Net to addresses outside it
// (package vnet/bridge is one, to the machine's network). A Connect to an
// address where no socket of the Net listens asks the gateway, and only
// the addresses it routes leave the Net: without a gateway nothing does.
type Gateway interface {
	// Routes reports whether the gateway carries a connection from s to
	// dst. It is called with the Net's lock held and must not call the
	// Net; a loopback destination is asked only when nothing of the Net
	// listens there, any other before it is refused as unreachable.
	Routes(s *TCPSocket, dst netip.AddrPort) bool
	// Dial opens the connection to dst, in the connecting task (the
	// Net's lock is not held). It returns the error the connect fails
	// with (a vnet ErrorCode: connection-refused, timeout …), or attach,
	// which the Net then calls with its end of the new connection: a
	// connected socket whose one reference attach takes over, or nil if
	// the connecting socket was released meanwhile.
	Dial(s *TCPSocket, dst netip.AddrPort) (attach func(*TCPSocket), err error)
}

// SetGateway installs g as the Net's gateway (nil removes it).
func (n *Net) SetGateway(g Gateway) {
	n.lock()
	defer n.mu.Unlock()
	n.gateway = g
}

// OnListen registers f, called each time a TCP socket starts listening,
// after Listen succeeded, in the listening task and outside the Net's
// lock.
func (n *Net) OnListen(f func(s *TCPSocket)) {
	n.lock()
	defer n.mu.Unlock()
	n.onListen = append(n.onListen[:len(n.onListen):len(n.onListen)], f)
}

// routesLocked reports whether the gateway carries a connection from s
// to dst.
//
// Preconditions: n.mu is held.
func (n *Net) routesLocked(s *TCPSocket, dst netip.AddrPort) bool {
	return n.gateway != nil && n.gateway.Routes(s, dst)
}

// connectOutsideLocked completes a connect through the gateway: the dial
// happens without the lock; on success the Net's end of the connection is
// made and handed to the gateway.
//
// Preconditions: n.mu is held; s is connecting.
func (s *TCPSocket) connectOutsideLocked(remote netip.AddrPort) error {
	n := s.n
	gw := n.gateway
	n.mu.Unlock()
	attach, err := gw.Dial(s, remote)
	n.mu.Lock()
	if s.rc.ReleasedLocked() || s.state != Connecting {
		if attach != nil {
			n.mu.Unlock()
			attach(nil)
			n.mu.Lock()
		}
		return ErrInvalidState
	}
	if err != nil {
		code, ok := err.(ErrorCode)
		if !ok {
			code = ErrConnectionRefused
		}
		s.failConnectLocked(code)
		return code
	}
	c := s.establishLocked(nil, remote)
	n.mu.Unlock()
	attach(c)
	n.mu.Lock()
	return nil
}
