package vnet

import (
	"net/netip"
	"testing"
)

// fakeGateway routes one address; dialing it succeeds or fails with err.
type fakeGateway struct {
	route netip.AddrPort
	err   error
	got   *TCPSocket // the Net's end of the last connection
}

func (g *fakeGateway) Routes(s *TCPSocket, dst netip.AddrPort) bool { return dst == g.route }

func (g *fakeGateway) Dial(s *TCPSocket, dst netip.AddrPort) (func(*TCPSocket), error) {
	if g.err != nil {
		return nil, g.err
	}
	return func(c *TCPSocket) { g.got = c }, nil
}

// A gateway carries exactly the connections it routes: a routed address,
// even off the loopback net, connects to the gateway's end; a dial that
// fails fails the connect with its code; anything else is refused or
// unreachable as without a gateway; a listener of the Net comes first.
func TestGateway(t *testing.T) {
	n := New(Options{})
	far := ap("10.1.2.3:5432")
	gw := &fakeGateway{route: far}
	n.SetGateway(gw)

	c := mustTCP(t, n, IPv4)
	must(t, c.Connect(far))
	if gw.got == nil || gw.got.State() != Connected {
		t.Fatal("the gateway did not get a connected end")
	}
	if r, _ := c.RemoteAddr(); r != far {
		t.Fatalf("remote address %v", r)
	}
	must(t, writeAll(c, []byte("hello")))
	buf := make([]byte, 5)
	if k, err := gw.got.Read(buf); err != nil || string(buf[:k]) != "hello" {
		t.Fatalf("the gateway's end read %q, %v", buf[:k], err)
	}
	must(t, c.DecRef())
	must(t, gw.got.DecRef())

	other := mustTCP(t, n, IPv4)
	wantErr(t, other.Connect(ap("10.1.2.3:5433")), ErrRemoteUnreachable)
	lo := mustTCP(t, n, IPv4)
	wantErr(t, lo.Connect(ap("127.0.0.1:5432")), ErrConnectionRefused)

	gw.err = ErrTimeout
	d := mustTCP(t, n, IPv4)
	wantErr(t, d.Connect(far), ErrTimeout)
	if d.State() != Closed {
		t.Fatalf("a failed dial left the socket %v", d.State())
	}

	// A listener of the Net on a routed loopback address takes the
	// connection; the gateway is not asked.
	gw.err, gw.got = nil, nil
	gw.route = ap("127.0.0.1:6000")
	l := listener(t, n, "127.0.0.1:6000")
	e := mustTCP(t, n, IPv4)
	must(t, e.Connect(gw.route))
	if gw.got != nil {
		t.Fatal("the gateway was asked while a listener was there")
	}
	for _, s := range []*TCPSocket{other, lo, d, e, l} {
		must(t, s.DecRef())
	}
	if live := n.Live(); len(live) != 0 {
		t.Fatalf("live after every release: %v", live)
	}
}

// OnListen hooks see each socket that starts listening, once it listens.
func TestOnListen(t *testing.T) {
	n := New(Options{})
	var seen []netip.AddrPort
	n.OnListen(func(s *TCPSocket) {
		la, _ := s.LocalAddr()
		if !s.IsListening() {
			t.Error("hook called before the socket listens")
		}
		seen = append(seen, la)
	})
	l := listener(t, n, "127.0.0.1:7001")
	wantErr(t, l.Listen(), ErrInvalidState) // a failed listen calls no hook
	if len(seen) != 1 || seen[0] != ap("127.0.0.1:7001") {
		t.Fatalf("hooks saw %v", seen)
	}
	must(t, l.DecRef())
}
