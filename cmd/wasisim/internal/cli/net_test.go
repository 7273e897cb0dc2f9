package cli

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/wasmrun"
	"github.com/wasisim/wasisim/sim"
)

const echoComponent = "../../../../testdata/wasi-testsuite-p3/wasm32-wasip3/sockets-echo.wasm"

// The suite's sockets-echo through `wasisim run --publish 127.0.0.1:*`: a
// client on the machine reads the address the guest prints, connects and
// gets its bytes back; the run's trace replays exactly without the
// machine (the bridge is rebuilt offline from the trace header).
func TestRunPublishedEchoThenReplay(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "echo.trace")
	outR, outW := io.Pipe()
	var errb strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Main([]string{"run", "--publish", "127.0.0.1:*", "--trace", trace, echoComponent}, outW, &errb)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no address on stdout: %v (stderr %s)", err, errb.String())
	}
	c, err := net.Dial("tcp", strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("connect to the published guest at %q: %v", line, err)
	}
	if _, err := c.Write([]byte("Hello, world")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "Hello, world" {
		t.Fatalf("echo %q, %v", got, err)
	}
	go io.Copy(io.Discard, outR) //nolint:errcheck
	if k := <-code; k != 0 {
		t.Fatalf("exit %d: %s", k, errb.String())
	}

	tr, err := sim.ReadTraceFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	spec, ok, err := wasmrun.ParseSpec(tr.Header.Config)
	if !ok || err != nil || spec.Net == nil || len(spec.Net.Publish) != 1 {
		t.Fatalf("the trace header does not record the bridge: %+v %v", spec, err)
	}
	p, err := wasmrun.Load(*spec, wasmrun.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := sim.Replay(tr, p.Config(), nil, p.Explored())
	if err != nil {
		t.Fatal(err)
	}
	if res.Divergence != nil || res.Failed() {
		t.Fatalf("replay without the machine: %v / %v", res.Divergence, res.Error())
	}
}

// Network flags: bad mappings and policies are usage errors; -S reaches
// the guests (a guest denied TCP fails); nothing is bridged without the
// flags.
func TestNetFlags(t *testing.T) {
	var out, errb strings.Builder
	for _, args := range [][]string{
		{"--publish", "127.0.0.1", echoComponent},
		{"--forward", "192.0.2.1:80", echoComponent},
		{"-S", "tcp=maybe", echoComponent},
		{"-S", "frobnicate=y", echoComponent},
		{"--with", "", echoComponent},
		{"--with", "missing.wasm", echoComponent},
	} {
		if code := Main(append([]string{"run"}, args...), &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %s)", args, code, errb.String())
		}
	}
	errb.Reset()
	if code := Main([]string{"run", "-S", "tcp=n", echoComponent}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "AccessDenied") {
		t.Errorf("a guest denied TCP: exit %d, stderr %s", code, errb.String())
	}
	// Without --publish the guest's listener stays in the simulation:
	// nobody can connect, and the run ends reporting the waiting guest.
	errb.Reset()
	trace := filepath.Join(t.TempDir(), "closed.trace")
	if code := Main([]string{"run", "--trace", trace, echoComponent}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "deadlock") || !strings.Contains(errb.String(), "waits for accept") {
		t.Errorf("unbridged echo: exit %d, stderr %s", code, errb.String())
	}
	if tr, err := sim.ReadTraceFile(trace); err != nil || strings.Contains(string(tr.Bytes()), `"input"`) {
		t.Errorf("an unbridged run took input from outside: %v", err)
	}
}

const netpeer = "../../../../testdata/net/netpeer.wasm"

// --with runs several guests in one world: the greeting's server and its
// client, whose one read gets the whole greeting under some schedules and
// half of it under others. Exploring the run (what `wasisim explore
// --with …` does) finds a schedule whose output differs from the first.
func TestWithSeveralGuests(t *testing.T) {
	outputs := map[string]bool{}
	for _, seed := range []string{"0", "2"} {
		var out, errb strings.Builder
		code := Main([]string{"run", "--seed", seed, "--with", netpeer + " greet-server", netpeer, "greet-client"}, &out, &errb)
		if code != 0 {
			t.Fatalf("seed %s: exit %d: %s", seed, code, errb.String())
		}
		outputs[out.String()] = true
	}
	if !outputs["got: hello world\n"] || !outputs["got: hello "] {
		t.Fatalf("outputs %v", outputs)
	}

	var wf wasmFlags
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	wf.register(fs, false)
	if err := fs.Parse([]string{"--with", netpeer + " greet-server"}); err != nil {
		t.Fatal(err)
	}
	spec, err := wf.spec(netpeer, []string{"greet-client"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := wasmrun.Load(spec, wasmrun.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Baseline(sim.Config{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: "random", Seed: 1, Runs: 50, Workers: 1}, p.Explored())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) == 0 || !strings.Contains(rep.Failures[0].Err.Error(), "stdout differs") {
		t.Fatalf("exploring found %d failures (%v); want a run whose output differs", len(rep.Failures), rep.Failures)
	}
}
