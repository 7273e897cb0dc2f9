package wasip3

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// A component's guest task touches its memory in every step, and the
// host's copies through a buffer it lent touch it too: exhaustive search
// with partial-order reduction reaches every outcome plain search does
// on a guest that overwrites a buffer its pending write lent to the host
// (the file holds "hello", "HELLO" or nothing, depending on where the
// host's copy falls).
func TestReducedSearchKeepsGuestMemoryRaces(t *testing.T) {
	b, err := os.ReadFile("testdata/lent-buffer-race.wasm")
	if err != nil {
		t.Fatal(err)
	}
	comp, err := component.DefaultEngine().Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := func(plain bool) ([]string, int) {
		var seen []string
		opt := sim.ExploreOptions{Strategy: "dfs", Seed: 1, Workers: 1, KeepGoing: true}
		opt.Options.DFS.Plain = plain
		rep, err := sim.Explore(context.Background(), opt, func(w *sim.World) error {
			h, err := host.New(w, host.Options{})
			if err != nil {
				return err
			}
			g := Spawn(h, comp, Config{Name: "guest"})
			w.Go("check", func(*sim.Task) error {
				g.Task().Join() //nolint:errcheck // the guest's failure is the run's
				root := h.FS().Root(vfs.Read)
				defer root.DecRef() //nolint:errcheck
				o := "no file"
				if f, err := root.OpenAt(0, "f.txt", 0, vfs.Read); err == nil {
					buf := make([]byte, 16)
					n, _ := f.ReadAt(buf, 0)
					f.DecRef() //nolint:errcheck
					o = "file " + string(buf[:n])
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
		if !rep.Exhausted || len(rep.Failures) > 0 {
			t.Fatalf("plain %v: exhausted %v after %d schedules, failures %v", plain, rep.Exhausted, rep.Runs, rep.Failures)
		}
		slices.Sort(seen)
		return slices.Compact(seen), rep.Runs
	}
	all, n := outcomes(true)
	red, m := outcomes(false)
	t.Logf("every schedule: %d runs, %q; reduced: %d runs, %q", n, all, m, red)
	if len(all) < 3 {
		t.Fatalf("the guest has %d outcomes %q, want the three a lent buffer allows", len(all), all)
	}
	if !slices.Equal(red, all) {
		t.Fatalf("the reduced search reaches %q, every schedule %q", red, all)
	}
}
