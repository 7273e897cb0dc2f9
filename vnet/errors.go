package vnet

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"github.com/wasisim/wasisim/sim"
)

// ErrorCode is the error-code enum of wasi:sockets@0.3.0 (interface
// types). The numeric values are the WIT case indexes, so a host can lift
// and lower them directly. ErrorCode implements error; errors.Is maps each
// code to the matching syscall errno (see Is).
//
// The WIT case other(option<string>) carries a message; ErrOther is its
// discriminant, and OtherError carries the message.
type ErrorCode uint8

// The cases of wasi:sockets@0.3.0 error-code, in WIT order.
const (
	ErrAccessDenied       ErrorCode = iota // access-denied (EACCES, EPERM)
	ErrNotSupported                        // not-supported (EOPNOTSUPP)
	ErrInvalidArgument                     // invalid-argument (EINVAL, EAFNOSUPPORT)
	ErrOutOfMemory                         // out-of-memory (ENOMEM, ENOBUFS)
	ErrTimeout                             // timeout (ETIMEDOUT, os.ErrDeadlineExceeded)
	ErrInvalidState                        // invalid-state (EISCONN, ENOTCONN, EALREADY)
	ErrAddressNotBindable                  // address-not-bindable (EADDRNOTAVAIL)
	ErrAddressInUse                        // address-in-use (EADDRINUSE)
	ErrRemoteUnreachable                   // remote-unreachable (EHOSTUNREACH, ENETUNREACH)
	ErrConnectionRefused                   // connection-refused (ECONNREFUSED)
	ErrConnectionBroken                    // connection-broken (EPIPE)
	ErrConnectionReset                     // connection-reset (ECONNRESET)
	ErrConnectionAborted                   // connection-aborted (ECONNABORTED)
	ErrDatagramTooLarge                    // datagram-too-large (EMSGSIZE)
	ErrOther                               // other (no errno)
)

var codeNames = [...]string{
	ErrAccessDenied:       "access-denied",
	ErrNotSupported:       "not-supported",
	ErrInvalidArgument:    "invalid-argument",
	ErrOutOfMemory:        "out-of-memory",
	ErrTimeout:            "timeout",
	ErrInvalidState:       "invalid-state",
	ErrAddressNotBindable: "address-not-bindable",
	ErrAddressInUse:       "address-in-use",
	ErrRemoteUnreachable:  "remote-unreachable",
	ErrConnectionRefused:  "connection-refused",
	ErrConnectionBroken:   "connection-broken",
	ErrConnectionReset:    "connection-reset",
	ErrConnectionAborted:  "connection-aborted",
	ErrDatagramTooLarge:   "datagram-too-large",
	ErrOther:              "other",
}

var codeErrnos = [...][]syscall.Errno{
	ErrAccessDenied:       {syscall.EACCES, syscall.EPERM},
	ErrNotSupported:       {syscall.EOPNOTSUPP},
	ErrInvalidArgument:    {syscall.EINVAL, syscall.EAFNOSUPPORT},
	ErrOutOfMemory:        {syscall.ENOMEM, syscall.ENOBUFS},
	ErrTimeout:            {syscall.ETIMEDOUT},
	ErrInvalidState:       {syscall.EISCONN, syscall.ENOTCONN, syscall.EALREADY},
	ErrAddressNotBindable: {syscall.EADDRNOTAVAIL},
	ErrAddressInUse:       {syscall.EADDRINUSE},
	ErrRemoteUnreachable:  {syscall.EHOSTUNREACH, syscall.ENETUNREACH},
	ErrConnectionRefused:  {syscall.ECONNREFUSED},
	ErrConnectionBroken:   {syscall.EPIPE},
	ErrConnectionReset:    {syscall.ECONNRESET},
	ErrConnectionAborted:  {syscall.ECONNABORTED},
	ErrDatagramTooLarge:   {syscall.EMSGSIZE},
	ErrOther:              nil,
}

// String returns the WIT name of the code, e.g. "address-in-use".
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "error-code(" + itoa(int(c)) + ")"
}

// Error implements error; the message is the WIT name.
func (c ErrorCode) Error() string { return c.String() }

// Is reports whether target is the syscall errno matching c (ErrTimeout
// also matches os.ErrDeadlineExceeded), so errors.Is(err,
// syscall.ECONNREFUSED) holds for ErrConnectionRefused.
func (c ErrorCode) Is(target error) bool {
	if c == ErrTimeout && target == os.ErrDeadlineExceeded {
		return true
	}
	var errno syscall.Errno
	if !errors.As(target, &errno) {
		return false
	}
	if int(c) >= len(codeErrnos) {
		return false
	}
	for _, e := range codeErrnos[c] {
		if e == errno {
			return true
		}
	}
	return false
}

// Timeout reports whether c is ErrTimeout (net.Error).
func (c ErrorCode) Timeout() bool { return c == ErrTimeout }

// Temporary reports whether c is ErrTimeout (net.Error; deprecated there).
func (c ErrorCode) Temporary() bool { return c == ErrTimeout }

// Valid reports whether c is one of the WIT cases.
func (c ErrorCode) Valid() bool { return int(c) < len(codeNames) }

// ParseErrorCode returns the code with the given WIT name; an unknown name
// is ErrInvalidArgument as the error and ErrOther as the code.
func ParseErrorCode(name string) (ErrorCode, error) {
	for i, n := range codeNames {
		if n == name {
			return ErrorCode(i), nil
		}
	}
	return ErrOther, ErrInvalidArgument
}

// Code extracts the ErrorCode of err (through wrapping); ok is false when
// err carries none.
func Code(err error) (code ErrorCode, ok bool) {
	var c ErrorCode
	if errors.As(err, &c) {
		return c, true
	}
	var o *OtherError
	if errors.As(err, &o) {
		return ErrOther, true
	}
	return 0, false
}

// OtherError is the WIT case other(option<string>): an error with a
// message and no errno. errors.Is(err, ErrOther) holds for it.
type OtherError struct{ Msg string }

// Error returns "other" or "other: <message>".
func (e *OtherError) Error() string {
	if e.Msg == "" {
		return "other"
	}
	return "other: " + e.Msg
}

// Is matches ErrOther.
func (e *OtherError) Is(target error) bool { return target == ErrOther }

// ErrWouldBlock is returned by the Try* methods when the operation would
// have to wait. It is not a WIT error code (WASI 0.3 has no non-blocking
// mode); errors.Is(ErrWouldBlock, syscall.EAGAIN) holds. It is
// sim.ErrWouldBlock, the value vfs.ErrWouldBlock is too.
var ErrWouldBlock = sim.ErrWouldBlock

// LookupError is an error of wasi:sockets ip-name-lookup that has no
// sockets error-code: the name is well formed but unknown.
type LookupError struct{ Name string }

// Error returns "name-unresolvable: <name>".
func (e *LookupError) Error() string { return "name-unresolvable: " + e.Name }

// ErrNameUnresolvable matches (errors.Is) every *LookupError.
var ErrNameUnresolvable = errors.New("name-unresolvable")

// Is matches ErrNameUnresolvable.
func (e *LookupError) Is(target error) bool { return target == ErrNameUnresolvable }

// itoa is strconv.Itoa under the short name the labels and trace details
// of this package use.
func itoa(i int) string { return strconv.Itoa(i) }
