package vfs

import (
	"errors"
	"io/fs"
	"testing"
)

func TestErrorCodeNamesAndOrder(t *testing.T) {
	// WIT order of wasi:filesystem error-code (wasi:filesystem/types).
	wit := []string{"access", "already", "bad-descriptor", "busy", "deadlock", "quota", "exist",
		"file-too-large", "illegal-byte-sequence", "in-progress", "interrupted", "invalid", "io",
		"is-directory", "loop", "too-many-links", "message-size", "name-too-long", "no-device",
		"no-entry", "no-lock", "insufficient-memory", "insufficient-space", "not-directory",
		"not-empty", "not-recoverable", "unsupported", "no-tty", "no-such-device", "overflow",
		"not-permitted", "pipe", "read-only", "invalid-seek", "text-file-busy", "cross-device"}
	if len(wit) != numErrorCodes {
		t.Fatalf("%d codes, WIT has %d", numErrorCodes, len(wit))
	}
	for i, name := range wit {
		c := ErrorCode(i)
		if c.String() != name || c.Error() != name {
			t.Errorf("ErrorCode(%d) = %q, want %q", i, c, name)
		}
		p, ok := ParseErrorCode(name)
		if !ok || p != c {
			t.Errorf("ParseErrorCode(%q) = %v, %v", name, p, ok)
		}
	}
	spot := map[ErrorCode]string{ErrAccess: "access", ErrNoEntry: "no-entry", ErrNotPermitted: "not-permitted",
		ErrReadOnly: "read-only", ErrCrossDevice: "cross-device", ErrInsufficientSpace: "insufficient-space", ErrQuota: "quota"}
	for c, n := range spot {
		if c.String() != n {
			t.Errorf("%d: %q want %q", c, c, n)
		}
	}
	if _, ok := ParseErrorCode("other"); ok {
		t.Error("ParseErrorCode(other) succeeded")
	}
	if s := ErrorCode(200).String(); s != "error-code(200)" {
		t.Errorf("out of range: %q", s)
	}
}

func TestErrorCodeIs(t *testing.T) {
	tests := []struct {
		code   ErrorCode
		target error
		want   bool
	}{
		{ErrNoEntry, fs.ErrNotExist, true},
		{ErrExist, fs.ErrExist, true},
		{ErrAccess, fs.ErrPermission, true},
		{ErrNotPermitted, fs.ErrPermission, true},
		{ErrReadOnly, fs.ErrPermission, true},
		{ErrExist, fs.ErrNotExist, false},
		{ErrNoEntry, fs.ErrPermission, false},
		{ErrIO, fs.ErrNotExist, false},
		{ErrNoEntry, ErrNoEntry, true},
		{ErrNoEntry, ErrExist, false},
	}
	for _, tt := range tests {
		var err error = &fs.PathError{Op: "open", Path: "x", Err: tt.code}
		if got := errors.Is(err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v", tt.code, tt.target, got)
		}
	}
	if errors.Is(ErrWouldBlock, ErrBusy) {
		t.Error("ErrWouldBlock is not an error-code")
	}
}

func TestFlagStrings(t *testing.T) {
	if s := (Read | MutateDirectory).String(); s != "read|mutate-directory" {
		t.Error(s)
	}
	if s := (OpenCreate | OpenExclusive).String(); s != "create|exclusive" {
		t.Error(s)
	}
	if s := TypeRegularFile.String(); s != "regular-file" {
		t.Error(s)
	}
	if s := SymlinkFollow.String(); s != "symlink-follow" {
		t.Error(s)
	}
}
