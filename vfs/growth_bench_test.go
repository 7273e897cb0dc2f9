package vfs

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// growthSizes are the directory sizes of BenchmarkFilesGrowth; the 1e6 one
// (about 4 s of setup and 300 MB) is left out under -short.
func growthSizes() []int {
	if testing.Short() {
		return []int{1e3, 1e4, 1e5}
	}
	return []int{1e3, 1e4, 1e5, 1e6}
}

// BenchmarkFilesGrowth is how vfs cost grows with the number of files. For
// each size n, the setup creates n empty files in one directory and reports
// populate-ns/file (creating them) and B/inode (heap per file, directory
// entry and name included). Each timed iteration is one mix of 7 operations
// in that directory: create a new file, write 4 KiB, close it, stat an
// existing file, open and close another existing file, rename the new file,
// unlink it. ops/s counts operations, not iterations.
func BenchmarkFilesGrowth(b *testing.B) {
	const opsPerIter = 7
	for _, n := range growthSizes() {
		b.Run("files="+strconv.Itoa(n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = "file" + strconv.Itoa(i)
			}
			h0 := heapInUse()
			start := time.Now()
			f := New(Options{})
			r := f.Root(Read | MutateDirectory)
			must(b, r.CreateDirectoryAt("d"))
			d, err := r.OpenAt(0, "d", OpenDirectory, Read|MutateDirectory)
			must(b, err)
			for _, name := range names {
				fd, err := d.OpenAt(0, name, OpenCreate, Write)
				must(b, err)
				fd.DecRef()
			}
			populate := time.Since(start)
			h1 := heapInUse()

			b.ReportAllocs()
			x := uint64(1)
			for b.Loop() {
				x = x*6364136223846793005 + 1442695040888963407 // LCG: spread lookups over the directory
				fd, err := d.OpenAt(0, "new", OpenCreate|OpenExclusive, Write)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := fd.WriteAt(payload, 0); err != nil {
					b.Fatal(err)
				}
				fd.DecRef()
				if _, err := d.StatAt(0, names[(x>>33)%uint64(n)]); err != nil {
					b.Fatal(err)
				}
				o, err := d.OpenAt(0, names[(x>>17)%uint64(n)], 0, Read)
				if err != nil {
					b.Fatal(err)
				}
				o.DecRef()
				if err := d.RenameAt("new", d, "renamed"); err != nil {
					b.Fatal(err)
				}
				if err := d.UnlinkFileAt("renamed"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*opsPerIter/b.Elapsed().Seconds(), "ops/s")
			// Reported after the loop: b.Loop's first call resets metrics.
			b.ReportMetric(float64(populate.Nanoseconds())/float64(n), "populate-ns/file")
			b.ReportMetric((float64(h1)-float64(h0))/float64(n), "B/inode")
			runtime.KeepAlive(f)
			runtime.KeepAlive(r)
			d.DecRef()
		})
	}
}

// BenchmarkObjectMemory is heap bytes per object as the number of objects
// grows: empty files (inodes with their directory entries), and open file
// descriptions of one file (each OpenAt makes a new OFD). Flat B/object
// across sizes means memory is linear in the number of objects.
func BenchmarkObjectMemory(b *testing.B) {
	for _, kind := range []string{"inodes", "ofds"} {
		for _, n := range []int{1e3, 1e4, 1e5} {
			b.Run(kind+"/n="+strconv.Itoa(n), func(b *testing.B) {
				names := make([]string, n)
				for i := range names {
					names[i] = "f" + strconv.Itoa(i)
				}
				held := make([]*OFD, 0, n)
				var total float64
				for b.Loop() {
					f := New(Options{})
					r := f.Root(Read | MutateDirectory)
					writeFile(b, r, "shared", "x")
					held = held[:0]
					h0 := heapInUse()
					for _, name := range names {
						if kind == "inodes" {
							d, err := r.OpenAt(0, name, OpenCreate, Write)
							must(b, err)
							d.DecRef()
						} else {
							d, err := r.OpenAt(0, "shared", 0, Read)
							must(b, err)
							held = append(held, d) // slice preallocated: not counted
						}
					}
					h1 := heapInUse()
					total += (float64(h1) - float64(h0)) / float64(n)
					for _, d := range held {
						d.DecRef()
					}
					clear(held) // else the next round's baseline still holds this FS
					runtime.KeepAlive(r)
				}
				b.ReportMetric(total/float64(b.N), "B/"+kind[:len(kind)-1])
			})
		}
	}
}
