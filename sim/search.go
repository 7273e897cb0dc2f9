package sim

import (
	"fmt"
	"slices"
	"strconv"
)

// This file is the exhaustive search behind Explore's "dfs": a
// depth-first walk of the schedule tree, one run per leaf, that replays
// the choices of the path to the next branch at the start of each run.
//
// With reduction (the default) it is source-set DPOR with sleep sets
// (Abdulla, Aronis, Jonsson and Sagonas, "Source Sets: A Foundation for
// Optimal Dynamic Partial Order Reduction", JACM 2017): instead of trying
// every runnable task at every scheduling point, a point branches only
// where a run showed a race — two dependent steps of different tasks, not
// ordered by anything else — and then only on a task that can start the
// reversed order. Sleep sets keep a branch from repeating what an earlier
// sibling covered. Independence comes from footprints (footprint.go): two
// steps are dependent when they touch a common object and one of them
// changes it, or when either is global. A task woken or spawned by a step
// happens after it, and a successful WaitQueue.Await after the Publish it
// waited for (the order with it is not a race: the other order only
// waits). A step that touches nothing (a task that finds it must wait, or
// only yields) commutes with every step, so the branch that starts with
// it covers every run from its point, and the point needs no other
// (advance). Every class is explored, and every complete run is of a
// different class; runs that can only repeat a class stop early
// (ErrPruned) and are not counted.
//
// Without reduction (DFSOptions.Plain, or a depth or preemption bound) it
// tries every runnable task at every point, as NewDFS does.
//
// Value choices (World.Choose) are part of the step that makes them and
// are always explored exhaustively.

// node is a choice point on the path of the current run.
type node struct {
	value  bool
	n      int // value node: alternatives
	branch int // value: the alternative; sched: index in alts or backtrack
	event  int // index of the step the choice belongs to, in the run's events

	// scheduling points
	enabled   []int // ids of the runnable tasks, ascending
	cur       int   // index in enabled of the task that yielded, or -1
	preBefore int   // preemptions before this point (plain, bounded)
	alts      []int // plain: indexes in enabled to try
	// reduced: the tasks to try, in the order they were added; fps
	// are the union footprints of each one's step here; sleep is the
	// sleep set on arrival.
	backtrack []int
	fps       []footprint
	sleep     []sleeper

	// known: the footprint of the current branch's step is complete (it
	// made no value choice, so every run repeats it).
	known bool
}

// sleeper is a task whose next step from here was covered elsewhere,
// with the footprint of that step.
type sleeper struct {
	task int
	fp   footprint
}

func asleep(s []sleeper, task int) bool {
	for _, x := range s {
		if x.task == task {
			return true
		}
	}
	return false
}

func (nd *node) inBacktrack(task int) bool { return slices.Contains(nd.backtrack, task) }

// sleepFor is the sleep set of branch k of a reduced scheduling point:
// the set on arrival plus the branches explored before it.
func (nd *node) sleepFor(k int) []sleeper { return nd.appendSleep(nil, k) }

func (nd *node) appendSleep(s []sleeper, k int) []sleeper {
	s = append(s, nd.sleep...)
	for j := 0; j < k; j++ {
		if !asleep(nd.sleep, nd.backtrack[j]) {
			s = append(s, sleeper{nd.backtrack[j], nd.fps[j]})
		}
	}
	return s
}

// branches is how many branches the point has (so far), and done how
// many of them come before the current one, for the progress estimate.
func (nd *node) branches() (done, total int) {
	switch {
	case nd.value:
		return nd.branch, nd.n
	case nd.backtrack == nil:
		return nd.branch, len(nd.alts)
	}
	for k, t := range nd.backtrack {
		if asleep(nd.sleep, t) {
			continue
		}
		total++
		if k < nd.branch {
			done++
		}
	}
	return done, total
}

