package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

const scenarios = "../../../../testdata/scenarios/"

// wasisim runs the command in-process.
func wasisim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func wantCode(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	code, o, e := wasisim(t, args...)
	if code != want {
		t.Fatalf("wasisim %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o, e)
	}
	return o, e
}

func TestHelp(t *testing.T) {
	o, _ := wantCode(t, 0, "help")
	if !strings.Contains(o, "explore FILE") {
		t.Fatalf("help: %s", o)
	}
	for _, cmd := range []string{"run", "explore", "replay", "shrink", "show", "demo"} {
		o, _ := wantCode(t, 0, cmd, "--help")
		if !strings.Contains(o, "Usage: wasisim "+cmd) || !strings.Contains(o, "Examples:") {
			t.Fatalf("%s --help:\n%s", cmd, o)
		}
	}
}

func TestRunShipped(t *testing.T) {
	files, _ := filepath.Glob(scenarios + "*.wsim")
	if len(files) < 7 {
		t.Fatalf("only %d shipped scenarios", len(files))
	}
	for _, f := range files {
		if strings.Contains(f, "planted-bug") {
			continue
		}
		o, _ := wantCode(t, 0, "run", f)
		if !strings.Contains(o, "ok: ") {
			t.Fatalf("run %s:\n%s", f, o)
		}
	}
}

func TestRunJSON(t *testing.T) {
	o, _ := wantCode(t, 0, "run", scenarios+"lock-release.wsim", "--json", "--seed", "3")
	var r runJSON
	if err := json.Unmarshal([]byte(o), &r); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, o)
	}
	if !r.OK || r.Outcome != "ok" || r.Seed != 3 || len(r.Tasks) < 3 || r.TraceHash == "" || r.Variant != "p3" {
		t.Fatalf("unexpected result %+v", r)
	}
}

func TestPR870(t *testing.T) {
	f := scenarios + "pr870.wsim"
	wantCode(t, 0, "run", f, "--variant", "p3")
	o, _ := wantCode(t, 1, "run", f, "--variant", "p3-async-write")
	if !strings.Contains(o, "pr870.wsim:15: guest: `drop log`: trap in guest: drop: drop of a lent handle") {
		t.Fatalf("p3-async-write run:\n%s", o)
	}
	// explore agrees in every schedule
	wantCode(t, 0, "explore", f, "--variant", "p3", "--runs", "200", "--out", t.TempDir())
	wantCode(t, 1, "explore", f, "--variant", "p3-async-write", "--runs", "200", "--out", t.TempDir())
}

func TestDeterministicRunTrace(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.trace"), filepath.Join(dir, "b.trace")
	for _, out := range []string{a, b} {
		wasisim(t, "run", scenarios+"conn-outlives-sockets.wsim", "--seed", "99", "--trace", out)
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ba) == 0 || !bytes.Equal(ba, bb) {
		t.Fatalf("two runs with seed 99 wrote different traces (%d and %d bytes)", len(ba), len(bb))
	}
}

var replayRE = regexp.MustCompile(`reproduce with: wasisim replay (\S+)`)

// TestExploreReplayShrinkShow is the main loop: explore finds the planted
// bug and writes its trace; replay reproduces it; shrink minimises it and
// the minimal trace replays too; show renders both.
func TestExploreReplayShrinkShow(t *testing.T) {
	dir := t.TempDir()
	for _, strategy := range []string{"random", "pct", "dfs", "round-robin"} {
		t.Run(strategy, func(t *testing.T) {
			args := []string{"explore", scenarios + "planted-bug.wsim", "--strategy", strategy, "--runs", "3000", "--out", dir, "--workers", "1"}
			code, o, e := wasisim(t, args...)
			if strategy == "round-robin" {
				// One fixed schedule: it may or may not hit the bug.
				if code != 0 && code != 1 {
					t.Fatalf("exit %d: %s", code, e)
				}
				return
			}
			if code != 1 {
				t.Fatalf("explore exit %d, want 1\n%s%s", code, o, e)
			}
			m := replayRE.FindStringSubmatch(o)
			if m == nil || !strings.Contains(o, "planted-bug.wsim:24: checker") {
				t.Fatalf("explore output:\n%s", o)
			}
			trace := m[1]
			o, _ = wantCode(t, 0, "replay", trace)
			for _, want := range []string{"step  task", "drop-writable  stream#1", "reproduced:", "checker#2"} {
				if !strings.Contains(o, want) {
					t.Fatalf("replay output lacks %q:\n%s", want, o)
				}
			}
			o, _ = wantCode(t, 0, "shrink", trace)
			if !strings.Contains(o, "removed ") || !strings.Contains(o, "minimal trace: ") {
				t.Fatalf("shrink output:\n%s", o)
			}
			min := strings.TrimSuffix(trace, ".trace") + ".min.trace"
			wantCode(t, 0, "replay", min, "--quiet")
			var sj shrinkJSON
			o, _ = wantCode(t, 0, "shrink", trace, "--json", "--out", filepath.Join(dir, "again.trace"))
			if err := json.Unmarshal([]byte(o), &sj); err != nil {
				t.Fatal(err)
			}
			if sj.NonZeroAfter > sj.NonZeroBefore || sj.ChoicesAfter > sj.ChoicesBefore || sj.Failure != scenarios+"planted-bug.wsim:24 expect" {
				t.Fatalf("shrink did not shrink: %+v", sj)
			}
			html := filepath.Join(dir, strategy+".html")
			wantCode(t, 0, "show", min, "--html", html)
			checkHTML(t, html, true)
		})
	}
}

