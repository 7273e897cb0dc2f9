package proptest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// roOp is one guest call of the read-only suite. Base and Fd pick among
// the directories and files the guest holds (modulo their number); Path,
// Path2 and Target come from small pools that reach across the two
// preopens, through symlinks and "..".
type roOp struct {
	Kind             string
	Base, Base2, Fd  int
	Path, Path2      string
	Follow           bool
	Open             vfs.OpenFlags
	Flags            vfs.DescFlags
	SetMtime, SetNow bool
}

var (
	roPaths   = []string{"secret", "lnk", "sub", "sub/inner", "sub/../secret", ".", "x", "y", "l", "own", "new", "../ro/secret", "sub/x"}
	roTargets = []string{"secret", "sub/inner", "../ro/secret", "../rw/own", "x", "sub"}
	roKinds   = []string{"open", "open", "open", "link", "link", "rename", "symlink", "set-times", "set-times-at", "set-size", "write", "unlink", "mkdir", "rmdir", "drop"}
)

func roOpGen() *rapid.Generator[roOp] {
	return rapid.Custom(func(t *rapid.T) roOp {
		return roOp{
			Kind:     rapid.SampledFrom(roKinds).Draw(t, "kind"),
			Base:     rapid.IntRange(0, 5).Draw(t, "base"),
			Base2:    rapid.IntRange(0, 5).Draw(t, "base2"),
			Fd:       rapid.IntRange(0, 5).Draw(t, "fd"),
			Path:     rapid.SampledFrom(roPaths).Draw(t, "path"),
			Path2:    rapid.SampledFrom(append(roPaths, roTargets...)).Draw(t, "path2"),
			Follow:   rapid.Bool().Draw(t, "follow"),
			Open:     vfs.OpenFlags(rapid.IntRange(0, 15).Draw(t, "open")),
			Flags:    vfs.DescFlags(rapid.SampledFrom([]vfs.DescFlags{vfs.Read, vfs.Write, vfs.Read | vfs.Write, vfs.Read | vfs.MutateDirectory}).Draw(t, "flags")),
			SetMtime: rapid.Bool().Draw(t, "set-mtime"),
			SetNow:   rapid.Bool().Draw(t, "set-now"),
		}
	})
}

// TestReadOnlyPreopenStaysReadOnly is the read-only suite: a guest with a
// read-only preopen /ro and a writable one /rw (disjoint trees) runs a
// random program of open-at (any flags, following symlinks or not),
// link-at and rename-at across any two directories it holds, symlink-at
// with targets that point across, set-times, set-times-at, set-size,
// write-via-stream, unlink, mkdir and rmdir. After every call, nothing
// under ro has changed (names, types, link counts, sizes, times but access
// times, contents, symlink targets), and no descriptor the guest holds
// with write access is a file of ro.
func TestReadOnlyPreopenStaysReadOnly(t *testing.T) {
	soak.Check(t, 300, func(t *rapid.T) {
		prog := rapid.SliceOfN(roOpGen(), 1, 30).Draw(t, "program")
		if err := runReadOnlyProgram(prog); err != nil {
			t.Fatal(err)
		}
	})
}

func runReadOnlyProgram(prog []roOp) error {
	w := sim.MustNew(sim.Config{Seed: 1})
	fs := vfs.New(vfs.Options{World: w})
	if err := roFixture(fs); err != nil {
		return err
	}
	before, roInodes, err := roSnapshot(fs)
	if err != nil {
		return err
	}
	h, err := host.New(w, host.Options{FS: fs, Preopens: []host.Preopen{{Path: "/ro", Dir: "ro", ReadOnly: true}, {Path: "/rw", Dir: "rw"}}})
	if err != nil {
		return err
	}
	in := h.NewInstance("guest")
	var failure error
	w.Go("guest", func(*sim.Task) error {
		pre, err := in.Preopens()
		if err != nil {
			return err
		}
		dirs := []host.Handle{pre[0].Handle, pre[1].Handle}
		var files []host.Handle
		for i, op := range prog {
			roStep(in, op, &dirs, &files)
			if err := roCheck(fs, in, files, before, roInodes); err != nil {
				failure = fmt.Errorf("after step %d %+v: %w", i, op, err)
				break
			}
		}
		return in.DropAll()
	})
	if err := w.Run().Error(); err != nil {
		return err
	}
	return failure
}

