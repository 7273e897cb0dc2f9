package host

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

var serverAddr = netip.MustParseAddrPort("127.0.0.1:8080")

// netScenario runs a server and a client guest, each its own instance,
// with 1 KiB host copies so that streams take many steps.
func netScenario(v Variant, server, client func(h *Host, in *Instance) error) sim.Scenario {
	return netScenarioWith(Options{Variant: v, Chunk: 1024}, server, client)
}

func netScenarioWith(opt Options, server, client func(h *Host, in *Instance) error) sim.Scenario {
	return func(w *sim.World) error {
		h, err := New(w, opt)
		if err != nil {
			return err
		}
		srv, cli := h.NewInstance("server"), h.NewInstance("client")
		w.Go("server", func(*sim.Task) error { return server(h, srv) })
		w.Go("client", func(*sim.Task) error { return client(h, cli) })
		return nil
	}
}

// listen binds and listens on serverAddr and returns the socket and its
// listen stream.
func listen(in *Instance) (Handle, Handle, error) {
	s, err := in.NewTCPSocket(vnet.IPv4)
	if err != nil {
		return 0, 0, err
	}
	if err := in.Bind(s, serverAddr); err != nil {
		return 0, 0, err
	}
	ls, err := in.Listen(s)
	return s, ls, err
}

// dial connects to serverAddr, retrying while the server is not listening
// yet (the schedule decides who goes first).
func dial(h *Host, in *Instance) (Handle, error) {
	for {
		s, err := in.NewTCPSocket(vnet.IPv4)
		if err != nil {
			return 0, err
		}
		err = in.Connect(s, serverAddr)
		if err == nil {
			return s, nil
		}
		in.Drop(s)
		if !errors.Is(err, vnet.ErrConnectionRefused) {
			return 0, err
		}
		h.World().Sleep(1e6)
	}
}

func TestConnectionStreamsOutliveBothSockets(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	explore(t, netScenario(P3,
		func(h *Host, in *Instance) error {
			s, ls, err := listen(in)
			if err != nil {
				return err
			}
			c, _, err := in.Accept(ls)
			if err != nil {
				return err
			}
			must(in.Drop(ls))
			must(in.Drop(s))
			data, fut, err := in.Receive(c)
			if err != nil {
				return err
			}
			// Drop the accepted socket: the receive stream keeps it alive.
			must(in.Drop(c))
			got, err := in.ReadAll(data, 3000)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, payload) {
				return fmt.Errorf("server got %d bytes, want %d", len(got), len(payload))
			}
			if res, err := in.Await(fut); res != nil || err != nil {
				return fmt.Errorf("receive future: %v %v", res, err)
			}
			return in.DropAll()
		},
		func(h *Host, in *Instance) error {
			s, err := dial(h, in)
			if err != nil {
				return err
			}
			r, w, _ := in.NewStream()
			fut, err := in.Send(s, r)
			if err != nil {
				return err
			}
			must(in.Drop(s)) // the send stream and future keep it alive
			for i := 0; i < len(payload); i += 5000 {
				if _, st, err := in.WriteAll(w, payload[i:min(i+5000, len(payload))]); err != nil || st == Dropped {
					return fmt.Errorf("send: %v %v", st, err)
				}
			}
			must(in.Drop(w)) // FIN
			if res, err := in.Await(fut); res != nil || err != nil {
				return fmt.Errorf("send future: %v %v", res, err)
			}
			return in.DropAll()
		}))
}

func TestListenerPortLivesWithListenStream(t *testing.T) {
	explore(t, func(w *sim.World) error {
		h, err := New(w, Options{})
		if err != nil {
			return err
		}
		in := h.NewInstance("guest")
		w.Go("guest", func(*sim.Task) error {
			s, ls, err := listen(in)
			if err != nil {
				return err
			}
			must(in.Drop(s))
			if !h.Net().PortBound(vnet.TCP, serverAddr) {
				return errors.New("port freed while the listen stream lives")
			}
			s2, _ := in.NewTCPSocket(vnet.IPv4)
			if err := in.Bind(s2, serverAddr); !errors.Is(err, vnet.ErrAddressInUse) {
				return fmt.Errorf("bind against a live listener: %v", err)
			}
			must(in.Drop(ls))
			// The last reference went with the listen stream: the port is
			// free in the same step.
			if h.Net().PortBound(vnet.TCP, serverAddr) {
				return errors.New("port still bound after the last reference dropped")
			}
			if err := in.Bind(s2, serverAddr); err != nil {
				return fmt.Errorf("rebind after release: %v", err)
			}
			// Connecting to it now is refused: s2 is bound, not listening.
			c, _ := in.NewTCPSocket(vnet.IPv4)
			if err := in.Connect(c, serverAddr); !errors.Is(err, vnet.ErrConnectionRefused) {
				return fmt.Errorf("connect to a non-listening port: %v", err)
			}
			return in.DropAll()
		})
		return nil
	})
}

