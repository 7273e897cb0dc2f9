package vfs

import (
	"bytes"
	"testing"
	"time"
)

func TestOpenAt(t *testing.T) {
	_, r := newTestFS(t, Options{})
	writeFile(t, r, "file", "hello")
	must(t, r.CreateDirectoryAt("dir"))
	must(t, r.SymlinkAt("file", "link"))
	must(t, r.SymlinkAt("missing", "dangling"))
	ro := r.FS().Root(Read)
	defer ro.DecRef()

	tests := []struct {
		name      string
		base      *OFD
		pf        PathFlags
		path      string
		of        OpenFlags
		df        DescFlags
		err       error
		wantFlags DescFlags
		wantType  DescType
	}{
		{"read existing", r, 0, "file", 0, Read, nil, Read, TypeRegularFile},
		{"empty flags mean read", r, 0, "file", 0, 0, nil, Read, TypeRegularFile},
		{"write does not imply read", r, 0, "file", 0, Write, nil, Write, TypeRegularFile},
		{"create implies write; no flags mean read", r, 0, "new1", OpenCreate, 0, nil, Read | Write, TypeRegularFile},
		{"create existing", r, 0, "file", OpenCreate, Read, nil, Read | Write, TypeRegularFile},
		{"exclusive existing", r, 0, "file", OpenCreate | OpenExclusive, Write, ErrExist, 0, 0},
		{"exclusive on dangling link", r, SymlinkFollow, "dangling", OpenCreate | OpenExclusive, Write, ErrExist, 0, 0},
		{"exclusive new", r, 0, "new2", OpenCreate | OpenExclusive, Write, nil, Write, TypeRegularFile},
		{"missing", r, 0, "nope", 0, Read, ErrNoEntry, 0, 0},
		{"missing parent", r, 0, "nope/x", OpenCreate, Write, ErrNoEntry, 0, 0},
		{"create with trailing slash", r, 0, "new3/", OpenCreate, Write, ErrIsDirectory, 0, 0},
		{"directory flag on dir", r, 0, "dir", OpenDirectory, Read | MutateDirectory, nil, Read | MutateDirectory, TypeDirectory},
		{"directory flag on file", r, 0, "file", OpenDirectory, Read, ErrNotDirectory, 0, 0},
		{"directory+create", r, 0, "d2", OpenDirectory | OpenCreate, 0, ErrInvalid, 0, 0},
		{"directory+exclusive", r, 0, "dir", OpenDirectory | OpenExclusive, 0, ErrInvalid, 0, 0},
		{"directory+truncate", r, 0, "dir", OpenDirectory | OpenTruncate, 0, ErrInvalid, 0, 0},
		{"write a directory", r, 0, "dir", 0, Write, ErrIsDirectory, 0, 0},
		{"truncate a directory", r, 0, "dir", OpenTruncate, 0, ErrIsDirectory, 0, 0},
		{"mutate dropped on files", r, 0, "file", 0, Read | MutateDirectory, nil, Read, TypeRegularFile},
		{"symlink not followed", r, 0, "link", 0, Read, ErrLoop, 0, 0},
		{"symlink followed", r, SymlinkFollow, "link", 0, Read, nil, Read, TypeRegularFile},
		{"create through dangling link", r, SymlinkFollow, "dangling", OpenCreate, Write, nil, Write, TypeRegularFile},
		{"sync flags kept", r, 0, "file", 0, Read | FileIntegritySync | DataIntegritySync | RequestedWriteSync, nil, Read | FileIntegritySync | DataIntegritySync | RequestedWriteSync, TypeRegularFile},
		{"read-only base: read ok", ro, 0, "file", 0, Read, nil, Read, TypeRegularFile},
		{"read-only base: dir ok", ro, 0, "dir", OpenDirectory, Read, nil, Read, TypeDirectory},
		{"read-only base: create", ro, 0, "x", OpenCreate, 0, ErrReadOnly, 0, 0},
		{"read-only base: truncate", ro, 0, "file", OpenTruncate, 0, ErrReadOnly, 0, 0},
		{"read-only base: write", ro, 0, "file", 0, Write, ErrReadOnly, 0, 0},
		{"read-only base: mutate escalation", ro, 0, "dir", 0, Read | MutateDirectory, ErrReadOnly, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.base.OpenAt(tt.pf, tt.path, tt.of, tt.df)
			wantErr(t, "OpenAt", err, tt.err)
			if err != nil {
				if d != nil {
					t.Error("non-nil OFD with an error")
				}
				return
			}
			defer d.DecRef()
			if d.Flags() != tt.wantFlags {
				t.Errorf("Flags = %v, want %v", d.Flags(), tt.wantFlags)
			}
			if d.Type() != tt.wantType {
				t.Errorf("Type = %v, want %v", d.Type(), tt.wantType)
			}
			if d.Refs() != 1 {
				t.Errorf("Refs = %d", d.Refs())
			}
		})
	}
	// The dangling link now points at a created file.
	if st, err := r.StatAt(SymlinkFollow, "missing"); err != nil || st.Type != TypeRegularFile {
		t.Errorf("missing: %v %v", st, err)
	}
	// Truncate empties.
	d, err := r.OpenAt(0, "file", OpenTruncate, Read)
	must(t, err)
	if st, _ := d.Stat(); st.Size != 0 {
		t.Errorf("size after truncate %d", st.Size)
	}
	must(t, d.DecRef())
	// A file is not a base.
	d, err = r.OpenAt(0, "file", 0, Read)
	must(t, err)
	defer d.DecRef()
	_, err = d.OpenAt(0, "x", 0, Read)
	wantErr(t, "OpenAt on file", err, ErrNotDirectory)
}

