package component

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
)

// The vectors of testdata/abi/spec_vectors.jsonl.gz are what the canonical
// ABI's executable specification (definitions.py) computes for random
// types and values; gen_spec_vectors.py documents them. TestABISpecVectors
// runs the same operations here and wants the same realloc calls, the same
// bytes in memory, the same core values, the same lifted values and traps
// where it traps.

type abiVector struct {
	Op       string
	Type     json.RawMessage
	Types    []json.RawMessage
	Value    json.RawMessage
	Values   []json.RawMessage
	Enc      string
	Size     uint32
	Align    uint32
	Flat     []string
	Ptr      uint64
	Calls    [][5]uint32
	Mem      string
	Flatvals []json.Number
	MaxFlat  int     `json:"max_flat"`
	OutPtr   *uint32 `json:"out_ptr"`
	Trap     bool
	// Function types.
	Params      []json.RawMessage
	Result      json.RawMessage
	Async       bool
	Callback    bool
	Lift        bool
	CoreParams  []string `json:"core_params"`
	CoreResults []string `json:"core_results"`
}

type abiJSONType struct {
	K      string
	E      json.RawMessage
	N      uint32
	F      []json.RawMessage
	C      []json.RawMessage
	Labels int
	Ok     json.RawMessage
	Err    json.RawMessage
	Key    json.RawMessage
}

func abiParseType(raw json.RawMessage) (*Type, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var jt abiJSONType
	if err := json.Unmarshal(raw, &jt); err != nil {
		return nil, err
	}
	t := &Type{}
	for k, name := range kindNames {
		if name == jt.K && name != "" {
			t.Kind = Kind(k)
		}
	}
	if t.Kind == 0 {
		return nil, fmt.Errorf("kind %q", jt.K)
	}
	var err error
	sub := func(raw json.RawMessage) *Type {
		s, e := abiParseType(raw)
		if e != nil {
			err = e
		}
		return s
	}
	switch t.Kind {
	case Own, Borrow:
		t.Resource = abiTestResource
	case Enum, Flags:
		t.Labels = abiLabels(jt.Labels)
	case List, Option, Stream, Future:
		t.Elem, t.Len = sub(jt.E), jt.N
	case Map:
		t.Key, t.Elem = sub(jt.Key), sub(jt.E)
	case Record, Tuple:
		for i, f := range jt.F {
			t.Fields = append(t.Fields, Field{Name: "f" + strconv.Itoa(i), Type: sub(f)})
		}
	case Variant:
		for i, c := range jt.C {
			t.Cases = append(t.Cases, Case{Name: "c" + strconv.Itoa(i), Type: sub(c)})
		}
	case Result:
		t.Ok, t.Err = sub(jt.Ok), sub(jt.Err)
	}
	return t, err
}

func abiParseValue(t *Type, raw json.RawMessage) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return abiFromJSON(t, x)
}

func abiFromJSON(t *Type, x any) (Value, error) {
	num := func() (uint64, int64, error) {
		n, ok := x.(json.Number)
		if !ok {
			return 0, 0, fmt.Errorf("%s: %#v is not a number", t, x)
		}
		if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			return u, int64(u), nil
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return uint64(i), i, err
	}
	switch t.Kind {
	case Bool:
		b, ok := x.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: %#v", t, x)
		}
		return b, nil
	case String:
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %#v", t, x)
		}
		return s, nil
	case S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, Char, Enum, Flags, ErrorContext, Own, Borrow, Stream, Future:
		u, i, err := num()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case S8:
			return int8(i), nil
		case U8:
			return uint8(u), nil
		case S16:
			return int16(i), nil
		case U16:
			return uint16(u), nil
		case S32:
			return int32(i), nil
		case S64:
			return i, nil
		case U64:
			return u, nil
		case F32:
			return math.Float32frombits(uint32(u)), nil
		case F64:
			return math.Float64frombits(u), nil
		case Char:
			return rune(u), nil
		}
		return uint32(u), nil
	case List, Map, Record, Tuple:
		xs, ok := x.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: %#v", t, x)
		}
		elem := func(i int) *Type {
			switch t.Kind {
			case Record, Tuple:
				return t.Fields[i].Type
			case Map:
				return abiPair(t)
			}
			return t.Elem
		}
		if t.Kind == List && t.Elem.Kind == U8 {
			bs := make([]byte, len(xs))
			for i, e := range xs {
				v, err := abiFromJSON(U8Type, e)
				if err != nil {
					return nil, err
				}
				bs[i] = v.(uint8)
			}
			return bs, nil
		}
		vs := make([]Value, len(xs))
		for i, e := range xs {
			v, err := abiFromJSON(elem(i), e)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return vs, nil
	case Variant, Option, Result:
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %#v", t, x)
		}
		c, err := strconv.Atoi(string(m["c"].(json.Number)))
		if err != nil {
			return nil, err
		}
		vv := VariantValue{Case: uint32(c)}
		if pt := abiCaseType(t, c); pt != nil {
			if vv.Value, err = abiFromJSON(pt, m["v"]); err != nil {
				return nil, err
			}
		}
		return vv, nil
	}
	return nil, fmt.Errorf("kind %s", t.Kind)
}

var abiEncodingNames = map[string]StringEncoding{"utf8": UTF8, "utf16": UTF16, "latin1+utf16": Latin1UTF16}

func abiCoreNames(ts []CoreValType) []string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return s
}

