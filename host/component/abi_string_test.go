package component

import (
	"bytes"
	"slices"
	"testing"
	"unicode/utf16"
)

func abiUTF16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = abiLE.AppendUint16(b, u)
	}
	return b
}

// TestABIStringLowering pins store_string_into_range for host (UTF-8)
// strings: the realloc calls in order and the bytes and tagged length
// the guest gets, in every encoding.
func TestABIStringLowering(t *testing.T) {
	type call = abiReallocCall
	const base = 16
	tests := []struct {
		s     string
		enc   StringEncoding
		calls []call // Ret filled in by the bump allocator
		bytes []byte
		units uint32
	}{
		{"", UTF8, []call{{0, 0, 1, 0, base}}, nil, 0},
		{"héllo", UTF8, []call{{0, 0, 1, 6, base}}, []byte("héllo"), 6},
		// UTF-16: allocate two bytes per UTF-8 byte, shrink to fit.
		{"", UTF16, []call{{0, 0, 2, 0, base}}, nil, 0},
		{"ab", UTF16, []call{{0, 0, 2, 4, base}}, abiUTF16LE("ab"), 2},
		{"aé€😀", UTF16, []call{{0, 0, 2, 20, base}, {base, 20, 2, 10, base + 20}}, abiUTF16LE("aé€😀"), 5},
		// latin1+utf16: Latin-1 if every code point fits, shrunk from
		// one byte per UTF-8 byte.
		{"", Latin1UTF16, []call{{0, 0, 2, 0, base}}, nil, 0},
		{"abc", Latin1UTF16, []call{{0, 0, 2, 3, base}}, []byte("abc"), 3},
		{"aé", Latin1UTF16, []call{{0, 0, 2, 3, base}, {base, 3, 2, 2, base + 4}}, []byte{'a', 0xe9}, 2},
		// … else grown to the UTF-16 worst case at the first code point
		// past U+00FF, widened in place, and shrunk to fit.
		{"aé€😀", Latin1UTF16, []call{{0, 0, 2, 10, base}, {base, 10, 2, 20, base + 10}, {base + 10, 20, 2, 10, base + 30}},
			abiUTF16LE("aé€😀"), 5 | UTF16Tag},
		{"€", Latin1UTF16, []call{{0, 0, 2, 3, base}, {base, 3, 2, 6, base + 4}, {base + 4, 6, 2, 2, base + 10}},
			abiUTF16LE("€"), 1 | UTF16Tag},
		{"é😀", Latin1UTF16, []call{{0, 0, 2, 6, base}, {base, 6, 2, 12, base + 6}, {base + 6, 12, 2, 6, base + 18}},
			abiUTF16LE("é😀"), 3 | UTF16Tag},
		// A Latin-1 prefix is widened in place.
		{"aaé€", Latin1UTF16, []call{{0, 0, 2, 7, base}, {base, 7, 2, 14, base + 8}, {base + 8, 14, 2, 8, base + 22}},
			abiUTF16LE("aaé€"), 4 | UTF16Tag},
	}
	for _, tt := range tests {
		m := newABIFakeMem(64, base)
		cx := m.cx(tt.enc)
		flat, err := LowerFlat(cx, nil, tt.s, StringType)
		if err != nil {
			t.Errorf("%q %s: %v", tt.s, tt.enc, err)
			continue
		}
		if !slices.Equal(m.calls, tt.calls) {
			t.Errorf("%q %s: realloc calls %+v, want %+v", tt.s, tt.enc, m.calls, tt.calls)
		}
		ptr, units := uint32(flat[0]), uint32(flat[1])
		if units != tt.units {
			t.Errorf("%q %s: %#x code units, want %#x", tt.s, tt.enc, units, tt.units)
		}
		if got := m.buf[ptr : ptr+uint32(len(tt.bytes))]; !bytes.Equal(got, tt.bytes) {
			t.Errorf("%q %s: bytes %x, want %x", tt.s, tt.enc, got, tt.bytes)
		}
		v, err := LiftFlat(cx, &CoreValueIter{Values: flat}, StringType)
		if err != nil || v != tt.s {
			t.Errorf("%q %s: lifted %q, %v", tt.s, tt.enc, v, err)
		}
	}
}

// TestABIStringLifting: strings as other encoders write them.
func TestABIStringLifting(t *testing.T) {
	tests := []struct {
		enc   StringEncoding
		mem   []byte
		units uint32
		want  string
	}{
		{UTF8, []byte("hé"), 3, "hé"},
		{UTF16, abiUTF16LE("h€😀"), 4, "h€😀"},
		{UTF16, abiUTF16LE("plain"), 5, "plain"},
		{Latin1UTF16, []byte{'h', 0xe9, 0xff, 0}, 3, "héÿ"},
		{Latin1UTF16, []byte("ascii"), 5, "ascii"},
		{Latin1UTF16, abiUTF16LE("é€"), 2 | UTF16Tag, "é€"},
		{Latin1UTF16, nil, UTF16Tag, ""},
		{UTF16, nil, 0, ""},
	}
	for _, tt := range tests {
		m := abiMemWith(64, append(abiLE32(8, tt.units), tt.mem...)...)
		v, err := Load(m.cx(tt.enc), 0, StringType)
		if err != nil || v != tt.want {
			t.Errorf("%s %x: %q, %v; want %q", tt.enc, tt.mem, v, err, tt.want)
		}
	}
}
