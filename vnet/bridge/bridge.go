// Package bridge connects a world's simulated network (vnet) to the
// machine's, opt-in and replayably. Published mappings let a client on the
// machine connect to a guest's listener; forwarded mappings let a guest
// reach a server on the machine's loopback. Nothing else crosses: without
// a bridge nothing leaves the simulation, and with one only the addresses
// its mappings name are reachable either way.
//
// Everything that comes from the machine — a client connecting, the bytes
// it sends, its end of stream or reset, the result of a dial, the
// acknowledgement that bytes reached the machine peer — enters the world
// as outside input (sim.World.Input, named "bridge"): asynchronous events
// at idle points (when no task can run and no timer is due), results of
// dials and listens where they happen. Each is recorded in the trace, so
// a run that used the bridge replays exactly without it: a bridge made
// without Options.Live opens nothing and takes every event from the trace.
//
// Bytes a guest sends to the machine are bounded in flight (MaxInFlight):
// the guest's connection waits for the machine peer to take them, as a
// kernel's would. A machine peer that goes away resets the guest's
// connection. Only TCP is bridged.
//
// Because machine events arrive only at idle points, virtual time does
// not wait for them: a guest that sleeps or polls with a timeout lets the
// world's clock run on, and sees machine input only once it blocks with
// no timer pending. While the bridge waits for the machine, a live stdin
// (host.Options.StdinReader) is not read.
package bridge

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// MaxInFlight bounds the bytes a guest has sent to a machine peer that it
// has not yet taken; the guest's connection waits beyond it.
const MaxInFlight = 256 << 10

// maxChunks bounds the sends in flight on one connection (the machine
// writer's queue).
const maxChunks = 8

// chunk is the largest read of a guest's bytes toward the machine, and of
// a machine peer's bytes toward the guest: an event's framing (a kind
// byte and a uvarint id, under 16 bytes) and its payload must fit in one
// input event, which World.Input would otherwise split.
const chunk = sim.MaxInputChunk - 16

// Options configures a Bridge.
type Options struct {
	// Publish makes guest listeners reachable from the machine.
	Publish []Mapping
	// Forward makes machine servers reachable from guests. Their Host
	// addresses must be loopback addresses.
	Forward []Mapping
	// Live connects the bridge to the machine's network. Without it (a
	// replay) nothing is opened and every event comes from the trace.
	Live bool
	// DialTimeout bounds a forwarded connect on the machine (default
	// 5s); a dial that takes longer fails the guest's connect with
	// timeout.
	DialTimeout time.Duration
	// IdleTimeout, if positive, bounds how long a live world that can do
	// nothing else waits for the machine; then the bridge closes (its
	// connections end, its listeners stop) and the run goes on without
	// it. Zero waits for ever, as a server does.
	IdleTimeout time.Duration
	// Log receives one line for each problem on the machine's side that
	// the guests do not see as an error (a published port that could not
	// be listened on). Nil discards them.
	Log io.Writer
}

// Bridge is the bridge between one world's Net and the machine's network.
// Its methods other than Shutdown run in the world (setup or its tasks).
type Bridge struct {
	n     *vnet.Net
	w     *sim.World
	opt   Options
	live  *live // nil without Options.Live
	fixed int   // published mappings with a fixed port: always listening

	closed bool
	conns  map[uint64]*conn
	pubs   map[*vnet.TCPSocket]netip.AddrPort // guest listeners published on a port of their own: the machine address
	mine   map[*vnet.TCPSocket]bool           // the bridge's connecting sockets: never routed out again
}

// New attaches a bridge to n, whose world it runs in (n must have one).
// A live bridge listens on the fixed published addresses at once; an
// address it cannot listen on is an error.
func New(n *vnet.Net, opt Options) (*Bridge, error) {
	w := n.World()
	if w == nil {
		return nil, fmt.Errorf("bridge: the network has no world")
	}
	for _, m := range opt.Forward {
		if m.AnyPort {
			return nil, fmt.Errorf("bridge: forward %s: a forwarded mapping names one port", m)
		}
		if !m.Host.Addr().IsLoopback() {
			return nil, fmt.Errorf("bridge: forward %s: guests may only reach the machine's loopback", m)
		}
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = 5 * time.Second
	}
	b := &Bridge{n: n, w: w, opt: opt, conns: map[uint64]*conn{}, pubs: map[*vnet.TCPSocket]netip.AddrPort{}, mine: map[*vnet.TCPSocket]bool{}}
	if opt.Live {
		b.live = newLive(opt)
	}
	for _, m := range opt.Publish {
		if m.AnyPort {
			continue
		}
		b.fixed++
		if b.live != nil {
			if err := b.live.listen(m.Host, m.Guest); err != nil {
				b.live.shutdown(0)
				return nil, fmt.Errorf("bridge: publish %s: %w", m, err)
			}
		}
	}
	n.SetGateway(b)
	n.OnListen(b.onListen)
	w.OnIdle(b.idle)
	return b, nil
}

