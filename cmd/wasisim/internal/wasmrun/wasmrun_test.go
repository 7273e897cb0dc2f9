package wasmrun

import (
	"os"
	"testing"

	"github.com/wasisim/wasisim/internal/wasitest"
)

// TestMain points the compilation cache at a directory on disk.
func TestMain(m *testing.M) {
	wasitest.UseCompilationCache()
	os.Exit(m.Run())
}
