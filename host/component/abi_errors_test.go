package component

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// abiMemWith is a memory holding b at offset 0 (then zeros up to size).
func abiMemWith(size int, b ...byte) *abiFakeMem {
	m := newABIFakeMem(uint32(size), uint32(size))
	copy(m.buf, b)
	return m
}

func abiLE32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = abiLE.AppendUint32(b, v)
	}
	return b
}

// TestABILiftTraps: what a guest can get wrong when the host lifts.
func TestABILiftTraps(t *testing.T) {
	record := abiRecord(U8Type, StringType)
	tests := []struct {
		name string
		mem  []byte
		enc  StringEncoding
		t    *Type
		ptr  uint32
	}{
		{"misaligned u32", nil, UTF8, U32Type, 2},
		{"misaligned record", nil, UTF8, record, 1},
		{"out of bounds", nil, UTF8, U64Type, 60},
		{"out of bounds at the top", nil, UTF8, U8Type, 64},
		{"pointer past 4 GiB", nil, UTF8, U64Type, math.MaxUint32 - 3},
		{"char surrogate", abiLE32(0xd800), UTF8, CharType, 0},
		{"char low surrogate", abiLE32(0xdfff), UTF8, CharType, 0},
		{"char too large", abiLE32(0x110000), UTF8, CharType, 0},
		{"char huge", abiLE32(0xffffffff), UTF8, CharType, 0},
		{"bad discriminant", []byte{2}, UTF8, abiOption(U8Type), 0},
		{"bad enum", []byte{3}, UTF8, abiEnum(3), 0},
		{"bad u16 discriminant", []byte{0x2c, 0x01}, UTF8, abiVariantN(300), 0},
		{"bad result", []byte{2}, UTF8, abiResult(nil, nil), 0},
		{"string out of bounds", abiLE32(60, 5), UTF8, StringType, 0},
		{"string past 4 GiB", abiLE32(math.MaxUint32, 2), UTF8, StringType, 0},
		{"string too long", abiLE32(0, MaxStringByteLength+1), UTF8, StringType, 0},
		{"utf16 string too long", abiLE32(0, (MaxStringByteLength+1)/2), UTF16, StringType, 0},
		{"utf16 string misaligned", abiLE32(9, 1), UTF16, StringType, 0},
		{"latin1 string misaligned", abiLE32(9, 1), Latin1UTF16, StringType, 0},
		{"tagged utf16 string too long", abiLE32(0, UTF16Tag|(MaxStringByteLength+1)/2), Latin1UTF16, StringType, 0},
		{"invalid utf8", append(abiLE32(8, 2), 0xc3, 0x28), UTF8, StringType, 0},
		{"utf8 surrogate", append(abiLE32(8, 3), 0xed, 0xa0, 0x80), UTF8, StringType, 0},
		{"utf8 overlong", append(abiLE32(8, 2), 0xc0, 0x80), UTF8, StringType, 0},
		{"lone high surrogate", append(abiLE32(8, 2), 0x61, 0, 0x00, 0xd8), UTF16, StringType, 0},
		{"lone low surrogate", append(abiLE32(8, 1), 0x00, 0xdc), UTF16, StringType, 0},
		{"high surrogate then a letter", append(abiLE32(8, 2), 0x00, 0xd8, 0x61, 0x00), UTF16, StringType, 0},
		{"two high surrogates", append(abiLE32(8, 2), 0x00, 0xd8, 0x00, 0xd8), UTF16, StringType, 0},
		{"reversed pair", append(abiLE32(8, 2), 0x00, 0xdc, 0x00, 0xd8), UTF16, StringType, 0},
		{"tagged lone surrogate", append(abiLE32(8, UTF16Tag|1), 0x00, 0xd8), Latin1UTF16, StringType, 0},
		{"list out of bounds", abiLE32(8, 100), UTF8, abiList(U8Type), 0},
		{"list too long", abiLE32(0, MaxListByteLength/8+1), UTF8, abiList(U64Type), 0},
		{"list of u8 too long", abiLE32(0, MaxListByteLength+1), UTF8, abiList(U8Type), 0},
		{"list misaligned", abiLE32(2, 1), UTF8, abiList(U32Type), 0},
		{"list element", append(abiLE32(8, 1), abiLE32(0xd800)...), UTF8, abiList(CharType), 0},
		{"map element", append(abiLE32(8, 1), 0, 0, 0, 0, 3), UTF8, abiMap(U32Type, abiEnum(2)), 0},
		{"nested string", append([]byte{1, 0, 0, 0}, abiLE32(100, 1)...), UTF8, record, 0},
	}
	for _, tt := range tests {
		m := abiMemWith(64, tt.mem...)
		cx := m.cx(tt.enc)
		if v, err := Load(cx, tt.ptr, tt.t); !isTrap(err) {
			t.Errorf("%s: Load = %#v, %v; want a trap", tt.name, v, err)
		}
		if m.bytesRead > 64 {
			t.Errorf("%s: read %d bytes of a 64-byte memory", tt.name, m.bytesRead)
		}
		// The same through flat values where the value fits.
		if tt.ptr == 0 && FlatCount(tt.t) <= 2 && tt.t.Kind != Char && !strings.HasPrefix(tt.name, "bad") {
			vi := &CoreValueIter{Values: []uint64{uint64(abiLE.Uint32(m.buf)), uint64(abiLE.Uint32(m.buf[4:]))}}
			if v, err := LiftFlat(cx, vi, tt.t); !isTrap(err) {
				t.Errorf("%s: LiftFlat = %#v, %v; want a trap", tt.name, v, err)
			}
		}
	}
}

