package component

// Decoding.
//
// Decode reads a component binary (Binary.md of the Component Model) in
// one pass and resolves it while it reads: every definition only refers
// to earlier ones, so each type index is replaced by its resolved type as
// soon as it is read, and each item's type is known when a later
// definition (a lower, an alias, an instantiation) needs it. Core modules
// are not parsed; their bytes are kept as sub-slices of the input.
//
// Malformed input yields a *DecodeError with the byte offset and the
// section being read; constructs wasisim cannot run (value definitions,
// start functions, GC types) yield an *UnsupportedError. Decoding is
// bounded: vector lengths are checked against the bytes left before
// anything is allocated, nesting has fixed limits, and the work of
// instantiating types (copying them with resources replaced) has a
// budget proportional to the input size.

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

const (
	// decMaxNesting bounds the nesting of components and of component,
	// instance and module types.
	decMaxNesting = 64
	// decMaxTypeDepth bounds the nesting of resolved types (value types
	// inside func, instance and component types).
	decMaxTypeDepth = 200
	// decMaxTypeWeight bounds the expanded size of a value type (fields
	// and fixed-length list elements counted out), in the spirit of the
	// spec's elem_size < 2^28, so that later passes over a type stay
	// bounded.
	decMaxTypeWeight = 1 << 28
	// decWorkBase and decWorkPerByte set the budget of type
	// instantiation steps (each copies or compares one part of a type):
	// a small binary could otherwise instantiate a large instance type
	// many times over. The 47 WASI 0.3 test components need at most 168
	// steps each.
	decWorkBase    = 1 << 18
	decWorkPerByte = 1
)

// DecodeError reports malformed component binary input.
type DecodeError struct {
	// Offset is the byte offset in the binary given to Decode.
	Offset int
	// Context says what was being decoded, e.g. "canon section item 3".
	Context string
	// Msg describes the problem.
	Msg string
}

// Error formats the error on one line: context, offset and message.
func (e *DecodeError) Error() string {
	return "component: " + e.Context + " at offset 0x" + strconv.FormatInt(int64(e.Offset), 16) + ": " + e.Msg
}

// UnsupportedError reports a well-formed construct that wasisim cannot
// run, so that callers can tell it from a broken binary.
type UnsupportedError struct {
	// Construct names what the component uses, e.g. "value definitions".
	Construct string
}

// Error names the construct and says wasisim does not support it.
func (e *UnsupportedError) Error() string {
	return "component uses " + e.Construct + ", which wasisim does not support"
}

var (
	decMagic          = [4]byte{0x00, 0x61, 0x73, 0x6d}
	decComponentLayer = [4]byte{0x0d, 0x00, 0x01, 0x00}
	decModuleVersion  = [4]byte{0x01, 0x00, 0x00, 0x00}
)

// IsComponent reports whether b starts with the preamble of a component
// binary (the pre-standard version 0x0d, layer 1).
func IsComponent(b []byte) bool {
	return len(b) >= 8 && [4]byte(b[:4]) == decMagic && [4]byte(b[4:8]) == decComponentLayer
}

// IsCoreModule reports whether b starts with the preamble of a core
// WebAssembly module (version 1, layer 0).
func IsCoreModule(b []byte) bool {
	return len(b) >= 8 && [4]byte(b[:4]) == decMagic && [4]byte(b[4:8]) == decModuleVersion
}

