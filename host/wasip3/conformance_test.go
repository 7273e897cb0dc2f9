package wasip3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// suiteDir holds the WASI 0.3 conformance components of wasi-testsuite.
const suiteDir = "../../testdata/wasi-testsuite-p3/wasm32-wasip3"

// testSpec is the part of a test's JSON file the Go harness follows.
type testSpec struct {
	Root       string   `json:"root"`
	Proposals  []string `json:"proposals"`
	World      string   `json:"world"`
	Operations []struct {
		Type     string            `json:"type"`
		ID       string            `json:"id"`
		Payload  string            `json:"payload"`
		Args     []string          `json:"args"`
		Env      map[string]string `json:"env"`
		ExitCode *int              `json:"exit_code"`
	} `json:"operations"`
}

// suiteCase is one conformance component and what it must do.
type suiteCase struct {
	name     string
	wasm     []byte
	spec     testSpec
	args     []string
	env      [][2]string
	stdin    []byte
	stdout   []string // payloads read from stdout, in order
	exitCode uint32
}

func loadSuite(t testing.TB) []*suiteCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(suiteDir, "*.wasm"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no components in %s: %v", suiteDir, err)
	}
	var out []*suiteCase
	for _, p := range paths {
		c := &suiteCase{name: strings.TrimSuffix(filepath.Base(p), ".wasm")}
		if c.wasm, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(strings.TrimSuffix(p, ".wasm") + ".json"); err == nil {
			if err := json.Unmarshal(b, &c.spec); err != nil {
				t.Fatalf("%s.json: %v", c.name, err)
			}
		}
		for _, op := range c.spec.Operations {
			switch op.Type {
			case "run":
				c.args = op.Args
				keys := make([]string, 0, len(op.Env))
				for k := range op.Env {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					c.env = append(c.env, [2]string{k, op.Env[k]})
				}
			case "read":
				if op.ID == "stdout" {
					c.stdout = append(c.stdout, op.Payload)
				}
			case "write":
				if op.ID == "stdin" {
					c.stdin = append(c.stdin, op.Payload...)
				}
			case "wait":
				if op.ExitCode != nil {
					c.exitCode = uint32(*op.ExitCode)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// kind says what the simulation is expected to do with a component:
// pass; "http" (wasi:http is not provided: a clean error at load).
// Components whose test talks to them over the network (sockets-echo)
// pass too, with a Go task playing the runner's part (peer).
func (c *suiteCase) kind() string {
	if strings.HasPrefix(c.name, "http-") {
		return "http"
	}
	return "pass"
}

// netOps are the test's operations on network connections (connect,
// send, recv), which the peer task performs.
func (c *suiteCase) netOps() []netOp {
	var ops []netOp
	for _, op := range c.spec.Operations {
		switch op.Type {
		case "connect", "send", "recv":
			ops = append(ops, netOp{kind: op.Type, payload: op.Payload})
		}
	}
	return ops
}

type netOp struct{ kind, payload string }

// stdoutLog is a guest's stdout as it is written, so that a peer can wait
// for the address a server prints.
type stdoutLog struct {
	buf  bytes.Buffer
	read int // bytes of buf the peer has consumed as lines
	q    *sim.WaitQueue
}

func (s *stdoutLog) Write(p []byte) (int, error) {
	s.buf.Write(p)
	s.q.Broadcast()
	return len(p), nil
}

// line waits for the next complete line of stdout.
func (s *stdoutLog) line() (string, error) {
	for {
		rest := s.buf.Bytes()[s.read:]
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			s.read += i + 1
			return string(rest[:i]), nil
		}
		if err := s.q.Wait("a line of the guest's stdout"); err != nil {
			return "", err
		}
	}
}

// peer plays the runner's part of a test that talks to the guest over
// the network, over vnet: "connect" reads the address the guest printed
// on stdout and connects to it, "send" sends a payload, "recv" reads one
// back and compares it. It drops everything at the end.
func peer(h *host.Host, out *stdoutLog, ops []netOp) error {
	in := h.NewInstance("peer")
	defer in.DropAll() //nolint:errcheck
	var sock, data, wr host.Handle
	for _, op := range ops {
		switch op.kind {
		case "connect":
			line, err := out.line()
			if err != nil {
				return err
			}
			ap, err := netip.ParseAddrPort(strings.TrimSpace(line))
			if err != nil {
				return fmt.Errorf("the guest printed %q, not an address: %v", line, err)
			}
			if sock, err = in.NewTCPSocket(vnet.IPv4); err != nil {
				return err
			}
			if err := in.Connect(sock, ap); err != nil {
				return fmt.Errorf("connect to %v: %w", ap, err)
			}
		case "send":
			if wr == 0 {
				r, w, err := in.NewStream()
				if err != nil {
					return err
				}
				if _, err := in.Send(sock, r); err != nil {
					return err
				}
				wr = w
			}
			if _, st, err := in.WriteAll(wr, []byte(op.payload)); err != nil || st == host.Dropped {
				return fmt.Errorf("send: %v %v", st, err)
			}
		case "recv":
			if data == 0 {
				d, _, err := in.Receive(sock)
				if err != nil {
					return err
				}
				data = d
			}
			var got []byte
			for len(got) < len(op.payload) {
				b, res, err := in.Read(data, len(op.payload)-len(got))
				if err != nil {
					return err
				}
				got = append(got, b...)
				if res.Status == host.Dropped {
					break
				}
			}
			if string(got) != op.payload {
				return fmt.Errorf("received %q, want %q", got, op.payload)
			}
		}
	}
	return nil
}

// copyTree copies a host directory into the file system model.
func copyTree(t testing.TB, fsys *vfs.FS, src string) {
	t.Helper()
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef() //nolint:errcheck
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		if info.IsDir() {
			return root.CreateDirectoryAt(rel)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := root.OpenAt(0, rel, vfs.OpenCreate, vfs.Write)
		if err != nil {
			return err
		}
		defer f.DecRef() //nolint:errcheck
		_, err = f.WriteAt(data, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runCase runs a conformance component once under a world's strategy.
func runCase(t testing.TB, eng *component.Engine, c *suiteCase, cfg sim.Config) (*Guest, *caseRun, *sim.Result) {
	t.Helper()
	comp, err := eng.Compile(c.wasm)
	if err != nil {
		t.Fatalf("%s: compile: %v", c.name, err)
	}
	w := sim.MustNew(cfg)
	g, cr, err := c.start(t, w, comp)
	if err != nil {
		t.Fatal(err)
	}
	res := w.Run()
	return g, cr, res
}

// caseRun is what a run of a case shows: its host and its stdout.
type caseRun struct {
	h      *host.Host
	stdout *stdoutLog
}

// start builds the world of a case: the file system, the host, the guest
// and, for a test that talks to the guest over the network, the peer.
func (c *suiteCase) start(t testing.TB, w *sim.World, comp *component.Component) (*Guest, *caseRun, error) {
	fsys := vfs.New(vfs.Options{World: w})
	if c.spec.Root != "" {
		copyTree(t, fsys, filepath.Join(suiteDir, c.spec.Root))
	}
	out := &stdoutLog{q: w.NewWaitQueue("stdout")}
	h, err := host.New(w, host.Options{FS: fsys, Stdin: c.stdin, Stdout: out})
	if err != nil {
		return nil, nil, err
	}
	g := Spawn(h, comp, Config{Name: c.name + ".wasm", Args: c.args, Env: c.env})
	if ops := c.netOps(); len(ops) > 0 {
		w.Go("peer", func(*sim.Task) error { return peer(h, out, ops) })
	}
	return g, &caseRun{h: h, stdout: out}, nil
}

// check reports how a run differs from what the test expects.
func (c *suiteCase) check(g *Guest, cr *caseRun, res *sim.Result) error {
	stdout := cr.stdout.buf.Bytes()
	if g.Err() != nil {
		return fmt.Errorf("%v\nstdout: %q\nstderr: %q", g.Err(), stdout, cr.h.Stderr())
	}
	if g.ExitCode() != c.exitCode {
		return fmt.Errorf("exit code %d, want %d\nstdout: %q\nstderr: %q", g.ExitCode(), c.exitCode, stdout, cr.h.Stderr())
	}
	out := stdout
	for _, p := range c.stdout {
		i := bytes.Index(out, []byte(p))
		if i < 0 {
			return fmt.Errorf("stdout %q lacks %q", stdout, p)
		}
		out = out[i+len(p):]
	}
	if err := res.Error(); err != nil {
		return fmt.Errorf("run: %v", err)
	}
	return nil
}

// Every cli, clock, random, filesystem and sockets conformance component
// passes under the default schedule (sockets-echo with a peer task in the
// runner's part); http ones end with a clean error at load.
func TestConformance(t *testing.T) {
	eng := component.DefaultEngine()
	for _, c := range loadSuite(t) {
		t.Run(c.name, func(t *testing.T) {
			g, cr, res := runCase(t, eng, c, sim.Config{Seed: 1})
			switch c.kind() {
			case "pass":
				if err := c.check(g, cr, res); err != nil {
					t.Fatal(err)
				}
			case "http":
				if g.Err() == nil || !strings.Contains(g.Err().Error(), "wasi:http is not provided") {
					t.Fatalf("got %v, want an error saying wasi:http is not provided", g.Err())
				}
			}
		})
	}
}

// TestMain points the default engine at an on-disk compilation cache, so
// that compiling the components — slow under -race — happens once per
// machine.
func TestMain(m *testing.M) {
	if os.Getenv(component.CacheDirEnv) == "" {
		if base, err := os.UserCacheDir(); err == nil {
			os.Setenv(component.CacheDirEnv, filepath.Join(base, "wasisim-wazero"))
		}
	}
	os.Exit(m.Run())
}

// scenario runs a conformance component as a sim scenario whose outcome
// includes the guest's exit code and stdout: a schedule that changes
// either fails.
func (c *suiteCase) scenario(t testing.TB, comp *component.Component) sim.Scenario {
	return func(w *sim.World) error {
		g, cr, err := c.start(t, w, comp)
		if err != nil {
			return err
		}
		w.Go("check", func(*sim.Task) error {
			g.Task().Join() //nolint:errcheck // the guest's error is the run's
			if g.Err() != nil {
				return nil
			}
			return c.check(g, cr, &sim.Result{})
		})
		return nil
	}
}

// Explored under random and PCT schedules, the conformance components
// behave the same; the same seed gives byte-identical traces.
func TestConformanceExplored(t *testing.T) {
	eng := component.DefaultEngine()
	runs := 20
	if testing.Short() {
		runs = 4
	}
	for _, c := range loadSuite(t) {
		if c.kind() != "pass" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			comp, err := eng.Compile(c.wasm)
			if err != nil {
				t.Fatal(err)
			}
			sc := c.scenario(t, comp)
			for _, st := range []string{"random", "pct"} {
				rep, err := sim.Explore(context.Background(), sim.ExploreOptions{Strategy: st, Seed: 7, Runs: runs, Workers: 1,
					Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 2000}}}, sc)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Failures) > 0 {
					f := rep.Failures[0]
					t.Fatalf("%s run %d: %v", st, f.Run, f.Err)
				}
			}
			var traces [2][]byte
			for i := range traces {
				w := sim.MustNew(sim.Config{Seed: 11, Trace: true})
				if err := sc(w); err != nil {
					t.Fatal(err)
				}
				if res := w.Run(); res.Failed() {
					t.Fatal(res.Error())
				}
				traces[i] = w.Trace().Bytes()
			}
			if !bytes.Equal(traces[0], traces[1]) {
				t.Fatalf("two runs with seed 11 gave different traces (%d and %d bytes)", len(traces[0]), len(traces[1]))
			}
		})
	}
}
