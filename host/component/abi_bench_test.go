package component

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The benchmarks run against a real wazero memory, with a bump allocator
// in Go standing in for the guest's realloc (whose call cost is not the
// ABI's), so what they measure is the ABI's own work.
//
//	go test -run '^$' -bench ABI -benchmem ./host/component/

// abiMemoryModule is (module (memory (export "memory") 4)).
var abiMemoryModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x04,
	0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
}

type abiBench struct {
	mem api.Memory
	top uint32
}

func newABIBench(b *testing.B) *abiBench {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	b.Cleanup(func() { r.Close(ctx) })
	mod, err := r.Instantiate(ctx, abiMemoryModule)
	if err != nil {
		b.Fatal(err)
	}
	return &abiBench{mem: mod.Memory(), top: 1024}
}

func (a *abiBench) realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	if old != 0 && newSize <= oldSize {
		return old, nil
	}
	p := uint32(abiAlignTo(uint64(a.top), align))
	a.top = p + newSize
	return p, nil
}

func (a *abiBench) cx(enc StringEncoding) *LiftLowerContext {
	return &LiftLowerContext{Memory: a.mem, Realloc: a.realloc, Encoding: enc}
}

// BenchmarkABILowerBytes64K lowers a list<u8> of 64 KiB (a read of a
// file or socket returned to the guest): one allocation in the guest and
// one copy.
func BenchmarkABILowerBytes64K(b *testing.B) {
	a := newABIBench(b)
	cx := a.cx(UTF8)
	data := make([]byte, 64<<10)
	ty := abiList(U8Type)
	dst := make([]uint64, 0, 2)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a.top = 1024
		if _, err := LowerFlat(cx, dst, data, ty); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkABILiftBytes64K lifts a list<u8> of 64 KiB (a write from the
// guest): one Go allocation and one copy.
func BenchmarkABILiftBytes64K(b *testing.B) {
	a := newABIBench(b)
	cx := a.cx(UTF8)
	ty := abiList(U8Type)
	flat := []uint64{1024, 64 << 10}
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LiftFlat(cx, &CoreValueIter{Values: flat}, ty); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkABILiftStringParam lifts the parameters (borrow<descriptor>,
// path: string) of a call like open-at, for paths of 16 and 256 bytes in
// each string encoding.
func BenchmarkABILiftStringParam(b *testing.B) {
	for _, n := range []int{16, 256} {
		for _, enc := range abiEncodings {
			b.Run(enc.String()+"/"+itoa(n), func(b *testing.B) {
				a := newABIBench(b)
				cx := a.cx(enc)
				path := strings.Repeat("dir/", n/4)
				flat, err := LowerValues(cx, nil, MaxFlatParams, []Value{uint32(3), path}, []*Type{abiHandle(Borrow, nil), StringType}, nil)
				if err != nil {
					b.Fatal(err)
				}
				ts := []*Type{abiHandle(Borrow, nil), StringType}
				dst := make([]Value, 0, 2)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := LiftValues(cx, dst, MaxFlatParams, &CoreValueIter{Values: flat}, ts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func abiStatValue() Value {
	ts := Some([]Value{uint64(1700000000), uint32(123456789)})
	return []Value{uint32(3), uint64(1), uint64(4096), ts, ts, None()}
}

// BenchmarkABILowerStat lowers the result of stat, result<descriptor-stat,
// error-code>: more than one core result, so the host writes it through
// the guest's out-pointer.
func BenchmarkABILowerStat(b *testing.B) {
	a := newABIBench(b)
	cx := a.cx(UTF8)
	ts := []*Type{abiResult(abiDescriptorStat, abiEnum(37))}
	vs := []Value{Ok(abiStatValue())}
	out := uint32(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LowerValues(cx, nil, MaxFlatResults, vs, ts, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkABILiftStat lifts the same result from memory.
func BenchmarkABILiftStat(b *testing.B) {
	a := newABIBench(b)
	cx := a.cx(UTF8)
	ty := abiResult(abiDescriptorStat, abiEnum(37))
	if err := Store(cx, Ok(abiStatValue()), ty, 1024); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(cx, 1024, ty); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkABIScalars lowers and lifts (u32, u64, f64) flat, the shape of
// most calls: lowering appends to a reused slice; lifting boxes values.
func BenchmarkABIScalars(b *testing.B) {
	cx := &LiftLowerContext{}
	ts := []*Type{U32Type, U64Type, F64Type}
	vs := []Value{uint32(1 << 20), uint64(1 << 40), 1.5}
	flat := make([]uint64, 0, 3)
	dst := make([]Value, 0, 3)
	b.Run("lower", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := LowerValues(cx, flat, MaxFlatParams, vs, ts, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lift", func(b *testing.B) {
		in := []uint64{1 << 20, 1 << 40, 0x3ff8000000000000}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := LiftValues(cx, dst, MaxFlatParams, &CoreValueIter{Values: in}, ts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkABIFlattenFunc is the linker's work per function type.
func BenchmarkABIFlattenFunc(b *testing.B) {
	ft := &FuncType{Params: abiParams(abiHandle(Borrow, nil), StringType), Result: abiResult(abiDescriptorStat, abiEnum(37))}
	b.ReportAllocs()
	for b.Loop() {
		FlattenFunc(ft, NoOpts, false)
	}
}
