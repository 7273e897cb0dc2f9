package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

type eventJSON struct {
	Step   int64  `json:"step"`
	Task   string `json:"task"`
	Kind   string `json:"kind"`
	Obj    string `json:"obj,omitempty"`
	Detail string `json:"detail,omitempty"`
	Choice *int   `json:"choice,omitempty"`
	Of     int    `json:"of,omitempty"`
}

type replayJSON struct {
	Trace      string      `json:"trace"`
	Scenario   string      `json:"scenario"`
	Variant    string      `json:"variant"`
	Seed       uint64      `json:"seed"`
	Reproduced bool        `json:"reproduced"`
	Outcome    string      `json:"outcome"`
	Divergence string      `json:"divergence,omitempty"`
	Events     []eventJSON `json:"events"`
}

func (c *command) replay(args []string) error {
	fs := c.flags("wasisim replay TRACE [--scenario FILE] [--choices] [--quiet] [--json]",
		`  wasisim replay planted-bug-pct-run13.trace
  wasisim replay pr870.trace --scenario testdata/scenarios/pr870.wsim
  wasisim replay run.trace --json | jq '.events[] | select(.kind=="drop")'
`)
	scen := fs.String("scenario", "", "the scenario file (default: the path in the trace header)")
	choices := fs.Bool("choices", false, "also list scheduling and value choices")
	quiet := fs.Bool("quiet", false, "print only the verdict, not the event log")
	asJSON := fs.Bool("json", false, "print the replay as JSON")
	pos, err := c.parse(fs, args, 1, "TRACE file")
	if err != nil {
		return err
	}
	tr, s, sp, err := readTrace(pos[0], *scen)
	if err != nil {
		return err
	}
	res, got, err := sim.Replay(tr, simConfig(s.Name, s), nil, s.Scenario(scenario.Options{}))
	if err != nil {
		return err
	}
	names := taskNames(got)
	div := ""
	if res.Divergence != nil {
		div = res.Divergence.Error()
	}
	if *asJSON {
		out := replayJSON{Trace: pos[0], Scenario: sp, Variant: s.Variant.String(), Seed: tr.Header.Seed,
			Reproduced: res.Divergence == nil, Outcome: tr.End.Outcome, Divergence: div}
		for _, e := range got.Events {
			if !*choices && e.Of > 0 {
				continue
			}
			ej := eventJSON{Step: e.Step, Task: names[int(e.Task)], Kind: e.Kind, Obj: e.Obj, Detail: e.Detail, Of: int(e.Of)}
			if e.Of > 0 {
				ch := int(e.Choice)
				ej.Choice = &ch
			}
			out.Events = append(out.Events, ej)
		}
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	} else {
		w := c.stdout
		h := tr.Header
		fmt.Fprintf(w, "replay %s  scenario %s  variant %s  seed %d  run %d  strategy %s\n", pos[0], sp, s.Variant, h.Seed, h.Run, h.Strategy)
		if !*quiet {
			printEvents(w, got.Events, names, *choices)
		}
		if res.Divergence != nil {
			fmt.Fprintf(w, "DIVERGED: %s\n", div)
		} else {
			fmt.Fprintf(w, "reproduced: %d steps, outcome: %s\n", got.End.Steps, got.End.Outcome)
		}
	}
	if res.Divergence != nil {
		return errFailed
	}
	return nil
}

func printEvents(w io.Writer, evs []sim.Event, names map[int]string, choices bool) {
	fmt.Fprintf(w, "%6s  %-22s %-14s %-12s %s\n", "step", "task", "event", "object", "detail")
	for _, e := range evs {
		if !choices && e.Of > 0 {
			continue
		}
		detail := e.Detail
		if e.Of > 0 {
			detail = strings.TrimSpace(fmt.Sprintf("%s choice %d of %d", detail, e.Choice, e.Of))
		}
		fmt.Fprintf(w, "%6d  %-22s %-14s %-12s %s\n", e.Step, names[int(e.Task)], e.Kind, e.Obj, detail)
	}
}

// listStrategy replays a list of choice indexes, clamped to the
// alternatives available, then takes alternative 0; it records what it
// chose. Shrinking runs candidates with it.
type listStrategy struct {
	choices []int
	from    string
	i       int
	taken   []int
}

func (s *listStrategy) Choose(cp sim.ChoicePoint) int {
	c := 0
	if s.i < len(s.choices) {
		c = min(s.choices[s.i], cp.N-1)
	}
	s.i++
	s.taken = append(s.taken, c)
	return c
}

