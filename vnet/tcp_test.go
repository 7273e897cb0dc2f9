package vnet

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

// stateSocket builds, in goroutine mode, a socket in the given state. The
// returned cleanup releases everything and waits for helper goroutines.
func stateSocket(t *testing.T, st TCPState) (*Net, *TCPSocket, func()) {
	t.Helper()
	n := New(Options{Seed: 7})
	s := mustTCP(t, n, IPv4)
	var extra []*TCPSocket
	done := make(chan error, 1)
	done <- nil
	switch st {
	case Unbound:
	case Bound:
		must(t, s.Bind(ap("127.0.0.1:0")))
	case Listening:
		must(t, s.Listen())
	case Connecting:
		// A listener whose backlog of 1 is full makes Connect wait.
		l := listener(t, n, "127.0.0.1:0")
		must(t, l.SetListenBacklogSize(1))
		la, _ := l.LocalAddr()
		first := mustTCP(t, n, IPv4)
		must(t, first.Connect(la))
		extra = append(extra, l, first)
		<-done
		go func() { done <- s.Connect(la) }()
		for s.State() != Connecting {
			time.Sleep(time.Millisecond)
		}
	case Connected:
		l := listener(t, n, "127.0.0.1:0")
		c, srv := pair(t, n, l)
		s.DecRef()
		s = c
		extra = append(extra, l, srv)
	case Closed:
		if err := s.Connect(ap("127.0.0.1:9")); !errors.Is(err, ErrConnectionRefused) {
			t.Fatalf("connect to nothing: %v", err)
		}
	}
	if got := s.State(); got != st {
		t.Fatalf("built state %v, want %v", got, st)
	}
	return n, s, func() {
		for _, e := range extra {
			e.DecRef()
		}
		if err := <-done; err != nil && !errors.Is(err, ErrConnectionRefused) {
			t.Errorf("background connect: %v", err)
		}
		s.DecRef()
		if live := n.Live(); len(live) > 0 {
			t.Errorf("leaked: %v", live)
		}
	}
}

// TestTCPStateTable calls every method in every state: a wrong state is
// invalid-state and leaves the state unchanged; a right one is not.
func TestTCPStateTable(t *testing.T) {
	states := []TCPState{Unbound, Bound, Listening, Connecting, Connected, Closed}
	type method struct {
		name string
		ok   []TCPState // states in which the method is allowed
		call func(n *Net, s *TCPSocket) error
	}
	all := states[:5]
	methods := []method{
		{"bind", []TCPState{Unbound}, func(n *Net, s *TCPSocket) error { return s.Bind(ap("127.0.0.1:0")) }},
		{"connect", []TCPState{Unbound, Bound}, func(n *Net, s *TCPSocket) error {
			l := listener(t, n, "127.0.0.1:0")
			defer l.DecRef()
			la, _ := l.LocalAddr()
			return s.Connect(la)
		}},
		{"listen", []TCPState{Unbound, Bound}, func(n *Net, s *TCPSocket) error { return s.Listen() }},
		{"set-listen-backlog-size", []TCPState{Unbound, Bound, Listening}, func(n *Net, s *TCPSocket) error { return s.SetListenBacklogSize(5) }},
		{"accept", []TCPState{Listening}, func(n *Net, s *TCPSocket) error { _, err := s.TryAccept(); return err }},
		{"read", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { _, err := s.TryRead(make([]byte, 4)); return err }},
		{"write", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { _, err := s.TryWrite([]byte("x")); return err }},
		{"shutdown-write", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { return s.ShutdownWrite() }},
		{"shutdown-read", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { return s.ShutdownRead() }},
		{"reset", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { return s.Reset() }},
		{"local-address", []TCPState{Bound, Listening, Connecting, Connected}, func(n *Net, s *TCPSocket) error { _, err := s.LocalAddr(); return err }},
		{"remote-address", []TCPState{Connected}, func(n *Net, s *TCPSocket) error { _, err := s.RemoteAddr(); return err }},
		{"get-hop-limit", all, func(n *Net, s *TCPSocket) error { _, err := s.HopLimit(); return err }},
		{"set-hop-limit", all, func(n *Net, s *TCPSocket) error { return s.SetHopLimit(9) }},
		{"set-keep-alive-enabled", all, func(n *Net, s *TCPSocket) error { return s.SetKeepAliveEnabled(true) }},
		{"set-keep-alive-idle-time", all, func(n *Net, s *TCPSocket) error { return s.SetKeepAliveIdleTime(time.Minute) }},
		{"set-keep-alive-interval", all, func(n *Net, s *TCPSocket) error { return s.SetKeepAliveInterval(time.Minute) }},
		{"set-keep-alive-count", all, func(n *Net, s *TCPSocket) error { return s.SetKeepAliveCount(3) }},
		{"set-receive-buffer-size", all, func(n *Net, s *TCPSocket) error { return s.SetReceiveBufferSize(8192) }},
		{"set-send-buffer-size", all, func(n *Net, s *TCPSocket) error { return s.SetSendBufferSize(8192) }},
		{"zero-option", nil, func(n *Net, s *TCPSocket) error {
			if err := s.SetHopLimit(0); err != ErrInvalidArgument {
				return err
			}
			return ErrInvalidState // only reached when not closed; see below
		}},
	}
	for _, m := range methods {
		for _, st := range states {
			t.Run(m.name+"/"+st.String(), func(t *testing.T) {
				n, s, cleanup := stateSocket(t, st)
				defer cleanup()
				allowed := false
				for _, o := range m.ok {
					allowed = allowed || o == st
				}
				err := m.call(n, s)
				if m.name == "zero-option" {
					// 0 is invalid-argument in every state but closed.
					if st == Closed && err != ErrInvalidState {
						t.Fatalf("zero option on closed: %v", err)
					}
					return
				}
				if allowed {
					if errors.Is(err, ErrInvalidState) {
						t.Fatalf("%s in %v: %v", m.name, st, err)
					}
					return
				}
				if err != ErrInvalidState {
					t.Fatalf("%s in %v: got %v, want invalid-state", m.name, st, err)
				}
				if got := s.State(); got != st {
					t.Fatalf("%s in %v changed the state to %v", m.name, st, got)
				}
			})
		}
	}
}

