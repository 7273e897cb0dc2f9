package fuel

import (
	"errors"
	"fmt"
)

// Section ids.
const (
	secCustom = 0
	secType   = 1
	secImport = 2
	secFunc   = 3
	secGlobal = 6
	secExport = 7
	secStart  = 8
	secElem   = 9
	secCode   = 10
)

// order is the position of each known section id in a module (the tag
// section, 13, comes between memory and global).
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// module is what Instrument learns of a module before rewriting it.
type module struct {
	tickType   uint32   // index of the type () -> ()
	newType    bool     // the type is added
	funcs      uint32   // imported functions: the tick's index; later ones shift
	globals    uint32   // imported and defined globals: the fuel global's index
	funcParams []uint32 // parameter counts of the defined functions
}

// shift is a function index after the tick import is inserted.
func (m *module) shift(idx uint32) uint32 {
	if idx < m.funcs {
		return idx
	}
	return idx + 1
}

// Instrument returns a copy of the core module wasm that spends fuel (see
// the package doc). It fails on a malformed module and on instructions it
// does not know (it knows those of WebAssembly 2.0 and threads), rather
// than let a function run unmetered.
func Instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("fuel: not a WebAssembly core module")
	}
	type section struct {
		id   byte
		body []byte
		base int // offset of body in wasm
	}
	var secs []section
	r := &reader{b: wasm, off: 8}
	last := 0
	for !r.eof() {
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
		secs = append(secs, section{id: id, body: wasm[r.off : r.off+int(size)], base: r.off})
		r.off += int(size)
		if id == secCustom {
			continue
		}
		pos, ok := order[id]
		if !ok {
			return nil, r.errf("unknown section %d", id)
		}
		if pos <= last {
			return nil, r.errf("section %d out of order", id)
		}
		last = pos
	}
	m := &module{}
	var params []uint32
	haveType := false
	for _, s := range secs {
		sr := &reader{b: s.body, base: s.base}
		switch s.id {
		case secType:
			haveType = true
			p, tick, err := readTypes(sr)
			if err != nil {
				return nil, err
			}
			params = p
			m.tickType = tick
		case secImport:
			f, g, err := countImports(sr)
			if err != nil {
				return nil, err
			}
			m.funcs, m.globals = f, m.globals+g
		case secFunc:
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			for range n {
				t, err := sr.u32()
				if err != nil {
					return nil, err
				}
				if int(t) >= len(params) {
					return nil, sr.errf("function type %d out of range", t)
				}
				m.funcParams = append(m.funcParams, params[t])
			}
		case secGlobal:
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			m.globals += n
		}
	}
	if !haveType || m.tickType == noType {
		m.tickType, m.newType = uint32(len(params)), true
	}

	out := append(make([]byte, 0, len(wasm)+len(wasm)/8+64), wasm[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	newGlobal := []byte{0x7e, 0x01, 0x42, 0x00, 0x0b} // mutable i64, starting at 0: the first check asks for fuel
	newExport := append(name(Export), 0x03)
	newExport = append(newExport, uleb(uint64(m.globals))...)
	newImport := append(name(Module), name(Tick)...)
	newImport = append(append(newImport, 0x00), uleb(uint64(m.tickType))...)
	tickTypeDef := []byte{0x60, 0x00, 0x00}
	done := map[byte]bool{}
	// addMissing emits the sections a module without them needs, before
	// the first section that follows them.
	addMissing := func(next byte) {
		if next == secCustom {
			return
		}
		for _, want := range []struct {
			id   byte
			body []byte
		}{
			{secType, append([]byte{1}, tickTypeDef...)},
			{secImport, append([]byte{1}, newImport...)},
			{secGlobal, append([]byte{1}, newGlobal...)},
			{secExport, append([]byte{1}, newExport...)},
		} {
			if !done[want.id] && order[next] > order[want.id] {
				emit(want.id, want.body)
				done[want.id] = true
			}
		}
	}
	for _, s := range secs {
		addMissing(s.id)
		sr := &reader{b: s.body, base: s.base}
		var body []byte
		var err error
		switch s.id {
		case secType:
			body = s.body
			if m.newType {
				body, err = appendToVec(s.body, tickTypeDef)
			}
		case secImport:
			body, err = appendToVec(s.body, newImport)
		case secGlobal:
			body, err = m.rewriteGlobals(sr, newGlobal)
		case secExport:
			body, err = m.rewriteExports(sr, newExport)
		case secStart:
			var idx uint32
			if idx, err = sr.u32(); err == nil {
				body = uleb(uint64(m.shift(idx)))
			}
		case secElem:
			body, err = m.rewriteElems(sr)
		case secCode:
			body, err = m.instrumentCode(sr)
		case secCustom:
			body = m.rewriteCustom(s.body)
			if body == nil {
				continue // a name section it cannot read: dropped
			}
		default:
			body = s.body
		}
		if err != nil {
			return nil, err
		}
		done[s.id] = true
		emit(s.id, body)
	}
	addMissing(11) // the last known section: whatever is still missing
	return out, nil
}

// noType marks a type section without () -> ().
const noType = ^uint32(0)

// readTypes reads the parameter count of each type of a type section and
// the index of the first type () -> () (noType if none).
func readTypes(r *reader) ([]uint32, uint32, error) {
	n, err := r.u32()
	if err != nil {
		return nil, 0, err
	}
	tick := noType
	var out []uint32
	for i := range n {
		form, err := r.byte()
		if err != nil {
			return nil, 0, err
		}
		if form != 0x60 {
			return nil, 0, r.errf("type form 0x%02x is not supported", form)
		}
		var counts [2]uint32
		for k := range counts {
			c, err := r.u32()
			if err != nil {
				return nil, 0, err
			}
			for range c {
				if err := r.valType(); err != nil {
					return nil, 0, err
				}
			}
			counts[k] = c
		}
		if counts == [2]uint32{} && tick == noType {
			tick = i
		}
		out = append(out, counts[0])
	}
	return out, tick, nil
}

// countImports counts the functions and globals an import section
// imports.
func countImports(r *reader) (funcs, globals uint32, err error) {
	n, err := r.u32()
	if err != nil {
		return 0, 0, err
	}
	for i := uint32(0); i < n; i++ {
		for range 2 { // module and field names
			l, err := r.u32()
			if err != nil {
				return 0, 0, err
			}
			if err := r.skip(int(l)); err != nil {
				return 0, 0, err
			}
		}
		kind, err := r.byte()
		if err != nil {
			return 0, 0, err
		}
		switch kind {
		case 0x00: // function: type index
			funcs++
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
			return 0, 0, r.errf("unknown import kind %d", kind)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return funcs, globals, nil
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

// rewriteExpr copies a constant expression, shifting ref.func.
func (m *module) rewriteExpr(r *reader, out []byte) ([]byte, error) {
	from := r.off
	for {
		at := r.off
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x0b:
			return append(out, r.b[from:r.off]...), nil
		case 0xd2:
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = append(append(out, r.b[from:at]...), 0xd2)
			out = append(out, uleb(uint64(m.shift(idx)))...)
			from = r.off
		case 0x02, 0x03, 0x04:
			return nil, r.errf("a block in a constant expression")
		default:
			if err := r.immediates(op); err != nil {
				return nil, err
			}
		}
	}
}

// rewriteGlobals shifts ref.func in the globals' initialisers and
// appends the fuel global.
func (m *module) rewriteGlobals(r *reader, newGlobal []byte) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == 1<<32-1 {
		return nil, r.errf("too many globals")
	}
	out := uleb(uint64(n) + 1)
	for range n {
		if err := r.valType(); err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
		out = append(out, r.b[r.off-2:r.off]...)
		if out, err = m.rewriteExpr(r, out); err != nil {
			return nil, err
		}
	}
	if !r.eof() {
		return nil, r.errf("bytes after the last global")
	}
	return append(out, newGlobal...), nil
}

// rewriteExports shifts exported function indices and appends the fuel
// global's export.
func (m *module) rewriteExports(r *reader, newExport []byte) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == 1<<32-1 {
		return nil, r.errf("too many exports")
	}
	out := uleb(uint64(n) + 1)
	for range n {
		start := r.off
		l, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := r.skip(int(l)); err != nil {
			return nil, err
		}
		if string(r.b[r.off-int(l):r.off]) == Export {
			return nil, r.errf("the module already exports %q", Export)
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		at := r.off
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if kind == 0x00 {
			idx = m.shift(idx)
		}
		out = append(out, r.b[start:at]...)
		out = append(out, uleb(uint64(idx))...)
	}
	if !r.eof() {
		return nil, r.errf("bytes after the last export")
	}
	return append(out, newExport...), nil
}

// rewriteElems shifts the function indices of the element segments.
func (m *module) rewriteElems(r *reader) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := uleb(uint64(n))
	for range n {
		flags, err := r.u32()
		if err != nil {
			return nil, err
		}
		if flags > 7 {
			return nil, r.errf("element segment flags %d", flags)
		}
		out = append(out, uleb(uint64(flags))...)
		if flags&2 != 0 && flags&1 == 0 { // an explicit table index
			t, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = append(out, uleb(uint64(t))...)
		}
		if flags&1 == 0 { // active: an offset
			if out, err = m.rewriteExpr(r, out); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // an element kind or reference type
			k, err := r.byte()
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		count, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, uleb(uint64(count))...)
		for range count {
			if flags&4 != 0 {
				if out, err = m.rewriteExpr(r, out); err != nil {
					return nil, err
				}
				continue
			}
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = append(out, uleb(uint64(m.shift(idx)))...)
		}
	}
	if !r.eof() {
		return nil, r.errf("bytes after the last element segment")
	}
	return out, nil
}

// rewriteCustom shifts the function indices of the name section; other
// custom sections are kept as they are. It returns nil for a name section
// it cannot read (dropped: names are only for messages).
func (m *module) rewriteCustom(body []byte) []byte {
	r := &reader{b: body}
	l, err := r.u32()
	if err != nil || r.skip(int(l)) != nil || string(body[r.off-int(l):r.off]) != "name" {
		return body
	}
	out := append([]byte(nil), body[:r.off]...)
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil
		}
		size, err := r.u32()
		if err != nil || uint64(size) > uint64(len(body)-r.off) {
			return nil
		}
		sub := body[r.off : r.off+int(size)]
		r.off += int(size)
		if id == 1 || id == 2 || id == 3 { // functions, locals, labels: by function index
			if sub, err = m.shiftNameMap(sub, id != 1); err != nil {
				return nil
			}
		}
		out = append(out, id)
		out = append(out, uleb(uint64(len(sub)))...)
		out = append(out, sub...)
	}
	return out
}

