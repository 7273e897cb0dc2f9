package bridge

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasisim/wasisim/vnet"
)

// The machine's side of a live bridge: goroutines that listen, dial, read
// and write real sockets. They talk to the world only through events
// (ev), which the world takes at its idle points and records; the world
// talks to them through each connection's queue of sends, which never
// blocks it (the world bounds what it queues).

// endClose is the last message to a machine connection: close it once
// every send before it is written.
const endClose = 'C'

// outMsg is one thing the world asks of a machine connection: write data,
// or end it (evEOF: FIN after the data; evReset: RST; endClose: close).
type outMsg struct {
	data []byte
	end  byte
}

// realConn is a machine socket.
type realConn struct {
	c      *net.TCPConn
	credit chan struct{} // the world wrote the last bytes read into the Net
	out    chan outMsg
	closed chan struct{}
	once   sync.Once
}

func (rc *realConn) close(reset bool) {
	rc.once.Do(func() {
		if reset {
			rc.c.SetLinger(0) //nolint:errcheck // best effort: a reset
		}
		rc.c.Close()
		close(rc.closed)
	})
}

type live struct {
	opt    Options
	ev     chan []byte
	done   chan struct{} // the run is over: every goroutine stops
	finish chan struct{} // the run is over: writers flush and close
	quiet  chan struct{} // the world takes no more events
	nextID atomic.Uint64

	mu       sync.Mutex
	conns    map[uint64]*realConn
	lns      map[netip.AddrPort]net.Listener
	quietSet bool
	shut     bool
	writers  sync.WaitGroup
}

func newLive(opt Options) *live {
	return &live{opt: opt, ev: make(chan []byte, 64), done: make(chan struct{}), finish: make(chan struct{}),
		quiet: make(chan struct{}), conns: map[uint64]*realConn{}, lns: map[netip.AddrPort]net.Listener{}}
}

// next waits for the next event from the machine (or the idle timeout).
func (l *live) next() ([]byte, error) {
	if l.opt.IdleTimeout <= 0 {
		return <-l.ev, nil
	}
	t := time.NewTimer(l.opt.IdleTimeout)
	defer t.Stop()
	select {
	case e := <-l.ev:
		return e, nil
	case <-t.C:
		return event{kind: evQuiet}.encode(), nil
	}
}

// post hands an event to the world; it is dropped once the world takes
// no more.
func (l *live) post(e event) bool {
	select {
	case l.ev <- e.encode():
		return true
	case <-l.quiet:
		return false
	case <-l.done:
		return false
	}
}

// listen opens a machine listener on host whose clients the world
// connects to the guest address to.
func (l *live) listen(host, to netip.AddrPort) error {
	ln, err := net.Listen("tcp", host.String())
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		ln.Close()
		return errors.New("bridge shut down")
	}
	l.lns[host] = ln
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			id := l.nextID.Add(1)
			if !l.add(id, c.(*net.TCPConn)) {
				return
			}
			if !l.post(event{kind: evAccept, id: id, addr: to}) {
				l.reset(id)
				return
			}
		}
	}()
	return nil
}

func (l *live) closeListener(host netip.AddrPort) {
	l.mu.Lock()
	ln := l.lns[host]
	delete(l.lns, host)
	l.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// closeListeners stops every listener; the world takes no more events.
func (l *live) closeListeners() {
	l.mu.Lock()
	lns := l.lns
	l.lns = map[netip.AddrPort]net.Listener{}
	if !l.quietSet {
		l.quietSet = true
		close(l.quiet)
	}
	l.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
}

// dial connects to a machine server; it returns the connection's id, or
// 0 and the error code the guest's connect fails with.
func (l *live) dial(host netip.AddrPort) (uint64, vnet.ErrorCode) {
	c, err := net.DialTimeout("tcp", host.String(), l.opt.DialTimeout)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return 0, vnet.ErrConnectionRefused
		case errors.As(err, &ne) && ne.Timeout():
			return 0, vnet.ErrTimeout
		}
		return 0, vnet.ErrRemoteUnreachable
	}
	id := l.nextID.Add(1)
	if !l.add(id, c.(*net.TCPConn)) {
		return 0, vnet.ErrConnectionRefused
	}
	return id, 0
}

// add starts the reader and writer of a new machine connection.
func (l *live) add(id uint64, c *net.TCPConn) bool {
	rc := &realConn{c: c, credit: make(chan struct{}, 1), out: make(chan outMsg, 4*maxChunks), closed: make(chan struct{})}
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		c.Close()
		return false
	}
	l.conns[id] = rc
	l.writers.Add(1)
	l.mu.Unlock()
	go l.reader(id, rc)
	go l.writer(id, rc)
	return true
}

func (l *live) get(id uint64) *realConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[id]
}

// reader reads the machine peer's bytes, one chunk ahead of the world.
func (l *live) reader(id uint64, rc *realConn) {
	buf := make([]byte, chunk)
	for {
		k, err := rc.c.Read(buf)
		if k > 0 {
			if !l.post(event{kind: evData, id: id, data: append([]byte(nil), buf[:k]...)}) {
				return
			}
			select {
			case <-rc.credit:
			case <-rc.closed:
				return
			case <-l.done:
				return
			}
		}
		if err != nil {
			select {
			case <-rc.closed:
				return // closed by the bridge
			default:
			}
			kind := byte(evReset)
			if err == io.EOF {
				kind = evEOF
			}
			l.post(event{kind: kind, id: id})
			return
		}
	}
}

// writer performs the world's sends in order and acknowledges each.
func (l *live) writer(id uint64, rc *realConn) {
	defer l.writers.Done()
	broken := false
	handle := func(m outMsg) bool {
		switch m.end {
		case 0:
			if !broken {
				if _, err := rc.c.Write(m.data); err != nil {
					// The machine peer is gone: the guest's connection is
					// reset, as a kernel's would be.
					broken = true
					l.post(event{kind: evReset, id: id})
				}
			}
			l.post(event{kind: evWritten, id: id, n: uint64(len(m.data))})
			return true
		case evEOF:
			rc.c.CloseWrite() //nolint:errcheck // the peer may be gone
			return true
		case evReset:
			rc.close(true)
			return false
		}
		rc.close(false)
		return false
	}
	for {
		select {
		case m := <-rc.out:
			if !handle(m) {
				return
			}
		case <-l.finish:
			for {
				select {
				case m := <-rc.out:
					if !handle(m) {
						return
					}
				default:
					rc.close(false)
					return
				}
			}
		case <-l.done:
			rc.close(false)
			return
		}
	}
}

// credit lets a connection's reader read on.
func (l *live) credit(id uint64) {
	if rc := l.get(id); rc != nil {
		select {
		case rc.credit <- struct{}{}:
		default:
		}
	}
}

// send queues a message for a connection's writer. The world keeps at
// most maxChunks sends and two ends queued, so it never waits here.
func (l *live) send(id uint64, m outMsg) {
	rc := l.get(id)
	if rc == nil {
		return
	}
	select {
	case rc.out <- m:
	case <-rc.closed:
	case <-l.done:
	}
}

func (l *live) reset(id uint64) { l.send(id, outMsg{end: evReset}) }

// shutdown lets writers deliver what is queued (for at most timeout),
// then closes every machine socket and stops every goroutine.
func (l *live) shutdown(timeout time.Duration) {
	l.closeListeners()
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return
	}
	l.shut = true
	l.mu.Unlock()
	close(l.finish)
	flushed := make(chan struct{})
	go func() { l.writers.Wait(); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(timeout):
	}
	close(l.done)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rc := range l.conns {
		rc.close(false)
	}
}
