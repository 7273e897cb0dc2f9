// Package soak decides how this module's rapid property suites draw their
// inputs, so that the README's test command is deterministic and soaks
// are a separate, explicit command.
//
// Under `go test` every suite runs its default number of checks from
// FixedSeed, after replaying its regression seeds (failures that soaks
// found, one check each): a green run reproduces exactly, and a failure
// names the seed that reproduces it. With WASISIM_SOAK=N every suite runs
// N checks from a fresh random seed instead:
//
//	WASISIM_SOAK=20000 go test ./proptest/... -run 'Drop|Against'
//
// A command-line -rapid.seed or -rapid.checks (or RAPID_SEED /
// RAPID_CHECKS) wins over both. A seed that a soak reports as failing
// is added to the suite's regression list once the bug is fixed.
//
// The package is for this module's tests only.
package soak

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// Env names the environment variable that turns on soaking.
const Env = "WASISIM_SOAK"

// FixedSeed is the seed every suite starts from under the test command.
const FixedSeed uint64 = 0x5eed

// Checks is the number of checks a suite whose default is def runs: the
// soak count when WASISIM_SOAK is set, else def. A malformed WASISIM_SOAK
// fails the test.
func Checks(t testing.TB, def int) int {
	t.Helper()
	n, err := soakCount()
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		return n
	}
	return def
}

// Soaking reports whether WASISIM_SOAK asks for random seeds.
func Soaking() bool {
	n, err := soakCount()
	return err == nil && n > 0
}

func soakCount() (int, error) {
	s := os.Getenv(Env)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of checks", Env, s)
	}
	return n, nil
}

// Check runs prop as a rapid property test: first once from each
// regression seed, then def checks (see Checks) from FixedSeed, or from
// a random seed when soaking. Rapid's fail files are not written: the
// failure report names the seed.
func Check(t *testing.T, def int, prop func(*rapid.T), regressions ...uint64) {
	t.Helper()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	seedGiven := explicit["rapid.seed"] || os.Getenv("RAPID_SEED") != ""
	checksGiven := explicit["rapid.checks"] || os.Getenv("RAPID_CHECKS") != ""
	set(t, "rapid.nofailfile", "true")
	n := Checks(t, def)
	if !seedGiven {
		for _, s := range regressions {
			set(t, "rapid.seed", strconv.FormatUint(s, 10))
			set(t, "rapid.checks", "1")
			rapid.Check(t, prop)
		}
		seed := FixedSeed
		if Soaking() {
			seed = 0 // rapid draws a fresh one and reports it on failure
		}
		set(t, "rapid.seed", strconv.FormatUint(seed, 10))
	}
	if !checksGiven {
		set(t, "rapid.checks", strconv.Itoa(n))
	}
	rapid.Check(t, prop)
}

// set sets a rapid flag for the rest of the test.
func set(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("soak: rapid has no flag -%s", name)
	}
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatalf("soak: setting -%s: %v", name, err)
	}
	t.Cleanup(func() { f.Value.Set(old) }) //nolint:errcheck
}
