package wasip3

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// Benchmarks of the WASI 0.3 conformance components. They check that each
// run ends as the test expects (a wrong run is not a figure) but never
// time-assert anything. scripts/benchcomp runs them next to jco.

// passing is the conformance components that pass in the simulation.
func passing(b *testing.B) []*suiteCase {
	var out []*suiteCase
	for _, c := range loadSuite(b) {
		if c.kind() == "pass" {
			out = append(out, c)
		}
	}
	return out
}

// runTimed compiles c with eng and runs it to exit in a fresh world, and
// returns how long the compilation and the run (instantiation included)
// took.
func runTimed(b *testing.B, eng *component.Engine, c *suiteCase, seed uint64) (compile, run time.Duration) {
	t0 := time.Now()
	comp, err := eng.Compile(c.wasm)
	if err != nil {
		b.Fatalf("%s: compile: %v", c.name, err)
	}
	t1 := time.Now()
	w := sim.MustNew(sim.Config{Seed: seed})
	// The world the tests build, the peer of a networked case included.
	g, cr, err := c.start(b, w, comp)
	if err != nil {
		b.Fatal(err)
	}
	res := w.Run()
	t2 := time.Now()
	if err := c.check(g, cr, res); err != nil {
		b.Fatalf("%s: %v", c.name, err)
	}
	return t1.Sub(t0), t2.Sub(t1)
}

// BenchmarkComponentRun is the time to run each passing conformance
// component end to end: compile, instantiate, run to exit, in a fresh
// world each time. One op is one such run.
//
//   - warm: one Engine for every run: the component is compiled once
//     (before the timer); each run's Compile finds it by content (what a
//     long-lived process running one component repeatedly pays).
//   - cache: a new Engine per run on a wazero compilation cache that is
//     already warm (what a new process with an on-disk cache pays, less
//     reading the files).
//   - cold: a new Engine and a new, empty compilation cache per run: every
//     core module is compiled by wazero's compiler.
//
// compile-ns/op and run-ns/op split each op into Engine.Compile and the
// rest (world set-up, instantiation, the run).
func BenchmarkComponentRun(b *testing.B) {
	for _, c := range passing(b) {
		b.Run(c.name, func(b *testing.B) {
			b.Run("warm", func(b *testing.B) {
				eng := component.NewEngine(component.EngineConfig{Cache: wazero.NewCompilationCache()})
				defer eng.Close()
				runTimed(b, eng, c, 1)
				b.ResetTimer()
				var comp, run time.Duration
				for i := 0; i < b.N; i++ {
					c1, r1 := runTimed(b, eng, c, 1)
					comp, run = comp+c1, run+r1
				}
				reportSplit(b, comp, run)
			})
			b.Run("cache", func(b *testing.B) {
				cache := wazero.NewCompilationCache()
				defer cache.Close(context.Background())
				warm := component.NewEngine(component.EngineConfig{Cache: cache})
				runTimed(b, warm, c, 1)
				b.ResetTimer()
				var comp, run time.Duration
				for i := 0; i < b.N; i++ {
					eng := component.NewEngine(component.EngineConfig{Cache: cache})
					c1, r1 := runTimed(b, eng, c, 1)
					comp, run = comp+c1, run+r1
					eng.Close()
				}
				b.StopTimer()
				warm.Close()
				reportSplit(b, comp, run)
			})
			b.Run("cold", func(b *testing.B) {
				var comp, run time.Duration
				for i := 0; i < b.N; i++ {
					cache := wazero.NewCompilationCache()
					eng := component.NewEngine(component.EngineConfig{Cache: cache})
					c1, r1 := runTimed(b, eng, c, 1)
					comp, run = comp+c1, run+r1
					eng.Close()
					cache.Close(context.Background())
				}
				reportSplit(b, comp, run)
			})
		})
	}
}

func reportSplit(b *testing.B, comp, run time.Duration) {
	b.ReportMetric(float64(comp.Nanoseconds())/float64(b.N), "compile-ns/op")
	b.ReportMetric(float64(run.Nanoseconds())/float64(b.N), "run-ns/op")
}

// exploreCases are the components whose exploration throughput is
// measured: filesystem ones, each schedule a fresh world, file tree and
// instance.
var exploreCases = []string{"filesystem-io", "filesystem-read-directory"}

