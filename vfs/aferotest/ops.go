package aferotest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
	"pgregory.net/rapid"
)

// step is one drawn operation and its arguments; which fields it uses
// depends on op.
type step struct {
	op     string
	path   string // the path the call names
	path2  string // Rename's new name
	flag   int    // OpenFile's flags
	data   string // what Write, WriteAt and WriteFile write
	n      int    // a length: Read, ReadAt, Readdir, Readdirnames, Truncate
	off    int64  // ReadAt, WriteAt and Seek offsets
	whence int    // Seek
	file   int    // the open file a File method calls
	mtime  int64  // Chtimes: seconds after baseTime
}

// result is the outcome of one call: key is compared, text shown.
type result struct {
	key, text string
	err       error
	file      afero.File // Open, OpenFile, Create: the file opened
}

// opSpec is an operation: how its arguments are drawn, how the call is
// written and what it does on one filesystem.
type opSpec struct {
	name  string
	file  bool // a method of an open file
	opens bool // opens a file, which later File steps may use
	draw  func(t *rapid.T, st *step)
	call  func(st step, r *run) string
	do    func(fsys afero.Fs, f afero.File, st step) result
}

// names are the path components drawn: names that are prefixes of one
// another catch filesystems that match paths by string prefix.
var names = []string{"a", "a1", "a10", "b"}

var baseTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func drawPath(t *rapid.T, label string) string {
	depth := rapid.IntRange(1, 20).Draw(t, label+" depth")
	if depth > 3 {
		if depth == 20 {
			return "/" // rarely, the root
		}
		depth = 1 + depth%3
	}
	var b strings.Builder
	for i := range depth {
		b.WriteString("/" + rapid.SampledFrom(names).Draw(t, label+" "+strconv.Itoa(i)))
	}
	return b.String()
}

func drawData(t *rapid.T) string {
	return string(rapid.SliceOfN(rapid.ByteRange('a', 'c'), 0, 8).Draw(t, "data"))
}

func drawStep(t *rapid.T, name string, nfiles int) step {
	st := step{op: name}
	op := opByName[name]
	if op.file {
		st.file = rapid.IntRange(0, nfiles-1).Draw(t, "file")
	}
	if op.draw != nil {
		op.draw(t, &st)
	}
	return st
}

func withPath(t *rapid.T, st *step) { st.path = drawPath(t, "path") }

// pathCall writes method(path).
func pathCall(method string) func(st step, r *run) string {
	return func(st step, r *run) string { return fmt.Sprintf("fs.%s(%q)", method, st.path) }
}

// fileVar is how the script names the n-th file opened.
func fileVar(n int) string { return "f" + strconv.Itoa(n+1) }

// openCall writes a call that opens a file, naming the file it returns.
func openCall(method string, flags bool) func(st step, r *run) string {
	return func(st step, r *run) string {
		args := fmt.Sprintf("%q", st.path)
		if flags {
			args += ", " + flagString(st.flag) + ", 0o644"
		}
		return fmt.Sprintf("%s, err := fs.%s(%s)", fileVar(r.opened), method, args)
	}
}