// Decode decodes and resolves a component binary. The returned Body
// refers into b (core module bytes are sub-slices), so b must not be
// modified while the Body is in use.
func Decode(b []byte) (body *Body, err error) {
	if !IsComponent(b) {
		msg := "not a component binary (bad magic, version or layer)"
		if IsCoreModule(b) {
			msg = "a core WebAssembly module, not a component"
		} else if len(b) >= 8 && [4]byte(b[:4]) == decMagic && b[6] == 0x01 && b[7] == 0x00 {
			msg = "component binary version 0x" + strconv.FormatUint(uint64(b[4])|uint64(b[5])<<8, 16) + ", expected 0xd"
		}
		return nil, &DecodeError{Offset: 0, Context: "preamble", Msg: msg}
	}
	d := newDecState(b)
	defer func() {
		if r := recover(); r != nil {
			body = nil
			if a, ok := r.(decAbort); ok {
				err = a.err
				return
			}
			// A decoder bug must not take the simulator down; the tests
			// fail on this message.
			err = &DecodeError{Offset: d.pos, Context: d.context(), Msg: fmt.Sprintf("internal error (a bug in the decoder): %v", r)}
		}
	}()
	return d.component(nil).body, nil
}

// decAbort carries a decoding error up the stack: the decoder panics
// with it at the point of failure and Decode recovers it, which keeps the
// many small readers free of error plumbing. Decode turns any other
// panic (a bug) into an "internal error" DecodeError.
type decAbort struct{ err error }

// decState holds the input, the read position and the side tables of
// resolution for one Decode call.
type decState struct {
	b   []byte
	pos int // absolute read offset in b
	end int // end of the region being read (a section or the input)

	sec  string // section being read, for errors
	item int    // item of the section being read, -1 if none

	nesting int
	work    int
	maxWork int

	// tinfo holds the depth and weight of every composite value type.
	tinfo map[*Type]resTypeInfo
	// depth holds the nesting depth of func, instance and component
	// types.
	depth map[any]int
	// itBound lists the resources an instance type declares itself
	// (`(export "r" (type (sub resource)))`): instantiating the type
	// replaces them with fresh ones.
	itBound map[*InstanceType][]*ResourceType
	// ctBound lists the resources a component type binds: the ones its
	// imports declare (replaced by the arguments when it is
	// instantiated) and the ones its exports declare (fresh for each
	// instantiation).
	ctBound map[*ComponentType]resCompBound
	// exportIndex indexes the exports of large instance types by name.
	exportIndex map[*InstanceType]map[string]int
	// ownOf is the own handle type of a resource, for resource.*
	// built-ins.
	ownOf map[*ResourceType]*Type
}

func newDecState(b []byte) *decState {
	return &decState{
		b:           b,
		end:         len(b),
		item:        -1,
		maxWork:     decWorkBase + decWorkPerByte*len(b),
		tinfo:       map[*Type]resTypeInfo{},
		depth:       map[any]int{},
		itBound:     map[*InstanceType][]*ResourceType{},
		ctBound:     map[*ComponentType]resCompBound{},
		exportIndex: map[*InstanceType]map[string]int{},
		ownOf:       map[*ResourceType]*Type{},
	}
}

func (d *decState) context() string {
	if d.sec == "" {
		return "component"
	}
	if d.item >= 0 {
		return d.sec + " item " + strconv.Itoa(d.item)
	}
	return d.sec
}

// failAt aborts decoding with a DecodeError at offset off.
func (d *decState) failAt(off int, format string, args ...any) {
	panic(decAbort{&DecodeError{Offset: off, Context: d.context(), Msg: fmt.Sprintf(format, args...)}})
}

// fail aborts decoding with a DecodeError at the read position.
func (d *decState) fail(format string, args ...any) {
	d.failAt(d.pos, format, args...)
}

// unsupported aborts decoding with an UnsupportedError.
func (d *decState) unsupported(construct string) {
	panic(decAbort{&UnsupportedError{Construct: construct}})
}

// charge counts n steps of type instantiation against the budget.
func (d *decState) charge(n int) {
	d.work += n
	if d.work > d.maxWork {
		d.fail("instantiating the component's types takes more than %d steps (types too large for the binary's size)", d.maxWork)
	}
}

func (d *decState) remaining() int { return d.end - d.pos }

func (d *decState) byte() byte {
	if d.pos >= d.end {
		d.fail("unexpected end of %s", d.regionName())
	}
	c := d.b[d.pos]
	d.pos++
	return c
}

