package vnet

import (
	"net/netip"
	"time"

	"github.com/wasisim/wasisim/internal/wait"
	"github.com/wasisim/wasisim/sim"
)

// UDPState is the state of a UDP socket.
type UDPState uint8

// The UDP socket states.
const (
	UDPUnbound   UDPState = iota // created, no local address
	UDPBound                     // bound, sends to any address
	UDPConnected                 // bound with a default remote address
	UDPClosed                    // released
)

var udpStateNames = [...]string{"unbound", "bound", "connected", "closed"}

// String returns the lower-case state name.
func (s UDPState) String() string {
	if int(s) < len(udpStateNames) {
		return udpStateNames[s]
	}
	return "state(" + itoa(int(s)) + ")"
}

type datagram struct {
	data []byte
	from netip.AddrPort
}

// UDPSocket is a simulated UDP socket, reference-counted like TCPSocket:
// the last DecRef frees its port binding.
type UDPSocket struct {
	sockRefs
	id  uint64
	fam Family

	state         UDPState
	local, remote netip.AddrPort
	bind          *binding
	opts          sockOpts
	// wildcard: the socket was bound to the unspecified address and a
	// connect narrowed it to the source address of the route to the peer;
	// Disconnect widens it again.
	wildcard bool

	queue   []datagram
	queued  int // bytes in queue
	dropped uint64
	pendErr error // ICMP-like error reported by the next Receive
	q       wait.Queue

	rdDeadline time.Time
}

// NewUDP makes an unbound UDP socket of the family with one reference.
func (n *Net) NewUDP(f Family) (*UDPSocket, error) {
	if f > IPv6 {
		return nil, ErrNotSupported
	}
	if err := n.enter(); err != nil {
		return nil, err
	}
	n.lock()
	defer n.mu.Unlock()
	id := n.newIDLocked()
	u := &UDPSocket{id: id, fam: f, opts: n.defaultOpts()}
	u.init(n, id, "udp#"+itoa(int(id)))
	u.q = n.newWaiter(u.name + " receive")
	if n.live == nil {
		n.live = map[uint64]liveSocket{}
	}
	n.live[id] = u
	if n.tracing() {
		n.event("socket", u.name, f.String())
	}
	return u, nil
}

// ID is the socket's number (shared sequence with TCP sockets).
func (u *UDPSocket) ID() uint64 { return u.id }

// Family is the socket's address family.
func (u *UDPSocket) Family() Family { return u.fam }

// State is the socket's current state.
func (u *UDPSocket) State() UDPState {
	u.n.lock()
	defer u.n.mu.Unlock()
	return u.state
}

// DecRef drops a reference; the last one releases the socket (frees the
// port, discards queued datagrams, wakes waiters). DecRef on a released
// socket is a misuse, as for TCPSocket.
func (u *UDPSocket) DecRef() error { return u.decRef(u.releaseLocked) }

// releaseLocked performs the release effects and returns the hooks to run
// after unlocking.
//
// Preconditions: n.mu is held.
func (u *UDPSocket) releaseLocked() []func() {
	u.n.touch(netObj, sim.Write) // UDP calls take the whole network (see netObj)
	n := u.n
	detail := ""
	if u.bind != nil {
		n.unbindLocked(UDP, u.fam, u.bind)
		if n.tracing() {
			detail = "unbind " + netip.AddrPortFrom(u.bind.addr, u.bind.port).String()
		}
		u.bind = nil
	}
	u.state = UDPClosed
	u.queue = nil
	u.queued = 0
	delete(n.live, u.id)
	n.notifyLocked(u.q)
	n.event("release", u.name, detail)
	return u.rc.TakeHooksLocked()
}

// Close is DecRef, for io.Closer.
func (u *UDPSocket) Close() error { return u.DecRef() }

// describeLocked is the socket's line in the leak report (Net.Live).
//
// Preconditions: n.mu is held.
func (u *UDPSocket) describeLocked() string {
	d := u.name + " " + u.state.String()
	switch u.state {
	case UDPBound:
		d += " " + u.local.String()
	case UDPConnected:
		d += " " + u.local.String() + "->" + u.remote.String()
	}
	return d + " refs=" + itoa(int(u.rc.RefsLocked()))
}

