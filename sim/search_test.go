package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
)

// op is one access of a program's shared cell.
type op struct {
	cell int
	mode Mode
}

// prog is a small program of annotated tasks, each a list of steps, each
// step a list of accesses to shared cells; steps are separated by
// yields. The program logs every access, so a run's class (the order of
// its dependent accesses) and its end state can be told apart from the
// outside.
type prog struct {
	Tasks [][][]op
	// Block makes the first step of the last task wait until cell 0 was
	// written (a wait queue signalled by writes and updates of cell 0).
	Block bool
	// Choice makes the first step of the first task choose its value.
	Choice bool
	// Spawn makes the first task's first step start a child that writes
	// cell 1; Join makes the last task join the first.
	Spawn, Join bool
	// Carry separates steps with plain yields, whose next step carries the
	// footprint of the step before, instead of YieldBoundary.
	Carry bool
	// Quiet makes Block's wait a WaitQueue.Await, whose first change of
	// cell 0 is a Publish (a write) or an Update.
	Quiet bool
}

// run builds the program on w; the end state and the class key are
// stored in out when the run ends.
func (p prog) scenario(cells int, out *[2]string) Scenario {
	return func(w *World) error {
		val := make([]int, cells)
		logs := make([][]string, cells)
		var q *WaitQueue
		changed := false // cell 0
		access := func(who string, o op) {
			m := o.mode
			if o.cell == 0 && m == Write && p.Quiet && !changed {
				m = Publish
			}
			if o.cell == 0 && m != Read {
				changed = true
			}
			w.Touch(Obj{ObjUser, uint64(o.cell)}, m)
			v := &val[o.cell]
			switch o.mode {
			case Read:
				logs[o.cell] = append(logs[o.cell], "r"+who+"="+fmt.Sprint(*v))
			case Write:
				*v = *v*7 + len(who)*13 + int(who[0])
				logs[o.cell] = append(logs[o.cell], "w"+who)
			case Update:
				*v += int(who[0])
				logs[o.cell] = append(logs[o.cell], "u"+who)
			}
			if o.cell == 0 && o.mode != Read && q != nil {
				q.Broadcast()
			}
		}
		if p.Block {
			q = w.NewWaitQueue("cell 0")
		}
		var first *Task
		for ti, steps := range p.Tasks {
			name := string(rune('a' + ti))
			t := w.Go(name, func(t *Task) error {
				for si, step := range steps {
					who := fmt.Sprintf("%s%d", name, si)
					if si == 0 && ti == len(p.Tasks)-1 && p.Block && p.Quiet {
						err := q.Await("cell 0", func() bool {
							w.Touch(Obj{ObjUser, 0}, Read)
							return changed
						})
						if err != nil {
							return err
						}
					} else if si == 0 && ti == len(p.Tasks)-1 && p.Block {
						for w.Touch(Obj{ObjUser, 0}, Read); len(logs[0]) == 0 || !strings.ContainsAny(strings.Join(logs[0], ""), "wu"); w.Touch(Obj{ObjUser, 0}, Read) {
							if err := q.Wait(""); err != nil {
								return err
							}
						}
					}
					if si == 0 && ti == 0 && p.Choice {
						who += fmt.Sprint(w.Choose("value", 2))
					}
					if si == 0 && ti == 0 && p.Spawn {
						w.Go("child", func(*Task) error { access("c", op{1 % cells, Write}); return nil }).Annotated()
					}
					if si == 0 && ti == len(p.Tasks)-1 && p.Join && ti > 0 {
						if err := first.Join(); err != nil {
							return err
						}
					}
					for _, o := range step {
						access(who, o)
					}
					if si < len(steps)-1 {
						if p.Carry {
							w.Yield()
						} else {
							w.YieldBoundary()
						}
					}
				}
				return nil
			}).Annotated()
			if ti == 0 {
				first = t
			}
		}
		w.AddLeakCheck("prog", func() []string {
			// Called at the end of the run: record what the run did.
			state := fmt.Sprint(val)
			var key []string
			for c, l := range logs {
				key = append(key, fmt.Sprint(c)+":"+strings.Join(normalize(l), ","))
				state += " " + fmt.Sprint(len(l))
			}
			reads := []string{}
			for _, l := range logs {
				for _, e := range l {
					if e[0] == 'r' {
						reads = append(reads, e)
					}
				}
			}
			sort.Strings(reads)
			out[0] = state + " " + strings.Join(reads, ",")
			out[1] = strings.Join(key, " ")
			return nil
		})
		return nil
	}
}

