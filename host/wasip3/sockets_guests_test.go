package wasip3

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// netpeer is the component of testdata/net: either side of a greeting,
// a round-trip and a bulk protocol over wasi:sockets, chosen by its
// arguments.
func netpeer(tb testing.TB) *component.Component {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/net/netpeer.wasm")
	if err != nil {
		tb.Fatal(err)
	}
	comp, err := component.DefaultEngine().Compile(b)
	if err != nil {
		tb.Fatal(err)
	}
	return comp
}

// guests is a world of several guests on one host: components (args after
// the name) sharing the host's network and stdout. Every guest must exit
// 0.
func guests(comp *component.Component, stdout *strings.Builder, argvs ...[]string) sim.Scenario {
	return func(w *sim.World) error {
		stdout.Reset()
		h, err := host.New(w, host.Options{Stdout: stdout})
		if err != nil {
			return err
		}
		var gs []*Guest
		for _, argv := range argvs {
			gs = append(gs, Spawn(h, comp, Config{Name: argv[0], Args: argv[1:]}))
		}
		w.Go("check", func(*sim.Task) error {
			for _, g := range gs {
				if err := g.Task().Join(); err != nil {
					return nil // the guest's failure is the run's
				}
				if g.ExitCode() != 0 {
					return fmt.Errorf("%s exited %d", g.Task().Name(), g.ExitCode())
				}
			}
			return nil
		})
		return nil
	}
}

func exploreAll(t *testing.T, sc sim.Scenario, runs int) {
	t.Helper()
	for _, st := range []string{"random", "pct"} {
		rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 5, Runs: runs, Workers: 1,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 2000}}}, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			t.Fatalf("%s run %d: %v", st, f.Run, f.Err)
		}
	}
}

// Two components talk over the world's network: connections, a byte
// each way, many times; and a bulk transfer. Every schedule completes.
func TestTwoComponentsOverVnet(t *testing.T) {
	comp := netpeer(t)
	var out strings.Builder
	exploreAll(t, guests(comp, &out, []string{"server", "rt-server", "5"}, []string{"client", "rt-client", "5"}), 20)
	exploreAll(t, guests(comp, &out, []string{"server", "bulk-server", "4"}, []string{"client", "bulk-client", "4"}), 10)
	// The same seed gives a byte-identical trace.
	var traces [2][]byte
	for i := range traces {
		w := sim.MustNew(sim.Config{Seed: 3, Trace: true})
		if err := guests(comp, &out, []string{"server", "rt-server", "3"}, []string{"client", "rt-client", "3"})(w); err != nil {
			t.Fatal(err)
		}
		if res := w.Run(); res.Failed() {
			t.Fatal(res.Error())
		}
		traces[i] = w.Trace().Bytes()
	}
	if !bytes.Equal(traces[0], traces[1]) {
		t.Fatal("two runs with one seed gave different traces")
	}
}

// A component and a preview-1 module on one network: the component's
// round trips against the module's echo server.
func TestComponentAndPreview1Module(t *testing.T) {
	comp := netpeer(t)
	mod := wasitest.Guest(t, "echoserver")
	exploreAll(t, func(w *sim.World) error {
		n := vnet.New(vnet.Options{World: w})
		l, err := n.NewTCP(vnet.IPv4)
		if err != nil {
			return err
		}
		if err := l.Bind(netip.MustParseAddrPort("127.0.0.1:8081")); err != nil {
			return err
		}
		if err := l.Listen(); err != nil {
			return err
		}
		srv, err := wasip1.Spawn(w, wasip1.Config{Name: "echoserver", Module: mod, Args: []string{"3", "3"}, Net: n, Listeners: []*vnet.TCPSocket{l}})
		if err != nil {
			return err
		}
		l.DecRef() //nolint:errcheck // the module holds the listener
		h, err := host.New(w, host.Options{Net: n})
		if err != nil {
			return err
		}
		cli := Spawn(h, comp, Config{Name: "client", Args: []string{"rt-client", "3"}})
		w.Go("check", func(*sim.Task) error {
			srv.Task().Join() //nolint:errcheck
			cli.Task().Join() //nolint:errcheck
			if srv.ExitCode() != 0 || cli.ExitCode() != 0 || cli.Err() != nil {
				return fmt.Errorf("server exit %d (%s), client exit %d (%v)", srv.ExitCode(), srv.Stdout(), cli.ExitCode(), cli.Err())
			}
			return nil
		})
		return nil
	}, 10)
}

// The greeting's client reads once, as if one read returned the whole
// greeting the server sends in two writes. Exploring the two guests finds
// the schedules where it prints half of it.
func TestExploringFindsTheShortReadAcrossGuests(t *testing.T) {
	comp := netpeer(t)
	var out strings.Builder
	sc := guests(comp, &out, []string{"server", "greet-server"}, []string{"client", "greet-client"})
	seen := map[string]bool{}
	for _, st := range []string{"random", "pct"} {
		_, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 1, Runs: 40, Workers: 1, KeepGoing: true,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 2000}}},
			func(w *sim.World) error {
				if err := sc(w); err != nil {
					return err
				}
				w.AddLeakCheck("stdout", func() []string {
					seen[out.String()] = true
					return nil
				})
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !seen["got: hello world\n"] || !seen["got: hello "] || len(seen) != 2 {
		t.Fatalf("outputs seen: %q; want the whole greeting in some schedules and half of it in others", keys(seen))
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
