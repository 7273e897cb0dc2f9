package wasisim_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// Example_readme is the Go example of README.md, between the markers;
// TestReadmeExample keeps the README's block equal to it.
func Example_readme() {
	// README begin
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	h, _ := host.New(w, host.Options{Variant: host.P3})
	in := h.NewInstance("guest")
	w.Go("guest", func(*sim.Task) error {
		pre, _ := in.Preopens()
		fd, _ := in.OpenAt(pre[0].Handle, 0, "log.txt", vfs.OpenCreate, vfs.Write)
		r, wr, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		in.Drop(fd) // legal under p3: the stream and the future keep the file open
		in.WriteAll(wr, []byte("hello"))
		in.Drop(wr)
		result, trap := in.Await(fut) // result: the write's WASI error (nil: ok); trap: a CM violation
		in.Drop(fut)                  // the last holder: the file is closed now
		return errors.Join(result, trap)
	})
	res := w.Run() // res.Error(): task errors, traps, deadlocks, leaked objects
	// README end
	data, _ := fs.ReadFile(h.FS().IOFS(), "log.txt")
	fmt.Printf("run error: %v; log.txt: %q\n", res.Error(), data)
	// Output: run error: <nil>; log.txt: "hello"
}

// TestReadmeExample checks that the README's Go block is Example_readme's
// code, so the README shows code that compiles and passes.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := bytes.Cut(readme, []byte("```go\n"))
	block, _, ok2 := bytes.Cut(block, []byte("```\n"))
	if !ok || !ok2 {
		t.Fatal("README.md has no ```go block")
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, code, _ := bytes.Cut(src, []byte("\t// README begin\n"))
	code, _, _ = bytes.Cut(code, []byte("\t// README end\n"))
	var want strings.Builder
	for _, line := range strings.SplitAfter(string(code), "\n") {
		want.WriteString(strings.TrimPrefix(line, "\t"))
	}
	if got := string(block); got != want.String() {
		t.Errorf("README.md's Go block differs from Example_readme in readme_test.go:\n--- README.md\n%s--- readme_test.go\n%s", got, want.String())
	}
}
