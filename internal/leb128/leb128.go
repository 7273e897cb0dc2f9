// Package leb128 encodes and decodes the LEB128 numbers of the
// WebAssembly binary format, for the packages that read or rewrite core
// modules (internal/fuel, host/component) and the tests that assemble
// them (internal/wasitest).
package leb128

import "errors"

// AppendUint appends the unsigned LEB128 encoding of v to b.
func AppendUint(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendInt appends the signed LEB128 encoding of v to b.
func AppendInt(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Errors of Uint.
var (
	// ErrShort: b ends inside the number.
	ErrShort = errors.New("leb128: unexpected end of input")
	// ErrTooLong: the number takes more bytes than bits allow.
	ErrTooLong = errors.New("leb128: number too long")
)

// Uint decodes the LEB128 number at the start of b, of at most bits bits
// (at most ⌈bits/7⌉ bytes), and returns its low 64 bits unsigned and the
// bytes it took. It checks the length only: a caller that wants the value
// in range checks it (a signed number is skipped the same way).
func Uint(b []byte, bits uint) (v uint64, n int, err error) {
	for shift := uint(0); ; shift += 7 {
		if n >= len(b) {
			return 0, n, ErrShort
		}
		c := b[n]
		n++
		if shift >= bits {
			return 0, n, ErrTooLong
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n, nil
		}
	}
}
