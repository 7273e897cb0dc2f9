package wasip1

import (
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/vnet"
)

// Preview 1 socket flags.
const (
	riflagRecvPeek    = 1
	riflagRecvWaitall = 2
	sdflagRd          = 1
	sdflagWr          = 2
)

// WasmEdge socket extension constants (WasmEdge ≥ 0.12, "v2" ABI, as
// github.com/dispatchrun/net and stealthrocket/wasi-go use them).
const (
	afUnspec = 0
	afInet   = 1
	afInet6  = 2
	afUnix   = 3

	sockAny    = 0
	sockDgram  = 1
	sockStream = 2

	solSocket = 0

	soReuseaddr  = 0
	soType       = 1
	soError      = 2
	soBroadcast  = 4
	soSndbuf     = 5
	soRcvbuf     = 6
	soKeepalive  = 7
	soRcvtimeo   = 11
	soSndtimeo   = 12
	soAcceptconn = 13

	aiPassive     = 1 << 0
	aiNumericHost = 1 << 2
	aiNumericServ = 1 << 3

	ipprotoIP  = 0
	ipprotoTCP = 1

	addrinfoSize = 28
	timevalSize  = 16
)

func sockFuncs() []hostFunc {
	return []hostFunc{
		// Preview 1.
		{name: "sock_accept", params: ps(i32, i32, i32), fn: sockAccept},
		{name: "sock_recv", params: ps(i32, i32, i32, i32, i32, i32), fn: sockRecv},
		{name: "sock_send", params: ps(i32, i32, i32, i32, i32), fn: sockSend},
		{name: "sock_shutdown", params: ps(i32, i32), fn: sockShutdown},
		// WasmEdge extension (v2 ABI).
		{name: "sock_open", params: ps(i32, i32, i32), fn: sockOpen},
		{name: "sock_bind", params: ps(i32, i32, i32), fn: sockBind},
		{name: "sock_listen", params: ps(i32, i32), fn: sockListen},
		{name: "sock_connect", params: ps(i32, i32, i32), fn: sockConnect},
		{name: "sock_getlocaladdr", params: ps(i32, i32, i32), fn: sockAddr(false)},
		{name: "sock_getpeeraddr", params: ps(i32, i32, i32), fn: sockAddr(true)},
		{name: "sock_getaddrinfo", params: ps(i32, i32, i32, i32, i32, i32, i32, i32), fn: sockGetaddrinfo},
		{name: "sock_setsockopt", params: ps(i32, i32, i32, i32, i32), fn: sockSetsockopt},
		{name: "sock_getsockopt", params: ps(i32, i32, i32, i32, i32), fn: sockGetsockopt},
	}
}

// sockFD returns the socket behind fd (ENOTSOCK for other descriptors)
// if the guest did not drop right.
func (g *Guest) sockFD(fd uint32, right uint64) (*sockFD, Errno) {
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return nil, errno
	}
	s, ok := e.(*sockFD)
	if !ok {
		return nil, ENOTSOCK
	}
	return s, s.need(right)
}

// connErrno maps a vnet error of an operation that needs a connection:
// invalid-state there means "not connected".
func connErrno(err error) Errno {
	if c, ok := vnet.Code(err); ok && c == vnet.ErrInvalidState {
		return ENOTCONN
	}
	return ToErrno(err)
}

// recv reads from a connected socket into iov. A blocking socket waits (a
// world wait) for the first byte; later buffers take only what is there,
// unless riflags has RECV_WAITALL. End of stream is 0 bytes.
func (g *Guest) recv(e *sockFD, iov [][]byte, riflags uint32) (uint32, uint16, Errno) {
	if riflags&^uint32(riflagRecvPeek|riflagRecvWaitall) != 0 {
		return 0, 0, EINVAL
	}
	if riflags&riflagRecvPeek != 0 {
		return 0, 0, ENOTSUP
	}
	s := e.sock
	if s.IsListening() {
		return 0, 0, ENOTCONN
	}
	nonblock := e.flags&fdflagNonblock != 0
	waitall := riflags&riflagRecvWaitall != 0 && !nonblock
	if e.rcvTimeo > 0 && !nonblock {
		s.SetReadDeadline(g.w.WallNow().Add(e.rcvTimeo))
		defer s.SetReadDeadline(time.Time{})
	}
	total := uint32(0)
	for _, b := range iov {
		for len(b) > 0 {
			var n int
			var err error
			if (total == 0 || waitall) && !nonblock {
				n, err = s.Read(b)
			} else {
				n, err = s.TryRead(b)
			}
			total += uint32(n)
			b = b[n:]
			if err != nil {
				if total > 0 || errors.Is(err, io.EOF) {
					return total, 0, ESUCCESS
				}
				return 0, 0, connErrno(err)
			}
			if n == 0 {
				return total, 0, ESUCCESS
			}
		}
	}
	return total, 0, ESUCCESS
}