func TestReadWrite(t *testing.T) {
	f, r := newTestFS(t, Options{MaxFileBytes: 1 << 20})
	d, err := r.OpenAt(0, "f", OpenCreate, Read|Write)
	must(t, err)
	defer d.DecRef()

	write := func(p string, off int64) {
		t.Helper()
		n, err := d.WriteAt([]byte(p), off)
		must(t, err)
		if n != len(p) {
			t.Fatalf("short write %d", n)
		}
	}
	read := func(off int64, n int) string {
		t.Helper()
		buf := make([]byte, n)
		k, err := d.ReadAt(buf, off)
		must(t, err)
		return string(buf[:k])
	}
	write("hello", 0)
	write("J", 0) // overwrite in place
	if got := read(0, 100); got != "Jello" {
		t.Errorf("got %q", got)
	}
	write("!", 8) // zero-fill gap
	if got := read(0, 100); got != "Jello\x00\x00\x00!" {
		t.Errorf("zero fill: %q", got)
	}
	n, err := d.Append([]byte("++"))
	must(t, err)
	if n != 2 || read(0, 100) != "Jello\x00\x00\x00!++" {
		t.Errorf("append: %q", read(0, 100))
	}
	if got := read(9, 100); got != "++" {
		t.Errorf("read tail %q", got)
	}
	if k, err := d.ReadAt(make([]byte, 4), 11); k != 0 || err != nil {
		t.Errorf("read at end: %d %v", k, err)
	}
	if k, err := d.ReadAt(make([]byte, 4), 1<<50); k != 0 || err != nil {
		t.Errorf("read far past end: %d %v", k, err)
	}
	// Shrink then grow: old bytes must not come back.
	must(t, d.SetSize(2))
	write("x", 4)
	if got := read(0, 100); got != "Je\x00\x00x" {
		t.Errorf("after shrink+write %q", got)
	}
	// Grow with SetSize: zeros, no allocation.
	before := f.Usage().Bytes
	must(t, d.SetSize(1<<40))
	if f.Usage().Bytes != before {
		t.Errorf("SetSize allocated %d bytes", f.Usage().Bytes-before)
	}
	if got := read(1<<40-3, 10); got != "\x00\x00\x00" {
		t.Errorf("sparse tail %q", got)
	}
	st, _ := d.Stat()
	if st.Size != 1<<40 {
		t.Errorf("size %d", st.Size)
	}
	must(t, d.SetSize(5))

	errs := []struct {
		name string
		err  error
		want error
	}{
		{"negative read offset", second(d.ReadAt(make([]byte, 1), -1)), ErrInvalid},
		{"negative write offset", second(d.WriteAt([]byte("x"), -1)), ErrInvalid},
		{"write past MaxFileSize", second(d.WriteAt([]byte("x"), MaxFileSize)), ErrFileTooLarge},
		{"write past MaxFileBytes", second(d.WriteAt([]byte("x"), 1<<30)), ErrFileTooLarge},
		{"write at huge offset", second(d.WriteAt([]byte("x"), 1<<62)), ErrFileTooLarge},
		{"negative size", d.SetSize(-1), ErrInvalid},
		{"size too large", d.SetSize(MaxFileSize + 1), ErrFileTooLarge},
	}
	for _, e := range errs {
		wantErr(t, e.name, e.err, e.want)
	}
	if got := read(0, 100); got != "Je\x00\x00x" {
		t.Errorf("failed writes changed data: %q", got)
	}

	// Access modes.
	ro, err := r.OpenAt(0, "f", 0, Read)
	must(t, err)
	defer ro.DecRef()
	wo, err := r.OpenAt(0, "f", 0, Write)
	must(t, err)
	defer wo.DecRef()
	_, err = ro.WriteAt([]byte("x"), 0)
	wantErr(t, "write on read-only OFD", err, ErrBadDescriptor)
	_, err = ro.Append([]byte("x"))
	wantErr(t, "append on read-only OFD", err, ErrBadDescriptor)
	wantErr(t, "set-size on read-only OFD", ro.SetSize(0), ErrBadDescriptor)
	_, err = wo.ReadAt(make([]byte, 1), 0)
	wantErr(t, "read on write-only OFD", err, ErrBadDescriptor)
	_, err = r.ReadAt(make([]byte, 1), 0)
	wantErr(t, "read a directory", err, ErrIsDirectory)
	_, err = r.WriteAt([]byte("x"), 0)
	wantErr(t, "write a directory", err, ErrIsDirectory)
	wantErr(t, "set-size a directory", r.SetSize(0), ErrIsDirectory)
	// Zero-length write is a no-op.
	if n, err := wo.WriteAt(nil, 1<<62); n != 0 || err != nil {
		t.Errorf("empty write: %d %v", n, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTimes(t *testing.T) {
	clk := &stepClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, r := newTestFS(t, Options{Clock: clk})
	d, err := r.OpenAt(0, "f", OpenCreate, Read|Write)
	must(t, err)
	defer d.DecRef()
	st0, _ := d.Stat()
	if !st0.Mtime.Equal(clk.t) || !st0.Atime.Equal(clk.t) || !st0.Ctime.Equal(clk.t) {
		t.Errorf("create times %v", st0)
	}
	clk.t = clk.t.Add(time.Second)
	_, err = d.WriteAt([]byte("x"), 0)
	must(t, err)
	st1, _ := d.Stat()
	if !st1.Mtime.Equal(clk.t) || !st1.Atime.Equal(st0.Atime) {
		t.Errorf("write times %v", st1)
	}
	explicit := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	clk.t = clk.t.Add(time.Second)
	must(t, d.SetTimes(NewTimestamp{Kind: Timestamp, Time: explicit}, NewTimestamp{Kind: NoChange}))
	st2, _ := d.Stat()
	if !st2.Atime.Equal(explicit) || !st2.Mtime.Equal(st1.Mtime) || !st2.Ctime.Equal(clk.t) {
		t.Errorf("set-times %v", st2)
	}
	clk.t = clk.t.Add(time.Second)
	must(t, r.SetTimesAt(0, "f", NewTimestamp{Kind: NoChange}, NewTimestamp{Kind: Now}))
	st3, _ := d.Stat()
	if !st3.Mtime.Equal(clk.t) || !st3.Atime.Equal(explicit) {
		t.Errorf("set-times-at %v", st3)
	}
	wantErr(t, "bad kind", d.SetTimes(NewTimestamp{Kind: 9}, NewTimestamp{}), ErrInvalid)
	wantErr(t, "overflow", d.SetTimes(NewTimestamp{Kind: Timestamp, Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, NewTimestamp{}), ErrOverflow)
	ro := r.FS().Root(Read)
	defer ro.DecRef()
	wantErr(t, "set-times-at read-only", ro.SetTimesAt(0, "f", NewTimestamp{Kind: Now}, NewTimestamp{}), ErrReadOnly)
	wantErr(t, "set-times-at missing", r.SetTimesAt(0, "nope", NewTimestamp{Kind: Now}, NewTimestamp{}), ErrNoEntry)
	// Default clock without a World is fixed.
	_, r2 := newTestFS(t, Options{})
	writeFile(t, r2, "x", "1")
	st, _ := r2.StatAt(0, "x")
	if !st.Mtime.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("default clock %v", st.Mtime)
	}
}

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

func TestDirectoryOps(t *testing.T) {
	_, r := newTestFS(t, Options{})
	must(t, r.CreateDirectoryAt("d"))
	must(t, r.CreateDirectoryAt("d/sub/"))
	writeFile(t, r, "file", "x")
	must(t, r.SymlinkAt("d", "ld"))
	ro := r.FS().Root(Read)
	defer ro.DecRef()

	tests := []struct {
		name string
		err  error
		want error
	}{
		{"mkdir existing", r.CreateDirectoryAt("d"), ErrExist},
		{"mkdir over file", r.CreateDirectoryAt("file"), ErrExist},
		{"mkdir over symlink", r.CreateDirectoryAt("ld"), ErrExist},
		{"mkdir dot", r.CreateDirectoryAt("."), ErrExist},
		{"mkdir dotdot", r.CreateDirectoryAt("d/.."), ErrExist},
		{"mkdir missing parent", r.CreateDirectoryAt("x/y"), ErrNoEntry},
		{"mkdir under file", r.CreateDirectoryAt("file/y"), ErrNotDirectory},
		{"mkdir read-only", ro.CreateDirectoryAt("z"), ErrReadOnly},
		{"rmdir missing", r.RemoveDirectoryAt("nope"), ErrNoEntry},
		{"rmdir file", r.RemoveDirectoryAt("file"), ErrNotDirectory},
		{"rmdir symlink", r.RemoveDirectoryAt("ld"), ErrNotDirectory},
		{"rmdir non-empty", r.RemoveDirectoryAt("d"), ErrNotEmpty},
		{"rmdir dot", r.RemoveDirectoryAt("."), ErrInvalid},
		{"rmdir dotdot", r.RemoveDirectoryAt("d/.."), ErrNotEmpty},
		{"rmdir read-only", ro.RemoveDirectoryAt("d/sub"), ErrReadOnly},
		{"unlink dir", r.UnlinkFileAt("d"), ErrIsDirectory},
		{"unlink missing", r.UnlinkFileAt("nope"), ErrNoEntry},
		{"unlink file/", r.UnlinkFileAt("file/"), ErrNotDirectory},
		{"unlink read-only", ro.UnlinkFileAt("file"), ErrReadOnly},
		{"unlink on file base", second(fileOFD(t, r).StatAt(0, "x")), ErrNotDirectory},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, tt.err, tt.want)
	}
	st, _ := r.StatAt(0, "d")
	if st.LinkCount != 3 {
		t.Errorf("dir link count %d, want 3", st.LinkCount)
	}
	must(t, r.RemoveDirectoryAt("d/sub/"))
	must(t, r.UnlinkFileAt("ld")) // unlinks the link, not the target
	if _, err := r.StatAt(0, "d"); err != nil {
		t.Error(err)
	}
	must(t, r.RemoveDirectoryAt("d"))
	must(t, r.UnlinkFileAt("file"))
	ents, err := r.ReadDirectory()
	must(t, err)
	if len(ents) != 0 {
		t.Errorf("left: %v", ents)
	}
	// Removing an open directory: still usable, sees itself empty, no creating.
	must(t, r.CreateDirectoryAt("gone"))
	g, err := r.OpenAt(0, "gone", OpenDirectory, Read|MutateDirectory)
	must(t, err)
	defer g.DecRef()
	must(t, r.RemoveDirectoryAt("gone"))
	// Listing it is no-entry, as getdents on a removed directory is ENOENT.
	_, err = g.ReadDirectory()
	wantErr(t, "listing a removed dir", err, ErrNoEntry)
	wantErr(t, "create in removed dir", g.CreateDirectoryAt("x"), ErrNoEntry)
	_, err = g.OpenAt(0, "x", OpenCreate, Write)
	wantErr(t, "open-create in removed dir", err, ErrNoEntry)
	if st, _ := g.Stat(); st.LinkCount != 0 {
		t.Errorf("removed dir link count %d", st.LinkCount)
	}
}

func fileOFD(t *testing.T, r *OFD) *OFD {
	d, err := r.OpenAt(0, "file", 0, Read)
	must(t, err)
	t.Cleanup(func() { d.DecRef() })
	return d
}

func TestRename(t *testing.T) {
	base := func(t *testing.T, r *OFD) {
		writeFile(t, r, "f", "F")
		writeFile(t, r, "g", "G")
		must(t, r.CreateDirectoryAt("d"))
		must(t, r.CreateDirectoryAt("e"))
		must(t, r.CreateDirectoryAt("full"))
		writeFile(t, r, "full/x", "X")
		must(t, r.LinkAt(0, "f", r, "f2"))
	}
	tests := []struct {
		name     string
		old, new string
		err      error
		check    func(t *testing.T, r *OFD)
	}{
		{"file to new name", "f", "h", nil, func(t *testing.T, r *OFD) {
			if readFile(t, r, "h") != "F" {
				t.Error("content")
			}
			if _, err := r.StatAt(0, "f"); err != ErrNoEntry {
				t.Error("old name remains")
			}
		}},
		{"file replaces file", "f", "g", nil, func(t *testing.T, r *OFD) {
			if readFile(t, r, "g") != "F" {
				t.Error("content")
			}
		}},
		{"onto itself", "f", "f", nil, func(t *testing.T, r *OFD) { readFile(t, r, "f") }},
		{"onto another link of itself", "f", "f2", nil, func(t *testing.T, r *OFD) {
			readFile(t, r, "f")
			readFile(t, r, "f2")
		}},
		{"file into dir", "f", "d/f", nil, func(t *testing.T, r *OFD) { readFile(t, r, "d/f") }},
		{"dir to new name", "d", "d2", nil, func(t *testing.T, r *OFD) {
			if st, err := r.StatAt(0, "d2"); err != nil || st.Type != TypeDirectory {
				t.Error(err)
			}
		}},
		{"dir replaces empty dir", "full", "e", nil, func(t *testing.T, r *OFD) { readFile(t, r, "e/x") }},
		{"dir replaces non-empty dir", "d", "full", ErrNotEmpty, nil},
		{"file onto dir", "f", "d", ErrIsDirectory, nil},
		{"dir onto file", "d", "f", ErrNotDirectory, nil},
		{"dir into itself", "d", "d/sub", ErrInvalid, nil},
		{"dir into own subtree", "full", "full/x2", ErrInvalid, nil},
		{"missing", "nope", "x", ErrNoEntry, nil},
		{"missing target dir", "f", "nope/x", ErrNoEntry, nil},
		{"dot", ".", "x", ErrInvalid, nil},
		{"onto dotdot", "f", "d/..", ErrInvalid, nil},
		{"file with trailing slash", "f/", "x", ErrNotDirectory, nil},
		{"file to trailing slash", "f", "x/", ErrNotDirectory, nil},
		{"dir with trailing slashes", "d/", "d3/", nil, func(t *testing.T, r *OFD) { r.StatAt(0, "d3") }},
		{"escape", "f", "../f", ErrNotPermitted, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newTestFS(t, Options{})
			base(t, r)
			err := r.RenameAt(tt.old, r, tt.new)
			wantErr(t, "RenameAt", err, tt.err)
			if err == nil && tt.check != nil {
				tt.check(t, r)
			}
		})
	}
	// Across two bases, and the base checks.
	f, r := newTestFS(t, Options{})
	base(t, r)
	d, err := r.OpenAt(0, "d", OpenDirectory, Read|MutateDirectory)
	must(t, err)
	defer d.DecRef()
	must(t, r.RenameAt("f", d, "moved"))
	if readFile(t, r, "d/moved") != "F" {
		t.Error("rename across bases")
	}
	ro := f.Root(Read)
	defer ro.DecRef()
	wantErr(t, "read-only old base", ro.RenameAt("g", r, "x"), ErrReadOnly)
	wantErr(t, "read-only new base", r.RenameAt("g", ro, "x"), ErrReadOnly)
	wantErr(t, "nil new base", r.RenameAt("g", nil, "x"), ErrBadDescriptor)
	_, other := newTestFS(t, Options{})
	wantErr(t, "other FS", r.RenameAt("g", other, "x"), ErrCrossDevice)
	dead := f.Root(Read | MutateDirectory)
	dead.DecRef()
	wantErr(t, "released new base", r.RenameAt("g", dead, "x"), ErrBadDescriptor)
	// Renaming a directory updates parents: ".." from inside resolves to the new parent.
	must(t, r.CreateDirectoryAt("p"))
	must(t, r.CreateDirectoryAt("p/q"))
	must(t, r.RenameAt("p", r, "e/p"))
	if st, _ := r.StatAt(0, "e"); st.LinkCount != 3 {
		t.Errorf("link count of e after move: %d", st.LinkCount)
	}
}

func TestLinkSymlink(t *testing.T) {
	f, r := newTestFS(t, Options{})
	writeFile(t, r, "f", "data")
	must(t, r.CreateDirectoryAt("d"))
	must(t, r.SymlinkAt("f", "lf"))
	must(t, r.LinkAt(0, "f", r, "d/h"))
	st, _ := r.StatAt(0, "f")
	if st.LinkCount != 2 || inoOf(t, r, "d/h") != st.Inode {
		t.Errorf("hard link: %+v", st)
	}
	must(t, r.LinkAt(SymlinkFollow, "lf", r, "viafollow"))
	if inoOf(t, r, "viafollow") != st.Inode {
		t.Error("link-at follow")
	}
	must(t, r.LinkAt(0, "lf", r, "linktolink"))
	if s, _ := r.StatAt(0, "linktolink"); s.Type != TypeSymbolicLink {
		t.Error("link-at without follow links the symlink")
	}
	ro := f.Root(Read)
	defer ro.DecRef()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"link dir", r.LinkAt(0, "d", r, "d2"), ErrNotPermitted},
		{"link existing", r.LinkAt(0, "f", r, "d/h"), ErrExist},
		{"link missing", r.LinkAt(0, "nope", r, "x"), ErrNoEntry},
		{"link to trailing slash", r.LinkAt(0, "f", r, "x/"), ErrNoEntry},
		{"link read-only new base", r.LinkAt(0, "f", ro, "x"), ErrReadOnly},
		{"link nil base", r.LinkAt(0, "f", nil, "x"), ErrBadDescriptor},
		{"symlink existing", r.SymlinkAt("x", "f"), ErrExist},
		{"symlink empty target", r.SymlinkAt("", "x"), ErrNoEntry},
		{"symlink long target", r.SymlinkAt(string(make([]byte, MaxPathLen+1)), "x"), ErrNameTooLong},
		{"symlink read-only", ro.SymlinkAt("f", "x"), ErrReadOnly},
		{"readlink file", second(r.ReadlinkAt("f")), ErrInvalid},
		{"readlink missing", second(r.ReadlinkAt("nope")), ErrNoEntry},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, tt.err, tt.want)
	}
	// An absolute target may be created; following it is refused.
	must(t, r.SymlinkAt("/etc/passwd", "abs"))
	if tgt, err := r.ReadlinkAt("abs"); err != nil || tgt != "/etc/passwd" {
		t.Errorf("readlink %q %v", tgt, err)
	}
	_, err := r.OpenAt(SymlinkFollow, "abs", 0, Read)
	wantErr(t, "follow absolute", err, ErrNotPermitted)
	if tgt, _ := ro.ReadlinkAt("lf"); tgt != "f" {
		t.Errorf("readlink via read-only base %q", tgt)
	}
	// Too many links.
	n, _ := r.StatAt(0, "f")
	for i := n.LinkCount; i < maxLinks; i++ {
		must(t, r.LinkAt(0, "f", r, "l"+itoa(i)))
	}
	wantErr(t, "too many links", r.LinkAt(0, "f", r, "one-more"), ErrTooManyLinks)
}

