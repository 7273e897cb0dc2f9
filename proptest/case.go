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
// this package records; the rest is the Case as JSON, so a trace alone is
// enough to rebuild and replay the run.
const scenarioPrefix = "proptest "

// maxSteps bounds one run; generated programs are small, so a run that
// takes longer is a livelock worth reporting.
const maxSteps = 200_000

// Case is one generated test case: the suite, the host options and the
// program the guest tasks run. It is recorded (as JSON) in the header of
// the run's trace, so Replay can rebuild the exact run from the trace.
type Case struct {
	Suite     string         `json:"suite"` // "files" or "sockets"
	Variant   string         `json:"variant"`
	Chunk     int            `json:"chunk"`
	Seed      uint64         `json:"seed"`
	Mutations mutation.Set   `json:"mutations,omitempty"`
	Files     *FileProgram   `json:"files,omitempty"`
	Sockets   *SocketProgram `json:"sockets,omitempty"`
}

// JSON is the case's canonical encoding (also the world's Config blob).
func (c *Case) JSON() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

func (c *Case) variant() (host.Variant, error) { return host.ParseVariant(c.Variant) }

// config is the world configuration of the case with the given strategy.
func (c *Case) config(st sim.Strategy) sim.Config {
	return sim.Config{
		Seed:     c.Seed,
		Strategy: st,
		Trace:    true,
		Variant:  c.Variant,
		Scenario: scenarioPrefix + string(c.JSON()),
		Config:   c.JSON(),
		MaxSteps: maxSteps,
	}
}

// judge decides whether a finished run is a failure (nil: it passed).
type judge func(*sim.Result) error

// Setup builds the case's run on a fresh world: the host, the guest tasks
// and the end-of-run checks (registered as a world leak check named
// "proptest", so their findings are part of the run's outcome and trace).
func (c *Case) Setup(w *sim.World) error {
	_, err := c.build(w)
	return err
}

func (c *Case) build(w *sim.World) (judge, error) {
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

// CaseOfTrace decodes the case recorded in a trace header.
func CaseOfTrace(tr *sim.Trace) (*Case, error) {
	s, ok := strings.CutPrefix(tr.Header.Scenario, scenarioPrefix)
	if !ok {
		return nil, fmt.Errorf("proptest: trace scenario %q was not recorded by proptest", tr.Header.Scenario)
	}
	var c Case
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("proptest: trace scenario: %w", err)
	}
	return &c, nil
}

// Replay re-runs a trace recorded by this package in strict mode. It
// returns the result and the replayed trace; the replay is faithful when
// the result has no Divergence and the replayed trace equals tr byte for
// byte.
func Replay(tr *sim.Trace) (*sim.Result, *sim.Trace, error) {
	c, err := CaseOfTrace(tr)
	if err != nil {
		return nil, nil, err
	}
	return sim.Replay(tr, sim.Config{Config: c.JSON(), MaxSteps: maxSteps}, nil, c.Setup)
}

// Run runs the case once with strategy st. It returns the result, the
// trace and the verdict: nil if the run passed (a run that ended with an
// expected trap passes when the harness found nothing wrong).
func Run(c *Case, st sim.Strategy) (*sim.Result, *sim.Trace, error, error) {
	var j judge
	res, tr, err := sim.RunOnce(c.config(st), func(w *sim.World) error {
		var err error
		j, err = c.build(w)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return res, tr, j(res), nil
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

// CheckCase runs c with every scheduling choice drawn from t, then replays
// the recorded trace and requires a byte-identical trace (determinism). A
// failing run is saved as a trace (see SaveFailure) and fails t with the
// run's errors.
func CheckCase(t *rapid.T, c *Case) {
	st := newRapidStrategy(t)
	res, tr, verdict, err := Run(c, st)
	st.rethrow()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	res2, tr2, err := Replay(tr)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if res2.Divergence != nil || tr2.Hash() != tr.Hash() {
		path := SaveFailure(t.Name(), tr)
		t.Fatalf("nondeterministic run: trace hash %s, replay %s (divergence: %v); trace saved to %s",
			tr.Hash(), tr2.Hash(), res2.Divergence, path)
	}
	if verdict != nil {
		path := SaveFailure(t.Name(), tr)
		t.Fatalf("run failed (%d steps; trace saved to %s, replay it with proptest.Replay or copy it to testdata/regressions/):\n%v",
			res.Steps, path, verdict)
	}
}

// FailureDir is where SaveFailure writes traces: $WASISIM_FAILDIR, or
// wasisim-proptest under the system temporary directory.
func FailureDir() string {
	if d := os.Getenv("WASISIM_FAILDIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "wasisim-proptest")
}

// SaveFailure writes a failing run's trace to FailureDir under a name made
// from the test name, overwriting the previous one: while rapid shrinks,
// the last failure saved is the minimal one. It returns the path, or an
// explanation if the trace could not be written.
func SaveFailure(testName string, tr *sim.Trace) string {
	dir := FailureDir()
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
