//go:build ignore

// benchcomp times jco (transpile + Node) on the WASI 0.3 conformance
// components and prints the side-by-side table of scripts/benchcomp/run.
//
//	go run ./scripts/benchcomp/main.go jco [flags]   time jco; print benchmark lines
//	go run ./scripts/benchcomp/main.go report RAW    print the table of a raw file
//
// The jco subcommand writes Go benchmark lines (so benchstat reads them)
// and "# " comment lines saying what failed and why. Per passing
// component (the kind() rule of host/wasip3's conformance test):
//
//	BenchmarkJco/NAME/transpile   jco transpile, wall time of the process
//	BenchmarkJco/NAME/process     node jco-run.mjs, one run: wall time from
//	                              spawning Node to its exit (the core modules
//	                              compiled, instantiated, run to exit)
//	BenchmarkJco/NAME/inproc      runs 2..R of one Node process: the module
//	                              imported afresh and run (V8 keeps the
//	                              compiled core modules): a warm run
//
// A run whose exit code or stdout is not what the test expects is not a
// figure: it is reported as a comment. Under the Node found on PATH the
// same module is tried once more (and with --experimental-wasm-stack-switching)
// and its error reported, since WASI 0.3 needs JSPI.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchcomp jco [flags] | benchcomp report RAW")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "jco":
		jco(os.Args[2:])
	case "report":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: benchcomp report RAW")
			os.Exit(2)
		}
		report(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: benchcomp jco [flags] | benchcomp report RAW")
		os.Exit(2)
	}
}

// testCase is one conformance component and what its test expects.
type testCase struct {
	name, wasm string
	root       string
	args       []string
	env        []string // K=V
	stdin      []byte
	stdout     []string
	exitCode   int
}

