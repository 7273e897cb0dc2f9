package vfs

import (
	"sort"
	"time"

	"github.com/wasisim/wasisim/internal/wait"
)

// Advisory locks are flock(2)-style: a lock is on an inode, owned by an
// OFD, shared or exclusive. Two OFDs of the same inode (two OpenAt calls)
// are independent owners, so they conflict with each other; all the
// references to one OFD share its lock. A lock is released by Unlock or
// when the owning OFD's last reference is dropped; every release is a
// "release" world event.
//
// Conversions follow flock: converting to the mode already held does
// nothing; a downgrade (exclusive to shared) is atomic; an upgrade is
// atomic when no other OFD holds the lock. Otherwise TryLock fails with
// ErrWouldBlock and keeps the shared lock (Linux would have dropped it),
// while a blocking Lock first drops the shared lock, as Linux does, so two
// upgraders cannot deadlock each other, then waits.

// lockState is the flock state of one inode; like the inode, it is
// guarded by FS.mu.
type lockState struct {
	excl   *OFD
	shared []*OFD     // in acquisition order
	q      wait.Queue // blocked Lock calls; made by the first
}

// LockInfo describes one held lock.
type LockInfo struct {
	Inode uint64
	OFD   uint64
	Kind  LockKind
}

// TryLock acquires or converts the OFD's lock without waiting: it returns
// ErrWouldBlock if another OFD holds a conflicting lock, and ErrInvalid
// for a kind other than LockShared or LockExclusive.
func (d *OFD) TryLock(kind LockKind) error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	return f.tryLockLocked(d, kind, false)
}

// Lock acquires or converts the OFD's lock, waiting while another OFD holds
// a conflicting one, through the same wait queues as vnet's blocking
// calls (package internal/wait). With a World the wait is on a
// sim.WaitQueue, so the world's strategy decides when the waiter proceeds,
// and a wait that never ends is reported as a deadlock naming the lock;
// called outside a world task, Lock cannot wait and returns ErrWouldBlock.
// Without a World the caller's goroutine blocks until the lock is free.
func (d *OFD) Lock(kind LockKind) error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	for {
		err := f.tryLockLocked(d, kind, true)
		if err != ErrWouldBlock || !wait.CanWait(f.w) {
			return err
		}
		ls := d.node.locks
		if ls.q == nil {
			ls.q = wait.New(f.w, "flock inode "+itoa(d.node.ino))
		}
		reason := "flock " + kind.String() + " inode " + itoa(d.node.ino) + " for " + d.label()
		if _, err := ls.q.Wait(f.locker, reason, time.Time{}); err != nil {
			return err
		}
		if d.rc.ReleasedLocked() {
			return ErrBadDescriptor
		}
	}
}

// Unlock releases the OFD's lock; without one it does nothing.
func (d *OFD) Unlock() error {
	f, err := d.lockLive()
	if err != nil {
		return err
	}
	defer f.mu.Unlock()
	f.unlockLocked(d, "")
	return nil
}

// LockState is the mode of the lock the OFD holds.
func (d *OFD) LockState() LockKind {
	if d == nil || d.fs == nil {
		return LockNone
	}
	d.fs.lock()
	defer d.fs.mu.Unlock()
	return d.lock
}

// LockHolders lists the locks held on the OFD's inode, exclusive first,
// then shared ones in acquisition order.
func (d *OFD) LockHolders() []LockInfo {
	if d == nil || d.fs == nil {
		return nil
	}
	d.fs.lock()
	defer d.fs.mu.Unlock()
	return d.node.holders(nil)
}

func (n *inode) holders(out []LockInfo) []LockInfo {
	ls := n.locks
	if ls == nil {
		return out
	}
	if ls.excl != nil {
		out = append(out, LockInfo{Inode: n.ino, OFD: ls.excl.id, Kind: LockExclusive})
	}
	for _, o := range ls.shared {
		out = append(out, LockInfo{Inode: n.ino, OFD: o.id, Kind: LockShared})
	}
	return out
}

// Locks lists every lock held in the FS, ordered by inode, then as
// LockHolders orders them.
func (f *FS) Locks() []LockInfo {
	f.lock()
	defer f.mu.Unlock()
	seen := map[*inode]bool{}
	var nodes []*inode
	for _, d := range f.live {
		if d.lock != LockNone && !seen[d.node] {
			seen[d.node] = true
			nodes = append(nodes, d.node)
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ino < nodes[j].ino })
	var out []LockInfo
	for _, n := range nodes {
		out = n.holders(out)
	}
	return out
}

// tryLockLocked acquires or converts d's lock. blocking says the caller
// will wait on failure, so an upgrade that conflicts drops the shared lock
// first.
//
// Preconditions: f.mu is held.
func (f *FS) tryLockLocked(d *OFD, kind LockKind, blocking bool) error {
	if kind != LockShared && kind != LockExclusive {
		return ErrInvalid
	}
	if d.lock == kind {
		return nil
	}
	n := d.node
	if n.locks == nil {
		n.locks = &lockState{}
	}
	ls := n.locks
	switch kind {
	case LockShared:
		if ls.excl != nil && ls.excl != d {
			return ErrWouldBlock
		}
		if d.lock == LockExclusive {
			ls.excl = nil
			if f.tracing() {
				f.event("release", d.label(), "downgrade exclusive to shared inode "+itoa(n.ino))
			}
			ls.wake()
		} else if f.tracing() {
			f.event("lock", d.label(), "shared inode "+itoa(n.ino))
		}
		ls.shared = append(ls.shared, d)
	case LockExclusive:
		busy := ls.excl != nil && ls.excl != d
		for _, o := range ls.shared {
			busy = busy || o != d
		}
		if busy {
			if blocking && d.lock == LockShared {
				f.unlockLocked(d, " (upgrade)")
			}
			return ErrWouldBlock
		}
		ls.removeShared(d)
		ls.excl = d
		if f.tracing() {
			f.event("lock", d.label(), "exclusive inode "+itoa(n.ino))
		}
	}
	d.lock = kind
	return nil
}

// unlockLocked releases d's lock, if any, with a "release" event.
//
// Preconditions: f.mu is held.
func (f *FS) unlockLocked(d *OFD, why string) {
	if d.lock == LockNone {
		return
	}
	n := d.node
	ls := n.locks
	kind := d.lock
	if ls.excl == d {
		ls.excl = nil
	}
	ls.removeShared(d)
	d.lock = LockNone
	if f.tracing() {
		f.event("release", d.label(), "unlock "+kind.String()+" inode "+itoa(n.ino)+why)
	}
	ls.wake()
}

func (ls *lockState) removeShared(d *OFD) {
	for i, o := range ls.shared {
		if o == d {
			ls.shared = append(ls.shared[:i], ls.shared[i+1:]...)
			return
		}
	}
}

func (ls *lockState) wake() {
	if ls.q != nil {
		ls.q.Wake()
	}
}

// LockHoldersAt lists the locks held on the inode at path relative to the
// directory d, as LockHolders does.
func (d *OFD) LockHoldersAt(pf PathFlags, path string) ([]LockInfo, error) {
	f, err := d.lockDir(false)
	if err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	n, err := f.resolveNodeLocked(d.node, path, pf)
	if err != nil {
		return nil, err
	}
	return n.holders(nil), nil
}
