package vfs

import (
	"errors"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// AferoFs adapts an FS to afero.Fs. Names may be absolute ("/a/b") or
// relative ("a/b"); both are taken from the root of the FS after
// path.Clean, so ".." cannot leave the root (as on an OS). Symbolic links
// are followed (LstatIfPossible does not follow the last one). Errors are
// *os.PathError (*os.LinkError for Rename) wrapping, on Unix, the
// syscall.Errno of the ErrorCode (ErrNoEntry becomes ENOENT, ErrNotEmpty
// ENOTEMPTY, ...), because os.IsNotExist and os.IsExist, which afero and
// its users call, recognise errnos but not errors.Is; errors.Is(err,
// fs.ErrNotExist) works as well. vfs has no permission model: Chmod and
// Chown are accepted and ignored, and modes read back as 0644 (files) or
// 0755 (directories).
//
// The temporary directory (os.TempDir(), as named on the host) exists on
// demand, as it always does on an OS: creating a file or directory
// directly in it creates it first, so afero.TempDir and afero.TempFile
// with dir "" work on a fresh tree. Nothing else is created implicitly.
type AferoFs struct {
	root *OFD
}

// NewAferoFs returns an afero.Fs over the whole tree of f.
func NewAferoFs(f *FS) *AferoFs {
	return &AferoFs{root: f.internalRoot(Read | MutateDirectory)}
}

var (
	_ afero.Fs        = (*AferoFs)(nil)
	_ afero.Lstater   = (*AferoFs)(nil)
	_ afero.File      = (*aferoFile)(nil)
	_ io.StringWriter = (*aferoFile)(nil)
)

// rel turns an afero name into a path relative to the root.
func rel(name string) string {
	p := strings.TrimLeft(path.Clean("/"+name), "/")
	if p == "" {
		return "."
	}
	return p
}

// Name is "vfs".
func (a *AferoFs) Name() string { return "vfs" }

// Create creates or truncates name for reading and writing.
func (a *AferoFs) Create(name string) (afero.File, error) {
	return a.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open opens name for reading.
func (a *AferoFs) Open(name string) (afero.File, error) {
	return a.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens name with os.O_* flags: O_RDONLY, O_WRONLY, O_RDWR,
// O_CREATE, O_EXCL, O_TRUNC and O_APPEND (every Write then appends
// atomically). perm is ignored.
func (a *AferoFs) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	var df DescFlags
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		df = Read
	case os.O_WRONLY:
		df = Write
	default:
		df = Read | Write
	}
	var of OpenFlags
	if flag&os.O_CREATE != 0 {
		of |= OpenCreate
		if flag&os.O_EXCL != 0 {
			of |= OpenExclusive
		}
	}
	if flag&os.O_TRUNC != 0 {
		of |= OpenTruncate
	}
	if flag&os.O_CREATE != 0 {
		a.tempParent(name)
	}
	d, err := a.root.OpenAt(SymlinkFollow, rel(name), of, df)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: osError(err)}
	}
	return &aferoFile{ofd: d, name: name, append: flag&os.O_APPEND != 0,
		writable: flag&(os.O_WRONLY|os.O_RDWR) != 0}, nil
}

// tempParent creates the temporary directory when name is directly in it
// and it is missing. An error is left for the creation of name to report.
func (a *AferoFs) tempParent(name string) {
	tmp := rel(os.TempDir())
	if tmp == "." || path.Dir(rel(name)) != tmp {
		return
	}
	if _, err := a.root.StatAt(SymlinkFollow, tmp); errors.Is(err, ErrNoEntry) {
		a.MkdirAll(tmp, 0o777) //nolint:errcheck // the caller's create reports the failure
	}
}

// Mkdir creates a directory.
func (a *AferoFs) Mkdir(name string, _ os.FileMode) error {
	a.tempParent(name)
	if err := a.root.CreateDirectoryAt(rel(name)); err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: osError(err)}
	}
	return nil
}

// MkdirAll creates a directory and any missing parents.
func (a *AferoFs) MkdirAll(name string, _ os.FileMode) error {
	p := rel(name)
	if p == "." {
		return nil
	}
	parts := strings.Split(p, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		err := a.root.CreateDirectoryAt(sub)
		if err == nil {
			continue
		}
		if errors.Is(err, ErrExist) {
			if st, serr := a.root.StatAt(SymlinkFollow, sub); serr == nil && st.Type == TypeDirectory {
				continue
			}
			err = ErrNotDirectory
		}
		return &os.PathError{Op: "mkdir", Path: name, Err: osError(err)}
	}
	return nil
}

