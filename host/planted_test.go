package host

import (
	"context"
	"fmt"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// plantedDropBug is a guest with a depth-2 ordering bug: it drops the
// stream it gave write-via-stream and then checks the file size without
// awaiting the future. The check fails when the host's consumer has not
// written the last chunk yet: two orderings (drop before the consumer's
// last write, stat before it) must line up.
func plantedDropBug(w *sim.World) error {
	h, err := New(w, Options{Chunk: 8})
	if err != nil {
		return err
	}
	in := h.NewInstance("guest")
	w.Go("guest", func(*sim.Task) error {
		pre, _ := in.Preopens()
		fd, _ := in.OpenAt(pre[0].Handle, 0, "f", vfs.OpenCreate, vfs.Write)
		r, wr, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		in.WriteAll(wr, []byte("0123456789abcdef"))
		in.Drop(wr)
		st, _ := in.Stat(fd) // bug: should await fut first
		if st.Size != 16 {
			return fmt.Errorf("file has %d bytes after the write, want 16", st.Size)
		}
		in.Await(fut)
		return in.DropAll()
	})
	return nil
}

func TestStrategiesFindPlantedDropBug(t *testing.T) {
	// Measure the scenario: tasks and steps per run.
	res, _, _ := sim.RunOnce(sim.Config{Seed: 1}, plantedDropBug)
	n, k := len(res.Tasks), int(res.Steps)
	bound := n * k // PCT with d=2 finds it with probability ≥ 1/(n·k) per run
	pct, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "pct", Seed: 1, Runs: bound, Workers: 1,
		Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 2, Steps: k}}}, plantedDropBug)
	if err != nil {
		t.Fatal(err)
	}
	if len(pct.Failures) == 0 {
		t.Fatalf("PCT (d=2) did not find the planted bug in %d runs (n=%d, k=%d)", bound, n, k)
	}
	dfs, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "dfs"}, plantedDropBug)
	if err != nil || len(dfs.Failures) == 0 {
		t.Fatalf("exhaustive search did not find the planted bug: %v", err)
	}
	rnd, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 1, Runs: 1000, KeepGoing: true}, plantedDropBug)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("n=%d tasks, k=%d steps: PCT found it at run %d (bound %d); DFS after %d schedules; random in %d of %d runs",
		n, k, pct.Failures[0].Run+1, bound, dfs.Runs, len(rnd.Failures), rnd.Runs)
}
