package cli

import (
	"flag"
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
	// Interrupted: a signal stopped the run before it ended.
	Interrupted bool `json:"interrupted,omitempty"`
}

// runUsage is run's --help: a scenario's flags and a binary's.
const runUsage = `wasisim run FILE [--seed N] [--variant p3|p3-async-write] [--trace OUT] [--json]
       wasisim run [flags] X.wasm [ARGS...]

Runs a .wsim scenario once, or a wasm binary: a WASI 0.3 component or a
preview-1 core module (told apart by their first bytes, whatever the file's
name). A binary's flags come before it; what follows it is the guest's.

A binary runs on the world's in-memory file system and loopback network.
--dir HOST::GUEST copies the host directory in when the run starts and
preopens it as GUEST: it is a copy, not a live mount, so that every
schedule of the run starts from the same files and its trace replays
without the directory. --dir-write-back copies the tree back afterwards,
and only after a successful run (--dir-write-back=always: after any run):
only what the guest changed, each file atomically, refusing the whole
write-back if the host changed the same files meanwhile or a symbolic link
leads out of its mount; overlapping --dir mounts are refused.

The guest's stdout and stderr go to wasisim's as they are written; its
stdin is read when it reads it (and recorded in the trace). Limits stop a
guest from exhausting the machine: --fuel (its computing, deterministic),
--timeout (wall clock, not counting waits for stdin), --max-memory,
--max-fs-bytes, --max-fs-inodes and --max-steps.

Exit codes of a binary: the guest's own; 1 the run failed (deadlock, step
limit, leak, write-back refused) though the guest exited 0; 2 bad usage or
a binary or --dir that cannot be used (nothing ran); 124 a compute limit
(--fuel, --timeout); 130 interrupted (the trace is still written); 134 a
trap.`

// runFlags are run's flags.
type runFlags struct {
	seed      uint64
	variant   string
	traceOut  string
	asJSON    bool
	wasm      wasmFlags
	listen    stringList
	writeBack writeBackFlag
	timeout   time.Duration
}

// wasmOnly are the flags that apply to a binary only.
var wasmOnly = []string{"dir", "env", "stdin", "listen", "dir-write-back", "timeout", "fuel", "max-memory", "max-fs-bytes", "max-fs-inodes", "max-steps", "publish", "forward", "S", "with"}

