package vfs

import (
	"strings"
	"testing"
)

// fuzzTree builds a root with a base directory and a sibling "outside":
//
//	/outside/secret
//	/base/{x/{y/,f},l1 -> x,up -> ..,abs -> /outside,esc -> ../outside,
//	       dot -> .,loop -> loop,chain -> l1/y,deep -> x/y/../../x}
//
// and returns the root and the base.
func fuzzTree(t testing.TB) (*OFD, *OFD) {
	_, r := newTestFS(t, Options{})
	must(t, r.CreateDirectoryAt("outside"))
	writeFile(t, r, "outside/secret", "s")
	must(t, r.CreateDirectoryAt("base"))
	must(t, r.CreateDirectoryAt("base/x"))
	must(t, r.CreateDirectoryAt("base/x/y"))
	writeFile(t, r, "base/x/f", "f")
	for _, l := range [][2]string{{"x", "l1"}, {"..", "up"}, {"/outside", "abs"}, {"../outside", "esc"},
		{".", "dot"}, {"loop", "loop"}, {"l1/y", "chain"}, {"x/y/../../x", "deep"}, {"x/y/../../..", "x/y/back"}} {
		must(t, r.SymlinkAt(l[0], "base/"+l[1]))
	}
	base, err := r.OpenAt(0, "base", OpenDirectory, Read|MutateDirectory)
	must(t, err)
	return r, base
}

// FuzzResolve checks that resolving any path never panics and never
// reaches anything outside the base directory's subtree.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"x/f", "../outside/secret", "a/../../a", "up/outside", "abs/secret",
		"esc/secret", "dot/dot/x/y/..", "loop", "chain/../../..", "deep/y", "x/y/back/outside", "/", "",
		"x//y///", "l1/", strings.Repeat("dot/", 50) + "x"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	r, base := fuzzTree(f)
	f.Fuzz(func(t *testing.T, p string, follow bool) {
		fsys := base.fs
		fsys.mu.Lock()
		lk, err := fsys.resolveLocked(base.node, p, follow)
		fsys.mu.Unlock()
		if err != nil {
			if _, ok := err.(ErrorCode); !ok {
				t.Fatalf("resolve(%q): non-ErrorCode error %v", p, err)
			}
			return
		}
		if lk.dir == nil || !isAncestor(base.node, lk.dir) {
			t.Fatalf("resolve(%q): parent directory outside the base", p)
		}
		if n := lk.node; n != nil {
			in := isAncestor(base.node, n)
			if !in && n.typ != TypeDirectory {
				in = lk.dir.lookup(lk.name) == n && isAncestor(base.node, lk.dir)
			}
			if !in {
				t.Fatalf("resolve(%q, follow=%v) reached inode %d outside the base", p, follow, n.ino)
			}
		}
		// The public operations agree and never panic either.
		pf := PathFlags(0)
		if follow {
			pf = SymlinkFollow
		}
		if st, err := base.StatAt(pf, p); err == nil && lk.node != nil && st.Inode != lk.node.ino {
			t.Fatalf("StatAt(%q) = %d, resolve = %d", p, st.Inode, lk.node.ino)
		}
		if d, err := base.OpenAt(pf, p, 0, Read); err == nil {
			d.DecRef()
		}
		_ = r
	})
}
