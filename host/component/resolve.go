package component

import "strconv"

// resScopeKind is the kind of an index-space scope: a component body, or
// a component, instance or core module type (each type starts with empty
// index spaces of its own).
type resScopeKind uint8

const (
	resBody resScopeKind = iota + 1
	resComponentType
	resInstanceType
	resModuleType
)

// resScope is the state of one scope while it is decoded: the resolved
// type of every item of every index space (the Body's Spaces hold the
// definitions; these slices hold their types, which later definitions
// need), and what a component or instance type declares.
type resScope struct {
	kind   resScopeKind
	parent *resScope
	body   *Body // resBody only

	types      []*TypeDef
	coreTypes  []*CoreTypeDef
	funcs      []*FuncType
	instances  []*InstanceType
	components []*ComponentType
	modules    []*ModuleType // nil for embedded modules
	coreInsts  []*resCoreInst

	// Declarations of a component or instance type.
	imports, exports []ExternDecl
	// importBound and exportBound are the resources the imports
	// (exports) declare, in a body or a component or instance type.
	importBound, exportBound []*ResourceType
	// Names seen, to reject duplicate imports and exports of a body.
	importNames, exportNames map[string]bool
}

// resCoreInst is what the decoder knows of a core instance: a bundle's
// exports (nil exports for an instantiated module, whose exports only the
// module's bytes tell).
type resCoreInst struct {
	exports map[string]CoreInlineExport
}

// resCompBound are the resources a component type binds.
type resCompBound struct {
	imports, exports []*ResourceType
}

// resTypeInfo is what the decoder tracks of a composite value type.
type resTypeInfo struct {
	depth  int
	weight uint64
	res    bool // mentions an own or borrow handle
	borrow bool // contains a borrow handle
}

// spaceLen is the number of items of sort s in scope sc.
func (sc *resScope) spaceLen(s Sort) int {
	switch s {
	case SortFunc:
		return len(sc.funcs)
	case SortType:
		return len(sc.types)
	case SortInstance:
		return len(sc.instances)
	case SortComponent:
		return len(sc.components)
	case SortValue:
		return 0
	case CoreSortOf(CoreModule):
		return len(sc.modules)
	case CoreSortOf(CoreType):
		return len(sc.coreTypes)
	case CoreSortOf(CoreInstance):
		return len(sc.coreInsts)
	}
	if sc.body != nil {
		return len(sc.body.Spaces[s])
	}
	return 0
}

// idx reads an index into the space of sort s and checks its range.
func (d *decState) idx(sc *resScope, s Sort) int {
	at := d.pos
	i := d.u32()
	if n := sc.spaceLen(s); int64(i) >= int64(n) {
		d.failAt(at, "%s index %d out of range (%d defined)", s, i, n)
	}
	return int(i)
}

// typeIdx reads a type index and returns its definition.
func (d *decState) typeIdx(sc *resScope) *TypeDef {
	return sc.types[d.idx(sc, SortType)]
}

// coreTypeIdx reads a core type index and returns its definition.
func (d *decState) coreTypeIdx(sc *resScope) *CoreTypeDef {
	return sc.coreTypes[d.idx(sc, CoreSortOf(CoreType))]
}

// addItem adds an item of sort s with type et; def is its definition in
// a body (ignored in type scopes). For the type sort, the Spaces entry is
// the resolved TypeDef.
func (d *decState) addItem(sc *resScope, s Sort, def Def, et ExternType) {
	switch s {
	case SortType:
		d.addType(sc, def, resTypeDefOf(et))
		return
	case SortFunc:
		sc.funcs = append(sc.funcs, et.Func)
	case SortInstance:
		sc.instances = append(sc.instances, et.Instance)
	case SortComponent:
		sc.components = append(sc.components, et.Component)
	case CoreSortOf(CoreModule):
		sc.modules = append(sc.modules, et.Module)
	case SortValue:
		d.unsupported("values (🪙)")
	}
	if sc.body != nil {
		d.addDef(sc, s, def, def)
	}
}

// addDef appends def to the body's definitions and entry to the space of
// sort s.
func (d *decState) addDef(sc *resScope, s Sort, def, entry Def) {
	sc.body.Defs = append(sc.body.Defs, def)
	sc.body.Spaces[s] = append(sc.body.Spaces[s], entry)
}

// addType adds a type item: def is its definition (the TypeDef itself, or
// an import, alias or export), td its resolved type.
func (d *decState) addType(sc *resScope, def Def, td *TypeDef) {
	sc.types = append(sc.types, td)
	if sc.body != nil {
		d.addDef(sc, SortType, def, td)
	}
}

