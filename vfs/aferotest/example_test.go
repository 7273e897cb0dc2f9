package aferotest_test

import (
	"testing"

	"github.com/spf13/afero"

	"github.com/wasisim/wasisim/vfs/aferotest"
)

// A test of afero's MemMapFs that declares two of its differences from
// POSIX and keeps the kit from the call that crashes it. Run alone, the
// kit reports the next difference as a shortest sequence of calls; declare
// it (or fix the filesystem) and run again.
func testMemMapFs(t *testing.T) {
	aferotest.TestFs(t, afero.NewMemMapFs, aferotest.Options{
		Intended: []aferotest.Intended{
			{Why: "missing parent directories are made", Match: aferotest.Kinds("ok", "not-exist", "Create", "OpenFile", "WriteFile", "Mkdir")},
			{Why: "closing a closed file succeeds", Match: aferotest.Kinds("ok", "closed", "File.Close")},
		},
		Skip: func(op string, paths []string) bool {
			return op == "Rename" && (paths[0] == "/" || paths[1] == "/")
		},
	})
}

func ExampleTestFs() {
	_ = testMemMapFs // called from a Test function: func TestMemMapFs(t *testing.T) { testMemMapFs(t) }
}
