package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// freeAddr is a loopback address with a port nothing on the machine
// listens on (as far as the kernel knows right now).
func freeAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// bridged is a scenario with a bridge: setup spawns the guests (tasks
// using vnet) and returns them; the bridge closes once they are done.
func bridged(opt Options, got **Bridge, setup func(w *sim.World, n *vnet.Net) []*sim.Task) sim.Scenario {
	return func(w *sim.World) error {
		n := vnet.New(vnet.Options{World: w})
		b, err := New(n, opt)
		if err != nil {
			return err
		}
		if got != nil {
			*got = b
		}
		b.CloseAfter(setup(w, n)...)
		return nil
	}
}

// runLive runs a live scenario in a goroutine while the test plays the
// machine's side (client), then shuts the bridge down and checks the run.
func runLive(t *testing.T, sc func(**Bridge) sim.Scenario, client func() error) *sim.Trace {
	t.Helper()
	tr, res, cerr := runLiveResult(t, sc, client)
	if cerr != nil {
		t.Fatalf("machine side: %v", cerr)
	}
	if res.Failed() {
		t.Fatalf("run: %v\n%s", res.Error(), tr.Bytes())
	}
	return tr
}

// runLiveResult is runLive leaving the verdict to the caller.
func runLiveResult(t *testing.T, sc func(**Bridge) sim.Scenario, client func() error) (*sim.Trace, *sim.Result, error) {
	t.Helper()
	var b *Bridge
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	if err := sc(&b)(w); err != nil {
		t.Fatal(err)
	}
	done := make(chan *sim.Result, 1)
	go func() { done <- w.Run() }()
	cerr := client()
	res := <-done
	b.Shutdown(5 * time.Second)
	return w.Trace(), res, cerr
}

// replayOffline replays a live run's trace with a bridge that opens
// nothing: it must reproduce the run event for event.
func replayOffline(t *testing.T, tr *sim.Trace, sc sim.Scenario) {
	t.Helper()
	res, _, err := sim.Replay(tr, sim.Config{}, nil, sc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergence != nil || res.Failed() {
		t.Fatalf("offline replay: divergence %v, result %v", res.Divergence, res.Error())
	}
	if !bytes.Contains(tr.Bytes(), []byte(`"input"`)) {
		t.Fatal("the live trace recorded no input from the machine")
	}
}

// upperServer is a guest that accepts one connection on at, reads a line,
// answers it in upper case, ends its side and waits for the peer's end.
func upperServer(w *sim.World, n *vnet.Net, at netip.AddrPort) *sim.Task {
	return w.Go("server", func(*sim.Task) error {
		l, _ := n.NewTCP(vnet.IPv4)
		defer l.DecRef() //nolint:errcheck
		if err := l.Bind(at); err != nil {
			return err
		}
		if err := l.Listen(); err != nil {
			return err
		}
		c, err := l.Accept()
		if err != nil {
			return err
		}
		defer c.DecRef() //nolint:errcheck
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if _, err := c.Write([]byte(strings.ToUpper(line))); err != nil {
			return err
		}
		if err := c.ShutdownWrite(); err != nil {
			return err
		}
		if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
			return errors.New("the client sent more than a line")
		}
		return nil
	})
}

// A machine client reaches a guest listener through a published address;
// the run replays exactly without the machine.
func TestPublishLiveThenReplayOffline(t *testing.T) {
	host := freeAddr(t)
	guest := ap("127.0.0.1:8080")
	sc := func(live bool) func(**Bridge) sim.Scenario {
		return func(b **Bridge) sim.Scenario {
			return bridged(Options{Publish: []Mapping{{Host: host, Guest: guest}}, Live: live, IdleTimeout: time.Minute}, b,
				func(w *sim.World, n *vnet.Net) []*sim.Task { return []*sim.Task{upperServer(w, n, guest)} })
		}
	}
	tr := runLive(t, sc(true), func() error {
		c, err := net.Dial("tcp", host.String())
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("hello, guest\n")); err != nil {
			return err
		}
		got, err := io.ReadAll(c) // up to the guest's end of stream
		if err != nil || string(got) != "HELLO, GUEST\n" {
			return errors.New("got " + string(got))
		}
		return nil
	})
	replayOffline(t, tr, sc(false)(nil))
}