func TestSendReceiveAtMostOnce(t *testing.T) {
	explore(t, netScenario(P3,
		func(h *Host, in *Instance) error {
			_, ls, err := listen(in)
			if err != nil {
				return err
			}
			c, _, _ := in.Accept(ls)
			d1, f1, _ := in.Receive(c)
			d2, f2, _ := in.Receive(c)
			if res, _ := in.Await(f2); !errors.Is(res, vnet.ErrInvalidState) {
				return fmt.Errorf("second receive: %v", res)
			}
			if _, cr, _ := in.Read(d2, 10); cr.Status != Dropped {
				return fmt.Errorf("second receive stream: %v", cr)
			}
			got, _ := in.ReadAll(d1, 10)
			if string(got) != "hello" {
				return fmt.Errorf("got %q", got)
			}
			if res, _ := in.Await(f1); res != nil {
				return res
			}
			return in.DropAll()
		},
		func(h *Host, in *Instance) error {
			s, err := dial(h, in)
			if err != nil {
				return err
			}
			r, w, _ := in.NewStream()
			f, _ := in.Send(s, r)
			r2, w2, _ := in.NewStream()
			f2, _ := in.Send(s, r2)
			if res, _ := in.Await(f2); !errors.Is(res, vnet.ErrInvalidState) {
				return fmt.Errorf("second send: %v", res)
			}
			if cr, _ := in.Write(w2, []byte("x")); cr.Status != Dropped || cr.Progress != 0 {
				return fmt.Errorf("second send stream: %v", cr)
			}
			in.WriteAll(w, []byte("hello"))
			must(in.Drop(w))
			if res, _ := in.Await(f); res != nil {
				return res
			}
			return in.DropAll()
		}))
}

func TestSendUnderAsyncWriteTrapsOnDrop(t *testing.T) {
	res, _, err := sim.RunOnce(sim.Config{Seed: 3}, netScenario(P3AsyncWrite,
		func(h *Host, in *Instance) error {
			_, ls, err := listen(in)
			if err != nil {
				return err
			}
			c, _, _ := in.Accept(ls)
			d, _, _ := in.Receive(c)
			in.ReadAll(d, 100)
			return nil
		},
		func(h *Host, in *Instance) error {
			s, err := dial(h, in)
			if err != nil {
				return err
			}
			r, w, _ := in.NewStream()
			sub, _ := in.Send(s, r)
			err = in.Drop(s)
			if !errors.Is(err, &Trap{Kind: TrapDropWithLends}) {
				return fmt.Errorf("drop of a socket lent to send: %v", err)
			}
			_, _ = sub, w
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range res.Tasks {
		if tk.Name == "client#2" && tk.Err != nil {
			t.Fatal(tk.Err)
		}
	}
}

func TestOptionsInheritedOnAccept(t *testing.T) {
	explore(t, netScenario(P3,
		func(h *Host, in *Instance) error {
			s, _ := in.NewTCPSocket(vnet.IPv4)
			if err := in.SetKeepAliveEnabled(s, true); err != nil {
				return err
			}
			if err := in.SetHopLimit(s, 7); err != nil {
				return err
			}
			if err := in.SetReceiveBufferSize(s, 0); !errors.Is(err, vnet.ErrInvalidArgument) {
				return fmt.Errorf("buffer size 0: %v", err)
			}
			if err := in.SetListenBacklogSize(s, 0); !errors.Is(err, vnet.ErrInvalidArgument) {
				return fmt.Errorf("backlog 0: %v", err)
			}
			in.Bind(s, serverAddr)
			ls, err := in.Listen(s)
			if err != nil {
				return err
			}
			c, _, err := in.Accept(ls)
			if err != nil {
				return err
			}
			ka, _ := in.KeepAliveEnabled(c)
			hl, _ := in.HopLimit(c)
			if !ka || hl != 7 {
				return fmt.Errorf("accepted socket: keep-alive %v hop limit %d, want the listener's true and 7", ka, hl)
			}
			return in.DropAll()
		},
		func(h *Host, in *Instance) error {
			s, err := dial(h, in)
			if err != nil {
				return err
			}
			if hl, _ := in.HopLimit(s); hl == 7 {
				return errors.New("the client inherited the server's hop limit")
			}
			return in.DropAll()
		}))
}