// send writes iov to a connected socket. A blocking socket sends
// everything (waiting in the world while the peer's buffer is full); a
// non-blocking one sends what fits, EAGAIN if nothing does.
func (g *Guest) send(e *sockFD, iov [][]byte) (uint32, Errno) {
	s := e.sock
	if s.IsListening() {
		return 0, ENOTCONN
	}
	nonblock := e.flags&fdflagNonblock != 0
	if e.sndTimeo > 0 && !nonblock {
		s.SetWriteDeadline(g.w.WallNow().Add(e.sndTimeo))
		defer s.SetWriteDeadline(time.Time{})
	}
	total := uint32(0)
	for _, b := range iov {
		for len(b) > 0 {
			var n int
			var err error
			if nonblock {
				n, err = s.TryWrite(b)
			} else {
				n, err = s.Write(b)
			}
			total += uint32(n)
			b = b[n:]
			if err != nil {
				if total > 0 {
					return total, ESUCCESS
				}
				return 0, connErrno(err)
			}
		}
	}
	return total, ESUCCESS
}

// sockAccept is sock_accept: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sock_acceptfd-fd-flags-fdflags---resultfd-errno
func sockAccept(g *Guest, m api.Memory, p []uint64) Errno {
	fd, flags, resPtr := u32(p[0]), u32(p[1]), u32(p[2])
	e, errno := g.sockFD(fd, rightSockAccept)
	if errno != ESUCCESS {
		return errno
	}
	if flags&^uint32(fdflagNonblock) != 0 {
		return EINVAL
	}
	if _, ok := memRead(m, resPtr, 4); !ok {
		return EFAULT
	}
	var c *vnet.TCPSocket
	var err error
	if e.flags&fdflagNonblock != 0 {
		c, err = e.sock.TryAccept()
	} else {
		c, err = e.sock.Accept()
	}
	if err != nil {
		return ToErrno(err)
	}
	return g.install(m, g.newSockFD(c, fdState{flags: uint16(flags), base: sockRights &^ rightSockAccept, inh: sockRights}), resPtr)
}

// sockRecv is sock_recv: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sock_recvfd-fd-ri_data-iovec_array-ri_flags-riflags---resultsize-roflags-errno
func sockRecv(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, riflags, nPtr, flagsPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4]), u32(p[5])
	e, errno := g.sockFD(fd, rightFdRead)
	if errno != ESUCCESS {
		return errno
	}
	iov, errno := iovecs(m, iovs, iovsLen, nil)
	if errno != ESUCCESS {
		return errno
	}
	if _, ok := memRead(m, nPtr, 4); !ok {
		return EFAULT
	}
	if _, ok := memRead(m, flagsPtr, 2); !ok {
		return EFAULT
	}
	n, ro, errno := g.recv(e, iov, riflags)
	if errno != ESUCCESS {
		return errno
	}
	putU32(m, nPtr, n)
	return putU16(m, flagsPtr, ro)
}

// sockSend is sock_send: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sock_sendfd-fd-si_data-ciovec_array-si_flags-siflags---resultsize-errno
func sockSend(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, siflags, nPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	e, errno := g.sockFD(fd, rightFdWrite)
	if errno != ESUCCESS {
		return errno
	}
	iov, errno := iovecs(m, iovs, iovsLen, nil)
	if errno != ESUCCESS {
		return errno
	}
	if siflags != 0 {
		return EINVAL
	}
	if _, ok := memRead(m, nPtr, 4); !ok {
		return EFAULT
	}
	n, errno := g.send(e, iov)
	if errno != ESUCCESS {
		return errno
	}
	return putU32(m, nPtr, n)
}

