package component

import (
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file lifts values from linear memory: the canonical ABI's load
// and what it shares with flat lifting (strings and lists live in memory
// either way).

var abiLE = binary.LittleEndian

// Load is the canonical ABI's load: it lifts the value of type t stored
// at ptr. A guest mistake — ptr misaligned or out of bounds, an invalid
// char, string or discriminant, a string or list over the limits or out
// of bounds — is a *Trap. Nothing is allocated for a guest-supplied
// length before the bytes it covers are known to be in memory.
func Load(cx *LiftLowerContext, ptr uint32, t *Type) (Value, error) {
	size, align := abiLayout(t)
	b, err := cx.abiRegion(ptr, align, size)
	if err != nil {
		return nil, err
	}
	return cx.abiLoadFrom(b, t)
}

// abiRegion is the view of size bytes at ptr, after the alignment and
// bounds checks every access through a guest pointer needs.
func (cx *LiftLowerContext) abiRegion(ptr, align uint32, size uint64) ([]byte, error) {
	if cx.Memory == nil {
		return nil, abiErrNoMemory
	}
	if ptr&(align-1) != 0 {
		return nil, abiTrapf("pointer %#x is not aligned to %d", ptr, align)
	}
	if size <= math.MaxUint32 {
		if b, ok := cx.Memory.Read(ptr, uint32(size)); ok {
			return b, nil
		}
	}
	return nil, abiTrapf("%d bytes at %#x are out of bounds of memory", size, ptr)
}

var abiErrNoMemory = &Trap{Reason: "canonical options have no memory"}

// abiLoadFrom lifts a value of type t from b, a view that holds all
// abiSize(t) bytes of it.
func (cx *LiftLowerContext) abiLoadFrom(b []byte, t *Type) (Value, error) {
	switch t.Kind {
	case Bool:
		return b[0] != 0, nil
	case S8:
		return int8(b[0]), nil
	case U8:
		return b[0], nil
	case S16:
		return int16(abiLE.Uint16(b)), nil
	case U16:
		return abiLE.Uint16(b), nil
	case S32:
		return int32(abiLE.Uint32(b)), nil
	case U32:
		return abiLE.Uint32(b), nil
	case S64:
		return int64(abiLE.Uint64(b)), nil
	case U64:
		return abiLE.Uint64(b), nil
	case F32:
		return abiF32(abiLE.Uint32(b)), nil
	case F64:
		return abiF64(abiLE.Uint64(b)), nil
	case Char:
		return abiChar(abiLE.Uint32(b))
	case String:
		return cx.abiLoadString(abiLE.Uint32(b), abiLE.Uint32(b[4:]))
	case ErrorContext, Own, Borrow, Stream, Future:
		return cx.abiLiftHandle(t, abiLE.Uint32(b))
	case List:
		if t.Len > 0 {
			return cx.abiLoadElems(b, t.Elem, t.Len, abiSize(t.Elem))
		}
		return cx.abiLoadList(abiLE.Uint32(b), abiLE.Uint32(b[4:]), t.Elem)
	case Map:
		return cx.abiLoadList(abiLE.Uint32(b), abiLE.Uint32(b[4:]), abiPair(t))
	case Record, Tuple:
		vs := make([]Value, len(t.Fields))
		var off uint64
		for i, f := range t.Fields {
			fs, fa := abiLayout(f.Type)
			off = abiAlignTo(off, fa)
			v, err := cx.abiLoadFrom(b[off:], f.Type)
			if err != nil {
				return nil, err
			}
			vs[i] = v
			off += fs
		}
		return vs, nil
	case Variant, Enum, Option, Result:
		n := abiCaseCount(t)
		ds := abiDiscSize(n)
		var c uint32
		switch ds {
		case 1:
			c = uint32(b[0])
		case 2:
			c = uint32(abiLE.Uint16(b))
		default:
			c = abiLE.Uint32(b)
		}
		if uint64(c) >= uint64(n) {
			return nil, abiTrapf("discriminant %d of %s is past its %d cases", c, t.Kind, n)
		}
		if t.Kind == Enum {
			return c, nil
		}
		pt := abiCaseType(t, int(c))
		if pt == nil {
			return VariantValue{Case: c}, nil
		}
		v, err := cx.abiLoadFrom(b[abiPayloadOffset(t):], pt)
		if err != nil {
			return nil, err
		}
		return VariantValue{Case: c, Value: v}, nil
	case Flags:
		var v uint32
		switch abiFlagsSize(len(t.Labels)) {
		case 1:
			v = uint32(b[0])
		case 2:
			v = uint32(abiLE.Uint16(b))
		default:
			v = abiLE.Uint32(b)
		}
		return v & abiFlagsMask(len(t.Labels)), nil
	}
	return nil, abiTrapf("cannot lift a value of type %s", t)
}

// abiF32 and abiF64 make core float bits a float value, canonicalizing
// NaNs: the canonical ABI lets no NaN payload cross.
func abiF32(bits uint32) float32 {
	f := math.Float32frombits(bits)
	if f != f {
		return math.Float32frombits(0x7fc00000)
	}
	return f
}

func abiF64(bits uint64) float64 {
	f := math.Float64frombits(bits)
	if f != f {
		return math.Float64frombits(0x7ff8000000000000)
	}
	return f
}

// abiChar is convert_i32_to_char: a char is a Unicode scalar value.
func abiChar(i uint32) (Value, error) {
	if i >= 0x110000 || (i >= 0xd800 && i <= 0xdfff) {
		return nil, abiTrapf("char %#x is not a Unicode scalar value", i)
	}
	return rune(i), nil
}

func (cx *LiftLowerContext) abiLiftHandle(t *Type, h uint32) (Value, error) {
	if cx.LiftHandle == nil {
		return h, nil
	}
	h, err := cx.LiftHandle(t, h)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// abiLoadList is load_list_from_range: a list of n elements at ptr.
func (cx *LiftLowerContext) abiLoadList(ptr, n uint32, elem *Type) (Value, error) {
	es := abiSize(elem)
	if n > 0 {
		if es == 0 {
			return nil, abiTrapf("list element type %s has no size", elem)
		}
		if es > MaxListByteLength/uint64(n) {
			return nil, abiTrapf("list of %d elements of %d bytes is over the maximum of %d bytes", n, es, MaxListByteLength)
		}
	}
	b, err := cx.abiRegion(ptr, abiAlign(elem), uint64(n)*es)
	if err != nil {
		return nil, err
	}
	return cx.abiLoadElems(b, elem, n, es)
}

// abiLoadElems lifts n elements of size es from b, which holds them all.
func (cx *LiftLowerContext) abiLoadElems(b []byte, elem *Type, n uint32, es uint64) (Value, error) {
	if elem.Kind == U8 {
		return append([]byte(nil), b[:n]...), nil
	}
	vs := make([]Value, n)
	for i := range vs {
		v, err := cx.abiLoadFrom(b[uint64(i)*es:], elem)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// abiLoadString is load_string_from_range: tagged counts code units of
// the context's encoding (for latin1+utf16, UTF16Tag says UTF-16).
func (cx *LiftLowerContext) abiLoadString(ptr, tagged uint32) (Value, error) {
	var align uint32 = 1
	var size uint64
	wide := false
	switch cx.Encoding {
	case UTF8:
		size = uint64(tagged)
	case UTF16:
		align, size, wide = 2, 2*uint64(tagged), true
	case Latin1UTF16:
		align = 2
		if tagged&UTF16Tag != 0 {
			size, wide = 2*uint64(tagged^UTF16Tag), true
		} else {
			size = uint64(tagged)
		}
	default:
		return nil, abiTrapf("unknown string encoding %d", cx.Encoding)
	}
	if size > MaxStringByteLength {
		return nil, abiTrapf("string of %d bytes is over the maximum of %d bytes", size, MaxStringByteLength)
	}
	b, err := cx.abiRegion(ptr, align, size)
	if err != nil {
		return nil, err
	}
	switch {
	case wide:
		if s, ok := abiDecodeUTF16(b); ok {
			return s, nil
		}
		return nil, abiTrapf("string at %#x is not valid UTF-16", ptr)
	case cx.Encoding == Latin1UTF16:
		return abiDecodeLatin1(b), nil
	case utf8.Valid(b):
		return string(b), nil
	}
	return nil, abiTrapf("string at %#x is not valid UTF-8", ptr)
}

// abiDecodeUTF16 decodes little-endian UTF-16, rejecting unpaired
// surrogates. It sizes the result first so it allocates once.
func abiDecodeUTF16(b []byte) (string, bool) {
	n := 0
	ascii := true
	for i := 0; i+1 < len(b); i += 2 {
		u := abiLE.Uint16(b[i:])
		switch {
		case u < 0x80:
			n++
		case u < 0x800:
			n += 2
			ascii = false
		case u < 0xd800 || u > 0xdfff:
			n += 3
			ascii = false
		case u <= 0xdbff && i+3 < len(b) && abiIsLowSurrogate(abiLE.Uint16(b[i+2:])):
			n += 4
			i += 2
			ascii = false
		default:
			return "", false
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	if ascii {
		for i := 0; i+1 < len(b); i += 2 {
			sb.WriteByte(b[i])
		}
		return sb.String(), true
	}
	for i := 0; i+1 < len(b); i += 2 {
		r := rune(abiLE.Uint16(b[i:]))
		if utf16.IsSurrogate(r) {
			r = utf16.DecodeRune(r, rune(abiLE.Uint16(b[i+2:])))
			i += 2
		}
		sb.WriteRune(r)
	}
	return sb.String(), true
}

func abiIsLowSurrogate(u uint16) bool { return u >= 0xdc00 && u <= 0xdfff }

// abiDecodeLatin1 decodes Latin-1, where every byte is the code point
// of the same value.
func abiDecodeLatin1(b []byte) string {
	n := len(b)
	for _, c := range b {
		if c >= 0x80 {
			n++
		}
	}
	if n == len(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}
