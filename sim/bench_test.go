package sim

import (
	"iter"
	"testing"
)

// BenchmarkSwitch compares the two task designs the world could use: a
// goroutine per task handing a baton over channels, and an iter.Pull
// coroutine (what World uses). One op is one switch into a task and back.
func BenchmarkSwitch(b *testing.B) {
	b.Run("channel-baton", func(b *testing.B) {
		to, back := make(chan struct{}), make(chan struct{})
		go func() {
			for range to {
				back <- struct{}{}
			}
		}()
		for b.Loop() {
			to <- struct{}{}
			<-back
		}
		close(to)
	})
	b.Run("iter-pull", func(b *testing.B) {
		next, stop := iter.Pull(func(yield func(struct{}) bool) {
			for yield(struct{}{}) {
			}
		})
		for b.Loop() {
			next()
		}
		stop()
	})
}

// BenchmarkStep is the cost of one scheduling step of the world: a task
// yields, the strategy picks among 3 runnable tasks, the next resumes.
func BenchmarkStep(b *testing.B) {
	for _, name := range []string{"random", "round-robin", "pct"} {
		b.Run(name, func(b *testing.B) {
			st, _ := NewStrategy(name, 1, StrategyOptions{PCT: PCTOptions{Depth: 3, Steps: b.N + 1}})
			w := MustNew(Config{Strategy: st, MaxSteps: int64(b.N) + 10})
			per := b.N/3 + 1
			for range 3 {
				w.Go("t", func(t *Task) error {
					for range per {
						w.Yield()
					}
					return nil
				})
			}
			b.ResetTimer()
			res := w.Run()
			if res.Failed() {
				b.Fatal(res.Error())
			}
		})
	}
}

// threeTasks is a 50-step, 3-task drop-like scenario: a producer, a
// consumer and a dropper sharing a refcounted object.
func threeTasks(w *World) error {
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
		for range 16 {
			data++
			q.Signal()
			w.Yield()
		}
		release()
		return nil
	})
	w.Go("consumer", func(t *Task) error {
		for got := 0; got < 16; {
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
		for range 8 {
			w.Yield()
		}
		release()
		return nil
	})
	return nil
}

// BenchmarkSchedules is whole runs per second of a ~50-step, 3-task
// scenario, with and without tracing.
func BenchmarkSchedules(b *testing.B) {
	for _, trace := range []bool{false, true} {
		name := "trace=off"
		if trace {
			name = "trace=on"
		}
		b.Run(name, func(b *testing.B) {
			var steps int64
			i := uint64(0)
			for b.Loop() {
				i++
				res, tr, _ := RunOnce(Config{Seed: i, Trace: trace}, threeTasks)
				if res.Failed() {
					b.Fatal(res.Error())
				}
				if tr != nil {
					tr.WriteTo(discard{}) //nolint:errcheck
				}
				steps += res.Steps
			}
			b.ReportMetric(float64(steps)/float64(b.N), "steps/run")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkReductionStep is the cost of partial-order reduction per
// scheduling step, next to the same step without it, in an exhaustive
// search: runs of three annotated tasks of 16 steps, each step touching
// the task's own object and reading a shared one (every fourth writes
// it, so there are races to analyse). "plain" searches without
// reduction (no footprints recorded), "reduced" with it (recording,
// vector clocks, race analysis, sleep sets). One op is one step.
func BenchmarkReductionStep(b *testing.B) {
	sc := func(w *World) error {
		for id := range 3 {
			w.Go("t", func(t *Task) error {
				for i := range 16 {
					w.Touch(Obj{ObjUser, uint64(id) + 1}, Write)
					if i%4 == id {
						w.Touch(Obj{ObjUser, 0}, Write)
					} else {
						w.Touch(Obj{ObjUser, 0}, Read)
					}
					w.YieldBoundary()
				}
				return nil
			}).Annotated()
		}
		return nil
	}
	for _, reduce := range []bool{false, true} {
		name := "plain"
		if reduce {
			name = "reduced"
		}
		b.Run(name, func(b *testing.B) {
			s := newSearch(reduce, DFSOptions{}, Spec{Name: "dfs"})
			var steps, runs int64
			for steps < int64(b.N) {
				res, _, _ := RunOnce(Config{Strategy: s.strategy()}, sc)
				steps += res.Steps
				runs++
				if !s.next() {
					s = newSearch(reduce, DFSOptions{}, Spec{Name: "dfs"})
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
			b.ReportMetric(float64(steps)/float64(runs), "steps/run")
		})
	}
}
