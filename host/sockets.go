package host

import (
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// tcpSocket is the object behind a tcp-socket handle.
type tcpSocket struct {
	handleRef
	s        *vnet.TCPSocket
	sent     bool // send may be called at most once
	received bool // receive likewise
}

func (t *tcpSocket) String() string { return "tcp-socket " + t.r.Shared().Name() }

// udpSocket is the object behind a udp-socket handle.
type udpSocket struct {
	handleRef
	s *vnet.UDPSocket
}

func (u *udpSocket) String() string { return "udp-socket " + u.r.Shared().Name() }

// adoptTCP starts tracking a new socket for the handle h, taking over the
// creator's reference.
func (in *Instance) adoptTCP(s *vnet.TCPSocket, h Handle) *ref {
	so := in.h.adopt(s, s.String(), holder{what: "tcp-socket", inst: in, h: h})
	return so.First()
}

// NewTCPSocket is the tcp-socket constructor.
func (in *Instance) NewTCPSocket(f vnet.Family) (Handle, error) {
	in.h.boundary()
	if err := in.check("tcp-socket.new"); err != nil {
		return 0, err
	}
	if err := in.newSocketAllowed(in.policy.DenyTCP, "tcp-socket.create"); err != nil {
		return 0, err
	}
	s, err := in.h.net.NewTCP(f)
	if err != nil {
		return 0, err
	}
	return in.insertTCP(s), nil
}

// insertTCP makes an own tcp-socket handle for a socket, adopting the
// reference its creator (NewTCP, an accept) gave.
func (in *Instance) insertTCP(s *vnet.TCPSocket) Handle {
	h := Handle(len(in.table) + 1)
	return in.insert(KindTCPSocket, &tcpSocket{handleRef: handleRef{in.adoptTCP(s, h)}, s: s})
}

func (in *Instance) tcp(sock Handle, call string) (*tcpSocket, error) {
	return plainSelf[*tcpSocket](in, sock, KindTCPSocket, "tcp-socket."+call)
}

// Bind is tcp-socket.bind.
func (in *Instance) Bind(sock Handle, local netip.AddrPort) error {
	t, err := in.tcp(sock, "bind")
	if err != nil {
		return err
	}
	if err := in.deny(in.policy.DenyBind, "tcp-socket.bind"); err != nil {
		return err
	}
	return t.s.Bind(local)
}

// Connect is tcp-socket.connect, an async func: the socket is lent until the
// connection is established or fails (then the socket is closed).
func (in *Instance) Connect(sock Handle, remote netip.AddrPort) error {
	const call = "tcp-socket.connect"
	t, end, err := lentSelf[*tcpSocket](in, sock, KindTCPSocket, call)
	if err != nil {
		return err
	}
	defer end()
	if err := in.deny(in.policy.DenyConnect, call); err != nil {
		return err
	}
	return in.ended(call, t.s.Connect(remote))
}

// Listen is tcp-socket.listen: it returns a perpetual stream of accepted
// sockets. The stream keeps the listener alive (and its port bound) even if
// the tcp-socket handle is dropped; the accepted sockets are new objects
// that do not reference the listener.
func (in *Instance) Listen(sock Handle) (Handle, error) {
	t, err := in.tcp(sock, "listen")
	if err != nil {
		return 0, err
	}
	if err := in.deny(in.policy.DenyListen, "tcp-socket.listen"); err != nil {
		return 0, err
	}
	if err := t.s.Listen(); err != nil {
		return 0, err
	}
	h := in.h
	s := newStream[*vnet.TCPSocket](h, "listen of "+t.r.Shared().Name())
	s.produced = true
	keepAlive(t.r.Shared(), s, nil)
	l := t.s
	n := h.net
	s.whenReaderDropped(n.Wake)
	h.w.Go("listen "+t.r.Shared().Name(), func(*sim.Task) error {
		defer s.dropWriter()
		for {
			// Accept only when a guest is reading: connections wait in the
			// backlog, as they would in the kernel.
			probe := s.startWrite(nil)
			if err := s.wait(probe); err != nil {
				return err
			}
			if probe.res.Status == Dropped {
				return nil
			}
			if s.touch(); s.rdDrop {
				return nil
			}
			if in.atHandleLimit() {
				// Like accept failing with EMFILE: the connection waits
				// in the backlog until the instance drops a handle (which
				// wakes the network's waiters); nothing changes between
				// the check and the wait.
				if err := n.WaitChange("a handle of "+in.name+" (at its limit) to accept on "+l.String(), time.Time{}); err != nil {
					return err
				}
				continue
			}
			c, err := l.TryAccept()
			if errors.Is(err, vnet.ErrWouldBlock) {
				// Nothing changes between TryAccept and the wait (one task
				// runs at a time, and this one goes on), so waiting for the
				// next change misses none.
				if err := n.WaitChange("accept on "+l.String(), time.Time{}); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return nil // the listener is gone: end the stream
			}
			if _, dropped, err := s.hostWrite([]*vnet.TCPSocket{c}); err != nil || dropped {
				c.DecRef() //nolint:errcheck // nobody took it: reset its peer
				return err
			}
		}
	}).Annotated() // host code: its accesses are recorded (footprint.go)
	return in.insert(KindStreamReader, &readEnd[*vnet.TCPSocket]{s: s}), nil
}

// Accept reads one accepted socket from a listen stream (a stream.read of
// length 1 on stream<tcp-socket>); the socket becomes an own handle of the
// instance.
func (in *Instance) Accept(listenStream Handle) (Handle, CopyResult, error) {
	hs, res, err := in.ReadSockets(listenStream, 1)
	if err != nil || len(hs) == 0 {
		return 0, res, err
	}
	return hs[0], res, nil
}

// ReadSockets reads up to n accepted sockets from a listen stream.
func (in *Instance) ReadSockets(h Handle, n int) ([]Handle, CopyResult, error) {
	if err := startRead[*vnet.TCPSocket](in, h, n); err != nil {
		return nil, CopyResult{}, err
	}
	socks, res, err := finishRead[*vnet.TCPSocket](in, h, false)
	if err != nil {
		return nil, res, err
	}
	return in.received(socks).([]Handle), res, nil
}

// Send is tcp-socket.send(data). It consumes the stream and transmits it;
// dropping the stream's writable end is a FIN (shutdown of writing). Under
// P3 it returns a future at once and the socket may be dropped meanwhile;
// under P3AsyncWrite a subtask, with the socket lent until the stream is
// consumed. It may be called once; later calls get an err(invalid-state)
// future and their stream is dropped.
func (in *Instance) Send(sock, data Handle) (Handle, error) {
	const call = "tcp-socket.send"
	t, endLend, err := writerSelf[*tcpSocket](in, sock, KindTCPSocket, call)
	if err != nil {
		return 0, err
	}
	s, f, result, err := in.input(data, call, t.r.Shared(), "send of "+t.r.Shared().Name(), endLend)
	if err != nil {
		return 0, err
	}
	if t.sent || t.s.State() != vnet.Connected {
		refuse(s, f, vnet.ErrInvalidState)
		return result, nil
	}
	t.sent = true
	sk := t.s
	in.consume("send "+t.r.Shared().Name(), s, f, func(buf []byte) error {
		for len(buf) > 0 {
			n, err := sk.Write(buf)
			if err != nil {
				return err
			}
			buf = buf[n:]
		}
		return nil
	}, sk.ShutdownWrite)
	return result, nil
}

// Receive is tcp-socket.receive: a stream of the bytes the peer sends and a
// future of the result (ok at a normal end, err(connection-reset) …).
// Dropping the stream early shuts down reading (unread data is discarded)
// and the future resolves ok. It may be called once; later calls get an
// empty stream and an err(invalid-state) future.
func (in *Instance) Receive(sock Handle) (data, result Handle, err error) {
	t, err := in.tcp(sock, "receive")
	if err != nil {
		return 0, 0, err
	}
	s, f, data, result := output[byte](in, t.r.Shared(), "receive of "+t.r.Shared().Name())
	if t.received || t.s.State() != vnet.Connected {
		s.dropWriter()
		f.resolve(vnet.ErrInvalidState)
		return data, result, nil
	}
	t.received = true
	sk := t.s
	// A guest that drops the stream early shuts down reading, which also
	// wakes a producer blocked in Read.
	s.whenReaderDropped(func() { sk.ShutdownRead() }) //nolint:errcheck
	var buf []byte
	produce(in, "receive "+t.r.Shared().Name(), s, f, func() ([]byte, error) {
		if buf == nil {
			buf = getChunk(in.h.opt.Chunk)
		}
		n, err := sk.Read(buf)
		if err != nil && n == 0 {
			putChunk(buf) // the last read: the stream copied every byte before
			buf = nil
			return nil, err
		}
		return buf[:n], err
	}, nil)
	return data, result, nil
}

// chunks recycles the buffers receive reads into: a host copy is a
// rendezvous, so a buffer is free again once its bytes were handed over.
// Runs of an exploration make thousands of receives each.
var chunks sync.Pool

func getChunk(n int) []byte {
	if p, ok := chunks.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putChunk(b []byte) { chunks.Put(&b) }

// LocalAddress is tcp-socket.get-local-address.
func (in *Instance) LocalAddress(sock Handle) (netip.AddrPort, error) {
	t, err := in.tcp(sock, "get-local-address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	return t.s.LocalAddr()
}

// RemoteAddress is tcp-socket.get-remote-address.
func (in *Instance) RemoteAddress(sock Handle) (netip.AddrPort, error) {
	t, err := in.tcp(sock, "get-remote-address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	return t.s.RemoteAddr()
}

// IsListening is tcp-socket.get-is-listening.
func (in *Instance) IsListening(sock Handle) (bool, error) {
	t, err := in.tcp(sock, "get-is-listening")
	if err != nil {
		return false, err
	}
	return t.s.IsListening(), nil
}

// AddressFamily is tcp-socket.get-address-family.
func (in *Instance) AddressFamily(sock Handle) (vnet.Family, error) {
	t, err := in.tcp(sock, "get-address-family")
	if err != nil {
		return 0, err
	}
	return t.s.Family(), nil
}

// Socket returns the vnet socket behind a tcp-socket handle, for tests and
// host code; it does not lend the handle.
func (in *Instance) Socket(sock Handle) (*vnet.TCPSocket, error) {
	if err := in.h.enter(); err != nil {
		return nil, err
	}
	if in.KindOf(sock) != KindTCPSocket {
		return nil, errors.New("host: handle " + strconv.Itoa(int(sock)) + " of " + in.name + " is not a live tcp-socket")
	}
	return in.table[sock-1].obj.(*tcpSocket).s, nil
}

// ---- UDP ----

// NewUDPSocket is the udp-socket constructor.
func (in *Instance) NewUDPSocket(f vnet.Family) (Handle, error) {
	in.h.boundary()
	if err := in.check("udp-socket.new"); err != nil {
		return 0, err
	}
	if err := in.newSocketAllowed(in.policy.DenyUDP, "udp-socket.create"); err != nil {
		return 0, err
	}
	s, err := in.h.net.NewUDP(f)
	if err != nil {
		return 0, err
	}
	h := Handle(len(in.table) + 1)
	so := in.h.adopt(s, s.String(), holder{what: "udp-socket", inst: in, h: h})
	return in.insert(KindUDPSocket, &udpSocket{handleRef: handleRef{so.First()}, s: s}), nil
}

func (in *Instance) udp(sock Handle, call string) (*udpSocket, func(), error) {
	return lentSelf[*udpSocket](in, sock, KindUDPSocket, "udp-socket."+call)
}

// udpPlain is the self of a plain udp-socket method: nothing is lent.
func (in *Instance) udpPlain(sock Handle, call string) (*udpSocket, error) {
	return plainSelf[*udpSocket](in, sock, KindUDPSocket, "udp-socket."+call)
}

// UDPLocalAddress is udp-socket.get-local-address.
func (in *Instance) UDPLocalAddress(sock Handle) (netip.AddrPort, error) {
	u, err := in.udpPlain(sock, "get-local-address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	return u.s.LocalAddr()
}

// UDPRemoteAddress is udp-socket.get-remote-address.
func (in *Instance) UDPRemoteAddress(sock Handle) (netip.AddrPort, error) {
	u, err := in.udpPlain(sock, "get-remote-address")
	if err != nil {
		return netip.AddrPort{}, err
	}
	return u.s.RemoteAddr()
}

// UDPAddressFamily is udp-socket.get-address-family.
func (in *Instance) UDPAddressFamily(sock Handle) (vnet.Family, error) {
	u, err := in.udpPlain(sock, "get-address-family")
	if err != nil {
		return 0, err
	}
	return u.s.Family(), nil
}

// UDPSocket returns the vnet socket behind a udp-socket handle, for tests
// and host code; it does not lend the handle.
func (in *Instance) UDPSocket(sock Handle) (*vnet.UDPSocket, error) {
	if err := in.h.enter(); err != nil {
		return nil, err
	}
	if in.KindOf(sock) != KindUDPSocket {
		return nil, errors.New("host: handle " + strconv.Itoa(int(sock)) + " of " + in.name + " is not a live udp-socket")
	}
	return in.table[sock-1].obj.(*udpSocket).s, nil
}

// UDPBind is udp-socket.bind.
func (in *Instance) UDPBind(sock Handle, local netip.AddrPort) error {
	u, end, err := in.udp(sock, "bind")
	if err != nil {
		return err
	}
	defer end()
	if err := in.deny(in.policy.DenyBind, "udp-socket.bind"); err != nil {
		return err
	}
	return u.s.Bind(local)
}

// UDPConnect is udp-socket.connect (repeatable; the last one wins).
func (in *Instance) UDPConnect(sock Handle, remote netip.AddrPort) error {
	u, end, err := in.udp(sock, "connect")
	if err != nil {
		return err
	}
	defer end()
	return u.s.Connect(remote)
}

// UDPDisconnect is udp-socket.disconnect.
func (in *Instance) UDPDisconnect(sock Handle) error {
	u, end, err := in.udp(sock, "disconnect")
	if err != nil {
		return err
	}
	defer end()
	return u.s.Disconnect()
}

// UDPSend is udp-socket.send(data, remote) (async func).
func (in *Instance) UDPSend(sock Handle, data []byte, to *netip.AddrPort) error {
	u, end, err := in.udp(sock, "send")
	if err != nil {
		return err
	}
	defer end()
	return u.s.Send(data, to)
}

// UDPReceive is udp-socket.receive (async func): it waits for a datagram.
func (in *Instance) UDPReceive(sock Handle) ([]byte, netip.AddrPort, error) {
	u, end, err := in.udp(sock, "receive")
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	defer end()
	data, from, err := u.s.Receive()
	if err := in.ended("udp-socket.receive", err); err != nil {
		return nil, netip.AddrPort{}, err
	}
	return data, from, nil
}

// ResolveAddresses is ip-name-lookup.resolve-addresses.
func (in *Instance) ResolveAddresses(name string) ([]netip.Addr, error) {
	in.h.boundary()
	if err := in.check("resolve-addresses"); err != nil {
		return nil, err
	}
	if err := in.deny(in.policy.DenyNameLookup, "resolve-addresses"); err != nil {
		return nil, err
	}
	return in.h.net.Resolve(name)
}
