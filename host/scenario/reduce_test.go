package scenario

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/sim"
)

// endState describes what a run left behind: the files with their
// contents, the locks, the port bindings, stdout and stderr.
func endState(h *host.Host) string {
	var b strings.Builder
	fsys := h.FS().IOFS()
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // errors are in the text
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			return nil
		}
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", p)
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		fmt.Fprintf(&b, "%s %q %v\n", p, data, err)
		return nil
	})
	fmt.Fprintf(&b, "locks %v\nports %v\nstdout %q stderr %q\n", h.FS().Locks(), h.Net().Bindings(), h.Stdout(), h.Stderr())
	return b.String()
}

// exploreStates explores every schedule of a script (reduced or plain, one
// worker, no split) and returns the distinct outcomes and end states, and
// whether the search finished within the time limit.
func exploreStates(t *testing.T, s *Script, plain bool, mut mutation.Set, limit time.Duration) (outcomes, states []string, runs int, done bool) {
	t.Helper()
	return explore(t, s, plain, mut, limit, 0, 1)
}

// exploreStatesBudget is exploreStates bounded by a number of schedules.
func exploreStatesBudget(t fataler, s *Script, plain bool, budget int) (outcomes, states []string, runs int, done bool) {
	return explore(t, s, plain, 0, time.Hour, budget, 1)
}

type fataler interface{ Fatal(...any) }

