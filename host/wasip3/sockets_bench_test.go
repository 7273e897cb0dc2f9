package wasip3

import (
	"strconv"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// runPair runs a server and a client netpeer component in one world with
// host copies of chunk bytes and fails the benchmark unless both exit 0.
func runPair(b *testing.B, chunk int, server, client []string) {
	comp := netpeer(b)
	w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 1 << 40})
	h, err := host.New(w, host.Options{Chunk: chunk})
	if err != nil {
		b.Fatal(err)
	}
	srv := Spawn(h, comp, Config{Name: "server", Args: server})
	cli := Spawn(h, comp, Config{Name: "client", Args: client})
	if res := w.Run(); res.Failed() || srv.ExitCode() != 0 || cli.ExitCode() != 0 {
		b.Fatalf("run: %v; server %d, client %d", res.Error(), srv.ExitCode(), cli.ExitCode())
	}
}

// BenchmarkComponentRoundTrips is connect + accept + one byte each way
// between two components (netpeer rt-server and rt-client), 100
// connections per world; conns/s is the figure.
func BenchmarkComponentRoundTrips(b *testing.B) {
	const n = 100
	netpeer(b) // compile outside the timer
	args := strconv.Itoa(n)
	b.ReportAllocs()
	for b.Loop() {
		runPair(b, host.DefaultChunk, []string{"rt-server", args}, []string{"rt-client", args})
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "conns/s")
}

// BenchmarkComponentTransfer64MiB moves 64 MiB from one component to
// another through tcp-socket send and receive streams (netpeer bulk-client
// and bulk-server, 64 KiB guest writes and reads), with host copies of
// the default 8 KiB and of 64 KiB. Its peer is BenchmarkMemmove64MiB.
func BenchmarkComponentTransfer64MiB(b *testing.B) {
	const size = 64 << 20
	chunks := strconv.Itoa(size >> 16)
	for _, chunk := range []int{host.DefaultChunk, 64 << 10} {
		b.Run("chunk="+strconv.Itoa(chunk>>10)+"KiB", func(b *testing.B) {
			netpeer(b)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				runPair(b, chunk, []string{"bulk-server", chunks}, []string{"bulk-client", chunks})
			}
		})
	}
}

// BenchmarkMemmove64MiB is the peer of the transfer: one copy of 64 MiB
// in the same process.
func BenchmarkMemmove64MiB(b *testing.B) {
	src, dst := make([]byte, 64<<20), make([]byte, 64<<20)
	b.SetBytes(64 << 20)
	for b.Loop() {
		copy(dst, src)
	}
}
