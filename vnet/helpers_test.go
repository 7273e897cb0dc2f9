package vnet

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.IPv6Loopback()
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// world runs setup (which spawns tasks) in a traced world with a Net and
// fails the test if the run fails. It returns the world for trace checks.
func world(t *testing.T, seed uint64, opt Options, setup func(w *sim.World, n *Net)) *sim.World {
	t.Helper()
	w := sim.MustNew(sim.Config{Seed: seed, Trace: true})
	opt.World = w
	n := New(opt)
	setup(w, n)
	res := w.Run()
	if res.Failed() {
		t.Fatalf("run failed: %v\ntrace:\n%s", res.Error(), w.Trace().Bytes())
	}
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func mustTCP(t *testing.T, n *Net, f Family) *TCPSocket {
	t.Helper()
	s, err := n.NewTCP(f)
	must(t, err)
	return s
}

func mustUDP(t *testing.T, n *Net, f Family) *UDPSocket {
	t.Helper()
	u, err := n.NewUDP(f)
	must(t, err)
	return u
}

// listener makes a listening socket on addr.
func listener(t *testing.T, n *Net, addr string) *TCPSocket {
	t.Helper()
	a := ap(addr)
	s := mustTCP(t, n, familyOf(a.Addr()))
	must(t, s.Bind(a))
	must(t, s.Listen())
	return s
}

// pair connects a new client to l and accepts it (goroutine mode or inside
// a task).
func pair(t *testing.T, n *Net, l *TCPSocket) (client, server *TCPSocket) {
	t.Helper()
	la, err := l.LocalAddr()
	must(t, err)
	if la.Addr().IsUnspecified() {
		la = netip.AddrPortFrom(loopbackOf(l.Family()), la.Port())
	}
	c := mustTCP(t, n, l.Family())
	must(t, c.Connect(la))
	s, err := l.Accept()
	must(t, err)
	return c, s
}

func writeAll(s *TCPSocket, p []byte) error {
	for len(p) > 0 {
		k, err := s.Write(p)
		if err != nil {
			return err
		}
		p = p[k:]
	}
	return nil
}
