// Command explorebench measures exhaustive exploration of the shipped
// scenarios: schedules with and without partial-order reduction, the
// time to explore every class on one worker, and the schedules per
// second on one and two workers. It prints a Markdown table for
// BENCHMARKS.md; it decides nothing.
//
//	go run ./scripts/explorebench [-plain 60s] [-only NAME] [testdata/scenarios]
//	go run ./scripts/explorebench -speedup 5 [-only NAME]
//
// Plain DFS runs until it exhausts the tree or -plain passes; then the
// table gives the schedules run and Knuth's estimate of the whole tree.
// -speedup N instead explores each scenario N times with one worker and
// N times with two, alternating, and reports the median rates.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

func main() {
	plainFor := flag.Duration("plain", time.Minute, "time budget of plain DFS per scenario")
	only := flag.String("only", "", "measure only scenarios whose name contains this")
	speedup := flag.Int("speedup", 0, "only measure one worker against two, this many times each")
	flag.Parse()
	dir := "testdata/scenarios"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.wsim"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "explorebench: no scenarios in", dir)
		os.Exit(2)
	}
	sort.Strings(files)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("<!-- %s, GOMAXPROCS %d, load before: %s -->\n", runtime.Version(), runtime.GOMAXPROCS(0), strings.TrimSpace(string(load)))
	if *speedup > 0 {
		speedups(files, *only, *speedup)
		return
	}
	fmt.Println("| scenario | plain DFS schedules | reduced schedules | ratio | (stopped early) | reduced, 1 worker | runs/s 1 worker | runs/s 2 workers | 2 vs 1 |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".wsim")
		if *only != "" && !strings.Contains(name, *only) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s, err := scenario.Parse(filepath.Base(f), src)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := s.Scenario(scenario.Options{})
		red1, t1 := explore(sc, s.Source, false, 1, 0)
		red2, t2 := explore(sc, s.Source, false, 2, 0)
		plain, _ := explore(sc, s.Source, true, 1, *plainFor)
		plainCell := fmt.Sprint(plain.Runs)
		ratio := float64(plain.Runs) / float64(max(red1.Runs, 1))
		if !plain.Exhausted {
			plainCell = fmt.Sprintf("> %d (est. %.2g)", plain.Runs, plain.Estimate)
			if plain.Estimate > float64(plain.Runs) {
				ratio = plain.Estimate / float64(max(red1.Runs, 1))
			}
		}
		rate1, rate2 := float64(red1.Runs)/t1.Seconds(), float64(red2.Runs)/t2.Seconds()
		fmt.Printf("| %s | %s | %d | %.0f× | %d | %s | %.0f | %.0f | %.2f× |\n", name, plainCell, red1.Runs, ratio, red1.Pruned,
			t1.Round(time.Millisecond), rate1, rate2, rate2/rate1)
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("<!-- load after: %s -->\n", strings.TrimSpace(string(load)))
}

// speedups compares one worker with two on each scenario: n alternating
// trials each, the median schedules per second.
func speedups(files []string, only string, n int) {
	fmt.Println("| scenario | schedules | runs/s 1 worker (median) | runs/s 2 workers (median) | 2 vs 1 | CPU µs/schedule 1 worker | 2 workers | machine: a CPU loop, 2 vs 1 | load average during |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".wsim")
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		src, _ := os.ReadFile(f)
		s, err := scenario.Parse(filepath.Base(f), src)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := s.Scenario(scenario.Options{})
		var r1, r2, c1, c2, spins []float64
		var runs int
		var loads []string
		for range n {
			spins = append(spins, spin())
			for _, w := range []int{1, 2} {
				before := cpu()
				rep, d := explore(sc, s.Source, false, w, 0)
				perRun := (cpu() - before).Seconds() * 1e6 / float64(rep.Runs)
				runs = rep.Runs
				if w == 1 {
					r1, c1 = append(r1, float64(rep.Runs)/d.Seconds()), append(c1, perRun)
				} else {
					r2, c2 = append(r2, float64(rep.Runs)/d.Seconds()), append(c2, perRun)
				}
			}
			l, _ := os.ReadFile("/proc/loadavg")
			loads = append(loads, strings.Fields(string(l))[0])
		}
		m1, m2 := median(r1), median(r2)
		fmt.Printf("| %s | %d | %.0f | %.0f | %.2f× | %.0f | %.0f | %.2f× | %s |\n", name, runs, m1, m2, m2/m1, median(c1), median(c2), median(spins), strings.Join(loads, " "))
	}
}

// spin measures what the machine gives two threads at the moment: a
// CPU-bound loop on two goroutines against one (2× on two idle cores).
func spin() float64 {
	loop := func() {
		x := uint64(1)
		for range 50_000_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink.Add(x)
	}
	rate := func(g int) float64 {
		start := time.Now()
		var wg sync.WaitGroup
		for range g {
			wg.Add(1)
			go func() { defer wg.Done(); loop() }()
		}
		wg.Wait()
		return float64(g) / time.Since(start).Seconds()
	}
	return rate(2) / rate(1)
}

var sink atomic.Uint64

// cpu is the CPU time (user and system) the process used so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // a measurement
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(x []float64) float64 {
	sort.Float64s(x)
	return x[len(x)/2]
}

// explore runs DFS to exhaustion (or the time limit) and returns the
// report and the wall time.
func explore(sc sim.Scenario, cfg []byte, plain bool, workers int, limit time.Duration) (*sim.Report, time.Duration) {
	ctx := context.Background()
	if limit > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	start := time.Now()
	rep, err := sim.Explore(ctx, sim.ExploreOptions{Strategy: "dfs", Workers: workers, KeepGoing: true, Config: cfg,
		Options: sim.StrategyOptions{DFS: sim.DFSOptions{Plain: plain}}}, sc)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "explorebench:", err)
		os.Exit(1)
	}
	return rep, time.Since(start)
}
