package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
)

// twoByTwo is two tasks of two steps each; a step is an event, separated
// by a yield. It has exactly C(4,2) = 6 interleavings.
func twoByTwo(log *[]string) Scenario {
	return func(w *World) error {
		for _, name := range []string{"a", "b"} {
			w.Go(name, func(t *Task) error {
				*log = append(*log, name+"1")
				w.Yield()
				*log = append(*log, name+"2")
				return nil
			})
		}
		return nil
	}
}

func TestDFSEnumeratesExactlyTheInterleavings(t *testing.T) {
	d, err := NewDFS(DFSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		var log []string
		res, _, err := RunOnce(Config{Strategy: d}, twoByTwo(&log))
		if err != nil || res.Failed() {
			t.Fatal(err, res.Error())
		}
		key := strings.Join(log, ",")
		if seen[key] {
			t.Fatalf("schedule %s enumerated twice", key)
		}
		seen[key] = true
		more, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
	}
	if len(seen) != 6 || d.Runs() != 6 {
		t.Fatalf("got %d distinct schedules in %d runs, want 6: %v", len(seen), d.Runs(), seen)
	}
}

func TestDFSPreemptionBound(t *testing.T) {
	// With no preemption allowed, a task that yields keeps running, so only
	// the first choice (who starts) is free: 2 schedules.
	for _, tc := range []struct{ bound, want int }{{0, 2}, {1, 4}, {-1, 6}} {
		opt := DFSOptions{PreemptionBound: max(tc.bound, 0), BoundPreemptions: tc.bound >= 0}
		rep, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs", Options: StrategyOptions{DFS: opt}},
			func(w *World) error { var l []string; return twoByTwo(&l)(w) })
		if err != nil {
			t.Fatal(err)
		}
		if rep.Runs != tc.want || !rep.Exhausted {
			t.Errorf("bound %d: %d runs (exhausted %v), want %d", tc.bound, rep.Runs, rep.Exhausted, tc.want)
		}
	}
}

func TestDFSCountsValueChoices(t *testing.T) {
	rep, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs"}, func(w *World) error {
		w.Go("t", func(t *Task) error {
			w.Choose("x", 3)
			w.Choose("y", 2)
			return nil
		})
		return nil
	})
	if err != nil || rep.Runs != 6 || !rep.Exhausted {
		t.Fatalf("runs %d exhausted %v err %v, want 6 runs", rep.Runs, rep.Exhausted, err)
	}
}

// lostUpdate is a classic depth-2 bug: two tasks read a counter, yield, then
// write it back incremented. The final value is 1 only when both reads
// happen before either write.
func lostUpdate(steps int) Scenario {
	return func(w *World) error {
		counter := 0
		var tasks []*Task
		for _, name := range []string{"inc1", "inc2"} {
			tasks = append(tasks, w.Go(name, func(t *Task) error {
				for range steps {
					w.Yield() // unrelated work
				}
				v := counter
				w.Yield()
				counter = v + 1
				return nil
			}))
		}
		w.Go("check", func(t *Task) error {
			for _, x := range tasks {
				x.Join()
			}
			if counter != 2 {
				return fmt.Errorf("lost update: counter = %d", counter)
			}
			return nil
		})
		return nil
	}
}

func TestPlantedBugFoundByAllStrategies(t *testing.T) {
	// n = 3 tasks, k ≈ 2·(steps+3) scheduling steps, d = 2: PCT's bound says a
	// run finds the bug with probability ≥ 1/(n·k). With a fixed seed the
	// number of runs is deterministic; assert it is within the bound's
	// expectation.
	const steps = 10
	k := 2*(steps+3) + 2
	bound := 3 * k
	rep, err := Explore(context.Background(), ExploreOptions{Strategy: "pct", Seed: 7, Runs: bound, Workers: 1,
		Options: StrategyOptions{PCT: PCTOptions{Depth: 2, Steps: k}}}, lostUpdate(steps))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 {
		t.Fatalf("PCT d=2 did not find the lost update in %d runs (bound n·k = %d)", bound, bound)
	}
	t.Logf("PCT found the bug at run %d (bound %d)", rep.Failures[0].Run, bound)

	dfs, err := Explore(context.Background(), ExploreOptions{Strategy: "dfs"}, lostUpdate(1))
	if err != nil || len(dfs.Failures) == 0 {
		t.Fatalf("DFS did not find the bug: %v", err)
	}

	rnd, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Seed: 1, Runs: 2000, KeepGoing: true}, lostUpdate(steps))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("random found the bug in %d of %d runs", len(rnd.Failures), rnd.Runs)
	if len(rnd.Failures) == 0 {
		t.Fatal("random never found the bug in 2000 runs")
	}
}

