package vnet

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/wasisim/wasisim/internal/wait"
	"github.com/wasisim/wasisim/sim"
)

// TCPState is the state of a TCP socket in the WASI state machine:
// unbound → bound → listening | connecting → connected | closed.
type TCPState uint8

// The TCP socket states.
const (
	Unbound    TCPState = iota // created, no local address
	Bound                      // bound, neither listening nor connecting
	Listening                  // listening: Accept yields connections
	Connecting                 // Connect in progress
	Connected                  // connected: Read and Write move bytes
	Closed                     // a connect failed or the socket was released
)

var tcpStateNames = [...]string{"unbound", "bound", "listening", "connecting", "connected", "closed"}

// String returns the lower-case state name.
func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return "state(" + itoa(int(s)) + ")"
}

// Limits of the socket options. Values outside are clamped (zero is
// invalid-argument); values inside read back exactly.
const (
	MinKeepAliveTime     = time.Second
	MaxKeepAliveTime     = 32767 * time.Second // Linux TCP_KEEPIDLE / TCP_KEEPINTVL maximum
	MaxKeepAliveCount    = 127                 // Linux TCP_KEEPCNT maximum
	MinSocketBufferSize  = 1024
	MaxSocketBufferSize  = 16 << 20
	DefaultHopLimit      = 64
	DefaultKeepAliveIdle = 2 * time.Hour
	DefaultKeepAliveIntv = 75 * time.Second
	DefaultKeepAliveCnt  = 9
)

type sockOpts struct {
	keepAlive  bool
	kaIdle     time.Duration
	kaInterval time.Duration
	kaCount    uint32
	hopLimit   uint8
	rcvBuf     uint64
	sndBuf     uint64
	// rcvSet and sndSet say the buffer sizes were set: until then they are
	// defaults that do not size anything.
	rcvSet, sndSet bool
}

func (n *Net) defaultOpts() sockOpts {
	b := clampU64(uint64(n.opt.BufferSize), MinSocketBufferSize, MaxSocketBufferSize)
	return sockOpts{
		kaIdle:     DefaultKeepAliveIdle,
		kaInterval: DefaultKeepAliveIntv,
		kaCount:    DefaultKeepAliveCnt,
		hopLimit:   DefaultHopLimit,
		rcvBuf:     b,
		sndBuf:     b,
	}
}

func clampU64(v, lo, hi uint64) uint64 {
	return max(lo, min(v, hi))
}

// TCPSocket is a simulated TCP socket. It is reference-counted: New gives
// one reference; IncRef adds holders, and the last DecRef releases the
// socket (frees its port binding, resets a listener's unaccepted
// connections, and closes a connection: FIN if all received data was
// read, otherwise RST, as Linux). Methods in the wrong state return
// ErrInvalidState and change nothing; after release every method returns
// ErrInvalidState.
type TCPSocket struct {
	sockRefs
	id  uint64
	fam Family

	state         TCPState
	local, remote netip.AddrPort
	bind          *binding
	opts          sockOpts
	backlog       int

	pending []*TCPSocket // listener: connections not yet accepted
	acceptQ wait.Queue

	rx, tx         *pipe      // connection: incoming and outgoing bytes
	peer           *TCPSocket // connection: the other end (its options size the pipes)
	rdShut, wrShut bool
	peerReset      bool // wrote to a closed peer: the kernel saw a reset

	rdDeadline, wrDeadline time.Time
}

// lockSock takes the Net's lock for a call that uses the socket's state,
// addresses, options or deadlines only, in mode m (see netObj).
func (s *TCPSocket) lockSock(m sim.Mode) {
	n := s.n
	n.mu.Lock()
	if n.w != nil {
		n.w.Touch(netObj, sim.Read)
		n.w.Touch(sockObj(s.id), m)
	}
}

// lockConn takes the Net's lock for a call that moves data on the
// socket's connection, shuts it down or resets it (see netObj).
func (s *TCPSocket) lockConn() {
	n := s.n
	n.mu.Lock()
	if n.w != nil {
		n.w.Touch(netObj, sim.Read)
		n.w.Touch(sockObj(s.id), sim.Read)
		if s.rx != nil {
			n.w.Touch(connObj(s.rx.conn), sim.Write)
		}
	}
}

// connLocker is the Net's lock as a wait on the socket's connection
// releases and takes it again (through lockConn).
type connLocker struct{ s *TCPSocket }

func (l connLocker) Lock()   { l.s.lockConn() }
func (l connLocker) Unlock() { l.s.n.mu.Unlock() }