// addCoreType adds a core type item.
func (d *decState) addCoreType(sc *resScope, def Def, td *CoreTypeDef) {
	sc.coreTypes = append(sc.coreTypes, td)
	if sc.body != nil {
		d.addDef(sc, CoreSortOf(CoreType), def, td)
	}
}

// addCore adds a core func, table, memory, global or tag.
func (d *decState) addCore(sc *resScope, def Def) {
	d.addDef(sc, def.Sort(), def, def)
}

// addCoreInst adds a core instance.
func (d *decState) addCoreInst(sc *resScope, def *CoreInstanceDef, info *resCoreInst) {
	sc.coreInsts = append(sc.coreInsts, info)
	d.addDef(sc, CoreSortOf(CoreInstance), def, def)
}

// itemType is the type of item i of sort s, for exports, bundles and
// instantiation arguments (which only take component-level sorts and core
// modules).
func (d *decState) itemType(sc *resScope, s Sort, i int, at int) ExternType {
	switch s {
	case SortFunc:
		return ExternType{Kind: ExternFunc, Func: sc.funcs[i]}
	case SortType:
		return resBoundOf(sc.types[i])
	case SortInstance:
		return ExternType{Kind: ExternInstance, Instance: sc.instances[i]}
	case SortComponent:
		return ExternType{Kind: ExternComponent, Component: sc.components[i]}
	case CoreSortOf(CoreModule):
		return ExternType{Kind: ExternCoreModule, Module: sc.modules[i]}
	}
	d.failAt(at, "a %s cannot be exported or passed to a component", s)
	return ExternType{}
}

// resTypeDefOf is the type definition a type import, export or alias
// names.
func resTypeDefOf(et ExternType) *TypeDef {
	return &TypeDef{Value: et.Value, Func: et.Func, Instance: et.Instance, Component: et.Component, Resource: et.Resource}
}

// resBoundOf is the extern type of a type item.
func resBoundOf(td *TypeDef) ExternType {
	return ExternType{Kind: ExternTypeBound, Value: td.Value, Func: td.Func, Instance: td.Instance, Component: td.Component, Resource: td.Resource}
}

// resTypeDefKind names what a type definition is, for messages.
func resTypeDefKind(td *TypeDef) string {
	switch {
	case td.Value != nil:
		return "value type"
	case td.Func != nil:
		return "func type"
	case td.Instance != nil:
		return "instance type"
	case td.Component != nil:
		return "component type"
	case td.Resource != nil:
		return "resource type"
	}
	return "type"
}

// resExternKindName names an extern kind, for messages.
func resExternKindName(k ExternKind) string {
	switch k {
	case ExternCoreModule:
		return "core module"
	case ExternFunc:
		return "func"
	case ExternValue:
		return "value"
	case ExternTypeBound:
		return "type"
	case ExternComponent:
		return "component"
	case ExternInstance:
		return "instance"
	}
	return "extern(" + strconv.Itoa(int(k)) + ")"
}

// lookupExport finds an export of an instance type by name; large
// instance types get an index so that many aliases stay linear.
func (d *decState) lookupExport(it *InstanceType, name string) (ExternDecl, bool) {
	if len(it.Exports) <= 16 {
		return it.Export(name)
	}
	idx := d.exportIndex[it]
	if idx == nil {
		d.charge(len(it.Exports))
		idx = make(map[string]int, len(it.Exports))
		for i, e := range it.Exports {
			if _, dup := idx[e.Name]; !dup {
				idx[e.Name] = i
			}
		}
		d.exportIndex[it] = idx
	}
	if i, ok := idx[name]; ok {
		return it.Exports[i], true
	}
	return ExternDecl{}, false
}

// info is the tracked information of a value type.
func (d *decState) info(t *Type) resTypeInfo {
	if t == nil {
		return resTypeInfo{}
	}
	if t.Kind <= ErrorContext {
		return resTypeInfo{depth: 1, weight: 1}
	}
	return d.tinfo[t]
}