func explore(t fataler, s *Script, plain bool, mut mutation.Set, limit time.Duration, budget, split int) (outcomes, states []string, runs int, done bool) {
	// The end state is reported as a finding of the run, so that it is in
	// the run's outcome: runs the reduced search stops early do not count.
	const mark = "end state: "
	sc := func(w *sim.World) error {
		mutation.Enable(w, mut)
		var h *host.Host
		if err := s.Scenario(Options{OnHost: func(x *host.Host) { h = x }})(w); err != nil {
			return err
		}
		w.AddLeakCheck("end state", func() []string { return []string{mark + endState(h)} })
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rep, err := sim.Explore(ctx, sim.ExploreOptions{Strategy: "dfs", Workers: 1, KeepGoing: true, Config: s.Source, Runs: budget,
		Options: sim.StrategyOptions{DFS: sim.DFSOptions{Plain: plain, Split: split}}}, sc)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for o := range rep.Outcomes {
		i := strings.LastIndex(o, "leak in end state: "+mark)
		if i < 0 {
			t.Fatal("a run without its end state: " + o)
		}
		outcomes = append(outcomes, strings.TrimSuffix(o[:i], "; "))
		seen[o[i:]] = true
	}
	for st := range seen {
		states = append(states, st)
	}
	slices.Sort(outcomes)
	outcomes = slices.Compact(outcomes)
	slices.Sort(states)
	return outcomes, states, rep.Runs, rep.Exhausted
}

func readScript(t *testing.T, name string) *Script {
	t.Helper()
	src, err := os.ReadFile("../../testdata/scenarios/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// smallScripts are scenarios whose plain schedule trees are small enough
// to enumerate in a test, each racing something the reduction must not
// lose: locks, renames and unlinks, a read of a file being truncated, a
// connect and a listen, stdout, variables passed between tasks, joins,
// traps.
var smallScripts = map[string]string{
	"lock contention": `file "f" "x"
task a:
    fd = open root "f" read write
    lock fd exclusive
    drop fd
task b in other:
    fd = open root "f" read
    r = trylock fd shared
    drop fd
`,
	"rename and unlink": `file "a" "1"
task mover:
    rename root "a" "b"
task remover in other:
    unlink root "a"
    expect error no-entry
task reader in third:
    fd = open root "b" read
    expect error no-entry
`,
	"read and truncate": `chunk 8
file "f" "abcd"
task reader:
    fd = open root "f" read
    s, f = read-via-stream fd
    c = read-all s
    expect c == "abcd"
    drop s f fd
task cutter in other:
    fd = open root "f" write
    set-size fd 1
    drop fd
`,
	"connect race": `task server:
    s = tcp-socket
    bind s 127.0.0.1:7000
    l = listen s
    drop s l
task client in other:
    k = tcp-socket
    connect k 127.0.0.1:7000
    expect error connection-refused
    drop k
`,
	"stdout": `task a:
    data, w = stream
    f = write-stdout data
    write w "a"
    drop w f
task b in other:
    expect stdout == "a"
`,
	"variables and joins": `file "f" "0"
task owner:
    fd = open root "f" read write
    lock fd exclusive
    drop fd
task contender:
    wait fd
    r = trylock fd shared
task check in other:
    join owner
    expect lock "f" free
`,
	"trap in another task": `task a:
    r, w = stream
    drop w
    drop r
task b:
    yield
    drop w
`,
}

// TestReductionKeepsOutcomes explores small scenarios with and without
// partial-order reduction: both must reach the same outcomes and the
// same end states, the reduced search in fewer schedules.
func TestReductionKeepsOutcomes(t *testing.T) {
	scripts := map[string]*Script{}
	for name, src := range smallScripts {
		s, err := Parse(name+".wsim", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		scripts[name] = s
	}
	for _, name := range []string{"drop-during-write.wsim", "port-release.wsim", "pr870.wsim"} {
		scripts[name] = readScript(t, name)
	}
	pr := readScript(t, "pr870.wsim")
	pr.Variant = host.P3AsyncWrite
	scripts["pr870.wsim async"] = pr
	names := make([]string, 0, len(scripts))
	for name := range scripts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s := scripts[name]
			po, ps, pruns, pdone := exploreStates(t, s, true, 0, time.Minute)
			if !pdone {
				t.Fatalf("plain DFS did not finish (%d schedules)", pruns)
			}
			ro, rs, rruns, rdone := exploreStates(t, s, false, 0, time.Minute)
			if !rdone {
				t.Fatalf("reduced DFS did not finish (%d schedules)", rruns)
			}
			if !slices.Equal(po, ro) {
				t.Errorf("outcomes differ:\nplain   %q\nreduced %q", po, ro)
			}
			if !slices.Equal(ps, rs) {
				t.Errorf("end states differ:\nplain   %q\nreduced %q", ps, rs)
			}
			if rruns > pruns {
				t.Errorf("reduced DFS ran %d schedules, plain %d", rruns, pruns)
			}
			// Split into subtrees (for workers and shards), the same.
			so, ss, _, sdone := explore(t, s, false, 0, time.Minute, 0, 0)
			if !sdone || !slices.Equal(so, ro) || !slices.Equal(ss, rs) {
				t.Errorf("split: done %v, outcomes %q, end states %q", sdone, so, ss)
			}
			t.Logf("%d schedules plain, %d reduced; %d outcomes, %d end states", pruns, rruns, len(po), len(ps))
		})
	}
}

// TestReductionFindsPlantedBug: the shipped planted bug is found by the
// reduced search, in few schedules.
func TestReductionFindsPlantedBug(t *testing.T) {
	s := readScript(t, "planted-bug.wsim")
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs", Workers: 1, Config: s.Source}, s.Scenario(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 || !strings.Contains(rep.Failures[0].Err.Error(), `expect file "report.txt"`) {
		t.Fatalf("the planted bug survived %d schedules: %+v", rep.Runs, rep.Failures)
	}
	t.Logf("found after %d schedules", rep.Runs)
}

// TestReductionCatchesMutations runs the reduced search on shipped
// scenarios with each deliberate bug of internal/mutation switched on:
// each must fail in some schedule (without it, every schedule of these
// scenarios passes).
func TestReductionCatchesMutations(t *testing.T) {
	catch := map[mutation.Set]string{
		mutation.ReleaseLocksOnHandleDrop: "lock-release.wsim",
		mutation.CloseSocketOnHandleDrop:  "listener-dropped.wsim",
		mutation.ResolveWriteEarly:        "drop-during-write.wsim",
		mutation.DeliverAfterDropped:      "drop-during-write.wsim",
	}
	for _, m := range mutation.All {
		t.Run(m.Name, func(t *testing.T) {
			name, ok := catch[m.Set]
			if !ok {
				t.Fatalf("no scenario is assigned to mutation %s", m.Name)
			}
			s := readScript(t, name)
			rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs", Workers: 1, Config: s.Source},
				func(w *sim.World) error {
					mutation.Enable(w, m.Set)
					return s.Scenario(Options{})(w)
				})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failures) == 0 {
				t.Fatalf("mutation %s survived all %d schedules of %s", m.Name, rep.Runs, name)
			}
			t.Logf("%s caught in %s after %d schedules: %v", m.Name, name, rep.Runs, rep.Failures[0].Err)
		})
	}
}

