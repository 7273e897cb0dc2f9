package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
)

// TestMain lets a test run this binary as wasisim (WASISIM_CLI_MAIN=1)
// and keeps compiled guests on disk.
func TestMain(m *testing.M) {
	if os.Getenv("WASISIM_CLI_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	wasitest.UseCompilationCache()
	os.Exit(m.Run())
}

// binary writes a wasm binary to a temporary file.
func binary(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withStdin runs the command in-process with a stdin.
func withStdin(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	noSignals := func() (<-chan os.Signal, func()) { return nil, func() {} }
	code := mainWith(args, stdin, &o, &e, noSignals, func(int) { t.Fatal("exit") })
	return code, o.String(), e.String()
}

var i32 = wasitest.I32

func wasi(name string, params []byte, results ...byte) wasitest.Import {
	return wasitest.Import{Module: "wasi_snapshot_preview1", Name: name, Params: params, Results: results}
}

// acceptForever makes fd 3 blocking and accepts on it: with a listener
// and no client, the world deadlocks.
func acceptForever() []byte {
	imps := []wasitest.Import{
		wasi("fd_fdstat_set_flags", []byte{i32, i32}, i32),
		wasi("sock_accept", []byte{i32, i32, i32}, i32),
	}
	body := []byte{0x41, 0x03, 0x41, 0x00, 0x10, 0x00, 0x1a, 0x41, 0x03, 0x41, 0x00, 0x41, 0x00, 0x10, 0x01, 0x1a}
	return wasitest.Module(imps, 1, []wasitest.Func{{Export: "_start", Body: body}}, nil)
}

// growToLimit grows memory a page at a time until it cannot, then exits
// with its size in pages.
func growToLimit() []byte {
	body := []byte{0x03, 0x40, 0x41, 0x01, 0x40, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x3f, 0x00, 0x10, 0x00, 0x0b, 0x0c, 0x00, 0x0b}
	return wasitest.Module([]wasitest.Import{wasi("proc_exit", []byte{i32})}, 1, []wasitest.Func{{Export: "_start", Body: body}}, nil)
}

// A wasm run says how it ended, with the exit code the usage documents.
func TestWasmExitCodes(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "bad.wasm")
	os.WriteFile(notWasm, []byte("\x00asm\x01\x00\x00\x00\xff"), 0o644)
	noStart := binary(t, "nostart.wasm", wasitest.Module(nil, 1, []wasitest.Func{{Export: "main"}}, nil))
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"fuel", []string{"--fuel", "100000", binary(t, "loop.wasm", wasitest.Loop())}, 124, "ran out of fuel"},
		{"trap", []string{binary(t, "trap.wasm", wasitest.Start(0x00))}, 134, "unreachable"},
		{"no _start", []string{noStart}, 2, "_start"},
		{"malformed", []string{notWasm}, 2, "wasisim run:"},
		{"missing", []string{filepath.Join(dir, "missing.wasm")}, 2, "no such file"},
		{"bad flag", []string{"--fuel", "x", noStart}, 2, `invalid value "x" for flag -fuel`},
		{"dir is a file", []string{"--dir", notWasm + "::/", noStart}, 2, "is not a directory"},
		{"step limit", []string{"--max-steps", "20", "--fuel", "0", binary(t, "w.wasm", wasitest.WriteLoop())}, 1, "the run reached its step limit after 20 scheduling steps while w.wasm#1 was waiting in fd_write"},
		{"deadlock", []string{"--listen", "127.0.0.1:9", binary(t, "accept.wasm", acceptForever())}, 1, "deadlock: nothing can run: accept.wasm#1 waits for"},
		{"memory", []string{"--max-memory", "1MiB", binary(t, "grow.wasm", growToLimit())}, 16, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, e := withStdin(t, strings.NewReader(""), append([]string{"run"}, c.args...)...)
			if code != c.code || !strings.Contains(e, c.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, c.code, e, c.want)
			}
			if strings.Contains(e, "{}") || strings.Count(e, "\n") > 2 {
				t.Fatalf("stderr is not one clear line: %q", e)
			}
		})
	}
}