func TestReleasedSocketIsInvalidState(t *testing.T) {
	n := New(Options{})
	s := mustTCP(t, n, IPv4)
	must(t, s.Bind(ap("127.0.0.1:0")))
	must(t, s.DecRef())
	wantErr(t, s.DecRef(), ErrInvalidState)
	wantErr(t, s.Listen(), ErrInvalidState)
	wantErr(t, s.Connect(ap("127.0.0.1:1")), ErrInvalidState)
	if _, err := s.Read(make([]byte, 1)); err != ErrInvalidState {
		t.Fatal(err)
	}
	if s.TryIncRef() || s.Refs() != 0 || s.State() != Closed {
		t.Fatal("released socket revived")
	}
	s.IncRef() // no-op, no panic
	if s.Refs() != 0 {
		t.Fatal("IncRef revived a released socket")
	}
	called := 0
	s.OnRelease(func() { called++ })
	if called != 1 {
		t.Fatal("OnRelease on a released socket did not run at once")
	}
}

// Wasmtime / WASI test suite: tcp_bind ephemeral port is never 0 and lies in
// the range; an explicit port is kept.
func TestBindEphemeralAndExplicit(t *testing.T) {
	n := New(Options{Seed: 3})
	for _, f := range []Family{IPv4, IPv6} {
		for i := 0; i < 50; i++ {
			s := mustTCP(t, n, f)
			must(t, s.Bind(netip.AddrPortFrom(loopbackOf(f), 0)))
			la, _ := s.LocalAddr()
			if la.Port() == 0 || la.Port() < DefaultEphemeralLow || la.Port() > DefaultEphemeralHigh {
				t.Fatalf("ephemeral port %d", la.Port())
			}
			if la.Addr() != loopbackOf(f) {
				t.Fatalf("local address %v", la)
			}
			defer s.DecRef()
		}
		s := mustTCP(t, n, f)
		must(t, s.Bind(netip.AddrPortFrom(loopbackOf(f), 8080)))
		if la, _ := s.LocalAddr(); la.Port() != 8080 {
			t.Fatalf("explicit port became %v", la)
		}
		if !n.PortBound(TCP, netip.AddrPortFrom(loopbackOf(f), 8080)) {
			t.Fatal("PortBound false for a bound port")
		}
		s.DecRef()
	}
}