// NewTCP makes an unbound TCP socket of the family with one reference.
func (n *Net) NewTCP(f Family) (*TCPSocket, error) {
	if f > IPv6 {
		return nil, ErrNotSupported
	}
	if err := n.enter(); err != nil {
		return nil, err
	}
	n.lockPart()
	defer n.mu.Unlock()
	return n.newTCPLocked(f), nil
}

// newTCPLocked makes an unbound TCP socket with one reference, owned by
// the caller.
//
// Preconditions: n.mu is held.
func (n *Net) newTCPLocked(f Family) *TCPSocket {
	id := n.newIDLocked()
	n.touch(sockObj(id), sim.Write)
	s := &TCPSocket{id: id, fam: f, opts: n.defaultOpts(), backlog: DefaultBacklog}
	s.init(n, id, "tcp#"+itoa(int(id)))
	if n.live == nil {
		n.live = map[uint64]liveSocket{}
	}
	n.live[id] = s
	if n.tracing() {
		n.event("socket", s.name, f.String())
	}
	return s
}

// ID is the socket's number, unique in the Net and assigned in creation
// order (TCP and UDP share the sequence), so it is the same in every run.
func (s *TCPSocket) ID() uint64 { return s.id }

// Family is the socket's address family.
func (s *TCPSocket) Family() Family { return s.fam }

// Net is the network the socket belongs to.
func (s *TCPSocket) Net() *Net { return s.n }

// State is the socket's current state.
func (s *TCPSocket) State() TCPState {
	s.lockSock(sim.Read)
	defer s.n.mu.Unlock()
	return s.state
}

// IsListening reports whether the socket is listening.
func (s *TCPSocket) IsListening() bool { return s.State() == Listening }

// DecRef drops a reference; the last one releases the socket. DecRef on a
// released socket is a misuse: it changes nothing and returns an error
// wrapping ErrInvalidState.
func (s *TCPSocket) DecRef() error {
	return s.decRef(func() []func() { return s.releaseLocked("") })
}

// Close is DecRef, for io.Closer.
func (s *TCPSocket) Close() error { return s.DecRef() }

// releaseLocked performs the release effects and returns the hooks to run
// after unlocking.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) releaseLocked(why string) []func() {
	n := s.n
	n.touch(sockObj(s.id), sim.Write)
	n.touch(portsObj, sim.Write)
	n.touch(idObj, sim.Write)
	n.touch(connsObj, sim.Write)
	if s.rx != nil {
		n.touch(connObj(s.rx.conn), sim.Write)
	}
	s.rc.ReleaseLocked()
	detail := why
	var extra []func()
	if s.bind != nil {
		n.unbindLocked(TCP, s.fam, s.bind)
		if n.tracing() {
			detail = "unbind " + netip.AddrPortFrom(s.bind.addr, s.bind.port).String()
		}
		s.bind = nil
	}
	switch s.state {
	case Listening:
		for _, c := range s.pending {
			n.touch(sockObj(c.id), sim.Write)
			n.touch(connObj(c.rx.conn), sim.Write)
			c.resetLocked("listener released")
			extra = append(extra, c.releaseLocked("unaccepted")...)
		}
		s.pending = nil
		s.acceptQ.Wake()
	case Connected:
		if s.rx.n > 0 && !s.rx.reset {
			s.resetLocked("closed with unread data")
		} else if !s.rx.reset {
			s.tx.fin = true
			s.rx.gone = true
			if n.tracing() {
				n.event("fin", s.name, "close")
			}
		}
		s.rx.q.Wake()
		s.tx.q.Wake()
	}
	s.state = Closed
	delete(n.live, s.id)
	if k := (connKey{s.local, s.remote}); n.conns[k] == s {
		delete(n.conns, k)
	}
	n.notifyLocked(nil)
	n.event("release", s.name, detail)
	return append(s.rc.TakeHooksLocked(), extra...)
}

// resetLocked resets the connection (both directions) from s's side: s
// discards what it has not read; the peer's reads end with
// ErrConnectionReset after the data already delivered, writes fail with
// ErrConnectionReset.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) resetLocked(why string) { s.resetConnLocked(s.rx, why) }

// resetByPeerLocked is a reset that s's peer sends: s keeps the bytes it
// has not read yet (they read before the reset is reported), the peer
// discards its own.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) resetByPeerLocked(why string) { s.resetConnLocked(s.tx, why) }

