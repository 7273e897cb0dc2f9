package sim

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wasisim/wasisim/internal/goid"
)

// DefaultMaxSteps bounds a run so that a livelock ends with ErrStepLimit
// instead of hanging the test that explores it.
const DefaultMaxSteps = 1_000_000

// Epoch is the wall-clock time at virtual time zero unless Config.Epoch says
// otherwise. A fixed epoch keeps timestamps identical across runs.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes one run of a world.
type Config struct {
	// Seed feeds the model randomness (World.Rand) and, when Strategy is
	// nil, a seeded random strategy.
	Seed uint64
	// Strategy makes the scheduling and value choices. Nil means
	// NewRandom(Seed).
	Strategy Strategy
	// Trace turns on recording of every event: a full trace, which strict
	// replay compares event by event and which `wasisim show` draws.
	Trace bool
	// TraceChoices records only the choices and the outcome: a compact
	// trace that costs almost nothing to record, and that replays the run
	// exactly (replay with Trace then yields the full events). Ignored
	// when Trace is set.
	TraceChoices bool
	// Variant and Scenario are recorded in the trace header; Config is
	// hashed into it. They let replay refuse a trace from another setup.
	Variant  string
	Scenario string
	Config   []byte
	// EmbedConfig copies Config into the trace header (it must be text).
	EmbedConfig bool
	// Run is the index of this run in an exploration, for the header.
	Run uint64
	// MaxSteps bounds the number of scheduling steps (0: DefaultMaxSteps).
	MaxSteps int64
	// Epoch is wall time at virtual time zero (zero value: sim.Epoch).
	Epoch time.Time
	// OnEvent, if set, receives each event of a traced run (Trace or
	// TraceChoices) as it is recorded, and the world keeps none of them:
	// Trace then holds the header and the end line only. A long run's events go to a file or a
	// printer as they happen instead of filling memory.
	OnEvent func(Event)

	expect *expectation // strict replay: events must match these
}

// World owns all nondeterminism of one run: which task runs next, which
// value a model choice takes, what time it is and what the random source
// yields. Exactly one task runs at a time. While Run runs, the world and
// the models on it are for its tasks only: a call from another goroutine
// (one a task started, a net/http transport's reader) would race with
// the running task, so the world's primitives refuse it (ErrNotInTask)
// and the layers above check CheckCaller before touching their state.
type World struct {
	cfg      Config
	strategy Strategy
	rng      *rand.Rand

	tasks   []*Task
	ready   []*Task // sorted by id, so choice alternatives are canonical
	current *Task
	picked  *Task // chosen by Yield to run next
	lastRun *Task // the task that ran most recently, for preemption counting
	step    int64
	now     atomic.Int64 // virtual time (a time.Duration), read by any goroutine
	timers  timerHeap
	timerSq uint64

	// phase is setup, running or ended. owner identifies the goroutine
	// that may use the world while it runs (goid.Get): the running
	// task's, or Run's own between tasks; 0 outside Run.
	phase atomic.Uint32
	owner atomic.Uintptr
	runG  uintptr

	trace *Trace
	full  bool         // record every event, not only the choices
	exp   *expectation // strict replay: the trace the run must match
	// pendingInput is outside input read but not delivered yet, by name
	// (see Input).
	pendingInput map[string]*pendingInput

	leakChecks []leakCheck
	misuseChks []leakCheck
	failChecks []failureCheck
	// idle are the hooks run when nothing can run (OnIdle); replayInput
	// is the outside input a replay delivers from its trace (nil in a
	// live run).
	idle        []func() bool
	replayInput []Event
	divergence  *Divergence
	abortErr    error
	ran         bool
	altsBuf     []int
	// rec records what each step touches, when the strategy wants it
	// (partial-order reduction; footprint.go); nil otherwise. Set by New.
	rec *recorder
	nq  uint32 // wait queues made outside tasks, for their footprint ids
	// stop is set by Stop, from any goroutine.
	stop atomic.Bool
}

type leakCheck struct {
	layer string
	check func() []string
}

type failureCheck struct {
	layer string
	check func(tasks []TaskResult) []string
}

