package component

// This file is the decoded form of a component binary that the linker
// instantiates: every definition in binary order, each adding one item to
// an index space. Type indices are already resolved into the types of
// types.go; all other references are indices into the index spaces of
// the same Body (outer aliases are resolved to the Body they point to).

// CoreSort is a core sort (the kinds of core items).
type CoreSort uint8

// Core sorts, with the binary format's codes.
const (
	CoreFunc     CoreSort = 0x00
	CoreTable    CoreSort = 0x01
	CoreMemory   CoreSort = 0x02
	CoreGlobal   CoreSort = 0x03
	CoreTag      CoreSort = 0x04
	CoreType     CoreSort = 0x10
	CoreModule   CoreSort = 0x11
	CoreInstance CoreSort = 0x12
)

func (s CoreSort) String() string {
	switch s {
	case CoreFunc:
		return "core func"
	case CoreTable:
		return "core table"
	case CoreMemory:
		return "core memory"
	case CoreGlobal:
		return "core global"
	case CoreTag:
		return "core tag"
	case CoreType:
		return "core type"
	case CoreModule:
		return "core module"
	case CoreInstance:
		return "core instance"
	}
	return "core sort(?)"
}

// Sort is a component-level sort: a core sort, or one of the component
// sorts. Core sorts keep their codes; component sorts are offset so the
// two never collide.
type Sort uint16

// Component-level sorts.
const (
	SortFunc      Sort = 0x101
	SortValue     Sort = 0x102
	SortType      Sort = 0x103
	SortComponent Sort = 0x104
	SortInstance  Sort = 0x105
)

// CoreSortOf makes a Sort from a core sort.
func CoreSortOf(s CoreSort) Sort { return Sort(s) }

// IsCore reports whether the sort is a core sort.
func (s Sort) IsCore() bool { return s < 0x100 }

// Core returns the core sort of a core Sort.
func (s Sort) Core() CoreSort { return CoreSort(s) }

func (s Sort) String() string {
	switch s {
	case SortFunc:
		return "func"
	case SortValue:
		return "value"
	case SortType:
		return "type"
	case SortComponent:
		return "component"
	case SortInstance:
		return "instance"
	}
	if s.IsCore() {
		return s.Core().String()
	}
	return "sort(?)"
}

// Body is a decoded component (the outermost one or a nested one).
type Body struct {
	// Defs are the definitions in binary order. Instantiation runs them
	// in this order.
	Defs []Def
	// Spaces lists, for each sort, the definitions that added an item to
	// its index space, in index order: Spaces[s][i] is item i of sort s.
	// (Imports, aliases, canon definitions and exports all add items.)
	// Types have no runtime value, so the type and core type spaces hold
	// the resolved *TypeDef and *CoreTypeDef of every item, also of the
	// ones an import, alias or export added (Defs keeps those as the
	// *ImportDef, *AliasDef or *ExportDef they are).
	Spaces map[Sort][]Def
	// Imports and Exports are the component's own imports and exports,
	// in order (each is also in Defs).
	Imports []*ImportDef
	Exports []*ExportDef
	// Parent is the enclosing component (nil for the outermost).
	Parent *Body
}

// Def is one definition. Its concrete type is one of the *…Def types of
// this file.
type Def interface {
	// Sort is the index space the definition adds to.
	Sort() Sort
}

// CoreModuleDef is a core module embedded in the component (section 1).
type CoreModuleDef struct {
	// Bytes is the module's binary, a sub-slice of the component's.
	Bytes []byte
}

// Sort implements Def.
func (*CoreModuleDef) Sort() Sort { return CoreSortOf(CoreModule) }

// CoreInstanceDef is a core instance: an instantiation of a core module
// with named argument instances, or a bundle of inline exports.
type CoreInstanceDef struct {
	// Module is the core module index to instantiate; -1 for a bundle.
	Module int
	// Args are the instantiation's arguments: each import module name is
	// satisfied by a core instance.
	Args []CoreInstantiateArg
	// Exports are a bundle's inline exports.
	Exports []CoreInlineExport
}

// Sort implements Def.
func (*CoreInstanceDef) Sort() Sort { return CoreSortOf(CoreInstance) }

// CoreInstantiateArg is `(with "name" (instance i))`.
type CoreInstantiateArg struct {
	Name     string
	Instance int
}

// CoreInlineExport is `(export "name" (sort idx))` in a core bundle.
type CoreInlineExport struct {
	Name  string
	Sort  CoreSort
	Index int
}

// AliasKind says what an alias points at.
type AliasKind uint8

// Alias kinds.
const (
	AliasExport     AliasKind = iota + 1 // an export of a component instance
	AliasCoreExport                      // an export of a core instance
	AliasOuter                           // an item of an enclosing component
)

// AliasDef is an alias: it adds the item it points at to its sort's
// index space.
type AliasDef struct {
	Of   Sort
	Kind AliasKind
	// Instance is the (core) instance index for export aliases.
	Instance int
	// Name is the export name for export aliases.
	Name string
	// Outer is the enclosing body and Index the item in it for outer
	// aliases.
	Outer *Body
	Index int
	// Type is the type of the aliased item for the component-level sorts
	// (and core module, whose Module type is nil unless imported); zero
	// for the other core sorts.
	Type ExternType
}