// CloseAfter closes the bridge once every task of tasks has ended (from a
// task of its own): when the guests are done, nothing should wait for the
// machine any more.
func (b *Bridge) CloseAfter(tasks ...*sim.Task) {
	b.w.Go("bridge close", func(*sim.Task) error {
		for _, t := range tasks {
			t.Join() //nolint:errcheck // how the task ended is the run's business
		}
		b.Close()
		return nil
	})
}

// Close ends the bridge in the world: published listeners stop, the
// bridge's ends of its connections are released (a guest peer sees the
// end of the stream), forwarded addresses are no longer routed, and the
// world no longer waits for the machine. What guests sent is still
// delivered to the machine (Shutdown waits for it). Closing twice does
// nothing.
func (b *Bridge) Close() {
	if b.closed {
		return
	}
	b.closed = true
	b.event("bridge", "closed")
	for _, id := range b.connIDs() {
		c := b.conns[id]
		c.end()
	}
	if b.live != nil {
		b.live.closeListeners()
	}
}

// Shutdown, after the world's run, delivers to machine peers what guests
// sent them (waiting at most timeout), then closes every machine socket
// and ends the bridge's goroutines. It does nothing without Options.Live.
func (b *Bridge) Shutdown(timeout time.Duration) {
	if b.live != nil {
		b.live.shutdown(timeout)
	}
}

