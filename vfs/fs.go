package vfs

import (
	"sort"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/internal/wait"
	"github.com/wasisim/wasisim/sim"
)

// Options configures an FS.
type Options struct {
	// World, if set, is the deterministic world the FS belongs to: it
	// supplies the default clock, the randomness for ShuffleReaddir, the
	// wait queues of blocking Lock calls, and it records release and free
	// events. Without a World the FS works standalone.
	World *sim.World
	// Clock supplies timestamps. Nil means the World's WallNow if World is
	// set, else a clock fixed at sim.Epoch.
	Clock Clock
	// MaxBytes bounds the bytes of data held in memory (see Usage); a write
	// that would exceed it fails with ErrInsufficientSpace and changes
	// nothing. 0 means unlimited.
	MaxBytes int64
	// MaxInodes bounds the number of live inodes, the root included; a
	// create that would exceed it fails with ErrQuota. 0 means unlimited.
	MaxInodes int64
	// MaxFileBytes bounds the bytes one file may hold in memory (a write
	// far past the end zero-fills, so this is what stops a write at offset
	// 1<<39 from allocating 512 GiB); beyond it writes fail with
	// ErrFileTooLarge. 0 means DefaultMaxFileBytes (256 MiB).
	MaxFileBytes int64
	// ShuffleReaddir makes ReadDirectory return entries in an order drawn
	// from World.Rand() instead of sorted by name, so that guests relying on
	// an order are caught. It needs World.
	ShuffleReaddir bool
	// Device is the device number reported by Stat (0 means 1).
	Device uint64
	// LeakCheck registers Live with the World's end-of-run leak check, so
	// every OFD still referenced when the run ends is reported as a leak.
	LeakCheck bool
}

// FS is an in-memory file system: a tree of inodes reached through open
// file descriptions. All methods are safe for concurrent use; with a World,
// all calls come from the world's tasks anyway, one at a time.
type FS struct {
	// mu guards everything an FS holds: the fields below that are not
	// immutable, every inode (its data, entries, links and locks) and
	// every OFD's reference count and lock mode. Functions named
	// …Locked require it; functions named lock… return holding it.
	mu       sync.Mutex
	opt      Options                  // immutable after New
	w        *sim.World               // immutable
	clock    Clock                    // immutable
	root     *inode                   // immutable; the inode is guarded by mu
	nextIno  uint64                   // guarded by mu
	nextOFD  uint64                   // guarded by mu
	usage    Usage                    // guarded by mu
	live     map[uint64]*OFD          // guarded by mu: OFDs not yet released
	freelist *btree.FreeListG[dirent] // guarded by mu
	misuse   refs.Log                 // guarded by mu
	locker   fsLocker                 // immutable: mu for waits (see lock)
}

// fsObj is what a step that uses the file system touches, for
// partial-order reduction. Every access of FS state holds mu, so taking it
// is where the access is recorded: one object for the whole file system,
// changed by every call (reads update access times) — except taking or
// dropping a reference to an OFD that is not its last, which changes only
// the OFD's count (refObj, lockRef): no other call reads a count (they
// read whether the OFD was released, which the last DecRef changes).
var fsObj = sim.Obj{Kind: sim.ObjFS}

func refObj(d *OFD) sim.Obj { return sim.Obj{Kind: sim.ObjFS, ID: 1<<32 | d.id} }

// lock takes mu and, in a world, records that the running step touches
// the file system.
func (f *FS) lock() {
	f.mu.Lock()
	f.touch(fsObj, sim.Write)
}

// lockRef takes mu for a use of d's reference count only (see fsObj).
func (f *FS) lockRef(d *OFD) {
	f.mu.Lock()
	f.touch(refObj(d), sim.Write)
}

func (f *FS) touch(o sim.Obj, m sim.Mode) {
	if f.w != nil {
		f.w.Touch(o, m)
	}
}

// fsLocker is mu as the lock a wait releases and takes again (through
// lock, so the step that resumes records its access).
type fsLocker struct{ f *FS }

func (l fsLocker) Lock()   { l.f.lock() }
func (l fsLocker) Unlock() { l.f.mu.Unlock() }

