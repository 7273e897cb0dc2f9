package component

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// decSuiteDir holds the WASI 0.3 conformance components (built by
// wit-component 0.58).
const decSuiteDir = "../../testdata/wasi-testsuite-p3/wasm32-wasip3"

func decSuiteFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(decSuiteDir, "*.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 47 {
		t.Fatalf("found %d suite components, want 47", len(files))
	}
	return files
}

func decRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decMust decodes b and checks the Body's invariants.
func decMust(t testing.TB, b []byte) *Body {
	t.Helper()
	body, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := decCheckBody(body, nil); err != nil {
		t.Fatalf("decoded body breaks an invariant: %v", err)
	}
	return body
}

// decCheckBody checks what the linker relies on: every index refers to
// an earlier item of the right space (so running Defs in order never
// meets a forward reference), every item has its type, and Spaces, Imports
// and Exports agree with Defs.
func decCheckBody(b *Body, parent *Body) error {
	if b.Parent != parent {
		return fmt.Errorf("Parent is %p, want %p", b.Parent, parent)
	}
	n := map[Sort]int{}
	var imports []*ImportDef
	var exports []*ExportDef
	in := func(s Sort, i int, what string) error {
		if i < 0 || i >= n[s] {
			return fmt.Errorf("%s: %s index %d not below %d", what, s, i, n[s])
		}
		return nil
	}
	opts := func(o CanonOpts, what string) error {
		if o.Memory >= 0 {
			if err := in(CoreSortOf(CoreMemory), o.Memory, what+" memory"); err != nil {
				return err
			}
		}
		for _, f := range []int{o.Realloc, o.PostReturn, o.Callback} {
			if f >= 0 {
				if err := in(CoreSortOf(CoreFunc), f, what+" option"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for di, def := range b.Defs {
		what := fmt.Sprintf("def %d (%T)", di, def)
		var err error
		switch d := def.(type) {
		case *CoreModuleDef:
			if !IsCoreModule(d.Bytes) {
				err = fmt.Errorf("%s: bytes are not a core module", what)
			}
		case *CoreInstanceDef:
			if d.Module >= 0 {
				err = in(CoreSortOf(CoreModule), d.Module, what)
				for _, a := range d.Args {
					err = errors.Join(err, in(CoreSortOf(CoreInstance), a.Instance, what))
				}
			}
			for _, e := range d.Exports {
				err = errors.Join(err, in(CoreSortOf(e.Sort), e.Index, what))
			}
		case *AliasDef:
			switch d.Kind {
			case AliasExport:
				err = in(SortInstance, d.Instance, what)
				if !d.Of.IsCore() && d.Type.Kind == 0 {
					err = errors.Join(err, fmt.Errorf("%s: no type", what))
				}
			case AliasCoreExport:
				err = in(CoreSortOf(CoreInstance), d.Instance, what)
			case AliasOuter:
				ok := false
				for p := b; p != nil; p = p.Parent {
					ok = ok || p == d.Outer
				}
				if !ok || d.Index >= len(d.Outer.Spaces[d.Of]) {
					err = fmt.Errorf("%s: outer alias to %p item %d", what, d.Outer, d.Index)
				}
			default:
				err = fmt.Errorf("%s: alias kind %d", what, d.Kind)
			}
		case *TypeDef:
			set := 0
			for _, p := range []bool{d.Value != nil, d.Func != nil, d.Instance != nil, d.Component != nil, d.Resource != nil} {
				if p {
					set++
				}
			}
			if set != 1 {
				err = fmt.Errorf("%s: %d of the TypeDef fields set", what, set)
			}
			if r := d.Resource; r != nil && r.Defined != nil {
				if r.Defined.Owner != b {
					err = fmt.Errorf("%s: defined resource owned by another body", what)
				}
				if r.Defined.Dtor >= 0 {
					err = errors.Join(err, in(CoreSortOf(CoreFunc), r.Defined.Dtor, what+" dtor"))
				}
			}
		case *CoreTypeDef:
			if (d.Func == nil) == (d.Module == nil) {
				err = fmt.Errorf("%s: want exactly one of Func and Module", what)
			}
		case *LiftDef:
			err = errors.Join(in(CoreSortOf(CoreFunc), d.CoreFunc, what), opts(d.Opts, what))
			if d.Type == nil {
				err = errors.Join(err, fmt.Errorf("%s: no type", what))
			}
		case *LowerDef:
			err = errors.Join(in(SortFunc, d.Func, what), opts(d.Opts, what))
			if d.Type == nil {
				err = errors.Join(err, fmt.Errorf("%s: no type", what))
			}
		case *BuiltinDef:
			err = opts(d.Opts, what)
			switch d.Op {
			case BuiltinResourceNew, BuiltinResourceDrop, BuiltinResourceRep:
				if d.Resource == nil || d.Type == nil || d.Type.Kind != Own || d.Type.Resource != d.Resource {
					err = errors.Join(err, fmt.Errorf("%s: resource built-in without its resource", what))
				}
			case BuiltinStreamNew, BuiltinStreamRead, BuiltinStreamWrite, BuiltinStreamCancelRead,
				BuiltinStreamCancelWrite, BuiltinStreamDropReadable, BuiltinStreamDropWritable:
				if d.Type == nil || d.Type.Kind != Stream {
					err = errors.Join(err, fmt.Errorf("%s: %s without a stream type", what, d.Op))
				}
			case BuiltinFutureNew, BuiltinFutureRead, BuiltinFutureWrite, BuiltinFutureCancelRead,
				BuiltinFutureCancelWrite, BuiltinFutureDropReadable, BuiltinFutureDropWritable:
				if d.Type == nil || d.Type.Kind != Future {
					err = errors.Join(err, fmt.Errorf("%s: %s without a future type", what, d.Op))
				}
			case BuiltinThreadNewIndirect:
				err = errors.Join(err, in(CoreSortOf(CoreType), d.CoreType, what), in(CoreSortOf(CoreTable), d.Table, what))
			case 0:
				err = errors.Join(err, fmt.Errorf("%s: no op", what))
			}
		case *ComponentDef:
			if d.Type == nil {
				err = fmt.Errorf("%s: no type", what)
			} else {
				err = decCheckBody(d.Body, b)
			}
		case *InstanceDef:
			if d.Component >= 0 {
				err = in(SortComponent, d.Component, what)
				for _, a := range d.Args {
					err = errors.Join(err, in(a.Sort, a.Index, what))
				}
			}
			for _, e := range d.Exports {
				err = errors.Join(err, in(e.Sort, e.Index, what))
			}
			if d.Type == nil {
				err = errors.Join(err, fmt.Errorf("%s: no type", what))
			}
		case *ImportDef:
			imports = append(imports, d)
			if externSort(d.Type.Kind) == 0 {
				err = fmt.Errorf("%s: import kind %d", what, d.Type.Kind)
			}
		case *ExportDef:
			exports = append(exports, d)
			err = in(d.Of, d.Index, what)
			if d.Type == nil || externSort(d.Type.Kind) != d.Of {
				err = errors.Join(err, fmt.Errorf("%s: export type does not match its sort", what))
			}
		default:
			err = fmt.Errorf("%s: unknown definition", what)
		}
		if err != nil {
			return err
		}
		n[def.Sort()]++
	}
	for s, defs := range b.Spaces {
		if len(defs) != n[s] {
			return fmt.Errorf("Spaces[%s] has %d items, Defs add %d", s, len(defs), n[s])
		}
		for i, def := range defs {
			switch s {
			case SortType:
				if _, ok := def.(*TypeDef); !ok {
					return fmt.Errorf("Spaces[type][%d] is a %T", i, def)
				}
			case CoreSortOf(CoreType):
				if _, ok := def.(*CoreTypeDef); !ok {
					return fmt.Errorf("Spaces[core type][%d] is a %T", i, def)
				}
			default:
				if def.Sort() != s {
					return fmt.Errorf("Spaces[%s][%d] is a %s", s, i, def.Sort())
				}
			}
			if !s.IsCore() || s == CoreSortOf(CoreModule) {
				if _, ok := b.TypeOf(s, i); !ok {
					return fmt.Errorf("no TypeOf(%s, %d)", s, i)
				}
			}
		}
	}
	for s, c := range n {
		if len(b.Spaces[s]) != c {
			return fmt.Errorf("Defs add %d items of sort %s, Spaces has %d", c, s, len(b.Spaces[s]))
		}
	}
	if !slices.Equal(imports, b.Imports) || !slices.Equal(exports, b.Exports) {
		return fmt.Errorf("Imports or Exports differ from the ones in Defs")
	}
	return nil
}

// decAll returns the definitions of type T in b's Defs, in order.
func decAll[T Def](b *Body) []T {
	var out []T
	for _, d := range b.Defs {
		if x, ok := d.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// decItem returns item i of sort s as a T, failing the test otherwise.
func decItem[T Def](t testing.TB, b *Body, s Sort, i int) T {
	t.Helper()
	defs := b.Spaces[s]
	if i >= len(defs) {
		t.Fatalf("%s %d: only %d items", s, i, len(defs))
	}
	x, ok := defs[i].(T)
	if !ok {
		t.Fatalf("%s %d is a %T", s, i, defs[i])
	}
	return x
}

// decExport returns the named export of an instance type.
func decExport(t testing.TB, it *InstanceType, name string) ExternType {
	t.Helper()
	e, ok := it.Export(name)
	if !ok {
		t.Fatalf("instance type has no export %q", name)
	}
	return e.Type
}

// decImport returns the named import of a body.
func decImport(t testing.TB, b *Body, name string) *ImportDef {
	t.Helper()
	for _, imp := range b.Imports {
		if imp.Name == name {
			return imp
		}
	}
	t.Fatalf("no import %q", name)
	return nil
}

// decCoreAliasName is the export name a core func alias points at ("" if
// the core func is not a core export alias).
func decCoreAliasName(b *Body, coreFunc int) string {
	if a, ok := b.Spaces[CoreSortOf(CoreFunc)][coreFunc].(*AliasDef); ok && a.Kind == AliasCoreExport {
		return a.Name
	}
	return ""
}

// TestDecodeSuite decodes every WASI 0.3 conformance component and checks
// what all of them share: wit-component's layout of a main module, a
// trampoline shim and a fixup module, a sync and an async (callback)
// lift, lowered imports typed like the imports they call, and resources
// identified by the imports that declare them.
func TestDecodeSuite(t *testing.T) {
	for _, path := range decSuiteFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := decRead(t, path)
			if !IsComponent(data) || IsCoreModule(data) {
				t.Fatal("IsComponent/IsCoreModule disagree with the preamble")
			}
			b := decMust(t, data)

			mods := decAll[*CoreModuleDef](b)
			if len(mods) != 3 {
				t.Fatalf("%d core modules, want 3 (main, shim, fixup)", len(mods))
			}
			for _, m := range mods {
				// The module bytes are the input's, not a copy.
				if off := decOffsetIn(data, m.Bytes); off < 0 {
					t.Error("core module bytes are not a sub-slice of the input")
				}
			}
			if n := len(decAll[*ComponentDef](b)); n != 2 {
				t.Errorf("%d nested components, want 2 (the run@0.2.0 shim and the 0.3.0 export's)", n)
			}

			var async, sync int
			for _, l := range decAll[*LiftDef](b) {
				name := decCoreAliasName(b, l.CoreFunc)
				switch {
				case l.Opts.Async:
					async++
					if !strings.HasPrefix(name, "[async-lift]") || !l.Type.Async {
						t.Errorf("async lift of %q with type async=%v", name, l.Type.Async)
					}
					if l.Opts.Callback < 0 || decCoreAliasName(b, l.Opts.Callback) != "[callback]"+name {
						t.Errorf("async lift of %q has callback %d", name, l.Opts.Callback)
					}
				default:
					sync++
					if l.Opts.Callback >= 0 || l.Type.Async {
						t.Errorf("sync lift of %q has a callback or an async type", name)
					}
				}
			}
			if async != 1 || sync != 1 {
				t.Errorf("%d async and %d sync lifts, want 1 and 1", async, sync)
			}

			lowers := decAll[*LowerDef](b)
			if len(lowers) == 0 {
				t.Fatal("no canon lower")
			}
			for _, l := range lowers {
				// Every lowered function is an export of an imported
				// instance, and the lower has exactly its type.
				a, ok := b.Spaces[SortFunc][l.Func].(*AliasDef)
				if !ok || a.Kind != AliasExport {
					t.Fatalf("lowered func %d is a %T", l.Func, b.Spaces[SortFunc][l.Func])
				}
				imp, ok := b.Spaces[SortInstance][a.Instance].(*ImportDef)
				if !ok {
					t.Fatalf("func %d comes from instance %d, a %T", l.Func, a.Instance, b.Spaces[SortInstance][a.Instance])
				}
				if want := decExport(t, imp.Type.Instance, a.Name).Func; l.Type != want {
					t.Errorf("lower of %s %q has type %p, the import declares %p", imp.Name, a.Name, l.Type, want)
				}
				if l.Type.Async != l.Opts.Async {
					t.Errorf("lower of %q: async option %v on a func with async=%v", a.Name, l.Opts.Async, l.Type.Async)
				}
			}

			builtins := map[Builtin]int{}
			for _, bi := range decAll[*BuiltinDef](b) {
				builtins[bi.Op]++
				if bi.Op == BuiltinResourceDrop {
					// The dropped resource is the one its interface's
					// import declares.
					r := bi.Resource
					imp := decImport(t, b, r.Interface)
					if got := decExport(t, imp.Type.Instance, r.Name).Resource; got != r {
						t.Errorf("resource.drop of %s/%s is not the resource of the import", r.Interface, r.Name)
					}
				}
				if bi.Op == BuiltinWaitableSetPoll && (bi.Opts.Memory != 0 || bi.Cancellable) {
					t.Errorf("waitable-set.poll with memory %d, cancellable %v", bi.Opts.Memory, bi.Cancellable)
				}
			}
			for _, op := range []Builtin{BuiltinTaskReturn, BuiltinTaskCancel, BuiltinContextGet, BuiltinContextSet,
				BuiltinWaitableSetNew, BuiltinWaitableSetPoll, BuiltinWaitableSetDrop, BuiltinWaitableJoin} {
				if builtins[op] != 1 {
					t.Errorf("%d %s, want 1", builtins[op], op)
				}
			}
			for op := range builtins {
				switch op {
				case BuiltinYield, BuiltinBackpressureInc, BuiltinBackpressureDec, BuiltinWaitableSetWait,
					BuiltinErrorContextNew, BuiltinErrorContextDebugMessage, BuiltinErrorContextDrop,
					BuiltinResourceNew, BuiltinResourceRep:
					t.Errorf("unexpected built-in %s", op)
				}
				if op >= BuiltinThreadIndex {
					t.Errorf("unexpected thread built-in %s", op)
				}
			}

			var exported bool
			for _, e := range b.Exports {
				if strings.HasSuffix(e.Name, "@0.3.0") && e.Of == SortInstance {
					exported = true
				}
			}
			if !exported {
				t.Error("no WASI 0.3.0 instance export")
			}
		})
	}
}

// decOffsetIn is the offset of sub in b if sub is a sub-slice of b, else
// -1.
func decOffsetIn(b, sub []byte) int {
	if len(sub) == 0 || len(b) == 0 {
		return -1
	}
	for off := range b {
		if &b[off] == &sub[0] {
			if off+len(sub) <= len(b) {
				return off
			}
			return -1
		}
	}
	return -1
}

// TestDecodeFilesystemIO checks filesystem-io.wasm against its text form
// (jco print): the core instance graph, the async lift, the lowered
// filesystem methods and the identity of the descriptor resource.
func TestDecodeFilesystemIO(t *testing.T) {
	data := decRead(t, filepath.Join(decSuiteDir, "filesystem-io.wasm"))
	b := decMust(t, data)

	counts := map[Sort]int{
		CoreSortOf(CoreModule): 3, CoreSortOf(CoreInstance): 22, CoreSortOf(CoreFunc): 76,
		CoreSortOf(CoreMemory): 1, CoreSortOf(CoreTable): 1, SortFunc: 24, SortType: 40,
		SortInstance: 20, SortComponent: 2,
	}
	for s, want := range counts {
		if got := len(b.Spaces[s]); got != want {
			t.Errorf("%d items of sort %s, want %d", got, s, want)
		}
	}
	var importNames []string
	for _, imp := range b.Imports {
		importNames = append(importNames, imp.Name)
	}
	wantImports := []string{
		"wasi:clocks/system-clock@0.3.0", "wasi:filesystem/types@0.3.0", "wasi:filesystem/preopens@0.3.0",
		"wasi:io/poll@0.2.4", "wasi:io/error@0.2.4", "wasi:io/streams@0.2.4", "wasi:cli/stdout@0.2.4",
		"wasi:cli/stderr@0.2.4", "wasi:cli/stdin@0.2.4", "wasi:cli/environment@0.2.4", "wasi:cli/exit@0.2.4",
		"wasi:cli/terminal-input@0.2.4", "wasi:cli/terminal-output@0.2.4", "wasi:cli/terminal-stdin@0.2.4",
		"wasi:cli/terminal-stdout@0.2.4", "wasi:cli/terminal-stderr@0.2.4",
	}
	if !slices.Equal(importNames, wantImports) {
		t.Errorf("imports %q, want %q", importNames, wantImports)
	}

	// The shim is instantiated first, without arguments.
	shim := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 0)
	if shim.Module != 1 || len(shim.Args) != 0 {
		t.Errorf("core instance 0 = %+v, want the shim module 1 without arguments", shim)
	}
	// The main module takes bundles under the names it imports.
	main := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 19)
	if main.Module != 0 || len(main.Args) != 18 {
		t.Fatalf("core instance 19 = module %d with %d args, want module 0 with 18", main.Module, len(main.Args))
	}
	wantArgs := map[string]int{"wasi:filesystem/types@0.3.0": 1, "[export]wasi:cli/run@0.3.0": 2, "$root": 4, "[export]$root": 5, "wasi:cli/terminal-stderr@0.2.0": 18}
	for _, a := range main.Args {
		if want, ok := wantArgs[a.Name]; ok && a.Instance != want {
			t.Errorf("main's arg %q is core instance %d, want %d", a.Name, a.Instance, want)
		}
		if arg := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), a.Instance); arg.Module != -1 {
			t.Errorf("main's arg %q is an instantiation, want a bundle", a.Name)
		}
	}
	fsBundle := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 1)
	if len(fsBundle.Exports) != 23 || fsBundle.Exports[17] != (CoreInlineExport{Name: "[resource-drop]descriptor", Sort: CoreFunc, Index: 17}) {
		t.Errorf("filesystem bundle exports %d items, [17] = %+v", len(fsBundle.Exports), fsBundle.Exports[17])
	}
	root := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 4)
	if len(root.Exports) != 8 || root.Exports[3] != (CoreInlineExport{Name: "[waitable-set-poll]", Sort: CoreFunc, Index: 28}) {
		t.Errorf("$root bundle = %+v", root.Exports)
	}
	// The fixup module is instantiated with a bundle holding the shim's
	// table and the real functions to put in it.
	fixupArgs := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 20)
	if fixupArgs.Module != -1 || len(fixupArgs.Exports) != 20 || fixupArgs.Exports[0] != (CoreInlineExport{Name: "$imports", Sort: CoreTable, Index: 0}) {
		t.Errorf("fixup bundle = %+v", fixupArgs)
	}
	table := decItem[*AliasDef](t, b, CoreSortOf(CoreTable), 0)
	if table.Kind != AliasCoreExport || table.Instance != 0 || table.Name != "$imports" {
		t.Errorf("core table 0 = %+v, want the shim's $imports", table)
	}
	fixup := decItem[*CoreInstanceDef](t, b, CoreSortOf(CoreInstance), 21)
	if fixup.Module != 2 || !slices.Equal(fixup.Args, []CoreInstantiateArg{{Name: "", Instance: 20}}) {
		t.Errorf("core instance 21 = %+v", fixup)
	}
	mem := decItem[*AliasDef](t, b, CoreSortOf(CoreMemory), 0)
	if mem.Instance != 19 || mem.Name != "memory" {
		t.Errorf("core memory 0 = %+v", mem)
	}

	// The async export: lifted with async and a callback.
	run := decItem[*LiftDef](t, b, SortFunc, 23)
	if run.CoreFunc != 74 || !run.Opts.Async || run.Opts.Callback != 75 || run.Opts.Memory != -1 || run.Opts.PostReturn != -1 {
		t.Errorf("func 23 = %+v", run)
	}
	if name := decCoreAliasName(b, 74); name != "[async-lift]wasi:cli/run@0.3.0#run" {
		t.Errorf("lifted core func is %q", name)
	}
	if !run.Type.Async || len(run.Type.Params) != 0 || run.Type.Result == nil || run.Type.Result.Kind != Result || run.Type.Result.Ok != nil || run.Type.Result.Err != nil {
		t.Errorf("run's type is %+v", run.Type)
	}
	run02 := decItem[*LiftDef](t, b, SortFunc, 22)
	if run02.CoreFunc != 73 || run02.Opts != NoOpts || run02.Type.Async {
		t.Errorf("func 22 = %+v", run02)
	}
	taskReturn := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 23)
	if taskReturn.Op != BuiltinTaskReturn || taskReturn.Type.String() != "result<_, _>" || taskReturn.Opts != NoOpts {
		t.Errorf("core func 23 = %+v", taskReturn)
	}

	// The descriptor resource: one identity from the import through the
	// alias, the preopens interface, resource.drop and the lowered
	// methods.
	fsTypes := decImport(t, b, "wasi:filesystem/types@0.3.0")
	desc := decExport(t, fsTypes.Type.Instance, "descriptor").Resource
	if desc == nil || desc.Name != "descriptor" || desc.Interface != "wasi:filesystem/types@0.3.0" || desc.Defined != nil {
		t.Fatalf("descriptor = %+v", desc)
	}
	if td := decItem[*TypeDef](t, b, SortType, 3); td.Resource != desc {
		t.Error("type 3 (alias export descriptor) is another resource")
	}
	if drop := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 17); drop.Op != BuiltinResourceDrop || drop.Resource != desc || drop.Type.Kind != Own {
		t.Errorf("core func 17 = %+v", drop)
	}
	preopens := decImport(t, b, "wasi:filesystem/preopens@0.3.0")
	if r := decExport(t, preopens.Type.Instance, "descriptor").Resource; r != desc {
		t.Error("preopens' descriptor (eq to an outer alias) is another resource")
	}
	dirs := decExport(t, preopens.Type.Instance, "get-directories").Func
	if got := dirs.Result.String(); got != "list<tuple {own<descriptor>, string}>" || dirs.Result.Elem.Fields[0].Type.Resource != desc {
		t.Errorf("get-directories returns %s", got)
	}

	lowers := map[string]*LowerDef{}
	for core, def := range b.Spaces[CoreSortOf(CoreFunc)] {
		if l, ok := def.(*LowerDef); ok {
			a := decItem[*AliasDef](t, b, SortFunc, l.Func)
			lowers[a.Name] = l
			if l.Type == nil {
				t.Errorf("core func %d: lower without type", core)
			}
		}
	}
	openAt := lowers["[method]descriptor.open-at"]
	if openAt == nil || openAt.Func != 12 {
		t.Fatalf("open-at lower = %+v", openAt)
	}
	wantOpts := CanonOpts{Encoding: UTF8, Memory: 0, Realloc: 53, PostReturn: -1, Async: true, Callback: -1}
	if openAt.Opts != wantOpts {
		t.Errorf("open-at opts = %+v, want %+v", openAt.Opts, wantOpts)
	}
	ft := openAt.Type
	var params []string
	for _, p := range ft.Params {
		params = append(params, p.Name+" "+p.Type.String())
	}
	wantParams := []string{"self borrow<descriptor>", "path-flags flags {symlink-follow}", "path string",
		"open-flags flags {create, directory, exclusive, truncate}",
		"flags flags {read, write, file-integrity-sync, data-integrity-sync, requested-write-sync, mutate-directory}"}
	if !ft.Async || !slices.Equal(params, wantParams) {
		t.Errorf("open-at: async=%v params %q", ft.Async, params)
	}
	if ft.Params[0].Type.Resource != desc || ft.Result.Kind != Result || ft.Result.Ok.Kind != Own || ft.Result.Ok.Resource != desc {
		t.Errorf("open-at's self or result is not the descriptor: %s", ft.Result)
	}
	errorCode := decItem[*TypeDef](t, b, SortType, 26).Value
	if ft.Result.Err != errorCode || errorCode.Kind != Variant || len(errorCode.Cases) != 37 ||
		errorCode.Cases[36].Name != "other" || errorCode.Cases[36].Type.String() != "option<string>" {
		t.Errorf("open-at's error is not the error-code variant of type 26")
	}
	if readVia := lowers["[method]descriptor.read-via-stream"]; readVia.Opts.Async || readVia.Opts.Memory != 0 || readVia.Type.Async ||
		readVia.Type.Result.String() != "tuple {stream<u8>, future<result<_, "+errorCode.String()+">>}" {
		t.Errorf("read-via-stream lower = %+v, result %s", readVia.Opts, readVia.Type.Result)
	}
	if w := lowers["[method]output-stream.write"]; w.Type.Params[0].Type.Resource.Interface != "wasi:io/streams@0.2.4" || w.Type.Params[1].Type.String() != "list<u8>" {
		t.Errorf("output-stream.write params %v", w.Type.Params)
	}
	// stdout's output-stream is streams' (eq through an outer alias).
	out := decExport(t, decImport(t, b, "wasi:io/streams@0.2.4").Type.Instance, "output-stream").Resource
	if got := lowers["get-stdout"].Type.Result.Resource; got != out {
		t.Errorf("get-stdout returns own<%s/%s>, not streams' output-stream", got.Interface, got.Name)
	}

	futureRead := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 55)
	wantFR := CanonOpts{Encoding: UTF8, Memory: 0, Realloc: 53, PostReturn: -1, Async: true, Callback: -1}
	if futureRead.Op != BuiltinFutureRead || futureRead.Opts != wantFR || futureRead.Type.Elem.Err != errorCode {
		t.Errorf("core func 55 = %+v", futureRead)
	}
	if poll := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 65); poll.Op != BuiltinWaitableSetPoll || poll.Opts.Memory != 0 {
		t.Errorf("core func 65 = %+v", poll)
	}
	if ctx := decItem[*BuiltinDef](t, b, CoreSortOf(CoreFunc), 29); ctx.Op != BuiltinContextGet || ctx.ContextType != CoreI32 || ctx.ContextIndex != 0 {
		t.Errorf("core func 29 = %+v", ctx)
	}

	// The nested shims: a component importing the lifted func and
	// re-exporting it, instantiated with it.
	for i, async := range []bool{false, true} {
		c := decItem[*ComponentDef](t, b, SortComponent, i)
		if c.Body.Parent != b || len(c.Type.Imports) != 1 || c.Type.Imports[0].Name != "import-func-run" ||
			len(c.Type.Exports) != 1 || c.Type.Exports[0].Name != "run" || c.Type.Exports[0].Type.Func.Async != async {
			t.Errorf("nested component %d type = %+v", i, c.Type)
		}
		exp := c.Body.Exports[0]
		if exp.Of != SortFunc || exp.Index != 0 || exp.Type.Func != decItem[*TypeDef](t, c.Body, SortType, 3).Func {
			t.Errorf("nested component %d exports %+v (ascribed type 3)", i, exp)
		}
	}
	for _, tc := range []struct {
		inst, comp, fn int
		export         string
	}{{16, 0, 22, "wasi:cli/run@0.2.0"}, {18, 1, 23, "wasi:cli/run@0.3.0"}} {
		inst := decItem[*InstanceDef](t, b, SortInstance, tc.inst)
		if inst.Component != tc.comp || !slices.Equal(inst.Args, []InstantiateArg{{Name: "import-func-run", Sort: SortFunc, Index: tc.fn}}) {
			t.Errorf("instance %d = %+v", tc.inst, inst)
		}
		if f := decExport(t, inst.Type, "run").Func; f == nil || f.Async != (tc.comp == 1) {
			t.Errorf("instance %d's run is %+v", tc.inst, f)
		}
		exp := decItem[*ExportDef](t, b, SortInstance, tc.inst+1)
		if exp.Name != tc.export || exp.Index != tc.inst || exp.Type.Instance != inst.Type {
			t.Errorf("instance %d = %+v", tc.inst+1, exp)
		}
	}
}

