package vfs

import (
	"fmt"
	"strings"
	"time"

	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/sim"
)

// OFD is an open file description: what OpenAt and Root create, in the
// manner of gVisor's vfs.FileDescription. It holds an inode, an access mode
// (DescFlags) and flock-style locks, and it is reference-counted: every
// handle and in-flight stream that uses it holds a reference (IncRef), and
// the last DecRef releases it — its locks are dropped, its release hooks
// run, and an unlinked inode with no other OFD is freed. Each OpenAt makes
// a new OFD even for an inode that is already open.
//
// An OFD has no file position: reads and writes take an offset, as WASI's
// streams do. Methods on a released OFD fail with ErrBadDescriptor.
type OFD struct {
	fs    *FS       // immutable
	node  *inode    // immutable; the inode is guarded by fs.mu
	id    uint64    // immutable
	flags DescFlags // immutable
	name  string    // immutable
	// readOnly: the OFD was reached from a Root without MutateDirectory,
	// so the tree it is part of is read-only to its holder, metadata
	// included (SetTimes refuses); immutable.
	readOnly bool
	rc       refs.Count // guarded by fs.mu
	lock     LockKind   // guarded by fs.mu
}

// newOFDLocked makes an OFD on n with one reference, owned by the caller.
//
// Preconditions: f.mu is held.
func (f *FS) newOFDLocked(n *inode, flags DescFlags, name string, readOnly bool) *OFD {
	f.nextOFD++
	d := &OFD{fs: f, node: n, id: f.nextOFD, flags: flags, name: name, readOnly: readOnly}
	d.rc.Init(&f.misuse)
	n.opens++
	f.live[d.id] = d
	if f.tracing() {
		f.event("open", d.label(), name+" inode "+itoa(n.ino)+" "+flags.String())
	}
	return d
}

func (d *OFD) label() string { return "ofd#" + itoa(d.id) }

// lockLive checks the caller (see FS.enter), locks the FS and checks that
// d is a live OFD.
//
// Postconditions: on success f.mu is held and the caller unlocks it.
func (d *OFD) lockLive() (*FS, error) {
	if d == nil || d.fs == nil {
		return nil, ErrBadDescriptor
	}
	f := d.fs
	if err := f.enter(); err != nil {
		return nil, err
	}
	f.lock()
	if d.rc.ReleasedLocked() {
		f.mu.Unlock()
		return nil, ErrBadDescriptor
	}
	return f, nil
}

// ID is the OFD's number: sequential per FS from 1, so it is the same in
// every run of a deterministic scenario.
func (d *OFD) ID() uint64 {
	if d == nil {
		return 0
	}
	return d.id
}

// String is "ofd#<id>".
func (d *OFD) String() string {
	if d == nil {
		return "ofd#nil"
	}
	return d.label()
}

// Name is the path the OFD was opened by, joined to its base's name, for
// reports. It is not updated by renames.
func (d *OFD) Name() string {
	if d == nil {
		return ""
	}
	return d.name
}

// FS is the file system the OFD belongs to.
func (d *OFD) FS() *FS {
	if d == nil {
		return nil
	}
	return d.fs
}

// Flags are the descriptor flags the OFD was opened with (as WASI's
// get-flags reports them): Read is set when Write was not requested, Write
// is set when the open created or truncated the file, and MutateDirectory
// appears only on directories.
func (d *OFD) Flags() DescFlags {
	if d == nil {
		return 0
	}
	return d.flags
}

// Type is the type of the inode (WASI get-type).
func (d *OFD) Type() DescType {
	if d == nil || d.node == nil {
		return TypeUnknown
	}
	return d.node.typ
}

// Refs is the current reference count (0 once released).
func (d *OFD) Refs() int64 {
	if d == nil || d.fs == nil {
		return 0
	}
	d.fs.lockRef(d)
	defer d.fs.mu.Unlock()
	return d.rc.RefsLocked()
}