// inode is a file, directory or symbolic link. It is kept small: an empty
// file costs one inode plus one directory entry. Every field is guarded by
// FS.mu, and every inode method requires it (Preconditions: FS.mu is
// held).
type inode struct {
	ino                 uint64
	size                int64                 // logical size; data holds the first len(data) bytes, the rest are zeros
	atime, mtime, ctime int64                 // Unix nanoseconds
	data                [][]byte              // chunks: see data.go
	parent              *inode                // directories: the directory holding it
	ents                *btree.BTreeG[dirent] // directories: entries by name, made on first insert
	locks               *lockState
	nlink               uint32 // links from directories (directories: 1 while linked)
	opens               uint32 // OFDs referring to it
	subdirs             uint32 // directories: number of child directories
	typ                 DescType
}

type dirent struct {
	name string
	node *inode
}

func direntLess(a, b dirent) bool { return a.name < b.name }

// btreeDegree is the B-tree degree of directories: nodes hold up to 2*d-1
// entries.
const btreeDegree = 16

// maxLinks bounds a file's link count (ErrTooManyLinks).
const maxLinks = 1 << 16

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type worldClock struct{ w *sim.World }

func (c worldClock) Now() time.Time { return c.w.WallNow() }

// New makes an FS holding an empty root directory.
func New(opt Options) *FS {
	f := &FS{
		opt:   opt,
		w:     opt.World,
		clock: opt.Clock,
		live:  make(map[uint64]*OFD),
	}
	f.locker.f = f
	if f.clock == nil {
		if f.w != nil {
			f.clock = worldClock{f.w}
		} else {
			f.clock = fixedClock{sim.Epoch}
		}
	}
	if f.opt.Device == 0 {
		f.opt.Device = 1
	}
	if f.opt.MaxFileBytes <= 0 {
		f.opt.MaxFileBytes = DefaultMaxFileBytes
	}
	now := f.now()
	f.root = &inode{typ: TypeDirectory, nlink: 1, atime: now, mtime: now, ctime: now}
	f.nextIno++
	f.root.ino = f.nextIno
	f.usage.Inodes = 1
	if f.w != nil && opt.LeakCheck {
		f.w.AddLeakCheck("vfs", f.Live)
	}
	f.misuse.Register(f.w, "vfs", &f.mu)
	return f
}

// Root returns a new OFD on the root directory (what a preopen is), with
// one reference. Read is always included and Write dropped (a directory
// is not writable); pass MutateDirectory for a writable tree. Without it
// the tree is read-only through this OFD and every OFD opened from it
// (OpenAt, LinkAt, SetTimes), even where the root of another one, with
// MutateDirectory, reaches the same objects.
func (f *FS) Root(flags DescFlags) *OFD {
	f.lock()
	defer f.mu.Unlock()
	flags &^= Write
	if flags&Read == 0 {
		flags |= Read
	}
	return f.newOFDLocked(f.root, flags, "/", flags&MutateDirectory == 0)
}

// Usage reports the bytes and inodes currently held.
func (f *FS) Usage() Usage {
	f.lock()
	defer f.mu.Unlock()
	return f.usage
}

// Live lists every OFD that still has references, one line each
// ("ofd#3 /a/b refs=2"), ordered by id. It is the leak report.
func (f *FS) Live() []string {
	f.lock()
	defer f.mu.Unlock()
	ids := make([]uint64, 0, len(f.live))
	for id := range f.live {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, len(ids))
	for i, id := range ids {
		d := f.live[id]
		out[i] = d.label() + " " + d.name + " refs=" + itoa(uint64(d.rc.RefsLocked()))
	}
	return out
}

// RefErrors lists the reference-count misuses seen so far (a DecRef after
// release, an IncRef of a released OFD), in order. Each had no effect;
// with a World each is also a failure of the run.
func (f *FS) RefErrors() []string {
	f.lock()
	defer f.mu.Unlock()
	return f.misuse.ListLocked()
}

func (f *FS) now() int64 { return f.clock.Now().UnixNano() }

// enter is the check of every call that touches the FS or its world: with
// a World that is running, only its running task may call
// (sim.ErrNotInTask for any other goroutine, which would race with the
// run's events, clock and randomness).
func (f *FS) enter() error { return wait.Check(f.w) }

func (f *FS) tracing() bool { return f.w != nil && f.w.Tracing() }

func (f *FS) event(kind, obj, detail string) { f.w.Event(kind, obj, detail) }

