package vnet

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestUDPSendReceive(t *testing.T) {
	n := New(Options{})
	a, b := mustUDP(t, n, IPv4), mustUDP(t, n, IPv4)
	must(t, b.Bind(ap("127.0.0.1:5353")))
	dst := ap("127.0.0.1:5353")
	if a.State() != UDPUnbound {
		t.Fatal(a.State())
	}
	must(t, a.Send([]byte("hello"), &dst)) // implicit bind
	la, err := a.LocalAddr()
	must(t, err)
	if la.Port() == 0 || !la.Addr().IsUnspecified() || a.State() != UDPBound {
		t.Fatalf("implicit bind %v %v", la, a.State())
	}
	data, from, err := b.Receive()
	must(t, err)
	if string(data) != "hello" || from != netip.AddrPortFrom(lo4, la.Port()) {
		t.Fatalf("got %q from %v", data, from)
	}
	if _, _, err := b.TryReceive(); err != ErrWouldBlock {
		t.Fatal(err)
	}
	// Boundaries are kept: two sends, two receives.
	must(t, a.Send([]byte("1"), &dst))
	must(t, a.Send(nil, &dst))
	d1, _, _ := b.Receive()
	d2, _, _ := b.Receive()
	if string(d1) != "1" || len(d2) != 0 {
		t.Fatalf("%q %q", d1, d2)
	}
	// The sender's buffer may be reused at once.
	buf := []byte("abc")
	must(t, a.Send(buf, &dst))
	buf[0] = 'X'
	if d, _, _ := b.Receive(); string(d) != "abc" {
		t.Fatalf("datagram aliases the sender's buffer: %q", d)
	}
}

func TestUDPErrors(t *testing.T) {
	n := New(Options{})
	u := mustUDP(t, n, IPv4)
	dst := ap("127.0.0.1:9")
	wantErr(t, u.Send(make([]byte, MaxDatagramSize+1), &dst), ErrDatagramTooLarge)
	must(t, u.Send(make([]byte, MaxDatagramSize), &dst))
	wantErr(t, u.Send([]byte("x"), nil), ErrInvalidArgument) // no destination
	bad := []string{"0.0.0.0:9", "127.0.0.1:0", "[::1]:9", "224.0.0.1:9"}
	for _, s := range bad {
		a := ap(s)
		wantErr(t, u.Send([]byte("x"), &a), ErrInvalidArgument)
		wantErr(t, u.Connect(a), ErrInvalidArgument)
	}
	far := ap("192.0.2.1:9")
	wantErr(t, u.Send([]byte("x"), &far), ErrRemoteUnreachable)
	wantErr(t, u.Disconnect(), ErrInvalidState)
	wantErr(t, u.Bind(ap("127.0.0.1:0")), ErrInvalidState) // already bound implicitly
	if _, err := u.RemoteAddr(); err != ErrInvalidState {
		t.Fatal(err)
	}
	// Address in use: UDP ports are never shared.
	x, y := mustUDP(t, n, IPv4), mustUDP(t, n, IPv4)
	must(t, x.Bind(ap("0.0.0.0:7000")))
	wantErr(t, y.Bind(ap("127.0.0.1:7000")), ErrAddressInUse)
	fresh := mustUDP(t, n, IPv4)
	if _, _, err := fresh.TryReceive(); err != ErrInvalidState {
		t.Fatal("receive on an unbound socket:", err)
	}
	must(t, u.DecRef())
	wantErr(t, u.Send([]byte("x"), &dst), ErrInvalidState)
	wantErr(t, u.DecRef(), ErrInvalidState)
	if _, err := n.NewUDP(Family(3)); err != ErrNotSupported {
		t.Fatal(err)
	}
}

func TestUDPConnectFilterAndRefused(t *testing.T) {
	n := New(Options{})
	srv := mustUDP(t, n, IPv6)
	must(t, srv.Bind(ap("[::1]:4000")))
	other := mustUDP(t, n, IPv6)
	must(t, other.Bind(ap("[::1]:4001")))
	c := mustUDP(t, n, IPv6)
	must(t, c.Connect(ap("[::1]:4001")))
	must(t, c.Connect(ap("[::1]:4000"))) // repeatable, last wins
	if r, _ := c.RemoteAddr(); r != ap("[::1]:4000") || c.State() != UDPConnected {
		t.Fatal(r)
	}
	must(t, c.Send([]byte("to srv"), nil))
	if d, _, _ := srv.Receive(); string(d) != "to srv" {
		t.Fatal(string(d))
	}
	wrong := ap("[::1]:4001")
	wantErr(t, c.Send([]byte("x"), &wrong), ErrInvalidArgument)
	// A connected socket ignores other senders.
	cl, _ := c.LocalAddr()
	must(t, other.Send([]byte("intruder"), &cl))
	must(t, srv.Send([]byte("reply"), &cl))
	if d, from, _ := c.Receive(); string(d) != "reply" || from != ap("[::1]:4000") {
		t.Fatalf("%q from %v", d, from)
	}
	// Destination gone: a later receive reports connection-refused, once.
	must(t, srv.DecRef())
	must(t, c.Send([]byte("anyone?"), nil))
	if !c.Readable() {
		t.Fatal("pending error does not poll readable")
	}
	if _, _, err := c.Receive(); err != ErrConnectionRefused {
		t.Fatal(err)
	}
	if _, _, err := c.TryReceive(); err != ErrWouldBlock {
		t.Fatal(err)
	}
	// Unconnected sockets get no such error.
	must(t, c.Disconnect())
	gone := ap("[::1]:4000")
	must(t, c.Send([]byte("x"), &gone))
	if _, _, err := c.TryReceive(); err != ErrWouldBlock {
		t.Fatal(err)
	}
}

