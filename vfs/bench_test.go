package vfs

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/spf13/afero"
)

// benchFiles is the directory size of the mixed workload.
const benchFiles = 1000

var payload = make([]byte, 4096)

// BenchmarkMixed runs one workload on vfs (native API and through the
// afero adapter), afero.NewMemMapFs and the OS (b.TempDir) in one run.
// One iteration: in a fresh directory, for each of 1,000 files create it,
// write 4 KiB, close it and stat it; read the directory (1,000 entries);
// rename every file.
func BenchmarkMixed(b *testing.B) {
	names := make([]string, benchFiles)
	renamed := make([]string, benchFiles)
	for i := range names {
		names[i] = "file" + strconv.Itoa(i)
		renamed[i] = "moved" + strconv.Itoa(i)
	}
	b.Run("vfs", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			f := New(Options{})
			r := f.Root(Read | MutateDirectory)
			must(b, r.CreateDirectoryAt("d"))
			d, err := r.OpenAt(0, "d", OpenDirectory, Read|MutateDirectory)
			must(b, err)
			for _, n := range names {
				fd, err := d.OpenAt(0, n, OpenCreate|OpenTruncate, Write)
				must(b, err)
				if _, err := fd.WriteAt(payload, 0); err != nil {
					b.Fatal(err)
				}
				must(b, fd.DecRef())
				if _, err := d.StatAt(0, n); err != nil {
					b.Fatal(err)
				}
			}
			ents, err := d.ReadDirectory()
			if err != nil || len(ents) != benchFiles {
				b.Fatal(len(ents), err)
			}
			for j, n := range names {
				must(b, d.RenameAt(n, d, renamed[j]))
			}
			d.DecRef()
			r.DecRef()
		}
	})
	aferoWorkload := func(b *testing.B, mk func(b *testing.B) (afero.Fs, string)) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			fsys, dir := mk(b)
			b.StartTimer()
			must(b, fsys.Mkdir(dir, 0o755))
			for _, n := range names {
				p := dir + "/" + n
				fl, err := fsys.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
				must(b, err)
				if _, err := fl.Write(payload); err != nil {
					b.Fatal(err)
				}
				must(b, fl.Close())
				if _, err := fsys.Stat(p); err != nil {
					b.Fatal(err)
				}
			}
			dd, err := fsys.Open(dir)
			must(b, err)
			ents, err := dd.Readdirnames(-1)
			if err != nil || len(ents) != benchFiles {
				b.Fatal(len(ents), err)
			}
			dd.Close()
			for j, n := range names {
				must(b, fsys.Rename(dir+"/"+n, dir+"/"+renamed[j]))
			}
		}
	}
	b.Run("vfs-afero", func(b *testing.B) {
		aferoWorkload(b, func(*testing.B) (afero.Fs, string) { return NewAferoFs(New(Options{})), "/d" })
	})
	b.Run("afero-memmap", func(b *testing.B) {
		aferoWorkload(b, func(*testing.B) (afero.Fs, string) { return afero.NewMemMapFs(), "/d" })
	})
	b.Run("os", func(b *testing.B) {
		tmp := b.TempDir()
		n := 0
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			n++
			dir := filepath.Join(tmp, "d"+strconv.Itoa(n))
			must(b, os.Mkdir(dir, 0o755))
			for _, name := range names {
				p := filepath.Join(dir, name)
				fl, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
				must(b, err)
				if _, err := fl.Write(payload); err != nil {
					b.Fatal(err)
				}
				must(b, fl.Close())
				if _, err := os.Stat(p); err != nil {
					b.Fatal(err)
				}
			}
			ents, err := os.ReadDir(dir)
			if err != nil || len(ents) != benchFiles {
				b.Fatal(len(ents), err)
			}
			for j, name := range names {
				must(b, os.Rename(filepath.Join(dir, name), filepath.Join(dir, renamed[j])))
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
}

// BenchmarkEmptyInode measures the heap bytes per empty regular file
// (inode plus directory entry, name included) and per empty directory,
// reported as B/inode.
func BenchmarkEmptyInode(b *testing.B) {
	const n = 20000
	names := make([]string, n)
	for i := range names {
		names[i] = "f" + strconv.Itoa(i) // names made up front: their bytes count, the slice does not
	}
	for _, kind := range []string{"file", "dir"} {
		b.Run(kind, func(b *testing.B) {
			var total float64
			for i := 0; i < b.N; i++ {
				f := New(Options{})
				r := f.Root(Read | MutateDirectory)
				var ms0, ms1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				for _, name := range names {
					if kind == "dir" {
						must(b, r.CreateDirectoryAt(name))
					} else {
						d, err := r.OpenAt(0, name, OpenCreate, Write)
						must(b, err)
						d.DecRef()
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				total += float64(ms1.HeapAlloc-ms0.HeapAlloc) / n
				runtime.KeepAlive(f)
				runtime.KeepAlive(r)
			}
			b.ReportMetric(total/float64(b.N), "B/inode")
		})
	}
}

// BenchmarkResolve measures resolving a five-component path.
func BenchmarkResolve(b *testing.B) {
	_, r := newTestFS(b, Options{})
	must(b, r.CreateDirectoryAt("a"))
	must(b, r.CreateDirectoryAt("a/b"))
	must(b, r.CreateDirectoryAt("a/b/c"))
	must(b, r.CreateDirectoryAt("a/b/c/d"))
	writeFile(b, r, "a/b/c/d/e", "x")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := r.StatAt(0, "a/b/c/d/e"); err != nil {
			b.Fatal(err)
		}
	}
}
