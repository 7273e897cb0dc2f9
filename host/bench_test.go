package host

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

const benchSize = 64 << 20

// BenchmarkMemmove is the peer of the 64 MiB figures: one copy of 64 MiB
// in one process.
func BenchmarkMemmove(b *testing.B) {
	src, dst := make([]byte, benchSize), make([]byte, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		copy(dst, src)
	}
}

// BenchmarkWriteViaStream64MiB writes 64 MiB through write-via-stream in
// guest writes of chunk bytes; the host consumer takes chunk bytes per copy.
func BenchmarkWriteViaStream64MiB(b *testing.B) {
	for _, chunk := range []int{8 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("chunk=%dKiB", chunk>>10), func(b *testing.B) {
			data := bytes.Repeat([]byte{7}, benchSize)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 1 << 30})
				h, _ := New(w, Options{Chunk: chunk})
				in := h.NewInstance("bench")
				w.Go("guest", func(*sim.Task) error {
					pre, _ := in.Preopens()
					fd, err := in.OpenAt(pre[0].Handle, 0, "big", vfs.OpenCreate, vfs.Write)
					if err != nil {
						return err
					}
					r, wr, _ := in.NewStream()
					fut, _ := in.WriteViaStream(fd, r, 0)
					for i := 0; i < len(data); i += chunk {
						if _, _, err := in.WriteAll(wr, data[i:i+chunk]); err != nil {
							return err
						}
					}
					in.Drop(wr)
					if res, err := in.Await(fut); res != nil || err != nil {
						return fmt.Errorf("%v %v", res, err)
					}
					return in.DropAll()
				})
				if res := w.Run(); res.Failed() {
					b.Fatal(res.Error())
				}
			}
		})
	}
}

// BenchmarkTCP64MiB sends 64 MiB over a vnet connection: send stream on one
// side, receive stream on the other.
func BenchmarkTCP64MiB(b *testing.B) {
	const chunk = 64 << 10
	data := bytes.Repeat([]byte{7}, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w := sim.MustNew(sim.Config{Seed: 1, MaxSteps: 1 << 30})
		// Host copies of DefaultChunk (8 KiB, as Wasmtime), guest copies of 64 KiB.
		sc := netScenarioWith(Options{}, func(h *Host, in *Instance) error {
			_, ls, err := listen(in)
			if err != nil {
				return err
			}
			c, _, _ := in.Accept(ls)
			d, f, _ := in.Receive(c)
			n := 0
			buf := make([]byte, chunk)
			for {
				k, res, err := in.ReadInto(d, buf)
				if err != nil {
					return err
				}
				n += k
				if res.Status == Dropped {
					break
				}
			}
			if n != benchSize {
				return fmt.Errorf("received %d", n)
			}
			in.Await(f)
			return in.DropAll()
		}, func(h *Host, in *Instance) error {
			s, err := dial(h, in)
			if err != nil {
				return err
			}
			r, wr, _ := in.NewStream()
			f, _ := in.Send(s, r)
			for i := 0; i < len(data); i += chunk {
				in.WriteAll(wr, data[i:i+chunk])
			}
			in.Drop(wr)
			in.Await(f)
			return in.DropAll()
		})
		if err := sc(w); err != nil {
			b.Fatal(err)
		}
		if res := w.Run(); res.Failed() {
			b.Fatal(res.Error())
		}
	}
}

// dropScenario is the benchmark's drop scenario: three tasks of one guest —
// a writer feeding write-via-stream, a dropper that drops the descriptor
// mid-write, and a locker probing the lock the descriptor's open file
// description holds until its last reference goes. About 50 steps.
func dropScenario(w *sim.World) error {
	h, err := New(w, Options{Chunk: 16})
	if err != nil {
		return err
	}
	in := h.NewInstance("guest")
	w.Go("main", func(*sim.Task) error {
		pre, _ := in.Preopens()
		root := pre[0].Handle
		fd, err := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Write)
		if err != nil {
			return err
		}
		in.TryLock(fd, vfs.LockExclusive)
		r, wr, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		writer := w.Go("writer", func(*sim.Task) error {
			for range 10 {
				in.WriteAll(wr, []byte("0123456789abcdef"))
			}
			return in.Drop(wr)
		})
		dropper := w.Go("dropper", func(*sim.Task) error { return in.Drop(fd) })
		if err := writer.Join(); err != nil {
			return err
		}
		if err := dropper.Join(); err != nil {
			return err
		}
		if res, err := in.Await(fut); res != nil || err != nil {
			return fmt.Errorf("%v %v", res, err)
		}
		return in.Drop(fut)
	})
	return nil
}

// BenchmarkDropScenario is whole runs per second of dropScenario under the
// random strategy, with tracing off and on (the trace encoded each run).
func BenchmarkDropScenario(b *testing.B) {
	for _, trace := range []bool{false, true} {
		b.Run(fmt.Sprintf("trace=%v", trace), func(b *testing.B) {
			var steps, size int64
			seed := uint64(0)
			for b.Loop() {
				seed++
				res, tr, err := sim.RunOnce(sim.Config{Seed: seed, Trace: trace}, dropScenario)
				if err != nil || res.Failed() {
					b.Fatal(err, res.Error())
				}
				steps += res.Steps
				if tr != nil {
					n, _ := tr.WriteTo(io.Discard)
					size += n
				}
			}
			b.ReportMetric(float64(steps)/float64(b.N), "steps/run")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
			if trace {
				b.ReportMetric(float64(size)/float64(b.N), "trace-bytes/run")
			}
		})
	}
}
