package component

import (
	"errors"
	"testing"

	"github.com/wasisim/wasisim/internal/soak"
	"pgregory.net/rapid"
)

var abiEncodings = []StringEncoding{UTF8, UTF16, Latin1UTF16}

// abiXorHooks installs handle hooks that change every handle (so a path
// that skips a hook shows) and undo each other, and counts their calls.
func abiXorHooks(t *rapid.T, cx *LiftLowerContext) (lifts, lowers *int) {
	lifts, lowers = new(int), new(int)
	check := func(ty *Type) {
		switch ty.Kind {
		case ErrorContext, Own, Borrow, Stream, Future:
		default:
			t.Fatalf("handle hook called for %s", ty)
		}
	}
	cx.LiftHandle = func(ty *Type, h uint32) (uint32, error) { check(ty); *lifts++; return h ^ 0x5a5a5a5a, nil }
	cx.LowerHandle = func(ty *Type, h uint32) (uint32, error) { check(ty); *lowers++; return h ^ 0x5a5a5a5a, nil }
	return lifts, lowers
}

// TestABIRoundTrip: what Store writes Load reads back, and what LowerFlat
// produces LiftFlat reads back, for random types and values under every
// string encoding, with a realloc that moves memory on every call.
func TestABIRoundTrip(t *testing.T) {
	soak.Check(t, 3000, func(t *rapid.T) {
		ty := abiGenType(3).Draw(t, "type")
		v := abiGenValue(ty).Draw(t, "value")
		enc := rapid.SampledFrom(abiEncodings).Draw(t, "encoding")
		m := newABIFakeMem(64, 16)
		m.inPlace = rapid.Bool().Draw(t, "in-place")
		cx := m.cx(enc)
		lifts, lowers := abiXorHooks(t, cx)

		ptr, err := m.realloc(0, 0, Align(ty), Size(ty))
		if err != nil {
			t.Fatal(err)
		}
		if err := Store(cx, v, ty, ptr); err != nil {
			t.Fatalf("Store %s: %v", ty, err)
		}
		got, err := Load(cx, ptr, ty)
		if err != nil {
			t.Fatalf("Load %s: %v", ty, err)
		}
		if err := abiEqual(ty, v, got); err != nil {
			t.Fatalf("Store/Load: %v", err)
		}
		if *lifts != *lowers {
			t.Fatalf("Store/Load: %d handles lowered, %d lifted", *lowers, *lifts)
		}

		flat, err := LowerFlat(cx, nil, v, ty)
		if err != nil {
			t.Fatalf("LowerFlat %s: %v", ty, err)
		}
		types := Flatten(ty)
		if len(flat) != len(types) || len(flat) != FlatCount(ty) {
			t.Fatalf("LowerFlat %s: %d values, Flatten says %d, FlatCount %d", ty, len(flat), len(types), FlatCount(ty))
		}
		for i, ct := range types {
			if (ct == CoreI32 || ct == CoreF32) && flat[i]>>32 != 0 {
				t.Fatalf("LowerFlat %s: value %d (%s) is %#x, not zero-extended", ty, i, ct, flat[i])
			}
		}
		vi := &CoreValueIter{Values: flat}
		got, err = LiftFlat(cx, vi, ty)
		if err != nil {
			t.Fatalf("LiftFlat %s: %v", ty, err)
		}
		if !vi.Done() {
			t.Fatalf("LiftFlat %s: read %d of %d values", ty, vi.I, len(flat))
		}
		if err := abiEqual(ty, v, got); err != nil {
			t.Fatalf("LowerFlat/LiftFlat: %v", err)
		}
		if *lifts != *lowers {
			t.Fatalf("LowerFlat/LiftFlat: %d handles lowered, %d lifted", *lowers, *lifts)
		}
	})
}