// checkHTML checks the page is self-contained and its SVG well-formed.
func checkHTML(t *testing.T, path string, failing bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, "<svg"), strings.Index(s, "</svg>")
	if i < 0 || j < 0 {
		t.Fatal("no svg in the page")
	}
	d := xml.NewDecoder(strings.NewReader(s[i : j+len("</svg>")]))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v", err)
		}
	}
	for _, bad := range []string{"<script src", "<link ", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(s, "http://www.w3.org/2000/svg", ""), bad) {
			t.Fatalf("page is not self-contained: has %q", bad)
		}
	}
	if failing && (!strings.Contains(s, `class="fail"`) || !strings.Contains(s, "Failures")) {
		t.Fatal("the failing assertion is not marked")
	}
	for _, want := range []string{`class="copy"`, `class="drop"`, "stream#1", "future#"} {
		if !strings.Contains(s, want) {
			t.Fatalf("page lacks %s", want)
		}
	}
}

func TestShowReleases(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "ports.trace")
	wantCode(t, 0, "run", scenarios+"listener-dropped.wsim", "--trace", tr)
	html := filepath.Join(dir, "ports.html")
	wantCode(t, 0, "show", tr, "--html", html)
	checkHTML(t, html, false)
	b, _ := os.ReadFile(html)
	if !strings.Contains(string(b), `class="release"`) || !strings.Contains(string(b), ">port<") {
		t.Fatal("the port release is not marked")
	}
}