// IncRef takes a reference. On a released OFD it is a misuse (package
// refs): it changes nothing, is recorded (RefErrors; with a World, a
// failure of the run) and returns an error wrapping ErrRefCount.
func (d *OFD) IncRef() error {
	if d == nil || d.fs == nil {
		return ErrBadDescriptor
	}
	f := d.fs
	if err := f.enter(); err != nil {
		return err
	}
	f.lockRef(d)
	defer f.mu.Unlock()
	if err := d.rc.IncRefLocked(d); err != nil {
		f.touch(fsObj, sim.Write) // the misuse is recorded in the FS's log
		return fmt.Errorf("%w: %w (%s)", ErrRefCount, err, d.name)
	}
	return nil
}

// DecRef drops a reference. The last one releases the OFD: its locks are
// released (a "release" world event each), the inode's open count drops
// (freeing an unlinked inode's data, with a "free" event, if nothing else
// holds it), then the OnRelease hooks run in registration order, outside
// the FS lock. A DecRef after release is a misuse, as for IncRef.
func (d *OFD) DecRef() error {
	if d == nil || d.fs == nil {
		return ErrBadDescriptor
	}
	f := d.fs
	if err := f.enter(); err != nil {
		return err
	}
	f.lockRef(d)
	last, err := d.rc.DecRefLocked(d)
	if last || err != nil {
		f.touch(fsObj, sim.Write) // the release, or the misuse's record
	}
	if !last {
		f.mu.Unlock()
		if err != nil {
			return fmt.Errorf("%w: %w (%s)", ErrRefCount, err, d.name)
		}
		return nil
	}
	delete(f.live, d.id)
	if f.tracing() {
		f.event("release", d.label(), "close "+d.name)
	}
	f.unlockLocked(d, "")
	n := d.node
	n.opens--
	f.maybeFreeLocked(n)
	hooks := d.rc.TakeHooksLocked()
	f.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	return nil
}

// OnRelease registers fn to run when the last reference is dropped. On a
// released OFD fn runs at once.
func (d *OFD) OnRelease(fn func()) {
	if fn == nil {
		return
	}
	if d == nil || d.fs == nil {
		fn()
		return
	}
	f := d.fs
	f.lock()
	ok := d.rc.OnReleaseLocked(fn)
	f.mu.Unlock()
	if !ok {
		fn()
	}
}

// IsSameObject reports whether d and other refer to the same inode.
func (d *OFD) IsSameObject(other *OFD) bool {
	if d == nil || other == nil || d.fs != other.fs {
		return false
	}
	return d.node == other.node
}

// lockDir locks the FS and checks that d is a live directory OFD,
// optionally with MutateDirectory.
//
// Postconditions: on success f.mu is held and the caller unlocks it.
func (d *OFD) lockDir(mutate bool) (*FS, error) {
	f, err := d.lockLive()
	if err != nil {
		return nil, err
	}
	if d.node.typ != TypeDirectory {
		f.mu.Unlock()
		return nil, ErrNotDirectory
	}
	if mutate && d.flags&MutateDirectory == 0 {
		f.mu.Unlock()
		return nil, ErrReadOnly
	}
	return f, nil
}