// blocks are pieces of scripts for TestReductionKeepsOutcomesRandom: each
// uses only its own variables (named after its task, X), so any sequence
// of them is a valid task; they race on the file "f" and port 7000.
var blocks = []string{
	"X_fd = open root \"f\" read write\n    lock X_fd exclusive\n    drop X_fd\n",
	"X_fd = open root \"f\" read\n    X_r = trylock X_fd shared\n    drop X_fd\n",
	"X_fd = open root \"f\" read\n    X_s, X_f = read-via-stream X_fd\n    drop X_fd\n    X_c = read-all X_s\n    drop X_s X_f\n",
	"X_fd = open root \"f\" write\n    X_d, X_w = stream\n    X_done = write-via-stream X_fd X_d\n    drop X_fd\n    write X_w \"yz\"\n    drop X_w X_done\n",
	"rename root \"f\" \"g\"\n",
	"unlink root \"f\"\n",
	"expect file \"f\" == \"x\"\n",
	"expect lock \"f\" free\n",
	"yield\n",
	"X_k = tcp-socket\n    bind X_k 127.0.0.1:7000\n    X_l = listen X_k\n    drop X_k X_l\n",
	"X_k = tcp-socket\n    connect X_k 127.0.0.1:7000\n    drop X_k\n",
	"X_o, X_p = stream\n    X_q = write-stdout X_o\n    write X_p \"X\"\n    drop X_p X_q\n",
}

// TestReductionKeepsOutcomesRandom compares the reduced search with the
// plain one on random scripts of two or three tasks made of blocks: the
// same outcomes and end states. Scripts whose plain tree is too big to
// enumerate quickly are skipped.
func TestReductionKeepsOutcomesRandom(t *testing.T) {
	skipped, compared := 0, 0
	soak.Check(t, 30, func(rt *rapid.T) {
		var src strings.Builder
		src.WriteString("chunk 1\nfile \"f\" \"x\"\n")
		tasks := 2
		if rapid.IntRange(0, 3).Draw(rt, "three tasks") == 0 {
			tasks = 3
		}
		shared := rapid.Bool().Draw(rt, "one instance")
		for ti := range tasks {
			name := string(rune('a' + ti))
			if shared {
				fmt.Fprintf(&src, "task %s:\n", name)
			} else {
				fmt.Fprintf(&src, "task %s in %s:\n", name, name)
			}
			for range rapid.IntRange(1, 2).Draw(rt, "blocks") {
				b := blocks[rapid.IntRange(0, len(blocks)-1).Draw(rt, "block")]
				src.WriteString("    " + strings.ReplaceAll(b, "X", name))
			}
		}
		s, err := Parse("random.wsim", []byte(src.String()))
		if err != nil {
			rt.Fatalf("%v\n%s", err, src.String())
		}
		po, ps, _, pdone := exploreStatesBudget(rt, s, true, 2500)
		if !pdone {
			skipped++
			return
		}
		compared++
		ro, rs, _, rdone := exploreStatesBudget(rt, s, false, 2500)
		if !rdone {
			rt.Fatalf("the reduced search did not finish where the plain one did:\n%s", src.String())
		}
		if !slices.Equal(po, ro) {
			rt.Fatalf("outcomes differ:\nplain   %q\nreduced %q\n%s", po, ro, src.String())
		}
		if !slices.Equal(ps, rs) {
			rt.Fatalf("end states differ:\nplain   %q\nreduced %q\n%s", ps, rs, src.String())
		}
		so, ss, _, sdone := explore(rt, s, false, 0, time.Hour, 2500, 0)
		if !sdone || !slices.Equal(so, ro) || !slices.Equal(ss, rs) {
			rt.Fatalf("split: done %v, outcomes %q, end states %q\n%s", sdone, so, ss, src.String())
		}
	})
	t.Logf("%d scripts compared, %d skipped (plain tree too big)", compared, skipped)
}
