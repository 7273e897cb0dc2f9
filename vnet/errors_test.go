package vnet

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestErrorCodeNamesAndErrnos(t *testing.T) {
	cases := []struct {
		code  ErrorCode
		name  string
		errno syscall.Errno
	}{
		{ErrAccessDenied, "access-denied", syscall.EACCES},
		{ErrNotSupported, "not-supported", syscall.EOPNOTSUPP},
		{ErrInvalidArgument, "invalid-argument", syscall.EINVAL},
		{ErrOutOfMemory, "out-of-memory", syscall.ENOMEM},
		{ErrTimeout, "timeout", syscall.ETIMEDOUT},
		{ErrInvalidState, "invalid-state", syscall.EISCONN},
		{ErrAddressNotBindable, "address-not-bindable", syscall.EADDRNOTAVAIL},
		{ErrAddressInUse, "address-in-use", syscall.EADDRINUSE},
		{ErrRemoteUnreachable, "remote-unreachable", syscall.EHOSTUNREACH},
		{ErrConnectionRefused, "connection-refused", syscall.ECONNREFUSED},
		{ErrConnectionBroken, "connection-broken", syscall.EPIPE},
		{ErrConnectionReset, "connection-reset", syscall.ECONNRESET},
		{ErrConnectionAborted, "connection-aborted", syscall.ECONNABORTED},
		{ErrDatagramTooLarge, "datagram-too-large", syscall.EMSGSIZE},
		{ErrOther, "other", 0},
	}
	for i, c := range cases {
		if int(c.code) != i {
			t.Errorf("%s has value %d, want WIT index %d", c.name, c.code, i)
		}
		if c.code.String() != c.name || c.code.Error() != c.name {
			t.Errorf("String() = %q, want %q", c.code.String(), c.name)
		}
		got, err := ParseErrorCode(c.name)
		if err != nil || got != c.code {
			t.Errorf("ParseErrorCode(%q) = %v, %v", c.name, got, err)
		}
		wrapped := fmt.Errorf("op: %w", c.code)
		if c.errno != 0 && !errors.Is(wrapped, c.errno) {
			t.Errorf("errors.Is(%v, %v) is false", c.code, c.errno)
		}
		if code, ok := Code(wrapped); !ok || code != c.code {
			t.Errorf("Code(%v) = %v, %v", wrapped, code, ok)
		}
	}
	if errors.Is(ErrConnectionReset, syscall.ECONNREFUSED) {
		t.Error("connection-reset matches ECONNREFUSED")
	}
	if !errors.Is(ErrTimeout, os.ErrDeadlineExceeded) || errors.Is(ErrConnectionReset, os.ErrDeadlineExceeded) {
		t.Error("timeout/os.ErrDeadlineExceeded mapping wrong")
	}
	if _, err := ParseErrorCode("no-such-code"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ParseErrorCode of unknown name: %v", err)
	}
	if ErrorCode(200).String() != "error-code(200)" || ErrorCode(200).Valid() || errors.Is(ErrorCode(200), syscall.EINVAL) {
		t.Error("out-of-range code misbehaves")
	}
	if !errors.Is(ErrWouldBlock, syscall.EAGAIN) {
		t.Error("ErrWouldBlock does not match EAGAIN")
	}
	o := &OtherError{Msg: "boom"}
	if !errors.Is(o, ErrOther) || o.Error() != "other: boom" {
		t.Errorf("OtherError: %v", o)
	}
	if c, ok := Code(o); !ok || c != ErrOther {
		t.Error("Code(OtherError) is not ErrOther")
	}
	if _, ok := Code(errors.New("x")); ok {
		t.Error("Code of a foreign error reports ok")
	}
}
