package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
)

// Scenario sets up one run on a fresh world: it spawns the tasks and
// registers the checks. It must build the same thing every time it is
// called with a world of the same seed.
type Scenario func(w *World) error

// ExploreOptions configures Explore.
type ExploreOptions struct {
	// Strategy is "random", "pct", "round-robin" or "dfs".
	Strategy string
	Options  StrategyOptions
	// Seed is the base seed; run i uses RunSeed(Seed, i) (DFS uses Seed for
	// every run, since it varies choices, not seeds).
	Seed uint64
	// Runs is the number of runs (for DFS, the schedule budget; 0 with DFS
	// means until exhausted). Either Runs or Time must be set, except for DFS.
	Runs int
	// Time is a wall-clock budget; it bounds how many runs happen, never
	// what a run does.
	Time time.Duration
	// Workers run in parallel (0: GOMAXPROCS). DFS workers explore the
	// subtrees of the split (DFSOptions.Split) in parallel.
	Workers int
	// Shard and Shards split the work over machines: this process does
	// the runs with index ≡ Shard (mod Shards), and for DFS the subtrees
	// of the split with index ≡ Shard (mod Shards). Runs is then the
	// budget of this shard.
	Shard, Shards int
	// KeepGoing collects every failure instead of stopping at the first.
	KeepGoing bool
	// Variant, Scenario and Config are copied into each world's Config.
	Variant, Scenario string
	Config            []byte
	EmbedConfig       bool
	MaxSteps          int64
	// Progress, if set, is called about every Interval from the calling
	// goroutine with the counts so far.
	Progress func(Progress)
	Interval time.Duration
}

// Progress is a snapshot of an exploration.
type Progress struct {
	Runs, Failures, Distinct int
	// Pruned counts the runs partial-order reduction stopped early.
	Pruned  int
	Elapsed time.Duration
	// Fraction estimates the share of the exploration done (0: no
	// estimate): for DFS, Knuth's estimate of the share of the schedule
	// tree covered; otherwise the runs or the time out of the budget.
	Fraction float64
	// Total estimates how many runs the exploration makes in all, and
	// Remaining the time it still takes (zero: no estimate).
	Total     float64
	Remaining time.Duration
}

// Failure is a failing run with the trace that reproduces it.
type Failure struct {
	// Run is the run's index (for DFS, Job<<32 | Index), which is also
	// the run of its trace's header.
	Run   uint64
	Seed  uint64
	Err   error
	Trace *Trace
	// Job and Index place the failure in the exploration's fixed order,
	// which is the same for every worker count and shard: for DFS the
	// subtree of the split and the schedule within it; for the other
	// strategies Job is 0 and Index is Run. The first failure of an
	// exploration is the one with the least (Job, Index).
	Job, Index uint64

	choices []int // DFS: the schedule, to trace it
}

// Report is what an exploration found.
type Report struct {
	Runs     int
	Failures []Failure
	// Outcomes counts runs by outcome summary ("ok" or the error text).
	Outcomes map[string]int
	// Exhausted is true when DFS enumerated every schedule within bounds.
	Exhausted bool
	// Pruned counts the runs partial-order reduction stopped early because
	// they could only repeat schedules already explored (DFS); they are
	// not in Runs.
	Pruned int
	// Jobs is the number of subtrees DFS split the schedule tree into.
	Jobs int
	// Estimate is, for DFS, Knuth's estimate of the schedules of this
	// shard's part of the tree (all of them once Exhausted): what an
	// exhaustive search would run.
	Estimate float64

	anomalies int // races the reduction had to reverse conservatively
}

// Distinct is the number of distinct outcomes.
func (r *Report) Distinct() int { return len(r.Outcomes) }

