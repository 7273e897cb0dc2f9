package vnet

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

// TestNetConn runs golang.org/x/net/nettest.TestConn against the net.Conn
// adapter in goroutine mode (World == nil, real deadlines).
func TestNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		n := New(Options{Seed: 1})
		ln, err := n.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, nil, err
		}
		type res struct {
			c   net.Conn
			err error
		}
		ch := make(chan res, 1)
		go func() {
			c, err := ln.Accept()
			ch <- res{c, err}
		}()
		c1, err = n.Dial("tcp", ln.Addr().String())
		if err != nil {
			ln.Close()
			return nil, nil, nil, err
		}
		r := <-ch
		if r.err != nil {
			c1.Close()
			ln.Close()
			return nil, nil, nil, r.err
		}
		stop = func() {
			c1.Close()
			r.c.Close()
			ln.Close()
			if live := n.Live(); len(live) != 0 {
				t.Errorf("sockets still live after stop: %v", live)
			}
		}
		return c1, r.c, stop, nil
	})
}