// A guest that runs out of fuel does so at the same point every time:
// its trace is the same, and replays.
func TestFuelIsDeterministic(t *testing.T) {
	loop := binary(t, "loop.wasm", wasitest.Loop())
	var traces [2][]byte
	for i := range traces {
		tr := filepath.Join(t.TempDir(), "t.trace")
		if code, _, e := withStdin(t, nil, "run", "--fuel", "5000", "--trace", tr, loop); code != 124 {
			t.Fatalf("exit %d: %s", code, e)
		}
		traces[i], _ = os.ReadFile(tr)
		if i == 1 {
			wantCode(t, 0, "replay", "--quiet", tr)
		}
	}
	if !bytes.Equal(traces[0], traces[1]) {
		t.Fatal("two runs out of fuel wrote different traces")
	}
	// The trace names the module by content: another one is refused.
	tr := filepath.Join(t.TempDir(), "t.trace")
	os.WriteFile(tr, traces[0], 0o644)
	_, e := wantCode(t, 2, "replay", "--scenario", binary(t, "other.wasm", wasitest.GrowLoop()), tr)
	if !strings.Contains(e, "sha256") {
		t.Fatalf("replay with another module: %s", e)
	}
}

// countingReader fails the test if it is read when it must not be.
type countingReader struct {
	t     *testing.T
	data  string
	never bool
	reads int
}

