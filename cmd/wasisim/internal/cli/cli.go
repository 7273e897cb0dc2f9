// Package cli is the wasisim command: run, explore, replay, shrink, show
// and demo over .wsim scenarios (package host/scenario) and wasm binaries
// (WASI 0.3 components and preview-1 modules, package wasmrun). Main is the whole
// command with its streams, so tests run it in-process.
package cli

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/scenario"
	"github.com/wasisim/wasisim/sim"
)

// Exit codes.
const (
	ExitOK      = 0 // the command did what was asked; a run passed
	ExitFailure = 1 // a failure found, an assertion broken, a replay diverged
	ExitUsage   = 2 // bad usage or bad input (flags, files, traces, scenarios)
)

// embedded holds the demo scenario; it is a copy of
// testdata/scenarios/drop-during-write.wsim (a test keeps them equal).
//
//go:embed demo/drop-during-write.wsim
var embedded embed.FS

// embeddedPrefix names an embedded scenario in trace headers.
const embeddedPrefix = "embedded:"

const topUsage = `wasisim simulates WASI 0.3 files and sockets on a deterministic scheduler.

Usage:
  wasisim <command> [arguments] [flags]

Commands:
  run FILE        run a .wsim scenario once (one schedule, from a seed), or a
                  wasm binary — a WASI 0.3 component or a preview-1 module,
                  told apart by its first bytes, not its name:
                  run [--dir H::G] [--env K=V] [--trace F] X.wasm [ARGS]
  explore FILE    run it under many schedules and report failures (a binary:
                  every schedule must show the exit code and output of the first)
  replay TRACE    re-run a trace strictly and print its event log
  shrink TRACE    minimise a failing trace's schedule
  show TRACE      render a trace as an HTML/SVG timeline
  merge REPORT... combine the reports of explore's shards (--shard i/n --report F)
  demo            explore the embedded drop-during-write scenario (the default)
  help            this text

Every command takes --help. Exit codes: 0 ok, 1 failure found / assertion
broken / divergence, 2 bad usage or bad input, 130 interrupted (SIGINT or
SIGTERM: the command stops at the next run boundary, reports what ran and
keeps the traces found; a second signal quits at once). A wasm run exits
with the guest's code, 124 at a compute limit, 134 for a trap (see
"wasisim run --help"). The scenario language is documented in
"go doc github.com/wasisim/wasisim/host/scenario".
`

// Main runs the wasisim command with args (without the program name) and
// returns the exit code. A wasm guest reads the process's stdin; SIGINT
// and SIGTERM stop the command as the usage says.
func Main(args []string, stdout, stderr io.Writer) int {
	return mainWith(args, os.Stdin, stdout, stderr, notifySignals, os.Exit)
}

// mainWith is Main with the process's stdin, signals and exit injected.
func mainWith(args []string, stdin io.Reader, stdout, stderr io.Writer, signals func() (<-chan os.Signal, func()), exit func(int)) int {
	if len(args) == 0 {
		args = []string{"demo"}
	}
	cmd, rest := args[0], args[1:]
	c := &command{name: cmd, stdin: stdin, stdout: stdout, stderr: stderr, signals: signals, exitNow: exit}
	switch cmd {
	case "run":
		return c.exit(c.run(rest))
	case "explore":
		return c.exit(c.explore(rest))
	case "replay":
		return c.exit(c.replay(rest))
	case "shrink":
		return c.exit(c.shrink(rest))
	case "show":
		return c.exit(c.show(rest))
	case "demo":
		return c.exit(c.demo(rest))
	case "merge":
		return c.exit(c.merge(rest))
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, topUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "wasisim: unknown command %q: use run, explore, replay, shrink, show, merge or demo (wasisim help)\n", cmd)
	return ExitUsage
}

type command struct {
	name           string
	stdin          io.Reader
	stdout, stderr io.Writer
	// signals subscribes to SIGINT and SIGTERM; exitNow ends the process
	// (a second signal). Tests inject both.
	signals func() (<-chan os.Signal, func())
	exitNow func(int)
	// ctx is cancelled by the first signal (see interruptible).
	ctx context.Context
	// code, if set, is the exit code of a command that reported its own
	// ending (a wasm run exits with its guest's code).
	code *int
	// help prints the command's --help text.
	help func()
}

// Errors a command returns: usage errors exit 2, failures exit 1 (the
// command already printed its report), anything else is bad input (2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type failed struct{}

func (failed) Error() string { return "failed" }

var errFailed error = failed{}