func loadSuite(dir string) ([]*testCase, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no components in %s", dir)
	}
	var out []*testCase
	for _, p := range paths {
		c := &testCase{name: strings.TrimSuffix(filepath.Base(p), ".wasm"), wasm: p}
		switch {
		case strings.HasPrefix(c.name, "http-"):
			continue // wasisim provides no wasi:http
		case strings.HasPrefix(c.name, "sockets-udp-"), c.name == "sockets-echo":
			// The simulation runs these (sockets-echo with a peer task of its
			// own); this side does not give jco their UDP or the runner's
			// network peer, so they are timed on wasisim only.
			continue
		}
		var spec struct {
			Root       string `json:"root"`
			Operations []struct {
				Type     string            `json:"type"`
				ID       string            `json:"id"`
				Payload  string            `json:"payload"`
				Args     []string          `json:"args"`
				Env      map[string]string `json:"env"`
				ExitCode *int              `json:"exit_code"`
			} `json:"operations"`
		}
		if b, err := os.ReadFile(strings.TrimSuffix(p, ".wasm") + ".json"); err == nil {
			if err := json.Unmarshal(b, &spec); err != nil {
				return nil, fmt.Errorf("%s.json: %v", c.name, err)
			}
		}
		if spec.Root != "" {
			c.root = filepath.Join(dir, spec.Root)
		}
		for _, op := range spec.Operations {
			switch op.Type {
			case "run":
				c.args = op.Args
				for k, v := range op.Env {
					c.env = append(c.env, k+"="+v)
				}
				sort.Strings(c.env)
			case "read":
				if op.ID == "stdout" {
					c.stdout = append(c.stdout, op.Payload)
				}
			case "write":
				if op.ID == "stdin" {
					c.stdin = append(c.stdin, op.Payload...)
				}
			case "wait":
				if op.ExitCode != nil {
					c.exitCode = *op.ExitCode
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

type runTiming struct {
	Exit     int     `json:"exit"`
	ImportMs float64 `json:"import_ms"`
	RunMs    float64 `json:"run_ms"`
}

func jco(argv []string) {
	fs := flag.NewFlagSet("jco", flag.ExitOnError)
	suite := fs.String("suite", "testdata/wasi-testsuite-p3/wasm32-wasip3", "directory of the conformance components")
	jcoBin := fs.String("jco", "jco", "the jco command (its WASI shims are found beside it)")
	node := fs.String("node", "", "a Node with JSPI (WebAssembly.Suspending); empty: only the PATH Node is tried")
	work := fs.String("work", filepath.Join(os.TempDir(), "wasisim-benchcomp"), "directory for the transpiled modules")
	count := fs.Int("count", 5, "samples of each figure")
	tcount := fs.Int("transpile-count", 3, "samples of each transpile")
	runs := fs.Int("runs", 0, "runs in one Node process for the in-process figure (0: count+1)")
	only := fs.String("run", "", "regexp of the components to time")
	timeout := fs.Duration("timeout", 60*time.Second, "bound on one Node process")
	runnerFlag := fs.String("runner", "scripts/benchcomp/jco-run.mjs", "the Node runner")
	fs.Parse(argv)
	if *runs == 0 {
		*runs = *count + 1
	}
	runner, err := filepath.Abs(*runnerFlag)
	if err != nil {
		fatal(err)
	}
	cases, err := loadSuite(*suite)
	if err != nil {
		fatal(err)
	}
	if err := linkShims(*jcoBin, *work); err != nil {
		fatal(err)
	}
	var re *regexp.Regexp
	if *only != "" {
		re = regexp.MustCompile(*only)
	}
	// benchstat groups the jco figures under a package of their own.
	fmt.Printf("goos: linux\ngoarch: amd64\npkg: jco\n")
	pathNode := "node"
	if v, err := exec.Command(pathNode, "--version").Output(); err == nil {
		fmt.Printf("# PATH node %s", v)
	}
	if *node != "" {
		v, err := exec.Command(*node, "--version").Output()
		if err != nil {
			fatal(fmt.Errorf("-node %s: %v", *node, err))
		}
		fmt.Printf("# JSPI node %s %s", *node, v)
	}
	for _, c := range cases {
		if re != nil && !re.MatchString(c.name) {
			continue
		}
		out := filepath.Join(*work, c.name)
		mod := filepath.Join(out, c.name+".js")
		for i := 0; i < *tcount; i++ {
			os.RemoveAll(out)
			t0 := time.Now()
			cmd := exec.Command(*jcoBin, "transpile", c.wasm, "-o", out, "-q", "--no-typescript")
			if b, err := cmd.CombinedOutput(); err != nil {
				fmt.Printf("# jco %s transpile failed: %v: %s\n", c.name, err, firstLine(b))
				break
			}
			fmt.Printf("BenchmarkJco/%s/transpile 1 %d ns/op\n", c.name, time.Since(t0).Nanoseconds())
		}
		if _, err := os.Stat(mod); err != nil {
			continue
		}
		stdinFile := ""
		if len(c.stdin) > 0 {
			stdinFile = filepath.Join(out, "stdin")
			os.WriteFile(stdinFile, c.stdin, 0o644)
		}
		// The Node on PATH (20 here) has no JSPI: say what it does.
		for _, flags := range [][]string{nil, {"--experimental-wasm-stack-switching"}} {
			r := nodeRun(pathNode, flags, runner, c, mod, stdinFile, 1, *timeout)
			what := "ran"
			if r.err != nil || !r.ok(c) {
				what = r.why(c)
			}
			fmt.Printf("# node-path %s %s: %s\n", c.name, strings.Join(flags, " "), what)
		}
		if *node == "" {
			continue
		}
		for i := 0; i < *count; i++ {
			r := nodeRun(*node, nil, runner, c, mod, stdinFile, 1, *timeout)
			if r.err != nil || !r.ok(c) {
				fmt.Printf("# jco %s process: %s\n", c.name, r.why(c))
				break
			}
			fmt.Printf("BenchmarkJco/%s/process 1 %d ns/op %.0f import-ns/op %.0f run-ns/op\n", c.name, r.wall.Nanoseconds(), r.times[0].ImportMs*1e6, r.times[0].RunMs*1e6)
		}
		r := nodeRun(*node, nil, runner, c, mod, stdinFile, *runs, *timeout)
		if r.err != nil || !r.ok(c) {
			fmt.Printf("# jco %s inproc: %s\n", c.name, r.why(c))
			continue
		}
		for _, t := range r.times[1:] {
			fmt.Printf("BenchmarkJco/%s/inproc 1 %.0f ns/op %.0f import-ns/op %.0f run-ns/op\n", c.name, (t.ImportMs+t.RunMs)*1e6, t.ImportMs*1e6, t.RunMs*1e6)
		}
	}
}

// linkShims makes work a package root where the transpiled modules find
// jco's WASI shims.
func linkShims(jcoBin, work string) error {
	path, err := exec.LookPath(jcoBin)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	// .../node_modules/@bytecodealliance/jco/dist/jco.js
	ba := filepath.Dir(filepath.Dir(filepath.Dir(real)))
	dst := filepath.Join(work, "node_modules", "@bytecodealliance")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, s := range []string{"preview2-shim", "preview3-shim"} {
		if _, err := os.Stat(filepath.Join(ba, s, "package.json")); err != nil {
			return fmt.Errorf("jco's %s not found beside %s", s, real)
		}
		os.Remove(filepath.Join(dst, s))
		if err := os.Symlink(filepath.Join(ba, s), filepath.Join(dst, s)); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(work, "package.json"), []byte(`{"type":"module"}`), 0o644)
}

type nodeResult struct {
	wall           time.Duration
	code           int
	stdout, stderr []byte
	times          []runTiming
	err            error
}

func nodeRun(node string, flags []string, runner string, c *testCase, mod, stdinFile string, runs int, timeout time.Duration) *nodeResult {
	tf := mod + ".timings.json"
	os.Remove(tf)
	args := append(append([]string{}, flags...), runner, "--module", mod, "--runs", strconv.Itoa(runs), "--timings", tf)
	if c.root != "" {
		args = append(args, "--preopen", c.root)
	}
	for _, e := range c.env {
		args = append(args, "--env", e)
	}
	if stdinFile != "" {
		args = append(args, "--stdin", stdinFile)
	}
	args = append(args, "--")
	args = append(args, c.args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	t0 := time.Now()
	err := cmd.Run()
	r := &nodeResult{wall: time.Since(t0), stdout: so.Bytes(), stderr: se.Bytes()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("no exit within %v", timeout)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err = err
	}
	if b, err := os.ReadFile(tf); err == nil {
		json.Unmarshal(b, &r.times)
	}
	if r.err == nil && len(r.times) != runs {
		r.err = fmt.Errorf("exit %d without timings", r.code)
	}
	return r
}

// ok says whether every run ended as the test expects.
func (r *nodeResult) ok(c *testCase) bool {
	for _, t := range r.times {
		if t.Exit != c.exitCode {
			return false
		}
	}
	out := r.stdout
	for _, p := range c.stdout {
		i := bytes.Index(out, []byte(p))
		if i < 0 {
			return false
		}
		out = out[i+len(p):]
	}
	return true
}

func (r *nodeResult) why(c *testCase) string {
	if r.err != nil {
		return fmt.Sprintf("%v: %s", r.err, errLine(r.stderr))
	}
	for _, t := range r.times {
		if t.Exit != c.exitCode {
			return fmt.Sprintf("exit %d, want %d: %s", t.Exit, c.exitCode, errLine(r.stderr))
		}
	}
	return fmt.Sprintf("stdout %q lacks %q", r.stdout, c.stdout)
}

// errLine is the most telling line of Node's stderr: an Error's message
// or a panic's, else the first line.
func errLine(b []byte) string {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "panicked at") && i+1 < len(lines) {
			return l + " " + strings.TrimSpace(lines[i+1])
		}
		if m := regexp.MustCompile(`^(jco-run: )?[A-Za-z]*Error( \[\w+\])?: .*`).FindString(l); m != "" {
			return m
		}
	}
	return firstLine(b)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchcomp:", err)
	os.Exit(1)
}

// The report.

var samples = map[string][]float64{} // "name unit" -> values

func med(name, unit string) float64 {
	v := append([]float64(nil), samples[name+" "+unit]...)
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func dur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "—"
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", a/b)
}

func report(raw string) {
	f, err := os.Open(raw)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	suffix := regexp.MustCompile(`-\d+$`)
	var names []string
	seen := map[string]bool{}
	var notes, pathNode []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# node-path ") {
			pathNode = append(pathNode, strings.TrimPrefix(line, "# node-path "))
			continue
		}
		if strings.HasPrefix(line, "# jco ") || strings.HasPrefix(line, "# load") || strings.HasPrefix(line, "# JSPI") || strings.HasPrefix(line, "# PATH") {
			notes = append(notes, strings.TrimPrefix(line, "# "))
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 4 || !strings.HasPrefix(fs[0], "Benchmark") {
			continue
		}
		name := suffix.ReplaceAllString(strings.TrimPrefix(fs[0], "Benchmark"), "")
		for i := 2; i+1 < len(fs); i += 2 {
			if v, err := strconv.ParseFloat(fs[i], 64); err == nil {
				samples[name+" "+fs[i+1]] = append(samples[name+" "+fs[i+1]], v)
			}
		}
		if c, ok := strings.CutPrefix(name, "ComponentRun/"); ok {
			c = c[:strings.LastIndex(c, "/")]
			if !seen[c] {
				seen[c] = true
				names = append(names, c)
			}
		}
	}
	sort.Strings(names)

	fmt.Println("## End to end, per conformance component (medians)")
	fmt.Println()
	fmt.Println("wasisim: compile + instantiate + run to exit in a fresh world (warm: one Engine; cache: new Engine on a warm")
	fmt.Println("wazero cache; cold: new Engine and empty cache). jco: in-process = a fresh import + run in a Node that already")
	fmt.Println("ran it; process = spawn Node → exit, already transpiled; cold = transpile + process.")
	fmt.Println()
	fmt.Println("| component | wasisim warm | wasisim cache | wasisim cold | jco in-process | jco process | jco transpile | jco cold | in-process ÷ warm | process ÷ cache | cold ÷ cold |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	var gw, gp, gc []float64
	for _, n := range names {
		w := med("ComponentRun/"+n+"/warm", "ns/op")
		ca := med("ComponentRun/"+n+"/cache", "ns/op")
		co := med("ComponentRun/"+n+"/cold", "ns/op")
		ji := med("Jco/"+n+"/inproc", "ns/op")
		jp := med("Jco/"+n+"/process", "ns/op")
		jt := med("Jco/"+n+"/transpile", "ns/op")
		jc := jt + jp
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, dur(w), dur(ca), dur(co), dur(ji), dur(jp), dur(jt), dur(jc),
			ratio(ji, w), ratio(jp, ca), ratio(jc, co))
		if !math.IsNaN(ji / w) {
			gw = append(gw, ji/w)
		}
		if !math.IsNaN(jp / ca) {
			gp = append(gp, jp/ca)
		}
		if !math.IsNaN(jc / co) {
			gc = append(gc, jc/co)
		}
	}
	fmt.Printf("| **geometric mean** (%d/%d/%d components) | | | | | | | | **%s** | **%s** | **%s** |\n", len(gw), len(gp), len(gc), gmean(gw), gmean(gp), gmean(gc))
	fmt.Println()
	fmt.Println("Split of the wasisim figures (Engine.Compile vs set-up + instantiate + run), medians:")
	fmt.Println()
	fmt.Println("| component | warm compile | warm run | cold compile | cold run |")
	fmt.Println("|---|---|---|---|---|")
	for _, n := range names {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", n,
			dur(med("ComponentRun/"+n+"/warm", "compile-ns/op")), dur(med("ComponentRun/"+n+"/warm", "run-ns/op")),
			dur(med("ComponentRun/"+n+"/cold", "compile-ns/op")), dur(med("ComponentRun/"+n+"/cold", "run-ns/op")))
	}
	fmt.Println()

	fmt.Println("## Exploration (sim.Explore, random, 1 worker; goal ≥ 200 schedules/s/core)")
	fmt.Println()
	fmt.Println("| component | schedules/s/core | µs/schedule | world set-up | + instantiate | + run (whole schedule) | holds |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, n := range []string{"filesystem-io", "filesystem-read-directory"} {
		s := med("Explore/"+n, "schedules/s")
		holds := "no"
		if s >= 200 {
			holds = "yes"
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %s |\n", n, s, dur(med("Explore/"+n, "ns/op")),
			dur(med("SchedulePhases/"+n+"/world", "ns/op")), dur(med("SchedulePhases/"+n+"/instantiate", "ns/op")),
			dur(med("SchedulePhases/"+n+"/run", "ns/op")), holds)
	}
	fmt.Println()

	fmt.Println("## One host call")
	fmt.Println()
	fmt.Println("| call | ns/call | B/call | allocs/call |")
	fmt.Println("|---|---|---|---|")
	for _, n := range []string{"lowered/nop", "lowered/get-type", "lowered/get-type-async", "go/get-type", "go/yield"} {
		k := "HostCall/" + n
		fmt.Printf("| %s | %.0f | %.0f | %.0f |\n", n, med(k, "ns/op"), med(k, "B/op"), med(k, "allocs/op"))
	}
	fmt.Printf("\nlowered get-type ÷ Go get-type: %s (async lowering: %s)\n\n",
		ratio(med("HostCall/lowered/get-type", "ns/op"), med("HostCall/go/get-type", "ns/op")),
		ratio(med("HostCall/lowered/get-type-async", "ns/op"), med("HostCall/go/get-type", "ns/op")))

	if len(pathNode) > 0 {
		fmt.Println("## The Node on PATH (no JSPI)")
		fmt.Println()
		byWhat := map[string][]string{}
		for _, l := range pathNode {
			name, what, _ := strings.Cut(l, ": ")
			byWhat[what] = append(byWhat[what], name)
		}
		var whats []string
		for w := range byWhat {
			whats = append(whats, w)
		}
		sort.Strings(whats)
		for _, w := range whats {
			fmt.Printf("* %d runs: %s\n", len(byWhat[w]), w)
		}
		fmt.Println()
	}
	if len(notes) > 0 {
		fmt.Println("## Notes")
		fmt.Println()
		for _, n := range notes {
			fmt.Println("* " + n)
		}
	}
}

func gmean(v []float64) string {
	if len(v) == 0 {
		return "—"
	}
	s := 0.0
	for _, x := range v {
		s += math.Log(x)
	}
	return fmt.Sprintf("%.1f×", math.Exp(s/float64(len(v))))
}
