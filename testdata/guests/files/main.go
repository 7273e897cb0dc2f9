//go:build wasip1

// Command files exercises preview 1 file calls through Go's os package:
// create, write, append, read back, seek, rename, unlink while open,
// truncate, symlinks and readdir. It prints what it sees; the tests run it
// on wasisim and on wazero's own WASI over a real directory and compare.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: error %v\n", what, err)
	}
}

func main() {
	root := "/"
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	p := func(s string) string { return strings.TrimSuffix(root, "/") + "/" + s }

	check("mkdir", os.Mkdir(p("work"), 0o755))
	check("write a", os.WriteFile(p("work/a.txt"), []byte("hello"), 0o644))

	f, err := os.OpenFile(p("work/a.txt"), os.O_WRONLY|os.O_APPEND, 0)
	check("open append", err)
	if f != nil {
		_, err = f.WriteString(", world")
		check("append", err)
		check("close append", f.Close())
	}
	b, err := os.ReadFile(p("work/a.txt"))
	check("read a", err)
	fmt.Printf("a.txt = %q\n", b)

	// Seek and overwrite in place, then read at an offset.
	f, err = os.OpenFile(p("work/a.txt"), os.O_RDWR, 0)
	check("open rw", err)
	if f != nil {
		off, err := f.Seek(7, io.SeekStart)
		check("seek", err)
		_, err = f.WriteString("W")
		check("overwrite", err)
		end, err := f.Seek(0, io.SeekEnd)
		check("seek end", err)
		buf := make([]byte, 5)
		_, err = f.ReadAt(buf, 0)
		check("readat", err)
		fmt.Printf("seek %d end %d readat %q\n", off, end, buf)
		check("close rw", f.Close())
	}

	check("rename", os.Rename(p("work/a.txt"), p("work/b.txt")))
	_, err = os.Stat(p("work/a.txt"))
	fmt.Println("a.txt after rename exists:", err == nil)

	// Unlink while open: the open file stays readable.
	f, err = os.Open(p("work/b.txt"))
	check("open b", err)
	check("remove b", os.Remove(p("work/b.txt")))
	if f != nil {
		b, err = io.ReadAll(f)
		check("read unlinked", err)
		fmt.Printf("unlinked b.txt still reads %q\n", b)
		check("close b", f.Close())
	}
	_, err = os.Stat(p("work/b.txt"))
	fmt.Println("b.txt after remove exists:", err == nil)

	// Truncate and extend.
	check("write t", os.WriteFile(p("work/t.txt"), []byte("0123456789"), 0o644))
	check("truncate", os.Truncate(p("work/t.txt"), 4))
	b, _ = os.ReadFile(p("work/t.txt"))
	fmt.Printf("t.txt = %q\n", b)

	// Directories and listing.
	check("mkdir sub", os.Mkdir(p("work/sub"), 0o755))
	for _, n := range []string{"c3", "c1", "c2"} {
		check("write "+n, os.WriteFile(p("work/sub/"+n), []byte(n+n), 0o644))
	}
	ents, err := os.ReadDir(p("work/sub"))
	check("readdir", err)
	for _, e := range ents {
		info, _ := e.Info()
		fmt.Printf("entry %s dir=%v size=%d\n", e.Name(), e.IsDir(), info.Size())
	}
	check("remove c2", os.Remove(p("work/sub/c2")))
	err = os.Remove(p("work/sub"))
	fmt.Println("rmdir non-empty fails:", err != nil)
	err = os.Mkdir(p("work/sub"), 0o755)
	fmt.Println("mkdir existing fails:", os.IsExist(err))
	_, err = os.ReadFile(p("work/missing"))
	fmt.Println("missing is not-exist:", os.IsNotExist(err))

	// Symbolic links.
	check("symlink", os.Symlink("sub/c1", p("work/link")))
	target, err := os.Readlink(p("work/link"))
	check("readlink", err)
	b, err = os.ReadFile(p("work/link"))
	check("read link", err)
	fmt.Printf("link -> %s reads %q\n", target, b)
	check("remove link", os.Remove(p("work/link")))

	// Exclusive create.
	_, err = os.OpenFile(p("work/t.txt"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	fmt.Println("exclusive create of existing fails:", os.IsExist(err))
	fmt.Println("done")
}
