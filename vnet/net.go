package vnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/internal/wait"
	"github.com/wasisim/wasisim/sim"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultEphemeralLow  = 32768 // Linux ip_local_port_range low end
	DefaultEphemeralHigh = 60999 // Linux ip_local_port_range high end
	DefaultBufferSize    = 64 << 10
	DefaultUDPQueueLen   = 64
	DefaultBacklog       = 128
	// MaxBacklog is the largest listen backlog (Linux somaxconn); larger
	// values are clamped.
	MaxBacklog = 4096
	// MaxDatagramSize is the largest UDP payload Send accepts.
	MaxDatagramSize = 65535
)

// Family is an IP address family (wasi:sockets ip-address-family).
type Family uint8

// The address families, in WIT order.
const (
	IPv4 Family = iota
	IPv6
)

// String returns "ipv4" or "ipv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "family(" + itoa(int(f)) + ")"
}

// Proto is a transport protocol with its own port table.
type Proto uint8

// The protocols.
const (
	TCP Proto = iota
	UDP
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	if p == TCP {
		return "tcp"
	}
	if p == UDP {
		return "udp"
	}
	return "proto(" + itoa(int(p)) + ")"
}

// SharedBindPolicy decides what a second TCP bind to an address:port that a
// bound but not listening socket holds gets. A listening holder always makes
// the bind fail with address-in-use, and so does any UDP holder.
type SharedBindPolicy uint8

const (
	// SharedBindAllow (the default) is Linux with SO_REUSEADDR, which WASI
	// requires hosts to set implicitly: several non-listening TCP sockets
	// may bind one address:port; the second Listen on it fails with
	// address-in-use. This is what Wasmtime on Linux does.
	SharedBindAllow SharedBindPolicy = iota
	// SharedBindRefuse is the strict model: any holder of an overlapping
	// address:port makes Bind fail with address-in-use.
	SharedBindRefuse
)

// Faults configures seeded fault injection on TCP connections. Decisions
// are drawn from World.Rand() (or the Net's seeded source without a
// world), so a run with faults is still reproducible from its seed, and
// each injected fault is a "fault" event in the trace.
type Faults struct {
	// ResetRate is the probability (0..1) that a Write resets the
	// connection instead of copying data.
	ResetRate float64
	// ShortRate is the probability (0..1) that a Read or Write moves fewer
	// bytes than it could (at least one).
	ShortRate float64
}

// Options configures a Net. The zero value is valid.
type Options struct {
	// World makes every blocking operation a wait in the world (the
	// scheduler decides when it proceeds; deadlines use the virtual clock)
	// and records events. Nil makes an ordinary in-memory network for
	// plain goroutines with real-time deadlines.
	World *sim.World
	// EphemeralLow and EphemeralHigh bound the ports picked for port 0
	// and implicit binds (default 32768–60999).
	EphemeralLow, EphemeralHigh uint16
	// BufferSize is the capacity in bytes of each direction of a TCP
	// connection (default 64 KiB). A writer waits when it is full.
	BufferSize int
	// SharedBind is the policy for two bound-not-listening TCP sockets on
	// one address:port (default SharedBindAllow).
	SharedBind SharedBindPolicy
	// UDPQueueLen bounds each UDP socket's receive queue in datagrams
	// (default 64); datagrams beyond it are dropped and counted.
	UDPQueueLen int
	// Seed seeds ephemeral ports and faults when World is nil.
	Seed uint64
	// Faults, if set, injects connection resets and short copies.
	Faults *Faults
	// NoLeakCheck stops New from registering Live as the world's "vnet"
	// leak check (sockets still referenced when the run ends).
	NoLeakCheck bool
}