func (b *Bridge) connIDs() []uint64 {
	ids := make([]uint64, 0, len(b.conns))
	for id := range b.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (b *Bridge) event(obj, detail string) {
	if b.w.Tracing() {
		b.w.Event("bridge", obj, detail)
	}
}

func (b *Bridge) warn(format string, a ...any) {
	if b.opt.Log != nil && b.live != nil {
		fmt.Fprintf(b.opt.Log, "wasisim bridge: "+format+"\n", a...)
	}
}

// input takes one event from the machine (live) or the trace (replay).
// A malformed or missing event ends the outside: evQuiet.
func (b *Bridge) input(read func() ([]byte, error)) event {
	if b.live == nil {
		read = func() ([]byte, error) { return nil, io.EOF } // never called in a replay
	}
	data, err := b.w.Input("bridge", read)
	if err != nil {
		return event{kind: evQuiet}
	}
	e, err := decode(data)
	if err != nil {
		return event{kind: evQuiet}
	}
	return e
}

// active reports whether the machine may still send something the world
// waits for: a published listener, or a connection whose machine side is
// still open or still has bytes of the guest's to take.
func (b *Bridge) active() bool {
	if b.closed {
		return false
	}
	if b.fixed > 0 || len(b.pubs) > 0 {
		return true
	}
	for _, c := range b.conns {
		if c.waitsForMachine() {
			return true
		}
	}
	return false
}

// idle is the world's idle hook: while the bridge is active it waits for
// the next event from the machine and applies it.
func (b *Bridge) idle() bool {
	if !b.active() {
		return false
	}
	e := b.input(b.live.next)
	switch e.kind {
	case evAccept:
		b.accept(e.id, e.addr)
	case evData, evEOF, evReset:
		if c := b.conns[e.id]; c != nil {
			c.fromMachine(e)
		}
	case evWritten:
		if c := b.conns[e.id]; c != nil {
			c.written(int(e.n))
		}
	case evQuiet:
		b.event("bridge", "the machine went quiet")
		b.warn("nothing came from the machine for %v: closing the bridge", b.opt.IdleTimeout)
		b.Close()
	default:
		b.event("bridge", "unexpected input "+string(e.kind)+": closing")
		b.Close()
	}
	return true
}

// accept connects a machine client that connected to a published address
// to the guest address: a task of its own makes the bridge's socket and
// connects it; if nothing listens there the machine client is reset.
func (b *Bridge) accept(id uint64, to netip.AddrPort) {
	c := b.newConn(id, nil)
	b.event(c.name, "machine client for "+to.String())
	b.w.Go("bridge accept "+c.name, func(*sim.Task) error {
		fam := vnet.IPv4
		if to.Addr().Is6() {
			fam = vnet.IPv6
		}
		s, err := b.n.NewTCP(fam)
		if err != nil {
			c.fail()
			return nil
		}
		b.mine[s] = true
		err = s.Connect(to)
		delete(b.mine, s)
		if err != nil || b.closed || c.done {
			s.DecRef() //nolint:errcheck // the bridge's own reference
			b.event(c.name, "guest "+to.String()+": "+errString(err))
			c.fail()
			return nil
		}
		c.sock = s
		c.start()
		return nil
	})
}

func errString(err error) string {
	if err == nil {
		return "bridge closed"
	}
	return err.Error()
}

// onListen publishes a guest listener that a port-"*" mapping covers: a
// machine listener opens on the same port.
func (b *Bridge) onListen(s *vnet.TCPSocket) {
	if b.closed || b.mine[s] {
		return
	}
	la, err := s.LocalAddr()
	if err != nil {
		return
	}
	for _, m := range b.opt.Publish {
		if !m.AnyPort || !covers(m.Guest.Addr(), la.Addr()) {
			continue
		}
		host := netip.AddrPortFrom(m.Host.Addr(), la.Port())
		to := la
		if to.Addr().IsUnspecified() {
			to = netip.AddrPortFrom(m.Guest.Addr(), la.Port())
		}
		e := b.input(func() ([]byte, error) {
			err := b.live.listen(host, to)
			if err != nil {
				b.warn("cannot publish %s on %s: %v", la, host, err)
			}
			return event{kind: evListen, ok: err == nil}.encode(), nil
		})
		if e.kind != evListen || !e.ok {
			b.event(s.String(), "not published on "+host.String())
			return
		}
		b.event(s.String(), "published on "+host.String())
		b.pubs[s] = host
		s.OnRelease(func() {
			delete(b.pubs, s)
			if b.live != nil {
				b.live.closeListener(host)
			}
		})
		return
	}
}

// Published reports the machine address a guest listener is published
// on by a port-"*" mapping, and false if it is not published (no mapping
// covers it, the machine port was taken, or it was released). It runs in
// the world, like the bridge's other methods.
func (b *Bridge) Published(s *vnet.TCPSocket) (netip.AddrPort, bool) {
	host, ok := b.pubs[s]
	return host, ok
}

// covers reports whether a mapping's guest address covers a listener's:
// the same address, or the listener's is the unspecified one of its
// family.
func covers(guest, l netip.Addr) bool {
	return guest == l || l.IsUnspecified() && l.Is4() == guest.Is4()
}

// Routes is the vnet.Gateway: a guest's connect to a forwarded address
// leaves the Net (the bridge's own sockets never do).
func (b *Bridge) Routes(s *vnet.TCPSocket, dst netip.AddrPort) bool {
	if b.closed || b.mine[s] {
		return false
	}
	_, ok := b.forward(dst)
	return ok
}

func (b *Bridge) forward(dst netip.AddrPort) (Mapping, bool) {
	for _, m := range b.opt.Forward {
		if m.Guest == dst {
			return m, true
		}
	}
	return Mapping{}, false
}

// Dial is the vnet.Gateway: it dials the machine address of a forwarded
// mapping, the result being outside input.
func (b *Bridge) Dial(s *vnet.TCPSocket, dst netip.AddrPort) (func(*vnet.TCPSocket), error) {
	m, ok := b.forward(dst)
	if !ok || b.closed {
		return nil, vnet.ErrConnectionRefused
	}
	e := b.input(func() ([]byte, error) {
		id, code := b.live.dial(m.Host)
		return event{kind: evDial, id: id, code: code}.encode(), nil
	})
	if e.kind != evDial || e.id == 0 {
		code := e.code
		if e.kind != evDial || code == vnet.ErrOther {
			code = vnet.ErrConnectionRefused
		}
		b.event(s.String(), "dial "+m.Host.String()+": "+code.String())
		return nil, code
	}
	id := e.id
	return func(sock *vnet.TCPSocket) {
		c := b.newConn(id, sock)
		if sock == nil || b.closed {
			c.fail()
			return
		}
		b.event(c.name, "to machine "+m.Host.String())
		c.start()
	}, nil
}

func (b *Bridge) newConn(id uint64, s *vnet.TCPSocket) *conn {
	c := &conn{b: b, id: id, sock: s, name: "bridge#" + strconv.FormatUint(id, 10)}
	c.inQ = b.w.NewWaitQueue(c.name + " bytes from the machine")
	c.ackQ = b.w.NewWaitQueue(c.name + " machine peer taking bytes")
	b.conns[id] = c
	return c
}
