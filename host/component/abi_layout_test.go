package component

import (
	"slices"
	"testing"

	"github.com/wasisim/wasisim/internal/soak"
	"pgregory.net/rapid"
)

// Types for the tables, built the way the resolver builds them.
func abiList(e *Type) *Type            { return &Type{Kind: List, Elem: e} }
func abiFixed(e *Type, n uint32) *Type { return &Type{Kind: List, Elem: e, Len: n} }
func abiOption(e *Type) *Type          { return &Type{Kind: Option, Elem: e} }
func abiResult(ok, err *Type) *Type    { return &Type{Kind: Result, Ok: ok, Err: err} }
func abiEnum(n int) *Type              { return &Type{Kind: Enum, Labels: abiLabels(n)} }
func abiFlags(n int) *Type             { return &Type{Kind: Flags, Labels: abiLabels(n)} }
func abiMap(k, v *Type) *Type          { return &Type{Kind: Map, Key: k, Elem: v} }
func abiHandle(k Kind, e *Type) *Type  { return &Type{Kind: k, Elem: e, Resource: abiTestResource} }
func abiRecord(ts ...*Type) *Type      { return abiFields(Record, ts) }
func abiTuple(ts ...*Type) *Type       { return abiFields(Tuple, ts) }
func abiVariantOf(ts ...*Type) *Type   { return abiVariantN(len(ts), ts...) }
func abiFields(k Kind, ts []*Type) *Type {
	t := &Type{Kind: k}
	for i, f := range ts {
		t.Fields = append(t.Fields, Field{Name: "f" + string(rune('a'+i)), Type: f})
	}
	return t
}

// abiVariantN is a variant of n cases whose first cases carry ts.
func abiVariantN(n int, ts ...*Type) *Type {
	t := &Type{Kind: Variant, Cases: make([]Case, n)}
	for i := range t.Cases {
		t.Cases[i].Name = "c" + string(rune('a'+i%26))
		if i < len(ts) {
			t.Cases[i].Type = ts[i]
		}
	}
	return t
}

// abiDatetime and abiDescriptorStat are WASI's wall-clock datetime and
// filesystem descriptor-stat.
var (
	abiDatetime       = abiRecord(U64Type, U32Type)
	abiDescriptorStat = abiRecord(abiEnum(8), U64Type, U64Type, abiOption(abiDatetime), abiOption(abiDatetime), abiOption(abiDatetime))
)

const (
	i32 = CoreI32
	i64 = CoreI64
	f32 = CoreF32
	f64 = CoreF64
)