// sockShutdown is sock_shutdown: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sock_shutdownfd-fd-how-sdflags---result-errno
func sockShutdown(g *Guest, m api.Memory, p []uint64) Errno {
	fd, how := u32(p[0]), u32(p[1])
	e, errno := g.sockFD(fd, rightSockShutdown)
	if errno != ESUCCESS {
		return errno
	}
	if how == 0 || how&^uint32(sdflagRd|sdflagWr) != 0 {
		return EINVAL
	}
	if how&sdflagRd != 0 {
		if err := e.sock.ShutdownRead(); err != nil {
			return connErrno(err)
		}
	}
	if how&sdflagWr != 0 {
		if err := e.sock.ShutdownWrite(); err != nil {
			return connErrno(err)
		}
	}
	return ESUCCESS
}

// sockOpen is WasmEdge's sock_open(af, socktype, *fd): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockOpen(g *Guest, m api.Memory, p []uint64) Errno {
	af, st, resPtr := u32(p[0]), u32(p[1]), u32(p[2])
	if g.cfg.Net == nil {
		return ENOTSUP
	}
	var fam vnet.Family
	switch af {
	case afUnspec, afInet:
		fam = vnet.IPv4
	case afInet6:
		fam = vnet.IPv6
	case afUnix:
		return EAFNOSUPPORT
	default:
		return EINVAL
	}
	switch st {
	case sockAny, sockStream:
	case sockDgram:
		return EPROTONOSUPPORT
	default:
		return EINVAL
	}
	if _, ok := memRead(m, resPtr, 4); !ok {
		return EFAULT
	}
	s, err := g.cfg.Net.NewTCP(fam)
	if err != nil {
		return ToErrno(err)
	}
	return g.install(m, g.newSockFD(s, fdState{base: sockRights, inh: sockRights}), resPtr)
}

// readAddr decodes a WasmEdge address: a {buf u32, buf_len u32} record
// whose buffer is a raw IPv4 (4 bytes) or IPv6 (16 bytes) address, or a
// sockaddr-storage form (family u16 little-endian, then the address
// bytes; the v2 ABI uses 128 bytes).
func readAddr(m api.Memory, ptr uint32, port uint32) (netip.AddrPort, Errno) {
	rec, ok := memRead(m, ptr, 8)
	if !ok {
		return netip.AddrPort{}, EFAULT
	}
	b, ok := memRead(m, le32(rec), le32(rec[4:]))
	if !ok {
		return netip.AddrPort{}, EFAULT
	}
	if port > 0xffff {
		return netip.AddrPort{}, EINVAL
	}
	var a netip.Addr
	switch {
	case len(b) == 4:
		a = netip.AddrFrom4([4]byte(b))
	case len(b) == 16:
		a = netip.AddrFrom16([16]byte(b))
	case len(b) >= 6 && le16(b) == afInet:
		a = netip.AddrFrom4([4]byte(b[2:6]))
	case len(b) >= 18 && le16(b) == afInet6:
		a = netip.AddrFrom16([16]byte(b[2:18]))
	case len(b) >= 2 && (le16(b) == afInet || le16(b) == afInet6):
		return netip.AddrPort{}, EINVAL
	default:
		return netip.AddrPort{}, EAFNOSUPPORT
	}
	return netip.AddrPortFrom(a, uint16(port)), ESUCCESS
}

// writeAddr encodes an address into a WasmEdge address record's buffer:
// raw when the buffer is exactly 4 (IPv4) or 16 (IPv6) bytes, else the
// sockaddr-storage form (family u16, address).
func writeAddr(m api.Memory, ptr uint32, a netip.Addr) Errno {
	rec, ok := memRead(m, ptr, 8)
	if !ok {
		return EFAULT
	}
	b, ok := memRead(m, le32(rec), le32(rec[4:]))
	if !ok {
		return EFAULT
	}
	raw := a.AsSlice()
	fam := uint16(afInet)
	if a.Is6() {
		fam = afInet6
	}
	switch {
	case len(b) == len(raw) && len(b) != 16 || len(b) == 16 && a.Is6():
		copy(b, raw)
	case len(b) >= 2+len(raw):
		clear(b)
		put16(b, fam)
		copy(b[2:], raw)
	default:
		return EINVAL
	}
	return ESUCCESS
}