// resetConnLocked resets both directions and empties discard, the
// receive side of the socket that sends the reset.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) resetConnLocked(discard *pipe, why string) {
	if s.rx == nil || s.rx.reset {
		return
	}
	s.rx.reset = true
	s.tx.reset = true
	discard.drop()
	s.n.notifyLocked(s.rx.q)
	s.n.notifyLocked(s.tx.q)
	if s.n.tracing() {
		s.n.event("reset", s.name, why)
	}
}

// describeLocked is the socket's line in the leak report (Net.Live).
//
// Preconditions: n.mu is held.
func (s *TCPSocket) describeLocked() string {
	d := fmt.Sprintf("%s %s", s.name, s.state)
	switch s.state {
	case Bound, Listening, Connecting:
		d += " " + s.local.String()
	case Connected:
		d += " " + s.local.String() + "->" + s.remote.String()
	}
	return d + " refs=" + itoa(int(s.rc.RefsLocked()))
}

// Bind binds the socket to a local address (port 0: an ephemeral port).
// Errors: invalid-state unless unbound; invalid-argument for the wrong
// family, a multicast/broadcast or IPv4-mapped address; address-not-
// bindable for a non-local address; address-in-use when taken (see
// SharedBindPolicy) or when no ephemeral port is left.
func (s *TCPSocket) Bind(local netip.AddrPort) error {
	n := s.n
	if err := n.enter(); err != nil {
		return err
	}
	n.lockPart()
	defer n.mu.Unlock()
	n.touch(sockObj(s.id), sim.Write)
	n.touch(portsObj, sim.Write)
	if s.state != Unbound {
		return ErrInvalidState
	}
	addr := stripZone(local.Addr())
	if err := checkBindAddr(s.fam, addr); err != nil {
		return err
	}
	return s.bindLocked(addr, local.Port())
}

// bindLocked binds the socket to addr:port (port 0: ephemeral).
//
// Preconditions: n.mu is held.
func (s *TCPSocket) bindLocked(addr netip.Addr, port uint16) error {
	n := s.n
	b, err := n.bindPortLocked(TCP, s.fam, addr, port, s.id, s, nil)
	if err != nil {
		return err
	}
	s.bind = b
	s.local = netip.AddrPortFrom(addr, b.port)
	s.state = Bound
	n.notifyLocked(nil)
	if n.tracing() {
		n.event("bind", s.name, s.local.String())
	}
	return nil
}

// LocalAddr is the bound address (after Connect on an unspecified bind, the
// loopback address used). invalid-state when unbound or closed.
func (s *TCPSocket) LocalAddr() (netip.AddrPort, error) {
	s.lockSock(sim.Read)
	defer s.n.mu.Unlock()
	if s.state == Unbound || s.state == Closed {
		return netip.AddrPort{}, ErrInvalidState
	}
	return s.local, nil
}

// RemoteAddr is the peer's address; invalid-state unless connected.
func (s *TCPSocket) RemoteAddr() (netip.AddrPort, error) {
	s.lockSock(sim.Read)
	defer s.n.mu.Unlock()
	if s.state != Connected {
		return netip.AddrPort{}, ErrInvalidState
	}
	return s.remote, nil
}

// SetListenBacklogSize sets the accept queue length (default 128, clamped
// to MaxBacklog). 0 is invalid-argument; invalid-state when connecting,
// connected or closed. A listening socket's new size applies to later
// connections.
func (s *TCPSocket) SetListenBacklogSize(v uint64) error {
	s.n.lock()
	defer s.n.mu.Unlock()
	switch s.state {
	case Unbound, Bound, Listening:
	default:
		return ErrInvalidState
	}
	if v == 0 {
		return ErrInvalidArgument
	}
	s.backlog = int(min(v, MaxBacklog))
	s.n.notifyLocked(s.acceptQ)
	return nil
}

// Listen makes the socket listen, binding it implicitly to the unspecified
// address and an ephemeral port when unbound. invalid-state unless unbound
// or bound; address-in-use when another socket listens on an overlapping
// address:port or no ephemeral port is left.
func (s *TCPSocket) Listen() error {
	hooks, err := s.listen()
	for _, f := range hooks {
		f(s)
	}
	return err
}

// listen makes the socket listen and returns the Net's OnListen hooks to
// call (on success) after unlocking.
func (s *TCPSocket) listen() ([]func(*TCPSocket), error) {
	n := s.n
	if err := n.enter(); err != nil {
		return nil, err
	}
	n.lockPart()
	defer n.mu.Unlock()
	n.touch(sockObj(s.id), sim.Write)
	n.touch(portsObj, sim.Write)
	switch s.state {
	case Unbound:
		if err := s.bindLocked(unspecifiedOf(s.fam), 0); err != nil {
			return nil, err
		}
	case Bound:
		if n.listenConflictLocked(s.fam, s.bind) {
			return nil, ErrAddressInUse
		}
	default:
		return nil, ErrInvalidState
	}
	s.state = Listening
	s.acceptQ = n.newWaiter(s.name + " accept")
	n.notifyLocked(nil)
	if n.tracing() {
		n.event("listen", s.name, s.local.String())
	}
	return n.onListen, nil
}

