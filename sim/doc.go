// Package sim is wasisim's deterministic world: cooperative tasks, the
// choice strategies that order them, a virtual clock, seeded randomness,
// trace recording and strict replay, an exploration driver and a schedule
// shrinker.
//
// # Tasks and choices
//
// A World runs Go functions as tasks (World.Go). Exactly one task runs at a
// time; a task gives up control only at a world primitive: World.Yield,
// WaitQueue.Wait, World.Sleep, Task.Join. Each time control returns to the
// world and more than one task is runnable, the world asks its Strategy
// which one runs next. Models call World.Choose for their own decisions
// (how many bytes a copy step moves, which of two pending events fires).
// Every choice is recorded, so a run is a pure function of its seed and its
// choices: no goroutine order, map order, wall clock or global randomness
// reaches it.
//
// Tasks are coroutines built with iter.Pull: a switch costs a coroutine
// switch (about 100 ns here) instead of a goroutine handoff through a
// channel (several hundred ns); BenchmarkSwitch measures both.
//
// While Run runs, the world belongs to the running task. A call from any
// other goroutine — one a task started, a library's background reader —
// would race with it, so the world tells callers apart (each task is a
// goroutine of its own): its blocking primitives return ErrNotInTask to
// them, Yield, Event and Choose do nothing for them, and the layers above
// check World.CheckCaller before touching their own state. After Run, Go
// starts nothing (the task it returns has ended with ErrRunEnded).
//
// # Strategies
//
// NewRandom (seeded uniform), NewPCT (probabilistic concurrency testing
// with bug depth d), NewRoundRobin, NewDFS (bounded exhaustive search over
// choice sequences, with an optional preemption bound), NewReplay (the
// choices of a recorded trace) and NewRapid (choices drawn from a
// *rapid.T, so rapid shrinks schedules).
//
// # Exhaustive search and partial-order reduction
//
// Explore's "dfs" runs every schedule once per class of equivalent
// interleavings: dynamic partial-order reduction with source sets and
// sleep sets (Abdulla et al., JACM 2017). Two steps are independent when
// they touch different objects, or only read the same ones; interleavings
// that differ only in the order of independent steps reach the same state,
// and one of them is enough. Steps say what they touch through
// World.Touch (the models do: host, vfs and vnet name handle entries,
// streams, futures, the file system, sockets, connections, ports; the
// world names its wait queues, clock, timers, randomness and tasks). Only
// the steps of tasks marked Annotated are described that way; every step
// of any other task is dependent on every step, which is always sound.
// Task.Touches adds an object to every step of a task: a WebAssembly
// guest's linear memory, which its code uses anywhere between two host
// calls (the host's copies through a buffer the guest lent touch it too).
// A task's next step starts with what its previous one touched (code
// after a wait goes on with what it had), except after YieldBoundary.
// WaitQueue.Await and the Publish mode let a check that finds it must wait
// drop out of the search: only the check that succeeds counts.
//
// The tree is split into subtrees in a fixed order (DFSOptions.Split), so
// that Workers explore it in parallel and shards (ExploreOptions.Shard)
// on several machines, without talking to each other: the report is the
// same for every number of workers and shards — the same runs, outcomes
// and first failure, (Failure.Job, Failure.Index) being the fixed order.
// DFSOptions.Plain runs every interleaving instead. While it runs,
// Progress gives Knuth's estimate of the share of the tree covered, the
// schedules in all and the time left.
//
// # Virtual clock
//
// World.Now and World.WallNow advance only when no task can run and a timer
// is due, as in testing/synctest; the strategy still orders the tasks a
// timer wakes.
//
// # Trace format (version 1)
//
// A trace is JSON Lines. The first line is the header:
//
//	{"wasisim_trace":1,"seed":42,"run":0,"strategy":"pct","params":{"depth":"2","seed":"42","steps":"50"},"variant":"p3","scenario":"drop-during-write","config_hash":"9f2c…"}
//
// Then one line per event, in order:
//
//	{"step":3,"task":2,"kind":"sched","choice":1,"of":2}
//	{"step":3,"task":2,"kind":"copy","obj":"stream#4","detail":"8 bytes"}
//
// step is the scheduling step (it grows by one each time a task is
// resumed), task the task the event is attributed to (0: the world), kind
// what happened, obj the object it happened to and detail free text.
// Choice points carry choice (the index chosen, omitted when 0) and of (the
// number of alternatives): "sched" picks the task that runs in this step,
// "choose" a model value named by obj. Other kinds come from the layers
// above ("spawn", "exit" and "clock" come from sim itself). The last line
// ends the trace:
//
//	{"end":{"steps":17,"outcome":"ok"}}
//
// A trace without its end line is truncated and ReadTrace refuses it.
//
// Lines are bounded, and whatever the world writes its reader reads: the
// header line to 64 MiB (a configuration that would not fit is not
// embedded: its hash still names it), every other line to 1 MiB (the
// world clips an event's obj and detail to 64 KiB and the outcome to
// 128 KiB when it records them, and input events carry at most 32 KiB of
// data each). ReadTrace loads at most MaxTraceBytes (128 MiB); a TraceReader reads
// any trace one event at a time, and ReplayFrom replays it as the run
// goes, in memory that does not grow with its length (with
// Config.OnEvent, the replayed events are not kept either).
//
// A compact trace (Config.TraceChoices) has "mode":"choices" in its
// header and holds only the "sched" and "choose" lines and the end line.
// Recording it costs almost nothing, and it reproduces the run exactly:
// strict replay checks every choice and the outcome, and yields the full
// trace of the same run.
//
// Replay re-runs a trace in strict mode, comparing every event and the end
// line (its outcome and its step count); the first mismatch is a
// *Divergence naming the step and both events.
//
// Explore finds failing runs; Shrink then minimises the schedule of one:
// it searches for a run that fails the same way with as few departures
// from the first alternative as it can find, and returns its trace.
package sim