// New makes a world. It fails only on a bad configuration.
func New(cfg Config) (*World, error) {
	if cfg.MaxSteps < 0 {
		return nil, fmt.Errorf("sim: MaxSteps %d is negative", cfg.MaxSteps)
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = Epoch
	}
	st := cfg.Strategy
	if st == nil {
		st = NewRandom(cfg.Seed)
	}
	w := &World{
		cfg:      cfg,
		strategy: st,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5eed_0f_3a7d_5173)),
	}
	// The header is filled in at the end of the run (it does not change),
	// so that a short run does not pay for hashing and formatting it twice.
	switch {
	case cfg.Trace || cfg.expect != nil:
		w.full = true
		w.trace = &Trace{Events: make([]Event, 0, 128)}
	case cfg.TraceChoices:
		w.trace = &Trace{Events: make([]Event, 0, 16)}
	}
	if cfg.OnEvent != nil && w.trace != nil {
		w.trace.Events = nil
	}
	if cfg.expect != nil {
		w.exp = cfg.expect
		w.strategy = strictReplay{w}
	}
	if obs, ok := st.(stepObserver); ok {
		w.rec = obs.recorder()
		w.rec.reset(obs)
	}
	return w, nil
}

// MustNew is New for configurations known to be valid, as in examples.
func MustNew(cfg Config) *World {
	w, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return w
}

func (w *World) header() Header {
	spec := w.strategy.Spec()
	return Header{
		Format:     FormatVersion,
		Seed:       w.cfg.Seed,
		Run:        w.cfg.Run,
		Strategy:   spec.Name,
		Params:     spec.Params,
		Variant:    w.cfg.Variant,
		Scenario:   w.cfg.Scenario,
		ConfigHash: ConfigHash(w.cfg.Config),
		Config:     embedded(w.cfg),
	}
}

// embedded is the configuration the header carries: none unless asked,
// and none if it would make the header longer than a reader reads (the
// trace then needs the configuration from elsewhere; its hash still
// checks it).
func embedded(cfg Config) string {
	if !cfg.EmbedConfig || jsonStringLen(string(cfg.Config)) > maxHeaderLine-64<<10 {
		return ""
	}
	return string(cfg.Config)
}

// Seed returns the world's seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// Rand is the world's seeded random source for models (ephemeral ports,
// fault injection, shuffles). Draws happen in task order, so they are
// reproducible from the seed and the choices.
func (w *World) Rand() *rand.Rand {
	w.Touch(Obj{ObjRand, 0}, Write)
	return w.rng
}

// Tracing reports whether events are recorded; callers may skip building
// detail strings when it is false.
func (w *World) Tracing() bool { return w.full }

// Step is the number of scheduling steps taken so far. It depends on the
// order of every step before it, so a step that reads it is dependent on
// all others.
func (w *World) Step() int64 {
	w.TouchAll()
	return w.step
}

// Current is the task the caller runs in: nil outside any task (during
// setup, after Run) and in any goroutine other than the running task's.
func (w *World) Current() *Task { return w.caller() }

// caller is the running task if the calling goroutine is the one running
// it, else nil. It reads owner before current, so a goroutine that is not
// the owner never reads what the world's goroutines write.
func (w *World) caller() *Task {
	if w.owner.Load() != goid.Get() {
		return nil
	}
	return w.current
}

// World phases.
const (
	phaseSetup uint32 = iota
	phaseRunning
	phaseEnded
)

// CheckCaller reports whether the calling goroutine may use the world and
// the models built on it (host, file system, network) now. While Run runs
// only the running task may — or Run's own goroutine between tasks (idle
// hooks, end-of-run checks) — and any other goroutine gets ErrNotInTask;
// before Run starts and after it returns, nothing runs and any goroutine
// may. Layers call it before touching their state, so a stray goroutine
// gets an error instead of racing with the run.
func (w *World) CheckCaller() error {
	if w.phase.Load() == phaseRunning && w.owner.Load() != goid.Get() {
		return ErrNotInTask
	}
	return nil
}