func TestReplayDivergence(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "run.trace")
	wantCode(t, 0, "run", scenarios+"drop-during-write.wsim", "--trace", tr)
	b, _ := os.ReadFile(tr)
	bad := strings.Replace(string(b), `"kind":"copy","obj":"stream#1","detail":"4"`, `"kind":"copy","obj":"stream#1","detail":"3"`, 1)
	if bad == string(b) {
		t.Fatal("no copy event to corrupt")
	}
	os.WriteFile(tr, []byte(bad), 0o644)
	o, _ := wantCode(t, 1, "replay", tr)
	if !strings.Contains(o, "DIVERGED: replay diverged at step") || !strings.Contains(o, "different event") {
		t.Fatalf("replay output:\n%s", o)
	}
	o, _ = wantCode(t, 1, "replay", tr, "--json")
	var rj replayJSON
	if err := json.Unmarshal([]byte(o), &rj); err != nil || rj.Reproduced || rj.Divergence == "" {
		t.Fatalf("replay JSON %v %+v", err, rj)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.trace")
	os.WriteFile(corrupt, []byte("{\"wasisim_trace\":1,\"seed\":1,\"run\":0,\"strategy\":\"random\",\"config_hash\":\"x\"}\n{\"step\":1,\"task\":1\n"), 0o644)
	truncated := filepath.Join(dir, "truncated.trace")
	os.WriteFile(truncated, []byte("{\"wasisim_trace\":1,\"seed\":1,\"run\":0,\"strategy\":\"random\",\"config_hash\":\"x\"}\n"), 0o644)
	malformed := filepath.Join(dir, "bad.wsim")
	os.WriteFile(malformed, []byte("variant p3\ntask a:\n    fd = open root\n"), 0o644)
	good := filepath.Join(dir, "good.trace")
	wantCode(t, 0, "run", scenarios+"pr870.wsim", "--trace", good)
	other := filepath.Join(dir, "other.wsim")
	os.WriteFile(other, []byte("task a:\n    yield\n"), 0o644)
	// A trace whose end is corrupt: replay reads the whole trace before
	// running it, so it says so before printing any event.
	goodBytes, _ := os.ReadFile(good)
	lines := bytes.Split(bytes.TrimSuffix(goodBytes, []byte("\n")), []byte("\n"))
	lines[len(lines)-2] = []byte(`{"step":`)
	badTail := filepath.Join(dir, "bad-tail.trace")
	os.WriteFile(badTail, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"run"}, "missing scenario FILE"},
		{[]string{"run", "a.wsim", "b.wsim"}, `unexpected argument "b.wsim"`},
		{[]string{"run", filepath.Join(dir, "missing.wsim")}, "cannot read scenario: open "},
		{[]string{"run", malformed}, "bad.wsim:3:19: expected a quoted string (path)"},
		{[]string{"run", scenarios + "pr870.wsim", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", scenarios + "pr870.wsim", "--variant", "p4"}, "unknown API variant"},
		{[]string{"run", scenarios + "pr870.wsim", "--seed", "x"}, `invalid value "x" for flag -seed`},
		{[]string{"explore", scenarios + "pr870.wsim", "--strategy", "magic"}, `unknown strategy "magic"`},
		{[]string{"explore", scenarios + "pr870.wsim", "--shard", "4/4"}, `bad --shard "4/4"`},
		{[]string{"explore", scenarios + "pr870.wsim", "--runs", "0"}, "give --runs N"},
		{[]string{"explore", scenarios + "pr870.wsim", "--strategy", "pct", "--depth", "0"}, "PCT depth"},
		{[]string{"replay", filepath.Join(dir, "missing.trace")}, "cannot read trace"},
		{[]string{"replay", corrupt}, "bad trace: " + corrupt + ": trace line 2: bad event"},
		{[]string{"replay", truncated}, "no end line: the trace is truncated"},
		{[]string{"replay", badTail}, fmt.Sprintf("bad trace: %s: trace line %d: bad event", badTail, len(lines)-1)},
		{[]string{"run", scenarios + "pr870.wsim", "--trace", filepath.Join(dir, "no", "such", "x.trace")}, "cannot write trace " + filepath.Join(dir, "no", "such", "x.trace") + ": no such file or directory"},
		{[]string{"replay", good, "--scenario", other}, "is not the one the trace was recorded from"},
		{[]string{"replay", good, "--scenario", filepath.Join(dir, "nope.wsim")}, "cannot read scenario"},
		{[]string{"shrink", good}, "does not fail: nothing to shrink"},
		{[]string{"shrink", corrupt}, "bad trace"},
		{[]string{"show", good}, "missing --html OUT"},
		{[]string{"show", corrupt, "--html", filepath.Join(dir, "x.html")}, "bad trace"},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, o, e := wasisim(t, tt.args...)
		if code != 2 {
			t.Errorf("wasisim %s: exit %d, want 2\n%s%s", strings.Join(tt.args, " "), code, o, e)
			continue
		}
		if !strings.Contains(e, tt.want) {
			t.Errorf("wasisim %s: stderr %q, want %q", strings.Join(tt.args, " "), e, tt.want)
		}
		if o != "" {
			t.Errorf("wasisim %s: printed %q before failing", strings.Join(tt.args, " "), o)
		}
		if strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "wasisim") {
			t.Errorf("wasisim %s: stderr is not one line: %q", strings.Join(tt.args, " "), e)
		}
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	o, _ := wantCode(t, 0, "demo", "--runs", "100", "--out", dir)
	for _, want := range []string{"== variant p3\n", "100 runs", "no failure found", "== variant p3-async-write", "drop of a lent handle", "reproduce with: wasisim replay "} {
		if !strings.Contains(o, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, o)
		}
	}
	// The demo's trace names the embedded scenario and replays.
	m := replayRE.FindStringSubmatch(o)
	if m == nil {
		t.Fatal("no replay command")
	}
	wantCode(t, 0, "replay", m[1], "--quiet")
	o, _ = wantCode(t, 0, "demo", "--runs", "20", "--out", dir, "--json")
	var dj demoJSON
	if err := json.Unmarshal([]byte(o), &dj); err != nil || dj.P3 == nil || dj.P3.Failure != nil || dj.P3AsyncWrite.Failure == nil {
		t.Fatalf("demo JSON %v:\n%s", err, o)
	}
}

func TestEmbeddedDemoIsShipped(t *testing.T) {
	a, _ := os.ReadFile(scenarios + "drop-during-write.wsim")
	b, _ := embedded.ReadFile("demo/drop-during-write.wsim")
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("demo/drop-during-write.wsim differs from testdata/scenarios/drop-during-write.wsim: copy it over")
	}
}