// Connect connects to a listening socket, binding implicitly to the
// loopback address and an ephemeral port when unbound. It blocks (in world
// mode it is a scheduling point, and it waits while the listener's backlog
// is full; the write deadline bounds that wait). Argument errors
// (invalid-argument) leave the state unchanged; a failed connect leaves
// the socket closed: connection-refused when nothing listens,
// remote-unreachable for a non-loopback destination, timeout.
// invalid-state when listening, connecting, connected or closed.
func (s *TCPSocket) Connect(remote netip.AddrPort) error {
	n := s.n
	if err := n.enter(); err != nil {
		return err
	}
	parts := func() {
		n.touch(sockObj(s.id), sim.Write)
		n.touch(portsObj, sim.Write)
		n.touch(connsObj, sim.Write)
	}
	n.lockPart()
	defer n.mu.Unlock()
	parts()
	switch s.state {
	case Unbound, Bound:
	default:
		return ErrInvalidState
	}
	remote = netip.AddrPortFrom(stripZone(remote.Addr()), remote.Port())
	if err := checkRemote(s.fam, remote); err != nil && !(err == ErrRemoteUnreachable && n.routesLocked(s, remote)) {
		if err == ErrRemoteUnreachable {
			s.failConnectLocked(err)
		}
		return err
	}
	if s.state == Unbound {
		if err := s.bindLocked(loopbackOf(s.fam), 0); err != nil {
			s.failConnectLocked(err)
			return err
		}
	}
	if s.local.Addr().IsUnspecified() {
		s.local = netip.AddrPortFrom(loopbackOf(s.fam), s.local.Port())
	}
	if n.tupleInUseLocked(s, remote) {
		// Two sockets may share a bound port (implicit SO_REUSEADDR), but
		// not a connection's address and port pair: Linux refuses the
		// second connect with EADDRNOTAVAIL.
		s.failConnectLocked(ErrAddressNotBindable)
		return ErrAddressNotBindable
	}
	s.state = Connecting
	n.notifyLocked(nil)
	if n.tracing() {
		n.event("connect", s.name, s.local.String()+"->"+remote.String())
	}
	if n.w != nil && n.w.Current() != nil {
		n.mu.Unlock()
		func() {
			defer n.lockPart() // also when the task is unwound in Yield
			n.w.Yield()
		}()
	}
	for parts(); ; parts() {
		if s.rc.ReleasedLocked() || s.state != Connecting {
			return ErrInvalidState
		}
		var l *TCPSocket
		if remote.Addr().IsLoopback() {
			l = n.findListenerLocked(s.fam, remote)
		}
		if l == nil {
			if n.routesLocked(s, remote) {
				return s.connectOutsideLocked(remote)
			}
			s.failConnectLocked(ErrConnectionRefused)
			return ErrConnectionRefused
		}
		n.touch(sockObj(l.id), sim.Write)
		if len(l.pending) < l.backlog {
			s.establishLocked(l, remote)
			return nil
		}
		timedOut, err := l.acceptQ.Wait(partLocker{n}, "", s.wrDeadline)
		if err != nil {
			return err
		}
		if timedOut {
			s.failConnectLocked(ErrTimeout)
			return ErrTimeout
		}
	}
}

// shortCopyLocked shortens p when the fault hook draws a short copy.
//
// Preconditions: n.mu is held.
func (n *Net) shortCopyLocked(p []byte, sock, what string) []byte {
	f := n.opt.Faults
	if f == nil || len(p) < 2 || !n.faultLocked(f.ShortRate) {
		return p
	}
	k := 1 + n.randomLocked().IntN(len(p)-1)
	if n.tracing() {
		n.event("fault", sock, what+" "+itoa(k))
	}
	return p[:k]
}

// tupleInUseLocked reports whether another connection still holds s's local
// address and port with remote in the kernel's sense; n.mu is held. A
// lookup in the index of established connections: a connect costs the
// same however many sockets are open.
//
// Preconditions: n.mu is held.
func (n *Net) tupleInUseLocked(s *TCPSocket, remote netip.AddrPort) bool {
	o := n.conns[connKey{s.local, remote}]
	if o == nil || o == s || o.state != Connected {
		return false
	}
	n.touch(connObj(o.rx.conn), sim.Read)
	// A reset connection has left the kernel's table, and one that has
	// seen both FINs is in TIME_WAIT, which loopback reuses.
	return !(o.peerReset || o.rx.reset || o.rx.fin && o.tx.fin)
}

