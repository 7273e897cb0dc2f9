package proptest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// The sockets suite runs one server and one or two clients, each its own
// component instance and task. The server binds and listens, accepts the
// clients' connections one at a time and runs a script on each; it drops
// its tcp-socket handle and its listen stream after a drawn number of
// accepts. A client connects (retrying while the server is not listening
// yet), then runs a script of send steps. Data flows from clients to the
// server only, so no socket is ever released with unread data of its own
// unless the server drops a connection early.
//
// Invariants, checked after every step of every task:
//   - a socket's port is bound iff some reference to it is alive
//     (tracked by the harness; compared with vnet's bindings and counts);
//   - the server receives each client's bytes in order, exactly once, and
//     at the end of a stream (FIN) exactly what the client wrote; its
//     receive future is ok (FIN), never an error, since clients never
//     leave unread data behind;
//   - a client's send fails (writer sees DROPPED, future err
//     connection-reset/broken) only if the server never read its
//     connection to the end;
//   - accepted sockets outlive the listener: the data checks hold whether
//     or not the listener is gone.

// sockStep is one step of a client or connection script.
type sockStep struct {
	Op sockOp `json:"op"`
	N  int    `json:"n,omitempty"`
}

// sockOp is the kind of a sockStep.
type sockOp string

// Client and server-connection steps.
const (
	skSend       sockOp = "send"        // client: send(stream), once
	skPush       sockOp = "push"        // client: write N+1 bytes to the send stream
	skDropWriter sockOp = "drop-writer" // client: drop the send stream (FIN)
	skReceive    sockOp = "receive"     // server: receive(), once
	skPull       sockOp = "pull"        // server: one read of up to N+1 bytes
	skDropReader sockOp = "drop-reader" // server: drop the receive stream (SHUT_RD)
	skDropSock   sockOp = "drop-sock"   // drop the tcp-socket handle
	skAwait      sockOp = "await"       // read the send/receive future once it must resolve
	skDropFuture sockOp = "drop-future" // drop the send/receive future
)

// socketProgram is the scripts of a sockets case.
type socketProgram struct {
	// DropListenerAt and DropStreamAt are the numbers of accepted
	// connections after which the server drops its listening tcp-socket
	// handle and its listen stream.
	DropListenerAt int          `json:"drop_listener_at"`
	DropStreamAt   int          `json:"drop_stream_at"`
	Clients        [][]sockStep `json:"clients"`
	Conns          [][]sockStep `json:"conns"` // the server's script for its i-th accepted connection
}

var serverAddr = netip.MustParseAddrPort("127.0.0.1:8080")

func sockSteps(ops []sockOp) *rapid.Generator[[]sockStep] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) sockStep {
		return sockStep{Op: rapid.SampledFrom(ops).Draw(t, "op"), N: rapid.IntRange(0, 24).Draw(t, "n")}
	}), 2, 16)
}

// socketCaseGen generates sockets cases (p3).
func socketCaseGen() *rapid.Generator[*testCase] {
	client := sockSteps([]sockOp{skSend, skSend, skPush, skPush, skPush, skPush, skDropWriter, skDropSock, skAwait, skDropFuture})
	conn := sockSteps([]sockOp{skReceive, skReceive, skPull, skPull, skPull, skPull, skDropReader, skDropSock, skAwait, skDropFuture})
	return rapid.Custom(func(t *rapid.T) *testCase {
		n := rapid.IntRange(1, 2).Draw(t, "clients")
		p := &socketProgram{
			DropListenerAt: rapid.IntRange(0, n).Draw(t, "drop_listener_at"),
			DropStreamAt:   rapid.IntRange(0, n).Draw(t, "drop_stream_at"),
		}
		for range n {
			p.Clients = append(p.Clients, client.Draw(t, "client"))
			p.Conns = append(p.Conns, conn.Draw(t, "conn"))
		}
		return &testCase{
			Suite:   "sockets",
			Variant: "p3",
			Chunk:   rapid.IntRange(1, 8).Draw(t, "chunk"),
			Seed:    rapid.Uint64Range(0, 3).Draw(t, "seed"),
			Sockets: p,
		}
	})
}

// sockRec is the harness's view of one socket and its references.
type sockRec struct {
	s          *vnet.TCPSocket
	name       string
	handleLive bool
	bound      bool // it had a port binding of its own (listener, client)
	// listen stream (listener)
	lstreamLive bool
	// send (client) or receive (server connection)
	started    bool
	end        host.Handle
	fut        host.Handle
	endOK      bool
	futOK      bool
	eof        bool // the stream end reported DROPPED
	resolved   bool
	result     error
	written    int
	offering   int
	got        []byte
	client     int            // server connections: the client at the other end (-1 unknown)
	remote     netip.AddrPort // server connections: the client's address
	local      netip.AddrPort // clients: their address once connected
	readToEOF  bool
	isReceiver bool
}

