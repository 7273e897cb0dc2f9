package proptest

import (
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/mutation"
)

// recordingTB is a rapid.TB that records the failure instead of failing
// the test, so a test can require that a property fails.
type recordingTB struct {
	name string
	mu   sync.Mutex
	msgs []string
	fail bool
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }
func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }
func (r *recordingTB) Skipf(format string, args ...any) {
	panic("proptest: skip inside a mutation check")
}
func (r *recordingTB) Skip(args ...any)                  { r.Skipf("") }
func (r *recordingTB) SkipNow()                          { r.Skipf("") }
func (r *recordingTB) Errorf(format string, args ...any) { r.Logf(format, args...); r.Fail() }
func (r *recordingTB) Error(args ...any)                 { r.Log(args...); r.Fail() }
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *recordingTB) Fatal(args ...any)                 { r.Error(args...) }
func (r *recordingTB) FailNow()                          { r.Fail() }
func (r *recordingTB) Fail()                             { r.mu.Lock(); r.fail = true; r.mu.Unlock() }
func (r *recordingTB) Failed() bool                      { r.mu.Lock(); defer r.mu.Unlock(); return r.fail }

var failedAfter = regexp.MustCompile(`\[rapid\] (?:failed|panic) after (\d+) tests`)

// checksToFail runs prop with rapid (fixed seed, at most bound checks, a
// short shrink) and returns how many checks it took to fail: the passing
// ones plus the failing one, or 0 if it never failed. It also returns the
// failure report.
func checksToFail(t *testing.T, bound int, prop func(*rapid.T)) (int, string) {
	t.Helper()
	set := func(name, v string) {
		old := flag.Lookup(name).Value.String()
		if err := flag.Set(name, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { flag.Set(name, old) }) //nolint:errcheck
	}
	set("rapid.checks", strconv.Itoa(bound))
	set("rapid.seed", "1")
	set("rapid.nofailfile", "true")
	set("rapid.shrinktime", "3s")
	tb := &recordingTB{name: t.Name()}
	rapid.Check(tb, prop)
	if !tb.Failed() {
		return 0, ""
	}
	report := strings.Join(tb.msgs, "\n")
	m := failedAfter.FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("rapid failed without a count:\n%s", report)
	}
	n, _ := strconv.Atoi(m[1])
	return n + 1, report
}

// TestMutationsAreCaught shows that every deliberate bug in
// internal/mutation is caught by its suite within a bounded number of
// checks, and logs how many it took.
func TestMutationsAreCaught(t *testing.T) {
	const bound = 200
	suites := map[mutation.Set]func(*rapid.T, mutation.Set){
		mutation.ReleaseLocksOnHandleDrop: filesUnder(nil),
		mutation.ResolveWriteEarly:        filesUnder(nil),
		mutation.DeliverAfterDropped:      filesUnder(nil),
		mutation.CloseSocketOnHandleDrop:  socketsUnder,
	}
	for _, m := range mutation.All {
		t.Run(m.Name, func(t *testing.T) {
			suite := suites[m.Set]
			if suite == nil {
				t.Fatalf("no suite is assigned to mutation %s", m.Name)
			}
			n, report := checksToFail(t, bound, func(rt *rapid.T) { suite(rt, m.Set) })
			if n == 0 {
				t.Fatalf("mutation %s survived %d checks", m.Name, bound)
			}
			t.Logf("mutation %s caught after %d checks", m.Name, n)
			if testing.Verbose() {
				t.Logf("report:\n%s", lastLines(report, 30))
			}
		})
	}
}

func filesUnder(variants []string) func(*rapid.T, mutation.Set) {
	return func(t *rapid.T, m mutation.Set) {
		c := fileCaseGen(variants).Draw(t, "case")
		c.Mutations = m
		checkCase(t, c)
	}
}

func socketsUnder(t *rapid.T, m mutation.Set) {
	c := socketCaseGen().Draw(t, "case")
	c.Mutations = m
	checkCase(t, c)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
