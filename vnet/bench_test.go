package vnet

import (
	"io"
	"net/netip"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

func benchWorld(b *testing.B, opt Options) (*sim.World, *Net) {
	w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 1 << 62})
	opt.World = w
	return w, New(opt)
}

// BenchmarkConnectAcceptClose measures a full connection lifecycle in world
// mode: connect (implicit bind), accept, close on both sides.
func BenchmarkConnectAcceptClose(b *testing.B) {
	w, n := benchWorld(b, Options{})
	l, _ := n.NewTCP(IPv4)
	if err := l.Bind(ap("127.0.0.1:80")); err != nil {
		b.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	w.Go("server", func(*sim.Task) error {
		defer l.DecRef()
		for i := 0; i < b.N; i++ {
			s, err := l.Accept()
			if err != nil {
				return err
			}
			s.DecRef()
		}
		return nil
	})
	w.Go("client", func(*sim.Task) error {
		for i := 0; i < b.N; i++ {
			c, _ := n.NewTCP(IPv4)
			if err := c.Connect(ap("127.0.0.1:80")); err != nil {
				return err
			}
			c.DecRef()
		}
		return nil
	})
	if res := w.Run(); res.Failed() {
		b.Fatal(res.Error())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}

const benchBytes = 64 << 20

func pump(b *testing.B, n *Net, spawn func(name string, fn func() error)) {
	l, _ := n.NewTCP(IPv4)
	if err := l.Listen(); err != nil {
		b.Fatal(err)
	}
	la, _ := l.LocalAddr()
	dst := netip.AddrPortFrom(lo4, la.Port())
	spawn("writer", func() error {
		c, _ := n.NewTCP(IPv4)
		defer c.DecRef()
		if err := c.Connect(dst); err != nil {
			return err
		}
		chunk := make([]byte, 32<<10)
		for sent := 0; sent < benchBytes; sent += len(chunk) {
			if err := writeAll(c, chunk); err != nil {
				return err
			}
		}
		return c.ShutdownWrite()
	})
	spawn("reader", func() error {
		defer l.DecRef()
		s, err := l.Accept()
		if err != nil {
			return err
		}
		defer s.DecRef()
		got, err := io.Copy(io.Discard, struct{ io.Reader }{s})
		if err == nil && got != benchBytes {
			b.Errorf("got %d bytes", got)
		}
		return err
	})
}

// BenchmarkThroughput64MiB moves 64 MiB through one connection (64 KiB
// buffer, 32 KiB writes) in world mode; MB/s is the figure.
func BenchmarkThroughput64MiB(b *testing.B) {
	b.SetBytes(benchBytes)
	for i := 0; i < b.N; i++ {
		w, n := benchWorld(b, Options{})
		pump(b, n, func(name string, fn func() error) {
			w.Go(name, func(*sim.Task) error { return fn() })
		})
		if res := w.Run(); res.Failed() {
			b.Fatal(res.Error())
		}
	}
}

// BenchmarkThroughput64MiBGoroutines is the same transfer in goroutine
// mode (World == nil), for comparison.
func BenchmarkThroughput64MiBGoroutines(b *testing.B) {
	b.SetBytes(benchBytes)
	for i := 0; i < b.N; i++ {
		n := New(Options{})
		done := make(chan error, 2)
		pump(b, n, func(name string, fn func() error) {
			go func() { done <- fn() }()
		})
		for j := 0; j < 2; j++ {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
}
