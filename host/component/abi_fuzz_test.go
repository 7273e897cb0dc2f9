package component

import (
	"runtime"
	"testing"

	"github.com/wasisim/wasisim/internal/soak"
	"pgregory.net/rapid"
)

// The fuzz targets lift random types from random memory and core values.
// Whatever the bytes, lifting returns a value or a *Trap (never panics),
// allocates only in proportion to the bytes it read from memory (so no
// guest-supplied length is trusted before its bytes are known to exist),
// and a value it returns lowers and lifts again to itself.
//
//	go test -run '^$' -fuzz FuzzABILoad -fuzztime 2m ./host/component/
//	go test -run '^$' -fuzz FuzzABILiftValues -fuzztime 2m ./host/component/

// abiDrawMemory draws a memory and a pointer into it for lifting a value
// of type ty: either a stored value of ty with some bytes changed, or
// words that are often small (so they work as pointers and lengths),
// special (surrogates, the UTF-16 tag, the limits) or anything.
func abiDrawMemory(t *rapid.T, ty *Type, enc StringEncoding) (*abiFakeMem, uint32) {
	var mem []byte
	var ptr uint32
	if ty != nil && rapid.Bool().Draw(t, "stored") {
		m := newABIFakeMem(64, 8)
		p, err := m.realloc(0, 0, Align(ty), Size(ty))
		if err != nil {
			t.Fatal(err)
		}
		if err := Store(m.cx(enc), abiDrawValue(t, ty), ty, p); err != nil {
			t.Fatalf("Store: %v", err)
		}
		mem, ptr = append(m.buf[:m.top:m.top], make([]byte, rapid.IntRange(0, 8).Draw(t, "slack"))...), p
	} else {
		size := rapid.OneOf(rapid.IntRange(0, 64), rapid.IntRange(64, 1024)).Draw(t, "mem-size")
		mem = make([]byte, size)
		word := rapid.OneOf(
			rapid.Uint32Range(0, uint32(size)),
			rapid.Uint32Range(0, 16),
			rapid.SampledFrom([]uint32{0xd800, 0xdc00, 0x110000, UTF16Tag, UTF16Tag | 3, MaxListByteLength, 1 << 30, 0xffffffff}),
			rapid.Uint32(),
		)
		for i := 0; i+4 <= size; i += 4 {
			abiLE.PutUint32(mem[i:], word.Draw(t, "word"))
		}
		a := uint32(1)
		if ty != nil {
			a = Align(ty)
		}
		ptr = rapid.Uint32Range(0, uint32(size)/a).Draw(t, "ptr") * a
	}
	if len(mem) > 0 {
		for range rapid.IntRange(0, 3).Draw(t, "flips") {
			mem[rapid.IntRange(0, len(mem)-1).Draw(t, "at")] = rapid.SampledFrom([]byte{0, 1, 2, 0x80, 0xd8, 0xdc, 0xff}).Draw(t, "byte")
		}
	}
	if rapid.IntRange(0, 9).Draw(t, "any-ptr") == 0 {
		ptr = rapid.Uint32().Draw(t, "ptr")
	}
	return &abiFakeMem{buf: mem, bad: -1, limit: 1 << 20}, ptr
}

// abiFailingHooks are handle hooks that refuse some handles, as a
// runtime refuses a dead one.
func abiFailingHooks(cx *LiftLowerContext) {
	cx.LiftHandle = func(_ *Type, h uint32) (uint32, error) {
		if h%13 == 0 {
			return 0, &Trap{Reason: "dead handle"}
		}
		return h, nil
	}
}

// abiAllocBound is what lifting may allocate having read bytesRead bytes
// in reads reads: a small multiple per byte (each byte read makes at most
// a few boxed values, more when nested), a little per read, and a margin
// for the rest of the process.
func abiAllocBound(m *abiFakeMem) uint64 {
	return 512*m.bytesRead + 4096*uint64(m.reads) + 1<<20
}

func abiTotalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// abiCheckRelift lowers a lifted value into a fresh memory and lifts it
// back, both through memory and flat: it must come back unchanged.
func abiCheckRelift(t *rapid.T, enc StringEncoding, ts []*Type, vs []Value) {
	m := newABIFakeMem(64, 16)
	cx := m.cx(enc)
	for i, ty := range ts {
		ptr, err := m.realloc(0, 0, Align(ty), Size(ty))
		if err != nil {
			t.Fatal(err)
		}
		if err := Store(cx, vs[i], ty, ptr); err != nil {
			t.Fatalf("storing the lifted %s: %v", ty, err)
		}
		got, err := Load(cx, ptr, ty)
		if err != nil {
			t.Fatalf("loading the stored %s: %v", ty, err)
		}
		if err := abiEqual(ty, vs[i], got); err != nil {
			t.Fatalf("store/load of a lifted value: %v", err)
		}
		flat, err := LowerFlat(cx, nil, vs[i], ty)
		if err != nil {
			t.Fatalf("lowering the lifted %s: %v", ty, err)
		}
		if got, err = LiftFlat(cx, &CoreValueIter{Values: flat}, ty); err != nil {
			t.Fatalf("lifting the lowered %s: %v", ty, err)
		}
		if err := abiEqual(ty, vs[i], got); err != nil {
			t.Fatalf("lower/lift of a lifted value: %v", err)
		}
	}
}

