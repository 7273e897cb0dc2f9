package fuel

import (
	"errors"
	"fmt"

	"github.com/wasisim/wasisim/internal/leb128"
)

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
	v, n, err := leb128.Uint(r.b[r.off:], bits)
	r.off += n
	switch {
	case errors.Is(err, leb128.ErrShort):
		return 0, errShort
	case err != nil:
		return 0, r.errf("integer too long")
	}
	return v, nil
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

func uleb(v uint64) []byte { return leb128.AppendUint(nil, v) }

func sleb(v int64) []byte { return leb128.AppendInt(nil, v) }

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

// name skips a name.
func (r *reader) name() error {
	l, err := r.u32()
	if err != nil {
		return err
	}
	return r.skip(int(l))
}
