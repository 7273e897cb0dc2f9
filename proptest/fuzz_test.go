package proptest

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// FuzzFileCase decodes a whole files case — program, variant, chunk size
// and every scheduling choice — from the fuzzer's bytes (rapid.MakeFuzz)
// and checks it like the suite does.
func FuzzFileCase(f *testing.F) {
	for _, s := range [][]byte{nil, make([]byte, 64), []byte("\x01\x02\x03\x04\x05\x06\x07\x08wasisim-files-seed")} {
		f.Add(s)
	}
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		checkCase(t, fileCaseGen(nil).Draw(t, "case"))
	}))
}

// FuzzSocketCase is FuzzFileCase for the sockets suite.
func FuzzSocketCase(f *testing.F) {
	for _, s := range [][]byte{nil, make([]byte, 64), []byte("\x01\x02\x03\x04\x05\x06\x07\x08wasisim-sockets-seed")} {
		f.Add(s)
	}
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		checkCase(t, socketCaseGen().Draw(t, "case"))
	}))
}

// FuzzVFSModel runs the vfs-vs-model state machine on operation sequences
// decoded from the fuzzer's bytes.
func FuzzVFSModel(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x00\x00\x00\x00\x00\x00\x00\x07\x01\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		fs := vfs.New(vfs.Options{})
		s := &vfsMachine{fs: fs, root: fs.Root(vfs.Read | vfs.MutateDirectory), m: newModel()}
		t.Repeat(s.actions())
	}))
}

// FuzzHostPathResolution resolves arbitrary paths through the host
// (open-at, stat-at, unlink-file-at, create-directory-at on a preopen of
// /sandbox) with SymlinkFollow either way. Whatever the path, no call may
// panic, every failure must be a WASI error code (or a would-block-free
// result), and nothing outside the sandbox — the file /secret, reachable
// from inside only by escaping — may ever be opened, stat'ed or changed.
func FuzzHostPathResolution(f *testing.F) {
	for _, p := range []string{"f", "in/f", "../secret", "up/secret", "abs", "loop", "in/../f", "in/../../secret",
		"", "/secret", "f/", "in//f", ".", "..", "in/./f", "link-in/f", strings.Repeat("a/", 200) + "f"} {
		f.Add(p, true)
		f.Add(p, false)
	}
	f.Fuzz(func(t *testing.T, path string, follow bool) {
		w := sim.MustNew(sim.Config{Seed: 1})
		fs := vfs.New(vfs.Options{World: w})
		root := fs.Root(vfs.Read | vfs.MutateDirectory)
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(root.CreateDirectoryAt("sandbox"))
		must(root.CreateDirectoryAt("sandbox/in"))
		secret, err := root.OpenAt(0, "secret", vfs.OpenCreate, vfs.Write)
		must(err)
		_, err = secret.WriteAt([]byte("top secret"), 0)
		must(err)
		secretSt, _ := secret.Stat()
		must(secret.DecRef())
		for _, l := range [][2]string{{"../secret", "sandbox/up"}, {"/secret", "sandbox/abs"}, {"loop", "sandbox/loop"}, {"in", "sandbox/link-in"}, {"../../secret", "sandbox/in/deep"}} {
			must(root.SymlinkAt(l[0], l[1]))
		}
		fd, err := root.OpenAt(0, "sandbox/f", vfs.OpenCreate, vfs.Write)
		must(err)
		must(fd.DecRef())
		must(root.DecRef())
		// A preopen of "sandbox" itself cannot be made (see
		// TestBugPreopenSubdirectory): the guest opens it from the root.
		h, err := host.New(w, host.Options{FS: fs})
		must(err)
		in := h.NewInstance("guest")
		var pf vfs.PathFlags
		if follow {
			pf = vfs.SymlinkFollow
		}
		var problems []string
		w.Go("guest", func(*sim.Task) error {
			pre, err := in.Preopens()
			if err != nil {
				return err
			}
			base, err := in.OpenAt(pre[0].Handle, 0, "sandbox", vfs.OpenDirectory, vfs.Read|vfs.MutateDirectory)
			if err != nil {
				return err
			}
			isCode := func(op string, err error) {
				var code vfs.ErrorCode
				if err != nil && !errors.As(err, &code) {
					problems = append(problems, op+": not an error code: "+err.Error())
				}
			}
			if st, err := in.StatAt(base, pf, path); err == nil && st.Inode == secretSt.Inode {
				problems = append(problems, "stat-at reached /secret")
			} else {
				isCode("stat-at", err)
			}
			if fd, err := in.OpenAt(base, pf, path, 0, vfs.Read); err == nil {
				if st, _ := in.Stat(fd); st.Inode == secretSt.Inode {
					problems = append(problems, "open-at reached /secret")
				}
				in.Drop(fd) //nolint:errcheck
			} else {
				isCode("open-at", err)
			}
			isCode("create-directory-at", in.CreateDirectoryAt(base, path))
			isCode("unlink-file-at", in.UnlinkFileAt(base, path))
			return in.DropAll()
		})
		res := w.Run()
		if err := res.Error(); err != nil {
			t.Fatalf("path %q: %v", path, err)
		}
		if len(problems) > 0 {
			t.Fatalf("path %q follow=%v: %v", path, follow, problems)
		}
		chk := fs.Root(vfs.Read)
		st, err := chk.StatAt(0, "secret")
		if err != nil || st.Inode != secretSt.Inode || st.Size != secretSt.Size {
			t.Fatalf("path %q changed /secret: %+v %v", path, st, err)
		}
		chk.DecRef() //nolint:errcheck
	})
}

// TestBugPreopenSubdirectory shows a bug in host.New: a writable preopen of
// a subdirectory (Preopen{Dir: "sandbox"}, ReadOnly false) fails with
// is-directory, because New opens the directory with descriptor flags
// read|write|mutate-directory and vfs refuses write on a directory. Only
// "." (the root) or ReadOnly preopens work.
func TestBugPreopenSubdirectory(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	fs := vfs.New(vfs.Options{World: w})
	root := fs.Root(vfs.Read | vfs.MutateDirectory)
	if err := root.CreateDirectoryAt("data"); err != nil {
		t.Fatal(err)
	}
	root.DecRef() //nolint:errcheck
	if _, err := host.New(w, host.Options{FS: fs, Preopens: []host.Preopen{{Path: "/data", Dir: "data"}}}); err != nil {
		t.Fatalf("writable preopen of a subdirectory: %v", err)
	}
}
