package wasmrun

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasisim/wasisim/internal/wasitest"
	"github.com/wasisim/wasisim/vfs"
)

// mounted is a trivial guest run with host directories mounted: its file
// system is what a test changes as a guest would, before writing back.
type mounted struct {
	p    *Program
	fs   *vfs.FS
	root *vfs.OFD
}

func mount(t *testing.T, dirs ...string) *mounted {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "noop.wasm")
	if err := os.WriteFile(bin, wasitest.Start(), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Path: bin}
	for i, d := range dirs {
		spec.Dirs = append(spec.Dirs, DirSpec{Host: d, Guest: "/m" + string(rune('0'+i))})
	}
	p, err := Load(spec, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	o, err := p.Run(RunOptions{})
	if err != nil || !o.Succeeded {
		t.Fatalf("run: %v %+v", err, o)
	}
	m := &mounted{p: p, fs: o.Guest.FS, root: o.Guest.FS.Root(vfs.Read | vfs.MutateDirectory)}
	t.Cleanup(func() { m.root.DecRef() })
	return m
}

// write writes a file of mount 0 as the guest would.
func (m *mounted) write(t *testing.T, rel, data string) {
	t.Helper()
	f, err := m.root.OpenAt(0, "dir0/"+rel, vfs.OpenCreate|vfs.OpenTruncate, vfs.Write)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	if _, err := f.WriteAt([]byte(data), 0); err != nil {
		t.Fatal(err)
	}
}

func hostFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hostTree(t *testing.T, dir string) string {
	t.Helper()
	return wasitest.TreeString(wasitest.HostTree(t, dir))
}

// A mount named through a symbolic link is the directory it points to:
// the guest sees its files, and writing back keeps them.
func TestWriteBackSymlinkedRoot(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	hostFile(t, filepath.Join(real, "a.txt"), "precious")
	hostFile(t, filepath.Join(real, "sub", "b"), "x")
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	m := mount(t, link)
	if st, err := m.root.StatAt(0, "dir0/a.txt"); err != nil || st.Size != 8 {
		t.Fatalf("the guest does not see the linked directory's files: %v", err)
	}
	m.write(t, "new.txt", "n")
	if _, err := m.p.WriteBack(m.fs); err != nil {
		t.Fatal(err)
	}
	if got := hostTree(t, real); !strings.Contains(got, "a.txt") || !strings.Contains(got, "sub/b") || !strings.Contains(got, "new.txt") {
		t.Fatalf("host tree after write-back:\n%s", got)
	}
}

// Mounts of the same directory, or of one inside another, cannot both
// be written back; siblings whose names share a prefix can.
func TestWriteBackOverlap(t *testing.T) {
	n := t.TempDir()
	for _, d := range []string{"b", "bc"} {
		os.Mkdir(filepath.Join(n, d), 0o755)
	}
	for _, c := range []struct {
		dirs []string
		ok   bool
	}{
		{[]string{n, filepath.Join(n, "b")}, false},
		{[]string{filepath.Join(n, "b"), n}, false},
		{[]string{filepath.Join(n, "b"), filepath.Join(n, "b")}, false},
		{[]string{filepath.Join(n, "b"), filepath.Join(n, "bc")}, true},
	} {
		m := mount(t, c.dirs...)
		if err := m.p.CheckWriteBack(); (err == nil) != c.ok {
			t.Errorf("%v: %v", c.dirs, err)
		}
	}
}