// event is one step of the current run, for the race analysis.
type event struct {
	task  int
	node  int   // stack index of the scheduling point that chose it, -1
	local int32 // 1 for the task's first step
	fp    footprint
	woke  []int   // tasks it woke or spawned
	clk   []int32 // vector clock: clk[t] is the last step of t that happens before (or is) this one
}

func (e *event) acc() []Access { return e.fp.acc[:0] }

// objHist is what the current run did to one object since the last
// write: the write, then the reads and updates after it.
type objHist struct {
	epoch   int // lastGlobal when it was last reset
	write   int
	publish bool // the write was a Publish
	reads   []int
	updates []int
}

// search is the state of one depth-first walk, kept across runs.
type search struct {
	reduce bool
	opt    DFSOptions
	spec   Spec
	stack  []*node
	// floor: stack[:floor] is the fixed path to the subtree walked.
	floor int
	// splitAt > 0 makes the walk an expansion of the top of the tree:
	// arriving at a new scheduling point when splitAt points have been
	// passed, the run records its path (split) and stops.
	splitAt int
	split   func(path []*node)

	// per run
	depth     int
	nsched    int
	pre       int
	taken     []int
	pruned    bool
	invalid   error
	schedNode int // the point that chose the step about to begin, -1
	stepNode  int // the point that chose the step in progress, -1
	// valueInStep: the step in progress made a value choice, so its
	// footprint may differ from one run to the next.
	valueInStep bool

	// per run, reduced
	events      []event
	last        []int // by task id: its last step, -1
	waker       []int // by task id: the step that woke or spawned it since, -1
	count       []int32
	hist        histTable
	lastGlobal  int
	sleep       []sleeper
	analyzeFrom int
	cands       []int
	hbOnly      []int
	racing      []int
	firstLocal  []int32
	touched     []int
	// anomalies counts races the analysis could not reverse as the theory
	// says it can (a reversing task not runnable where it branches); each
	// one branches on every runnable task instead, which is safe.
	anomalies int
	rec       recorder
}

func (s *search) recorder() *recorder { return &s.rec }

func newSearch(reduce bool, opt DFSOptions, spec Spec) *search {
	s := &search{reduce: reduce, opt: opt, spec: spec}
	s.reset()
	return s
}

// reset prepares the per-run state.
func (s *search) reset() {
	s.depth, s.nsched, s.pre = 0, 0, 0
	s.taken = s.taken[:0]
	s.pruned = false
	s.schedNode, s.stepNode = -1, -1
	s.events = s.events[:0]
	s.last, s.waker, s.count = s.last[:0], s.waker[:0], s.count[:0]
	s.hist.reset()
	s.lastGlobal = -1
	s.sleep = s.sleep[:0]
}

// strategy is the strategy a run of the walk uses: the search itself when
// it wants footprints, else a wrapper without them, so plain runs pay
// nothing for recording.
func (s *search) strategy() Strategy {
	if s.reduce || s.splitAt > 0 {
		return s
	}
	return plainStrategy{s}
}

type plainStrategy struct{ s *search }

func (p plainStrategy) Choose(cp ChoicePoint) int { return p.s.Choose(cp) }
func (p plainStrategy) Spec() Spec                { return p.s.spec }

// Spec implements Strategy.
func (s *search) Spec() Spec { return s.spec }

// Choose implements Strategy.
func (s *search) Choose(cp ChoicePoint) int {
	if s.pruned {
		return 0
	}
	var i int
	if cp.Kind == ChooseValue {
		i = s.chooseValue(cp.N)
	} else {
		i = s.chooseTask(cp)
	}
	s.taken = append(s.taken, i)
	return i
}

func (s *search) bounded() bool { return s.opt.MaxDepth > 0 && s.depth >= s.opt.MaxDepth }

func (s *search) mismatch(format string, args ...any) {
	if s.invalid == nil {
		s.invalid = fmt.Errorf("sim: DFS: program is not deterministic: choice %d: "+format, append([]any{s.depth}, args...)...)
	}
}

