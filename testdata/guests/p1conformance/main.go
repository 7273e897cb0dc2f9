//go:build wasip1

// Command p1conformance makes raw preview 1 calls and checks the results
// the WebAssembly/wasi-testsuite wasm32-wasip1 tests expect (fd_readdir,
// renumber, file_seek_tell, file_truncation, path_open_*, path_rename*,
// symlink_*, remove_nonempty_directory, nofollow_errors, readlink,
// fd_fdstat_set_rights, fstflags_validate, close_preopen, poll_oneoff).
// The scratch directory is the preopen at fd 3. It prints "ok <name>" per
// check and exits 1 if any check fails.
package main

import (
	"fmt"
	"os"
	"unsafe"
)

type errno uint32

//go:wasmimport wasi_snapshot_preview1 path_open
func path_open(fd int32, dirflags uint32, path unsafe.Pointer, pathLen uint32, oflags uint32, base, inh uint64, fdflags uint32, res unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_close
func fd_close(fd int32) errno

//go:wasmimport wasi_snapshot_preview1 fd_readdir
func fd_readdir(fd int32, buf unsafe.Pointer, bufLen uint32, cookie uint64, used unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_renumber
func fd_renumber(from, to int32) errno

//go:wasmimport wasi_snapshot_preview1 fd_seek
func fd_seek(fd int32, off int64, whence uint32, res unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_tell
func fd_tell(fd int32, res unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_write
func fd_write(fd int32, iovs unsafe.Pointer, n uint32, res unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_read
func fd_read(fd int32, iovs unsafe.Pointer, n uint32, res unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_filestat_get
func fd_filestat_get(fd int32, buf unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_filestat_set_size
func fd_filestat_set_size(fd int32, size uint64) errno

//go:wasmimport wasi_snapshot_preview1 fd_filestat_set_times
func fd_filestat_set_times(fd int32, atim, mtim uint64, flags uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_filestat_get
func path_filestat_get(fd int32, flags uint32, path unsafe.Pointer, pathLen uint32, buf unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 path_rename
func path_rename(fd int32, old unsafe.Pointer, oldLen uint32, nfd int32, new unsafe.Pointer, newLen uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_unlink_file
func path_unlink_file(fd int32, path unsafe.Pointer, pathLen uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_remove_directory
func path_remove_directory(fd int32, path unsafe.Pointer, pathLen uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_create_directory
func path_create_directory(fd int32, path unsafe.Pointer, pathLen uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_symlink
func path_symlink(old unsafe.Pointer, oldLen uint32, fd int32, new unsafe.Pointer, newLen uint32) errno

//go:wasmimport wasi_snapshot_preview1 path_readlink
func path_readlink(fd int32, path unsafe.Pointer, pathLen uint32, buf unsafe.Pointer, bufLen uint32, used unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_get
func fd_fdstat_get(fd int32, buf unsafe.Pointer) errno

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_set_rights
func fd_fdstat_set_rights(fd int32, base, inh uint64) errno

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_set_flags
func fd_fdstat_set_flags(fd int32, flags uint32) errno

//go:wasmimport wasi_snapshot_preview1 fd_allocate
func fd_allocate(fd int32, off, n uint64) errno

//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
func fd_prestat_dir_name(fd int32, buf unsafe.Pointer, n uint32) errno

//go:wasmimport wasi_snapshot_preview1 poll_oneoff
func poll_oneoff(in, out unsafe.Pointer, n uint32, nevents unsafe.Pointer) errno

const (
	ESUCCESS     = 0
	EBADF        = 8
	EEXIST       = 20
	EINVAL       = 28
	EISDIR       = 31
	ELOOP        = 32
	ENOENT       = 44
	ENAMETOOLONG = 37
	ENOTDIR      = 54
	ENOTEMPTY    = 55
	EPERM        = 63
	ENOTCAPABLE  = 76

	rightFdRead     = 1 << 1
	rightFdSeek     = 1 << 2
	rightFdTell     = 1 << 5
	rightFdWrite    = 1 << 6
	rightFdReaddir  = 1 << 14
	rightFilestatSz = 1 << 22

	oCreat = 1
	oDir   = 2
	oExcl  = 4
	oTrunc = 8
)

var failed bool

func expect(name string, got errno, want ...errno) {
	if len(want) == 0 {
		want = []errno{ESUCCESS}
	}
	for _, w := range want {
		if got == w {
			fmt.Println("ok", name)
			return
		}
	}
	fmt.Printf("FAIL %s: errno %d, want %v\n", name, got, want)
	failed = true
}

func truth(name string, ok bool, detail ...any) {
	if ok {
		fmt.Println("ok", name)
		return
	}
	fmt.Printf("FAIL %s %v\n", name, detail)
	failed = true
}

func sp(s string) (unsafe.Pointer, uint32) {
	if s == "" {
		return nil, 0
	}
	b := []byte(s)
	return unsafe.Pointer(&b[0]), uint32(len(b))
}

func open(dir int32, path string, oflags uint32, rights uint64, fdflags uint32) (int32, errno) {
	p, n := sp(path)
	var fd int32
	e := path_open(dir, 0, p, n, oflags, rights, rights, fdflags, unsafe.Pointer(&fd))
	return fd, e
}

func openFollow(dir int32, path string, oflags uint32, rights uint64) (int32, errno) {
	p, n := sp(path)
	var fd int32
	e := path_open(dir, 1, p, n, oflags, rights, rights, 0, unsafe.Pointer(&fd))
	return fd, e
}

func mkdir(dir int32, path string) errno { p, n := sp(path); return path_create_directory(dir, p, n) }
func rmdir(dir int32, path string) errno { p, n := sp(path); return path_remove_directory(dir, p, n) }
func unlink(dir int32, path string) errno {
	p, n := sp(path)
	return path_unlink_file(dir, p, n)
}
func rename(dir int32, a, b string) errno {
	pa, na := sp(a)
	pb, nb := sp(b)
	return path_rename(dir, pa, na, dir, pb, nb)
}
func symlink(target string, dir int32, path string) errno {
	pa, na := sp(target)
	pb, nb := sp(path)
	return path_symlink(pa, na, dir, pb, nb)
}

func write(fd int32, b []byte) (uint32, errno) {
	iov := [2]uint32{uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))}
	var n uint32
	e := fd_write(fd, unsafe.Pointer(&iov), 1, unsafe.Pointer(&n))
	return n, e
}

func read(fd int32, b []byte) (uint32, errno) {
	iov := [2]uint32{uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))}
	var n uint32
	e := fd_read(fd, unsafe.Pointer(&iov), 1, unsafe.Pointer(&n))
	return n, e
}

type filestat struct {
	dev, ino uint64
	typ      uint8
	_        [7]byte
	nlink    uint64
	size     uint64
	atim     uint64
	mtim     uint64
	ctim     uint64
}

type dirent struct {
	next uint64
	ino  uint64
	name string
	typ  uint8
}

func readdir(fd int32, cookie uint64, bufLen int) ([]dirent, bool, errno) {
	buf := make([]byte, bufLen)
	var used uint32
	if e := fd_readdir(fd, unsafe.Pointer(&buf[0]), uint32(bufLen), cookie, unsafe.Pointer(&used)); e != 0 {
		return nil, false, e
	}
	b := buf[:used]
	var out []dirent
	for len(b) >= 24 {
		nl := int(uint32(b[16]) | uint32(b[17])<<8 | uint32(b[18])<<16 | uint32(b[19])<<24)
		if len(b) < 24+nl {
			break
		}
		d := dirent{next: le64(b), ino: le64(b[8:]), typ: b[20], name: string(b[24 : 24+nl])}
		out = append(out, d)
		b = b[24+nl:]
	}
	return out, int(used) < bufLen, 0
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func main() {
	const root int32 = 3
	all := uint64(1<<30 - 1)
	var off0 uint64

	// fd_readdir (wasi-testsuite fd_readdir.rs).
	expect("mkdir scratch", mkdir(root, "rd"))
	// The rights wasi-testsuite's create_tmp_dir asks for: no FD_WRITE on
	// a directory.
	dfd, e := openFollow(root, "rd", oDir, all&^rightFdWrite)
	expect("open scratch dir", e)
	var st filestat
	fd_filestat_get(dfd, unsafe.Pointer(&st))
	ents, eof, e := readdir(dfd, 0, 256)
	truth("readdir empty: . and ..", e == 0 && eof && len(ents) == 2 && ents[0].name == "." && ents[1].name == ".." && ents[0].ino == st.ino && ents[0].typ == 3, ents)
	ffd, e := open(dfd, "file", oCreat, rightFdRead|rightFdWrite|rightFdReaddir, 0)
	expect("create file", e)
	var fst filestat
	fd_filestat_get(ffd, unsafe.Pointer(&fst))
	fd_close(ffd)
	ents, _, _ = readdir(dfd, 0, 256)
	truth("readdir file entry", len(ents) == 3 && ents[2].name == "file" && ents[2].typ == 4 && ents[2].ino == fst.ino, ents)
	rest, eof, _ := readdir(dfd, ents[1].next, 256)
	truth("readdir cookie continues", eof && len(rest) == 1 && rest[0].name == "file", rest)
	for i := 0; i < 300; i++ {
		f, _ := open(dfd, fmt.Sprintf("file.%d", i), oCreat, rightFdWrite, 0)
		fd_close(f)
	}
	total, cookie := 0, uint64(0)
	for {
		ds, eof, e := readdir(dfd, cookie, 256)
		if e != 0 {
			break
		}
		total += len(ds)
		if eof {
			break
		}
		cookie = ds[len(ds)-1].next
	}
	truth("readdir lots with small buffer", total == 303, total)
	for i := 0; i < 300; i++ {
		unlink(dfd, fmt.Sprintf("file.%d", i))
	}
	expect("readdir on a file", func() errno {
		f, _ := open(dfd, "file", 0, rightFdRead|rightFdReaddir, 0)
		defer fd_close(f)
		_, _, e := readdir(f, 0, 64)
		return e
	}(), ENOTDIR)

	// dir_fd_op_failures.rs.
	_, e = read(dfd, make([]byte, 8))
	expect("read a directory", e, EISDIR, EBADF, ENOTCAPABLE)
	_, e = write(dfd, make([]byte, 8))
	expect("write a directory", e, EISDIR, EBADF, ENOTCAPABLE)
	expect("seek a directory", fd_seek(dfd, 0, 1, unsafe.Pointer(&off0)), EISDIR, EBADF, ENOTCAPABLE)
	expect("tell a directory", fd_tell(dfd, unsafe.Pointer(&off0)), EISDIR, EBADF, ENOTCAPABLE)
	expect("allocate a directory", fd_allocate(dfd, 0, 1), EISDIR, EBADF, ENOTCAPABLE)
	expect("set size of a directory", fd_filestat_set_size(dfd, 0), EISDIR, EINVAL, EBADF, ENOTCAPABLE)
	expect("prestat name into 0 bytes", fd_prestat_dir_name(root, nil, 0), EINVAL, ENAMETOOLONG)
	nameBuf := make([]byte, 8)
	expect("prestat name into a larger buffer", fd_prestat_dir_name(root, unsafe.Pointer(&nameBuf[0]), 8))
	truth("prestat name", nameBuf[0] == '/', nameBuf)

	// renumber.rs.
	a, _ := open(dfd, "r1", oCreat, rightFdRead|rightFdWrite, 0)
	b, _ := open(dfd, "r2", oCreat, rightFdRead|rightFdWrite, 0)
	expect("renumber", fd_renumber(a, b))
	expect("renumbered source is closed", fd_close(a), EBADF)
	expect("renumber to a closed fd", fd_renumber(b, a), EBADF)
	fd_close(b)

	// file_seek_tell.rs and file_truncation.rs.
	f, _ := open(dfd, "seek", oCreat, rightFdRead|rightFdWrite|rightFdSeek|rightFdTell|rightFilestatSz, 0)
	var off uint64
	fd_tell(f, unsafe.Pointer(&off))
	n, _ := write(f, make([]byte, 100))
	fd_tell(f, unsafe.Pointer(&off))
	truth("write moves offset", n == 100 && off == 100, n, off)
	fd_seek(f, -50, 1, unsafe.Pointer(&off))
	truth("seek cur -50", off == 50, off)
	expect("seek past end", fd_seek(f, 1000, 1, unsafe.Pointer(&off)))
	expect("seek before 0", fd_seek(f, -2000, 1, unsafe.Pointer(&off)), EINVAL)
	fd_seek(f, 0, 0, unsafe.Pointer(&off))
	n, _ = read(f, make([]byte, 100))
	fd_tell(f, unsafe.Pointer(&off))
	truth("read moves offset", n == 100 && off == 100, n, off)
	expect("set size", fd_filestat_set_size(f, 10))
	fd_filestat_get(f, unsafe.Pointer(&fst))
	truth("truncated size", fst.size == 10, fst.size)
	fd_close(f)
	f, e = open(dfd, "seek", oTrunc, rightFdWrite, 0)
	expect("open with O_TRUNC", e)
	fd_filestat_get(f, unsafe.Pointer(&fst))
	truth("O_TRUNC empties", fst.size == 0, fst.size)
	fd_close(f)

	// fstflags_validate.rs.
	f, _ = open(dfd, "seek", 0, rightFdRead|rightFdWrite|1<<23, 0)
	expect("fstflags atim|atim_now", fd_filestat_set_times(f, 0, 0, 1|2), EINVAL)
	expect("fstflags mtim|mtim_now", fd_filestat_set_times(f, 0, 0, 4|8), EINVAL)
	expect("set times", fd_filestat_set_times(f, 1e9, 2e9, 1|4))
	fd_filestat_get(f, unsafe.Pointer(&fst))
	truth("times read back", fst.atim == 1e9 && fst.mtim == 2e9, fst.atim, fst.mtim)

	// fd_fdstat_set_rights.rs: rights can only shrink.
	expect("drop rights", fd_fdstat_set_rights(f, rightFdRead, 0))
	expect("regain rights", fd_fdstat_set_rights(f, rightFdRead|rightFdWrite, 0), ENOTCAPABLE)
	_, e = write(f, []byte("x"))
	expect("write without the right", e, ENOTCAPABLE, EBADF)
	fd_close(f)

	// fd_flags_set.rs: append.
	f, _ = open(dfd, "app", oCreat, rightFdRead|rightFdWrite|rightFdSeek, 0)
	write(f, []byte("0123"))
	expect("set append", fd_fdstat_set_flags(f, 1))
	fd_seek(f, 0, 0, unsafe.Pointer(&off))
	write(f, []byte("45"))
	fd_filestat_get(f, unsafe.Pointer(&fst))
	truth("append writes at end", fst.size == 6, fst.size)
	fd_close(f)

	// path_open_*.rs.
	_, e = open(dfd, "file", oCreat|oExcl, rightFdWrite, 0)
	expect("create exclusive existing", e, EEXIST)
	_, e = open(dfd, "file", oDir, rightFdRead, 0)
	expect("O_DIRECTORY on a file", e, ENOTDIR)
	_, e = open(dfd, "missing", 0, rightFdRead, 0)
	expect("open missing", e, ENOENT)
	_, e = open(ffd+100, "file", 0, rightFdRead, 0)
	expect("open with bad dirfd", e, EBADF)
	f, _ = open(dfd, "file", 0, rightFdRead, 0)
	_, e = open(f, "x", 0, rightFdRead, 0)
	expect("dirfd not a directory", e, ENOTDIR)
	fd_close(f)
	f, e = open(dfd, "file", 0, rightFdRead, 0)
	_, e2 := write(f, []byte("x"))
	expect("write on a read-only fd", e2, EBADF)
	fd_close(f)
	_, e = open(dfd, "../escape", oCreat, rightFdWrite, 0)
	expect("path escaping the preopen", e, EPERM, ENOTCAPABLE)
	_, e = open(dfd, "/abs", 0, rightFdRead, 0)
	expect("absolute path", e, EPERM, ENOTCAPABLE)

	// path_rename*.rs.
	mkdir(dfd, "d1")
	mkdir(dfd, "d2")
	expect("rename dir onto empty dir", rename(dfd, "d1", "d2"))
	expect("rename file onto dir", rename(dfd, "file", "d2"), EISDIR)
	expect("rename dir onto file", rename(dfd, "d2", "file"), ENOTDIR)
	expect("rename file with trailing slash", rename(dfd, "file/", "file2"), ENOTDIR)
	expect("rename dir with trailing slashes", rename(dfd, "d2/", "d3/"))
	expect("rename missing", rename(dfd, "nope", "x"), ENOENT)

	// remove_nonempty_directory.rs, remove_directory_trailing_slashes.rs,
	// unlink_file_trailing_slashes.rs.
	f, _ = open(dfd, "d3/inner", oCreat, rightFdWrite, 0)
	fd_close(f)
	expect("rmdir non-empty", rmdir(dfd, "d3"), ENOTEMPTY)
	expect("unlink a directory", unlink(dfd, "d3"), EISDIR, EPERM)
	expect("unlink file with trailing slash", unlink(dfd, "file/"), ENOTDIR)
	expect("rmdir a file", rmdir(dfd, "file"), ENOTDIR)
	unlink(dfd, "d3/inner")
	expect("rmdir with trailing slash", rmdir(dfd, "d3/"))

	// symlink_*.rs, nofollow_errors.rs, readlink.rs, dangling_symlink.rs.
	expect("symlink", symlink("file", dfd, "link"))
	expect("symlink onto existing", symlink("file", dfd, "link"), EEXIST)
	buf := make([]byte, 2)
	var used uint32
	p, pn := sp("link")
	expect("readlink truncated", path_readlink(dfd, p, pn, unsafe.Pointer(&buf[0]), 2, unsafe.Pointer(&used)))
	truth("readlink truncates", used == 2 && string(buf) == "fi", used, string(buf))
	_, e = open(dfd, "link", 0, rightFdRead, 0)
	expect("open symlink without follow", e, ELOOP, ENOTDIR)
	f, e = openFollow(dfd, "link", 0, rightFdRead)
	expect("open symlink with follow", e)
	fd_close(f)
	var lst filestat
	path_filestat_get(dfd, 0, p, pn, unsafe.Pointer(&lst))
	truth("lstat a symlink", lst.typ == 7, lst.typ)
	symlink("loop2", dfd, "loop1")
	symlink("loop1", dfd, "loop2")
	_, e = openFollow(dfd, "loop1", 0, rightFdRead)
	expect("symlink loop", e, ELOOP)
	symlink("missing", dfd, "dangling")
	_, e = openFollow(dfd, "dangling", 0, rightFdRead)
	expect("dangling symlink", e, ENOENT)
	symlink("/etc/passwd", dfd, "abs")
	_, e = openFollow(dfd, "abs", 0, rightFdRead)
	expect("absolute symlink target", e, EPERM, ENOTCAPABLE)

	// poll_oneoff: a relative clock subscription.
	var sub [48]byte
	sub[0] = 42    // userdata
	sub[8] = 0     // clock
	sub[16] = 1    // monotonic
	sub[24] = 0x40 // timeout 0x40 ns
	sub[25] = 0x42 // … 0x4240 ns
	sub[26] = 0x0f // 1_000_000 ns
	var ev [32]byte
	var nev uint32
	expect("poll clock", poll_oneoff(unsafe.Pointer(&sub), unsafe.Pointer(&ev), 1, unsafe.Pointer(&nev)))
	truth("poll clock event", nev == 1 && ev[0] == 42 && ev[10] == 0, nev, ev[:12])

	// close_preopen.rs: a preopen can be closed; then it is gone.
	fd_close(dfd)
	expect("close preopen", fd_close(root))
	expect("preopen closed", fd_close(root), EBADF)

	if failed {
		os.Exit(1)
	}
	fmt.Println("all ok")
}