// Changes land on the host: new, modified and removed files and
// directories, a file where a directory was; unchanged files are not
// rewritten and keep their mode.
func TestWriteBackChanges(t *testing.T) {
	dir := t.TempDir()
	hostFile(t, filepath.Join(dir, "same.txt"), "same")
	hostFile(t, filepath.Join(dir, "mod.txt"), "old")
	os.Chmod(filepath.Join(dir, "mod.txt"), 0o600)
	hostFile(t, filepath.Join(dir, "gone.txt"), "gone")
	hostFile(t, filepath.Join(dir, "olddir", "x"), "x")
	hostFile(t, filepath.Join(dir, "becomes", "y"), "y")
	before, _ := os.Stat(filepath.Join(dir, "same.txt"))
	m := mount(t, dir)
	m.write(t, "mod.txt", "new contents")
	m.write(t, "added.txt", "added")
	must(t, m.root.CreateDirectoryAt("dir0/newdir"))
	m.write(t, "newdir/z", "z")
	must(t, m.root.UnlinkFileAt("dir0/gone.txt"))
	must(t, m.root.UnlinkFileAt("dir0/olddir/x"))
	must(t, m.root.RemoveDirectoryAt("dir0/olddir"))
	must(t, m.root.UnlinkFileAt("dir0/becomes/y"))
	must(t, m.root.RemoveDirectoryAt("dir0/becomes"))
	m.write(t, "becomes", "a file now")
	must(t, m.root.SymlinkAt("newdir/z", "dir0/link"))
	rep, err := m.p.WriteBack(m.fs)
	if err != nil {
		t.Fatal(err)
	}
	want := `added.txt "file:added"
becomes "file:a file now"
link "link:newdir/z"
mod.txt "file:new contents"
newdir "dir"
newdir/z "file:z"
same.txt "file:same"
`
	if got := hostTree(t, dir); got != want {
		t.Fatalf("host tree:\n%s\nwant:\n%s", got, want)
	}
	if rep.Written != 6 || rep.Removed != 5 {
		t.Errorf("report %+v", rep)
	}
	after, _ := os.Stat(filepath.Join(dir, "same.txt"))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged file was rewritten")
	}
	if st, _ := os.Stat(filepath.Join(dir, "mod.txt")); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A symbolic link the guest made that leads out of its mount refuses the
// whole write-back: nothing is written, not even the other changes.
func TestWriteBackRefusesEscapingLinks(t *testing.T) {
	for _, target := range []string{"/etc/passwd", "../../../../tmp", "sub/../../x", "..", ""} {
		dir := t.TempDir()
		hostFile(t, filepath.Join(dir, "keep"), "keep")
		m := mount(t, dir)
		m.write(t, "keep", "changed")
		if target == "" {
			continue
		}
		must(t, m.root.SymlinkAt(target, "dir0/evil"))
		_, err := m.p.WriteBack(m.fs)
		if err == nil || !strings.Contains(err.Error(), "leads out of the mount") || !strings.Contains(err.Error(), "nothing was written back") {
			t.Fatalf("link to %q: %v", target, err)
		}
		if got := hostTree(t, dir); got != "keep \"file:keep\"\n" {
			t.Fatalf("link to %q: host tree changed:\n%s", target, got)
		}
	}
	// A link that stays inside is written.
	dir := t.TempDir()
	m := mount(t, dir)
	must(t, m.root.SymlinkAt("sub/../a", "dir0/ok"))
	if _, err := m.p.WriteBack(m.fs); err != nil {
		t.Fatal(err)
	}
}