// Sort implements Def.
func (a *AliasDef) Sort() Sort { return a.Of }

// TypeDef is a component type definition (or a type alias, import or
// export once resolved): it adds one item to the type index space.
type TypeDef struct {
	// Exactly one of these is set.
	Value     *Type
	Func      *FuncType
	Instance  *InstanceType
	Component *ComponentType
	Resource  *ResourceType
}

// Sort implements Def.
func (*TypeDef) Sort() Sort { return SortType }

// CoreTypeDef is a core type definition (a function type or a module
// type).
type CoreTypeDef struct {
	Func   *CoreFuncType
	Module *ModuleType
}

// Sort implements Def.
func (*CoreTypeDef) Sort() Sort { return CoreSortOf(CoreType) }

// StringEncoding is a canonical option's string encoding.
type StringEncoding uint8

// String encodings.
const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16
)

func (e StringEncoding) String() string {
	switch e {
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return "utf8"
}

// CanonOpts are the canonical options of a lift, lower or built-in.
// Indices are -1 when the option is absent.
type CanonOpts struct {
	Encoding   StringEncoding
	Memory     int // core memory index
	Realloc    int // core func index
	PostReturn int // core func index
	Async      bool
	Callback   int // core func index
}

// NoOpts are canonical options with nothing set.
var NoOpts = CanonOpts{Memory: -1, Realloc: -1, PostReturn: -1, Callback: -1}

// LiftDef is `canon lift`: a component function made of a core function.
type LiftDef struct {
	CoreFunc int
	Opts     CanonOpts
	Type     *FuncType
}

// Sort implements Def.
func (*LiftDef) Sort() Sort { return SortFunc }

// LowerDef is `canon lower`: a core function that calls a component
// function. Type is the type of that function.
type LowerDef struct {
	Func int
	Opts CanonOpts
	Type *FuncType
}

// Sort implements Def.
func (*LowerDef) Sort() Sort { return CoreSortOf(CoreFunc) }

// Builtin names a canonical built-in function.
type Builtin uint8

// The canonical built-ins, named as in the binary format.
const (
	BuiltinResourceNew Builtin = iota + 1
	BuiltinResourceDrop
	BuiltinResourceRep
	BuiltinBackpressureInc
	BuiltinBackpressureDec
	BuiltinTaskReturn
	BuiltinTaskCancel
	BuiltinContextGet
	BuiltinContextSet
	BuiltinYield
	BuiltinSubtaskCancel
	BuiltinSubtaskDrop
	BuiltinStreamNew
	BuiltinStreamRead
	BuiltinStreamWrite
	BuiltinStreamCancelRead
	BuiltinStreamCancelWrite
	BuiltinStreamDropReadable
	BuiltinStreamDropWritable
	BuiltinFutureNew
	BuiltinFutureRead
	BuiltinFutureWrite
	BuiltinFutureCancelRead
	BuiltinFutureCancelWrite
	BuiltinFutureDropReadable
	BuiltinFutureDropWritable
	BuiltinErrorContextNew
	BuiltinErrorContextDebugMessage
	BuiltinErrorContextDrop
	BuiltinWaitableSetNew
	BuiltinWaitableSetWait
	BuiltinWaitableSetPoll
	BuiltinWaitableSetDrop
	BuiltinWaitableJoin
	BuiltinThreadIndex
	BuiltinThreadNewIndirect
	BuiltinThreadSwitchTo
	BuiltinThreadSuspend
	BuiltinThreadResumeLater
	BuiltinThreadYieldTo
	BuiltinThreadSuspendThenResume
	BuiltinThreadYieldThenResume
	BuiltinThreadSuspendThenPromote
	BuiltinThreadYieldThenPromote
)

var builtinNames = [...]string{
	BuiltinResourceNew: "resource.new", BuiltinResourceDrop: "resource.drop", BuiltinResourceRep: "resource.rep",
	BuiltinBackpressureInc: "backpressure.inc", BuiltinBackpressureDec: "backpressure.dec",
	BuiltinTaskReturn: "task.return", BuiltinTaskCancel: "task.cancel",
	BuiltinContextGet: "context.get", BuiltinContextSet: "context.set", BuiltinYield: "thread.yield",
	BuiltinSubtaskCancel: "subtask.cancel", BuiltinSubtaskDrop: "subtask.drop",
	BuiltinStreamNew: "stream.new", BuiltinStreamRead: "stream.read", BuiltinStreamWrite: "stream.write",
	BuiltinStreamCancelRead: "stream.cancel-read", BuiltinStreamCancelWrite: "stream.cancel-write",
	BuiltinStreamDropReadable: "stream.drop-readable", BuiltinStreamDropWritable: "stream.drop-writable",
	BuiltinFutureNew: "future.new", BuiltinFutureRead: "future.read", BuiltinFutureWrite: "future.write",
	BuiltinFutureCancelRead: "future.cancel-read", BuiltinFutureCancelWrite: "future.cancel-write",
	BuiltinFutureDropReadable: "future.drop-readable", BuiltinFutureDropWritable: "future.drop-writable",
	BuiltinErrorContextNew: "error-context.new", BuiltinErrorContextDebugMessage: "error-context.debug-message",
	BuiltinErrorContextDrop: "error-context.drop",
	BuiltinWaitableSetNew:   "waitable-set.new", BuiltinWaitableSetWait: "waitable-set.wait",
	BuiltinWaitableSetPoll: "waitable-set.poll", BuiltinWaitableSetDrop: "waitable-set.drop",
	BuiltinWaitableJoin: "waitable.join",
	BuiltinThreadIndex:  "thread.index", BuiltinThreadNewIndirect: "thread.new-indirect",
	BuiltinThreadSwitchTo: "thread.switch-to", BuiltinThreadSuspend: "thread.suspend",
	BuiltinThreadResumeLater: "thread.resume-later", BuiltinThreadYieldTo: "thread.yield-to",
	BuiltinThreadSuspendThenResume: "thread.suspend-then-resume", BuiltinThreadYieldThenResume: "thread.yield-then-resume",
	BuiltinThreadSuspendThenPromote: "thread.suspend-then-promote", BuiltinThreadYieldThenPromote: "thread.yield-then-promote",
}

func (b Builtin) String() string {
	if int(b) < len(builtinNames) && builtinNames[b] != "" {
		return builtinNames[b]
	}
	return "builtin(?)"
}

// BuiltinDef is a canonical built-in: a core function the runtime
// provides.
type BuiltinDef struct {
	Op Builtin
	// Type is the stream or future type of stream.* and future.*, the
	// own/borrow-free resource handle type of resource.* (Kind Own), and
	// the result type of task.return (nil: no result).
	Type *Type
	// Resource is the resource of resource.new, resource.drop and
	// resource.rep.
	Resource *ResourceType
	// Opts are the canonical options (task.return, stream/future
	// read/write, error-context, waitable-set wait/poll's memory).
	Opts CanonOpts
	// Async is the `async` immediate of subtask.cancel and the cancel
	// built-ins; Cancellable the `cancellable` immediate of
	// waitable-set.wait/poll, thread.yield, thread.suspend and the
	// thread.*-then-* built-ins.
	Async       bool
	Cancellable bool
	// ContextType and ContextIndex are the immediates of context.get/set
	// (ContextType is CoreI32 or CoreI64).
	ContextType  CoreValType
	ContextIndex uint32
	// CoreType and Table are the immediates of thread.new-indirect (-1
	// for the other built-ins).
	CoreType int
	Table    int
}

// Sort implements Def.
func (*BuiltinDef) Sort() Sort { return CoreSortOf(CoreFunc) }

// ComponentDef is a nested component (section 4).
type ComponentDef struct {
	Body *Body
	// Type is the nested component's imports and exports.
	Type *ComponentType
}

// Sort implements Def.
func (*ComponentDef) Sort() Sort { return SortComponent }

// InstanceDef is a component instance: an instantiation of a component
// with named arguments, or a bundle of inline exports.
type InstanceDef struct {
	// Component is the component index to instantiate; -1 for a bundle.
	Component int
	Args      []InstantiateArg
	Exports   []InlineExport
	// Type is the instance's type: the instantiated component's exports
	// with its imported resources replaced by the arguments' ones, or
	// the types of a bundle's items.
	Type *InstanceType
}

// Sort implements Def.
func (*InstanceDef) Sort() Sort { return SortInstance }

// InstantiateArg is `(with "name" (sort idx))`.
type InstantiateArg struct {
	Name  string
	Sort  Sort
	Index int
}

// InlineExport is `(export "name" (sort idx))` in a bundle.
type InlineExport struct {
	Name  string
	Sort  Sort
	Index int
}

// NameAttributes are the optional attributes of an import or export
// name ("" when absent).
type NameAttributes struct {
	// Implements is the interface a plain-named instance implements.
	Implements string
	// VersionSuffix completes the name's version (for messages only).
	VersionSuffix string
	// ExternalID is an identifier for external tooling.
	ExternalID string
}

// ImportDef is an import: the item the embedder (or the instantiating
// component) supplies under Name.
type ImportDef struct {
	Name  string
	Attrs NameAttributes
	Type  ExternType
}

// Sort implements Def.
func (d *ImportDef) Sort() Sort { return externSort(d.Type.Kind) }

// ExportDef is an export. It also adds the exported item to its sort's
// index space.
type ExportDef struct {
	Name  string
	Attrs NameAttributes
	Of    Sort
	Index int
	// Type is the export's declared type when the binary gives one
	// (its ascription), else the inferred one where known.
	Type *ExternType
}

// Sort implements Def.
func (d *ExportDef) Sort() Sort { return d.Of }

func externSort(k ExternKind) Sort {
	switch k {
	case ExternCoreModule:
		return CoreSortOf(CoreModule)
	case ExternFunc:
		return SortFunc
	case ExternValue:
		return SortValue
	case ExternTypeBound:
		return SortType
	case ExternComponent:
		return SortComponent
	case ExternInstance:
		return SortInstance
	}
	return 0
}
