package vnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// Calls from a goroutine that is not the world's running task return
// sim.ErrNotInTask and change nothing (go test -race checks that they do
// not race with the task), instead of parking whichever task the world
// runs and panicking that goroutine when the run ends.
func TestCallsFromAnotherGoroutineAreRefused(t *testing.T) {
	world(t, 1, Options{}, func(w *sim.World, n *Net) {
		l := listener(t, n, "127.0.0.1:80")
		w.Go("task", func(*sim.Task) error {
			c, err := n.Dial("tcp", "127.0.0.1:80")
			if err != nil {
				return err
			}
			s, err := l.Accept()
			if err != nil {
				return err
			}
			u := mustUDP(t, n, IPv4)
			gen := n.Generation()
			var bad []string
			done := make(chan struct{})
			go func() {
				defer close(done)
				note := func(what string, err error) {
					if !errors.Is(err, sim.ErrNotInTask) {
						bad = append(bad, fmt.Sprintf("%s: %v", what, err))
					}
				}
				_, err := n.NewTCP(IPv4)
				note("NewTCP", err)
				_, err = n.NewUDP(IPv4)
				note("NewUDP", err)
				_, err = n.Dial("tcp", "127.0.0.1:80")
				note("Dial", err)
				_, err = n.Listen("tcp", "127.0.0.1:81")
				note("Listen", err)
				_, err = n.ListenPacket("udp", "127.0.0.1:81")
				note("ListenPacket", err)
				_, err = c.Write([]byte("x"))
				note("Conn.Write", err)
				_, err = c.Read(make([]byte, 1))
				note("Conn.Read", err)
				_, err = s.TryAccept()
				note("TryAccept", err)
				_, err = l.Accept()
				note("Accept", err)
				note("Bind", u.Bind(ap("127.0.0.1:53")))
				note("Send", u.Send([]byte("x"), nil))
				_, _, err = u.Receive()
				note("Receive", err)
				note("ShutdownWrite", s.ShutdownWrite())
				note("ShutdownRead", s.ShutdownRead())
				note("Reset", s.Reset())
				note("IncRef", s.IncRef())
				note("DecRef", s.DecRef())
				note("Close", c.Close())
				note("WaitChange", n.WaitChange("", time.Time{}))
			}()
			<-done
			if len(bad) > 0 {
				return fmt.Errorf("calls from another goroutine:\n%s", strings.Join(bad, "\n"))
			}
			if g := n.Generation(); g != gen || s.Refs() != 1 || s.State() != Connected {
				return fmt.Errorf("another goroutine changed the network: generation %d, was %d; %s refs %d, %v", g, gen, s, s.Refs(), s.State())
			}
			for _, x := range []interface{ DecRef() error }{s, u, l} {
				if err := x.DecRef(); err != nil {
					return err
				}
			}
			return c.Close()
		})
	})
}

// net/http runs goroutines of its own (the transport dials and reads in
// them): inside a world its calls fail with sim.ErrNotInTask instead of
// panicking the process.
func TestNetHTTPInsideAWorldFailsCleanly(t *testing.T) {
	world(t, 1, Options{}, func(w *sim.World, n *Net) {
		l := listener(t, n, "127.0.0.1:80")
		w.Go("client", func(*sim.Task) error {
			tr := &http.Transport{DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
				return n.Dial(network, addr)
			}}
			defer tr.CloseIdleConnections()
			_, err := (&http.Client{Transport: tr}).Get("http://127.0.0.1:80/")
			if !errors.Is(err, sim.ErrNotInTask) {
				return fmt.Errorf("GET: %v, want %v", err, sim.ErrNotInTask)
			}
			return l.DecRef()
		})
	})
}