// Bind binds the socket (port 0: ephemeral). UDP ports are never shared:
// an overlapping holder is address-in-use. Other errors as TCPSocket.Bind.
func (u *UDPSocket) Bind(local netip.AddrPort) error {
	n := u.n
	if err := n.enter(); err != nil {
		return err
	}
	n.lock()
	defer n.mu.Unlock()
	if u.state != UDPUnbound {
		return ErrInvalidState
	}
	addr := stripZone(local.Addr())
	if err := checkBindAddr(u.fam, addr); err != nil {
		return err
	}
	return u.bindLocked(addr, local.Port())
}

// bindLocked binds the socket to addr:port (port 0: ephemeral).
//
// Preconditions: n.mu is held.
func (u *UDPSocket) bindLocked(addr netip.Addr, port uint16) error {
	n := u.n
	b, err := n.bindPortLocked(UDP, u.fam, addr, port, u.id, nil, u)
	if err != nil {
		return err
	}
	u.bind = b
	u.local = netip.AddrPortFrom(addr, b.port)
	u.state = UDPBound
	n.notifyLocked(nil)
	if n.tracing() {
		n.event("bind", u.name, u.local.String())
	}
	return nil
}

// Connect sets the default remote address (repeatable, the last one
// wins), binding implicitly when unbound. Afterwards only datagrams from
// remote are received, and a send to a port nobody holds makes a later
// Receive fail with connection-refused. Argument errors leave the socket
// as it was. As on Linux, a socket bound to the unspecified address is
// narrowed to the source address of the route to remote (the loopback
// address of its family): LocalAddr reports it, and the socket receives
// only on it until Disconnect widens it again.
func (u *UDPSocket) Connect(remote netip.AddrPort) error {
	n := u.n
	if err := n.enter(); err != nil {
		return err
	}
	n.lock()
	defer n.mu.Unlock()
	if u.state == UDPClosed {
		return ErrInvalidState
	}
	remote = netip.AddrPortFrom(stripZone(remote.Addr()), remote.Port())
	if err := checkRemote(u.fam, remote); err != nil {
		return err
	}
	if u.state == UDPUnbound {
		if err := u.bindLocked(loopbackOf(u.fam), 0); err != nil {
			return err
		}
	}
	if u.local.Addr().IsUnspecified() {
		u.rebindLocked(loopbackOf(u.fam))
		u.wildcard = true
	}
	u.remote = remote
	u.state = UDPConnected
	u.pendErr = nil
	n.notifyLocked(nil)
	if n.tracing() {
		n.event("connect", u.name, remote.String())
	}
	return nil
}

// Disconnect removes the default remote address; invalid-state unless
// connected.
func (u *UDPSocket) Disconnect() error {
	n := u.n
	if err := n.enter(); err != nil {
		return err
	}
	n.lock()
	defer n.mu.Unlock()
	if u.state != UDPConnected {
		return ErrInvalidState
	}
	u.state = UDPBound
	u.remote = netip.AddrPort{}
	u.pendErr = nil
	if u.wildcard {
		u.rebindLocked(unspecifiedOf(u.fam))
		u.wildcard = false
	}
	n.notifyLocked(nil)
	return nil
}

// rebindLocked moves the socket's binding to addr, keeping its port. No
// other socket can hold addr and the port: UDP bindings never overlap.
//
// Preconditions: n.mu is held; the socket is bound.
func (u *UDPSocket) rebindLocked(addr netip.Addr) {
	n := u.n
	t := n.tableLocked(UDP, u.fam)
	t.Delete(u.bind)
	u.bind.addr = addr
	t.ReplaceOrInsert(u.bind)
	u.local = netip.AddrPortFrom(addr, u.local.Port())
	if n.tracing() {
		n.event("bind", u.name, u.local.String())
	}
}

// LocalAddr is the bound address; invalid-state when unbound or closed.
func (u *UDPSocket) LocalAddr() (netip.AddrPort, error) {
	u.n.lock()
	defer u.n.mu.Unlock()
	if u.state == UDPUnbound || u.state == UDPClosed {
		return netip.AddrPort{}, ErrInvalidState
	}
	return u.local, nil
}