func TestUDPQueueBoundAndDrops(t *testing.T) {
	n := New(Options{UDPQueueLen: 3})
	r, s := mustUDP(t, n, IPv4), mustUDP(t, n, IPv4)
	must(t, r.Bind(ap("127.0.0.1:0")))
	ra, _ := r.LocalAddr()
	for i := 0; i < 5; i++ {
		must(t, s.Send([]byte{byte(i)}, &ra))
	}
	if r.Queued() != 3 || r.Dropped() != 2 {
		t.Fatalf("queued %d dropped %d", r.Queued(), r.Dropped())
	}
	for i := 0; i < 3; i++ {
		d, _, err := r.Receive()
		if err != nil || !bytes.Equal(d, []byte{byte(i)}) {
			t.Fatal(d, err)
		}
	}
	r.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
	if _, _, err := r.Receive(); err != ErrTimeout {
		t.Fatal(err)
	}
}

func TestUDPOptions(t *testing.T) {
	n := New(Options{})
	u := mustUDP(t, n, IPv4)
	wantErr(t, u.SetUnicastHopLimit(0), ErrInvalidArgument)
	wantErr(t, u.SetReceiveBufferSize(0), ErrInvalidArgument)
	wantErr(t, u.SetSendBufferSize(0), ErrInvalidArgument)
	must(t, u.SetUnicastHopLimit(7))
	must(t, u.SetReceiveBufferSize(5000))
	must(t, u.SetSendBufferSize(1<<40))
	h, _ := u.UnicastHopLimit()
	rb, _ := u.ReceiveBufferSize()
	sb, _ := u.SendBufferSize()
	if h != 7 || rb != 5000 || sb != MaxSocketBufferSize {
		t.Fatal(h, rb, sb)
	}
	u.IncRef()
	if u.Refs() != 2 {
		t.Fatal(u.Refs())
	}
	released := false
	u.OnRelease(func() { released = true })
	must(t, u.DecRef())
	must(t, u.DecRef())
	if !released || u.State() != UDPClosed || u.TryIncRef() {
		t.Fatal("not released")
	}
	wantErr(t, u.SetUnicastHopLimit(0), ErrInvalidState)
	if _, err := u.UnicastHopLimit(); err != ErrInvalidState {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	n := New(Options{})
	must(t, n.AddHost("db.internal", netip.MustParseAddr("127.0.0.5")))
	cases := []struct {
		name string
		want []string
		err  error
	}{
		{"localhost", []string{"127.0.0.1", "::1"}, nil},
		{"LOCALHOST.", []string{"127.0.0.1", "::1"}, nil},
		{"127.0.0.1", []string{"127.0.0.1"}, nil},
		{"::1", []string{"::1"}, nil},
		{"[::1]", []string{"::1"}, nil},
		{"192.0.2.7", []string{"192.0.2.7"}, nil},
		{"db.internal", []string{"127.0.0.5"}, nil},
		{"", nil, ErrInvalidArgument},
		{"127.0.0.1:80", nil, ErrInvalidArgument},
		{"http://x/", nil, ErrInvalidArgument},
		{"a..b", nil, ErrInvalidArgument},
		{"-x.com", nil, ErrInvalidArgument},
		{"1.2.3.256", nil, ErrInvalidArgument},
		{"[127.0.0.1]", nil, ErrInvalidArgument},
		{string(bytes.Repeat([]byte("a"), 64)) + ".com", nil, ErrInvalidArgument},
		{"example.com", nil, ErrNameUnresolvable},
	}
	for _, c := range cases {
		got, err := n.Resolve(c.name)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Resolve(%q) error %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("Resolve(%q) = %v, %v", c.name, got, err)
			continue
		}
		for i := range got {
			if got[i].String() != c.want[i] {
				t.Errorf("Resolve(%q) = %v", c.name, got)
			}
		}
	}
	wantErr(t, n.AddHost("bad name", lo4), ErrInvalidArgument)
}

func TestPacketConnAdapter(t *testing.T) {
	n := New(Options{})
	p1, err := n.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	p2, err := n.ListenPacket("udp6", "[::1]:0")
	must(t, err)
	p3, err := n.ListenPacket("udp4", ":0")
	must(t, err)
	// p3 is bound to 0.0.0.0, which is no destination: send to its
	// loopback address (in the 16-byte form net.IPv4 makes).
	if _, err := p1.WriteTo([]byte("hi"), p3.LocalAddr()); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal("sent to the unspecified address:", err)
	}
	p3a := p3.LocalAddr().(*net.UDPAddr)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p3a.Port}
	if _, err := p1.WriteTo([]byte("hey"), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	k, from, err := p3.ReadFrom(buf)
	if err != nil || k != 2 || string(buf) != "he" || from.String() != p1.LocalAddr().String() {
		t.Fatalf("ReadFrom %d %q %v %v", k, buf, from, err)
	}
	if _, err := p2.WriteTo([]byte("x"), p1.LocalAddr()); err == nil {
		t.Fatal("IPv6 socket sent to an IPv4 address")
	}
	if _, err := p1.WriteTo([]byte("x"), &net.TCPAddr{}); err == nil {
		t.Fatal("WriteTo accepted a TCP address")
	}
	p3.SetDeadline(time.Now().Add(5 * time.Millisecond))
	if _, _, err := p3.ReadFrom(buf); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	must(t, p1.Close())
	if err := p1.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := p1.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	p2.Close()
	p3.Close()
	if _, err := n.ListenPacket("tcp", ":0"); err == nil {
		t.Fatal("ListenPacket accepted tcp")
	}
}
