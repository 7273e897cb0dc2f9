package vnet

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleConn is the heap cost of an idle established TCP connection
// in world mode, reported as B/conn: per connected pair (the client socket,
// the accepted socket, their two pipes, the client's port binding and the
// live-table entries), with no data sent, so no ring buffer is allocated
// yet (buffers are made on first write, BufferSize each direction). The
// sizes show how memory grows with the number of connections; an op is one
// world that establishes n connections.
func BenchmarkIdleConn(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run("conns="+strconv.Itoa(n), func(b *testing.B) {
			var total float64
			for b.Loop() {
				w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 1 << 62})
				nt := New(Options{World: w, NoLeakCheck: true, EphemeralLow: 1024, EphemeralHigh: 65535})
				l, _ := nt.NewTCP(IPv4)
				if err := l.Bind(ap("127.0.0.1:80")); err != nil {
					b.Fatal(err)
				}
				if err := l.SetListenBacklogSize(uint64(n)); err != nil {
					b.Fatal(err)
				}
				if err := l.Listen(); err != nil {
					b.Fatal(err)
				}
				clients := make([]*TCPSocket, 0, n)
				servers := make([]*TCPSocket, 0, n)
				h0 := heapInUse()
				w.Go("client", func(*sim.Task) error {
					for range n {
						c, _ := nt.NewTCP(IPv4)
						if err := c.Connect(ap("127.0.0.1:80")); err != nil {
							return err
						}
						clients = append(clients, c)
					}
					return nil
				})
				w.Go("server", func(*sim.Task) error {
					for range n {
						s, err := l.Accept()
						if err != nil {
							return err
						}
						servers = append(servers, s)
					}
					return nil
				})
				if res := w.Run(); res.Failed() {
					b.Fatal(res.Error())
				}
				h1 := heapInUse()
				total += (float64(h1) - float64(h0)) / float64(n)
				for i := range clients {
					clients[i].DecRef()
					servers[i].DecRef()
				}
				l.DecRef()
			}
			b.ReportMetric(total/float64(b.N), "B/conn")
		})
	}
}

// BenchmarkMemmove64MiB is the peer of BenchmarkThroughput64MiB in this
// package's run: one copy of 64 MiB in one process.
func BenchmarkMemmove64MiB(b *testing.B) {
	src, dst := make([]byte, benchBytes), make([]byte, benchBytes)
	b.SetBytes(benchBytes)
	for b.Loop() {
		copy(dst, src)
	}
}
