package proptest

import (
	"testing"

	"pgregory.net/rapid"
)

// TestSocketDropSemantics is the sockets suite: random client and server
// scripts under schedules drawn by rapid, invariants checked after every
// step and at the end, every run replayed for determinism.
func TestSocketDropSemantics(t *testing.T) {
	withChecks(300, func() {
		rapid.Check(t, func(t *rapid.T) {
			CheckCase(t, SocketCaseGen().Draw(t, "case"))
		})
	})
}
