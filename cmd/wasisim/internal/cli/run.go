package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

type taskJSON struct {
	Name  string `json:"name"`
	Error string `json:"error,omitempty"`
}

type runJSON struct {
	Scenario  string     `json:"scenario"`
	Variant   string     `json:"variant"`
	Seed      uint64     `json:"seed"`
	OK        bool       `json:"ok"`
	Outcome   string     `json:"outcome"`
	Steps     int64      `json:"steps"`
	Tasks     []taskJSON `json:"tasks"`
	Failures  []string   `json:"failures,omitempty"`
	Stdout    string     `json:"stdout,omitempty"`
	Stderr    string     `json:"stderr,omitempty"`
	Trace     string     `json:"trace,omitempty"`
	TraceHash string     `json:"trace_hash"`
}

func (c *command) run(args []string) error {
	fs := c.flags("wasisim run FILE [--seed N] [--variant p3|p3-async-write] [--trace OUT] [--json]",
		`  wasisim run testdata/scenarios/drop-during-write.wsim
  wasisim run testdata/scenarios/pr870.wsim --variant p3-async-write --trace pr870.trace
  wasisim run testdata/scenarios/planted-bug.wsim --seed 7 --json
`)
	seed := fs.Uint64("seed", 1, "seed of the run (default: the scenario's seed line, else 1)")
	variant := fs.String("variant", "", "API variant: p3 or p3-async-write (default: the scenario's)")
	traceOut := fs.String("trace", "", "write the run's trace to this file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := c.parse(fs, args, 1, "scenario FILE")
	if err != nil {
		return err
	}
	path := pos[0]
	s, err := loadScript(path)
	if err != nil {
		return err
	}
	if s, err = withVariant(s, *variant); err != nil {
		return err
	}
	if !isSet(fs, "seed") && s.SeedSet {
		*seed = s.Seed
	}
	cfg := simConfig(path, s)
	cfg.Seed = *seed
	cfg.Trace = true
	var h *host.Host
	res, tr, err := sim.RunOnce(cfg, s.Scenario(scenario.Options{OnHost: func(x *host.Host) { h = x }}))
	if err != nil {
		return err
	}
	if *traceOut != "" {
		if err := tr.WriteFile(*traceOut); err != nil {
			return fmt.Errorf("cannot write trace: %w", err)
		}
	}
	if *asJSON {
		out := runJSON{Scenario: path, Variant: s.Variant.String(), Seed: *seed, OK: !res.Failed(),
			Outcome: res.Outcome(), Steps: res.Steps, Failures: failureLines(res), Trace: *traceOut, TraceHash: tr.Hash()}
		for _, t := range res.Tasks {
			tj := taskJSON{Name: t.Name}
			if t.Err != nil {
				tj.Error = t.Err.Error()
			}
			out.Tasks = append(out.Tasks, tj)
		}
		if h != nil {
			out.Stdout, out.Stderr = string(h.Stdout()), string(h.Stderr())
		}
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	} else {
		w := c.stdout
		fmt.Fprintf(w, "run %s  variant %s  seed %d\n", path, s.Variant, *seed)
		for _, t := range res.Tasks {
			st := "ok"
			if t.Err != nil {
				st = t.Err.Error()
			}
			fmt.Fprintf(w, "  %-24s %s\n", t.Name, st)
		}
		if h != nil {
			if len(h.Stdout()) > 0 {
				fmt.Fprintf(w, "stdout: %s\n", strconv.Quote(string(h.Stdout())))
			}
			if len(h.Stderr()) > 0 {
				fmt.Fprintf(w, "stderr: %s\n", strconv.Quote(string(h.Stderr())))
			}
		}
		if res.Failed() {
			fmt.Fprintf(w, "FAIL after %d steps:\n", res.Steps)
			for _, l := range failureLines(res) {
				fmt.Fprintf(w, "  %s\n", l)
			}
		} else {
			fmt.Fprintf(w, "ok: %d steps\n", res.Steps)
		}
		if *traceOut != "" {
			fmt.Fprintf(w, "trace: %s  (wasisim replay %s)\n", *traceOut, *traceOut)
		}
	}
	if res.Failed() {
		return errFailed
	}
	return nil
}

type outcomeJSON struct {
	Outcome string `json:"outcome"`
	Count   int    `json:"count"`
}

type failureJSON struct {
	Run    uint64 `json:"run"`
	Seed   uint64 `json:"seed"`
	Job    uint64 `json:"job,omitempty"` // dfs: the subtree of the split
	Index  uint64 `json:"index"`         // dfs: the schedule within it; else the run
	Error  string `json:"error"`
	Trace  string `json:"trace"`
	Replay string `json:"replay"`
}

type exploreJSON struct {
	Scenario   string        `json:"scenario"`
	Variant    string        `json:"variant"`
	Strategy   string        `json:"strategy"`
	Seed       uint64        `json:"seed"`
	Runs       int           `json:"runs"`
	ElapsedMS  float64       `json:"elapsed_ms"`
	RunsPerSec float64       `json:"runs_per_sec"`
	Exhausted  bool          `json:"exhausted,omitempty"`
	Outcomes   []outcomeJSON `json:"outcomes"`
	Failure    *failureJSON  `json:"failure,omitempty"`
	scaleJSON
}

// exploreSettings are the flags of explore (and the demo's fixed choice).
type exploreSettings struct {
	strategy     string
	runs         int
	dur          time.Duration
	workers      int
	shard        string
	seed         uint64
	depth, steps int
	maxDepth     int
	out          string
	scale        scaleSettings
}

func (c *command) explore(args []string) error {
	fs := c.flags("wasisim explore FILE [--strategy random|pct|dfs|round-robin] [--runs N | --time D] [--workers N] [--shard i/n] [--seed S] [--depth d] [--out DIR] [--json] [--report FILE] [--progress | --quiet]",
		`  wasisim explore testdata/scenarios/planted-bug.wsim --strategy pct --runs 1000
  wasisim explore testdata/scenarios/lock-release.wsim --strategy dfs --runs 0     # until exhausted
  wasisim explore testdata/scenarios/pr870.wsim --variant p3-async-write --time 5s --workers 2
  wasisim explore testdata/scenarios/port-release.wsim --runs 10000 --shard 0/4 --seed 42 --json
  wasisim explore testdata/scenarios/conn-outlives-sockets.wsim --strategy dfs --runs 0 --shard 1/4 --report s1.json
`)
	var st exploreSettings
	fs.StringVar(&st.strategy, "strategy", "random", "schedule strategy: random, pct, dfs or round-robin")
	fs.IntVar(&st.runs, "runs", 1000, "number of runs (dfs: schedule budget, 0 = until exhausted)")
	fs.DurationVar(&st.dur, "time", 0, "wall-clock budget instead of --runs (e.g. 10s)")
	fs.IntVar(&st.workers, "workers", 0, "parallel workers (default GOMAXPROCS; dfs: over the subtrees of --split)")
	fs.StringVar(&st.shard, "shard", "", "run only shard i of n (i/n), to split runs over machines (dfs: subtrees); wasisim merge combines their reports")
	fs.Uint64Var(&st.seed, "seed", 1, "base seed; run i uses a seed derived from it")
	fs.IntVar(&st.depth, "depth", 3, "PCT bug depth d")
	fs.IntVar(&st.steps, "steps", 0, "PCT step estimate k (default: measured from one run)")
	fs.IntVar(&st.maxDepth, "max-depth", 0, "dfs: choices explored per run (0: unbounded)")
	fs.StringVar(&st.out, "out", ".", "directory for the failing run's trace")
	variant := fs.String("variant", "", "API variant: p3 or p3-async-write (default: the scenario's)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var wf wasmFlags
	wf.register(fs)
	st.scale.register(fs)
	var t *target
	if flags, bin, guest, ok := splitWasm(fs, args); ok {
		if _, err := c.parse(fs, flags, 0, "flag"); err != nil {
			return err
		}
		var err error
		if t, err = loadWasm(bin, guest, &wf); err != nil {
			return err
		}
	} else {
		pos, err := c.parse(fs, args, 1, "scenario FILE or wasm binary")
		if err != nil {
			return err
		}
		s, err := loadScript(pos[0])
		if err != nil {
			return err
		}
		if s, err = withVariant(s, *variant); err != nil {
			return err
		}
		t = &target{path: pos[0], script: s}
	}
	if isSet(fs, "time") && !isSet(fs, "runs") {
		st.runs = 0
	}
	path := t.path
	st.scale.json = *asJSON
	rep, elapsed, opt, err := c.doExplore(t, st, !*asJSON && isTTY(c.stderr))
	if err != nil {
		return err
	}
	var fj *failureJSON
	if len(rep.Failures) > 0 {
		f := rep.Failures[0]
		name := filepath.Join(st.out, failureName(t.base(), st.strategy, f))
		if err := os.MkdirAll(st.out, 0o755); err != nil {
			return fmt.Errorf("cannot make --out directory: %w", err)
		}
		if err := f.Trace.WriteFile(name); err != nil {
			return fmt.Errorf("cannot write trace: %w", err)
		}
		fj = &failureJSON{Run: f.Run, Seed: f.Seed, Job: f.Job, Index: f.Index, Error: f.Err.Error(), Trace: name, Replay: "wasisim replay " + name}
	}
	rate := float64(rep.Runs) / max(elapsed.Seconds(), 1e-9)
	out := exploreJSON{Scenario: path, Variant: t.variant(), Strategy: st.strategy, Seed: st.seed, Runs: rep.Runs,
		ElapsedMS: float64(elapsed.Microseconds()) / 1000, RunsPerSec: rate, Exhausted: rep.Exhausted, Failure: fj, scaleJSON: scaleOf(opt, rep)}
	for _, o := range rep.OutcomeList() {
		out.Outcomes = append(out.Outcomes, outcomeJSON{o, rep.Outcomes[o]})
	}
	if st.scale.report != "" {
		if err := writeReport(st.scale.report, out); err != nil {
			return err
		}
	}
	if *asJSON {
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	} else {
		printExplore(c.stdout, t, opt, rep, elapsed, fj)
	}
	if fj != nil {
		return errFailed
	}
	return nil
}

func (c *command) doExplore(t *target, st exploreSettings, progress bool) (*sim.Report, time.Duration, sim.ExploreOptions, error) {
	opt := sim.ExploreOptions{Strategy: st.strategy, Seed: st.seed, Runs: st.runs, Time: st.dur, Workers: st.workers}
	switch st.strategy {
	case "random", "pct", "dfs", "round-robin":
	default:
		return nil, 0, opt, usagef("unknown strategy %q: use random, pct, dfs or round-robin", st.strategy)
	}
	if st.runs < 0 || st.workers < 0 || st.dur < 0 {
		return nil, 0, opt, usagef("--runs, --workers and --time must not be negative")
	}
	if st.runs == 0 && st.dur == 0 && st.strategy != "dfs" {
		return nil, 0, opt, usagef("give --runs N (N > 0) or --time D")
	}
	if st.shard != "" {
		i, n, ok := strings.Cut(st.shard, "/")
		a, err1 := strconv.Atoi(i)
		b, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || b < 1 || a < 0 || a >= b {
			return nil, 0, opt, usagef("bad --shard %q: want i/n with 0 <= i < n, e.g. 0/4", st.shard)
		}
		opt.Shard, opt.Shards = a, b
	}
	if t.prog != nil {
		// What the first schedule shows is what every run must show.
		if _, err := t.prog.Baseline(sim.Config{Seed: st.seed}); err != nil {
			return nil, 0, opt, err
		}
	}
	cfg := t.config()
	opt.Variant, opt.Scenario, opt.Config, opt.EmbedConfig, opt.MaxSteps = cfg.Variant, cfg.Scenario, cfg.Config, cfg.EmbedConfig, cfg.MaxSteps
	sc := t.scenario()
	if st.strategy == "pct" {
		if st.depth < 1 || st.depth > 64 {
			return nil, 0, opt, usagef("--depth %d: the PCT depth must be from 1 to 64", st.depth)
		}
		steps := st.steps
		if steps <= 0 {
			// Measure: PCT needs an estimate of a run's length.
			probe := cfg
			probe.Seed = st.seed
			res, _, err := sim.RunOnce(probe, sc)
			if err != nil {
				return nil, 0, opt, err
			}
			steps = int(max(res.Steps, 1))
		}
		opt.Options.PCT = sim.PCTOptions{Depth: st.depth, Steps: steps}
	}
	if st.strategy == "dfs" {
		if st.maxDepth < 0 {
			return nil, 0, opt, usagef("--max-depth must not be negative")
		}
		opt.Options.DFS = sim.DFSOptions{MaxDepth: st.maxDepth}
		st.scale.apply(&opt)
	}
	var clearLine func()
	opt.Progress, opt.Interval, clearLine = st.scale.reporter(c.stderr, progress)
	start := time.Now()
	rep, err := sim.Explore(context.Background(), opt, sc)
	elapsed := time.Since(start)
	clearLine()
	if err != nil {
		return nil, 0, opt, err
	}
	return rep, elapsed, opt, nil
}

func printExplore(w io.Writer, t *target, opt sim.ExploreOptions, rep *sim.Report, elapsed time.Duration, fj *failureJSON) {
	rate := float64(rep.Runs) / max(elapsed.Seconds(), 1e-9)
	kind := "variant"
	if t.prog != nil {
		kind = "kind"
	}
	fmt.Fprintf(w, "explore %s  %s %s  strategy %s  seed %d\n", t.path, kind, t.variant(), opt.Strategy, opt.Seed)
	round := time.Millisecond
	if elapsed < 10*time.Millisecond {
		round = time.Microsecond
	}
	fmt.Fprintf(w, "%s in %s (%.0f runs/s), %s", plural(rep.Runs, "run"), elapsed.Round(round), rate, plural(rep.Distinct(), "distinct outcome"))
	if rep.Exhausted {
		fmt.Fprint(w, ", every schedule explored")
	}
	fmt.Fprintln(w)
	printScale(w, opt, rep)
	for _, o := range rep.OutcomeList() {
		fmt.Fprintf(w, "  %6d  %s\n", rep.Outcomes[o], shorten(o, 150))
	}
	if fj == nil {
		fmt.Fprintln(w, "no failure found")
		return
	}
	fmt.Fprintf(w, "FAIL: %s fails:\n", failWhere(opt.Strategy, fj))
	for _, l := range strings.Split(fj.Error, "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
	fmt.Fprintf(w, "trace written to %s\nreproduce with: %s\n", fj.Trace, fj.Replay)
}
