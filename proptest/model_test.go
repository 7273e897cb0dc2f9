package proptest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/vfs"
)

var (
	modelPaths   = []string{"a", "b", "d", "s", "d/a", "d/b", "d/s", "a/a", "s/a"}
	modelTargets = []string{"a", "b", "d", "s", "d/a", "a/b", "s/a"}
)

type ofdPair struct {
	v    *vfs.OFD
	m    *modelOFD
	path string
}

// vfsMachine runs the same operations on vfs and on the model.
type vfsMachine struct {
	fs   *vfs.FS
	root *vfs.OFD
	m    *model
	ofds []*ofdPair
}

func sameErr(t *rapid.T, op string, got, want error) {
	t.Helper()
	if errors.Is(got, want) && errors.Is(want, got) || got == nil && want == nil {
		return
	}
	t.Fatalf("%s: vfs says %v, the model %v", op, got, want)
}

// pickOFD draws an open description, or reports there is none: the
// action then does nothing. (Skipping instead would let fuzzer-decoded
// inputs that keep drawing such actions make rapid give up with "can't
// find a valid action".)
func (s *vfsMachine) pickOFD(t *rapid.T) (*ofdPair, bool) {
	if len(s.ofds) == 0 {
		return nil, false
	}
	return s.ofds[rapid.IntRange(0, len(s.ofds)-1).Draw(t, "ofd")], true
}

func (s *vfsMachine) actions() map[string]func(*rapid.T) {
	path := rapid.SampledFrom(modelPaths)
	return map[string]func(*rapid.T){
		"open": func(t *rapid.T) {
			p := path.Draw(t, "path")
			of := vfs.OpenFlags(rapid.IntRange(0, 15).Draw(t, "oflags"))
			df := rapid.SampledFrom([]vfs.DescFlags{vfs.Read, vfs.Read | vfs.Write, vfs.Write}).Draw(t, "dflags")
			pf := vfs.PathFlags(rapid.IntRange(0, 1).Draw(t, "follow"))
			vo, verr := s.root.OpenAt(pf, p, of, df)
			mo, merr := s.m.openAt(pf, p, of, df)
			sameErr(t, fmt.Sprintf("open-at %q %v %v %v", p, pf, of, df), verr, merr)
			if verr == nil {
				if vo.Flags() != mo.flags {
					t.Fatalf("open-at %q: flags %v, model %v", p, vo.Flags(), mo.flags)
				}
				s.ofds = append(s.ofds, &ofdPair{vo, mo, p})
			}
		},
		"write": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			data := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "data")
			off := rapid.Int64Range(0, 40).Draw(t, "off")
			_, verr := o.v.WriteAt(data, off)
			sameErr(t, "write", verr, o.m.writeAt(data, off))
		},
		"append": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			data := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "data")
			_, verr := o.v.Append(data)
			sameErr(t, "append", verr, o.m.append(data))
		},
		"set-size": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			n := rapid.Int64Range(0, 60).Draw(t, "size")
			sameErr(t, "set-size", o.v.SetSize(n), o.m.setSize(n))
		},
		"close": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			if err := o.v.DecRef(); err != nil {
				t.Fatal(err)
			}
			o.m.close()
			s.ofds = slices.DeleteFunc(s.ofds, func(x *ofdPair) bool { return x == o })
		},
		"lock": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			k := rapid.SampledFrom([]vfs.LockKind{vfs.LockShared, vfs.LockExclusive}).Draw(t, "kind")
			sameErr(t, "try-lock "+k.String(), o.v.TryLock(k), o.m.tryLock(k))
		},
		"unlock": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			if err := o.v.Unlock(); err != nil {
				t.Fatal(err)
			}
			o.m.unlock()
		},
		"unlink": func(t *rapid.T) {
			p := path.Draw(t, "path")
			sameErr(t, "unlink-file-at "+p, s.root.UnlinkFileAt(p), s.m.unlinkFileAt(p))
		},
		"mkdir": func(t *rapid.T) {
			p := path.Draw(t, "path")
			sameErr(t, "create-directory-at "+p, s.root.CreateDirectoryAt(p), s.m.createDirectoryAt(p))
		},
		"rmdir": func(t *rapid.T) {
			p := path.Draw(t, "path")
			sameErr(t, "remove-directory-at "+p, s.root.RemoveDirectoryAt(p), s.m.removeDirectoryAt(p))
		},
		"rename": func(t *rapid.T) {
			a, b := path.Draw(t, "from"), path.Draw(t, "to")
			sameErr(t, "rename-at "+a+" "+b, s.root.RenameAt(a, s.root, b), s.m.renameAt(a, b))
		},
		"link": func(t *rapid.T) {
			a, b := path.Draw(t, "from"), path.Draw(t, "to")
			pf := vfs.PathFlags(rapid.IntRange(0, 1).Draw(t, "follow"))
			sameErr(t, "link-at "+a+" "+b, s.root.LinkAt(pf, a, s.root, b), s.m.linkAt(pf, a, b))
		},
		"symlink": func(t *rapid.T) {
			target, p := rapid.SampledFrom(modelTargets).Draw(t, "target"), path.Draw(t, "path")
			sameErr(t, "symlink-at "+target+" "+p, s.root.SymlinkAt(target, p), s.m.symlinkAt(target, p))
		},
		"readdir": func(t *rapid.T) {
			o, ok := s.pickOFD(t)
			if !ok {
				return
			}
			got, verr := o.v.ReadDirectory()
			want, merr := o.m.readDirectory()
			sameErr(t, "read-directory", verr, merr)
			if verr == nil && !slices.Equal(got, want) {
				t.Fatalf("read-directory of %s: %v, model %v", o.path, got, want)
			}
		},
		"": s.check,
	}
}

