package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// This file is what explore does for long explorations: partial-order
// reduction and the split for DFS, progress while it runs (a line on a
// terminal, lines or JSON events when piped), and the report a shard
// writes for merge.

// scaleSettings are the flags of explore that this file handles.
type scaleSettings struct {
	reduce   *bool // nil: the default, true
	split    int
	progress bool
	quiet    bool
	json     bool
	report   string
}

func (s *scaleSettings) register(fs *flag.FlagSet) {
	s.reduce = fs.Bool("reduce", true, "dfs: partial-order reduction, one schedule per class of equivalent interleavings (off with --max-depth)")
	fs.IntVar(&s.split, "split", sim.DefaultSplit, "dfs: split the schedule tree into at least this many subtrees for --workers and --shard (1: none); shards must use the same")
	fs.BoolVar(&s.progress, "progress", false, "print progress every second, also when stderr is not a terminal")
	fs.BoolVar(&s.quiet, "quiet", false, "print no progress")
	fs.StringVar(&s.report, "report", "", "also write the JSON report to FILE (for wasisim merge)")
}

// apply sets the DFS options the flags choose.
func (s *scaleSettings) apply(opt *sim.ExploreOptions) {
	opt.Options.DFS.Plain = s.reduce != nil && !*s.reduce
	opt.Options.DFS.Split = s.split
}

// progressLine formats a snapshot for people.
func progressLine(p sim.Progress) string {
	rate := float64(p.Runs) / max(p.Elapsed.Seconds(), 1e-9)
	s := fmt.Sprintf("%s  %.0f runs/s  %s  %s", plural(p.Runs, "run"), rate, plural(p.Failures, "failure"), plural(p.Distinct, "distinct outcome"))
	if p.Pruned > 0 {
		s += fmt.Sprintf("  (%d stopped early)", p.Pruned)
	}
	if p.Fraction > 0 {
		s += fmt.Sprintf("  ~%.0f%% of ~%s", 100*p.Fraction, approx(p.Total))
		if p.Remaining > 0 {
			s += ", ~" + p.Remaining.Round(time.Second).String() + " left"
		}
	}
	return s
}

// approx prints an estimate with two significant digits.
func approx(x float64) string {
	if x < 100 {
		return strconv.Itoa(int(x + 0.5))
	}
	if x >= 1e15 {
		return strconv.FormatFloat(x, 'g', 2, 64) // beyond any budget: the magnitude is what counts
	}
	e := 1.0
	for x/e >= 100 {
		e *= 10
	}
	return strconv.FormatFloat(float64(int(x/e+0.5))*e, 'f', 0, 64)
}

// progressJSON is one streamed progress event (--json, on stderr).
type progressJSON struct {
	Event       string  `json:"event"`
	Runs        int     `json:"runs"`
	RunsPerSec  float64 `json:"runs_per_sec"`
	Failures    int     `json:"failures"`
	Distinct    int     `json:"distinct"`
	Pruned      int     `json:"pruned,omitempty"`
	ElapsedMS   float64 `json:"elapsed_ms"`
	Fraction    float64 `json:"fraction,omitempty"`
	Estimated   float64 `json:"estimated_runs,omitempty"`
	RemainingMS float64 `json:"remaining_ms,omitempty"`
}

