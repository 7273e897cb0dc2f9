package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"

	"pgregory.net/rapid"
)

// ChoiceKind says what a choice point decides.
type ChoiceKind uint8

const (
	// ChooseTask picks which runnable task runs next.
	ChooseTask ChoiceKind = iota
	// ChooseValue picks one of N outcomes of a model decision (World.Choose).
	ChooseValue
)

// ChoicePoint is one decision the strategy makes.
type ChoicePoint struct {
	Step  int64
	Kind  ChoiceKind
	Label string // for ChooseValue: what is decided
	// Tasks are the ids of the runnable tasks, ascending (ChooseTask only);
	// the chosen index refers to this slice, which is only valid during
	// the call.
	Tasks []int
	// N is the number of alternatives (≥ 2).
	N int
	// Current is the index in Tasks of the task that ran last if it is
	// still runnable (it yielded), or -1. Choosing another is a preemption.
	Current int
}

// Strategy decides every choice of one run. Strategies that span several
// runs (DFS) say so in their docs; the rest are made fresh for each run.
type Strategy interface {
	// Choose returns an index in [0, cp.N).
	Choose(cp ChoicePoint) int
	// Spec names the strategy and its parameters for trace headers.
	Spec() Spec
}

// Spec is a strategy's name and parameters as recorded in a trace header.
type Spec struct {
	Name   string
	Params map[string]string
}

// ---- random ----

type randomStrategy struct {
	seed uint64
	rng  *rand.Rand
}

// NewRandom returns a strategy that picks uniformly among alternatives,
// from a PCG source seeded with seed.
func NewRandom(seed uint64) Strategy {
	return &randomStrategy{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x7a4d0))}
}

func (s *randomStrategy) Choose(cp ChoicePoint) int { return s.rng.IntN(cp.N) }
func (s *randomStrategy) Spec() Spec {
	return Spec{Name: "random", Params: map[string]string{"seed": strconv.FormatUint(s.seed, 10)}}
}

// ---- round robin ----

type roundRobin struct{ last int }

// NewRoundRobin returns a strategy that runs the next runnable task after
// the one that ran last, in id order, wrapping around. Value choices take
// alternative 0.
func NewRoundRobin() Strategy { return &roundRobin{} }

func (s *roundRobin) Choose(cp ChoicePoint) int {
	if cp.Kind != ChooseTask {
		return 0
	}
	for i, id := range cp.Tasks {
		if id > s.last {
			s.last = id
			return i
		}
	}
	s.last = cp.Tasks[0]
	return 0
}
func (s *roundRobin) Spec() Spec { return Spec{Name: "round-robin"} }

// ---- PCT ----

// PCTOptions configures probabilistic concurrency testing.
type PCTOptions struct {
	// Depth is the bug depth d (≥ 1): the strategy places d-1 priority
	// change points.
	Depth int
	// Steps is k, an upper estimate of the number of scheduling steps of a
	// run (≥ 1). Change points are drawn uniformly from [1, k].
	Steps int
}

type pct struct {
	opt     PCTOptions
	seed    uint64
	rng     *rand.Rand
	prio    []float64 // by task id; 0 means not yet assigned
	changes []int
	nsteps  int
}

// NewPCT returns the PCT strategy of Burckhardt et al. (ASPLOS 2010): each
// task gets a random priority above d, the highest-priority runnable task
// always runs, and at d-1 random steps the running task drops to priority
// d-i. A bug of depth d is found with probability at least 1/(n·k^(d-1))
// per run for n tasks and k steps. Value choices are drawn uniformly.
func NewPCT(seed uint64, opt PCTOptions) (Strategy, error) {
	if opt.Depth < 1 {
		return nil, fmt.Errorf("sim: PCT depth %d must be at least 1", opt.Depth)
	}
	if opt.Steps < 1 {
		return nil, fmt.Errorf("sim: PCT steps %d must be at least 1", opt.Steps)
	}
	if opt.Depth > 64 {
		return nil, fmt.Errorf("sim: PCT depth %d is larger than 64", opt.Depth)
	}
	s := &pct{opt: opt, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x9c7))}
	for range opt.Depth - 1 {
		s.changes = append(s.changes, 1+s.rng.IntN(opt.Steps))
	}
	sort.Ints(s.changes)
	return s, nil
}

