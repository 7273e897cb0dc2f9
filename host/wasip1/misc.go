package wasip1

import (
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// Clock ids.
const (
	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCPUTimeID = 2
	clockThreadCPUTimeID  = 3
)

// monoBase is added to the world's virtual time to form the monotonic
// clock, so it never reads 0 (some runtimes treat 0 as "unset").
const monoBase = time.Second

func u32(v uint64) uint32 { return uint32(v) }

func miscFuncs() []hostFunc {
	return []hostFunc{
		{name: "args_get", params: ps(i32, i32), fn: argsGet},
		{name: "args_sizes_get", params: ps(i32, i32), fn: argsSizesGet},
		{name: "environ_get", params: ps(i32, i32), fn: environGet},
		{name: "environ_sizes_get", params: ps(i32, i32), fn: environSizesGet},
		{name: "clock_res_get", params: ps(i32, i32), fn: clockResGet},
		{name: "clock_time_get", params: ps(i32, i64, i32), fn: clockTimeGet},
		{name: "poll_oneoff", params: ps(i32, i32, i32, i32), fn: pollOneoff},
		{name: "proc_exit", params: ps(i32), noResult: true, fn: procExit},
		{name: "proc_raise", params: ps(i32), fn: procRaise},
		{name: "sched_yield", fn: schedYield},
		{name: "random_get", params: ps(i32, i32), fn: randomGet},
	}
}

// argsGet is args_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-args_getargv-pointerpointeru8-argv_buf-pointeru8---result-errno
func argsGet(g *Guest, m api.Memory, p []uint64) Errno {
	argv, argvBuf := u32(p[0]), u32(p[1])
	return putStrings(m, g.args, argv, argvBuf)
}

// argsSizesGet is args_sizes_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-args_sizes_get---resultsize-size-errno
func argsSizesGet(g *Guest, m api.Memory, p []uint64) Errno {
	countPtr, sizePtr := u32(p[0]), u32(p[1])
	return sizes(m, g.args, countPtr, sizePtr)
}

// environGet is environ_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-environ_getenviron-pointerpointeru8-environ_buf-pointeru8---result-errno
func environGet(g *Guest, m api.Memory, p []uint64) Errno {
	environ, environBuf := u32(p[0]), u32(p[1])
	return putStrings(m, g.cfg.Env, environ, environBuf)
}

// environSizesGet is environ_sizes_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-environ_sizes_get---resultsize-size-errno
func environSizesGet(g *Guest, m api.Memory, p []uint64) Errno {
	countPtr, sizePtr := u32(p[0]), u32(p[1])
	return sizes(m, g.cfg.Env, countPtr, sizePtr)
}

// clockResGet is clock_res_get (1ns for every clock): https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-clock_res_getid-clockid---resulttimestamp-errno
func clockResGet(g *Guest, m api.Memory, p []uint64) Errno {
	id, resPtr := u32(p[0]), u32(p[1])
	if id > clockThreadCPUTimeID {
		return EINVAL
	}
	return putU64(m, resPtr, 1)
}

// clockTimeGet is clock_time_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-clock_time_getid-clockid-precision-timestamp---resulttimestamp-errno
func clockTimeGet(g *Guest, m api.Memory, p []uint64) Errno {
	id, timePtr := u32(p[0]), u32(p[2]) // p[1], the precision, is ignored
	t, errno := g.clock(id)
	if errno != ESUCCESS {
		return errno
	}
	return putU64(m, timePtr, t)
}

// procExit is proc_exit: it ends the guest with the code. https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-proc_exitrval-exitcode
func procExit(g *Guest, m api.Memory, p []uint64) Errno {
	code := u32(p[0])
	panic(sys.NewExitError(code))
}

// procRaise is proc_raise, not supported: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-proc_raisesig-signal---result-errno
func procRaise(*Guest, api.Memory, []uint64) Errno { return ENOSYS }

// schedYield is sched_yield, which is only the scheduling point every call has: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sched_yield---result-errno
func schedYield(*Guest, api.Memory, []uint64) Errno { return ESUCCESS }

// randomGet is random_get, from the guest's seeded generator: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-random_getbuf-pointeru8-buf_len-size---result-errno
func randomGet(g *Guest, m api.Memory, p []uint64) Errno {
	buf, bufLen := u32(p[0]), u32(p[1])
	b, ok := memRead(m, buf, bufLen)
	if !ok {
		return EFAULT
	}
	for len(b) >= 8 {
		put64(b, g.rng.Uint64())
		b = b[8:]
	}
	if len(b) > 0 {
		v := g.rng.Uint64()
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
	}
	return ESUCCESS
}

// clock reads a clock: realtime is the world's virtual wall clock,
// monotonic (and the CPU-time clocks, which a simulation cannot tell
// apart) its virtual time since the start plus monoBase.
func (g *Guest) clock(id uint32) (uint64, Errno) {
	switch id {
	case clockRealtime:
		return uint64(g.w.WallNow().UnixNano()), ESUCCESS
	case clockMonotonic, clockProcessCPUTimeID, clockThreadCPUTimeID:
		return uint64(g.w.Now() + monoBase), ESUCCESS
	}
	return 0, EINVAL
}

// Subscription and event layout.
const (
	subSize   = 48
	eventSize = 32

	eventClock   = 0
	eventFdRead  = 1
	eventFdWrite = 2

	subclockAbstime = 1
	eventHangup     = 1
)

type subscription struct {
	userdata uint64
	tag      uint8
	deadline time.Duration // clock: virtual time (World.Now) when it fires
	fd       uint32
	errno    Errno // set when the subscription is invalid: reported at once
}

// pollOneoff is poll_oneoff: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-poll_oneoffin-constpointersubscription-out-pointerevent-nsubscriptions-size---resultsize-errno
//
// It reports at once the subscriptions that are
// ready (regular files and stdio always are; sockets by vnet readiness;
// clocks whose deadline passed) and otherwise waits in the world — on the
// network's change generation when sockets are involved, bounded by the
// earliest clock deadline, or a virtual sleep for clocks alone.
func pollOneoff(g *Guest, m api.Memory, p []uint64) Errno {
	in, out, n, neventsPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3])
	if n == 0 {
		return EINVAL
	}
	if uint64(n)*subSize > 1<<32 {
		return EFAULT
	}
	raw, ok := memRead(m, in, n*subSize)
	if !ok {
		return EFAULT
	}
	outv, ok := memRead(m, out, n*eventSize)
	if !ok {
		return EFAULT
	}
	if _, ok := memRead(m, neventsPtr, 4); !ok {
		return EFAULT
	}
	subs := make([]subscription, n)
	now := g.w.Now()
	for i := range subs {
		b := raw[i*subSize:]
		s := &subs[i]
		s.userdata = le64(b)
		s.tag = b[8]
		switch s.tag {
		case eventClock:
			id, timeout, flags := le32(b[16:]), le64(b[24:]), le16(b[40:])
			s.deadline = g.clockDeadline(id, timeout, flags&subclockAbstime != 0, now)
			if id > clockThreadCPUTimeID {
				s.errno = EINVAL
			}
		case eventFdRead, eventFdWrite:
			s.fd = le32(b[16:])
		default:
			s.errno = EINVAL
		}
	}
	for {
		var gen uint64
		netw := g.cfg.Net
		for _, s := range subs {
			if s.tag == eventFdRead || s.tag == eventFdWrite {
				if e, errno := g.fds.get(s.fd); errno == ESUCCESS {
					if sk, ok := e.(*sockFD); ok {
						netw = sk.sock.Net()
						break
					}
				}
			}
		}
		if netw != nil {
			gen = netw.Generation()
		}
		now = g.w.Now()
		count := uint32(0)
		earliest := time.Duration(-1)
		emit := func(s *subscription, errno Errno, nbytes uint64, flags uint16) {
			ev := outv[count*eventSize : (count+1)*eventSize]
			clear(ev)
			put64(ev, s.userdata)
			put16(ev[8:], uint16(errno))
			ev[10] = s.tag
			if s.tag != eventClock {
				put64(ev[16:], nbytes)
				put16(ev[24:], flags)
			}
			count++
		}
		waitSock := false
		for i := range subs {
			s := &subs[i]
			if s.errno != ESUCCESS {
				emit(s, s.errno, 0, 0)
				continue
			}
			switch s.tag {
			case eventClock:
				if s.deadline <= now {
					emit(s, ESUCCESS, 0, 0)
				} else if earliest < 0 || s.deadline < earliest {
					earliest = s.deadline
				}
			default:
				e, errno := g.fds.get(s.fd)
				if errno == ESUCCESS {
					errno = e.state().need(rightPollFdReadwrite)
				}
				if errno != ESUCCESS {
					emit(s, errno, 0, 0)
					continue
				}
				ready, nbytes, flags := g.readiness(e, s.tag == eventFdRead)
				if ready {
					emit(s, ESUCCESS, nbytes, flags)
				} else {
					waitSock = true
				}
			}
		}
		if count > 0 {
			return putU32(m, neventsPtr, count)
		}
		switch {
		case waitSock && netw != nil:
			var dl time.Time
			if earliest >= 0 {
				dl = g.w.WallNow().Add(earliest - now)
			}
			if _, err := netw.WaitChangeFrom(gen, "poll_oneoff "+g.task.Name(), dl); err != nil && ToErrno(err) != EAGAIN {
				return ToErrno(err)
			}
		case earliest >= 0:
			if err := g.w.Sleep(earliest - now); err != nil {
				return ToErrno(err)
			}
		default:
			return putU32(m, neventsPtr, 0)
		}
	}
}

