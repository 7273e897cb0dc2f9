package wasip1

import (
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/vfs"
)

// Layout constants.
const (
	fdstatSize   = 24
	filestatSize = 64
	direntSize   = 24
	prestatSize  = 8

	lookupSymlinkFollow = 1

	oflagCreat     = 1
	oflagDirectory = 2
	oflagExcl      = 4
	oflagTrunc     = 8

	whenceSet = 0
	whenceCur = 1
	whenceEnd = 2

	fstflagAtim    = 1
	fstflagAtimNow = 2
	fstflagMtim    = 4
	fstflagMtimNow = 8
)

func fsFuncs() []hostFunc {
	return []hostFunc{
		{name: "fd_advise", params: ps(i32, i64, i64, i32), fn: fdAdvise},
		{name: "fd_allocate", params: ps(i32, i64, i64), fn: fdAllocate},
		{name: "fd_close", params: ps(i32), fn: fdClose},
		{name: "fd_datasync", params: ps(i32), fn: fdSync(rightFdDatasync)},
		{name: "fd_fdstat_get", params: ps(i32, i32), fn: fdFdstatGet},
		{name: "fd_fdstat_set_flags", params: ps(i32, i32), fn: fdFdstatSetFlags},
		{name: "fd_fdstat_set_rights", params: ps(i32, i64, i64), fn: fdFdstatSetRights},
		{name: "fd_filestat_get", params: ps(i32, i32), fn: fdFilestatGet},
		{name: "fd_filestat_set_size", params: ps(i32, i64), fn: fdFilestatSetSize},
		{name: "fd_filestat_set_times", params: ps(i32, i64, i64, i32), fn: fdFilestatSetTimes},
		{name: "fd_pread", params: ps(i32, i32, i32, i64, i32), fn: fdPread},
		{name: "fd_prestat_get", params: ps(i32, i32), fn: fdPrestatGet},
		{name: "fd_prestat_dir_name", params: ps(i32, i32, i32), fn: fdPrestatDirName},
		{name: "fd_pwrite", params: ps(i32, i32, i32, i64, i32), fn: fdPwrite},
		{name: "fd_read", params: ps(i32, i32, i32, i32), fn: fdRead},
		{name: "fd_readdir", params: ps(i32, i32, i32, i64, i32), fn: fdReaddir},
		{name: "fd_renumber", params: ps(i32, i32), fn: fdRenumber},
		{name: "fd_seek", params: ps(i32, i64, i32, i32), fn: fdSeek},
		{name: "fd_sync", params: ps(i32), fn: fdSync(rightFdSync)},
		{name: "fd_tell", params: ps(i32, i32), fn: fdTell},
		{name: "fd_write", params: ps(i32, i32, i32, i32), fn: fdWrite},
		{name: "path_create_directory", params: ps(i32, i32, i32), fn: pathCreateDirectory},
		{name: "path_filestat_get", params: ps(i32, i32, i32, i32, i32), fn: pathFilestatGet},
		{name: "path_filestat_set_times", params: ps(i32, i32, i32, i32, i64, i64, i32), fn: pathFilestatSetTimes},
		{name: "path_link", params: ps(i32, i32, i32, i32, i32, i32, i32), fn: pathLink},
		{name: "path_open", params: ps(i32, i32, i32, i32, i32, i64, i64, i32, i32), fn: pathOpen},
		{name: "path_readlink", params: ps(i32, i32, i32, i32, i32, i32), fn: pathReadlink},
		{name: "path_remove_directory", params: ps(i32, i32, i32), fn: pathRemoveDirectory},
		{name: "path_rename", params: ps(i32, i32, i32, i32, i32, i32), fn: pathRename},
		{name: "path_symlink", params: ps(i32, i32, i32, i32, i32), fn: pathSymlink},
		{name: "path_unlink_file", params: ps(i32, i32, i32), fn: pathUnlinkFile},
	}
}

// entry returns the descriptor at fd if the guest did not drop right.
func (g *Guest) entry(fd uint32, right uint64) (fdEntry, Errno) {
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return nil, errno
	}
	if errno := e.state().need(right); errno != ESUCCESS {
		return nil, errno
	}
	return e, ESUCCESS
}

