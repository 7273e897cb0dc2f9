package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/wasmrun"
)

// ExitInterrupted is the exit code of a command stopped by SIGINT or
// SIGTERM (128+SIGINT, as a shell reports it).
const ExitInterrupted = 130

// errInterrupted ends a command that a signal stopped, after it reported
// what it had done.
var errInterrupted = errors.New("interrupted")

// notifySignals subscribes to SIGINT and SIGTERM.
func notifySignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

// interruptible makes the command's context: the first SIGINT or SIGTERM
// cancels it with wasmrun.ErrInterrupted, which asks the command to stop
// at the next run boundary (explore) or step (run) and report what it has;
// a second one exits at once. The returned function releases the signals.
func (c *command) interruptible() func() {
	ctx, cancel := context.WithCancelCause(context.Background())
	c.ctx = ctx
	sigs, release := c.signals()
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(c.stderr, "wasisim %s: %v: stopping; %s\n", c.name, s, "interrupt again to quit at once")
			cancel(wasmrun.ErrInterrupted)
		case <-done:
			return
		}
		select {
		case <-sigs:
			c.exitNow(ExitInterrupted)
		case <-done:
		}
	}()
	return func() {
		close(done)
		release()
	}
}

// context is the command's context (Background until interruptible).
func (c *command) context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// interrupted reports whether a signal stopped the command.
func (c *command) interrupted() bool {
	return c.ctx != nil && errors.Is(context.Cause(c.ctx), wasmrun.ErrInterrupted)
}
