package sim

import (
	"context"
	"math"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file is Explore's exhaustive search: the schedule tree is split
// into subtrees ("jobs") in a fixed order, which workers and shards
// explore independently; the report is assembled in that order, so it is
// the same whatever the number of workers or shards and whatever the
// timing.
//
// The split: the top of the tree, down to the first few scheduling
// points, is walked with every runnable task as a branch (and sleep
// sets, with reduction), until there are at least DFSOptions.Split paths
// — the jobs. Each job is then a search of its own below its path; the
// races it finds above its path need nothing, since those points branch
// on every task already. With reduction this costs some runs that stop
// early (a branch at the top that only repeats a sibling's classes), never
// a class: every complete run is still of a distinct class.

// DefaultSplit is the number of subtrees DFS splits the schedule tree into
// when DFSOptions.Split is 0: enough for the workers of one machine and a
// few shards. It is part of the tree's fixed order: explorations with the
// same split report the same first failure.
const DefaultSplit = 64

// dfsJob is one subtree: the choices of the path to it.
type dfsJob struct {
	path   []*node
	weight float64 // the share of the tree it is, for the estimate
}

// dfsPlan is what every run of the exhaustive search shares.
type dfsPlan struct {
	opt    ExploreOptions
	sc     Scenario
	reduce bool
	dopt   DFSOptions
	spec   Spec
}

func newDFSPlan(opt ExploreOptions, sc Scenario) *dfsPlan {
	dopt := opt.Options.DFS
	reduce := !dopt.Plain && dopt.MaxDepth == 0 && !dopt.BoundPreemptions
	spec := Spec{Name: "dfs", Params: map[string]string{
		"max_depth":     strconv.Itoa(dopt.MaxDepth),
		"max_schedules": strconv.Itoa(dopt.MaxSchedules),
	}}
	if dopt.BoundPreemptions {
		spec.Params["preemption_bound"] = strconv.Itoa(dopt.PreemptionBound)
	}
	if reduce {
		spec.Params["reduce"] = "dpor"
	}
	return &dfsPlan{opt: opt, sc: sc, reduce: reduce, dopt: dopt, spec: spec}
}

func (p *dfsPlan) run(s *search) (*Result, error) {
	res, _, err := RunOnce(p.opt.config(0, s.strategy(), false), p.sc)
	return res, err
}

// split walks the top of the tree until it has at least target paths.
func (p *dfsPlan) split(ctx context.Context, target int) ([]dfsJob, error) {
	if target <= 1 {
		return []dfsJob{{weight: 1}}, nil
	}
	for depth := 1; ; depth++ {
		var jobs []dfsJob
		deeper := false
		s := newSearch(p.reduce, p.dopt, p.spec)
		s.splitAt = depth
		s.split = func(path []*node) { jobs = append(jobs, makeJob(path)); deeper = true }
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s.reset()
			wasDeeper := deeper
			deeper = false
			if _, err := p.run(s); err != nil {
				return nil, err
			}
			if !s.pruned {
				jobs = append(jobs, makeJob(s.stack[:s.depth])) // a run that ended above the split
			}
			deeper = deeper || wasDeeper
			if !s.next() {
				break
			}
		}
		if s.invalid != nil {
			return nil, s.invalid
		}
		if len(jobs) >= target || !deeper {
			if len(jobs) == 0 {
				jobs = []dfsJob{{weight: 1}}
			}
			return jobs, nil
		}
	}
}

// makeJob copies a path, each point fixed to its current branch.
func makeJob(path []*node) dfsJob {
	j := dfsJob{weight: 1}
	for _, nd := range path {
		_, total := nd.branches()
		if total > 0 {
			j.weight /= float64(total)
		}
		c := &node{value: nd.value, n: nd.n, enabled: nd.enabled, cur: nd.cur, preBefore: nd.preBefore}
		switch {
		case nd.value:
			c.branch = nd.branch
		case nd.backtrack == nil:
			c.alts = []int{nd.alts[nd.branch]}
		default:
			c.backtrack = []int{nd.backtrack[nd.branch]}
			c.fps = []footprint{{}}
			c.sleep = nd.sleepFor(nd.branch)
		}
		j.path = append(j.path, c)
	}
	return j
}

