package component

import (
	"strconv"
	"strings"
)

// Kind is the kind of a component value type.
type Kind uint8

// The value type kinds of the Component Model. Tuple, Enum, Option and
// Result are kept as written (the canonical ABI despecializes them to
// Record and Variant when it lays values out).
const (
	Bool Kind = iota + 1
	S8
	U8
	S16
	U16
	S32
	U32
	S64
	U64
	F32
	F64
	Char
	String
	ErrorContext
	List    // Elem; Len > 0 for a fixed-length list
	Record  // Fields
	Tuple   // Fields named "0", "1", …
	Variant // Cases
	Enum    // Labels
	Option  // Elem
	Result  // Ok and Err (either may be nil)
	Flags   // Labels (at most 32)
	Own     // Resource
	Borrow  // Resource
	Stream  // Elem (nil: stream with no element type)
	Future  // Elem (nil: future with no value)
	Map     // Key and Elem
)

var kindNames = [...]string{
	Bool: "bool", S8: "s8", U8: "u8", S16: "s16", U16: "u16", S32: "s32", U32: "u32",
	S64: "s64", U64: "u64", F32: "f32", F64: "f64", Char: "char", String: "string",
	ErrorContext: "error-context", List: "list", Record: "record", Tuple: "tuple",
	Variant: "variant", Enum: "enum", Option: "option", Result: "result", Flags: "flags",
	Own: "own", Borrow: "borrow", Stream: "stream", Future: "future", Map: "map",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is a component value type after resolution: type indices are
// replaced by the types they name, so two uses of one definition share
// one *Type. Types are immutable once built.
type Type struct {
	Kind Kind
	// Elem is the element type of list, option, stream, future and the
	// value type of map.
	Elem *Type
	// Key is the key type of map.
	Key *Type
	// Len is the length of a fixed-length list (0 for list<T>).
	Len uint32
	// Fields are the fields of a record or tuple, in order.
	Fields []Field
	// Cases are the cases of a variant, in order.
	Cases []Case
	// Labels are the labels of an enum or flags type, in order.
	Labels []string
	// Ok and Err are the payloads of a result (nil: none).
	Ok, Err *Type
	// Resource is the resource type of own and borrow.
	Resource *ResourceType

	// abi is the canonical ABI layout of a composite type the decoder
	// built (nil otherwise): it does not depend on resources, so a copy
	// of the type with other resources keeps it.
	abi *abiInfo
}

// Field is a record field or a tuple element.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *Type
}

// Primitive value types, shared by every component.
var (
	BoolType         = &Type{Kind: Bool}
	S8Type           = &Type{Kind: S8}
	U8Type           = &Type{Kind: U8}
	S16Type          = &Type{Kind: S16}
	U16Type          = &Type{Kind: U16}
	S32Type          = &Type{Kind: S32}
	U32Type          = &Type{Kind: U32}
	S64Type          = &Type{Kind: S64}
	U64Type          = &Type{Kind: U64}
	F32Type          = &Type{Kind: F32}
	F64Type          = &Type{Kind: F64}
	CharType         = &Type{Kind: Char}
	StringType       = &Type{Kind: String}
	ErrorContextType = &Type{Kind: ErrorContext}
)

// String formats the type in WIT-like syntax, for messages.
func (t *Type) String() string {
	var b strings.Builder
	t.format(&b, 0)
	return b.String()
}

func (t *Type) format(b *strings.Builder, depth int) {
	if t == nil {
		b.WriteString("_")
		return
	}
	if depth > 8 {
		b.WriteString("…")
		return
	}
	b.WriteString(t.Kind.String())
	switch t.Kind {
	case List, Option, Stream, Future:
		if t.Elem == nil {
			return
		}
		b.WriteByte('<')
		t.Elem.format(b, depth+1)
		if t.Kind == List && t.Len > 0 {
			b.WriteString(", " + strconv.FormatUint(uint64(t.Len), 10))
		}
		b.WriteByte('>')
	case Map:
		b.WriteByte('<')
		t.Key.format(b, depth+1)
		b.WriteString(", ")
		t.Elem.format(b, depth+1)
		b.WriteByte('>')
	case Record, Tuple:
		b.WriteString(" {")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			if t.Kind == Record {
				b.WriteString(f.Name + ": ")
			}
			f.Type.format(b, depth+1)
		}
		b.WriteByte('}')
	case Variant:
		b.WriteString(" {")
		for i, c := range t.Cases {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			if c.Type != nil {
				b.WriteByte('(')
				c.Type.format(b, depth+1)
				b.WriteByte(')')
			}
		}
		b.WriteByte('}')
	case Enum, Flags:
		b.WriteString(" {" + strings.Join(t.Labels, ", ") + "}")
	case Result:
		b.WriteByte('<')
		t.Ok.format(b, depth+1)
		b.WriteString(", ")
		t.Err.format(b, depth+1)
		b.WriteByte('>')
	case Own, Borrow:
		b.WriteByte('<')
		if t.Resource != nil {
			b.WriteString(t.Resource.Name)
		}
		b.WriteByte('>')
	}
}

