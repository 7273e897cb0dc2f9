package component

import "strconv"

// typeDef decodes one item of a type section.
func (d *decState) typeDef(sc *resScope) {
	td := d.deftype(sc)
	d.addType(sc, td, td)
}

// deftype decodes a type definition (in a body, or a `type` declarator
// of a component or instance type).
func (d *decState) deftype(sc *resScope) *TypeDef {
	at := d.pos
	c := d.byte()
	switch c {
	case 0x3f:
		if sc.kind != resBody {
			d.failAt(at, "resource type definition inside a component or instance type")
		}
		repAt := d.pos
		switch rep := d.byte(); rep {
		case 0x7f:
		case 0x7e:
			d.unsupported("64-bit resource representations (rep i64)")
		default:
			d.failAt(repAt, "resource representation 0x%02x is not i32", rep)
		}
		dtor := -1
		if d.flag("destructor") {
			dtor = d.idx(sc, CoreSortOf(CoreFunc))
		}
		return &TypeDef{Resource: &ResourceType{Defined: &DefinedResource{Dtor: dtor, Owner: sc.body}}}
	case 0x40, 0x43:
		return &TypeDef{Func: d.funcType(sc, c == 0x43, at)}
	case 0x41:
		return &TypeDef{Component: d.componentType(sc, at)}
	case 0x42:
		return &TypeDef{Instance: d.instanceType(sc, at)}
	}
	return &TypeDef{Value: d.defValType(sc, c, at)}
}

// decPrimitive maps primitive value type codes to the shared types.
var decPrimitive = [256]*Type{
	0x7f: BoolType, 0x7e: S8Type, 0x7d: U8Type, 0x7c: S16Type, 0x7b: U16Type,
	0x7a: S32Type, 0x79: U32Type, 0x78: S64Type, 0x77: U64Type, 0x76: F32Type,
	0x75: F64Type, 0x74: CharType, 0x73: StringType, 0x64: ErrorContextType,
}

// decTupleNames are the field names of tuple elements.
var decTupleNames = func() [32]string {
	var a [32]string
	for i := range a {
		a[i] = strconv.Itoa(i)
	}
	return a
}()

func decTupleName(i int) string {
	if i < len(decTupleNames) {
		return decTupleNames[i]
	}
	return strconv.Itoa(i)
}

