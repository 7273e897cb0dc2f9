package wasip1_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// TestErrnoTables checks that every vfs and vnet error code maps to a
// specific errno (not the EIO fallback, except vnet's other), that codes
// keep their meaning, and that the special errors map as documented.
func TestErrnoTables(t *testing.T) {
	fsWant := map[vfs.ErrorCode]wasip1.Errno{
		vfs.ErrNoEntry: wasip1.ENOENT, vfs.ErrExist: wasip1.EEXIST, vfs.ErrNotDirectory: wasip1.ENOTDIR,
		vfs.ErrIsDirectory: wasip1.EISDIR, vfs.ErrNotEmpty: wasip1.ENOTEMPTY, vfs.ErrLoop: wasip1.ELOOP,
		vfs.ErrNotPermitted: wasip1.EPERM, vfs.ErrReadOnly: wasip1.EROFS, vfs.ErrBadDescriptor: wasip1.EBADF,
		vfs.ErrInvalid: wasip1.EINVAL, vfs.ErrCrossDevice: wasip1.EXDEV, vfs.ErrNameTooLong: wasip1.ENAMETOOLONG,
		vfs.ErrInsufficientSpace: wasip1.ENOSPC, vfs.ErrFileTooLarge: wasip1.EFBIG, vfs.ErrQuota: wasip1.EDQUOT,
		vfs.ErrInvalidSeek: wasip1.ESPIPE, vfs.ErrTooManyLinks: wasip1.EMLINK,
	}
	seen := map[wasip1.Errno]vfs.ErrorCode{}
	for c := vfs.ErrorCode(0); ; c++ {
		if _, ok := vfs.ParseErrorCode(c.String()); !ok {
			if c < 36 {
				t.Fatalf("vfs code %d has no name", c)
			}
			break
		}
		e := wasip1.ToErrno(c)
		if e == wasip1.ESUCCESS || e == wasip1.EIO && c != vfs.ErrIO {
			t.Errorf("vfs %v maps to %v", c, e)
		}
		if prev, dup := seen[e]; dup {
			t.Errorf("vfs %v and %v both map to %v", prev, c, e)
		}
		seen[e] = c
		if want, ok := fsWant[c]; ok && e != want {
			t.Errorf("vfs %v maps to %v, want %v", c, e, want)
		}
		if w := wasip1.ToErrno(fmt.Errorf("wrapped: %w", c)); w != e {
			t.Errorf("wrapped vfs %v maps to %v", c, w)
		}
	}
	netWant := map[vnet.ErrorCode]wasip1.Errno{
		vnet.ErrAccessDenied: wasip1.EACCES, vnet.ErrNotSupported: wasip1.ENOTSUP, vnet.ErrInvalidArgument: wasip1.EINVAL,
		vnet.ErrOutOfMemory: wasip1.ENOMEM, vnet.ErrTimeout: wasip1.EAGAIN, vnet.ErrInvalidState: wasip1.EINVAL,
		vnet.ErrAddressNotBindable: wasip1.EADDRNOTAVAIL, vnet.ErrAddressInUse: wasip1.EADDRINUSE,
		vnet.ErrRemoteUnreachable: wasip1.EHOSTUNREACH, vnet.ErrConnectionRefused: wasip1.ECONNREFUSED,
		vnet.ErrConnectionBroken: wasip1.EPIPE, vnet.ErrConnectionReset: wasip1.ECONNRESET,
		vnet.ErrConnectionAborted: wasip1.ECONNABORTED, vnet.ErrDatagramTooLarge: wasip1.EMSGSIZE, vnet.ErrOther: wasip1.EIO,
	}
	n := 0
	for c := vnet.ErrorCode(0); c.Valid(); c++ {
		n++
		want, ok := netWant[c]
		if !ok {
			t.Errorf("vnet %v is not in the test table", c)
			continue
		}
		if e := wasip1.ToErrno(c); e != want {
			t.Errorf("vnet %v maps to %v, want %v", c, e, want)
		}
	}
	if n != len(netWant) {
		t.Errorf("%d vnet codes, %d in the table", n, len(netWant))
	}
	for err, want := range map[error]wasip1.Errno{
		nil: wasip1.ESUCCESS, vnet.ErrWouldBlock: wasip1.EAGAIN, io.EOF: wasip1.ESUCCESS,
		&vnet.LookupError{Name: "x"}: wasip1.ENOENT, &vnet.OtherError{Msg: "m"}: wasip1.EIO,
		wasip1.ENOTCAPABLE: wasip1.ENOTCAPABLE, errors.New("other"): wasip1.EIO,
		fmt.Errorf("lock: %w", vfs.ErrWouldBlock): wasip1.EAGAIN, sim.ErrNotInTask: wasip1.ENOTSUP,
	} {
		if got := wasip1.ToErrno(err); got != want {
			t.Errorf("ToErrno(%v) = %v, want %v", err, got, want)
		}
	}
	if wasip1.ENOTCAPABLE != 76 || wasip1.EXDEV != 75 || wasip1.ENOENT != 44 || wasip1.EFAULT != 21 {
		t.Error("errno numbering drifted from witx")
	}
	if wasip1.ENOENT.String() != "ENOENT" || wasip1.Errno(999).String() != "errno(999)" {
		t.Error("errno names")
	}
}
