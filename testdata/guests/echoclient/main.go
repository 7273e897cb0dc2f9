//go:build wasip1

// Command echoclient dials an echo server through the WasmEdge socket
// extension (sock_open, sock_connect, sock_getlocaladdr, sock_getpeeraddr,
// sock_getaddrinfo, sock_getsockopt) — Go's wasip1 net package cannot
// dial — then sends its messages with blocking sock_send, half-closes,
// and reads the echo back with sock_recv.
//
// Usage: echoclient HOST PORT MESSAGE...
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

//go:wasmimport wasi_snapshot_preview1 sock_open
//go:noescape
func sock_open(af, socktype int32, fd unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_connect
//go:noescape
func sock_connect(fd int32, addr unsafe.Pointer, port uint32) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_getlocaladdr
//go:noescape
func sock_getlocaladdr(fd int32, addr unsafe.Pointer, port unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_getpeeraddr
//go:noescape
func sock_getpeeraddr(fd int32, addr unsafe.Pointer, port unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_getsockopt
//go:noescape
func sock_getsockopt(fd int32, level, name uint32, value unsafe.Pointer, valueLen uint32) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_getaddrinfo
//go:noescape
func sock_getaddrinfo(node unsafe.Pointer, nodeLen uint32, service unsafe.Pointer, serviceLen uint32, hints unsafe.Pointer, res unsafe.Pointer, maxResLen uint32, resLen unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_send
//go:noescape
func sock_send(fd int32, iovs unsafe.Pointer, iovsLen uint32, flags uint32, n unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_recv
//go:noescape
func sock_recv(fd int32, iovs unsafe.Pointer, iovsLen uint32, flags uint32, n unsafe.Pointer, oflags unsafe.Pointer) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 sock_shutdown
func sock_shutdown(fd int32, how uint32) syscall.Errno

//go:wasmimport wasi_snapshot_preview1 fd_close
func fd_close(fd int32) syscall.Errno

type addressBuffer struct {
	buf    uint32
	bufLen uint32
}

type iovec struct {
	buf    uint32
	bufLen uint32
}

type addrinfo struct {
	flags     uint16
	family    uint8
	socktype  uint8
	protocol  uint32
	addrlen   uint32
	addr      uint32
	canon     uint32
	canonLen  uint32
	next      uint32
	sockaddr  [4]uint32 // family, sa_data_len, sa_data, pad
	sockdata  [26]byte
	canonname [30]byte
}

func die(what string, err error) {
	fmt.Println(what+":", err)
	os.Exit(1)
}

func resolve(host string) [4]byte {
	node := append([]byte(host), 0)
	var hints addrinfo
	hints.family = 1 // AF_INET
	hints.socktype = 2
	var res [2]addrinfo
	for i := range res {
		r := &res[i]
		r.sockaddr[1] = uint32(len(r.sockdata))
		r.sockaddr[2] = uint32(uintptr(unsafe.Pointer(&r.sockdata)))
		r.addr = uint32(uintptr(unsafe.Pointer(&r.sockaddr)))
		r.canon = uint32(uintptr(unsafe.Pointer(&r.canonname)))
		r.canonLen = uint32(len(r.canonname))
		if i > 0 {
			res[i-1].next = uint32(uintptr(unsafe.Pointer(r)))
		}
	}
	first := uint32(uintptr(unsafe.Pointer(&res[0])))
	var n uint32
	if e := sock_getaddrinfo(unsafe.Pointer(&node[0]), uint32(len(node)), nil, 0, unsafe.Pointer(&hints), unsafe.Pointer(&first), uint32(len(res)), unsafe.Pointer(&n)); e != 0 {
		die("getaddrinfo", e)
	}
	if n == 0 || res[0].sockaddr[0] != 1 {
		die("getaddrinfo", fmt.Errorf("%d results, family %d", n, res[0].sockaddr[0]))
	}
	return [4]byte(res[0].sockdata[2:6])
}

func addrOf(f func(int32, unsafe.Pointer, unsafe.Pointer) syscall.Errno, fd int32) string {
	var raw [128]byte
	buf := addressBuffer{uint32(uintptr(unsafe.Pointer(&raw))), uint32(len(raw))}
	var port uint32
	if e := f(fd, unsafe.Pointer(&buf), unsafe.Pointer(&port)); e != 0 {
		return "error " + e.Error()
	}
	if binary.LittleEndian.Uint16(raw[:]) != 1 {
		return "family?"
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", raw[2], raw[3], raw[4], raw[5], port)
}

func main() {
	if len(os.Args) < 3 {
		die("usage", fmt.Errorf("echoclient HOST PORT MESSAGE..."))
	}
	ip := resolve(os.Args[1])
	port, _ := strconv.Atoi(os.Args[2])
	var fd int32
	if e := sock_open(1, 2, unsafe.Pointer(&fd)); e != 0 {
		die("sock_open", e)
	}
	addr := addressBuffer{uint32(uintptr(unsafe.Pointer(&ip))), 4}
	if e := sock_connect(fd, unsafe.Pointer(&addr), uint32(port)); e != 0 {
		die("sock_connect", e)
	}
	local := addrOf(sock_getlocaladdr, fd)
	fmt.Println("connected to", addrOf(sock_getpeeraddr, fd), "local port assigned:", local != "")
	var soType int32
	if e := sock_getsockopt(fd, 0, 1, unsafe.Pointer(&soType), 4); e != 0 {
		die("getsockopt", e)
	}
	fmt.Println("SO_TYPE", soType)
	sent := 0
	for _, msg := range os.Args[3:] {
		b := []byte(msg + "\n")
		iov := iovec{uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))}
		var n uint32
		if e := sock_send(fd, unsafe.Pointer(&iov), 1, 0, unsafe.Pointer(&n)); e != 0 {
			die("sock_send", e)
		}
		sent += int(n)
	}
	if e := sock_shutdown(fd, 2); e != 0 {
		die("sock_shutdown", e)
	}
	var got []byte
	buf := make([]byte, 7)
	for {
		iov := iovec{uint32(uintptr(unsafe.Pointer(&buf[0]))), uint32(len(buf))}
		var n uint32
		var of uint16
		if e := sock_recv(fd, unsafe.Pointer(&iov), 1, 0, unsafe.Pointer(&n), unsafe.Pointer(&of)); e != 0 {
			die("sock_recv", e)
		}
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	fd_close(fd)
	fmt.Printf("sent %d received %d\n%s", sent, len(got), got)
}