// openFD returns the open file description behind a file or directory
// descriptor; stdio and sockets are refused with notFile.
func (g *Guest) openFD(fd uint32, right uint64, notFile Errno) (*ofdFD, Errno) {
	e, errno := g.entry(fd, right)
	if errno != ESUCCESS {
		return nil, errno
	}
	switch e := e.(type) {
	case *fileFD:
		return &e.ofdFD, ESUCCESS
	case *dirFD:
		return &e.ofdFD, ESUCCESS
	}
	return nil, notFile
}

// fileFD returns the file behind fd: stdio and sockets are refused with
// notFile, a directory with isDir.
func (g *Guest) fileFD(fd uint32, right uint64, notFile, isDir Errno) (*fileFD, Errno) {
	e, errno := g.entry(fd, right)
	if errno != ESUCCESS {
		return nil, errno
	}
	switch e := e.(type) {
	case *fileFD:
		return e, ESUCCESS
	case *dirFD:
		return nil, isDir
	}
	return nil, notFile
}

// dirFD returns the directory behind fd for a path operation (ENOTDIR for
// any other descriptor).
func (g *Guest) dirFD(fd uint32, right uint64) (*dirFD, Errno) {
	e, errno := g.entry(fd, right)
	if errno != ESUCCESS {
		return nil, errno
	}
	if d, ok := e.(*dirFD); ok {
		return d, ESUCCESS
	}
	return nil, ENOTDIR
}

// fdAdvise is fd_advise: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_advisefd-fd-offset-filesize-len-filesize-advice-advice---result-errno
func fdAdvise(g *Guest, m api.Memory, p []uint64) Errno {
	fd, offset, length, advice := u32(p[0]), int64(p[1]), int64(p[2]), u32(p[3])
	f, errno := g.fileFD(fd, rightFdAdvise, ESPIPE, EBADF)
	if errno != ESUCCESS {
		return errno
	}
	if advice > uint32(vfs.AdviceNoReuse) {
		return EINVAL
	}
	return ToErrno(f.ofd.Advise(offset, length, vfs.Advice(advice)))
}

// fdAllocate is fd_allocate: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_allocatefd-fd-offset-filesize-len-filesize---result-errno
func fdAllocate(g *Guest, m api.Memory, p []uint64) Errno {
	fd, offset, length := u32(p[0]), int64(p[1]), int64(p[2])
	f, errno := g.fileFD(fd, rightFdAllocate, EBADF, EBADF)
	if errno != ESUCCESS {
		return errno
	}
	if offset < 0 || length <= 0 || offset > vfs.MaxFileSize-length {
		return EINVAL
	}
	st, err := f.ofd.Stat()
	if err != nil {
		return ToErrno(err)
	}
	if uint64(offset+length) <= st.Size {
		if f.ofd.Flags()&vfs.Write == 0 {
			return EBADF
		}
		return ESUCCESS
	}
	return ToErrno(f.ofd.SetSize(offset + length))
}

// fdClose is fd_close: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_closefd-fd---result-errno
func fdClose(g *Guest, m api.Memory, p []uint64) Errno {
	fd := u32(p[0])
	if _, errno := g.fds.get(fd); errno != ESUCCESS {
		return errno
	}
	g.fds.remove(fd).close()
	return ESUCCESS
}

// fdSync is fd_sync, and fd_datasync with rightFdDatasync: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_syncfd-fd---result-errno
func fdSync(right uint64) func(g *Guest, m api.Memory, p []uint64) Errno {
	return func(g *Guest, m api.Memory, p []uint64) Errno {
		fd := u32(p[0])
		o, errno := g.openFD(fd, right, EINVAL)
		if errno != ESUCCESS {
			return errno
		}
		return ToErrno(o.ofd.Sync())
	}
}

// fdFdstatGet is fd_fdstat_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_fdstat_getfd-fd---resultfdstat-errno
func fdFdstatGet(g *Guest, m api.Memory, p []uint64) Errno {
	fd, statPtr := u32(p[0]), u32(p[1])
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return errno
	}
	b, ok := memRead(m, statPtr, fdstatSize)
	if !ok {
		return EFAULT
	}
	st := e.state()
	clear(b)
	b[0] = e.filetype()
	put16(b[2:], st.flags)
	put64(b[8:], st.base&^st.dropped)
	put64(b[16:], st.inh&^st.dropped)
	return ESUCCESS
}