func (s *search) chooseValue(n int) int {
	s.valueInStep = true
	if s.bounded() {
		return 0
	}
	if s.depth < len(s.stack) {
		nd := s.stack[s.depth]
		s.depth++
		if !nd.value || nd.n != n {
			s.mismatch("a value choice of %d alternatives where the first run had %s", n, nd.describe())
			return 0
		}
		return nd.branch
	}
	s.stack = append(s.stack, &node{value: true, n: n, event: len(s.events)})
	s.depth++
	return 0
}

func (nd *node) describe() string {
	if nd.value {
		return "a value choice of " + strconv.Itoa(nd.n)
	}
	return "a choice among tasks " + fmt.Sprint(nd.enabled)
}

func (s *search) chooseTask(cp ChoicePoint) int {
	if s.bounded() {
		if cp.Current >= 0 {
			return cp.Current
		}
		return 0
	}
	if s.depth < len(s.stack) {
		nd := s.stack[s.depth]
		if nd.value || !slices.Equal(nd.enabled, cp.Tasks) {
			s.mismatch("a choice among tasks %v where the first run had %s", cp.Tasks, nd.describe())
			s.depth++
			return 0
		}
		s.schedNode = s.depth
		s.depth++
		s.nsched++
		if nd.backtrack == nil {
			i := nd.alts[nd.branch]
			if nd.cur >= 0 && i != nd.cur {
				s.pre++
			}
			return i
		}
		s.sleep = nd.appendSleep(s.sleep[:0], nd.branch)
		return slices.Index(cp.Tasks, nd.backtrack[nd.branch])
	}
	if s.splitAt > 0 && s.nsched == s.splitAt {
		s.split(s.stack[:s.depth])
		s.pruned = true
		return 0
	}
	nd := &node{enabled: slices.Clone(cp.Tasks), cur: cp.Current, preBefore: s.pre, event: len(s.events)}
	var i int
	if !s.reduce {
		for k := range cp.N {
			if !s.opt.BoundPreemptions || nd.cur < 0 || k == nd.cur || nd.preBefore < s.opt.PreemptionBound {
				nd.alts = append(nd.alts, k)
			}
		}
		i = nd.alts[0]
		if nd.cur >= 0 && i != nd.cur {
			s.pre++
		}
	} else {
		nd.sleep = slices.Clone(s.sleep)
		for _, t := range cp.Tasks {
			if asleep(s.sleep, t) {
				continue
			}
			nd.backtrack = append(nd.backtrack, t)
			if s.splitAt == 0 {
				break // the walk adds the others where races need them
			}
		}
		if len(nd.backtrack) == 0 {
			// Every runnable task's next step was covered elsewhere.
			s.pruned = true
			return 0
		}
		nd.fps = make([]footprint, len(nd.backtrack))
		i = slices.Index(cp.Tasks, nd.backtrack[0])
	}
	s.stack = append(s.stack, nd)
	s.schedNode = s.depth
	s.depth++
	s.nsched++
	return i
}

// next moves to the next branch after a run and reports whether there is
// one.
func (s *search) next() bool {
	if s.invalid != nil {
		return false
	}
	if s.reduce && s.splitAt == 0 {
		s.analyze()
	}
	s.stack = s.stack[:min(s.depth, len(s.stack))]
	for len(s.stack) > s.floor {
		nd := s.stack[len(s.stack)-1]
		if s.advance(nd) {
			s.analyzeFrom = nd.event
			s.reset()
			return true
		}
		s.stack = s.stack[:len(s.stack)-1]
	}
	return false
}

func (s *search) advance(nd *node) bool {
	switch {
	case nd.value:
		if nd.branch+1 < nd.n {
			nd.branch++
			return true
		}
	case nd.backtrack == nil:
		if nd.branch+1 < len(nd.alts) {
			nd.branch++
			return true
		}
	case nd.fps[nd.branch].empty():
		// The branch's step touched nothing (in every value it chose):
		// it commutes with every step, so every run from here is the
		// same as one that starts with it. It covered them all.
	default:
		for k := nd.branch + 1; k < len(nd.backtrack); k++ {
			if !asleep(nd.sleep, nd.backtrack[k]) {
				nd.branch, nd.known = k, false
				return true
			}
		}
	}
	return false
}

