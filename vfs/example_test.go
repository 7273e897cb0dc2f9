package vfs_test

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// Open a file relative to a preopened root, write and read it back.
func Example() {
	fsys := vfs.New(vfs.Options{})
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	defer root.DecRef()

	if err := root.CreateDirectoryAt("docs"); err != nil {
		panic(err)
	}
	f, err := root.OpenAt(0, "docs/hello.txt", vfs.OpenCreate, vfs.Read|vfs.Write)
	if err != nil {
		panic(err)
	}
	f.WriteAt([]byte("hello, "), 0)
	f.Append([]byte("world"))
	buf := make([]byte, 64)
	n, _ := f.ReadAt(buf, 0)
	fmt.Printf("%s\n", buf[:n])
	f.DecRef()

	ents, _ := root.ReadDirectory()
	fmt.Println(ents)
	// Output:
	// hello, world
	// [{docs directory}]
}

// Paths cannot leave their base directory, even temporarily.
func ExampleOFD_OpenAt_sandbox() {
	fsys := vfs.New(vfs.Options{})
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	root.CreateDirectoryAt("a")
	root.SymlinkAt("/etc/passwd", "a/abs")
	a, _ := root.OpenAt(0, "a", vfs.OpenDirectory, vfs.Read)

	for _, p := range []string{"/a", "a/../../a", "..", "abs", ""} {
		base := root
		if p == ".." || p == "abs" {
			base = a
		}
		_, err := base.OpenAt(vfs.SymlinkFollow, p, 0, vfs.Read)
		fmt.Printf("%q: %v\n", p, err)
	}
	_, err := root.StatAt(0, "missing")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// "/a": not-permitted
	// "a/../../a": not-permitted
	// "..": not-permitted
	// "abs": not-permitted
	// "": no-entry
	// true
}

// An unlinked file stays readable while open; its memory is freed at the
// last DecRef.
func ExampleOFD_DecRef() {
	fsys := vfs.New(vfs.Options{})
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	f, _ := root.OpenAt(0, "tmp", vfs.OpenCreate, vfs.Read|vfs.Write)
	f.WriteAt(make([]byte, 1000), 0)
	f.IncRef() // say, an in-flight stream

	root.UnlinkFileAt("tmp")
	fmt.Println("after unlink:", fsys.Usage())
	f.DecRef()
	fmt.Println("after first DecRef:", fsys.Usage())
	f.DecRef()
	fmt.Println("after last DecRef:", fsys.Usage())
	fmt.Println(f.DecRef())
	// Output:
	// after unlink: {1000 2}
	// after first DecRef: {1000 2}
	// after last DecRef: {0 1}
	// vfs: reference count misuse: DecRef on released ofd#2 (/tmp)
}

// Two tasks of a world contend for an exclusive lock; the loser waits on
// the world's scheduler until the winner's OFD is released.
func ExampleOFD_Lock() {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	fsys := vfs.New(vfs.Options{World: w})
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	f, _ := root.OpenAt(0, "lockfile", vfs.OpenCreate, vfs.Write)
	f.DecRef()

	for _, name := range []string{"a", "b"} {
		w.Go(name, func(t *sim.Task) error {
			d, err := root.OpenAt(0, "lockfile", 0, vfs.Read)
			if err != nil {
				return err
			}
			if err := d.Lock(vfs.LockExclusive); err != nil {
				return err
			}
			w.Yield() // the other task may run now, and must wait
			return d.DecRef()
		})
	}
	res := w.Run()
	fmt.Println("ok:", !res.Failed())
	for _, e := range w.Trace().Events {
		if e.Kind == "lock" || e.Kind == "release" && e.Obj != "ofd#2" {
			fmt.Println(e.Kind, e.Obj, e.Detail)
		}
	}
	// Output:
	// ok: true
	// lock ofd#3 exclusive inode 2
	// release ofd#3 close /lockfile
	// release ofd#3 unlock exclusive inode 2
	// lock ofd#4 exclusive inode 2
	// release ofd#4 close /lockfile
	// release ofd#4 unlock exclusive inode 2
}

// The io/fs view works with the standard library's helpers.
func ExampleFS_IOFS() {
	fsys := vfs.New(vfs.Options{})
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	root.CreateDirectoryAt("a")
	f, _ := root.OpenAt(0, "a/b.txt", vfs.OpenCreate, vfs.Write)
	f.WriteAt([]byte("B"), 0)
	f.DecRef()

	fs.WalkDir(fsys.IOFS(), ".", func(p string, d fs.DirEntry, err error) error {
		fmt.Println(p, d.IsDir())
		return err
	})
	// Output:
	// . true
	// a true
	// a/b.txt false
}