// newInodeLocked allocates an inode, charging the inode quota.
//
// Preconditions: f.mu is held.
func (f *FS) newInodeLocked(typ DescType) (*inode, error) {
	if f.opt.MaxInodes > 0 && f.usage.Inodes >= f.opt.MaxInodes {
		return nil, ErrQuota
	}
	f.nextIno++
	now := f.now()
	f.usage.Inodes++
	return &inode{ino: f.nextIno, typ: typ, atime: now, mtime: now, ctime: now}, nil
}

// maybeFreeLocked frees an inode's memory once it has no link and no OFD.
//
// Preconditions: f.mu is held.
func (f *FS) maybeFreeLocked(n *inode) {
	if n.nlink > 0 || n.opens > 0 || n.ino == 0 {
		return
	}
	freed := n.dataLen()
	f.usage.Bytes -= int64(freed)
	f.usage.Inodes--
	n.data = nil
	n.ents = nil
	n.parent = nil
	n.locks = nil
	if f.tracing() {
		f.event("free", "inode#"+itoa(n.ino), itoa(uint64(freed))+" bytes")
	}
	n.ino = 0 // marks it freed; Stat on a stale OFD never sees it (OFDs keep opens > 0)
}

// chargeLocked accounts for delta more bytes of data in memory.
//
// Preconditions: f.mu is held.
func (f *FS) chargeLocked(delta int64) error {
	if delta > 0 && f.opt.MaxBytes > 0 && f.usage.Bytes+delta > f.opt.MaxBytes {
		return ErrInsufficientSpace
	}
	f.usage.Bytes += delta
	return nil
}

func (n *inode) lookup(name string) *inode {
	if n.ents == nil {
		return nil
	}
	e, ok := n.ents.Get(dirent{name: name})
	if !ok {
		return nil
	}
	return e.node
}

// linkLocked adds dir's entry name for n.
//
// Preconditions: f.mu is held.
func (f *FS) linkLocked(dir *inode, name string, n *inode, now int64) {
	if dir.ents == nil {
		if f.freelist == nil { // made on first use: a new FS stays small
			f.freelist = btree.NewFreeListG[dirent](64)
		}
		dir.ents = btree.NewWithFreeListG(btreeDegree, direntLess, f.freelist)
	}
	dir.ents.ReplaceOrInsert(dirent{name: name, node: n})
	n.nlink++
	if n.typ == TypeDirectory {
		n.parent = dir
		dir.subdirs++
	}
	dir.mtime, dir.ctime = now, now
}

// unlinkLocked removes dir's entry name for n and drops the link.
//
// Preconditions: f.mu is held.
func (f *FS) unlinkLocked(dir *inode, name string, n *inode, now int64) {
	dir.ents.Delete(dirent{name: name})
	n.nlink--
	if n.typ == TypeDirectory {
		n.nlink = 0
		n.parent = nil
		dir.subdirs--
	}
	n.ctime = now
	dir.mtime, dir.ctime = now, now
}

func (n *inode) stat(dev uint64) Stat {
	links := uint64(n.nlink)
	if n.typ == TypeDirectory && n.nlink > 0 {
		links = 2 + uint64(n.subdirs)
	}
	return Stat{
		Type:      n.typ,
		LinkCount: links,
		Size:      uint64(n.size),
		Atime:     time.Unix(0, n.atime).UTC(),
		Mtime:     time.Unix(0, n.mtime).UTC(),
		Ctime:     time.Unix(0, n.ctime).UTC(),
		Inode:     n.ino,
		Device:    dev,
	}
}

// metadataHash mixes what identifies the object and its version: device,
// inode, type, size, link count and modification and change times.
func (n *inode) metadataHash(dev uint64) MetadataHash {
	h := mix(0x9e3779b97f4a7c15 ^ dev)
	for _, v := range [...]uint64{n.ino, uint64(n.typ), uint64(n.size), uint64(n.nlink), uint64(n.mtime), uint64(n.ctime)} {
		h = mix(h ^ v)
	}
	return MetadataHash{Lower: h, Upper: mix(h ^ 0x5851f42d4c957f2d)}
}

// mix is the splitmix64 finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// isAncestor reports whether a is d or one of d's ancestors.
func isAncestor(a, d *inode) bool {
	for ; d != nil; d = d.parent {
		if d == a {
			return true
		}
	}
	return false
}
