package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", `t.wsim:1:1: expected at least one task ("task NAME:" followed by indented statements), found end of file`},
		{"header only", "variant p3\n", `t.wsim:1:11: expected at least one task`},
		{"unknown header", "colour blue\n", `t.wsim:1:1: expected a header line (variant, seed, chunk, max-steps, file, dir) or a task, found "colour"`},
		{"bad variant", "variant p4\ntask a:\n    yield\n", `t.wsim:1:9: expected p3 or p3-async-write, found "p4"`},
		{"seed twice", "seed 1\nseed 2\n", `t.wsim:2:1: seed is set twice (first at line 1)`},
		{"bad seed", "seed -1\n", `t.wsim:1:6: expected a seed (an integer from 0 to 2^64-1), found "-1"`},
		{"chunk zero", "chunk 0\n", `t.wsim:1:7: expected a chunk size from 1 to 1048576, found "0"`},
		{"file unquoted", "file a.txt\n", `t.wsim:1:6: expected a quoted path, found "a.txt"`},
		{"file dotdot", "file \"../x\"\n", `t.wsim:1:6: bad path "../x": must not contain empty, . or .. elements`},
		{"file extra", "file \"a\" \"b\" c\n", `t.wsim:1:14: expected the file's content (a quoted string) or end of line, found "c"`},
		{"unterminated string", "file \"a\n", `t.wsim:1:6: expected closing ", found end of line`},
		{"bad escape", "file \"a\\q\"\n", `t.wsim:1:6: bad string "a\q": use Go escapes`},
		{"indent first", "    yield\n", `t.wsim:1:5: expected a header line (variant, seed, chunk, max-steps, file, dir) or a task, found an indented line`},
		{"task no colon", "task a\n    yield\n", `t.wsim:1:7: expected ':' (or "in INSTANCE:"), found end of line`},
		{"task empty", "task a:\ntask b:\n    yield\n", `t.wsim:2:1: expected an indented statement in task a, found "task"`},
		{"task empty at end", "task a:\n", `t.wsim:1:1: task a has no statements`},
		{"task twice", "task a:\n    yield\ntask a:\n    yield\n", `t.wsim:3:6: task a is defined twice`},
		{"task stuff after colon", "task a: yield\n", `t.wsim:1:9: expected end of line after ':'`},
		{"unknown verb", "task a:\n    frobnicate x\n", `t.wsim:2:5: expected a statement (accept, append-via-stream,`},
		{"missing result", "task a:\n    open root \"f\"\n", `t.wsim:2:5: open returns 1 value(s): write a = open BASE PATH [FLAG...]`},
		{"too many results", "task a:\n    a, b = open root \"f\"\n", `t.wsim:2:5: open returns 1 value(s), not 2`},
		{"result of nothing", "task a:\n    x = yield\n", `t.wsim:2:5: yield returns nothing`},
		{"missing arg", "task a:\n    fd = open root\n", `t.wsim:2:19: expected a quoted string (path): write a = open BASE PATH [FLAG...], found end of line`},
		{"bad flag", "task a:\n    fd = open root \"f\" append\n", `t.wsim:2:24: expected read, write, create, exclusive, truncate, directory, mutate or follow, found "append"`},
		{"string for var", "task a:\n    drop \"fd\"\n", `t.wsim:2:10: expected a variable (handle), found string "fd"`},
		{"extra arg", "task a:\n    yield now\n", `t.wsim:2:11: expected end of line: write yield, found "now"`},
		{"bad duration", "task a:\n    sleep soon\n", `t.wsim:2:11: expected a duration like 10ms or 2s (duration), found "soon"`},
		{"bad address", "task a:\n    s = tcp-socket\n    bind s localhost\n", `t.wsim:3:12: expected an address like 127.0.0.1:8080 or [::1]:80 (address), found "localhost"`},
		{"unassigned variable", "task a:\n    drop fd\n", `t.wsim:2:10: variable fd is never assigned in instance guest`},
		{"variable of other instance", "task a in x:\n    fd = open root \"f\"\ntask b in y:\n    drop fd\n", `t.wsim:4:10: variable fd is never assigned in instance y`},
		{"reserved result", "task a:\n    file = open root \"f\"\n", `t.wsim:2:5: "file" is reserved`},
		{"assign root", "task a:\n    root = open root \"f\"\n", `t.wsim:2:5: "root" is reserved`},
		{"type clash", "task a:\n    r, w = stream\n    r = await w\n", `t.wsim:3:5: r is a result here but a handle at line 2`},
		{"drop a result", "task a:\n    r, w = stream\n    x = await r\n    drop x\n", `t.wsim:4:10: x is a result (line 3), not a handle`},
		{"expect error first", "task a:\n    expect error no-entry\n", `t.wsim:2:5: expect error must follow the statement it checks`},
		{"expect bad code", "task a:\n    yield\n    expect error no-such-thing\n", `t.wsim:3:18: expected a WASI error code (e.g. no-entry, address-in-use, would-block), found "no-such-thing"`},
		{"expect bad trap", "task a:\n    yield\n    expect trap oops\n", `t.wsim:3:17: expected after-dropped, bad-argument,`},
		{"expect file no state", "task a:\n    expect file \"f\"\n", `t.wsim:2:20: expected ==, missing or exists, found end of line`},
		{"expect lock state", "task a:\n    expect lock \"f\" locked\n", `t.wsim:2:21: expected free, shared or exclusive, found "locked"`},
		{"expect port proto", "task a:\n    expect port sctp 127.0.0.1:1 bound\n", `t.wsim:2:17: expected tcp or udp, found "sctp"`},
		{"expect wrong type", "task a:\n    r, w = stream\n    expect r ok\n", `t.wsim:3:14: r is a handle: "expect r ok" does not apply`},
		{"expect nothing", "task a:\n    expect\n", `t.wsim:2:11: expected a what to check`},
		{"join unknown", "task a:\n    join b\n", `t.wsim:2:10: no task named b`},
		{"join self", "task a:\n    join a\n", `t.wsim:2:10: task a cannot join itself`},
		{"bad result list", "task a:\n    a b = stream\n", `t.wsim:2:7: expected ',' or '=', found "b"`},
		{"invalid utf8", "task a:\n    yield \xff\n", `t.wsim:2:11: invalid UTF-8`},
		{"invalid utf8 after a multibyte rune", "# é\ntask a:\n    yield \xff\n", `t.wsim:3:11: invalid UTF-8`},
		// Bounds: the lexer holds one line of tokens at a time, and
		// at most MaxLineTokens of them; a source over MaxSource is
		// refused before it is read.
		{"too many tokens", "task a:\n    drop" + strings.Repeat(" h", MaxLineTokens) + "\n",
			fmt.Sprintf("t.wsim:2:%d: more than %d tokens on one line", 5+len("drop")+2*(MaxLineTokens-1)+1, MaxLineTokens)},
		{"too large", "task a:\n    yield\n" + strings.Repeat("#", MaxSource), fmt.Sprintf("t.wsim:1:1: the scenario is %d bytes, more than the %d", MaxSource+18, MaxSource)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.wsim", []byte(tt.src))
			if err == nil {
				t.Fatalf("parsed; want error %q", tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *scenario.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error\n  %s\nwant prefix\n  %s", err, tt.want)
			}
		})
	}
}

