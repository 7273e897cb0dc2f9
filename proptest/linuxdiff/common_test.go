//go:build linux

package linuxdiff

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// setChecks sets how many sequences rapid runs in this test: def by
// default, N with WASISIM_SOAK=N; an explicit -rapid.checks or RAPID_CHECKS
// wins. It also turns off rapid's fail files (the shrunk sequence and the
// seed are printed instead) unless asked for.
func setChecks(t *testing.T, def int) {
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	set := func(name, value string) {
		f := flag.Lookup(name)
		if f == nil {
			return
		}
		old := f.Value.String()
		if err := f.Value.Set(value); err != nil {
			t.Fatalf("setting -%s: %v", name, err)
		}
		t.Cleanup(func() { f.Value.Set(old) })
	}
	if !explicit["rapid.nofailfile"] && os.Getenv("RAPID_NOFAILFILE") == "" {
		set("rapid.nofailfile", "true")
	}
	if explicit["rapid.checks"] || os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	n := def
	if s := os.Getenv("WASISIM_SOAK"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("WASISIM_SOAK=%q: want a positive number of sequences", s)
		}
		n = v
	}
	set("rapid.checks", strconv.Itoa(n))
	t.Logf("running %d sequences (WASISIM_SOAK=N or -rapid.checks=N to change)", n)
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