// TestABILayout checks size, alignment and flattening against values
// worked out by hand from the canonical ABI's elem_size, alignment and
// flatten_type.
func TestABILayout(t *testing.T) {
	tests := []struct {
		t           *Type
		size, align uint32
		flat        []CoreValType
	}{
		{BoolType, 1, 1, []CoreValType{i32}},
		{S8Type, 1, 1, []CoreValType{i32}},
		{U16Type, 2, 2, []CoreValType{i32}},
		{S32Type, 4, 4, []CoreValType{i32}},
		{U64Type, 8, 8, []CoreValType{i64}},
		{S64Type, 8, 8, []CoreValType{i64}},
		{F32Type, 4, 4, []CoreValType{f32}},
		{F64Type, 8, 8, []CoreValType{f64}},
		{CharType, 4, 4, []CoreValType{i32}},
		{StringType, 8, 4, []CoreValType{i32, i32}},
		{ErrorContextType, 4, 4, []CoreValType{i32}},
		{abiHandle(Own, nil), 4, 4, []CoreValType{i32}},
		{abiHandle(Borrow, nil), 4, 4, []CoreValType{i32}},
		{abiHandle(Stream, U8Type), 4, 4, []CoreValType{i32}},
		{abiHandle(Future, nil), 4, 4, []CoreValType{i32}},
		{abiList(U8Type), 8, 4, []CoreValType{i32, i32}},
		{abiList(F64Type), 8, 4, []CoreValType{i32, i32}},
		// Fixed-length lists are their elements in a row.
		{abiFixed(U16Type, 3), 6, 2, []CoreValType{i32, i32, i32}},
		{abiFixed(F64Type, 2), 16, 8, []CoreValType{f64, f64}},
		{abiFixed(abiTuple(U8Type, U16Type), 2), 8, 2, []CoreValType{i32, i32, i32, i32}},
		// u8 at 0, u32 at 4, u8 at 8: 9 bytes, padded to 12.
		{abiRecord(U8Type, U32Type, U8Type), 12, 4, []CoreValType{i32, i32, i32}},
		{abiTuple(U8Type, U64Type), 16, 8, []CoreValType{i32, i64}},
		{abiTuple(U16Type, U8Type), 4, 2, []CoreValType{i32, i32}},
		// Variants: discriminant, payload at the largest case alignment,
		// flat payload positions joined.
		{abiVariantOf(F32Type, U64Type), 16, 8, []CoreValType{i32, i64}},
		{abiVariantOf(F32Type, U32Type), 8, 4, []CoreValType{i32, i32}},
		{abiVariantOf(F32Type, F32Type), 8, 4, []CoreValType{i32, f32}},
		{abiVariantOf(F64Type, F32Type), 16, 8, []CoreValType{i32, i64}},
		{abiVariantOf(F64Type, U32Type), 16, 8, []CoreValType{i32, i64}},
		{abiVariantOf(U8Type, abiTuple(F32Type, F32Type), U64Type), 16, 8, []CoreValType{i32, i64, f32}},
		{abiVariantOf(nil, U8Type), 2, 1, []CoreValType{i32, i32}},
		{abiVariantOf(StringType, F32Type), 12, 4, []CoreValType{i32, i32, i32}},
		{abiVariantN(256), 1, 1, []CoreValType{i32}},
		{abiVariantN(257, U8Type), 4, 2, []CoreValType{i32, i32}},
		{abiVariantN(300, U64Type), 16, 8, []CoreValType{i32, i64}},
		{abiEnum(1), 1, 1, []CoreValType{i32}},
		{abiEnum(256), 1, 1, []CoreValType{i32}},
		{abiEnum(257), 2, 2, []CoreValType{i32}},
		{abiOption(U32Type), 8, 4, []CoreValType{i32, i32}},
		{abiOption(StringType), 12, 4, []CoreValType{i32, i32, i32}},
		{abiOption(U8Type), 2, 1, []CoreValType{i32, i32}},
		{abiResult(U32Type, StringType), 12, 4, []CoreValType{i32, i32, i32}},
		{abiResult(nil, nil), 1, 1, []CoreValType{i32}},
		{abiResult(nil, F64Type), 16, 8, []CoreValType{i32, f64}},
		{abiResult(F32Type, F64Type), 16, 8, []CoreValType{i32, i64}},
		{abiFlags(1), 1, 1, []CoreValType{i32}},
		{abiFlags(8), 1, 1, []CoreValType{i32}},
		{abiFlags(9), 2, 2, []CoreValType{i32}},
		{abiFlags(16), 2, 2, []CoreValType{i32}},
		{abiFlags(17), 4, 4, []CoreValType{i32}},
		{abiFlags(32), 4, 4, []CoreValType{i32}},
		{abiMap(StringType, U32Type), 8, 4, []CoreValType{i32, i32}},
		// datetime: u64 at 0, u32 at 8, padded to 16; option<datetime>:
		// discriminant, datetime at 8.
		{abiDatetime, 16, 8, []CoreValType{i64, i32}},
		{abiOption(abiDatetime), 24, 8, []CoreValType{i32, i64, i32}},
		// descriptor-stat: type 0, link-count 8, size 16, timestamps
		// at 24, 48 and 72.
		{abiDescriptorStat, 96, 8, []CoreValType{i32, i64, i64, i32, i64, i32, i32, i64, i32, i32, i64, i32}},
	}
	for _, tt := range tests {
		if got := Size(tt.t); got != tt.size {
			t.Errorf("Size(%s) = %d, want %d", tt.t, got, tt.size)
		}
		if got := Align(tt.t); got != tt.align {
			t.Errorf("Align(%s) = %d, want %d", tt.t, got, tt.align)
		}
		if got := Flatten(tt.t); !slices.Equal(got, tt.flat) {
			t.Errorf("Flatten(%s) = %v, want %v", tt.t, got, tt.flat)
		}
		if got := FlatCount(tt.t); got != len(tt.flat) {
			t.Errorf("FlatCount(%s) = %d, want %d", tt.t, got, len(tt.flat))
		}
	}
}

// TestABIHugeTypes: sizes and flat counts of types too large for any
// memory saturate instead of overflowing, and using them traps.
func TestABIHugeTypes(t *testing.T) {
	huge := abiFixed(abiFixed(abiFixed(U64Type, 1<<31), 1<<31), 1<<31)
	if Size(huge) != 1<<32-1 {
		t.Errorf("Size = %d, want it saturated", Size(huge))
	}
	if n := FlatCount(huge); n != abiFlatCap {
		t.Errorf("FlatCount = %d, want %d", n, abiFlatCap)
	}
	ft := FlattenFunc(&FuncType{Params: []Param{{"a", huge}}, Result: huge}, abiOpts(), true)
	if !slices.Equal(ft.Params, []CoreValType{i32}) || !slices.Equal(ft.Results, []CoreValType{i32}) {
		t.Errorf("FlattenFunc = %v", ft)
	}
	m := newABIFakeMem(1<<16, 16)
	if _, err := Load(m.cx(UTF8), 0, huge); !isTrap(err) {
		t.Errorf("Load: %v, want a trap", err)
	}
	vi := &CoreValueIter{Values: []uint64{0}}
	if _, err := LiftValues(m.cx(UTF8), nil, MaxFlatParams, vi, []*Type{huge}); !isTrap(err) {
		t.Errorf("LiftValues: %v, want a trap", err)
	}
	if _, err := LiftFlat(m.cx(UTF8), &CoreValueIter{Values: make([]uint64, 4)}, huge); !isTrap(err) {
		t.Errorf("LiftFlat: %v, want a trap", err)
	}
}