// normalize sorts each run of consecutive reads, and of consecutive
// updates: they commute, so the order within a run is not part of the
// class.
func normalize(l []string) []string {
	l = slices.Clone(l)
	for i := 0; i < len(l); {
		j := i + 1
		for j < len(l) && l[j][0] == l[i][0] && l[i][0] != 'w' {
			j++
		}
		slices.Sort(l[i:j])
		i = j
	}
	return l
}

// explore runs every schedule of p with the search and returns the end
// states and class keys of the complete runs, in order.
func exploreProg(t interface {
	Helper()
	Fatal(...any)
	Errorf(string, ...any)
}, p prog, cells int, reduce bool) (states, keys []string, pruned int) {
	t.Helper()
	s := newSearch(reduce, DFSOptions{}, Spec{Name: "dfs"})
	var out [2]string
	for {
		out = [2]string{}
		res, _, err := RunOnce(Config{Strategy: s.strategy()}, p.scenario(cells, &out))
		if err != nil {
			t.Fatal(err)
		}
		if s.pruned {
			pruned++
		} else {
			st := out[0]
			if len(res.Deadlock) > 0 {
				st += " deadlock"
			}
			states = append(states, st)
			keys = append(keys, out[1])
		}
		if !s.next() {
			break
		}
	}
	if s.invalid != nil {
		t.Fatal(s.invalid)
	}
	if s.anomalies != 0 {
		t.Errorf("%d races reversed conservatively", s.anomalies)
	}
	return states, keys, pruned
}

func set(l []string) []string {
	s := slices.Clone(l)
	slices.Sort(s)
	return slices.Compact(s)
}

func TestReductionRunsIndependentTasksOnce(t *testing.T) {
	// Three tasks of three steps, each on its own cell: 9!/(3!3!3!) = 1680
	// interleavings, all equivalent.
	steps := [][]op{{{0, Write}}, {{0, Read}}, {{0, Update}}}
	p := prog{}
	for c := range 3 {
		var task [][]op
		for _, s := range steps {
			task = append(task, []op{{c, s[0].mode}})
		}
		p.Tasks = append(p.Tasks, task)
	}
	plain, _, _ := exploreProg(t, p, 3, false)
	red, _, pruned := exploreProg(t, p, 3, true)
	if len(plain) != 1680 || len(red) != 1 || pruned != 0 {
		t.Fatalf("plain %d runs, reduced %d (+%d pruned): want 1680 and 1", len(plain), len(red), pruned)
	}
}

func TestReductionOrdersConflicts(t *testing.T) {
	// Two tasks write cell 0 then their own cell: the two orders of the
	// writes to cell 0 are the only classes.
	p := prog{Tasks: [][][]op{{{{0, Write}}, {{1, Write}}}, {{{0, Write}}, {{2, Write}}}}}
	plain, _, _ := exploreProg(t, p, 3, false)
	red, keys, _ := exploreProg(t, p, 3, true)
	if len(plain) != 6 || len(red) != 2 || len(set(keys)) != 2 {
		t.Fatalf("plain %d, reduced %d (%d classes): want 6 and 2", len(plain), len(red), len(set(keys)))
	}
	// Reads commute with reads, updates with updates.
	p = prog{Tasks: [][][]op{{{{0, Read}}, {{1, Update}}}, {{{0, Read}}, {{1, Update}}}}}
	if red, _, _ := exploreProg(t, p, 2, true); len(red) != 1 {
		t.Fatalf("reads and updates: %d runs, want 1", len(red))
	}
}

// progGen draws small programs: 2 or 3 tasks of 1 to 3 steps of 1 or 2
// accesses to 3 cells, with optional blocking, value choice, spawn and
// join.
func progGen(extras bool) *rapid.Generator[prog] {
	return rapid.Custom(func(t *rapid.T) prog {
		var p prog
		nt := rapid.IntRange(2, 3).Draw(t, "tasks")
		for range nt {
			var task [][]op
			for range rapid.IntRange(1, 3).Draw(t, "steps") {
				var step []op
				for range rapid.IntRange(0, 2).Draw(t, "ops") {
					step = append(step, op{rapid.IntRange(0, 2).Draw(t, "cell"), Mode(rapid.IntRange(1, 3).Draw(t, "mode"))})
				}
				task = append(task, step)
			}
			p.Tasks = append(p.Tasks, task)
		}
		if extras {
			p.Block = rapid.Bool().Draw(t, "block")
			p.Choice = rapid.Bool().Draw(t, "choice")
			p.Spawn = rapid.Bool().Draw(t, "spawn")
			p.Join = rapid.Bool().Draw(t, "join")
			p.Carry = rapid.Bool().Draw(t, "carry")
			p.Quiet = rapid.Bool().Draw(t, "quiet")
		}
		return p
	})
}

