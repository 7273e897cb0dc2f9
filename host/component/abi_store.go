package component

import (
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// This file lowers values into linear memory: the canonical ABI's store
// and what it shares with flat lowering (strings and lists are allocated
// with realloc either way).

// Store is the canonical ABI's store: it lowers v, a value of type t,
// into memory at ptr, allocating strings and lists with the context's
// realloc. ptr misaligned or out of bounds, a realloc result misaligned
// or out of bounds, or v not a value of t is a *Trap.
func Store(cx *LiftLowerContext, v Value, t *Type, ptr uint32) error {
	size, align := abiLayout(t)
	b, err := cx.abiRegion(ptr, align, size)
	if err != nil {
		return err
	}
	if abiPure(t) {
		return cx.abiEncode(v, t, b)
	}
	return cx.abiStore(v, t, ptr)
}

// abiStore stores v at ptr, which the caller checked holds abiSize(t)
// bytes. A type that allocates nothing is encoded through one view; one
// that allocates is stored piecewise, with a fresh view for every piece,
// since realloc may move memory.
func (cx *LiftLowerContext) abiStore(v Value, t *Type, ptr uint32) error {
	if abiPure(t) {
		b, err := cx.abiRegion(ptr, 1, abiSize(t))
		if err != nil {
			return err
		}
		return cx.abiEncode(v, t, b)
	}
	switch t.Kind {
	case String:
		s, ok := v.(string)
		if !ok {
			return abiWrongValue(v, t)
		}
		p, n, err := cx.abiStoreString(s)
		if err != nil {
			return err
		}
		return cx.abiStorePair(ptr, p, n)
	case List, Map:
		if t.Len > 0 {
			vs, ok := v.([]Value)
			if !ok || len(vs) != int(t.Len) {
				return abiWrongValue(v, t)
			}
			es := abiSize(t.Elem)
			for i, e := range vs {
				if err := cx.abiStore(e, t.Elem, ptr+uint32(uint64(i)*es)); err != nil {
					return err
				}
			}
			return nil
		}
		elem := t.Elem
		if t.Kind == Map {
			elem = abiPair(t)
		}
		p, n, err := cx.abiStoreList(v, elem)
		if err != nil {
			return err
		}
		return cx.abiStorePair(ptr, p, n)
	case Record, Tuple:
		vs, ok := v.([]Value)
		if !ok || len(vs) != len(t.Fields) {
			return abiWrongValue(v, t)
		}
		var off uint64
		for i, f := range t.Fields {
			fs, fa := abiLayout(f.Type)
			off = abiAlignTo(off, fa)
			if err := cx.abiStore(vs[i], f.Type, ptr+uint32(off)); err != nil {
				return err
			}
			off += fs
		}
		return nil
	case Variant, Option, Result:
		c, pt, pv, err := abiMatchCase(v, t)
		if err != nil {
			return err
		}
		ds := abiDiscSize(abiCaseCount(t))
		b, err := cx.abiRegion(ptr, 1, uint64(ds))
		if err != nil {
			return err
		}
		abiPutDisc(b, ds, c)
		if pt == nil {
			return nil
		}
		return cx.abiStore(pv, pt, ptr+uint32(abiPayloadOffset(t)))
	}
	return abiTrapf("cannot lower a value of type %s", t)
}

// abiStorePair writes a pointer and a length at ptr.
func (cx *LiftLowerContext) abiStorePair(ptr, p, n uint32) error {
	b, err := cx.abiRegion(ptr, 1, 8)
	if err != nil {
		return err
	}
	abiLE.PutUint32(b, p)
	abiLE.PutUint32(b[4:], n)
	return nil
}

func abiPutDisc(b []byte, ds, c uint32) {
	switch ds {
	case 1:
		b[0] = byte(c)
	case 2:
		abiLE.PutUint16(b, uint16(c))
	default:
		abiLE.PutUint32(b, c)
	}
}

// abiMatchCase checks that v is a value of the variant-like type t and
// returns its case, the case's payload type and the payload.
func abiMatchCase(v Value, t *Type) (c uint32, pt *Type, pv Value, err error) {
	vv, ok := v.(VariantValue)
	if !ok || uint64(vv.Case) >= uint64(abiCaseCount(t)) {
		return 0, nil, nil, abiWrongValue(v, t)
	}
	pt = abiCaseType(t, int(vv.Case))
	if pt == nil && vv.Value != nil {
		return 0, nil, nil, abiTrapf("host value %#v of %s has a payload for case %d, which has none", v, t, vv.Case)
	}
	return vv.Case, pt, vv.Value, nil
}

// abiWrongValue is the trap for host code passing a Go value that is not
// a value of t (see Value).
func abiWrongValue(v Value, t *Type) error {
	return abiTrapf("host value %T(%v) is not a value of %s", v, v, t)
}

// abiEncode stores v, a value of type t, into b, a view that holds all
// abiSize(t) bytes of it. t allocates nothing (abiPure).
func (cx *LiftLowerContext) abiEncode(v Value, t *Type, b []byte) error {
	switch t.Kind {
	case Bool:
		x, ok := v.(bool)
		if !ok {
			return abiWrongValue(v, t)
		}
		b[0] = 0
		if x {
			b[0] = 1
		}
		return nil
	case S8:
		x, ok := v.(int8)
		if !ok {
			return abiWrongValue(v, t)
		}
		b[0] = byte(x)
		return nil
	case U8:
		x, ok := v.(uint8)
		if !ok {
			return abiWrongValue(v, t)
		}
		b[0] = x
		return nil
	case S16:
		x, ok := v.(int16)
		if !ok {
			return abiWrongValue(v, t)
		}
		abiLE.PutUint16(b, uint16(x))
		return nil
	case U16:
		x, ok := v.(uint16)
		if !ok {
			return abiWrongValue(v, t)
		}
		abiLE.PutUint16(b, x)
		return nil
	case S64, U64, F64:
		x, err := abiScalar64(v, t)
		if err != nil {
			return err
		}
		abiLE.PutUint64(b, x)
		return nil
	case S32, U32, F32, Char, Enum, Flags, ErrorContext, Own, Borrow, Stream, Future:
		x, err := cx.abiScalar32(v, t)
		if err != nil {
			return err
		}
		switch abiSize(t) {
		case 1:
			b[0] = byte(x)
		case 2:
			abiLE.PutUint16(b, uint16(x))
		default:
			abiLE.PutUint32(b, x)
		}
		return nil
	case List:
		if t.Elem.Kind == U8 {
			if x, ok := v.([]byte); ok && len(x) == int(t.Len) {
				copy(b, x)
				return nil
			}
		}
		vs, ok := v.([]Value)
		if !ok || len(vs) != int(t.Len) {
			return abiWrongValue(v, t)
		}
		es := abiSize(t.Elem)
		for i, e := range vs {
			if err := cx.abiEncode(e, t.Elem, b[uint64(i)*es:]); err != nil {
				return err
			}
		}
		return nil
	case Record, Tuple:
		vs, ok := v.([]Value)
		if !ok || len(vs) != len(t.Fields) {
			return abiWrongValue(v, t)
		}
		var off uint64
		for i, f := range t.Fields {
			fs, fa := abiLayout(f.Type)
			off = abiAlignTo(off, fa)
			if err := cx.abiEncode(vs[i], f.Type, b[off:]); err != nil {
				return err
			}
			off += fs
		}
		return nil
	case Variant, Option, Result:
		c, pt, pv, err := abiMatchCase(v, t)
		if err != nil {
			return err
		}
		ds := abiDiscSize(abiCaseCount(t))
		abiPutDisc(b, ds, c)
		if pt == nil {
			return nil
		}
		return cx.abiEncode(pv, pt, b[abiPayloadOffset(t):])
	}
	return abiTrapf("cannot lower a value of type %s", t)
}

// abiScalar64 is the core i64 or f64 bits of a 64-bit scalar.
func abiScalar64(v Value, t *Type) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if t.Kind == S64 {
			return uint64(x), nil
		}
	case uint64:
		if t.Kind == U64 {
			return x, nil
		}
	case float64:
		if t.Kind == F64 {
			if x != x {
				return 0x7ff8000000000000, nil
			}
			return math.Float64bits(x), nil
		}
	}
	return 0, abiWrongValue(v, t)
}