func TestFailingTraceReplays(t *testing.T) {
	rep, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Seed: 3, Runs: 500, Workers: 2}, lostUpdate(2))
	if err != nil || len(rep.Failures) != 1 {
		t.Fatalf("want one failure, got %v %v", rep, err)
	}
	f := rep.Failures[0]
	tr, err := ReadTrace(bytes.NewReader(f.Trace.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	res, tr2, err := Replay(tr, Config{}, nil, lostUpdate(2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergence != nil {
		t.Fatal(res.Divergence)
	}
	if !res.Failed() || !strings.Contains(res.Error().Error(), "lost update") {
		t.Fatalf("replay did not reproduce the failure: %v", res.Error())
	}
	if !bytes.Equal(tr2.Bytes(), f.Trace.Bytes()) {
		t.Fatalf("replayed trace differs:\n%s\nvs\n%s", tr2.Bytes(), f.Trace.Bytes())
	}
}

func TestExploreIsDeterministicAcrossWorkers(t *testing.T) {
	run := func(workers int) *Report {
		rep, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Seed: 11, Runs: 300, Workers: workers}, lostUpdate(3))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := run(1), run(2)
	if len(a.Failures) != 1 || len(b.Failures) != 1 || a.Failures[0].Run != b.Failures[0].Run {
		t.Fatalf("first failure differs by worker count: %+v vs %+v", a.Failures, b.Failures)
	}
	if !bytes.Equal(a.Failures[0].Trace.Bytes(), b.Failures[0].Trace.Bytes()) {
		t.Fatal("failure traces differ by worker count")
	}
}

func TestShardsPartitionRuns(t *testing.T) {
	var all []uint64
	for shard := range 3 {
		var got []uint64
		_, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Runs: 4, Shard: shard, Shards: 3, Workers: 1},
			func(w *World) error { got = append(got, w.cfg.Run); return nil })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if int(r)%3 != shard {
				t.Fatalf("shard %d ran run %d", shard, r)
			}
		}
		all = append(all, got...)
	}
	slices.Sort(all)
	if len(all) != 12 || slices.Compact(all)[11] != 11 {
		t.Fatalf("shards did not cover runs 0..11 once: %v", all)
	}
}

func tracedRun(t *testing.T, st Strategy, sc Scenario) []byte {
	t.Helper()
	_, tr, err := RunOnce(Config{Seed: 5, Strategy: st, Trace: true}, sc)
	if err != nil {
		t.Fatal(err)
	}
	return tr.Bytes()
}

func TestSameSeedSameTrace(t *testing.T) {
	mk := map[string]func() Strategy{
		"random": func() Strategy { return NewRandom(9) },
		"pct":    func() Strategy { s, _ := NewPCT(9, PCTOptions{Depth: 3, Steps: 40}); return s },
		"rr":     func() Strategy { return NewRoundRobin() },
	}
	for name, f := range mk {
		a := tracedRun(t, f(), lostUpdate(4))
		b := tracedRun(t, f(), lostUpdate(4))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: traces differ", name)
		}
		tr, err := ReadTrace(bytes.NewReader(a))
		if err != nil {
			t.Fatal(err)
		}
		res, tr2, err := Replay(tr, Config{}, nil, lostUpdate(4))
		if err != nil || res.Divergence != nil || !bytes.Equal(tr2.Bytes(), a) {
			t.Errorf("%s: replay does not reproduce: %v %v", name, err, res.Divergence)
		}
	}
	if bytes.Equal(tracedRun(t, NewRandom(1), lostUpdate(4)), tracedRun(t, NewRandom(2), lostUpdate(4))) {
		t.Error("different seeds gave the same schedule")
	}
}

