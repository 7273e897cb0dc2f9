// Package wasitest serves the tests that run WASI preview-1 guests: it
// builds the Go programs under testdata/guests once per test binary, keeps
// their compiled code in an on-disk cache, and lists directory trees in a
// form two trees can be compared in.
//
// Guests are built with one `go build` (GOOS=wasip1) into a directory keyed
// by the hash of their sources and the Go version, under
// os.UserCacheDir() (or a temporary directory), so a second run does not
// rebuild. The package is for this module's tests only.
package wasitest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wasisim/wasisim/host/wasip1"
)

// UseCompilationCache points wasip1.DefaultEngine at an on-disk wazero
// compilation cache (under os.UserCacheDir, unless wasip1.CacheDirEnv
// already names one), so that compiling the Go guests — slow under -race —
// happens once per machine. Call it from TestMain, before any guest runs.
// It returns the directory ("" when there is none).
func UseCompilationCache() string {
	if os.Getenv(wasip1.CacheDirEnv) == "" {
		if base, err := os.UserCacheDir(); err == nil {
			os.Setenv(wasip1.CacheDirEnv, filepath.Join(base, "wasisim-wazero"))
		}
	}
	return os.Getenv(wasip1.CacheDirEnv)
}

var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
)

// Guest returns the bytes of the built guest name (testdata/guests/name),
// building every guest on first use.
func Guest(tb testing.TB, name string) []byte {
	tb.Helper()
	guestOnce.Do(func() { guestDir, guestErr = buildGuests() })
	if guestErr != nil {
		tb.Fatalf("building guests: %v", guestErr)
	}
	b, err := os.ReadFile(filepath.Join(guestDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func guestNames(root string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "testdata", "guests"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func buildGuests() (string, error) {
	root := moduleRoot()
	names, err := guestNames(root)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	src := filepath.Join(root, "testdata", "guests")
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "wasisim-guests", sum)
	if _, err := os.Stat(filepath.Join(dir, "ok")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir+"x"), "build-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", err
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "build-"); err != nil {
			return "", err
		}
	}
	args := []string{"build", "-o", tmp + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./testdata/guests/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, "ok"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary won the race; use its build.
		os.RemoveAll(tmp)
		if _, err := os.Stat(filepath.Join(dir, "ok")); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// HostTree lists a host directory: path (slash-separated, relative to dir)
// -> "dir", "file:<content>" or "link:<target>".
func HostTree(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			out[rel] = "link:" + t
		case d.IsDir():
			out[rel] = "dir"
		default:
			b, _ := os.ReadFile(p)
			out[rel] = "file:" + string(b)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TreeString prints a tree listing one entry a line, sorted by path, so
// two listings compare as strings and a difference reads well.
func TreeString(m map[string]string) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %q\n", k, m[k])
	}
	return b.String()
}
