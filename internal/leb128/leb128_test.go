package leb128

import (
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, math.MaxUint64} {
		b := AppendUint(nil, v)
		got, n, err := Uint(b, 64)
		if err != nil || got != v || n != len(b) {
			t.Errorf("%d: %x decodes to %d, %d bytes, %v", v, b, got, n, err)
		}
	}
	for _, tc := range []struct {
		v    int64
		want []byte
	}{{0, []byte{0}}, {-1, []byte{0x7f}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0x00}}, {-64, []byte{0x40}}, {-65, []byte{0xbf, 0x7f}}} {
		if got := AppendInt(nil, tc.v); string(got) != string(tc.want) {
			t.Errorf("AppendInt(%d) = %x, want %x", tc.v, got, tc.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	if _, _, err := Uint([]byte{0x80, 0x80}, 32); !errors.Is(err, ErrShort) {
		t.Errorf("truncated: %v", err)
	}
	if _, _, err := Uint([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32); !errors.Is(err, ErrTooLong) {
		t.Errorf("six bytes for 32 bits: %v", err)
	}
	// The length is what is checked: five bytes hold a 33-bit signed number.
	if _, n, err := Uint([]byte{0xff, 0xff, 0xff, 0xff, 0x7f}, 33); err != nil || n != 5 {
		t.Errorf("sleb33 -1: %d, %v", n, err)
	}
}
