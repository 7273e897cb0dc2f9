package proptest

import (
	"testing"

	"github.com/wasisim/wasisim/internal/soak"

	"pgregory.net/rapid"
)

// TestSocketDropSemantics is the sockets suite: random client and server
// scripts under schedules drawn by rapid, invariants checked after every
// step and at the end, every run replayed for determinism.
func TestSocketDropSemantics(t *testing.T) {
	soak.Check(t, 300, func(t *rapid.T) {
		checkCase(t, socketCaseGen().Draw(t, "case"))
	})
}