// newType registers a composite value type built by the decoder: it
// computes its depth, weight and handle flags from its parts and checks
// the bounds.
func (d *decState) newType(t *Type, at int) *Type {
	var in resTypeInfo
	add := func(c *Type) {
		ci := d.info(c)
		in.depth = max(in.depth, ci.depth)
		in.res = in.res || ci.res
		in.borrow = in.borrow || ci.borrow
	}
	w := func(c *Type) uint64 { return d.info(c).weight }
	switch t.Kind {
	case Own, Borrow:
		in.res, in.borrow = true, t.Kind == Borrow
		in.weight = 1
	case List:
		add(t.Elem)
		in.weight = resSatMul(w(t.Elem), uint64(max(t.Len, 1)))
	case Option, Stream, Future:
		add(t.Elem)
		in.weight = w(t.Elem)
		if t.Kind != Option {
			// A stream or future is a handle: its element type is not
			// part of the value; a borrow in it is rejected below.
			in.weight = 1
			if in.borrow {
				d.failAt(at, "%s element type contains a borrow handle", t.Kind)
			}
		}
	case Map:
		add(t.Key)
		add(t.Elem)
		in.weight = resSatAdd(w(t.Key), w(t.Elem))
	case Record, Tuple:
		for _, f := range t.Fields {
			add(f.Type)
			in.weight = resSatAdd(in.weight, w(f.Type))
		}
	case Variant:
		for _, c := range t.Cases {
			add(c.Type)
			in.weight = max(in.weight, w(c.Type))
		}
	case Result:
		add(t.Ok)
		add(t.Err)
		in.weight = max(w(t.Ok), w(t.Err))
	}
	in.depth++
	in.weight = resSatAdd(in.weight, 1)
	if in.depth > decMaxTypeDepth {
		d.failAt(at, "types nested deeper than %d levels", decMaxTypeDepth)
	}
	if in.weight > decMaxTypeWeight {
		d.failAt(at, "value type too large (more than %d parts when expanded)", decMaxTypeWeight)
	}
	d.tinfo[t] = in
	abiSetInfo(t)
	return t
}

func resSatAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

func resSatMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}

// externDepth is the nesting depth of an extern type.
func (d *decState) externDepth(et ExternType) int {
	switch {
	case et.Func != nil:
		return d.depth[et.Func]
	case et.Instance != nil:
		return d.depth[et.Instance]
	case et.Component != nil:
		return d.depth[et.Component]
	case et.Value != nil:
		return d.info(et.Value).depth
	}
	return 1
}

// setDepth records the nesting depth of a func, instance or component
// type and checks the bound.
func (d *decState) setDepth(x any, at int) {
	depth := 0
	switch x := x.(type) {
	case *FuncType:
		for _, p := range x.Params {
			depth = max(depth, d.info(p.Type).depth)
		}
		depth = max(depth, d.info(x.Result).depth)
	case *InstanceType:
		for _, e := range x.Exports {
			depth = max(depth, d.externDepth(e.Type))
		}
	case *ComponentType:
		for _, e := range x.Imports {
			depth = max(depth, d.externDepth(e.Type))
		}
		for _, e := range x.Exports {
			depth = max(depth, d.externDepth(e.Type))
		}
	}
	depth++
	if depth > decMaxTypeDepth {
		d.failAt(at, "types nested deeper than %d levels", decMaxTypeDepth)
	}
	d.depth[x] = depth
}

// bodyType is the component type of a decoded (nested) component: its
// imports and exports. The resources its imports declare are bound by
// it, so instantiating it replaces them with the arguments' resources;
// resources it defines keep their identity.
func (d *decState) bodyType(sc *resScope) *ComponentType {
	b := sc.body
	ct := &ComponentType{
		Imports: make([]ExternDecl, len(b.Imports)),
		Exports: make([]ExternDecl, len(b.Exports)),
	}
	for i, imp := range b.Imports {
		ct.Imports[i] = ExternDecl{Name: imp.Name, Type: imp.Type}
	}
	for i, exp := range b.Exports {
		ct.Exports[i] = ExternDecl{Name: exp.Name, Type: *exp.Type}
	}
	d.ctBound[ct] = resCompBound{imports: sc.importBound}
	d.setDepth(ct, d.pos)
	return ct
}

// TypeOf returns the type of item i of sort s: the type an import
// declares, an export's (ascribed or inferred) type, the type an alias
// points at, a lift's function type, an instance's or nested component's
// type, or the bound of a type item. It reports false for core items
// other than modules and for indices out of range.
func (b *Body) TypeOf(s Sort, i int) (ExternType, bool) {
	defs := b.Spaces[s]
	if i < 0 || i >= len(defs) {
		return ExternType{}, false
	}
	switch def := defs[i].(type) {
	case *TypeDef:
		return resBoundOf(def), true
	case *ImportDef:
		return def.Type, true
	case *ExportDef:
		if def.Type != nil {
			return *def.Type, true
		}
	case *AliasDef:
		if def.Type.Kind != 0 {
			return def.Type, true
		}
	case *LiftDef:
		return ExternType{Kind: ExternFunc, Func: def.Type}, true
	case *InstanceDef:
		return ExternType{Kind: ExternInstance, Instance: def.Type}, true
	case *ComponentDef:
		return ExternType{Kind: ExternComponent, Component: def.Type}, true
	case *CoreModuleDef:
		return ExternType{Kind: ExternCoreModule}, true
	}
	return ExternType{}, false
}
