package component

import (
	"math"
	"slices"
)

// This file is the canonical ABI's layout: despecialization, alignment,
// element size and flattening. Despecialization builds no types: tuples
// are records, and enums, options and results are variants through
// abiCaseCount and abiCaseType. Only a map's element, tuple<k, v>, is
// built (abiPair), once per map value lifted or lowered.
//
// The decoder computes the layout of every composite type it builds once,
// when it builds it (abiSetInfo), so that lifting and lowering a value do
// not walk its type again: a WASI error-code is a variant of 37 cases.
// Types built elsewhere (by host code, abiPair) have none and are walked
// each time; the functions below give the same answers either way.

// abiInfo is the layout of a composite type, computed once. It is set
// before the type is shared and never changed, so it is read without
// synchronisation.
type abiInfo struct {
	size  uint64
	align uint32
	// flat is abiFlatCountUpTo(t, abiFlatCap): FlatCount, or
	// abiFlatCap+1 for a type with more values.
	flat int
	// flatTypes is Flatten(t) when it has at most MaxFlatParams values,
	// else nil. It is shared: never modified.
	flatTypes []CoreValType
	pure      bool
	// payload is the offset of a variant-like type's payload.
	payload uint64
}

// abiSetInfo computes the layout of t, whose parts have theirs (or are
// primitives), and keeps it in t. t must not be shared yet.
func abiSetInfo(t *Type) {
	if t.Kind <= ErrorContext {
		return // primitives: their layout is a switch away
	}
	size, align := abiLayout(t)
	in := &abiInfo{size: size, align: align, flat: abiFlatCountUpTo(t, abiFlatCap), pure: abiPure(t)}
	if in.flat <= MaxFlatParams {
		in.flatTypes = abiAppendFlat(make([]CoreValType, 0, in.flat), t)
	}
	switch t.Kind {
	case Variant, Option, Result, Enum:
		in.payload = abiPayloadOffset(t)
	}
	t.abi = in
}

// abiSizeCap bounds computed sizes: a type larger than this cannot be in
// any 32-bit memory, so saturating keeps the arithmetic from overflowing
// without changing any outcome (a bounds check fails either way).
const abiSizeCap = 1 << 40

// abiFlatCap bounds computed flat counts the same way; anything above
// MaxFlatParams goes through memory whatever its exact count.
const abiFlatCap = 1 << 30

// Size is the canonical ABI's elem_size: the bytes a value of type t
// takes in linear memory. A type larger than 4 GiB fits no 32-bit memory;
// Size saturates at math.MaxUint32 for it (Load and Store check the exact
// size and trap).
func Size(t *Type) uint32 {
	s := abiSize(t)
	if s > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(s)
}

// Align is the canonical ABI's alignment: the alignment in bytes of a
// value of type t in linear memory.
func Align(t *Type) uint32 { return abiAlign(t) }

// abiAlign is the alignment alone: cheaper than abiLayout, as it stops
// looking once it found the largest alignment there is.
func abiAlign(t *Type) uint32 {
	if in := t.abi; in != nil {
		return in.align
	}
	switch t.Kind {
	case Bool, S8, U8:
		return 1
	case S16, U16:
		return 2
	case S32, U32, F32, Char, ErrorContext, Own, Borrow, Stream, Future:
		return 4
	case S64, U64, F64:
		return 8
	case String, Map:
		return 4 // the pointer size
	case List:
		if t.Len > 0 {
			return abiAlign(t.Elem)
		}
		return 4
	case Record, Tuple:
		a := uint32(1)
		for _, f := range t.Fields {
			if a = max(a, abiAlign(f.Type)); a == 8 {
				break
			}
		}
		return a
	case Enum:
		return abiDiscSize(len(t.Labels))
	case Variant, Option, Result:
		return max(abiDiscSize(abiCaseCount(t)), abiMaxCaseAlign(t))
	case Flags:
		return abiFlagsSize(len(t.Labels))
	}
	return 1
}

func abiSize(t *Type) uint64 {
	s, _ := abiLayout(t)
	return s
}

// abiLayout is elem_size and alignment, in one walk of the type.
func abiLayout(t *Type) (size uint64, align uint32) {
	if in := t.abi; in != nil {
		return in.size, in.align
	}
	switch t.Kind {
	case Bool, S8, U8:
		return 1, 1
	case S16, U16:
		return 2, 2
	case S32, U32, F32, Char, ErrorContext, Own, Borrow, Stream, Future:
		return 4, 4
	case S64, U64, F64:
		return 8, 8
	case String, Map:
		return 8, 4 // pointer and length
	case List:
		if t.Len > 0 {
			es, a := abiLayout(t.Elem)
			if es > abiSizeCap/uint64(t.Len) {
				return abiSizeCap, a
			}
			return uint64(t.Len) * es, a
		}
		return 8, 4
	case Record, Tuple:
		var s uint64
		a := uint32(1)
		for _, f := range t.Fields {
			fs, fa := abiLayout(f.Type)
			s = min(abiAlignTo(s, fa)+fs, abiSizeCap)
			a = max(a, fa)
		}
		return abiAlignTo(s, a), a
	case Enum:
		d := abiDiscSize(len(t.Labels))
		return uint64(d), d
	case Variant, Option, Result:
		var cs uint64
		ca := uint32(1)
		for i := range abiCaseCount(t) {
			if c := abiCaseType(t, i); c != nil {
				s, a := abiLayout(c)
				cs, ca = max(cs, s), max(ca, a)
			}
		}
		d := abiDiscSize(abiCaseCount(t))
		a := max(d, ca)
		return abiAlignTo(min(abiAlignTo(uint64(d), ca)+cs, abiSizeCap), a), a
	case Flags:
		n := abiFlagsSize(len(t.Labels))
		return uint64(n), n
	}
	return 0, 1
}

