package wasip3

import (
	"context"
	"slices"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// fileOutcomes explores every schedule of a fixture component that
// writes f.txt, with or without partial-order reduction and with the
// host mutations mut, and returns what the file held after the guest
// ended (with the guest's error), each outcome once, and the number of
// schedules.
func fileOutcomes(t *testing.T, fixture string, plain bool, mut mutation.Set) ([]string, int) {
	t.Helper()
	comp := testdataComponent(t, fixture)
	var seen []string
	// One subtree: a split branches on every task at the top of the tree,
	// which would reach the early races whatever the footprints say.
	opt := sim.ExploreOptions{Strategy: "dfs", Seed: 1, Workers: 1, KeepGoing: true,
		Options: sim.StrategyOptions{DFS: sim.DFSOptions{Plain: plain, Split: 1}}}
	rep, err := sim.Explore(context.Background(), opt, func(w *sim.World) error {
		mutation.Enable(w, mut)
		h, err := host.New(w, host.Options{})
		if err != nil {
			return err
		}
		g := Spawn(h, comp, Config{Name: "guest"})
		w.Go("check", func(*sim.Task) error {
			g.Task().Join() //nolint:errcheck // the guest's error is part of the outcome
			o := "no file"
			root := h.FS().Root(vfs.Read)
			defer root.DecRef() //nolint:errcheck
			if f, err := root.OpenAt(0, "f.txt", 0, vfs.Read); err == nil {
				buf := make([]byte, 16)
				n, _ := f.ReadAt(buf, 0)
				f.DecRef() //nolint:errcheck
				o = "file " + string(buf[:n])
			}
			if err := g.Err(); err != nil {
				o += "; " + err.Error()
			}
			// Only a run that gets here counts: the search stops some
			// runs early, as redundant.
			seen = append(seen, o)
			return nil
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Exhausted {
		t.Fatalf("%s (plain %v): not exhausted after %d schedules", fixture, plain, rep.Runs)
	}
	slices.Sort(seen)
	return slices.Compact(seen), rep.Runs
}

// A component's guest task touches its memory in every step, and the
// host's copies through a buffer it lent touch it too: exhaustive search
// with partial-order reduction reaches every outcome plain search does
// on a guest that overwrites a buffer its pending write lent to the host
// (the file holds "hello", "HELLO" or nothing, depending on where the
// host's copy falls).
func TestReducedSearchKeepsGuestMemoryRaces(t *testing.T) {
	all, n := fileOutcomes(t, "lent-buffer-race", true, 0)
	red, m := fileOutcomes(t, "lent-buffer-race", false, 0)
	t.Logf("every schedule: %d runs, %q; reduced: %d runs, %q", n, all, m, red)
	if len(all) < 3 {
		t.Fatalf("the guest has %d outcomes %q, want the three a lent buffer allows", len(all), all)
	}
	if !slices.Equal(red, all) {
		t.Fatalf("the reduced search reaches %q, every schedule %q", red, all)
	}
}

// The component of the PR 870 scenario (drop the descriptor mid-write,
// then feed the stream) sees every byte land in every schedule; a host
// that resolves the write's future before the bytes land does not. The
// reduced search reaches the same outcomes as plain search, with the
// mutation and without, in fewer schedules.
func TestReducedSearchFindsMutationsThroughComponents(t *testing.T) {
	for _, tc := range []struct {
		mut  mutation.Set
		want func([]string) bool
	}{
		{0, func(o []string) bool { return slices.Equal(o, []string{"file hello"}) }},
		{mutation.ResolveWriteEarly, func(o []string) bool { return len(o) > 1 && slices.Contains(o, "file hello") }},
	} {
		all, n := fileOutcomes(t, "drop-mid-write-p3", true, tc.mut)
		red, m := fileOutcomes(t, "drop-mid-write-p3", false, tc.mut)
		t.Logf("mutations %v: every schedule: %d runs, %q; reduced: %d runs, %q", tc.mut, n, all, m, red)
		if !tc.want(all) {
			t.Fatalf("mutations %v: outcomes %q", tc.mut, all)
		}
		if !slices.Equal(red, all) {
			t.Fatalf("mutations %v: the reduced search reaches %q, every schedule %q", tc.mut, red, all)
		}
		if m >= n {
			t.Fatalf("mutations %v: the reduced search ran %d schedules, plain search %d", tc.mut, m, n)
		}
	}
}
