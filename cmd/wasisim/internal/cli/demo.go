package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasisim/wasisim/host"
)

const demoScenario = embeddedPrefix + "drop-during-write.wsim"

type demoJSON struct {
	P3           *exploreJSON `json:"p3"`
	P3AsyncWrite *exploreJSON `json:"p3_async_write"`
}

// demo explores the embedded drop-during-write scenario under both API
// variants of WASI PR #870: p3 passes in every schedule, p3-async-write
// traps, and the trap's trace is written for replay.
func (c *command) demo(args []string) error {
	fs := c.flags("wasisim demo [--runs N] [--seed S] [--out DIR] [--json]",
		`  wasisim demo
  go run ./cmd/wasisim demo --runs 5000
`)
	runs := fs.Int("runs", 2000, "schedules to explore per variant")
	seed := fs.Uint64("seed", 1, "base seed")
	out := fs.String("out", filepath.Join(os.TempDir(), "wasisim-demo"), "directory for the failing trace")
	asJSON := fs.Bool("json", false, "print the reports as JSON")
	if _, err := c.parse(fs, args, 0, "argument"); err != nil {
		return err
	}
	if *runs < 1 {
		return usagef("--runs must be at least 1")
	}
	s, err := loadScript(demoScenario)
	if err != nil {
		return err
	}
	w := c.stdout
	if !*asJSON {
		fmt.Fprintf(w, "wasisim demo: a guest drops a descriptor while write-via-stream is still consuming its data.\n")
		fmt.Fprintf(w, "WASI PR #870 made this legal: the stream and the future keep the open file description alive.\n\n")
		for _, l := range strings.Split(strings.TrimRight(string(s.Source), "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintln(w)
	}
	var dj demoJSON
	defer c.interruptible()()
	for _, v := range []host.Variant{host.P3, host.P3AsyncWrite} {
		if c.interrupted() {
			return errInterrupted
		}
		sv, _ := withVariant(s, v.String())
		st := exploreSettings{strategy: "random", runs: *runs, seed: *seed, out: *out}
		rep, elapsed, opt, err := c.doExplore(&target{path: demoScenario, script: sv}, st, !*asJSON && isTTY(c.stderr))
		if err != nil {
			return err
		}
		var fj *failureJSON
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return fmt.Errorf("cannot make --out directory: %w", err)
			}
			name := filepath.Join(*out, fmt.Sprintf("drop-during-write-%s-run%d.trace", v, f.Run))
			if err := f.Trace.WriteFile(name); err != nil {
				return fmt.Errorf("cannot write trace: %w", err)
			}
			fj = &failureJSON{Run: f.Run, Seed: f.Seed, Error: f.Err.Error(), Trace: name, Replay: "wasisim replay " + name}
		}
		if *asJSON {
			ej := &exploreJSON{Scenario: demoScenario, Variant: v.String(), Strategy: "random", Seed: *seed, Runs: rep.Runs,
				ElapsedMS: float64(elapsed.Microseconds()) / 1000, RunsPerSec: float64(rep.Runs) / max(elapsed.Seconds(), 1e-9), Failure: fj}
			for _, o := range rep.OutcomeList() {
				ej.Outcomes = append(ej.Outcomes, outcomeJSON{o, rep.Outcomes[o]})
			}
			if v == host.P3 {
				dj.P3 = ej
			} else {
				dj.P3AsyncWrite = ej
			}
			continue
		}
		fmt.Fprintf(w, "== variant %s\n", v)
		printExplore(w, c.stderr, &target{path: demoScenario, script: sv}, opt, rep, elapsed, fj)
		fmt.Fprintln(w)
	}
	if c.interrupted() {
		return errInterrupted
	}
	if *asJSON {
		return writeJSON(w, dj)
	}
	fmt.Fprintf(w, "p3 passes in every schedule explored; p3-async-write traps, since the descriptor is lent\n")
	fmt.Fprintf(w, "to the write until its stream is consumed. Next: wasisim show TRACE --html out.html\n")
	return nil
}
