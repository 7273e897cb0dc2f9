//go:build unix

package vfs

import (
	"errors"
	"io"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// afero's temporary-file helpers default to os.TempDir(), which a fresh
// tree does not have: the adapter makes it on demand.
func TestAferoTempHelpers(t *testing.T) {
	for _, tmpdir := range []string{"/tmp", "/var/folders/x/T/"} {
		t.Run(tmpdir, func(t *testing.T) {
			t.Setenv("TMPDIR", tmpdir)
			afs := NewAferoFs(New(Options{}))
			dir, err := afero.TempDir(afs, "", "work")
			if err != nil {
				t.Fatalf("TempDir: %v", err)
			}
			if path.Dir(dir) != path.Clean(tmpdir) || !strings.HasPrefix(path.Base(dir), "work") {
				t.Errorf("TempDir made %q", dir)
			}
			if fi, err := afs.Stat(dir); err != nil || !fi.IsDir() {
				t.Fatalf("stat %s: %v %v", dir, fi, err)
			}
			f, err := afero.TempFile(afs, "", "log-*.txt")
			if err != nil {
				t.Fatalf("TempFile: %v", err)
			}
			if !strings.HasSuffix(f.Name(), ".txt") || path.Dir(f.Name()) != path.Clean(tmpdir) {
				t.Errorf("TempFile made %q", f.Name())
			}
			io.WriteString(f, "kept")
			f.Close()
			if b, err := afero.ReadFile(afs, f.Name()); err != nil || string(b) != "kept" {
				t.Errorf("read back %q %v", b, err)
			}
			// In a directory of the caller's choosing nothing is implied.
			if _, err := afero.TempFile(afs, "/missing", "x"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("TempFile in a missing directory: %v", err)
			}
			// Nor deeper in the temporary directory.
			if err := afs.Mkdir(path.Join(tmpdir, "a", "b"), 0o755); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("mkdir two levels down: %v", err)
			}
		})
	}
}

// A tree that never touches the temporary directory does not get one.
func TestAferoTempDirNotMadeUnasked(t *testing.T) {
	t.Setenv("TMPDIR", "/tmp")
	afs := NewAferoFs(New(Options{}))
	if err := afero.WriteFile(afs, "/a.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := afs.Stat("/tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat /tmp: %v", err)
	}
}