// clockDeadline converts a clock subscription to a virtual deadline.
func (g *Guest) clockDeadline(id uint32, timeout uint64, abs bool, now time.Duration) time.Duration {
	const maxDur = time.Duration(1<<63 - 1)
	if !abs {
		if timeout > uint64(maxDur-now) {
			return maxDur
		}
		return now + time.Duration(timeout)
	}
	cur, _ := g.clock(id)
	if timeout <= cur {
		return now
	}
	d := timeout - cur
	if d > uint64(maxDur-now) {
		return maxDur
	}
	return now + time.Duration(d)
}

// readiness reports whether a read (or write) on e would not block, the
// bytes available, and event flags (hangup).
func (g *Guest) readiness(e fdEntry, read bool) (bool, uint64, uint16) {
	switch e := e.(type) {
	case *stdioFD:
		if read && e.stream == 0 {
			// Ready: a read returns what is buffered or waits for a live
			// stdin, as a terminal's would.
			return true, uint64(len(g.stdin.buf)), 0
		}
		return true, 0, 0
	case *sockFD:
		s := e.sock
		if read {
			if s.IsListening() {
				return s.Acceptable(), 0, 0
			}
			if !s.Readable() {
				return false, 0, 0
			}
			unread, _ := s.Buffered()
			flags := uint16(0)
			if unread == 0 {
				flags = eventHangup
			}
			return true, uint64(unread), flags
		}
		return s.Writable(), 0, 0
	case *fileFD:
		if read {
			if st, err := e.ofd.Stat(); err == nil && int64(st.Size) > e.pos {
				return true, st.Size - uint64(e.pos), 0
			}
		}
		return true, 0, 0
	}
	return true, 0, 0
}
