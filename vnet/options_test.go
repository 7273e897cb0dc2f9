package vnet

import (
	"net/netip"
	"testing"
)

// A UDP socket bound to the unspecified address and then connected
// reports the address its datagrams leave from, as Linux's getsockname
// does, receives only there, and is widened again by Disconnect.
func TestUDPConnectNarrowsUnspecifiedBind(t *testing.T) {
	for _, tc := range []struct {
		fam          Family
		any, lo, dst string
	}{
		{IPv4, "0.0.0.0:0", "127.0.0.1", "127.0.0.1:9"},
		{IPv6, "[::]:0", "::1", "[::1]:9"},
	} {
		t.Run(tc.fam.String(), func(t *testing.T) {
			n := New(Options{})
			u := mustUDP(t, n, tc.fam)
			must(t, u.Bind(ap(tc.any)))
			bound, _ := u.LocalAddr()
			must(t, u.Connect(ap(tc.dst)))
			got, err := u.LocalAddr()
			must(t, err)
			want := netip.AddrPortFrom(netip.MustParseAddr(tc.lo), bound.Port())
			if got != want {
				t.Fatalf("local address after connect: %v, want %v", got, want)
			}
			if b := n.Bindings(); len(b) != 1 || b[0].Addr != want {
				t.Fatalf("bindings %v, want one on %v", b, want)
			}
			// The datagram's sender address is the local address.
			peer := mustUDP(t, n, tc.fam)
			must(t, peer.Bind(ap(tc.dst)))
			must(t, u.Send([]byte("x"), nil))
			if _, from, err := peer.Receive(); err != nil || from != want {
				t.Fatalf("datagram from %v (%v), want %v", from, err, want)
			}
			must(t, u.Disconnect())
			if got, _ := u.LocalAddr(); got != bound {
				t.Fatalf("local address after disconnect: %v, want %v", got, bound)
			}
			// An explicit loopback bind is not widened.
			v := mustUDP(t, n, tc.fam)
			must(t, v.Bind(netip.AddrPortFrom(netip.MustParseAddr(tc.lo), 0)))
			must(t, v.Connect(ap(tc.dst)))
			must(t, v.Disconnect())
			if got, _ := v.LocalAddr(); got.Addr() != netip.MustParseAddr(tc.lo) {
				t.Fatalf("explicit bind became %v", got)
			}
		})
	}
}

// A receive buffer size, once set, bounds a UDP socket's queue in bytes:
// a datagram is dropped while the bytes queued exceed it.
func TestUDPReceiveBufferBoundsQueue(t *testing.T) {
	n := New(Options{})
	r, s := mustUDP(t, n, IPv4), mustUDP(t, n, IPv4)
	must(t, r.Bind(ap("127.0.0.1:0")))
	ra, _ := r.LocalAddr()
	big := make([]byte, 600)
	for i := 0; i < 2; i++ {
		must(t, s.Send(big, &ra))
	}
	if r.Queued() != 2 || r.Dropped() != 0 {
		t.Fatalf("default: queued %d dropped %d", r.Queued(), r.Dropped())
	}
	must(t, r.SetReceiveBufferSize(1024))
	must(t, s.Send(big, &ra)) // 1200 bytes queued > 1024: dropped
	if r.Queued() != 2 || r.Dropped() != 1 {
		t.Fatalf("rcvbuf 1024: queued %d dropped %d", r.Queued(), r.Dropped())
	}
	if _, _, err := r.Receive(); err != nil {
		t.Fatal(err)
	}
	must(t, s.Send(big, &ra)) // 600 queued ≤ 1024: taken
	if r.Queued() != 2 || r.Dropped() != 1 {
		t.Fatalf("after a receive: queued %d dropped %d", r.Queued(), r.Dropped())
	}
}

// fill writes into s without waiting until the connection's buffer is
// full and returns how many bytes it took.
func fill(t *testing.T, s *TCPSocket) int {
	t.Helper()
	buf := make([]byte, 4096)
	total := 0
	for {
		k, err := s.TryWrite(buf)
		total += k
		if err == ErrWouldBlock {
			return total
		}
		must(t, err)
	}
}

// The buffer-size options size a connection's buffers: the mean of the
// sender's send buffer and the receiver's receive buffer, Options.BufferSize
// while neither was set; accepted sockets take the listener's sizes, and a
// size set on a connected socket applies at once.
func TestTCPBufferSizesTakeEffect(t *testing.T) {
	n := New(Options{BufferSize: 8192})
	l := listener(t, n, "127.0.0.1:0")
	c, s := pair(t, n, l)
	if got := fill(t, c); got != 8192 {
		t.Fatalf("default capacity %d, want 8192", got)
	}

	must(t, l.SetReceiveBufferSize(2048))
	c2 := mustTCP(t, n, IPv4)
	must(t, c2.SetSendBufferSize(4096))
	la, _ := l.LocalAddr()
	must(t, c2.Connect(la))
	s2, err := l.Accept()
	must(t, err)
	if got := fill(t, c2); got != (4096+2048)/2 {
		t.Fatalf("capacity %d, want %d", got, (4096+2048)/2)
	}
	// The other direction: the server's send buffer (unset: 8192) and the
	// client's receive buffer (unset: 8192).
	if got := fill(t, s2); got != 8192 {
		t.Fatalf("reverse capacity %d, want 8192", got)
	}

	// Shrinking a full connection keeps its bytes; writes wait until the
	// reader is below the new size; growing makes room at once.
	must(t, s.SetReceiveBufferSize(1024)) // (8192+1024)/2 = 4608 < 8192 buffered
	if k, err := c.TryWrite([]byte("x")); err != ErrWouldBlock {
		t.Fatalf("write to an over-full buffer: %d, %v", k, err)
	}
	got := make([]byte, 8192)
	k, err := s.Read(got)
	must(t, err)
	if k != 8192 {
		t.Fatalf("read %d of the 8192 buffered", k)
	}
	must(t, s.SetReceiveBufferSize(1<<20))
	if got := fill(t, c); got != (8192+1<<20)/2 {
		t.Fatalf("grown capacity %d", got)
	}
	for _, x := range []*TCPSocket{c, s, c2, s2, l} {
		must(t, x.DecRef())
	}
}