// Ended reports whether Run has returned: the run is over, and guest calls
// of the layers above fail with ErrRunEnded.
func (w *World) Ended() bool { return w.phase.Load() == phaseEnded }

// Now is the virtual monotonic time since the start of the run.
func (w *World) Now() time.Duration {
	// Reading the clock orders the step after the steps that advanced
	// it; only the running task's reads are steps (any goroutine may
	// read the time).
	if w.rec != nil && w.owner.Load() == goid.Get() {
		w.Touch(Obj{ObjClock, 0}, Read)
	}
	return time.Duration(w.now.Load())
}

// WallNow is the virtual wall-clock time.
func (w *World) WallNow() time.Time { return w.cfg.Epoch.Add(w.Now()) }

// AddLeakCheck registers a function run at the end of Run that lists the
// objects of a layer still alive, each as a description of the object and
// what still references it.
func (w *World) AddLeakCheck(layer string, check func() []string) {
	w.TouchAll() // the order of the checks is the order of the report
	w.leakChecks = append(w.leakChecks, leakCheck{layer, check})
}

// AddMisuseCheck registers a function run at the end of Run that lists the
// misuses a layer saw (a reference dropped after its object was released,
// a released object resurrected). Each one fails the run.
func (w *World) AddMisuseCheck(layer string, check func() []string) {
	w.TouchAll()
	w.misuseChks = append(w.misuseChks, leakCheck{layer, check})
}

// AddFailureCheck registers a function run at the end of Run, after every
// task has ended, with how each ended. It lists the failures of its layer
// that no task reported — a trap a guest ignored, say, which must still
// fail the run. Each one fails the run (Result.Unreported).
func (w *World) AddFailureCheck(layer string, check func(tasks []TaskResult) []string) {
	w.failChecks = append(w.failChecks, failureCheck{layer, check})
}

// Event records that something observable happened: a copy step, a drop,
// a release, a completion. It is attributed to the running task (0 outside
// tasks). In strict replay a mismatch with the trace ends the run with a
// Divergence.
func (w *World) Event(kind, obj, detail string) {
	if !w.full || w.CheckCaller() != nil || w.Ended() {
		// From another goroutine it would race with the run; after the
		// run it would land after the end line.
		return
	}
	w.record(Event{Step: w.step, Task: w.taskID(), Kind: kind, Obj: obj, Detail: detail})
}

func (w *World) taskID() int32 {
	if w.current == nil {
		return 0
	}
	return int32(w.current.id)
}

func (w *World) record(ev Event) {
	ev.Obj, ev.Detail = clip(ev.Obj, maxField), clip(ev.Detail, maxField)
	if w.exp != nil && w.divergence == nil && (!w.exp.choices || ev.Of > 0 || ev.Kind == "input") {
		w.compare(ev)
	}
	if w.cfg.OnEvent != nil {
		w.cfg.OnEvent(ev)
		return
	}
	w.trace.Events = append(w.trace.Events, ev)
}

// compare checks a replayed event against the trace. It is apart from
// record so that taking the event's address does not make every recorded
// event escape to the heap.
func (w *World) compare(ev Event) {
	e, ok := w.exp.peek()
	switch {
	case w.exp.err != nil:
		// The trace cannot be read on: end the run (ReplayFrom returns
		// the error).
		if w.abortErr == nil {
			w.abortErr = w.exp.err
		}
	case !ok:
		w.diverge(&Divergence{Step: ev.Step, Actual: &ev, Reason: "the run goes on after the trace ends"})
	case *e != ev:
		exp := *e
		w.diverge(&Divergence{Step: ev.Step, Expected: &exp, Actual: &ev, Reason: "different event"})
	}
	w.exp.advance()
}

