package sim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

// noisyLostUpdate is lostUpdate with three bystander tasks that yield
// often, so a random schedule that loses the update makes many choices
// that have nothing to do with the bug.
func noisyLostUpdate(w *sim.World) error {
	for range 3 {
		w.Go("noise", func(*sim.Task) error {
			for range 4 {
				w.Yield()
			}
			return nil
		})
	}
	return lostUpdate(w)
}

// firstFailure explores sc with the random strategy and returns the
// trace of the first failing run.
func firstFailure(t *testing.T, sc sim.Scenario) *sim.Trace {
	t.Helper()
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 3, Runs: 500, Workers: 1}, sc)
	if err != nil || len(rep.Failures) == 0 {
		t.Fatalf("no failure found: %v", err)
	}
	return rep.Failures[0].Trace
}

func TestShrink(t *testing.T) {
	tr := firstFailure(t, noisyLostUpdate)
	sh, err := sim.Shrink(tr, sim.Config{}, noisyLostUpdate, sim.ShrinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// One departure from the first alternative is what the bug needs: a
	// switch away from the first incrementer between its read and write.
	if sh.NonZero != 1 || sh.OriginalNonZero <= sh.NonZero || len(sh.Choices) > len(sh.Original) || sh.Exhausted {
		t.Errorf("not shrunk: %d non-zero of %d choices (was %d of %d), exhausted %v",
			sh.NonZero, len(sh.Choices), sh.OriginalNonZero, len(sh.Original), sh.Exhausted)
	}
	if !sh.Result.Failed() || sh.Signature != sh.Result.Outcome() || sh.Signature != tr.End.Outcome {
		t.Errorf("signature %q, outcome %q, original %q", sh.Signature, sh.Result.Outcome(), tr.End.Outcome)
	}
	if h := sh.Trace.Header; h.Strategy != "shrunk" || h.Params["from"] != "random" || h.Seed != tr.Header.Seed || h.Run != tr.Header.Run {
		t.Errorf("header %+v", h)
	}
	// The minimal trace replays strictly, and shrinking is deterministic.
	res, replayed, err := sim.Replay(sh.Trace, sim.Config{}, nil, noisyLostUpdate)
	if err != nil || res.Divergence != nil || !bytes.Equal(replayed.Bytes(), sh.Trace.Bytes()) {
		t.Fatalf("replay of the minimal trace: %v %v", err, res.Divergence)
	}
	again, err := sim.Shrink(tr, sim.Config{}, noisyLostUpdate, sim.ShrinkOptions{})
	if err != nil || !bytes.Equal(again.Trace.Bytes(), sh.Trace.Bytes()) || again.Attempts != sh.Attempts {
		t.Errorf("a second shrink differs: %v", err)
	}
	t.Logf("%d -> %d choices, %d -> %d non-zero, %d attempts", len(sh.Original), len(sh.Choices), sh.OriginalNonZero, sh.NonZero, sh.Attempts)
}

func TestShrinkBudgetAndErrors(t *testing.T) {
	tr := firstFailure(t, noisyLostUpdate)
	// One attempt is the trace's own run: nothing is tried, and the
	// result is the original schedule without its trailing zeros.
	sh, err := sim.Shrink(tr, sim.Config{}, noisyLostUpdate, sim.ShrinkOptions{Attempts: 1})
	if err != nil || !sh.Exhausted || sh.Attempts != 1 || sh.NonZero != sh.OriginalNonZero {
		t.Errorf("Attempts 1: %+v %v", sh, err)
	}
	// A signature that differs on every run (a nondeterministic scenario,
	// as far as Shrink can tell) is an error, not a wrong answer.
	n := 0
	sh, err = sim.Shrink(tr, sim.Config{}, noisyLostUpdate, sim.ShrinkOptions{Attempts: 5, Signature: func(*sim.Result) string { n++; return fmt.Sprint(n) }})
	if err == nil || sh != nil {
		t.Errorf("a signature that never repeats: %+v %v", sh, err)
	}

	ok := func(w *sim.World) error { w.Go("fine", func(*sim.Task) error { return nil }); return nil }
	good, okTrace, err := sim.RunOnce(sim.Config{Seed: 1, Trace: true}, ok)
	if err != nil || good.Failed() {
		t.Fatal(err)
	}
	if _, err := sim.Shrink(okTrace, sim.Config{}, ok, sim.ShrinkOptions{}); !errors.Is(err, sim.ErrNoFailure) {
		t.Errorf("a passing trace: %v, want ErrNoFailure", err)
	}
	if _, err := sim.Shrink(tr, sim.Config{Config: []byte("other")}, noisyLostUpdate, sim.ShrinkOptions{}); err == nil {
		t.Error("a trace of another configuration was shrunk")
	}
	setupErr := errors.New("no setup")
	if _, err := sim.Shrink(tr, sim.Config{}, func(*sim.World) error { return setupErr }, sim.ShrinkOptions{}); !errors.Is(err, setupErr) {
		t.Errorf("setup error: %v", err)
	}
}

// Shrink a failing schedule that random exploration found to the one
// scheduling decision the bug needs.
func ExampleShrink() {
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 3, Runs: 500, Workers: 1}, noisyLostUpdate)
	if err != nil || len(rep.Failures) == 0 {
		panic(err)
	}
	tr := rep.Failures[0].Trace
	sh, err := sim.Shrink(tr, sim.Config{}, noisyLostUpdate, sim.ShrinkOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("fails with:", sh.Signature)
	fmt.Printf("choices: %d -> %d; departing from the first alternative: %d -> %d\n",
		len(sh.Original), len(sh.Choices), sh.OriginalNonZero, sh.NonZero)
	// Output:
	// fails with: task check#6: counter = 1, want 2
	// choices: 19 -> 9; departing from the first alternative: 15 -> 1
}