func TestEphemeralExhaustion(t *testing.T) {
	n := New(Options{EphemeralLow: 40000, EphemeralHigh: 40003})
	var socks []*TCPSocket
	for i := 0; i < 4; i++ {
		s := mustTCP(t, n, IPv4)
		must(t, s.Bind(ap("127.0.0.1:0")))
		socks = append(socks, s)
	}
	s := mustTCP(t, n, IPv4)
	wantErr(t, s.Bind(ap("127.0.0.1:0")), ErrAddressInUse)
	if s.State() != Unbound {
		t.Fatal("failed bind changed the state")
	}
	wantErr(t, s.Listen(), ErrAddressInUse)
	socks[2].DecRef()
	must(t, s.Bind(ap("127.0.0.1:0")))
	if la, _ := s.LocalAddr(); la.Port() < 40000 || la.Port() > 40003 {
		t.Fatalf("port %v outside range", la)
	}
}

// Wasmtime tcp_bind: address-in-use against a listener (also through the
// unspecified address), and the shared-bind policy for non-listeners.
func TestBindAddressInUse(t *testing.T) {
	for _, f := range []Family{IPv4, IPv6} {
		n := New(Options{})
		l := mustTCP(t, n, f)
		must(t, l.Bind(netip.AddrPortFrom(unspecifiedOf(f), 0)))
		must(t, l.Listen())
		la, _ := l.LocalAddr()
		s := mustTCP(t, n, f)
		wantErr(t, s.Bind(netip.AddrPortFrom(loopbackOf(f), la.Port())), ErrAddressInUse)
		wantErr(t, s.Bind(la), ErrAddressInUse)
		if s.State() != Unbound {
			t.Fatal("state changed")
		}
		// Other family, same port: separate table (IPv6 is v6-only).
		o := mustTCP(t, n, 1-f)
		must(t, o.Bind(netip.AddrPortFrom(loopbackOf(1-f), la.Port())))
	}
	for _, pol := range []SharedBindPolicy{SharedBindAllow, SharedBindRefuse} {
		n := New(Options{SharedBind: pol})
		a, b := mustTCP(t, n, IPv4), mustTCP(t, n, IPv4)
		must(t, a.Bind(ap("127.0.0.1:5000")))
		err := b.Bind(ap("127.0.0.1:5000"))
		if pol == SharedBindRefuse {
			wantErr(t, err, ErrAddressInUse)
			continue
		}
		must(t, err)
		must(t, a.Listen())
		wantErr(t, b.Listen(), ErrAddressInUse)
		if b.State() != Bound {
			t.Fatal("failed listen changed the state")
		}
		if got := len(n.Bindings()); got != 2 {
			t.Fatalf("bindings %v", n.Bindings())
		}
	}
}

func TestBindAddressRules(t *testing.T) {
	cases := []struct {
		f    Family
		addr string
		want error
	}{
		{IPv4, "127.0.0.1:0", nil},
		{IPv4, "127.1.2.3:0", nil},
		{IPv4, "0.0.0.0:0", nil},
		{IPv6, "[::1]:0", nil},
		{IPv6, "[::]:0", nil},
		{IPv4, "192.0.2.1:0", ErrAddressNotBindable},
		{IPv4, "198.51.100.7:0", ErrAddressNotBindable},
		{IPv4, "203.0.113.9:0", ErrAddressNotBindable},
		{IPv6, "[2001:db8::1]:0", ErrAddressNotBindable},
		{IPv4, "224.0.0.1:0", ErrInvalidArgument},
		{IPv4, "255.255.255.255:0", ErrInvalidArgument},
		{IPv6, "[ff02::1]:0", ErrInvalidArgument},
		{IPv6, "[::ffff:127.0.0.1]:0", ErrInvalidArgument},
		{IPv6, "127.0.0.1:0", ErrInvalidArgument},
		{IPv4, "[::1]:0", ErrInvalidArgument},
	}
	n := New(Options{})
	for _, c := range cases {
		for _, udp := range []bool{false, true} {
			var err error
			if udp {
				u := mustUDP(t, n, c.f)
				err = u.Bind(ap(c.addr))
				u.DecRef()
			} else {
				s := mustTCP(t, n, c.f)
				err = s.Bind(ap(c.addr))
				s.DecRef()
			}
			if err != c.want && !(c.want == nil && err == nil) {
				t.Errorf("%v bind %s (udp=%v): %v, want %v", c.f, c.addr, udp, err, c.want)
			}
		}
	}
	s := mustTCP(t, n, IPv4)
	wantErr(t, s.Bind(netip.AddrPort{}), ErrInvalidArgument)
	if _, err := n.NewTCP(Family(9)); err != ErrNotSupported {
		t.Fatal(err)
	}
}