func (s *listStrategy) Spec() sim.Spec {
	return sim.Spec{Name: "shrunk", Params: map[string]string{"from": s.from}}
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

type shrinkJSON struct {
	Trace           string `json:"trace"`
	Out             string `json:"out"`
	Failure         string `json:"failure"`
	ChoicesBefore   int    `json:"choices_before"`
	ChoicesAfter    int    `json:"choices_after"`
	NonZeroBefore   int    `json:"nonzero_before"`
	NonZeroAfter    int    `json:"nonzero_after"`
	StepsBefore     int64  `json:"steps_before"`
	StepsAfter      int64  `json:"steps_after"`
	EventsBefore    int    `json:"events_before"`
	EventsAfter     int    `json:"events_after"`
	Attempts        int    `json:"attempts"`
	Replay          string `json:"replay"`
	BudgetExhausted bool   `json:"budget_exhausted,omitempty"`
}

func (c *command) shrink(args []string) error {
	fs := c.flags("wasisim shrink TRACE [--out FILE] [--scenario FILE] [--attempts N] [--time D] [--json]",
		`  wasisim shrink planted-bug-random-run0.trace
  wasisim shrink fail.trace --out fail.min.trace --attempts 5000
`)
	scen := fs.String("scenario", "", "the scenario file (default: the path in the trace header)")
	out := fs.String("out", "", "where to write the minimal trace (default: TRACE with .min before .trace)")
	attempts := fs.Int("attempts", 2000, "most candidate runs to try")
	budget := fs.Duration("time", 30*time.Second, "wall-clock budget")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := c.parse(fs, args, 1, "TRACE file")
	if err != nil {
		return err
	}
	if *attempts < 1 {
		return usagef("--attempts must be at least 1")
	}
	tr, s, _, err := readTrace(pos[0], *scen)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = strings.TrimSuffix(pos[0], ".trace") + ".min.trace"
	}
	base := simConfig(s.Name, s)
	base.Seed = tr.Header.Seed
	base.Run = tr.Header.Run
	sc := s.Scenario(scenario.Options{})
	from := tr.Header.Strategy
	try := func(cands []int, trace bool) (*sim.Result, *sim.Trace, []int, error) {
		st := &listStrategy{choices: cands, from: from}
		cfg := base
		cfg.Strategy = st
		cfg.Trace = trace
		res, t, err := sim.RunOnce(cfg, sc)
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
		return err
	}
	if !res0.Failed() {
		return fmt.Errorf("the run of %s does not fail: nothing to shrink", pos[0])
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
		if n >= *attempts || time.Since(start) > *budget {
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
		return err
	}
	if !resMin.Failed() || signature(resMin) != sig {
		return fmt.Errorf("internal: the minimal schedule no longer fails the same way")
	}
	if err := trMin.WriteFile(*out); err != nil {
		return fmt.Errorf("cannot write the minimal trace: %w", err)
	}
	r := shrinkJSON{Trace: pos[0], Out: *out, Failure: sig, ChoicesBefore: len(orig), ChoicesAfter: len(cur),
		NonZeroBefore: nonZero(orig), NonZeroAfter: nonZero(cur), StepsBefore: tr.End.Steps, StepsAfter: resMin.Steps,
		EventsBefore: len(tr.Events), EventsAfter: len(trMin.Events), Attempts: n, Replay: "wasisim replay " + *out,
		BudgetExhausted: exhausted}
	if *asJSON {
		return writeJSON(c.stdout, r)
	}
	w := c.stdout
	fmt.Fprintf(w, "shrink %s  failure: %s\n", pos[0], sig)
	fmt.Fprintf(w, "  choices   %4d -> %-4d (non-zero %d -> %d)\n", r.ChoicesBefore, r.ChoicesAfter, r.NonZeroBefore, r.NonZeroAfter)
	fmt.Fprintf(w, "  steps     %4d -> %d\n", r.StepsBefore, r.StepsAfter)
	fmt.Fprintf(w, "  events    %4d -> %d\n", r.EventsBefore, r.EventsAfter)
	fmt.Fprintf(w, "removed %d of %d choices and %d of %d non-zero ones in %d attempts",
		r.ChoicesBefore-r.ChoicesAfter, r.ChoicesBefore, r.NonZeroBefore-r.NonZeroAfter, r.NonZeroBefore, n)
	if exhausted {
		fmt.Fprint(w, " (budget used up; the result is smaller but may not be minimal)")
	}
	fmt.Fprintf(w, "\nminimal trace: %s\nreplay: %s\n", *out, r.Replay)
	for _, l := range failureLines(resMin) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	return nil
}
