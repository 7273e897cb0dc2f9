package component

// sort decodes a sort (0x00 followed by a core sort, or a component
// sort).
func (d *decState) sort() Sort {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		return CoreSortOf(d.coreSort())
	case 0x01:
		return SortFunc
	case 0x02:
		d.unsupported("values (🪙)")
	case 0x03:
		return SortType
	case 0x04:
		return SortComponent
	case 0x05:
		return SortInstance
	default:
		d.failAt(at, "unknown sort 0x%02x", c)
	}
	return 0
}

// coreSort decodes a core sort.
func (d *decState) coreSort() CoreSort {
	at := d.pos
	switch c := CoreSort(d.byte()); c {
	case CoreFunc, CoreTable, CoreMemory, CoreGlobal, CoreTag, CoreType, CoreModule, CoreInstance:
		return c
	default:
		d.failAt(at, "unknown core sort 0x%02x", byte(c))
		return 0
	}
}

// decIsCoreItem reports whether a core sort is one a core instance
// exports (as opposed to types, modules and instances).
func decIsCoreItem(s CoreSort) bool {
	switch s {
	case CoreFunc, CoreTable, CoreMemory, CoreGlobal, CoreTag:
		return true
	}
	return false
}

// coreInstance decodes one item of a core instance section.
func (d *decState) coreInstance(sc *resScope) {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		m := d.idx(sc, CoreSortOf(CoreModule))
		n := d.count("instantiation argument")
		def := &CoreInstanceDef{Module: m, Args: make([]CoreInstantiateArg, n)}
		seen := make(map[string]bool, n)
		for i := range def.Args {
			nameAt := d.pos
			name := d.name()
			if seen[name] {
				d.failAt(nameAt, "duplicate instantiation argument %q", name)
			}
			seen[name] = true
			sAt := d.pos
			if s := d.byte(); s != byte(CoreInstance) {
				d.failAt(sAt, "core instantiation argument sort 0x%02x is not instance (0x12)", s)
			}
			def.Args[i] = CoreInstantiateArg{Name: name, Instance: d.idx(sc, CoreSortOf(CoreInstance))}
		}
		d.addCoreInst(sc, def, &resCoreInst{})
	case 0x01:
		n := d.count("inline export")
		def := &CoreInstanceDef{Module: -1, Exports: make([]CoreInlineExport, n)}
		info := &resCoreInst{exports: make(map[string]CoreInlineExport, n)}
		for i := range def.Exports {
			nameAt := d.pos
			name := d.name()
			if _, dup := info.exports[name]; dup {
				d.failAt(nameAt, "duplicate export %q in a core instance bundle", name)
			}
			sAt := d.pos
			cs := d.coreSort()
			if !decIsCoreItem(cs) {
				d.failAt(sAt, "a core instance bundle cannot export a %s", cs)
			}
			e := CoreInlineExport{Name: name, Sort: cs, Index: d.idx(sc, CoreSortOf(cs))}
			def.Exports[i] = e
			info.exports[name] = e
		}
		d.addCoreInst(sc, def, info)
	default:
		d.failAt(at, "unknown core instance opcode 0x%02x", c)
	}
}

// instance decodes one item of an instance section.
func (d *decState) instance(sc *resScope) {
	at := d.pos
	var def *InstanceDef
	switch c := d.byte(); c {
	case 0x00:
		ci := d.idx(sc, SortComponent)
		n := d.count("instantiation argument")
		def = &InstanceDef{Component: ci, Args: make([]InstantiateArg, n)}
		args := make(map[string]ExternType, n)
		for i := range def.Args {
			nameAt := d.pos
			name := d.name()
			if _, dup := args[name]; dup {
				d.failAt(nameAt, "duplicate instantiation argument %q", name)
			}
			s := d.sort()
			idxAt := d.pos
			idx := d.idx(sc, s)
			def.Args[i] = InstantiateArg{Name: name, Sort: s, Index: idx}
			args[name] = d.itemType(sc, s, idx, idxAt)
		}
		def.Type = d.instantiate(sc.components[ci], args, at)
	case 0x01:
		n := d.count("inline export")
		def = &InstanceDef{Component: -1, Exports: make([]InlineExport, n)}
		it := &InstanceType{Exports: make([]ExternDecl, n)}
		for i := range def.Exports {
			name, _ := d.nameAttrs()
			s := d.sort()
			idxAt := d.pos
			idx := d.idx(sc, s)
			def.Exports[i] = InlineExport{Name: name, Sort: s, Index: idx}
			it.Exports[i] = ExternDecl{Name: name, Type: d.itemType(sc, s, idx, idxAt)}
		}
		d.setDepth(it, at)
		def.Type = it
	default:
		d.failAt(at, "unknown instance opcode 0x%02x", c)
	}
	d.addItem(sc, SortInstance, def, ExternType{Kind: ExternInstance, Instance: def.Type})
}