// fdFdstatSetFlags is fd_fdstat_set_flags: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_fdstat_set_flagsfd-fd-flags-fdflags---result-errno
func fdFdstatSetFlags(g *Guest, m api.Memory, p []uint64) Errno {
	fd, flags := u32(p[0]), u32(p[1])
	e, errno := g.entry(fd, rightFdFdstatSetFlags)
	if errno != ESUCCESS {
		return errno
	}
	if flags&^uint32(fdflagAppend|fdflagDsync|fdflagNonblock|fdflagRsync|fdflagSync) != 0 {
		return EINVAL
	}
	st := e.state()
	// Only append and nonblock may change after open, as in Wasmtime.
	if (uint16(flags)^st.flags)&(fdflagDsync|fdflagRsync|fdflagSync) != 0 {
		return ENOTSUP
	}
	st.flags = uint16(flags)
	return ESUCCESS
}

// fdFdstatSetRights is fd_fdstat_set_rights: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_fdstat_set_rightsfd-fd-fs_rights_base-rights-fs_rights_inheriting-rights---result-errno
func fdFdstatSetRights(g *Guest, m api.Memory, p []uint64) Errno {
	fd, base, inh := u32(p[0]), p[1], p[2]
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return errno
	}
	st := e.state()
	curBase, curInh := st.base&^st.dropped, st.inh&^st.dropped
	if base&^curBase != 0 || inh&^curInh != 0 {
		return ENOTCAPABLE
	}
	st.dropped |= (curBase &^ base) | (curInh &^ inh)
	return ESUCCESS
}

// putFilestat writes a filestat record.
func putFilestat(m api.Memory, ptr uint32, st vfs.Stat, typ uint8) Errno {
	b, ok := memRead(m, ptr, filestatSize)
	if !ok {
		return EFAULT
	}
	clear(b)
	put64(b, st.Device)
	put64(b[8:], st.Inode)
	b[16] = typ
	put64(b[24:], st.LinkCount)
	put64(b[32:], st.Size)
	put64(b[40:], uint64(st.Atime.UnixNano()))
	put64(b[48:], uint64(st.Mtime.UnixNano()))
	put64(b[56:], uint64(st.Ctime.UnixNano()))
	return ESUCCESS
}

// fdFilestatGet is fd_filestat_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_filestat_getfd-fd---resultfilestat-errno
func fdFilestatGet(g *Guest, m api.Memory, p []uint64) Errno {
	fd, statPtr := u32(p[0]), u32(p[1])
	e, errno := g.entry(fd, rightFdFilestatGet)
	if errno != ESUCCESS {
		return errno
	}
	var ofd *vfs.OFD
	switch e := e.(type) {
	case *fileFD:
		ofd = e.ofd
	case *dirFD:
		ofd = e.ofd
	default:
		return putFilestat(m, statPtr, vfs.Stat{}, e.filetype())
	}
	st, err := ofd.Stat()
	if err != nil {
		return ToErrno(err)
	}
	return putFilestat(m, statPtr, st, fileType(st.Type))
}

// fdFilestatSetSize is fd_filestat_set_size: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_filestat_set_sizefd-fd-size-filesize---result-errno
func fdFilestatSetSize(g *Guest, m api.Memory, p []uint64) Errno {
	fd, size := u32(p[0]), int64(p[1])
	f, errno := g.fileFD(fd, rightFdFilestatSetSize, EINVAL, EISDIR)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(f.ofd.SetSize(size))
}

// newTimes decodes fstflags and the two timestamps.
func newTimes(atim, mtim uint64, flags uint32) (a, mt vfs.NewTimestamp, errno Errno) {
	if flags&^uint32(fstflagAtim|fstflagAtimNow|fstflagMtim|fstflagMtimNow) != 0 ||
		flags&(fstflagAtim|fstflagAtimNow) == fstflagAtim|fstflagAtimNow ||
		flags&(fstflagMtim|fstflagMtimNow) == fstflagMtim|fstflagMtimNow {
		return a, mt, EINVAL
	}
	switch {
	case flags&fstflagAtimNow != 0:
		a.Kind = vfs.Now
	case flags&fstflagAtim != 0:
		a = vfs.NewTimestamp{Kind: vfs.Timestamp, Time: time.Unix(0, int64(atim))}
	}
	switch {
	case flags&fstflagMtimNow != 0:
		mt.Kind = vfs.Now
	case flags&fstflagMtim != 0:
		mt = vfs.NewTimestamp{Kind: vfs.Timestamp, Time: time.Unix(0, int64(mtim))}
	}
	return a, mt, ESUCCESS
}