// OpenAt opens the object at path relative to the directory d and returns
// a new OFD with one reference (WASI open-at).
//
// Open flags: OpenCreate creates a regular file if none exists (and implies
// Write); with OpenExclusive an existing entry — even a dangling symlink —
// is ErrExist. OpenTruncate empties a regular file (and implies Write).
// OpenDirectory requires a directory (ErrNotDirectory) and is ErrInvalid
// with OpenCreate, OpenExclusive or OpenTruncate. Descriptor flags without
// Write mean Read as well (so empty flags with OpenCreate are Read|Write). Opening a directory with Write is
// ErrIsDirectory; MutateDirectory is dropped on files. Opening a symbolic
// link without SymlinkFollow is ErrLoop (O_NOFOLLOW). A base without
// MutateDirectory refuses OpenCreate, OpenTruncate, Write and
// MutateDirectory with ErrReadOnly, so a read-only tree stays read-only.
func (d *OFD) OpenAt(pf PathFlags, path string, of OpenFlags, df DescFlags) (*OFD, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if of&OpenDirectory != 0 && of&(OpenCreate|OpenExclusive|OpenTruncate) != 0 {
		return nil, ErrInvalid
	}
	if df&Write == 0 {
		df |= Read // no flags at all mean read, before create adds write
	}
	if of&(OpenCreate|OpenTruncate) != 0 {
		df |= Write
	}
	if df&(Write|MutateDirectory) != 0 && d.flags&MutateDirectory == 0 {
		return nil, ErrReadOnly
	}
	excl := of&(OpenCreate|OpenExclusive) == OpenCreate|OpenExclusive
	resolve := f.resolveLocked
	if of&OpenCreate != 0 {
		resolve = f.resolveCreateLocked
	}
	lk, err := resolve(d.node, path, pf&SymlinkFollow != 0 && !excl)
	if err != nil {
		return nil, err
	}
	if lk.createSlash {
		// O_CREAT with a slash after the last name (in the path or in a
		// symlink it follows): is-directory without looking the name up,
		// as Linux; "." and ".." go the usual way.
		return nil, ErrIsDirectory
	}
	n := lk.node
	now := f.now()
	switch {
	case n == nil:
		if of&OpenCreate == 0 {
			return nil, ErrNoEntry
		}
		if lk.slash {
			return nil, ErrIsDirectory
		}
		if lk.dir.nlink == 0 {
			return nil, ErrNoEntry
		}
		if n, err = f.newInodeLocked(TypeRegularFile); err != nil {
			return nil, err
		}
		f.linkLocked(lk.dir, lk.name, n, now)
	case excl:
		return nil, ErrExist
	case n.typ == TypeSymbolicLink:
		if of&OpenDirectory != 0 {
			return nil, ErrNotDirectory // O_DIRECTORY is checked before O_NOFOLLOW
		}
		return nil, ErrLoop
	case n.typ == TypeDirectory:
		if df&Write != 0 {
			return nil, ErrIsDirectory
		}
	default:
		if of&OpenDirectory != 0 {
			return nil, ErrNotDirectory
		}
		if of&OpenTruncate != 0 {
			f.truncateLocked(n, 0, now)
		}
	}
	if n.typ != TypeDirectory {
		df &^= MutateDirectory
	}
	return f.newOFDLocked(n, df, joinName(d.name, path), d.readOnly), nil
}

func joinName(base, p string) string {
	if base == "/" {
		return "/" + p
	}
	return base + "/" + p
}

// ReadAt reads up to len(p) bytes at offset off. Unlike io.ReaderAt it
// never returns io.EOF: at or past the end it returns 0, nil, and a short
// count means the end was reached. A directory is ErrIsDirectory; an OFD
// without Read is ErrBadDescriptor; a negative offset is ErrInvalid.
func (d *OFD) ReadAt(p []byte, off int64) (int, error) {
	f, err := d.lockLive()
	if err != nil {
		return 0, err
	}
	defer f.mu.Unlock()
	n := d.node
	if n.typ == TypeDirectory {
		return 0, ErrIsDirectory
	}
	if d.flags&Read == 0 {
		return 0, ErrBadDescriptor
	}
	if off < 0 {
		return 0, ErrInvalid
	}
	if off >= n.size || len(p) == 0 {
		return 0, nil
	}
	end := min(n.size, off+int64(min(len(p), MaxFileSize)))
	p = p[:end-off]
	k := n.readData(p, off)
	clear(p[k:])
	n.atime = f.now()
	return len(p), nil
}

// writableLocked checks that d may write file data.
//
// Preconditions: f.mu is held.
func (d *OFD) writableLocked() error {
	if d.node.typ == TypeDirectory {
		return ErrIsDirectory
	}
	if d.flags&Write == 0 {
		return ErrBadDescriptor
	}
	return nil
}

// WriteAt writes p at offset off, overwriting in place and zero-filling a
// gap past the end. The write is all or nothing: if it would exceed
// MaxFileSize or Options.MaxFileBytes (ErrFileTooLarge) or the byte quota
// (ErrInsufficientSpace), nothing changes. An OFD without Write is
// ErrBadDescriptor; a directory ErrIsDirectory; a negative offset
// ErrInvalid.
func (d *OFD) WriteAt(p []byte, off int64) (int, error) {
	f, err := d.lockLive()
	if err != nil {
		return 0, err
	}
	defer f.mu.Unlock()
	if err := d.writableLocked(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, ErrInvalid
	}
	return f.writeLocked(d.node, p, off)
}

