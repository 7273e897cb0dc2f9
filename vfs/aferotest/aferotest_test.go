package aferotest_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/spf13/afero"

	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vfs/aferotest"
)

// Every suite here runs from a fixed seed (internal/soak): the lists of
// intended differences below are what the kit finds in each filesystem,
// and the package doc lists them.

// check runs the kit's property from soak's fixed seed.
func check(t *testing.T, newFs func() afero.Fs, o aferotest.Options) {
	t.Helper()
	soak.Check(t, 200, aferotest.Property(newFs, o))
}

// kinds is aferotest.Kinds.
var kinds = aferotest.Kinds

func names(path string) func(d *aferotest.Difference) bool {
	return func(d *aferotest.Difference) bool { return slices.Contains(d.Paths, path) }
}

// after matches a difference in a call of a file on which a call
// containing what was made before.
func after(what string) func(d *aferotest.Difference) bool {
	return func(d *aferotest.Difference) bool {
		v, _, ok := strings.Cut(d.Call, ".")
		if d.Op == "Tree" {
			ok = strings.HasPrefix(d.Call, "f")
		}
		if !ok {
			return false
		}
		for _, c := range d.Before {
			if strings.HasPrefix(c, v+".") && strings.Contains(c, what) {
				return true
			}
		}
		return false
	}
}

// openedWith matches a difference in a call of a file (or in the tree
// after it) that was opened with flags.
func openedWith(flags string) func(d *aferotest.Difference) bool {
	return func(d *aferotest.Difference) bool {
		v, _, ok := strings.Cut(d.Call, ".")
		if !ok {
			return false
		}
		for _, c := range d.Before {
			if strings.HasPrefix(c, v+", err := fs.") && strings.Contains(c, flags) {
				return true
			}
		}
		return false
	}
}

var quoted = regexp.MustCompile(`"[^"]*"`)

// onlyNameDiffers matches a File.Stat difference in the name alone.
func onlyNameDiffers(d *aferotest.Difference) bool {
	return d.Op == "File.Stat" && d.GotErr == nil && d.WantErr == nil &&
		quoted.ReplaceAllString(d.Got, `""`) == quoted.ReplaceAllString(d.Want, `""`)
}

// recreated matches a difference in a call of a file whose name was
// created again (Create) after the file was opened.
func recreated(d *aferotest.Difference) bool {
	v, _, ok := strings.Cut(d.Call, ".")
	if !ok {
		return false
	}
	for i, c := range d.Before {
		name, ok := strings.CutPrefix(c, v+", err := fs.")
		if !ok {
			continue
		}
		_, name, _ = strings.Cut(name, "(")
		name, _, _ = strings.Cut(name, ",")
		name = strings.TrimSuffix(name, ")")
		for _, later := range d.Before[i+1:] {
			if strings.Contains(later, "fs.Create("+name+")") {
				return true
			}
		}
	}
	return false
}

func intended(why string, match func(d *aferotest.Difference) bool) aferotest.Intended {
	return aferotest.Intended{Why: why, Match: match}
}

// ending is intended, for a difference that leaves the filesystem in a
// state no tree shows.
func ending(why string, match func(d *aferotest.Difference) bool) aferotest.Intended {
	return aferotest.Intended{Why: why, Match: match, End: true}
}

var creates = []string{"Create", "OpenFile", "WriteFile", "Mkdir", "MkdirAll", "Rename"}

// crashesMemMapFs are the calls that crash MemMapFs with a fatal error
// (RUnlock of an unlocked RWMutex after a panic), which no recover
// catches: Rename into itself, onto one of its parents, of the root or
// onto it.
func crashesMemMapFs(op string, paths []string) bool {
	if op != "Rename" {
		return false
	}
	old, new := paths[0], paths[1]
	return old == "/" || new == "/" || strings.HasPrefix(new, old+"/") || strings.HasPrefix(old, new+"/")
}