// echoServer is a machine server that echoes every connection until its
// end of stream; it returns its address.
func echoServer(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c) //nolint:errcheck
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// client is a guest that connects to to, sends payload, ends its side and
// reads everything back; it reports the connect error (nil: connected)
// through connErr.
func client(w *sim.World, n *vnet.Net, to netip.AddrPort, payload []byte, connErr *error) *sim.Task {
	return w.Go("client", func(*sim.Task) error {
		c, _ := n.NewTCP(vnet.IPv4)
		defer c.DecRef() //nolint:errcheck
		if *connErr = c.Connect(to); *connErr != nil {
			return nil
		}
		sent := make(chan struct{})
		w.Go("client writer", func(*sim.Task) error {
			defer close(sent)
			for p := payload; len(p) > 0; {
				k, err := c.Write(p)
				if err != nil {
					return err
				}
				p = p[k:]
			}
			return c.ShutdownWrite()
		})
		got, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, payload) {
			return errors.New("the echo differs from what was sent")
		}
		return nil
	})
}

// A guest reaches a machine server through a forwarded address (here off
// the loopback net), with more bytes than may be in flight at once; the
// run replays exactly without the machine.
func TestForwardLiveThenReplayOffline(t *testing.T) {
	srv := echoServer(t)
	guestAddr := ap("10.9.9.9:7")
	payload := bytes.Repeat([]byte("0123456789abcdef"), (3*MaxInFlight)/16+5)
	var connErr error
	sc := func(live bool) func(**Bridge) sim.Scenario {
		return func(b **Bridge) sim.Scenario {
			return bridged(Options{Forward: []Mapping{{Host: srv, Guest: guestAddr}}, Live: live, IdleTimeout: time.Minute}, b,
				func(w *sim.World, n *vnet.Net) []*sim.Task {
					return []*sim.Task{client(w, n, guestAddr, payload, &connErr)}
				})
		}
	}
	tr := runLive(t, sc(true), func() error { return nil })
	if connErr != nil {
		t.Fatalf("connect: %v", connErr)
	}
	replayOffline(t, tr, sc(false)(nil))
}

// Only the addresses the mappings name leave the simulation: a forwarded
// address whose machine server is gone fails the guest's connect with
// connection-refused; a machine server on an address no mapping names is
// unreachable (refused on loopback, remote-unreachable elsewhere).
func TestForwardOnlyNamedAddresses(t *testing.T) {
	gone := freeAddr(t)
	other := echoServer(t) // listening on the machine, but not forwarded
	srv := echoServer(t)
	cases := []struct {
		to   netip.AddrPort
		want error
	}{
		{ap("127.0.0.1:9"), vnet.ErrConnectionRefused}, // forwarded to gone
		{other, vnet.ErrConnectionRefused},
		{ap("192.0.2.1:80"), vnet.ErrRemoteUnreachable},
		{srv, vnet.ErrConnectionRefused}, // the machine address itself is not forwarded
	}
	for _, tc := range cases {
		var connErr error
		runLive(t, func(b **Bridge) sim.Scenario {
			return bridged(Options{Forward: []Mapping{{Host: gone, Guest: ap("127.0.0.1:9")}, {Host: srv, Guest: ap("10.0.0.1:7")}}, Live: true, IdleTimeout: time.Minute}, b,
				func(w *sim.World, n *vnet.Net) []*sim.Task {
					return []*sim.Task{client(w, n, tc.to, []byte("x"), &connErr)}
				})
		}, func() error { return nil })
		if !errors.Is(connErr, tc.want) {
			t.Errorf("connect to %v: %v, want %v", tc.to, connErr, tc.want)
		}
	}
}