func (d *decState) peek() byte {
	if d.pos >= d.end {
		d.fail("unexpected end of %s", d.regionName())
	}
	return d.b[d.pos]
}

func (d *decState) regionName() string {
	if d.end == len(d.b) {
		return "input"
	}
	return "section"
}

// u32 reads an unsigned LEB128 number of at most 32 bits.
func (d *decState) u32() uint32 {
	start := d.pos
	var v uint32
	for shift := uint(0); ; shift += 7 {
		if d.pos >= d.end {
			d.failAt(start, "unexpected end of %s in a LEB128 number", d.regionName())
		}
		c := d.b[d.pos]
		d.pos++
		if shift == 28 && c&0xf0 != 0 {
			d.failAt(start, "malformed LEB128 u32 (longer than 5 bytes or larger than 32 bits)")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

// u64 reads an unsigned LEB128 number of at most 64 bits.
func (d *decState) u64() uint64 {
	start := d.pos
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.pos >= d.end {
			d.failAt(start, "unexpected end of %s in a LEB128 number", d.regionName())
		}
		c := d.b[d.pos]
		d.pos++
		if shift == 63 && c&0xfe != 0 {
			d.failAt(start, "malformed LEB128 u64 (longer than 10 bytes or larger than 64 bits)")
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

// s33 reads a signed LEB128 number of at most 33 bits (the encoding of
// type indices where they share a byte with type opcodes).
func (d *decState) s33() int64 {
	start := d.pos
	var v int64
	for shift := uint(0); ; shift += 7 {
		if d.pos >= d.end {
			d.failAt(start, "unexpected end of %s in a LEB128 number", d.regionName())
		}
		c := d.b[d.pos]
		d.pos++
		if shift == 28 && (c&0x80 != 0 || (c&0x70 != 0 && c&0x70 != 0x70)) {
			d.failAt(start, "malformed LEB128 s33 (longer than 5 bytes or out of range)")
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
}

// count reads a vector length and checks it against the bytes left: every
// element takes at least one byte, so a larger count is malformed and
// nothing is allocated for it.
func (d *decState) count(what string) int {
	at := d.pos
	n := d.u32()
	if int64(n) > int64(d.remaining()) {
		d.failAt(at, "%s count %d exceeds the %d bytes left", what, n, d.remaining())
	}
	return int(n)
}

// name reads a length-prefixed UTF-8 string.
func (d *decState) name() string {
	at := d.pos
	n := d.u32()
	if int64(n) > int64(d.remaining()) {
		d.failAt(at, "name length %d exceeds the %d bytes left", n, d.remaining())
	}
	s := d.b[d.pos : d.pos+int(n)]
	if !utf8.Valid(s) {
		d.failAt(d.pos, "name is not valid UTF-8")
	}
	d.pos += int(n)
	return string(s)
}

// flag reads a 0x00/0x01 immediate.
func (d *decState) flag(what string) bool {
	at := d.pos
	switch c := d.byte(); c {
	case 0x00:
		return false
	case 0x01:
		return true
	default:
		d.failAt(at, "bad %s immediate 0x%02x (expected 0x00 or 0x01)", what, c)
		return false
	}
}

// Section ids.
const (
	decSecCustom       = 0
	decSecCoreModule   = 1
	decSecCoreInstance = 2
	decSecCoreType     = 3
	decSecComponent    = 4
	decSecInstance     = 5
	decSecAlias        = 6
	decSecType         = 7
	decSecCanon        = 8
	decSecStart        = 9
	decSecImport       = 10
	decSecExport       = 11
	decSecValue        = 12
)

var decSectionNames = [...]string{
	decSecCustom: "custom section", decSecCoreModule: "core module section",
	decSecCoreInstance: "core instance section", decSecCoreType: "core type section",
	decSecComponent: "component section", decSecInstance: "instance section",
	decSecAlias: "alias section", decSecType: "type section", decSecCanon: "canon section",
	decSecStart: "start section", decSecImport: "import section", decSecExport: "export section",
	decSecValue: "value section",
}

// component decodes a component (preamble and sections) that fills the
// region up to d.end, nested in the scope parent (nil for the outermost
// one), and returns its scope.
func (d *decState) component(parent *resScope) *resScope {
	if d.remaining() < 8 || !IsComponent(d.b[d.pos:d.end]) {
		d.fail("bad component preamble (expected magic \\0asm, version 0x0d 0x00, layer 0x01 0x00)")
	}
	d.pos += 8
	b := &Body{Spaces: map[Sort][]Def{}}
	if parent != nil {
		b.Parent = parent.body
	}
	sc := &resScope{kind: resBody, parent: parent, body: b, importNames: map[string]bool{}, exportNames: map[string]bool{}}
	for d.pos < d.end {
		d.sec, d.item = "component", -1
		idAt := d.pos
		id := d.byte()
		if int(id) < len(decSectionNames) {
			d.sec = decSectionNames[id]
		}
		sizeAt := d.pos
		size := d.u32()
		if int64(size) > int64(d.remaining()) {
			d.failAt(sizeAt, "section size %d exceeds the %d bytes left", size, d.remaining())
		}
		secEnd := d.pos + int(size)
		outerEnd := d.end
		d.end = secEnd
		switch id {
		case decSecCustom:
			d.customSection()
		case decSecCoreModule:
			d.coreModuleSection(sc)
		case decSecCoreInstance:
			d.vecSection(func() { d.coreInstance(sc) })
		case decSecCoreType:
			d.vecSection(func() { d.coreTypeDef(sc) })
		case decSecComponent:
			d.componentSection(sc)
		case decSecInstance:
			d.vecSection(func() { d.instance(sc) })
		case decSecAlias:
			d.vecSection(func() { d.alias(sc) })
		case decSecType:
			d.vecSection(func() { d.typeDef(sc) })
		case decSecCanon:
			d.vecSection(func() { d.canon(sc) })
		case decSecStart:
			d.unsupported("start definitions (🪙)")
		case decSecImport:
			d.vecSection(func() { d.importDef(sc) })
		case decSecExport:
			d.vecSection(func() { d.exportDef(sc) })
		case decSecValue:
			d.unsupported("value definitions (🪙)")
		default:
			d.failAt(idAt, "unknown section id %d", id)
		}
		if d.pos != secEnd {
			d.fail("%d bytes left over at the end of the section", secEnd-d.pos)
		}
		d.end = outerEnd
	}
	d.sec, d.item = "", -1
	return sc
}

// vecSection decodes a section that is a vector of items.
func (d *decState) vecSection(item func()) {
	n := d.count("item")
	for i := 0; i < n; i++ {
		d.item = i
		item()
	}
	d.item = -1
}

// customSection skips a custom section after checking its name.
func (d *decState) customSection() {
	d.name()
	d.pos = d.end
}

// coreModuleSection keeps an embedded core module's bytes without parsing
// them beyond the preamble.
func (d *decState) coreModuleSection(sc *resScope) {
	if !IsCoreModule(d.b[d.pos:d.end]) {
		d.fail("core module section does not start with a core module preamble (\\0asm, version 1)")
	}
	m := &CoreModuleDef{Bytes: d.b[d.pos:d.end:d.end]}
	d.pos = d.end
	d.addItem(sc, CoreSortOf(CoreModule), m, ExternType{Kind: ExternCoreModule})
}

// componentSection decodes a nested component.
func (d *decState) componentSection(sc *resScope) {
	if d.nesting >= decMaxNesting {
		d.fail("components and types nested deeper than %d levels", decMaxNesting)
	}
	d.nesting++
	sec := d.sec
	inner := d.component(sc)
	d.sec, d.item = sec, -1
	d.nesting--
	ct := d.bodyType(inner)
	d.addItem(sc, SortComponent, &ComponentDef{Body: inner.body, Type: ct}, ExternType{Kind: ExternComponent, Component: ct})
}
