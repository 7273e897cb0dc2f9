package vfs

import (
	"errors"
	"testing"
)

func newTestFS(t testing.TB, opt Options) (*FS, *OFD) {
	t.Helper()
	f := New(opt)
	return f, f.Root(Read | MutateDirectory)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, what string, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s: unexpected error %v", what, got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Errorf("%s: error %v, want %v", what, got, want)
	}
}

// writeFile creates (or truncates) path under base and writes data.
func writeFile(t testing.TB, base *OFD, path, data string) {
	t.Helper()
	d, err := base.OpenAt(0, path, OpenCreate|OpenTruncate, Read|Write)
	must(t, err)
	_, err = d.WriteAt([]byte(data), 0)
	must(t, err)
	must(t, d.DecRef())
}

func readFile(t testing.TB, base *OFD, path string) string {
	t.Helper()
	d, err := base.OpenAt(SymlinkFollow, path, 0, Read)
	must(t, err)
	defer d.DecRef()
	st, err := d.Stat()
	must(t, err)
	buf := make([]byte, st.Size)
	n, err := d.ReadAt(buf, 0)
	must(t, err)
	return string(buf[:n])
}

func inoOf(t testing.TB, base *OFD, path string) uint64 {
	t.Helper()
	st, err := base.StatAt(0, path)
	must(t, err)
	return st.Inode
}
