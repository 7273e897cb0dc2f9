//go:build unix

package vfs

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// The adapter's files answer as os.File does on Linux, case by case; the
// same table runs on the host's filesystem to keep it honest.
func TestAferoFileAsOS(t *testing.T) {
	type fileCase struct {
		name  string
		open  func(afero.Fs) (afero.File, error)
		do    func(afero.File) (int, error)
		n     int
		errno syscall.Errno // 0: success
	}
	openFile := func(name string, flag int) func(afero.Fs) (afero.File, error) {
		return func(fsys afero.Fs) (afero.File, error) { return fsys.OpenFile(name, flag, 0o644) }
	}
	rdonlyCreate := openFile("/new", os.O_RDONLY|os.O_CREATE)
	rdonly := openFile("/f", os.O_RDONLY)
	wronly := openFile("/f", os.O_WRONLY)
	dir := openFile("/d", os.O_RDONLY)
	cases := []fileCase{
		{"write to O_RDONLY|O_CREATE", rdonlyCreate, func(f afero.File) (int, error) { return f.Write([]byte("x")) }, 0, syscall.EBADF},
		{"writeat to O_RDONLY|O_CREATE", rdonlyCreate, func(f afero.File) (int, error) { return f.WriteAt([]byte("x"), 0) }, 0, syscall.EBADF},
		{"truncate O_RDONLY|O_CREATE", rdonlyCreate, func(f afero.File) (int, error) { return 0, f.Truncate(1) }, 0, syscall.EINVAL},
		{"truncate O_RDONLY", rdonly, func(f afero.File) (int, error) { return 0, f.Truncate(1) }, 0, syscall.EINVAL},
		{"truncate a directory", dir, func(f afero.File) (int, error) { return 0, f.Truncate(0) }, 0, syscall.EINVAL},
		{"write to a directory", dir, func(f afero.File) (int, error) { return f.Write(nil) }, 0, syscall.EBADF},
		{"empty read of a directory", dir, func(f afero.File) (int, error) { return f.Read(nil) }, 0, 0},
		{"empty read of O_WRONLY", wronly, func(f afero.File) (int, error) { return f.Read([]byte{}) }, 0, 0},
		{"empty readat of O_WRONLY", wronly, func(f afero.File) (int, error) { return f.ReadAt(nil, 5) }, 0, 0},
		{"empty writeat of O_RDONLY", rdonly, func(f afero.File) (int, error) { return f.WriteAt(nil, 5) }, 0, 0},
		{"empty write to O_RDONLY", rdonly, func(f afero.File) (int, error) { return f.Write(nil) }, 0, syscall.EBADF},
		{"read of O_WRONLY", wronly, func(f afero.File) (int, error) { return f.Read(make([]byte, 1)) }, 0, syscall.EBADF},
		{"write to O_WRONLY", wronly, func(f afero.File) (int, error) { return f.Write([]byte("xy")) }, 2, 0},
	}
	setup := func(t *testing.T, fsys afero.Fs) {
		t.Helper()
		must(t, afero.WriteFile(fsys, "/f", []byte("data"), 0o644))
		must(t, fsys.Mkdir("/d", 0o755))
	}
	filesystems := []struct {
		name string
		make func(t *testing.T) afero.Fs
	}{
		{"vfs", func(*testing.T) afero.Fs { return NewAferoFs(New(Options{})) }},
		{"os", func(t *testing.T) afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()) }},
	}
	for _, fsys := range filesystems {
		for _, c := range cases {
			t.Run(fsys.name+"/"+c.name, func(t *testing.T) {
				afs := fsys.make(t)
				setup(t, afs)
				f, err := c.open(afs)
				must(t, err)
				defer f.Close()
				n, err := c.do(f)
				var errno syscall.Errno
				errors.As(err, &errno)
				if n != c.n || errno != c.errno || (c.errno == 0) != (err == nil) {
					t.Errorf("got %d, %v; want %d, errno %d (%v)", n, err, c.n, c.errno, c.errno)
				}
			})
		}
	}
}

func TestAferoStatRootName(t *testing.T) {
	afs := NewAferoFs(New(Options{}))
	fi, err := afs.Stat("/")
	must(t, err)
	f, err := afs.Open("/")
	must(t, err)
	defer f.Close()
	ffi, err := f.Stat()
	must(t, err)
	host, err := os.Stat("/")
	must(t, err)
	if fi.Name() != host.Name() || ffi.Name() != host.Name() {
		t.Errorf("root is named %q and %q, os.Stat says %q", fi.Name(), ffi.Name(), host.Name())
	}
}

// Rename follows os.Rename, which refuses to replace a directory.
func TestAferoRenameAsOS(t *testing.T) {
	cases := []struct {
		old, new string
		errno    syscall.Errno
	}{
		{"/d", "/empty", syscall.EEXIST},
		{"/f", "/empty", syscall.EEXIST},
		{"/d", "/d", syscall.EEXIST},
		{"/missing", "/d", syscall.ENOENT},
		{"/f", "/g", 0},
		{"/f", "/f", 0},
		{"/d", "/f", syscall.ENOTDIR},
		{"/d", "/d/sub", syscall.EINVAL},
	}
	for _, fsys := range []struct {
		name string
		make func(t *testing.T) afero.Fs
	}{
		{"vfs", func(*testing.T) afero.Fs { return NewAferoFs(New(Options{})) }},
		{"os", func(t *testing.T) afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()) }},
	} {
		for _, c := range cases {
			t.Run(fsys.name+c.old+"->"+c.new, func(t *testing.T) {
				afs := fsys.make(t)
				must(t, afero.WriteFile(afs, "/f", []byte("data"), 0o644))
				must(t, afero.WriteFile(afs, "/g", []byte("other"), 0o644))
				must(t, afs.Mkdir("/d", 0o755))
				must(t, afs.Mkdir("/empty", 0o755))
				err := afs.Rename(c.old, c.new)
				var errno syscall.Errno
				errors.As(err, &errno)
				if errno != c.errno || (c.errno == 0) != (err == nil) {
					t.Errorf("got %v, want errno %d (%v)", err, c.errno, c.errno)
				}
			})
		}
	}
}
