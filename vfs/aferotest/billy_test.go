package aferotest_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/util"
	"github.com/spf13/afero"
)

// billyFs is an afero.Fs over a go-billy filesystem: the small adapter a
// user of go-billy would write to run TestFs. billy has no Mkdir, cannot
// open a directory and lists directories by name, so the adapter makes
// those from what billy has; everything else is billy's own behaviour.
type billyFs struct{ fs billy.Filesystem }

func (b billyFs) Name() string { return "billy" }

func (b billyFs) Create(name string) (afero.File, error) {
	return b.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (b billyFs) Open(name string) (afero.File, error) { return b.OpenFile(name, os.O_RDONLY, 0) }

func (b billyFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if fi, err := b.fs.Stat(name); err == nil && fi.IsDir() {
		if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) != 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
		}
		return &billyDir{fs: b.fs, name: name}, nil
	}
	f, err := b.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &billyFile{File: f, fs: b.fs, name: name}, nil
}

// Mkdir is MkdirAll once the parent is known to be a directory and name
// not to exist.
func (b billyFs) Mkdir(name string, perm os.FileMode) error {
	if _, err := b.fs.Stat(name); err == nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: syscall.EEXIST}
	}
	if dir := path.Dir(path.Clean("/" + name)); dir != "/" {
		fi, err := b.fs.Stat(dir)
		if err != nil {
			return &os.PathError{Op: "mkdir", Path: name, Err: syscall.ENOENT}
		}
		if !fi.IsDir() {
			return &os.PathError{Op: "mkdir", Path: name, Err: syscall.ENOTDIR}
		}
	}
	return b.fs.MkdirAll(name, perm)
}

func (b billyFs) MkdirAll(name string, perm os.FileMode) error { return b.fs.MkdirAll(name, perm) }
func (b billyFs) Remove(name string) error                     { return b.fs.Remove(name) }
func (b billyFs) RemoveAll(name string) error                  { return util.RemoveAll(b.fs, name) }
func (b billyFs) Rename(oldname, newname string) error         { return b.fs.Rename(oldname, newname) }
func (b billyFs) Stat(name string) (os.FileInfo, error)        { return b.fs.Stat(name) }

func (b billyFs) Chmod(name string, mode os.FileMode) error {
	if c, ok := b.fs.(billy.Chmod); ok {
		return c.Chmod(name, mode)
	}
	return errors.ErrUnsupported
}

func (b billyFs) Chown(string, int, int) error { return errors.ErrUnsupported }

func (b billyFs) Chtimes(name string, atime, mtime time.Time) error {
	if c, ok := b.fs.(billy.Change); ok {
		return c.Chtimes(name, atime, mtime)
	}
	return errors.ErrUnsupported
}

// billyFile is an open billy file with the afero.File methods billy
// leaves out.
type billyFile struct {
	billy.File
	fs     billy.Filesystem
	name   string
	closed bool
}

func (f *billyFile) err(op string, err error) error {
	return &os.PathError{Op: op, Path: f.name, Err: err}
}

func (f *billyFile) Close() error {
	f.closed = true
	return f.File.Close()
}

func (f *billyFile) WriteAt(p []byte, off int64) (int, error) {
	if w, ok := f.File.(io.WriterAt); ok {
		return w.WriteAt(p, off)
	}
	return 0, errors.ErrUnsupported
}

func (f *billyFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *billyFile) Sync() error {
	if f.closed {
		return f.err("sync", fs.ErrClosed)
	}
	return nil
}

func (f *billyFile) Stat() (os.FileInfo, error) {
	if f.closed {
		return nil, f.err("stat", fs.ErrClosed)
	}
	return f.fs.Stat(f.name)
}

func (f *billyFile) Readdir(int) ([]os.FileInfo, error) {
	if f.closed {
		return nil, f.err("readdir", fs.ErrClosed)
	}
	return nil, f.err("readdir", syscall.ENOTDIR)
}

func (f *billyFile) Readdirnames(n int) ([]string, error) {
	_, err := f.Readdir(n)
	return nil, err
}

// billyDir is an open directory: a listing read at the first Readdir.
type billyDir struct {
	fs     billy.Filesystem
	name   string
	list   []os.FileInfo
	listed bool
	closed bool
}

func (d *billyDir) err(op string, err error) error {
	return &os.PathError{Op: op, Path: d.name, Err: err}
}

func (d *billyDir) Close() error {
	if d.closed {
		return d.err("close", fs.ErrClosed)
	}
	d.closed = true
	return nil
}

// fail is err(op, e), or fs.ErrClosed once the directory is closed.
func (d *billyDir) fail(op string, e error) error {
	if d.closed {
		return d.err(op, fs.ErrClosed)
	}
	return d.err(op, e)
}

func (d *billyDir) Read(p []byte) (int, error) {
	if len(p) == 0 && !d.closed {
		return 0, nil
	}
	return 0, d.fail("read", syscall.EISDIR)
}

func (d *billyDir) ReadAt(p []byte, _ int64) (int, error) {
	if len(p) == 0 && !d.closed {
		return 0, nil
	}
	return 0, d.fail("read", syscall.EISDIR)
}

// Seek keeps no offset: the kit's model seeks in a directory as in a
// file of its size, which billy has no notion of.
func (d *billyDir) Seek(int64, int) (int64, error) { return 0, d.fail("seek", errors.ErrUnsupported) }

func (d *billyDir) Write([]byte) (int, error) { return 0, d.fail("write", syscall.EBADF) }
func (d *billyDir) WriteAt(p []byte, _ int64) (int, error) {
	if len(p) == 0 && !d.closed {
		return 0, nil
	}
	return 0, d.fail("write", syscall.EBADF)
}
func (d *billyDir) WriteString(string) (int, error) { return 0, d.fail("write", syscall.EBADF) }
func (d *billyDir) Name() string                    { return d.name }
func (d *billyDir) Truncate(int64) error            { return d.fail("truncate", syscall.EINVAL) }

func (d *billyDir) Sync() error {
	if d.closed {
		return d.err("sync", fs.ErrClosed)
	}
	return nil
}

func (d *billyDir) Stat() (os.FileInfo, error) {
	if d.closed {
		return nil, d.err("stat", fs.ErrClosed)
	}
	return d.fs.Stat(d.name)
}

func (d *billyDir) Readdir(n int) ([]os.FileInfo, error) {
	if d.closed {
		return nil, d.err("readdir", fs.ErrClosed)
	}
	if !d.listed {
		l, err := d.fs.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		sort.Slice(l, func(i, j int) bool { return l[i].Name() < l[j].Name() })
		d.list, d.listed = l, true
	}
	if n <= 0 {
		out := d.list
		d.list = nil
		return out, nil
	}
	if len(d.list) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.list))
	out := d.list[:n:n]
	d.list = d.list[n:]
	return out, nil
}

func (d *billyDir) Readdirnames(n int) ([]string, error) {
	fis, err := d.Readdir(n)
	names := make([]string, len(fis))
	for i, fi := range fis {
		names[i] = fi.Name()
	}
	return names, err
}