func (p *dfsPlan) searchOf(j dfsJob) *search {
	s := newSearch(p.reduce, p.dopt, p.spec)
	s.stack = append(s.stack, j.path...)
	s.floor = len(j.path)
	return s
}

// jobFailure is a failing schedule of a job: its place and its choices.
type jobFailure struct {
	index   int
	err     error
	choices []int
}

// jobResult is what exploring one job found.
type jobResult struct {
	outcomes []int32 // per complete run, an index in names
	names    []string
	ids      map[string]int32
	failures []jobFailure
	pruned   int
	done     bool // the whole subtree was explored
	started  bool
	fraction atomic.Uint64 // float64 bits: the estimated share of the subtree done
	anomaly  int
}

func (r *jobResult) outcome(o string) int32 {
	id, ok := r.ids[o]
	if !ok {
		if r.ids == nil {
			r.ids = map[string]int32{}
		}
		id = int32(len(r.names))
		r.ids[o] = id
		r.names = append(r.names, o)
	}
	return id
}

func exploreDFS(ctx context.Context, opt ExploreOptions, sc Scenario) (*Report, error) {
	p := newDFSPlan(opt, sc)
	start := time.Now()
	target := p.dopt.Split
	if target == 0 {
		target = DefaultSplit
	}
	jobs, err := p.split(ctx, target)
	if err != nil {
		if ctx.Err() != nil {
			return &Report{Outcomes: map[string]int{}}, err
		}
		return nil, err
	}
	shards := max(opt.Shards, 1)
	var mine []int
	for j := range jobs {
		if j%shards == opt.Shard {
			mine = append(mine, j)
		}
	}
	budget := opt.Runs
	if b := p.dopt.MaxSchedules; b > 0 && (budget == 0 || b < budget) {
		budget = b
	}
	var deadline time.Time
	if opt.Time > 0 {
		deadline = start.Add(opt.Time)
	}
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(mine)))

	results := make([]jobResult, len(mine))
	var (
		mu       sync.Mutex
		nextJob  int
		stopAt   = len(mine) // without KeepGoing: the first job with a failure
		firstErr error
		distinct = map[string]bool{}
		runs     atomic.Int64
		fails    atomic.Int64
		pruned   atomic.Int64
		timedOut atomic.Bool
	)
	// prefix is how many runs the jobs before k have made (a lower bound
	// while some still run). Called with mu held.
	prefix := func(k int) int {
		n := 0
		for i := 0; i < k; i++ {
			n += len(results[i].outcomes)
		}
		return n
	}
	stop := func(k int) bool {
		if ctx.Err() != nil || firstErr != nil {
			return true
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			timedOut.Store(true)
			return true
		}
		return k > stopAt
	}
	// order is the order the workers take the jobs in. Under a budget it
	// is the tree's, so the budget's runs are the first ones; exploring
	// all of it, the larger shares of the tree go first, so that no big
	// subtree is left to one worker at the end. Results are kept by job,
	// so the report is the same either way.
	order := make([]int, len(mine))
	for k := range order {
		order[k] = k
	}
	if budget == 0 {
		sort.SliceStable(order, func(a, b int) bool { return jobs[mine[order[a]]].weight > jobs[mine[order[b]]].weight })
	}
	claim := func() int {
		mu.Lock()
		defer mu.Unlock()
		for ; nextJob < len(order); nextJob++ {
			k := order[nextJob]
			if stop(k) || (budget > 0 && prefix(k) >= budget) {
				if budget > 0 || ctx.Err() != nil || firstErr != nil || timedOut.Load() {
					return -1 // in the tree's order, or the whole search ends
				}
				continue // after the first failure: a later job, skipped
			}
			nextJob++
			results[k].started = true
			return k
		}
		return -1
	}
	explore := func(k int) {
		r := &results[k]
		s := p.searchOf(jobs[mine[k]])
		for {
			mu.Lock()
			halt := stop(k) || (budget > 0 && prefix(k)+len(r.outcomes) >= budget)
			mu.Unlock()
			if halt {
				return
			}
			res, err := p.run(s)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			if s.pruned {
				pruned.Add(1)
				mu.Lock()
				r.pruned++
				mu.Unlock()
			} else {
				o := res.Outcome()
				mu.Lock()
				r.outcomes = append(r.outcomes, r.outcome(o))
				if !distinct[o] {
					distinct[o] = true
				}
				failed := o != "ok"
				if failed {
					r.failures = append(r.failures, jobFailure{index: len(r.outcomes) - 1, err: res.Error(), choices: append([]int(nil), s.taken...)})
					if !opt.KeepGoing && k < stopAt {
						stopAt = k
					}
				}
				mu.Unlock()
				runs.Add(1)
				if failed {
					fails.Add(1)
					if !opt.KeepGoing {
						return
					}
				}
			}
			r.fraction.Store(math.Float64bits(s.fraction()))
			if !s.next() {
				mu.Lock()
				if s.invalid != nil && firstErr == nil {
					firstErr = s.invalid
				}
				r.done = s.invalid == nil
				r.anomaly = s.anomalies
				mu.Unlock()
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := claim(); k >= 0; k = claim() {
				explore(k)
			}
		}()
	}
	share := 0.0
	for _, j := range mine {
		share += jobs[j].weight
	}
	progress := func() Progress {
		f := 0.0
		mu.Lock()
		for k := range results {
			r := &results[k]
			switch {
			case r.done:
				f += jobs[mine[k]].weight
			case r.started:
				f += jobs[mine[k]].weight * math.Float64frombits(r.fraction.Load())
			}
		}
		d := len(distinct)
		mu.Unlock()
		return Progress{Runs: int(runs.Load()), Failures: int(fails.Load()), Distinct: d, Pruned: int(pruned.Load()),
			Elapsed: time.Since(start), Fraction: min(f/max(share, 1e-300), 1)}.estimate()
	}
	if opt.Progress != nil {
		tick(opt, &wg, progress)
	}
	wg.Wait()

	rep := &Report{Outcomes: map[string]int{}, Jobs: len(jobs), Estimate: progress().Total}
	interrupted := ctx.Err() != nil || timedOut.Load()
	cut := false
	var found []Failure
	for k := range results {
		r := &results[k]
		rep.Pruned += r.pruned
		rep.anomalies += r.anomaly
		if !interrupted && !opt.KeepGoing && k > stopAt {
			break
		}
		n := len(r.outcomes)
		if !interrupted && budget > 0 && rep.Runs+n > budget {
			n = budget - rep.Runs
			cut = true
		}
		if !interrupted && !opt.KeepGoing && len(r.failures) > 0 {
			n = min(n, r.failures[0].index+1)
		}
		for i := 0; i < n; i++ {
			rep.Outcomes[r.names[r.outcomes[i]]]++
		}
		for _, f := range r.failures {
			if f.index < n {
				// Run names the schedule the same way in every shard.
				found = append(found, Failure{Run: uint64(mine[k])<<32 | uint64(f.index), Seed: opt.Seed, Err: f.err,
					Job: uint64(mine[k]), Index: uint64(f.index), choices: f.choices})
			}
		}
		rep.Runs += n
		if cut {
			break
		}
	}
	if !opt.KeepGoing && len(found) > 1 {
		found = found[:1]
	}
	rep.Failures = found
	allDone := true
	for k := range results {
		allDone = allDone && results[k].done
	}
	rep.Exhausted = allDone && !interrupted && !cut && (opt.KeepGoing || len(found) == 0)
	if firstErr != nil {
		return rep, firstErr
	}
	for i := range rep.Failures {
		f := &rep.Failures[i]
		_, tr, err := RunOnce(opt.config(f.Run, &choiceList{choices: f.choices, spec: p.spec}, true), sc)
		if err != nil {
			return nil, err
		}
		f.Trace = tr
	}
	return rep, ctx.Err()
}

// tick calls opt.Progress about every opt.Interval until the workers are
// done.
func tick(opt ExploreOptions, wg *sync.WaitGroup, snap func() Progress) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	iv := opt.Interval
	if iv <= 0 {
		iv = 200 * time.Millisecond
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			opt.Progress(snap())
		}
	}
}

// estimate fills in the estimated total and time left from Fraction.
func (p Progress) estimate() Progress {
	if p.Fraction > 0 && p.Runs > 0 {
		p.Total = float64(p.Runs) / p.Fraction
		p.Remaining = time.Duration(float64(p.Elapsed) * (1 - p.Fraction) / p.Fraction)
	}
	return p
}
