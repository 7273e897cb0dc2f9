package vfs

import (
	"strings"
	"testing"
)

// sandboxTree builds:
//
//	/f                 "root file"
//	/a/                directory
//	/a/b/g             "deep"
//	/a/up -> ..        (escapes when the base is /a)
//	/a/abs -> /etc
//	/a/out -> ../../f  (escapes from /a, and from / too)
//	/a/self -> .
//	/sf -> f
//	/sd -> a
//	/dangling -> nope
//	/loop1 <-> /loop2
//	/c0 -> c1 -> ... -> c40 -> f   (41 hops from c0, 40 from c1)
//	/trail -> a/
func sandboxTree(t *testing.T) (*FS, *OFD) {
	f, r := newTestFS(t, Options{})
	writeFile(t, r, "f", "root file")
	must(t, r.CreateDirectoryAt("a"))
	must(t, r.CreateDirectoryAt("a/b"))
	writeFile(t, r, "a/b/g", "deep")
	for _, l := range [][2]string{
		{"..", "a/up"}, {"/etc", "a/abs"}, {"../../f", "a/out"}, {".", "a/self"},
		{"f", "sf"}, {"a", "sd"}, {"nope", "dangling"}, {"loop2", "loop1"}, {"loop1", "loop2"}, {"a/", "trail"},
	} {
		must(t, r.SymlinkAt(l[0], l[1]))
	}
	for i := 0; i < 40; i++ {
		must(t, r.SymlinkAt("c"+itoa(uint64(i+1)), "c"+itoa(uint64(i))))
	}
	must(t, r.SymlinkAt("f", "c40"))
	return f, r
}

func TestResolve(t *testing.T) {
	_, r := sandboxTree(t)
	a, err := r.OpenAt(0, "a", OpenDirectory, Read|MutateDirectory)
	must(t, err)
	defer a.DecRef()
	fIno, aIno, bIno, gIno := inoOf(t, r, "f"), inoOf(t, r, "a"), inoOf(t, r, "a/b"), inoOf(t, r, "a/b/g")
	rootIno := inoOf(t, r, ".")

	long := strings.Repeat("n", MaxNameLen+1)
	tests := []struct {
		name string
		base *OFD
		path string
		pf   PathFlags
		want uint64 // expected inode when err is nil
		err  error
	}{
		{"plain", r, "f", 0, fIno, nil},
		{"nested", r, "a/b/g", 0, gIno, nil},
		{"dot", r, ".", 0, rootIno, nil},
		{"dot slash", r, "./", 0, rootIno, nil},
		{"double slash", r, "a//b///g", 0, gIno, nil},
		{"dotdot inside", r, "a/b/../b/g", 0, gIno, nil},
		{"dotdot back to base", r, "a/..", 0, rootIno, nil},
		{"empty", r, "", 0, 0, ErrNoEntry},
		{"missing", r, "nope", 0, 0, ErrNoEntry},
		{"missing dir", r, "nope/x", 0, 0, ErrNoEntry},
		{"absolute", r, "/f", 0, 0, ErrNotPermitted},
		{"absolute root", r, "/", 0, 0, ErrNotPermitted},
		{"dotdot from root", r, "..", 0, 0, ErrNotPermitted},
		{"temporary escape a/../../a", r, "a/../../a", 0, 0, ErrNotPermitted},
		{"escape later", r, "a/b/../../..", 0, 0, ErrNotPermitted},
		{"child dotdot", a, "..", 0, 0, ErrNotPermitted},
		{"child dotdot via b", a, "b/../..", 0, 0, ErrNotPermitted},
		{"child dotdot then back", a, "../a", 0, 0, ErrNotPermitted},
		{"child inside", a, "b/g", 0, gIno, nil},
		{"symlink to dotdot from root base", r, "a/up", SymlinkFollow, rootIno, nil},
		{"symlink to dotdot from child base", a, "up", SymlinkFollow, 0, ErrNotPermitted},
		{"symlink to dotdot mid-path from child", a, "up/f", 0, 0, ErrNotPermitted},
		{"symlink to dotdot not followed", a, "up", 0, inoOf(t, a, "up"), nil},
		{"absolute target", r, "a/abs", SymlinkFollow, 0, ErrNotPermitted},
		{"absolute target mid-path", r, "a/abs/passwd", 0, 0, ErrNotPermitted},
		{"absolute target not followed", r, "a/abs", 0, inoOf(t, r, "a/abs"), nil},
		{"escaping link from root", r, "a/out", SymlinkFollow, 0, ErrNotPermitted},
		{"escaping link from child", a, "out", SymlinkFollow, 0, ErrNotPermitted},
		{"self link", a, "self/self/b/g", 0, gIno, nil},
		{"file link", r, "sf", SymlinkFollow, fIno, nil},
		{"dir link mid-path", r, "sd/b/g", 0, gIno, nil},
		{"dir link last followed", r, "sd", SymlinkFollow, aIno, nil},
		{"dangling followed", r, "dangling", SymlinkFollow, 0, ErrNoEntry},
		{"loop", r, "loop1", SymlinkFollow, 0, ErrLoop},
		{"loop mid-path", r, "loop1/x", 0, 0, ErrLoop},
		{"chain of 40", r, "c1", SymlinkFollow, fIno, nil},
		{"chain of 41", r, "c0", SymlinkFollow, 0, ErrLoop},
		{"trailing slash on dir", r, "a/", 0, aIno, nil},
		{"trailing slash on file", r, "f/", 0, 0, ErrNotDirectory},
		{"file as dir", r, "f/x", 0, 0, ErrNotDirectory},
		{"trailing slash follows link", r, "sd/", 0, aIno, nil},
		{"trailing slash on file link", r, "sf/", 0, 0, ErrNotDirectory},
		{"link target with slash", r, "trail", SymlinkFollow, aIno, nil},
		{"b from child", a, "b", 0, bIno, nil},
		{"name too long", r, long, 0, 0, ErrNameTooLong},
		{"name at limit", r, strings.Repeat("n", MaxNameLen), 0, 0, ErrNoEntry},
		{"path too long", r, strings.Repeat("a/", MaxPathLen/2) + "x", 0, 0, ErrNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := tt.base.StatAt(tt.pf, tt.path)
			wantErr(t, "StatAt("+tt.path+")", err, tt.err)
			if tt.err == nil && err == nil && st.Inode != tt.want {
				t.Errorf("StatAt(%q) = inode %d, want %d", tt.path, st.Inode, tt.want)
			}
		})
	}
}