// shiftNameMap shifts the function indices of a name map (indirect: each
// holds a map of its own, copied as is).
func (m *module) shiftNameMap(sub []byte, indirect bool) ([]byte, error) {
	r := &reader{b: sub}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := uleb(uint64(n))
	for range n {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, uleb(uint64(m.shift(idx)))...)
		start := r.off
		if indirect {
			k, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range k {
				if _, err := r.u32(); err != nil {
					return nil, err
				}
				if err := r.name(); err != nil {
					return nil, err
				}
			}
		} else if err := r.name(); err != nil {
			return nil, err
		}
		out = append(out, sub[start:r.off]...)
	}
	return out, nil
}

// spend is the metering sequence: spend cost units of fuel global g and
// call the tick (function t) when that leaves it negative. It leaves the
// operand stack as it found it.
func (m *module) spend(cost int64) []byte {
	idx := uleb(uint64(m.globals))
	b := append([]byte{0x23}, idx...) // global.get g
	b = append(b, 0x42)
	b = append(b, sleb(cost)...)
	b = append(b, 0x7d) // i64.const cost; i64.sub
	return m.tickIfSpent(b, idx)
}

// spendSize is the sequence before an instruction whose last operand is
// an i32 size n: it saves n in local t and spends base + (n<<shl)>>shr
// units, leaving the operands as they were.
func (m *module) spendSize(t uint32, c sizeCost) []byte {
	idx, loc := uleb(uint64(m.globals)), uleb(uint64(t))
	b := append([]byte{0x22}, loc...)   // local.tee t
	b = append(append(b, 0x23), idx...) // global.get g
	b = append(append(b, 0x20), loc...) // local.get t
	b = append(b, 0xad)                 // i64.extend_i32_u
	if c.shl > 0 {
		b = append(b, 0x42, c.shl, 0x86) // i64.const shl; i64.shl
	}
	if c.shr > 0 {
		b = append(b, 0x42, c.shr, 0x88) // i64.const shr; i64.shr_u
	}
	b = append(b, 0x42)
	b = append(b, sleb(c.base)...)
	b = append(b, 0x7c, 0x7d) // i64.const base; i64.add; i64.sub
	return m.tickIfSpent(b, idx)
}

