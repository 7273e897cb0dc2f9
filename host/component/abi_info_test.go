package component

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
)

// abiWithInfo is a deep copy of t whose composite parts carry their
// layout, computed bottom-up as the decoder computes it.
func abiWithInfo(t *Type) *Type {
	if t == nil || t.Kind <= ErrorContext {
		return t
	}
	n := *t
	n.Elem, n.Key, n.Ok, n.Err = abiWithInfo(t.Elem), abiWithInfo(t.Key), abiWithInfo(t.Ok), abiWithInfo(t.Err)
	n.Fields = slices.Clone(t.Fields)
	for i := range n.Fields {
		n.Fields[i].Type = abiWithInfo(n.Fields[i].Type)
	}
	n.Cases = slices.Clone(t.Cases)
	for i := range n.Cases {
		n.Cases[i].Type = abiWithInfo(n.Cases[i].Type)
	}
	abiSetInfo(&n)
	return &n
}

// TestABIInfoAgrees: the layout kept in a type gives the same answers as
// walking the type, for every function that reads it, and a value stores
// to the same bytes and flattens to the same core values either way.
func TestABIInfoAgrees(t *testing.T) {
	soak.Check(t, 2000, func(t *rapid.T) {
		ty := abiGenType(4).Draw(t, "type")
		ct := abiWithInfo(ty)
		if ct.Kind > ErrorContext && ct.abi == nil {
			t.Fatalf("%s: no layout kept", ty)
		}
		if Size(ct) != Size(ty) || Align(ct) != Align(ty) || abiPure(ct) != abiPure(ty) || FlatCount(ct) != FlatCount(ty) {
			t.Fatalf("%s: kept size %d align %d pure %v flat %d, walked %d %d %v %d", ty,
				Size(ct), Align(ct), abiPure(ct), FlatCount(ct), Size(ty), Align(ty), abiPure(ty), FlatCount(ty))
		}
		for limit := -1; limit <= 40; limit++ {
			if a, b := abiFlatCountUpTo(ct, limit), abiFlatCountUpTo(ty, limit); a != b {
				t.Fatalf("%s: flat count up to %d: kept %d, walked %d", ty, limit, a, b)
			}
		}
		if FlatCount(ty) <= 64 && !slices.Equal(Flatten(ct), Flatten(ty)) {
			t.Fatalf("%s: Flatten kept %v, walked %v", ty, Flatten(ct), Flatten(ty))
		}
		switch ty.Kind {
		case Variant, Option, Result, Enum:
			if a, b := abiPayloadOffset(ct), abiPayloadOffset(ty); a != b {
				t.Fatalf("%s: payload at %d kept, %d walked", ty, a, b)
			}
		}
		if FlatCount(ty) > 64 || Size(ty) > 1<<16 {
			return
		}
		v := abiGenValue(ty).Draw(t, "value")
		var mems [2]*abiFakeMem
		var flats [2][]uint64
		for i, typ := range []*Type{ty, ct} {
			m := newABIFakeMem(64, 16)
			cx := m.cx(UTF8)
			ptr, err := m.realloc(0, 0, Align(typ), Size(typ))
			if err != nil {
				t.Fatal(err)
			}
			if err := Store(cx, v, typ, ptr); err != nil {
				t.Fatalf("Store %s: %v", typ, err)
			}
			got, err := Load(cx, ptr, typ)
			if err != nil {
				t.Fatalf("Load %s: %v", typ, err)
			}
			if err := abiEqual(ty, v, got); err != nil {
				t.Fatalf("Store/Load: %v", err)
			}
			if flats[i], err = LowerFlat(cx, nil, v, typ); err != nil {
				t.Fatalf("LowerFlat %s: %v", typ, err)
			}
			mems[i] = m
		}
		if !bytes.Equal(mems[0].buf, mems[1].buf) || !slices.Equal(flats[0], flats[1]) {
			t.Fatalf("%s: a value stores or flattens differently with the kept layout", ty)
		}
	})
}

// Every composite type of a decoded component carries its layout, so a
// call does not walk its types.
func TestDecodedTypesKeepLayout(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wasi-testsuite-p3", "wasm32-wasip3", "filesystem-io.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := Decode(wasm)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*Type]bool{}
	var check func(ty *Type)
	check = func(ty *Type) {
		if ty == nil || seen[ty] {
			return
		}
		seen[ty] = true
		if ty.Kind > ErrorContext && ty.abi == nil {
			t.Fatalf("decoded type %s keeps no layout", ty)
		}
		for _, c := range []*Type{ty.Elem, ty.Key, ty.Ok, ty.Err} {
			check(c)
		}
		for _, f := range ty.Fields {
			check(f.Type)
		}
		for _, c := range ty.Cases {
			check(c.Type)
		}
	}
	lowers := 0
	for _, d := range body.Defs {
		if l, ok := d.(*LowerDef); ok {
			lowers++
			for _, p := range l.Type.Params {
				check(p.Type)
			}
			check(l.Type.Result)
		}
	}
	if lowers == 0 || len(seen) == 0 {
		t.Fatal("the component lowers no function")
	}
}