// TestABIFlatLiftTraps: invalid flat values.
func TestABIFlatLiftTraps(t *testing.T) {
	tests := []struct {
		name string
		vals []uint64
		t    *Type
	}{
		{"char", []uint64{0xd800}, CharType},
		{"char too large", []uint64{0x110000}, CharType},
		{"discriminant", []uint64{2, 0}, abiOption(U32Type)},
		{"enum", []uint64{3}, abiEnum(3)},
		{"variant in record", []uint64{1, 5, 0, 0}, abiRecord(U8Type, abiVariantOf(U32Type, F64Type))},
		{"too few values", []uint64{1}, abiTuple(U32Type, U32Type)},
		{"too few for the variant", []uint64{0}, abiOption(U64Type)},
		{"too few for a fixed list", []uint64{1, 2}, abiFixed(U8Type, 1<<30)},
	}
	for _, tt := range tests {
		m := abiMemWith(64)
		if v, err := LiftFlat(m.cx(UTF8), &CoreValueIter{Values: tt.vals}, tt.t); !isTrap(err) {
			t.Errorf("%s: LiftFlat = %#v, %v; want a trap", tt.name, v, err)
		}
	}
}

// TestABISpillTraps: values passed through memory need an aligned,
// in-bounds pointer.
func TestABISpillTraps(t *testing.T) {
	ts := abiRepeat(U64Type, 3)
	m := abiMemWith(64)
	cx := m.cx(UTF8)
	for _, ptr := range []uint64{4, 48, 1 << 31} {
		if _, err := LiftValues(cx, nil, 2, &CoreValueIter{Values: []uint64{ptr}}, ts); !isTrap(err) {
			t.Errorf("LiftValues from %#x: %v, want a trap", ptr, err)
		}
		out := uint32(ptr)
		if _, err := LowerValues(cx, nil, 2, []Value{uint64(1), uint64(2), uint64(3)}, ts, &out); !isTrap(err) {
			t.Errorf("LowerValues to %#x: %v, want a trap", ptr, err)
		}
	}
	if vs, err := LiftValues(cx, nil, 2, &CoreValueIter{Values: []uint64{40}}, ts); err != nil || len(vs) != 3 {
		t.Errorf("LiftValues from 40: %v, %v", vs, err)
	}
	// A realloc that returns a bad pointer for the spilled values.
	for _, misalign := range []bool{true, false} {
		m := newABIFakeMem(64, 16)
		m.misalign, m.outOfBounds = misalign, !misalign
		if _, err := LowerValues(m.cx(UTF8), nil, 2, []Value{uint64(1), uint64(2), uint64(3)}, ts, nil); !isTrap(err) {
			t.Errorf("LowerValues with a bad realloc (misaligned %v): %v, want a trap", misalign, err)
		}
	}
}

