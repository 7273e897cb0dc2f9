package wasitest

// This file assembles small core modules for tests that need a guest
// doing one precise thing (looping, growing memory, writing stdout in a
// loop) without a toolchain.

import "github.com/wasisim/wasisim/internal/leb128"

// Value types.
const (
	I32 byte = 0x7f
	I64 byte = 0x7e
)

// Import is an imported function.
type Import struct {
	Module, Name    string
	Params, Results []byte
}

// Func is a defined function; Export, if set, exports it. Locals are the
// types of its locals, one entry each; Body is its code without the final
// end.
type Func struct {
	Export          string
	Params, Results []byte
	Locals          []byte
	Body            []byte
}

// Data is an active data segment of memory 0.
type Data struct {
	Offset uint32
	Bytes  []byte
}

// Module assembles a core module: the imports (functions), a memory of
// pages 64 KiB pages exported as "memory" (none when pages < 0), the
// functions (indexes after the imports) and the data segments.
func Module(imports []Import, pages int, funcs []Func, data []Data) []byte {
	var types [][]byte
	typeOf := func(params, results []byte) uint32 {
		t := append([]byte{0x60}, vec(len(params), params)...)
		t = append(t, vec(len(results), results)...)
		for i, u := range types {
			if string(u) == string(t) {
				return uint32(i)
			}
		}
		types = append(types, t)
		return uint32(len(types) - 1)
	}
	var imps, fns, exps, code [][]byte
	for _, im := range imports {
		e := append(str(im.Module), str(im.Name)...)
		e = append(e, 0x00)
		imps = append(imps, append(e, uleb(uint64(typeOf(im.Params, im.Results)))...))
	}
	for i, f := range funcs {
		fns = append(fns, uleb(uint64(typeOf(f.Params, f.Results))))
		if f.Export != "" {
			e := append(str(f.Export), 0x00)
			exps = append(exps, append(e, uleb(uint64(len(imports)+i))...))
		}
		var locals [][]byte
		for _, l := range f.Locals {
			locals = append(locals, []byte{1, l})
		}
		body := append(vecOf(locals), f.Body...)
		body = append(body, 0x0b)
		code = append(code, append(uleb(uint64(len(body))), body...))
	}
	if pages >= 0 {
		exps = append(exps, append(str("memory"), 0x02, 0x00))
	}
	var segs [][]byte
	for _, d := range data {
		s := append([]byte{0x00, 0x41}, sleb(int64(int32(d.Offset)))...)
		s = append(s, 0x0b)
		segs = append(segs, append(s, append(uleb(uint64(len(d.Bytes))), d.Bytes...)...))
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, vecOf(types))...)
	if len(imps) > 0 {
		m = append(m, section(2, vecOf(imps))...)
	}
	m = append(m, section(3, vecOf(fns))...)
	if pages >= 0 {
		m = append(m, section(5, append([]byte{1, 0x00}, uleb(uint64(pages))...))...)
	}
	m = append(m, section(7, vecOf(exps))...)
	m = append(m, section(10, vecOf(code))...)
	if len(segs) > 0 {
		m = append(m, section(11, vecOf(segs))...)
	}
	return m
}

// Start is a module whose exported _start runs body, with one page of
// memory.
func Start(body ...byte) []byte {
	return Module(nil, 1, []Func{{Export: "_start", Body: body}}, nil)
}

// Loop is the smallest guest that never ends: `loop br 0 end`.
func Loop() []byte { return Start(0x03, 0x40, 0x0c, 0x00, 0x0b) }

// GrowLoop grows its memory by one page at a time, forever.
func GrowLoop() []byte {
	return Start(0x03, 0x40, 0x41, 0x01, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b)
}

// WriteLoop writes 64 KiB of 'y' to stdout, forever (fd_write of one iovec).
func WriteLoop() []byte {
	const n = 64 << 10
	fdWrite := Import{Module: "wasi_snapshot_preview1", Name: "fd_write", Params: []byte{I32, I32, I32, I32}, Results: []byte{I32}}
	iov := []byte{16, 0, 0, 0, n & 0xff, n >> 8 & 0xff, n >> 16 & 0xff, 0}
	ys := make([]byte, n)
	for i := range ys {
		ys[i] = 'y'
	}
	body := []byte{
		0x03, 0x40, // loop
		0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, // fd 1, iovs 0, 1 iovec, nwritten at 8
		0x10, 0x00, 0x1a, // call fd_write; drop
		0x0c, 0x00, 0x0b, // br 0; end
	}
	return Module([]Import{fdWrite}, 2, []Func{{Export: "_start", Body: body}}, []Data{{0, iov}, {16, ys}})
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

func vec(n int, items []byte) []byte { return append(uleb(uint64(n)), items...) }

func vecOf(items [][]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func str(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func uleb(v uint64) []byte { return leb128.AppendUint(nil, v) }

func sleb(v int64) []byte { return leb128.AppendInt(nil, v) }
