package sim

import (
	"errors"
	"fmt"
	"time"
)

// DefaultShrinkAttempts is the candidate-run budget of Shrink when
// ShrinkOptions.Attempts is 0.
const DefaultShrinkAttempts = 2000

// ErrNoFailure is returned by Shrink when the run of the trace does not
// fail: there is nothing to shrink.
var ErrNoFailure = errors.New("sim: the run does not fail: nothing to shrink")

// ShrinkOptions bounds and steers Shrink.
type ShrinkOptions struct {
	// Attempts bounds the runs Shrink makes, counting the first run of the
	// trace's own choices (0: DefaultShrinkAttempts).
	Attempts int
	// Time bounds the wall-clock time spent trying candidates (0: no
	// bound). Like Attempts it limits how far shrinking gets, never what a
	// run does.
	Time time.Duration
	// Signature names a failure, so that a smaller schedule counts only if
	// it fails the same way as the original run rather than in some other
	// way. Nil means Result.Outcome, which includes the failures' text; a
	// caller whose failures print data that varies with the schedule passes
	// something coarser (which checks failed, and how).
	Signature func(*Result) string
}

// Shrunk is the smallest failing schedule Shrink found.
type Shrunk struct {
	// Result and Trace are the minimal run and its full trace. The trace
	// header names the strategy "shrunk", with the original strategy as
	// its parameter "from"; it replays like any other trace.
	Result *Result
	Trace  *Trace
	// Signature is the failure's signature, the same for both runs.
	Signature string
	// Original are the choices of the trace, in order; Choices those of
	// the minimal run, without trailing zeros (past its end a run takes
	// alternative 0). NonZero and OriginalNonZero count their non-zero
	// choices: the choices that depart from the first alternative, which
	// is what Shrink minimises first.
	Original, Choices        []int
	OriginalNonZero, NonZero int
	// Attempts is the number of runs made, counting the first.
	Attempts int
	// Exhausted reports that Attempts or Time ran out: the schedule is
	// smaller than the original but may not be minimal.
	Exhausted bool
}