// memMapFsDifferences are what the kit finds in afero's MemMapFs, and in
// the filesystems built on it as far as they pass its behaviour on.
var memMapFsDifferences = []aferotest.Intended{
	ending("the root is an ordinary entry: it can be created, opened for writing, read as a file, removed, renamed and renamed over (its entries then stay, reachable by name), and its name is empty", names("/")),
	intended("creating or renaming into a missing directory makes the directory", kinds("ok", "not-exist", creates...)),
	ending("a path through a file: creating or removing there succeeds (the file then has entries under it)", kinds("ok", "not-a-directory")),
	intended("a path through a file is not-exist rather than ENOTDIR", kinds("not-exist", "not-a-directory")),
	ending("a directory can be created over, opened with O_TRUNC, written and read as an empty file (its entries stay, reachable by name)", kinds("ok", "is-a-directory")),
	ending("a non-empty directory can be removed (its entries stay, reachable by name)", kinds("ok", "not-empty", "Remove")),
	intended("its own error values where package os has an errno (listing a file, writing a read-only file, reading at the end with ReadAt)", kinds("error", "")),
	intended("the access mode is not enforced: a file opened O_RDONLY can be written and truncated, and reading one opened O_WRONLY is EOF", kinds("ok|EOF", "bad-descriptor|invalid", "File.Read", "File.ReadAt", "File.Write", "File.WriteAt", "File.Truncate")),
	intended("a closed file still answers Close, Stat, Sync and Readdir", kinds("ok|EOF", "closed")),
	intended("O_APPEND seeks to the end once, at open (before O_TRUNC truncates): writes land at the file's offset, not at its end", openedWith("os.O_APPEND")),
	intended("reading a directory is EOF, not EISDIR", kinds("EOF", "is-a-directory", "File.Read", "File.ReadAt")),
	intended("Seek to a negative offset succeeds", kinds("ok", "invalid", "File.Seek")),
	intended("ReadAt that reaches the end returns no io.EOF", kinds("ok", "EOF", "File.ReadAt")),
	ending("a file or a directory can be renamed over a directory, whose entries stay, reachable by name (os.Rename refuses)", kinds("ok", "exist", "Rename")),
	intended("Create of an existing file makes a new file: a file already open on the name no longer reaches it", recreated),
	intended("WriteAt on a file opened with O_APPEND succeeds", kinds("ok", "error", "File.WriteAt")),
	intended("O_EXCL without O_CREATE refuses an existing file", kinds("exist", "", "OpenFile")),
	intended("renaming a name onto itself succeeds, even when it does not exist", func(d *aferotest.Difference) bool {
		return d.Op == "Rename" && d.Paths[0] == d.Paths[1]
	}),
	intended("WriteAt moves the file's offset", after(".WriteAt(")),
	intended("a directory's listing is read anew at each Readdir: entries made since show up, and a removed directory still lists", kinds("ok", "ok|not-exist", "File.Readdir", "File.Readdirnames")),
	intended("an open file's Stat has the name the file has now, not the one it was opened with", onlyNameDiffers),
	intended("O_TRUNC without write access does not truncate (Linux truncates)", func(d *aferotest.Difference) bool {
		return d.Op == "Tree" && strings.Contains(d.Call, "os.O_RDONLY|") && strings.Contains(d.Call, "O_TRUNC")
	}),
	intended("writing nothing past the end extends the file with zeros", func(d *aferotest.Difference) bool {
		return d.Op == "Tree" && (strings.Contains(d.Call, `.WriteAt([]byte(""), `) || strings.Contains(d.Call, `.Write([]byte(""))`))
	}),
}

func TestMemMapFs(t *testing.T) {
	check(t, afero.NewMemMapFs, aferotest.Options{Skip: crashesMemMapFs, Intended: memMapFsDifferences})
}

func TestModelAgainstItself(t *testing.T) {
	check(t, func() afero.Fs { return vfs.NewAferoFs(vfs.New(vfs.Options{})) }, aferotest.Options{})
}