func TestConnectArgumentErrors(t *testing.T) {
	n := New(Options{})
	cases := []struct {
		f      Family
		addr   string
		want   error
		closed bool
	}{
		{IPv4, "0.0.0.0:80", ErrInvalidArgument, false},
		{IPv4, "127.0.0.1:0", ErrInvalidArgument, false},
		{IPv6, "[::]:80", ErrInvalidArgument, false},
		{IPv6, "[::ffff:127.0.0.1]:80", ErrInvalidArgument, false},
		{IPv4, "[::1]:80", ErrInvalidArgument, false},
		{IPv4, "224.0.0.1:80", ErrInvalidArgument, false},
		{IPv4, "192.0.2.1:80", ErrRemoteUnreachable, true},
		{IPv4, "127.0.0.1:80", ErrConnectionRefused, true},
	}
	for _, c := range cases {
		s := mustTCP(t, n, c.f)
		err := s.Connect(ap(c.addr))
		if err != c.want {
			t.Errorf("connect %s: %v, want %v", c.addr, err, c.want)
		}
		if (s.State() == Closed) != c.closed {
			t.Errorf("connect %s: state %v", c.addr, s.State())
		}
		s.DecRef()
	}
	if live := n.Live(); len(live) != 0 {
		t.Fatalf("leak: %v", live)
	}
	if b := n.Bindings(); len(b) != 0 {
		t.Fatalf("failed connects left bindings: %v", b)
	}
}

// IPv6 sockets are v6-only: an IPv6 listener on :: is not reachable over IPv4.
func TestV6Only(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "[::]:7000")
	c := mustTCP(t, n, IPv4)
	wantErr(t, c.Connect(ap("127.0.0.1:7000")), ErrConnectionRefused)
	c6 := mustTCP(t, n, IPv6)
	must(t, c6.Connect(ap("[::1]:7000")))
	srv, err := l.TryAccept()
	must(t, err)
	if la, _ := srv.LocalAddr(); la != ap("[::1]:7000") {
		t.Fatalf("accepted local %v", la)
	}
	if la, _ := c6.LocalAddr(); la.Addr() != lo6 {
		t.Fatalf("client local %v", la)
	}
}

// Wasmtime tcp_bind_reuseaddr: after a listener with an accepted,
// data-carrying connection is dropped, its address can be bound and
// listened on again at once, while the client still holds its end.
func TestImmediateRebindAfterListenerDropped(t *testing.T) {
	for _, f := range []Family{IPv4, IPv6} {
		n := New(Options{})
		l := mustTCP(t, n, f)
		must(t, l.Bind(netip.AddrPortFrom(loopbackOf(f), 0)))
		must(t, l.Listen())
		addr, _ := l.LocalAddr()
		client, srv := pair(t, n, l)
		_, err := client.Write([]byte("hello"))
		must(t, err)
		_, err = srv.Write([]byte("world"))
		must(t, err)
		buf := make([]byte, 5)
		_, err = io.ReadFull(srv, buf)
		must(t, err)
		must(t, srv.DecRef())
		must(t, l.DecRef())
		l2 := mustTCP(t, n, f)
		must(t, l2.Bind(addr))
		must(t, l2.Listen())
		// The client still reads what the accepted side sent, then EOF.
		got, err := io.ReadAll(client)
		if err != nil || string(got) != "world" {
			t.Fatalf("client read %q, %v", got, err)
		}
		client.DecRef()
		l2.DecRef()
	}
}

