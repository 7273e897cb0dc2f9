package host

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

// BenchmarkExploreDrop is sim.Explore's throughput on the drop scenario
// (random strategy) with 1 and 2 workers; one op is one run.
// runs/s/worker equal across worker counts is linear scaling, which holds
// up to the number of cores.
func BenchmarkExploreDrop(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 1, Runs: b.N, Workers: workers, KeepGoing: true}, dropScenario)
			if err != nil || len(rep.Failures) > 0 || rep.Runs != b.N {
				b.Fatal(err, rep.Runs, rep.Failures)
			}
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "runs/s")
			b.ReportMetric(rate/float64(workers), "runs/s/worker")
		})
	}
}

// BenchmarkDropTrace splits the cost of tracing the drop scenario: off,
// recorded but not written, and recorded then written (JSON Lines to
// io.Discard). encode is the write alone of one recorded trace, with
// ns/event and trace-bytes/run.
func BenchmarkDropTrace(b *testing.B) {
	// off: no trace; choices(+write): the compact trace that reproduces the
	// run; record(+write): every event.
	for _, mode := range []string{"off", "choices", "choices+write", "record", "record+write"} {
		b.Run(mode, func(b *testing.B) {
			seed := uint64(0)
			var size int64
			for b.Loop() {
				seed++
				cfg := sim.Config{Seed: seed, Trace: strings.HasPrefix(mode, "record"), TraceChoices: strings.HasPrefix(mode, "choices")}
				res, tr, err := sim.RunOnce(cfg, dropScenario)
				if err != nil || res.Failed() {
					b.Fatal(err, res.Error())
				}
				if strings.HasSuffix(mode, "+write") {
					n, _ := tr.WriteTo(io.Discard)
					size += n
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
			if size > 0 {
				b.ReportMetric(float64(size)/float64(b.N), "trace-bytes/run")
			}
		})
	}
	b.Run("encode", func(b *testing.B) {
		_, tr, err := sim.RunOnce(sim.Config{Seed: 1, Trace: true}, dropScenario)
		if err != nil {
			b.Fatal(err)
		}
		var size int64
		b.ReportAllocs()
		for b.Loop() {
			size, _ = tr.WriteTo(io.Discard)
		}
		b.ReportMetric(float64(len(tr.Events)), "events/run")
		b.ReportMetric(float64(size), "trace-bytes/run")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.Events)), "ns/event")
	})
}