func (c *command) run(args []string) error {
	fs := c.flags(runUsage, `  wasisim run testdata/scenarios/drop-during-write.wsim
  wasisim run testdata/scenarios/pr870.wsim --variant p3-async-write --trace /tmp/pr870.trace
  wasisim run testdata/scenarios/planted-bug.wsim --seed 7 --json
  wasisim run --dir ./data::/data --env DEBUG=1 prog.wasm --verbose
  wasisim run --dir ./out::/out --dir-write-back --trace /tmp/prog.trace prog.wasm
`)
	var f runFlags
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the run (default: the scenario's seed line, else 1; a binary: 0)")
	fs.StringVar(&f.variant, "variant", "", "API variant of a scenario: p3 or p3-async-write (default: the scenario's)")
	fs.StringVar(&f.traceOut, "trace", "", "write the run's trace to this file (also when interrupted)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON (a binary's stdout and stderr go into it)")
	f.wasm.register(fs, true)
	fs.Var(&f.listen, "listen", "wasm: ADDR of a listening TCP socket preopened for a preview-1 module (repeatable)")
	fs.Var(&f.writeBack, "dir-write-back", "wasm: copy the --dir trees back to the host after a successful run (=always: after any run)")
	fs.DurationVar(&f.timeout, "timeout", 0, "wasm: wall-clock limit of the run, not counting waits for stdin; where it stops is not reproducible (exit 124; 0: none)")
	if flags, bin, guest, ok := splitWasm(fs, args); ok {
		if _, err := c.parse(fs, flags, 0, "flag"); err != nil {
			return err
		}
		if isSet(fs, "variant") {
			return usagef("--variant applies to scenarios; a binary's kind comes from its bytes")
		}
		return c.runWasm(bin, guest, &f)
	}
	pos, err := c.parse(fs, args, 1, "scenario FILE or wasm binary")
	if err != nil {
		return err
	}
	for _, name := range wasmOnly {
		if isSet(fs, name) {
			return usagef("--%s applies to wasm binaries, and %s is a scenario", name, pos[0])
		}
	}
	return c.runScenario(fs, pos[0], &f)
}

// runScenario runs a .wsim scenario once. An interrupt stops the run at
// its next step; the trace of what ran is still written.
func (c *command) runScenario(fs *flag.FlagSet, path string, f *runFlags) error {
	s, err := loadScript(path)
	if err != nil {
		return err
	}
	if s, err = withVariant(s, f.variant); err != nil {
		return err
	}
	seed := f.seed
	if !isSet(fs, "seed") {
		seed = 1
		if s.SeedSet {
			seed = s.Seed
		}
	}
	cfg := simConfig(path, s)
	cfg.Seed = seed
	cfg.Trace = true
	var h *host.Host
	var tf *traceFile
	var traceTo io.Writer // nil unless a trace is written: not a nil *traceFile
	if f.traceOut != "" {
		if tf, err = createTrace(f.traceOut); err != nil {
			return err
		}
		defer tf.abandon()
		traceTo = tf
	}
	res, tr, err := c.runWorld(cfg, s.Scenario(scenario.Options{OnHost: func(x *host.Host) { h = x }}), traceTo)
	if err != nil {
		return err
	}
	if tf != nil {
		if err := tf.close(tr.err); err != nil {
			return err
		}
	}
	if f.asJSON {
		out := runJSON{Scenario: path, Variant: s.Variant.String(), Seed: seed, OK: !res.Failed(),
			Outcome: res.Outcome(), Steps: res.Steps, Failures: failureLines(res), Trace: f.traceOut, TraceHash: tr.hash,
			Interrupted: c.interrupted()}
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
		fmt.Fprintf(w, "run %s  variant %s  seed %d\n", path, s.Variant, seed)
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
		switch {
		case c.interrupted():
			fmt.Fprintf(w, "INTERRUPTED after %d steps\n", res.Steps)
		case res.Failed():
			fmt.Fprintf(w, "FAIL after %d steps:\n", res.Steps)
			for _, l := range failureLines(res) {
				fmt.Fprintf(w, "  %s\n", l)
			}
		default:
			fmt.Fprintf(w, "ok: %d steps\n", res.Steps)
		}
		if f.traceOut != "" {
			fmt.Fprintf(w, "trace: %s  (wasisim replay %s)\n", f.traceOut, f.traceOut)
		}
	}
	switch {
	case c.interrupted():
		return errInterrupted
	case res.Failed():
		return errFailed
	}
	return nil
}

// runWorld runs a scenario once like sim.RunOnce, except that an
// interrupt stops the world at its next step (see World.Stop), and that
// the trace goes to traceTo as the run goes when it is not nil.
func (c *command) runWorld(cfg sim.Config, sc sim.Scenario, traceTo io.Writer) (*sim.Result, *runTrace, error) {
	defer c.interruptible()()
	var tw *sim.TraceWriter
	if traceTo != nil {
		cfg.OnEvent = func(e sim.Event) { tw.Event(e) }
	}
	w, err := sim.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if traceTo != nil {
		if tw, err = sim.NewTraceWriter(traceTo, w.TraceHeader()); err != nil {
			return nil, nil, err
		}
	}
	if err := sc(w); err != nil {
		return nil, nil, fmt.Errorf("scenario setup: %w", err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-c.context().Done():
			w.Stop()
		case <-done:
		}
	}()
	res := w.Run()
	close(done)
	rt := &runTrace{}
	if tw != nil {
		rt.err = tw.End(w.Trace().End)
		rt.hash = tw.Hash()
	} else {
		rt.hash = w.Trace().Hash()
	}
	return res, rt, nil
}

// runTrace is what became of a run's trace: its hash, and the error
// writing it met.
type runTrace struct {
	hash string
	err  error
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
	// Interrupted: a signal ended the exploration; the report covers the
	// runs made before.
	Interrupted bool `json:"interrupted,omitempty"`
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
	wf.register(fs, false)
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
	defer c.interruptible()()
	rep, elapsed, opt, err := c.doExplore(t, st, !*asJSON && isTTY(c.stderr))
	if err != nil {
		return err
	}
	fj, err := c.writeFailures(rep, t, st)
	if err != nil {
		return err
	}
	rate := float64(rep.Runs) / max(elapsed.Seconds(), 1e-9)
	out := exploreJSON{Scenario: path, Variant: t.variant(), Strategy: st.strategy, Seed: st.seed, Runs: rep.Runs,
		ElapsedMS: float64(elapsed.Microseconds()) / 1000, RunsPerSec: rate, Exhausted: rep.Exhausted, Failure: fj, scaleJSON: scaleOf(opt, rep)}
	for _, o := range rep.OutcomeList() {
		out.Outcomes = append(out.Outcomes, outcomeJSON{o, rep.Outcomes[o]})
	}
	out.Interrupted = c.interrupted()
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
		printExplore(c.stdout, c.stderr, t, opt, rep, elapsed, fj)
		c.printInterrupted(rep, elapsed)
	}
	switch {
	case c.interrupted():
		return errInterrupted
	case fj != nil:
		return errFailed
	}
	return nil
}