// check compares the whole tree, every open description and the usage.
func (s *vfsMachine) check(t *rapid.T) {
	s.compareDir(t, "", s.root, s.m.model)
	for _, o := range s.ofds {
		if got, want := o.v.LockState(), o.m.lock; got != want {
			t.Fatalf("%s (%s) lock %v, model %v", o.v, o.path, got, want)
		}
		if o.m.node.typ == vfs.TypeRegularFile && o.v.Flags()&vfs.Read != 0 {
			want := o.m.node.content()
			got := make([]byte, len(want)+1)
			k, err := o.v.ReadAt(got, 0)
			if err != nil || !bytes.Equal(got[:k], want) {
				t.Fatalf("%s (%s) reads %q (%v), model %q", o.v, o.path, got[:k], err, want)
			}
		}
	}
	if got, want := s.fs.Usage(), s.m.usage(); got != want {
		t.Fatalf("usage %+v, model %+v", got, want)
	}
}

func (s *vfsMachine) compareDir(t *rapid.T, prefix string, d *vfs.OFD, n *modelNode) {
	got, err := d.ReadDirectory()
	if err != nil {
		t.Fatalf("read-directory %q: %v", prefix, err)
	}
	if want := n.entries(); !slices.Equal(got, want) {
		t.Fatalf("directory %q holds %v, model %v", prefix, got, want)
	}
	for _, e := range got {
		p := prefix + e.Name
		c := n.ents[e.Name]
		st, err := s.root.StatAt(0, p)
		if err != nil {
			t.Fatalf("stat-at %q: %v", p, err)
		}
		if st.Type != c.typ || st.LinkCount != c.linkCount() || st.Size != uint64(c.size) && c.typ != vfs.TypeDirectory {
			t.Fatalf("stat-at %q: %v links %d size %d, model %v links %d size %d", p, st.Type, st.LinkCount, st.Size, c.typ, c.linkCount(), c.size)
		}
		switch c.typ {
		case vfs.TypeSymbolicLink:
			if target, err := s.root.ReadlinkAt(p); err != nil || target != string(c.data) {
				t.Fatalf("readlink-at %q: %q %v, model %q", p, target, err, c.data)
			}
		case vfs.TypeDirectory:
			sub, err := s.root.OpenAt(0, p, vfs.OpenDirectory, vfs.Read)
			if err != nil {
				t.Fatalf("open directory %q: %v", p, err)
			}
			s.compareDir(t, p+"/", sub, c)
			sub.DecRef() //nolint:errcheck
		}
	}
}

// TestVFSMatchesModel is suite 1: random operation sequences on vfs and on
// the reference model must give the same results and the same tree after
// every step.
func TestVFSMatchesModel(t *testing.T) {
	soak.Check(t, 300, func(t *rapid.T) {
		fs := vfs.New(vfs.Options{})
		s := &vfsMachine{fs: fs, root: fs.Root(vfs.Read | vfs.MutateDirectory), m: newModel()}
		t.Repeat(s.actions())
	})
}