func (r *countingReader) Read(p []byte) (int, error) {
	r.reads++
	if r.never {
		r.t.Error("stdin was read by a guest that does not read it")
	}
	if r.data == "" {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// Stdin is read when the guest reads it: a guest that does not read it
// never waits for it (`sleep 30 | wasisim run`); one that does gets it.
func TestWasmStdin(t *testing.T) {
	in := &countingReader{t: t, never: true}
	if code, _, e := withStdin(t, in, "run", binary(t, "noop.wasm", wasitest.Start())); code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	hello := binary(t, "hello.wasm", wasitest.Guest(t, "hello"))
	code, o, e := withStdin(t, &countingReader{t: t, data: "typed"}, "run", hello)
	if code != 0 || !strings.Contains(o, `stdin "typed"`) {
		t.Fatalf("exit %d: %s%s", code, o, e)
	}
}

// Output goes out as it is written: a guest writing forever fills the
// writer until its fuel ends it.
func TestWasmStdoutStreamed(t *testing.T) {
	code, o, e := withStdin(t, nil, "run", "--fuel", "2000", binary(t, "w.wasm", wasitest.WriteLoop()))
	if code != 124 || len(o) < 100*64<<10 || strings.Trim(o, "y") != "" {
		t.Fatalf("exit %d, %d bytes of stdout; %s", code, len(o), e)
	}
}

// The file system has bounds: a guest creating too many files gets the
// error a full disk gives; a --dir larger than the bound is refused at
// the start.
func TestWasmFSBounds(t *testing.T) {
	many := binary(t, "manyfiles.wasm", wasitest.Guest(t, "manyfiles"))
	code, o, _ := withStdin(t, nil, "run", "--dir", t.TempDir()+"::/", "--max-fs-inodes", "50", many, "100")
	if code != 1 || !strings.Contains(o, "write:") {
		t.Fatalf("exit %d: %s", code, o)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, 4096), 0o644)
	code, _, e := withStdin(t, nil, "run", "--dir", dir+"::/", "--max-fs-bytes", "1KiB", many)
	if code != 2 || !strings.Contains(e, "--max-fs-bytes") {
		t.Fatalf("exit %d: %s", code, e)
	}
}

// `run --json` reports a binary's run, its output included.
func TestWasmRunJSON(t *testing.T) {
	hello := binary(t, "hello", wasitest.Guest(t, "hello")) // no .wasm suffix: told by its bytes
	code, o, e := withStdin(t, strings.NewReader("in"), "run", "--json", "--env", "EXIT=3", hello, "x")
	var r wasmRunJSON
	if err := json.Unmarshal([]byte(o), &r); err != nil || code != 3 {
		t.Fatalf("exit %d, %v: %s%s", code, err, o, e)
	}
	if r.Kind != "module" || r.ExitCode != 3 || r.GuestExitCode != 3 || !strings.Contains(r.Stdout, "arg x") || r.Stderr != "to stderr\n" {
		t.Fatalf("%+v", r)
	}
}

// The files guest writes work/t.txt and work/sub/c1 (see its source).
func filesGuest(t *testing.T) string { return binary(t, "files.wasm", wasitest.Guest(t, "files")) }

// --dir-write-back never loses host data: a mount named by a symbolic
// link is its target (not an empty directory whose write-back deletes
// the target's files); overlapping mounts are refused before the run; a
// run that failed is not written back unless asked; what is written is
// the guest's tree.
func TestWriteBackCLI(t *testing.T) {
	files := filesGuest(t)
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.MkdirAll(filepath.Join(real, "keep"), 0o755)
	os.WriteFile(filepath.Join(real, "keep", "precious"), []byte("precious"), 0o644)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	code, o, e := withStdin(t, nil, "run", "--dir", link+"::/", "--dir-write-back", files)
	tree := wasitest.HostTree(t, real)
	if code != 0 || tree["keep/precious"] != "file:precious" || tree["work/t.txt"] != "file:0123" {
		t.Fatalf("exit %d: %s%s\nhost tree:\n%s", code, o, e, wasitest.TreeString(tree))
	}

	n := t.TempDir()
	os.MkdirAll(filepath.Join(n, "b"), 0o755)
	code, _, e = withStdin(t, nil, "run", "--dir", n+"::/", "--dir", filepath.Join(n, "b")+"::/b", "--dir-write-back", files)
	if code != 2 || !strings.Contains(e, "overlap") {
		t.Fatalf("overlapping mounts: exit %d: %s", code, e)
	}

	d := t.TempDir()
	code, _, e = withStdin(t, nil, "run", "--dir", d+"::/", "--dir-write-back", "--max-steps", "30", files)
	if code != 1 || !strings.Contains(e, "not written back") || len(wasitest.HostTree(t, d)) != 0 {
		t.Fatalf("a run ended by its step limit: exit %d: %s\n%s", code, e, wasitest.TreeString(wasitest.HostTree(t, d)))
	}
	code, _, _ = withStdin(t, nil, "run", "--dir", d+"::/", "--dir-write-back=always", "--max-steps", "30", files)
	if code != 1 || len(wasitest.HostTree(t, d)) == 0 {
		t.Fatalf("--dir-write-back=always: exit %d, host tree empty", code)
	}
}

// --help prints the usage once, with a binary's flags and why --dir
// copies; a bad flag is one line on stderr and nothing on stdout.
func TestUsageOnceAndErrorsOnStderr(t *testing.T) {
	for _, cmd := range []string{"run", "explore", "replay", "shrink", "show", "demo"} {
		code, o, e := wasisim(t, cmd, "--help")
		if code != 0 || strings.Count(o, "Usage:") != 1 || strings.Count(o, "Examples:") != 1 || e != "" {
			t.Fatalf("%s --help: exit %d, %d usages\n%s%s", cmd, code, strings.Count(o, "Usage:"), o, e)
		}
		code, o, e = wasisim(t, cmd, "--no-such-flag")
		if code != 2 || o != "" || strings.Count(e, "\n") != 1 || !strings.Contains(e, "--help") {
			t.Fatalf("%s with a bad flag: exit %d\nstdout %q\nstderr %q", cmd, code, o, e)
		}
	}
	_, o, _ := wasisim(t, "run", "--help")
	for _, want := range []string{"-dir", "-env", "-listen", "-dir-write-back", "-fuel", "-timeout", "-max-memory", "-max-fs-bytes", "copy, not a live", "replays"} {
		if !strings.Contains(o, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

// Every line explore prints on stdout is the same for the same
// invocation, parallel workers or not.
func TestExploreReportIsDeterministic(t *testing.T) {
	args := []string{"explore", scenarios + "planted-bug.wsim", "--runs", "3000", "--workers", "2", "--out", t.TempDir()}
	_, first, _ := wasisim(t, args...)
	for range 3 {
		if _, o, _ := wasisim(t, args...); o != first {
			t.Fatalf("two identical explorations printed\n%s\nand\n%s", first, o)
		}
	}
}

// `show` names what a wasm trace was recorded from.
func TestShowWasmTrace(t *testing.T) {
	tr := filepath.Join(t.TempDir(), "t.trace")
	withStdin(t, nil, "run", "--trace", tr, binary(t, "noop.wasm", wasitest.Start()))
	o, _ := wantCode(t, 0, "show", tr, "--html", "-")
	if !strings.Contains(o, "module ") || !strings.Contains(o, "sha256 ") || strings.Contains(o, "variant  ·") {
		t.Fatalf("show header: %s", o[strings.Index(o, `class="meta"`):][:200])
	}
}

// The first SIGINT or SIGTERM stops a command at the next run boundary:
// it reports what ran and exits 130; a second one exits at once.
func TestInterruptInProcess(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	sigs <- syscall.SIGINT // before it starts: it stops at once
	subscribe := func() (<-chan os.Signal, func()) { return sigs, func() {} }
	var o, e bytes.Buffer
	code := mainWith([]string{"explore", scenarios + "lock-release.wsim", "--runs", "100000000", "--workers", "1"}, nil, &o, &e, subscribe, func(int) { t.Fatal("exit") })
	if code != ExitInterrupted || !strings.Contains(o.String(), "distinct outcome") || !strings.Contains(e.String(), "interrupted") {
		t.Fatalf("exit %d\n%s%s", code, o.String(), e.String())
	}
	// A second signal quits at once.
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGTERM
	exited := make(chan int, 1)
	c := &command{name: "explore", stderr: io.Discard, signals: subscribe, exitNow: func(code int) { exited <- code }}
	release := c.interruptible()
	if code := <-exited; code != ExitInterrupted {
		t.Fatalf("second signal: exit %d", code)
	}
	release()
}

// An interrupted exploration keeps every failing trace it found.
func TestInterruptKeepsFailures(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "one.trace")
	wantCode(t, 1, "run", scenarios+"pr870.wsim", "--variant", "p3-async-write", "--trace", tr)
	trace, err := sim.ReadTraceFile(tr)
	if err != nil {
		t.Fatal(err)
	}
	rep := &sim.Report{Runs: 9, Failures: []sim.Failure{{Run: 2, Err: io.EOF, Trace: trace}, {Run: 7, Err: io.EOF, Trace: trace}}}
	c := &command{name: "explore", stdout: io.Discard, stderr: io.Discard}
	out := filepath.Join(dir, "found")
	if _, err := c.writeFailures(rep, &target{path: "x.wsim"}, exploreSettings{strategy: "random", out: out}); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(out, "*.trace"))
	if len(got) != 2 {
		t.Fatalf("traces written: %v", got)
	}
}

// A real SIGINT to a wasm run that is writing: it stops, writes the trace
// of what ran (which replays exactly) and exits 130.
func TestInterruptRunWritesTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	tr := filepath.Join(t.TempDir(), "int.trace")
	cmd := exec.Command(self, "run", "--fuel", "0", "--max-steps", "1000000000", "--trace", tr, binary(t, "w.wasm", wasitest.WriteLoop()))
	cmd.Env = append(os.Environ(), "WASISIM_CLI_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The guest is running once its output arrives (after the handler is
	// installed).
	if _, err := io.ReadFull(stdout, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	go io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted at step") {
		t.Fatalf("%v, exit %d: %s", err, cmd.ProcessState.ExitCode(), stderr.String())
	}
	o, _ := wantCode(t, 0, "replay", "--quiet", tr)
	if !strings.Contains(o, "reproduced") {
		t.Fatalf("replay: %s", o)
	}
}
