package component

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"pgregory.net/rapid"
)

// abiFakeMem is a linear memory with a bump allocator for realloc. Every
// realloc moves the whole memory to a new backing array, as a growing
// wazero memory may, so a view read before a realloc no longer writes
// guest memory: code that forgets to read again loses its writes.
type abiFakeMem struct {
	buf []byte
	top uint32
	// limit is the most the memory grows to.
	limit uint32
	// inPlace makes a shrinking realloc keep its pointer.
	inPlace bool
	// misalign and outOfBounds make realloc return a bad pointer on the
	// call numbered bad (0: the first).
	misalign, outOfBounds bool
	bad                   int
	calls                 []abiReallocCall
	// bytesRead and reads count what Read returned, to bound what a lift
	// may allocate.
	bytesRead uint64
	reads     int
}

type abiReallocCall struct {
	Old, OldSize, Align, NewSize, Ret uint32
}

func newABIFakeMem(size, base uint32) *abiFakeMem {
	return &abiFakeMem{buf: make([]byte, size), top: base, limit: 1 << 24}
}

func (m *abiFakeMem) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.buf)) {
		return nil, false
	}
	m.bytesRead += uint64(n)
	m.reads++
	return m.buf[off : off+n : off+n], true
}

func (m *abiFakeMem) realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	call := len(m.calls)
	var p uint32
	if m.inPlace && old != 0 && newSize <= oldSize {
		p = old
	} else {
		p = uint32(abiAlignTo(uint64(m.top), align))
		end := uint64(p) + uint64(newSize)
		if end > uint64(m.limit) {
			return 0, fmt.Errorf("fake realloc: out of memory allocating %d bytes", newSize)
		}
		m.top = uint32(end)
	}
	// Move everything, growing if needed: old views go stale.
	nb := make([]byte, max(len(m.buf), int(m.top)))
	copy(nb, m.buf)
	if p != old {
		copy(nb[p:p+min(oldSize, newSize)], m.buf[old:])
	}
	m.buf = nb
	if call == m.bad {
		switch {
		case m.misalign && align > 1:
			p++
		case m.outOfBounds:
			p = uint32(len(m.buf)) + 1
		}
	}
	m.calls = append(m.calls, abiReallocCall{old, oldSize, align, newSize, p})
	return p, nil
}

func (m *abiFakeMem) cx(enc StringEncoding) *LiftLowerContext {
	return &LiftLowerContext{Memory: m, Realloc: m.realloc, Encoding: enc}
}

// The generators draw valid types (as a decoder would accept) and values
// of them.

var abiTestResource = &ResourceType{Name: "res"}

var abiLeafKinds = []Kind{Bool, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, Char, String,
	ErrorContext, Own, Borrow, Enum, Flags}

var abiNodeKinds = []Kind{List, List, Record, Tuple, Variant, Option, Result, Map, Stream, Future}

func abiGenType(depth int) *rapid.Generator[*Type] {
	return rapid.Custom(func(t *rapid.T) *Type { return abiDrawType(t, depth) })
}

func abiLabels(n int) []string {
	ls := make([]string, n)
	for i := range ls {
		ls[i] = "l" + strconv.Itoa(i)
	}
	return ls
}

func abiDrawType(t *rapid.T, depth int) *Type {
	kinds := abiLeafKinds
	if depth > 0 && rapid.IntRange(0, 2).Draw(t, "node") > 0 {
		kinds = abiNodeKinds
	}
	k := rapid.SampledFrom(kinds).Draw(t, "kind")
	sub := func(label string) *Type { return abiDrawType(t, depth-1) }
	opt := func(label string) *Type {
		if rapid.IntRange(0, 3).Draw(t, label+"-none") == 0 {
			return nil
		}
		return sub(label)
	}
	switch k {
	case Enum, Flags:
		max := 40
		if k == Flags {
			max = 32
		}
		n := rapid.IntRange(1, max).Draw(t, "labels")
		if k == Enum && rapid.IntRange(0, 9).Draw(t, "many") == 0 {
			n = rapid.SampledFrom([]int{256, 257, 300}).Draw(t, "labels-many")
		}
		return &Type{Kind: k, Labels: abiLabels(n)}
	case Own, Borrow:
		return &Type{Kind: k, Resource: abiTestResource}
	case List:
		ty := &Type{Kind: List, Elem: sub("elem")}
		if rapid.IntRange(0, 2).Draw(t, "fixed") == 0 {
			ty.Len = uint32(rapid.IntRange(1, 4).Draw(t, "len"))
		}
		return ty
	case Record, Tuple:
		n := rapid.IntRange(1, 5).Draw(t, "fields")
		ty := &Type{Kind: k, Fields: make([]Field, n)}
		for i := range ty.Fields {
			ty.Fields[i] = Field{Name: "f" + strconv.Itoa(i), Type: sub("field")}
		}
		return ty
	case Variant:
		n := rapid.IntRange(1, 4).Draw(t, "cases")
		if rapid.IntRange(0, 19).Draw(t, "many") == 0 {
			n = 260
		}
		ty := &Type{Kind: Variant, Cases: make([]Case, n)}
		for i := range ty.Cases {
			ty.Cases[i].Name = "c" + strconv.Itoa(i)
			if i < 6 {
				ty.Cases[i].Type = opt("case")
			}
		}
		return ty
	case Option:
		return &Type{Kind: Option, Elem: sub("some")}
	case Result:
		return &Type{Kind: Result, Ok: opt("ok"), Err: opt("err")}
	case Map:
		return &Type{Kind: Map, Key: abiDrawType(t, 0), Elem: sub("value")}
	case Stream, Future:
		return &Type{Kind: k, Elem: opt("elem")}
	}
	return &Type{Kind: k}
}

