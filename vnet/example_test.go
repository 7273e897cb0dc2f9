package vnet_test

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// Ordinary Go networking code over vnet without a world: plain goroutines
// and real-time deadlines.
func Example() {
	n := vnet.New(vnet.Options{})
	ln, _ := n.Listen("tcp", "127.0.0.1:8080")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo until the client shuts down writing
	}()
	c, _ := n.Dial("tcp", "localhost:8080")
	defer c.Close()
	c.Write([]byte("ping"))
	c.(*vnet.Conn).CloseWrite()
	reply, _ := io.ReadAll(c)
	fmt.Printf("%s from %s\n", reply, c.RemoteAddr())
	// Output: ping from 127.0.0.1:8080
}

// Inside a sim world every blocking call is a scheduling point, and the
// run is a pure function of the seed: the trace records binds, connects
// and releases.
func Example_world() {
	w := sim.MustNew(sim.Config{Seed: 1})
	n := vnet.New(vnet.Options{World: w})
	l, _ := n.NewTCP(vnet.IPv4)
	l.Bind(netip.MustParseAddrPort("127.0.0.1:7"))
	l.Listen()
	w.Go("server", func(*sim.Task) error {
		defer l.DecRef()
		s, err := l.Accept() // waits in the world until the client connects
		if err != nil {
			return err
		}
		defer s.DecRef()
		msg, _ := io.ReadAll(s)
		fmt.Printf("server got %q\n", msg)
		return nil
	})
	w.Go("client", func(*sim.Task) error {
		c, _ := n.NewTCP(vnet.IPv4)
		defer c.DecRef()
		if err := c.Connect(netip.MustParseAddrPort("127.0.0.1:7")); err != nil {
			return err
		}
		c.Write([]byte("hello"))
		return c.ShutdownWrite()
	})
	res := w.Run()
	fmt.Println("ok:", !res.Failed(), "live sockets:", len(n.Live()))
	// Output:
	// server got "hello"
	// ok: true live sockets: 0
}

// The port binding lives exactly as long as the last reference.
func ExampleTCPSocket_DecRef() {
	n := vnet.New(vnet.Options{})
	addr := netip.MustParseAddrPort("127.0.0.1:9000")
	s, _ := n.NewTCP(vnet.IPv4)
	s.Bind(addr)
	s.IncRef() // a second holder, e.g. a stream
	s.DecRef()
	fmt.Println(n.PortBound(vnet.TCP, addr), s.State())
	s.DecRef()
	fmt.Println(n.PortBound(vnet.TCP, addr), s.State())
	fmt.Println(s.DecRef())
	// Output:
	// true bound
	// false closed
	// vnet: DecRef of released tcp#1: invalid-state
}

func ExampleNet_Resolve() {
	n := vnet.New(vnet.Options{})
	addrs, _ := n.Resolve("localhost")
	fmt.Println(addrs)
	_, err := n.Resolve("127.0.0.1:80")
	fmt.Println(err)
	// Output:
	// [127.0.0.1 ::1]
	// invalid-argument
}

func ExampleUDPSocket_Send() {
	n := vnet.New(vnet.Options{})
	srv, _ := n.NewUDP(vnet.IPv6)
	srv.Bind(netip.MustParseAddrPort("[::1]:53"))
	cli, _ := n.NewUDP(vnet.IPv6)
	cli.Connect(netip.MustParseAddrPort("[::1]:53"))
	cli.Send([]byte("query"), nil)
	data, from, _ := srv.Receive()
	fmt.Printf("%s from loopback: %v\n", data, from.Addr().IsLoopback())
	// Output: query from loopback: true
}
