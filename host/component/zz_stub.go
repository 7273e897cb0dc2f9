package component

import "fmt"

// Temporary stand-ins for the decoder's and the ABI's API (removed when they land).

type Value = any
type VariantValue struct {
	Case  uint32
	Value Value
}

func Some(v Value) VariantValue { return VariantValue{Case: 1, Value: v} }
func None() VariantValue       { return VariantValue{} }
func Ok(v Value) VariantValue   { return VariantValue{Case: 0, Value: v} }
func Err(v Value) VariantValue  { return VariantValue{Case: 1, Value: v} }

type LiftLowerContext struct {
	Memory   interface{ Read(uint32, uint32) ([]byte, bool) }
	Realloc  func(old, oldSize, align, newSize uint32) (uint32, error)
	Encoding StringEncoding
}
type CoreValueIter struct {
	Values []uint64
	I      int
}
type Trap struct{ Reason string }

func (t *Trap) Error() string { return "component trap: " + t.Reason }

const (
	MaxFlatParams      = 16
	MaxFlatResults     = 1
	MaxFlatAsyncParams = 4
)

func FlattenFunc(ft *FuncType, o CanonOpts, lift bool) CoreFuncType { return CoreFuncType{} }
func Flatten(t *Type) []CoreValType                                 { return nil }
func LiftValues(cx *LiftLowerContext, dst []Value, max int, vi *CoreValueIter, ts []*Type) ([]Value, error) {
	return nil, nil
}
func LowerValues(cx *LiftLowerContext, dst []uint64, max int, vals []Value, ts []*Type, out *uint32) ([]uint64, error) {
	return nil, nil
}
func Store(cx *LiftLowerContext, v Value, t *Type, ptr uint32) error { return nil }
func Load(cx *LiftLowerContext, ptr uint32, t *Type) (Value, error)  { return nil, nil }
func Size(t *Type) uint32                                            { return 0 }
func Align(t *Type) uint32                                           { return 1 }
func Decode(b []byte) (*Body, error)                                 { return nil, nil }
func IsComponent(b []byte) bool                                      { return false }
func IsCoreModule(b []byte) bool                                     { return false }

type UnsupportedError struct{ Construct string }

func (e *UnsupportedError) Error() string { return e.Construct }

var _ = fmt.Sprint