// Remove removes a file or an empty directory.
func (a *AferoFs) Remove(name string) error {
	p := rel(name)
	st, err := a.root.StatAt(0, p)
	if err == nil {
		if st.Type == TypeDirectory {
			err = a.root.RemoveDirectoryAt(p)
		} else {
			err = a.root.UnlinkFileAt(p)
		}
	}
	if err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: osError(err)}
	}
	return nil
}

// RemoveAll removes name and everything under it; a missing name is not
// an error.
func (a *AferoFs) RemoveAll(name string) error {
	p := rel(name)
	if err := a.removeAll(p); err != nil && !errors.Is(err, ErrNoEntry) {
		return &os.PathError{Op: "removeall", Path: name, Err: osError(err)}
	}
	return nil
}

func (a *AferoFs) removeAll(p string) error {
	st, err := a.root.StatAt(0, p)
	if err != nil {
		return err
	}
	if st.Type != TypeDirectory {
		return a.root.UnlinkFileAt(p)
	}
	if p == "." {
		return ErrInvalid
	}
	d, err := a.root.OpenAt(0, p, OpenDirectory, Read)
	if err != nil {
		return err
	}
	ents, err := d.ReadDirectory()
	d.DecRef()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := a.removeAll(p + "/" + e.Name); err != nil && !errors.Is(err, ErrNoEntry) {
			return err
		}
	}
	return a.root.RemoveDirectoryAt(p)
}

// Rename moves oldname to newname, replacing a file. As os.Rename, it
// refuses to replace a directory (EEXIST), even with itself, where the
// kernel would replace an empty one.
func (a *AferoFs) Rename(oldname, newname string) error {
	if st, err := a.root.StatAt(0, rel(newname)); err == nil && st.Type == TypeDirectory {
		var err error = ErrExist
		if _, oerr := a.root.StatAt(0, rel(oldname)); oerr != nil {
			err = oerr // os.Rename reports a bad old name first
		}
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: osError(err)}
	}
	if err := a.root.RenameAt(rel(oldname), a.root, rel(newname)); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: osError(err)}
	}
	return nil
}

// Stat returns the FileInfo of name, following symbolic links.
func (a *AferoFs) Stat(name string) (os.FileInfo, error) {
	return a.stat("stat", name, SymlinkFollow)
}

// LstatIfPossible is Stat without following a symbolic link in the last
// component; it reports true.
func (a *AferoFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := a.stat("lstat", name, 0)
	return fi, true, err
}

func (a *AferoFs) stat(op, name string, pf PathFlags) (os.FileInfo, error) {
	p := rel(name)
	st, err := a.root.StatAt(pf, p)
	if err != nil {
		return nil, &os.PathError{Op: op, Path: name, Err: osError(err)}
	}
	return &fileInfo{name: baseName(p), st: st}, nil
}

// Chmod is accepted and ignored (no permission model), after checking
// that name exists.
func (a *AferoFs) Chmod(name string, _ os.FileMode) error {
	_, err := a.stat("chmod", name, SymlinkFollow)
	return err
}

// Chown is accepted and ignored (no ownership model), after checking that
// name exists.
func (a *AferoFs) Chown(name string, _, _ int) error {
	_, err := a.stat("chown", name, SymlinkFollow)
	return err
}

// Chtimes sets the access and modification times of name.
func (a *AferoFs) Chtimes(name string, atime, mtime time.Time) error {
	err := a.root.SetTimesAt(SymlinkFollow, rel(name),
		NewTimestamp{Kind: Timestamp, Time: atime}, NewTimestamp{Kind: Timestamp, Time: mtime})
	if err != nil {
		return &os.PathError{Op: "chtimes", Path: name, Err: osError(err)}
	}
	return nil
}

// aferoFile is an afero.File: an OFD plus a position, like an os.File,
// and with its errors: the access mode is the one asked for (vfs opens a
// file it creates for writing; an os.File opened O_RDONLY|O_CREATE is
// still read-only), and zero-length calls behave as package os makes them.
type aferoFile struct {
	ofd      *OFD
	name     string
	off      int64
	append   bool
	writable bool       // opened O_WRONLY or O_RDWR
	dir      []DirEntry // remaining listing, read at the first Readdir
	listed   bool
	closed   bool
}

func (f *aferoFile) err(op string, err error) error {
	return &os.PathError{Op: op, Path: f.name, Err: osError(err)}
}

func (f *aferoFile) check(op string) error {
	if f.closed {
		return f.err(op, os.ErrClosed)
	}
	return nil
}

func (f *aferoFile) Name() string { return f.name }

