//go:build linux

package linuxdiff

import (
	"testing"

	"github.com/wasisim/wasisim/vfs"
)

// flockScenarios are fixed sequences through the flock rules that matter:
// locks belong to the open file description, are shared by its dups,
// survive closing one dup, go away with the last close, and conflict
// between two opens of one file. Each runs through the same harness as the
// random sequences, so every step is compared with the kernel and every
// descriptor's lock is compared after every step.
var flockScenarios = []struct {
	name string
	ops  []fileOp
}{
	{"dup shares the lock and it survives closing one dup", []fileOp{
		{Kind: "open", Path: "a", Open: vfs.OpenCreate},  // #1
		{Kind: "open", Path: "a"},                        // #2, another OFD
		{Kind: "dup", Slot: 1},                           // #3 = #1
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // ok
		{Kind: "lock", Slot: 3, Lock: vfs.LockExclusive}, // same OFD: ok
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // would block
		{Kind: "close", Slot: 1},                         // the dup #3 (now #2) keeps it
		{Kind: "lock", Slot: 1, Lock: vfs.LockShared},    // #2 (now #1): still would block
		{Kind: "close", Slot: 2},                         // last reference: released
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // ok now
		{Kind: "open", Path: "a"},                        // #2
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // would block
		{Kind: "lock", Slot: 1, Lock: vfs.LockNone},      // unlock
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // ok
	}},
	{"shared locks coexist; a conflicting upgrade (F9)", []fileOp{
		{Kind: "open", Path: "a", Open: vfs.OpenCreate},  // #1
		{Kind: "open", Path: "a"},                        // #2
		{Kind: "lock", Slot: 1, Lock: vfs.LockShared},    // ok
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // ok
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // would block: Linux drops #1's shared lock (F9)
		{Kind: "lock", Slot: 2, Lock: vfs.LockNone},
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // ok: upgrade
		{Kind: "lock", Slot: 1, Lock: vfs.LockShared},    // downgrade
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // ok
	}},
	{"locks follow the inode across rename, unlink and hard links", []fileOp{
		{Kind: "open", Path: "a", Open: vfs.OpenCreate},  // #1
		{Kind: "link", Path: "a", Slot2: 0, Path2: "b"},  // b is a
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // ok
		{Kind: "open", Path: "b"},                        // #2, same inode
		{Kind: "lock", Slot: 2, Lock: vfs.LockShared},    // would block
		{Kind: "rename", Path: "b", Slot2: 0, Path2: "c"},
		{Kind: "unlink", Path: "a"},
		{Kind: "lock", Slot: 2, Lock: vfs.LockExclusive}, // would block
		{Kind: "close", Slot: 1},                         // #2 becomes #1
		{Kind: "lock", Slot: 1, Lock: vfs.LockExclusive}, // ok
	}},
	{"directories lock too", []fileOp{
		{Kind: "mkdir", Path: "d"},
		{Kind: "open", Path: "d", Open: vfs.OpenDirectory}, // #1
		{Kind: "open", Path: "d"},                          // #2
		{Kind: "lock", Slot: 1, Lock: vfs.LockShared},
		{Kind: "lock", Slot: 2, Lock: vfs.LockExclusive}, // would block
		{Kind: "lock", Slot: 0, Lock: vfs.LockExclusive}, // the base is another inode
	}},
}

// TestFlockScenarios runs flockScenarios against the kernel.
func TestFlockScenarios(t *testing.T) {
	dirLinks := fsCountsDirLinks(t.TempDir())
	for _, sc := range flockScenarios {
		t.Run(sc.name, func(t *testing.T) {
			r, err := newFileRun(t.TempDir(), dirLinks, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer r.closeAll()
			for _, op := range sc.ops {
				t.Logf("%d: %s", r.step+1, op)
				if err := r.apply(op); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.finish(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
