package sim

import (
	"errors"
	"strings"
	"testing"
)

// Stop, called from another goroutine, ends the run at the next step as
// a step limit there; the trace replays with MaxSteps set to its steps.
func TestStopFromAnotherGoroutine(t *testing.T) {
	scenario := func(reached chan<- struct{}, stopped <-chan struct{}) Scenario {
		return func(w *World) error {
			for _, name := range []string{"a", "b"} {
				w.Go(name, func(t *Task) error {
					for i := 0; ; i++ {
						if i == 50 && reached != nil && name == "a" {
							reached <- struct{}{}
							<-stopped // the stopper has called Stop
						}
						w.Yield()
					}
				})
			}
			return nil
		}
	}
	reached, stopped := make(chan struct{}), make(chan struct{})
	w := MustNew(Config{Seed: 3, Trace: true})
	if err := scenario(reached, stopped)(w); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-reached
		w.Stop()
		close(stopped)
	}()
	res := w.Run()
	if !errors.Is(res.Err, ErrStepLimit) || res.Steps >= DefaultMaxSteps {
		t.Fatalf("stopped run: %v after %d steps", res.Err, res.Steps)
	}
	tr := w.Trace()
	if !strings.Contains(tr.End.Outcome, "step limit reached") {
		t.Fatalf("outcome %q", tr.End.Outcome)
	}
	rres, got, err := Replay(tr, Config{MaxSteps: tr.End.Steps}, nil, scenario(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if rres.Divergence != nil || string(got.Bytes()) != string(tr.Bytes()) {
		t.Fatalf("replay with MaxSteps %d: %v", tr.End.Steps, rres.Divergence)
	}
}

// A world stopped before it runs takes no step.
func TestStopBeforeRun(t *testing.T) {
	w := MustNew(Config{})
	w.Go("a", func(*Task) error { return nil })
	w.Stop()
	if res := w.Run(); !errors.Is(res.Err, ErrStepLimit) || res.Steps != 0 {
		t.Fatalf("%v after %d steps", res.Err, res.Steps)
	}
}