func (s *pct) Choose(cp ChoicePoint) int {
	if cp.Kind != ChooseTask {
		return s.rng.IntN(cp.N)
	}
	s.nsteps++
	best := s.highest(cp.Tasks)
	for i, c := range s.changes {
		if c == s.nsteps {
			// Change point i+1: the task about to run drops below every
			// initial priority, to d-(i+1).
			s.prio[cp.Tasks[best]] = float64(s.opt.Depth-(i+1)) + 0.5
			best = s.highest(cp.Tasks)
		}
	}
	return best
}

func (s *pct) highest(tasks []int) int {
	best, bp := 0, -1.0
	for i, id := range tasks {
		for id >= len(s.prio) {
			s.prio = append(s.prio, 0)
		}
		p := s.prio[id]
		if p == 0 {
			// Initial priorities lie in [d+1, d+2): above every change
			// point's d-i+0.5, and never 0.
			p = float64(s.opt.Depth) + 1 + s.rng.Float64()
			s.prio[id] = p
		}
		if p > bp {
			best, bp = i, p
		}
	}
	return best
}

func (s *pct) Spec() Spec {
	return Spec{Name: "pct", Params: map[string]string{
		"seed":  strconv.FormatUint(s.seed, 10),
		"depth": strconv.Itoa(s.opt.Depth),
		"steps": strconv.Itoa(s.opt.Steps),
	}}
}

// ---- bounded exhaustive DFS ----

// DFSOptions bounds exhaustive search.
type DFSOptions struct {
	// MaxDepth is the number of choices explored per run; later choices
	// take alternative 0 (or the running task, to avoid a preemption).
	// 0 means unbounded.
	MaxDepth int
	// MaxSchedules stops the search after this many runs (0: unbounded).
	MaxSchedules int
	// PreemptionBound limits how many times a run may switch away from a
	// task that could have continued, when BoundPreemptions is set (a
	// bound of 0 then means no preemption at all, as in CHESS).
	PreemptionBound  int
	BoundPreemptions bool
	// Plain turns partial-order reduction off in Explore: every
	// interleaving is run, not one per equivalence class. A depth or
	// preemption bound also turns it off (bounds are about interleavings).
	// NewDFS is always plain.
	Plain bool
	// Split is how many subtrees Explore splits the tree into at least,
	// for workers and shards (0: DefaultSplit; 1: no split). Explorations
	// with the same Split report the same first failure.
	Split int
}

type dfsFrame struct {
	chosen, n int
	cur       int // index of the yielding task, or -1
	preBefore int // preemptions before this choice
}

// DFS enumerates every choice sequence of a program, one per run, in
// depth-first order. Unlike the other strategies it spans runs: use the
// same DFS for each run and call Next after each run until it reports
// false. The program must be deterministic given its choices.
type DFS struct {
	opt     DFSOptions
	stack   []dfsFrame
	depth   int
	pre     int
	runs    int
	invalid error
}

// NewDFS returns an exhaustive strategy.
func NewDFS(opt DFSOptions) (*DFS, error) {
	if opt.MaxDepth < 0 || opt.MaxSchedules < 0 || opt.PreemptionBound < 0 || opt.Split < 0 {
		return nil, errors.New("sim: DFS bounds must not be negative")
	}
	return &DFS{opt: opt}, nil
}

func (d *DFS) allowed(f dfsFrame, i int) bool {
	return !d.opt.BoundPreemptions || f.cur < 0 || i == f.cur || f.preBefore < d.opt.PreemptionBound
}

// Choose implements Strategy.
func (d *DFS) Choose(cp ChoicePoint) int {
	defer func() { d.depth++ }()
	if d.opt.MaxDepth > 0 && d.depth >= d.opt.MaxDepth {
		if cp.Current >= 0 {
			return cp.Current
		}
		return 0
	}
	if d.depth < len(d.stack) {
		f := d.stack[d.depth]
		if f.n != cp.N && d.invalid == nil {
			d.invalid = fmt.Errorf("sim: DFS: program is not deterministic: choice %d had %d alternatives, now %d", d.depth, f.n, cp.N)
		}
		if f.chosen >= cp.N {
			return 0
		}
		if f.cur >= 0 && f.chosen != f.cur {
			d.pre++
		}
		return f.chosen
	}
	f := dfsFrame{n: cp.N, cur: cp.Current, preBefore: d.pre}
	for i := 0; i < cp.N; i++ {
		if d.allowed(f, i) {
			f.chosen = i
			break
		}
	}
	if f.cur >= 0 && f.chosen != f.cur {
		d.pre++
	}
	d.stack = append(d.stack, f)
	return f.chosen
}