func (s *sockRec) refBounds() (lo, hi int) {
	if s.handleLive {
		lo, hi = 1, 1
	}
	if s.lstreamLive {
		lo, hi = lo+1, hi+1
	}
	if s.started {
		switch {
		case s.endOK:
			lo, hi = lo+1, hi+1
		case !s.isReceiver && !s.resolved:
			hi++ // the host may still be sending
		}
		if s.futOK {
			lo, hi = lo+1, hi+1
		}
	}
	return lo, hi
}

type socketsRun struct {
	w          *sim.World
	h          *host.Host
	prog       *socketProgram
	socks      []*sockRec
	clients    []*sockRec // each client's connected socket (nil until connected or if refused)
	clientIns  []*host.Instance
	trying     int // clients still trying to connect
	pending    int // connections made but not yet accepted
	listenDone bool
	violations []string
	seen       map[string]bool
}

func (r *socketsRun) failf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(r.violations) < 8 && !r.seen[msg] {
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[msg] = true // report each finding once, at its first step
		r.violations = append(r.violations, fmt.Sprintf("step %d: %s", r.w.Step(), msg))
	}
}

func clientByte(c, i int) byte { return byte((c+1)<<6 | i%61 + 1) }

func setupSockets(w *sim.World, c *testCase, v host.Variant) (judge, error) {
	n := vnet.New(vnet.Options{World: w, BufferSize: 16})
	mutation.Enable(w, c.Mutations)
	h, err := host.New(w, host.Options{Variant: v, Chunk: c.Chunk, Net: n})
	if err != nil {
		return nil, err
	}
	p := c.Sockets
	if len(p.Conns) < len(p.Clients) {
		return nil, errors.New("proptest: a sockets program needs a connection script per client")
	}
	r := &socketsRun{w: w, h: h, prog: p, clients: make([]*sockRec, len(p.Clients)), trying: len(p.Clients)}
	srv := h.NewInstance("server")
	w.Go("server", func(*sim.Task) error { return r.server(srv) })
	for i, script := range p.Clients {
		in := h.NewInstance(fmt.Sprintf("client%d", i))
		r.clientIns = append(r.clientIns, in)
		w.Go(fmt.Sprintf("client%d", i), func(*sim.Task) error { return r.client(in, i, script) })
	}
	w.AddLeakCheck("proptest", r.endChecks)
	return func(res *sim.Result) error { return res.Error() }, nil
}

func (r *socketsRun) track(in *host.Instance, h host.Handle, name string) (*sockRec, error) {
	s, err := in.Socket(h)
	if err != nil {
		return nil, err
	}
	rec := &sockRec{s: s, name: name, handleLive: true, client: -1}
	r.socks = append(r.socks, rec)
	return rec, nil
}

func (r *socketsRun) server(in *host.Instance) error {
	sh, err := in.NewTCPSocket(vnet.IPv4)
	if err != nil {
		return err
	}
	l, err := r.track(in, sh, "listener")
	if err != nil {
		return err
	}
	if err := in.Bind(sh, serverAddr); err != nil {
		return err
	}
	l.bound = true
	ls, err := in.Listen(sh)
	if err != nil {
		return err
	}
	l.lstreamLive = true
	r.check()
	accepted := 0
	dropListener := func() error {
		if accepted >= r.prog.DropListenerAt && l.handleLive {
			if err := in.Drop(sh); err != nil {
				return err
			}
			l.handleLive = false
			r.check()
		}
		if accepted >= r.prog.DropStreamAt && l.lstreamLive {
			if err := in.Drop(ls); err != nil {
				return err
			}
			l.lstreamLive = false
			r.check()
		}
		r.listenDone = !l.handleLive && !l.lstreamLive
		return nil
	}
	for accepted < len(r.prog.Clients) {
		if err := dropListener(); err != nil {
			return err
		}
		if !l.lstreamLive {
			break
		}
		for r.pending == 0 && r.trying > 0 {
			r.w.Sleep(time.Millisecond)
		}
		if r.pending == 0 {
			break
		}
		ch, res, err := in.Accept(ls)
		if err != nil {
			return err
		}
		if ch == 0 {
			return fmt.Errorf("accept ended with %v while a connection was pending", res)
		}
		r.pending--
		accepted++
		c, err := r.track(in, ch, fmt.Sprintf("conn%d", accepted-1))
		if err != nil {
			return err
		}
		c.isReceiver = true
		c.remote, err = in.RemoteAddress(ch)
		if err != nil {
			return err
		}
		r.check()
		if err := r.conn(in, c, ch, r.prog.Conns[accepted-1]); err != nil {
			return err
		}
	}
	accepted = len(r.prog.Clients)
	if err := dropListener(); err != nil {
		return err
	}
	return nil
}