// fdFilestatSetTimes is fd_filestat_set_times: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_filestat_set_timesfd-fd-atim-timestamp-mtim-timestamp-fst_flags-fstflags---result-errno
func fdFilestatSetTimes(g *Guest, m api.Memory, p []uint64) Errno {
	fd, atim, mtim, fstFlags := u32(p[0]), p[1], p[2], u32(p[3])
	o, errno := g.openFD(fd, rightFdFilestatSetTimes, EINVAL)
	if errno != ESUCCESS {
		return errno
	}
	a, mt, errno := newTimes(atim, mtim, fstFlags)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(o.ofd.SetTimes(a, mt))
}

// preopenFD returns the preopened directory behind fd (EBADF for any
// other descriptor).
func (g *Guest) preopenFD(fd uint32) (*dirFD, Errno) {
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return nil, errno
	}
	if d, ok := e.(*dirFD); ok && d.preopen != "" {
		return d, ESUCCESS
	}
	return nil, EBADF
}

// fdPrestatGet is fd_prestat_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_prestat_getfd-fd---resultprestat-errno
func fdPrestatGet(g *Guest, m api.Memory, p []uint64) Errno {
	fd, prestatPtr := u32(p[0]), u32(p[1])
	d, errno := g.preopenFD(fd)
	if errno != ESUCCESS {
		return errno
	}
	b, ok := memRead(m, prestatPtr, prestatSize)
	if !ok {
		return EFAULT
	}
	clear(b)
	put32(b[4:], uint32(len(d.preopen)))
	return ESUCCESS
}

// fdPrestatDirName is fd_prestat_dir_name: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_prestat_dir_namefd-fd-path-pointeru8-path_len-size---result-errno
func fdPrestatDirName(g *Guest, m api.Memory, p []uint64) Errno {
	fd, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2])
	d, errno := g.preopenFD(fd)
	if errno != ESUCCESS {
		return errno
	}
	if pathLen < uint32(len(d.preopen)) {
		return ENAMETOOLONG
	}
	b, ok := memRead(m, pathPtr, uint32(len(d.preopen)))
	if !ok {
		return EFAULT
	}
	copy(b, d.preopen)
	return ESUCCESS
}

// readFile reads into the iovecs at off; it returns the bytes read.
func readFile(ofd *vfs.OFD, iov [][]byte, off int64) (uint32, Errno) {
	total := uint32(0)
	for _, b := range iov {
		if len(b) == 0 {
			continue
		}
		n, err := ofd.ReadAt(b, off)
		if err != nil {
			if total > 0 {
				break
			}
			return 0, ToErrno(err)
		}
		total += uint32(n)
		off += int64(n)
		if n < len(b) {
			break
		}
	}
	return total, ESUCCESS
}

// writeFile writes the iovecs at off (or appends); it returns the bytes
// written.
func writeFile(ofd *vfs.OFD, iov [][]byte, off int64, appendMode bool) (uint32, Errno) {
	total := uint32(0)
	for _, b := range iov {
		var n int
		var err error
		if appendMode {
			n, err = ofd.Append(b)
		} else {
			n, err = ofd.WriteAt(b, off)
		}
		if err != nil {
			if total > 0 {
				break
			}
			return 0, ToErrno(err)
		}
		total += uint32(n)
		off += int64(n)
	}
	return total, ESUCCESS
}

// readIOV is fd_read (at the descriptor's offset) and fd_pread (at off,
// positional) on any kind of descriptor.
func (g *Guest) readIOV(fd uint32, m api.Memory, iovPtr, iovLen uint32, off int64, positional bool) (uint32, Errno) {
	e, errno := g.entry(fd, rightFdRead)
	if errno != ESUCCESS {
		return 0, errno
	}
	iov, errno := iovecs(m, iovPtr, iovLen, nil)
	if errno != ESUCCESS {
		return 0, errno
	}
	switch e := e.(type) {
	case *stdioFD:
		if e.stream != 0 {
			return 0, EBADF
		}
		if positional {
			return 0, ESPIPE
		}
		return g.readStdin(iov)
	case *sockFD:
		if positional {
			return 0, ESPIPE
		}
		n, _, errno := g.recv(e, iov, 0)
		return n, errno
	case *dirFD:
		return 0, EISDIR
	case *fileFD:
		if !positional {
			off = e.pos
		} else if off < 0 {
			return 0, EINVAL
		}
		n, errno := readFile(e.ofd, iov, off)
		if !positional {
			e.pos += int64(n)
		}
		return n, errno
	}
	return 0, EBADF
}