// roStep runs one call; its errors are part of the program's behaviour,
// not failures.
func roStep(in *host.Instance, op roOp, dirs, files *[]host.Handle) {
	base := (*dirs)[op.Base%len(*dirs)]
	base2 := (*dirs)[op.Base2%len(*dirs)]
	var pf vfs.PathFlags
	if op.Follow {
		pf = vfs.SymlinkFollow
	}
	stamp := vfs.NewTimestamp{Kind: vfs.Timestamp, Time: time.Unix(7, 0)}
	if op.SetNow {
		stamp = vfs.NewTimestamp{Kind: vfs.Now}
	}
	none := vfs.NewTimestamp{Kind: vfs.NoChange}
	switch op.Kind {
	case "open":
		fd, err := in.OpenAt(base, pf, op.Path, op.Open, op.Flags)
		if err != nil {
			return
		}
		if k, _ := in.GetType(fd); k == vfs.TypeDirectory {
			*dirs = append(*dirs, fd)
		} else {
			*files = append(*files, fd)
		}
	case "link":
		in.LinkAt(base, pf, op.Path, base2, op.Path2) //nolint:errcheck
	case "rename":
		in.RenameAt(base, op.Path, base2, op.Path2) //nolint:errcheck
	case "symlink":
		in.SymlinkAt(base, op.Path2, op.Path) //nolint:errcheck
	case "set-times-at":
		in.SetTimesAt(base, pf, op.Path, stamp, stamp) //nolint:errcheck
	case "unlink":
		in.UnlinkFileAt(base, op.Path) //nolint:errcheck
	case "mkdir":
		in.CreateDirectoryAt(base, op.Path) //nolint:errcheck
	case "rmdir":
		in.RemoveDirectoryAt(base, op.Path) //nolint:errcheck
	}
	// Calls on a descriptor: a file if the guest holds one, else a
	// directory (the preopens included).
	fd := base
	if len(*files) > 0 {
		fd = (*files)[op.Fd%len(*files)]
	}
	switch op.Kind {
	case "set-times":
		if op.SetMtime {
			in.SetTimes(fd, none, stamp) //nolint:errcheck
		} else {
			in.SetTimes(fd, stamp, none) //nolint:errcheck
		}
	case "set-size":
		in.SetSize(fd, 1) //nolint:errcheck
	case "write":
		roWrite(in, fd, "pwned") //nolint:errcheck
	case "drop":
		if len(*files) > 0 {
			i := op.Fd % len(*files)
			in.Drop((*files)[i]) //nolint:errcheck
			*files = append((*files)[:i], (*files)[i+1:]...)
		}
	}
}

func roWrite(in *host.Instance, fd host.Handle, data string) error {
	r, w, err := in.NewStream()
	if err != nil {
		return err
	}
	fut, err := in.WriteViaStream(fd, r, 0)
	if err != nil {
		return errors.Join(err, in.Drop(w))
	}
	_, _, werr := in.WriteAll(w, []byte(data))
	derr := in.Drop(w)
	res, trap := in.Await(fut)
	return errors.Join(res, trap, werr, derr, in.Drop(fut))
}

// roCheck is the suite's invariant.
func roCheck(fs *vfs.FS, in *host.Instance, files []host.Handle, before string, roInodes map[uint64]bool) error {
	now, _, err := roSnapshot(fs)
	if err != nil {
		return err
	}
	if now != before {
		return fmt.Errorf("the read-only tree changed:\n%s\nwas\n%s", now, before)
	}
	for _, fd := range files {
		fl, err := in.GetFlags(fd)
		if err != nil {
			return err
		}
		st, err := in.Stat(fd)
		if err != nil {
			return err
		}
		if fl&vfs.Write != 0 && roInodes[st.Inode] {
			return fmt.Errorf("descriptor %d writes inode %d of the read-only tree", fd, st.Inode)
		}
	}
	return nil
}

// roFixture is ro/{secret, lnk -> secret, sub/inner} and rw/own.
func roFixture(fs *vfs.FS) error {
	root := fs.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef() //nolint:errcheck
	for _, d := range []string{"ro", "ro/sub", "rw"} {
		if err := root.CreateDirectoryAt(d); err != nil {
			return err
		}
	}
	for _, f := range [][2]string{{"ro/secret", "s3cret"}, {"ro/sub/inner", "inner"}, {"rw/own", "own"}} {
		d, err := root.OpenAt(0, f[0], vfs.OpenCreate, vfs.Write)
		if err != nil {
			return err
		}
		_, err = d.WriteAt([]byte(f[1]), 0)
		if err := errors.Join(err, d.DecRef()); err != nil {
			return err
		}
	}
	return root.SymlinkAt("secret", "ro/lnk")
}

// roSnapshot describes the tree under ro (everything but access times)
// and lists its inodes.
func roSnapshot(fs *vfs.FS) (string, map[uint64]bool, error) {
	root := fs.Root(vfs.Read)
	defer root.DecRef() //nolint:errcheck
	inodes := map[uint64]bool{}
	var lines []string
	var walk func(dir string) error
	walk = func(dir string) error {
		d, err := root.OpenAt(0, dir, vfs.OpenDirectory, vfs.Read)
		if err != nil {
			return err
		}
		defer d.DecRef() //nolint:errcheck
		st, err := d.Stat()
		if err != nil {
			return err
		}
		inodes[st.Inode] = true
		lines = append(lines, fmt.Sprintf("%s/ nlink=%d mtime=%v ctime=%v", dir, st.LinkCount, st.Mtime.UnixNano(), st.Ctime.UnixNano()))
		ents, err := d.ReadDirectory()
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := dir + "/" + e.Name
			if e.Type == vfs.TypeDirectory {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			st, err := root.StatAt(0, p)
			if err != nil {
				return err
			}
			inodes[st.Inode] = true
			line := fmt.Sprintf("%s %v ino=%d nlink=%d size=%d mtime=%v ctime=%v", p, st.Type, st.Inode, st.LinkCount, st.Size, st.Mtime.UnixNano(), st.Ctime.UnixNano())
			if st.Type == vfs.TypeSymbolicLink {
				target, err := root.ReadlinkAt(p)
				if err != nil {
					return err
				}
				line += " -> " + target
			} else {
				f, err := root.OpenAt(0, p, 0, vfs.Read)
				if err != nil {
					return err
				}
				buf := make([]byte, st.Size)
				_, err = f.ReadAt(buf, 0)
				if err := errors.Join(err, f.DecRef()); err != nil {
					return err
				}
				line += fmt.Sprintf(" %q", buf)
			}
			lines = append(lines, line)
		}
		return nil
	}
	if err := walk("ro"); err != nil {
		return "", nil, err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), inodes, nil
}