// fraction estimates how much of the subtree below the floor the walk has
// covered once the current run is counted, assuming sibling subtrees are
// alike (Knuth's estimator applied to the path of the last run).
func (s *search) fraction() float64 {
	f, w := 0.0, 1.0
	for _, nd := range s.stack[s.floor:min(s.depth, len(s.stack))] {
		done, total := nd.branches()
		if total <= 0 {
			continue
		}
		f += w * float64(done) / float64(total)
		w /= float64(total)
	}
	return f + w
}

// ---- reduction: steps, clocks, races ----

func (s *search) grow(task int) {
	for len(s.last) <= task {
		s.last = append(s.last, -1)
		s.waker = append(s.waker, -1)
		s.count = append(s.count, 0)
	}
}

func (s *search) stepBegin(task int, ready []int) bool {
	if s.pruned {
		return true
	}
	s.stepNode, s.schedNode, s.valueInStep = s.schedNode, -1, false
	if !s.reduce || task == 0 {
		return false
	}
	if ready == nil && asleep(s.sleep, task) {
		s.pruned = true // the only runnable task's step was covered elsewhere
		return true
	}
	return false
}

// hb reports whether step a happens before the step with clock clk.
func (s *search) hb(a int, clk []int32) bool {
	e := &s.events[a]
	return e.task < len(clk) && e.local <= clk[e.task]
}

func join(dst, src []int32) []int32 {
	for len(dst) < len(src) {
		dst = append(dst, 0)
	}
	for i, v := range src {
		if v > dst[i] {
			dst[i] = v
		}
	}
	return dst
}

func (s *search) histFor(o Obj) *objHist {
	h := s.hist.get(o)
	if h.epoch != s.lastGlobal {
		// A global step since: it is the last write of every object.
		h.epoch, h.write, h.publish, h.reads, h.updates = s.lastGlobal, s.lastGlobal, false, h.reads[:0], h.updates[:0]
	}
	return h
}

// histTable maps objects to what the run did to them: open addressing
// over a slice reused from run to run (a run touches a few hundred
// objects at most), cheaper than a map with its hashing of the key.
type histTable struct {
	keys  []Obj
	vals  []objHist
	used  []int32 // slots in use, to clear
	count int
}

func (t *histTable) reset() {
	for _, i := range t.used {
		t.keys[i] = Obj{}
	}
	t.used, t.count = t.used[:0], 0
}

func (t *histTable) get(o Obj) *objHist {
	if 2*(t.count+1) > len(t.keys) {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	for i := (o.ID*0x9e3779b97f4a7c15 + uint64(o.Kind)) >> 7 & mask; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case o:
			return &t.vals[i]
		case Obj{}:
			t.keys[i] = o
			t.used = append(t.used, int32(i))
			t.count++
			h := &t.vals[i]
			h.epoch, h.write, h.publish, h.reads, h.updates = -2, -1, false, h.reads[:0], h.updates[:0]
			return h
		}
	}
}

func (t *histTable) grow() {
	oldKeys, oldVals, oldUsed := t.keys, t.vals, t.used
	n := max(64, 2*len(oldKeys))
	t.keys, t.vals, t.used, t.count = make([]Obj, n), make([]objHist, n), make([]int32, 0, n/2), 0
	for _, i := range oldUsed {
		h := t.get(oldKeys[i])
		*h = oldVals[i]
	}
}