// writeIOV is fd_write (at the descriptor's offset, or appending) and
// fd_pwrite (at off, positional) on any kind of descriptor.
func (g *Guest) writeIOV(fd uint32, m api.Memory, iovPtr, iovLen uint32, off int64, positional bool) (uint32, Errno) {
	e, errno := g.entry(fd, rightFdWrite)
	if errno != ESUCCESS {
		return 0, errno
	}
	iov, errno := iovecs(m, iovPtr, iovLen, nil)
	if errno != ESUCCESS {
		return 0, errno
	}
	switch e := e.(type) {
	case *stdioFD:
		if e.stream == 0 {
			return 0, EBADF
		}
		if positional {
			return 0, ESPIPE
		}
		return g.writeStdio(e.stream, iov)
	case *sockFD:
		if positional {
			return 0, ESPIPE
		}
		return g.send(e, iov)
	case *dirFD:
		return 0, EISDIR
	case *fileFD:
		if positional {
			if off < 0 {
				return 0, EINVAL
			}
			return writeFile(e.ofd, iov, off, false)
		}
		appendMode := e.flags&fdflagAppend != 0
		n, errno := writeFile(e.ofd, iov, e.pos, appendMode)
		if appendMode && n > 0 {
			if st, err := e.ofd.Stat(); err == nil {
				e.pos = int64(st.Size)
			}
		} else {
			e.pos += int64(n)
		}
		return n, errno
	}
	return 0, EBADF
}

// fdRead is fd_read: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_readfd-fd-iovs-iovec_array---resultsize-errno
func fdRead(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, nreadPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3])
	n, errno := g.readIOV(fd, m, iovs, iovsLen, 0, false)
	if errno != ESUCCESS {
		return errno
	}
	return putU32(m, nreadPtr, n)
}

// fdPread is fd_pread: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_preadfd-fd-iovs-iovec_array-offset-filesize---resultsize-errno
func fdPread(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, offset, nreadPtr := u32(p[0]), u32(p[1]), u32(p[2]), int64(p[3]), u32(p[4])
	n, errno := g.readIOV(fd, m, iovs, iovsLen, offset, true)
	if errno != ESUCCESS {
		return errno
	}
	return putU32(m, nreadPtr, n)
}

// fdWrite is fd_write: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_writefd-fd-iovs-ciovec_array---resultsize-errno
func fdWrite(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, nwrittenPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3])
	n, errno := g.writeIOV(fd, m, iovs, iovsLen, 0, false)
	if errno != ESUCCESS {
		return errno
	}
	return putU32(m, nwrittenPtr, n)
}

// fdPwrite is fd_pwrite: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_pwritefd-fd-iovs-ciovec_array-offset-filesize---resultsize-errno
func fdPwrite(g *Guest, m api.Memory, p []uint64) Errno {
	fd, iovs, iovsLen, offset, nwrittenPtr := u32(p[0]), u32(p[1]), u32(p[2]), int64(p[3]), u32(p[4])
	n, errno := g.writeIOV(fd, m, iovs, iovsLen, offset, true)
	if errno != ESUCCESS {
		return errno
	}
	return putU32(m, nwrittenPtr, n)
}