func abiFuzzLoad(t *rapid.T) {
	ty := abiGenType(4).Draw(t, "type")
	enc := rapid.SampledFrom(abiEncodings).Draw(t, "encoding")
	m, ptr := abiDrawMemory(t, ty, enc)
	cx := m.cx(enc)
	abiFailingHooks(cx)
	before := abiTotalAlloc()
	v, err := Load(cx, ptr, ty)
	if used := abiTotalAlloc() - before; used > abiAllocBound(m) {
		t.Fatalf("Load %s allocated %d bytes having read %d in %d reads", ty, used, m.bytesRead, m.reads)
	}
	if err != nil {
		if !isTrap(err) {
			t.Fatalf("Load %s: %v is not a trap", ty, err)
		}
		return
	}
	abiCheckRelift(t, enc, []*Type{ty}, []Value{v})
}

func abiFuzzLiftValues(t *rapid.T) {
	ts := rapid.SliceOfN(abiGenType(3), 1, 4).Draw(t, "types")
	enc := rapid.SampledFrom(abiEncodings).Draw(t, "encoding")
	maxFlat := rapid.SampledFrom([]int{1, MaxFlatAsyncParams, MaxFlatParams}).Draw(t, "max-flat")
	n := 1
	if abiFlatCountAll(ts) <= maxFlat {
		n = abiFlatCountAll(ts)
	}
	var m *abiFakeMem
	var flat []uint64
	if rapid.Bool().Draw(t, "lowered") {
		// Core values and memory of lowered values, some changed.
		m = newABIFakeMem(64, 8)
		vs := make([]Value, len(ts))
		for i, ty := range ts {
			vs[i] = abiDrawValue(t, ty)
		}
		var err error
		if flat, err = LowerValues(m.cx(enc), nil, maxFlat, vs, ts, nil); err != nil {
			t.Fatalf("LowerValues: %v", err)
		}
		m.buf = append(m.buf[:m.top:m.top], make([]byte, rapid.IntRange(0, 8).Draw(t, "slack"))...)
		m.calls, m.bytesRead, m.reads = nil, 0, 0
	} else {
		m, _ = abiDrawMemory(t, nil, enc)
		flat = make([]uint64, n)
	}
	size := uint64(len(m.buf))
	core := rapid.OneOf(
		rapid.Uint64Range(0, size),
		rapid.Uint64Range(0, 16),
		rapid.SampledFrom([]uint64{0xd800, 0x110000, UTF16Tag | 2, 0x7fc00001, 0x7ff0000000000001, 1 << 32}),
		rapid.Uint64(),
	)
	for range rapid.IntRange(0, n).Draw(t, "changes") {
		flat[rapid.IntRange(0, n-1).Draw(t, "at")] = core.Draw(t, "core")
	}
	for range rapid.IntRange(0, 2).Draw(t, "flips") {
		if len(m.buf) > 0 {
			m.buf[rapid.IntRange(0, len(m.buf)-1).Draw(t, "at")] = rapid.Byte().Draw(t, "byte")
		}
	}
	cx := m.cx(enc)
	abiFailingHooks(cx)
	vi := &CoreValueIter{Values: flat}
	before := abiTotalAlloc()
	vs, err := LiftValues(cx, nil, maxFlat, vi, ts)
	if used := abiTotalAlloc() - before; used > abiAllocBound(m)+uint64(64*len(flat)) {
		t.Fatalf("LiftValues allocated %d bytes having read %d in %d reads", used, m.bytesRead, m.reads)
	}
	if err != nil {
		if !isTrap(err) {
			t.Fatalf("LiftValues: %v is not a trap", err)
		}
		return
	}
	if !vi.Done() {
		t.Fatalf("LiftValues read %d of %d core values", vi.I, len(flat))
	}
	abiCheckRelift(t, enc, ts, vs)
}

// abiFuzzSeeds are pseudo-random inputs long enough for rapid to draw a
// whole case from.
func abiFuzzSeeds(f *testing.F) {
	x := uint64(0x5eed)
	for _, n := range []int{64, 512, 4096, 16384} {
		b := make([]byte, n)
		for i := range b {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[i] = byte(x)
		}
		f.Add(b)
	}
}

func FuzzABILoad(f *testing.F) {
	abiFuzzSeeds(f)
	f.Fuzz(rapid.MakeFuzz(abiFuzzLoad))
}

func FuzzABILiftValues(f *testing.F) {
	abiFuzzSeeds(f)
	f.Fuzz(rapid.MakeFuzz(abiFuzzLiftValues))
}

// The fuzz properties also run as property tests, from fixed seeds.

func TestABILoadArbitraryMemory(t *testing.T) { soak.Check(t, 2000, abiFuzzLoad) }

func TestABILiftArbitraryValues(t *testing.T) { soak.Check(t, 2000, abiFuzzLiftValues) }
