package vnet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// Backpressure inside a world: with a 16-byte buffer the writer blocks
// until the reader drains, and the reader only starts after 1s of virtual
// time, so everything the writer managed before then is exactly 16 bytes.
func TestBackpressureInWorld(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10)
	var got []byte
	var beforeDrain int
	var writerDone time.Duration
	world(t, 1, Options{BufferSize: 16}, func(w *sim.World, n *Net) {
		l := listener(t, n, "127.0.0.1:9000")
		w.Go("writer", func(*sim.Task) error {
			c := mustTCP(t, n, IPv4)
			if err := c.Connect(ap("127.0.0.1:9000")); err != nil {
				return err
			}
			rest := payload
			for len(rest) > 0 {
				k, err := c.Write(rest)
				if err != nil {
					return err
				}
				if w.Now() < time.Second {
					beforeDrain += k
				}
				rest = rest[k:]
			}
			writerDone = w.Now()
			must(t, c.ShutdownWrite())
			return c.DecRef()
		})
		w.Go("reader", func(*sim.Task) error {
			s, err := l.Accept()
			if err != nil {
				return err
			}
			if err := w.Sleep(time.Second); err != nil {
				return err
			}
			buf := make([]byte, 7)
			for {
				k, err := s.Read(buf)
				got = append(got, buf[:k]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
			}
			s.DecRef()
			return l.DecRef()
		})
	})
	if beforeDrain != 16 {
		t.Fatalf("writer wrote %d bytes before the reader drained, want 16", beforeDrain)
	}
	if writerDone < time.Second {
		t.Fatalf("writer finished at %v, before the reader started", writerDone)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("received %q", got)
	}
}

// The port is released exactly at the last DecRef, and the release is an
// event in the trace.
func TestPortReleasedAtLastDecRef(t *testing.T) {
	released := 0
	var l *TCPSocket
	w := world(t, 2, Options{}, func(w *sim.World, n *Net) {
		w.Go("owner", func(*sim.Task) error {
			l = listener(t, n, "127.0.0.1:8080")
			l.OnRelease(func() { released++ })
			l.IncRef() // e.g. the listen stream holds one too
			if l.Refs() != 2 {
				t.Errorf("refs %d", l.Refs())
			}
			must(t, l.DecRef())
			if !n.PortBound(TCP, ap("127.0.0.1:8080")) || released != 0 {
				t.Error("released before the last reference")
			}
			other := mustTCP(t, n, IPv4)
			wantErr(t, other.Bind(ap("127.0.0.1:8080")), ErrAddressInUse)
			w.Event("test", "marker", "before last decref")
			must(t, l.DecRef())
			if n.PortBound(TCP, ap("127.0.0.1:8080")) || released != 1 {
				t.Error("not released at the last reference")
			}
			must(t, other.Bind(ap("127.0.0.1:8080")))
			return other.DecRef()
		})
	})
	// After the run: inside it, the misuse would fail the run (see
	// TestMisuseFailsTheRun).
	wantErr(t, l.DecRef(), ErrInvalidState)
	if released != 1 {
		t.Error("release hook ran twice")
	}
	tr := string(w.Trace().Bytes())
	marker := strings.Index(tr, "before last decref")
	rel := strings.Index(tr, `"kind":"release","obj":"tcp#1","detail":"unbind 127.0.0.1:8080"`)
	if marker < 0 || rel < marker {
		t.Fatalf("release event missing or early:\n%s", tr)
	}
}