// alias decodes an alias definition (in a body) or declarator (in a
// component or instance type).
func (d *decState) alias(sc *resScope) {
	at := d.pos
	s := d.sort()
	inType := sc.kind != resBody
	kAt := d.pos
	switch k := d.byte(); k {
	case 0x00:
		if inType && s != SortInstance && s != SortType {
			d.failAt(at, "alias export of a %s inside a type (only instances and types)", s)
		}
		iAt := d.pos
		inst := d.idx(sc, SortInstance)
		name := d.name()
		e, ok := d.lookupExport(sc.instances[inst], name)
		if !ok {
			d.failAt(iAt, "instance %d has no export %q", inst, name)
		}
		if got := externSort(e.Type.Kind); got != s {
			d.failAt(at, "export %q of instance %d is a %s, not a %s", name, inst, got, s)
		}
		d.addItem(sc, s, &AliasDef{Of: s, Kind: AliasExport, Instance: inst, Name: name, Type: e.Type}, e.Type)
	case 0x01:
		if inType {
			d.failAt(kAt, "alias core export inside a type")
		}
		if !s.IsCore() {
			d.failAt(at, "alias core export of a %s", s)
		}
		iAt := d.pos
		ci := d.idx(sc, CoreSortOf(CoreInstance))
		name := d.name()
		if !decIsCoreItem(s.Core()) {
			d.unsupported("aliases of core instance exports of sort " + s.String())
		}
		if ex := sc.coreInsts[ci].exports; ex != nil {
			e, ok := ex[name]
			if !ok {
				d.failAt(iAt, "core instance %d has no export %q", ci, name)
			}
			if e.Sort != s.Core() {
				d.failAt(at, "export %q of core instance %d is a %s, not a %s", name, ci, e.Sort, s.Core())
			}
		}
		d.addCore(sc, &AliasDef{Of: s, Kind: AliasCoreExport, Instance: ci, Name: name})
	case 0x02:
		switch s {
		case CoreSortOf(CoreType), SortType:
		case CoreSortOf(CoreModule), SortComponent:
			if inType {
				d.failAt(at, "outer alias of a %s inside a type (only types and core types)", s)
			}
		default:
			d.failAt(at, "outer alias of a %s (only core modules, core types, types and components)", s)
		}
		target := d.outerScope(sc)
		idx := d.idx(target, s)
		a := &AliasDef{Of: s, Kind: AliasOuter, Outer: target.body, Index: idx}
		switch s {
		case SortType:
			td := target.types[idx]
			a.Type = resBoundOf(td)
			d.addType(sc, a, td)
		case CoreSortOf(CoreType):
			d.addCoreType(sc, a, target.coreTypes[idx])
		case SortComponent:
			a.Type = ExternType{Kind: ExternComponent, Component: target.components[idx]}
			d.addItem(sc, s, a, a.Type)
		case CoreSortOf(CoreModule):
			a.Type = ExternType{Kind: ExternCoreModule, Module: target.modules[idx]}
			d.addItem(sc, s, a, a.Type)
		}
	default:
		d.failAt(kAt, "unknown alias kind 0x%02x", k)
	}
}

