//go:build linux

package aferotest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/spf13/afero"

	"github.com/wasisim/wasisim/internal/soak"
	"github.com/wasisim/wasisim/vfs/aferotest"
)

// The kit against the host's filesystem, under a directory of its own:
// this is how the model (the afero adapter of package vfs) is checked
// against the real thing. The differences are Linux's and package os's
// peculiarities the model leaves out.
func TestOsFs(t *testing.T) {
	base := t.TempDir()
	n := 0
	soak.Check(t, 100, aferotest.Property(func() afero.Fs {
		n++
		dir := fmt.Sprintf("%s/%d", base, n)
		if err := os.Mkdir(dir, 0o755); err != nil {
			panic(err)
		}
		return afero.NewBasePathFs(afero.NewOsFs(), dir)
	}, aferotest.Options{Intended: []aferotest.Intended{
		intended("the root is a directory of the host's, not a root", names("/")),
		intended("os.File's WriteAt and ReadAt look at their arguments before at a closed file", kinds("", "closed", "File.WriteAt", "File.ReadAt")),
		intended("Linux lists a removed directory as ENOENT, the model as empty", kinds("not-exist", "ok", "File.Readdir", "File.Readdirnames")),
		intended("Linux reads a directory after getdents as EINVAL, not EISDIR", kinds("invalid", "is-a-directory", "File.Read")),
		intended("Linux seeks in a directory by the filesystem's own offsets (ext4: its end is the largest offset)", kinds("", "", "File.Seek")),
	}}))
}