// clientOf finds the client whose socket is the other end of c.
func (r *socketsRun) clientOf(c *sockRec) int {
	if c.client >= 0 {
		return c.client
	}
	for i, s := range r.clients {
		if s == nil {
			continue
		}
		if s.local == c.remote {
			c.client = i
		}
	}
	return c.client
}

func (r *socketsRun) conn(in *host.Instance, c *sockRec, ch host.Handle, script []sockStep) error {
	for _, st := range script {
		if err := r.connStep(in, c, ch, st); err != nil {
			return err
		}
		r.check()
	}
	// Cleanup: read to the end if receiving (clients always end their
	// streams), then drop everything.
	for c.started && c.endOK && !c.eof {
		if err := r.pull(in, c, 64); err != nil {
			return err
		}
	}
	return r.sockCleanup(in, c, ch)
}

func (r *socketsRun) connStep(in *host.Instance, c *sockRec, ch host.Handle, st sockStep) error {
	switch st.Op {
	case skReceive:
		if c.started || !c.handleLive {
			return nil
		}
		d, f, err := in.Receive(ch)
		if err != nil {
			return err
		}
		c.started, c.end, c.fut, c.endOK, c.futOK = true, d, f, true, true
	case skPull:
		if c.started && c.endOK && !c.eof {
			return r.pull(in, c, st.N+1)
		}
	case skDropReader:
		if c.started && c.endOK {
			if err := in.Drop(c.end); err != nil {
				return err
			}
			c.endOK = false
		}
	default:
		return r.commonStep(in, c, ch, st)
	}
	return nil
}

func (r *socketsRun) pull(in *host.Instance, c *sockRec, n int) error {
	b, res, err := in.Read(c.end, n)
	if err != nil {
		return err
	}
	c.got = append(c.got, b...)
	if res.Status == host.Dropped {
		c.eof = true
	}
	ci := r.clientOf(c)
	if ci < 0 {
		if len(c.got) > 0 {
			r.failf("%s received %d bytes from an unknown client %v", c.name, len(c.got), c.remote)
		}
		return nil
	}
	cl := r.clients[ci]
	for i := len(c.got) - len(b); i < len(c.got); i++ {
		if c.got[i] != clientByte(ci, i) {
			r.failf("%s byte %d is %#x, client %d sent %#x there", c.name, i, c.got[i], ci, clientByte(ci, i))
			break
		}
	}
	if len(c.got) > cl.written+cl.offering {
		r.failf("%s received %d bytes, client %d wrote %d (+%d in flight)", c.name, len(c.got), ci, cl.written, cl.offering)
	}
	if c.eof {
		c.readToEOF = true
		if len(c.got) != cl.written {
			r.failf("%s: end of stream after %d bytes, client %d wrote %d", c.name, len(c.got), ci, cl.written)
		}
	}
	return nil
}

func (r *socketsRun) commonStep(in *host.Instance, s *sockRec, sh host.Handle, st sockStep) error {
	switch st.Op {
	case skDropSock:
		if s.handleLive {
			if err := in.Drop(sh); err != nil {
				return err
			}
			s.handleLive = false
		}
	case skAwait:
		if s.started && s.futOK && !s.resolved && (!s.endOK || s.eof) {
			return r.await(in, s)
		}
	case skDropFuture:
		if s.started && s.futOK {
			if err := in.Drop(s.fut); err != nil {
				return err
			}
			s.futOK = false
		}
	}
	return nil
}

func (r *socketsRun) await(in *host.Instance, s *sockRec) error {
	res, err := in.Await(s.fut)
	if err != nil {
		return err
	}
	s.resolved, s.result = true, res
	if s.isReceiver {
		if res != nil {
			r.failf("%s receive future %v: clients never leave unread data, so the end must be a FIN (ok)", s.name, res)
		}
		return nil
	}
	if res != nil && !errors.Is(res, vnet.ErrConnectionReset) && !errors.Is(res, vnet.ErrConnectionBroken) {
		r.failf("%s send future %v", s.name, res)
	}
	return nil
}

