package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
)

// TestMergeShardsIsOneProcess explores the planted bug exhaustively as one
// process and as three shards, and merges the shards' reports: the same
// first failure, with a byte-identical trace; without the bug, the same
// runs and outcomes, exhausted.
func TestMergeShardsIsOneProcess(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		scenario string
		code     int
	}{{"planted-bug.wsim", 1}, {"lock-release.wsim", 0}} {
		single := filepath.Join(dir, tc.scenario+".json")
		wantCode(t, tc.code, "explore", scenarios+tc.scenario, "--strategy", "dfs", "--runs", "0", "--out", filepath.Join(dir, "single"), "--report", single, "--quiet")
		var shards []string
		for i := range 3 {
			r := filepath.Join(dir, tc.scenario+strings.Repeat("s", i+1)+".json")
			wantCode(t, tc.code, "explore", scenarios+tc.scenario, "--strategy", "dfs", "--runs", "0", "--shard", string(rune('0'+i))+"/3",
				"--out", filepath.Join(dir, "shards"), "--report", r, "--quiet", "--workers", "2")
			shards = append(shards, r)
		}
		o, _ := wantCode(t, tc.code, append([]string{"merge", "--json"}, shards...)...)
		var m, one exploreJSON
		if err := json.Unmarshal([]byte(o), &m); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(single)
		if err := json.Unmarshal(b, &one); err != nil {
			t.Fatal(err)
		}
		if tc.code == 0 {
			if !m.Exhausted || !one.Exhausted || m.Runs != one.Runs || len(m.Outcomes) != 1 || m.Shards != 3 {
				t.Fatalf("%s: merged %+v, one process %+v", tc.scenario, m, one)
			}
			continue
		}
		if m.Failure == nil || one.Failure == nil || m.Failure.Job != one.Failure.Job || m.Failure.Index != one.Failure.Index {
			t.Fatalf("%s: merged failure %+v, one process %+v", tc.scenario, m.Failure, one.Failure)
		}
		a, _ := os.ReadFile(m.Failure.Trace)
		c, _ := os.ReadFile(one.Failure.Trace)
		if len(a) == 0 || !bytes.Equal(a, c) {
			t.Fatalf("the merged failure's trace %s differs from the one process's %s", m.Failure.Trace, one.Failure.Trace)
		}
		wantCode(t, 0, "replay", m.Failure.Trace, "--quiet")
	}
	// Reports that are not the shards of one exploration are refused.
	wantCode(t, 2, "merge", filepath.Join(dir, "planted-bug.wsims.json"), filepath.Join(dir, "lock-release.wsimss.json"))
	_, e := wantCode(t, 2, "merge", filepath.Join(dir, "planted-bug.wsims.json"), filepath.Join(dir, "planted-bug.wsimss.json"))
	if !strings.Contains(e, "missing shard(s) 2/3") {
		t.Fatalf("merge of two of three shards: %s", e)
	}
	wantCode(t, 2, "merge", filepath.Join(dir, "planted-bug.wsims.json"), filepath.Join(dir, "planted-bug.wsims.json"))
	wantCode(t, 2, "merge", scenarios+"planted-bug.wsim")
}

// TestExploreProgress checks the three forms of progress (a terminal
// line, plain lines when piped, JSON events with --json) and that
// --quiet prints none; and that --reduce=false runs every interleaving.
func TestExploreProgress(t *testing.T) {
	p := sim.Progress{Runs: 1500, Failures: 1, Distinct: 2, Pruned: 3, Elapsed: time.Second, Fraction: 0.25, Total: 6000, Remaining: 3 * time.Second}
	for _, tc := range []struct {
		s    scaleSettings
		tty  bool
		want string
	}{
		{scaleSettings{}, true, "\r\x1b[K1500 runs  1500 runs/s  1 failure  2 distinct outcomes  (3 stopped early)  ~25% of ~6000, ~3s left"},
		{scaleSettings{}, false, "explore: 1500 runs  1500 runs/s  1 failure  2 distinct outcomes  (3 stopped early)  ~25% of ~6000, ~3s left\n"},
		{scaleSettings{progress: true}, true, "explore: 1500 runs"},
		{scaleSettings{json: true}, false, `{"event":"progress","runs":1500,"runs_per_sec":1500,"failures":1,"distinct":2,"pruned":3,"elapsed_ms":1000,"fraction":0.25,"estimated_runs":6000,"remaining_ms":3000}` + "\n"},
	} {
		var b bytes.Buffer
		fn, every, _ := tc.s.reporter(&b, tc.tty)
		fn(p)
		if !strings.HasPrefix(b.String(), tc.want) || every <= 0 {
			t.Errorf("%+v tty %v: every %v, printed %q, want %q", tc.s, tc.tty, every, b.String(), tc.want)
		}
	}
	if fn, _, _ := (&scaleSettings{quiet: true}).reporter(new(bytes.Buffer), true); fn != nil {
		t.Error("--quiet reports progress")
	}
	o, e := wantCode(t, 0, "explore", scenarios+"lock-release.wsim", "--strategy", "dfs", "--runs", "3000", "--reduce=false", "--quiet", "--json")
	var ej exploreJSON
	if err := json.Unmarshal([]byte(o), &ej); err != nil || ej.Reduced || ej.Runs != 3000 || e != "" {
		t.Fatalf("%v %+v %q", err, ej, e)
	}
	// An estimate larger than any integer stays a positive number.
	if b, err := json.Marshal(scaleJSON{Estimate: 4.2e96}); err != nil || !strings.Contains(string(b), `"estimated_runs":4.2e+96`) {
		t.Fatalf("%s %v", b, err)
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "0"}, {42.4, "42"}, {987, "990"}, {123456, "120000"}, {1e9 + 7, "1000000000"}, {4.2e96, "4.2e+96"}} {
		if got := approx(tc.x); got != tc.want {
			t.Errorf("approx(%v) = %s, want %s", tc.x, got, tc.want)
		}
	}
}