// RemoteAddr is the connected address; invalid-state unless connected.
func (u *UDPSocket) RemoteAddr() (netip.AddrPort, error) {
	u.n.lock()
	defer u.n.mu.Unlock()
	if u.state != UDPConnected {
		return netip.AddrPort{}, ErrInvalidState
	}
	return u.remote, nil
}

// Send sends one datagram to *to, or to the connected address when to is
// nil, binding implicitly when unbound. It never blocks: a full receive
// queue drops the datagram (counted by the receiver's Dropped).
// Errors: datagram-too-large over MaxDatagramSize; invalid-argument for
// no destination, a destination other than the connected one, or a bad
// address; remote-unreachable for non-loopback destinations.
func (u *UDPSocket) Send(data []byte, to *netip.AddrPort) error {
	n := u.n
	if err := n.enter(); err != nil {
		return err
	}
	n.lock()
	defer n.mu.Unlock()
	if u.state == UDPClosed {
		return ErrInvalidState
	}
	if len(data) > MaxDatagramSize {
		return ErrDatagramTooLarge
	}
	var dst netip.AddrPort
	switch {
	case to != nil:
		dst = netip.AddrPortFrom(stripZone(to.Addr()), to.Port())
		if err := checkRemote(u.fam, dst); err != nil {
			return err
		}
		if u.state == UDPConnected && dst != u.remote {
			return ErrInvalidArgument
		}
	case u.state == UDPConnected:
		dst = u.remote
	default:
		return ErrInvalidArgument
	}
	if u.state == UDPUnbound {
		if err := u.bindLocked(unspecifiedOf(u.fam), 0); err != nil {
			return err
		}
	}
	from := u.local
	if from.Addr().IsUnspecified() {
		from = netip.AddrPortFrom(loopbackOf(u.fam), from.Port())
	}
	r := n.findUDPLocked(u.fam, dst)
	if r == nil {
		if u.state == UDPConnected {
			u.pendErr = ErrConnectionRefused
			n.notifyLocked(u.q)
		}
		if n.tracing() {
			n.event("unreachable", u.name, dst.String())
		}
		return nil
	}
	if r.state == UDPConnected && r.remote != from {
		return nil // a connected socket ignores other senders
	}
	if len(r.queue) >= n.opt.UDPQueueLen || r.opts.rcvSet && uint64(r.queued) > r.opts.rcvBuf {
		r.dropped++
		if n.tracing() {
			n.event("drop", r.name, "from "+u.name+", queue full")
		}
		return nil
	}
	r.queue = append(r.queue, datagram{data: append([]byte(nil), data...), from: from})
	r.queued += len(data)
	n.notifyLocked(r.q)
	if n.tracing() {
		n.event("datagram", r.name, itoa(len(data))+" bytes from "+u.name)
	}
	return nil
}

// Receive returns the oldest queued datagram and its sender, waiting for
// one (bounded by the read deadline: timeout). A pending ICMP-like error
// (connection-refused) is reported first, once. invalid-state when
// unbound or closed.
func (u *UDPSocket) Receive() ([]byte, netip.AddrPort, error) { return u.receive(true) }

// TryReceive is Receive that returns ErrWouldBlock instead of waiting.
func (u *UDPSocket) TryReceive() ([]byte, netip.AddrPort, error) { return u.receive(false) }

func (u *UDPSocket) receive(block bool) ([]byte, netip.AddrPort, error) {
	n := u.n
	if err := n.enter(); err != nil {
		return nil, netip.AddrPort{}, err
	}
	n.lock()
	defer n.mu.Unlock()
	for {
		if u.state == UDPUnbound || u.state == UDPClosed {
			return nil, netip.AddrPort{}, ErrInvalidState
		}
		if n.expired(u.rdDeadline) {
			return nil, netip.AddrPort{}, ErrTimeout
		}
		if err := u.pendErr; err != nil {
			u.pendErr = nil
			return nil, netip.AddrPort{}, err
		}
		if len(u.queue) > 0 {
			d := u.queue[0]
			u.queue[0] = datagram{}
			u.queue = u.queue[1:]
			u.queued -= len(d.data)
			n.notifyLocked(nil)
			return d.data, d.from, nil
		}
		if !block {
			return nil, netip.AddrPort{}, ErrWouldBlock
		}
		timedOut, err := u.q.Wait(n.locker, "", u.rdDeadline)
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		if timedOut && len(u.queue) == 0 && u.pendErr == nil && u.state != UDPClosed {
			return nil, netip.AddrPort{}, ErrTimeout
		}
	}
}

