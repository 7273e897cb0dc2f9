package host

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// Each network permission, denied, makes its call fail with access-denied
// and change nothing; the others still work.
func TestNetworkPolicyDenies(t *testing.T) {
	at := netip.MustParseAddrPort("127.0.0.1:7000")
	cases := []struct {
		name   string
		policy NetworkPolicy
		call   func(h *Host, in *Instance) error
		after  func(h *Host, in *Instance) error // what must still hold
	}{
		{"tcp", NetworkPolicy{DenyTCP: true}, func(h *Host, in *Instance) error {
			_, err := in.NewTCPSocket(vnet.IPv4)
			return err
		}, func(h *Host, in *Instance) error {
			_, err := in.NewUDPSocket(vnet.IPv4)
			return err
		}},
		{"udp", NetworkPolicy{DenyUDP: true}, func(h *Host, in *Instance) error {
			_, err := in.NewUDPSocket(vnet.IPv6)
			return err
		}, func(h *Host, in *Instance) error {
			_, err := in.NewTCPSocket(vnet.IPv6)
			return err
		}},
		{"bind", NetworkPolicy{DenyBind: true}, func(h *Host, in *Instance) error {
			s, _ := in.NewTCPSocket(vnet.IPv4)
			err := in.Bind(s, at)
			if _, lerr := in.LocalAddress(s); !errors.Is(lerr, vnet.ErrInvalidState) {
				return fmt.Errorf("a denied bind bound the socket: %v", lerr)
			}
			u, _ := in.NewUDPSocket(vnet.IPv4)
			if uerr := in.UDPBind(u, at); !errors.Is(uerr, vnet.ErrAccessDenied) {
				return fmt.Errorf("udp bind: %v", uerr)
			}
			return err
		}, func(h *Host, in *Instance) error {
			s, _ := in.NewTCPSocket(vnet.IPv4)
			_, err := in.Listen(s) // an implicit bind is not a bind call
			return err
		}},
		{"listen", NetworkPolicy{DenyListen: true}, func(h *Host, in *Instance) error {
			s, _ := in.NewTCPSocket(vnet.IPv4)
			in.Bind(s, at)
			_, err := in.Listen(s)
			if l, _ := in.IsListening(s); l {
				return errors.New("a denied listen listens")
			}
			return err
		}, nil},
		{"connect", NetworkPolicy{DenyConnect: true}, func(h *Host, in *Instance) error {
			s, _ := in.NewTCPSocket(vnet.IPv4)
			err := in.Connect(s, at)
			if sk, _ := in.Socket(s); sk.State() != vnet.Unbound {
				return fmt.Errorf("a denied connect left the socket %v", sk.State())
			}
			return err
		}, nil},
		{"name lookup", NetworkPolicy{DenyNameLookup: true}, func(h *Host, in *Instance) error {
			_, err := in.ResolveAddresses("localhost")
			return err
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runGuest(t, Options{Network: tc.policy}, 3, func(h *Host, in *Instance) error {
				if err := tc.call(h, in); !errors.Is(err, vnet.ErrAccessDenied) {
					return fmt.Errorf("got %v, want access-denied", err)
				}
				if tc.after != nil {
					if err := tc.after(h, in); err != nil {
						return fmt.Errorf("an allowed call: %v", err)
					}
				}
				// Another instance with its own policy is not denied.
				other := h.NewInstance("other")
				other.SetNetworkPolicy(NetworkPolicy{})
				if err := tc.call(h, other); errors.Is(err, vnet.ErrAccessDenied) {
					return fmt.Errorf("an instance allowed everything was denied: %v", err)
				}
				if err := other.DropAll(); err != nil {
					return err
				}
				return in.DropAll()
			})
		})
	}
}

// A guest that leaks sockets runs into its handle limit: the constructor
// fails with out-of-memory until it drops one.
func TestNetworkPolicyHandleLimit(t *testing.T) {
	runGuest(t, Options{Network: NetworkPolicy{MaxHandles: 3}}, 3, func(h *Host, in *Instance) error {
		var socks []Handle
		for i := 0; i < 3; i++ {
			s, err := in.NewUDPSocket(vnet.IPv4)
			if err != nil {
				return fmt.Errorf("socket %d: %v", i, err)
			}
			socks = append(socks, s)
		}
		if _, err := in.NewTCPSocket(vnet.IPv4); !errors.Is(err, vnet.ErrOutOfMemory) {
			return fmt.Errorf("a fourth handle: %v, want out-of-memory", err)
		}
		if in.LiveHandles() != 3 {
			return fmt.Errorf("%d live handles", in.LiveHandles())
		}
		must(in.Drop(socks[0]))
		if _, err := in.NewTCPSocket(vnet.IPv4); err != nil {
			return fmt.Errorf("after a drop: %v", err)
		}
		return in.DropAll()
	})
}

