package wasip1_test

import (
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/internal/wasitest"
)

// TestMain points the default engine (and the wazero runtimes of the
// differential tests) at an on-disk compilation cache, so that compiling
// the Go guests — slow under -race — happens once per machine.
func TestMain(m *testing.M) {
	if dir := wasitest.UseCompilationCache(); dir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			wazeroCache = c
		}
	}
	os.Exit(m.Run())
}

// guest returns the bytes of the built guest name (see package wasitest).
func guest(tb testing.TB, name string) []byte {
	tb.Helper()
	return wasitest.Guest(tb, name)
}