// BenchmarkExplore is sim.Explore's throughput on conformance components
// (random strategy, one worker, the scenario TestConformanceExplored
// explores: a fresh world, file tree copied from disk, instance and
// run per schedule, stdout and exit code checked). One op is one
// schedule; schedules/s is per core, since there is one worker.
func BenchmarkExplore(b *testing.B) {
	eng := component.NewEngine(component.EngineConfig{Cache: wazero.NewCompilationCache()})
	defer eng.Close()
	for _, c := range passing(b) {
		if !slices.Contains(exploreCases, c.name) {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			comp, err := eng.Compile(c.wasm)
			if err != nil {
				b.Fatal(err)
			}
			sc := c.scenario(b, comp)
			b.ResetTimer()
			rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 7, Runs: b.N, Workers: 1}, sc)
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Failures) > 0 {
				f := rep.Failures[0]
				b.Fatalf("run %d: %v", f.Run, f.Err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
		})
	}
}

// BenchmarkExploreDFS is exhaustive search's throughput on conformance
// components, with partial-order reduction and without (Plain): one
// worker, b.N schedules of a tree far larger than any budget. A
// component's guest steps are not annotated, so each is dependent on
// every other step and the reduction's analysis is all its cost here.
func BenchmarkExploreDFS(b *testing.B) {
	eng := component.NewEngine(component.EngineConfig{Cache: wazero.NewCompilationCache()})
	defer eng.Close()
	for _, c := range passing(b) {
		if c.name != "filesystem-io" && c.name != "sockets-tcp-connect" {
			continue
		}
		comp, err := eng.Compile(c.wasm)
		if err != nil {
			b.Fatal(err)
		}
		sc := c.scenario(b, comp)
		for _, plain := range []bool{false, true} {
			name := c.name + "/reduced"
			if plain {
				name = c.name + "/plain"
			}
			b.Run(name, func(b *testing.B) {
				opt := sim.ExploreOptions{Strategy: "dfs", Seed: 7, Runs: b.N, Workers: 1}
				opt.Options.DFS.Plain = plain
				rep, err := sim.Explore(context.Background(), opt, sc)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Failures) > 0 {
					b.Fatalf("run %d: %v", rep.Failures[0].Run, rep.Failures[0].Err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
			})
		}
	}
}

// BenchmarkSchedulePhases splits one explored schedule of the same
// components into cumulative phases, each a full world run (random
// strategy, a new seed per op):
//
//   - world: the world, the file tree copied in, the host;
//   - instantiate: that, plus instantiating the component with the WASI
//     linker (one for every op, as Spawn has) in a task and closing it
//     (no export called);
//   - run: that, plus calling wasi:cli/run to exit (a whole schedule).
//
// The differences are the cost of instantiation and of execution.
func BenchmarkSchedulePhases(b *testing.B) {
	eng := component.NewEngine(component.EngineConfig{Cache: wazero.NewCompilationCache()})
	defer eng.Close()
	for _, c := range passing(b) {
		if !slices.Contains(exploreCases, c.name) {
			continue
		}
		comp, err := eng.Compile(c.wasm)
		if err != nil {
			b.Fatal(err)
		}
		linker := NewLinker(Config{})
		for _, phase := range []string{"world", "instantiate", "run"} {
			b.Run(c.name+"/"+phase, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					w := sim.MustNew(sim.Config{Seed: uint64(i)})
					fsys := vfs.New(vfs.Options{World: w})
					if c.spec.Root != "" {
						copyTree(b, fsys, filepath.Join(suiteDir, c.spec.Root))
					}
					out := &stdoutLog{q: w.NewWaitQueue("stdout")}
					h, err := host.New(w, host.Options{FS: fsys, Stdin: c.stdin, Stdout: out})
					if err != nil {
						b.Fatal(err)
					}
					var g *Guest
					switch phase {
					case "instantiate":
						w.Go("guest", func(*sim.Task) error {
							inst, err := comp.Instantiate(h, component.Config{Name: c.name, Linker: linker})
							if inst != nil {
								inst.Close()
							}
							return err
						})
					case "run":
						g = Spawn(h, comp, Config{Name: c.name + ".wasm", Args: c.args, Env: c.env})
					}
					res := w.Run()
					if g != nil {
						if err := c.check(g, &caseRun{h: h, stdout: out}, res); err != nil {
							b.Fatal(err)
						}
					} else if err := res.Error(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
