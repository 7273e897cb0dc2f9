//go:build race

package host

// raceDetector thins out the property tests under the race detector,
// which slows the runs down several times.
const raceDetector = true
