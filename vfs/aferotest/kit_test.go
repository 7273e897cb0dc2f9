package aferotest

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/vfs"
)

// The kit's own tests: filesystems with a planted bug, and what the kit
// makes of them.

// planted is the model with one method replaced.
type planted struct {
	afero.Fs
	rename func(fs afero.Fs, old, new string) error
	remove func(fs afero.Fs, name string) error
}

func newPlanted() *planted { return &planted{Fs: vfs.NewAferoFs(vfs.New(vfs.Options{}))} }

func (p *planted) Rename(old, new string) error {
	if p.rename != nil {
		return p.rename(p.Fs, old, new)
	}
	return p.Fs.Rename(old, new)
}

func (p *planted) Remove(name string) error {
	if p.remove != nil {
		return p.remove(p.Fs, name)
	}
	return p.Fs.Remove(name)
}

// prefixRename is go-billy's bug: a rename also takes the names that the
// old name is a string prefix of, which then get lost.
func prefixRename(fsys afero.Fs, old, new string) error {
	if err := fsys.Rename(old, new); err != nil {
		return err
	}
	dir := old[:strings.LastIndex(old, "/")+1]
	names, _ := afero.ReadDir(fsys, dir)
	for _, fi := range names {
		if p := dir + fi.Name(); strings.HasPrefix(p, old) && p != old {
			fsys.RemoveAll(p) //nolint:errcheck
		}
	}
	return nil
}

// runSteps runs steps on a fresh filesystem and the model and returns the
// first difference, and the run.
func runSteps(t *testing.T, fsys afero.Fs, o Options, steps ...step) (*Difference, *run) {
	t.Helper()
	r, err := newRun(fsys, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for _, st := range steps {
		d, end := r.do(st)
		if d != nil || end {
			return d, r
		}
	}
	return nil, r
}

func TestFindsPrefixRename(t *testing.T) {
	p := newPlanted()
	p.rename = prefixRename
	d, r := runSteps(t, p, Options{},
		step{op: "MkdirAll", path: "/d"},
		step{op: "WriteFile", path: "/d/a1", data: "1"},
		step{op: "WriteFile", path: "/d/a10", data: "10"},
		step{op: "Rename", path: "/d/a1", path2: "/d/b"},
	)
	if d == nil || d.Op != "Tree" || d.Want != `/d/a10 2 "10"` || d.Got != "" || d.Paths[0] != "/d/a10" {
		t.Fatalf("difference %+v", d)
	}
	if want := `fs.Rename("/d/a1", "/d/b")`; d.Call != want || len(d.Before) != 3 || r.steps != 4 {
		t.Errorf("call %q after %q", d.Call, d.Before)
	}
}

func TestComparesErrorKinds(t *testing.T) {
	p := newPlanted()
	p.remove = func(fsys afero.Fs, name string) error {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOENT}
	}
	d, _ := runSteps(t, p, Options{}, step{op: "MkdirAll", path: "/d/e"}, step{op: "Remove", path: "/d"})
	if d == nil || d.Op != "Remove" || Kind(d.GotErr) != "not-exist" || Kind(d.WantErr) != "not-empty" {
		t.Fatalf("difference %+v", d)
	}
	if !strings.HasPrefix(d.Got, "not-exist (remove /d: ") || !strings.HasPrefix(d.Want, "not-empty (remove /d: ") {
		t.Errorf("outcomes %q, %q", d.Got, d.Want)
	}
}

// An intended difference that leaves the trees apart makes the model a
// copy of the filesystem's tree, so the sequence goes on; End stops it.
func TestIntendedDifferences(t *testing.T) {
	steps := []step{
		{op: "MkdirAll", path: "/d"},
		{op: "WriteFile", path: "/d/a1", data: "1"},
		{op: "WriteFile", path: "/d/a10", data: "10"},
		{op: "Rename", path: "/d/a1", path2: "/d/b"},
		{op: "Remove", path: "/d/b"},
		{op: "Remove", path: "/d"},
	}
	lost := func(d *Difference) bool { return d.Op == "Tree" && strings.HasPrefix(d.Call, "fs.Rename(") }
	for _, end := range []bool{false, true} {
		p := newPlanted()
		p.rename = prefixRename
		d, r := runSteps(t, p, Options{Intended: []Intended{{Why: "planted", Match: lost, End: end}}}, steps...)
		if d != nil {
			t.Fatalf("End %v: %v", end, d)
		}
		if want := map[bool]int{false: 6, true: 4}[end]; r.steps != want {
			t.Errorf("End %v: %d steps ran, want %d", end, r.steps, want)
		}
	}
}

// panicky panics in Chmod; the kit reports the panic and calls the
// filesystem no more (the panic may have left its locks held).
type panicky struct {
	afero.Fs
	calls int
}

func (p *panicky) Chmod(string, os.FileMode) error { panic("planted") }

func (p *panicky) Stat(name string) (os.FileInfo, error) {
	p.calls++
	return p.Fs.Stat(name)
}

func TestPanicIsADifference(t *testing.T) {
	p := &panicky{Fs: vfs.NewAferoFs(vfs.New(vfs.Options{}))}
	d, r := runSteps(t, p, Options{}, step{op: "Create", path: "/a"}, step{op: "Chmod", path: "/a"})
	if d == nil || d.Op != "Chmod" || Kind(d.GotErr) != "panic" || !strings.Contains(d.Got, "planted") {
		t.Fatalf("difference %+v", d)
	}
	calls := p.calls
	r.close()
	if !r.broken || p.calls != calls {
		t.Errorf("the filesystem was called after its panic")
	}
	// Intended, it still ends the sequence.
	p = &panicky{Fs: vfs.NewAferoFs(vfs.New(vfs.Options{}))}
	d, r = runSteps(t, p, Options{Intended: []Intended{{Match: func(d *Difference) bool { return d.Op == "Chmod" }}}},
		step{op: "Chmod", path: "/"}, step{op: "Stat", path: "/"})
	if d != nil || r.steps != 1 || p.calls != 0 {
		t.Errorf("after an intended panic: %v, %d steps, %d calls", d, r.steps, p.calls)
	}
}

// Through rapid, the first difference comes back shrunk to the calls that
// show it, written as Go.
func TestShrinks(t *testing.T) {
	// A fixed seed, and no fail file: the recorder's failure is expected.
	for name, value := range map[string]string{"rapid.seed": strconv.FormatUint(soak.FixedSeed, 10), "rapid.checks": "100", "rapid.nofailfile": "true"} {
		f := flag.Lookup(name)
		old := f.Value.String()
		if err := f.Value.Set(value); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Value.Set(old) }) //nolint:errcheck
	}
	tb := &recorder{}
	rapid.Check(tb, Property(func() afero.Fs {
		p := newPlanted()
		p.rename = prefixRename
		return p
	}))
	if !tb.failed {
		t.Fatal("the planted bug went unnoticed")
	}
	var msg string
	for _, l := range tb.lines {
		if strings.Contains(l, "differs from the model") && !strings.Contains(l, "[rapid]") {
			msg = l
		}
	}
	var steps int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "after "):], "after %d steps", &steps); err != nil || steps > 3 {
		t.Errorf("not shrunk to 3 steps or fewer:\n%s", msg)
	}
	for _, want := range []string{"\n   1  ", `fs.Rename("/`, "the trees differ"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg)
		}
	}
}

// recorder is a rapid.TB that keeps what rapid reports.
type recorder struct {
	failed bool
	lines  []string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Logf(format string, a ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, a...))
}
func (r *recorder) Log(a ...any)                   { r.lines = append(r.lines, fmt.Sprint(a...)) }
func (r *recorder) Skipf(string, ...any)           {}
func (r *recorder) Skip(...any)                    {}
func (r *recorder) SkipNow()                       {}
func (r *recorder) Errorf(format string, a ...any) { r.failed = true; r.Logf(format, a...) }
func (r *recorder) Error(a ...any)                 { r.failed = true; r.Log(a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...) }
func (r *recorder) Fatal(a ...any)                 { r.Error(a...) }
func (r *recorder) FailNow()                       { r.failed = true }
func (r *recorder) Fail()                          { r.failed = true }
func (r *recorder) Failed() bool                   { return r.failed }
