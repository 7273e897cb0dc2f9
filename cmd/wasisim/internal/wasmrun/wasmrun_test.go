package wasmrun

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
)

// TestMain points the default engine at an on-disk compilation cache.
func TestMain(m *testing.M) {
	wasitest.UseCompilationCache()
	os.Exit(m.Run())
}

// TestCLI runs guests through the whole command line: a directory copied
// in and written back, a trace, exit codes, stdin and environment, and
// usage errors.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(t.TempDir(), "files.wasm")
	if err := os.WriteFile(mod, wasitest.Guest(t, "files"), 0o644); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--dir", dir + "::/", "--seed", "9", "--trace", trace, "--dir-write-back", mod}, nil, &out, &errb)
	if code != 0 || !strings.HasSuffix(out.String(), "done\n") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	tree := wasitest.HostTree(t, dir)
	if tree["keep.txt"] != "file:kept" || tree["work/t.txt"] != "file:0123" || tree["work/sub/c1"] != "file:c1c1" {
		t.Errorf("written-back tree:\n%s", wasitest.TreeString(tree))
	}
	tr, err := sim.ReadTraceFile(trace)
	if err != nil || len(tr.Events) == 0 {
		t.Fatalf("trace: %v", err)
	}
	// Exit codes and usage errors.
	hello := filepath.Join(t.TempDir(), "hello.wasm")
	os.WriteFile(hello, wasitest.Guest(t, "hello"), 0o644)
	out.Reset()
	if code := Main([]string{"--env", "EXIT=5", "--env", "GREETING=yo", hello, "x"}, strings.NewReader("in"), &out, &errb); code != 5 {
		t.Errorf("exit code %d, want 5", code)
	}
	if !strings.Contains(out.String(), "arg x\nenv GREETING = yo\nstdin \"in\"") {
		t.Errorf("stdout %q", out.String())
	}
	if code := Main([]string{"--bogus", hello}, nil, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := Main([]string{"run"}, nil, &out, &errb); code != 2 {
		t.Errorf("no module: exit %d", code)
	}
	o, err := parse([]string{"run", "--dir", "a", "--dir", "b::/x", "--listen", ":8080", "m.wasm", "--not-a-flag"})
	if err != nil || len(o.dirs) != 2 || o.dirs[0] != (dirMap{host: "a", guest: "a"}) || o.dirs[1].guest != "/x" || o.args[0] != "--not-a-flag" || o.listen[0] != ":8080" {
		t.Errorf("parse: %+v %v", o, err)
	}
}

// TestIsModuleRun: a .wasm first operand selects this command, whatever
// flags (and flag values) come before it.
func TestIsModuleRun(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"m.wasm"}, true},
		{[]string{"--dir", "x.wasm", "s.wsim"}, false},
		{[]string{"-env", "A=b", "--seed", "3", "m.wasm", "x"}, true},
		{[]string{"--dir-write-back", "m.wasm"}, true},
		{[]string{"--dir=a", "m.wasm"}, true},
		{[]string{"--max-steps", "9", "--trace", "t", "--listen", ":1", "s.wsim"}, false},
		{[]string{"--seed"}, false},
	} {
		if got := IsModuleRun(c.args); got != c.want {
			t.Errorf("IsModuleRun(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}