// copyOnWriteFsDifferences are what CopyOnWriteFs (a read-only MemMapFs
// under a MemMapFs) adds to MemMapFs's.
var copyOnWriteFsDifferences = []aferotest.Intended{
	intended("what the base has cannot be removed or renamed: Remove and Rename fail (permission, not-exist), or succeed on the copy in the layer while the base's entry shows through again", func(d *aferotest.Difference) bool {
		if d.Op == "Tree" {
			return d.Got != "" && (strings.HasPrefix(d.Call, "fs.Remove") || strings.HasPrefix(d.Call, "fs.Rename("))
		}
		return kinds("permission|not-exist", "", "Remove", "Rename")(d)
	}),
	intended("Mkdir over a file of the layer succeeds, and changes nothing", kinds("ok", "exist", "Mkdir")),
	intended("a directory's listing starts over after Readdir(0) read it to the end", kinds("ok", "EOF", "File.Readdir", "File.Readdirnames")),
}

// digitRegexp is the RegexpFs filter: files whose name ends in a digit.
var digitRegexp = regexp.MustCompile(`[0-9]$`)

// regexpFsDifferences are what RegexpFs adds to MemMapFs's.
var regexpFsDifferences = []aferotest.Intended{
	intended("files whose name does not match are hidden: creating, opening, renaming or removing one is not-exist", kinds("not-exist", "")),
	intended("renaming a directory does nothing, and reports success", func(d *aferotest.Difference) bool {
		return d.Op == "Tree" && strings.HasPrefix(d.Call, "fs.Rename(")
	}),
}

// basePathFs is a BasePathFs on a MemMapFs that has its base directory.
func basePathFs() afero.Fs {
	mem := afero.NewMemMapFs()
	if err := mem.Mkdir("/base", 0o755); err != nil {
		panic(err)
	}
	return afero.NewBasePathFs(mem, "/base")
}

func TestAferoFilesystems(t *testing.T) {
	seeded := func() afero.Fs {
		base := afero.NewMemMapFs()
		afero.WriteFile(base, "/a/a1", []byte("base"), 0o644) //nolint:errcheck
		base.MkdirAll("/b/a", 0o755)                          //nolint:errcheck
		return base
	}
	cases := []struct {
		name     string
		newFs    func() afero.Fs
		intended []aferotest.Intended
	}{
		{"BasePathFs", func() afero.Fs { return basePathFs() }, nil},
		{"CopyOnWriteFs", func() afero.Fs {
			return afero.NewCopyOnWriteFs(afero.NewReadOnlyFs(seeded()), afero.NewMemMapFs())
		}, copyOnWriteFsDifferences},
		{"RegexpFs", func() afero.Fs { return afero.NewRegexpFs(afero.NewMemMapFs(), digitRegexp) }, regexpFsDifferences},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.newFs, aferotest.Options{Skip: crashesMemMapFs,
				Intended: append(slices.Clone(memMapFsDifferences), c.intended...)})
		})
	}
}

// renamed parses the old and new name of a Rename call.
func renamed(call string) (old, new string, ok bool) {
	n, _ := fmt.Sscanf(call, "fs.Rename(%q, %q)", &old, &new)
	return old, new, n == 2
}

// prefixRenamed matches a difference about a name that an earlier (or
// this) Rename's old name is a string prefix of, but not a parent of.
func prefixRenamed(d *aferotest.Difference) bool {
	for _, c := range append(slices.Clone(d.Before), d.Call) {
		old, _, ok := renamed(c)
		if !ok {
			continue
		}
		for _, p := range d.Paths {
			if strings.HasPrefix(p, old) && p != old && !strings.HasPrefix(p, old+"/") {
				return true
			}
		}
	}
	return false
}