// failConnectLocked closes a socket whose connect failed.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) failConnectLocked(err error) {
	if s.rc.ReleasedLocked() {
		return
	}
	s.state = Closed
	s.n.notifyLocked(nil)
	if s.n.tracing() {
		s.n.event("connect-failed", s.name, err.Error())
	}
}

// establishLocked creates the server side of a connection, in l's accept
// queue (if l is not nil), and returns it.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) establishLocked(l *TCPSocket, remote netip.AddrPort) *TCPSocket {
	n := s.n
	c := n.newTCPLocked(s.fam)
	c.state = Connected
	c.local = remote
	c.remote = s.local
	n.conns1++
	c2s := &pipe{size: n.pipeSize(&c.opts, &s.opts), q: n.newWaiter(c.name + "->" + s.name + " data"), conn: n.conns1}
	s2c := &pipe{size: n.pipeSize(&s.opts, &c.opts), q: n.newWaiter(s.name + "->" + c.name + " data"), conn: n.conns1}
	s.tx, c.rx = s2c, s2c
	s.rx, c.tx = c2s, c2s
	s.peer, c.peer = c, s
	s.remote = remote
	s.state = Connected
	if n.conns == nil {
		n.conns = map[connKey]*TCPSocket{}
	}
	n.conns[connKey{s.local, s.remote}] = s
	n.conns[connKey{c.local, c.remote}] = c
	if l == nil {
		n.notifyLocked(nil)
		if n.tracing() {
			n.event("established", s.name, c.name+" outside the net")
		}
		return c
	}
	l.pending = append(l.pending, c)
	n.notifyLocked(l.acceptQ)
	if n.tracing() {
		n.event("established", s.name, c.name+" queued on "+l.name)
	}
	return c
}

// Accept takes the oldest connection from a listening socket's queue,
// waiting for one (bounded by the read deadline: timeout). The returned
// socket is connected, independent of the listener, holds one reference
// and inherits the listener's options as they are now.
func (s *TCPSocket) Accept() (*TCPSocket, error) { return s.accept(true) }

// TryAccept is Accept that returns ErrWouldBlock instead of waiting.
func (s *TCPSocket) TryAccept() (*TCPSocket, error) { return s.accept(false) }

func (s *TCPSocket) accept(block bool) (*TCPSocket, error) {
	n := s.n
	if err := n.enter(); err != nil {
		return nil, err
	}
	n.lockPart()
	defer n.mu.Unlock()
	for n.touch(sockObj(s.id), sim.Write); ; n.touch(sockObj(s.id), sim.Write) {
		if s.state != Listening {
			return nil, ErrInvalidState
		}
		if s.n.expired(s.rdDeadline) {
			return nil, ErrTimeout
		}
		if len(s.pending) > 0 {
			c := s.pending[0]
			n.touch(sockObj(c.id), sim.Write)
			s.pending[0] = nil
			s.pending = s.pending[1:]
			c.opts = s.opts
			c.resizePipesLocked()
			n.notifyLocked(s.acceptQ)
			if n.tracing() {
				n.event("accept", s.name, c.name)
			}
			return c, nil
		}
		if !block {
			return nil, ErrWouldBlock
		}
		timedOut, err := s.acceptQ.Wait(partLocker{n}, "", s.rdDeadline)
		if err != nil {
			return nil, err
		}
		if timedOut && len(s.pending) == 0 && s.state == Listening {
			return nil, ErrTimeout
		}
	}
}

// Read reads received bytes into p, waiting until at least one is there
// (bounded by the read deadline: timeout). It returns 0, io.EOF after the
// peer shut down writing (or closed) and every byte was read, or after
// ShutdownRead; ErrConnectionReset when the connection was reset (after
// the bytes delivered before the reset). A zero-length p returns 0, nil
// at once. invalid-state unless connected.
func (s *TCPSocket) Read(p []byte) (int, error) { return s.read(p, true) }

// TryRead is Read that returns ErrWouldBlock instead of waiting.
func (s *TCPSocket) TryRead(p []byte) (int, error) { return s.read(p, false) }

