package wasip3

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/sim"
)

// readyGate is a stdout that opens a stdin once the guest printed READY,
// as the suite's runner does (it writes stdin only after reading READY).
type readyGate struct {
	mu    sync.Mutex
	out   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (g *readyGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.out.Write(p)
	if strings.Contains(g.out.String(), "READY") {
		g.once.Do(func() { close(g.ready) })
	}
	return len(p), nil
}

type gatedStdin struct {
	ready <-chan struct{}
	r     io.Reader
}

func (s *gatedStdin) Read(p []byte) (int, error) {
	<-s.ready
	return s.r.Read(p)
}

// failingStdin is the stdin of a replay: it must never be read.
type failingStdin struct{}

func (failingStdin) Read([]byte) (int, error) { return 0, errors.New("stdin read during a replay") }

// cli-stdout-flush prints READY and then reads stdin: with a live stdin
// the output reaches the writer while the guest runs and stdin is read
// only then; the trace records the input, and replaying it needs none.
func TestLiveStdinAndStreamedStdout(t *testing.T) {
	var c *suiteCase
	for _, sc := range loadSuite(t) {
		if sc.name == "cli-stdout-flush" {
			c = sc
		}
	}
	comp, err := component.DefaultEngine().Compile(c.wasm)
	if err != nil {
		t.Fatal(err)
	}
	gate := &readyGate{ready: make(chan struct{})}
	var g *Guest
	setup := func(stdout io.Writer, stdin io.Reader) func(w *sim.World) error {
		return func(w *sim.World) error {
			h, err := host.New(w, host.Options{StdinReader: stdin, Stdout: stdout})
			if err != nil {
				return err
			}
			g = Spawn(h, comp, Config{Name: "cli-stdout-flush.wasm"})
			return nil
		}
	}
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	if err := setup(gate, &gatedStdin{ready: gate.ready, r: strings.NewReader("x")})(w); err != nil {
		t.Fatal(err)
	}
	if res := w.Run(); res.Failed() || g.Err() != nil || g.ExitCode() != 0 {
		t.Fatalf("live run: %v, guest %v (exit %d)", res.Error(), g.Err(), g.ExitCode())
	}
	if gate.out.String() != "READY" {
		t.Fatalf("stdout %q, want READY", gate.out.String())
	}
	tr := w.Trace()
	if !bytes.Contains(tr.Bytes(), []byte(`"kind":"input","obj":"stdin"`)) {
		t.Fatalf("the trace records no stdin input:\n%s", tr.Bytes())
	}
	var out bytes.Buffer
	res, replayed, err := sim.Replay(tr, sim.Config{}, nil, setup(&out, failingStdin{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || g.Err() != nil {
		t.Fatalf("replay: %v, guest %v", res.Error(), g.Err())
	}
	if !bytes.Equal(replayed.Bytes(), tr.Bytes()) {
		t.Fatalf("the replay's trace differs from the recorded one")
	}
	if out.String() != "READY" {
		t.Fatalf("replayed stdout %q", out.String())
	}
}