func abiGenValue(ty *Type) *rapid.Generator[Value] {
	return rapid.Custom(func(t *rapid.T) Value { return abiDrawValue(t, ty) })
}

var abiSpecialF32 = []float32{0, float32(math.Copysign(0, -1)), 1.5, float32(math.Inf(1)), float32(math.Inf(-1)),
	math.Float32frombits(0x7fc00000), math.Float32frombits(0x7fa00001), math.Float32frombits(0xffc00000),
	math.SmallestNonzeroFloat32, math.MaxFloat32}

var abiSpecialF64 = []float64{0, math.Copysign(0, -1), 1.5, math.Inf(1), math.Inf(-1),
	math.Float64frombits(0x7ff8000000000000), math.Float64frombits(0x7ff0000000000001),
	math.Float64frombits(0xfff8000000000000), math.SmallestNonzeroFloat64, math.MaxFloat64}

// abiDrawString draws ASCII-only, Latin-1, BMP and astral strings, so
// every path of the string transcoders runs.
func abiDrawString(t *rapid.T) string {
	widest := rapid.IntRange(1, 4).Draw(t, "widest")
	n := rapid.IntRange(0, 12).Draw(t, "strlen")
	var sb strings.Builder
	for range n {
		sb.WriteRune(abiDrawCharUpTo(t, widest))
	}
	return sb.String()
}

func abiDrawChar(t *rapid.T) rune { return abiDrawCharUpTo(t, 4) }

// abiDrawCharUpTo draws a scalar value of class 0 or 1 (ASCII, twice as
// likely), 2 (Latin-1), 3 (BMP) or 4 (astral), up to class widest.
func abiDrawCharUpTo(t *rapid.T, widest int) rune {
	switch rapid.IntRange(0, widest).Draw(t, "char-class") {
	case 0, 1:
		return rune(rapid.IntRange(0, 0x7f).Draw(t, "c"))
	case 2:
		return rune(rapid.IntRange(0x80, 0xff).Draw(t, "c"))
	case 3:
		if rapid.Bool().Draw(t, "high") {
			return rune(rapid.IntRange(0xe000, 0xffff).Draw(t, "c"))
		}
		return rune(rapid.IntRange(0x100, 0xd7ff).Draw(t, "c"))
	}
	return rune(rapid.IntRange(0x10000, 0x10ffff).Draw(t, "c"))
}