// sockBind is WasmEdge's sock_bind(fd, *addr, port): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockBind(g *Guest, m api.Memory, p []uint64) Errno {
	fd, addrPtr, port := u32(p[0]), u32(p[1]), u32(p[2])
	e, errno := g.sockFD(fd, 0)
	if errno != ESUCCESS {
		return errno
	}
	ap, errno := readAddr(m, addrPtr, port)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(e.sock.Bind(ap))
}

// sockListen is WasmEdge's sock_listen(fd, backlog): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockListen(g *Guest, m api.Memory, p []uint64) Errno {
	fd, backlog := u32(p[0]), int32(u32(p[1]))
	e, errno := g.sockFD(fd, 0)
	if errno != ESUCCESS {
		return errno
	}
	if backlog > 0 {
		if err := e.sock.SetListenBacklogSize(uint64(backlog)); err != nil {
			return ToErrno(err)
		}
	}
	return ToErrno(e.sock.Listen())
}

// sockConnect is WasmEdge's sock_connect(fd, *addr, port): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockConnect(g *Guest, m api.Memory, p []uint64) Errno {
	fd, addrPtr, port := u32(p[0]), u32(p[1]), u32(p[2])
	e, errno := g.sockFD(fd, 0)
	if errno != ESUCCESS {
		return errno
	}
	ap, errno := readAddr(m, addrPtr, port)
	if errno != ESUCCESS {
		return errno
	}
	switch e.sock.State() {
	case vnet.Connected:
		return EISCONN
	case vnet.Connecting:
		return EALREADY
	}
	err := e.sock.Connect(ap)
	errno = ToErrno(err)
	if c, ok := vnet.Code(err); ok && c == vnet.ErrInvalidState && e.sock.State() == vnet.Connected {
		errno = EISCONN
	}
	return errno
}

// sockAddr is WasmEdge's sock_getlocaladdr and, with peer,
// sock_getpeeraddr(fd, *addr, *port): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockAddr(peer bool) func(g *Guest, m api.Memory, p []uint64) Errno {
	return func(g *Guest, m api.Memory, p []uint64) Errno {
		fd, addrPtr, portPtr := u32(p[0]), u32(p[1]), u32(p[2])
		e, errno := g.sockFD(fd, 0)
		if errno != ESUCCESS {
			return errno
		}
		var ap netip.AddrPort
		var err error
		if peer {
			ap, err = e.sock.RemoteAddr()
			if err != nil {
				return connErrno(err)
			}
		} else if ap, err = e.sock.LocalAddr(); err != nil {
			// POSIX getsockname on an unbound socket: the unspecified
			// address, port 0.
			ap = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
			if e.sock.Family() == vnet.IPv6 {
				ap = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
			}
		}
		if _, ok := memRead(m, portPtr, 4); !ok {
			return EFAULT
		}
		if errno := writeAddr(m, addrPtr, ap.Addr()); errno != ESUCCESS {
			return errno
		}
		return putU32(m, portPtr, uint32(ap.Port()))
	}
}

// optLen reads the length argument of sock_getsockopt/sock_setsockopt:
// Go guests (wasi-go, dispatchrun/net) pass the length itself (4 for an
// int, 16 for a timeval), WasmEdge's C and Rust bindings pass a pointer to
// it. Values 4 and 16 are taken as lengths, anything else as a pointer.
func optLen(m api.Memory, v uint32) (n uint32, ptr uint32, errno Errno) {
	if v == 4 || v == timevalSize {
		return v, 0, ESUCCESS
	}
	n, errno = getU32(m, v)
	return n, v, errno
}