// runScript runs src once per seed and returns the outcomes.
func runScript(t *testing.T, src string, v host.Variant, seeds int) []string {
	t.Helper()
	s, err := Parse("t.wsim", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s.Variant = v
	var out []string
	for seed := range seeds {
		res, _, err := sim.RunOnce(sim.Config{Seed: uint64(seed)}, s.Scenario(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Outcome())
	}
	return out
}

func TestSemantics(t *testing.T) {
	tests := []struct {
		name    string
		variant host.Variant
		src     string
		want    string // "ok" or a substring of every run's outcome
	}{
		{"initial file", host.P3, `
file "d/a.txt" "hello\n"
task t:
    expect file "d/a.txt" == "hello\n"
    expect file "d/b.txt" missing
    expect file "d" exists
`, "ok"},
		{"read via stream", host.P3, `
chunk 3
file "a.txt" "abcdefgh"
task t:
    fd = open root "a.txt" read
    s, f = read-via-stream fd 2
    c = read-all s
    expect c == "cdefgh"
    expect c dropped 6
    r = await f
    expect r ok
    drop s f fd
`, "ok"},
		{"open missing", host.P3, `
task t:
    fd = open root "nope.txt" read
    expect error no-entry
`, "ok"},
		{"unexpected error fails the task", host.P3, `
task t:
    fd = open root "nope.txt" read
`, "t.wsim:3: t: `fd = open root \"nope.txt\" read`: no-entry"},
		{"expect error but ok", host.P3, `
file "a"
task t:
    fd = open root "a" read
    expect error no-entry
`, "t.wsim:5: t: `fd = open root \"a\" read` then `expect error no-entry`: expected error no-entry, but the statement succeeded"},
		{"dead handle trap", host.P3, `
file "a"
task t:
    fd = open root "a" read
    drop fd
    drop fd
    expect trap dead-handle
`, "ok"},
		{"wrong trap kind", host.P3, `
file "a"
task t:
    fd = open root "a" read
    drop fd
    drop fd
    expect trap busy-end
`, "expected a busy-end trap, got a dead-handle trap"},
		{"broken expectation", host.P3, `
file "a" "x"
task t:
    expect file "a" == "y"
`, `t.wsim:4: t: ` + "`" + `expect file "a" == "y"` + "`" + `: file "a" holds "x", want "y"`},
		{"append and rename", host.P3, `
file "log" "1"
task t:
    fd = open root "log" write
    r, w = stream
    f = append-via-stream fd r
    write w "23"
    drop w
    x = await f
    expect x ok
    drop f fd
    rename root "log" "log.old"
    expect file "log.old" == "123"
    expect file "log" missing
    mkdir root "d"
    rmdir root "d"
    unlink root "log.old"
    expect file "log.old" missing
`, "ok"},
		{"trylock conflict", host.P3, `
file "f"
task t:
    a = open root "f" read
    b = open root "f" read
    lock a exclusive
    r = trylock b shared
    expect r err would-block
    unlock a
    r2 = trylock b shared
    expect r2 ok
    expect lock "f" shared
    drop a b
    expect lock "f" free
`, "ok"},
		{"handles handed between tasks", host.P3, `
file "f" "data"
task opener:
    fd = open root "f" read
task reader:
    s, fut = read-via-stream fd
    c = read-all s
    expect c == "data"
    drop s fut fd
`, "ok"},
		{"start and cancel", host.P3, `
task t:
    r, w = stream
    start-write w "abc"
    c = cancel-write w
    expect c cancelled 0
    start-read r 2
    start-write w "xyz"
    c2 = finish-read r
    expect c2 == "xy"
    c3 = finish-write w
    expect c3 completed 2
    drop r
    c4 = write w "z"
    expect c4 dropped 0
    drop w
`, "ok"},
		{"drop busy end traps", host.P3, `
task t:
    r, w = stream
    start-write w "abc"
    drop w
    expect trap busy-end
`, "ok"}, // the trapped instance is torn down: its ends are cancelled and dropped
		{"read directory", host.P3, `
file "d/b"
file "d/a"
dir "d/c"
task t:
    d = open root "d" directory read
    s, f = read-directory d
    e = read-entries s
    expect e == "a\nb\nc"
    r = await f
    expect r ok
    drop s f d
`, "ok"},
		{"leak is a failure", host.P3, `
task t:
    r, w = stream
`, "leak in host: stream#"},
		{"deadlock on a variable", host.P3, `
task t:
    wait x
task u:
    join t
    x, y = stream
    drop x y
`, "deadlock"},
		{"pr870 p3", host.P3, pr870, "ok"},
		{"pr870 p3-async-write", host.P3AsyncWrite, pr870, "`drop fd`: trap in guest: drop: drop of a lent handle"},
		{"sleep and yield", host.P3, `
task t:
    sleep 10ms
    yield
`, "ok"},
		{"ports", host.P3, `
task t:
    s = tcp-socket
    bind s 127.0.0.1:7000
    l = listen s
    expect port tcp 127.0.0.1:7000 bound
    a = local-address s
    expect a == "127.0.0.1:7000"
    s2 = tcp-socket
    bind s2 127.0.0.1:7000
    expect error address-in-use
    drop s s2 l
    expect port tcp 127.0.0.1:7000 free
    c = tcp-socket
    connect c 127.0.0.1:7000
    expect error connection-refused
    drop c
    names = resolve "localhost"
    expect names == "127.0.0.1 ::1"
`, "ok"},
		{"stdout", host.P3, `
task t:
    r, w = stream
    f = write-stdout r
    write w "hi\n"
    drop w
    x = await f
    expect x ok
    drop f
    expect stdout == "hi\n"
`, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, o := range runScript(t, tt.src, tt.variant, 20) {
				if tt.want == "ok" && o != "ok" || tt.want != "ok" && !strings.Contains(o, tt.want) {
					t.Fatalf("seed %d: outcome\n  %s\nwant %s", i, o, tt.want)
				}
			}
		})
	}
}

const pr870 = `
task t:
    fd = open root "f" create write
    r, w = stream
    f = write-via-stream fd r
    drop fd
    write w "x"
    drop w
    x = await f
    expect x ok
    drop f
`

func TestStepErrorFields(t *testing.T) {
	s, err := Parse("t.wsim", []byte("task t:\n    yield\n    fd = open root \"nope\" read\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, _, _ := sim.RunOnce(sim.Config{Seed: 1}, s.Scenario(Options{}))
	var se *StepError
	if !errors.As(res.Tasks[0].Err, &se) {
		t.Fatalf("task error %v is not a StepError", res.Tasks[0].Err)
	}
	if se.Where() != "t.wsim:3" || se.Kind != "error" || se.Task != "t" {
		t.Fatalf("step error %+v", se)
	}
}

func shipped(t testing.TB) []string {
	files, err := filepath.Glob("../../testdata/scenarios/*.wsim")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped scenarios: %v", err)
	}
	return files
}

func TestFormatRoundTrip(t *testing.T) {
	for _, f := range shipped(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(f, src)
		if err != nil {
			t.Fatal(err)
		}
		out := s.Format()
		s2, err := Parse(f, out)
		if err != nil {
			t.Fatalf("%s: the formatted script does not parse: %v\n%s", f, err, out)
		}
		if !bytes.Equal(s2.Format(), out) {
			t.Fatalf("%s: formatting is not stable:\n%s\n---\n%s", f, out, s2.Format())
		}
	}
}

// TestShippedScenarios explores every shipped scenario: all pass in every
// schedule tried except the planted bug, which some schedule breaks.
func TestShippedScenarios(t *testing.T) {
	for _, f := range shipped(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, _ := os.ReadFile(f)
			s, err := Parse(f, src)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 1, Runs: 300, Workers: 1}, s.Scenario(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			bug := strings.Contains(f, "planted-bug")
			if bug != (len(rep.Failures) > 0) {
				t.Fatalf("planted bug %v, failures %d, outcomes %v", bug, len(rep.Failures), rep.OutcomeList())
			}
		})
	}
}