// Append writes p at the current end of the file, atomically: no other
// write lands between finding the end and writing. Errors as WriteAt.
func (d *OFD) Append(p []byte) (int, error) {
	f, err := d.lockLive()
	if err != nil {
		return 0, err
	}
	defer f.mu.Unlock()
	if err := d.writableLocked(); err != nil {
		return 0, err
	}
	return f.writeLocked(d.node, p, d.node.size)
}

// writeLocked writes p at off into n, growing it (zero-filling a gap) and
// charging the byte quota; all or nothing.
//
// Preconditions: f.mu is held.
func (f *FS) writeLocked(n *inode, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if off > MaxFileSize || int64(len(p)) > MaxFileSize-off {
		return 0, ErrFileTooLarge
	}
	end := off + int64(len(p))
	old := n.dataLen()
	if end > old {
		if end > f.opt.MaxFileBytes {
			return 0, ErrFileTooLarge
		}
		if err := f.chargeLocked(end - old); err != nil {
			return 0, err
		}
		n.growData(end)
		if off > old {
			n.clearData(old, off) // the gap reads as zeros (also wipes bytes left by an earlier shrink)
		}
	}
	n.writeData(p, off)
	n.size = max(n.size, end)
	now := f.now()
	n.mtime, n.ctime = now, now
	return len(p), nil
}

// SetSize truncates or extends the file (WASI set-size). Extending does not
// allocate: the new tail reads as zeros. Errors: ErrIsDirectory,
// ErrBadDescriptor without Write, ErrInvalid for a negative size,
// ErrFileTooLarge past MaxFileSize.
func (d *OFD) SetSize(size int64) error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	if err := d.writableLocked(); err != nil {
		return err
	}
	if size < 0 {
		return ErrInvalid
	}
	if size > MaxFileSize {
		return ErrFileTooLarge
	}
	f.truncateLocked(d.node, size, f.now())
	return nil
}

// truncateLocked sets n's size, giving back the bytes past it.
//
// Preconditions: f.mu is held.
func (f *FS) truncateLocked(n *inode, size int64, now int64) {
	if held := n.dataLen(); size < held {
		f.usage.Bytes -= held - size
		n.shrinkData(size)
	}
	n.size = size
	n.mtime, n.ctime = now, now
}

// Stat returns the inode's metadata (WASI stat).
func (d *OFD) Stat() (Stat, error) {
	f, err := d.lockLive()
	if err != nil {
		return Stat{}, err
	}
	defer f.mu.Unlock()
	return d.node.stat(f.opt.Device), nil
}

// SetTimes sets the access and modification times (WASI set-times); the
// change time becomes the clock's now. An OFD reached from a read-only Root
// (one without MutateDirectory) is ErrReadOnly, whatever its own flags: a
// read-only tree keeps its metadata too (Wasmtime refuses set-times without
// its preopen's write permission).
func (d *OFD) SetTimes(atime, mtime NewTimestamp) error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	if d.readOnly {
		return ErrReadOnly
	}
	return f.setTimesLocked(d.node, atime, mtime)
}

// setTimesLocked sets n's access and modification times; ctime is now.
//
// Preconditions: f.mu is held.
func (f *FS) setTimesLocked(n *inode, atime, mtime NewTimestamp) error {
	now := f.now()
	a, err := tsValue(atime, n.atime, now)
	if err != nil {
		return err
	}
	m, err := tsValue(mtime, n.mtime, now)
	if err != nil {
		return err
	}
	n.atime, n.mtime, n.ctime = a, m, now
	return nil
}

var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)

func tsValue(ts NewTimestamp, cur, now int64) (int64, error) {
	switch ts.Kind {
	case NoChange:
		return cur, nil
	case Now:
		return now, nil
	case Timestamp:
		if ts.Time.Before(minTime) || ts.Time.After(maxTime) {
			return 0, ErrOverflow
		}
		return ts.Time.UnixNano(), nil
	}
	return 0, ErrInvalid
}

// StatAt stats the object at path (WASI stat-at); SymlinkFollow follows a
// symbolic link in the last component.
func (d *OFD) StatAt(pf PathFlags, path string) (Stat, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return Stat{}, err
	}
	defer f.mu.Unlock()
	n, err := f.resolveNodeLocked(d.node, path, pf)
	if err != nil {
		return Stat{}, err
	}
	return n.stat(f.opt.Device), nil
}