func TestReadDirectory(t *testing.T) {
	_, r := newTestFS(t, Options{})
	for _, n := range []string{"zeta", "alpha", "mid", "Beta"} {
		writeFile(t, r, n, n)
	}
	must(t, r.CreateDirectoryAt("dir"))
	must(t, r.SymlinkAt("alpha", "link"))
	ents, err := r.ReadDirectory()
	must(t, err)
	want := []DirEntry{{"Beta", TypeRegularFile}, {"alpha", TypeRegularFile}, {"dir", TypeDirectory},
		{"link", TypeSymbolicLink}, {"mid", TypeRegularFile}, {"zeta", TypeRegularFile}}
	if len(ents) != len(want) {
		t.Fatalf("got %v", ents)
	}
	for i := range want {
		if ents[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, ents[i], want[i])
		}
	}
	// A snapshot: later changes do not affect it; the next call sees them.
	must(t, r.UnlinkFileAt("mid"))
	if len(ents) != 6 {
		t.Error("snapshot changed")
	}
	ents2, _ := r.ReadDirectory()
	if len(ents2) != 5 {
		t.Errorf("second listing %v", ents2)
	}
	f, err := r.OpenAt(0, "alpha", 0, Read)
	must(t, err)
	defer f.DecRef()
	_, err = f.ReadDirectory()
	wantErr(t, "readdir on file", err, ErrNotDirectory)
}