func abiDrawValue(t *rapid.T, ty *Type) Value {
	switch ty.Kind {
	case Bool:
		return rapid.Bool().Draw(t, "bool")
	case S8:
		return rapid.Int8().Draw(t, "s8")
	case U8:
		return rapid.Uint8().Draw(t, "u8")
	case S16:
		return rapid.Int16().Draw(t, "s16")
	case U16:
		return rapid.Uint16().Draw(t, "u16")
	case S32:
		return rapid.Int32().Draw(t, "s32")
	case U32:
		return rapid.Uint32().Draw(t, "u32")
	case S64:
		return rapid.Int64().Draw(t, "s64")
	case U64:
		return rapid.Uint64().Draw(t, "u64")
	case F32:
		if rapid.Bool().Draw(t, "special") {
			return rapid.SampledFrom(abiSpecialF32).Draw(t, "f32")
		}
		return math.Float32frombits(rapid.Uint32().Draw(t, "f32bits"))
	case F64:
		if rapid.Bool().Draw(t, "special") {
			return rapid.SampledFrom(abiSpecialF64).Draw(t, "f64")
		}
		return math.Float64frombits(rapid.Uint64().Draw(t, "f64bits"))
	case Char:
		return abiDrawChar(t)
	case String:
		return abiDrawString(t)
	case ErrorContext, Own, Borrow, Stream, Future:
		return rapid.Uint32().Draw(t, "handle")
	case Enum:
		return uint32(rapid.IntRange(0, len(ty.Labels)-1).Draw(t, "enum"))
	case Flags:
		return rapid.Uint32().Draw(t, "flags") & abiFlagsMask(len(ty.Labels))
	case List, Map:
		n := int(ty.Len)
		if n == 0 {
			n = rapid.IntRange(0, 5).Draw(t, "n")
		}
		elem := ty.Elem
		if ty.Kind == Map {
			elem = abiPair(ty)
		}
		if elem.Kind == U8 {
			return rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "bytes")
		}
		vs := make([]Value, n)
		for i := range vs {
			vs[i] = abiDrawValue(t, elem)
		}
		return vs
	case Record, Tuple:
		vs := make([]Value, len(ty.Fields))
		for i, f := range ty.Fields {
			vs[i] = abiDrawValue(t, f.Type)
		}
		return vs
	case Variant, Option, Result:
		c := rapid.IntRange(0, abiCaseCount(ty)-1).Draw(t, "case")
		var v Value
		if pt := abiCaseType(ty, c); pt != nil {
			v = abiDrawValue(t, pt)
		}
		return VariantValue{Case: uint32(c), Value: v}
	}
	panic("abiDrawValue: kind " + ty.Kind.String())
}

// abiEqual compares a value lifted with the value lowered: NaNs compare
// as the canonical NaN they become, empty lists as equal whatever their
// nil-ness, and everything else exactly (Go types included).
func abiEqual(ty *Type, want, got Value) error {
	switch ty.Kind {
	case F32:
		w, ok1 := want.(float32)
		g, ok2 := got.(float32)
		if !ok1 || !ok2 || math.Float32bits(abiF32(math.Float32bits(w))) != math.Float32bits(g) {
			return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
		}
		return nil
	case F64:
		w, ok1 := want.(float64)
		g, ok2 := got.(float64)
		if !ok1 || !ok2 || math.Float64bits(abiF64(math.Float64bits(w))) != math.Float64bits(g) {
			return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
		}
		return nil
	case List, Map:
		elem := ty.Elem
		if ty.Kind == Map {
			elem = abiPair(ty)
		}
		if elem.Kind == U8 {
			w, ok1 := want.([]byte)
			g, ok2 := got.([]byte)
			if !ok1 || !ok2 || !bytes.Equal(w, g) {
				return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
			}
			return nil
		}
		w, ok1 := want.([]Value)
		g, ok2 := got.([]Value)
		if !ok1 || !ok2 || len(w) != len(g) {
			return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
		}
		for i := range w {
			if err := abiEqual(elem, w[i], g[i]); err != nil {
				return fmt.Errorf("[%d] %w", i, err)
			}
		}
		return nil
	case Record, Tuple:
		w, ok1 := want.([]Value)
		g, ok2 := got.([]Value)
		if !ok1 || !ok2 || len(w) != len(ty.Fields) || len(g) != len(ty.Fields) {
			return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
		}
		for i, f := range ty.Fields {
			if err := abiEqual(f.Type, w[i], g[i]); err != nil {
				return fmt.Errorf(".%s %w", f.Name, err)
			}
		}
		return nil
	case Variant, Option, Result:
		w, ok1 := want.(VariantValue)
		g, ok2 := got.(VariantValue)
		if !ok1 || !ok2 || w.Case != g.Case {
			return fmt.Errorf("%s: want %#v, got %#v", ty, want, got)
		}
		if pt := abiCaseType(ty, int(w.Case)); pt != nil {
			return abiEqual(pt, w.Value, g.Value)
		}
		if g.Value != nil {
			return fmt.Errorf("%s: payload %#v for a case without one", ty, g.Value)
		}
		return nil
	}
	if want != got {
		return fmt.Errorf("%s: want %T(%#v), got %T(%#v)", ty, want, want, got, got)
	}
	return nil
}

func isTrap(err error) bool {
	var trap *Trap
	return errors.As(err, &trap)
}

// abiFlatCountAll is the flat count of a list of types.
func abiFlatCountAll(ts []*Type) int {
	n := 0
	for _, t := range ts {
		n += FlatCount(t)
	}
	return n
}
