// Package fuel meters the work a WebAssembly core module may do, so that a
// guest that computes forever ends, and ends at the same point in every
// run: wazero has no fuel of its own, and a wall-clock limit stops a guest
// at a different instruction each time.
//
// Instrument rewrites a module's code section: every function entry and
// every loop iteration spends one unit from a mutable i64 global that
// starts at the budget; when it goes negative the function traps
// (unreachable). Between two such points a function runs only
// straight-line code and forward branches, so the work one unit pays for
// is bounded by the size of a function body, and the budget bounds the
// whole run — recursion included, since every call is an entry. The
// instructions whose work depends on an operand pay for it before they
// run: memory.fill, memory.copy and memory.init one unit per KiB,
// table.fill, table.copy and table.init one per 16 elements, and
// memory.grow and table.grow 1024 units plus their size (a page is 64
// units), since growing calls out of the compiled code.
//
// The global is appended after the module's own globals and exported as
// Export, so no index the module uses changes; Exhausted reads it after a
// trap to tell a fuel trap from the guest's own.
package fuel

import (
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// Export is the name under which an instrumented module exports its fuel
// global.
const Export = "wasisim:fuel"

// ErrExhausted is the error of a guest that spent all its fuel.
var ErrExhausted = errors.New("the guest ran out of fuel")

// Exhausted reports whether the instance of an instrumented module spent
// its fuel (its global went negative, which only the fuel trap does).
func Exhausted(m api.Module) bool {
	if m == nil {
		return false
	}
	g := m.ExportedGlobal(Export)
	return g != nil && int64(g.Get()) < 0
}

// Remaining is the fuel an instance of an instrumented module has left
// (0 when it has none or the module is not instrumented).
func Remaining(m api.Module) uint64 {
	if m == nil {
		return 0
	}
	g := m.ExportedGlobal(Export)
	if g == nil || int64(g.Get()) < 0 {
		return 0
	}
	return g.Get()
}

// Stop takes the fuel of an instance of an instrumented module, so that
// it traps at its next check: how a guest running on another goroutine is
// stopped from outside (a deadline, an interrupt). The guest's own
// decrement may overwrite the store if both happen at once, so a caller
// repeats it until the guest has stopped; callers serialise Stop with
// Exhausted and Remaining.
func Stop(m api.Module) {
	if m == nil {
		return
	}
	if g, ok := m.ExportedGlobal(Export).(api.MutableGlobal); ok {
		v := stopped // far from wrapping around to positive
		g.Set(uint64(v))
	}
}

// stopped is the fuel Stop leaves.
const stopped = -(int64(1) << 62)

// maxBudget is the largest budget: the global is a signed i64.
const maxBudget = 1<<63 - 1

// Section ids.
const (
	secCustom = 0
	secType   = 1
	secImport = 2
	secFunc   = 3
	secGlobal = 6
	secExport = 7
	secCode   = 10
)

// order is the position of each known section id in a module (the tag
// section, 13, comes between memory and global).
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// Instrument returns a copy of the core module wasm that spends one unit
// of fuel per function entry and loop iteration out of budget (see the
// package doc). It fails on a malformed module and on instructions it
// does not know (it knows those of WebAssembly 2.0 and threads), rather
// than let a function run unmetered.
func Instrument(wasm []byte, budget uint64) ([]byte, error) {
	if budget > maxBudget {
		budget = maxBudget
	}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("fuel: not a WebAssembly core module")
	}
	type section struct {
		id   byte
		body []byte
		raw  []byte // the whole section, header included
	}
	var secs []section
	r := &reader{b: wasm, off: 8}
	last := 0
	for !r.eof() {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(wasm)-r.off) {
			return nil, r.errf("section %d runs past the end of the module", id)
		}
		body := wasm[r.off : r.off+int(size)]
		r.off += int(size)
		if id != secCustom {
			pos, ok := order[id]
			if !ok {
				return nil, r.errf("unknown section %d", id)
			}
			if pos <= last {
				return nil, r.errf("section %d out of order", id)
			}
			last = pos
		}
		secs = append(secs, section{id: id, body: body, raw: wasm[start:r.off]})
	}
	// The fuel global's index: after the imported and the defined
	// globals. The parameter counts of the defined functions place the
	// local the size charges use.
	var globals uint32
	var params []uint32 // by type index
	var funcParams []uint32
	for _, s := range secs {
		switch s.id {
		case secType:
			p, err := paramCounts(s.body)
			if err != nil {
				return nil, err
			}
			params = p
		case secFunc:
			r := &reader{b: s.body}
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range n {
				t, err := r.u32()
				if err != nil {
					return nil, err
				}
				if int(t) >= len(params) {
					return nil, r.errf("function type %d out of range", t)
				}
				funcParams = append(funcParams, params[t])
			}
		case secImport:
			n, err := importedGlobals(s.body)
			if err != nil {
				return nil, err
			}
			globals += n
		case secGlobal:
			n, err := (&reader{b: s.body}).u32()
			if err != nil {
				return nil, err
			}
			globals += n
		}
	}
	g := globals
	newGlobal := append([]byte{0x7e, 0x01, 0x42}, sleb(int64(budget))...)
	newGlobal = append(newGlobal, 0x0b)
	newExport := append(name(Export), 0x03)
	newExport = append(newExport, uleb(uint64(g))...)

	out := make([]byte, 0, len(wasm)+len(wasm)/8+64)
	out = append(out, wasm[:8]...)
	haveGlobal, haveExport := false, false
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	// addMissing emits the global and export sections a module without
	// them needs, before the first section that must follow them.
	addMissing := func(next byte) {
		if next == secCustom {
			return
		}
		p := order[next]
		if !haveGlobal && p > order[secGlobal] {
			emit(secGlobal, append([]byte{1}, newGlobal...))
			haveGlobal = true
		}
		if !haveExport && p > order[secExport] {
			emit(secExport, append([]byte{1}, newExport...))
			haveExport = true
		}
	}
	for _, s := range secs {
		addMissing(s.id)
		switch s.id {
		case secGlobal:
			body, err := appendToVec(s.body, newGlobal)
			if err != nil {
				return nil, err
			}
			emit(secGlobal, body)
			haveGlobal = true
		case secExport:
			body, err := appendToVec(s.body, newExport)
			if err != nil {
				return nil, err
			}
			emit(secExport, body)
			haveExport = true
		case secCode:
			body, err := instrumentCode(s.body, g, funcParams)
			if err != nil {
				return nil, err
			}
			emit(secCode, body)
		default:
			out = append(out, s.raw...)
		}
	}
	addMissing(11) // the last known section: whatever is still missing
	return out, nil
}

