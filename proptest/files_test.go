package proptest

import (
	"testing"

	"pgregory.net/rapid"
)

// TestFileDropSemantics is the file suite: random programs of two actors
// under schedules drawn by rapid, every invariant checked during and
// after the run, every run replayed for determinism.
func TestFileDropSemantics(t *testing.T) {
	for _, v := range []string{"p3", "p3-async-write"} {
		t.Run(v, func(t *testing.T) {
			withChecks(300, func() {
				rapid.Check(t, func(t *rapid.T) {
					CheckCase(t, FileCaseGen([]string{v}).Draw(t, "case"))
				})
			})
		})
	}
}
