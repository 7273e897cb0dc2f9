package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const suite = "../../../../testdata/wasi-testsuite-p3/wasm32-wasip3/"

// copyFile copies a binary to dir and returns the new path.
func copyFile(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Components are explored like scenarios: every schedule must show what
// the first one showed (exit code, stdout, stderr), and mounts and guest
// arguments go with them.
func TestExploreComponent(t *testing.T) {
	o, _ := wantCode(t, 0, "explore", "--runs", "30", "--dir", suite+"fs-tests.dir::/", suite+"filesystem-io.wasm")
	if !strings.Contains(o, "kind component") || !strings.Contains(o, "30 runs") || !strings.Contains(o, "no failure found") {
		t.Fatalf("explore:\n%s", o)
	}
	o, _ = wantCode(t, 0, "explore", "--strategy", "pct", "--runs", "20", "--env", "foo=bar", "--env", "baz=42", suite+"cli-env.wasm", "a", "b", "42")
	if !strings.Contains(o, "no failure found") {
		t.Fatalf("explore with arguments:\n%s", o)
	}
	// Without its arguments the guest's assertions fail, in every run.
	wantCode(t, 1, "explore", "--runs", "5", "--out", t.TempDir(), suite+"cli-env.wasm")
	// Every schedule of a component, with partial-order reduction: the
	// same count every time, and the whole tree.
	for range 2 {
		o, _ = wantCode(t, 0, "explore", "--strategy", "dfs", "--runs", "0", "--dir", suite+"fs-tests.dir::/", suite+"filesystem-read-directory.wasm")
		if !strings.Contains(o, "152 runs") || !strings.Contains(o, "every schedule explored") || !strings.Contains(o, "partial-order reduction") {
			t.Fatalf("explore --strategy dfs:\n%s", o)
		}
	}
}

// A failing component run's trace names the binary by content hash:
// replay and shrink rebuild the run from it, a moved binary is found
// with --scenario, and a different binary is refused.
func TestComponentTraceReplay(t *testing.T) {
	dir := t.TempDir()
	bin := copyFile(t, suite+"cli-env.wasm", dir)
	out := filepath.Join(dir, "found")
	wantCode(t, 1, "explore", "--runs", "3", "--out", out, bin)
	traces, _ := filepath.Glob(filepath.Join(out, "*.trace"))
	if len(traces) != 1 {
		t.Fatalf("traces written: %v", traces)
	}
	tr := traces[0]
	o, _ := wantCode(t, 0, "replay", "--quiet", tr)
	if !strings.Contains(o, "reproduced") {
		t.Fatalf("replay:\n%s", o)
	}
	o, _ = wantCode(t, 0, "shrink", tr)
	if !strings.Contains(o, "minimal trace") {
		t.Fatalf("shrink:\n%s", o)
	}
	wantCode(t, 0, "replay", "--quiet", strings.TrimSuffix(tr, ".trace")+".min.trace")
	wantCode(t, 0, "show", tr, "--html", filepath.Join(dir, "t.html"))

	// Moved: found with --scenario.
	moved := filepath.Join(dir, "moved")
	os.Mkdir(moved, 0o755)
	os.Rename(bin, filepath.Join(moved, "cli-env.wasm"))
	_, e := wantCode(t, 2, "replay", tr)
	if !strings.Contains(e, "pass --scenario") {
		t.Fatalf("replay with the binary gone: %s", e)
	}
	wantCode(t, 0, "replay", "--quiet", "--scenario", filepath.Join(moved, "cli-env.wasm"), tr)
	// Another binary: refused.
	other := copyFile(t, suite+"cli-exit.wasm", dir)
	_, e = wantCode(t, 2, "replay", "--scenario", other, tr)
	if !strings.Contains(e, "sha256") {
		t.Fatalf("replay with another binary: %s", e)
	}
}

// `run` tells a component from a module by its preamble, not its name.
func TestRunComponentByMagic(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(suite + "run-with-err.wasm")
	bin := filepath.Join(dir, "prog") // no .wasm suffix
	os.WriteFile(bin, b, 0o644)
	code, _, e := wasisim(t, "run", bin)
	if code != 1 {
		t.Fatalf("run-with-err: exit %d, want 1 (%s)", code, e)
	}
	garbage := filepath.Join(dir, "bad.wasm")
	os.WriteFile(garbage, append([]byte("\x00asm\x0d\x00\x01\x00"), 0xff, 0xff), 0o644)
	code, _, e = wasisim(t, "run", garbage)
	if code != 2 || !strings.Contains(e, "wasisim run") {
		t.Fatalf("a malformed component: exit %d, %s", code, e)
	}
}

// --stdin FILE gives every run the same stdin: cli-stdout-flush (which
// prints READY and waits for a byte of stdin) explores to one outcome
// with it; its trace records the file's hash, so a replay with the file
// changed is refused.
func TestStdinFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, _ := wantCode(t, 0, "explore", "--runs", "40", "--stdin", in, suite+"cli-stdout-flush.wasm")
	if !strings.Contains(o, "40 runs, 1 distinct outcome") || !strings.Contains(o, "no failure found") {
		t.Fatalf("explore with --stdin:\n%s", o)
	}
	o, _ = wantCode(t, 0, "explore", "--runs", "20", "--strategy", "pct", "--stdin", in, suite+"cli-stdio.wasm")
	if !strings.Contains(o, "no failure found") {
		t.Fatalf("explore cli-stdio with --stdin:\n%s", o)
	}
	tr := filepath.Join(dir, "run.trace")
	o, _ = wantCode(t, 0, "run", "--stdin", in, "--trace", tr, suite+"cli-stdout-flush.wasm")
	if o != "READY" {
		t.Fatalf("stdout %q", o)
	}
	wantCode(t, 0, "replay", "--quiet", tr)
	if err := os.WriteFile(in, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e := wantCode(t, 2, "replay", "--quiet", tr); !strings.Contains(e, "--stdin "+in+" changed since the trace was recorded") {
		t.Fatalf("replay with the stdin file changed: %s", e)
	}
	_, e := wantCode(t, 2, "run", "--stdin", filepath.Join(dir, "missing"), suite+"cli-stdout-flush.wasm")
	if !strings.Contains(e, "--stdin") {
		t.Fatalf("a missing stdin file: %s", e)
	}
	if _, e := wantCode(t, 2, "run", "--stdin", in, scenarios+"pr870.wsim"); !strings.Contains(e, "--stdin applies to wasm binaries") {
		t.Fatalf("--stdin on a scenario: %s", e)
	}
}