// importedGlobals counts the globals an import section imports.
func importedGlobals(body []byte) (uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	var globals uint32
	for i := uint32(0); i < n; i++ {
		for range 2 { // module and field names
			l, err := r.u32()
			if err != nil {
				return 0, err
			}
			if err := r.skip(int(l)); err != nil {
				return 0, err
			}
		}
		kind, err := r.byte()
		if err != nil {
			return 0, err
		}
		switch kind {
		case 0x00: // function: type index
			_, err = r.u32()
		case 0x01: // table: reference type, limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 0x02: // memory: limits
			err = r.limits()
		case 0x03: // global: value type, mutability
			globals++
			err = r.skip(2)
		case 0x04: // tag: attribute, type index
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return 0, r.errf("unknown import kind %d", kind)
		}
		if err != nil {
			return 0, err
		}
	}
	return globals, nil
}

// appendToVec adds one encoded element to a section that is a vector.
func appendToVec(body, elem []byte) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == 1<<32-1 {
		return nil, r.errf("vector too long")
	}
	out := append(uleb(uint64(n)+1), body[r.off:]...)
	return append(out, elem...), nil
}

// spend is the metering sequence for fuel global g: spend cost units,
// trap if that leaves none. It leaves the operand stack as it found it.
func spend(g uint32, cost int64) []byte {
	idx := uleb(uint64(g))
	b := append([]byte{0x23}, idx...) // global.get g
	b = append(b, 0x42)
	b = append(b, sleb(cost)...)
	b = append(b, 0x7d) // i64.const cost; i64.sub
	return trapIfSpent(b, idx)
}

