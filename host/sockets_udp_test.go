package host

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// The udp-socket getters and setters of wasi:sockets@0.3.0 on the Go API:
// addresses (a socket bound to the unspecified address reports, once
// connected, the loopback address its datagrams leave from, as Linux
// does), the address family and the options.
func TestUDPSurface(t *testing.T) {
	runGuest(t, Options{}, 5, func(h *Host, in *Instance) error {
		u, err := in.NewUDPSocket(vnet.IPv4)
		if err != nil {
			return err
		}
		if _, err := in.UDPLocalAddress(u); !errors.Is(err, vnet.ErrInvalidState) {
			return fmt.Errorf("local address of an unbound socket: %v", err)
		}
		if err := in.UDPBind(u, netip.MustParseAddrPort("0.0.0.0:0")); err != nil {
			return err
		}
		bound, err := in.UDPLocalAddress(u)
		if err != nil || !bound.Addr().IsUnspecified() || bound.Port() == 0 {
			return fmt.Errorf("local address after bind: %v %v", bound, err)
		}
		if _, err := in.UDPRemoteAddress(u); !errors.Is(err, vnet.ErrInvalidState) {
			return fmt.Errorf("remote address unconnected: %v", err)
		}
		peer := netip.MustParseAddrPort("127.0.0.1:4242")
		if err := in.UDPConnect(u, peer); err != nil {
			return err
		}
		if la, _ := in.UDPLocalAddress(u); la != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), bound.Port()) {
			return fmt.Errorf("local address after connect: %v", la)
		}
		if ra, err := in.UDPRemoteAddress(u); ra != peer || err != nil {
			return fmt.Errorf("remote address: %v %v", ra, err)
		}
		if f, err := in.UDPAddressFamily(u); f != vnet.IPv4 || err != nil {
			return fmt.Errorf("family: %v %v", f, err)
		}
		if err := in.SetUnicastHopLimit(u, 0); !errors.Is(err, vnet.ErrInvalidArgument) {
			return fmt.Errorf("hop limit 0: %v", err)
		}
		if err := in.SetUnicastHopLimit(u, 42); err != nil {
			return err
		}
		if v, _ := in.UnicastHopLimit(u); v != 42 {
			return fmt.Errorf("hop limit %d", v)
		}
		for _, b := range []struct {
			set func(Handle, uint64) error
			get func(Handle) (uint64, error)
		}{{in.SetUDPReceiveBufferSize, in.UDPReceiveBufferSize}, {in.SetUDPSendBufferSize, in.UDPSendBufferSize}} {
			if err := b.set(u, 0); !errors.Is(err, vnet.ErrInvalidArgument) {
				return fmt.Errorf("buffer size 0: %v", err)
			}
			if err := b.set(u, 0x10000); err != nil {
				return err
			}
			if v, _ := b.get(u); v != 0x10000 {
				return fmt.Errorf("buffer size %d", v)
			}
		}
		return in.DropAll()
	})
}

// A udp-socket getter on a dropped handle traps, as every method does.
func TestUDPGetterOnDeadHandleTraps(t *testing.T) {
	var got error
	res, _, err := sim.RunOnce(sim.Config{Seed: 1}, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		u, _ := in.NewUDPSocket(vnet.IPv6)
		must(in.Drop(u))
		_, got = in.UDPLocalAddress(u)
		return nil
	}))
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	var trap *Trap
	if !errors.As(got, &trap) || trap.Kind != TrapDeadHandle {
		t.Fatalf("got %v, want a dead-handle trap", got)
	}
}