// reporter prints progress to w while an exploration runs: an updated line
// on a terminal (every 200ms), a line every 10s otherwise (every second
// with --progress), JSON events with --json; nothing with --quiet. done
// clears the terminal line.
func (s *scaleSettings) reporter(w io.Writer, tty bool) (fn func(sim.Progress), every time.Duration, done func()) {
	done = func() {}
	if s.quiet {
		return nil, 0, done
	}
	var mu sync.Mutex
	switch {
	case s.json:
		every = 10 * time.Second
		if s.progress {
			every = time.Second
		}
		fn = func(p sim.Progress) {
			b, _ := json.Marshal(progressJSON{Event: "progress", Runs: p.Runs, RunsPerSec: float64(p.Runs) / max(p.Elapsed.Seconds(), 1e-9),
				Failures: p.Failures, Distinct: p.Distinct, Pruned: p.Pruned, ElapsedMS: ms(p.Elapsed), Fraction: p.Fraction,
				Estimated: p.Total, RemainingMS: ms(p.Remaining)})
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "%s\n", b)
		}
	case tty && !s.progress:
		every = 200 * time.Millisecond
		fn = func(p sim.Progress) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "\r\033[K%s", progressLine(p))
		}
		done = func() { fmt.Fprint(w, "\r\033[K") }
	default:
		every = 10 * time.Second
		if s.progress {
			every = time.Second
		}
		fn = func(p sim.Progress) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "explore: %s\n", progressLine(p))
		}
	}
	return fn, every, done
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// scaleJSON are the fields of an explore report that say how the
// exploration was split and searched; merge needs them to combine
// shards.
type scaleJSON struct {
	ConfigHash string  `json:"config_hash"`
	Budget     int     `json:"budget,omitempty"` // --runs
	TimeMS     int64   `json:"time_ms,omitempty"`
	Shard      int     `json:"shard"`
	Shards     int     `json:"shards"`
	Reduced    bool    `json:"reduced,omitempty"`
	Split      int     `json:"split,omitempty"`
	Jobs       int     `json:"jobs,omitempty"`
	Pruned     int     `json:"pruned,omitempty"`
	Estimate   float64 `json:"estimated_runs,omitempty"` // dfs not exhausted: Knuth's estimate of the whole
	MaxDepth   int     `json:"max_depth,omitempty"`
	Depth      int     `json:"pct_depth,omitempty"`
	Steps      int     `json:"pct_steps,omitempty"`
}

// scaleOf describes an exploration's options and what its report adds.
func scaleOf(opt sim.ExploreOptions, rep *sim.Report) scaleJSON {
	sj := scaleJSON{ConfigHash: sim.ConfigHash(opt.Config), Budget: opt.Runs, TimeMS: opt.Time.Milliseconds(),
		Shard: opt.Shard, Shards: max(opt.Shards, 1)}
	switch opt.Strategy {
	case "dfs":
		d := opt.Options.DFS
		sj.Reduced = !d.Plain && d.MaxDepth == 0 && !d.BoundPreemptions
		sj.Split, sj.Jobs, sj.Pruned, sj.MaxDepth = max(d.Split, 1), rep.Jobs, rep.Pruned, d.MaxDepth
		if !rep.Exhausted && rep.Estimate > 0 {
			sj.Estimate = math.Round(rep.Estimate) // a float: trees of components exceed int64
		}
		if d.Split == 0 {
			sj.Split = sim.DefaultSplit
		}
	case "pct":
		sj.Depth, sj.Steps = opt.Options.PCT.Depth, opt.Options.PCT.Steps
	}
	return sj
}

// failureName is the file a failure's trace is written to: the run for
// the strategies that number runs, the subtree and schedule for DFS (the
// same in every shard and for every worker count).
func failureName(base, strategy string, f sim.Failure) string {
	if strategy == "dfs" {
		return fmt.Sprintf("%s-dfs-job%d-%d.trace", base, f.Job, f.Index)
	}
	return fmt.Sprintf("%s-%s-run%d.trace", base, strategy, f.Run)
}

// failWhere names a failing run for people.
func failWhere(strategy string, f *failureJSON) string {
	if strategy == "dfs" {
		return fmt.Sprintf("schedule %d of subtree %d (seed %d)", f.Index, f.Job, f.Seed)
	}
	return fmt.Sprintf("run %d (seed %d)", f.Run, f.Seed)
}

// writeReport writes the JSON report to a file (--report).
func writeReport(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write --report: %w", err)
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return fmt.Errorf("cannot write --report: %w", err)
	}
	return f.Close()
}

// printScale adds to the text report how DFS searched and split.
func printScale(w io.Writer, opt sim.ExploreOptions, rep *sim.Report) {
	var parts []string
	if opt.Shards > 1 {
		parts = append(parts, fmt.Sprintf("shard %d/%d", opt.Shard, opt.Shards))
	}
	if opt.Strategy == "dfs" {
		sj := scaleOf(opt, rep)
		if sj.Reduced {
			parts = append(parts, "partial-order reduction: one schedule per class of equivalent interleavings")
			if rep.Pruned > 0 {
				parts = append(parts, fmt.Sprintf("%d more stopped early as redundant", rep.Pruned))
			}
		} else {
			parts = append(parts, "no reduction: every interleaving")
		}
		if rep.Jobs > 1 {
			parts = append(parts, fmt.Sprintf("tree split into %d subtrees", rep.Jobs))
		}
		if !rep.Exhausted && rep.Estimate > 0 {
			parts = append(parts, "estimated schedules in all: ~"+approx(rep.Estimate))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "  (%s)\n", strings.Join(parts, "; "))
	}
}
