package vfs

import (
	"io"
	"io/fs"
	"path"
	"time"
)

// IOFS is a read-only io/fs view of an FS, rooted at a directory. It
// implements fs.FS, fs.ReadDirFS, fs.StatFS, fs.ReadFileFS and passes
// testing/fstest.TestFS. Names are io/fs names (fs.ValidPath: slash
// separated, unrooted, no "." or ".." elements except the root "."),
// resolved with the same sandboxed resolution as OpenAt, following symbolic
// links. Each open file is an OFD (so it shows in FS.Live until Close).
type IOFS struct {
	base *OFD
}

// IOFS returns an io/fs view of the whole tree.
func (f *FS) IOFS() *IOFS { return &IOFS{base: f.internalRoot(Read)} }

// NewIOFS returns an io/fs view rooted at the directory dir. It does not
// take a reference: dir must stay alive while the view is used.
func NewIOFS(dir *OFD) *IOFS { return &IOFS{base: dir} }

// internalRoot is an OFD on the root used by adapters. It is not counted
// by Live and never released.
func (f *FS) internalRoot(flags DescFlags) *OFD {
	d := &OFD{fs: f, node: f.root, flags: flags, name: "/"}
	d.rc.Init(&f.misuse)
	return d
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens the named file or directory for reading.
func (v *IOFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, pathErr("open", name, fs.ErrInvalid)
	}
	d, err := v.base.OpenAt(SymlinkFollow, name, 0, Read)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &ioFile{ofd: d, name: name}, nil
}

// Stat returns the FileInfo of the named file, following symbolic links.
func (v *IOFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, pathErr("stat", name, fs.ErrInvalid)
	}
	st, err := v.base.StatAt(SymlinkFollow, name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return &fileInfo{name: path.Base(name), st: st}, nil
}

// ReadDir lists the named directory, sorted by name.
func (v *IOFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := v.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.(*ioFile).ReadDir(-1)
}

// ReadFile reads the named file.
func (v *IOFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, pathErr("readfile", name, fs.ErrInvalid)
	}
	d, err := v.base.OpenAt(SymlinkFollow, name, 0, Read)
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	defer d.DecRef()
	st, err := d.Stat()
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	if st.Type == TypeDirectory {
		return nil, pathErr("readfile", name, ErrIsDirectory)
	}
	buf := make([]byte, st.Size)
	n, err := d.ReadAt(buf, 0)
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	return buf[:n], nil
}

// ioFile is an open file of an IOFS: an OFD plus a position.
type ioFile struct {
	ofd    *OFD
	name   string
	off    int64
	ents   []fs.DirEntry // directory listing, read at the first ReadDir
	listed bool
	closed bool
}

func (f *ioFile) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, pathErr("stat", f.name, fs.ErrClosed)
	}
	st, err := f.ofd.Stat()
	if err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return &fileInfo{name: path.Base(f.name), st: st}, nil
}

func (f *ioFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, pathErr("read", f.name, fs.ErrClosed)
	}
	n, err := f.ofd.ReadAt(p, f.off)
	f.off += int64(n)
	if err != nil {
		return n, pathErr("read", f.name, err)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (f *ioFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, pathErr("read", f.name, fs.ErrClosed)
	}
	n, err := f.ofd.ReadAt(p, off)
	if err != nil {
		return n, pathErr("read", f.name, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *ioFile) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, pathErr("seek", f.name, fs.ErrClosed)
	}
	st, err := f.ofd.Stat()
	if err != nil {
		return 0, pathErr("seek", f.name, err)
	}
	off, err := seekOffset(f.off, int64(st.Size), offset, whence)
	if err != nil {
		return 0, pathErr("seek", f.name, err)
	}
	f.off = off
	return off, nil
}

func seekOffset(cur, size, offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += cur
	case io.SeekEnd:
		offset += size
	default:
		return 0, ErrInvalid
	}
	if offset < 0 {
		return 0, ErrInvalid
	}
	return offset, nil
}

func (f *ioFile) Close() error {
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return f.ofd.DecRef()
}

// ReadDir implements fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end; n <= 0 returns the rest.
func (f *ioFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.closed {
		return nil, pathErr("readdir", f.name, fs.ErrClosed)
	}
	if !f.listed {
		ents, err := f.ofd.ReadDirectory()
		if err != nil {
			return nil, pathErr("readdir", f.name, err)
		}
		f.ents = make([]fs.DirEntry, 0, len(ents))
		for _, e := range ents {
			st, err := f.ofd.StatAt(0, e.Name)
			if err != nil {
				continue // removed since the listing
			}
			f.ents = append(f.ents, &dirEntry{fileInfo{name: e.Name, st: st}})
		}
		f.listed = true
	}
	if n <= 0 {
		out := f.ents
		f.ents = nil
		return out, nil
	}
	if len(f.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.ents))
	out := f.ents[:n:n]
	f.ents = f.ents[n:]
	return out, nil
}

// fileInfo is an fs.FileInfo (and os.FileInfo) built from a Stat. Sys
// returns the Stat.
type fileInfo struct {
	name string
	st   Stat
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return int64(i.st.Size) }
func (i *fileInfo) Mode() fs.FileMode  { return modeOf(i.st.Type) }
func (i *fileInfo) ModTime() time.Time { return i.st.Mtime }
func (i *fileInfo) IsDir() bool        { return i.st.Type == TypeDirectory }
func (i *fileInfo) Sys() any           { return i.st }

// modeOf maps a descriptor type to a FileMode. vfs has no permission
// model: directories report 0755, symlinks 0777 and files 0644.
func modeOf(t DescType) fs.FileMode {
	switch t {
	case TypeDirectory:
		return fs.ModeDir | 0o755
	case TypeSymbolicLink:
		return fs.ModeSymlink | 0o777
	}
	return 0o644
}

type dirEntry struct{ info fileInfo }

func (e *dirEntry) Name() string               { return e.info.name }
func (e *dirEntry) IsDir() bool                { return e.info.IsDir() }
func (e *dirEntry) Type() fs.FileMode          { return e.info.Mode().Type() }
func (e *dirEntry) Info() (fs.FileInfo, error) { return &e.info, nil }
func (e *dirEntry) String() string             { return fs.FormatDirEntry(e) }

var (
	_ fs.ReadDirFS   = (*IOFS)(nil)
	_ fs.StatFS      = (*IOFS)(nil)
	_ fs.ReadFileFS  = (*IOFS)(nil)
	_ fs.ReadDirFile = (*ioFile)(nil)
	_ io.ReaderAt    = (*ioFile)(nil)
	_ io.Seeker      = (*ioFile)(nil)
)
