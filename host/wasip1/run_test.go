package wasip1_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

var wazeroCache = wazero.NewCompilationCache()

// runWazero runs a guest on wazero's own WASI with dir mounted at "/".
func runWazero(tb testing.TB, wasm []byte, dir string, args ...string) (string, uint32) {
	tb.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(wazeroCache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var out bytes.Buffer
	cfg := wazero.NewModuleConfig().WithArgs(append([]string{"guest"}, args...)...).
		WithStdout(&out).WithStderr(&out).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, "/"))
	_, err := r.InstantiateWithConfig(ctx, wasm, cfg)
	var exit *sys.ExitError
	code := uint32(0)
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		tb.Fatalf("wazero: %v", err)
	}
	return out.String(), code
}

// runSim runs one guest in a fresh world with a vfs preopened at "/".
func runSim(tb testing.TB, seed uint64, wasm []byte, args ...string) (*wasip1.Guest, *vfs.FS, *sim.Result) {
	tb.Helper()
	w := sim.MustNew(sim.Config{Seed: seed})
	fsys := vfs.New(vfs.Options{World: w, LeakCheck: true})
	g, err := wasip1.Spawn(w, wasip1.Config{
		Name: "guest", Module: wasm, Args: args,
		FS: fsys, Dirs: []wasip1.Preopen{{GuestPath: "/", Path: "/"}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	res := w.Run()
	if err := res.Error(); err != nil {
		tb.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, g.Stdout(), g.Stderr())
	}
	return g, fsys, res
}

// vfsTree lists a vfs tree in the same form.
func vfsTree(tb testing.TB, fsys *vfs.FS) map[string]string {
	tb.Helper()
	out := map[string]string{}
	root := fsys.Root(vfs.Read)
	defer root.DecRef()
	var walk func(prefix string)
	walk = func(prefix string) {
		d := root
		if prefix != "" {
			var err error
			if d, err = root.OpenAt(0, prefix, vfs.OpenDirectory, vfs.Read); err != nil {
				tb.Fatal(err)
			}
			defer d.DecRef()
		}
		ents, err := d.ReadDirectory()
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range ents {
			p := e.Name
			if prefix != "" {
				p = prefix + "/" + e.Name
			}
			switch e.Type {
			case vfs.TypeDirectory:
				out[p] = "dir"
				walk(p)
			case vfs.TypeSymbolicLink:
				t, _ := root.ReadlinkAt(p)
				out[p] = "link:" + t
			default:
				f, err := root.OpenAt(0, p, 0, vfs.Read)
				if err != nil {
					tb.Fatal(err)
				}
				st, _ := f.Stat()
				b := make([]byte, st.Size)
				f.ReadAt(b, 0)
				f.DecRef()
				out[p] = "file:" + string(b)
			}
		}
	}
	walk("")
	return out
}

// TestFilesDifferential runs the file guest on wazero's own WASI over a
// real directory and on wasisim: same stdout, exit code and final tree.
func TestFilesDifferential(t *testing.T) {
	wasm := guest(t, "files")
	dir := t.TempDir()
	wantOut, wantCode := runWazero(t, wasm, dir)
	g, fsys, _ := runSim(t, 1, wasm)
	if got := string(g.Stdout()) + string(g.Stderr()); got != wantOut {
		t.Errorf("stdout differs\nwasisim:\n%s\nwazero:\n%s", got, wantOut)
	}
	if g.ExitCode() != wantCode {
		t.Errorf("exit code %d, wazero %d", g.ExitCode(), wantCode)
	}
	if got, want := wasitest.TreeString(vfsTree(t, fsys)), wasitest.TreeString(wasitest.HostTree(t, dir)); got != want {
		t.Errorf("final tree differs\nwasisim:\n%s\nwazero:\n%s", got, want)
	}
	if strings.Contains(wantOut, "error") {
		t.Errorf("the guest saw errors on wazero:\n%s", wantOut)
	}
	t.Logf("stdout:\n%s", wantOut)
}

func TestSleeperVirtualTime(t *testing.T) {
	g, _, res := runSim(t, 1, guest(t, "sleeper"))
	want := "start 2026-01-01T00:00:00Z\nslept 1.5s\ntimer 1.75s\nend 2026-01-01T00:00:01.75Z\n"
	if got := string(g.Stdout()); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	t.Logf("%d steps", res.Steps)
}

func TestExitCode(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 3})
	g, err := wasip1.Spawn(w, wasip1.Config{Name: "exiter", Module: guest(t, "hello"), Env: []string{"EXIT=42"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if g.ExitCode() != 42 || g.Err() != nil || !g.Done() {
		t.Fatalf("exit code %d err %v done %v", g.ExitCode(), g.Err(), g.Done())
	}
}

// echoWorld builds a world with an echo server on a preopened listener at
// 127.0.0.1:8080 and a client that dials it.
func echoWorld(tb testing.TB, seed uint64, trace bool) (w *sim.World, server, client *wasip1.Guest, n *vnet.Net) {
	tb.Helper()
	w = sim.MustNew(sim.Config{Seed: seed, Trace: trace})
	n = vnet.New(vnet.Options{World: w})
	l, err := n.NewTCP(vnet.IPv4)
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.Bind(netip.MustParseAddrPort("127.0.0.1:8080")); err != nil {
		tb.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		tb.Fatal(err)
	}
	server, err = wasip1.Spawn(w, wasip1.Config{Name: "server", Module: guest(tb, "echoserver"), Args: []string{"3", "1"}, Net: n, Listeners: []*vnet.TCPSocket{l}})
	if err != nil {
		tb.Fatal(err)
	}
	l.DecRef() // the server guest holds the listener now
	client, err = wasip1.Spawn(w, wasip1.Config{Name: "client", Module: guest(tb, "echoclient"), Args: []string{"localhost", "8080", "hello", "deterministic", "world"}, Net: n})
	if err != nil {
		tb.Fatal(err)
	}
	return w, server, client, n
}

func TestEchoClientServer(t *testing.T) {
	w, server, client, n := echoWorld(t, 7, false)
	res := w.Run()
	if err := res.Error(); err != nil {
		t.Fatalf("%v\nserver: %s%s\nclient: %s%s", err, server.Stdout(), server.Stderr(), client.Stdout(), client.Stderr())
	}
	wantClient := "connected to 127.0.0.1:8080 local port assigned: true\nSO_TYPE 2\nsent 26 received 26\nhello\ndeterministic\nworld\n"
	if got := string(client.Stdout()); got != wantClient {
		t.Errorf("client stdout = %q, want %q", got, wantClient)
	}
	if got := string(server.Stdout()); got != "echoed 26 bytes\n" {
		t.Errorf("server stdout = %q", got)
	}
	if live := n.Live(); len(live) != 0 {
		t.Errorf("sockets alive after both guests exited: %v", live)
	}
	if n.PortBound(vnet.TCP, netip.MustParseAddrPort("127.0.0.1:8080")) {
		t.Error("port 8080 still bound after the server exited")
	}
	t.Logf("%d steps, server %d calls, client %d calls", res.Steps, server.Calls(), client.Calls())
}

// TestEchoDeterminism: the same seed gives byte-identical traces;
// different seeds give different interleavings.
func TestEchoDeterminism(t *testing.T) {
	trace := func(seed uint64) []byte {
		w, server, client, _ := echoWorld(t, seed, true)
		if err := w.Run().Error(); err != nil {
			t.Fatalf("seed %d: %v\nserver: %s\nclient: %s", seed, err, server.Stdout(), client.Stdout())
		}
		return w.Trace().Bytes()
	}
	a, b := trace(11), trace(11)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	distinct := map[string]bool{string(a): true}
	for seed := uint64(12); seed < 16; seed++ {
		distinct[string(trace(seed))] = true
	}
	if len(distinct) < 2 {
		t.Fatal("five seeds gave one interleaving")
	}
	t.Logf("%d distinct traces of 5 seeds; trace is %d bytes", len(distinct), len(a))
}