// defValType decodes a defvaltype whose opcode c was read at offset at.
func (d *decState) defValType(sc *resScope, c byte, at int) *Type {
	if t := decPrimitive[c]; t != nil {
		return t
	}
	t := &Type{}
	switch c {
	case 0x72:
		t.Kind = Record
		n := d.count("record field")
		if n == 0 {
			d.failAt(at, "record type with no fields")
		}
		t.Fields = make([]Field, n)
		for i := range t.Fields {
			t.Fields[i].Name = d.name()
			t.Fields[i].Type = d.valType(sc)
		}
	case 0x71:
		t.Kind = Variant
		n := d.count("variant case")
		if n == 0 {
			d.failAt(at, "variant type with no cases")
		}
		t.Cases = make([]Case, n)
		for i := range t.Cases {
			t.Cases[i].Name = d.name()
			if d.flag("case type") {
				t.Cases[i].Type = d.valType(sc)
			}
			if z := d.byte(); z != 0x00 {
				d.failAt(d.pos-1, "variant case ends with 0x%02x, expected 0x00", z)
			}
		}
	case 0x70:
		t.Kind = List
		t.Elem = d.valType(sc)
	case 0x67:
		t.Kind = List
		t.Elem = d.valType(sc)
		lenAt := d.pos
		if t.Len = d.u32(); t.Len == 0 {
			d.failAt(lenAt, "fixed-length list of length 0")
		}
	case 0x6f:
		t.Kind = Tuple
		n := d.count("tuple element")
		if n == 0 {
			d.failAt(at, "tuple type with no elements")
		}
		t.Fields = make([]Field, n)
		for i := range t.Fields {
			t.Fields[i] = Field{Name: decTupleName(i), Type: d.valType(sc)}
		}
	case 0x6e, 0x6d:
		t.Kind = Flags
		what := "flags"
		if c == 0x6d {
			t.Kind, what = Enum, "enum"
		}
		n := d.count(what + " label")
		if n == 0 {
			d.failAt(at, "%s type with no labels", what)
		}
		if t.Kind == Flags && n > 32 {
			d.failAt(at, "flags type with %d labels (at most 32)", n)
		}
		t.Labels = make([]string, n)
		for i := range t.Labels {
			t.Labels[i] = d.name()
		}
	case 0x6b:
		t.Kind = Option
		t.Elem = d.valType(sc)
	case 0x6a:
		t.Kind = Result
		if d.flag("result ok type") {
			t.Ok = d.valType(sc)
		}
		if d.flag("result error type") {
			t.Err = d.valType(sc)
		}
	case 0x69, 0x68:
		t.Kind = Own
		if c == 0x68 {
			t.Kind = Borrow
		}
		rAt := d.pos
		td := d.typeIdx(sc)
		if td.Resource == nil {
			d.failAt(rAt, "%s of a %s, not a resource type", t.Kind, resTypeDefKind(td))
		}
		t.Resource = td.Resource
	case 0x66, 0x65:
		t.Kind = Stream
		if c == 0x65 {
			t.Kind = Future
		}
		if d.flag(t.Kind.String() + " element type") {
			t.Elem = d.valType(sc)
		}
	case 0x63:
		t.Kind = Map
		keyAt := d.pos
		t.Key = d.valType(sc)
		switch t.Key.Kind {
		case Bool, S8, U8, S16, U16, S32, U32, S64, U64, Char, String:
		default:
			d.failAt(keyAt, "map key type %s is not a primitive key type", t.Key)
		}
		t.Elem = d.valType(sc)
	default:
		d.failAt(at, "unknown type opcode 0x%02x", c)
	}
	return d.newType(t, at)
}

// valType decodes a valtype: a primitive, or the index of a value type
// (encoded as a non-negative s33, since it shares the byte with the
// opcodes).
func (d *decState) valType(sc *resScope) *Type {
	c := d.peek()
	if t := decPrimitive[c]; t != nil {
		d.pos++
		return t
	}
	at := d.pos
	i := d.s33()
	if i < 0 {
		d.failAt(at, "unknown value type code 0x%02x", c)
	}
	if i >= int64(len(sc.types)) {
		d.failAt(at, "type index %d out of range (%d defined)", i, len(sc.types))
	}
	td := sc.types[i]
	if td.Value == nil {
		d.failAt(at, "type index %d is a %s, not a value type", i, resTypeDefKind(td))
	}
	return td.Value
}

// resultList decodes a function or task.return result: 0x00 t, or 0x01
// 0x00 for none.
func (d *decState) resultList(sc *resScope) *Type {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		return d.valType(sc)
	case 0x01:
		if n := d.byte(); n != 0x00 {
			d.failAt(at, "named results (0x01 with %d names) are not part of the current format", n)
		}
		return nil
	default:
		d.failAt(at, "bad result list opcode 0x%02x", c)
		return nil
	}
}

// funcType decodes a function type after its opcode.
func (d *decState) funcType(sc *resScope, async bool, at int) *FuncType {
	n := d.count("parameter")
	ft := &FuncType{Params: make([]Param, n), Async: async}
	for i := range ft.Params {
		ft.Params[i] = Param{Name: d.name(), Type: d.valType(sc)}
	}
	resAt := d.pos
	ft.Result = d.resultList(sc)
	if d.info(ft.Result).borrow {
		d.failAt(resAt, "function result %s contains a borrow handle", ft.Result)
	}
	d.setDepth(ft, at)
	return ft
}

// enterNesting counts one more level of nested components or types.
func (d *decState) enterNesting(at int) {
	if d.nesting >= decMaxNesting {
		d.failAt(at, "components and types nested deeper than %d levels", decMaxNesting)
	}
	d.nesting++
}