// spendSize is the sequence before an instruction whose last operand is
// an i32 size n: it saves n in local t and spends base + (n<<shl)>>shr
// units, leaving the operands as they were.
func spendSize(g, t uint32, base int64, shl, shr byte) []byte {
	idx, loc := uleb(uint64(g)), uleb(uint64(t))
	b := append([]byte{0x22}, loc...)   // local.tee t
	b = append(append(b, 0x23), idx...) // global.get g
	b = append(append(b, 0x20), loc...) // local.get t
	b = append(b, 0xad)                 // i64.extend_i32_u
	if shl > 0 {
		b = append(b, 0x42, shl, 0x86) // i64.const shl; i64.shl
	}
	if shr > 0 {
		b = append(b, 0x42, shr, 0x88) // i64.const shr; i64.shr_u
	}
	b = append(b, 0x42)
	b = append(b, sleb(base)...)
	b = append(b, 0x7c, 0x7d) // i64.const base; i64.add; i64.sub
	return trapIfSpent(b, idx)
}

// trapIfSpent ends a metering sequence that left the new fuel on the
// stack: store it, and trap if it is negative.
func trapIfSpent(b, idx []byte) []byte {
	b = append(append(b, 0x24), idx...)      // global.set g
	b = append(append(b, 0x23), idx...)      // global.get g
	b = append(b, 0x42, 0x00, 0x53)          // i64.const 0; i64.lt_s
	return append(b, 0x04, 0x40, 0x00, 0x0b) // if unreachable end
}

// sizeCost is how an instruction that takes a size pays for it.
type sizeCost struct {
	base     int64
	shl, shr byte
}

// sizeCosts are the instructions that pay by size, by their 0xfc
// sub-opcode; memory.grow (0x40) is separate.
var sizeCosts = map[uint32]sizeCost{
	8:  {1, 0, 10},   // memory.init: per KiB
	10: {1, 0, 10},   // memory.copy
	11: {1, 0, 10},   // memory.fill
	12: {1, 0, 4},    // table.init: per 16 elements
	14: {1, 0, 4},    // table.copy
	15: {1024, 0, 4}, // table.grow
	17: {1, 0, 4},    // table.fill
}

// growCost is how memory.grow pays: 1024 units and 64 per page.
var growCost = sizeCost{1024, 6, 0}

// instrumentCode meters every function body of a code section; params
// are the defined functions' parameter counts.
func instrumentCode(body []byte, g uint32, params []uint32) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int(n) != len(params) {
		return nil, r.errf("%d function bodies for %d functions", n, len(params))
	}
	out := make([]byte, 0, len(body)+len(body)/8)
	out = append(out, uleb(uint64(n))...)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(body)-r.off) {
			return nil, r.errf("function %d runs past the end of the code section", i)
		}
		f := body[r.off : r.off+int(size)]
		base := r.base + r.off
		r.off += int(size)
		fn, err = instrumentFunc(fn[:0], f, base, g, params[i])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = append(out, uleb(uint64(len(fn)))...)
		out = append(out, fn...)
	}
	if !r.eof() {
		return nil, r.errf("bytes after the last function body")
	}
	return out, nil
}

