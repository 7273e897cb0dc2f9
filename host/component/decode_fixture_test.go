package component

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata/*.wat are assembled to the .wasm files next to
// them with `jco parse NAME.wat -o NAME.wasm` (wasm-tools' text parser,
// which does not validate, so the failing fixtures assemble too).

func decFixture(t testing.TB, name string) []byte {
	t.Helper()
	return decRead(t, filepath.Join("testdata", name+".wasm"))
}

// TestDecodeFixturesAssembled re-assembles every fixture when jco is
// available (WASISIM_JCO or jco on PATH) and checks the committed .wasm
// is current.
func TestDecodeFixturesAssembled(t *testing.T) {
	jco := os.Getenv("WASISIM_JCO")
	if jco == "" {
		var err error
		if jco, err = exec.LookPath("jco"); err != nil {
			t.Skip("jco not found (set WASISIM_JCO)")
		}
	}
	wats, _ := filepath.Glob("testdata/*.wat")
	if len(wats) == 0 {
		t.Fatal("no fixtures")
	}
	for _, wat := range wats {
		out := filepath.Join(t.TempDir(), "out.wasm")
		if msg, err := exec.Command(jco, "parse", wat, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("jco parse %s: %v\n%s", wat, err, msg)
		}
		if !bytes.Equal(decRead(t, out), decRead(t, strings.TrimSuffix(wat, ".wat")+".wasm")) {
			t.Errorf("%s is not the assembly of %s", strings.TrimSuffix(wat, ".wat")+".wasm", wat)
		}
	}
}

// TestDecodeNested checks nested.wat: resources passed into nested
// components and back out through their exports, outer aliases, a bundle
// exported with an instance type ascription, a defined resource, and an
// imported component type instantiated twice.
func TestDecodeNested(t *testing.T) {
	b := decMust(t, decFixture(t, "nested"))

	host := decImport(t, b, "test:host/files")
	file := decExport(t, host.Type.Instance, "file").Resource
	if file == nil || file.Name != "file" || file.Interface != "test:host/files" || file.Defined != nil {
		t.Fatalf("file = %+v", file)
	}
	if tmpl := decItem[*TypeDef](t, b, SortType, 0).Instance; decExport(t, tmpl, "file").Resource == file {
		t.Error("the import shares its resource with the instance type it instantiates")
	}
	if decItem[*TypeDef](t, b, SortType, 1).Resource != file {
		t.Error("type 1 (alias export file) is another resource")
	}
	open := decExport(t, host.Type.Instance, "open").Func
	if open.Result.Kind != Own || open.Result.Resource != file {
		t.Errorf("open returns %s", open.Result)
	}

	counter := decItem[*TypeDef](t, b, SortType, 2).Resource
	if counter == nil || counter.Defined == nil || counter.Defined.Dtor != 1 || counter.Defined.Owner != b || counter.Name != "counter" {
		t.Fatalf("counter = %+v", counter)
	}
	for i, want := range []struct {
		op  Builtin
		res *ResourceType
	}{{BuiltinResourceNew, counter}, {BuiltinResourceRep, counter}, {BuiltinResourceDrop, counter}, {BuiltinResourceDrop, file}} {
		bi := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 5+i)
		if bi.Op != want.op || bi.Resource != want.res || bi.Type.Kind != Own || bi.Type.Resource != want.res {
			t.Errorf("core func %d = %s of %+v", 5+i, bi.Op, bi.Resource)
		}
	}
	lower := decItem[*LowerDef](t, b, CoreSortOf(CoreFunc), 9)
	if lower.Func != 0 || lower.Type != open || lower.Opts.Memory != 0 || lower.Opts.Realloc != 0 {
		t.Errorf("core func 9 = %+v", lower)
	}
	logF := decItem[*LiftDef](t, b, SortFunc, 4)
	if logF.CoreFunc != 4 || logF.Opts.Realloc != 0 || logF.Type.Params[0].Type != decItem[*TypeDef](t, b, SortType, 7).Value {
		t.Errorf("func 4 = %+v", logF)
	}

	// $wrap: imports a resource, re-exports it; outer aliases of a type
	// and a core module of the root.
	wrap := decItem[*ComponentDef](t, b, SortComponent, 0)
	var names []string
	for _, imp := range wrap.Type.Imports {
		names = append(names, imp.Name)
	}
	if !slices.Equal(names, []string{"r", "use", "log"}) {
		t.Errorf("wrap imports %q", names)
	}
	wrapR := wrap.Type.Imports[0].Type.Resource
	if wrapR == nil || wrapR == file || wrapR == counter || wrapR.Name != "r" || wrapR.Interface != "" {
		t.Errorf("wrap's r = %+v", wrapR)
	}
	outerType := decAll[*AliasDef](wrap.Body)[0]
	if outerType.Kind != AliasOuter || outerType.Of != SortType || outerType.Outer != b || outerType.Index != 7 ||
		decItem[*TypeDef](t, wrap.Body, SortType, 3) != decItem[*TypeDef](t, b, SortType, 7) {
		t.Errorf("wrap's outer type alias = %+v", outerType)
	}
	outerMod := decItem[*AliasDef](t, wrap.Body, CoreSortOf(CoreModule), 0)
	if outerMod.Kind != AliasOuter || outerMod.Outer != b || outerMod.Index != 0 {
		t.Errorf("wrap's outer module alias = %+v", outerMod)
	}
	if ci := decItem[*CoreInstanceDef](t, wrap.Body, CoreSortOf(CoreInstance), 0); ci.Module != 0 {
		t.Errorf("wrap instantiates core module %d", ci.Module)
	}

	// Each instance of $wrap exports the resource it was given.
	for _, tc := range []struct {
		inst, alias int
		res         *ResourceType
	}{{1, 9, file}, {2, 10, counter}} {
		it := decItem[*InstanceDef](t, b, SortInstance, tc.inst).Type
		if got := decExport(t, it, "r-again").Resource; got != tc.res {
			t.Errorf("instance %d exports r-again = %+v, want %+v", tc.inst, got, tc.res)
		}
		if p := decExport(t, it, "use-it").Func.Params[0].Type; p.Kind != Borrow || p.Resource != tc.res {
			t.Errorf("instance %d's use-it takes %s", tc.inst, p)
		}
		if decItem[*TypeDef](t, b, SortType, tc.alias).Resource != tc.res {
			t.Errorf("type %d (alias of r-again) is another resource", tc.alias)
		}
	}
	touch := decItem[*LowerDef](t, b, CoreSortOf(CoreFunc), 10)
	if touch.Func != 5 || touch.Type.Params[0].Type.Resource != counter {
		t.Errorf("core func 10 lowers %d of type %s", touch.Func, touch.Type.Params[0].Type)
	}

	// $outer-user instantiates an outer alias of $wrap with its own
	// import; instantiating it with counter reaches through both.
	user := decItem[*ComponentDef](t, b, SortComponent, 1)
	if a := decItem[*AliasDef](t, user.Body, SortComponent, 0); a.Kind != AliasOuter || a.Outer != b || a.Index != 0 || a.Type.Component != wrap.Type {
		t.Errorf("outer-user's component alias = %+v", a)
	}
	inner := decExport(t, decItem[*InstanceDef](t, b, SortInstance, 3).Type, "inner").Instance
	if got := decExport(t, inner, "r-again").Resource; got != counter {
		t.Errorf("u.inner.r-again = %+v, want counter", got)
	}

	// The bundle exports the items' own types.
	api := decItem[*InstanceDef](t, b, SortInstance, 4)
	wantExports := []InlineExport{{"file", SortType, 1}, {"open", SortFunc, 0}, {"counter", SortType, 2}}
	if api.Component != -1 || !slices.Equal(api.Exports, wantExports) {
		t.Errorf("bundle = %+v", api)
	}
	if decExport(t, api.Type, "open").Func != open || decExport(t, api.Type, "file").Resource != file || decExport(t, api.Type, "counter").Resource != counter {
		t.Error("bundle's type is not made of its items' types")
	}

	// The ascribed instance type's resource is matched to the bundle's.
	apiExport := decItem[*ExportDef](t, b, SortInstance, 5)
	if apiExport.Name != "test:api/files" || apiExport.Index != 4 {
		t.Fatalf("instance 5 = %+v", apiExport)
	}
	asc := apiExport.Type.Instance
	if len(asc.Exports) != 2 || decExport(t, asc, "file").Resource != file || decExport(t, asc, "open").Func.Result.Resource != file {
		t.Errorf("ascribed export type = %+v", asc.Exports)
	}
	if decExport(t, decItem[*TypeDef](t, b, SortType, 11).Instance, "file").Resource == file {
		t.Error("the ascription changed its template")
	}
	// The type space holds the exported type itself; Exports the export.
	if e := b.Exports[1]; e.Name != "counter" || e.Of != SortType || e.Index != 2 || e.Type.Resource != counter ||
		decItem[*TypeDef](t, b, SortType, 12).Resource != counter {
		t.Errorf("export 1 = %+v", e)
	}
	make2 := decItem[*ExportDef](t, b, SortFunc, 6)
	if make2.Name != "make" || make2.Index != 2 || make2.Type.Func != decItem[*TypeDef](t, b, SortType, 14).Func ||
		make2.Type.Func.Result.Resource != counter {
		t.Errorf("func 6 = %+v", make2)
	}

	// An imported component type: each instance gets fresh exported
	// resources, and the imported one is the argument.
	plugin := decImport(t, b, "plugin")
	if plugin.Type.Kind != ExternComponent || len(plugin.Type.Component.Imports) != 1 || len(plugin.Type.Component.Exports) != 2 {
		t.Fatalf("plugin = %+v", plugin.Type)
	}
	var made []*ResourceType
	for _, i := range []int{6, 7} {
		it, ok := b.TypeOf(SortInstance, i)
		if !ok || it.Kind != ExternInstance {
			t.Fatalf("TypeOf(instance %d) = %+v", i, it)
		}
		m := decExport(t, it.Instance, "made").Resource
		conv := decExport(t, it.Instance, "convert").Func
		if conv.Params[0].Type.Resource != file || conv.Result.Resource != m {
			t.Errorf("instance %d convert: %s -> %s", i, conv.Params[0].Type, conv.Result)
		}
		made = append(made, m)
	}
	placeholder := decExport(t, &InstanceType{Exports: plugin.Type.Component.Exports}, "made").Resource
	if made[0] == nil || made[0] == made[1] || made[0] == placeholder || made[0].Name != "made" {
		t.Errorf("made resources %+v %+v (template's %p)", made[0], made[1], placeholder)
	}
}

// TestDecodeComponentTypeExport checks comptype.wat: an imported
// instance exports a component type that uses the instance's resource
// (through an outer alias), so importing the instance copies the
// component type with the fresh resource, and the instance made of it
// returns that resource.
func TestDecodeComponentTypeExport(t *testing.T) {
	b := decMust(t, decFixture(t, "comptype"))
	host := decImport(t, b, "test:host/maker").Type.Instance
	r := decExport(t, host, "r").Resource
	maker := decExport(t, host, "maker").Component
	tmpl := decExport(t, decItem[*TypeDef](t, b, SortType, 0).Instance, "maker").Component
	if r == nil || maker == nil || maker == tmpl {
		t.Fatalf("r = %+v, maker = %p (template %p)", r, maker, tmpl)
	}
	if p := maker.Imports[0].Type.Func.Params[0].Type; p.Kind != Borrow || p.Resource != r {
		t.Errorf("maker's import takes %s", p)
	}
	if a := decItem[*AliasDef](t, b, SortComponent, 0); a.Kind != AliasExport || a.Name != "maker" || a.Type.Component != maker {
		t.Errorf("component 0 = %+v", a)
	}
	m := decItem[*InstanceDef](t, b, SortInstance, 1)
	out := decExport(t, m.Type, "out").Func
	if m.Component != 0 || out.Result.Kind != Own || out.Result.Resource != r {
		t.Errorf("instance 1 = %+v, out returns %s", m, out.Result)
	}
	if l := decItem[*LowerDef](t, b, CoreSortOf(CoreFunc), 0); l.Func != 1 || l.Type != out {
		t.Errorf("core func 0 = %+v", l)
	}
}

// TestDecodeValueTypes checks valtypes.wat: every value type kind, a
// function with 48 parameters, an async function type and type indices
// beyond 63 (two-byte s33 in a valtype).
func TestDecodeValueTypes(t *testing.T) {
	b := decMust(t, decFixture(t, "valtypes"))
	typ := func(i int) *TypeDef { return decItem[*TypeDef](t, b, SortType, i) }
	res, rec := typ(0).Resource, typ(1).Value
	if res == nil || res.Defined == nil || res.Defined.Dtor != -1 {
		t.Fatalf("type 0 = %+v", typ(0))
	}

	all := typ(19).Value
	want := []struct {
		name string
		kind Kind
		typ  string
	}{
		{"bool", Bool, "bool"}, {"s8", S8, "s8"}, {"u8", U8, "u8"}, {"s16", S16, "s16"}, {"u16", U16, "u16"},
		{"s32", S32, "s32"}, {"u32", U32, "u32"}, {"s64", S64, "s64"}, {"u64", U64, "u64"},
		{"f32", F32, "f32"}, {"f64", F64, "f64"}, {"char", Char, "char"}, {"string", String, "string"},
		{"error-context", ErrorContext, "error-context"},
		{"list", List, "list<u8>"}, {"fixed", List, "list<u32, 4>"}, {"map", Map, "map<string, u64>"},
		{"rec", Record, "record {a: u8, b: string}"},
		{"var", Variant, "variant {none, some(u32), more(record {a: u8, b: string})}"},
		{"enum", Enum, "enum {x, y, z}"}, {"flags", Flags, "flags {read, write, exec}"},
		{"tup", Tuple, "tuple {u8, s16, record {a: u8, b: string}}"},
		{"opt", Option, "option<record {a: u8, b: string}>"},
		{"res-both", Result, "result<u8, string>"}, {"res-ok", Result, "result<u8, _>"},
		{"res-err", Result, "result<_, u8>"}, {"res-none", Result, "result<_, _>"},
		{"own", Own, "own<>"},
		{"stream", Stream, "stream<u8>"}, {"stream-empty", Stream, "stream"},
		{"future", Future, "future<string>"}, {"future-empty", Future, "future"},
	}
	if all.Kind != Record || len(all.Fields) != len(want) {
		t.Fatalf("type 19 = %s", all)
	}
	for i, w := range want {
		f := all.Fields[i]
		if f.Name != w.name || f.Type.Kind != w.kind || f.Type.String() != w.typ {
			t.Errorf("field %d = %s %s (%s), want %s %s", i, f.Name, f.Type, f.Type.Kind, w.name, w.typ)
		}
	}
	field := func(name string) *Type {
		for _, f := range all.Fields {
			if f.Name == name {
				return f.Type
			}
		}
		t.Fatalf("no field %q", name)
		return nil
	}
	// Primitives are the shared types; uses of a definition share it.
	if field("u8") != U8Type || field("error-context") != ErrorContextType || field("rec") != rec || field("opt").Elem != rec {
		t.Error("primitive or defined types are not shared")
	}
	if f := field("fixed"); f.Len != 4 || f.Elem != U32Type {
		t.Errorf("fixed = %+v", f)
	}
	if m := field("map"); m.Key != StringType || m.Elem != U64Type {
		t.Errorf("map = %+v", m)
	}
	if o := field("own"); o.Resource != res {
		t.Error("own's resource is not type 0")
	}
	if tup := field("tup"); tup.Fields[0].Name != "0" || tup.Fields[2].Name != "2" || tup.Fields[2].Type != rec {
		t.Errorf("tuple fields %+v", tup.Fields)
	}
	if v := field("var"); v.Cases[0].Type != nil || v.Cases[1].Type != U32Type || v.Cases[2].Type != rec {
		t.Errorf("variant cases %+v", v.Cases)
	}
	if r := field("res-none"); r.Ok != nil || r.Err != nil {
		t.Errorf("result = %+v", r)
	}

	many := typ(21).Func
	if many == nil || len(many.Params) != 48 || many.Result != all || many.Async {
		t.Fatalf("type 21 = %+v", typ(21))
	}
	for i, p := range many.Params {
		if p.Name != fmt.Sprintf("p%d", i) || p.Type.String() != []string{"u8", "s64", "string", "f32", rec.String(), typ(2).Value.String()}[i%6] {
			t.Errorf("param %d = %s %s", i, p.Name, p.Type)
		}
	}
	async := typ(23).Func
	if !async.Async || async.Params[0].Type != typ(20).Value || async.Params[0].Type.Kind != Borrow || async.Result.Elem != rec {
		t.Errorf("type 23 = %+v", async)
	}

	// $t69 is type 93: a chain of 70 tuples, passed by a two-byte index.
	deep := typ(94).Func
	if deep.Params[0].Type != typ(93).Value || deep.Result != typ(88).Value {
		t.Fatalf("type 94 = %+v", deep)
	}
	n := 0
	for c := deep.Params[0].Type; c != nil && c.Kind == Tuple; n++ {
		if len(c.Fields) == 1 {
			c = nil
		} else {
			c = c.Fields[1].Type
		}
	}
	if n != 70 {
		t.Errorf("tuple chain of %d, want 70", n)
	}
}

// TestDecodeBuiltins checks async.wat: every async and thread built-in
// with its immediates, and the cancellable immediate of the spec's form
// (which wasm-tools no longer writes, so it is patched in).
func TestDecodeBuiltins(t *testing.T) {
	data := decFixture(t, "async")
	b := decMust(t, data)
	s, se, f, fe := decItem[*TypeDef](t, b, SortType, 0).Value, decItem[*TypeDef](t, b, SortType, 1).Value,
		decItem[*TypeDef](t, b, SortType, 2).Value, decItem[*TypeDef](t, b, SortType, 3).Value
	memOnly := NoOpts
	memOnly.Memory = 0
	type want struct {
		op    Builtin
		typ   *Type
		opts  CanonOpts
		async bool
	}
	withOpts := func(o CanonOpts, edit func(*CanonOpts)) CanonOpts { edit(&o); return o }
	wants := []want{
		{op: BuiltinBackpressureInc}, {op: BuiltinBackpressureDec},
		{op: BuiltinTaskReturn, typ: StringType, opts: withOpts(memOnly, func(o *CanonOpts) { o.Encoding = UTF16 })},
		{op: BuiltinTaskReturn}, {op: BuiltinTaskCancel},
		{op: BuiltinContextGet}, {op: BuiltinContextSet},
		{op: BuiltinSubtaskCancel, async: true}, {op: BuiltinSubtaskCancel}, {op: BuiltinSubtaskDrop},
		{op: BuiltinStreamNew, typ: s},
		{op: BuiltinStreamRead, typ: s, opts: withOpts(memOnly, func(o *CanonOpts) { o.Async = true })},
		{op: BuiltinStreamWrite, typ: se},
		{op: BuiltinStreamCancelRead, typ: s, async: true}, {op: BuiltinStreamCancelWrite, typ: s},
		{op: BuiltinStreamDropReadable, typ: s}, {op: BuiltinStreamDropWritable, typ: se},
		{op: BuiltinFutureNew, typ: f},
		{op: BuiltinFutureRead, typ: f, opts: withOpts(memOnly, func(o *CanonOpts) { o.Async, o.Realloc, o.Encoding = true, 0, Latin1UTF16 })},
		{op: BuiltinFutureWrite, typ: fe},
		{op: BuiltinFutureCancelRead, typ: f, async: true}, {op: BuiltinFutureCancelWrite, typ: fe},
		{op: BuiltinFutureDropReadable, typ: f}, {op: BuiltinFutureDropWritable, typ: fe},
		{op: BuiltinErrorContextNew, opts: memOnly},
		{op: BuiltinErrorContextDebugMessage, opts: withOpts(memOnly, func(o *CanonOpts) { o.Realloc = 0 })},
		{op: BuiltinErrorContextDrop},
		{op: BuiltinWaitableSetNew}, {op: BuiltinWaitableSetWait, opts: memOnly}, {op: BuiltinWaitableSetPoll, opts: memOnly},
		{op: BuiltinWaitableSetDrop}, {op: BuiltinWaitableJoin},
		{op: BuiltinYield}, {op: BuiltinThreadIndex}, {op: BuiltinThreadNewIndirect}, {op: BuiltinThreadResumeLater},
		{op: BuiltinThreadSuspend}, {op: BuiltinThreadSuspendThenResume}, {op: BuiltinThreadYieldThenResume},
		{op: BuiltinThreadSuspendThenPromote}, {op: BuiltinThreadYieldThenPromote},
	}
	core := b.Spaces[CoreSortOf(CoreFunc)]
	if len(core) != 3+len(wants) {
		t.Fatalf("%d core funcs, want %d", len(core), 3+len(wants))
	}
	for i, w := range wants {
		if w.opts == (CanonOpts{}) {
			w.opts = NoOpts
		}
		bi := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 3+i)
		if bi.Op != w.op || bi.Type != w.typ || bi.Opts != w.opts || bi.Async != w.async || bi.Cancellable {
			t.Errorf("core func %d = %s %v %+v async=%v cancellable=%v, want %s %v %+v async=%v",
				3+i, bi.Op, bi.Type, bi.Opts, bi.Async, bi.Cancellable, w.op, w.typ, w.opts, w.async)
		}
		switch bi.Op {
		case BuiltinContextGet, BuiltinContextSet:
			if bi.ContextType != CoreI32 || int(bi.ContextIndex) != int(bi.Op-BuiltinContextGet) {
				t.Errorf("%s i%v %d", bi.Op, bi.ContextType, bi.ContextIndex)
			}
		case BuiltinThreadNewIndirect:
			if bi.CoreType != 0 || bi.Table != 0 || b.Spaces[CoreSortOf(CoreType)][0].(*CoreTypeDef).Func.Params[0] != CoreI32 {
				t.Errorf("thread.new-indirect type %d table %d", bi.CoreType, bi.Table)
			}
		default:
			if bi.CoreType != -1 || bi.Table != -1 {
				t.Errorf("%s has core type %d table %d", bi.Op, bi.CoreType, bi.Table)
			}
		}
	}
	lift := decItem[*LiftDef](t, b, SortFunc, 0)
	wantLift := CanonOpts{Encoding: UTF16, Memory: 0, Realloc: -1, PostReturn: -1, Async: true, Callback: 2}
	if lift.CoreFunc != 1 || lift.Opts != wantLift || !lift.Type.Async || lift.Type.Result != StringType {
		t.Errorf("func 0 = %+v", lift)
	}

	// waitable-set.new/wait/poll/drop, waitable.join, thread.yield as
	// wasm-tools writes them (a zero byte where `cancellable` was);
	// setting the bytes to 1 is the spec's cancellable form.
	seq := []byte{0x1f, 0x20, 0x00, 0x00, 0x21, 0x00, 0x00, 0x22, 0x23, 0x0c, 0x00}
	at := bytes.Index(data, seq)
	if at < 0 {
		t.Fatal("built-in byte sequence not found")
	}
	patched := slices.Clone(data)
	patched[at+2], patched[at+5], patched[at+10] = 1, 1, 1
	pb := decMust(t, patched)
	for _, i := range []int{31, 32, 35} {
		bi := decItem[*BuiltinDef](t, pb, CoreSortOf(CoreFunc), i)
		if wantMem := map[bool]int{true: -1, false: 0}[bi.Op == BuiltinYield]; !bi.Cancellable || bi.Opts.Memory != wantMem {
			t.Errorf("patched core func %d = %+v", i, bi)
		}
	}
	patched[at+2] = 2
	if _, err := Decode(patched); err == nil || !strings.Contains(err.Error(), "bad cancellable immediate 0x02") {
		t.Errorf("cancellable 2: %v", err)
	}
}

// Helpers that build component binaries byte by byte, for malformed
// inputs the text format cannot express.

func decLEB(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}

func decCat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func decStr(s string) []byte { return decCat(decLEB(uint64(len(s))), []byte(s)) }

// decSec is a section: id, size, payload.
func decSec(id byte, payload ...[]byte) []byte {
	p := decCat(payload...)
	return decCat([]byte{id}, decLEB(uint64(len(p))), p)
}

// decVecSec is a section holding a vector of the given items.
func decVecSec(id byte, items ...[]byte) []byte {
	return decSec(id, decLEB(uint64(len(items))), decCat(items...))
}

// decComp is a component made of the given sections.
func decComp(sections ...[]byte) []byte {
	return decCat([]byte{0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}, decCat(sections...))
}

// Small building blocks: a func type () -> (), an import of it as "f",
// and a canon section whose first item (waitable-set.new) makes core
// func 0.
var (
	decFuncTypeSec = decVecSec(7, []byte{0x40, 0x00, 0x01, 0x00})
	decImportF     = decVecSec(10, decCat([]byte{0x00}, decStr("f"), []byte{0x01, 0x00}))
	decCoreFunc0   = []byte{0x1f}
)

// TestDecodeErrors checks that malformed input yields a one-line
// DecodeError at the offending byte, and unsupported constructs an
// UnsupportedError naming them.
func TestDecodeErrors(t *testing.T) {
	nested := func(depth int) []byte {
		c := decComp()
		for i := 0; i < depth; i++ {
			c = decComp(decSec(4, c))
		}
		return c
	}
	nestedTypes := func(depth int) []byte {
		it := []byte{0x42, 0x00}
		for i := 0; i < depth; i++ {
			it = decCat([]byte{0x42, 0x01, 0x01}, it)
		}
		return decComp(decVecSec(7, it))
	}
	// A large instance type (one resource per export) imported many
	// times: each import copies it, which the work budget stops.
	var decls [][]byte
	for i := range 4000 {
		decls = append(decls, decCat([]byte{0x04, 0x00}, decStr(fmt.Sprint("r", i)), []byte{0x03, 0x01}))
	}
	bigType := decVecSec(7, decCat([]byte{0x42}, decLEB(uint64(len(decls))), decCat(decls...)))
	var imports [][]byte
	for i := range 20000 {
		imports = append(imports, decCat([]byte{0x00}, decStr(fmt.Sprint("i", i)), []byte{0x05, 0x00}))
	}
	amplified := decComp(bigType, decVecSec(10, imports...))

	tests := []struct {
		name        string
		in          []byte
		unsupported string // substring of the construct, for UnsupportedError
		msg         string // substring of the message, for DecodeError
		at          int    // expected offset, -1 to not check
	}{
		{name: "start definition", in: decFixture(t, "start"), unsupported: "start definitions"},
		{name: "value section", in: decComp(decVecSec(12, []byte{0x79, 0x01, 0x2a})), unsupported: "value definitions"},
		{name: "value import", in: decFixture(t, "value-import"), unsupported: "value imports"},
		{name: "value sort", in: decComp(decFuncTypeSec, decImportF, decVecSec(11, decCat([]byte{0x00}, decStr("v"), []byte{0x02, 0x00}))), unsupported: "values"},
		{name: "GC struct type", in: decComp(decVecSec(3, []byte{0x5f, 0x00})), unsupported: "core GC types"},
		{name: "GC reference type", in: decComp(decVecSec(3, []byte{0x60, 0x01, 0x64, 0x70, 0x00})), unsupported: "core GC reference types"},
		{name: "shared-everything thread", in: decComp(decVecSec(3, []byte{0x60, 0x00, 0x00}), decVecSec(8, []byte{0x40, 0x00, 0x00})), unsupported: "thread.spawn-ref"},
		{name: "64-bit resource", in: decComp(decVecSec(7, []byte{0x3f, 0x7e, 0x00})), unsupported: "rep i64"},

		{name: "bad index", in: decFixture(t, "bad-index"), msg: "instance index 3 out of range (1 defined)", at: 0x25},
		{name: "sort mismatch", in: decFixture(t, "bad-sort"), msg: `export "t" of instance 0 is a type, not a func`, at: -1},
		{name: "missing argument", in: decFixture(t, "missing-arg"), msg: `no argument for the component's import "b"`, at: -1},
		{name: "malformed LEB section size", in: decCat(decComp(), []byte{0x07, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), msg: "malformed LEB128 u32", at: 9},
		{name: "LEB over 32 bits", in: decCat(decComp(), []byte{0x07, 0xff, 0xff, 0xff, 0xff, 0x1f}), msg: "malformed LEB128 u32", at: 9},
		{name: "LEB cut off", in: decCat(decComp(), []byte{0x07, 0x80}), msg: "unexpected end of input in a LEB128 number", at: 9},
		{name: "section larger than the input", in: decCat(decComp(), []byte{0x07, 0x0a, 0x01, 0x7f}), msg: "section size 10 exceeds the 2 bytes left", at: 9},
		{name: "short preamble", in: decComp()[:6], msg: "not a component binary", at: 0},
		{name: "core module", in: []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}, msg: "a core WebAssembly module, not a component", at: 0},
		{name: "other version", in: []byte{0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00}, msg: "component binary version 0xc, expected 0xd", at: 0},
		{name: "unknown section", in: decComp(decSec(13)), msg: "unknown section id 13", at: 8},
		{name: "bytes left in a section", in: decComp(decSec(7, []byte{0x01, 0x7f, 0x7f})), msg: "1 bytes left over", at: 12},
		{name: "bad UTF-8 name", in: decComp(decFuncTypeSec, decVecSec(10, []byte{0x00, 0x02, 0xff, 0xfe, 0x01, 0x00})), msg: "name is not valid UTF-8", at: 20},
		{name: "name longer than the section", in: decComp(decVecSec(10, []byte{0x00, 0x09, 'a'})), msg: "name length 9 exceeds the 1 bytes left", at: 12},
		{name: "vector larger than the input", in: decComp(decSec(7, decLEB(1000000), []byte{0x7f})), msg: "item count 1000000 exceeds the 1 bytes left", at: 10},
		{name: "components nested too deep", in: nested(70), msg: "nested deeper than 64 levels", at: -1},
		{name: "types nested too deep", in: nestedTypes(70), msg: "nested deeper than 64 levels", at: -1},
		{name: "type instantiation budget", in: amplified, msg: "takes more than", at: -1},
		{name: "core module section without a module", in: decComp(decSec(1, []byte{1, 2, 3})), msg: "does not start with a core module preamble", at: 10},
		{name: "unknown canon opcode", in: decComp(decVecSec(8, []byte{0x08})), msg: "unknown canon opcode 0x08", at: 11},
		{name: "duplicate string encoding", in: decComp(decFuncTypeSec, decImportF, decVecSec(8, []byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x01})), msg: "duplicate canonical option string-encoding", at: -1},
		{name: "callback without async", in: decComp(decFuncTypeSec, decVecSec(8, decCoreFunc0, []byte{0x00, 0x00, 0x00, 0x01, 0x07, 0x00, 0x00})), msg: "callback requires async", at: -1},
		{name: "post-return with async", in: decComp(decFuncTypeSec, decVecSec(8, decCoreFunc0, []byte{0x00, 0x00, 0x00, 0x02, 0x06, 0x05, 0x00, 0x00})), msg: "post-return conflicts with async", at: -1},
		{name: "realloc without memory", in: decComp(decFuncTypeSec, decImportF, decVecSec(8, decCoreFunc0, []byte{0x01, 0x00, 0x00, 0x01, 0x04, 0x00})), msg: "realloc requires a memory option", at: -1},
		{name: "post-return on lower", in: decComp(decFuncTypeSec, decImportF, decVecSec(8, decCoreFunc0, []byte{0x01, 0x00, 0x00, 0x01, 0x05, 0x00})), msg: "post-return is only allowed on canon lift", at: -1},
		{name: "async task.return", in: decComp(decVecSec(8, []byte{0x09, 0x01, 0x00, 0x01, 0x06})), msg: "async is not allowed here", at: -1},
		{name: "unknown canonical option", in: decComp(decVecSec(8, []byte{0x09, 0x01, 0x00, 0x01, 0x0a})), msg: "unknown canonical option 0x0a", at: 15},
		{name: "resource.new of an imported resource", in: decComp(decVecSec(10, decCat([]byte{0x00}, decStr("r"), []byte{0x03, 0x01})), decVecSec(8, []byte{0x02, 0x00})), msg: `resource.new of resource "r", which this component does not define`, at: -1},
		{name: "own of a value type", in: decComp(decVecSec(7, []byte{0x7f}, []byte{0x69, 0x00})), msg: "own of a value type", at: 13},
		{name: "borrow in a result", in: decComp(decVecSec(7, []byte{0x3f, 0x7f, 0x00}, []byte{0x68, 0x00}, []byte{0x40, 0x00, 0x00, 0x01})), msg: "contains a borrow handle", at: -1},
		{name: "stream of a borrow", in: decComp(decVecSec(7, []byte{0x3f, 0x7f, 0x00}, []byte{0x68, 0x00}, []byte{0x66, 0x01, 0x01})), msg: "stream element type contains a borrow handle", at: -1},
		{name: "func type as a value type", in: decComp(decFuncTypeSec, decVecSec(7, []byte{0x70, 0x00})), msg: "type index 0 is a func type, not a value type", at: 19},
		{name: "negative type index", in: decComp(decVecSec(7, []byte{0x70, 0x40})), msg: "unknown value type code 0x40", at: 12},
		{name: "fixed-length list of length 0", in: decComp(decVecSec(7, []byte{0x67, 0x7f, 0x00})), msg: "fixed-length list of length 0", at: 13},
		{name: "flags with 33 labels", in: decComp(decVecSec(7, decCat([]byte{0x6e, 33}, bytes.Repeat(decStr("f"), 33)))), msg: "flags type with 33 labels", at: 11},
		{name: "map with a float key", in: decComp(decVecSec(7, []byte{0x63, 0x76, 0x7f})), msg: "map key type f32", at: 12},
		{name: "empty record", in: decComp(decVecSec(7, []byte{0x72, 0x00})), msg: "record type with no fields", at: 11},
		{name: "resource in an instance type", in: decComp(decVecSec(7, []byte{0x42, 0x01, 0x01, 0x3f, 0x7f, 0x00})), msg: "resource type definition inside a component or instance type", at: 14},
		{name: "import in an instance type", in: decComp(decVecSec(7, []byte{0x42, 0x01, 0x03})), msg: "import declaration inside an instance type", at: 13},
		{name: "outer alias beyond the scopes", in: decComp(decVecSec(6, []byte{0x03, 0x02, 0x01, 0x00})), msg: "outer alias count 1 exceeds the 0 enclosing scopes", at: 13},
		{name: "outer alias of a func", in: decComp(decVecSec(6, []byte{0x01, 0x02, 0x00, 0x00})), msg: "outer alias of a func", at: 11},
		{name: "core instance bundle exporting a module", in: decComp(decVecSec(2, decCat([]byte{0x01, 0x01}, decStr("m"), []byte{0x11, 0x00}))), msg: "cannot export a core module", at: 15},
		{name: "duplicate import", in: decComp(decFuncTypeSec, decVecSec(10, decCat([]byte{0x00}, decStr("f"), []byte{0x01, 0x00}), decCat([]byte{0x00}, decStr("f"), []byte{0x01, 0x00}))), msg: `duplicate import "f"`, at: 23},
		{name: "export of a core func", in: decComp(decVecSec(8, decCoreFunc0), decVecSec(11, decCat([]byte{0x00}, decStr("e"), []byte{0x00, 0x00, 0x00}))), msg: "a core func cannot be exported", at: 20},
		{name: "bad extern type", in: decComp(decVecSec(10, decCat([]byte{0x00}, decStr("f"), []byte{0x06}))), msg: "unknown extern type opcode 0x06", at: 14},
		{name: "bad name attribute", in: decComp(decVecSec(10, decCat([]byte{0x02}, decStr("f"), []byte{0x01, 0x07}))), msg: "unknown name attribute 0x07", at: 15},
		{name: "func import of a value type", in: decComp(decVecSec(7, []byte{0x7f}), decVecSec(10, decCat([]byte{0x00}, decStr("f"), []byte{0x01, 0x00}))), msg: "func import or export of a value type", at: 19},
		{name: "export ascription of another kind", in: decComp(decFuncTypeSec, decImportF, decVecSec(11, decCat([]byte{0x00}, decStr("e"), []byte{0x01, 0x00, 0x01, 0x03, 0x01}))), msg: "ascribed a type type but exports a func", at: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := Decode(tc.in)
			if err == nil {
				t.Fatalf("decoded to %d definitions, want an error", len(body.Defs))
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			var de *DecodeError
			var ue *UnsupportedError
			switch {
			case tc.unsupported != "":
				if !errors.As(err, &ue) || !strings.Contains(ue.Construct, tc.unsupported) {
					t.Fatalf("error %q (%T), want an UnsupportedError about %q", err, err, tc.unsupported)
				}
				if !strings.Contains(err.Error(), "which wasisim does not support") {
					t.Errorf("message %q does not say wasisim does not support it", err)
				}
			default:
				if !errors.As(err, &de) || !strings.Contains(de.Msg, tc.msg) {
					t.Fatalf("error %q (%T), want a DecodeError with %q", err, err, tc.msg)
				}
				if tc.at >= 0 && de.Offset != tc.at {
					t.Errorf("error at offset %d, want %d: %v", de.Offset, tc.at, err)
				}
				if de.Context == "" || !strings.Contains(err.Error(), de.Context) {
					t.Errorf("error %q lacks its context", err)
				}
			}
		})
	}
}

// TestDecodeValid covers small well-formed inputs the fixtures do not:
// an empty component, custom sections, the legacy 0x01 name prefix, name
// attributes, i64 context slots and core module types.
func TestDecodeValid(t *testing.T) {
	if b := decMust(t, decComp()); len(b.Defs) != 0 || len(b.Spaces) != 0 {
		t.Errorf("empty component = %+v", b)
	}
	custom := decComp(decSec(0, decStr("anything"), []byte{0xff, 0x00}), decFuncTypeSec, decSec(0, decStr("x")))
	if b := decMust(t, custom); len(b.Defs) != 1 {
		t.Errorf("custom sections are not skipped: %d definitions", len(b.Defs))
	}

	attrs := decComp(decFuncTypeSec, decVecSec(10,
		decCat([]byte{0x01}, decStr("legacy"), []byte{0x01, 0x00}),
		decCat([]byte{0x02}, decStr("named"), []byte{0x03, 0x00}, decStr("a:b/c"), []byte{0x01}, decStr("-rc1"), []byte{0x02}, decStr("id-7"), []byte{0x01, 0x00})))
	b := decMust(t, attrs)
	if b.Imports[0].Name != "legacy" || b.Imports[1].Attrs != (NameAttributes{Implements: "a:b/c", VersionSuffix: "-rc1", ExternalID: "id-7"}) {
		t.Errorf("imports %+v %+v", b.Imports[0], b.Imports[1])
	}

	ctx := decItem[*BuiltinDef](t, decMust(t, decComp(decVecSec(8, []byte{0x0a, 0x7e, 0x05}))), CoreSortOf(CoreFunc), 0)
	if ctx.Op != BuiltinContextGet || ctx.ContextType != CoreI64 || ctx.ContextIndex != 5 {
		t.Errorf("context.get = %+v", ctx)
	}

	// A rec group of two function types, a core module type (0x50) whose
	// declarations cover every core extern kind and an outer alias, and a
	// non-final sub type with the 0x00 prefix; then a component type
	// importing a module of that type, and an import of one.
	modType := decCat([]byte{0x50, 0x09},
		[]byte{0x01, 0x60, 0x01, 0x7f, 0x01, 0x7e}, // type 0: func (i32) -> i64
		[]byte{0x02, 0x10, 0x01, 0x01, 0x01},       // type 1: alias outer 1 1 (type)
		decCat([]byte{0x00}, decStr("env"), decStr("f"), []byte{0x00, 0x00}),
		decCat([]byte{0x00}, decStr("env"), decStr("mem"), []byte{0x02, 0x01, 0x01, 0x02}),
		decCat([]byte{0x00}, decStr("env"), decStr("mem64"), []byte{0x02, 0x04, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01}),
		decCat([]byte{0x00}, decStr("env"), decStr("tbl"), []byte{0x01, 0x70, 0x00, 0x00}),
		decCat([]byte{0x00}, decStr("env"), decStr("g"), []byte{0x03, 0x7c, 0x01}),
		decCat([]byte{0x03}, decStr("run"), []byte{0x00, 0x01}),
		decCat([]byte{0x03}, decStr("boom"), []byte{0x04, 0x00, 0x01}),
	)
	recGroup := []byte{0x4e, 0x02, 0x60, 0x00, 0x00, 0x60, 0x02, 0x70, 0x6f, 0x00}
	coreTypes := decVecSec(3, recGroup, modType, []byte{0x00, 0x50, 0x00, 0x60, 0x01, 0x63, 0x70, 0x00})
	compType := decVecSec(7, []byte{0x41, 0x02, 0x00, 0x50, 0x00, 0x03, 0x00, 0x01, 'm', 0x00, 0x11, 0x00})
	b = decMust(t, decComp(coreTypes, compType, decVecSec(10, decCat([]byte{0x00}, decStr("m"), []byte{0x00, 0x11, 0x02}))))
	ct := b.Spaces[CoreSortOf(CoreType)]
	if len(ct) != 4 {
		t.Fatalf("%d core types, want 4", len(ct))
	}
	mt := ct[2].(*CoreTypeDef).Module
	wantImports := []CoreImportDecl{{"env", "f", CoreFunc}, {"env", "mem", CoreMemory}, {"env", "mem64", CoreMemory}, {"env", "tbl", CoreTable}, {"env", "g", CoreGlobal}}
	wantExports := []CoreExportDecl{{"run", CoreFunc}, {"boom", CoreTag}}
	if mt == nil || !slices.Equal(mt.Imports, wantImports) || !slices.Equal(mt.Exports, wantExports) {
		t.Errorf("module type = %+v", mt)
	}
	if f := ct[1].(*CoreTypeDef).Func; len(f.Params) != 2 || f.Params[0] != CoreFuncRef || f.Params[1] != CoreExternRef {
		t.Errorf("rec group's second type = %+v", f)
	}
	if f := ct[3].(*CoreTypeDef).Func; len(f.Params) != 1 || f.Params[0] != CoreFuncRef {
		t.Errorf("sub type = %+v", f)
	}
	imp := b.Imports[0]
	if imp.Type.Kind != ExternCoreModule || imp.Type.Module != mt {
		t.Errorf("module import = %+v", imp.Type)
	}
	if comp := decItem[*TypeDef](t, b, SortType, 0).Component; len(comp.Imports) != 1 || comp.Imports[0].Type.Module == nil {
		t.Errorf("component type = %+v", comp)
	}

	// Module type declarations that must fail: an outer alias past the
	// enclosing core types, and one of a module type.
	for _, tc := range []struct {
		types [][]byte
		msg   string
	}{
		{[][]byte{{0x50, 0x01, 0x02, 0x10, 0x01, 0x01, 0x00}}, "core type index 0 out of range (0 defined)"},
		{[][]byte{{0x50, 0x00}, {0x50, 0x01, 0x02, 0x10, 0x01, 0x01, 0x00}}, "module type aliases a module type"},
		{[][]byte{{0x50, 0x01, 0x02, 0x10, 0x01, 0x03, 0x00}}, "outer alias count 3 exceeds the 1 enclosing scopes"},
		{[][]byte{{0x50, 0x01, 0x00, 0x00, 0x00, 0x01, 0x70, 0x08, 0x00}}, "bad limits flags 0x08"},
	} {
		if _, err := Decode(decComp(decVecSec(3, tc.types...))); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("module type %x: error %v, want %q", tc.types, err, tc.msg)
		}
	}
}