// TestResolveAllOps checks that every path-taking method refuses escapes.
func TestResolveAllOps(t *testing.T) {
	_, r := sandboxTree(t)
	a, err := r.OpenAt(0, "a", OpenDirectory, Read|MutateDirectory)
	must(t, err)
	defer a.DecRef()
	for _, p := range []string{"/f", "../f", "b/../../f", "up/f", "abs/x", "out/x"} {
		ops := map[string]error{}
		_, ops["OpenAt"] = a.OpenAt(SymlinkFollow, p, OpenCreate, Write)
		_, ops["StatAt"] = a.StatAt(SymlinkFollow, p)
		ops["CreateDirectoryAt"] = a.CreateDirectoryAt(p)
		ops["RemoveDirectoryAt"] = a.RemoveDirectoryAt(p)
		ops["UnlinkFileAt"] = a.UnlinkFileAt(p)
		ops["SymlinkAt"] = a.SymlinkAt("x", p)
		_, ops["ReadlinkAt"] = a.ReadlinkAt(p)
		ops["RenameAt old"] = a.RenameAt(p, a, "new")
		ops["RenameAt new"] = a.RenameAt("b", a, p)
		ops["LinkAt old"] = a.LinkAt(0, p, a, "new")
		ops["LinkAt new"] = a.LinkAt(0, "b/g", a, p)
		ops["SetTimesAt"] = a.SetTimesAt(0, p, NewTimestamp{Kind: Now}, NewTimestamp{})
		_, ops["MetadataHashAt"] = a.MetadataHashAt(0, p)
		for op, err := range ops {
			wantErr(t, op+"("+p+")", err, ErrNotPermitted)
		}
	}
	// Nothing outside /a changed.
	if got := readFile(t, r, "f"); got != "root file" {
		t.Errorf("/f = %q", got)
	}
}

// A NUL byte in a path or a symlink target is ErrInvalid, as in Wasmtime:
// no host path holds one (C would see "a" for "a\x00f"), so nothing with
// such a name may come into being, nor be looked up.
func TestNULInNamesIsInvalid(t *testing.T) {
	f, r := newTestFS(t, Options{})
	writeFile(t, r, "a", "a file")
	before := f.Usage()
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"mkdir", func() error { return r.CreateDirectoryAt("a\x00f") }},
		{"create", func() error { _, err := r.OpenAt(0, "n\x00", OpenCreate, Write); return err }},
		{"open", func() error { _, err := r.OpenAt(0, "a\x00f", 0, Read); return err }},
		{"stat", func() error { _, err := r.StatAt(0, "a\x00"); return err }},
		{"unlink", func() error { return r.UnlinkFileAt("a\x00f") }},
		{"rename to", func() error { return r.RenameAt("a", r, "b\x00") }},
		{"rename from", func() error { return r.RenameAt("a\x00f", r, "b") }},
		{"link", func() error { return r.LinkAt(0, "a", r, "c\x00") }},
		{"symlink name", func() error { return r.SymlinkAt("a", "l\x00") }},
		{"symlink target", func() error { return r.SymlinkAt("a\x00f", "l") }},
		{"component", func() error { _, err := r.StatAt(0, "\x00/a"); return err }},
	} {
		if err := tc.op(); err != ErrInvalid {
			t.Errorf("%s: %v, want %v", tc.name, err, ErrInvalid)
		}
	}
	if u := f.Usage(); u != before {
		t.Errorf("usage %+v, was %+v: something was created", u, before)
	}
	if got := readFile(t, r, "a"); got != "a file" {
		t.Errorf("a holds %q", got)
	}
}
