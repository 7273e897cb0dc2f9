package wasip1

import (
	"errors"
	"io"
	"strconv"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// Errno is a WASI preview 1 errno (the `errno` enum of
// wasi_snapshot_preview1, a u16 on the wire; 0 is success).
type Errno uint16

// The preview 1 errno values, in witx order.
const (
	ESUCCESS Errno = iota
	E2BIG
	EACCES
	EADDRINUSE
	EADDRNOTAVAIL
	EAFNOSUPPORT
	EAGAIN
	EALREADY
	EBADF
	EBADMSG
	EBUSY
	ECANCELED
	ECHILD
	ECONNABORTED
	ECONNREFUSED
	ECONNRESET
	EDEADLK
	EDESTADDRREQ
	EDOM
	EDQUOT
	EEXIST
	EFAULT
	EFBIG
	EHOSTUNREACH
	EIDRM
	EILSEQ
	EINPROGRESS
	EINTR
	EINVAL
	EIO
	EISCONN
	EISDIR
	ELOOP
	EMFILE
	EMLINK
	EMSGSIZE
	EMULTIHOP
	ENAMETOOLONG
	ENETDOWN
	ENETRESET
	ENETUNREACH
	ENFILE
	ENOBUFS
	ENODEV
	ENOENT
	ENOEXEC
	ENOLCK
	ENOLINK
	ENOMEM
	ENOMSG
	ENOPROTOOPT
	ENOSPC
	ENOSYS
	ENOTCONN
	ENOTDIR
	ENOTEMPTY
	ENOTRECOVERABLE
	ENOTSOCK
	ENOTSUP
	ENOTTY
	ENXIO
	EOVERFLOW
	EOWNERDEAD
	EPERM
	EPIPE
	EPROTO
	EPROTONOSUPPORT
	EPROTOTYPE
	ERANGE
	EROFS
	ESPIPE
	ESRCH
	ESTALE
	ETIMEDOUT
	ETXTBSY
	EXDEV
	ENOTCAPABLE
	numErrnos
)

// errnoNames are the POSIX names, keyed so that the table cannot drift
// from the constants.
var errnoNames = [numErrnos]string{
	ESUCCESS:        "ESUCCESS",
	E2BIG:           "E2BIG",
	EACCES:          "EACCES",
	EADDRINUSE:      "EADDRINUSE",
	EADDRNOTAVAIL:   "EADDRNOTAVAIL",
	EAFNOSUPPORT:    "EAFNOSUPPORT",
	EAGAIN:          "EAGAIN",
	EALREADY:        "EALREADY",
	EBADF:           "EBADF",
	EBADMSG:         "EBADMSG",
	EBUSY:           "EBUSY",
	ECANCELED:       "ECANCELED",
	ECHILD:          "ECHILD",
	ECONNABORTED:    "ECONNABORTED",
	ECONNREFUSED:    "ECONNREFUSED",
	ECONNRESET:      "ECONNRESET",
	EDEADLK:         "EDEADLK",
	EDESTADDRREQ:    "EDESTADDRREQ",
	EDOM:            "EDOM",
	EDQUOT:          "EDQUOT",
	EEXIST:          "EEXIST",
	EFAULT:          "EFAULT",
	EFBIG:           "EFBIG",
	EHOSTUNREACH:    "EHOSTUNREACH",
	EIDRM:           "EIDRM",
	EILSEQ:          "EILSEQ",
	EINPROGRESS:     "EINPROGRESS",
	EINTR:           "EINTR",
	EINVAL:          "EINVAL",
	EIO:             "EIO",
	EISCONN:         "EISCONN",
	EISDIR:          "EISDIR",
	ELOOP:           "ELOOP",
	EMFILE:          "EMFILE",
	EMLINK:          "EMLINK",
	EMSGSIZE:        "EMSGSIZE",
	EMULTIHOP:       "EMULTIHOP",
	ENAMETOOLONG:    "ENAMETOOLONG",
	ENETDOWN:        "ENETDOWN",
	ENETRESET:       "ENETRESET",
	ENETUNREACH:     "ENETUNREACH",
	ENFILE:          "ENFILE",
	ENOBUFS:         "ENOBUFS",
	ENODEV:          "ENODEV",
	ENOENT:          "ENOENT",
	ENOEXEC:         "ENOEXEC",
	ENOLCK:          "ENOLCK",
	ENOLINK:         "ENOLINK",
	ENOMEM:          "ENOMEM",
	ENOMSG:          "ENOMSG",
	ENOPROTOOPT:     "ENOPROTOOPT",
	ENOSPC:          "ENOSPC",
	ENOSYS:          "ENOSYS",
	ENOTCONN:        "ENOTCONN",
	ENOTDIR:         "ENOTDIR",
	ENOTEMPTY:       "ENOTEMPTY",
	ENOTRECOVERABLE: "ENOTRECOVERABLE",
	ENOTSOCK:        "ENOTSOCK",
	ENOTSUP:         "ENOTSUP",
	ENOTTY:          "ENOTTY",
	ENXIO:           "ENXIO",
	EOVERFLOW:       "EOVERFLOW",
	EOWNERDEAD:      "EOWNERDEAD",
	EPERM:           "EPERM",
	EPIPE:           "EPIPE",
	EPROTO:          "EPROTO",
	EPROTONOSUPPORT: "EPROTONOSUPPORT",
	EPROTOTYPE:      "EPROTOTYPE",
	ERANGE:          "ERANGE",
	EROFS:           "EROFS",
	ESPIPE:          "ESPIPE",
	ESRCH:           "ESRCH",
	ESTALE:          "ESTALE",
	ETIMEDOUT:       "ETIMEDOUT",
	ETXTBSY:         "ETXTBSY",
	EXDEV:           "EXDEV",
	ENOTCAPABLE:     "ENOTCAPABLE",
}

// String is the POSIX name of the errno, e.g. "ENOENT".
func (e Errno) String() string {
	if int(e) < len(errnoNames) {
		return errnoNames[e]
	}
	return "errno(" + strconv.Itoa(int(e)) + ")"
}

// Error implements error.
func (e Errno) Error() string { return e.String() }

// fsErrnos maps every vfs.ErrorCode (wasi:filesystem error-code) to the
// preview 1 errno that Wasmtime's preview 1 adapter reports for it. It is
// the one table for file errors; TestErrnoTables checks it is exhaustive.
var fsErrnos = map[vfs.ErrorCode]Errno{
	vfs.ErrAccess:              EACCES,
	vfs.ErrAlready:             EALREADY,
	vfs.ErrBadDescriptor:       EBADF,
	vfs.ErrBusy:                EBUSY,
	vfs.ErrDeadlock:            EDEADLK,
	vfs.ErrQuota:               EDQUOT,
	vfs.ErrExist:               EEXIST,
	vfs.ErrFileTooLarge:        EFBIG,
	vfs.ErrIllegalByteSequence: EILSEQ,
	vfs.ErrInProgress:          EINPROGRESS,
	vfs.ErrInterrupted:         EINTR,
	vfs.ErrInvalid:             EINVAL,
	vfs.ErrIO:                  EIO,
	vfs.ErrIsDirectory:         EISDIR,
	vfs.ErrLoop:                ELOOP,
	vfs.ErrTooManyLinks:        EMLINK,
	vfs.ErrMessageSize:         EMSGSIZE,
	vfs.ErrNameTooLong:         ENAMETOOLONG,
	vfs.ErrNoDevice:            ENODEV,
	vfs.ErrNoEntry:             ENOENT,
	vfs.ErrNoLock:              ENOLCK,
	vfs.ErrInsufficientMemory:  ENOMEM,
	vfs.ErrInsufficientSpace:   ENOSPC,
	vfs.ErrNotDirectory:        ENOTDIR,
	vfs.ErrNotEmpty:            ENOTEMPTY,
	vfs.ErrNotRecoverable:      ENOTRECOVERABLE,
	vfs.ErrUnsupported:         ENOTSUP,
	vfs.ErrNoTTY:               ENOTTY,
	vfs.ErrNoSuchDevice:        ENXIO,
	vfs.ErrOverflow:            EOVERFLOW,
	vfs.ErrNotPermitted:        EPERM,
	vfs.ErrPipe:                EPIPE,
	vfs.ErrReadOnly:            EROFS,
	vfs.ErrInvalidSeek:         ESPIPE,
	vfs.ErrTextFileBusy:        ETXTBSY,
	vfs.ErrCrossDevice:         EXDEV,
}

// netErrnos maps every vnet.ErrorCode (wasi:sockets error-code) to a
// preview 1 errno. invalid-state has no single POSIX equivalent: the table
// says EINVAL, and the calls where POSIX is specific override it
// (connect on a connected socket: EISCONN; recv, send, shutdown and
// getpeeraddr on an unconnected one: ENOTCONN).
var netErrnos = map[vnet.ErrorCode]Errno{
	vnet.ErrAccessDenied:       EACCES,
	vnet.ErrNotSupported:       ENOTSUP,
	vnet.ErrInvalidArgument:    EINVAL,
	vnet.ErrOutOfMemory:        ENOMEM,
	vnet.ErrTimeout:            EAGAIN,
	vnet.ErrInvalidState:       EINVAL,
	vnet.ErrAddressNotBindable: EADDRNOTAVAIL,
	vnet.ErrAddressInUse:       EADDRINUSE,
	vnet.ErrRemoteUnreachable:  EHOSTUNREACH,
	vnet.ErrConnectionRefused:  ECONNREFUSED,
	vnet.ErrConnectionBroken:   EPIPE,
	vnet.ErrConnectionReset:    ECONNRESET,
	vnet.ErrConnectionAborted:  ECONNABORTED,
	vnet.ErrDatagramTooLarge:   EMSGSIZE,
	vnet.ErrOther:              EIO,
}

// ToErrno maps an error from vfs, vnet, sim or this package to a preview
// 1 errno: nil and io.EOF to ESUCCESS, an Errno to itself, a vfs.ErrorCode
// or vnet.ErrorCode through its table (also when wrapped; a code missing
// from its table is EIO), sim.ErrWouldBlock (vfs.ErrWouldBlock and
// vnet.ErrWouldBlock) to EAGAIN, a name lookup failure to ENOENT,
// sim.ErrNotInTask to ENOTSUP and anything else to EIO.
func ToErrno(err error) Errno {
	if err == nil {
		return ESUCCESS
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	var fc vfs.ErrorCode
	if errors.As(err, &fc) {
		if n, ok := fsErrnos[fc]; ok {
			return n
		}
		return EIO
	}
	if nc, ok := vnet.Code(err); ok {
		if n, ok := netErrnos[nc]; ok {
			return n
		}
		return EIO
	}
	switch {
	case errors.Is(err, sim.ErrWouldBlock):
		return EAGAIN
	case errors.Is(err, vnet.ErrNameUnresolvable):
		return ENOENT
	case errors.Is(err, io.EOF):
		return ESUCCESS
	case errors.Is(err, sim.ErrNotInTask):
		return ENOTSUP
	}
	return EIO
}