// importDef decodes one item of an import section.
func (d *decState) importDef(sc *resScope) {
	nameAt := d.pos
	name, attrs := d.nameAttrs()
	if sc.importNames[name] {
		d.failAt(nameAt, "duplicate import %q", name)
	}
	sc.importNames[name] = true
	raw, sub := d.externTypeRaw(sc)
	def := &ImportDef{Name: name, Attrs: attrs, Type: d.bindExtern(name, raw, sub, &sc.importBound)}
	sc.body.Imports = append(sc.body.Imports, def)
	d.addItem(sc, externSort(def.Type.Kind), def, def.Type)
}

// exportDef decodes one item of an export section.
func (d *decState) exportDef(sc *resScope) {
	nameAt := d.pos
	name, attrs := d.nameAttrs()
	if sc.exportNames[name] {
		d.failAt(nameAt, "duplicate export %q", name)
	}
	sc.exportNames[name] = true
	s := d.sort()
	idxAt := d.pos
	idx := d.idx(sc, s)
	et := d.itemType(sc, s, idx, idxAt)
	if d.flag("export type ascription") {
		ascAt := d.pos
		raw, sub := d.externTypeRaw(sc)
		et = d.ascribe(raw, sub, et, name, ascAt)
	}
	if r := et.Resource; r != nil && r.Defined != nil && r.Defined.Owner == sc.body && r.Name == "" {
		// A defined resource is named by its first export, for messages.
		r.Name = name
	}
	def := &ExportDef{Name: name, Attrs: attrs, Of: s, Index: idx, Type: &et}
	sc.body.Exports = append(sc.body.Exports, def)
	d.addItem(sc, s, def, et)
}

// decOptsUse says where canonical options appear, which decides the
// options allowed.
type decOptsUse uint8

const (
	decOptsLift decOptsUse = iota + 1
	decOptsLower
	decOptsTaskReturn
	decOptsCopy // stream and future read and write
	decOptsErrorContext
)

var decOptNames = [...]string{"string-encoding", "string-encoding", "string-encoding", "memory", "realloc", "post-return", "async", "callback", "core-type", "gc"}

// opts decodes canonical options and rejects duplicates and conflicts.
func (d *decState) opts(sc *resScope, use decOptsUse) CanonOpts {
	o := NoOpts
	n := d.count("canonical option")
	var seen [len(decOptNames)]bool
	var at [len(decOptNames)]int
	for i := 0; i < n; i++ {
		optAt := d.pos
		c := d.byte()
		if int(c) >= len(decOptNames) {
			d.failAt(optAt, "unknown canonical option 0x%02x", c)
		}
		k := c
		if k <= 0x02 {
			k = 0 // the three string encodings are one option
		}
		if seen[k] {
			d.failAt(optAt, "duplicate canonical option %s", decOptNames[c])
		}
		seen[k], at[k] = true, optAt
		switch c {
		case 0x00:
			o.Encoding = UTF8
		case 0x01:
			o.Encoding = UTF16
		case 0x02:
			o.Encoding = Latin1UTF16
		case 0x03:
			o.Memory = d.idx(sc, CoreSortOf(CoreMemory))
		case 0x04:
			o.Realloc = d.idx(sc, CoreSortOf(CoreFunc))
		case 0x05:
			o.PostReturn = d.idx(sc, CoreSortOf(CoreFunc))
		case 0x06:
			o.Async = true
		case 0x07:
			o.Callback = d.idx(sc, CoreSortOf(CoreFunc))
		case 0x08:
			d.u32()
			d.unsupported("the core-type canonical option (GC)")
		case 0x09:
			d.unsupported("the gc canonical option")
		}
	}
	bad := func(k int, why string) { d.failAt(at[k], "canonical option %s %s", decOptNames[k], why) }
	if seen[0x04] && !seen[0x03] {
		bad(0x04, "requires a memory option")
	}
	if seen[0x05] && use != decOptsLift {
		bad(0x05, "is only allowed on canon lift")
	}
	if seen[0x05] && seen[0x06] {
		bad(0x05, "conflicts with async")
	}
	if seen[0x07] && use != decOptsLift {
		bad(0x07, "is only allowed on canon lift")
	}
	if seen[0x07] && !seen[0x06] {
		bad(0x07, "requires async")
	}
	if seen[0x06] && (use == decOptsTaskReturn || use == decOptsErrorContext) {
		bad(0x06, "is not allowed here")
	}
	if seen[0x04] && use == decOptsTaskReturn {
		bad(0x04, "is not allowed on task.return")
	}
	return o
}