// errHelp means --help was printed.
var errHelp = errors.New("help")

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func (c *command) exit(err error) int {
	switch {
	case err == errInterrupted:
		return ExitInterrupted
	case (err == nil || err == errFailed) && c.code != nil:
		return *c.code
	case err == nil || err == errHelp:
		return ExitOK
	case err == errFailed:
		return ExitFailure
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(c.stderr, "wasisim %s: %s\n", c.name, msg)
	return ExitUsage
}

// flags makes a flag set for a command. Its --help prints the usage, the
// flags and the examples once, to stdout (parse does); a bad flag is one
// line on stderr (exit), never the usage.
func (c *command) flags(usage, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet("wasisim "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error
	c.help = func() {
		fmt.Fprintf(c.stdout, "Usage: %s\n\nFlags:\n", usage)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprintf(c.stdout, "\nExamples:\n%s", examples)
	}
	return fs
}

// parse parses flags that may come before or after the positional
// arguments, and checks the number of positional arguments.
func (c *command) parse(fs *flag.FlagSet, args []string, npos int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help()
				return nil, errHelp
			}
			return nil, usagef("%v (see wasisim %s --help)", err, c.name)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != npos {
		if len(pos) < npos {
			return nil, usagef("missing %s (see wasisim %s --help)", what, c.name)
		}
		return nil, usagef("unexpected argument %q: give one %s (see wasisim %s --help)", pos[npos], what, c.name)
	}
	return pos, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// loadScript reads and parses a scenario file (or an embedded one).
func loadScript(path string) (*scenario.Script, error) { return loadScriptAs(path, path) }

// loadScriptAs reads the scenario at path and parses it under name, the
// name its errors (and so its traces' events) carry.
func loadScriptAs(path, name string) (*scenario.Script, error) {
	var src []byte
	var err error
	if name, ok := strings.CutPrefix(path, embeddedPrefix); ok {
		src, err = embedded.ReadFile("demo/" + name)
		if err != nil {
			return nil, fmt.Errorf("no embedded scenario %q", name)
		}
	} else {
		src, err = readAtMost(path, scenario.MaxSource+1)
		if err != nil {
			return nil, fmt.Errorf("cannot read scenario: %w", err)
		}
	}
	return scenario.Parse(name, src)
}

// readAtMost reads a file's first n bytes: enough for a parser to refuse
// a file that is too large, without reading all of it (or waiting forever
// on a named pipe that never ends).
func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// withVariant returns the script to run with the variant flag applied.
func withVariant(s *scenario.Script, v string) (*scenario.Script, error) {
	if v == "" {
		return s, nil
	}
	vv, err := host.ParseVariant(v)
	if err != nil {
		return nil, &usageError{err.Error() + ": use --variant p3 or --variant p3-async-write"}
	}
	c := *s
	c.Variant, c.VariantSet = vv, true
	return &c, nil
}

// simConfig is the part of a world's configuration that identifies the
// scenario in the trace header: replay and shrink find the script again
// from Scenario and check it against ConfigHash.
// The script's source is embedded in the header, so a trace replays even
// where the file is gone.
func simConfig(path string, s *scenario.Script) sim.Config {
	return sim.Config{Variant: s.Variant.String(), Scenario: path, Config: s.Source, EmbedConfig: true, MaxSteps: s.MaxSteps}
}

// scriptFor finds the scenario a trace with header h was recorded from
// (scenarioFlag overrides the path in the header) and the path it was
// read from.
func scriptFor(h sim.Header, scenarioFlag string) (*scenario.Script, string, error) {
	sp := scenarioFlag
	if sp == "" {
		sp = h.Scenario
		if sp == "" {
			return nil, "", errors.New("the trace names no scenario: pass --scenario FILE")
		}
	}
	// Parse under the recorded name: statement errors in the events name
	// the scenario file as it was when the trace was recorded.
	name := h.Scenario
	if name == "" {
		name = sp
	}
	var s *scenario.Script
	var err error
	if scenarioFlag == "" && h.Config != "" {
		// Self-contained: the trace carries the script it was recorded from.
		s, err = scenario.Parse(name, []byte(h.Config))
		if err != nil {
			return nil, "", fmt.Errorf("bad trace: the scenario it carries does not parse: %w", err)
		}
	} else {
		s, err = loadScriptAs(sp, name)
	}
	if err != nil {
		if scenarioFlag == "" {
			return nil, "", fmt.Errorf("%w (the trace was recorded from %s; pass --scenario FILE if it moved)", err, sp)
		}
		return nil, "", err
	}
	if got := sim.ConfigHash(s.Source); got != h.ConfigHash {
		return nil, "", fmt.Errorf("scenario %s (hash %s) is not the one the trace was recorded from (hash %s): pass --scenario with the original file", sp, got, h.ConfigHash)
	}
	s, err = withVariant(s, h.Variant)
	if err != nil {
		return nil, "", fmt.Errorf("trace header: %w", err)
	}
	return s, sp, nil
}

func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// taskNames maps task ids of a trace to names, from its spawn events.
func taskNames(tr *sim.Trace) map[int]string {
	names := map[int]string{0: "world"}
	n := 0
	for _, e := range tr.Events {
		if e.Kind == "spawn" {
			n++
			names[n] = e.Obj
		}
	}
	return names
}

// failureLines are the errors of a result, one per line.
func failureLines(res *sim.Result) []string {
	err := res.Error()
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// signature identifies a failure independently of the data it printed:
// the scenario lines whose statements failed (and how), else the kinds of
// run-level failure.
func signature(res *sim.Result) string {
	var keys []string
	for _, t := range res.Tasks {
		var se *scenario.StepError
		if errors.As(t.Err, &se) {
			keys = append(keys, se.Where()+" "+se.Kind)
		}
	}
	if len(keys) == 0 {
		switch {
		case res.Divergence != nil:
			keys = append(keys, "divergence")
		case len(res.Deadlock) > 0:
			keys = append(keys, "deadlock")
		case res.Err != nil:
			keys = append(keys, "run error")
		case len(res.Leaks) > 0:
			keys = append(keys, "leak")
		case len(res.Misuses) > 0:
			keys = append(keys, "misuse")
		}
		for _, t := range res.Tasks {
			if t.Err != nil && !errors.Is(t.Err, sim.ErrKilled) {
				keys = append(keys, "task "+t.Name)
			}
		}
	}
	return strings.Join(keys, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// isTTY reports whether w is a terminal, for the progress line.
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