func flagString(flag int) string {
	var parts []string
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		parts = append(parts, "os.O_RDONLY")
	case os.O_WRONLY:
		parts = append(parts, "os.O_WRONLY")
	default:
		parts = append(parts, "os.O_RDWR")
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "os.O_CREATE"}, {os.O_EXCL, "os.O_EXCL"}, {os.O_TRUNC, "os.O_TRUNC"}, {os.O_APPEND, "os.O_APPEND"}} {
		if flag&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

func fileCall(format string, args func(st step) []any) func(st step, r *run) string {
	return func(st step, r *run) string {
		var a []any
		if args != nil {
			a = args(st)
		}
		return r.files[st.file].v + "." + fmt.Sprintf(format, a...)
	}
}

var ops = []opSpec{
	{name: "Mkdir", draw: withPath, call: pathCallPerm("Mkdir"),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.Mkdir(st.path, 0o755) }))
		}},
	{name: "MkdirAll", draw: withPath, call: pathCallPerm("MkdirAll"),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.MkdirAll(st.path, 0o755) }))
		}},
	{name: "Create", opens: true, draw: withPath, call: openCall("Create", false),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return opened(callFile(func() (afero.File, error) { return fsys.Create(st.path) }))
		}},
	{name: "Open", opens: true, draw: withPath, call: openCall("Open", false),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return opened(callFile(func() (afero.File, error) { return fsys.Open(st.path) }))
		}},
	{name: "OpenFile", opens: true, call: openCall("OpenFile", true),
		draw: func(t *rapid.T, st *step) {
			st.path = drawPath(t, "path")
			st.flag = rapid.SampledFrom([]int{os.O_RDONLY, os.O_WRONLY, os.O_RDWR}).Draw(t, "access")
			for _, f := range []struct {
				bit   int
				label string
			}{{os.O_CREATE, "create"}, {os.O_EXCL, "excl"}, {os.O_TRUNC, "trunc"}, {os.O_APPEND, "append"}} {
				if rapid.Bool().Draw(t, f.label) {
					st.flag |= f.bit
				}
			}
		},
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return opened(callFile(func() (afero.File, error) { return fsys.OpenFile(st.path, st.flag, 0o644) }))
		}},
	{name: "Remove", draw: withPath, call: pathCall("Remove"),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.Remove(st.path) }))
		}},
	{name: "RemoveAll", draw: withPath, call: pathCall("RemoveAll"),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.RemoveAll(st.path) }))
		}},
	{name: "Rename",
		draw: func(t *rapid.T, st *step) { st.path, st.path2 = drawPath(t, "old"), drawPath(t, "new") },
		call: func(st step, _ *run) string { return fmt.Sprintf("fs.Rename(%q, %q)", st.path, st.path2) },
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.Rename(st.path, st.path2) }))
		}},
	{name: "Stat", draw: withPath, call: pathCall("Stat"),
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			var fi os.FileInfo
			err := call(func() (err error) { fi, err = fsys.Stat(st.path); return })
			return infoResult(fi, err)
		}},
	{name: "Chmod", draw: withPath, call: func(st step, _ *run) string { return fmt.Sprintf("fs.Chmod(%q, 0o700)", st.path) },
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return fsys.Chmod(st.path, 0o700) }))
		}},
	{name: "Chtimes",
		draw: func(t *rapid.T, st *step) {
			st.path = drawPath(t, "path")
			st.mtime = int64(rapid.IntRange(0, 3).Draw(t, "mtime")) * 3600
		},
		call: func(st step, _ *run) string {
			return fmt.Sprintf("fs.Chtimes(%q, t, t) // t = %s", st.path, baseTime.Add(time.Duration(st.mtime)*time.Second).Format(time.RFC3339))
		},
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			mt := baseTime.Add(time.Duration(st.mtime) * time.Second)
			err := call(func() error { return fsys.Chtimes(st.path, mt, mt) })
			if err != nil {
				return errResult(err)
			}
			// The time must read back.
			var fi os.FileInfo
			err = call(func() (err error) { fi, err = fsys.Stat(st.path); return })
			if err != nil {
				return errResult(fmt.Errorf("stat after chtimes: %w", err))
			}
			s := "ok, mtime " + fi.ModTime().UTC().Format(time.RFC3339Nano)
			return result{key: s, text: s}
		}},
	{name: "WriteFile", call: func(st step, _ *run) string {
		return fmt.Sprintf("afero.WriteFile(fs, %q, []byte(%q), 0o644)", st.path, st.data)
	},
		draw: func(t *rapid.T, st *step) { st.path, st.data = drawPath(t, "path"), drawData(t) },
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			return errResult(call(func() error { return afero.WriteFile(fsys, st.path, []byte(st.data), 0o644) }))
		}},
	{name: "ReadFile", draw: withPath, call: func(st step, _ *run) string { return fmt.Sprintf("afero.ReadFile(fs, %q)", st.path) },
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			var b []byte
			err := call(func() (err error) { b, err = afero.ReadFile(fsys, st.path); return })
			return withErr(strconv.Quote(string(b)), err)
		}},
	{name: "ReadDir", draw: withPath, call: func(st step, _ *run) string { return fmt.Sprintf("afero.ReadDir(fs, %q)", st.path) },
		do: func(fsys afero.Fs, _ afero.File, st step) result {
			var fis []os.FileInfo
			err := call(func() (err error) { fis, err = afero.ReadDir(fsys, st.path); return })
			return withErr(infosString(fis), err)
		}},

	{name: "File.Write", file: true, draw: func(t *rapid.T, st *step) { st.data = drawData(t) },
		call: fileCall("Write([]byte(%q))", func(st step) []any { return []any{st.data} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var n int
			err := call(func() (err error) { n, err = f.Write([]byte(st.data)); return })
			return withErr("n="+strconv.Itoa(n), err)
		}},
	{name: "File.WriteAt", file: true,
		draw: func(t *rapid.T, st *step) {
			st.data = drawData(t)
			st.off = int64(rapid.IntRange(0, 12).Draw(t, "off"))
		},
		call: fileCall("WriteAt([]byte(%q), %d)", func(st step) []any { return []any{st.data, st.off} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var n int
			err := call(func() (err error) { n, err = f.WriteAt([]byte(st.data), st.off); return })
			return withErr("n="+strconv.Itoa(n), err)
		}},
	{name: "File.Read", file: true, draw: func(t *rapid.T, st *step) { st.n = rapid.IntRange(0, 10).Draw(t, "n") },
		call: fileCall("Read(make([]byte, %d))", func(st step) []any { return []any{st.n} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			b := make([]byte, st.n)
			var n int
			err := call(func() (err error) { n, err = f.Read(b); return })
			return withErr(fmt.Sprintf("n=%d %q", n, b[:max(0, min(n, len(b)))]), err)
		}},
	{name: "File.ReadAt", file: true,
		draw: func(t *rapid.T, st *step) {
			st.n = rapid.IntRange(0, 10).Draw(t, "n")
			st.off = int64(rapid.IntRange(0, 12).Draw(t, "off"))
		},
		call: fileCall("ReadAt(make([]byte, %d), %d)", func(st step) []any { return []any{st.n, st.off} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			b := make([]byte, st.n)
			var n int
			err := call(func() (err error) { n, err = f.ReadAt(b, st.off); return })
			return withErr(fmt.Sprintf("n=%d %q", n, b[:max(0, min(n, len(b)))]), err)
		}},
	{name: "File.Seek", file: true,
		draw: func(t *rapid.T, st *step) {
			st.off = int64(rapid.IntRange(-3, 12).Draw(t, "off"))
			st.whence = rapid.IntRange(0, 2).Draw(t, "whence")
		},
		call: fileCall("Seek(%d, %s)", func(st step) []any {
			return []any{st.off, [...]string{"io.SeekStart", "io.SeekCurrent", "io.SeekEnd"}[st.whence]}
		}),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var off int64
			err := call(func() (err error) { off, err = f.Seek(st.off, st.whence); return })
			if err != nil {
				return errResult(err)
			}
			return withErr("offset "+strconv.FormatInt(off, 10), nil)
		}},
	{name: "File.Truncate", file: true, draw: func(t *rapid.T, st *step) { st.n = rapid.IntRange(0, 12).Draw(t, "size") },
		call: fileCall("Truncate(%d)", func(st step) []any { return []any{st.n} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			return errResult(call(func() error { return f.Truncate(int64(st.n)) }))
		}},
	{name: "File.Stat", file: true, call: fileCall("Stat()", nil),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var fi os.FileInfo
			err := call(func() (err error) { fi, err = f.Stat(); return })
			return infoResult(fi, err)
		}},
	{name: "File.Readdirnames", file: true, draw: func(t *rapid.T, st *step) { st.n = rapid.IntRange(-1, 3).Draw(t, "n") },
		call: fileCall("Readdirnames(%d)", func(st step) []any { return []any{st.n} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var ns []string
			err := call(func() (err error) { ns, err = f.Readdirnames(st.n); return })
			if st.n > 0 {
				// Which names come first is the filesystem's order.
				return withErr(strconv.Itoa(len(ns))+" names", err)
			}
			sort.Strings(ns)
			return withErr(fmt.Sprintf("%q", ns), err)
		}},
	{name: "File.Readdir", file: true, draw: func(t *rapid.T, st *step) { st.n = rapid.IntRange(-1, 3).Draw(t, "n") },
		call: fileCall("Readdir(%d)", func(st step) []any { return []any{st.n} }),
		do: func(_ afero.Fs, f afero.File, st step) result {
			var fis []os.FileInfo
			err := call(func() (err error) { fis, err = f.Readdir(st.n); return })
			if st.n > 0 {
				return withErr(strconv.Itoa(len(fis))+" entries", err)
			}
			return withErr(infosString(fis), err)
		}},
	{name: "File.Sync", file: true, call: fileCall("Sync()", nil),
		do: func(_ afero.Fs, f afero.File, st step) result { return errResult(call(f.Sync)) }},
	{name: "File.Close", file: true, call: fileCall("Close()", nil),
		do: func(_ afero.Fs, f afero.File, st step) result { return errResult(call(f.Close)) }},
}

var opByName = func() map[string]*opSpec {
	m := map[string]*opSpec{}
	for i := range ops {
		m[ops[i].name] = &ops[i]
	}
	return m
}()

func pathCallPerm(method string) func(st step, r *run) string {
	return func(st step, r *run) string { return fmt.Sprintf("fs.%s(%q, 0o755)", method, st.path) }
}

// call runs f, turning a panic of the filesystem into an error.
func call(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{p}
		}
	}()
	return f()
}

func callFile(f func() (afero.File, error)) (file afero.File, err error) {
	err = call(func() (err error) { file, err = f(); return })
	return
}

// protect runs f and ignores its error or panic (closing files at the end
// of a sequence).
func protect(f func() error) { _ = call(f) }

// panicError is a panic of the filesystem under test.
type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

func errResult(err error) result { return withErr("", err) }

// withErr is the result of a call that returned what (when it succeeded,
// or what it returned along with its error) and err.
func withErr(what string, err error) result {
	k := errKind(err)
	key, text := k, k
	if err != nil {
		text = k + " (" + err.Error() + ")"
	}
	if what != "" {
		key, text = what+", "+key, what+", "+text
	}
	return result{key: key, text: text, err: err}
}

func opened(f afero.File, err error) result {
	if err != nil && f != nil {
		protect(f.Close)
		f = nil
	}
	r := errResult(err)
	r.file = f
	return r
}

func infoResult(fi os.FileInfo, err error) result {
	if err != nil {
		return errResult(err)
	}
	return withErr(infoString(fi), nil)
}

// infoString is what of a FileInfo is compared: name, type and, for a
// file, size. Modes and times are not (the model has no permissions, and
// times are the filesystem's own clock).
func infoString(fi os.FileInfo) string {
	if fi == nil {
		return "<nil FileInfo>"
	}
	if fi.IsDir() {
		return fmt.Sprintf("dir %q", fi.Name())
	}
	return fmt.Sprintf("file %q %d bytes", fi.Name(), fi.Size())
}

func infosString(fis []os.FileInfo) string {
	s := make([]string, len(fis))
	for i, fi := range fis {
		s[i] = infoString(fi)
	}
	sort.Strings(s)
	return "[" + strings.Join(s, ", ") + "]"
}

// errKinds are the errnos told apart, by the name a difference shows.
var errKinds = []struct {
	errno syscall.Errno
	name  string
}{
	{syscall.ENOTDIR, "not-a-directory"},
	{syscall.EISDIR, "is-a-directory"},
	{syscall.ENOTEMPTY, "not-empty"},
	{syscall.EINVAL, "invalid"},
	{syscall.EBADF, "bad-descriptor"},
	{syscall.EBUSY, "busy"},
	{syscall.EXDEV, "cross-device"},
	{syscall.ELOOP, "loop"},
	{syscall.ENAMETOOLONG, "name-too-long"},
	{syscall.EROFS, "read-only"},
}

// Kind is how TestFs classifies an error; it compares kinds, not
// messages (every filesystem words its own). The kinds: "ok" (nil),
// "panic" (the filesystem panicked), "not-a-directory", "is-a-directory",
// "not-empty", "invalid", "bad-descriptor", "busy", "cross-device",
// "loop", "name-too-long" and "read-only" (the syscall.Errno values
// ENOTDIR … EROFS, wrapped anywhere in err), "EOF", "not-exist", "exist",
// "permission", "closed" (errors.Is io.EOF, fs.ErrNotExist, fs.ErrExist,
// fs.ErrPermission, fs.ErrClosed), and "error" for any other error.
func Kind(err error) string { return errKind(err) }

func errKind(err error) string {
	if err == nil {
		return "ok"
	}
	var p *panicError
	if errors.As(err, &p) {
		return "panic"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		for _, k := range errKinds {
			if errno == k.errno {
				return k.name
			}
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.Is(err, fs.ErrNotExist):
		return "not-exist"
	case errors.Is(err, fs.ErrExist):
		return "exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission"
	case errors.Is(err, fs.ErrClosed), strings.Contains(err.Error(), "use of closed file"):
		// os.File.Readdir reports a closed file with an error of package
		// internal/poll that is not fs.ErrClosed.
		return "closed"
	}
	return "error"
}
