package wasip3

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// testdataComponent compiles testdata/NAME.wasm.
func testdataComponent(t *testing.T, name string) *component.Component {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	comp, err := component.DefaultEngine().Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	return comp
}

// dropMidWrite runs a component that drops its descriptor while its
// write-via-stream is pending, and reports the file's content and the
// guest's error.
func dropMidWrite(t *testing.T, fixture string) (sim.Scenario, *string, *error) {
	comp := testdataComponent(t, fixture)
	var content string
	var guestErr error
	sc := func(w *sim.World) error {
		content, guestErr = "", nil
		h, err := host.New(w, host.Options{})
		if err != nil {
			return err
		}
		g := Spawn(h, comp, Config{Name: fixture})
		w.Go("check", func(*sim.Task) error {
			g.Task().Join() //nolint:errcheck
			guestErr = g.Err()
			root := h.FS().Root(vfs.Read)
			defer root.DecRef() //nolint:errcheck
			f, err := root.OpenAt(0, "f.txt", 0, vfs.Read)
			if err != nil {
				return nil
			}
			defer f.DecRef() //nolint:errcheck
			buf := make([]byte, 16)
			n, _ := f.ReadAt(buf, 0)
			content = string(buf[:n])
			return nil
		})
		return nil
	}
	return sc, &content, &guestErr
}

// The scenario of WASI PR #870 as real components: built against the
// current WIT, dropping the descriptor mid-write is legal and every byte
// lands, under every schedule; built against the WIT before it (an async
// write-via-stream), the same drop traps, because the call lends the
// descriptor — the same outcomes as the Go API's P3 and P3AsyncWrite.
func TestDropMidWriteBothWITs(t *testing.T) {
	sc, content, gerr := dropMidWrite(t, "drop-mid-write-p3")
	for _, st := range []string{"random", "pct", "dfs"} {
		rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 9, Runs: 40, Workers: 1,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 300}, DFS: sim.DFSOptions{MaxSchedules: 40}}},
			func(w *sim.World) error {
				if err := sc(w); err != nil {
					return err
				}
				w.AddLeakCheck("test", func() []string {
					if *gerr != nil {
						return []string{"guest failed: " + (*gerr).Error()}
					}
					if *content != "hello" {
						return []string{"file holds " + *content}
					}
					return nil
				})
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) > 0 {
			t.Fatalf("p3, %s run %d: %v", st, rep.Failures[0].Run, rep.Failures[0].Err)
		}
	}

	sc, _, gerr = dropMidWrite(t, "drop-mid-write-async")
	w := sim.MustNew(sim.Config{Seed: 9})
	if err := sc(w); err != nil {
		t.Fatal(err)
	}
	w.Run()
	var tr *host.Trap
	if !errors.As(*gerr, &tr) || tr.Kind != host.TrapDropWithLends {
		t.Fatalf("async write-via-stream: guest ended with %v, want a drop-with-lends trap", *gerr)
	}
}
