// Package fuel meters the work a WebAssembly core module may do, so that a
// guest that computes forever ends, and ends at the same point in every
// run: wazero has no fuel of its own, and a wall-clock limit stops a guest
// at a different instruction each time.
//
// Instrument rewrites a module: every function entry and every loop
// iteration spends one unit from a mutable i64 global, and when that
// leaves it negative the code calls an imported function, the tick, which
// a Meter provides. Between two such points a function runs only
// straight-line code and forward branches, so the work one unit pays for
// is bounded by the size of a function body, and the budget bounds the
// whole run — recursion included, since every call is an entry. The
// instructions whose work depends on an operand pay for it before they
// run: memory.fill, memory.copy and memory.init one unit per KiB,
// table.fill, table.copy and table.init one per 16 elements, and
// memory.grow and table.grow 1024 units plus their size (a page is 64
// units), since growing calls out of the compiled code.
//
// The global starts at 0, so the first check ticks. The tick hands the
// instance its budget a slice at a time (Slice units), stops it with a
// *Stopped when the budget is spent or the Meter's context is done, and —
// since compiled code has no point where Go's scheduler can stop it —
// gives the Go runtime one at least every slice: a guest computing
// without calling the host cannot hold up the garbage collector, or the
// goroutine that watches a deadline, for long.
//
// The global is appended after the module's own globals and exported as
// Export; the tick is imported as Module.Tick after the module's own
// function imports, so the indexes of the module's functions after those
// move up by one, everywhere they appear (calls, ref.func, exports, the
// start function, element segments, the name section).
package fuel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Export is the name under which an instrumented module exports its fuel
// global; Module and Tick name the function it imports.
const (
	Export = "wasisim:fuel"
	Module = "wasisim:fuel"
	Tick   = "tick"
)

// Slice is the most fuel an instance gets at a time.
const Slice = 1 << 16

// ErrExhausted is the cause of a guest stopped because it spent all its
// fuel.
var ErrExhausted = errors.New("the guest ran out of fuel")

// Stopped is the error a metered guest's call fails with when the meter
// stopped it: Cause is ErrExhausted or the cause of the Meter's context.
type Stopped struct{ Cause error }

func (e *Stopped) Error() string { return e.Cause.Error() }
func (e *Stopped) Unwrap() error { return e.Cause }

// Meter is the host side of instrumented modules: it gives each instance
// its budget and stops it. A Meter is safe for concurrent use: instances
// on different goroutines each have their own account.
type Meter struct {
	budget uint64
	ctx    context.Context
	// accounts: an api.Module instance → *account.
	accounts sync.Map
}

type account struct{ left uint64 }

// NewMeter makes a meter that gives each instance budget units (0: as
// many as there are) and stops them when ctx (if not nil) is done.
func NewMeter(budget uint64, ctx context.Context) *Meter {
	if budget == 0 {
		budget = 1<<63 - 1
	}
	return &Meter{budget: budget, ctx: ctx}
}

// Instantiate adds the tick's host module to a runtime, under Module.
func (m *Meter) Instantiate(ctx context.Context, rt wazero.Runtime) error {
	_, err := rt.NewHostModuleBuilder(Module).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(m.tick), nil, nil).Export(Tick).Instantiate(ctx)
	return err
}

// tick runs when an instance's fuel went negative: it refills it from the
// instance's budget, or stops the instance (by panicking with *Stopped,
// which wazero returns from the call as an error).
func (m *Meter) tick(_ context.Context, mod api.Module, _ []uint64) {
	if m.ctx != nil && m.ctx.Err() != nil {
		panic(&Stopped{Cause: context.Cause(m.ctx)})
	}
	g, ok := mod.ExportedGlobal(Export).(api.MutableGlobal)
	if !ok {
		panic(fmt.Errorf("fuel: %s is not instrumented", mod.Name()))
	}
	v, _ := m.accounts.Load(mod)
	a, _ := v.(*account)
	if a == nil {
		a = &account{left: m.budget}
		m.accounts.Store(mod, a)
	}
	fuel := int64(g.Get())
	for fuel < 0 {
		if a.left == 0 {
			panic(&Stopped{Cause: ErrExhausted})
		}
		n := min(a.left, Slice)
		a.left -= n
		fuel += int64(n)
	}
	g.Set(uint64(fuel))
}

// Spent is the fuel an instance has spent so far.
func (m *Meter) Spent(mod api.Module) uint64 {
	v, ok := m.accounts.Load(mod)
	if !ok {
		return 0
	}
	spent := m.budget - v.(*account).left
	if g := mod.ExportedGlobal(Export); g != nil && int64(g.Get()) > 0 {
		spent -= g.Get()
	}
	return spent
}

// Forget drops the account of an instance that was closed.
func (m *Meter) Forget(mod api.Module) { m.accounts.Delete(mod) }

// StopCause returns why a call failed if the meter stopped it (its
// *Stopped's cause), else nil.
func StopCause(err error) error {
	var s *Stopped
	if errors.As(err, &s) {
		return s.Cause
	}
	return nil
}