// billyDifferences are what the kit finds in go-billy's memfs (v5.9.2)
// through the adapter in billy_test.go.
var billyDifferences = []aferotest.Intended{
	ending("the root can be removed, renamed and renamed over", names("/")),
	ending("renaming a name loses every name it is a string prefix of: after Rename(\"/d/a1\", \"/d/b\"), /d/a10 is gone", prefixRenamed),
	intended("renaming a file onto itself removes it", func(d *aferotest.Difference) bool {
		old, new, ok := renamed(d.Call)
		return d.Op == "Tree" && ok && old == new
	}),
	ending("a directory can be renamed into itself, or panics", func(d *aferotest.Difference) bool {
		old, new, ok := renamed(d.Call)
		return ok && (d.GotErr == nil || aferotest.Kind(d.GotErr) == "panic") && strings.HasPrefix(new, old+"/")
	}),
	intended("a directory can be renamed onto itself (os.Rename refuses)", func(d *aferotest.Difference) bool {
		old, new, ok := renamed(d.Call)
		return ok && old == new && d.GotErr == nil
	}),
	ending("after a directory is renamed, the listings of its subdirectories are empty (their entries are still reachable by name)", func(d *aferotest.Difference) bool {
		_, _, ok := renamed(d.Call)
		return d.Op == "Tree" && ok && d.Got == ""
	}),
	ending("after a directory or a file is renamed, creating where it was, or in it, can panic", func(d *aferotest.Difference) bool {
		if aferotest.Kind(d.GotErr) != "panic" {
			return false
		}
		for _, c := range d.Before {
			if strings.HasPrefix(c, "fs.Rename(") {
				return true
			}
		}
		return false
	}),
	ending("Chmod replaces the type bits: a directory made 0o700 is a file (its entries stay, reachable by name)", func(d *aferotest.Difference) bool {
		return d.Op == "Tree" && strings.HasPrefix(d.Call, "fs.Chmod(")
	}),
	intended("creating into a missing directory makes the directory", kinds("ok", "not-exist", creates...)),
	ending("a path through a file: creating or removing there succeeds (the file then has entries under it)", kinds("ok", "not-a-directory")),
	intended("a path through a file is not-exist, exist or is-a-directory rather than ENOTDIR", kinds("not-exist|exist|is-a-directory", "not-a-directory")),
	intended("O_CREATE|O_EXCL on a directory is is-a-directory rather than EEXIST", kinds("is-a-directory", "exist", "OpenFile")),
	intended("its own error values where package os has an errno (removing a non-empty directory, MkdirAll over a file, renaming into itself)", kinds("error", "")),
	intended("the access mode is not enforced: a file opened O_RDONLY can be truncated", kinds("ok", "invalid|bad-descriptor", "File.Truncate", "File.Write", "File.WriteAt")),
	intended("a closed file can still be truncated", kinds("ok", "closed")),
	intended("reading nothing is EOF", kinds("EOF", "ok", "File.Read", "File.ReadAt")),
	intended("Seek to a negative offset succeeds", kinds("ok", "invalid", "File.Seek")),
	intended("WriteAt on a file opened with O_APPEND succeeds", kinds("ok", "error", "File.WriteAt")),
	intended("writing nothing past the end extends the file with zeros", func(d *aferotest.Difference) bool {
		return d.Op == "Tree" && (strings.Contains(d.Call, `.WriteAt([]byte(""), `) || strings.Contains(d.Call, `.Write([]byte(""))`))
	}),
	intended("O_EXCL without O_CREATE refuses an existing file", kinds("exist", "", "OpenFile")),
	ending("a file or a directory can be renamed over a directory, whose entries stay, reachable by name (os.Rename refuses)", kinds("ok", "exist", "Rename")),
	intended("O_APPEND seeks to the end once, at open: writes land at the file's offset, not at its end", openedWith("os.O_APPEND")),
	// What the adapter in billy_test.go makes of what billy lacks.
	intended("the adapter: a file's Stat looks its name up", kinds("", "", "File.Stat")),
	intended("the adapter: a directory's Readdir lists it by name, at the first call", kinds("not-exist", "", "File.Readdir", "File.Readdirnames")),
	intended("the adapter: an open directory keeps no offset and no open flags", kinds("error|bad-descriptor", "", "File.Seek", "File.WriteAt")),
}

func TestBillyMemfs(t *testing.T) {
	check(t, func() afero.Fs { return billyFs{memfs.New()} }, aferotest.Options{
		Skip:     func(op string, _ []string) bool { return op == "Chtimes" }, // billy's memfs has no times
		Intended: billyDifferences,
	})
}
