//go:build linux

package linuxdiff

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
)

// defaultSequences is how many random sequences a differential suite
// runs under the test command (from a fixed seed; see internal/soak).
const defaultSequences = 2000

// Seeds of sequences that once found a difference, replayed first on
// every run (one sequence each) so a fixed bug stays fixed.
var (
	// A socket that shut down both directions answers data with a reset,
	// which frees the connection's address pair for a new connect; the
	// sender still reads what arrived before the reset.
	sockRegressions = []uint64{17781578677474059389, 9360979082669178845}
	fileRegressions []uint64
)

// check runs a differential property: the regression seeds, then
// defaultSequences sequences from the fixed seed, or WASISIM_SOAK=N
// sequences from a random one.
func check(t *testing.T, prop func(*rapid.T), regressions ...uint64) {
	t.Helper()
	t.Logf("running %d sequences (WASISIM_SOAK=N for a soak from a random seed)", soak.Checks(t, defaultSequences))
	soak.Check(t, defaultSequences, prop, regressions...)
}

var (
	statsMu     sync.Mutex
	divergences = map[string]int{}
	bugsReached = map[string]int{}
)

// countDivergence records that a step needed the divergence row id.
func countDivergence(id string) {
	if _, ok := DivergenceByID(id); !ok {
		panic("linuxdiff: no divergence row " + id)
	}
	statsMu.Lock()
	divergences[id]++
	statsMu.Unlock()
}

func noteKnownBug(id string) {
	statsMu.Lock()
	bugsReached[id]++
	statsMu.Unlock()
}

// reportDivergences logs how often each row with the prefix was used
// and which known bugs the random sequences reached.
func reportDivergences(t *testing.T, prefix string) {
	statsMu.Lock()
	defer statsMu.Unlock()
	var b strings.Builder
	for _, d := range Divergences {
		if strings.HasPrefix(d.ID, prefix) {
			fmt.Fprintf(&b, " %s=%d", d.ID, divergences[d.ID])
		}
	}
	t.Logf("divergence rows used (steps):%s", b.String())
	var ids []string
	for id := range bugsReached {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Logf("known bug %s stopped %d sequences", id, bugsReached[id])
	}
}

// knownBug is a difference that is a bug in vfs or vnet, kept here (not
// fixed: other engineers own those packages) with a minimal reproduction.
type knownBug struct {
	ID      string
	Summary string
	// Match recognizes the bug in a mismatch from a random sequence; r is
	// the run as it is after the step.
	Match func(r *fileRun, m *mismatch) bool
	// Repro is the minimal sequence; its last step shows the bug.
	Repro []fileOp
}

// matchFileBug returns the known bug err shows, if any.
func matchFileBug(r *fileRun, err error) *knownBug {
	var m *mismatch
	if !errors.As(err, &m) {
		return nil
	}
	for i := range knownFileBugs {
		if knownFileBugs[i].Match(r, m) {
			return &knownFileBugs[i]
		}
	}
	return nil
}

var updateREADME = flag.Bool("update", false, "rewrite the divergence table in README.md from Divergences")

// TestREADMETable checks that README.md holds MarkdownTable between its
// divergences markers (-update rewrites it).
func TestREADMETable(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const begin, end = "<!-- divergences:begin", "<!-- divergences:end -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
	}
	i += strings.IndexByte(s[i:], '\n') + 1
	if s[i:j] == MarkdownTable() {
		return
	}
	if *updateREADME {
		if err := os.WriteFile("README.md", []byte(s[:i]+MarkdownTable()+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the divergence table in README.md differs from Divergences; run go test -run README -update")
}