func TestDeterministicTrace(t *testing.T) {
	for _, f := range shipped(t) {
		src, _ := os.ReadFile(f)
		s, err := Parse(f, src)
		if err != nil {
			t.Fatal(err)
		}
		var prev []byte
		for range 2 {
			_, tr, err := sim.RunOnce(sim.Config{Seed: 7, Trace: true, Config: src}, s.Scenario(Options{}))
			if err != nil {
				t.Fatal(err)
			}
			b := tr.Bytes()
			if prev != nil && !bytes.Equal(prev, b) {
				t.Fatalf("%s: two runs with seed 7 gave different traces", f)
			}
			prev = b
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range shipped(f) {
		src, _ := os.ReadFile(name)
		f.Add(src)
	}
	f.Add([]byte("task a:\n    x, y = stream\n    expect x == \"\\x00\"\n"))
	f.Add([]byte("task a in b:\n\tfd = open root `raw` create\n\texpect error exist\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.wsim", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *scenario.Error: %v", err, err)
			}
			return
		}
		out := s.Format()
		s2, err := Parse("fuzz.wsim", out)
		if err != nil {
			t.Fatalf("formatted script does not parse: %v\n%s", err, out)
		}
		if out2 := s2.Format(); !bytes.Equal(out, out2) {
			t.Fatalf("format not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

// TestVerbTable: every verb runs something and is in the language's
// reference (the package doc), and its result types are ones the checker
// knows.
func TestVerbTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	// The words of the doc's indented (code) lines.
	code := regexp.MustCompile(`(?m)^//\t.*$`)
	word := regexp.MustCompile(`[a-z][a-z-]*`)
	inDoc := map[string]bool{}
	for _, l := range code.FindAllString(string(doc), -1) {
		for _, w := range word.FindAllString(l, -1) {
			inDoc[w] = true
		}
	}
	for name, vb := range verbs {
		if vb.exec == nil {
			t.Errorf("%s has no exec", name)
		}
		if !inDoc[name] {
			t.Errorf("%s is not in the package doc", name)
		}
		for _, r := range vb.res {
			if vtype(r).String() == "a value" {
				t.Errorf("%s returns an unknown type %q", name, r)
			}
		}
	}
}