// Net is one simulated loopback network: the port tables, the sockets and
// their connections. All methods are safe for concurrent use by goroutines
// (World == nil) or by the tasks of the world.
type Net struct {
	// mu guards the Net and everything in it: the fields below that are
	// not immutable, every socket's state, buffers, options and reference
	// count, the pipes and the wait queues. Functions named …Locked
	// require it; blocking waits release it while they block.
	mu      sync.Mutex
	opt     Options
	w       *sim.World
	rng     *rand.Rand
	nextID  uint64
	ports   [2][2]*btree.BTreeG[*binding] // [proto][family], made on first use (see table)
	free    *btree.FreeListG[*binding]    // shared by the port tables
	live    map[uint64]liveSocket
	conns   map[connKey]*TCPSocket // established connections by address pair, made on first use
	changed wait.Queue
	gen     uint64
	conns1  uint64 // connections made, for their footprint objects
	hosts   map[string][]netip.Addr
	misuse  refs.Log
	locker  netLocker // immutable: mu for waits (see lock)
	// gateway carries connections out of the Net (SetGateway); onListen
	// are the OnListen hooks.
	gateway  Gateway
	onListen []func(*TCPSocket)
}

// What a step that uses the network touches, for partial-order reduction.
// Every access of the Net's state holds mu, so taking it is where the
// access is recorded. netObj is the network as a whole: a call that
// changes it (lock) is dependent on every other. The calls that change
// only some parts read netObj (lockPart) and name the parts:
//
//	create a socket                         change idObj (the numbering)
//	bind, listen                            change the socket's sockObj and portsObj
//	is a port bound                         read portsObj
//	read a socket's state, options          read sockObj            (TCPSocket.lockSock)
//	set its options or deadlines            change sockObj
//	move data, shut down, reset             read sockObj, change connObj (TCPSocket.lockConn)
//	accept                                  change the listener's and the new socket's sockObj
//	connect                                 change its sockObj, portsObj, connsObj, the listener's sockObj
//	release (the last reference)            change its sockObj, portsObj, idObj, connsObj, connObj
//	take or drop a reference, not the last  change refObj only      (sockRefs.lockRef)
//
// connsObj is the index of established connections and their numbering;
// connObj is both directions of a connection and the shutdown flags of
// its two sockets; sockObj is a socket's state, addresses, options,
// deadlines and accept queue. Every change counts in the network's
// generation (notifyLocked): an update of genObj, which commutes with
// other updates; Generation and WaitChange read it.
var (
	netObj   = sim.Obj{Kind: sim.ObjNet}
	idObj    = sim.Obj{Kind: sim.ObjNet, ID: 1}
	portsObj = sim.Obj{Kind: sim.ObjNet, ID: 2}
	genObj   = sim.Obj{Kind: sim.ObjNet, ID: 3}
	connsObj = sim.Obj{Kind: sim.ObjNet, ID: 4}
)

// sockObj, connObj and refObj name a socket's, a connection's and a
// reference count's objects.
func sockObj(id uint64) sim.Obj { return sim.Obj{Kind: sim.ObjNet, ID: 1<<32 | id} }
func connObj(id uint64) sim.Obj { return sim.Obj{Kind: sim.ObjNet, ID: 2<<32 | id} }
func refObj(id uint64) sim.Obj  { return sim.Obj{Kind: sim.ObjNet, ID: 3<<32 | id} }

// lockPart takes mu for a call that changes only the parts of the
// network it then names with touch (see netObj).
func (n *Net) lockPart() {
	n.mu.Lock()
	n.touch(netObj, sim.Read)
}

func (n *Net) touch(o sim.Obj, m sim.Mode) {
	if n.w != nil {
		n.w.Touch(o, m)
	}
}

// lock takes mu and, in a world, records that the running step touches
// the network.
func (n *Net) lock() {
	n.mu.Lock()
	if n.w != nil {
		n.w.Touch(netObj, sim.Write)
	}
}

// netLocker and partLocker are mu as the lock a wait releases and takes
// again (through lock or lockPart, so the step that resumes records its
// access; after lockPart the caller names the parts again).
type (
	netLocker  struct{ n *Net }
	partLocker struct{ n *Net }
)

func (l netLocker) Lock()    { l.n.lock() }
func (l netLocker) Unlock()  { l.n.mu.Unlock() }
func (l partLocker) Lock()   { l.n.lockPart() }
func (l partLocker) Unlock() { l.n.mu.Unlock() }

// connKey is a connection's address pair as seen from one end.
type connKey struct{ local, remote netip.AddrPort }

type liveSocket interface {
	describeLocked() string
}

// binding is one entry of a port table.
type binding struct {
	port uint16
	addr netip.Addr
	id   uint64
	tcp  *TCPSocket
	udp  *UDPSocket
}