// A port-"*" mapping publishes each guest listener on its own port, from
// the moment it listens until it is released. The port is free on the
// machine when picked, but another process may take it before the guest
// listens: then the bridge reports the listener unpublished, and the test
// tries another port.
func TestPublishAnyPort(t *testing.T) {
	m, err := ParseMapping("127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	errTaken := errors.New("the machine port was taken before the guest listened")
	for attempt := 0; ; attempt++ {
		guest := freeAddr(t)
		published := make(chan bool, 1)
		sc := func(live bool) func(**Bridge) sim.Scenario {
			return func(b **Bridge) sim.Scenario {
				return bridged(Options{Publish: []Mapping{m}, Live: live, IdleTimeout: time.Minute}, b,
					func(w *sim.World, n *vnet.Net) []*sim.Task {
						if live {
							// After the bridge's own hook: published or not.
							n.OnListen(func(s *vnet.TCPSocket) {
								host, ok := (*b).Published(s)
								published <- ok && host == guest
							})
						}
						return []*sim.Task{upperServer(w, n, guest)}
					})
			}
		}
		tr, res, cerr := runLiveResult(t, sc(true), func() error {
			if !<-published {
				return errTaken
			}
			c, err := net.Dial("tcp", guest.String())
			if err != nil {
				return err
			}
			defer c.Close()
			c.Write([]byte("any port\n")) //nolint:errcheck
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "ANY PORT\n" {
				return fmt.Errorf("got %q, %v", got, err)
			}
			return nil
		})
		if errors.Is(cerr, errTaken) && attempt < 5 {
			t.Logf("%v: %s", guest, cerr)
			continue
		}
		if cerr != nil {
			t.Fatalf("machine side: %v", cerr)
		}
		if res.Failed() {
			t.Fatalf("run: %v\n%s", res.Error(), tr.Bytes())
		}
		replayOffline(t, tr, sc(false)(nil))
		// The guest's listener is gone, and so is the machine's.
		if c, err := net.Dial("tcp", guest.String()); err == nil {
			c.Close()
			t.Fatal("the published port outlived the guest listener")
		}
		return
	}
}

// With an idle timeout, a world that waits only for the machine gives up:
// the bridge closes and the run ends with the guest's deadlock, reported.
func TestIdleTimeoutEndsTheWait(t *testing.T) {
	host := freeAddr(t)
	var b *Bridge
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	err := bridged(Options{Publish: []Mapping{{Host: host, Guest: ap("127.0.0.1:8080")}}, Live: true, IdleTimeout: 50 * time.Millisecond}, &b,
		func(w *sim.World, n *vnet.Net) []*sim.Task {
			return []*sim.Task{upperServer(w, n, ap("127.0.0.1:8080"))}
		})(w)
	if err != nil {
		t.Fatal(err)
	}
	res := w.Run()
	b.Shutdown(time.Second)
	if len(res.Deadlock) == 0 {
		t.Fatalf("got %v, want the server reported waiting in accept", res.Error())
	}
}

// Without Options.Live nothing is opened on the machine, and a trace
// with malformed bridge input ends the bridge instead of failing.
func TestOfflineOpensNothingAndSurvivesBadInput(t *testing.T) {
	host := freeAddr(t)
	sc := bridged(Options{Publish: []Mapping{{Host: host, Guest: ap("127.0.0.1:8080")}}}, nil,
		func(w *sim.World, n *vnet.Net) []*sim.Task {
			return []*sim.Task{upperServer(w, n, ap("127.0.0.1:8080"))}
		})
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	if err := sc(w); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", host.String()); err == nil {
		c.Close()
		t.Fatal("an offline bridge listens on the machine")
	}
	// No trace to take input from: the outside is over at once.
	res := w.Run()
	if len(res.Deadlock) == 0 {
		t.Fatalf("got %v, want the server left waiting", res.Error())
	}
	for _, b := range [][]byte{nil, {'A'}, {'A', 1}, {'D'}, {'W', 1}, {'d', 1}, {'l', 1, 2, 3}, {'?', 1}, {0xff, 0xff, 0xff}} {
		if _, err := decode(b); err == nil {
			t.Errorf("decode(%q) accepted malformed input", b)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range []event{
		{kind: evAccept, id: 7, addr: ap("[::1]:80")},
		{kind: evData, id: 1 << 40, data: []byte("bytes")},
		{kind: evEOF, id: 2}, {kind: evReset, id: 3}, {kind: evQuiet},
		{kind: evWritten, id: 4, n: 65536},
		{kind: evDial, id: 0, code: vnet.ErrTimeout},
		{kind: evListen, ok: true},
	} {
		got, err := decode(e.encode())
		if err != nil || got.kind != e.kind || got.id != e.id || got.n != e.n || got.addr != e.addr ||
			!bytes.Equal(got.data, e.data) || got.code != e.code || got.ok != e.ok {
			t.Errorf("%+v: decoded %+v, %v", e, got, err)
		}
	}
}

func TestParseMapping(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080=127.0.0.1:8080", ""},
		{"127.0.0.1:9000=127.0.0.1:80", "127.0.0.1:9000=127.0.0.1:80", ""},
		{":8080", "127.0.0.1:8080=127.0.0.1:8080", ""},
		{"localhost:1=10.0.0.1:2", "127.0.0.1:1=10.0.0.1:2", ""},
		{"[::1]:5=[::1]:6", "[::1]:5=[::1]:6", ""},
		{"127.0.0.1:*", "127.0.0.1:*=127.0.0.1:*", ""},
		{"127.0.0.1:*=127.0.0.1:80", "", "both sides"},
		{"127.0.0.1:0", "", "bad port"},
		{"127.0.0.1", "", "no port"},
		{"0.0.0.0:80", "", "cannot be bridged"},
		{"127.0.0.1:80=[::1]:80", "", "different families"},
		{"example.com:80", "", "not an IP address"},
	}
	for _, tc := range cases {
		m, err := ParseMapping(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error about %q", tc.in, err, tc.err)
			}
		case err != nil || m.String() != tc.want:
			t.Errorf("%q: %v %v, want %s", tc.in, m, err, tc.want)
		}
	}
	if _, err := New(vnet.New(vnet.Options{World: sim.MustNew(sim.Config{})}), Options{Forward: []Mapping{{Host: ap("192.0.2.1:80"), Guest: ap("127.0.0.1:80")}}}); err == nil {
		t.Error("a forward to a machine address off the loopback was accepted")
	}
}

