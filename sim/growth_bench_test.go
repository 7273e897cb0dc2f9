package sim

import (
	"context"
	"strconv"
	"testing"
)

// threeTasksN is threeTasks scaled: the producer makes p items, the
// consumer takes them, the dropper yields p/2 times. p=16 is threeTasks
// (46 steps); steps grow about 2.9 per unit of p.
func threeTasksN(p int) Scenario {
	return func(w *World) error {
		refs := 3
		q := w.NewWaitQueue("data")
		data := 0
		release := func() {
			refs--
			if refs == 0 {
				w.Event("release", "obj#1", "")
			}
		}
		w.Go("producer", func(t *Task) error {
			for range p {
				data++
				q.Signal()
				w.Yield()
			}
			release()
			return nil
		})
		w.Go("consumer", func(t *Task) error {
			for got := 0; got < p; {
				for data == 0 {
					q.Wait("data")
				}
				got += data
				data = 0
				w.Yield()
			}
			release()
			return nil
		})
		w.Go("dropper", func(t *Task) error {
			for range p / 2 {
				w.Yield()
			}
			release()
			return nil
		})
		return nil
	}
}

// BenchmarkScheduleGrowth is whole runs per second of the 3-task scenario
// as it grows from about 10 to about 1,000 steps (random strategy, no
// trace). ns/step flat across sizes means a run's cost is linear in its
// steps; the fixed per-run cost (world, three coroutines) shows at steps=10.
func BenchmarkScheduleGrowth(b *testing.B) {
	for _, steps := range []int{10, 100, 1000} {
		p := max(steps*16/46, 1)
		sc := threeTasksN(p)
		b.Run("steps="+strconv.Itoa(steps), func(b *testing.B) {
			var total int64
			seed := uint64(0)
			for b.Loop() {
				seed++
				res, _, _ := RunOnce(Config{Seed: seed}, sc)
				if res.Failed() {
					b.Fatal(res.Error())
				}
				total += res.Steps
			}
			b.ReportMetric(float64(total)/float64(b.N), "steps/run")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/step")
		})
	}
}

// BenchmarkExplore is Explore's throughput on threeTasks (random strategy)
// with 1 and 2 workers: one op is one run. runs/s/worker equal across the
// worker counts means linear scaling (up to the machine's core count).
func BenchmarkExplore(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			rep, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Seed: 1, Runs: b.N, Workers: workers, KeepGoing: true}, threeTasks)
			if err != nil || len(rep.Failures) > 0 || rep.Runs != b.N {
				b.Fatal(err, rep.Runs, rep.Failures)
			}
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "runs/s")
			b.ReportMetric(rate/float64(workers), "runs/s/worker")
		})
	}
}

// BenchmarkTraceEncode is the cost of writing a recorded trace of
// threeTasks as JSON Lines: one op encodes the whole trace.
func BenchmarkTraceEncode(b *testing.B) {
	_, tr, _ := RunOnce(Config{Seed: 1, Trace: true}, threeTasks)
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		n, err := tr.WriteTo(discard{})
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	b.ReportMetric(float64(len(tr.Events)), "events/run")
	b.ReportMetric(float64(size), "trace-bytes/run")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.Events)), "ns/event")
}