func TestExploreJSONAndShard(t *testing.T) {
	o, _ := wantCode(t, 0, "explore", scenarios+"lock-release.wsim", "--runs", "100", "--shard", "1/3", "--seed", "5", "--json")
	var ej exploreJSON
	if err := json.Unmarshal([]byte(o), &ej); err != nil {
		t.Fatal(err)
	}
	if ej.Runs != 100 || ej.Failure != nil || len(ej.Outcomes) != 1 || ej.Outcomes[0].Outcome != "ok" {
		t.Fatalf("%+v", ej)
	}
	o, _ = wantCode(t, 0, "explore", scenarios+"port-release.wsim", "--strategy", "dfs", "--runs", "0")
	if !strings.Contains(o, "every schedule explored") {
		t.Fatalf("dfs did not exhaust:\n%s", o)
	}
}

// TestChromiumRendersShow loads a show page in headless Chromium and takes
// a screenshot, when Chromium is installed (CI machines do not have it).
func TestChromiumRendersShow(t *testing.T) {
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	o, _ := wantCode(t, 1, "explore", scenarios+"planted-bug.wsim", "--out", dir, "--workers", "1")
	trace := replayRE.FindStringSubmatch(o)[1]
	page := filepath.Join(dir, "show.html")
	wantCode(t, 0, "show", trace, "--html", page)
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--screenshot="+shot, "--window-size=1600,900", "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil || len(b) < 1000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("no screenshot (%d bytes, %v)", len(b), err)
	}
	if keep := os.Getenv("WASISIM_SCREENSHOT"); keep != "" {
		os.WriteFile(keep, b, 0o644)
	}
}

// TestShippedTraces replays the traces in testdata/traces: traces recorded
// before must keep reproducing exactly.
func TestShippedTraces(t *testing.T) {
	files, _ := filepath.Glob("../../../../testdata/traces/*.trace")
	if len(files) == 0 {
		t.Fatal("no shipped traces")
	}
	for _, f := range files {
		tr, err := sim.ReadTraceFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code, o, e := wasisim(t, "replay", f, "--quiet", "--scenario", "../../../../"+tr.Header.Scenario)
		if code != 0 {
			t.Errorf("%s no longer replays (exit %d): %s%s\nif the change of events is deliberate, re-record it as testdata/traces/README.md says", f, code, o, e)
		}
	}
}

// exit3 is a minimal core module whose _start calls proc_exit(3).
var exit3 = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x08, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00,
	0x02, 0x24, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	0x09, 'p', 'r', 'o', 'c', '_', 'e', 'x', 'i', 't', 0x00, 0x00,
	0x03, 0x02, 0x01, 0x01,
	0x05, 0x03, 0x01, 0x00, 0x01,
	0x07, 0x13, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x01,
	0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x03, 0x10, 0x00, 0x0b,
}

func TestRunWasmModule(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "exit3.wasm")
	if err := os.WriteFile(mod, exit3, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"run", "--seed", "2", mod}, &out, &errb); code != 3 {
		t.Fatalf("exit code %d, want the guest's 3; stderr: %s", code, errb.String())
	}
	bad := filepath.Join(dir, "bad.wasm")
	os.WriteFile(bad, []byte("not wasm"), 0o644)
	errb.Reset()
	if code := Main([]string{"run", bad}, &out, &errb); code == 0 || errb.Len() == 0 {
		t.Fatalf("invalid module: exit %d, stderr %q", code, errb.String())
	}
}

func TestTraceCarriesItsScenario(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(scenarios + "pr870.wsim")
	if err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(dir, "gone.wsim")
	os.WriteFile(sc, src, 0o644)
	trace := filepath.Join(dir, "run.trace")
	var out, errb bytes.Buffer
	if code := Main([]string{"run", sc, "--variant", "p3-async-write", "--trace", trace}, &out, &errb); code != ExitFailure {
		t.Fatalf("run: exit %d: %s", code, errb.String())
	}
	os.Remove(sc) // the trace alone must be enough
	out.Reset()
	errb.Reset()
	if code := Main([]string{"replay", trace, "--quiet"}, &out, &errb); code != ExitOK {
		t.Fatalf("replay without the scenario file: exit %d: %s%s", code, out.String(), errb.String())
	}
}

// An endless scenario file (a device, a pipe that never ends) is refused
// once it is longer than a scenario may be, not read into memory.
func TestEndlessScenarioIsRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, e := wantCode(t, 2, "run", "/dev/zero")
	if !strings.Contains(e, "more than the 8388608 a scenario may have") {
		t.Fatalf("stderr %q", e)
	}
}