// ResourceType is a resource type. Its identity is the pointer: every
// import of a resource (an abstract `(sub resource)` type) and every
// `resource` definition is a distinct ResourceType, and aliases of it
// share the pointer.
type ResourceType struct {
	// Name is the name the resource was imported or exported under
	// (e.g. "descriptor"), for messages.
	Name string
	// Interface is the name of the instance the resource was declared
	// in (e.g. "wasi:filesystem/types@0.3.0"), "" if none.
	Interface string
	// Defined is set for a resource the component defines itself
	// (a resource type definition with a representation).
	Defined *DefinedResource
}

// DefinedResource is the part of a resource type a component defines:
// its representation and destructor.
type DefinedResource struct {
	// Dtor is the core function index of the destructor, or -1.
	Dtor int
	// Owner is the component body that defined the resource.
	Owner *Body
}

// Param is a named function parameter.
type Param struct {
	Name string
	Type *Type
}

// FuncType is a component function type.
type FuncType struct {
	Params []Param
	// Result is the result type, nil for none.
	Result *Type
	// Async is set for `async func` types.
	Async bool
}

// ExternKind is the sort of an import or export.
type ExternKind uint8

// Extern kinds.
const (
	ExternCoreModule ExternKind = iota + 1
	ExternFunc
	ExternValue
	ExternTypeBound // a type import or export (eq or sub resource)
	ExternComponent
	ExternInstance
)

// ExternType is the type of an import or export.
type ExternType struct {
	Kind ExternKind
	// Func is the type of a func.
	Func *FuncType
	// Instance is the type of an instance.
	Instance *InstanceType
	// Component is the type of a component.
	Component *ComponentType
	// Type is what a type import or export names: a value type (Value),
	// or a resource (Resource). A type bound that names a func, instance
	// or component type (rare: `(eq i)` of such a type) sets Func,
	// Instance or Component instead.
	Value    *Type
	Resource *ResourceType
	// Module is the type of a core module.
	Module *ModuleType
}

// InstanceType is the type of a component instance: its exports, in
// declaration order.
type InstanceType struct {
	Exports []ExternDecl
}

// Export looks up an export by name.
func (it *InstanceType) Export(name string) (ExternDecl, bool) {
	for _, e := range it.Exports {
		if e.Name == name {
			return e, true
		}
	}
	return ExternDecl{}, false
}

// ComponentType is the type of a component: its imports and exports.
type ComponentType struct {
	Imports []ExternDecl
	Exports []ExternDecl
}

// ExternDecl is a named import or export with its type.
type ExternDecl struct {
	Name string
	Type ExternType
}

// CoreValType is a core WebAssembly value type.
type CoreValType uint8

// Core value types, with the binary format's codes.
const (
	CoreI32       CoreValType = 0x7f
	CoreI64       CoreValType = 0x7e
	CoreF32       CoreValType = 0x7d
	CoreF64       CoreValType = 0x7c
	CoreV128      CoreValType = 0x7b
	CoreFuncRef   CoreValType = 0x70
	CoreExternRef CoreValType = 0x6f
)

func (t CoreValType) String() string {
	switch t {
	case CoreI32:
		return "i32"
	case CoreI64:
		return "i64"
	case CoreF32:
		return "f32"
	case CoreF64:
		return "f64"
	case CoreV128:
		return "v128"
	case CoreFuncRef:
		return "funcref"
	case CoreExternRef:
		return "externref"
	}
	return "core-type(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// CoreFuncType is a core function type.
type CoreFuncType struct {
	Params, Results []CoreValType
}

// ModuleType is the type of a core module (imports and exports), as
// declared in a component; only its names are used.
type ModuleType struct {
	Imports []CoreImportDecl
	Exports []CoreExportDecl
}

// CoreImportDecl is an import of a core module type.
type CoreImportDecl struct {
	Module, Name string
	Kind         CoreSort
}

// CoreExportDecl is an export of a core module type.
type CoreExportDecl struct {
	Name string
	Kind CoreSort
}