// abiScalar32 is the core i32 (or f32 bits) of every type that lowers to
// one i32 without memory: s8…u32, f32, char, enum, flags and handles.
func (cx *LiftLowerContext) abiScalar32(v Value, t *Type) (uint32, error) {
	switch x := v.(type) {
	case bool:
		if t.Kind == Bool {
			if x {
				return 1, nil
			}
			return 0, nil
		}
	case int8:
		if t.Kind == S8 {
			return uint32(int32(x)), nil
		}
	case uint8:
		if t.Kind == U8 {
			return uint32(x), nil
		}
	case int16:
		if t.Kind == S16 {
			return uint32(int32(x)), nil
		}
	case uint16:
		if t.Kind == U16 {
			return uint32(x), nil
		}
	case int32: // also rune
		switch t.Kind {
		case S32:
			return uint32(x), nil
		case Char:
			if x < 0 || x > 0x10ffff || (x >= 0xd800 && x <= 0xdfff) {
				return 0, abiTrapf("host char %#x is not a Unicode scalar value", x)
			}
			return uint32(x), nil
		}
	case float32:
		if t.Kind == F32 {
			if x != x {
				return 0x7fc00000, nil
			}
			return math.Float32bits(x), nil
		}
	case uint32:
		switch t.Kind {
		case U32:
			return x, nil
		case Enum:
			if uint64(x) < uint64(len(t.Labels)) {
				return x, nil
			}
		case Flags:
			return x & abiFlagsMask(len(t.Labels)), nil
		case ErrorContext, Own, Borrow, Stream, Future:
			if cx.LowerHandle == nil {
				return x, nil
			}
			return cx.LowerHandle(t, x)
		}
	}
	return 0, abiWrongValue(v, t)
}

