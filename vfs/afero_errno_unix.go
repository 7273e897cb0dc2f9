//go:build unix

package vfs

import "syscall"

// errnos maps each ErrorCode to the POSIX errno it stands for.
var errnos = [numErrorCodes]syscall.Errno{
	ErrAccess: syscall.EACCES, ErrAlready: syscall.EALREADY, ErrBadDescriptor: syscall.EBADF,
	ErrBusy: syscall.EBUSY, ErrDeadlock: syscall.EDEADLK, ErrQuota: syscall.EDQUOT,
	ErrExist: syscall.EEXIST, ErrFileTooLarge: syscall.EFBIG, ErrIllegalByteSequence: syscall.EILSEQ,
	ErrInProgress: syscall.EINPROGRESS, ErrInterrupted: syscall.EINTR, ErrInvalid: syscall.EINVAL,
	ErrIO: syscall.EIO, ErrIsDirectory: syscall.EISDIR, ErrLoop: syscall.ELOOP,
	ErrTooManyLinks: syscall.EMLINK, ErrMessageSize: syscall.EMSGSIZE, ErrNameTooLong: syscall.ENAMETOOLONG,
	ErrNoDevice: syscall.ENODEV, ErrNoEntry: syscall.ENOENT, ErrNoLock: syscall.ENOLCK,
	ErrInsufficientMemory: syscall.ENOMEM, ErrInsufficientSpace: syscall.ENOSPC, ErrNotDirectory: syscall.ENOTDIR,
	ErrNotEmpty: syscall.ENOTEMPTY, ErrNotRecoverable: syscall.ENOTRECOVERABLE, ErrUnsupported: syscall.ENOTSUP,
	ErrNoTTY: syscall.ENOTTY, ErrNoSuchDevice: syscall.ENXIO, ErrOverflow: syscall.EOVERFLOW,
	ErrNotPermitted: syscall.EPERM, ErrPipe: syscall.EPIPE, ErrReadOnly: syscall.EROFS,
	ErrInvalidSeek: syscall.ESPIPE, ErrTextFileBusy: syscall.ETXTBSY, ErrCrossDevice: syscall.EXDEV,
}

// osError converts a vfs error for the afero adapter: an ErrorCode becomes
// its syscall.Errno, because os.IsNotExist and os.IsExist (which afero and
// its users call) only recognise errnos, not errors.Is.
func osError(err error) error {
	if c, ok := err.(ErrorCode); ok && int(c) < numErrorCodes {
		return errnos[c]
	}
	return err
}
