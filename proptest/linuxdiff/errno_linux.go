//go:build linux

package linuxdiff

import (
	"errors"
	"io"
	"syscall"

	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// FileErrno is the one table that maps a Linux errno from a file-system
// call to the wasi:filesystem error code the same failure has in vfs. It is
// the mapping Wasmtime applies on Linux (EAGAIN from flock is not an
// error-code: it corresponds to vfs.ErrWouldBlock, see FileCode). An errno
// that is not in the table never matches any vfs result.
var FileErrno = map[syscall.Errno]vfs.ErrorCode{
	syscall.EACCES:          vfs.ErrAccess,
	syscall.EALREADY:        vfs.ErrAlready,
	syscall.EBADF:           vfs.ErrBadDescriptor,
	syscall.EBUSY:           vfs.ErrBusy,
	syscall.EDEADLK:         vfs.ErrDeadlock,
	syscall.EDQUOT:          vfs.ErrQuota,
	syscall.EEXIST:          vfs.ErrExist,
	syscall.EFBIG:           vfs.ErrFileTooLarge,
	syscall.EILSEQ:          vfs.ErrIllegalByteSequence,
	syscall.EINPROGRESS:     vfs.ErrInProgress,
	syscall.EINTR:           vfs.ErrInterrupted,
	syscall.EINVAL:          vfs.ErrInvalid,
	syscall.EIO:             vfs.ErrIO,
	syscall.EISDIR:          vfs.ErrIsDirectory,
	syscall.ELOOP:           vfs.ErrLoop,
	syscall.EMLINK:          vfs.ErrTooManyLinks,
	syscall.EMSGSIZE:        vfs.ErrMessageSize,
	syscall.ENAMETOOLONG:    vfs.ErrNameTooLong,
	syscall.ENODEV:          vfs.ErrNoDevice,
	syscall.ENOENT:          vfs.ErrNoEntry,
	syscall.ENOLCK:          vfs.ErrNoLock,
	syscall.ENOMEM:          vfs.ErrInsufficientMemory,
	syscall.ENOSPC:          vfs.ErrInsufficientSpace,
	syscall.ENOTDIR:         vfs.ErrNotDirectory,
	syscall.ENOTEMPTY:       vfs.ErrNotEmpty,
	syscall.ENOTRECOVERABLE: vfs.ErrNotRecoverable,
	syscall.EOPNOTSUPP:      vfs.ErrUnsupported, // == ENOTSUP on Linux
	syscall.ENOTTY:          vfs.ErrNoTTY,
	syscall.ENXIO:           vfs.ErrNoSuchDevice,
	syscall.EOVERFLOW:       vfs.ErrOverflow,
	syscall.EPERM:           vfs.ErrNotPermitted,
	syscall.EPIPE:           vfs.ErrPipe,
	syscall.EROFS:           vfs.ErrReadOnly,
	syscall.ESPIPE:          vfs.ErrInvalidSeek,
	syscall.ETXTBSY:         vfs.ErrTextFileBusy,
	syscall.EXDEV:           vfs.ErrCrossDevice,
}

// SockErrno is the one table that maps a Linux errno from a socket call to
// the wasi:sockets error code vnet gives the same failure; it is the
// mapping vnet.ErrorCode.Is documents (EAGAIN corresponds to
// vnet.ErrWouldBlock, see SockCode).
var SockErrno = map[syscall.Errno]vnet.ErrorCode{
	syscall.EACCES:        vnet.ErrAccessDenied,
	syscall.EPERM:         vnet.ErrAccessDenied,
	syscall.EOPNOTSUPP:    vnet.ErrNotSupported,
	syscall.EINVAL:        vnet.ErrInvalidArgument,
	syscall.EAFNOSUPPORT:  vnet.ErrInvalidArgument,
	syscall.ENOMEM:        vnet.ErrOutOfMemory,
	syscall.ENOBUFS:       vnet.ErrOutOfMemory,
	syscall.ETIMEDOUT:     vnet.ErrTimeout,
	syscall.EISCONN:       vnet.ErrInvalidState,
	syscall.ENOTCONN:      vnet.ErrInvalidState,
	syscall.EALREADY:      vnet.ErrInvalidState,
	syscall.EADDRNOTAVAIL: vnet.ErrAddressNotBindable,
	syscall.EADDRINUSE:    vnet.ErrAddressInUse,
	syscall.EHOSTUNREACH:  vnet.ErrRemoteUnreachable,
	syscall.ENETUNREACH:   vnet.ErrRemoteUnreachable,
	syscall.ECONNREFUSED:  vnet.ErrConnectionRefused,
	syscall.EPIPE:         vnet.ErrConnectionBroken,
	syscall.ECONNRESET:    vnet.ErrConnectionReset,
	syscall.ECONNABORTED:  vnet.ErrConnectionAborted,
	syscall.EMSGSIZE:      vnet.ErrDatagramTooLarge,
}

// Outcome names used by FileCode and SockCode besides the WIT error-code
// names.
const (
	OK         = "ok"          // the call succeeded
	WouldBlock = "would-block" // EAGAIN / vfs.ErrWouldBlock / vnet.ErrWouldBlock
	EOF        = "eof"         // a read at end of stream (vnet io.EOF, recv returning 0)
)

// FileCode names the outcome of a kernel file call in vfs terms: OK for
// nil, WouldBlock for EAGAIN, the WIT name of FileErrno[errno], or
// "unmapped:<errno>" for an errno outside the table.
func FileCode(err error) string {
	if err == nil {
		return OK
	}
	var e syscall.Errno
	if !errors.As(err, &e) {
		return "unmapped:" + err.Error()
	}
	if e == syscall.EAGAIN {
		return WouldBlock
	}
	if c, ok := FileErrno[e]; ok {
		return c.String()
	}
	return "unmapped:" + e.Error()
}

// VFSCode names the outcome of a vfs call: OK, WouldBlock for
// vfs.ErrWouldBlock, or the WIT name of the vfs.ErrorCode.
func VFSCode(err error) string {
	if err == nil {
		return OK
	}
	if errors.Is(err, vfs.ErrWouldBlock) {
		return WouldBlock
	}
	var c vfs.ErrorCode
	if errors.As(err, &c) {
		return c.String()
	}
	return "non-wasi:" + err.Error()
}

// SockCode names the outcome of a kernel socket call in vnet terms: OK,
// WouldBlock for EAGAIN, the WIT name of SockErrno[errno], or
// "unmapped:<errno>".
func SockCode(err error) string {
	if err == nil {
		return OK
	}
	var e syscall.Errno
	if !errors.As(err, &e) {
		return "unmapped:" + err.Error()
	}
	if e == syscall.EAGAIN {
		return WouldBlock
	}
	if c, ok := SockErrno[e]; ok {
		return c.String()
	}
	return "unmapped:" + e.Error()
}

// VNetCode names the outcome of a vnet call: OK, EOF for io.EOF,
// WouldBlock for vnet.ErrWouldBlock, or the WIT name of the
// vnet.ErrorCode.
func VNetCode(err error) string {
	if err == nil {
		return OK
	}
	if errors.Is(err, io.EOF) {
		return EOF
	}
	if errors.Is(err, vnet.ErrWouldBlock) {
		return WouldBlock
	}
	if c, ok := vnet.Code(err); ok {
		return c.String()
	}
	return "non-wasi:" + err.Error()
}