// instrumentFunc copies one function body (at offset base of the module)
// to out, metered: a check at its entry and at the head of every loop,
// and a size charge before every instruction that takes one (with a new
// i32 local, after the others, to hold the size).
func instrumentFunc(out []byte, body []byte, base int, g, params uint32) ([]byte, error) {
	r := &reader{b: body, base: base}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	afterGroups := r.off
	locals := uint64(params)
	for range groups {
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		locals += uint64(n)
		if err := r.valType(); err != nil {
			return nil, err
		}
	}
	if locals >= 1<<32-1 {
		return nil, r.errf("too many locals")
	}
	t := uint32(locals) // the size local
	codeStart := r.off
	sized, err := needsSizeLocal(&reader{b: body, off: codeStart, base: base})
	if err != nil {
		return nil, err
	}
	if sized {
		out = append(out, uleb(uint64(groups)+1)...)
		out = append(out, body[afterGroups:codeStart]...)
		out = append(out, 0x01, 0x7f) // one i32
	} else {
		out = append(out, body[:codeStart]...)
	}
	chk := spend(g, 1)
	out = append(out, chk...)
	from := r.off
	depth := 1
	for depth > 0 {
		if r.eof() {
			return nil, r.errf("function body ends inside a block")
		}
		at := r.off
		op, _ := r.byte()
		switch op {
		case 0x02, 0x03, 0x04: // block, loop, if
			if err := r.blockType(); err != nil {
				return nil, err
			}
			depth++
			if op == 0x03 {
				out = append(out, body[from:r.off]...)
				out = append(out, chk...)
				from = r.off
			}
			continue
		case 0x0b: // end
			depth--
			continue
		case 0x40: // memory.grow
			out = append(out, body[from:at]...)
			out = append(out, spendSize(g, t, growCost.base, growCost.shl, growCost.shr)...)
			from = at
		case 0xfc:
			sub, err := (&reader{b: body, off: r.off, base: base}).u32()
			if err != nil {
				return nil, err
			}
			if c, ok := sizeCosts[sub]; ok {
				out = append(out, body[from:at]...)
				out = append(out, spendSize(g, t, c.base, c.shl, c.shr)...)
				from = at
			}
		}
		if err := r.immediates(op); err != nil {
			return nil, err
		}
	}
	if !r.eof() {
		return nil, r.errf("bytes after the end of a function body")
	}
	return append(out, body[from:]...), nil
}

// needsSizeLocal reports whether a function's code has an instruction
// that pays by size.
func needsSizeLocal(r *reader) (bool, error) {
	found := false
	depth := 1
	for depth > 0 {
		if r.eof() {
			return false, r.errf("function body ends inside a block")
		}
		op, _ := r.byte()
		switch op {
		case 0x02, 0x03, 0x04:
			if err := r.blockType(); err != nil {
				return false, err
			}
			depth++
			continue
		case 0x0b:
			depth--
			continue
		case 0x40:
			found = true
		case 0xfc:
			sub, err := (&reader{b: r.b, off: r.off, base: r.base}).u32()
			if err != nil {
				return false, err
			}
			if _, ok := sizeCosts[sub]; ok {
				found = true
			}
		}
		if err := r.immediates(op); err != nil {
			return false, err
		}
	}
	return found, nil
}

// paramCounts reads the parameter count of each type of a type section.
func paramCounts(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	var out []uint32
	for range n {
		form, err := r.byte()
		if err != nil {
			return nil, err
		}
		if form != 0x60 {
			return nil, r.errf("type form 0x%02x is not supported", form)
		}
		var counts [2]uint32
		for k := range counts {
			c, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range c {
				if err := r.valType(); err != nil {
					return nil, err
				}
			}
			counts[k] = c
		}
		out = append(out, counts[0])
	}
	return out, nil
}