// canon decodes one item of a canon section.
func (d *decState) canon(sc *resScope) {
	at := d.pos
	op := d.byte()
	switch op {
	case 0x00:
		if c := d.byte(); c != 0x00 {
			d.failAt(at+1, "canon lift of sort 0x%02x (expected 0x00, func)", c)
		}
		def := &LiftDef{CoreFunc: d.idx(sc, CoreSortOf(CoreFunc))}
		def.Opts = d.opts(sc, decOptsLift)
		tAt := d.pos
		td := d.typeIdx(sc)
		if td.Func == nil {
			d.failAt(tAt, "canon lift with a %s, not a func type", resTypeDefKind(td))
		}
		def.Type = td.Func
		d.addItem(sc, SortFunc, def, ExternType{Kind: ExternFunc, Func: def.Type})
		return
	case 0x01:
		if c := d.byte(); c != 0x00 {
			d.failAt(at+1, "canon lower of sort 0x%02x (expected 0x00, func)", c)
		}
		f := d.idx(sc, SortFunc)
		def := &LowerDef{Func: f, Type: sc.funcs[f]}
		def.Opts = d.opts(sc, decOptsLower)
		d.addCore(sc, def)
		return
	}
	b := &BuiltinDef{Opts: NoOpts, CoreType: -1, Table: -1}
	switch op {
	case 0x02, 0x03, 0x04:
		b.Op = [...]Builtin{BuiltinResourceNew, BuiltinResourceDrop, BuiltinResourceRep}[op-0x02]
		rAt := d.pos
		td := d.typeIdx(sc)
		r := td.Resource
		if r == nil {
			d.failAt(rAt, "%s of a %s, not a resource type", b.Op, resTypeDefKind(td))
		}
		if b.Op != BuiltinResourceDrop && (r.Defined == nil || r.Defined.Owner != sc.body) {
			d.failAt(rAt, "%s of resource %q, which this component does not define", b.Op, r.Name)
		}
		b.Resource = r
		b.Type = d.ownType(r)
	case 0x24:
		b.Op = BuiltinBackpressureInc
	case 0x25:
		b.Op = BuiltinBackpressureDec
	case 0x09:
		b.Op = BuiltinTaskReturn
		b.Type = d.resultList(sc)
		b.Opts = d.opts(sc, decOptsTaskReturn)
	case 0x05:
		b.Op = BuiltinTaskCancel
	case 0x0a, 0x0b:
		b.Op = BuiltinContextGet
		if op == 0x0b {
			b.Op = BuiltinContextSet
		}
		tAt := d.pos
		switch t := CoreValType(d.byte()); t {
		case CoreI32, CoreI64:
			b.ContextType = t
		default:
			d.failAt(tAt, "%s of core type 0x%02x (expected i32 or i64)", b.Op, byte(t))
		}
		b.ContextIndex = d.u32()
	case 0x06:
		b.Op = BuiltinSubtaskCancel
		b.Async = d.flag("async")
	case 0x0d:
		b.Op = BuiltinSubtaskDrop
	case 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14:
		b.Op = [...]Builtin{BuiltinStreamNew, BuiltinStreamRead, BuiltinStreamWrite, BuiltinStreamCancelRead,
			BuiltinStreamCancelWrite, BuiltinStreamDropReadable, BuiltinStreamDropWritable}[op-0x0e]
		d.handleBuiltin(sc, b, Stream)
	case 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b:
		b.Op = [...]Builtin{BuiltinFutureNew, BuiltinFutureRead, BuiltinFutureWrite, BuiltinFutureCancelRead,
			BuiltinFutureCancelWrite, BuiltinFutureDropReadable, BuiltinFutureDropWritable}[op-0x15]
		d.handleBuiltin(sc, b, Future)
	case 0x1c:
		b.Op = BuiltinErrorContextNew
		b.Opts = d.opts(sc, decOptsErrorContext)
	case 0x1d:
		b.Op = BuiltinErrorContextDebugMessage
		b.Opts = d.opts(sc, decOptsErrorContext)
	case 0x1e:
		b.Op = BuiltinErrorContextDrop
	case 0x1f:
		b.Op = BuiltinWaitableSetNew
	case 0x20, 0x21:
		b.Op = BuiltinWaitableSetWait
		if op == 0x21 {
			b.Op = BuiltinWaitableSetPoll
		}
		b.Cancellable = d.flag("cancellable")
		b.Opts.Memory = d.idx(sc, CoreSortOf(CoreMemory))
	case 0x22:
		b.Op = BuiltinWaitableSetDrop
	case 0x23:
		b.Op = BuiltinWaitableJoin
	case 0x26:
		b.Op = BuiltinThreadIndex
	case 0x27:
		b.Op = BuiltinThreadNewIndirect
		b.CoreType = d.coreFuncTypeIdx(sc)
		b.Table = d.idx(sc, CoreSortOf(CoreTable))
	case 0x28:
		b.Op = BuiltinThreadResumeLater
	case 0x29, 0x0c, 0x2a, 0x2b, 0x2c, 0x2d:
		switch op {
		case 0x29:
			b.Op = BuiltinThreadSuspend
		case 0x0c:
			b.Op = BuiltinYield
		default:
			b.Op = [...]Builtin{BuiltinThreadSuspendThenResume, BuiltinThreadYieldThenResume,
				BuiltinThreadSuspendThenPromote, BuiltinThreadYieldThenPromote}[op-0x2a]
		}
		b.Cancellable = d.flag("cancellable")
	case 0x40, 0x41, 0x42:
		// Binary.md gives these a `shared?` immediate that wasm-tools
		// does not write, so neither form can be trusted; wasisim could
		// not run them anyway.
		d.unsupported("shared-everything threads (canon thread.spawn-ref, thread.spawn-indirect, thread.available-parallelism)")
	default:
		d.failAt(at, "unknown canon opcode 0x%02x", op)
	}
	d.addCore(sc, b)
}

