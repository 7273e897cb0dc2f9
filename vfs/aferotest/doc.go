// Package aferotest checks an afero.Fs against a model of POSIX file
// semantics, as testing/fstest checks an fs.FS:
//
//	func TestMyFs(t *testing.T) {
//		aferotest.TestFs(t, func() afero.Fs { return myfs.New() })
//	}
//
// # What it does
//
// TestFs draws sequences of calls with pgregory.net/rapid — the methods of
// afero.Fs, afero.ReadFile, WriteFile and ReadDir, and the methods of the
// files they open, on paths made of a few names that are prefixes of one
// another ("a", "a1", "a10", "b") — and runs each sequence on a fresh
// filesystem from newFs and on the model: wasisim's in-memory filesystem
// (package vfs) through vfs.NewAferoFs, which starts as a copy of the
// filesystem's initial tree. After every call it compares the results
// (values, and errors by their Kind, not their messages) and then the
// whole tree, listed, stat'ed and read through the filesystem's own
// methods. The first difference fails the test, shrunk by rapid to a
// shortest sequence that shows it, printed as Go:
//
//	aferotest: the filesystem differs from the model (vfs) after 2 steps:
//	   1  f1, err := fs.Create("/a")
//	   2  fs.Rename("/a", "/a")
//
//	after fs.Rename("/a", "/a") the trees differ:
//	  only on the filesystem under test:
//	    (nothing)
//	  only on the model:
//	    /a 0 ""
//
// The model follows package os on Linux: its own suite compares it with
// the host's filesystem (a BasePathFs on afero.OsFs), and package vfs is
// compared with the Linux kernel by proptest/linuxdiff. Modes, owners and
// times other than those Chtimes sets are not compared.
//
// # Declaring what differs on purpose
//
// A filesystem rarely means to be POSIX in every corner. Options.Intended
// lists the differences it has on purpose, each a Match function over a
// Difference (Kinds builds the common ones: a call whose errors are of
// two given kinds) and a Why for the log; a matched difference is logged
// and the sequence goes on. When the trees differ afterwards, the model
// is made a copy of the filesystem's tree again and the open files are
// closed; Intended.End ends the sequence instead, for a difference after
// which the filesystem holds what no listing shows. Options.Skip keeps
// TestFs from making calls at all: an operation the filesystem lacks, or
// a call that crashes it beyond recover (a panic is a difference like any
// other, after which the filesystem is not called again; a fatal error
// ends the test binary). To survey a new filesystem, run TestFs, declare
// what it reports (or fix it), and run it again.
//
// # What it finds
//
// Run on afero v1.15.0 and go-billy v5.9.2, the kit finds the following;
// this package's tests declare each of these, and pass.
//
// afero.MemMapFs (and BasePathFs on it, which adds nothing):
//   - Rename into the renamed directory itself, onto one of its parents,
//     of the root or onto it crashes the process: a panic inside the
//     filesystem's lock, then a fatal "RUnlock of unlocked RWMutex".
//   - Creating (Create, OpenFile with O_CREATE, WriteFile, Mkdir) or
//     renaming into a missing directory makes the directory.
//   - Under a file, creating succeeds, and the file then has entries under
//     it; other paths through a file are not-exist rather than ENOTDIR.
//   - A directory can be created over, opened with O_TRUNC, written, and
//     read as an empty file; a non-empty directory can be removed, and a
//     file or a directory renamed over a directory: the entries under it
//     stay, reachable by name but in no listing. The root is an ordinary
//     entry: it can be created, opened for writing, removed and renamed,
//     and its name is "".
//   - The access mode is not enforced: a file opened O_RDONLY can be
//     written and truncated, one opened O_WRONLY reads as EOF; O_TRUNC
//     without write access does not truncate (Linux truncates).
//   - O_APPEND seeks to the end once, at open (before O_TRUNC truncates):
//     writes land at the file's offset, not at its end.
//   - WriteAt moves the file's offset; WriteAt on an O_APPEND file
//     succeeds; writing nothing past the end extends the file with zeros;
//     Seek to a negative offset succeeds; ReadAt that reaches the end
//     returns no io.EOF; reading a directory is EOF, not EISDIR.
//   - A closed file still answers Close, Stat, Sync and Readdir.
//   - Create of an existing file makes a new file: a file already open on
//     the name no longer reaches it; an open file's Stat has the name the
//     file has now; a directory's listing is read anew at each Readdir,
//     and a removed directory still lists.
//   - O_EXCL without O_CREATE refuses an existing file; renaming a name
//     onto itself succeeds even when it does not exist.
//   - Errors of its own (listing a file, writing a read-only file) where
//     package os returns an errno.
//
// afero.CopyOnWriteFs (a read-only MemMapFs under a MemMapFs), besides
// MemMapFs's: what the base holds cannot be removed or renamed — Remove
// and Rename fail, or succeed on the copy in the layer while the base's
// entry shows through again; Mkdir over a file of the layer succeeds and
// changes nothing; a directory's listing starts over after Readdir(0) read
// it to the end.
//
// afero.RegexpFs, besides MemMapFs's: files whose name does not match are
// hidden, as documented (creating one is not-exist); renaming a directory
// does nothing, and reports success.
//
// go-billy's memfs (through the small adapter in this package's tests,
// which adds Mkdir, directory handles and Readdir from billy's ReadDir):
//   - Renaming a name loses every name it is a string prefix of: after
//     Rename("/d/a1", "/d/b"), /d/a10 is gone.
//   - Renaming a file onto itself removes it. A directory can be renamed
//     into itself (or Rename panics), and onto itself.
//   - After a directory is renamed, the listings of its subdirectories are
//     empty, their entries still reachable by name; creating where a
//     renamed directory or file was, or in it, can panic.
//   - Chmod replaces the type bits: a directory made 0o700 is a file.
//   - The root can be removed and renamed; creating into a missing
//     directory makes it; under a file, creating succeeds.
//   - A file opened O_RDONLY can be truncated, and a closed one too;
//     reading nothing is EOF; O_APPEND seeks to the end only at open;
//     WriteAt on an O_APPEND file succeeds; writing nothing past the end
//     extends the file; Seek to a negative offset succeeds; O_EXCL without
//     O_CREATE refuses an existing file.
//
// The host's filesystem (Linux, ext4) differs from the model where
// package os or the kernel has a peculiarity the model leaves out:
// os.File's ReadAt and WriteAt look at their arguments before noticing a
// closed file; a directory removed while open lists as ENOENT; reading a
// directory after Readdir is EINVAL; seeking in a directory uses the
// filesystem's own offsets.
package aferotest