// resolveNodeLocked resolves path from base to an existing object.
//
// Preconditions: f.mu is held.
func (f *FS) resolveNodeLocked(base *inode, path string, pf PathFlags) (*inode, error) {
	lk, err := f.resolveLocked(base, path, pf&SymlinkFollow != 0)
	if err != nil {
		return nil, err
	}
	if lk.node == nil {
		return nil, ErrNoEntry
	}
	return lk.node, nil
}

// SetTimesAt sets the times of the object at path (WASI set-times-at). It
// needs MutateDirectory on d (ErrReadOnly), as Wasmtime requires.
func (d *OFD) SetTimesAt(pf PathFlags, path string, atime, mtime NewTimestamp) error {
	f, err := d.lockDir(true)
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	n, err := f.resolveNodeLocked(d.node, path, pf)
	if err != nil {
		return err
	}
	return f.setTimesLocked(n, atime, mtime)
}

// MetadataHash hashes the inode's identity and version (WASI
// metadata-hash): device, inode number, type, size, link count, mtime and
// ctime. Equal hashes mean, very likely, the same unchanged object.
func (d *OFD) MetadataHash() (MetadataHash, error) {
	f, err := d.lockLive()
	if err != nil {
		return MetadataHash{}, err
	}
	defer f.mu.Unlock()
	return d.node.metadataHash(f.opt.Device), nil
}

// MetadataHashAt is MetadataHash of the object at path.
func (d *OFD) MetadataHashAt(pf PathFlags, path string) (MetadataHash, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return MetadataHash{}, err
	}
	defer f.mu.Unlock()
	n, err := f.resolveNodeLocked(d.node, path, pf)
	if err != nil {
		return MetadataHash{}, err
	}
	return n.metadataHash(f.opt.Device), nil
}

// CreateDirectoryAt makes a directory (WASI create-directory-at). An
// existing entry, "." or ".." is ErrExist; a missing parent ErrNoEntry.
func (d *OFD) CreateDirectoryAt(path string) error {
	return d.entryOp(path, func(f *FS, lk lookup) error {
		if lk.node != nil {
			return ErrExist
		}
		if lk.dir.nlink == 0 {
			return ErrNoEntry
		}
		n, err := f.newInodeLocked(TypeDirectory)
		if err != nil {
			return err
		}
		f.linkLocked(lk.dir, lk.name, n, n.mtime)
		return nil
	})
}

// entryOp runs op on the directory entry at path (its last component not
// followed) with f.mu held, so op may call …Locked functions.
func (d *OFD) entryOp(path string, op func(f *FS, lk lookup) error) error {
	f, err := d.lockDir(true)
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	lk, err := f.resolveEntryLocked(d.node, path)
	if err != nil {
		return err
	}
	return op(f, lk)
}

// removeEntryLocked unlinks the entry lk names and frees its inode if
// nothing else holds it.
//
// Preconditions: f.mu is held.
func (f *FS) removeEntryLocked(lk lookup) error {
	f.unlinkLocked(lk.dir, lk.name, lk.node, f.now())
	f.maybeFreeLocked(lk.node)
	return nil
}

// RemoveDirectoryAt removes an empty directory (WASI remove-directory-at).
// Errors: ErrNoEntry, ErrNotDirectory, ErrNotEmpty (also for ".."),
// ErrInvalid for ".". An OFD open on the removed directory stays usable,
// but listing it and creating in it are ErrNoEntry (as on Linux).
func (d *OFD) RemoveDirectoryAt(path string) error {
	return d.entryOp(path, func(f *FS, lk lookup) error {
		n := lk.node
		switch {
		case n == nil:
			return ErrNoEntry
		case lk.name == ".":
			return ErrInvalid
		case lk.name == "..":
			return ErrNotEmpty
		case n.typ != TypeDirectory:
			return ErrNotDirectory
		case n.ents != nil && n.ents.Len() > 0:
			return ErrNotEmpty
		}
		return f.removeEntryLocked(lk)
	})
}

