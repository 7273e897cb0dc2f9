package vfs

import (
	"errors"
	"io/fs"
	"strconv"

	"github.com/wasisim/wasisim/sim"
)

// ErrorCode is the wasi:filesystem error-code enum. The cases are declared
// in WIT order, so ErrorCode(i) is the i-th case of the WIT variant (the
// payload-carrying other(string) case is not represented: vfs never
// produces it). An ErrorCode is an error; errors.Is maps ErrNoEntry to
// fs.ErrNotExist, ErrExist to fs.ErrExist, and ErrAccess, ErrNotPermitted
// and ErrReadOnly to fs.ErrPermission.
type ErrorCode uint8

// The error-code cases, in WIT order.
const (
	ErrAccess              ErrorCode = iota // access
	ErrAlready                              // already
	ErrBadDescriptor                        // bad-descriptor
	ErrBusy                                 // busy
	ErrDeadlock                             // deadlock
	ErrQuota                                // quota
	ErrExist                                // exist
	ErrFileTooLarge                         // file-too-large
	ErrIllegalByteSequence                  // illegal-byte-sequence
	ErrInProgress                           // in-progress
	ErrInterrupted                          // interrupted
	ErrInvalid                              // invalid
	ErrIO                                   // io
	ErrIsDirectory                          // is-directory
	ErrLoop                                 // loop
	ErrTooManyLinks                         // too-many-links
	ErrMessageSize                          // message-size
	ErrNameTooLong                          // name-too-long
	ErrNoDevice                             // no-device
	ErrNoEntry                              // no-entry
	ErrNoLock                               // no-lock
	ErrInsufficientMemory                   // insufficient-memory
	ErrInsufficientSpace                    // insufficient-space
	ErrNotDirectory                         // not-directory
	ErrNotEmpty                             // not-empty
	ErrNotRecoverable                       // not-recoverable
	ErrUnsupported                          // unsupported
	ErrNoTTY                                // no-tty
	ErrNoSuchDevice                         // no-such-device
	ErrOverflow                             // overflow
	ErrNotPermitted                         // not-permitted
	ErrPipe                                 // pipe
	ErrReadOnly                             // read-only
	ErrInvalidSeek                          // invalid-seek
	ErrTextFileBusy                         // text-file-busy
	ErrCrossDevice                          // cross-device

	numErrorCodes int = iota
)

var errorNames = [numErrorCodes]string{
	ErrAccess:              "access",
	ErrAlready:             "already",
	ErrBadDescriptor:       "bad-descriptor",
	ErrBusy:                "busy",
	ErrDeadlock:            "deadlock",
	ErrQuota:               "quota",
	ErrExist:               "exist",
	ErrFileTooLarge:        "file-too-large",
	ErrIllegalByteSequence: "illegal-byte-sequence",
	ErrInProgress:          "in-progress",
	ErrInterrupted:         "interrupted",
	ErrInvalid:             "invalid",
	ErrIO:                  "io",
	ErrIsDirectory:         "is-directory",
	ErrLoop:                "loop",
	ErrTooManyLinks:        "too-many-links",
	ErrMessageSize:         "message-size",
	ErrNameTooLong:         "name-too-long",
	ErrNoDevice:            "no-device",
	ErrNoEntry:             "no-entry",
	ErrNoLock:              "no-lock",
	ErrInsufficientMemory:  "insufficient-memory",
	ErrInsufficientSpace:   "insufficient-space",
	ErrNotDirectory:        "not-directory",
	ErrNotEmpty:            "not-empty",
	ErrNotRecoverable:      "not-recoverable",
	ErrUnsupported:         "unsupported",
	ErrNoTTY:               "no-tty",
	ErrNoSuchDevice:        "no-such-device",
	ErrOverflow:            "overflow",
	ErrNotPermitted:        "not-permitted",
	ErrPipe:                "pipe",
	ErrReadOnly:            "read-only",
	ErrInvalidSeek:         "invalid-seek",
	ErrTextFileBusy:        "text-file-busy",
	ErrCrossDevice:         "cross-device",
}

// String is the WIT name of the case, e.g. "no-entry".
func (e ErrorCode) String() string {
	if int(e) < numErrorCodes {
		return errorNames[e]
	}
	return "error-code(" + itoa(uint64(e)) + ")"
}

// Error implements error; the message is the WIT name.
func (e ErrorCode) Error() string { return e.String() }

// Is makes errors.Is(code, fs.ErrNotExist) and friends work, so code
// written against io/fs can test vfs errors: ErrNoEntry is fs.ErrNotExist,
// ErrExist fs.ErrExist, ErrAccess, ErrNotPermitted and ErrReadOnly are
// fs.ErrPermission, and ErrInvalid is fs.ErrInvalid.
func (e ErrorCode) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e == ErrNoEntry
	case fs.ErrExist:
		return e == ErrExist
	case fs.ErrPermission:
		return e == ErrAccess || e == ErrNotPermitted || e == ErrReadOnly
	case fs.ErrInvalid:
		return e == ErrInvalid
	}
	return false
}

// ParseErrorCode returns the case whose WIT name is s.
func ParseErrorCode(s string) (ErrorCode, bool) {
	for i, n := range errorNames {
		if n == s {
			return ErrorCode(i), true
		}
	}
	return 0, false
}

// ErrWouldBlock is returned by TryLock when the lock is held in a
// conflicting mode, and by Lock when it would have to wait but cannot
// (no World, or not called from a world task). It is not an error-code
// case: WASI 0.3 has no lock API. It is sim.ErrWouldBlock, the value
// vnet.ErrWouldBlock is too.
var ErrWouldBlock = sim.ErrWouldBlock

// ErrRefCount is returned (and the call has no effect) by DecRef on an
// OFD whose references are all gone, and by IncRef on a released OFD.
var ErrRefCount = errors.New("vfs: reference count misuse")

// itoa is strconv.FormatUint in base 10 under the short name the labels
// and trace details of this package use.
func itoa(u uint64) string { return strconv.FormatUint(u, 10) }