// TestABIHostValueTraps: host code passing a value that is not of the
// type traps, through memory and flat.
func TestABIHostValueTraps(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		t    *Type
	}{
		{"int for s32", 5, S32Type},
		{"int32 for u32", int32(5), U32Type},
		{"nil for u8", nil, U8Type},
		{"uint64 for s64", uint64(1), S64Type},
		{"float64 for f32", 1.5, F32Type},
		{"string for char", "a", CharType},
		{"surrogate char", rune(0xd800), CharType},
		{"negative char", rune(-1), CharType},
		{"char too large", rune(0x110000), CharType},
		{"bytes for string", []byte("a"), StringType},
		{"invalid utf8", "a\xffb", StringType},
		{"string for list", "a", abiList(U8Type)},
		{"[]int for list", []int{1}, abiList(S32Type)},
		{"bytes for list<u16>", []byte{1}, abiList(U16Type)},
		{"bad element", []Value{int8(1)}, abiList(U8Type)},
		{"short fixed list", []Value{uint8(1)}, abiFixed(U8Type, 2)},
		{"short fixed bytes", []byte{1}, abiFixed(U8Type, 2)},
		{"long fixed list", []Value{"a", "b"}, abiFixed(StringType, 1)},
		{"short record", []Value{uint8(1)}, abiRecord(U8Type, U8Type)},
		{"long tuple", []Value{uint8(1), uint8(1), uint8(1)}, abiTuple(U8Type, U8Type)},
		{"record field", []Value{uint8(1), 2}, abiRecord(U8Type, StringType)},
		{"pointer variant", &VariantValue{}, abiOption(U8Type)},
		{"case past the end", VariantValue{Case: 2}, abiOption(U8Type)},
		{"payload for none", VariantValue{Case: 0, Value: uint8(1)}, abiOption(U8Type)},
		{"payload for ok of result<_, E>", Ok("x"), abiResult(nil, StringType)},
		{"missing payload", Some(nil), abiOption(StringType)},
		{"wrong payload", Err(uint8(1)), abiResult(nil, StringType)},
		{"enum index", uint32(3), abiEnum(3)},
		{"int for enum", 1, abiEnum(3)},
		{"int for flags", 1, abiFlags(3)},
		{"int for handle", 1, abiHandle(Own, nil)},
		{"map pair", []Value{[]Value{"k"}}, abiMap(StringType, U8Type)},
		{"nil values", nil, abiRecord(StringType)},
	}
	for _, tt := range tests {
		m := newABIFakeMem(64, 16)
		cx := m.cx(UTF8)
		ptr, _ := m.realloc(0, 0, Align(tt.t), Size(tt.t))
		if err := Store(cx, tt.v, tt.t, ptr); !isTrap(err) {
			t.Errorf("%s: Store: %v, want a trap", tt.name, err)
		}
		if _, err := LowerFlat(cx, nil, tt.v, tt.t); !isTrap(err) {
			t.Errorf("%s: LowerFlat: %v, want a trap", tt.name, err)
		}
		if _, err := LowerValues(cx, nil, 0, []Value{tt.v}, []*Type{tt.t}, nil); !isTrap(err) {
			t.Errorf("%s: LowerValues (spilled): %v, want a trap", tt.name, err)
		}
	}
	if _, err := LowerValues(newABIFakeMem(64, 16).cx(UTF8), nil, 16, []Value{uint8(1)}, nil, nil); !isTrap(err) {
		t.Errorf("LowerValues with more values than types: %v, want a trap", err)
	}
}

// TestABIHostLimits: host strings and lists longer than a guest could
// pass are refused before anything is allocated.
func TestABIHostLimits(t *testing.T) {
	big := strings.Repeat("a", MaxStringByteLength+1)
	m := newABIFakeMem(64, 16)
	if _, err := LowerFlat(m.cx(UTF8), nil, big, StringType); !isTrap(err) {
		t.Errorf("string over the maximum: %v, want a trap", err)
	}
	elem := abiFixed(U64Type, 1000)
	if _, err := LowerFlat(m.cx(UTF8), nil, make([]Value, MaxListByteLength/Size(elem)+1), abiList(elem)); !isTrap(err) {
		t.Errorf("list over the maximum: %v, want a trap", err)
	}
	if len(m.calls) != 0 {
		t.Errorf("realloc called %d times", len(m.calls))
	}
}