// fdReaddir is fd_readdir: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_readdirfd-fd-buf-pointeru8-buf_len-size-cookie-dircookie---resultsize-errno
//
// Entries are ".", ".." and then the directory's entries as vfs lists
// them (sorted, or shuffled with ShuffleReaddir); the cookie of an entry
// is its index + 1. Cookie 0 takes a fresh snapshot of the directory; a
// later cookie continues the snapshot of the descriptor, so one listing is
// consistent even when vfs shuffles. An entry that does not fit is
// truncated, so bufused == buf_len tells the guest to call again, as the
// spec describes.
func fdReaddir(g *Guest, m api.Memory, p []uint64) Errno {
	fd, bufPtr, bufLen, cookie, usedPtr := u32(p[0]), u32(p[1]), u32(p[2]), p[3], u32(p[4])
	o, errno := g.openFD(fd, rightFdReaddir, ENOTDIR)
	if errno != ESUCCESS {
		return errno
	}
	buf, ok := memRead(m, bufPtr, bufLen)
	if !ok {
		return EFAULT
	}
	if _, ok := memRead(m, usedPtr, 4); !ok {
		return EFAULT
	}
	d, ok := g.fds.fds[fd].(*dirFD)
	if !ok {
		_, err := o.ofd.ReadDirectory() // not a directory: vfs says so
		return ToErrno(err)
	}
	if cookie == 0 || d.snap == nil {
		snap, err := d.ofd.ReadDirectory()
		if err != nil {
			return ToErrno(err)
		}
		d.snap = snap
	}
	self, err := d.ofd.Stat()
	if err != nil {
		return ToErrno(err)
	}
	total := uint64(len(d.snap)) + 2
	used := uint32(0)
	var hdr [direntSize]byte
	for i := cookie; i < total && used < bufLen; i++ {
		var name string
		var typ uint8
		var ino uint64
		switch i {
		case 0:
			name, typ, ino = ".", filetypeDirectory, self.Inode
		case 1:
			name, typ, ino = "..", filetypeDirectory, self.Inode
			if st, err := d.ofd.StatAt(0, ".."); err == nil {
				ino = st.Inode
			}
		default:
			de := d.snap[i-2]
			name, typ = de.Name, fileType(de.Type)
			if st, err := d.ofd.StatAt(0, de.Name); err == nil {
				ino = st.Inode
			}
		}
		put64(hdr[0:], i+1)
		put64(hdr[8:], ino)
		put32(hdr[16:], uint32(len(name)))
		hdr[20], hdr[21], hdr[22], hdr[23] = typ, 0, 0, 0
		used += uint32(copy(buf[used:], hdr[:]))
		used += uint32(copy(buf[used:], name))
	}
	return putU32(m, usedPtr, used)
}

// fdRenumber is fd_renumber: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_renumberfd-fd-to-fd---result-errno
func fdRenumber(g *Guest, m api.Memory, p []uint64) Errno {
	from, to := u32(p[0]), u32(p[1])
	if _, errno := g.fds.get(from); errno != ESUCCESS {
		return errno
	}
	if _, errno := g.fds.get(to); errno != ESUCCESS {
		return errno
	}
	if from == to {
		return ESUCCESS
	}
	e := g.fds.remove(from)
	old := g.fds.fds[to]
	g.fds.fds[to] = e
	old.close()
	return ESUCCESS
}

// fdSeek is fd_seek: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_seekfd-fd-offset-filedelta-whence-whence---resultfilesize-errno
func fdSeek(g *Guest, m api.Memory, p []uint64) Errno {
	fd, offset, whence, newOffsetPtr := u32(p[0]), int64(p[1]), u32(p[2]), u32(p[3])
	e, errno := g.fds.get(fd)
	if errno != ESUCCESS {
		return errno
	}
	// A seek of 0 from the current position is a tell: either right does.
	st := e.state()
	if offset == 0 && whence == whenceCur {
		if st.dropped&rightFdTell != 0 && st.dropped&rightFdSeek != 0 {
			return ENOTCAPABLE
		}
	} else if errno := st.need(rightFdSeek); errno != ESUCCESS {
		return errno
	}
	f, errno := seekable(e)
	if errno != ESUCCESS {
		return errno
	}
	if _, ok := memRead(m, newOffsetPtr, 8); !ok {
		return EFAULT
	}
	var base int64
	switch whence {
	case whenceSet:
	case whenceCur:
		base = f.pos
	case whenceEnd:
		st, err := f.ofd.Stat()
		if err != nil {
			return ToErrno(err)
		}
		base = int64(st.Size)
	default:
		return EINVAL
	}
	n := base + offset
	if (offset > 0 && n < base) || n < 0 {
		return EINVAL
	}
	f.pos = n
	return putU64(m, newOffsetPtr, uint64(n))
}

// seekable is the file of fd_seek and fd_tell: stdio and sockets are
// ESPIPE; a directory is EISDIR (wasi-testsuite dir_fd_op_failures: POSIX
// lseek would succeed).
func seekable(e fdEntry) (*fileFD, Errno) {
	switch e := e.(type) {
	case *fileFD:
		return e, ESUCCESS
	case *dirFD:
		return nil, EISDIR
	}
	return nil, ESPIPE
}

// fdTell is fd_tell: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_tellfd-fd---resultfilesize-errno
func fdTell(g *Guest, m api.Memory, p []uint64) Errno {
	fd, offsetPtr := u32(p[0]), u32(p[1])
	e, errno := g.entry(fd, rightFdTell)
	if errno != ESUCCESS {
		return errno
	}
	f, errno := seekable(e)
	if errno != ESUCCESS {
		return errno
	}
	return putU64(m, offsetPtr, uint64(f.pos))
}