func (s *TCPSocket) read(p []byte, block bool) (int, error) {
	n := s.n
	if err := n.enter(); err != nil {
		return 0, err
	}
	s.lockConn()
	defer n.mu.Unlock()
	for {
		if s.state != Connected {
			return 0, ErrInvalidState
		}
		if n.expired(s.rdDeadline) {
			return 0, ErrTimeout
		}
		rx := s.rx
		if s.rdShut {
			return 0, io.EOF
		}
		if rx.n > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			c := rx.read(n.shortCopyLocked(p, s.name, "short read"))
			n.notifyLocked(rx.q)
			return c, nil
		}
		if rx.reset {
			return 0, ErrConnectionReset
		}
		if rx.fin {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		if !block {
			return 0, ErrWouldBlock
		}
		timedOut, err := rx.q.Wait(connLocker{s}, "", s.rdDeadline)
		if err != nil {
			return 0, err
		}
		if timedOut {
			if s.state == Connected && s.rx.n == 0 && !s.rx.reset && !s.rx.fin && !s.rdShut {
				return 0, ErrTimeout
			}
		}
	}
}

// Write copies bytes of p into the connection, waiting while the buffer
// toward the peer is full (bounded by the write deadline: timeout). It
// returns once at least one byte was copied, so progress may be partial;
// callers loop (the net.Conn adapter does). Errors: connection-broken after
// ShutdownWrite or once the peer closed; connection-reset after a reset.
// A zero-length p is a readiness probe. invalid-state unless connected.
func (s *TCPSocket) Write(p []byte) (int, error) { return s.write(p, true) }

// TryWrite is Write that returns ErrWouldBlock instead of waiting.
func (s *TCPSocket) TryWrite(p []byte) (int, error) { return s.write(p, false) }

func (s *TCPSocket) write(p []byte, block bool) (int, error) {
	n := s.n
	if err := n.enter(); err != nil {
		return 0, err
	}
	s.lockConn()
	defer n.mu.Unlock()
	for {
		if s.state != Connected {
			return 0, ErrInvalidState
		}
		tx := s.tx
		if s.wrShut {
			return 0, ErrConnectionBroken
		}
		if tx.gone {
			// The peer's socket is closed: its kernel answers with a reset,
			// which takes the connection out of the kernel's table (its
			// address pair is free again) though queued data still reads.
			s.peerReset = true
			return 0, ErrConnectionBroken
		}
		if tx.reset {
			return 0, ErrConnectionReset
		}
		if n.expired(s.wrDeadline) {
			return 0, ErrTimeout
		}
		if len(p) == 0 {
			return 0, nil
		}
		if f := n.opt.Faults; f != nil {
			if n.faultLocked(f.ResetRate) {
				s.resetLocked("fault")
				return 0, ErrConnectionReset
			}
		}
		if tx.discard {
			if s.rx.fin {
				// The peer shut down both directions: like Linux (RFC
				// 1122), it takes the data and answers with a reset,
				// which frees the connection's address pair.
				s.resetByPeerLocked("data after the peer shut down both directions")
			}
			return len(p), nil
		}
		if sp := tx.space(); sp > 0 {
			q := n.shortCopyLocked(p, s.name, "short write")
			c := tx.write(q[:min(len(q), sp)])
			n.notifyLocked(tx.q)
			return c, nil
		}
		if !block {
			return 0, ErrWouldBlock
		}
		timedOut, err := tx.q.Wait(connLocker{s}, "", s.wrDeadline)
		if err != nil {
			return 0, err
		}
		if timedOut && s.state == Connected && s.tx.space() == 0 {
			return 0, ErrTimeout
		}
	}
}

// ShutdownWrite sends FIN: the peer reads EOF after the buffered bytes;
// later Writes fail with connection-broken. Repeating it is a no-op.
// invalid-state unless connected.
func (s *TCPSocket) ShutdownWrite() error {
	n := s.n
	if err := n.enter(); err != nil {
		return err
	}
	s.lockConn()
	defer n.mu.Unlock()
	if s.state != Connected {
		return ErrInvalidState
	}
	if !s.wrShut {
		s.wrShut = true
		s.tx.fin = true
		n.notifyLocked(s.tx.q)
		if n.tracing() {
			n.event("fin", s.name, "shutdown write")
		}
	}
	return nil
}

// ShutdownRead discards the unread bytes and every byte that arrives
// later; Reads return io.EOF. The peer's writes still succeed, unless
// writing was shut down too: then the first byte that arrives resets the
// connection, as in Linux. Repeating
// it is a no-op. invalid-state unless connected.
func (s *TCPSocket) ShutdownRead() error {
	n := s.n
	if err := n.enter(); err != nil {
		return err
	}
	s.lockConn()
	defer n.mu.Unlock()
	if s.state != Connected {
		return ErrInvalidState
	}
	if !s.rdShut {
		s.rdShut = true
		s.rx.discard = true
		c := s.rx.drop()
		n.notifyLocked(s.rx.q)
		if n.tracing() {
			n.event("shutdown-read", s.name, "discarded "+itoa(c))
		}
	}
	return nil
}

