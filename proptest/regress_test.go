package proptest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

// regressionDir holds traces of failures found by the suites; every one is
// replayed by TestRegressions.
const regressionDir = "../testdata/regressions"

// TestRegressions replays every trace in testdata/regressions strictly:
// the run must follow the trace event for event and end with the recorded
// outcome (a trace of a failure must fail the same way, so a fixed bug is
// noticed and its trace refreshed or retired).
func TestRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(regressionDir, "*.trace"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no regression traces in " + regressionDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := sim.ReadTraceFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, got, err := replay(tr)
			if err != nil {
				t.Fatal(err)
			}
			if res.Divergence != nil {
				t.Fatalf("replay diverged: %v", res.Divergence)
			}
			if !bytes.Equal(got.Bytes(), raw) {
				t.Fatalf("replayed trace differs from %s", f)
			}
			t.Logf("%d events, outcome: %s", len(tr.Events), tr.End.Outcome)
		})
	}
}

// TestRecordRegressions (with WASISIM_RECORD=1) records one failing trace
// per mutation into testdata/regressions, by running the mutation checks
// with WASISIM_FAILDIR pointing there.
func TestRecordRegressions(t *testing.T) {
	if os.Getenv("WASISIM_RECORD") == "" {
		t.Skip("set WASISIM_RECORD=1 to record mutation traces into " + regressionDir)
	}
	t.Setenv("WASISIM_FAILDIR", regressionDir)
	TestMutationsAreCaught(t)
}