// Shrink minimises the schedule of a failing run: it re-runs the trace's
// choices, then searches for a schedule that fails with the same
// signature and departs from the first alternative at fewer choice points
// — then, among those, has fewer choices, then fewer steps. Candidates
// zero out chunks of the non-zero choices, halves down to single ones
// (delta debugging), then lower single choices to an earlier alternative,
// until a pass changes nothing. A candidate choice beyond the number of
// alternatives at its point takes the last one; past the list every
// choice is 0.
//
// sc must build the scenario the trace was recorded from, and cfg must
// hash to the trace header's ConfigHash, as for Replay. Seed and Run come
// from the header, as do Variant and Scenario when cfg leaves them empty;
// Strategy and Trace are Shrink's own. A run that does not fail is
// ErrNoFailure; an error from sc is returned as is.
func Shrink(tr *Trace, cfg Config, sc Scenario, opt ShrinkOptions) (*Shrunk, error) {
	if tr == nil {
		return nil, errors.New("sim: nil trace")
	}
	if got := ConfigHash(cfg.Config); got != tr.Header.ConfigHash {
		return nil, fmt.Errorf("sim: trace was recorded with configuration %s, this one is %s", tr.Header.ConfigHash, got)
	}
	cfg.Seed, cfg.Run = tr.Header.Seed, tr.Header.Run
	if cfg.Variant == "" {
		cfg.Variant = tr.Header.Variant
	}
	if cfg.Scenario == "" {
		cfg.Scenario = tr.Header.Scenario
	}
	attempts := opt.Attempts
	if attempts == 0 {
		attempts = DefaultShrinkAttempts
	}
	signature := opt.Signature
	if signature == nil {
		signature = (*Result).Outcome
	}
	from := tr.Header.Strategy
	try := func(cands []int, trace bool) (*Result, *Trace, []int, error) {
		st := &listStrategy{choices: cands, from: from}
		c := cfg
		c.Strategy, c.Trace, c.TraceChoices = st, trace, false
		res, t, err := RunOnce(c, sc)
		return res, t, st.taken, err
	}
	var orig []int
	for _, e := range tr.Events {
		if e.Of > 0 {
			orig = append(orig, int(e.Choice))
		}
	}
	res0, _, taken, err := try(orig, false)
	if err != nil {
		return nil, err
	}
	if !res0.Failed() {
		return nil, ErrNoFailure
	}
	sig := signature(res0)
	cur, curSteps := trimZeros(taken), res0.Steps
	n := 1
	start := time.Now()
	exhausted := false
	// accept runs a candidate and keeps it if the same failure remains
	// and the schedule is smaller: fewer non-zero choices, then fewer
	// choices, then fewer steps.
	accept := func(cand []int) bool {
		if n >= attempts || (opt.Time > 0 && time.Since(start) > opt.Time) {
			exhausted = true
			return false
		}
		n++
		res, _, taken, err := try(cand, false)
		if err != nil || !res.Failed() || signature(res) != sig {
			return false
		}
		t := trimZeros(taken)
		better := nonZero(t) < nonZero(cur) ||
			(nonZero(t) == nonZero(cur) && (len(t) < len(cur) || (len(t) == len(cur) && res.Steps < curSteps)))
		if better {
			cur, curSteps = t, res.Steps
		}
		return better
	}
	for changed := true; changed && !exhausted; {
		changed = false
		// 1. Zero out chunks of the non-zero choices (delta debugging),
		// from halves down to single choices.
		for gran := 2; !exhausted; {
			idx := []int{}
			for i, c := range cur {
				if c != 0 {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				break
			}
			g := min(gran, len(idx))
			progress := false
			for k := 0; k < g && !exhausted; k++ {
				lo, hi := k*len(idx)/g, (k+1)*len(idx)/g
				cand := append([]int(nil), cur...)
				for _, i := range idx[lo:hi] {
					cand[i] = 0
				}
				if accept(cand) {
					progress, changed = true, true
					break
				}
			}
			if progress {
				gran = max(gran-1, 2)
				continue
			}
			if g == len(idx) {
				break
			}
			gran = min(gran*2, len(idx))
		}
		// 2. Lower single choices (an earlier alternative instead).
		for i := 0; i < len(cur) && !exhausted; i++ {
			for v := 1; i < len(cur) && v < cur[i] && !exhausted; v++ {
				cand := append([]int(nil), cur...)
				cand[i] = v
				if accept(cand) {
					changed = true
					break
				}
			}
		}
	}
	resMin, trMin, _, err := try(cur, true)
	if err != nil {
		return nil, err
	}
	if !resMin.Failed() || signature(resMin) != sig {
		return nil, errors.New("sim: the minimal schedule no longer fails the same way (is the scenario deterministic?)")
	}
	return &Shrunk{Result: resMin, Trace: trMin, Signature: sig,
		Original: orig, Choices: cur, OriginalNonZero: nonZero(orig), NonZero: nonZero(cur),
		Attempts: n, Exhausted: exhausted}, nil
}

// listStrategy replays a list of choice indexes, clamped to the
// alternatives available, then takes alternative 0; it records what it
// chose. Shrink runs its candidates with it.
type listStrategy struct {
	choices []int
	from    string
	i       int
	taken   []int
}

func (s *listStrategy) Choose(cp ChoicePoint) int {
	c := 0
	if s.i < len(s.choices) {
		c = min(s.choices[s.i], cp.N-1)
	}
	s.i++
	s.taken = append(s.taken, c)
	return c
}

func (s *listStrategy) Spec() Spec {
	return Spec{Name: "shrunk", Params: map[string]string{"from": s.from}}
}

func nonZero(cs []int) int {
	n := 0
	for _, c := range cs {
		if c != 0 {
			n++
		}
	}
	return n
}

func trimZeros(cs []int) []int {
	for len(cs) > 0 && cs[len(cs)-1] == 0 {
		cs = cs[:len(cs)-1]
	}
	return cs
}
