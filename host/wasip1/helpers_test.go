package wasip1_test

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

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/host/wasip1"
)

// Guests are Go programs under testdata/guests/<name> (GOOS=wasip1). The
// tests build them all with one `go build` per test binary run, into a
// directory keyed by the hash of their sources and the Go version, under
// os.UserCacheDir() (or a temp dir), so a second run does not rebuild.

var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
)

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

// TestMain points the default engine (and the wazero runtimes of the
// differential tests) at an on-disk compilation cache, so that compiling
// the Go guests — slow under -race — happens once per machine.
func TestMain(m *testing.M) {
	if os.Getenv(wasip1.CacheDirEnv) == "" {
		if base, err := os.UserCacheDir(); err == nil {
			os.Setenv(wasip1.CacheDirEnv, filepath.Join(base, "wasisim-wazero"))
		}
	}
	if dir := os.Getenv(wasip1.CacheDirEnv); dir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			wazeroCache = c
		}
	}
	os.Exit(m.Run())
}

// guest returns the bytes of the built guest name.
func guest(tb testing.TB, name string) []byte {
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