func (r *socketsRun) sockCleanup(in *host.Instance, s *sockRec, sh host.Handle) error {
	if s.started && s.endOK {
		if err := in.Drop(s.end); err != nil {
			return err
		}
		s.endOK = false
		r.check()
	}
	if s.started && s.futOK {
		if !s.resolved {
			if err := r.await(in, s); err != nil {
				return err
			}
		}
		if err := in.Drop(s.fut); err != nil {
			return err
		}
		s.futOK = false
		r.check()
	}
	if s.handleLive {
		if err := in.Drop(sh); err != nil {
			return err
		}
		s.handleLive = false
		r.check()
	}
	return nil
}

func (r *socketsRun) client(in *host.Instance, i int, script []sockStep) error {
	var sh host.Handle
	for {
		var err error
		if sh, err = in.NewTCPSocket(vnet.IPv4); err != nil {
			return err
		}
		err = in.Connect(sh, serverAddr)
		if err == nil {
			break
		}
		if err := in.Drop(sh); err != nil {
			return err
		}
		if !errors.Is(err, vnet.ErrConnectionRefused) {
			return err
		}
		if r.listenDone {
			r.trying--
			return nil
		}
		r.w.Sleep(time.Millisecond)
	}
	s, err := r.track(in, sh, fmt.Sprintf("client%d", i))
	if err != nil {
		return err
	}
	s.bound = true
	if s.local, err = s.s.LocalAddr(); err != nil {
		return err
	}
	r.clients[i] = s
	r.trying--
	if !r.listenDone {
		r.pending++
	}
	r.check()
	for _, st := range script {
		if err := r.clientStep(in, s, sh, i, st); err != nil {
			return err
		}
		r.check()
	}
	if s.started && s.endOK {
		if err := in.Drop(s.end); err != nil {
			return err
		}
		s.endOK = false
		r.check()
	}
	return r.sockCleanup(in, s, sh)
}

func (r *socketsRun) clientStep(in *host.Instance, s *sockRec, sh host.Handle, i int, st sockStep) error {
	switch st.Op {
	case skSend:
		if s.started || !s.handleLive {
			return nil
		}
		rd, wr, err := in.NewStream()
		if err != nil {
			return err
		}
		f, err := in.Send(sh, rd)
		if err != nil {
			return err
		}
		s.started, s.end, s.fut, s.endOK, s.futOK = true, wr, f, true, true
	case skPush:
		if !s.started || !s.endOK || s.eof {
			return nil
		}
		data := make([]byte, st.N+1)
		for k := range data {
			data[k] = clientByte(i, s.written+k)
		}
		s.offering = len(data)
		res, err := in.Write(s.end, data)
		s.offering = 0
		if err != nil {
			return err
		}
		s.written += res.Progress
		if res.Status == host.Dropped {
			s.eof = true
		}
	case skDropWriter:
		if s.started && s.endOK {
			if err := in.Drop(s.end); err != nil {
				return err
			}
			s.endOK = false
		}
	default:
		return r.commonStep(in, s, sh, st)
	}
	return nil
}

// check compares what the harness knows of every socket's references with
// vnet: the reference count within bounds and the port bound exactly
// while a reference lives.
func (r *socketsRun) check() {
	bound := map[uint64]bool{}
	for _, b := range r.h.Net().Bindings() {
		bound[b.Socket] = true
	}
	for _, s := range r.socks {
		refs := int(s.s.Refs())
		lo, hi := s.refBounds()
		if refs < lo || refs > hi {
			what := "released early"
			if refs > hi {
				what = "kept alive late"
			}
			r.failf("%s (%s) %s: %d references, the harness counts %d..%d", s.name, s.s, what, refs, lo, hi)
		}
		if s.bound && bound[s.s.ID()] != (refs > 0) {
			r.failf("%s (%s) with %d references: port bound = %v", s.name, s.s, refs, bound[s.s.ID()])
		}
	}
	for i, c := range r.clients {
		if c == nil || !c.resolved || c.result == nil {
			continue
		}
		for _, s := range r.socks {
			if s.isReceiver && r.clientOf(s) == i && s.readToEOF {
				r.failf("client%d's send failed (%v) though the server read its stream to the end", i, c.result)
			}
		}
	}
}

func (r *socketsRun) endChecks() []string {
	r.check()
	out := slices.Clone(r.violations)
	for _, s := range r.socks {
		if refs := s.s.Refs(); refs != 0 {
			out = append(out, fmt.Sprintf("%s (%s) still has %d references at the end", s.name, s.s, refs))
		}
	}
	if b := r.h.Net().Bindings(); len(b) > 0 {
		out = append(out, fmt.Sprintf("ports still bound at the end: %v", b))
	}
	out = append(out, futuresResolvedOnce(r.w.Trace())...)
	return out
}
