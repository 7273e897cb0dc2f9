//go:build unix

package vfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
)

func TestAfero(t *testing.T) {
	f := New(Options{})
	afs := NewAferoFs(f)
	var _ afero.Fs = afs

	// Create, Write, Seek, Read, ReadAt, WriteAt.
	_, err := afs.Create("/dir-missing/x")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("create in missing dir: %v", err)
	}
	must(t, afs.MkdirAll("/a/b/c", 0o755))
	must(t, afs.MkdirAll("a/b", 0o755))
	fl, err := afs.Create("/a/b/file")
	must(t, err)
	if _, err := fl.WriteString("hello world"); err != nil {
		t.Fatal(err)
	}
	if off, err := fl.Seek(0, io.SeekStart); off != 0 || err != nil {
		t.Fatal(off, err)
	}
	buf := make([]byte, 5)
	if n, err := io.ReadFull(fl, buf); n != 5 || err != nil || string(buf) != "hello" {
		t.Errorf("read %q %v", buf, err)
	}
	if n, err := fl.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
		t.Errorf("readat %q %v", buf, err)
	}
	if n, err := fl.ReadAt(buf, 8); n != 3 || err != io.EOF {
		t.Errorf("short readat %d %v", n, err)
	}
	if _, err := fl.WriteAt([]byte("W"), 6); err != nil {
		t.Fatal(err)
	}
	if off, _ := fl.Seek(-5, io.SeekEnd); off != 6 {
		t.Errorf("seek end %d", off)
	}
	if off, _ := fl.Seek(2, io.SeekCurrent); off != 8 {
		t.Errorf("seek cur %d", off)
	}
	if _, err := fl.Seek(-100, io.SeekCurrent); err == nil {
		t.Error("negative seek")
	}
	rest, _ := io.ReadAll(fl)
	if string(rest) != "rld" {
		t.Errorf("rest %q", rest)
	}
	must(t, fl.Truncate(5))
	must(t, fl.Sync())
	if fi, _ := fl.Stat(); fi.Size() != 5 || fi.Name() != "file" || fi.IsDir() {
		t.Errorf("stat %v", fi)
	}
	must(t, fl.Close())
	if !errors.Is(fl.Close(), os.ErrClosed) {
		t.Error("double close")
	}

	// OpenFile flags.
	_, err = afs.OpenFile("/a/b/file", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if !errors.Is(err, os.ErrExist) || !os.IsExist(err) {
		t.Errorf("O_EXCL: %v", err)
	}
	ro, err := afs.OpenFile("/a/b/file", os.O_RDONLY, 0)
	must(t, err)
	if _, err := ro.Write([]byte("x")); !errors.Is(err, syscall.EBADF) {
		t.Errorf("write on O_RDONLY: %v", err)
	}
	ro.Close()
	wo, err := afs.OpenFile("/a/b/file", os.O_WRONLY, 0)
	must(t, err)
	if _, err := wo.Read(buf); !errors.Is(err, syscall.EBADF) {
		t.Errorf("read on O_WRONLY: %v", err)
	}
	wo.Close()
	ap, err := afs.OpenFile("/a/b/file", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	ap.Write([]byte("!!"))
	ap.Close()
	if data, _ := afero.ReadFile(afs, "/a/b/file"); string(data) != "hello!!" {
		t.Errorf("append %q", data)
	}
	tr, err := afs.OpenFile("/a/b/file", os.O_RDWR|os.O_TRUNC, 0)
	must(t, err)
	tr.Close()
	if fi, _ := afs.Stat("/a/b/file"); fi.Size() != 0 {
		t.Error("O_TRUNC")
	}
	if _, err := afs.Open("/nope"); !os.IsNotExist(err) {
		t.Errorf("open missing %v", err)
	}

	// Helpers: WriteFile, ReadDir, Walk.
	for _, n := range []string{"c", "a", "b"} {
		must(t, afero.WriteFile(afs, "/a/"+n+".txt", []byte(n), 0o644))
	}
	infos, err := afero.ReadDir(afs, "/a")
	must(t, err)
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	if strings.Join(names, " ") != "a.txt b b.txt c.txt" {
		t.Errorf("ReadDir %v", names)
	}
	var walked []string
	must(t, afero.Walk(afs, "/", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		walked = append(walked, filepath.ToSlash(p))
		return nil
	}))
	want := []string{"/", "/a", "/a/a.txt", "/a/b", "/a/b/c", "/a/b/file", "/a/b.txt", "/a/c.txt"}
	if !slices.Equal(walked, want) {
		t.Errorf("Walk %v", walked)
	}

	// Readdir / Readdirnames in chunks.
	d, err := afs.Open("/a")
	must(t, err)
	first, err := d.Readdirnames(2)
	if err != nil || len(first) != 2 {
		t.Errorf("Readdirnames(2) %v %v", first, err)
	}
	more, err := d.Readdir(10)
	if err != nil || len(more) != 2 {
		t.Errorf("Readdir(10) %v %v", more, err)
	}
	if _, err := d.Readdir(1); err != io.EOF {
		t.Errorf("Readdir at end %v", err)
	}
	d.Close()
	d, _ = afs.Open("/a")
	all, err := d.Readdir(0)
	if err != nil || len(all) != 4 {
		t.Errorf("Readdir(0) %d %v", len(all), err)
	}
	d.Close()

	// Rename, Remove, RemoveAll, Chtimes, Mkdir errors.
	must(t, afs.Rename("/a/a.txt", "/a/b/moved"))
	if _, err := afs.Stat("/a/a.txt"); !os.IsNotExist(err) {
		t.Error("rename left the old name")
	}
	if err := afs.Remove("/a"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("remove non-empty %v", err)
	}
	must(t, afs.Remove("/a/c.txt"))
	must(t, afs.Remove("/a/b/c"))
	if err := afs.Mkdir("/a", 0o755); !os.IsExist(err) {
		t.Errorf("mkdir existing %v", err)
	}
	mt := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	must(t, afs.Chtimes("/a/b.txt", mt, mt))
	if fi, _ := afs.Stat("/a/b.txt"); !fi.ModTime().Equal(mt) {
		t.Errorf("chtimes %v", fi.ModTime())
	}
	if err := afs.Chtimes("/nope", mt, mt); !os.IsNotExist(err) {
		t.Errorf("chtimes missing %v", err)
	}
	must(t, afs.Chmod("/a/b.txt", 0o600))
	must(t, afs.Chown("/a/b.txt", 1, 1))
	must(t, afero.WriteFile(afs, "/f", []byte("x"), 0o644))
	if err := afs.MkdirAll("/f/sub", 0o755); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("MkdirAll through file %v", err)
	}
	must(t, afs.RemoveAll("/a"))
	must(t, afs.RemoveAll("/never-existed"))
	if _, err := afs.Stat("/a"); !os.IsNotExist(err) {
		t.Error("RemoveAll left /a")
	}
	if fi, _, err := afs.LstatIfPossible("/f"); err != nil || fi.Mode().IsDir() {
		t.Errorf("lstat %v %v", fi, err)
	}
	if afs.Name() != "vfs" {
		t.Error(afs.Name())
	}
	// Every file was closed; nothing leaked; nothing left but /f.
	if live := f.Live(); len(live) != 0 {
		t.Errorf("leaks %v", live)
	}
	if u := f.Usage(); u.Inodes != 2 || u.Bytes != 1 {
		t.Errorf("usage %+v", u)
	}
}

// TestAferoMatchesMemMapFs runs the same operations on vfs and on afero's
// MemMapFs and compares the resulting trees.
func TestAferoMatchesMemMapFs(t *testing.T) {
	run := func(afs afero.Fs) string {
		afs.MkdirAll("/x/y", 0o755)
		afero.WriteFile(afs, "/x/y/a", []byte("alpha"), 0o644)
		afero.WriteFile(afs, "/x/b", []byte("beta"), 0o644)
		afs.Rename("/x/b", "/x/y/b")
		fl, _ := afs.OpenFile("/x/y/a", os.O_RDWR, 0)
		fl.WriteAt([]byte("AL"), 0)
		fl.Truncate(4)
		fl.Close()
		var out []string
		afero.Walk(afs, "/x", func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			line := filepath.ToSlash(p)
			if !info.IsDir() {
				data, _ := afero.ReadFile(afs, p)
				line += "=" + string(data)
			}
			out = append(out, line)
			return nil
		})
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	got, want := run(NewAferoFs(New(Options{}))), run(afero.NewMemMapFs())
	if got != want {
		t.Errorf("vfs:\n%s\nMemMapFs:\n%s", got, want)
	}
}