// Reset resets the connection now (as SO_LINGER 0 would on close, or a
// fault): both ends see connection-reset. invalid-state unless connected.
func (s *TCPSocket) Reset() error {
	n := s.n
	if err := n.enter(); err != nil {
		return err
	}
	s.lockConn()
	defer n.mu.Unlock()
	if s.state != Connected {
		return ErrInvalidState
	}
	s.resetLocked("reset")
	return nil
}

// Readable reports whether Read (Accept on a listener) would return
// without waiting: data, EOF or an error is pending. It is true in states
// where Read fails at once (unbound, bound, closed).
func (s *TCPSocket) Readable() bool {
	s.lockConn()
	defer s.n.mu.Unlock()
	switch s.state {
	case Listening:
		return len(s.pending) > 0
	case Connecting:
		return false
	case Connected:
		return s.rdShut || s.rx.n > 0 || s.rx.fin || s.rx.reset
	}
	return true
}

// Writable reports whether Write would return without waiting (space,
// or an error pending); true in states where Write fails at once, false
// while connecting (the connect is still in progress).
func (s *TCPSocket) Writable() bool {
	s.lockConn()
	defer s.n.mu.Unlock()
	switch s.state {
	case Connecting:
		return false
	case Connected:
		tx := s.tx
		return s.wrShut || tx.gone || tx.reset || tx.discard || tx.space() > 0
	}
	return true
}

// Acceptable reports whether Accept would return without waiting.
func (s *TCPSocket) Acceptable() bool {
	s.lockSock(sim.Read)
	defer s.n.mu.Unlock()
	if s.state == Listening {
		return len(s.pending) > 0
	}
	return true
}

// Buffered returns the bytes waiting to be read and the bytes written but
// not yet read by the peer (0, 0 unless connected).
func (s *TCPSocket) Buffered() (unread, unsent int) {
	s.lockConn()
	defer s.n.mu.Unlock()
	if s.state != Connected {
		return 0, 0
	}
	return s.rx.n, s.tx.n
}

// SetReadDeadline bounds Read and Accept (zero: no deadline). In world
// mode t is virtual wall time (World.WallNow). A pending call re-checks
// the new deadline at once.
func (s *TCPSocket) SetReadDeadline(t time.Time) {
	s.lockSock(sim.Write)
	defer s.n.mu.Unlock()
	s.rdDeadline = t
	if s.rx != nil {
		s.rx.q.Wake()
	}
	if s.acceptQ != nil {
		s.acceptQ.Wake()
	}
}

// SetWriteDeadline bounds Write and a Connect waiting for backlog space.
func (s *TCPSocket) SetWriteDeadline(t time.Time) {
	s.lockSock(sim.Write)
	defer s.n.mu.Unlock()
	s.wrDeadline = t
	if s.tx != nil {
		s.tx.q.Wake()
	}
}

// getOpt runs f under the lock unless the socket is closed; the option
// getters and setters all go through it.
func (s *TCPSocket) getOpt(f func(o *sockOpts)) error {
	s.lockSock(sim.Write)
	defer s.n.mu.Unlock()
	if s.state == Closed {
		return ErrInvalidState
	}
	f(&s.opts)
	return nil
}

// KeepAliveEnabled reports SO_KEEPALIVE (default false).
func (s *TCPSocket) KeepAliveEnabled() (v bool, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.keepAlive })
	return
}

// SetKeepAliveEnabled sets SO_KEEPALIVE.
func (s *TCPSocket) SetKeepAliveEnabled(v bool) error {
	return s.getOpt(func(o *sockOpts) { o.keepAlive = v })
}

// KeepAliveIdleTime reports TCP_KEEPIDLE (default 2h).
func (s *TCPSocket) KeepAliveIdleTime() (v time.Duration, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.kaIdle })
	return
}

// SetKeepAliveIdleTime sets TCP_KEEPIDLE: ≤ 0 is invalid-argument, values
// are clamped to [MinKeepAliveTime, MaxKeepAliveTime].
func (s *TCPSocket) SetKeepAliveIdleTime(v time.Duration) error {
	if v <= 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) { o.kaIdle = min(max(v, MinKeepAliveTime), MaxKeepAliveTime) })
}

