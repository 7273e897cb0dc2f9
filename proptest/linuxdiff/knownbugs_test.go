//go:build linux

package linuxdiff

import "testing"

// knownFileBugs are differences from Linux that are bugs in vfs (see
// knownBug). Empty means none are known.
var knownFileBugs = []knownBug{}

// TestKnownBugs replays every known bug's reproduction: it skips while
// the bug is there and fails once it is fixed, so the entry gets removed.
func TestKnownBugs(t *testing.T) {
	for _, kb := range knownFileBugs {
		t.Run(kb.ID, func(t *testing.T) {
			r, err := newFileRun(t.TempDir(), fsCountsDirLinks(t.TempDir()), t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer r.closeAll()
			for _, op := range kb.Repro {
				t.Logf("%d: %s", r.step+1, op)
				if err := r.apply(op); err != nil {
					if matchFileBug(err) == nil {
						t.Fatalf("the reproduction fails differently: %v", err)
					}
					t.Skipf("known bug %s: %s\n%v", kb.ID, kb.Summary, err)
				}
			}
			if err := r.finish(); err != nil {
				if matchFileBug(err) != nil {
					t.Skipf("known bug %s: %s\n%v", kb.ID, kb.Summary, err)
				}
				t.Fatalf("the reproduction fails differently: %v", err)
			}
			t.Errorf("known bug %s (%s) no longer reproduces: remove it from knownFileBugs", kb.ID, kb.Summary)
		})
	}
}