// UnlinkFileAt removes a non-directory entry (WASI unlink-file-at). A
// directory is ErrIsDirectory; "name/" on a file ErrNotDirectory. The
// inode lives on while an OFD has it open.
func (d *OFD) UnlinkFileAt(path string) error {
	return d.entryOp(path, func(f *FS, lk lookup) error {
		switch {
		case lk.node == nil:
			return ErrNoEntry
		case lk.node.typ == TypeDirectory:
			return ErrIsDirectory
		case lk.slash:
			return ErrNotDirectory // "f/" or "symlink/": the entry is not a directory
		}
		return f.removeEntryLocked(lk)
	})
}

// otherLocked checks a second base directory for a two-directory
// operation.
//
// Preconditions: f.mu is held.
func (d *OFD) otherLocked(o *OFD, mutate bool) error {
	if o == nil || o.fs == nil {
		return ErrBadDescriptor
	}
	if o.fs != d.fs {
		return ErrCrossDevice
	}
	if o.rc.ReleasedLocked() {
		return ErrBadDescriptor
	}
	if o.node.typ != TypeDirectory {
		return ErrNotDirectory
	}
	if mutate && o.flags&MutateDirectory == 0 {
		return ErrReadOnly
	}
	return nil
}

// RenameAt moves oldPath (relative to d) to newPath (relative to newBase),
// POSIX rename semantics (WASI rename-at): it replaces a file, or an empty
// directory with a directory; renaming an object onto itself (or onto
// another link of the same inode) does nothing. Errors: ErrIsDirectory
// (file onto directory), ErrNotDirectory (directory onto file), ErrNotEmpty,
// ErrInvalid (a directory into its own subtree, "." or ".."),
// ErrCrossDevice (another FS). Both bases need MutateDirectory.
func (d *OFD) RenameAt(oldPath string, newBase *OFD, newPath string) error {
	f, err := d.lockDir(true)
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	if err := d.otherLocked(newBase, true); err != nil {
		return err
	}
	from, err := f.resolveEntryLocked(d.node, oldPath)
	if err != nil {
		return err
	}
	to, err := f.resolveEntryLocked(newBase.node, newPath)
	if err != nil {
		return err
	}
	// The order of the checks is Linux's (rename(2) in fs/namei.c).
	n := from.node
	switch {
	case n == nil:
		return ErrNoEntry
	case from.name == "." || from.name == ".." || to.name == "." || to.name == "..":
		return ErrInvalid
	case (from.slash || to.slash) && n.typ != TypeDirectory:
		return ErrNotDirectory
	case n.typ == TypeDirectory && isAncestor(n, to.dir):
		return ErrInvalid // a directory into its own subtree
	case to.node != nil && to.node.typ == TypeDirectory && isAncestor(to.node, from.dir):
		return ErrNotEmpty // onto a directory that contains the source
	case n == to.node:
		return nil
	case to.dir.nlink == 0:
		return ErrNoEntry
	}
	if t := to.node; t != nil {
		if n.typ == TypeDirectory {
			if t.typ != TypeDirectory {
				return ErrNotDirectory
			}
			if t.ents != nil && t.ents.Len() > 0 {
				return ErrNotEmpty
			}
		} else if t.typ == TypeDirectory {
			return ErrIsDirectory
		}
	}
	now := f.now()
	f.unlinkLocked(from.dir, from.name, n, now)
	if t := to.node; t != nil {
		f.unlinkLocked(to.dir, to.name, t, now)
		f.maybeFreeLocked(t)
	}
	f.linkLocked(to.dir, to.name, n, now)
	return nil
}

// LinkAt makes newPath (relative to newBase) a hard link to oldPath (WASI
// link-at). Linking a directory is ErrNotPermitted; an existing newPath
// ErrExist; too many links ErrTooManyLinks. newBase needs MutateDirectory
// (ErrReadOnly), and so does d: a link from a base without it is
// ErrNotPermitted, as in Wasmtime, since the new name would be a writable
// path to a file the holder may only read (link a read-only preopen's file
// into a writable one, open it there for writing).
func (d *OFD) LinkAt(pf PathFlags, oldPath string, newBase *OFD, newPath string) error {
	f, err := d.lockDir(false)
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	if d.flags&MutateDirectory == 0 {
		return ErrNotPermitted
	}
	if err := d.otherLocked(newBase, true); err != nil {
		return err
	}
	n, err := f.resolveNodeLocked(d.node, oldPath, pf)
	if err != nil {
		return err
	}
	to, err := f.resolveEntryLocked(newBase.node, newPath)
	if err != nil {
		return err
	}
	// Linux checks the new name before refusing a directory (linkat(2)).
	switch {
	case to.node != nil:
		return ErrExist
	case to.slash || to.dir.nlink == 0:
		return ErrNoEntry
	case n.typ == TypeDirectory:
		return ErrNotPermitted
	case n.nlink >= maxLinks:
		return ErrTooManyLinks
	}
	now := f.now()
	f.linkLocked(to.dir, to.name, n, now)
	n.ctime = now
	return nil
}

