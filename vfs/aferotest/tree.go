package aferotest

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/afero"
)

// maxDepth bounds the walk of a tree (a filesystem under test may have a
// cycle).
const maxDepth = 16

// snapshot lists the tree of fsys from "/", one line per entry in walk
// order: "/a/" for a directory, `/a/b 3 "abc"` for a file (the size Stat
// reports and the content read), and a line naming the failure where
// listing, Stat or reading fails. It stops at the first panic of fsys,
// and reports it.
func snapshot(fsys afero.Fs) (lines []string, panicked bool) {
	var out []string
	guard := func(f func() error) error {
		if panicked {
			return &panicError{"(after an earlier panic)"}
		}
		err := call(f) // the package-level one
		var p *panicError
		if errors.As(err, &p) {
			panicked = true
		}
		return err
	}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > maxDepth {
			out = append(out, dir+" (deeper than the walk goes)")
			return
		}
		var names []string
		err := guard(func() error {
			f, err := fsys.Open(dir)
			if err != nil {
				return err
			}
			defer guard(f.Close) //nolint:errcheck // only a panic matters here
			names, err = f.Readdirnames(-1)
			return err
		})
		if err != nil {
			out = append(out, dir+" listing: "+errKind(err))
			return
		}
		sort.Strings(names)
		for _, n := range names {
			p := path.Join(dir, n)
			var fi os.FileInfo
			err := guard(func() (err error) { fi, err = fsys.Stat(p); return })
			switch {
			case err != nil:
				out = append(out, p+" stat: "+errKind(err))
			case fi.IsDir():
				out = append(out, p+"/")
				walk(p, depth+1)
			default:
				var b []byte
				err = guard(func() (err error) { b, err = afero.ReadFile(fsys, p); return })
				if err != nil {
					out = append(out, fmt.Sprintf("%s %d read: %s", p, fi.Size(), errKind(err)))
				} else {
					out = append(out, fmt.Sprintf("%s %d %q", p, fi.Size(), b))
				}
			}
		}
	}
	walk("/", 0)
	return out, panicked
}

// copyTree makes the directories and files of from's tree in to.
func copyTree(from, to afero.Fs) error {
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("%s: deeper than %d levels", dir, maxDepth)
		}
		var fis []os.FileInfo
		if err := call(func() (err error) { fis, err = afero.ReadDir(from, dir); return }); err != nil {
			return err
		}
		for _, fi := range fis {
			p := path.Join(dir, fi.Name())
			if fi.IsDir() {
				if err := to.Mkdir(p, 0o755); err != nil {
					return err
				}
				if err := walk(p, depth+1); err != nil {
					return err
				}
				continue
			}
			var b []byte
			if err := call(func() (err error) { b, err = afero.ReadFile(from, p); return }); err != nil {
				return err
			}
			if err := afero.WriteFile(to, p, b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("/", 0)
}

// diffLines returns the lines only a has and the lines only b has.
func diffLines(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, l := range b {
		count[l]++
	}
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
		} else {
			onlyA = append(onlyA, l)
		}
	}
	count = map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
		} else {
			onlyB = append(onlyB, l)
		}
	}
	return onlyA, onlyB
}

// linePaths are the paths of the lines of a tree difference, sorted.
func linePaths(a, b []string) []string {
	var ps []string
	for _, l := range append(a[:len(a):len(a)], b...) {
		p, _, _ := strings.Cut(l, " ")
		if p != "/" {
			p = strings.TrimSuffix(p, "/")
		}
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}