func (f *aferoFile) Close() error {
	if err := f.check("close"); err != nil {
		return err
	}
	f.closed = true
	return f.ofd.DecRef()
}

func (f *aferoFile) Read(p []byte) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil // os.File does not ask the kernel for nothing
	}
	n, err := f.ofd.ReadAt(p, f.off)
	f.off += int64(n)
	if err != nil {
		return n, f.err("read", err)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (f *aferoFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.err("readat", errors.New("negative offset"))
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.ofd.ReadAt(p, off)
	if err != nil {
		return n, f.err("read", err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *aferoFile) Seek(offset int64, whence int) (int64, error) {
	if err := f.check("seek"); err != nil {
		return 0, err
	}
	st, err := f.ofd.Stat()
	if err != nil {
		return 0, f.err("seek", err)
	}
	off, err := seekOffset(f.off, int64(st.Size), offset, whence)
	if err != nil {
		return 0, f.err("seek", err)
	}
	f.off = off
	return off, nil
}

func (f *aferoFile) Write(p []byte) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable {
		return 0, f.err("write", ErrBadDescriptor)
	}
	if f.append {
		n, err := f.ofd.Append(p)
		if err != nil {
			return n, f.err("write", err)
		}
		if st, err := f.ofd.Stat(); err == nil {
			f.off = int64(st.Size)
		}
		return n, nil
	}
	n, err := f.ofd.WriteAt(p, f.off)
	f.off += int64(n)
	if err != nil {
		return n, f.err("write", err)
	}
	return n, nil
}

func (f *aferoFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if f.append {
		return 0, f.err("writeat", errors.New("vfs: WriteAt on a file opened with O_APPEND"))
	}
	if off < 0 {
		return 0, f.err("writeat", errors.New("negative offset"))
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !f.writable {
		return 0, f.err("write", ErrBadDescriptor)
	}
	n, err := f.ofd.WriteAt(p, off)
	if err != nil {
		return n, f.err("write", err)
	}
	return n, nil
}

func (f *aferoFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *aferoFile) Stat() (os.FileInfo, error) {
	if err := f.check("stat"); err != nil {
		return nil, err
	}
	st, err := f.ofd.Stat()
	if err != nil {
		return nil, f.err("stat", err)
	}
	return &fileInfo{name: baseName(f.name), st: st}, nil
}

// baseName is the name os.Stat and os.File.Stat report for name: its
// last element, or "/" for the root.
func baseName(name string) string {
	p := rel(name)
	if p == "." {
		return "/"
	}
	return path.Base(p)
}

func (f *aferoFile) Sync() error {
	if err := f.check("sync"); err != nil {
		return err
	}
	if err := f.ofd.Sync(); err != nil {
		return f.err("sync", err)
	}
	return nil
}

func (f *aferoFile) Truncate(size int64) error {
	if err := f.check("truncate"); err != nil {
		return err
	}
	if !f.writable || size < 0 {
		// Linux's ftruncate: EINVAL for a descriptor not open for
		// writing (a directory never is) and for a negative size.
		return f.err("truncate", ErrInvalid)
	}
	if err := f.ofd.SetSize(size); err != nil {
		return f.err("truncate", err)
	}
	return nil
}

// Readdir behaves as os.File.Readdir: count > 0 returns at most count
// entries and io.EOF when none are left; count <= 0 returns all remaining.
func (f *aferoFile) Readdir(count int) ([]os.FileInfo, error) {
	ents, err := f.next(count)
	if err != nil {
		return nil, err
	}
	out := make([]os.FileInfo, 0, len(ents))
	for _, e := range ents {
		st, err := f.ofd.StatAt(0, e.Name)
		if err != nil {
			continue // removed since the listing
		}
		out = append(out, &fileInfo{name: e.Name, st: st})
	}
	return out, nil
}

// Readdirnames is Readdir returning names only.
func (f *aferoFile) Readdirnames(n int) ([]string, error) {
	ents, err := f.next(n)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name
	}
	return out, nil
}

func (f *aferoFile) next(n int) ([]DirEntry, error) {
	if err := f.check("readdir"); err != nil {
		return nil, err
	}
	if !f.listed {
		ents, err := f.ofd.ReadDirectory()
		if err != nil {
			return nil, f.err("readdir", err)
		}
		f.dir, f.listed = ents, true
	}
	if n <= 0 {
		out := f.dir
		f.dir = nil
		return out, nil
	}
	if len(f.dir) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.dir))
	out := f.dir[:n:n]
	f.dir = f.dir[n:]
	return out, nil
}
