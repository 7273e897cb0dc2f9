package proptest

import (
	"errors"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// SocketProgram is the scripts of a sockets case.
type SocketProgram struct{}

func setupSockets(w *sim.World, c *Case, v host.Variant) (judge, error) {
	return nil, errors.New("todo")
}