// TestABIValuesRoundTrip: LowerValues then LiftValues, flat or spilled
// to memory (allocated, or through an out-parameter).
func TestABIValuesRoundTrip(t *testing.T) {
	soak.Check(t, 2000, func(t *rapid.T) {
		n := rapid.IntRange(0, 5).Draw(t, "n")
		ts := make([]*Type, n)
		vs := make([]Value, n)
		for i := range ts {
			ts[i] = abiGenType(2).Draw(t, "type")
			vs[i] = abiGenValue(ts[i]).Draw(t, "value")
		}
		maxFlat := rapid.SampledFrom([]int{0, 1, MaxFlatAsyncParams, MaxFlatParams}).Draw(t, "max-flat")
		m := newABIFakeMem(64, 16)
		cx := m.cx(rapid.SampledFrom(abiEncodings).Draw(t, "encoding"))
		abiXorHooks(t, cx)
		var out *uint32
		if rapid.Bool().Draw(t, "out-param") {
			a, s := abiTupleLayout(ts)
			p, err := m.realloc(0, 0, a, uint32(s))
			if err != nil {
				t.Fatal(err)
			}
			out = &p
		}
		prefix := []uint64{7}
		flat, err := LowerValues(cx, prefix, maxFlat, vs, ts, out)
		if err != nil {
			t.Fatalf("LowerValues: %v", err)
		}
		flat = flat[1:]
		spilled := abiFlatCountAll(ts) > maxFlat
		switch {
		case !spilled && len(flat) != abiFlatCountAll(ts):
			t.Fatalf("flat: %d values for %d", len(flat), abiFlatCountAll(ts))
		case spilled && out == nil && len(flat) != 1:
			t.Fatalf("spilled: %d values, want the pointer", len(flat))
		case spilled && out != nil:
			if len(flat) != 0 {
				t.Fatalf("spilled to the out-parameter: %d values, want none", len(flat))
			}
			flat = []uint64{uint64(*out)}
		}
		vi := &CoreValueIter{Values: flat}
		got, err := LiftValues(cx, nil, maxFlat, vi, ts)
		if err != nil {
			t.Fatalf("LiftValues: %v", err)
		}
		if !vi.Done() || len(got) != n {
			t.Fatalf("LiftValues: read %d of %d core values, %d values", vi.I, len(flat), len(got))
		}
		for i := range ts {
			if err := abiEqual(ts[i], vs[i], got[i]); err != nil {
				t.Fatalf("value %d: %v", i, err)
			}
		}
	})
}

// abiAllocates reports whether lowering a value of t may call realloc.
func abiAllocates(t *Type) bool { return !abiPure(t) }

// TestABIBadRealloc: a realloc that returns a misaligned or out-of-bounds
// pointer makes lowering trap (a misaligned one only where the canonical
// ABI checks alignment: allocations aligned to more than one byte).
func TestABIBadRealloc(t *testing.T) {
	soak.Check(t, 1000, func(t *rapid.T) {
		ty := abiGenType(3).Filter(abiAllocates).Draw(t, "type")
		v := abiGenValue(ty).Draw(t, "value")
		enc := rapid.SampledFrom(abiEncodings).Draw(t, "encoding")
		flat := rapid.Bool().Draw(t, "flat")
		run := func(m *abiFakeMem) error {
			cx := m.cx(enc)
			if flat {
				_, err := LowerFlat(cx, nil, v, ty)
				return err
			}
			ptr, err := m.realloc(0, 0, Align(ty), Size(ty))
			if err != nil {
				t.Fatal(err)
			}
			return Store(cx, v, ty, ptr)
		}
		good := newABIFakeMem(64, 16)
		good.bad = -1
		if err := run(good); err != nil {
			t.Fatalf("good realloc: %v", err)
		}
		first := 0
		if !flat {
			first = 1 // the value's own allocation
		}
		if len(good.calls) <= first {
			return // e.g. only empty fixed-size lists
		}
		bad := newABIFakeMem(64, 16)
		bad.bad = rapid.IntRange(first, len(good.calls)-1).Draw(t, "bad-call")
		if rapid.Bool().Draw(t, "misalign") {
			bad.misalign = true
		} else {
			bad.outOfBounds = true
		}
		err := run(bad)
		want := bad.outOfBounds || good.calls[bad.bad].Align > 1
		var trap *Trap
		if want != errors.As(err, &trap) {
			t.Fatalf("realloc call %d (%+v) returning a bad pointer (misalign %v): err %v", bad.bad, good.calls[bad.bad], bad.misalign, err)
		}
	})
}