// A DecRef after release or an IncRef of a released socket changes
// nothing, returns ErrInvalidState, is a "misuse" event and fails the run.
func TestMisuseFailsTheRun(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	n := New(Options{World: w})
	w.Go("owner", func(*sim.Task) error {
		s := mustTCP(t, n, IPv4)
		must(t, s.DecRef())
		wantErr(t, s.DecRef(), ErrInvalidState)
		wantErr(t, s.IncRef(), ErrInvalidState)
		if s.TryIncRef() || s.Refs() != 0 {
			t.Error("resurrected")
		}
		return nil
	})
	res := w.Run()
	if len(res.Misuses) != 2 || res.Misuses[0] != (sim.Misuse{Layer: "vnet", What: "DecRef on released tcp#1"}) ||
		res.Misuses[1].What != "IncRef on released tcp#1" || !res.Failed() {
		t.Fatalf("misuses %v, failed %v", res.Misuses, res.Failed())
	}
	if got := n.RefErrors(); len(got) != 2 {
		t.Errorf("RefErrors %q", got)
	}
	if tr := string(w.Trace().Bytes()); !strings.Contains(tr, `"kind":"misuse","obj":"tcp#1","detail":"DecRef on released"`) {
		t.Errorf("no misuse event:\n%s", tr)
	}
}

// A scenario with several clients, random ephemeral ports, data, resets
// and drops produces a byte-identical trace for the same seed.
func scenario(t *testing.T, seed uint64) []byte {
	w := world(t, seed, Options{BufferSize: 32}, func(w *sim.World, n *Net) {
		l := listener(t, n, "127.0.0.1:0")
		la, _ := l.LocalAddr()
		const clients = 4
		w.Go("server", func(*sim.Task) error {
			for i := 0; i < clients; i++ {
				s, err := l.Accept()
				if err != nil {
					return err
				}
				w.Go("handler", func(*sim.Task) error {
					defer s.DecRef()
					buf := make([]byte, 10)
					for {
						k, err := s.Read(buf)
						if err == io.EOF {
							return nil
						}
						if err != nil {
							return err
						}
						if err := writeAll(s, buf[:k]); err != nil {
							return err
						}
					}
				})
			}
			return l.DecRef()
		})
		for i := 0; i < clients; i++ {
			w.Go("client", func(*sim.Task) error {
				c := mustTCP(t, n, IPv4)
				defer c.DecRef()
				if err := c.Connect(la); err != nil {
					return err
				}
				msg := bytes.Repeat([]byte{byte('a' + i)}, 50)
				if err := writeAll(c, msg[:25]); err != nil {
					return err
				}
				w.Yield()
				if err := writeAll(c, msg[25:]); err != nil {
					return err
				}
				got := make([]byte, 0, 50)
				buf := make([]byte, 16)
				for len(got) < 50 {
					k, err := c.Read(buf)
					if err != nil {
						return err
					}
					got = append(got, buf[:k]...)
				}
				if !bytes.Equal(got, msg) {
					t.Errorf("echo mismatch %q", got)
				}
				return c.ShutdownWrite()
			})
		}
		w.Go("udp", func(*sim.Task) error {
			a, b := mustUDP(t, n, IPv4), mustUDP(t, n, IPv4)
			defer a.DecRef()
			defer b.DecRef()
			must(t, b.Bind(ap("127.0.0.1:0")))
			bl, _ := b.LocalAddr()
			must(t, a.Send([]byte("ping"), &bl))
			data, _, err := b.Receive()
			if err != nil || string(data) != "ping" {
				t.Errorf("udp %q %v", data, err)
			}
			return nil
		})
	})
	return w.Trace().Bytes()
}

func TestDeterministicTrace(t *testing.T) {
	a, b := scenario(t, 42), scenario(t, 42)
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed, different traces:\n%s\n----\n%s", a, b)
	}
	if len(a) < 1000 || !bytes.Contains(a, []byte(`"kind":"release"`)) {
		t.Fatalf("trace too thin:\n%s", a)
	}
	// Other seeds explore other interleavings; each is deterministic too.
	for seed := uint64(1); seed <= 5; seed++ {
		if !bytes.Equal(scenario(t, seed), scenario(t, seed)) {
			t.Fatalf("seed %d not deterministic", seed)
		}
	}
}

