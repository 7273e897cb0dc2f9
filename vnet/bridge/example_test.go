package bridge_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
	"github.com/wasisim/wasisim/vnet/bridge"
)

// A guest in a world reaches a server on the machine's loopback through a
// forwarded address; every byte from the machine is recorded, so the
// trace replays without the server.
func ExampleNew() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hello from the machine")) //nolint:errcheck
			c.Close()
		}
	}()
	machine := netip.MustParseAddrPort(ln.Addr().String())

	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	n := vnet.New(vnet.Options{World: w})
	b, err := bridge.New(n, bridge.Options{
		Forward: []bridge.Mapping{{Host: machine, Guest: netip.MustParseAddrPort("10.0.0.1:80")}},
		Live:    true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	guest := w.Go("guest", func(*sim.Task) error {
		s, _ := n.NewTCP(vnet.IPv4)
		defer s.DecRef() //nolint:errcheck
		if err := s.Connect(netip.MustParseAddrPort("10.0.0.1:80")); err != nil {
			return err
		}
		got, err := io.ReadAll(s)
		fmt.Printf("guest got: %s (%v)\n", got, err)
		return nil
	})
	b.CloseAfter(guest)
	res := w.Run()
	b.Shutdown(time.Second)
	fmt.Println("run:", res.Outcome())
	// Output:
	// guest got: hello from the machine (<nil>)
	// run: ok
}