func TestMiscOps(t *testing.T) {
	_, r := newTestFS(t, Options{})
	writeFile(t, r, "f", "abc")
	a, _ := r.OpenAt(0, "f", 0, Read)
	b, _ := r.OpenAt(0, "f", 0, Write)
	defer a.DecRef()
	defer b.DecRef()
	if !a.IsSameObject(b) || a.IsSameObject(r) || a.IsSameObject(nil) {
		t.Error("IsSameObject")
	}
	if a.ID() == b.ID() {
		t.Error("two opens share an id")
	}
	h1, _ := a.MetadataHash()
	h2, _ := r.MetadataHashAt(0, "f")
	if h1 != h2 {
		t.Error("metadata hash differs for the same object")
	}
	hr, _ := r.MetadataHash()
	if hr == h1 {
		t.Error("metadata hash equal for different objects")
	}
	_, err := b.Append([]byte("d"))
	must(t, err)
	if h3, _ := a.MetadataHash(); h3 == h1 {
		t.Error("metadata hash unchanged after a write")
	}
	_, err = r.MetadataHashAt(0, "nope")
	wantErr(t, "hash missing", err, ErrNoEntry)
	wantErr(t, "advise ok", a.Advise(0, 10, AdviceSequential), nil)
	wantErr(t, "advise negative", a.Advise(-1, 10, AdviceNormal), ErrInvalid)
	wantErr(t, "advise negative len", a.Advise(0, -1, AdviceNormal), ErrInvalid)
	wantErr(t, "advise unknown", a.Advise(0, 1, 99), ErrInvalid)
	wantErr(t, "advise dir", r.Advise(0, 1, AdviceNormal), ErrBadDescriptor)
	wantErr(t, "sync", a.Sync(), nil)
	wantErr(t, "sync-data", r.SyncData(), nil)

	// Nil and released OFDs never panic.
	var nilOFD *OFD
	wantErr(t, "nil sync", nilOFD.Sync(), ErrBadDescriptor)
	wantErr(t, "nil decref", nilOFD.DecRef(), ErrBadDescriptor)
	wantErr(t, "nil incref", nilOFD.IncRef(), ErrBadDescriptor)
	wantErr(t, "nil lock", nilOFD.Lock(LockShared), ErrBadDescriptor)
	wantErr(t, "nil rename base", nilOFD.RenameAt("a", r, "b"), ErrBadDescriptor)
	nilOFD.OnRelease(func() {})
	_, err = nilOFD.OpenAt(0, "f", 0, Read)
	wantErr(t, "nil open", err, ErrBadDescriptor)
	_, err = nilOFD.ReadAt(nil, 0)
	wantErr(t, "nil read", err, ErrBadDescriptor)
	if nilOFD.LockState() != LockNone || nilOFD.IsSameObject(a) || nilOFD.Refs() != 0 || nilOFD.ID() != 0 ||
		nilOFD.Type() != TypeUnknown || nilOFD.Flags() != 0 || nilOFD.LockHolders() != nil || nilOFD.String() != "ofd#nil" {
		t.Error("nil accessors")
	}
	c, _ := r.OpenAt(0, "f", 0, Read)
	must(t, c.DecRef())
	for name, err := range map[string]error{
		"stat":     second(c.Stat()),
		"read":     second(c.ReadAt(make([]byte, 1), 0)),
		"open":     second(c.OpenAt(0, "x", 0, 0)),
		"lock":     c.TryLock(LockShared),
		"unlock":   c.Unlock(),
		"settimes": c.SetTimes(NewTimestamp{}, NewTimestamp{}),
		"readdir":  second(c.ReadDirectory()),
		"sync":     c.Sync(),
	} {
		wantErr(t, "released "+name, err, ErrBadDescriptor)
	}
	st, _ := a.Stat()
	if st.Size != 4 || st.Device != 1 || st.Type != TypeRegularFile || st.LinkCount != 1 {
		t.Errorf("stat %+v", st)
	}
	buf := make([]byte, 8)
	n, _ := a.ReadAt(buf, 0)
	if !bytes.Equal(buf[:n], []byte("abcd")) {
		t.Errorf("read %q", buf[:n])
	}
}