// OutcomeList returns the outcomes sorted by descending count, then text.
func (r *Report) OutcomeList() []string {
	out := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if r.Outcomes[out[i]] != r.Outcomes[out[j]] {
			return r.Outcomes[out[i]] > r.Outcomes[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// RunSeed derives the seed of run i from a base seed (SplitMix64), so any
// run can be reproduced from (seed, i) alone.
func RunSeed(seed, i uint64) uint64 {
	z := seed + (i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// RunOnce runs a scenario once with the given strategy and returns the
// result and, if cfg.Trace is set, the trace.
func RunOnce(cfg Config, sc Scenario) (*Result, *Trace, error) {
	w, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := sc(w); err != nil {
		return nil, nil, fmt.Errorf("scenario setup: %w", err)
	}
	res := w.Run()
	return res, w.Trace(), nil
}

func (o *ExploreOptions) validate() error {
	if o.Shards < 0 || o.Shard < 0 || (o.Shards > 0 && o.Shard >= o.Shards) {
		return fmt.Errorf("sim: shard %d/%d is out of range", o.Shard, o.Shards)
	}
	if o.Runs < 0 || o.Workers < 0 || o.Time < 0 {
		return errors.New("sim: runs, workers and time must not be negative")
	}
	if o.Strategy != "dfs" && o.Runs == 0 && o.Time == 0 {
		return errors.New("sim: set Runs or Time")
	}
	if o.Strategy != "dfs" {
		if _, err := NewStrategy(o.Strategy, 0, o.Options); err != nil {
			return err
		}
	} else if _, err := NewDFS(o.Options.DFS); err != nil {
		return err
	}
	return nil
}

func (o *ExploreOptions) config(run uint64, st Strategy, trace bool) Config {
	seed := RunSeed(o.Seed, run)
	if o.Strategy == "dfs" {
		seed = o.Seed
	}
	return Config{Seed: seed, Strategy: st, Trace: trace, Variant: o.Variant, Scenario: o.Scenario,
		Config: o.Config, EmbedConfig: o.EmbedConfig, Run: run, MaxSteps: o.MaxSteps}
}

// Explore runs a scenario over many schedules. Each run is deterministic
// for (Seed, run index); failures are reported in run order with a trace
// that Replay reproduces. Without KeepGoing it stops at the lowest-numbered
// failing run, whatever order the workers finish in.
func Explore(ctx context.Context, opt ExploreOptions, sc Scenario) (*Report, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.Strategy == "dfs" {
		return exploreDFS(ctx, opt, sc)
	}
	shards := max(opt.Shards, 1)
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	var deadline time.Time
	if opt.Time > 0 {
		deadline = start.Add(opt.Time)
	}

	var (
		mu       sync.Mutex
		next     uint64 // next local index to hand out
		stopAt   = ^uint64(0)
		rep      = &Report{Outcomes: map[string]int{}}
		setupErr error
		count    = newTally(rep, uint64(opt.Shard), uint64(shards))
	)
	claim := func() (uint64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if setupErr != nil || ctx.Err() != nil {
			return 0, false
		}
		if opt.Runs > 0 && next >= uint64(opt.Runs) {
			return 0, false
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return 0, false
		}
		run := next*uint64(shards) + uint64(opt.Shard)
		if run >= stopAt {
			return 0, false
		}
		next++
		return run, true
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				run, ok := claim()
				if !ok {
					return
				}
				st, _ := NewStrategy(opt.Strategy, RunSeed(opt.Seed, run), opt.Options)
				res, _, err := RunOnce(opt.config(run, st, false), sc)
				mu.Lock()
				if err != nil {
					if setupErr == nil {
						setupErr = err
					}
					mu.Unlock()
					return
				}
				if opt.KeepGoing {
					rep.Runs++
					rep.Outcomes[res.Outcome()]++
				} else {
					if res.Failed() && run < stopAt {
						count.cut(run)
					}
					count.add(run, res.Outcome(), stopAt)
				}
				if res.Failed() && (opt.KeepGoing || run < stopAt) {
					rep.Failures = append(rep.Failures, Failure{Run: run, Seed: RunSeed(opt.Seed, run), Err: res.Error(), Index: run})
					if !opt.KeepGoing {
						stopAt = run
					}
				}
				mu.Unlock()
			}
		}()
	}
	if opt.Progress != nil {
		tick(opt, &wg, func() Progress {
			mu.Lock()
			p := Progress{Runs: rep.Runs, Failures: len(rep.Failures), Distinct: len(rep.Outcomes), Elapsed: time.Since(start)}
			mu.Unlock()
			switch {
			case opt.Runs > 0:
				p.Fraction = float64(p.Runs) / float64(opt.Runs)
			case opt.Time > 0:
				p.Fraction = min(float64(p.Elapsed)/float64(opt.Time), 1)
			}
			return p.estimate()
		})
	}
	wg.Wait()
	if setupErr != nil {
		return nil, setupErr
	}
	sort.Slice(rep.Failures, func(i, j int) bool { return rep.Failures[i].Run < rep.Failures[j].Run })
	if !opt.KeepGoing && len(rep.Failures) > 1 {
		rep.Failures = rep.Failures[:1]
	}
	// Re-run each failure with tracing on: runs are deterministic, so this
	// is the same run, and the common case pays nothing for tracing.
	for i := range rep.Failures {
		f := &rep.Failures[i]
		st, _ := NewStrategy(opt.Strategy, f.Seed, opt.Options)
		_, tr, err := RunOnce(opt.config(f.Run, st, true), sc)
		if err != nil {
			return nil, err
		}
		f.Trace = tr
	}
	return rep, ctx.Err()
}