// abiAlignTo rounds p up to a multiple of the power of two a.
func abiAlignTo(p uint64, a uint32) uint64 {
	return (p + uint64(a) - 1) &^ (uint64(a) - 1)
}

// abiCaseCount and abiCaseType despecialize the variant-like types
// without building the variant: enum cases have no payload, option is
// none | some(Elem), result is ok(Ok) | error(Err).
func abiCaseCount(t *Type) int {
	switch t.Kind {
	case Variant:
		return len(t.Cases)
	case Enum:
		return len(t.Labels)
	}
	return 2
}

func abiCaseType(t *Type, i int) *Type {
	switch t.Kind {
	case Variant:
		return t.Cases[i].Type
	case Option:
		if i == 1 {
			return t.Elem
		}
	case Result:
		if i == 0 {
			return t.Ok
		}
		return t.Err
	}
	return nil
}

// abiDiscSize is the size of discriminant_type for n cases.
func abiDiscSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

// abiPayloadOffset is the offset of a variant-like type's payload: past
// the discriminant, aligned for every case's payload.
func abiPayloadOffset(t *Type) uint64 {
	if in := t.abi; in != nil {
		return in.payload
	}
	return abiAlignTo(uint64(abiDiscSize(abiCaseCount(t))), abiMaxCaseAlign(t))
}

// abiMaxCaseAlign is the alignment of a variant's payloads.
func abiMaxCaseAlign(t *Type) uint32 {
	if t.Kind == Enum {
		return 1
	}
	a := uint32(1)
	for i := range abiCaseCount(t) {
		if c := abiCaseType(t, i); c != nil {
			if a = max(a, abiAlign(c)); a == 8 {
				break
			}
		}
	}
	return a
}

// abiFlagsSize is the size (and alignment) of flags with n labels.
func abiFlagsSize(n int) uint32 {
	switch {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	}
	return 4
}

// abiFlagsMask keeps the bits that have labels: the canonical ABI packs
// and unpacks labels only, so other bits never cross.
func abiFlagsMask(n int) uint32 {
	if n >= 32 {
		return math.MaxUint32
	}
	return 1<<n - 1
}

// abiPair is the tuple<k, v> a map despecializes to a list of. It is
// built per map value lifted or lowered, not per element.
func abiPair(t *Type) *Type {
	return &Type{Kind: Tuple, Fields: []Field{{Name: "0", Type: t.Key}, {Name: "1", Type: t.Elem}}}
}

// abiPure reports whether t is stored without allocating: it holds no
// string and no variable-length list, so no realloc (guest code) runs
// while it is stored and one memory view can take all of it.
func abiPure(t *Type) bool {
	if in := t.abi; in != nil {
		return in.pure
	}
	switch t.Kind {
	case String, Map:
		return false
	case List:
		return t.Len > 0 && abiPure(t.Elem)
	case Record, Tuple:
		for _, f := range t.Fields {
			if !abiPure(f.Type) {
				return false
			}
		}
	case Variant, Option, Result:
		for i := range abiCaseCount(t) {
			if c := abiCaseType(t, i); c != nil && !abiPure(c) {
				return false
			}
		}
	}
	return true
}

// FlatCount is the number of core values t flattens to: len(Flatten(t)),
// without building the list. It saturates at 2^30.
func FlatCount(t *Type) int { return abiFlatCount(t) }

func abiFlatCount(t *Type) int { return min(abiFlatCountUpTo(t, abiFlatCap), abiFlatCap) }

// abiFlatCountUpTo is the flat count of t if it is at most limit, else
// limit+1: it stops walking the type as soon as it knows which.
func abiFlatCountUpTo(t *Type, limit int) int {
	if in := t.abi; in != nil {
		return min(in.flat, limit+1)
	}
	switch t.Kind {
	case String, Map:
		return min(2, limit+1)
	case List:
		if t.Len > 0 {
			return int(min(uint64(t.Len)*uint64(abiFlatCountUpTo(t.Elem, limit)), uint64(limit)+1))
		}
		return min(2, limit+1)
	case Record, Tuple:
		n := 0
		for _, f := range t.Fields {
			if n += abiFlatCountUpTo(f.Type, limit-n); n > limit {
				return limit + 1
			}
		}
		return n
	case Variant, Option, Result:
		n := 0
		for i := range abiCaseCount(t) {
			if c := abiCaseType(t, i); c != nil {
				if n = max(n, abiFlatCountUpTo(c, limit-1)); n >= limit {
					return limit + 1
				}
			}
		}
		return min(1+n, limit+1)
	}
	return min(1, limit+1)
}