// TestReductionKeepsEveryClass compares the reduced search with the plain
// one on random programs: the same end states and the same classes of
// interleavings, never more runs; without blocking (where the program's
// own log is exactly the class) no class twice.
func TestReductionKeepsEveryClass(t *testing.T) {
	soak.Check(t, 300, func(rt *rapid.T) {
		extras := rapid.Bool().Draw(rt, "extras")
		p := progGen(extras).Draw(rt, "prog")
		plainStates, plainKeys, _ := exploreProg(rt, p, 3, false)
		redStates, redKeys, _ := exploreProg(rt, p, 3, true)
		if !slices.Equal(set(plainStates), set(redStates)) {
			rt.Fatalf("end states differ:\nplain   %q\nreduced %q", set(plainStates), set(redStates))
		}
		if !slices.Equal(set(plainKeys), set(redKeys)) {
			rt.Fatalf("classes differ:\nplain   %q\nreduced %q", set(plainKeys), set(redKeys))
		}
		if len(redStates) > len(plainStates) {
			rt.Fatalf("reduced search ran %d schedules, plain %d", len(redStates), len(plainStates))
		}
		// Without blocking, the program's own log is exactly the class,
		// and the search runs none twice.
		if !extras && len(set(redKeys)) != len(redKeys) {
			rt.Fatalf("a class was run twice: %q", redKeys)
		}
	})
}

// TestExploreReducedIsDeterministic runs the reduced search with 1 and 2
// workers, split and not, and as 3 shards: the same runs, outcomes and
// first failure.
func TestExploreReducedIsDeterministic(t *testing.T) {
	p := prog{Tasks: [][][]op{
		{{{0, Write}}, {{1, Read}}, {{2, Update}}},
		{{{1, Write}}, {{0, Read}}, {{2, Update}}},
		{{{2, Read}}, {{0, Write}}},
	}, Choice: true, Spawn: true}
	sc := func(w *World) error {
		out := new([2]string) // one per run: workers run in parallel
		if err := p.scenario(3, out)(w); err != nil {
			return err
		}
		w.AddLeakCheck("verdict", func() []string {
			if strings.Contains(out[0], "c0") {
				return []string{"state " + out[0]}
			}
			return nil
		})
		return nil
	}
	type summary struct {
		runs     int
		outcomes string
		fail     string
	}
	sum := func(rep *Report) summary {
		s := summary{runs: rep.Runs, outcomes: fmt.Sprint(rep.Outcomes)}
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			s.fail = fmt.Sprintf("%d/%d %s", f.Job, f.Index, f.Trace.Hash())
		}
		return s
	}
	for _, keep := range []bool{false, true} {
		var want summary
		for i, cfg := range []struct{ workers, split int }{{1, 0}, {2, 0}, {2, 0}, {1, 0}} {
			rep, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs", Workers: cfg.workers, KeepGoing: keep,
				Options: StrategyOptions{DFS: DFSOptions{Split: cfg.split}}}, sc)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				want = sum(rep)
				if keep && !rep.Exhausted {
					t.Fatal("not exhausted")
				}
				continue
			}
			if got := sum(rep); got != want {
				t.Fatalf("keep going %v, %d workers: %+v, want %+v", keep, cfg.workers, got, want)
			}
		}
		// Shards: together, the same runs (with KeepGoing) and the same first failure.
		var runs int
		var first *Failure
		for shard := range 3 {
			rep, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs", Shard: shard, Shards: 3, KeepGoing: keep}, sc)
			if err != nil {
				t.Fatal(err)
			}
			runs += rep.Runs
			for i := range rep.Failures {
				f := rep.Failures[i]
				if first == nil || f.Job < first.Job || f.Job == first.Job && f.Index < first.Index {
					first = &f
				}
			}
		}
		if keep && runs != want.runs {
			t.Fatalf("shards ran %d schedules, one process %d", runs, want.runs)
		}
		if first == nil || fmt.Sprintf("%d/%d %s", first.Job, first.Index, first.Trace.Hash()) != want.fail {
			t.Fatalf("shards' first failure %+v, want %s", first, want.fail)
		}
	}
	// The split changes which runs stop early, never the classes.
	one, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs", Options: StrategyOptions{DFS: DFSOptions{Split: 1}}, KeepGoing: true}, sc)
	if err != nil {
		t.Fatal(err)
	}
	many, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs", KeepGoing: true}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if one.Runs != many.Runs || fmt.Sprint(one.Outcomes) != fmt.Sprint(many.Outcomes) || many.Jobs < 2 {
		t.Fatalf("split 1: %d runs %v; split %d: %d runs %v", one.Runs, one.Outcomes, many.Jobs, many.Runs, many.Outcomes)
	}
	t.Logf("%d schedules; unsplit %d pruned, split into %d: %d pruned", one.Runs, one.Pruned, many.Jobs, many.Pruned)
}