// pathCreateDirectory is path_create_directory: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_create_directoryfd-fd-path-string---result-errno
func pathCreateDirectory(g *Guest, m api.Memory, p []uint64) Errno {
	fd, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2])
	d, errno := g.dirFD(fd, rightPathCreateDirectory)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(d.ofd.CreateDirectoryAt(path))
}

func pathFlags(v uint32) vfs.PathFlags {
	if v&lookupSymlinkFollow != 0 {
		return vfs.SymlinkFollow
	}
	return 0
}

// pathFilestatGet is path_filestat_get: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_filestat_getfd-fd-flags-lookupflags-path-string---resultfilestat-errno
func pathFilestatGet(g *Guest, m api.Memory, p []uint64) Errno {
	fd, flags, pathPtr, pathLen, statPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	d, errno := g.dirFD(fd, rightPathFilestatGet)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	if _, ok := memRead(m, statPtr, filestatSize); !ok {
		return EFAULT
	}
	st, err := d.ofd.StatAt(pathFlags(flags), path)
	if err != nil {
		return ToErrno(err)
	}
	return putFilestat(m, statPtr, st, fileType(st.Type))
}

// pathFilestatSetTimes is path_filestat_set_times: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_filestat_set_timesfd-fd-flags-lookupflags-path-string-atim-timestamp-mtim-timestamp-fst_flags-fstflags---result-errno
func pathFilestatSetTimes(g *Guest, m api.Memory, p []uint64) Errno {
	fd, flags, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3])
	atim, mtim, fstFlags := p[4], p[5], u32(p[6])
	d, errno := g.dirFD(fd, rightPathFilestatSetTimes)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	a, mt, errno := newTimes(atim, mtim, fstFlags)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(d.ofd.SetTimesAt(pathFlags(flags), path, a, mt))
}

// pathLink is path_link: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_linkold_fd-fd-old_flags-lookupflags-old_path-string-new_fd-fd-new_path-string---result-errno
func pathLink(g *Guest, m api.Memory, p []uint64) Errno {
	oldFD, oldFlags, oldPathPtr, oldPathLen := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3])
	newFD, newPathPtr, newPathLen := u32(p[4]), u32(p[5]), u32(p[6])
	od, errno := g.dirFD(oldFD, rightPathLinkSource)
	if errno != ESUCCESS {
		return errno
	}
	nd, errno := g.dirFD(newFD, rightPathLinkTarget)
	if errno != ESUCCESS {
		return errno
	}
	oldPath, errno := memString(m, oldPathPtr, oldPathLen)
	if errno != ESUCCESS {
		return errno
	}
	newPath, errno := memString(m, newPathPtr, newPathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(od.ofd.LinkAt(pathFlags(oldFlags), oldPath, nd.ofd, newPath))
}

// pathOpen is path_open: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_openfd-fd-dirflags-lookupflags-path-string-oflags-oflags-fs_rights_base-rights-fs_rights_inheriting-rights-fdflags-fdflags---resultfd-errno
//
// The access mode of the new open file description comes from the
// requested rights: FD_READ or FD_READDIR ask for read; FD_WRITE or the
// append fdflag for write. Other write-like rights (FD_DATASYNC,
// FD_ALLOCATE, FD_FILESTAT_SET_SIZE) do not, because wasi-testsuite opens
// directories with some of them and Go's runtime asks for
// FD_FILESTAT_SET_SIZE with O_RDONLY. Rights missing from the directory's
// inheriting rights are not requested. The new descriptor reports the
// requested rights masked by its type and by the directory's inheriting
// rights.
func pathOpen(g *Guest, m api.Memory, p []uint64) Errno {
	fd, dirflags, pathPtr, pathLen, oflags := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	base, inh, fdflags, resPtr := p[5], p[6], u32(p[7]), u32(p[8])
	d, errno := g.dirFD(fd, rightPathOpen)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	if _, ok := memRead(m, resPtr, 4); !ok {
		return EFAULT
	}
	if oflags&^uint32(oflagCreat|oflagDirectory|oflagExcl|oflagTrunc) != 0 ||
		fdflags&^uint32(fdflagAppend|fdflagDsync|fdflagNonblock|fdflagRsync|fdflagSync) != 0 {
		return EINVAL
	}
	if oflags&oflagCreat != 0 {
		if errno := d.need(rightPathCreateFile); errno != ESUCCESS {
			return errno
		}
	}
	var of vfs.OpenFlags
	if oflags&oflagCreat != 0 {
		of |= vfs.OpenCreate
	}
	if oflags&oflagDirectory != 0 {
		of |= vfs.OpenDirectory
	}
	if oflags&oflagExcl != 0 {
		of |= vfs.OpenExclusive
	}
	if oflags&oflagTrunc != 0 {
		of |= vfs.OpenTruncate
	}
	// Rights the directory cannot pass on are not granted.
	parentInh := d.inh &^ d.dropped
	base &= parentInh
	var df vfs.DescFlags
	if base&(rightFdRead|rightFdReaddir) != 0 {
		df |= vfs.Read
	}
	if base&rightFdWrite != 0 || fdflags&uint32(fdflagAppend) != 0 {
		df |= vfs.Write
	}
	if d.ofd.Flags()&vfs.MutateDirectory != 0 {
		df |= vfs.MutateDirectory
	}
	ofd, err := d.ofd.OpenAt(pathFlags(dirflags), path, of, df)
	if err != nil {
		return ToErrno(err)
	}
	rights := fileRights
	if ofd.Type() == vfs.TypeDirectory {
		rights = dirRights
	}
	return g.install(m, g.newOFDEntry(ofd, fdState{flags: uint16(fdflags), base: base & rights, inh: inh & parentInh}, ""), resPtr)
}

