package proptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
)

// scenarioPrefix starts the trace header's scenario field of every trace
// this package records; the rest is the testCase as JSON, so a trace alone is
// enough to rebuild and replay the run.
const scenarioPrefix = "proptest "

// maxSteps bounds one run; generated programs are small, so a run that
// takes longer is a livelock worth reporting.
const maxSteps = 200_000

// testCase is one generated test case: the suite, the host options and the
// program the guest tasks run. It is recorded (as JSON) in the header of
// the run's trace, so replay can rebuild the exact run from the trace.
type testCase struct {
	Suite     string         `json:"suite"` // "files" or "sockets"
	Variant   string         `json:"variant"`
	Chunk     int            `json:"chunk"`
	Seed      uint64         `json:"seed"`
	Mutations mutation.Set   `json:"mutations,omitempty"`
	Files     *fileProgram   `json:"files,omitempty"`
	Sockets   *socketProgram `json:"sockets,omitempty"`
}

// encode is the case's canonical encoding (also the world's Config blob).
func (c *testCase) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

func (c *testCase) variant() (host.Variant, error) { return host.ParseVariant(c.Variant) }

// config is the world configuration of the case with the given strategy.
func (c *testCase) config(st sim.Strategy) sim.Config {
	return sim.Config{
		Seed:     c.Seed,
		Strategy: st,
		Trace:    true,
		Variant:  c.Variant,
		Scenario: scenarioPrefix + string(c.encode()),
		Config:   c.encode(),
		MaxSteps: maxSteps,
	}
}

// judge decides whether a finished run is a failure (nil: it passed).
type judge func(*sim.Result) error

// setup builds the case's run on a fresh world: the host, the guest tasks
// and the end-of-run checks (registered as a world leak check named
// "proptest", so their findings are part of the run's outcome and trace).
func (c *testCase) setup(w *sim.World) error {
	_, err := c.build(w)
	return err
}

func (c *testCase) build(w *sim.World) (judge, error) {
	v, err := c.variant()
	if err != nil {
		return nil, err
	}
	switch c.Suite {
	case "files":
		if c.Files == nil {
			return nil, errors.New("proptest: files case without a program")
		}
		return setupFiles(w, c, v)
	case "sockets":
		if c.Sockets == nil {
			return nil, errors.New("proptest: sockets case without a program")
		}
		return setupSockets(w, c, v)
	}
	return nil, fmt.Errorf("proptest: unknown suite %q", c.Suite)
}

// trappedRunError is the verdict on a run that ended with an expected
// trap: the harness's findings (layer "proptest") and task errors other
// than being killed at the end are failures; blocked tasks and leaks of
// the poisoned instance are not.
func trappedRunError(res *sim.Result) error {
	var errs []error
	if res.Err != nil {
		errs = append(errs, res.Err)
	}
	if res.Divergence != nil {
		errs = append(errs, res.Divergence)
	}
	for _, t := range res.Tasks {
		if t.Err != nil && !errors.Is(t.Err, sim.ErrKilled) {
			errs = append(errs, fmt.Errorf("task %s: %w", t.Name, t.Err))
		}
	}
	if len(res.Deadlock) > 0 {
		errs = append(errs, &sim.DeadlockError{Blocked: res.Deadlock})
	}
	// The trapped instance was torn down, so nothing may leak.
	for _, l := range res.Leaks {
		errs = append(errs, fmt.Errorf("leak in %s: %s", l.Layer, l.Object))
	}
	return errors.Join(errs...)
}

// caseOfTrace decodes the case recorded in a trace header.
func caseOfTrace(tr *sim.Trace) (*testCase, error) {
	s, ok := strings.CutPrefix(tr.Header.Scenario, scenarioPrefix)
	if !ok {
		return nil, fmt.Errorf("proptest: trace scenario %q was not recorded by proptest", tr.Header.Scenario)
	}
	var c testCase
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("proptest: trace scenario: %w", err)
	}
	return &c, nil
}