func (s *search) stepEnd(task int, fp footprint, woke []int) {
	if s.pruned || !s.reduce {
		return
	}
	// Record the step; the analysis waits for the end of the run (analyze),
	// off the tasks' stacks.
	i := len(s.events)
	var acc []Access
	var wk []int
	var clk []int32
	if i < cap(s.events) {
		old := &s.events[:i+1][i]
		acc, wk, clk = old.acc(), old.woke[:0], old.clk[:0]
	}
	s.events = append(s.events, event{task: task, node: s.stepNode, clk: clk,
		fp: footprint{global: fp.global, acc: append(acc, fp.acc...)}, woke: append(wk, woke...)})

	// Sleepers whose step depends on this one wake up.
	kept := s.sleep[:0]
	for _, x := range s.sleep {
		if !x.fp.conflicts(fp) {
			kept = append(kept, x)
		}
	}
	s.sleep = kept
	if n := s.stepNode; n >= 0 && n < len(s.stack) {
		nd := s.stack[n]
		if nd.backtrack != nil && !nd.known {
			nd.fps[nd.branch].union(fp)
			nd.known = !s.valueInStep

		}
	}
}

// analyze computes the happens-before order of the run's steps (vector
// clocks) and makes sure every race from analyzeFrom on is reversed where
// it must be (race).
func (s *search) analyze() {
	s.last, s.waker, s.count = s.last[:0], s.waker[:0], s.count[:0]
	s.hist.reset()
	s.lastGlobal = -1
	for i := range s.events {
		s.analyzeStep(i)
	}
}

func (s *search) analyzeStep(i int) {
	ev := &s.events[i]
	p, fp := ev.task, ev.fp
	s.grow(p)
	for _, t := range ev.woke {
		s.grow(t)
	}
	local := s.count[p] + 1

	// The clock before the dependencies of the step: the task's own
	// past and whatever woke or spawned it.
	clk := ev.clk[:0]
	if l := s.last[p]; l >= 0 {
		clk = join(clk, s.events[l].clk)
	}
	if wk := s.waker[p]; wk >= 0 {
		clk = join(clk, s.events[wk].clk)
		s.waker[p] = -1
	}
	for len(clk) <= p {
		clk = append(clk, 0)
	}
	clk[p] = local

	// The earlier steps it depends on directly.
	cands, hbOnly := s.cands[:0], s.hbOnly[:0]
	if fp.global {
		for q, l := range s.last {
			if q != p && l >= 0 {
				cands = append(cands, l)
			}
		}
	} else {
		for _, a := range fp.acc {
			h := s.histFor(a.Obj)
			m := a.Mode.base()
			switch {
			case h.write < 0:
			case a.Mode == awaited && h.publish:
				// The check waited for this write: ordered, not a race.
				hbOnly = append(hbOnly, h.write)
			default:
				cands = append(cands, h.write)
			}
			if m != Read {
				cands = append(cands, h.reads...)
			}
			if m != Update {
				cands = append(cands, h.updates...)
			}
		}
	}
	// The writes the step's Await waited for come before it in every run
	// where its check succeeds, and so does all they follow.
	for _, c := range hbOnly {
		clk = join(clk, s.events[c].clk)
	}
	// Races: dependencies not yet ordered before the step by its task's
	// past (or what it waited for), and not ordered before another such
	// dependency.
	racing := s.racing[:0]
	for _, c := range cands {
		if s.events[c].task != p && !s.hb(c, clk) && !slices.Contains(racing, c) {
			racing = append(racing, c)
		}
	}
	if fp.global {
		// The join of every task's last clock is the tasks' counts: each
		// last step knows its own count and no more of the others'. One
		// pass instead of a join per task.
		for len(clk) < len(s.count) {
			clk = append(clk, 0)
		}
		for q, n := range s.count {
			if q != p && n > clk[q] {
				clk[q] = n
			}
		}
	} else {
		for _, c := range cands {
			clk = join(clk, s.events[c].clk)
		}
	}
	ev.clk, ev.local = clk, local
	if i >= s.analyzeFrom && p != 0 {
		for _, c := range racing {
			direct := true
			for _, d := range racing {
				if d != c && s.hb(c, s.events[d].clk) {
					direct = false
					break
				}
			}
			if direct {
				s.race(c, i, p, clk)
			}
		}
	}
	s.cands, s.hbOnly, s.racing = cands, hbOnly[:0], racing

	if fp.global {
		s.lastGlobal = i
	} else {
		for _, a := range fp.acc {
			h := s.histFor(a.Obj)
			switch a.Mode.base() {
			case Write:
				h.write, h.publish, h.reads, h.updates = i, a.Mode == Publish, h.reads[:0], h.updates[:0]
			case Read:
				h.reads = append(h.reads, i)
			case Update:
				h.updates = append(h.updates, i)
			}
		}
	}
	for _, t := range ev.woke {
		s.waker[t] = i
	}
	s.last[p] = i
	s.count[p] = local
}

