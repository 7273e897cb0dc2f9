package vfs_test

import (
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/spf13/afero"

	"github.com/wasisim/wasisim/vfs"
)

// Code written against afero.Fs runs on the in-memory file system: the
// helpers of package afero work on it, errors answer os.IsNotExist, and
// what was written is in the vfs tree (here read back through io/fs).
func ExampleNewAferoFs() {
	fsys := vfs.New(vfs.Options{})
	afs := vfs.NewAferoFs(fsys)

	afs.MkdirAll("/app/logs", 0o755)
	afero.WriteFile(afs, "/app/config.toml", []byte("debug = true\n"), 0o644)
	f, _ := afero.TempFile(afs, "/app/logs", "run-*.log") // a random name, as on an OS
	f.WriteString("started\n")
	f.Close()

	_, err := afs.Stat("/app/missing")
	fmt.Println("missing:", os.IsNotExist(err))
	logs, _ := afero.ReadDir(afs, "/app/logs")
	fmt.Println("logs:", len(logs))
	fs.WalkDir(fsys.IOFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			fmt.Println("file in", path.Dir(p))
		}
		return nil
	})
	// Output:
	// missing: true
	// logs: 1
	// file in app
	// file in app/logs
}