// pathReadlink is path_readlink: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_readlinkfd-fd-path-string-buf-pointeru8-buf_len-size---resultsize-errno
func pathReadlink(g *Guest, m api.Memory, p []uint64) Errno {
	fd, pathPtr, pathLen, bufPtr, bufLen, usedPtr := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4]), u32(p[5])
	d, errno := g.dirFD(fd, rightPathReadlink)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	buf, ok := memRead(m, bufPtr, bufLen)
	if !ok {
		return EFAULT
	}
	if _, ok := memRead(m, usedPtr, 4); !ok {
		return EFAULT
	}
	target, err := d.ofd.ReadlinkAt(path)
	if err != nil {
		return ToErrno(err)
	}
	n := copy(buf, target)
	return putU32(m, usedPtr, uint32(n))
}

// pathRemoveDirectory is path_remove_directory: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_remove_directoryfd-fd-path-string---result-errno
func pathRemoveDirectory(g *Guest, m api.Memory, p []uint64) Errno {
	fd, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2])
	d, errno := g.dirFD(fd, rightPathRemoveDirectory)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(d.ofd.RemoveDirectoryAt(path))
}

// pathRename is path_rename: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_renamefd-fd-old_path-string-new_fd-fd-new_path-string---result-errno
func pathRename(g *Guest, m api.Memory, p []uint64) Errno {
	oldFD, oldPathPtr, oldPathLen := u32(p[0]), u32(p[1]), u32(p[2])
	newFD, newPathPtr, newPathLen := u32(p[3]), u32(p[4]), u32(p[5])
	od, errno := g.dirFD(oldFD, rightPathRenameSource)
	if errno != ESUCCESS {
		return errno
	}
	nd, errno := g.dirFD(newFD, rightPathRenameTarget)
	if errno != ESUCCESS {
		return errno
	}
	oldPath, errno := memString(m, oldPathPtr, oldPathLen)
	if errno != ESUCCESS {
		return errno
	}
	newPath, errno := memString(m, newPathPtr, newPathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(od.ofd.RenameAt(oldPath, nd.ofd, newPath))
}

// pathSymlink is path_symlink: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_symlinkold_path-string-fd-fd-new_path-string---result-errno
func pathSymlink(g *Guest, m api.Memory, p []uint64) Errno {
	targetPtr, targetLen, fd, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2]), u32(p[3]), u32(p[4])
	d, errno := g.dirFD(fd, rightPathSymlink)
	if errno != ESUCCESS {
		return errno
	}
	target, errno := memString(m, targetPtr, targetLen)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(d.ofd.SymlinkAt(target, path))
}

// pathUnlinkFile is path_unlink_file: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-path_unlink_filefd-fd-path-string---result-errno
func pathUnlinkFile(g *Guest, m api.Memory, p []uint64) Errno {
	fd, pathPtr, pathLen := u32(p[0]), u32(p[1]), u32(p[2])
	d, errno := g.dirFD(fd, rightPathUnlinkFile)
	if errno != ESUCCESS {
		return errno
	}
	path, errno := memString(m, pathPtr, pathLen)
	if errno != ESUCCESS {
		return errno
	}
	return ToErrno(d.ofd.UnlinkFileAt(path))
}