// tickIfSpent ends a metering sequence that left the new fuel on the
// stack: store it, and call the tick if it is negative.
func (m *module) tickIfSpent(b, idx []byte) []byte {
	b = append(append(b, 0x24), idx...) // global.set g
	b = append(append(b, 0x23), idx...) // global.get g
	b = append(b, 0x42, 0x00, 0x53)     // i64.const 0; i64.lt_s
	b = append(b, 0x04, 0x40, 0x10)     // if: call the tick
	b = append(b, uleb(uint64(m.funcs))...)
	return append(b, 0x0b) // end
}

// sizeCost is how an instruction that takes a size pays for it.
type sizeCost struct {
	base     int64
	shl, shr byte
}

// sizeCosts are the instructions that pay by size, by their 0xfc
// sub-opcode; memory.grow (0x40) is growCost.
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

// instrumentCode meters every function body of a code section.
func (m *module) instrumentCode(r *reader) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int(n) != len(m.funcParams) {
		return nil, r.errf("%d function bodies for %d functions", n, len(m.funcParams))
	}
	out := make([]byte, 0, len(r.b)+len(r.b)/8)
	out = append(out, uleb(uint64(n))...)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return nil, r.errf("function %d runs past the end of the code section", i)
		}
		f := &reader{b: r.b[r.off : r.off+int(size)], base: r.base + r.off}
		r.off += int(size)
		fn, err = m.instrumentFunc(fn[:0], f, m.funcParams[i])
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

// instrumentFunc copies one function body to out, metered: a check at its
// entry and at the head of every loop, a size charge before every
// instruction that takes one (with a new i32 local, after the others, to
// hold the size), and function indices shifted past the tick.
func (m *module) instrumentFunc(out []byte, r *reader, params uint32) ([]byte, error) {
	body := r.b
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
	sized, err := needsSizeLocal(&reader{b: body, off: codeStart, base: r.base})
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
	chk := m.spend(1)
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
		case 0x10, 0x12, 0xd2: // call, return_call, ref.func: a function index
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = append(append(out, body[from:at]...), op)
			out = append(out, uleb(uint64(m.shift(idx)))...)
			from = r.off
			continue
		case 0x40: // memory.grow
			out = append(out, body[from:at]...)
			out = append(out, m.spendSize(t, growCost)...)
			from = at
		case 0xfc:
			sub, err := (&reader{b: body, off: r.off, base: r.base}).u32()
			if err != nil {
				return nil, err
			}
			if c, ok := sizeCosts[sub]; ok {
				out = append(out, body[from:at]...)
				out = append(out, m.spendSize(t, c)...)
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
