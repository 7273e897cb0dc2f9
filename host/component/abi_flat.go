package component

// This file lifts and lowers flat values: component values passed as
// core values (wazero's uint64 encoding) rather than through memory.
//
// A variant's payload shares positions with the payloads of the other
// cases, each position joined to a core type that can hold all of them.
// In wazero's encoding the canonical ABI's coercions between a payload's
// type and the joined type change no bits: an i32 or f32 sits zero-
// extended in the low 32 bits of an i64, and reading a 32-bit value takes
// those low bits (wrap_i64_to_i32 and the f32 reinterpretation). So
// lowering a payload is lowering it by its own type and padding with
// zeros, and lifting it is lifting by its own type and skipping the rest.

// LiftFlat is the canonical ABI's lift_flat: it lifts a value of type t
// from the core values vi yields, consuming FlatCount(t) of them.
func LiftFlat(cx *LiftLowerContext, vi *CoreValueIter, t *Type) (Value, error) {
	return cx.abiLiftFlat(vi, t)
}

func (cx *LiftLowerContext) abiLiftFlat(vi *CoreValueIter, t *Type) (Value, error) {
	switch t.Kind {
	case S64, U64, F64:
		x, err := vi.Next()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case S64:
			return int64(x), nil
		case U64:
			return x, nil
		}
		return abiF64(x), nil
	case Bool, S8, U8, S16, U16, S32, U32, F32, Char, Enum, Flags, ErrorContext, Own, Borrow, Stream, Future:
		x, err := vi.next32()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case Bool:
			return x != 0, nil
		case S8:
			return int8(x), nil
		case U8:
			return uint8(x), nil
		case S16:
			return int16(x), nil
		case U16:
			return uint16(x), nil
		case S32:
			return int32(x), nil
		case U32:
			return x, nil
		case F32:
			return abiF32(x), nil
		case Char:
			return abiChar(x)
		case Enum:
			if uint64(x) >= uint64(len(t.Labels)) {
				return nil, abiTrapf("discriminant %d of enum is past its %d cases", x, len(t.Labels))
			}
			return x, nil
		case Flags:
			return x & abiFlagsMask(len(t.Labels)), nil
		}
		return cx.abiLiftHandle(t, x)
	case String, Map, List:
		if t.Kind == List && t.Len > 0 {
			// Preallocate no more than the values could hold: a long
			// list runs out of them and fails instead.
			n := min(int(t.Len), len(vi.Values)-vi.I)
			if t.Elem.Kind == U8 {
				bs := make([]byte, 0, max(n, 0))
				for range t.Len {
					x, err := vi.next32()
					if err != nil {
						return nil, err
					}
					bs = append(bs, uint8(x))
				}
				return bs, nil
			}
			vs := make([]Value, 0, max(n, 0))
			for range t.Len {
				v, err := cx.abiLiftFlat(vi, t.Elem)
				if err != nil {
					return nil, err
				}
				vs = append(vs, v)
			}
			return vs, nil
		}
		p, err := vi.next32()
		if err != nil {
			return nil, err
		}
		n, err := vi.next32()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case String:
			return cx.abiLoadString(p, n)
		case Map:
			return cx.abiLoadList(p, n, abiPair(t))
		}
		return cx.abiLoadList(p, n, t.Elem)
	case Record, Tuple:
		vs := make([]Value, len(t.Fields))
		for i, f := range t.Fields {
			v, err := cx.abiLiftFlat(vi, f.Type)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return vs, nil
	case Variant, Option, Result:
		c, err := vi.next32()
		if err != nil {
			return nil, err
		}
		n := abiCaseCount(t)
		if uint64(c) >= uint64(n) {
			return nil, abiTrapf("discriminant %d of %s is past its %d cases", c, t.Kind, n)
		}
		end := vi.I + abiFlatCount(t) - 1
		if end > len(vi.Values) {
			return nil, abiErrFewValues
		}
		var v Value
		if pt := abiCaseType(t, int(c)); pt != nil {
			if v, err = cx.abiLiftFlat(vi, pt); err != nil {
				return nil, err
			}
		}
		vi.I = end
		return VariantValue{Case: c, Value: v}, nil
	}
	return nil, abiTrapf("cannot lift a value of type %s", t)
}

// LowerFlat is the canonical ABI's lower_flat: it appends the
// FlatCount(t) core values of v, a value of type t, to dst. Strings and
// lists are allocated in memory with the context's realloc.
func LowerFlat(cx *LiftLowerContext, dst []uint64, v Value, t *Type) ([]uint64, error) {
	return cx.abiLowerFlat(dst, v, t)
}