func TestReplayReportsFirstDivergence(t *testing.T) {
	a := tracedRun(t, NewRandom(1), lostUpdate(2))
	tr, _ := ReadTrace(bytes.NewReader(a))
	// A different program: the second incrementer yields once more.
	res, _, err := Replay(tr, Config{}, nil, lostUpdate(3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergence == nil {
		t.Fatal("replaying another program did not diverge")
	}
	if !strings.Contains(res.Divergence.Error(), "step") {
		t.Errorf("divergence does not name a step: %v", res.Divergence)
	}
	// Continue mode: past the end of the trace choices come from the
	// fallback and nothing is compared.
	short := &Trace{Header: tr.Header, End: tr.End}
	res, _, err = Replay(short, Config{}, NewRandom(1), lostUpdate(2))
	if err != nil || res.Divergence != nil {
		t.Fatalf("continue mode diverged: %v %v", err, res.Divergence)
	}
}

func TestReplayRefusesOtherConfig(t *testing.T) {
	_, tr, _ := RunOnce(Config{Trace: true, Config: []byte("a")}, lostUpdate(1))
	if _, _, err := Replay(tr, Config{Config: []byte("b")}, nil, lostUpdate(1)); err == nil {
		t.Fatal("replay with another configuration was accepted")
	}
}

func TestDeadlockReport(t *testing.T) {
	w := MustNew(Config{Trace: true})
	q := w.NewWaitQueue("never")
	cleaned := false
	w.Go("stuck", func(t *Task) error {
		defer func() { cleaned = true }()
		return q.Wait("the door to open")
	})
	w.Go("fine", func(t *Task) error { return nil })
	res := w.Run()
	if len(res.Deadlock) != 1 || res.Deadlock[0].WaitingOn != "the door to open" || res.Deadlock[0].Name != "stuck#1" {
		t.Fatalf("deadlock report %+v", res.Deadlock)
	}
	var de *DeadlockError
	if !errors.As(res.Error(), &de) {
		t.Fatalf("error %v is not a DeadlockError", res.Error())
	}
	if !cleaned {
		t.Error("the blocked task's defers did not run")
	}
}

func TestVirtualClock(t *testing.T) {
	w := MustNew(Config{Trace: true})
	var order []string
	var at []time.Duration
	for _, d := range []time.Duration{30, 10, 20} {
		w.Go(fmt.Sprint(int64(d)), func(t *Task) error {
			if err := w.Sleep(d * time.Second); err != nil {
				return err
			}
			order = append(order, t.name)
			at = append(at, w.Now())
			return nil
		})
	}
	q := w.NewWaitQueue("q")
	w.Go("timeout", func(t *Task) error {
		timedOut, err := q.WaitTimeout("", 15*time.Second)
		if err != nil || !timedOut || w.Now() != 15*time.Second {
			return fmt.Errorf("timedOut %v at %v err %v", timedOut, w.Now(), err)
		}
		return nil
	})
	res := w.Run()
	if res.Failed() {
		t.Fatal(res.Error())
	}
	if strings.Join(order, ",") != "10,20,30" || at[2] != 30*time.Second {
		t.Fatalf("wake order %v at %v", order, at)
	}
	if got := w.WallNow(); !got.Equal(Epoch.Add(30 * time.Second)) {
		t.Fatalf("wall clock %v", got)
	}
	if err := w.Sleep(1); !errors.Is(err, ErrNotInTask) {
		t.Fatalf("Sleep outside a task: %v", err)
	}
}

func TestPanicAndStepLimit(t *testing.T) {
	w := MustNew(Config{})
	w.Go("boom", func(t *Task) error { panic("boom") })
	w.Go("other", func(t *Task) error { return nil })
	res := w.Run()
	var pe *PanicError
	if !errors.As(res.Error(), &pe) || pe.Task != "boom#1" {
		t.Fatalf("panic not reported: %v", res.Error())
	}
	if res.Tasks[1].Err != nil {
		t.Fatal("the other task did not finish")
	}

	w = MustNew(Config{MaxSteps: 100})
	w.Go("spin", func(t *Task) error {
		for {
			w.Yield()
		}
	})
	res = w.Run()
	if !errors.Is(res.Err, ErrStepLimit) || res.Steps != 100 {
		t.Fatalf("step limit: %v after %d steps", res.Err, res.Steps)
	}
	if w.Run().Err == nil {
		t.Fatal("second Run accepted")
	}
}

func TestLeakHook(t *testing.T) {
	w := MustNew(Config{})
	w.AddLeakCheck("test", func() []string { return []string{"ofd#3 (refs 1: stream#4)"} })
	res := w.Run()
	if len(res.Leaks) != 1 || !strings.Contains(res.Error().Error(), "ofd#3") {
		t.Fatalf("leak not reported: %+v", res.Leaks)
	}
}

func TestBadStrategyParameters(t *testing.T) {
	for _, o := range []PCTOptions{{Depth: 0, Steps: 5}, {Depth: 2, Steps: 0}, {Depth: 100, Steps: 5}} {
		if _, err := NewPCT(1, o); err == nil {
			t.Errorf("PCT %+v accepted", o)
		}
	}
	if _, err := NewStrategy("nope", 1, StrategyOptions{}); err == nil {
		t.Error("unknown strategy accepted")
	}
	if _, err := Explore(context.Background(), ExploreOptions{Strategy: "random"}, nil); err == nil {
		t.Error("explore without runs or time accepted")
	}
	if _, err := Explore(context.Background(), ExploreOptions{Strategy: "random", Runs: 1, Shard: 3, Shards: 2}, nil); err == nil {
		t.Error("shard 3/2 accepted")
	}
	if _, err := New(Config{MaxSteps: -1}); err == nil {
		t.Error("negative MaxSteps accepted")
	}
}

type badStrategy struct{}

func (badStrategy) Choose(ChoicePoint) int { return 99 }
func (badStrategy) Spec() Spec             { return Spec{Name: "bad"} }

func TestOutOfRangeChoiceIsAnError(t *testing.T) {
	var l []string
	res, _, _ := RunOnce(Config{Strategy: badStrategy{}}, twoByTwo(&l))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "chose 99") {
		t.Fatalf("got %v", res.Err)
	}
}

// TestRapidShrinksSchedules checks that a schedule drawn from rapid finds
// the lost update and that rapid can shrink it.
func TestRapidShrinksSchedules(t *testing.T) {
	failed := false
	soak.Check(t, 100, func(rt *rapid.T) {
		res, _, err := RunOnce(Config{Strategy: NewRapid(rt)}, lostUpdate(2))
		if err != nil {
			rt.Fatal(err)
		}
		if res.Failed() {
			failed = true // record, don't fail: we want rapid to keep going
		}
	})
	if !failed {
		t.Fatal("rapid-drawn schedules never hit the lost update")
	}
}

func TestRoundRobinAlternates(t *testing.T) {
	var log []string
	_, _, err := RunOnce(Config{Strategy: NewRoundRobin()}, twoByTwo(&log))
	if err != nil || strings.Join(log, ",") != "a1,b1,a2,b2" {
		t.Fatalf("round robin order %v", log)
	}
}

func TestDeadlockListsTasksWokenByKilledOnes(t *testing.T) {
	w := MustNew(Config{})
	a, b := w.NewWaitQueue("a"), w.NewWaitQueue("b")
	w.Go("first", func(t *Task) error {
		defer b.Broadcast() // wakes "second" while the run is being torn down
		return a.Wait("a")
	})
	w.Go("second", func(t *Task) error { return b.Wait("b") })
	res := w.Run()
	if len(res.Deadlock) != 2 {
		t.Fatalf("deadlock report lists %d tasks, want 2: %+v", len(res.Deadlock), res.Deadlock)
	}
	for _, tr := range res.Tasks {
		if !errors.Is(tr.Err, ErrKilled) {
			t.Errorf("task %s ended with %v, want ErrKilled", tr.Name, tr.Err)
		}
	}
}