// abiFlatOver reports whether ts flatten to more than limit core values.
func abiFlatOver(ts []*Type, limit int) bool {
	n := 0
	for _, t := range ts {
		if n += abiFlatCountUpTo(t, limit-n); n > limit {
			return true
		}
	}
	return false
}

// Flatten is the canonical ABI's flatten_type: the core value types a
// value of type t is passed as when passed flat. Variant payloads share
// positions, joined to a type that holds each (i32 and f32 join to i32,
// anything else that differs to i64). Its length is FlatCount(t); check
// that first for types that may be huge (a long fixed-length list).
func Flatten(t *Type) []CoreValType {
	if in := t.abi; in != nil && in.flatTypes != nil {
		return slices.Clone(in.flatTypes)
	}
	return abiAppendFlat(make([]CoreValType, 0, min(abiFlatCount(t), 64)), t)
}

func abiAppendFlat(dst []CoreValType, t *Type) []CoreValType {
	if in := t.abi; in != nil && in.flatTypes != nil {
		return append(dst, in.flatTypes...)
	}
	switch t.Kind {
	case S64, U64:
		return append(dst, CoreI64)
	case F32:
		return append(dst, CoreF32)
	case F64:
		return append(dst, CoreF64)
	case String, Map:
		return append(dst, CoreI32, CoreI32)
	case List:
		if t.Len == 0 {
			return append(dst, CoreI32, CoreI32)
		}
		for range t.Len {
			dst = abiAppendFlat(dst, t.Elem)
		}
		return dst
	case Record, Tuple:
		for _, f := range t.Fields {
			dst = abiAppendFlat(dst, f.Type)
		}
		return dst
	case Variant, Option, Result:
		dst = append(dst, CoreI32)
		start := len(dst)
		var scratch []CoreValType
		for i := range abiCaseCount(t) {
			c := abiCaseType(t, i)
			if c == nil {
				continue
			}
			scratch = abiAppendFlat(scratch[:0], c)
			for j, ft := range scratch {
				if start+j < len(dst) {
					dst[start+j] = abiJoin(dst[start+j], ft)
				} else {
					dst = append(dst, ft)
				}
			}
		}
		return dst
	}
	return append(dst, CoreI32)
}

func abiJoin(a, b CoreValType) CoreValType {
	switch {
	case a == b:
		return a
	case (a == CoreI32 && b == CoreF32) || (a == CoreF32 && b == CoreI32):
		return CoreI32
	}
	return CoreI64
}

// FlattenFunc is the canonical ABI's flatten_functype: the core function
// type of a function of type ft lifted (lift true, the core function the
// component exports) or lowered (lift false, the core function the
// component imports) with options opts. Parameters beyond MaxFlatParams
// (MaxFlatAsyncParams for an async lower) pass as one pointer to them;
// results beyond MaxFlatResults are returned as a pointer (lift) or
// written through a pointer parameter (lower). An async lift returns the
// callback's i32 code (nothing without a callback); an async lower
// returns an i32 status and writes the result through a pointer.
// Pointers are i32: only 32-bit memories are supported.
func FlattenFunc(ft *FuncType, opts CanonOpts, lift bool) CoreFuncType {
	maxParams := MaxFlatParams
	if opts.Async && !lift {
		maxParams = MaxFlatAsyncParams
	}
	var params, results []CoreValType
	ps := make([]*Type, len(ft.Params))
	for i, p := range ft.Params {
		ps[i] = p.Type
	}
	if abiFlatOver(ps, maxParams) {
		params = []CoreValType{CoreI32}
	} else {
		params = make([]CoreValType, 0, maxParams+1)
		for _, p := range ps {
			params = abiAppendFlat(params, p)
		}
	}
	nresults := 0
	if ft.Result != nil {
		nresults = abiFlatCountUpTo(ft.Result, MaxFlatResults)
	}
	switch {
	case !opts.Async:
		switch {
		case nresults <= MaxFlatResults:
			if ft.Result != nil {
				results = abiAppendFlat(nil, ft.Result)
			}
		case lift:
			results = []CoreValType{CoreI32}
		default:
			params = append(params, CoreI32)
		}
	case lift:
		if opts.Callback >= 0 {
			results = []CoreValType{CoreI32}
		}
	default:
		if nresults > 0 {
			params = append(params, CoreI32)
		}
		results = []CoreValType{CoreI32}
	}
	return CoreFuncType{Params: params, Results: results}
}
