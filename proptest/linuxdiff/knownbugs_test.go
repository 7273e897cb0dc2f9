//go:build linux

package linuxdiff

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// knownFileBugs are differences from Linux that are bugs in vfs (see
// knownBug), each with a minimal reproduction. None is open now.
var knownFileBugs []knownBug

// fixedFileBugs are the bugs this harness found in vfs, fixed since: their
// reproductions must now agree with Linux at every step.
var fixedFileBugs = []knownBug{
	{
		ID: "FB1",
		Summary: "a trailing slash on the last component of a path that mkdir, rmdir, unlink, rename, link or symlink " +
			"creates or removes: vfs resolves it as \"must be a directory, follow a symlink\", Linux does neither " +
			"for these calls (mkdir \"a/\" is EEXIST for any existing a; rmdir \"l/\" and rename \"l/\" on a " +
			"symlink are ENOTDIR), so vfs removes, renames or creates a symlink's target instead of failing",
		Match: func(r *fileRun, m *mismatch) bool {
			switch m.Op.Kind {
			case "mkdir", "rmdir", "unlink", "symlink":
				return r.slashOnNonDir(m.Op.Slot, m.Op.Path)
			case "rename", "link":
				return r.slashOnNonDir(m.Op.Slot, m.Op.Path) || r.slashOnNonDir(m.Op.Slot2, m.Op.Path2)
			}
			return false
		},
		Repro: []fileOp{
			{Kind: "mkdir", Path: "d"},
			{Kind: "symlink", Path2: "d", Path: "l"},
			{Kind: "rmdir", Path: "l/"}, // Linux: ENOTDIR; vfs removes d
		},
	},
	{
		ID: "FB2",
		Summary: "open-at with create of a path with a trailing slash: Linux fails with EISDIR whatever the last " +
			"component names (O_CREAT with a trailing slash is EISDIR before the lookup), vfs resolves it and fails " +
			"with not-directory for a file or loop for a symlink loop",
		Match: func(r *fileRun, m *mismatch) bool {
			return m.Op.Kind == "open" && m.Op.Open&vfs.OpenCreate != 0 && strings.HasSuffix(m.Op.Path, "/") &&
				m.Kernel == "is-directory" && m.VFS != OK
		},
		Repro: []fileOp{
			{Kind: "open", Path: "a", Open: vfs.OpenCreate},
			{Kind: "open", Path: "a/", Open: vfs.OpenCreate}, // Linux: EISDIR; vfs: not-directory
		},
	},
	{
		ID: "FB3",
		Summary: "link-at whose old path is a directory: vfs fails with not-permitted before it looks at the new " +
			"path; Linux checks the new path first (ENOENT for \"x/\" or a missing parent, EEXIST for an existing " +
			"name) and gives EPERM only for a valid new name (error precedence)",
		Match: func(r *fileRun, m *mismatch) bool {
			if m.Op.Kind != "link" || m.VFS != vfs.ErrNotPermitted.String() || m.Kernel == OK {
				return false
			}
			var st unix.Stat_t
			fl := unix.AT_SYMLINK_NOFOLLOW
			if m.Op.Follow {
				fl = 0
			}
			err := unix.Fstatat(r.slots[m.Op.Slot].kfd, m.Op.Path, &st, fl)
			return err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
		},
		Repro: []fileOp{
			{Kind: "mkdir", Path: "d"},
			{Kind: "link", Path: "d", Path2: "d"}, // Linux: EEXIST; vfs: not-permitted
		},
	},
	{
		ID: "FB4",
		Summary: "rename-at of a directory into its own subtree onto an existing entry: Linux fails with EINVAL " +
			"(the subtree check comes first), vfs checks the target first and fails with not-directory or not-empty " +
			"(error precedence)",
		Match: func(r *fileRun, m *mismatch) bool {
			return m.Op.Kind == "rename" && m.Kernel == vfs.ErrInvalid.String() && m.VFS != OK
		},
		Repro: []fileOp{
			{Kind: "mkdir", Path: "a"},
			{Kind: "open", Path: "a/a", Open: vfs.OpenCreate},
			{Kind: "rename", Path: "a", Path2: "a/a"}, // Linux: EINVAL; vfs: not-directory
		},
	},
	{
		ID: "FB5",
		Summary: "open-at of a symlink with directory and without symlink-follow: Linux fails with ENOTDIR " +
			"(O_DIRECTORY|O_NOFOLLOW), vfs with loop",
		Match: func(r *fileRun, m *mismatch) bool {
			return m.Op.Kind == "open" && m.Op.Open&vfs.OpenDirectory != 0 && !m.Op.Follow &&
				m.Kernel == vfs.ErrNotDirectory.String() && m.VFS == vfs.ErrLoop.String()
		},
		Repro: []fileOp{
			{Kind: "mkdir", Path: "d"},
			{Kind: "symlink", Path2: "d", Path: "l"},
			{Kind: "open", Path: "l", Open: vfs.OpenDirectory}, // Linux: ENOTDIR; vfs: loop
		},
	},
}

