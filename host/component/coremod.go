package component

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/wasisim/wasisim/internal/leb128"
)

// This file reads and rewrites the import section of a core module. A
// component wires its core instances by module name (`(with "name"
// (instance i))`), and the instances it passes may be bundles of items
// from several places; wazero resolves an import by a module name and an
// export name of one module instance. So before compiling, the linker
// renames every import to where its item really comes from — an export
// of a core instance, or a function of the runtime's host module — and
// nothing else in the module changes.

// coreImport is one entry of a core module's import section.
type coreImport struct {
	Module, Name string
	Kind         CoreSort
	// desc is the import's descriptor bytes (kept as they are).
	desc []byte
}

// coreImports reads the import section of a core module.
func coreImports(mod []byte) ([]coreImport, error) {
	_, imps, _, err := splitImports(mod)
	return imps, err
}

// splitImports finds the import section: it returns the bytes before it,
// the imports, and the bytes after it. A module without imports has an
// empty import list and before holding the whole module.
func splitImports(mod []byte) (before []byte, imps []coreImport, after []byte, err error) {
	if len(mod) < 8 || string(mod[:4]) != "\x00asm" || mod[4] != 1 || mod[5] != 0 || mod[6] != 0 || mod[7] != 0 {
		return nil, nil, nil, errors.New("not a core WebAssembly module")
	}
	r := &modReader{b: mod, off: 8}
	for !r.eof() {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, nil, nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, nil, nil, err
		}
		if uint64(size) > uint64(len(mod)-r.off) {
			return nil, nil, nil, fmt.Errorf("core module section %d at %d runs past the end", id, start)
		}
		end := r.off + int(size)
		if id == 2 {
			sec := &modReader{b: mod[:end], off: r.off}
			imps, err := readImports(sec)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("core module import section: %w", err)
			}
			return mod[:start], imps, mod[end:], nil
		}
		r.off = end
	}
	return mod, nil, nil, nil
}

func readImports(r *modReader) ([]coreImport, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, errors.New("import count larger than the section")
	}
	imps := make([]coreImport, 0, n)
	for i := uint32(0); i < n; i++ {
		mod, err := r.name()
		if err != nil {
			return nil, err
		}
		name, err := r.name()
		if err != nil {
			return nil, err
		}
		start := r.off
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0x00: // func: type index
			_, err = r.u32()
		case 0x01: // table: reftype, limits
			if err = r.skipRefType(); err == nil {
				err = r.skipLimits()
			}
		case 0x02: // memory: limits
			err = r.skipLimits()
		case 0x03: // global: valtype, mutability
			if err = r.skipValType(); err == nil {
				_, err = r.byte()
			}
		case 0x04: // tag: attribute, type index
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return nil, fmt.Errorf("import %q %q has descriptor kind 0x%02x", mod, name, kind)
		}
		if err != nil {
			return nil, err
		}
		imps = append(imps, coreImport{Module: mod, Name: name, Kind: CoreSort(kind), desc: r.b[start:r.off]})
	}
	if r.off != len(r.b) {
		return nil, errors.New("bytes after the last import")
	}
	return imps, nil
}

// rewriteImports returns the module with its import section replaced by
// imps (same count and descriptors, new names).
func rewriteImports(mod []byte, imps []coreImport) ([]byte, error) {
	before, old, after, err := splitImports(mod)
	if err != nil {
		return nil, err
	}
	if len(old) != len(imps) {
		return nil, fmt.Errorf("rewriting %d imports of a module that has %d", len(imps), len(old))
	}
	var sec []byte
	sec = leb128.AppendUint(sec, uint64(len(imps)))
	for _, im := range imps {
		sec = modAppendName(sec, im.Module)
		sec = modAppendName(sec, im.Name)
		sec = append(sec, im.desc...)
	}
	out := make([]byte, 0, len(mod)+len(sec))
	out = append(out, before...)
	out = append(out, 2)
	out = leb128.AppendUint(out, uint64(len(sec)))
	out = append(out, sec...)
	return append(out, after...), nil
}

func modAppendName(b []byte, s string) []byte {
	b = leb128.AppendUint(b, uint64(len(s)))
	return append(b, s...)
}

// modReader reads the binary format's primitives with bounds checks.
type modReader struct {
	b   []byte
	off int
}

var errModShort = errors.New("unexpected end of core module")

func (r *modReader) eof() bool { return r.off >= len(r.b) }

func (r *modReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errModShort
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *modReader) u32() (uint32, error) {
	v, err := r.uint(32)
	if err == nil && v > math.MaxUint32 {
		return 0, errors.New("malformed u32")
	}
	return uint32(v), err
}

func (r *modReader) u64() error {
	_, err := r.uint(64)
	return err
}

// uint reads a LEB128 number of at most bits bits.
func (r *modReader) uint(bits uint) (uint64, error) {
	v, n, err := leb128.Uint(r.b[r.off:], bits)
	r.off += n
	switch {
	case errors.Is(err, leb128.ErrShort):
		return 0, errModShort
	case err != nil:
		return 0, fmt.Errorf("malformed u%d", bits)
	}
	return v, nil
}

func (r *modReader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return "", errModShort
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	if !utf8.Valid(s) {
		return "", errors.New("name is not UTF-8")
	}
	return string(s), nil
}

// skipLimits skips table or memory limits (with the memory64 and shared
// flags and the custom page size flag).
func (r *modReader) skipLimits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags > 0x0f {
		return fmt.Errorf("limits flags 0x%02x", flags)
	}
	is64 := flags&0x04 != 0
	read := func() error {
		if is64 {
			return r.u64()
		}
		_, err := r.u32()
		return err
	}
	if err := read(); err != nil {
		return err
	}
	if flags&0x01 != 0 {
		if err := read(); err != nil {
			return err
		}
	}
	if flags&0x08 != 0 { // custom page size: its log2
		_, err := r.u32()
		return err
	}
	return nil
}

func (r *modReader) skipRefType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x70, 0x6f, 0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x69, 0x71, 0x72, 0x73, 0x74:
		return nil // abstract heap types, shorthand nullable refs
	case 0x63, 0x64: // (ref null ht), (ref ht)
		return r.skipHeapType()
	}
	return fmt.Errorf("reference type 0x%02x", c)
}

func (r *modReader) skipHeapType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c >= 0x69 && c <= 0x74 {
		return nil
	}
	// A type index, as a signed LEB128 (s33): we consumed its first byte.
	for c&0x80 != 0 {
		if c, err = r.byte(); err != nil {
			return err
		}
	}
	return nil
}

func (r *modReader) skipValType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b:
		return nil
	}
	r.off--
	return r.skipRefType()
}
