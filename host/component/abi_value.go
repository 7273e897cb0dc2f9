package component

import "errors"

// Value is a component value as host code sees it. Its Go type follows
// the component type it is lifted from or lowered to:
//
//	bool                        bool
//	s8 s16 s32 s64              int8 int16 int32 int64
//	u8 u16 u32 u64              uint8 uint16 uint32 uint64
//	f32 f64                     float32 float64 (NaNs are canonical)
//	char                        rune (a Unicode scalar value)
//	string                      string (valid UTF-8, whatever the encoding in memory)
//	list<u8>, list<u8, N>       []byte
//	other lists                 []Value
//	map<k, v>                   []Value of []Value{key, value}
//	record, tuple               []Value, one element per field in order
//	variant, option, result     VariantValue
//	enum                        uint32 (the case index)
//	flags                       uint32 (bit i set: label i is set)
//	own, borrow, stream,
//	future, error-context       uint32 (a handle index, see LiftLowerContext)
//
// Lifting returns exactly these Go types. Lowering also takes []Value of
// uint8 for a list<u8>; lowering a Value of any other Go type, or of the
// right Go type but impossible for the component type (an enum index past
// the last case, a fixed-length list of another length, an invalid rune,
// a string that is not UTF-8, a payload for a case without one), is a
// *Trap. Flags bits past the last label are dropped both ways, as the
// canonical ABI packs and unpacks labels only.
type Value = any

// VariantValue is a value of a variant, option or result: the index of
// its case and the case's payload (nil for a case without one). Options
// have cases none (0) and some (1); results have ok (0) and error (1).
type VariantValue struct {
	Case  uint32
	Value Value
}

// Some is the option value that holds v.
func Some(v Value) VariantValue { return VariantValue{Case: 1, Value: v} }

// None is the empty option value.
func None() VariantValue { return VariantValue{} }

// Ok is the ok result holding v (nil for result<_, E>).
func Ok(v Value) VariantValue { return VariantValue{Case: 0, Value: v} }

// Err is the error result holding v (nil for result<T> and result).
func Err(v Value) VariantValue { return VariantValue{Case: 1, Value: v} }

// Memory is a guest's linear memory. wazero's api.Memory implements it.
// Read returns a view, not a copy: writing to it writes guest memory. A
// view is valid only until the guest runs again (a realloc may grow the
// memory and move it), so the ABI reads again after every realloc.
type Memory interface {
	Read(offset, byteCount uint32) ([]byte, bool)
}

// LiftLowerContext is what lifting and lowering need from the canonical
// options and the runtime: the canonical ABI's LiftLowerContext. The ABI
// functions keep no state of their own, in the context or elsewhere.
type LiftLowerContext struct {
	// Memory is the `memory` option; nil when absent, and then lifting or
	// lowering anything kept in memory traps.
	Memory Memory
	// Realloc calls the `realloc` option (old pointer, old size,
	// alignment, new size → new pointer); nil when absent, and then
	// lowering anything that needs memory allocated traps. An error it
	// returns (the guest trapped) is returned unchanged.
	Realloc func(oldPtr, oldSize, align, newSize uint32) (uint32, error)
	// Encoding is the `string-encoding` option.
	Encoding StringEncoding
	// LiftHandle turns the handle index h of an own, borrow, stream,
	// future or error-context of type t, read from the guest, into the
	// uint32 the host sees; LowerHandle does the reverse for a value the
	// host passes. The runtime moves ownership between handle tables
	// here; a nil hook passes the index through. Hooks run while memory
	// views are held and must not call into the guest.
	LiftHandle  func(t *Type, h uint32) (uint32, error)
	LowerHandle func(t *Type, h uint32) (uint32, error)
}

// The canonical ABI's limits.
const (
	// MaxFlatParams is the number of core parameters a function passes
	// flat before they go through memory.
	MaxFlatParams = 16
	// MaxFlatAsyncParams is MaxFlatParams for an async lowered call.
	MaxFlatAsyncParams = 4
	// MaxFlatResults is the number of core results a function returns
	// flat before they go through memory.
	MaxFlatResults = 1
	// MaxStringByteLength is the most bytes a string may take in memory,
	// so that it fits a 32-bit realloc in any other encoding.
	MaxStringByteLength = 1<<28 - 1
	// MaxListByteLength is the same bound for a list.
	MaxListByteLength = 1<<28 - 1
	// UTF16Tag is the bit of a latin1+utf16 string's code unit count
	// that says the string is UTF-16.
	UTF16Tag = 1 << 31
)

// ErrMemory64 is the error of CheckMemoryAddrType for a 64-bit memory.
var ErrMemory64 = errors.New("component: canonical options name a 64-bit memory; only 32-bit memories are supported")

// CheckMemoryAddrType checks the address type of a memory named by the
// canonical options: this implementation lays values out for 32-bit
// memories only (pointers and lengths are i32).
func CheckMemoryAddrType(addr CoreValType) error {
	if addr != CoreI32 {
		return ErrMemory64
	}
	return nil
}

// CoreValueIter reads core values in order, as lifting consumes them.
// Core values use wazero's encoding: an i32 in the low 32 bits (upper
// bits ignored), an f32 as its IEEE bits in the low 32 bits, an f64 as
// its IEEE bits.
type CoreValueIter struct {
	// Values are the core values, in order.
	Values []uint64
	// I is the index of the next value.
	I int
}

// Next returns the next core value. Running out is an error of the
// caller (the core function type says how many values there are), and
// is reported as a *Trap rather than a panic.
func (vi *CoreValueIter) Next() (uint64, error) {
	if vi.I >= len(vi.Values) {
		return 0, abiErrFewValues
	}
	v := vi.Values[vi.I]
	vi.I++
	return v, nil
}

// Done reports whether every value was read.
func (vi *CoreValueIter) Done() bool { return vi.I >= len(vi.Values) }

func (vi *CoreValueIter) next32() (uint32, error) {
	v, err := vi.Next()
	return uint32(v), err
}

var abiErrFewValues = &Trap{Reason: "too few core values for the lifted types"}
