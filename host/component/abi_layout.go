package component

import "math"

// This file is the canonical ABI's layout: despecialization, alignment,
// element size and flattening. Nothing is cached: every function walks
// the type, which for the types of real interfaces costs a few
// nanoseconds, and keeps no state that could grow with the types seen.

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

func abiAlign(t *Type) uint32 {
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
			a = max(a, abiAlign(f.Type))
		}
		return a
	case Variant, Enum, Option, Result:
		return abiVariantAlign(t)
	case Flags:
		return abiFlagsSize(len(t.Labels))
	}
	return 1
}

func abiSize(t *Type) uint64 {
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
		return 8 // pointer and length
	case List:
		if t.Len > 0 {
			es := abiSize(t.Elem)
			if es > abiSizeCap/uint64(t.Len) {
				return abiSizeCap
			}
			return uint64(t.Len) * es
		}
		return 8
	case Record, Tuple:
		var s uint64
		for _, f := range t.Fields {
			s = abiAlignTo(s, abiAlign(f.Type))
			s = min(s+abiSize(f.Type), abiSizeCap)
		}
		return abiAlignTo(s, abiAlign(t))
	case Variant, Enum, Option, Result:
		n := abiCaseCount(t)
		s := abiAlignTo(uint64(abiDiscSize(n)), abiMaxCaseAlign(t))
		var cs uint64
		for i := range n {
			if c := abiCaseType(t, i); c != nil {
				cs = max(cs, abiSize(c))
			}
		}
		return abiAlignTo(min(s+cs, abiSizeCap), abiVariantAlign(t))
	case Flags:
		return uint64(abiFlagsSize(len(t.Labels)))
	}
	return 0
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

func abiMaxCaseAlign(t *Type) uint32 {
	a := uint32(1)
	for i := range abiCaseCount(t) {
		if c := abiCaseType(t, i); c != nil {
			a = max(a, abiAlign(c))
		}
	}
	return a
}

func abiVariantAlign(t *Type) uint32 {
	return max(abiDiscSize(abiCaseCount(t)), abiMaxCaseAlign(t))
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

func abiFlatCount(t *Type) int {
	switch t.Kind {
	case String, Map:
		return 2
	case List:
		if t.Len > 0 {
			return int(min(uint64(t.Len)*uint64(abiFlatCount(t.Elem)), abiFlatCap))
		}
		return 2
	case Record, Tuple:
		n := 0
		for _, f := range t.Fields {
			n = min(n+abiFlatCount(f.Type), abiFlatCap)
		}
		return n
	case Variant, Option, Result:
		n := 0
		for i := range abiCaseCount(t) {
			if c := abiCaseType(t, i); c != nil {
				n = max(n, abiFlatCount(c))
			}
		}
		return 1 + n
	}
	return 1
}

// abiFlatCountAll is the flat count of a list of types.
func abiFlatCountAll(ts []*Type) int {
	n := 0
	for _, t := range ts {
		n = min(n+abiFlatCount(t), abiFlatCap)
	}
	return n
}

// Flatten is the canonical ABI's flatten_type: the core value types a
// value of type t is passed as when passed flat. Variant payloads share
// positions, joined to a type that holds each (i32 and f32 join to i32,
// anything else that differs to i64). Its length is FlatCount(t); check
// that first for types that may be huge (a long fixed-length list).
func Flatten(t *Type) []CoreValType {
	return abiAppendFlat(make([]CoreValType, 0, min(abiFlatCount(t), 64)), t)
}

func abiAppendFlat(dst []CoreValType, t *Type) []CoreValType {
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
	nparams := 0
	for _, p := range ft.Params {
		nparams = min(nparams+abiFlatCount(p.Type), abiFlatCap)
	}
	nresults := 0
	if ft.Result != nil {
		nresults = abiFlatCount(ft.Result)
	}
	maxParams := MaxFlatParams
	if opts.Async && !lift {
		maxParams = MaxFlatAsyncParams
	}
	var params, results []CoreValType
	if nparams > maxParams {
		params = []CoreValType{CoreI32}
	} else {
		params = make([]CoreValType, 0, nparams+1)
		for _, p := range ft.Params {
			params = abiAppendFlat(params, p.Type)
		}
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