// TestABIMissingOptions: without memory or realloc, what needs them
// traps and what does not works.
func TestABIMissingOptions(t *testing.T) {
	cx := &LiftLowerContext{}
	if _, err := LiftFlat(cx, &CoreValueIter{Values: []uint64{0, 0}}, StringType); !isTrap(err) {
		t.Errorf("lifting a string without memory: %v", err)
	}
	if _, err := Load(cx, 0, U8Type); !isTrap(err) {
		t.Errorf("Load without memory: %v", err)
	}
	if _, err := LowerFlat(cx, nil, "", StringType); !isTrap(err) {
		t.Errorf("lowering a string without realloc: %v", err)
	}
	if _, err := LowerFlat(cx, nil, []byte{}, abiList(U8Type)); !isTrap(err) {
		t.Errorf("lowering a list without realloc: %v", err)
	}
	if _, err := LowerValues(cx, nil, 1, []Value{uint8(1), uint8(2)}, abiRepeat(U8Type, 2), nil); !isTrap(err) {
		t.Errorf("spilling without realloc: %v", err)
	}
	out := uint32(0)
	if _, err := LowerValues(cx, nil, 1, []Value{uint8(1), uint8(2)}, abiRepeat(U8Type, 2), &out); !isTrap(err) {
		t.Errorf("spilling without memory: %v", err)
	}
	m := newABIFakeMem(64, 16)
	cx.Realloc = m.realloc
	if _, err := LowerFlat(cx, nil, "abc", StringType); !isTrap(err) {
		t.Errorf("lowering a string with realloc but without memory: %v", err)
	}
	flat, err := LowerFlat(cx, nil, []Value{uint32(7), Some(float32(1.5))}, abiTuple(U32Type, abiOption(F32Type)))
	if err != nil {
		t.Fatalf("lowering scalars without memory: %v", err)
	}
	v, err := LiftFlat(&LiftLowerContext{}, &CoreValueIter{Values: flat}, abiTuple(U32Type, abiOption(F32Type)))
	if err != nil || abiEqual(abiTuple(U32Type, abiOption(F32Type)), []Value{uint32(7), Some(float32(1.5))}, v) != nil {
		t.Errorf("lifting scalars without memory: %#v, %v", v, err)
	}
}

// TestABIErrorsPassThrough: errors of realloc and of the handle hooks
// (a guest trap inside realloc, a dead handle) come back unchanged.
func TestABIErrorsPassThrough(t *testing.T) {
	boom := errors.New("boom")
	m := newABIFakeMem(64, 16)
	cx := m.cx(UTF16)
	cx.Realloc = func(uint32, uint32, uint32, uint32) (uint32, error) { return 0, boom }
	if _, err := LowerFlat(cx, nil, "x", StringType); err != boom {
		t.Errorf("realloc error: %v", err)
	}
	cx = m.cx(UTF8)
	dead := &Trap{Reason: "dead handle"}
	cx.LiftHandle = func(*Type, uint32) (uint32, error) { return 0, dead }
	cx.LowerHandle = cx.LiftHandle
	own := abiHandle(Own, nil)
	if _, err := LiftFlat(cx, &CoreValueIter{Values: []uint64{1}}, own); err != dead {
		t.Errorf("LiftHandle error: %v", err)
	}
	if _, err := Load(cx, 0, abiList(own)); err != nil {
		t.Errorf("empty list of handles: %v", err)
	}
	if _, err := LowerFlat(cx, nil, uint32(1), own); err != dead {
		t.Errorf("LowerHandle error: %v", err)
	}
	if err := Store(cx, []Value{uint32(1)}, abiFixed(own, 1), 0); err != dead {
		t.Errorf("LowerHandle error through Store: %v", err)
	}
}

