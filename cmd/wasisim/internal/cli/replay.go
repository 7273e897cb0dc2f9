package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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
	// The trace is read twice, one event at a time: to check it and learn
	// how it ended, then as the replay goes. Neither holds its events, so
	// a trace of any length replays in bounded memory (--json keeps the
	// events it prints).
	end, err := traceEnd(pos[0])
	if err != nil {
		return err
	}
	f, r, err := openTrace(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	h := r.Header()
	t, sp, err := targetFor(h, *scen)
	if err != nil {
		return err
	}
	cfg := replayConfig(end, t)
	names := map[int]string{0: "world"}
	spawned := 0
	var events []eventJSON
	w := c.stdout
	if !*asJSON {
		fmt.Fprintf(w, "replay %s  scenario %s  variant %s  seed %d  run %d  strategy %s\n", pos[0], sp, t.variant(), h.Seed, h.Run, h.Strategy)
		if !*quiet {
			printEventsHeader(w)
		}
	}
	cfg.OnEvent = func(e sim.Event) {
		if e.Kind == "spawn" {
			spawned++
			names[spawned] = e.Obj
		}
		switch {
		case !*choices && e.Of > 0:
		case *asJSON:
			ej := eventJSON{Step: e.Step, Task: names[int(e.Task)], Kind: e.Kind, Obj: e.Obj, Detail: e.Detail, Of: int(e.Of)}
			if e.Of > 0 {
				ch := int(e.Choice)
				ej.Choice = &ch
			}
			events = append(events, ej)
		case !*quiet:
			printEvent(w, e, names)
		}
	}
	res, got, err := sim.ReplayFrom(r, cfg, t.scenario())
	var te *sim.TraceError
	if errors.As(err, &te) {
		return traceError(fmt.Errorf("%s: %w", pos[0], err))
	} else if err != nil {
		return err
	}
	div := ""
	if res.Divergence != nil {
		div = res.Divergence.Error()
	}
	switch {
	case *asJSON:
		out := replayJSON{Trace: pos[0], Scenario: sp, Variant: t.variant(), Seed: h.Seed,
			Reproduced: res.Divergence == nil, Outcome: end.Outcome, Divergence: div, Events: events}
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	case res.Divergence != nil:
		fmt.Fprintf(w, "DIVERGED: %s\n", div)
	default:
		fmt.Fprintf(w, "reproduced: %d steps, outcome: %s\n", got.End.Steps, got.End.Outcome)
	}
	if res.Divergence != nil {
		return errFailed
	}
	return nil
}

// replayConfig is the configuration that replays a trace that ended
// with end: the target's, with the step limit the run ended at when it
// ended at one (an interrupted run stops as at a step limit, wherever it
// was).
func replayConfig(end *sim.End, t *target) sim.Config {
	cfg := t.config()
	if end != nil && strings.HasPrefix(end.Outcome, sim.ErrStepLimit.Error()) {
		cfg.MaxSteps = end.Steps
	}
	return cfg
}

func printEventsHeader(w io.Writer) {
	fmt.Fprintf(w, "%6s  %-22s %-14s %-12s %s\n", "step", "task", "event", "object", "detail")
}

func printEvent(w io.Writer, e sim.Event, names map[int]string) {
	detail := e.Detail
	if e.Of > 0 {
		detail = strings.TrimSpace(fmt.Sprintf("%s choice %d of %d", detail, e.Choice, e.Of))
	}
	fmt.Fprintf(w, "%6d  %-22s %-14s %-12s %s\n", e.Step, names[int(e.Task)], e.Kind, e.Obj, detail)
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
	tr, t, _, err := readTarget(pos[0], *scen)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = strings.TrimSuffix(pos[0], ".trace") + ".min.trace"
	}
	opt := sim.ShrinkOptions{Attempts: *attempts, Time: *budget, Signature: signature}
	if *budget <= 0 {
		// No time for any candidate: only the trace's own run.
		opt.Attempts, opt.Time = 1, 0
	}
	sh, err := sim.Shrink(tr, replayConfig(tr.End, t), t.scenario(), opt)
	if errors.Is(err, sim.ErrNoFailure) {
		return fmt.Errorf("the run of %s does not fail: nothing to shrink", pos[0])
	}
	if err != nil {
		return err
	}
	if err := sh.Trace.WriteFile(*out); err != nil {
		return fmt.Errorf("cannot write the minimal trace: %w", err)
	}
	r := shrinkJSON{Trace: pos[0], Out: *out, Failure: sh.Signature, ChoicesBefore: len(sh.Original), ChoicesAfter: len(sh.Choices),
		NonZeroBefore: sh.OriginalNonZero, NonZeroAfter: sh.NonZero, StepsBefore: tr.End.Steps, StepsAfter: sh.Result.Steps,
		EventsBefore: len(tr.Events), EventsAfter: len(sh.Trace.Events), Attempts: sh.Attempts, Replay: "wasisim replay " + *out,
		BudgetExhausted: sh.Exhausted}
	if *asJSON {
		return writeJSON(c.stdout, r)
	}
	w := c.stdout
	fmt.Fprintf(w, "shrink %s  failure: %s\n", pos[0], r.Failure)
	fmt.Fprintf(w, "  choices   %4d -> %-4d (non-zero %d -> %d)\n", r.ChoicesBefore, r.ChoicesAfter, r.NonZeroBefore, r.NonZeroAfter)
	fmt.Fprintf(w, "  steps     %4d -> %d\n", r.StepsBefore, r.StepsAfter)
	fmt.Fprintf(w, "  events    %4d -> %d\n", r.EventsBefore, r.EventsAfter)
	fmt.Fprintf(w, "removed %d of %d choices and %d of %d non-zero ones in %d attempts",
		r.ChoicesBefore-r.ChoicesAfter, r.ChoicesBefore, r.NonZeroBefore-r.NonZeroAfter, r.NonZeroBefore, r.Attempts)
	if r.BudgetExhausted {
		fmt.Fprint(w, " (budget used up; the result is smaller but may not be minimal)")
	}
	fmt.Fprintf(w, "\nminimal trace: %s\nreplay: %s\n", *out, r.Replay)
	for _, l := range failureLines(sh.Result) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	return nil
}