// replay re-runs a trace recorded by this package in strict mode. It
// returns the result and the replayed trace; the replay is faithful when
// the result has no Divergence and the replayed trace equals tr byte for
// byte.
func replay(tr *sim.Trace) (*sim.Result, *sim.Trace, error) {
	c, err := caseOfTrace(tr)
	if err != nil {
		return nil, nil, err
	}
	return sim.Replay(tr, sim.Config{Config: c.encode(), MaxSteps: maxSteps}, nil, c.setup)
}

// runResult is one run of a case.
type runResult struct {
	res   *sim.Result
	trace *sim.Trace
	// verdict is nil if the run passed (a run that ended with an expected
	// trap passes when the harness found nothing wrong).
	verdict error
}

// run runs the case once with strategy st. The error is a case that
// cannot be set up; how the run went is in the result.
func run(c *testCase, st sim.Strategy) (*runResult, error) {
	var j judge
	res, tr, err := sim.RunOnce(c.config(st), func(w *sim.World) error {
		var err error
		j, err = c.build(w)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &runResult{res: res, trace: tr, verdict: j(res)}, nil
}

// rapidStrategy is sim.NewRapid made safe to use inside world tasks: rapid
// signals "no more data" (while shrinking) with a panic, which must reach
// rapid rather than be recorded as a task's panic. It catches the panic,
// answers 0 for the rest of the run, and rethrow re-raises it afterwards.
type rapidStrategy struct {
	inner    sim.Strategy
	panicked any
}

func newRapidStrategy(t *rapid.T) *rapidStrategy { return &rapidStrategy{inner: sim.NewRapid(t)} }

// Choose implements sim.Strategy.
func (s *rapidStrategy) Choose(cp sim.ChoicePoint) (i int) {
	if s.panicked != nil {
		return 0
	}
	defer func() {
		if r := recover(); r != nil {
			s.panicked = r
			i = 0
		}
	}()
	return s.inner.Choose(cp)
}

// Spec implements sim.Strategy.
func (s *rapidStrategy) Spec() sim.Spec { return s.inner.Spec() }

func (s *rapidStrategy) rethrow() {
	if s.panicked != nil {
		panic(s.panicked)
	}
}

// checkCase runs c with every scheduling choice drawn from t, then replays
// the recorded trace and requires a byte-identical trace (determinism). A
// failing run is saved as a trace (see saveFailure) and fails t with the
// run's errors.
func checkCase(t *rapid.T, c *testCase) {
	st := newRapidStrategy(t)
	r, err := run(c, st)
	st.rethrow()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	tr := r.trace
	res2, tr2, err := replay(tr)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if res2.Divergence != nil || tr2.Hash() != tr.Hash() {
		path := saveFailure(t.Name(), tr)
		t.Fatalf("nondeterministic run: trace hash %s, replay %s (divergence: %v); trace saved to %s",
			tr.Hash(), tr2.Hash(), res2.Divergence, path)
	}
	if r.verdict != nil {
		path := saveFailure(t.Name(), tr)
		t.Fatalf("run failed (%d steps; trace saved to %s, copy it to testdata/regressions/ for TestRegressions to replay):\n%v",
			r.res.Steps, path, r.verdict)
	}
}

// failureDir is where saveFailure writes traces: $WASISIM_FAILDIR, or
// wasisim-proptest under the system temporary directory.
func failureDir() string {
	if d := os.Getenv("WASISIM_FAILDIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "wasisim-proptest")
}

// saveFailure writes a failing run's trace to failureDir under a name made
// from the test name, overwriting the previous one: while rapid shrinks,
// the last failure saved is the minimal one. It returns the path, or an
// explanation if the trace could not be written.
func saveFailure(testName string, tr *sim.Trace) string {
	dir := failureDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "(not saved: " + err.Error() + ")"
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, testName)
	path := filepath.Join(dir, name+".trace")
	if err := tr.WriteFile(path); err != nil {
		return "(not saved: " + err.Error() + ")"
	}
	return path
}