// TestABIScalars pins the conversions of scalar values: wrapping of
// flat integers, bool, flags bits, NaN canonicalization.
func TestABIScalars(t *testing.T) {
	cx := &LiftLowerContext{}
	lift := func(ty *Type, vals ...uint64) Value {
		t.Helper()
		v, err := LiftFlat(cx, &CoreValueIter{Values: vals}, ty)
		if err != nil {
			t.Fatalf("LiftFlat %s %#x: %v", ty, vals, err)
		}
		return v
	}
	lower := func(ty *Type, v Value) []uint64 {
		t.Helper()
		flat, err := LowerFlat(cx, nil, v, ty)
		if err != nil {
			t.Fatalf("LowerFlat %s %#v: %v", ty, v, err)
		}
		return flat
	}
	checks := []struct {
		got, want Value
	}{
		{lift(S8Type, 0xffffff80), int8(-128)},
		{lift(S8Type, 0x17f), int8(127)},
		{lift(U8Type, 0x1ff), uint8(0xff)},
		{lift(S16Type, 0x8000), int16(-0x8000)},
		{lift(U16Type, 0x12345), uint16(0x2345)},
		{lift(S32Type, 0xffffffff_ffffffff), int32(-1)},
		{lift(U32Type, 0x1_00000005), uint32(5)},
		{lift(S64Type, 1<<63), int64(math.MinInt64)},
		{lift(BoolType, 2), true},
		{lift(BoolType, 1<<32), false},
		{lift(abiFlags(3), 0xff), uint32(7)},
		{lift(abiFlags(32), 0xffffffff), uint32(0xffffffff)},
		{math.Float32bits(lift(F32Type, 0x7fa00001).(float32)), uint32(0x7fc00000)},
		{math.Float32bits(lift(F32Type, 0xffc00000).(float32)), uint32(0x7fc00000)},
		{math.Float64bits(lift(F64Type, 0xfff0000000000001).(float64)), uint64(0x7ff8000000000000)},
		{lift(CharType, 0x10ffff), rune(0x10ffff)},
		// Joined variant positions: an f32 payload read from an i64
		// position takes the low 32 bits.
		{lift(abiVariantOf(F32Type, U64Type), 0, 0xdead_0000_3fc00000), VariantValue{0, float32(1.5)}},
		{lift(abiVariantOf(U32Type, F64Type), 0, 0xffffffff_00000009), VariantValue{0, uint32(9)}},
		{lift(abiVariantOf(F32Type, U32Type), 0, 0x3fc00000), VariantValue{0, float32(1.5)}},
		{lift(abiVariantOf(nil, U64Type), 0, 77), VariantValue{0, nil}},
		{lift(abiTuple(abiOption(U8Type), U8Type), 0, 99, 5), []Value{None(), uint8(5)}},
	}
	for i, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("check %d: got %#v, want %#v", i, c.got, c.want)
		}
	}
	lowers := []struct {
		got, want []uint64
	}{
		{lower(S8Type, int8(-1)), []uint64{0xffffffff}},
		{lower(S32Type, int32(math.MinInt32)), []uint64{0x80000000}},
		{lower(S64Type, int64(-1)), []uint64{math.MaxUint64}},
		{lower(BoolType, true), []uint64{1}},
		{lower(abiFlags(3), uint32(0xff)), []uint64{7}},
		{lower(F32Type, math.Float32frombits(0xffc00001)), []uint64{0x7fc00000}},
		{lower(F64Type, math.Float64frombits(0x7ff0000000000001)), []uint64{0x7ff8000000000000}},
		{lower(F32Type, float32(-2)), []uint64{0xc0000000}},
		// Variant payloads are padded with zeros to the joined width.
		{lower(abiVariantOf(F32Type, U64Type), VariantValue{0, float32(-2)}), []uint64{0, 0xc0000000}},
		{lower(abiVariantOf(F32Type, abiTuple(U64Type, F64Type)), VariantValue{0, float32(-2)}), []uint64{0, 0xc0000000, 0}},
		{lower(abiVariantOf(nil, abiTuple(U64Type, F64Type)), VariantValue{0, nil}), []uint64{0, 0, 0}},
		{lower(abiVariantN(300, U8Type), VariantValue{299, nil}), []uint64{299, 0}},
		{lower(abiResult(S8Type, F64Type), Ok(int8(-1))), []uint64{0, 0xffffffff}},
		{lower(abiFixed(U8Type, 3), []byte{1, 2, 3}), []uint64{1, 2, 3}},
		{lower(abiFixed(U8Type, 2), []Value{uint8(4), uint8(5)}), []uint64{4, 5}},
	}
	for i, c := range lowers {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("lower %d: got %#x, want %#x", i, c.got, c.want)
		}
	}
	// Flags bits without labels are dropped in memory too.
	m := abiMemWith(8, 0xff, 0xff)
	if v, err := Load(m.cx(UTF8), 0, abiFlags(9)); err != nil || v != uint32(0x1ff) {
		t.Errorf("Load flags: %#v, %v", v, err)
	}
	if err := Store(m.cx(UTF8), uint32(0xffffffff), abiFlags(3), 4); err != nil || m.buf[4] != 7 {
		t.Errorf("Store flags: %#x, %v", m.buf[4], err)
	}
	if v, err := Load(m.cx(UTF8), 0, BoolType); err != nil || v != true {
		t.Errorf("Load bool 0xff: %#v, %v", v, err)
	}
}