// sockOpt decodes the arguments getsockopt and setsockopt share (fd,
// level, name, value buffer and its length) and checks them.
func sockOpt(g *Guest, m api.Memory, p []uint64) (e *sockFD, name uint32, val []byte, lenPtr uint32, errno Errno) {
	fd, level, name, valPtr, valLen := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	e, errno = g.sockFD(fd, 0)
	if errno != ESUCCESS {
		return nil, 0, nil, 0, errno
	}
	if level != solSocket {
		return nil, 0, nil, 0, ENOPROTOOPT
	}
	n, lenPtr, errno := optLen(m, valLen)
	if errno != ESUCCESS {
		return nil, 0, nil, 0, errno
	}
	val, ok := memRead(m, valPtr, n)
	if !ok {
		return nil, 0, nil, 0, EFAULT
	}
	return e, name, val, lenPtr, ESUCCESS
}

// sockSetsockopt is WasmEdge's sock_setsockopt(fd, level, name, *value, value_len): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockSetsockopt(g *Guest, m api.Memory, p []uint64) Errno {
	e, name, val, _, errno := sockOpt(g, m, p)
	if errno != ESUCCESS {
		return errno
	}
	n := uint32(len(val))
	switch name {
	case soRcvtimeo, soSndtimeo:
		if n != timevalSize {
			return EINVAL
		}
		sec, usec := int64(le64(val)), int64(le64(val[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 || sec > 1<<32 {
			return EINVAL
		}
		d := time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		if name == soRcvtimeo {
			e.rcvTimeo = d
		} else {
			e.sndTimeo = d
		}
		return ESUCCESS
	}
	if n != 4 {
		return EINVAL
	}
	v := int32(le32(val))
	switch name {
	case soReuseaddr:
		e.reuseAddr = v != 0
	case soBroadcast:
		e.broadcast = v != 0
	case soKeepalive:
		return ToErrno(e.sock.SetKeepAliveEnabled(v != 0))
	case soSndbuf, soRcvbuf:
		if v <= 0 {
			return EINVAL
		}
		if name == soSndbuf {
			return ToErrno(e.sock.SetSendBufferSize(uint64(v)))
		}
		return ToErrno(e.sock.SetReceiveBufferSize(uint64(v)))
	case soType, soError, soAcceptconn:
		return EINVAL
	default:
		return ENOPROTOOPT
	}
	return ESUCCESS
}

// sockGetsockopt is WasmEdge's sock_getsockopt(fd, level, name, *value, value_len): https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
func sockGetsockopt(g *Guest, m api.Memory, p []uint64) Errno {
	e, name, val, lenPtr, errno := sockOpt(g, m, p)
	if errno != ESUCCESS {
		return errno
	}
	written := uint32(4)
	var v int64
	n := uint32(len(val))
	switch name {
	case soRcvtimeo, soSndtimeo:
		if n < timevalSize {
			return EINVAL
		}
		d := e.rcvTimeo
		if name == soSndtimeo {
			d = e.sndTimeo
		}
		put64(val, uint64(d/time.Second))
		put64(val[8:], uint64((d%time.Second)/time.Microsecond))
		written = timevalSize
	default:
		if n < 4 {
			return EINVAL
		}
		switch name {
		case soType:
			v = sockStream
		case soError:
			v = int64(e.sockErr)
			e.sockErr = ESUCCESS
		case soReuseaddr:
			v = b2i(e.reuseAddr)
		case soBroadcast:
			v = b2i(e.broadcast)
		case soAcceptconn:
			v = b2i(e.sock.IsListening())
		case soKeepalive:
			on, err := e.sock.KeepAliveEnabled()
			if err != nil {
				return ToErrno(err)
			}
			v = b2i(on)
		case soSndbuf, soRcvbuf:
			var size uint64
			var err error
			if name == soSndbuf {
				size, err = e.sock.SendBufferSize()
			} else {
				size, err = e.sock.ReceiveBufferSize()
			}
			if err != nil {
				return ToErrno(err)
			}
			v = int64(min(size, 1<<31-1))
		default:
			return ENOPROTOOPT
		}
		put32(val, uint32(v))
	}
	if lenPtr != 0 {
		return putU32(m, lenPtr, written)
	}
	return ESUCCESS
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// sockGetaddrinfo is WasmEdge's sock_getaddrinfo: https://github.com/second-state/wasmedge_wasi_socket (see the package doc)
//
// The guest passes a
// chain of preallocated addrinfo records (28 bytes: flags u16, family u8,
// socktype u8, protocol u32, addrlen u32, addr ptr, canonname ptr,
// canonnamelen u32, next ptr), each pointing at a sockaddr record (family
// u16 at 0, sa_data_len u32 at 4, sa_data ptr at 8); the host fills up to
// max_res_len of them: sa_data holds the port (big-endian u16) then the
// address bytes. Names resolve through the world's network (vnet.Resolve:
// "localhost", IP literals and names added with AddHost).
func sockGetaddrinfo(g *Guest, m api.Memory, p []uint64) Errno {
	nodePtr, nodeLen, servicePtr, serviceLen, hintsPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	resPtr, maxRes, resLenPtr := u32(p[5]), u32(p[6]), u32(p[7])
	node, errno := memString(m, nodePtr, nodeLen)
	if errno != ESUCCESS {
		return errno
	}
	service, errno := memString(m, servicePtr, serviceLen)
	if errno != ESUCCESS {
		return errno
	}
	node, service = strings.TrimRight(node, "\x00"), strings.TrimRight(service, "\x00")
	hints, ok := memRead(m, hintsPtr, addrinfoSize)
	if !ok {
		return EFAULT
	}
	first, errno := getU32(m, resPtr)
	if errno != ESUCCESS {
		return errno
	}
	if _, ok := memRead(m, resLenPtr, 4); !ok {
		return EFAULT
	}
	flags, family, socktype, proto := le16(hints), hints[2], hints[3], le32(hints[4:])
	if node == "" && service == "" {
		return EINVAL
	}
	if family != afUnspec && family != afInet && family != afInet6 {
		return EAFNOSUPPORT
	}
	if socktype == sockDgram {
		return EPROTONOSUPPORT
	}
	port := 0
	if service != "" {
		n, err := strconv.Atoi(service)
		switch {
		case err == nil && n >= 0 && n <= 0xffff:
			port = n
		case flags&aiNumericServ != 0 || err == nil:
			return EINVAL
		case service == "http":
			port = 80
		case service == "https":
			port = 443
		default:
			return ENOENT
		}
	}
	var addrs []netip.Addr
	switch {
	case node == "" && flags&aiPassive != 0:
		addrs = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	case node == "":
		addrs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	default:
		if a, err := netip.ParseAddr(node); err == nil {
			addrs = []netip.Addr{a.Unmap()}
		} else if flags&aiNumericHost != 0 {
			return ENOENT
		} else {
			netw := g.cfg.Net
			if netw == nil {
				return ENOTSUP
			}
			if addrs, err = netw.Resolve(node); err != nil {
				return ToErrno(err)
			}
		}
	}
	if socktype == sockAny {
		socktype = sockStream
	}
	if proto == ipprotoIP {
		proto = ipprotoTCP
	}
	count := uint32(0)
	ptr := first
	for _, a := range addrs {
		fam := uint8(afInet)
		if a.Is6() {
			fam = afInet6
		}
		if family != afUnspec && family != fam {
			continue
		}
		if count >= maxRes || ptr == 0 {
			break
		}
		ai, ok := memRead(m, ptr, addrinfoSize)
		if !ok {
			return EFAULT
		}
		sa, ok := memRead(m, le32(ai[12:]), 12)
		if !ok {
			return EFAULT
		}
		data, ok := memRead(m, le32(sa[8:]), le32(sa[4:]))
		if !ok {
			return EFAULT
		}
		raw := a.AsSlice()
		var enc [18]byte
		enc[0], enc[1] = byte(port>>8), byte(port)
		copy(enc[2:], raw)
		clear(data)
		copy(data, enc[:2+len(raw)])
		put16(sa, uint16(fam))
		put16(ai, 0)
		ai[2], ai[3] = fam, socktype
		put32(ai[4:], proto)
		put32(ai[8:], uint32(2+len(raw)))
		put32(ai[20:], 0)
		count++
		ptr = le32(ai[24:])
	}
	if count == 0 {
		return ENOENT
	}
	return putU32(m, resLenPtr, count)
}
