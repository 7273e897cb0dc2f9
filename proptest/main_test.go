package proptest

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// soak is WASISIM_SOAK: when set to N > 0 every suite runs N checks
// instead of its CI default.
var soak int

// explicitChecks is set when -rapid.checks was given on the command line
// (decided before any test changes the flag).
var explicitChecks bool

// TestMain applies WASISIM_SOAK to rapid's check count, unless
// -rapid.checks was given explicitly.
func TestMain(m *testing.M) {
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { explicitChecks = explicitChecks || f.Name == "rapid.checks" })
	if s := os.Getenv("WASISIM_SOAK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "WASISIM_SOAK=%q: want a positive number of checks\n", s)
			os.Exit(2)
		}
		soak = n
	}
	os.Exit(m.Run())
}

// withChecks runs fn with rapid's check count set to n (or to the soak
// count, or to what -rapid.checks says if given on the command line).
func withChecks(n int, fn func()) {
	if explicitChecks {
		fn()
		return
	}
	if soak > 0 {
		n = soak
	}
	old := flag.Lookup("rapid.checks").Value.String()
	flag.Set("rapid.checks", strconv.Itoa(n)) //nolint:errcheck
	defer flag.Set("rapid.checks", old)       //nolint:errcheck
	fn()
}