// writeFailures writes the trace of every failure found (an interrupted
// exploration keeps all it found) and returns the first one's report.
func (c *command) writeFailures(rep *sim.Report, t *target, st exploreSettings) (*failureJSON, error) {
	var first *failureJSON
	for _, f := range rep.Failures {
		name := filepath.Join(st.out, failureName(t.base(), st.strategy, f))
		if err := os.MkdirAll(st.out, 0o755); err != nil {
			return nil, fmt.Errorf("cannot make --out directory: %w", err)
		}
		if err := f.Trace.WriteFile(name); err != nil {
			return nil, fmt.Errorf("cannot write trace: %w", err)
		}
		if first == nil {
			first = &failureJSON{Run: f.Run, Seed: f.Seed, Job: f.Job, Index: f.Index, Error: f.Err.Error(), Trace: name, Replay: "wasisim replay " + name}
		}
	}
	return first, nil
}

// printInterrupted says, on stderr, that a signal cut the exploration
// short and what it did before.
func (c *command) printInterrupted(rep *sim.Report, elapsed time.Duration) {
	if c.interrupted() {
		fmt.Fprintf(c.stderr, "wasisim %s: interrupted: the report covers the %s that ran in %s\n", c.name, plural(rep.Runs, "run"), elapsed.Round(time.Millisecond))
	}
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
	rep, err := sim.Explore(c.context(), opt, sc)
	elapsed := time.Since(start)
	clearLine()
	if err != nil && !(c.interrupted() && rep != nil) {
		return nil, 0, opt, err
	}
	return rep, elapsed, opt, nil
}

func printExplore(w, timing io.Writer, t *target, opt sim.ExploreOptions, rep *sim.Report, elapsed time.Duration, fj *failureJSON) {
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
	// Timing goes to stderr: every line of the report on stdout is the
	// same for the same invocation.
	fmt.Fprintf(timing, "explore: %s in %s (%.0f runs/s)\n", plural(rep.Runs, "run"), elapsed.Round(round), rate)
	fmt.Fprintf(w, "%s, %s", plural(rep.Runs, "run"), plural(rep.Distinct(), "distinct outcome"))
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