// Readable reports whether Receive would return without waiting.
func (u *UDPSocket) Readable() bool {
	u.n.lock()
	defer u.n.mu.Unlock()
	return u.state == UDPUnbound || u.state == UDPClosed || len(u.queue) > 0 || u.pendErr != nil
}

// Writable is always true: Send never waits.
func (u *UDPSocket) Writable() bool { return true }

// Dropped is the number of datagrams dropped because the queue was full.
func (u *UDPSocket) Dropped() uint64 {
	u.n.lock()
	defer u.n.mu.Unlock()
	return u.dropped
}

// Queued is the number of datagrams waiting to be received.
func (u *UDPSocket) Queued() int {
	u.n.lock()
	defer u.n.mu.Unlock()
	return len(u.queue)
}

// SetReadDeadline bounds Receive (zero: none); virtual time in world mode.
func (u *UDPSocket) SetReadDeadline(t time.Time) {
	u.n.lock()
	defer u.n.mu.Unlock()
	u.rdDeadline = t
	u.q.Wake()
}

func (u *UDPSocket) opt(f func(o *sockOpts)) error {
	u.n.lock()
	defer u.n.mu.Unlock()
	if u.state == UDPClosed {
		return ErrInvalidState
	}
	f(&u.opts)
	return nil
}

func (u *UDPSocket) argErr() error {
	if u.State() == UDPClosed {
		return ErrInvalidState
	}
	return ErrInvalidArgument
}

// UnicastHopLimit reports the hop limit (default 64).
func (u *UDPSocket) UnicastHopLimit() (v uint8, err error) {
	err = u.opt(func(o *sockOpts) { v = o.hopLimit })
	return
}

// SetUnicastHopLimit sets the hop limit; 0 is invalid-argument.
func (u *UDPSocket) SetUnicastHopLimit(v uint8) error {
	if v == 0 {
		return u.argErr()
	}
	return u.opt(func(o *sockOpts) { o.hopLimit = v })
}

// ReceiveBufferSize reports SO_RCVBUF (default Options.BufferSize). Once
// set, it bounds the receive queue: as on Linux, which compares before
// adding, a datagram is dropped while the bytes already queued exceed it.
// Until then only Options.UDPQueueLen bounds the queue.
func (u *UDPSocket) ReceiveBufferSize() (v uint64, err error) {
	err = u.opt(func(o *sockOpts) { v = o.rcvBuf })
	return
}

// SetReceiveBufferSize sets SO_RCVBUF: 0 is invalid-argument, others clamped.
func (u *UDPSocket) SetReceiveBufferSize(v uint64) error {
	if v == 0 {
		return u.argErr()
	}
	return u.opt(func(o *sockOpts) {
		o.rcvBuf = clampU64(v, MinSocketBufferSize, MaxSocketBufferSize)
		o.rcvSet = true
	})
}

// SendBufferSize reports SO_SNDBUF (default Options.BufferSize). It
// bounds nothing: a datagram on loopback goes straight to the receiver's
// queue and never waits in a send queue, which is all SO_SNDBUF limits
// on Linux.
func (u *UDPSocket) SendBufferSize() (v uint64, err error) {
	err = u.opt(func(o *sockOpts) { v = o.sndBuf })
	return
}

// SetSendBufferSize sets SO_SNDBUF: 0 is invalid-argument, others clamped.
func (u *UDPSocket) SetSendBufferSize(v uint64) error {
	if v == 0 {
		return u.argErr()
	}
	return u.opt(func(o *sockOpts) { o.sndBuf = clampU64(v, MinSocketBufferSize, MaxSocketBufferSize) })
}