func TestABISpecVectors(t *testing.T) {
	f, err := os.Open("testdata/abi/spec_vectors.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	sc.Scan() // the header
	n := 0
	for sc.Scan() {
		n++
		var v abiVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("vector %d: %v", n, err)
		}
		if err := abiRunVector(&v); err != nil {
			t.Errorf("vector %d (%s): %v\n%s", n, v.Op, err, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 3000 {
		t.Fatalf("only %d vectors", n)
	}
}

func abiRunVector(v *abiVector) error {
	if v.Op == "functype" {
		return abiRunFuncVector(v)
	}
	var ts []*Type
	var vs []Value
	if v.Type != nil {
		ty, err := abiParseType(v.Type)
		if err != nil {
			return err
		}
		ts = []*Type{ty}
		if v.Value != nil && !v.Trap {
			val, err := abiParseValue(ty, v.Value)
			if err != nil {
				return err
			}
			vs = []Value{val}
		}
	}
	for i, raw := range v.Types {
		ty, err := abiParseType(raw)
		if err != nil {
			return err
		}
		ts = append(ts, ty)
		if v.Values != nil {
			val, err := abiParseValue(ty, v.Values[i])
			if err != nil {
				return err
			}
			vs = append(vs, val)
		}
	}
	if v.Op == "lift_values" && !v.Trap {
		var raws []json.RawMessage
		if err := json.Unmarshal(v.Value, &raws); err != nil {
			return err
		}
		for i, raw := range raws {
			val, err := abiParseValue(ts[i], raw)
			if err != nil {
				return err
			}
			vs = append(vs, val)
		}
	}
	enc := abiEncodingNames[v.Enc]
	var flat []uint64
	for _, x := range v.Flatvals {
		u, err := strconv.ParseUint(string(x), 10, 64)
		if err != nil {
			return err
		}
		flat = append(flat, u)
	}
	mem, err := hex.DecodeString(v.Mem)
	if err != nil {
		return err
	}

	var m *abiFakeMem
	switch v.Op {
	case "store", "lower_flat", "lower_values":
		m = newABIFakeMem(1<<16, 16)
		m.bad = -1
	default:
		m = &abiFakeMem{buf: mem, bad: -1}
	}
	cx := m.cx(enc)
	cx.LiftHandle = func(_ *Type, h uint32) (uint32, error) { return h ^ 0x5a5a5a5a, nil }
	cx.LowerHandle = cx.LiftHandle

	// checkMemory compares the realloc calls and the memory image.
	checkMemory := func() error {
		var calls [][5]uint32
		for _, c := range m.calls {
			calls = append(calls, [5]uint32{c.Old, c.OldSize, c.Align, c.NewSize, c.Ret})
		}
		if !slices.Equal(calls, v.Calls) {
			return fmt.Errorf("realloc calls %v, spec %v", calls, v.Calls)
		}
		if got := hex.EncodeToString(m.buf[:m.top]); got != v.Mem {
			return fmt.Errorf("memory\n%s, spec\n%s", got, v.Mem)
		}
		return nil
	}
	// checkLifted compares a lift's outcome with the spec's.
	checkLifted := func(got []Value, err error) error {
		if v.Trap {
			if !isTrap(err) {
				return fmt.Errorf("lifted %#v, %v; the spec traps", got, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%v; the spec lifts %s", err, v.Value)
		}
		for i := range ts {
			if err := abiEqual(ts[i], vs[i], got[i]); err != nil {
				return err
			}
		}
		return nil
	}

	switch v.Op {
	case "store":
		ty := ts[0]
		if Size(ty) != v.Size || Align(ty) != v.Align || !slices.Equal(abiCoreNames(Flatten(ty)), v.Flat) {
			return fmt.Errorf("layout: size %d align %d flat %v; spec %d %d %v",
				Size(ty), Align(ty), Flatten(ty), v.Size, v.Align, v.Flat)
		}
		ptr, _ := m.realloc(0, 0, Align(ty), Size(ty))
		if err := Store(cx, vs[0], ty, ptr); err != nil {
			return err
		}
		return checkMemory()
	case "lower_flat":
		got, err := LowerFlat(cx, nil, vs[0], ts[0])
		if err != nil {
			return err
		}
		if !slices.Equal(got, flat) {
			return fmt.Errorf("core values %#x, spec %#x", got, flat)
		}
		return checkMemory()
	case "lower_values":
		if v.OutPtr != nil {
			a, s := abiTupleLayout(ts)
			m.realloc(0, 0, a, uint32(s))
		}
		got, err := LowerValues(cx, nil, v.MaxFlat, vs, ts, v.OutPtr)
		if err != nil {
			return err
		}
		if !slices.Equal(got, flat) {
			return fmt.Errorf("core values %#x, spec %#x", got, flat)
		}
		return checkMemory()
	case "load":
		got, err := Load(cx, uint32(v.Ptr), ts[0])
		return checkLifted([]Value{got}, err)
	case "lift_values":
		vi := &CoreValueIter{Values: flat}
		got, err := LiftValues(cx, nil, v.MaxFlat, vi, ts)
		return checkLifted(got, err)
	}
	return fmt.Errorf("unknown op %q", v.Op)
}

func abiRunFuncVector(v *abiVector) error {
	ft := &FuncType{Async: v.Async}
	for i, raw := range v.Params {
		ty, err := abiParseType(raw)
		if err != nil {
			return err
		}
		ft.Params = append(ft.Params, Param{Name: "p" + strconv.Itoa(i), Type: ty})
	}
	var err error
	if ft.Result, err = abiParseType(v.Result); err != nil {
		return err
	}
	opts := NoOpts
	opts.Async = v.Async
	if v.Callback {
		opts.Callback = 0
	}
	got := FlattenFunc(ft, opts, v.Lift)
	if !slices.Equal(abiCoreNames(got.Params), v.CoreParams) || !slices.Equal(abiCoreNames(got.Results), v.CoreResults) {
		return fmt.Errorf("FlattenFunc = %v -> %v, spec %v -> %v", got.Params, got.Results, v.CoreParams, v.CoreResults)
	}
	return nil
}