// componentType decodes a component type's declarations.
func (d *decState) componentType(sc *resScope, at int) *ComponentType {
	ts := d.declarations(sc, resComponentType, at)
	ct := &ComponentType{Imports: ts.imports, Exports: ts.exports}
	d.ctBound[ct] = resCompBound{imports: ts.importBound, exports: ts.exportBound}
	d.setDepth(ct, at)
	return ct
}

// instanceType decodes an instance type's declarations.
func (d *decState) instanceType(sc *resScope, at int) *InstanceType {
	ts := d.declarations(sc, resInstanceType, at)
	it := &InstanceType{Exports: ts.exports}
	if len(ts.exportBound) > 0 {
		d.itBound[it] = ts.exportBound
	}
	d.setDepth(it, at)
	return it
}

// declarations decodes the declarators of a component or instance type
// into a new scope.
func (d *decState) declarations(sc *resScope, kind resScopeKind, at int) *resScope {
	d.enterNesting(at)
	defer func() { d.nesting-- }()
	ts := &resScope{kind: kind, parent: sc}
	n := d.count("declaration")
	for i := 0; i < n; i++ {
		declAt := d.pos
		switch c := d.byte(); c {
		case 0x00:
			d.coreType(ts)
		case 0x01:
			td := d.deftype(ts)
			d.addType(ts, nil, td)
		case 0x02:
			d.alias(ts)
		case 0x03:
			if kind != resComponentType {
				d.failAt(declAt, "import declaration inside an instance type")
			}
			d.externDecl(ts, true)
		case 0x04:
			d.externDecl(ts, false)
		default:
			d.failAt(declAt, "unknown declaration opcode 0x%02x", c)
		}
	}
	return ts
}

// externDecl decodes an import or export declaration of a component or
// instance type.
func (d *decState) externDecl(ts *resScope, isImport bool) {
	name, _ := d.nameAttrs()
	raw, sub := d.externTypeRaw(ts)
	bound := &ts.exportBound
	if isImport {
		bound = &ts.importBound
	}
	et := d.bindExtern(name, raw, sub, bound)
	decl := ExternDecl{Name: name, Type: et}
	if isImport {
		ts.imports = append(ts.imports, decl)
	} else {
		ts.exports = append(ts.exports, decl)
	}
	d.addItem(ts, externSort(et.Kind), nil, et)
}

// externTypeRaw decodes an externtype as written: instance and component
// types are returned as the templates they are, and a `(sub resource)`
// bound is reported by sub (the caller decides what it becomes).
func (d *decState) externTypeRaw(sc *resScope) (et ExternType, sub bool) {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		if s := d.byte(); s != 0x11 {
			d.failAt(at, "core extern type 0x%02x is not a core module (0x11)", s)
		}
		tAt := d.pos
		td := d.coreTypeIdx(sc)
		if td.Module == nil {
			d.failAt(tAt, "core module import or export of a core type that is not a module type")
		}
		return ExternType{Kind: ExternCoreModule, Module: td.Module}, false
	case 0x01:
		tAt := d.pos
		td := d.typeIdx(sc)
		if td.Func == nil {
			d.failAt(tAt, "func import or export of a %s", resTypeDefKind(td))
		}
		return ExternType{Kind: ExternFunc, Func: td.Func}, false
	case 0x02:
		d.unsupported("value imports and exports (🪙)")
	case 0x03:
		bAt := d.pos
		switch b := d.byte(); b {
		case 0x00:
			return resBoundOf(d.typeIdx(sc)), false
		case 0x01:
			return ExternType{Kind: ExternTypeBound}, true
		default:
			d.failAt(bAt, "bad type bound 0x%02x", b)
		}
	case 0x04:
		tAt := d.pos
		td := d.typeIdx(sc)
		if td.Component == nil {
			d.failAt(tAt, "component import or export of a %s", resTypeDefKind(td))
		}
		return ExternType{Kind: ExternComponent, Component: td.Component}, false
	case 0x05:
		tAt := d.pos
		td := d.typeIdx(sc)
		if td.Instance == nil {
			d.failAt(tAt, "instance import or export of a %s", resTypeDefKind(td))
		}
		return ExternType{Kind: ExternInstance, Instance: td.Instance}, false
	default:
		d.failAt(at, "unknown extern type opcode 0x%02x", c)
	}
	return ExternType{}, false
}

