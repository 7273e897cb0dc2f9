// Package vfs is wasisim's in-memory file system: the POSIX-like object
// model under WASI's wasi:filesystem descriptor. It knows nothing of WASI
// handles or streams; package host builds the descriptor resource on it.
//
// # Model
//
// An FS holds a tree of inodes: regular files (bytes; a write past the end
// zero-fills, SetSize extends without allocating), directories (entries in
// a github.com/google/btree ordered by name, so listings are sorted and
// cheap) and symbolic links. Inode numbers are sequential from 1 (the
// root); timestamps come from a Clock, by default the sim.World's virtual
// wall clock or, without a World, a fixed time, so every run of a scenario
// sees the same metadata.
//
// Everything is reached through an open file description, *OFD, the
// equivalent of gVisor's vfs.FileDescription: Root makes one on the root
// directory (a preopen) and OpenAt makes a new one for each open, even of
// an inode that is already open. An OFD is reference-counted through
// internal/refs, the mechanism vnet's sockets use too — each WASI handle,
// each in-flight stream and each preview-1 descriptor holds a reference —
// and its last DecRef releases it: its advisory locks are released and an
// unlinked inode whose last link and last OFD are gone is freed (Usage
// drops). With a World, releases and frees are trace events ("release",
// "free"); Live lists the OFDs still referenced, for leak reports. A
// DecRef after release or an IncRef of a released OFD is a misuse: it
// changes nothing, returns an error wrapping ErrRefCount, is listed by
// RefErrors and, with a World, is a "misuse" event and a failure of the
// run.
//
// Advisory locks are flock-style, owned by an OFD; see TryLock and Lock.
// Lock waits on the wait queue vnet's blocking calls use (internal/wait):
// with a World, a sim.WaitQueue, so the world's scheduler decides when a
// blocked locker proceeds and reports a lock never released as a
// deadlock; without one, the calling goroutine blocks.
//
// Locking: one mutex per FS guards everything in it (see FS). Functions
// named …Locked must be called with it held, and say so in a
// "Preconditions:" line; the two named lock… (lockLive, lockDir) return
// holding it.
//
// Path operations take a base directory OFD and a relative path, resolved
// with WASI's sandboxing rules (see resolve.go): a leading "/", ".." that
// leaves the base even temporarily, a symbolic link that resolves outside
// the base or an absolute link target are ErrNotPermitted; "" is
// ErrNoEntry; more than MaxSymlinkHops links is ErrLoop; a component over
// MaxNameLen or a path over MaxPathLen bytes is ErrNameTooLong; a path (or
// a symlink target) holding a NUL byte is ErrInvalid, as in Wasmtime,
// since no host path can hold one (Linux's C interface would end the path
// at the NUL and act on another name); a trailing
// slash requires a directory, as in POSIX — but, as on Linux, it never
// makes an operation on the entry itself (mkdir, rmdir, unlink, rename,
// link, symlink, open with create) follow a symlink there, and those
// operations report their errors in Linux's order. proptest/linuxdiff
// checks all of this against the kernel.
//
// # Errors
//
// Every failure is an ErrorCode, the wasi:filesystem error-code enum in WIT
// order (shared with package host), returned bare so callers can compare
// with ==; ErrorCode.Is maps them to io/fs errors: ErrNoEntry is
// fs.ErrNotExist, ErrExist fs.ErrExist, and ErrAccess, ErrNotPermitted and
// ErrReadOnly are fs.ErrPermission. The choices where WASI leaves room:
//
//   - Using an OFD for an access it was not opened for (reading without
//     Read, writing or SetSize without Write) is ErrBadDescriptor, as a
//     POSIX fd gives EBADF and Wasmtime returns bad-descriptor for reads
//     and writes. Reading or writing a directory is ErrIsDirectory.
//   - Changing the tree through a base without MutateDirectory is
//     ErrReadOnly, the wasi:filesystem code for a change the descriptor
//     may not make (Wasmtime reports not-permitted for its preopen
//     permissions). OpenAt with OpenCreate, OpenTruncate,
//     Write or MutateDirectory counts as a change, as do SetTimesAt,
//     CreateDirectoryAt, RemoveDirectoryAt, UnlinkFileAt, SymlinkAt, and
//     RenameAt (both bases) and LinkAt (the new base); so does SetTimes on
//     any OFD reached from a Root without MutateDirectory. LinkAt from a
//     base without MutateDirectory is ErrNotPermitted, as in Wasmtime: the
//     new name would be a writable path to an object the holder may only
//     read. So nothing reached only through a read-only root can change.
//   - Writes are all or nothing: a write that would exceed the byte quota
//     (ErrInsufficientSpace), MaxFileSize or Options.MaxFileBytes
//     (ErrFileTooLarge) changes nothing, so nothing written before is lost.
//     A create beyond the inode quota is ErrQuota.
//   - A negative offset or size is ErrInvalid. Methods on a released OFD,
//     and nil OFD arguments, are ErrBadDescriptor; nothing panics on bad
//     input.
//
// Locks report ErrWouldBlock (not an error-code: WASI has no lock API), and
// reference-count misuse wraps ErrRefCount. With a World, an OFD call from
// a goroutine other than the world's running task, while the world runs,
// returns sim.ErrNotInTask and changes nothing (it would race with the
// run's events and clock); before and after the run any goroutine may call.
//
// # Adapters
//
// FS.IOFS (or NewIOFS) is a read-only io/fs view that passes
// testing/fstest.TestFS; NewAferoFs is a read-write afero.Fs.
package vfs