// allocate is the context's allocate: realloc of nothing.
func (cx *LiftLowerContext) abiAllocate(align uint32, size uint64) (uint32, error) {
	return cx.abiRealloc(0, 0, align, size)
}

func (cx *LiftLowerContext) abiRealloc(old, oldSize, align uint32, size uint64) (uint32, error) {
	if cx.Realloc == nil {
		return 0, abiErrNoRealloc
	}
	if size > math.MaxUint32 {
		return 0, abiTrapf("cannot allocate %d bytes in a 32-bit memory", size)
	}
	return cx.Realloc(old, oldSize, align, uint32(size))
}

var abiErrNoRealloc = &Trap{Reason: "canonical options have no realloc"}

// abiStoreList is store_list_into_range: it allocates the elements of
// the list v of elem and stores them, returning the pointer and length.
func (cx *LiftLowerContext) abiStoreList(v Value, elem *Type) (ptr, n uint32, err error) {
	var bytes []byte
	var vs []Value
	var length int
	if x, ok := v.([]byte); ok && elem.Kind == U8 {
		bytes, length = x, len(x)
	} else if x, ok := v.([]Value); ok {
		vs, length = x, len(x)
	} else {
		return 0, 0, abiWrongValue(v, &Type{Kind: List, Elem: elem})
	}
	es := abiSize(elem)
	if length > 0 && es > MaxListByteLength/uint64(length) {
		return 0, 0, abiTrapf("host list of %d elements of %d bytes is over the maximum of %d bytes", length, es, MaxListByteLength)
	}
	size := uint64(length) * es
	align := abiAlign(elem)
	ptr, err = cx.abiAllocate(align, size)
	if err != nil {
		return 0, 0, err
	}
	b, err := cx.abiRealloced(ptr, align, size)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case bytes != nil:
		copy(b, bytes)
	case abiPure(elem):
		for i, e := range vs {
			if err := cx.abiEncode(e, elem, b[uint64(i)*es:]); err != nil {
				return 0, 0, err
			}
		}
	default:
		for i, e := range vs {
			if err := cx.abiStore(e, elem, ptr+uint32(uint64(i)*es)); err != nil {
				return 0, 0, err
			}
		}
	}
	return ptr, uint32(length), nil
}

// abiRealloced checks a pointer realloc returned and views its bytes.
func (cx *LiftLowerContext) abiRealloced(ptr, align uint32, size uint64) ([]byte, error) {
	if cx.Memory == nil {
		return nil, abiErrNoMemory
	}
	if ptr&(align-1) != 0 {
		return nil, abiTrapf("realloc returned %#x, not aligned to %d", ptr, align)
	}
	if b, ok := cx.Memory.Read(ptr, uint32(size)); ok {
		return b, nil
	}
	return nil, abiTrapf("realloc returned %#x, %d bytes out of bounds of memory", ptr, size)
}

