package host

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// roTree fills fs with the tree the read-only tests share:
//
//	ro/secret      "s3cret"
//	ro/lnk      -> secret
//	ro/sub/inner   "inner"
//	rw/own         "own"
func roTree(t testing.TB, fs *vfs.FS) {
	t.Helper()
	root := fs.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef() //nolint:errcheck
	for _, d := range []string{"ro", "ro/sub", "rw"} {
		if err := root.CreateDirectoryAt(d); err != nil {
			t.Fatal(err)
		}
	}
	for path, data := range map[string]string{"ro/secret": "s3cret", "ro/sub/inner": "inner", "rw/own": "own"} {
		f, err := root.OpenAt(0, path, vfs.OpenCreate, vfs.Write)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt([]byte(data), 0)
		f.DecRef() //nolint:errcheck
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := root.SymlinkAt("secret", "ro/lnk"); err != nil {
		t.Fatal(err)
	}
}

// treeSnapshot describes everything under dir that a change could touch:
// names, types, link counts, sizes, modification and change times,
// contents and symlink targets (not access times: reading is allowed).
func treeSnapshot(fs *vfs.FS, dir string) (string, error) {
	root := fs.Root(vfs.Read)
	defer root.DecRef() //nolint:errcheck
	var lines []string
	var walk func(dir string) error
	walk = func(dir string) error {
		d, err := root.OpenAt(0, dir, vfs.OpenDirectory, vfs.Read)
		if err != nil {
			return err
		}
		defer d.DecRef() //nolint:errcheck
		ents, err := d.ReadDirectory()
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := dir + "/" + e.Name
			st, err := root.StatAt(0, p)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%s %v ino=%d nlink=%d size=%d mtime=%v ctime=%v", p, st.Type, st.Inode, st.LinkCount, st.Size, st.Mtime, st.Ctime)
			switch st.Type {
			case vfs.TypeDirectory:
				if err := walk(p); err != nil {
					return err
				}
			case vfs.TypeSymbolicLink:
				target, err := root.ReadlinkAt(p)
				if err != nil {
					return err
				}
				line += " -> " + target
			default:
				f, err := root.OpenAt(0, p, 0, vfs.Read)
				if err != nil {
					return err
				}
				buf := make([]byte, st.Size)
				_, err = f.ReadAt(buf, 0)
				f.DecRef() //nolint:errcheck
				if err != nil {
					return err
				}
				line += fmt.Sprintf(" %q", buf)
			}
			lines = append(lines, line)
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return "", err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

// writeVia writes data to fd through write-via-stream and returns the
// write's result.
func writeVia(in *Instance, fd Handle, data string) error {
	r, w, err := in.NewStream()
	if err != nil {
		return err
	}
	fut, err := in.WriteViaStream(fd, r, 0)
	if err != nil {
		return err
	}
	_, _, werr := in.WriteAll(w, []byte(data))
	derr := in.Drop(w)
	res, trap := in.Await(fut)
	return errors.Join(res, trap, werr, derr, in.Drop(fut))
}

// A read-only preopen stays read-only: no operation, alone or chained
// with others (a hard link into a writable preopen, a rename across
// preopens, a symlink, an open with truncate, set-times), hands out a
// writable path to what only it reaches, and nothing under it changes.
// The control rows do the same through the writable preopen.
func TestReadOnlyPreopenStaysReadOnly(t *testing.T) {
	stamp := vfs.NewTimestamp{Kind: vfs.Timestamp, Time: time.Unix(1, 0)}
	for _, tc := range []struct {
		name   string
		attack func(in *Instance, ro, rw Handle) error
		want   error
	}{
		{"link-at into the writable preopen, then write", func(in *Instance, ro, rw Handle) error {
			if err := in.LinkAt(ro, 0, "secret", rw, "x"); err != nil {
				return err
			}
			fd, err := in.OpenAt(rw, 0, "x", 0, vfs.Write)
			if err != nil {
				return err
			}
			return errors.Join(writeVia(in, fd, "pwned"), in.Drop(fd))
		}, vfs.ErrNotPermitted},
		{"link-at following a symlink", func(in *Instance, ro, rw Handle) error {
			return in.LinkAt(ro, vfs.SymlinkFollow, "lnk", rw, "x")
		}, vfs.ErrNotPermitted},
		{"link-at from a directory opened under it", func(in *Instance, ro, rw Handle) error {
			sub, err := in.OpenAt(ro, 0, "sub", vfs.OpenDirectory, vfs.Read)
			if err != nil {
				return err
			}
			return errors.Join(in.LinkAt(sub, 0, "inner", rw, "x"), in.Drop(sub))
		}, vfs.ErrNotPermitted},
		{"link-at into it", func(in *Instance, ro, rw Handle) error {
			return in.LinkAt(rw, 0, "own", ro, "own")
		}, vfs.ErrReadOnly},
		{"rename-at out of it", func(in *Instance, ro, rw Handle) error {
			return in.RenameAt(ro, "secret", rw, "x")
		}, vfs.ErrReadOnly},
		{"rename-at into it", func(in *Instance, ro, rw Handle) error {
			return in.RenameAt(rw, "own", ro, "secret")
		}, vfs.ErrReadOnly},
		{"symlink from the writable preopen to it, then write", func(in *Instance, ro, rw Handle) error {
			if err := in.SymlinkAt(rw, "../ro/secret", "l"); err != nil {
				return err
			}
			fd, err := in.OpenAt(rw, vfs.SymlinkFollow, "l", 0, vfs.Write)
			if err != nil {
				return err
			}
			return errors.Join(writeVia(in, fd, "pwned"), in.Drop(fd))
		}, vfs.ErrNotPermitted},
		{"symlink-at in it", func(in *Instance, ro, rw Handle) error {
			return in.SymlinkAt(ro, "secret", "l")
		}, vfs.ErrReadOnly},
		{"open-at with truncate", func(in *Instance, ro, rw Handle) error {
			_, err := in.OpenAt(ro, 0, "secret", vfs.OpenTruncate, vfs.Read)
			return err
		}, vfs.ErrReadOnly},
		{"open-at for writing through a symlink", func(in *Instance, ro, rw Handle) error {
			_, err := in.OpenAt(ro, vfs.SymlinkFollow, "lnk", 0, vfs.Write)
			return err
		}, vfs.ErrReadOnly},
		{"open-at with create", func(in *Instance, ro, rw Handle) error {
			_, err := in.OpenAt(ro, 0, "new", vfs.OpenCreate, vfs.Write)
			return err
		}, vfs.ErrReadOnly},
		{"open-at of a directory with mutate-directory", func(in *Instance, ro, rw Handle) error {
			_, err := in.OpenAt(ro, 0, "sub", vfs.OpenDirectory, vfs.Read|vfs.MutateDirectory)
			return err
		}, vfs.ErrReadOnly},
		{"open-at for writing under a directory opened under it", func(in *Instance, ro, rw Handle) error {
			sub, err := in.OpenAt(ro, 0, "sub", vfs.OpenDirectory, vfs.Read)
			if err != nil {
				return err
			}
			_, err = in.OpenAt(sub, 0, "inner", 0, vfs.Write)
			return errors.Join(err, in.Drop(sub))
		}, vfs.ErrReadOnly},
		{"write-via-stream on a file opened for reading", func(in *Instance, ro, rw Handle) error {
			fd, err := in.OpenAt(ro, 0, "secret", 0, vfs.Read)
			if err != nil {
				return err
			}
			return errors.Join(writeVia(in, fd, "pwned"), in.Drop(fd))
		}, vfs.ErrBadDescriptor},
		{"set-size on a file opened for reading", func(in *Instance, ro, rw Handle) error {
			fd, err := in.OpenAt(ro, 0, "secret", 0, vfs.Read)
			if err != nil {
				return err
			}
			return errors.Join(in.SetSize(fd, 0), in.Drop(fd))
		}, vfs.ErrBadDescriptor},
		{"set-times on a file opened for reading", func(in *Instance, ro, rw Handle) error {
			fd, err := in.OpenAt(ro, 0, "secret", 0, vfs.Read)
			if err != nil {
				return err
			}
			return errors.Join(in.SetTimes(fd, stamp, stamp), in.Drop(fd))
		}, vfs.ErrReadOnly},
		{"set-times on the preopen", func(in *Instance, ro, rw Handle) error {
			return in.SetTimes(ro, stamp, stamp)
		}, vfs.ErrReadOnly},
		{"set-times-at", func(in *Instance, ro, rw Handle) error {
			return in.SetTimesAt(ro, 0, "secret", stamp, stamp)
		}, vfs.ErrReadOnly},
		{"unlink-file-at", func(in *Instance, ro, rw Handle) error { return in.UnlinkFileAt(ro, "secret") }, vfs.ErrReadOnly},
		{"create-directory-at", func(in *Instance, ro, rw Handle) error { return in.CreateDirectoryAt(ro, "d") }, vfs.ErrReadOnly},
		{"remove-directory-at", func(in *Instance, ro, rw Handle) error { return in.RemoveDirectoryAt(ro, "sub") }, vfs.ErrReadOnly},

		// Controls: the writable preopen allows each of these.
		{"control: link-at within the writable preopen, then write", func(in *Instance, ro, rw Handle) error {
			if err := in.LinkAt(rw, 0, "own", rw, "x"); err != nil {
				return err
			}
			fd, err := in.OpenAt(rw, 0, "x", 0, vfs.Write)
			if err != nil {
				return err
			}
			return errors.Join(writeVia(in, fd, "mine"), in.Drop(fd))
		}, nil},
		{"control: set-times in the writable preopen", func(in *Instance, ro, rw Handle) error {
			fd, err := in.OpenAt(rw, 0, "own", 0, vfs.Read)
			if err != nil {
				return err
			}
			return errors.Join(in.SetTimes(fd, stamp, stamp), in.Drop(fd))
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.MustNew(sim.Config{Seed: 1})
			fs := vfs.New(vfs.Options{World: w})
			roTree(t, fs)
			before, err := treeSnapshot(fs, "ro")
			if err != nil {
				t.Fatal(err)
			}
			h, err := New(w, Options{FS: fs, Preopens: []Preopen{{Path: "/ro", Dir: "ro", ReadOnly: true}, {Path: "/rw", Dir: "rw"}}})
			if err != nil {
				t.Fatal(err)
			}
			in := h.NewInstance("guest")
			var got error
			w.Go("guest", func(*sim.Task) error {
				pre, err := in.Preopens()
				if err != nil {
					return err
				}
				got = tc.attack(in, pre[0].Handle, pre[1].Handle)
				return in.DropAll()
			})
			if err := w.Run().Error(); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			after, err := treeSnapshot(fs, "ro")
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("the read-only tree changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}