// Next prepares the next schedule after a run and reports whether there
// is one. It returns an error if the program was not deterministic.
func (d *DFS) Next() (bool, error) {
	d.runs++
	if d.invalid != nil {
		return false, d.invalid
	}
	d.stack = d.stack[:min(d.depth, len(d.stack))]
	d.depth, d.pre = 0, 0
	if d.opt.MaxSchedules > 0 && d.runs >= d.opt.MaxSchedules {
		return false, nil
	}
	for len(d.stack) > 0 {
		top := &d.stack[len(d.stack)-1]
		for i := top.chosen + 1; i < top.n; i++ {
			if d.allowed(*top, i) {
				top.chosen = i
				return true, nil
			}
		}
		d.stack = d.stack[:len(d.stack)-1]
	}
	return false, nil
}

// Runs is the number of schedules completed.
func (d *DFS) Runs() int { return d.runs }

// Spec implements Strategy.
func (d *DFS) Spec() Spec {
	sp := Spec{Name: "dfs", Params: map[string]string{
		"max_depth":     strconv.Itoa(d.opt.MaxDepth),
		"max_schedules": strconv.Itoa(d.opt.MaxSchedules),
	}}
	if d.opt.BoundPreemptions {
		sp.Params["preemption_bound"] = strconv.Itoa(d.opt.PreemptionBound)
	}
	return sp
}

// ---- replay ----

type replay struct {
	choices []Event
	i       int
	then    Strategy
	err     error
}

// NewReplay returns a strategy that repeats the choices recorded in tr. When
// the recorded choices run out it uses then, or, if then is nil, reports a
// divergence through Err and takes alternative 0.
func NewReplay(tr *Trace, then Strategy) Strategy {
	r := &replay{then: then}
	for _, e := range tr.Events {
		if e.Of > 0 {
			r.choices = append(r.choices, e)
		}
	}
	return r
}

func (r *replay) Choose(cp ChoicePoint) int {
	if r.i >= len(r.choices) {
		if r.then != nil {
			return r.then.Choose(cp)
		}
		if r.err == nil {
			r.err = fmt.Errorf("trace has no choice left for step %d", cp.Step)
		}
		return 0
	}
	e := r.choices[r.i]
	r.i++
	if int(e.Of) != cp.N {
		if r.err == nil {
			r.err = fmt.Errorf("step %d: trace choice has %d alternatives, run has %d", cp.Step, e.Of, cp.N)
		}
		return min(int(e.Choice), cp.N-1)
	}
	return int(e.Choice)
}

func (r *replay) Spec() Spec { return Spec{Name: "replay"} }

// ---- rapid ----

type rapidStrategy struct{ t *rapid.T }

// NewRapid returns a strategy that draws every choice from t, so rapid's
// shrinker minimises failing schedules along with the test's other inputs.
func NewRapid(t *rapid.T) Strategy { return rapidStrategy{t} }

func (s rapidStrategy) Choose(cp ChoicePoint) int {
	return rapid.IntRange(0, cp.N-1).Draw(s.t, "choice")
}
func (s rapidStrategy) Spec() Spec { return Spec{Name: "rapid"} }

// ---- by name ----

// StrategyOptions carries the parameters of every strategy for NewStrategy.
type StrategyOptions struct {
	PCT PCTOptions
	DFS DFSOptions
}

// NewStrategy makes a per-run strategy by name ("random", "pct",
// "round-robin") for the given run seed. DFS spans runs; make it with NewDFS.
func NewStrategy(name string, seed uint64, opt StrategyOptions) (Strategy, error) {
	switch name {
	case "random", "":
		return NewRandom(seed), nil
	case "pct":
		return NewPCT(seed, opt.PCT)
	case "round-robin", "rr":
		return NewRoundRobin(), nil
	case "dfs":
		return nil, errors.New("sim: dfs spans runs: use NewDFS")
	}
	return nil, fmt.Errorf("sim: unknown strategy %q (want random, pct, dfs or round-robin)", name)
}

// Err reports a mismatch between the trace and the run's choices.
func (r *replay) Err() error { return r.err }