// Wasmtime tcp_connect: bind, drop, connect ⇒ connection-refused.
func TestBindDropConnectRefused(t *testing.T) {
	n := New(Options{})
	s := mustTCP(t, n, IPv4)
	must(t, s.Bind(ap("127.0.0.1:0")))
	addr, _ := s.LocalAddr()
	must(t, s.DecRef())
	if n.PortBound(TCP, addr) {
		t.Fatal("port still bound after the last DecRef")
	}
	c := mustTCP(t, n, IPv4)
	wantErr(t, c.Connect(addr), ErrConnectionRefused)
	if c.State() != Closed {
		t.Fatalf("failed connect left state %v", c.State())
	}
	wantErr(t, c.Connect(addr), ErrInvalidState) // one connect per socket
	// A listener whose last reference went away refuses too.
	l := listener(t, n, "127.0.0.1:0")
	la, _ := l.LocalAddr()
	l.IncRef()
	must(t, l.DecRef())
	c2 := mustTCP(t, n, IPv4)
	must(t, c2.Connect(la)) // one reference left: still listening
	must(t, l.DecRef())
	c3 := mustTCP(t, n, IPv4)
	wantErr(t, c3.Connect(la), ErrConnectionRefused)
}

// Wasmtime tcp_sockopts: accepted sockets inherit the listener's options
// at accept time (not at connect time).
func TestOptionInheritanceOnAccept(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:0")
	la, _ := l.LocalAddr()
	c := mustTCP(t, n, IPv4)
	must(t, c.Connect(la)) // queued before the options are set
	must(t, l.SetKeepAliveEnabled(true))
	must(t, l.SetKeepAliveIdleTime(42*time.Second))
	must(t, l.SetKeepAliveInterval(7*time.Second))
	must(t, l.SetKeepAliveCount(5))
	must(t, l.SetHopLimit(33))
	must(t, l.SetReceiveBufferSize(12345))
	must(t, l.SetSendBufferSize(23456))
	srv, err := l.Accept()
	must(t, err)
	must(t, l.SetHopLimit(99)) // after accept: not inherited
	ka, _ := srv.KeepAliveEnabled()
	idle, _ := srv.KeepAliveIdleTime()
	intv, _ := srv.KeepAliveInterval()
	cnt, _ := srv.KeepAliveCount()
	hop, _ := srv.HopLimit()
	rb, _ := srv.ReceiveBufferSize()
	sb, _ := srv.SendBufferSize()
	if !ka || idle != 42*time.Second || intv != 7*time.Second || cnt != 5 || hop != 33 || rb != 12345 || sb != 23456 {
		t.Fatalf("inherited %v %v %v %v %v %v %v", ka, idle, intv, cnt, hop, rb, sb)
	}
	if srv.Family() != IPv4 {
		t.Fatal("family not inherited")
	}
	// The client keeps the defaults.
	if hop, _ := c.HopLimit(); hop != DefaultHopLimit {
		t.Fatalf("client hop limit %d", hop)
	}
}

func TestOptionClampsAndReadback(t *testing.T) {
	n := New(Options{})
	s := mustTCP(t, n, IPv6)
	wantErr(t, s.SetKeepAliveIdleTime(0), ErrInvalidArgument)
	wantErr(t, s.SetKeepAliveIdleTime(-1), ErrInvalidArgument)
	wantErr(t, s.SetKeepAliveInterval(0), ErrInvalidArgument)
	wantErr(t, s.SetKeepAliveCount(0), ErrInvalidArgument)
	wantErr(t, s.SetHopLimit(0), ErrInvalidArgument)
	wantErr(t, s.SetReceiveBufferSize(0), ErrInvalidArgument)
	wantErr(t, s.SetSendBufferSize(0), ErrInvalidArgument)
	must(t, s.SetKeepAliveIdleTime(time.Nanosecond))
	if v, _ := s.KeepAliveIdleTime(); v != MinKeepAliveTime {
		t.Fatalf("idle clamped to %v", v)
	}
	must(t, s.SetKeepAliveInterval(100000*time.Hour))
	if v, _ := s.KeepAliveInterval(); v != MaxKeepAliveTime {
		t.Fatalf("interval clamped to %v", v)
	}
	must(t, s.SetKeepAliveCount(1<<31))
	if v, _ := s.KeepAliveCount(); v != MaxKeepAliveCount {
		t.Fatalf("count clamped to %v", v)
	}
	must(t, s.SetReceiveBufferSize(1))
	if v, _ := s.ReceiveBufferSize(); v != MinSocketBufferSize {
		t.Fatalf("rcvbuf clamped to %v", v)
	}
	must(t, s.SetSendBufferSize(1<<62))
	if v, _ := s.SendBufferSize(); v != MaxSocketBufferSize {
		t.Fatalf("sndbuf clamped to %v", v)
	}
	must(t, s.SetSendBufferSize(0x10000))
	must(t, s.SetHopLimit(255))
	must(t, s.SetKeepAliveIdleTime(1234*time.Millisecond))
	if v, _ := s.SendBufferSize(); v != 0x10000 {
		t.Fatal(v)
	}
	if v, _ := s.HopLimit(); v != 255 {
		t.Fatal(v)
	}
	if v, _ := s.KeepAliveIdleTime(); v != 1234*time.Millisecond {
		t.Fatal(v)
	}
	wantErr(t, s.SetListenBacklogSize(0), ErrInvalidArgument)
	must(t, s.SetListenBacklogSize(1<<40)) // clamped, not an error
}