func bindingLess(a, b *binding) bool {
	if a.port != b.port {
		return a.port < b.port
	}
	if c := a.addr.Compare(b.addr); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// New makes a network. Zero fields of opt take their defaults.
func New(opt Options) *Net {
	if opt.EphemeralLow == 0 {
		opt.EphemeralLow = DefaultEphemeralLow
	}
	if opt.EphemeralHigh == 0 {
		opt.EphemeralHigh = DefaultEphemeralHigh
	}
	if opt.EphemeralLow > opt.EphemeralHigh {
		opt.EphemeralLow, opt.EphemeralHigh = opt.EphemeralHigh, opt.EphemeralLow
	}
	if opt.BufferSize <= 0 {
		opt.BufferSize = DefaultBufferSize
	}
	if opt.UDPQueueLen <= 0 {
		opt.UDPQueueLen = DefaultUDPQueueLen
	}
	n := &Net{opt: opt, w: opt.World} // live and the port tables are made on first use
	n.locker.n = n
	if n.w == nil {
		n.rng = rand.New(rand.NewPCG(opt.Seed, 0x766e_6574))
	}
	n.changed = n.newWaiter("vnet change")
	n.misuse.Register(n.w, "vnet", &n.mu)
	if n.w != nil && !opt.NoLeakCheck {
		n.w.AddLeakCheck("vnet", n.Live)
	}
	return n
}

// World returns the world the network belongs to (nil in goroutine mode).
func (n *Net) World() *sim.World { return n.w }

// Options returns the options in effect, with defaults filled in.
func (n *Net) Options() Options { return n.opt }

// randomLocked is the source of ephemeral ports and faults: the world's
// randomness, or the Net's seeded one without a world.
//
// Preconditions: n.mu is held.
func (n *Net) randomLocked() *rand.Rand {
	if n.w != nil {
		return n.w.Rand()
	}
	return n.rng
}

// enter is the check of every call that changes the network or waits:
// with a World that is running, only its running task may call
// (sim.ErrNotInTask for any other goroutine — a net/http transport's
// reader, say — which would race with the run's events, clock and
// randomness, and could not wait in the world).
func (n *Net) enter() error { return wait.Check(n.w) }

func (n *Net) tracing() bool { return n.w != nil && n.w.Tracing() }

func (n *Net) event(kind, obj, detail string) {
	if n.w != nil {
		n.w.Event(kind, obj, detail)
	}
}

// notifyLocked wakes the waiters of q (may be nil) and of WaitChange.
//
// Preconditions: n.mu is held.
func (n *Net) notifyLocked(q wait.Queue) {
	n.touch(genObj, sim.Update)
	if q != nil {
		q.Wake()
	}
	n.gen++
	n.changed.Wake()
}

// newIDLocked numbers a new socket (TCP and UDP share the sequence).
//
// Preconditions: n.mu is held.
func (n *Net) newIDLocked() uint64 {
	n.touch(idObj, sim.Write) // the live map too: it is keyed by the id
	n.nextID++
	return n.nextID
}

// Generation counts the changes to socket states, buffers and queues; it
// grows by at least one at every change WaitChange would report.
func (n *Net) Generation() uint64 {
	n.lockPart()
	defer n.mu.Unlock()
	n.touch(genObj, sim.Read)
	return n.gen
}

// WaitChange blocks until any socket of the network changes (data arrives
// or is consumed, a connection is queued, a socket is released…) or the
// deadline (zero: none) passes, which is ErrTimeout. It is the building
// block of poll: check readiness, and if nothing is ready, WaitChange.
// In goroutine mode use WaitChangeFrom to avoid missing a change that
// happens between the check and the wait.
func (n *Net) WaitChange(reason string, deadline time.Time) error {
	if err := n.enter(); err != nil {
		return err
	}
	n.lockPart()
	defer n.mu.Unlock()
	return n.waitChangeLocked(n.gen, reason, deadline)
}

// WaitChangeFrom is WaitChange that returns at once if the generation has
// already moved past gen (as read with Generation before checking
// readiness). It returns the current generation.
func (n *Net) WaitChangeFrom(gen uint64, reason string, deadline time.Time) (uint64, error) {
	if err := n.enter(); err != nil {
		return gen, err
	}
	n.lockPart()
	defer n.mu.Unlock()
	err := n.waitChangeLocked(gen, reason, deadline)
	return n.gen, err
}

// waitChangeLocked waits until the change generation moves past gen or
// the deadline passes (ErrTimeout); the wait releases n.mu meanwhile.
//
// Preconditions: n.mu is held.
func (n *Net) waitChangeLocked(gen uint64, reason string, deadline time.Time) error {
	if reason == "" {
		reason = "vnet change"
	}
	if deadline.IsZero() {
		// A change wakes the queue with the count (notifyLocked), and a
		// changed count stays changed: an Await (see sim.WaitQueue.Await).
		return n.changed.Await(partLocker{n}, reason, func() bool {
			n.touch(genObj, sim.Read)
			return n.gen != gen
		})
	}
	for n.touch(genObj, sim.Read); n.gen == gen; n.touch(genObj, sim.Read) {
		timedOut, err := n.changed.Wait(partLocker{n}, reason, deadline)
		if err != nil {
			return err
		}
		if timedOut && n.gen == gen {
			return ErrTimeout
		}
	}
	return nil
}

// Live lists the sockets that still have references, in id order, one line
// each ("tcp#3 connected 127.0.0.1:40000->127.0.0.1:8080 refs=1"). An
// empty result after a run means no socket leaked.
func (n *Net) Live() []string {
	n.lock()
	defer n.mu.Unlock()
	ids := make([]uint64, 0, len(n.live))
	for id := range n.live {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = n.live[id].describeLocked()
	}
	return out
}

// Binding is one entry of a port table as Bindings reports it.
type Binding struct {
	Proto     Proto
	Addr      netip.AddrPort
	Socket    uint64 // the socket's ID
	Listening bool
}

// String formats the binding as "tcp 127.0.0.1:8080 tcp#3 listening".
func (b Binding) String() string {
	s := fmt.Sprintf("%s %s %s#%d", b.Proto, b.Addr, b.Proto, b.Socket)
	if b.Listening {
		s += " listening"
	}
	return s
}

// Bindings lists every port binding, ordered by protocol, family, port,
// address and socket.
func (n *Net) Bindings() []Binding {
	n.lock()
	defer n.mu.Unlock()
	var out []Binding
	for p := range n.ports {
		for f := range n.ports[p] {
			if n.ports[p][f] == nil {
				continue
			}
			n.ports[p][f].Ascend(func(b *binding) bool {
				out = append(out, Binding{
					Proto:     Proto(p),
					Addr:      netip.AddrPortFrom(b.addr, b.port),
					Socket:    b.id,
					Listening: b.tcp != nil && b.tcp.state == Listening,
				})
				return true
			})
		}
	}
	return out
}

// PortBound reports whether a socket of proto holds the port of ap on the
// address of ap; an unspecified address in ap matches any address of its
// family.
func (n *Net) PortBound(proto Proto, ap netip.AddrPort) bool {
	if proto > UDP || !ap.Addr().IsValid() {
		return false
	}
	n.lockPart()
	defer n.mu.Unlock()
	n.touch(portsObj, sim.Read)
	f := familyOf(ap.Addr())
	found := false
	n.tableLocked(proto, f).AscendGreaterOrEqual(&binding{port: ap.Port()}, func(b *binding) bool {
		if b.port != ap.Port() {
			return false
		}
		if ap.Addr().IsUnspecified() || b.addr == ap.Addr() {
			found = true
			return false
		}
		return true
	})
	return found
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// checkAddr validates that a has family f and is not IPv4-mapped IPv6,
// multicast or broadcast.
func checkAddr(f Family, a netip.Addr) error {
	if !a.IsValid() || f > IPv6 {
		return ErrInvalidArgument
	}
	switch f {
	case IPv4:
		if !a.Is4() {
			return ErrInvalidArgument
		}
		if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return ErrInvalidArgument
		}
	case IPv6:
		if !a.Is6() || a.Is4In6() {
			return ErrInvalidArgument
		}
	}
	if a.IsMulticast() {
		return ErrInvalidArgument
	}
	return nil
}

// checkBindAddr applies the bind rules: loopback and unspecified are
// bindable, every other unicast address is address-not-bindable.
func checkBindAddr(f Family, a netip.Addr) error {
	if err := checkAddr(f, a); err != nil {
		return err
	}
	if a.IsLoopback() || a.IsUnspecified() {
		return nil
	}
	return ErrAddressNotBindable
}

// checkRemote applies the connect/send rules: unspecified address and port
// 0 are invalid-argument, non-loopback destinations remote-unreachable.
func checkRemote(f Family, ap netip.AddrPort) error {
	a := ap.Addr()
	if err := checkAddr(f, a); err != nil {
		return err
	}
	if a.IsUnspecified() || ap.Port() == 0 {
		return ErrInvalidArgument
	}
	if !a.IsLoopback() {
		return ErrRemoteUnreachable
	}
	return nil
}

func loopbackOf(f Family) netip.Addr {
	if f == IPv4 {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.IPv6Loopback()
}

func unspecifiedOf(f Family) netip.Addr {
	if f == IPv4 {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

func stripZone(a netip.Addr) netip.Addr { return a.WithZone("") }

// overlaps reports whether two bound addresses share traffic.
func overlaps(a, b netip.Addr) bool {
	return a == b || a.IsUnspecified() || b.IsUnspecified()
}

// tableLocked is the port table of proto and family f, made on first use: a
// world that never touches the network (most file scenarios) pays nothing
// for four trees and their free lists.
//
// Preconditions: n.mu is held.
func (n *Net) tableLocked(proto Proto, f Family) *btree.BTreeG[*binding] {
	t := n.ports[proto][f]
	if t == nil {
		if n.free == nil {
			n.free = btree.NewFreeListG[*binding](8)
		}
		t = btree.NewWithFreeListG(8, bindingLess, n.free)
		n.ports[proto][f] = t
	}
	return t
}

// portFree reports whether no socket of the table holds port p at all.
func portFree(t *btree.BTreeG[*binding], p uint16) bool {
	free := true
	t.AscendGreaterOrEqual(&binding{port: p}, func(b *binding) bool {
		free = b.port != p
		return false
	})
	return free
}

// bindPortLocked reserves addr:port (port 0: an ephemeral port) in the table of
// proto and family f for a socket. sharedOK says whether non-listening
// holders may share (TCP under SharedBindAllow).
//
// Preconditions: n.mu is held.
func (n *Net) bindPortLocked(proto Proto, f Family, addr netip.Addr, port uint16, id uint64, tcp *TCPSocket, udp *UDPSocket) (*binding, error) {
	t := n.tableLocked(proto, f)
	if port == 0 {
		lo, hi := int(n.opt.EphemeralLow), int(n.opt.EphemeralHigh)
		size := hi - lo + 1
		start := n.randomLocked().IntN(size)
		for i := 0; i < size; i++ {
			p := uint16(lo + (start+i)%size)
			if portFree(t, p) {
				port = p
				break
			}
		}
		if port == 0 {
			return nil, ErrAddressInUse
		}
	} else {
		var conflict bool
		t.AscendGreaterOrEqual(&binding{port: port}, func(b *binding) bool {
			if b.port != port {
				return false
			}
			if !overlaps(b.addr, addr) {
				return true
			}
			if proto == UDP || n.opt.SharedBind == SharedBindRefuse || b.tcp.state == Listening {
				conflict = true
				return false
			}
			return true
		})
		if conflict {
			return nil, ErrAddressInUse
		}
	}
	b := &binding{port: port, addr: addr, id: id, tcp: tcp, udp: udp}
	t.ReplaceOrInsert(b)
	return b, nil
}

// listenConflictLocked reports whether another TCP socket listens on an address
// overlapping b.
//
// Preconditions: n.mu is held.
func (n *Net) listenConflictLocked(f Family, b *binding) bool {
	conflict := false
	n.tableLocked(TCP, f).AscendGreaterOrEqual(&binding{port: b.port}, func(o *binding) bool {
		if o.port != b.port {
			return false
		}
		if o != b && overlaps(o.addr, b.addr) && o.tcp.state == Listening {
			conflict = true
			return false
		}
		return true
	})
	return conflict
}

// findListenerLocked returns the socket listening on dst, preferring an exact
// address over the unspecified one.
//
// Preconditions: n.mu is held.
func (n *Net) findListenerLocked(f Family, dst netip.AddrPort) *TCPSocket {
	var exact, wild *TCPSocket
	n.tableLocked(TCP, f).AscendGreaterOrEqual(&binding{port: dst.Port()}, func(b *binding) bool {
		if b.port != dst.Port() {
			return false
		}
		if b.tcp.state != Listening {
			return true
		}
		if b.addr == dst.Addr() {
			exact = b.tcp
			return false
		}
		if b.addr.IsUnspecified() && wild == nil {
			wild = b.tcp
		}
		return true
	})
	if exact != nil {
		return exact
	}
	return wild
}

// findUDPLocked returns the UDP socket bound to dst (exact address first).
//
// Preconditions: n.mu is held.
func (n *Net) findUDPLocked(f Family, dst netip.AddrPort) *UDPSocket {
	var exact, wild *UDPSocket
	n.tableLocked(UDP, f).AscendGreaterOrEqual(&binding{port: dst.Port()}, func(b *binding) bool {
		if b.port != dst.Port() {
			return false
		}
		if b.addr == dst.Addr() {
			exact = b.udp
			return false
		}
		if b.addr.IsUnspecified() && wild == nil {
			wild = b.udp
		}
		return true
	})
	if exact != nil {
		return exact
	}
	return wild
}

// unbindLocked removes a binding from its port table.
//
// Preconditions: n.mu is held.
func (n *Net) unbindLocked(proto Proto, f Family, b *binding) {
	n.tableLocked(proto, f).Delete(b)
}

// AddHost makes Resolve answer name with addrs (like /etc/hosts). The
// addresses are used as given; name is matched case-insensitively.
func (n *Net) AddHost(name string, addrs ...netip.Addr) error {
	if !validHostname(name) {
		return ErrInvalidArgument
	}
	n.lock()
	defer n.mu.Unlock()
	if n.hosts == nil {
		n.hosts = map[string][]netip.Addr{}
	}
	n.hosts[canonicalName(name)] = append([]netip.Addr(nil), addrs...)
	return nil
}

// Resolve is ip-name-lookup's resolve-addresses: "localhost" yields
// 127.0.0.1 and ::1, an IP literal (IPv6 optionally in brackets) yields
// itself, a name added with AddHost its addresses. A malformed name ("",
// "127.0.0.1:80", "http://x/") is ErrInvalidArgument; a well-formed
// unknown name is a *LookupError (errors.Is ErrNameUnresolvable).
func (n *Net) Resolve(name string) ([]netip.Addr, error) {
	if name == "" || len(name) > 253+1 {
		return nil, ErrInvalidArgument
	}
	lit := name
	if strings.HasPrefix(lit, "[") && strings.HasSuffix(lit, "]") {
		lit = lit[1 : len(lit)-1]
		a, err := netip.ParseAddr(lit)
		if err != nil || !a.Is6() {
			return nil, ErrInvalidArgument
		}
		return []netip.Addr{a}, nil
	}
	if a, err := netip.ParseAddr(lit); err == nil {
		return []netip.Addr{a}, nil
	}
	if !validHostname(name) {
		return nil, ErrInvalidArgument
	}
	c := canonicalName(name)
	if c == "localhost" {
		return []netip.Addr{loopbackOf(IPv4), loopbackOf(IPv6)}, nil
	}
	n.lock()
	addrs, ok := n.hosts[c]
	n.mu.Unlock()
	if ok {
		return append([]netip.Addr(nil), addrs...), nil
	}
	return nil, &LookupError{Name: name}
}

func canonicalName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// validHostname checks RFC 1123 syntax: dot-separated labels of letters,
// digits and inner hyphens, 1–63 bytes each, at most 253 in all, with an
// optional trailing dot; an all-numeric last label is refused (it would
// be a malformed IP literal).
func validHostname(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	numeric := true
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			numeric = false
		}
	}
	return !numeric
}

// faultLocked draws whether a fault of the given rate happens.
//
// Preconditions: n.mu is held.
func (n *Net) faultLocked(rate float64) bool {
	if rate <= 0 {
		return false
	}
	return n.randomLocked().Float64() < rate
}
