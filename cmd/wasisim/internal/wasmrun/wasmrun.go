// Package wasmrun is how wasisim runs a wasm binary — a WASI 0.3
// component (package host/wasip3) or a preview-1 core module (package
// host/wasip1) — in a fresh world: on a virtual file system filled from
// host directories, a loopback network, and limits that a hostile guest
// cannot get past. Package cli gives it its command line (`wasisim run
// [flags] X.wasm [ARGS…]`, and explore, replay and shrink of binaries).
//
// A run is a Program (Load: the binary, compiled with the Spec's limits,
// and the mounts' trees, read once) and its Run. The Spec is what a trace
// records, so replay, shrink and explore rebuild the same world from it.
//
// Mounts are copied in, not mounted live: the guest sees a snapshot of
// each directory taken at the start, so every schedule of a run starts
// from the same files and a trace replays without the directory having
// to stay as it was. WriteBack copies a mount's tree back to its host
// directory afterwards — only what the guest changed, each file
// atomically, never over or onto something the host changed meanwhile,
// never a symbolic link that leads out of the mount (see WriteBack).
//
// The network (net.go): Spec.Net's Publish mappings let clients on the
// machine connect to a guest listener (port * on both sides: every port a
// guest listens on), its Forward mappings let guests reach a loopback
// server of the machine; what crosses is recorded in the trace, so the
// run replays without the machine. Without them nothing leaves the
// simulation. Its Policy sets the component guests' network policy (tcp,
// udp, bind, listen, connect, allow-ip-name-lookup: y or n; max-handles:
// a count). Spec.With are more guests (components or modules) in the same
// world, on the same file system and network; the run's exit code is the
// main guest's.
package wasmrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/internal/fuel"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// Exit codes of a run, besides the guest's own.
const (
	// ExitFailed: the run failed (a deadlock, the step limit, a leak, a
	// write-back refused) while the guest exited 0.
	ExitFailed = 1
	// ExitUsage: bad usage or a binary that cannot be run (unreadable,
	// malformed, a mount that is not a directory): nothing ran.
	ExitUsage = 2
	// ExitLimit: the guest reached a compute limit (its fuel, or the
	// wall-clock timeout), as timeout(1) exits.
	ExitLimit = 124
	// ExitInterrupted: the run was interrupted (SIGINT, SIGTERM).
	ExitInterrupted = 130
	// ExitTrap: the guest trapped (as Wasmtime reports a trap: 128+SIGABRT).
	ExitTrap = 134
)

// ErrInterrupted and ErrTimeout are the causes of a run stopped from
// outside: the causes of the Program's context.
var (
	ErrInterrupted = errors.New("interrupted")
	ErrTimeout     = errors.New("the run took longer than its --timeout")
)

// RunOptions are the settings of one run that are not part of its Spec.
type RunOptions struct {
	Seed uint64
	// Trace keeps the run's trace in Outcome.Trace.
	Trace bool
	// TraceTo, if set, receives the run's trace as the run goes instead
	// (a long run's trace is not held in memory): Outcome.Trace then has
	// the header and end line only, TraceHash the written trace's hash.
	TraceTo io.Writer
	Stdio   Stdio
}

// Outcome is how a run ended.
type Outcome struct {
	Result *sim.Result
	Trace  *sim.Trace
	// TraceHash is the hash of the trace written to RunOptions.TraceTo;
	// TraceErr the first error writing it met.
	TraceHash string
	TraceErr  error
	// Guest is the guest, to write its mounts back.
	Guest *Guest
	// ExitCode is the process's exit code (the guest's, or one of the
	// Exit constants); Err says what went wrong, in one line (nil: the
	// run passed and the guest exited 0 or chose its code).
	ExitCode int
	Err      error
	// Succeeded: the run passed and the guest exited 0.
	Succeeded bool
}

// Run runs the program once. When the program's context is done (an
// interrupt, the timeout) the world stops at its next step, and the guest's
// code at its next function call or loop iteration. The error is a setup
// failure: nothing ran.
func (p *Program) Run(o RunOptions) (*Outcome, error) {
	cfg := p.Config()
	cfg.Seed, cfg.Trace = o.Seed, o.Trace || o.TraceTo != nil
	var tw *sim.TraceWriter
	if o.TraceTo != nil {
		cfg.OnEvent = func(e sim.Event) { tw.Event(e) }
	}
	w, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	if o.TraceTo != nil {
		if tw, err = sim.NewTraceWriter(o.TraceTo, w.TraceHeader()); err != nil {
			return nil, err
		}
	}
	var g *Guest
	if err := p.Scenario(o.Stdio, func(x *Guest) { g = x })(w); err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if p.ctx != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-p.ctx.Done():
				w.Stop()
			case <-stop:
			}
		}()
	}
	res := w.Run()
	g.shutdownBridge()
	close(stop)
	wg.Wait()
	out := &Outcome{Result: res, Trace: w.Trace(), Guest: g}
	if tw != nil {
		out.TraceErr = tw.End(w.Trace().End)
		out.TraceHash = tw.Hash()
	}
	out.ExitCode, out.Err = p.judge(res, g)
	out.Succeeded = out.Err == nil && out.ExitCode == 0
	return out, nil
}