// Half-close in both directions (Wasmtime tcp_streams shutdown cases).
func TestHalfClose(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:0")
	c, s := pair(t, n, l)
	// client → server: data then FIN; the other direction stays open.
	_, err := c.Write([]byte("request"))
	must(t, err)
	must(t, c.ShutdownWrite())
	must(t, c.ShutdownWrite()) // idempotent
	if _, err := c.Write([]byte("x")); err != ErrConnectionBroken {
		t.Fatalf("write after shutdown: %v", err)
	}
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "request" {
		t.Fatalf("server read %q %v", got, err)
	}
	_, err = s.Write([]byte("response"))
	must(t, err)
	must(t, s.ShutdownWrite())
	got, err = io.ReadAll(c)
	if err != nil || string(got) != "response" {
		t.Fatalf("client read %q %v", got, err)
	}
	// Shutdown read: unread data is discarded, later data too, reads EOF,
	// and the peer's writes still succeed.
	c2, s2 := pair(t, n, l)
	_, err = c2.Write([]byte("unread"))
	must(t, err)
	must(t, s2.ShutdownRead())
	if k, err := s2.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Fatalf("read after shutdown-read: %d %v", k, err)
	}
	if k, err := c2.Write([]byte("more")); k != 4 || err != nil {
		t.Fatalf("peer write after shutdown-read: %d %v", k, err)
	}
	if unread, _ := s2.Buffered(); unread != 0 {
		t.Fatalf("%d bytes kept after shutdown-read", unread)
	}
	// s2 read everything there was (nothing kept): its close is a FIN.
	must(t, s2.DecRef())
	if k, err := c2.Read(make([]byte, 1)); k != 0 || err != io.EOF {
		t.Fatalf("peer read after FIN close: %v", err)
	}
	if _, err := c2.Write([]byte("x")); err != ErrConnectionBroken {
		t.Fatalf("write to a closed peer: %v", err)
	}
}

// Closing with unread data resets the peer; closing after reading
// everything is a FIN.
func TestResetOnCloseWithUnreadData(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:0")
	c, s := pair(t, n, l)
	_, err := s.Write([]byte("before"))
	must(t, err)
	_, err = c.Write([]byte("never read"))
	must(t, err)
	must(t, s.DecRef()) // unread data ⇒ RST
	// Bytes delivered before the reset are still readable (Linux), then reset.
	buf := make([]byte, 6)
	_, err = io.ReadFull(c, buf)
	must(t, err)
	if _, err := c.Read(buf); err != ErrConnectionReset {
		t.Fatalf("read after RST: %v", err)
	}
	if _, err := c.Write([]byte("x")); err != ErrConnectionReset {
		t.Fatalf("write after RST: %v", err)
	}
	if !c.Readable() || !c.Writable() {
		t.Fatal("a reset socket must poll ready")
	}
	// An explicit Reset hits both ends.
	c2, s2 := pair(t, n, l)
	must(t, c2.Reset())
	if _, err := s2.Read(buf); err != ErrConnectionReset {
		t.Fatalf("%v", err)
	}
	if _, err := c2.Write(buf); err != ErrConnectionReset {
		t.Fatalf("%v", err)
	}
}

// Dropping a listener resets its unaccepted connections and releases them.
func TestListenerDropResetsBacklog(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:0")
	la, _ := l.LocalAddr()
	var clients []*TCPSocket
	for i := 0; i < 3; i++ {
		c := mustTCP(t, n, IPv4)
		must(t, c.Connect(la))
		clients = append(clients, c)
	}
	if !l.Acceptable() || !l.Readable() {
		t.Fatal("listener with a backlog is not acceptable")
	}
	must(t, l.DecRef())
	for _, c := range clients {
		if _, err := c.Read(make([]byte, 1)); err != ErrConnectionReset {
			t.Fatalf("client of a dropped listener: %v", err)
		}
		c.DecRef()
	}
	if live := n.Live(); len(live) != 0 {
		t.Fatalf("leaked: %v", live)
	}
}