// Ephemeral ports come from the world's seed.
func TestEphemeralPortFromSeed(t *testing.T) {
	port := func(seed uint64) uint16 {
		w := sim.MustNew(sim.Config{Seed: seed})
		n := New(Options{World: w})
		s := mustTCP(t, n, IPv4)
		must(t, s.Bind(ap("127.0.0.1:0")))
		la, _ := s.LocalAddr()
		s.DecRef()
		return la.Port()
	}
	if a, b := port(11), port(11); a != b {
		t.Fatal("same seed, different port")
	}
	differ := false
	for s := uint64(1); s < 10; s++ {
		differ = differ || port(s) != port(11)
	}
	if !differ {
		t.Fatal("port does not depend on the seed")
	}
	n1, n2 := New(Options{Seed: 5}), New(Options{Seed: 5})
	a, b := mustTCP(t, n1, IPv4), mustTCP(t, n2, IPv4)
	must(t, a.Bind(ap("127.0.0.1:0")))
	must(t, b.Bind(ap("127.0.0.1:0")))
	if x, _ := a.LocalAddr(); func() bool { y, _ := b.LocalAddr(); return x != y }() {
		t.Fatal("fallback seed not deterministic")
	}
}

// A read nobody will satisfy is reported as a deadlock by sim, not a hang;
// the socket left open shows up in the leak check.
func TestWorldDeadlockAndLeak(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	n := New(Options{World: w})
	l := listener(t, n, "127.0.0.1:0")
	w.Go("stuck", func(*sim.Task) error {
		_, err := l.Accept()
		return err
	})
	res := w.Run()
	if len(res.Deadlock) != 1 || !strings.Contains(res.Deadlock[0].WaitingOn, "tcp#1 accept") {
		t.Fatalf("deadlock %+v", res.Deadlock)
	}
	if len(res.Leaks) != 1 || res.Leaks[0].Layer != "vnet" || !strings.HasPrefix(res.Leaks[0].Object, "tcp#1 listening") {
		t.Fatalf("leaks %+v", res.Leaks)
	}
}

// Outside a task a blocking call in world mode fails instead of hanging.
func TestWorldBlockingOutsideTask(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	n := New(Options{World: w, NoLeakCheck: true})
	l := listener(t, n, "127.0.0.1:0")
	if _, err := l.Accept(); !errors.Is(err, sim.ErrNotInTask) {
		t.Fatal(err)
	}
	if _, err := l.TryAccept(); err != ErrWouldBlock {
		t.Fatal(err)
	}
}

// Deadlines in world mode use the virtual clock.
func TestWorldDeadlinesVirtual(t *testing.T) {
	var readAt, acceptAt time.Duration
	world(t, 3, Options{}, func(w *sim.World, n *Net) {
		w.Go("main", func(*sim.Task) error {
			ln, err := n.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			defer ln.Close()
			ln.(*Listener).SetDeadline(w.WallNow().Add(2 * time.Second))
			if _, err := ln.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("accept: %v", err)
			}
			acceptAt = w.Now()
			ln.(*Listener).SetDeadline(time.Time{})
			c, err := n.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := ln.Accept()
			if err != nil {
				return err
			}
			defer s.Close()
			c.SetReadDeadline(w.WallNow().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read: %v", err)
			}
			readAt = w.Now()
			return nil
		})
	})
	if acceptAt != 2*time.Second || readAt != 7*time.Second {
		t.Fatalf("timeouts at %v and %v (virtual), want 2s and 7s", acceptAt, readAt)
	}
}