// slashOnNonDir reports whether path, relative to the kernel descriptor
// of slot, ends in a slash and names a symlink or a file without it.
func (r *fileRun) slashOnNonDir(slot int, path string) bool {
	if !strings.HasSuffix(path, "/") || slot >= len(r.slots) {
		return false
	}
	var st unix.Stat_t
	err := unix.Fstatat(r.slots[slot].kfd, strings.TrimRight(path, "/"), &st, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR
}

// sockBug is knownBug for sockets.
type sockBug struct {
	ID      string
	Summary string
	Match   func(r *sockRun, m *sockMismatch) bool
	Repro   []sockOp
}

// knownSockBugs are differences from Linux that are bugs in vnet, each
// with a minimal reproduction. None is open now.
var knownSockBugs []sockBug

// fixedSockBugs are the bugs this harness found in vnet, fixed since.
var fixedSockBugs = []sockBug{
	{
		ID: "SB1",
		Summary: "connect from an address:port that another connection to the same remote already uses: Linux " +
			"fails with EADDRNOTAVAIL (the 4-tuple is taken; the second bind was allowed by SO_REUSEADDR), vnet " +
			"does not keep 4-tuples unique: it establishes a second connection with the same 4-tuple (or, when " +
			"nothing listens there, answers connection-refused)",
		Match: func(r *sockRun, m *sockMismatch) bool {
			return m.Op.Kind == "connect" && m.Kernel == vnet.ErrAddressNotBindable.String() && m.VNet != m.Kernel
		},
		Repro: []sockOp{
			{Kind: "socket"},          // #0
			{Kind: "listen", Slot: 0}, // P1
			{Kind: "socket"},          // #1
			{Kind: "connect", Slot: 1, Addr: "127.0.0.1", Port: 1}, // from P2
			{Kind: "socket"}, // #2
			{Kind: "bind", Slot: 2, Addr: "127.0.0.1", Port: 2},    // allowed: #1 is not listening
			{Kind: "connect", Slot: 2, Addr: "127.0.0.1", Port: 1}, // Linux: EADDRNOTAVAIL; vnet: ok
		},
	},
}

// matchSockBug returns the known bug err shows, if any.
func matchSockBug(r *sockRun, err error) *sockBug {
	var m *sockMismatch
	if !errors.As(err, &m) {
		return nil
	}
	for i := range knownSockBugs {
		if knownSockBugs[i].Match(r, m) {
			return &knownSockBugs[i]
		}
	}
	return nil
}

// replayFileOps runs ops on a fresh file run and returns it with the
// first difference from Linux (nil if every step and the end agree).
func replayFileOps(t *testing.T, ops []fileOp) (*fileRun, error) {
	r, err := newFileRun(t.TempDir(), fsCountsDirLinks(t.TempDir()), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.closeAll)
	for _, op := range ops {
		t.Logf("%d: %s", r.step+1, op)
		if err := r.apply(op); err != nil {
			return r, err
		}
	}
	return r, r.finish()
}

// replaySockOps is replayFileOps for sockets.
func replaySockOps(t *testing.T, ops []sockOp) (*sockRun, error) {
	r := &sockRun{n: vnet.New(vnet.Options{}), logf: t.Logf, div: countDivergence}
	t.Cleanup(r.closeAll)
	for _, op := range ops {
		t.Logf("%d: %s", r.step+1, op)
		if err := r.apply(op); err != nil {
			return r, err
		}
	}
	return r, r.finish()
}

// TestFixedBugs replays the reproduction of every bug found and fixed:
// each step must agree with Linux now.
func TestFixedBugs(t *testing.T) {
	for _, kb := range fixedFileBugs {
		t.Run(kb.ID, func(t *testing.T) {
			if _, err := replayFileOps(t, kb.Repro); err != nil {
				t.Fatalf("fixed bug %s is back (%s): %v", kb.ID, kb.Summary, err)
			}
		})
	}
	for _, kb := range fixedSockBugs {
		t.Run(kb.ID, func(t *testing.T) {
			if _, err := replaySockOps(t, kb.Repro); err != nil {
				t.Fatalf("fixed bug %s is back (%s): %v", kb.ID, kb.Summary, err)
			}
		})
	}
}

// TestKnownBugs replays every known bug's reproduction: it skips while
// the bug is there and fails once it is fixed, so the entry gets removed.
func TestKnownBugs(t *testing.T) {
	for _, kb := range knownFileBugs {
		t.Run(kb.ID, func(t *testing.T) {
			r, err := replayFileOps(t, kb.Repro)
			switch {
			case err == nil:
				t.Errorf("known bug %s (%s) no longer reproduces: remove it from knownFileBugs", kb.ID, kb.Summary)
			case matchFileBug(r, err) != nil:
				t.Skipf("known bug %s: %s\n%v", kb.ID, kb.Summary, err)
			default:
				t.Fatalf("the reproduction fails differently: %v", err)
			}
		})
	}
	for _, kb := range knownSockBugs {
		t.Run(kb.ID, func(t *testing.T) {
			r, err := replaySockOps(t, kb.Repro)
			switch {
			case err == nil:
				t.Errorf("known bug %s (%s) no longer reproduces: remove it from knownSockBugs", kb.ID, kb.Summary)
			case matchSockBug(r, err) != nil:
				t.Skipf("known bug %s: %s\n%v", kb.ID, kb.Summary, err)
			default:
				t.Fatalf("the reproduction fails differently: %v", err)
			}
		})
	}
}
