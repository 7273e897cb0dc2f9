package bridge

import (
	"io"
	"strconv"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// conn is one bridged connection in the world: the bridge's socket in
// the Net, connected to a guest, and the bytes on their way. Two tasks
// pump it: machine bytes into the Net, guest bytes out to the machine.
type conn struct {
	b    *Bridge
	id   uint64
	name string
	sock *vnet.TCPSocket // nil until connected to the guest

	in                [][]byte // machine bytes not yet written into the Net
	inEnd             byte     // evEOF or evReset once the machine side ended
	inQ               *sim.WaitQueue
	ackQ              *sim.WaitQueue
	inflight, unacked int // guest bytes (and sends) the machine peer has not taken yet

	pumps     int
	inStopped bool // the guest no longer takes machine bytes
	inDone    bool // the pump of machine bytes ended
	done      bool // the bridge's socket is released
}

// waitsForMachine reports whether the world may wait for the machine on
// this connection: its machine side may still send, or has guest bytes
// to take.
func (c *conn) waitsForMachine() bool {
	return !c.done && (c.inEnd == 0 && !c.inStopped || c.unacked > 0)
}

// fromMachine applies bytes, an end of stream or a reset from the machine.
// A reset after the end of stream (the machine peer closed, and the guest
// sent it more) still resets the guest's connection.
func (c *conn) fromMachine(e event) {
	if e.kind == evReset && c.inEnd == evEOF {
		c.inEnd = evReset
		c.b.event(c.name, "reset from the machine")
		if c.inDone && c.sock != nil {
			c.sock.Reset() //nolint:errcheck // the guest may be gone
		}
		return
	}
	if c.inEnd != 0 {
		return
	}
	switch e.kind {
	case evData:
		if len(e.data) == 0 {
			return
		}
		c.in = append(c.in, e.data)
		c.b.event(c.name, strconv.Itoa(len(e.data))+" bytes from the machine")
	case evEOF:
		c.inEnd = evEOF
		c.b.event(c.name, "end of stream from the machine")
	case evReset:
		c.inEnd = evReset
		c.b.event(c.name, "reset from the machine")
	}
	c.inQ.Broadcast()
}

// written records that the machine peer took n bytes of one send.
func (c *conn) written(n int) {
	c.unacked = max(0, c.unacked-n)
	c.inflight = max(0, c.inflight-1)
	c.ackQ.Broadcast()
}

// start runs the two pumps of a connected connection.
func (c *conn) start() {
	c.pumps = 2
	c.b.w.Go("bridge in "+c.name, func(*sim.Task) error { c.pumpIn(); return nil })
	c.b.w.Go("bridge out "+c.name, func(*sim.Task) error { c.pumpOut(); return nil })
}

// pumpIn writes the machine's bytes into the Net, then its end of stream
// (a FIN) or reset.
func (c *conn) pumpIn() {
	defer func() {
		c.inDone = true
		c.pumpDone()
	}()
	for {
		for len(c.in) == 0 && c.inEnd == 0 && !c.done {
			if err := c.inQ.Wait(""); err != nil {
				return
			}
		}
		if c.done {
			return
		}
		if len(c.in) > 0 {
			p := c.in[0]
			c.in[0] = nil
			c.in = c.in[1:]
			for len(p) > 0 {
				k, err := c.sock.Write(p)
				if err != nil {
					// The guest's side is gone: its bytes are unwanted.
					c.inStopped = true
					return
				}
				p = p[k:]
			}
			if l := c.b.live; l != nil {
				l.credit(c.id)
			}
			continue
		}
		if c.inEnd == evEOF {
			c.sock.ShutdownWrite() //nolint:errcheck // the guest may be gone
		} else {
			c.sock.Reset() //nolint:errcheck // likewise
		}
		return
	}
}

// pumpOut sends the guest's bytes to the machine, at most MaxInFlight
// of them not yet taken, then its end of stream or reset.
func (c *conn) pumpOut() {
	defer c.pumpDone()
	buf := make([]byte, chunk)
	for {
		for (c.unacked >= MaxInFlight || c.inflight >= maxChunks) && !c.done {
			if err := c.ackQ.Wait(""); err != nil {
				return
			}
		}
		if c.done {
			return
		}
		k, err := c.sock.Read(buf)
		if c.done {
			return
		}
		if k > 0 {
			c.unacked += k
			c.inflight++
			c.b.event(c.name, strconv.Itoa(k)+" bytes to the machine")
			if l := c.b.live; l != nil {
				l.send(c.id, outMsg{data: append([]byte(nil), buf[:k]...)})
			}
		}
		switch {
		case err == io.EOF:
			c.toMachine(evEOF)
			return
		case err != nil:
			c.toMachine(evReset)
			return
		}
	}
}

// toMachine ends the machine side of the guest's direction: FIN or RST.
func (c *conn) toMachine(end byte) {
	if end == evEOF {
		c.b.event(c.name, "end of stream to the machine")
	} else {
		c.b.event(c.name, "reset to the machine")
	}
	if l := c.b.live; l != nil {
		l.send(c.id, outMsg{end: end})
	}
}

// pumpDone ends a pump; the last one releases the connection.
func (c *conn) pumpDone() {
	c.pumps--
	if c.pumps == 0 {
		c.end()
	}
}

// end releases the bridge's socket (the guest sees the end of the
// stream) and closes the machine socket once the guest's bytes are
// delivered; the pumps stop.
func (c *conn) end() {
	if c.done {
		return
	}
	c.done = true
	delete(c.b.conns, c.id)
	if c.sock != nil {
		c.sock.DecRef() //nolint:errcheck // the bridge's own reference
	}
	c.inQ.Broadcast()
	c.ackQ.Broadcast()
	if l := c.b.live; l != nil {
		l.send(c.id, outMsg{end: endClose})
	}
}

// fail ends a connection that never reached a guest: the machine client
// is reset.
func (c *conn) fail() {
	if c.done {
		return
	}
	c.done = true
	delete(c.b.conns, c.id)
	if l := c.b.live; l != nil {
		l.send(c.id, outMsg{end: evReset})
	}
}