// WaitChange wakes a poller when any socket changes, and times out on the
// virtual clock.
func TestWaitChange(t *testing.T) {
	var woke, timedOut time.Duration
	world(t, 4, Options{}, func(w *sim.World, n *Net) {
		l := listener(t, n, "127.0.0.1:0")
		la, _ := l.LocalAddr()
		w.Go("poller", func(*sim.Task) error {
			defer l.DecRef()
			for !l.Acceptable() {
				if err := n.WaitChange("poll", time.Time{}); err != nil {
					return err
				}
			}
			woke = w.Now()
			s, err := l.TryAccept()
			if err != nil {
				return err
			}
			defer s.DecRef()
			err = n.WaitChange("poll", w.WallNow().Add(time.Second))
			if err != ErrTimeout {
				t.Errorf("WaitChange: %v", err)
			}
			timedOut = w.Now()
			return nil
		})
		w.Go("dialer", func(*sim.Task) error {
			if err := w.Sleep(3 * time.Second); err != nil {
				return err
			}
			c := mustTCP(t, n, IPv4)
			if err := c.Connect(la); err != nil {
				return err
			}
			return c.DecRef()
		})
	})
	if woke != 3*time.Second || timedOut < 4*time.Second {
		t.Fatalf("woke at %v, timed out at %v", woke, timedOut)
	}
	n := New(Options{})
	g := n.Generation()
	s := mustTCP(t, n, IPv4)
	must(t, s.Bind(ap("127.0.0.1:0")))
	if g2, err := n.WaitChangeFrom(g, "", time.Now().Add(time.Hour)); err != nil || g2 == g {
		t.Fatal("WaitChangeFrom missed an earlier change")
	}
}

// Seeded faults: a reset and short copies, reproducible from the seed.
func TestFaultInjection(t *testing.T) {
	run := func(seed uint64, f Faults) (writes []int, trace []byte, err error) {
		w := world(t, seed, Options{Faults: &f}, func(w *sim.World, n *Net) {
			l := listener(t, n, "127.0.0.1:0")
			w.Go("io", func(*sim.Task) error {
				defer l.DecRef()
				c, s := pair(t, n, l)
				defer c.DecRef()
				defer s.DecRef()
				for i := 0; i < 20; i++ {
					k, e := c.Write(make([]byte, 100))
					if e != nil {
						err = e
						return nil
					}
					writes = append(writes, k)
				}
				return nil
			})
		})
		return writes, w.Trace().Bytes(), err
	}
	writes, _, err := run(1, Faults{ShortRate: 1})
	if err != nil || len(writes) != 20 {
		t.Fatal(err)
	}
	for _, k := range writes {
		if k < 1 || k >= 100 {
			t.Fatalf("short write of %d", k)
		}
	}
	_, tr, err := run(1, Faults{ResetRate: 1})
	if err != ErrConnectionReset || !bytes.Contains(tr, []byte(`"kind":"reset"`)) {
		t.Fatalf("reset fault: %v", err)
	}
	w1, t1, e1 := run(9, Faults{ResetRate: 0.1, ShortRate: 0.5})
	w2, t2, e2 := run(9, Faults{ResetRate: 0.1, ShortRate: 0.5})
	if e1 != e2 || len(w1) != len(w2) || !bytes.Equal(t1, t2) {
		t.Fatal("faults not reproducible")
	}
}

// A run that ends (here: the step limit) while a task is parked inside
// Connect's scheduling point or a wait unwinds it without corrupting the
// Net's lock: the Net stays usable afterwards.
func TestKilledInsideConnectAndWait(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 2})
	n := New(Options{World: w, NoLeakCheck: true})
	l := listener(t, n, "127.0.0.1:0")
	la, _ := l.LocalAddr()
	for i := 0; i < 3; i++ {
		w.Go("client", func(*sim.Task) error {
			c := mustTCP(t, n, IPv4)
			defer c.DecRef()
			if err := c.Connect(la); err != nil {
				return err
			}
			_, err := c.Read(make([]byte, 1))
			return err
		})
	}
	res := w.Run()
	if res.Err == nil {
		t.Fatal("expected the step limit")
	}
	must(t, l.DecRef())
	if live := n.Live(); len(live) != 0 {
		t.Fatalf("live: %v", live)
	}
}