// TestLinuxOrder pins the cases proptest/linuxdiff found where vfs
// differed from Linux: a trailing slash never makes an operation on a
// directory entry follow a symlink there, and the errors come in Linux's
// order.
func TestLinuxOrder(t *testing.T) {
	_, r := newTestFS(t, Options{})
	must(t, r.CreateDirectoryAt("d"))
	must(t, r.SymlinkAt("d", "l"))
	writeFile(t, r, "f", "x")
	must(t, r.CreateDirectoryAt("a"))
	writeFile(t, r, "a/a", "y")
	open := func(path string, of OpenFlags) error {
		o, err := r.OpenAt(0, path, of, 0)
		if err == nil {
			o.DecRef()
		}
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{`rmdir "l/" on a symlink to a directory`, r.RemoveDirectoryAt("l/"), ErrNotDirectory},
		{`unlink "l/"`, r.UnlinkFileAt("l/"), ErrNotDirectory},
		{`unlink "f/"`, r.UnlinkFileAt("f/"), ErrNotDirectory},
		{`unlink "d/"`, r.UnlinkFileAt("d/"), ErrIsDirectory},
		{`mkdir "f/" on a file`, r.CreateDirectoryAt("f/"), ErrExist},
		{`mkdir "l/" on a symlink`, r.CreateDirectoryAt("l/"), ErrExist},
		{`rename "l/"`, r.RenameAt("l/", r, "m"), ErrNotDirectory},
		{`symlink at "l/"`, r.SymlinkAt("x", "l/"), ErrExist},
		{`open "f/" with create`, open("f/", OpenCreate), ErrIsDirectory},
		{`open "new/" with create`, open("new/", OpenCreate), ErrIsDirectory},
		{`open "./" with create and exclusive`, open("./", OpenCreate|OpenExclusive), ErrExist},
		{`open a symlink as a directory without follow`, open("l", OpenDirectory), ErrNotDirectory},
		{`link a directory onto an existing name`, r.LinkAt(0, "d", r, "d"), ErrExist},
		{`link a directory to a new name`, r.LinkAt(0, "d", r, "d2"), ErrNotPermitted},
		{`rename a directory into itself onto a file`, r.RenameAt("a", r, "a/a"), ErrInvalid},
		{`rename a file onto the directory holding it`, r.RenameAt("a/a", r, "a"), ErrNotEmpty},
	} {
		wantErr(t, tc.name, tc.err, tc.want)
	}
	if st, err := r.StatAt(0, "d"); err != nil || st.Type != TypeDirectory {
		t.Fatalf("d was changed through the symlink: %v %v", st, err)
	}
}

// A trailing slash after a symlink in an operation on the entry itself
// is checked against the sandbox: a link leading outside the base is
// not-permitted (as in Wasmtime); one inside is the link itself, which
// is not a directory (as in Linux).
func TestEntryTrailingSlashSandbox(t *testing.T) {
	_, r := newTestFS(t, Options{})
	must(t, r.CreateDirectoryAt("d"))
	must(t, r.SymlinkAt("..", "up"))
	must(t, r.SymlinkAt("d", "in"))
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"rmdir up/", func() error { return r.RemoveDirectoryAt("up/") }, ErrNotPermitted},
		{"mkdir up/", func() error { return r.CreateDirectoryAt("up/") }, ErrNotPermitted},
		{"unlink up/", func() error { return r.UnlinkFileAt("up/") }, ErrNotPermitted},
		{"rmdir in/", func() error { return r.RemoveDirectoryAt("in/") }, ErrNotDirectory},
		{"rmdir up", func() error { return r.RemoveDirectoryAt("up") }, ErrNotDirectory},
	}
	for _, tc := range tests {
		if err := tc.op(); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