func TestNonBlockingAndReadiness(t *testing.T) {
	n := New(Options{BufferSize: 8})
	l := listener(t, n, "127.0.0.1:0")
	if _, err := l.TryAccept(); err != ErrWouldBlock {
		t.Fatal(err)
	}
	if l.Acceptable() {
		t.Fatal("empty listener acceptable")
	}
	c, s := pair(t, n, l)
	if s.Readable() {
		t.Fatal("readable without data")
	}
	if _, err := s.TryRead(make([]byte, 4)); err != ErrWouldBlock {
		t.Fatal(err)
	}
	k, err := c.TryWrite(bytes.Repeat([]byte("a"), 20))
	if k != 8 || err != nil {
		t.Fatalf("partial write: %d %v", k, err)
	}
	if c.Writable() {
		t.Fatal("writable with a full buffer")
	}
	if _, err := c.TryWrite([]byte("b")); err != ErrWouldBlock {
		t.Fatal(err)
	}
	if k, err := c.Write(nil); k != 0 || err != nil {
		t.Fatal("zero-length write is not a probe")
	}
	if !s.Readable() {
		t.Fatal("not readable with data")
	}
	if unread, unsent := c.Buffered(); unread != 0 || unsent != 8 {
		t.Fatal(unread, unsent)
	}
	got := make([]byte, 3)
	if k, _ := s.TryRead(got); k != 3 || !c.Writable() {
		t.Fatal("reading did not free space")
	}
	if k, err := s.Read(nil); k != 0 || err != nil {
		t.Fatal("zero-length read is not a probe")
	}
}