// abiStoreString is store_string_into_range for a host string: valid
// UTF-8 whose code units are its bytes.
func (cx *LiftLowerContext) abiStoreString(s string) (ptr, units uint32, err error) {
	if len(s) > MaxStringByteLength {
		return 0, 0, abiTrapf("host string of %d bytes is over the maximum of %d bytes", len(s), MaxStringByteLength)
	}
	if !utf8.ValidString(s) {
		return 0, 0, abiTrapf("host string %q is not valid UTF-8", abiClip(s))
	}
	n := uint64(len(s))
	switch cx.Encoding {
	case UTF8:
		// store_string_copy
		ptr, err = cx.abiAllocate(1, n)
		if err != nil {
			return 0, 0, err
		}
		b, err := cx.abiRealloced(ptr, 1, n)
		if err != nil {
			return 0, 0, err
		}
		copy(b, s)
		return ptr, uint32(n), nil
	case UTF16:
		return cx.abiStoreUTF8ToUTF16(s)
	case Latin1UTF16:
		return cx.abiStoreToLatin1OrUTF16(s)
	}
	return 0, 0, abiTrapf("unknown string encoding %d", cx.Encoding)
}

// abiStoreUTF8ToUTF16 is store_utf8_to_utf16: allocate the worst case
// (two bytes per UTF-8 byte), then shrink to what was written.
func (cx *LiftLowerContext) abiStoreUTF8ToUTF16(s string) (ptr, units uint32, err error) {
	worst := 2 * uint64(len(s))
	ptr, err = cx.abiAllocate(2, worst)
	if err != nil {
		return 0, 0, err
	}
	b, err := cx.abiRealloced(ptr, 2, worst)
	if err != nil {
		return 0, 0, err
	}
	m := uint64(abiEncodeUTF16(b, s))
	if m < worst {
		ptr, err = cx.abiRealloc(ptr, uint32(worst), 2, m)
		if err != nil {
			return 0, 0, err
		}
		if _, err := cx.abiRealloced(ptr, 2, m); err != nil {
			return 0, 0, err
		}
	}
	return ptr, uint32(m / 2), nil
}

// abiStoreToLatin1OrUTF16 is store_string_to_latin1_or_utf16: guess
// Latin-1 (one byte per UTF-8 byte is enough); at the first code point
// past U+00FF grow to the UTF-16 worst case, widen what was written in
// place and continue in UTF-16; shrink to what was written at the end.
func (cx *LiftLowerContext) abiStoreToLatin1OrUTF16(s string) (ptr, units uint32, err error) {
	n := uint64(len(s))
	ptr, err = cx.abiAllocate(2, n)
	if err != nil {
		return 0, 0, err
	}
	b, err := cx.abiRealloced(ptr, 2, n)
	if err != nil {
		return 0, 0, err
	}
	d := 0
	for i, r := range s {
		if r < 1<<8 {
			b[d] = byte(r)
			d++
			continue
		}
		worst := 2 * n
		ptr, err = cx.abiRealloc(ptr, uint32(n), 2, worst)
		if err != nil {
			return 0, 0, err
		}
		b, err = cx.abiRealloced(ptr, 2, worst)
		if err != nil {
			return 0, 0, err
		}
		for j := d - 1; j >= 0; j-- {
			b[2*j] = b[j]
			b[2*j+1] = 0
		}
		m := uint64(2*d + abiEncodeUTF16(b[2*d:], s[i:]))
		if worst > m {
			ptr, err = cx.abiRealloc(ptr, uint32(worst), 2, m)
			if err != nil {
				return 0, 0, err
			}
			if _, err := cx.abiRealloced(ptr, 2, m); err != nil {
				return 0, 0, err
			}
		}
		return ptr, uint32(m/2) | UTF16Tag, nil
	}
	if uint64(d) < n {
		ptr, err = cx.abiRealloc(ptr, uint32(n), 2, uint64(d))
		if err != nil {
			return 0, 0, err
		}
		if _, err := cx.abiRealloced(ptr, 2, uint64(d)); err != nil {
			return 0, 0, err
		}
	}
	return ptr, uint32(d), nil
}

// abiEncodeUTF16 writes s as little-endian UTF-16 into b, which is long
// enough, and returns the bytes written.
func abiEncodeUTF16(b []byte, s string) int {
	k := 0
	for _, r := range s {
		if r < 0x10000 {
			abiLE.PutUint16(b[k:], uint16(r))
			k += 2
			continue
		}
		hi, lo := utf16.EncodeRune(r)
		abiLE.PutUint16(b[k:], uint16(hi))
		abiLE.PutUint16(b[k+2:], uint16(lo))
		k += 4
	}
	return k
}

// abiClip shortens a string for a message.
func abiClip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