// handleBuiltin decodes the type (and options or async immediate) of a
// stream.* or future.* built-in.
func (d *decState) handleBuiltin(sc *resScope, b *BuiltinDef, kind Kind) {
	tAt := d.pos
	td := d.typeIdx(sc)
	if td.Value == nil || td.Value.Kind != kind {
		what := resTypeDefKind(td)
		if td.Value != nil {
			what = td.Value.Kind.String() + " type"
		}
		d.failAt(tAt, "%s of a %s, not a %s type", b.Op, what, kind)
	}
	b.Type = td.Value
	switch b.Op {
	case BuiltinStreamRead, BuiltinStreamWrite, BuiltinFutureRead, BuiltinFutureWrite:
		b.Opts = d.opts(sc, decOptsCopy)
	case BuiltinStreamCancelRead, BuiltinStreamCancelWrite, BuiltinFutureCancelRead, BuiltinFutureCancelWrite:
		b.Async = d.flag("async")
	}
}

// coreFuncTypeIdx reads the index of a core function type.
func (d *decState) coreFuncTypeIdx(sc *resScope) int {
	at := d.pos
	i := d.idx(sc, CoreSortOf(CoreType))
	if sc.coreTypes[i].Func == nil {
		d.failAt(at, "core type %d is not a function type", i)
	}
	return i
}

// ownType is the own handle type of a resource, shared by the resource.*
// built-ins of one resource.
func (d *decState) ownType(r *ResourceType) *Type {
	if t, ok := d.ownOf[r]; ok {
		return t
	}
	t := d.newType(&Type{Kind: Own, Resource: r}, d.pos)
	d.ownOf[r] = t
	return t
}