// clip bounds a string the trace records: at most max bytes (cut at a
// rune boundary, marked), valid UTF-8 (as the encoder writes it), so
// that the recorded event is what reading the trace back yields.
func clip(s string, max int) string {
	if len(s) > max {
		cut := max - 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…(clipped from " + strconv.Itoa(len(s)) + " bytes)"
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

func (w *World) diverge(d *Divergence) {
	if w.divergence == nil {
		w.divergence = d
	}
}

// Choose asks the strategy to pick one of n alternatives of a model
// decision (how many bytes a copy step moves, which pending event fires).
// label names the decision in the trace. n < 2 needs no choice and returns
// 0, as does a call from a goroutine CheckCaller refuses.
func (w *World) Choose(label string, n int) int {
	if n < 2 || w.CheckCaller() != nil {
		return 0
	}
	i := w.strategy.Choose(ChoicePoint{Step: w.step, Kind: ChooseValue, Label: label, N: n, Current: -1})
	i = w.checkChoice(i, n)
	if w.trace != nil {
		w.record(Event{Step: w.step, Task: w.taskID(), Kind: "choose", Obj: label, Choice: int32(i), Of: int32(n)})
	}
	return i
}

func (w *World) checkChoice(i, n int) int {
	if i < 0 || i >= n {
		if w.abortErr == nil {
			w.abortErr = fmt.Errorf("sim: strategy %s chose %d of %d alternatives", w.strategy.Spec().Name, i, n)
		}
		i = 0
	}
	return i
}

// Go starts a task. It may be called before Run or from a running task;
// the new task is runnable at once, and the strategy decides when it runs.
// Called after Run has returned, or from a goroutine CheckCaller refuses,
// it starts nothing: the task it returns has ended (id 0) with
// ErrRunEnded or ErrNotInTask as its error.
func (w *World) Go(name string, fn func(t *Task) error) *Task {
	if err := w.startErr(); err != nil {
		t := &Task{w: w, name: name, full: name + "#0", state: stateDone, err: err}
		t.done = w.NewWaitQueue("join " + t.full)
		return t
	}
	t := &Task{w: w, id: len(w.tasks) + 1, name: name, state: stateReady}
	t.full = name + "#" + strconv.Itoa(t.id)
	t.done = w.NewWaitQueue("join " + t.Name())
	seq := func(yield func(struct{}) bool) {
		// The task's coroutine is a goroutine of its own: from now on
		// the world is this goroutine's whenever the task runs.
		t.g = goid.Get()
		w.owner.Store(t.g)
		t.yield = yield
		defer func() {
			if r := recover(); r != nil {
				if r == errKilledSentinel {
					t.err = ErrKilled
					return
				}
				t.err = &PanicError{Task: t.Name(), Value: r, Stack: string(debug.Stack())}
			}
		}()
		t.err = fn(t)
	}
	t.next, t.stop = iter.Pull(seq)
	w.tasks = append(w.tasks, t)
	w.makeReady(t)
	if w.rec != nil {
		w.Touch(Obj{ObjSpawn, 0}, Write)
		w.recWoke(t)
	}
	if w.full {
		w.record(Event{Step: w.step, Task: w.taskID(), Kind: "spawn", Obj: t.Name()})
	}
	return t
}

// startErr is why a task cannot start now, or nil.
func (w *World) startErr() error {
	if w.Ended() {
		return ErrRunEnded
	}
	return w.CheckCaller()
}

func (w *World) makeReady(t *Task) {
	t.state = stateReady
	if n := len(w.ready); n == 0 || w.ready[n-1].id < t.id {
		w.ready = append(w.ready, t) // the common case: no search, no shift
		return
	}
	i := sort.Search(len(w.ready), func(i int) bool { return w.ready[i].id >= t.id })
	w.ready = append(w.ready, nil)
	copy(w.ready[i+1:], w.ready[i:])
	w.ready[i] = t
}

// Yield is a scheduling point: the running task stays runnable and the
// strategy picks who runs next. Outside a task (or in a goroutine that is
// not the running task's) it does nothing.
func (w *World) Yield() {
	t := w.caller()
	if t == nil {
		return
	}
	w.makeReady(t)
	// Decide the next step here, in the yielding task: if the strategy
	// picks this task again it just continues, without two coroutine
	// switches. The choice and its trace event are the same either way.
	if w.abortErr == nil && w.divergence == nil && w.step < w.cfg.MaxSteps && !w.stop.Load() {
		w.step++
		next := w.pick()
		if next == t {
			t.state = stateRunning
			return
		}
		w.picked = next
	}
	t.park()
}

// Sleep blocks the running task for d of virtual time. A sleep that
// would end past the largest time.Duration ends there instead (about 292
// years after the start of the run): the clock saturates, it never wraps.
func (w *World) Sleep(d time.Duration) error {
	t := w.caller()
	if t == nil {
		return ErrNotInTask
	}
	if d <= 0 {
		w.Yield()
		return nil
	}
	t.waitingOn = "sleep"
	t.state = stateBlocked
	w.addTimer(t, d)
	t.park()
	return nil
}

// Run runs the world until every task has ended or the run can make no
// progress (deadlock), a step limit is hit, or a replay diverges. It may be
// called once.
func (w *World) Run() *Result {
	if w.ran {
		return &Result{Err: errors.New("sim: World.Run called twice")}
	}
	w.ran = true
	w.runG = goid.Get()
	w.owner.Store(w.runG)
	w.phase.Store(phaseRunning)
	for w.abortErr == nil && w.divergence == nil {
		t := w.picked
		w.picked = nil
		if t == nil {
			if len(w.ready) == 0 {
				if w.rec != nil {
					w.recBegin(nil, nil) // a world event, if a timer or input wakes a task
				}
				if w.fireTimers() || w.runIdle() {
					continue
				}
				break
			}
			if w.step >= w.cfg.MaxSteps || w.stop.Load() {
				w.abortErr = fmt.Errorf("%w: %d steps", ErrStepLimit, w.step)
				break
			}
			w.step++
			t = w.pick()
		}
		w.current = t
		w.lastRun = t
		t.state = stateRunning
		if t.g != 0 { // a task's first resumption sets owner itself
			w.owner.Store(t.g)
		}
		_, alive := t.next()
		w.owner.Store(w.runG)
		w.current = nil
		if !alive {
			w.finish(t)
		}
	}
	return w.end()
}

// Stop ends the run at its next scheduling step as if its step limit were
// reached there: the run's error is ErrStepLimit with the steps it took,
// so its trace replays with Config.MaxSteps set to them. Unlike the rest
// of a World, Stop may be called from any goroutine (a signal handler's).
func (w *World) Stop() { w.stop.Store(true) }

func (w *World) pick() *Task {
	if w.rec != nil {
		w.rec.end() // the step that led here is over before the next is chosen
	}
	if len(w.ready) == 1 {
		t := w.ready[0]
		w.ready = w.ready[:0]
		if w.rec != nil {
			w.recBegin(t, nil)
		}
		return t
	}
	alts := w.altsBuf[:0]
	cur := -1
	for i, r := range w.ready {
		alts = append(alts, r.id)
		if r == w.lastRun {
			cur = i
		}
	}
	w.altsBuf = alts
	i := w.strategy.Choose(ChoicePoint{Step: w.step, Kind: ChooseTask, Tasks: alts, N: len(alts), Current: cur})
	i = w.checkChoice(i, len(alts))
	t := w.ready[i]
	copy(w.ready[i:], w.ready[i+1:])
	w.ready = w.ready[:len(w.ready)-1]
	if w.trace != nil {
		w.record(Event{Step: w.step, Task: int32(t.id), Kind: "sched", Choice: int32(i), Of: int32(len(alts))})
	}
	if w.rec != nil {
		w.recBegin(t, alts)
	}
	return t
}

func (w *World) finish(t *Task) {
	w.Touch(Obj{ObjTask, uint64(t.id)}, Publish)
	t.state = stateDone
	if w.full {
		detail := "ok"
		if t.err != nil {
			detail = t.err.Error()
		}
		w.record(Event{Step: w.step, Task: int32(t.id), Kind: "exit", Obj: t.Name(), Detail: detail})
	}
	t.done.Broadcast()
}

func (w *World) end() *Result {
	if w.rec != nil {
		w.rec.end()
	}
	res := &Result{Steps: w.step, Err: w.abortErr, Divergence: w.divergence}
	// Record every blocked task before killing any: a killed task's
	// deferred calls may wake another, which must still be reported.
	var stuck []*Task
	for _, t := range w.tasks {
		if t.state == stateBlocked || t.state == stateReady {
			if w.abortErr == nil && w.divergence == nil && t.state == stateBlocked {
				res.Deadlock = append(res.Deadlock, Blocked{Task: t.id, Name: t.Name(), WaitingOn: t.waitingOn})
			}
			stuck = append(stuck, t)
		}
	}
	for _, t := range stuck {
		if t.state != stateDone {
			w.kill(t)
		}
	}
	// Tasks woken by those deferred calls cannot run any more either.
	for _, t := range w.tasks {
		if t.state != stateDone {
			w.kill(t)
		}
	}
	for _, t := range w.tasks {
		res.Tasks = append(res.Tasks, TaskResult{ID: t.id, Name: t.Name(), Err: t.err})
	}
	for _, lc := range w.leakChecks {
		for _, obj := range lc.check() {
			res.Leaks = append(res.Leaks, Leak{Layer: lc.layer, Object: obj})
		}
	}
	for _, mc := range w.misuseChks {
		for _, m := range mc.check() {
			res.Misuses = append(res.Misuses, Misuse{Layer: mc.layer, What: m})
		}
	}
	for _, fc := range w.failChecks {
		for _, f := range fc.check(res.Tasks) {
			res.Unreported = append(res.Unreported, Misuse{Layer: fc.layer, What: f})
		}
	}
	if se, ok := w.strategy.(interface{ Err() error }); ok && se.Err() != nil && res.Divergence == nil {
		res.Divergence = &Divergence{Step: w.step, Reason: se.Err().Error()}
	}
	if w.exp != nil && res.Divergence == nil {
		if e, ok := w.exp.peek(); ok {
			exp := *e
			res.Divergence = &Divergence{Step: w.step, Expected: &exp, Reason: "the run ended before the trace"}
		}
	}
	w.owner.Store(0)
	w.phase.Store(phaseEnded)
	if w.trace != nil {
		if w.trace.Header.Format == 0 { // not set by Replay
			w.trace.Header = w.header()
			if !w.full {
				w.trace.Header.Mode = ModeChoices
			}
		}
		w.trace.End = &End{Steps: w.step, Outcome: clip(res.Outcome(), maxOutcome)}
		if w.exp != nil && res.Divergence == nil && w.exp.done {
			if want, got := w.exp.src.End(), w.trace.End; want != nil {
				switch {
				case want.Outcome != got.Outcome:
					res.Divergence = &Divergence{Step: w.step, Reason: fmt.Sprintf("outcome %q, trace says %q", got.Outcome, want.Outcome)}
				case want.Steps != got.Steps:
					res.Divergence = &Divergence{Step: w.step, Reason: fmt.Sprintf("the run took %d steps, the trace says %d", got.Steps, want.Steps)}
				}
			}
		}
	}
	return res
}

// kill unwinds a task that can no longer run, running its deferred calls.
func (w *World) kill(t *Task) {
	t.killed = true
	w.current = t
	if t.g != 0 {
		w.owner.Store(t.g)
	}
	t.stop()
	w.owner.Store(w.runG)
	w.current = nil
	t.state = stateDone
	if t.err == nil {
		t.err = ErrKilled
	}
}

// Trace returns the recorded trace (nil when tracing is off). After Run it
// includes the end line.
func (w *World) Trace() *Trace { return w.trace }

// Result is what a run produced.
type Result struct {
	Steps    int64
	Tasks    []TaskResult
	Deadlock []Blocked
	Leaks    []Leak
	Misuses  []Misuse
	// Unreported are failures a layer saw that no task reported (see
	// World.AddFailureCheck).
	Unreported []Misuse
	Divergence *Divergence
	// Err is a run-level failure: the step limit, a bad strategy choice.
	Err error
}

// TaskResult is how one task ended.
type TaskResult struct {
	ID   int
	Name string
	Err  error
}

// Blocked describes a task that was waiting when the run could go no further.
type Blocked struct {
	Task      int
	Name      string
	WaitingOn string
}

// Leak is an object alive at the end of a run.
type Leak struct {
	Layer  string
	Object string
}

// Misuse is a misuse seen during a run: of a reference count (Misuses),
// or a failure no task reported (Unreported).
type Misuse struct {
	Layer string
	What  string
}

// Failed reports whether anything went wrong: a task error, a deadlock, a
// leak, a reference-count misuse, a failure no task reported, a divergence
// or a run error.
func (r *Result) Failed() bool { return r.Error() != nil }

// Error combines every failure of the run into one error (nil if none).
func (r *Result) Error() error {
	var errs []error
	if r.Err != nil {
		errs = append(errs, r.Err)
	}
	if r.Divergence != nil {
		errs = append(errs, r.Divergence)
	}
	for _, t := range r.Tasks {
		if t.Err != nil && !(errors.Is(t.Err, ErrKilled) && len(r.Deadlock) > 0) {
			errs = append(errs, fmt.Errorf("task %s: %w", t.Name, t.Err))
		}
	}
	if len(r.Deadlock) > 0 {
		errs = append(errs, &DeadlockError{Blocked: r.Deadlock})
	}
	for _, l := range r.Leaks {
		errs = append(errs, fmt.Errorf("leak in %s: %s", l.Layer, l.Object))
	}
	for _, m := range r.Misuses {
		errs = append(errs, fmt.Errorf("misuse in %s: %s", m.Layer, m.What))
	}
	for _, u := range r.Unreported {
		errs = append(errs, fmt.Errorf("%s: %s", u.Layer, u.What))
	}
	return errors.Join(errs...)
}

// Outcome is a one-line summary used to compare runs ("ok" or the errors).
func (r *Result) Outcome() string {
	err := r.Error()
	if err == nil {
		return "ok"
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// Divergence is where a strict replay stopped matching its trace.
type Divergence struct {
	Step     int64
	Expected *Event
	Actual   *Event
	Reason   string
}

func (d *Divergence) Error() string {
	s := fmt.Sprintf("replay diverged at step %d: %s", d.Step, d.Reason)
	if d.Expected != nil {
		s += "; expected " + d.Expected.String()
	}
	if d.Actual != nil {
		s += "; got " + d.Actual.String()
	}
	return s
}

// DeadlockError lists the tasks that waited forever.
type DeadlockError struct{ Blocked []Blocked }

func (e *DeadlockError) Error() string {
	parts := make([]string, len(e.Blocked))
	for i, b := range e.Blocked {
		parts[i] = fmt.Sprintf("%s waits on %s", b.Name, b.WaitingOn)
	}
	return "deadlock: " + strings.Join(parts, ", ")
}

// PanicError is a task that panicked; the run goes on without it.
type PanicError struct {
	Task  string
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic in task %s: %v", e.Task, e.Value) }

var (
	// ErrNotInTask is returned by blocking primitives called outside a
	// task, and by every call of a layer on a running world from a
	// goroutine that is not the running task's (see World.CheckCaller).
	ErrNotInTask = errors.New("sim: call outside the world's running task")
	// ErrRunEnded is the error of a guest call, or of World.Go, after Run
	// has returned.
	ErrRunEnded = errors.New("sim: the run has ended")
	// ErrKilled is the error of a task that was unwound because the run ended
	// while it was blocked (deadlock, step limit, divergence).
	ErrKilled = errors.New("sim: task killed at end of run")
	// ErrStepLimit ends a run that took more steps than Config.MaxSteps.
	ErrStepLimit = errors.New("sim: step limit reached")
)

// ErrWouldBlock is the error of a non-blocking call that would have had
// to wait (vfs's TryLock, vnet's Try* methods). The layers share this one
// value, so errors.Is(err, ErrWouldBlock) holds whichever layer refused;
// vfs.ErrWouldBlock and vnet.ErrWouldBlock are this value.
// errors.Is(ErrWouldBlock, syscall.EAGAIN) holds, and as a net.Error it is
// temporary and not a timeout.
var ErrWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string        { return "operation would block" }
func (wouldBlock) Is(target error) bool { return target == syscall.EAGAIN }
func (wouldBlock) Timeout() bool        { return false }
func (wouldBlock) Temporary() bool      { return true }

type killedSentinel struct{}

var errKilledSentinel any = killedSentinel{}
