package vfs

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func populate(t *testing.T, r *OFD) {
	for _, d := range []string{"a", "a/b", "a/b/c", "empty", "z"} {
		must(t, r.CreateDirectoryAt(d))
	}
	for p, data := range map[string]string{
		"top.txt": "top", "a/one": "1", "a/b/two": "22", "a/b/c/three": "333",
		"z/big": strings.Repeat("0123456789", 1000), "z/zero": "",
	} {
		writeFile(t, r, p, data)
	}
}

func TestIOFS(t *testing.T) {
	f, r := newTestFS(t, Options{})
	populate(t, r)
	fsys := f.IOFS()
	if err := fstest.TestFS(fsys, "top.txt", "a/one", "a/b/two", "a/b/c/three", "z/big", "z/zero", "empty"); err != nil {
		t.Fatal(err)
	}
	// A view rooted at a subdirectory.
	a, err := r.OpenAt(0, "a", OpenDirectory, Read)
	must(t, err)
	defer a.DecRef()
	if err := fstest.TestFS(NewIOFS(a), "one", "b/two", "b/c/three"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewIOFS(a).Open("../top.txt"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("invalid path: %v", err)
	}
	if _, err := fsys.Open("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := fsys.ReadFile("a"); !errors.Is(err, ErrIsDirectory) {
		t.Errorf("ReadFile dir: %v", err)
	}
	data, err := fs.ReadFile(fsys, "a/b/c/three")
	if err != nil || string(data) != "333" {
		t.Errorf("ReadFile %q %v", data, err)
	}
	// Symlinks are followed by Open and Stat.
	must(t, r.SymlinkAt("a/b", "lb"))
	st, err := fs.Stat(fsys, "lb/two")
	if err != nil || st.Size() != 2 {
		t.Errorf("stat through link %v %v", st, err)
	}
	// Files opened by the view are OFDs: closing releases them.
	fl, err := fsys.Open("top.txt")
	must(t, err)
	if n := len(f.Live()); n != 3 {
		t.Errorf("live while open: %v", f.Live())
	}
	must(t, fl.Close())
	if !errors.Is(fl.Close(), fs.ErrClosed) {
		t.Error("double close")
	}
	if n := len(f.Live()); n != 2 {
		t.Errorf("leak: %v", f.Live())
	}
}