// nameAttrs decodes an import or export name with its attributes.
func (d *decState) nameAttrs() (string, NameAttributes) {
	at := d.pos
	var a NameAttributes
	switch c := d.byte(); c {
	case 0x00, 0x01:
		return d.name(), a
	case 0x02:
		name := d.name()
		n := d.count("name attribute")
		var seen [3]bool
		for i := 0; i < n; i++ {
			kAt := d.pos
			k := d.byte()
			if k > 0x02 {
				d.failAt(kAt, "unknown name attribute 0x%02x", k)
			}
			if seen[k] {
				d.failAt(kAt, "duplicate name attribute 0x%02x", k)
			}
			seen[k] = true
			v := d.name()
			switch k {
			case 0x00:
				a.Implements = v
			case 0x01:
				a.VersionSuffix = v
			case 0x02:
				a.ExternalID = v
			}
		}
		return name, a
	default:
		d.failAt(at, "bad name opcode 0x%02x", c)
		return "", a
	}
}

// coreType decodes a core:type (in a core type section or a declarator
// of a component or instance type): a rectype, a non-final sub type
// prefixed with 0x00, or a module type (0x50).
func (d *decState) coreType(sc *resScope) {
	switch d.peek() {
	case 0x00:
		d.pos++
		if c := d.peek(); c != 0x50 {
			d.fail("0x00 in a core type must precede a non-final sub type (0x50), found 0x%02x", c)
		}
		d.recType(sc)
	case 0x50:
		at := d.pos
		d.pos++
		mt := d.moduleType(sc, at)
		td := &CoreTypeDef{Module: mt}
		d.addCoreType(sc, td, td)
	default:
		d.recType(sc)
	}
}

// coreTypeDef decodes one item of a core type section.
func (d *decState) coreTypeDef(sc *resScope) { d.coreType(sc) }

// recType decodes a core rec group (or a single sub type), adding one
// core type per member.
func (d *decState) recType(sc *resScope) {
	if d.peek() == 0x4e {
		d.pos++
		n := d.count("rec group member")
		for i := 0; i < n; i++ {
			d.subType(sc)
		}
		return
	}
	d.subType(sc)
}

// subType decodes a core sub type; only function types are supported
// (wazero has no GC types).
func (d *decState) subType(sc *resScope) {
	if c := d.peek(); c == 0x50 || c == 0x4f {
		d.pos++
		n := d.count("supertype")
		for i := 0; i < n; i++ {
			d.u32()
		}
	}
	at := d.pos
	switch c := d.byte(); c {
	case 0x60:
		ft := &CoreFuncType{Params: d.coreValTypes(), Results: d.coreValTypes()}
		td := &CoreTypeDef{Func: ft}
		d.addCoreType(sc, td, td)
	case 0x5f, 0x5e:
		d.unsupported("core GC types (struct and array)")
	case 0x65:
		d.unsupported("shared core types")
	default:
		d.failAt(at, "unknown core composite type opcode 0x%02x", c)
	}
}

func (d *decState) coreValTypes() []CoreValType {
	n := d.count("core value type")
	ts := make([]CoreValType, n)
	for i := range ts {
		ts[i] = d.coreValType()
	}
	return ts
}

// coreValType decodes a core value type: the numeric and vector types,
// funcref and externref (also as `ref null func/extern`); the other
// reference types belong to GC.
func (d *decState) coreValType() CoreValType {
	at := d.pos
	switch c := d.byte(); c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return CoreValType(c)
	case 0x63:
		switch h := d.s33(); h {
		case -0x10:
			return CoreFuncRef
		case -0x11:
			return CoreExternRef
		}
		d.unsupported("core GC reference types")
	case 0x64, 0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x69, 0x71, 0x72, 0x73, 0x74:
		d.unsupported("core GC reference types")
	default:
		d.failAt(at, "unknown core value type 0x%02x", c)
	}
	return 0
}