// TestDecodeHTTPService checks the resource arguments of http-service's
// nested handler shim: its imported resources become the outer
// component's, so the exported interface uses wasi:http/types' request
// and response.
func TestDecodeHTTPService(t *testing.T) {
	b := decMust(t, decRead(t, filepath.Join(decSuiteDir, "http-service.wasm")))
	types := decImport(t, b, "wasi:http/types@0.3.0").Type.Instance
	request := decExport(t, types, "request").Resource
	response := decExport(t, types, "response").Resource
	if request == nil || response == nil || request == response || request.Interface != "wasi:http/types@0.3.0" {
		t.Fatalf("request %+v, response %+v", request, response)
	}
	var handler *ExportDef
	for _, e := range b.Exports {
		if e.Name == "wasi:http/handler@0.3.0" {
			handler = e
		}
	}
	if handler == nil {
		t.Fatal("no wasi:http/handler@0.3.0 export")
	}
	it := handler.Type.Instance
	if got := decExport(t, it, "request").Resource; got != request {
		t.Errorf("handler's request is %+v, not the imported one", got)
	}
	handle := decExport(t, it, "handle").Func
	if !handle.Async || handle.Params[0].Type.Kind != Own || handle.Params[0].Type.Resource != request ||
		handle.Result.Ok.Resource != response {
		t.Errorf("handle = %s", handle.Params[0].Type)
	}
	// Inside the shim the resources are its own imports.
	inst := decItem[*InstanceDef](t, b, SortInstance, handler.Index)
	shim := decItem[*ComponentDef](t, b, SortComponent, inst.Component)
	inner := shim.Body.Imports[0]
	if inner.Name != "import-type-request" || inner.Type.Resource == nil || inner.Type.Resource == request {
		t.Errorf("shim's first import = %+v", inner)
	}
	if len(inst.Args) != 10 || inst.Args[1] != (InstantiateArg{Name: "import-type-request", Sort: SortType, Index: inst.Args[1].Index}) {
		t.Errorf("shim instantiated with %+v", inst.Args)
	}
	if got := decItem[*TypeDef](t, b, SortType, inst.Args[1].Index).Resource; got != request {
		t.Errorf("argument import-type-request is %+v", got)
	}
	// The lifted handler has the same type the export declares.
	lift := decItem[*LiftDef](t, b, SortFunc, inst.Args[0].Index)
	if lift.Type.Params[0].Type.Resource != request || !lift.Opts.Async || lift.Opts.Memory != 0 {
		t.Errorf("lifted handle = %+v", lift)
	}
}

// BenchmarkDecode decodes filesystem-io.wasm (330 KB, three core modules
// kept as sub-slices).
func BenchmarkDecode(b *testing.B) {
	data := decRead(b, filepath.Join(decSuiteDir, "filesystem-io.wasm"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSuite decodes all 47 suite components per iteration and
// reports the mean time per component.
func BenchmarkDecodeSuite(b *testing.B) {
	var inputs [][]byte
	var size int64
	for _, path := range decSuiteFiles(b) {
		data := decRead(b, path)
		inputs = append(inputs, data)
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range inputs {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(inputs)), "ns/component")
}
