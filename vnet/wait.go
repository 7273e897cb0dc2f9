package vnet

import (
	"time"

	"github.com/wasisim/wasisim/internal/wait"
)

// newWaiter makes a wait queue of the Net's mode; name labels deadlock
// reports.
func (n *Net) newWaiter(name string) wait.Queue { return wait.New(n.w, name) }

// now is the time deadlines are compared with: virtual wall time in world
// mode, the real clock otherwise.
func (n *Net) now() time.Time {
	return wait.Now(n.w)
}

// expired reports whether the deadline (zero: none) has passed; a call
// whose deadline has passed fails with ErrTimeout even when it could
// proceed, as net.Conn requires.
func (n *Net) expired(deadline time.Time) bool {
	return !deadline.IsZero() && !n.now().Before(deadline)
}
