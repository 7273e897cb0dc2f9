package vfs

import "slices"

// chunkSize is the unit of file storage. A file's data is a list of chunks;
// every chunk but the last holds exactly chunkSize bytes. The first chunk
// grows by doubling up to chunkSize, so a small file costs about its size;
// after that the file grows a chunk at a time, so writing a large file
// never copies what it already holds nor reserves twice its size (a 64 MiB
// file written in pieces used to be copied and zeroed 128 MiB over).
const chunkSize = 64 << 10

// dataLen is the number of bytes held in data (the rest of the file up to
// its size reads as zeros).
func (n *inode) dataLen() int64 {
	k := len(n.data)
	if k == 0 {
		return 0
	}
	return int64(k-1)*chunkSize + int64(len(n.data[k-1]))
}

// readData copies the held bytes from off into p and returns the count.
func (n *inode) readData(p []byte, off int64) int {
	total := 0
	for len(p) > 0 && off < n.dataLen() {
		c := n.data[off/chunkSize]
		k := copy(p, c[off%chunkSize:])
		p, off, total = p[k:], off+int64(k), total+k
	}
	return total
}

// growData extends the held bytes to end (> dataLen). Bytes between the
// old end and end are not necessarily zero: the caller overwrites or
// clears them.
func (n *inode) growData(end int64) {
	for {
		k := len(n.data)
		if k > 0 && len(n.data[k-1]) < chunkSize {
			last := n.data[k-1]
			want := int(min(chunkSize, end-int64(k-1)*chunkSize))
			if want > cap(last) {
				c := min(chunkSize, max(want, 2*cap(last)))
				if k > 1 {
					c = chunkSize
				}
				grown := make([]byte, len(last), c)
				copy(grown, last)
				last = grown
			}
			n.data[k-1] = last[:want]
		} else {
			want := int(min(chunkSize, end-int64(k)*chunkSize))
			c := want
			if k > 0 {
				c = chunkSize // a chunk after the first fills up: reserve it whole
			}
			n.data = append(n.data, make([]byte, want, c))
		}
		if n.dataLen() >= end {
			return
		}
	}
}

// clearData zeroes held bytes [from, to).
func (n *inode) clearData(from, to int64) {
	for from < to {
		c := n.data[from/chunkSize]
		o := from % chunkSize
		k := int(min(int64(len(c))-o, to-from))
		clear(c[o : o+int64(k)])
		from += int64(k)
	}
}

// writeData copies p to held bytes at off (off+len(p) ≤ dataLen).
func (n *inode) writeData(p []byte, off int64) {
	for len(p) > 0 {
		c := n.data[off/chunkSize]
		k := copy(c[off%chunkSize:], p)
		p, off = p[k:], off+int64(k)
	}
}

// shrinkData keeps the first size (< dataLen) held bytes, giving back the
// memory of dropped chunks and of a mostly empty last chunk.
func (n *inode) shrinkData(size int64) {
	if size == 0 {
		n.data = nil
		return
	}
	k := int((size + chunkSize - 1) / chunkSize)
	clear(n.data[k:]) // drop the references of the chunks cut off
	n.data = n.data[:k]
	last := n.data[k-1][:size-int64(k-1)*chunkSize]
	if c := cap(last); c > 4096 && c > 2*len(last) {
		last = slices.Clip(slices.Clone(last)) // give the memory back
	}
	n.data[k-1] = last
}

// setBytes makes b the held bytes of a symbolic link (its target, kept in
// one piece whatever its length: link data is never written in place).
func (n *inode) setBytes(b []byte) { n.data = [][]byte{b} }

// bytes is the target of a symbolic link.
func (n *inode) bytes() []byte {
	if len(n.data) == 0 {
		return nil
	}
	return n.data[0]
}