// floodScenario is a client that opens clients connections to a server
// whose instance may hold maxHandles handles; the server accepts each and
// drops it (dropAccepted) or keeps it.
func floodScenario(maxHandles, clients int, dropAccepted bool) sim.Scenario {
	return func(w *sim.World) error {
		h, err := New(w, Options{})
		if err != nil {
			return err
		}
		srv := h.NewInstance("server")
		srv.SetNetworkPolicy(NetworkPolicy{MaxHandles: maxHandles})
		listening := w.NewWaitQueue("listening")
		ready := false
		w.Go("server", func(*sim.Task) error {
			_, ls, err := listen(srv)
			if err != nil {
				return err
			}
			ready = true
			listening.Broadcast()
			for i := 0; i < clients; i++ {
				c, _, err := srv.Accept(ls)
				if err != nil {
					return err
				}
				if dropAccepted {
					must(srv.Drop(c))
				}
			}
			return srv.DropAll()
		})
		w.Go("flood", func(*sim.Task) error {
			for !ready {
				listening.Wait("")
			}
			cli := h.NewInstance("flood")
			for i := 0; i < clients; i++ {
				s, err := cli.NewTCPSocket(vnet.IPv4)
				if err != nil {
					return err
				}
				if err := cli.Connect(s, serverAddr); err != nil {
					return fmt.Errorf("connect %d: %v", i, err)
				}
			}
			return cli.DropAll()
		})
		return nil
	}
}

// A server at its handle limit takes no more connections from its listen
// stream (they wait in the backlog) until it drops one; one that never
// drops any ends the run with a deadlock report naming the limit.
func TestNetworkPolicyFloodOfConnections(t *testing.T) {
	// Listener, listen stream and one accepted socket: at the limit.
	explore(t, floodScenario(3, 5, true))
	res, _, err := sim.RunOnce(sim.Config{Seed: 1}, floodScenario(3, 5, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deadlock) == 0 || !strings.Contains(res.Error().Error(), "at its limit") {
		t.Fatalf("got %v, want a deadlock naming the handle limit", res.Error())
	}
}

// A guest that floods a server with connections and leaks them gets WASI
// error codes — address-in-use once the ephemeral ports are gone, or
// out-of-memory at its handle limit — and the run ends reporting every
// leaked socket.
func TestFloodingGuestGetsErrorCodesAndALeakReport(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy NetworkPolicy
		want   error
	}{
		{"ports", NetworkPolicy{}, vnet.ErrAddressInUse},
		{"handles", NetworkPolicy{MaxHandles: 6}, vnet.ErrOutOfMemory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got error
			var held int
			res, _, err := sim.RunOnce(sim.Config{Seed: 1}, func(w *sim.World) error {
				n := vnet.New(vnet.Options{World: w, EphemeralLow: 40000, EphemeralHigh: 40009})
				h, err := New(w, Options{Net: n})
				if err != nil {
					return err
				}
				srv, cli := h.NewInstance("server"), h.NewInstance("flood")
				cli.SetNetworkPolicy(tc.policy)
				_, _, err = listen(srv)
				if err != nil {
					return err
				}
				w.Go("flood", func(*sim.Task) error {
					for i := 0; i < 100; i++ {
						s, err := cli.NewTCPSocket(vnet.IPv4)
						if err == nil {
							err = cli.Connect(s, serverAddr)
						}
						if err != nil {
							got, held = err, cli.LiveHandles()
							return nil // and leak every socket
						}
					}
					return errors.New("a hundred connections and no error")
				})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(got, tc.want) {
				t.Fatalf("the flood ended with %v (holding %d handles), want %v", got, held, tc.want)
			}
			if len(res.Leaks) < held {
				t.Fatalf("%d leaks reported for %d leaked handles: %v", len(res.Leaks), held, res.Error())
			}
		})
	}
}