func (cx *LiftLowerContext) abiLowerFlat(dst []uint64, v Value, t *Type) ([]uint64, error) {
	switch t.Kind {
	case S64, U64, F64:
		x, err := abiScalar64(v, t)
		if err != nil {
			return dst, err
		}
		return append(dst, x), nil
	case Bool, S8, U8, S16, U16, S32, U32, F32, Char, Enum, Flags, ErrorContext, Own, Borrow, Stream, Future:
		x, err := cx.abiScalar32(v, t)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(x)), nil
	case String:
		s, ok := v.(string)
		if !ok {
			return dst, abiWrongValue(v, t)
		}
		p, n, err := cx.abiStoreString(s)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(p), uint64(n)), nil
	case List, Map:
		if t.Len > 0 {
			if bs, ok := v.([]byte); ok && t.Elem.Kind == U8 && len(bs) == int(t.Len) {
				for _, b := range bs {
					dst = append(dst, uint64(b))
				}
				return dst, nil
			}
			vs, ok := v.([]Value)
			if !ok || len(vs) != int(t.Len) {
				return dst, abiWrongValue(v, t)
			}
			var err error
			for _, e := range vs {
				if dst, err = cx.abiLowerFlat(dst, e, t.Elem); err != nil {
					return dst, err
				}
			}
			return dst, nil
		}
		elem := t.Elem
		if t.Kind == Map {
			elem = abiPair(t)
		}
		p, n, err := cx.abiStoreList(v, elem)
		if err != nil {
			return dst, err
		}
		return append(dst, uint64(p), uint64(n)), nil
	case Record, Tuple:
		vs, ok := v.([]Value)
		if !ok || len(vs) != len(t.Fields) {
			return dst, abiWrongValue(v, t)
		}
		var err error
		for i, f := range t.Fields {
			if dst, err = cx.abiLowerFlat(dst, vs[i], f.Type); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case Variant, Option, Result:
		c, pt, pv, err := abiMatchCase(v, t)
		if err != nil {
			return dst, err
		}
		dst = append(dst, uint64(c))
		end := len(dst) + abiFlatCount(t) - 1
		if pt != nil {
			if dst, err = cx.abiLowerFlat(dst, pv, pt); err != nil {
				return dst, err
			}
		}
		for len(dst) < end {
			dst = append(dst, 0)
		}
		return dst, nil
	}
	return dst, abiTrapf("cannot lower a value of type %s", t)
}

// abiTupleLayout is the alignment and size of tuple<ts...>, the record
// that values spilled to memory are stored as.
func abiTupleLayout(ts []*Type) (align uint32, size uint64) {
	align = 1
	for _, t := range ts {
		s, a := abiLayout(t)
		align = max(align, a)
		size = min(abiAlignTo(size, a)+s, abiSizeCap)
	}
	return align, abiAlignTo(size, align)
}

// LiftValues is the canonical ABI's lift_flat_values: it appends to dst
// the values of types ts, lifted from vi. If they flatten to more than
// maxFlat core values, vi holds one pointer to them instead, stored as a
// tuple; it must be aligned and in bounds.
func LiftValues(cx *LiftLowerContext, dst []Value, maxFlat int, vi *CoreValueIter, ts []*Type) ([]Value, error) {
	if !abiFlatOver(ts, maxFlat) {
		for _, t := range ts {
			v, err := cx.abiLiftFlat(vi, t)
			if err != nil {
				return dst, err
			}
			dst = append(dst, v)
		}
		return dst, nil
	}
	ptr, err := vi.next32()
	if err != nil {
		return dst, err
	}
	align, size := abiTupleLayout(ts)
	b, err := cx.abiRegion(ptr, align, size)
	if err != nil {
		return dst, err
	}
	var off uint64
	for _, t := range ts {
		ts, ta := abiLayout(t)
		off = abiAlignTo(off, ta)
		v, err := cx.abiLoadFrom(b[off:], t)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
		off += ts
	}
	return dst, nil
}

// LowerValues is the canonical ABI's lower_flat_values: it appends to
// dst the core values of vs, values of types ts. If they flatten to more
// than maxFlat core values they are stored in memory as a tuple instead:
// at *outPtr when outPtr is given (a caller-supplied out-parameter;
// nothing is appended), else at memory allocated with realloc (its
// pointer is appended). The pointer must be aligned and in bounds.
func LowerValues(cx *LiftLowerContext, dst []uint64, maxFlat int, vs []Value, ts []*Type, outPtr *uint32) ([]uint64, error) {
	if len(vs) != len(ts) {
		return dst, abiTrapf("host passed %d values for %d types", len(vs), len(ts))
	}
	if !abiFlatOver(ts, maxFlat) {
		var err error
		for i, t := range ts {
			if dst, err = cx.abiLowerFlat(dst, vs[i], t); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	align, size := abiTupleLayout(ts)
	var ptr uint32
	if outPtr == nil {
		p, err := cx.abiAllocate(align, size)
		if err != nil {
			return dst, err
		}
		ptr = p
		dst = append(dst, uint64(ptr))
	} else {
		ptr = *outPtr
	}
	if _, err := cx.abiRegion(ptr, align, size); err != nil {
		return dst, err
	}
	var off uint64
	for i, t := range ts {
		ts, ta := abiLayout(t)
		off = abiAlignTo(off, ta)
		if err := cx.abiStore(vs[i], t, ptr+uint32(off)); err != nil {
			return dst, err
		}
		off += ts
	}
	return dst, nil
}
