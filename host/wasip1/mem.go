package wasip1

import "github.com/tetratelabs/wazero/api"

// Guest memory access. Every read and write is bounds-checked by wazero's
// api.Memory; a module without memory, or an address out of range, is
// EFAULT. Nothing here can panic on guest input.

// maxIovecs bounds an iovec list (IOV_MAX); longer lists are EINVAL.
const maxIovecs = 1024

func memRead(m api.Memory, ptr, n uint32) ([]byte, bool) {
	if m == nil {
		return nil, false
	}
	return m.Read(ptr, n)
}

func memString(m api.Memory, ptr, n uint32) (string, Errno) {
	b, ok := memRead(m, ptr, n)
	if !ok {
		return "", EFAULT
	}
	return string(b), ESUCCESS
}

func putU16(m api.Memory, ptr uint32, v uint16) Errno {
	if m == nil || !m.WriteUint16Le(ptr, v) {
		return EFAULT
	}
	return ESUCCESS
}

func putU32(m api.Memory, ptr uint32, v uint32) Errno {
	if m == nil || !m.WriteUint32Le(ptr, v) {
		return EFAULT
	}
	return ESUCCESS
}

func putU64(m api.Memory, ptr uint32, v uint64) Errno {
	if m == nil || !m.WriteUint64Le(ptr, v) {
		return EFAULT
	}
	return ESUCCESS
}

func getU32(m api.Memory, ptr uint32) (uint32, Errno) {
	if m == nil {
		return 0, EFAULT
	}
	v, ok := m.ReadUint32Le(ptr)
	if !ok {
		return 0, EFAULT
	}
	return v, ESUCCESS
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

func put16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func put64(b []byte, v uint64) { put32(b, uint32(v)); put32(b[4:], uint32(v>>32)) }

// iovecs resolves an iovec (or ciovec) list to views of guest memory.
// The views alias the memory, so reads land directly in the guest.
func iovecs(m api.Memory, ptr, n uint32, buf [][]byte) ([][]byte, Errno) {
	if n > maxIovecs {
		return nil, EINVAL
	}
	raw, ok := memRead(m, ptr, n*8)
	if !ok {
		return nil, EFAULT
	}
	buf = buf[:0]
	for i := uint32(0); i < n; i++ {
		p, l := le32(raw[i*8:]), le32(raw[i*8+4:])
		b, ok := memRead(m, p, l)
		if !ok {
			return nil, EFAULT
		}
		buf = append(buf, b)
	}
	return buf, ESUCCESS
}

// putStrings writes NUL-terminated strings to buf and their addresses to
// ptrs (args_get, environ_get).
func putStrings(m api.Memory, ss []string, ptrs, buf uint32) Errno {
	size := uint32(0)
	for _, s := range ss {
		size += uint32(len(s)) + 1
	}
	pv, ok := memRead(m, ptrs, uint32(len(ss))*4)
	if !ok {
		return EFAULT
	}
	bv, ok := memRead(m, buf, size)
	if !ok {
		return EFAULT
	}
	off := uint32(0)
	for i, s := range ss {
		put32(pv[i*4:], buf+off)
		copy(bv[off:], s)
		bv[off+uint32(len(s))] = 0
		off += uint32(len(s)) + 1
	}
	return ESUCCESS
}

func sizes(m api.Memory, ss []string, countPtr, sizePtr uint32) Errno {
	size := uint32(0)
	for _, s := range ss {
		size += uint32(len(s)) + 1
	}
	if e := putU32(m, countPtr, uint32(len(ss))); e != ESUCCESS {
		return e
	}
	return putU32(m, sizePtr, size)
}
