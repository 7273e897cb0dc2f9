package sim

// tally counts the runs of an exploration that stops at its first
// failure so that the count is the same whatever order parallel workers
// finish in: the report covers exactly the runs up to the lowest failing
// one. A run that finished before a lower-numbered run failed is taken
// out again; to know which those are, it remembers the outcomes of the
// runs finished above the lowest run still going (a window as wide as
// the workers are out of step), not of every run.
type tally struct {
	rep    *Report
	step   uint64 // distance between two run indexes of this shard
	low    uint64 // lowest run index not finished yet
	done   map[uint64]bool
	window map[uint64]string // counted runs above low, with their outcome
}

func newTally(rep *Report, first, step uint64) *tally {
	return &tally{rep: rep, step: step, low: first, done: map[uint64]bool{}, window: map[uint64]string{}}
}

// add counts a finished run, unless a lower run failed already.
func (t *tally) add(run uint64, outcome string, stopAt uint64) {
	if run < stopAt {
		t.rep.Runs++
		t.rep.Outcomes[outcome]++
		if run > t.low {
			t.window[run] = outcome
		}
	}
	t.done[run] = true
	for t.done[t.low] {
		delete(t.done, t.low)
		delete(t.window, t.low)
		t.low += t.step
	}
	for r := range t.window {
		if r < t.low {
			delete(t.window, r)
		}
	}
}

// cut takes out the runs counted above a failing run.
func (t *tally) cut(failed uint64) {
	for r, o := range t.window {
		if r > failed {
			delete(t.window, r)
			t.rep.Runs--
			if t.rep.Outcomes[o]--; t.rep.Outcomes[o] == 0 {
				delete(t.rep.Outcomes, o)
			}
		}
	}
}