// KeepAliveInterval reports TCP_KEEPINTVL (default 75s).
func (s *TCPSocket) KeepAliveInterval() (v time.Duration, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.kaInterval })
	return
}

// SetKeepAliveInterval sets TCP_KEEPINTVL: ≤ 0 is invalid-argument, values
// are clamped to [MinKeepAliveTime, MaxKeepAliveTime].
func (s *TCPSocket) SetKeepAliveInterval(v time.Duration) error {
	if v <= 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) { o.kaInterval = min(max(v, MinKeepAliveTime), MaxKeepAliveTime) })
}

// KeepAliveCount reports TCP_KEEPCNT (default 9).
func (s *TCPSocket) KeepAliveCount() (v uint32, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.kaCount })
	return
}

// SetKeepAliveCount sets TCP_KEEPCNT: 0 is invalid-argument, values are
// clamped to MaxKeepAliveCount.
func (s *TCPSocket) SetKeepAliveCount(v uint32) error {
	if v == 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) { o.kaCount = min(v, MaxKeepAliveCount) })
}

// HopLimit reports IP_TTL / IPV6_UNICAST_HOPS (default 64).
func (s *TCPSocket) HopLimit() (v uint8, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.hopLimit })
	return
}

// SetHopLimit sets the hop limit; 0 is invalid-argument.
func (s *TCPSocket) SetHopLimit(v uint8) error {
	if v == 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) { o.hopLimit = v })
}

// ReceiveBufferSize reports SO_RCVBUF (default Options.BufferSize).
func (s *TCPSocket) ReceiveBufferSize() (v uint64, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.rcvBuf })
	return
}

// SetReceiveBufferSize sets SO_RCVBUF: 0 is invalid-argument, values are
// clamped to [MinSocketBufferSize, MaxSocketBufferSize]. It sizes the
// connection's buffer toward this socket (see pipeSize), at once on a
// connected socket.
func (s *TCPSocket) SetReceiveBufferSize(v uint64) error {
	if v == 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) {
		o.rcvBuf = clampU64(v, MinSocketBufferSize, MaxSocketBufferSize)
		o.rcvSet = true
		s.resizePipesLocked()
	})
}

// SendBufferSize reports SO_SNDBUF (default Options.BufferSize).
func (s *TCPSocket) SendBufferSize() (v uint64, err error) {
	err = s.getOpt(func(o *sockOpts) { v = o.sndBuf })
	return
}

// SetSendBufferSize sets SO_SNDBUF: 0 is invalid-argument, values are
// clamped to [MinSocketBufferSize, MaxSocketBufferSize]. It sizes the
// connection's buffer from this socket (see pipeSize), at once on a
// connected socket.
func (s *TCPSocket) SetSendBufferSize(v uint64) error {
	if v == 0 {
		return s.argErr()
	}
	return s.getOpt(func(o *sockOpts) {
		o.sndBuf = clampU64(v, MinSocketBufferSize, MaxSocketBufferSize)
		o.sndSet = true
		s.resizePipesLocked()
	})
}

// pipeSize is the capacity of a connection's buffer from a socket with
// options from to one with options to: the mean of the sender's send
// buffer size and the receiver's receive buffer size, a size that was
// never set counting as Options.BufferSize. On Linux the bytes a writer
// can get ahead of its reader are bounded by both buffers; the mean keeps
// the capacity at Options.BufferSize while neither was set, and lets
// either option move it.
//
// Preconditions: n.mu is held.
func (n *Net) pipeSize(from, to *sockOpts) int {
	snd, rcv := uint64(n.opt.BufferSize), uint64(n.opt.BufferSize)
	if from.sndSet {
		snd = from.sndBuf
	}
	if to.rcvSet {
		rcv = to.rcvBuf
	}
	return int((snd + rcv) / 2)
}

// resizePipesLocked resizes a connected socket's buffers to its and its
// peer's current options.
//
// Preconditions: n.mu is held.
func (s *TCPSocket) resizePipesLocked() {
	if s.rx == nil || s.peer == nil {
		return
	}
	n := s.n
	if s.rx.resize(n.pipeSize(&s.peer.opts, &s.opts)) {
		n.notifyLocked(s.rx.q)
	}
	if s.tx.resize(n.pipeSize(&s.opts, &s.peer.opts)) {
		n.notifyLocked(s.tx.q)
	}
}

// argErr is invalid-argument, or invalid-state on a closed socket (the
// state check comes first, as in every method).
func (s *TCPSocket) argErr() error {
	if s.State() == Closed {
		return ErrInvalidState
	}
	return ErrInvalidArgument
}
