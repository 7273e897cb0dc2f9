//go:build !race

package component

// decRaceEnabled thins out the robustness tests under the race detector,
// which slows decoding down several times.
const decRaceEnabled = false