// moduleType decodes a core module type's declarations (after 0x50).
func (d *decState) moduleType(sc *resScope, at int) *ModuleType {
	d.enterNesting(at)
	defer func() { d.nesting-- }()
	ms := &resScope{kind: resModuleType, parent: sc}
	mt := &ModuleType{}
	n := d.count("module type declaration")
	for i := 0; i < n; i++ {
		declAt := d.pos
		switch c := d.byte(); c {
		case 0x00:
			imp := CoreImportDecl{Module: d.name(), Name: d.name()}
			imp.Kind = d.coreExternType(ms)
			mt.Imports = append(mt.Imports, imp)
		case 0x01:
			// Module types cannot nest, so 0x50 here is a sub type, with
			// or without the 0x00 prefix of the component-level rule.
			if d.peek() == 0x00 {
				d.pos++
				if c := d.peek(); c != 0x50 {
					d.fail("0x00 in a core type must precede a non-final sub type (0x50), found 0x%02x", c)
				}
			}
			d.recType(ms)
		case 0x02:
			if s, k := d.byte(), d.byte(); s != 0x10 || k != 0x01 {
				d.failAt(declAt, "module type alias 0x%02x 0x%02x is not an outer type alias (0x10 0x01)", s, k)
			}
			td := d.outerCoreType(ms)
			if td.Module != nil {
				d.failAt(declAt, "module type aliases a module type")
			}
			ms.coreTypes = append(ms.coreTypes, td)
		case 0x03:
			exp := CoreExportDecl{Name: d.name()}
			exp.Kind = d.coreExternType(ms)
			mt.Exports = append(mt.Exports, exp)
		default:
			d.failAt(declAt, "unknown module type declaration opcode 0x%02x", c)
		}
	}
	return mt
}

// outerCoreType decodes the count and index of an outer core type alias.
func (d *decState) outerCoreType(sc *resScope) *CoreTypeDef {
	target := d.outerScope(sc)
	return target.coreTypes[d.idx(target, CoreSortOf(CoreType))]
}

// outerScope reads an outer alias count and returns the scope it names
// (0 is sc itself).
func (d *decState) outerScope(sc *resScope) *resScope {
	at := d.pos
	ct := d.u32()
	target := sc
	for i := uint32(0); i < ct; i++ {
		target = target.parent
		if target == nil {
			d.failAt(at, "outer alias count %d exceeds the %d enclosing scopes", ct, i)
		}
	}
	return target
}

// coreExternType decodes a core import or export description and
// returns its sort.
func (d *decState) coreExternType(ms *resScope) CoreSort {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		tAt := d.pos
		if td := d.coreTypeIdx(ms); td.Func == nil {
			d.failAt(tAt, "core func import or export of a core type that is not a function type")
		}
		return CoreFunc
	case 0x01:
		if rt := d.coreValType(); rt != CoreFuncRef && rt != CoreExternRef {
			d.failAt(at+1, "table element type %s is not a reference type", rt)
		}
		d.limits(true)
		return CoreTable
	case 0x02:
		d.limits(false)
		return CoreMemory
	case 0x03:
		d.coreValType()
		d.flag("global mutability")
		return CoreGlobal
	case 0x04:
		if a := d.byte(); a != 0x00 {
			d.failAt(at+1, "tag attribute 0x%02x is not 0x00", a)
		}
		d.coreTypeIdx(ms)
		return CoreTag
	default:
		d.failAt(at, "unknown core extern type 0x%02x", c)
		return 0
	}
}

// limits decodes table or memory limits (with the 64-bit, shared and
// custom page size flags of the later core proposals).
func (d *decState) limits(table bool) {
	at := d.pos
	f := d.byte()
	allowed := byte(0x0f)
	if table {
		allowed = 0x05
	}
	if f&^allowed != 0 {
		d.failAt(at, "bad limits flags 0x%02x", f)
	}
	read := d.u64
	if f&0x04 == 0 {
		read = func() uint64 { return uint64(d.u32()) }
	}
	read()
	if f&0x01 != 0 {
		read()
	}
	if f&0x08 != 0 {
		d.u32()
	}
}