// What the host changed meanwhile is never overwritten or removed: the
// write-back is refused when the guest changed the same entry; the
// host's other changes stay.
func TestWriteBackHostChangedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	hostFile(t, filepath.Join(dir, "both.txt"), "v1")
	hostFile(t, filepath.Join(dir, "hostonly.txt"), "v1")
	hostFile(t, filepath.Join(dir, "d", "f"), "f")
	m := mount(t, dir)
	m.write(t, "both.txt", "guest")
	hostFile(t, filepath.Join(dir, "both.txt"), "host")
	_, err := m.p.WriteBack(m.fs)
	if err == nil || !strings.Contains(err.Error(), "both.txt was changed on the host") {
		t.Fatalf("conflict: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "both.txt")); string(b) != "host" {
		t.Fatalf("the host's change was lost: %q", b)
	}

	m = mount(t, dir)
	hostFile(t, filepath.Join(dir, "hostonly.txt"), "host")
	must(t, m.root.UnlinkFileAt("dir0/d/f"))
	must(t, m.root.RemoveDirectoryAt("dir0/d"))
	hostFile(t, filepath.Join(dir, "d", "new"), "made on the host during the run")
	_, err = m.p.WriteBack(m.fs)
	if err == nil || !strings.Contains(err.Error(), "d/new was created on the host") {
		t.Fatalf("removing a directory the host added to: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "d", "new")); len(b) == 0 {
		t.Fatal("the host's new file was removed")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hostonly.txt")); string(b) != "host" {
		t.Fatalf("the host's change was lost: %q", b)
	}
}

// A write-back that fails part-way leaves every file whole (the old or
// the new one) and removes nothing.
func TestWriteBackFailurePartWay(t *testing.T) {
	dir := t.TempDir()
	hostFile(t, filepath.Join(dir, "a"), "old a")
	hostFile(t, filepath.Join(dir, "b"), "old b")
	hostFile(t, filepath.Join(dir, "gone"), "still here")
	m := mount(t, dir)
	m.write(t, "a", "new a")
	m.write(t, "b", "new b")
	must(t, m.root.UnlinkFileAt("dir0/gone"))
	testHookWrite = func(rel string) error {
		if rel == "b" {
			return errors.New("disk full")
		}
		return nil
	}
	defer func() { testHookWrite = nil }()
	_, err := m.p.WriteBack(m.fs)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("%v", err)
	}
	want := "a \"file:new a\"\nb \"file:old b\"\ngone \"file:still here\"\n"
	if got := hostTree(t, dir); got != want {
		t.Fatalf("host tree:\n%s\nwant:\n%s", got, want)
	}
}

// A sparse file stays sparse on the host; one larger than the limit is
// refused before anything is written.
func TestWriteBackSparse(t *testing.T) {
	dir := t.TempDir()
	m := mount(t, dir)
	f, err := m.root.OpenAt(0, "dir0/sparse", vfs.OpenCreate, vfs.Write)
	must(t, err)
	must(t, f.SetSize(256<<20))
	_, err = f.WriteAt([]byte("start"), 0)
	must(t, err)
	f.DecRef()
	if _, err := m.p.WriteBack(m.fs); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "sparse"))
	must(t, err)
	if st.Size() != 256<<20 {
		t.Fatalf("size %d", st.Size())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blocks*512 > 1<<20 {
		t.Fatalf("the sparse file takes %d bytes on the host", sys.Blocks*512)
	}
	b := make([]byte, 5)
	h, _ := os.Open(filepath.Join(dir, "sparse"))
	h.Read(b)
	h.Close()
	if string(b) != "start" {
		t.Fatalf("contents %q", b)
	}

	dir = t.TempDir()
	m = mount(t, dir)
	m.write(t, "small", "s")
	f, err = m.root.OpenAt(0, "dir0/huge", vfs.OpenCreate, vfs.Write)
	must(t, err)
	must(t, f.SetSize(MaxWriteBackFile+1))
	f.DecRef()
	if _, err := m.p.WriteBack(m.fs); err == nil || !strings.Contains(err.Error(), "nothing was written back") {
		t.Fatalf("huge file: %v", err)
	}
	if got := hostTree(t, dir); got != "" {
		t.Fatalf("written: %s", got)
	}
}

// Every mount is checked when the program loads: a file, a missing
// directory, a tree larger than the file system's bounds.
func TestLoadChecksMounts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	hostFile(t, file, "0123456789")
	bin := filepath.Join(dir, "noop.wasm")
	os.WriteFile(bin, wasitest.Start(), 0o644)
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Path: bin, Dirs: []DirSpec{{Host: file, Guest: "/"}}}, "is not a directory"},
		{Spec{Path: bin, Dirs: []DirSpec{{Host: filepath.Join(dir, "nope"), Guest: "/"}}}, "no such file"},
		{Spec{Path: bin, FSBytes: 5, Dirs: []DirSpec{{Host: dir, Guest: "/"}}}, "--max-fs-bytes"},
		{Spec{Path: bin, FSInodes: 2, Dirs: []DirSpec{{Host: dir, Guest: "/"}}}, "--max-fs-inodes"},
	} {
		if _, err := Load(c.spec, LoadOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.spec.Dirs, err, c.want)
		}
	}
}