// Goroutine mode: a deadline bounds Read, Write and Accept, and a past
// deadline fails at once even with data available.
func TestDeadlinesGoroutineMode(t *testing.T) {
	n := New(Options{BufferSize: 4})
	l := listener(t, n, "127.0.0.1:0")
	l.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
	if _, err := l.Accept(); err != ErrTimeout {
		t.Fatal(err)
	}
	l.SetReadDeadline(time.Time{})
	c, s := pair(t, n, l)
	s.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
	if _, err := s.Read(make([]byte, 1)); err != ErrTimeout {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
	k, err := c.Write([]byte("123456"))
	if k != 4 || err != nil {
		t.Fatalf("%d %v", k, err)
	}
	if _, err := c.Write([]byte("56")); err != ErrTimeout {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := s.Read(make([]byte, 1)); err != ErrTimeout {
		t.Fatal("past deadline with data did not time out:", err)
	}
}

func TestConnectWaitsForBacklogSpace(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:0")
	must(t, l.SetListenBacklogSize(1))
	la, _ := l.LocalAddr()
	c1 := mustTCP(t, n, IPv4)
	must(t, c1.Connect(la))
	c2 := mustTCP(t, n, IPv4)
	done := make(chan error)
	go func() { done <- c2.Connect(la) }()
	for c2.State() != Connecting {
		time.Sleep(time.Millisecond)
	}
	if c2.Writable() || c2.Readable() {
		t.Fatal("connecting socket polls ready")
	}
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	must(t, <-done)
	if c2.State() != Connected {
		t.Fatal(c2.State())
	}
	// With a write deadline, a full backlog times the connect out.
	c3 := mustTCP(t, n, IPv4)
	c3.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
	wantErr(t, c3.Connect(la), ErrTimeout)
	if c3.State() != Closed {
		t.Fatal(c3.State())
	}
}

func TestBindingsAndLive(t *testing.T) {
	n := New(Options{})
	l := listener(t, n, "127.0.0.1:8080")
	u := mustUDP(t, n, IPv6)
	must(t, u.Bind(ap("[::1]:53")))
	b := n.Bindings()
	if len(b) != 2 || b[0].String() != "tcp 127.0.0.1:8080 tcp#1 listening" || b[1].String() != "udp [::1]:53 udp#2" {
		t.Fatalf("bindings %v", b)
	}
	live := n.Live()
	if len(live) != 2 || live[0] != "tcp#1 listening 127.0.0.1:8080 refs=1" || live[1] != "udp#2 bound [::1]:53 refs=1" {
		t.Fatalf("live %q", live)
	}
	if !n.PortBound(TCP, ap("0.0.0.0:8080")) || n.PortBound(TCP, ap("127.0.0.2:8080")) || n.PortBound(UDP, ap("127.0.0.1:8080")) || n.PortBound(Proto(7), ap("127.0.0.1:8080")) {
		t.Fatal("PortBound wrong")
	}
	l.DecRef()
	u.DecRef()
	if len(n.Live()) != 0 || len(n.Bindings()) != 0 {
		t.Fatal("not released")
	}
}

// TestConnectionTupleIsUnique: two sockets may share a bound port, but not
// a connection's address and port pair (Linux: EADDRNOTAVAIL), found by
// proptest/linuxdiff.
func TestConnectionTupleIsUnique(t *testing.T) {
	n := New(Options{})
	srv, _ := n.NewTCP(IPv4)
	if err := srv.Bind(netip.MustParseAddrPort("127.0.0.1:7000")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("127.0.0.1:7001")
	a, _ := n.NewTCP(IPv4)
	if err := a.Bind(local); err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(netip.MustParseAddrPort("127.0.0.1:7000")); err != nil {
		t.Fatal(err)
	}
	b, _ := n.NewTCP(IPv4)
	if err := b.Bind(local); err != nil {
		t.Fatalf("a second bind of a connected socket's port (SO_REUSEADDR): %v", err)
	}
	if err := b.Connect(netip.MustParseAddrPort("127.0.0.1:7000")); !errors.Is(err, ErrAddressNotBindable) {
		t.Fatalf("second connection with the same 4-tuple: %v, want address-not-bindable", err)
	}
	if b.State() != Closed {
		t.Fatalf("a failed connect leaves %v, want closed", b.State())
	}
	// Once the first connection is reset, the pair is free again.
	a.Reset()
	c, _ := n.NewTCP(IPv4)
	c.Bind(local)
	if err := c.Connect(netip.MustParseAddrPort("127.0.0.1:7000")); err != nil {
		t.Fatalf("connect after the old connection was reset: %v", err)
	}
}

// A socket that shut down both directions answers arriving data with a
// reset, as Linux does (RFC 1122): the sender's first write succeeds,
// its next one fails, and the connection's address pair is free again.
func TestDataAfterFullShutdownResets(t *testing.T) {
	n := New(Options{})
	l := mustTCP(t, n, IPv4)
	must(t, l.Bind(ap("127.0.0.1:7000")))
	must(t, l.Listen())
	c := mustTCP(t, n, IPv4)
	must(t, c.Bind(ap("127.0.0.1:7001")))
	must(t, c.Connect(ap("127.0.0.1:7000")))
	a, err := l.TryAccept()
	must(t, err)
	if _, err := a.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	must(t, a.ShutdownWrite())
	must(t, a.ShutdownRead())
	if k, err := c.Write([]byte("a")); k != 1 || err != nil {
		t.Fatalf("first write toward the shut-down peer: %d, %v; want 1, nil", k, err)
	}
	if _, err := c.Write([]byte("b")); !errors.Is(err, ErrConnectionReset) {
		t.Fatalf("second write: %v, want connection-reset", err)
	}
	// What arrived before the reset still reads, then the reset.
	buf := make([]byte, 4)
	if k, err := c.TryRead(buf); k != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("read before the reset: %d %q %v, want \"x\"", k, buf[:k], err)
	}
	if _, err := c.TryRead(buf); !errors.Is(err, ErrConnectionReset) {
		t.Fatalf("read after the data: %v, want connection-reset", err)
	}
	if _, err := a.TryRead(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after shutdown-read: %v, want EOF", err)
	}
	// The listener is gone; a new socket on the accepted side's address
	// connecting to the client's is refused, not address-not-bindable.
	must(t, l.DecRef())
	d := mustTCP(t, n, IPv4)
	must(t, d.Bind(ap("127.0.0.1:7000")))
	if err := d.Connect(ap("127.0.0.1:7001")); !errors.Is(err, ErrConnectionRefused) {
		t.Fatalf("connect on the reset connection's address pair: %v, want connection-refused", err)
	}
}