// SymlinkAt creates a symbolic link at path with the given target (WASI
// symlink-at). The target is not checked beyond its length (an empty one
// is ErrNoEntry) and bytes (a NUL is ErrInvalid, as in paths): it is
// resolved, and refused if it escapes, when followed.
func (d *OFD) SymlinkAt(target, path string) error {
	f, err := d.lockDir(true)
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	if target == "" {
		return ErrNoEntry
	}
	if len(target) > MaxPathLen {
		return ErrNameTooLong
	}
	if strings.IndexByte(target, 0) >= 0 {
		return ErrInvalid
	}
	lk, err := f.resolveEntryLocked(d.node, path)
	if err != nil {
		return err
	}
	switch {
	case lk.node != nil:
		return ErrExist
	case lk.slash || lk.dir.nlink == 0:
		return ErrNoEntry
	}
	if err := f.chargeLocked(int64(len(target))); err != nil {
		return err
	}
	n, err := f.newInodeLocked(TypeSymbolicLink)
	if err != nil {
		f.usage.Bytes -= int64(len(target))
		return err
	}
	n.setBytes([]byte(target))
	n.size = int64(len(target))
	f.linkLocked(lk.dir, lk.name, n, n.mtime)
	return nil
}

// ReadlinkAt returns the target of the symbolic link at path (WASI
// readlink-at); a non-link is ErrInvalid.
func (d *OFD) ReadlinkAt(path string) (string, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return "", err
	}
	defer f.mu.Unlock()
	n, err := f.resolveNodeLocked(d.node, path, 0)
	if err != nil {
		return "", err
	}
	if n.typ != TypeSymbolicLink {
		return "", ErrInvalid
	}
	return string(n.bytes()), nil
}

// ReadDirectory returns a snapshot of the directory's entries without "."
// and "..", sorted by name — or shuffled from the world's randomness with
// Options.ShuffleReaddir. Each call starts from the beginning. A file is
// ErrNotDirectory; an OFD without Read ErrBadDescriptor; a directory
// removed while open ErrNoEntry (as getdents on Linux).
func (d *OFD) ReadDirectory() ([]DirEntry, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if d.flags&Read == 0 {
		return nil, ErrBadDescriptor
	}
	n := d.node
	if n.nlink == 0 {
		return nil, ErrNoEntry // removed while open: Linux's getdents says ENOENT
	}
	if n.ents == nil {
		return []DirEntry{}, nil
	}
	out := make([]DirEntry, 0, n.ents.Len())
	n.ents.Ascend(func(e dirent) bool {
		out = append(out, DirEntry{Name: e.name, Type: e.node.typ})
		return true
	})
	if f.opt.ShuffleReaddir && f.w != nil {
		r := f.w.Rand()
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	n.atime = f.now()
	return out, nil
}

// Advise accepts an access-pattern hint (WASI advise) and validates it:
// a negative offset or length, or an unknown advice, is ErrInvalid; a
// directory ErrBadDescriptor. The in-memory model ignores the hint.
func (d *OFD) Advise(off, length int64, advice Advice) error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	switch {
	case d.node.typ == TypeDirectory:
		return ErrBadDescriptor
	case off < 0 || length < 0 || advice > AdviceNoReuse:
		return ErrInvalid
	}
	return nil
}

// Sync flushes data and metadata (WASI sync): a no-op in memory, but it
// fails with ErrBadDescriptor on a released OFD.
func (d *OFD) Sync() error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	f.mu.Unlock()
	return nil
}

// SyncData flushes data (WASI sync-data); see Sync.
func (d *OFD) SyncData() error { return d.Sync() }
