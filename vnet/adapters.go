package vnet

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// Conn is a net.Conn over a connected TCPSocket. It owns one reference to
// the socket, dropped by Close. Close also makes pending and later calls
// fail with net.ErrClosed. Deadlines are real time without a world and
// virtual wall time (World.WallNow) with one.
type Conn struct {
	s      *TCPSocket
	closed atomic.Bool
	la, ra net.Addr
}

// NewConn wraps a connected socket; the Conn takes over one reference the
// caller holds.
func NewConn(s *TCPSocket) *Conn {
	c := &Conn{s: s}
	la, _ := s.LocalAddr()
	ra, _ := s.RemoteAddr()
	c.la = net.TCPAddrFromAddrPort(la)
	c.ra = net.TCPAddrFromAddrPort(ra)
	return c
}

// Socket returns the underlying socket.
func (c *Conn) Socket() *TCPSocket { return c.s }

func (c *Conn) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if c.closed.Load() {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.la, Addr: c.ra, Err: err}
}

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opErr("read", net.ErrClosed)
	}
	n, err := c.s.Read(p)
	return n, c.opErr("read", err)
}

// Write implements net.Conn: it writes all of p unless an error (or the
// deadline) stops it.
func (c *Conn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opErr("write", net.ErrClosed)
	}
	total := 0
	for len(p) > 0 {
		n, err := c.s.Write(p)
		total += n
		p = p[n:]
		if err != nil {
			return total, c.opErr("write", err)
		}
	}
	return total, nil
}

// Close drops the Conn's reference (closing the connection if it was the
// last one).
func (c *Conn) Close() error {
	if err := c.s.n.enter(); err != nil {
		return c.opErr("close", err)
	}
	if c.closed.Swap(true) {
		return c.opErr("close", net.ErrClosed)
	}
	if err := c.s.DecRef(); err != nil {
		return &net.OpError{Op: "close", Net: "tcp", Source: c.la, Addr: c.ra, Err: err}
	}
	return nil
}

// CloseWrite shuts down the writing side (FIN).
func (c *Conn) CloseWrite() error { return c.opErr("close", c.s.ShutdownWrite()) }

// CloseRead shuts down the reading side.
func (c *Conn) CloseRead() error { return c.opErr("close", c.s.ShutdownRead()) }

// LocalAddr implements net.Conn (a *net.TCPAddr).
func (c *Conn) LocalAddr() net.Addr { return c.la }