// race makes sure the scheduling point before step c branches on a task
// that can start the reversal of the race between c and step i (of task
// p, with clock clk): one of the initials of the steps after c that do
// not depend on it, followed by i.
func (s *search) race(c, i, p int, clk []int32) {
	ec := &s.events[c]
	if ec.task == 0 || ec.node < s.floor {
		// World events (timers, input) happen only when no task can run;
		// points above the floor branch on every task already; a step no
		// point chose had no alternative.
		return
	}
	nd := s.stack[ec.node]
	for len(s.firstLocal) < len(clk) || len(s.firstLocal) < len(s.last) {
		s.firstLocal = append(s.firstLocal, 0)
	}
	var initials []int
	found, seen, complete := false, 0, true
	hasPred := func(clk []int32) bool {
		for _, q := range s.touched {
			if q < len(clk) && clk[q] >= s.firstLocal[q] {
				return true
			}
		}
		return false
	}
	for j := c + 1; j < i && !found; j++ {
		ej := &s.events[j]
		if ej.fp.empty() || s.hb(c, ej.clk) || s.firstLocal[ej.task] != 0 {
			// A step that touched nothing (it found it must wait) is no
			// way to start the reversal: run first, it would only wait
			// again.
			continue
		}
		initial := !hasPred(ej.clk)
		s.firstLocal[ej.task] = ej.local
		s.touched = append(s.touched, ej.task)
		if initial {
			if nd.inBacktrack(ej.task) {
				found = true
			} else {
				initials = append(initials, ej.task)
			}
		}
		if slices.Contains(nd.enabled, ej.task) {
			if seen++; seen == len(nd.enabled) {
				complete = false // no later step can be a runnable initial
				break
			}
		}
	}
	if !found && complete && s.firstLocal[p] == 0 && !hasPred(clk) {
		if nd.inBacktrack(p) {
			found = true
		} else {
			initials = append(initials, p)
		}
	}
	for _, q := range s.touched {
		s.firstLocal[q] = 0
	}
	s.touched = s.touched[:0]
	if found {
		return
	}
	pick := -1
	for _, q := range initials {
		if !slices.Contains(nd.enabled, q) {
			continue
		}
		if q == p {
			pick = q
			break
		}
		if pick < 0 || q < pick {
			pick = q
		}
	}
	if pick >= 0 {
		nd.backtrack = append(nd.backtrack, pick)
		nd.fps = append(nd.fps, footprint{})
		return
	}
	s.anomalies++
	for _, q := range nd.enabled {
		if !nd.inBacktrack(q) {
			nd.backtrack = append(nd.backtrack, q)
			nd.fps = append(nd.fps, footprint{})
		}
	}
}

// ---- replaying a schedule ----

// choiceList replays the choices of one run of a search, under the
// search's name, for the trace of a failure.
type choiceList struct {
	choices []int
	i       int
	spec    Spec
}

func (c *choiceList) Choose(cp ChoicePoint) int {
	k := 0
	if c.i < len(c.choices) {
		k = min(c.choices[c.i], cp.N-1)
	}
	c.i++
	return k
}

func (c *choiceList) Spec() Spec { return c.spec }