// immediates skips the immediates of every instruction but the block
// instructions and end.
func (r *reader) immediates(op byte) error {
	var err error
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
		// unreachable, nop, else, return, drop, select, ref.is_null
	case op == 0x0c || op == 0x0d: // br, br_if
		_, err = r.u32()
	case op == 0x0e: // br_table
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint64(0); i <= uint64(n) && err == nil; i++ {
				_, err = r.u32()
			}
		}
	case op == 0x10 || op == 0x12: // call, return_call
		_, err = r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
	case op == 0x1c: // select t*
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint32(0); i < n && err == nil; i++ {
				err = r.valType()
			}
		}
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		_, err = r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		err = r.memArg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		_, err = r.u32()
	case op == 0x41: // i32.const
		err = r.sleb(32)
	case op == 0x42: // i64.const
		err = r.sleb(64)
	case op == 0x43:
		err = r.skip(4)
	case op == 0x44:
		err = r.skip(8)
	case op >= 0x45 && op <= 0xc4: // numeric instructions
	case op == 0xd0: // ref.null
		_, err = r.byte()
	case op == 0xd2: // ref.func
		_, err = r.u32()
	case op == 0xfc:
		err = r.misc()
	case op == 0xfd:
		err = r.simd()
	case op == 0xfe:
		err = r.atomic()
	default:
		return r.errf("instruction 0x%02x is not supported", op)
	}
	return err
}

// misc skips a 0xfc instruction.
func (r *reader) misc() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == 8: // memory.init data mem
		return r.u32s(2)
	case sub == 9 || sub == 13: // data.drop, elem.drop
		return r.u32s(1)
	case sub == 10 || sub == 12 || sub == 14: // memory.copy, table.init, table.copy
		return r.u32s(2)
	case sub == 11 || sub == 15 || sub == 16 || sub == 17: // memory.fill, table.grow/size/fill
		return r.u32s(1)
	}
	return r.errf("instruction 0xfc %d is not supported", sub)
}

// simd skips a 0xfd instruction.
func (r *reader) simd() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11: // loads, store
		return r.memArg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		return r.skip(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		return r.skip(1)
	case sub >= 84 && sub <= 91: // load_lane, store_lane
		if err := r.memArg(); err != nil {
			return err
		}
		return r.skip(1)
	case sub == 92 || sub == 93: // load32_zero, load64_zero
		return r.memArg()
	case sub <= 0x113: // every other SIMD (and relaxed SIMD) instruction has none
		return nil
	}
	return r.errf("instruction 0xfd %d is not supported", sub)
}

// atomic skips a 0xfe instruction.
func (r *reader) atomic() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub == 3: // atomic.fence
		return r.skip(1)
	case sub <= 0x4e:
		return r.memArg()
	}
	return r.errf("instruction 0xfe %d is not supported", sub)
}

// reader reads a module's bytes; base is the offset of b in the module,
// for errors.
type reader struct {
	b    []byte
	off  int
	base int
}

var errShort = errors.New("fuel: unexpected end of module")

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("fuel: at byte %d: %s", r.base+r.off, fmt.Sprintf(format, args...))
}

func (r *reader) eof() bool { return r.off >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) skip(n int) error {
	if n < 0 || n > len(r.b)-r.off {
		return errShort
	}
	r.off += n
	return nil
}

// leb reads an unsigned LEB128 of at most bits bits.
func (r *reader) leb(bits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			return 0, r.errf("integer too long")
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.leb(32)
	if err == nil && v > 1<<32-1 {
		return 0, r.errf("integer too large")
	}
	return uint32(v), err
}

func (r *reader) u32s(n int) error {
	for range n {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// sleb skips a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits uint) error {
	_, err := r.leb(bits)
	return err
}

// blockType skips a block type: empty, a value type, or a type index.
func (r *reader) blockType() error { return r.sleb(33) }

// valType skips a value type (one byte in WebAssembly 2.0).
func (r *reader) valType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return nil
	}
	return r.errf("value type 0x%02x is not supported", c)
}

// memArg skips a memory argument: alignment (with the multi-memory bit, a
// memory index) and offset.
func (r *reader) memArg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	_, err = r.leb(64)
	return err
}

// limits skips table or memory limits.
func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags > 7 {
		return r.errf("bad limits flags %d", flags)
	}
	if _, err := r.leb(64); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.leb(64)
	}
	return err
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }
