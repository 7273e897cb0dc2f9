package aferotest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/vfs"
)

// Options tune TestFs. The zero value checks everything.
type Options struct {
	// Intended declares the differences the filesystem has on purpose.
	Intended []Intended
	// Skip, if set, keeps TestFs from making the calls it reports true
	// for: op is the operation as Ops names it and paths the paths the
	// call names (as in Difference). Skip an operation the filesystem
	// does not have (op == "Chtimes"), or a call that crashes it beyond
	// recovery (a panic is only a difference, but a fatal error such as
	// unlocking an unlocked mutex ends the test binary).
	Skip func(op string, paths []string) bool
}

// Intended is a difference the filesystem under test has on purpose. A
// difference Match accepts does not fail the test: it is logged with Why,
// and the sequence goes on. If the trees differ afterwards, the model is
// made a copy of the filesystem's tree again and the open files are
// closed; after an accepted difference in a File method, later steps
// leave that file alone (its offset or listing may differ now).
type Intended struct {
	// Why says what differs and why, for the log.
	Why string
	// Match reports whether d is this difference.
	Match func(d *Difference) bool
	// End ends the sequence at the difference instead of making the
	// model a copy of the filesystem's tree: for a difference that leaves
	// the filesystem in a state no tree shows (entries under a file,
	// entries of a removed directory still reachable by name).
	End bool
}

// Difference is one operation whose outcome on the filesystem under test
// differs from the model's, or after which the two trees differ.
type Difference struct {
	// Op is the operation, as Ops names it ("Rename", "File.Write"), or
	// "Tree" when the results agreed but the trees differ afterwards.
	Op string
	// Call is the call as Go source, e.g. fs.Rename("/a", "/b"). For a
	// Tree difference, the call after which the trees differ.
	Call string
	// Paths are the paths the call names (Rename: old and new; a File
	// method: the name the file was opened with). For a Tree difference,
	// the paths whose entries differ.
	Paths []string
	// Got and Want are the outcomes on the filesystem under test and on
	// the model: "ok", results such as "n=2 \"ab\"" or "dir", and an
	// error as its kind and message. For a Tree difference, the entries
	// only one side has, one a line.
	Got, Want string
	// GotErr and WantErr are the calls' errors (nil: success; nil for a
	// Tree difference).
	GotErr, WantErr error
	// Before are the calls made before Call in the sequence, as Go
	// source, for matching a difference by what led to it.
	Before []string

	gotKey, wantKey string // Got and Want without the errors' messages
}

func (d *Difference) String() string {
	if d.Op == "Tree" {
		return fmt.Sprintf("after %s the trees differ:\n  only on the filesystem under test:\n%s\n  only on the model:\n%s",
			d.Call, indent(d.Got, "    "), indent(d.Want, "    "))
	}
	return fmt.Sprintf("%s\n  got:  %s\n  want: %s", d.Call, d.Got, d.Want)
}

// stable is String without the errors' messages.
func (d *Difference) stable() string {
	if d.Op == "Tree" {
		return d.String()
	}
	return fmt.Sprintf("%s\n  got:  %s\n  want: %s", d.Call, d.gotKey, d.wantKey)
}

// Kinds matches a difference in a call of one of ops (none: any
// operation; never a Tree difference) whose errors are of the kinds got
// and want, as Kind names them: "" matches any kind, "a|b" either. For
// instance Kinds("error", "not-empty", "Remove") is a Remove that fails
// with an error of the filesystem's own where the model has ENOTEMPTY.
func Kinds(got, want string, ops ...string) func(d *Difference) bool {
	is := func(err error, k string) bool {
		return k == "" || slices.Contains(strings.Split(k, "|"), Kind(err))
	}
	return func(d *Difference) bool {
		return d.Op != "Tree" && (len(ops) == 0 || slices.Contains(ops, d.Op)) && is(d.GotErr, got) && is(d.WantErr, want)
	}
}

// Ops lists the operations TestFs draws, by the names Options.Skip and
// Difference.Op use: the methods of afero.Fs (Chown aside), afero's
// ReadFile, WriteFile and ReadDir, and the methods of afero.File.
func Ops() []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.name
	}
	return out
}

// TestFs checks the afero.Fs that newFs returns against wasisim's
// in-memory filesystem (package vfs through vfs.NewAferoFs), which
// follows POSIX as Linux implements it. It draws sequences of operations
// with pgregory.net/rapid, runs each on a fresh filesystem from newFs and
// on a model holding a copy of its initial tree, compares every result
// and then the whole tree after every step, and fails the test with the
// first difference, shrunk to a shortest sequence that shows it, written
// as Go calls. Declare the differences the filesystem has on purpose in
// opts.Intended.
//
// TestFs is rapid.Check(t, Property(newFs, opts)): rapid's flags
// (-rapid.checks, -rapid.seed, …) set how many sequences run and from
// which seed, and a failure names the seed that reproduces it.
func TestFs(t *testing.T, newFs func() afero.Fs, opts ...Options) {
	t.Helper()
	rapid.Check(t, Property(newFs, opts...))
}

// Property is the check TestFs runs, for use with rapid directly (a fixed
// seed, a fuzz target, more checks). A sequence is a rapid T.Repeat:
// -rapid.steps sets its average length.
func Property(newFs func() afero.Fs, opts ...Options) func(*rapid.T) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return func(t *rapid.T) {
		r, err := newRun(newFs(), o)
		if err != nil {
			t.Fatalf("aferotest: %v", err)
		}
		r.logf = t.Logf
		defer r.close()
		actions := map[string]func(*rapid.T){}
		for _, op := range ops {
			actions[op.name] = func(t *rapid.T) {
				if r.ended {
					return
				}
				if op.file && len(r.files) == 0 {
					t.Skip("no open file")
				}
				st := drawStep(t, op.name, len(r.files))
				if o.Skip != nil && o.Skip(op.name, r.paths(st)) {
					t.Skip("skipped")
				}
				d, end := r.do(st)
				if d != nil {
					// The failure's message leaves the errors' messages
					// out: rapid compares it between runs while shrinking,
					// and a filesystem may name a different temporary
					// directory in each.
					t.Logf("aferotest: %s", d)
					t.Fatalf("aferotest: the filesystem differs from the model (vfs) after %d steps:\n%s\n%s", r.steps, r.script(), d.stable())
				}
				r.ended = end
			}
		}
		t.Repeat(actions)
	}
}

// run is one sequence: the filesystem under test, the model, and the
// files open on both.
type run struct {
	got, want afero.Fs
	opts      Options
	logf      func(format string, args ...any)
	files     []openFile
	opened    int      // files opened so far, to name the next one
	log       []string // the calls so far, as Go, and comments on the run
	steps     int      // the calls in log
	ended     bool     // an intended difference left the two sides apart
	broken    bool     // the filesystem panicked: it is not called again
}

type openFile struct {
	name      string // as opened
	v         string // the script's name for it: f1, f2, …
	got, want afero.File
}

// newRun makes the model as a copy of got's tree.
func newRun(got afero.Fs, o Options) (*run, error) {
	want := vfs.NewAferoFs(vfs.New(vfs.Options{}))
	if err := copyTree(got, want); err != nil {
		return nil, fmt.Errorf("reading the initial tree of the filesystem under test: %v", err)
	}
	return &run{got: got, want: want, opts: o}, nil
}

func (r *run) close() {
	for _, f := range r.files {
		if f.got != nil && !r.broken {
			protect(f.got.Close)
		}
		if f.want != nil {
			f.want.Close()
		}
	}
}

// script is the sequence so far, numbered, one call a line.
func (r *run) script() string {
	var b strings.Builder
	n := 0
	for _, c := range r.log {
		if strings.HasPrefix(c, "//") {
			fmt.Fprintf(&b, "      %s\n", c)
			continue
		}
		n++
		fmt.Fprintf(&b, "  %2d  %s\n", n, c)
	}
	return b.String()
}

// do runs one step on both sides. It returns the difference that fails
// the test, if any, and whether the sequence must end (an intended
// difference left the two sides apart).
func (r *run) do(st step) (*Difference, bool) {
	op := opByName[st.op]
	call := op.call(st, r)
	r.log = append(r.log, call)
	r.steps++
	var gf, wf afero.File
	if op.file {
		gf, wf = r.files[st.file].got, r.files[st.file].want
	}
	paths := r.paths(st)
	g := op.do(r.got, gf, st)
	w := op.do(r.want, wf, st)
	var p *panicError
	if errors.As(g.err, &p) {
		// A panic may have left the filesystem's locks held: it is not
		// called again, and the sequence ends here.
		r.broken = true
		d := &Difference{Op: op.name, Call: call, Paths: paths, Got: g.text, Want: w.text, GotErr: g.err, WantErr: w.err,
			Before: r.log[: len(r.log)-1 : len(r.log)-1], gotKey: g.key, wantKey: w.key}
		if r.intended(d) == nil {
			return d, false
		}
		return nil, true
	}
	if op.opens {
		r.opened++
		if g.file != nil && w.file != nil {
			r.files = append(r.files, openFile{name: st.path, v: fileVar(r.opened - 1), got: g.file, want: w.file})
		} else {
			// Opened on one side only: a difference.
			for _, f := range []afero.File{g.file, w.file} {
				if f != nil {
					protect(f.Close)
				}
			}
		}
	}
	if g.key != w.key {
		d := &Difference{Op: op.name, Call: call, Paths: paths, Got: g.text, Want: w.text, GotErr: g.err, WantErr: w.err,
			Before: r.log[: len(r.log)-1 : len(r.log)-1], gotKey: g.key, wantKey: w.key}
		in := r.intended(d)
		if in == nil {
			return d, false
		}
		if in.End {
			return nil, true
		}
		// Accepted: go on where both sides still agree.
		if op.file {
			// The file's own state (its offset, its listing) may differ
			// now: later steps leave it alone.
			f := r.files[st.file]
			if !r.broken {
				protect(f.got.Close)
			}
			f.want.Close()
			r.files = slices.Delete(r.files, st.file, st.file+1)
		}
		if !slices.Equal(r.snapshot(r.got), r.snapshot(r.want)) {
			return nil, r.broken || !r.resync()
		}
		return nil, r.broken
	}
	gt, wt := r.snapshot(r.got), r.snapshot(r.want)
	if slices.Equal(gt, wt) {
		return nil, false
	}
	onlyG, onlyW := diffLines(gt, wt)
	d := &Difference{Op: "Tree", Call: call, Paths: linePaths(onlyG, onlyW),
		Got: strings.Join(onlyG, "\n"), Want: strings.Join(onlyW, "\n"), Before: r.log[: len(r.log)-1 : len(r.log)-1]}
	in := r.intended(d)
	if in == nil {
		return d, false
	}
	return nil, in.End || r.broken || !r.resync()
}

// snapshot is the tree of fsys; a panic while reading it marks the run
// broken.
func (r *run) snapshot(fsys afero.Fs) []string {
	lines, panicked := snapshot(fsys)
	if panicked && fsys == r.got {
		r.broken = true
	}
	return lines
}

// resync makes the model a copy of the filesystem's tree again, after an
// intended difference left them apart, so that the sequence can go on;
// the files open on both are closed (the model's belong to the old one).
// It reports false if the tree cannot be copied.
func (r *run) resync() bool {
	r.close()
	r.files = nil
	want := vfs.NewAferoFs(vfs.New(vfs.Options{}))
	if err := copyTree(r.got, want); err != nil {
		return false
	}
	r.want = want
	r.log = append(r.log, "// the trees differ as intended: the model is a copy of the filesystem's tree again, and the files are closed")
	return true
}

// paths are the paths a step names, as Difference.Paths.
func (r *run) paths(st step) []string {
	switch {
	case opByName[st.op].file:
		return []string{r.files[st.file].name}
	case st.op == "Rename":
		return []string{st.path, st.path2}
	}
	return []string{st.path}
}

// intended returns the declaration that accepts d, or nil.
func (r *run) intended(d *Difference) *Intended {
	for i, in := range r.opts.Intended {
		if in.Match != nil && in.Match(d) {
			if r.logf != nil {
				r.logf("aferotest: intended difference (%s): %s", in.Why, d)
			}
			return &r.opts.Intended[i]
		}
	}
	return nil
}

func indent(s, prefix string) string {
	if s == "" {
		return prefix + "(nothing)"
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