// RemoteAddr implements net.Conn (a *net.TCPAddr).
func (c *Conn) RemoteAddr() net.Addr { return c.ra }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error {
	c.s.SetReadDeadline(t)
	c.s.SetWriteDeadline(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { c.s.SetReadDeadline(t); return nil }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.s.SetWriteDeadline(t); return nil }

// Listener is a net.Listener over a listening TCPSocket; it owns one
// reference, dropped by Close (which resets unaccepted connections).
type Listener struct {
	s      *TCPSocket
	closed atomic.Bool
	addr   net.Addr
}

// NewListener wraps a listening socket, taking over one reference.
func NewListener(s *TCPSocket) *Listener {
	la, _ := s.LocalAddr()
	return &Listener{s: s, addr: net.TCPAddrFromAddrPort(la)}
}

// Socket returns the underlying socket.
func (l *Listener) Socket() *TCPSocket { return l.s }

// Accept implements net.Listener; the Conn owns the accepted socket.
func (l *Listener) Accept() (net.Conn, error) {
	if l.closed.Load() {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	s, err := l.s.Accept()
	if err != nil {
		if l.closed.Load() {
			err = net.ErrClosed
		}
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
	}
	return NewConn(s), nil
}

// Close implements net.Listener.
func (l *Listener) Close() error {
	if err := l.s.n.enter(); err != nil {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: err}
	}
	if l.closed.Swap(true) {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	return l.s.DecRef()
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.addr }

// SetDeadline bounds Accept (zero: none).
func (l *Listener) SetDeadline(t time.Time) error { l.s.SetReadDeadline(t); return nil }

// PacketConn is a net.PacketConn over a UDPSocket; it owns one reference.
type PacketConn struct {
	u      *UDPSocket
	closed atomic.Bool
	addr   net.Addr
}

// NewPacketConn wraps a bound UDP socket, taking over one reference.
func NewPacketConn(u *UDPSocket) *PacketConn {
	la, _ := u.LocalAddr()
	return &PacketConn{u: u, addr: net.UDPAddrFromAddrPort(la)}
}

// Socket returns the underlying socket.
func (p *PacketConn) Socket() *UDPSocket { return p.u }

func (p *PacketConn) opErr(op string, addr net.Addr, err error) error {
	if err == nil {
		return nil
	}
	if p.closed.Load() {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "udp", Source: p.addr, Addr: addr, Err: err}
}

// ReadFrom implements net.PacketConn; a datagram longer than b is
// truncated, as on a real socket.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if p.closed.Load() {
		return 0, nil, p.opErr("read", nil, net.ErrClosed)
	}
	data, from, err := p.u.Receive()
	if err != nil {
		return 0, nil, p.opErr("read", nil, err)
	}
	return copy(b, data), net.UDPAddrFromAddrPort(from), nil
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if p.closed.Load() {
		return 0, p.opErr("write", addr, net.ErrClosed)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, p.opErr("write", addr, ErrInvalidArgument)
	}
	ap := ua.AddrPort()
	if p.u.fam == IPv4 {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if err := p.u.Send(b, &ap); err != nil {
		return 0, p.opErr("write", addr, err)
	}
	return len(b), nil
}

// Close implements net.PacketConn.
func (p *PacketConn) Close() error {
	if err := p.u.n.enter(); err != nil {
		return p.opErr("close", nil, err)
	}
	if p.closed.Swap(true) {
		return p.opErr("close", nil, net.ErrClosed)
	}
	return p.u.DecRef()
}

// LocalAddr implements net.PacketConn.
func (p *PacketConn) LocalAddr() net.Addr { return p.addr }

// SetDeadline implements net.PacketConn (only reads can wait).
func (p *PacketConn) SetDeadline(t time.Time) error { p.u.SetReadDeadline(t); return nil }

// SetReadDeadline implements net.PacketConn.
func (p *PacketConn) SetReadDeadline(t time.Time) error { p.u.SetReadDeadline(t); return nil }

// SetWriteDeadline implements net.PacketConn; sends never wait.
func (p *PacketConn) SetWriteDeadline(time.Time) error { return nil }

// resolveAddr parses "host:port" for the network ("tcp", "tcp4", "tcp6" or
// the udp ones). An empty host is the loopback address (dial) or the
// unspecified one (listen) of the network's family (IPv4 for "tcp"/"udp").
func (n *Net) resolveAddr(network, address string, listen bool) (netip.AddrPort, error) {
	var want int // 0 any, 4, 6
	switch network {
	case "tcp", "udp":
	case "tcp4", "udp4":
		want = 4
	case "tcp6", "udp6":
		want = 6
	default:
		return netip.AddrPort{}, net.UnknownNetworkError(network)
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: "invalid port", Addr: address}
	}
	if host == "" {
		f := IPv4
		if want == 6 {
			f = IPv6
		}
		a := loopbackOf(f)
		if listen {
			a = unspecifiedOf(f)
		}
		return netip.AddrPortFrom(a, uint16(port)), nil
	}
	addrs, err := n.Resolve(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for _, a := range addrs {
		a = a.Unmap()
		if want == 0 || (want == 4) == a.Is4() {
			return netip.AddrPortFrom(a, uint16(port)), nil
		}
	}
	return netip.AddrPort{}, &net.AddrError{Err: "no suitable address", Addr: host}
}

// Dial connects to address ("host:port") on network "tcp", "tcp4" or
// "tcp6" and returns a *Conn. It is DialContext without a context.
func (n *Net) Dial(network, address string) (net.Conn, error) {
	return n.DialContext(context.Background(), network, address)
}

// aLongTimeAgo is a deadline in the past, set to end a pending connect
// when its context is done (as package net does).
var aLongTimeAgo = time.Unix(1, 0)

// DialContext is Dial bounded by ctx. It has the signature of
// net.Dialer.DialContext, so it plugs into http.Transport and other
// dialer hooks as it is:
//
//	client := &http.Client{Transport: &http.Transport{DialContext: n.DialContext}}
//
// A connect completes at once unless the listener's backlog is full; ctx
// being done (cancelled or past its deadline) before it completes fails
// the dial with ctx's error inside a *net.OpError, so errors.Is(err,
// context.DeadlineExceeded) and errors.Is(err, context.Canceled) hold.
// With a world, ctx is only looked at before connecting: its deadline is
// on the time package's clock, not the world's, and a cancellation would
// come from outside the world's schedule.
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := n.resolveAddr(network, address, false)
	if err != nil || !isTCP(network) {
		if err == nil {
			err = net.UnknownNetworkError(network)
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	raddr := net.TCPAddrFromAddrPort(ap)
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	s, err := n.NewTCP(familyOf(ap.Addr()))
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	stop := func() bool { return true }
	var ended chan struct{}
	if n.w == nil && ctx.Done() != nil {
		ended = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			n.endConnect(s, ap)
			close(ended)
		})
	}
	err = s.Connect(ap)
	if !stop() {
		// ctx ended during the connect: wait until the deadline is set,
		// so that resetting it below is the last word.
		<-ended
		if err != nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		s.DecRef()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	s.SetWriteDeadline(time.Time{})
	return NewConn(s), nil
}

// endConnect makes a connect of s to remote that waits for backlog space
// give up at once: its deadline passes, and the listener's queue it waits
// on is woken (the others waiting there look again and wait on).
func (n *Net) endConnect(s *TCPSocket, remote netip.AddrPort) {
	n.lock()
	defer n.mu.Unlock()
	s.wrDeadline = aLongTimeAgo
	if l := n.findListenerLocked(s.fam, remote); l != nil {
		l.acceptQ.Wake()
	}
}

// Listen binds and listens on address (port 0: ephemeral) and returns a
// *Listener. network is "tcp", "tcp4" or "tcp6".
func (n *Net) Listen(network, address string) (net.Listener, error) {
	ap, err := n.resolveAddr(network, address, true)
	if err != nil || !isTCP(network) {
		if err == nil {
			err = net.UnknownNetworkError(network)
		}
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	s, err := n.NewTCP(familyOf(ap.Addr()))
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	err = s.Bind(ap)
	if err == nil {
		err = s.Listen()
	}
	if err != nil {
		s.DecRef()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	return NewListener(s), nil
}

// ListenPacket binds a UDP socket to address and returns a *PacketConn.
// network is "udp", "udp4" or "udp6".
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	ap, err := n.resolveAddr(network, address, true)
	if err != nil || isTCP(network) {
		if err == nil {
			err = net.UnknownNetworkError(network)
		}
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	u, err := n.NewUDP(familyOf(ap.Addr()))
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.UDPAddrFromAddrPort(ap), Err: err}
	}
	if err := u.Bind(ap); err != nil {
		u.DecRef()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.UDPAddrFromAddrPort(ap), Err: err}
	}
	return NewPacketConn(u), nil
}

func isTCP(network string) bool {
	return network == "tcp" || network == "tcp4" || network == "tcp6"
}

var (
	_ net.Conn       = (*Conn)(nil)
	_ net.Listener   = (*Listener)(nil)
	_ net.PacketConn = (*PacketConn)(nil)
)