// A forwarded machine server that goes away mid-connection: the guest,
// having read its end of stream, sends on and gets connection-reset (or
// broken), not silence.
func TestForwardPeerGoneResetsTheGuest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	srv := netip.MustParseAddrPort(ln.Addr().String())
	var sendErr error
	runLive(t, func(b **Bridge) sim.Scenario {
		return bridged(Options{Forward: []Mapping{{Host: srv, Guest: ap("10.0.0.7:80")}}, Live: true, IdleTimeout: time.Minute}, b,
			func(w *sim.World, n *vnet.Net) []*sim.Task {
				return []*sim.Task{w.Go("sender", func(*sim.Task) error {
					c, _ := n.NewTCP(vnet.IPv4)
					defer c.DecRef() //nolint:errcheck
					if err := c.Connect(ap("10.0.0.7:80")); err != nil {
						return err
					}
					if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
						return fmt.Errorf("before the end of stream: %q %v", rest, err)
					}
					buf := make([]byte, 64<<10)
					for i := 0; i < 1024; i++ { // 64 MiB: far more than any buffer holds
						if _, sendErr = c.Write(buf); sendErr != nil {
							return nil
						}
					}
					return errors.New("64 MiB sent to a peer that is gone")
				})}
			})
	}, func() error { return nil })
	if !errors.Is(sendErr, vnet.ErrConnectionReset) && !errors.Is(sendErr, vnet.ErrConnectionBroken) {
		t.Fatalf("send to a gone peer: %v", sendErr)
	}
}