func abiOpts() CanonOpts { return NoOpts }

func abiParams(ts ...*Type) []Param {
	ps := make([]Param, len(ts))
	for i, t := range ts {
		ps[i] = Param{Name: "p" + string(rune('a'+i)), Type: t}
	}
	return ps
}

func abiRepeat(t *Type, n int) []*Type {
	ts := make([]*Type, n)
	for i := range ts {
		ts[i] = t
	}
	return ts
}

// TestABIFlattenFunc checks flatten_functype: the limits on flat
// parameters and results, and the async conventions.
func TestABIFlattenFunc(t *testing.T) {
	sync := abiOpts()
	async := abiOpts()
	async.Async = true
	callback := async
	callback.Callback = 3
	tests := []struct {
		name            string
		ft              FuncType
		opts            CanonOpts
		lift            bool
		params, results []CoreValType
	}{
		{"sync lift", FuncType{Params: abiParams(U32Type, StringType), Result: U32Type}, sync, true,
			[]CoreValType{i32, i32, i32}, []CoreValType{i32}},
		{"sync lower", FuncType{Params: abiParams(U32Type, StringType), Result: U32Type}, sync, false,
			[]CoreValType{i32, i32, i32}, []CoreValType{i32}},
		{"no result", FuncType{Params: abiParams(F64Type)}, sync, true, []CoreValType{f64}, nil},
		{"16 params", FuncType{Params: abiParams(abiRepeat(U64Type, 16)...)}, sync, true,
			slices.Repeat([]CoreValType{i64}, 16), nil},
		{"17 params", FuncType{Params: abiParams(abiRepeat(U64Type, 17)...)}, sync, false, []CoreValType{i32}, nil},
		{"string result lift", FuncType{Result: StringType}, sync, true, []CoreValType{}, []CoreValType{i32}},
		{"string result lower", FuncType{Result: StringType}, sync, false, []CoreValType{i32}, nil},
		{"stat lower", FuncType{Params: abiParams(abiHandle(Borrow, nil)), Result: abiResult(abiDescriptorStat, abiEnum(37))}, sync, false,
			[]CoreValType{i32, i32}, nil},
		{"async lift, callback", FuncType{Params: abiParams(U32Type), Result: StringType}, callback, true,
			[]CoreValType{i32}, []CoreValType{i32}},
		{"async lift, no callback", FuncType{Params: abiParams(U32Type), Result: StringType}, async, true,
			[]CoreValType{i32}, nil},
		{"async lift, 17 params", FuncType{Params: abiParams(abiRepeat(U8Type, 17)...)}, async, true,
			[]CoreValType{i32}, nil},
		{"async lower, 4 params", FuncType{Params: abiParams(abiRepeat(F32Type, 4)...), Result: U8Type}, async, false,
			[]CoreValType{f32, f32, f32, f32, i32}, []CoreValType{i32}},
		{"async lower, 5 params", FuncType{Params: abiParams(abiRepeat(F32Type, 5)...), Result: U8Type}, async, false,
			[]CoreValType{i32, i32}, []CoreValType{i32}},
		{"async lower, no result", FuncType{Params: abiParams(StringType)}, async, false,
			[]CoreValType{i32, i32}, []CoreValType{i32}},
	}
	for _, tt := range tests {
		got := FlattenFunc(&tt.ft, tt.opts, tt.lift)
		if !slices.Equal(got.Params, tt.params) || !slices.Equal(got.Results, tt.results) {
			t.Errorf("%s: FlattenFunc = %v -> %v, want %v -> %v", tt.name, got.Params, got.Results, tt.params, tt.results)
		}
	}
}

func TestABICheckMemoryAddrType(t *testing.T) {
	if err := CheckMemoryAddrType(CoreI32); err != nil {
		t.Errorf("i32: %v", err)
	}
	if err := CheckMemoryAddrType(CoreI64); err != ErrMemory64 {
		t.Errorf("i64: %v, want ErrMemory64", err)
	}
}

// TestABIFlatCountUpTo: the early-stopping count agrees with the full
// one wherever it says it is within the limit.
func TestABIFlatCountUpTo(t *testing.T) {
	soak.Check(t, 1000, func(t *rapid.T) {
		ty := abiGenType(4).Draw(t, "type")
		limit := rapid.IntRange(-1, 40).Draw(t, "limit")
		n, got := len(Flatten(ty)), abiFlatCountUpTo(ty, limit)
		if (n <= limit && got != n) || (n > limit && got != limit+1) {
			t.Fatalf("%s: %d values, up to %d says %d", ty, n, limit, got)
		}
	})
}