// judge turns how the run and the guest ended into an exit code and a
// one-line account.
func (p *Program) judge(res *sim.Result, g *Guest) (int, error) {
	code := int(g.ExitCode())
	gerr := g.Err()
	var cause error
	if p.ctx != nil && p.ctx.Err() != nil {
		cause = context.Cause(p.ctx)
	}
	switch {
	case errors.Is(cause, ErrInterrupted):
		return ExitInterrupted, fmt.Errorf("interrupted at step %d", res.Steps)
	case errors.Is(gerr, ErrTimeout) || errors.Is(cause, ErrTimeout):
		return ExitLimit, fmt.Errorf("%s was stopped: %w", g.Task.Name(), ErrTimeout)
	case errors.Is(gerr, fuel.ErrExhausted):
		return ExitLimit, fmt.Errorf("%s ran out of fuel: it spent its %d units (one per function call and loop iteration, more for bulk memory operations); raise --fuel if that much computing is expected", g.Task.Name(), p.Spec.Fuel)
	}
	var unwound *wasip1.UnwoundError
	if gerr != nil && !errors.As(gerr, &unwound) && !errors.Is(g.Task.Err(), sim.ErrKilled) {
		msg, _, _ := strings.Cut(gerr.Error(), "\n") // not wazero's stack trace
		return ExitTrap, errors.New(msg)
	}
	if err := res.Error(); err != nil {
		if code == 0 || gerr != nil {
			code = ExitFailed
		}
		return code, describeFailure(res, g, unwound)
	}
	return code, nil
}

// describeFailure says why a run failed, most telling first: the step
// limit or a deadlock, with what the guest waited for.
func describeFailure(res *sim.Result, g *Guest, unwound *wasip1.UnwoundError) error {
	where := ""
	if unwound != nil {
		where = " while " + g.Task.Name() + " was waiting in " + unwound.Call
	}
	switch {
	case errors.Is(res.Err, sim.ErrStepLimit):
		return fmt.Errorf("the run reached its step limit after %d scheduling steps%s (raise it with --max-steps)", res.Steps, where)
	case len(res.Deadlock) > 0:
		var waits []string
		for _, b := range res.Deadlock {
			waits = append(waits, b.Name+" waits for "+b.WaitingOn)
		}
		return fmt.Errorf("deadlock: nothing can run: %s", strings.Join(waits, ", "))
	}
	return errors.New(res.Outcome())
}

// Budget is a wall-clock limit on a run that does not count the time the
// run waits for its stdin: a guest waiting for a person to type is not
// computing. The context it makes is cancelled with ErrTimeout when the
// time is used up.
type Budget struct {
	mu      sync.Mutex
	left    time.Duration
	started time.Time
	paused  int
	timer   *time.Timer
	cancel  context.CancelCauseFunc
}

// WithBudget returns a context that ends d of running time after now (d
// > 0), and its Budget.
func WithBudget(parent context.Context, d time.Duration) (context.Context, *Budget) {
	ctx, cancel := context.WithCancelCause(parent)
	b := &Budget{left: d, cancel: cancel, started: time.Now()}
	b.timer = time.AfterFunc(d, func() { cancel(ErrTimeout) })
	return ctx, b
}

// Pause stops the clock until Resume.
func (b *Budget) Pause() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused++; b.paused == 1 && b.timer.Stop() {
		b.left -= time.Since(b.started)
	}
}

// Resume starts the clock again.
func (b *Budget) Resume() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused--; b.paused == 0 {
		b.started = time.Now()
		b.timer = time.AfterFunc(max(b.left, 0), func() { b.cancel(ErrTimeout) })
	}
}

// Stop releases the budget's timer.
func (b *Budget) Stop() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer.Stop()
}

// LiveStdin is the process's stdin as a guest reads it: each read waits
// for the input or for ctx to end (an interrupt must not wait for a
// person to type), and does not count against the budget.
type LiveStdin struct {
	r       io.Reader
	ctx     context.Context
	budget  *Budget
	pending chan stdinRead
}

type stdinRead struct {
	b   []byte
	err error
}

// NewLiveStdin wraps r; budget may be nil.
func NewLiveStdin(ctx context.Context, r io.Reader, budget *Budget) *LiveStdin {
	return &LiveStdin{r: r, ctx: ctx, budget: budget}
}

func (s *LiveStdin) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, context.Cause(s.ctx)
	}
	s.budget.Pause()
	defer s.budget.Resume()
	if s.pending == nil {
		ch := make(chan stdinRead, 1)
		buf := make([]byte, len(p))
		go func() {
			n, err := s.r.Read(buf)
			ch <- stdinRead{buf[:n], err}
		}()
		s.pending = ch
	}
	select {
	case r := <-s.pending:
		s.pending = nil
		return copy(p, r.b), r.err
	case <-s.ctx.Done():
		// The read goes on in the background; the process is ending.
		return 0, context.Cause(s.ctx)
	}
}

func listenOn(n *vnet.Net, addr string) (*vnet.TCPSocket, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		host, port, ok := strings.Cut(addr, ":")
		if !ok || host != "" && host != "localhost" {
			return nil, err
		}
		p, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil {
			return nil, err
		}
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(p))
	}
	fam := vnet.IPv4
	if ap.Addr().Is6() {
		fam = vnet.IPv6
	}
	s, err := n.NewTCP(fam)
	if err != nil {
		return nil, err
	}
	if err := s.Bind(ap); err != nil {
		_ = s.DecRef()
		return nil, err
	}
	if err := s.Listen(); err != nil {
		_ = s.DecRef()
		return nil, err
	}
	return s, nil
}
