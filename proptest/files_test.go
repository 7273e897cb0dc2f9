package proptest

import (
	"testing"

	"github.com/wasisim/wasisim/internal/soak"

	"pgregory.net/rapid"
)

// TestFileDropSemantics is the file suite: random programs of two actors
// under schedules drawn by rapid, every invariant checked during and
// after the run, every run replayed for determinism.
func TestFileDropSemantics(t *testing.T) {
	for _, v := range []string{"p3", "p3-async-write"} {
		t.Run(v, func(t *testing.T) {
			soak.Check(t, 300, func(t *rapid.T) {
				checkCase(t, fileCaseGen([]string{v}).Draw(t, "case"))
			})
		})
	}
}
