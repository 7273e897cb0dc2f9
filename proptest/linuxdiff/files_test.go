//go:build linux

package linuxdiff

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/vfs"
)

// fileOp is one step of a file sequence. Slot and Slot2 index the list of
// open descriptors as it is when the step runs (slot 0 is the base
// directory, which is never closed); the other fields are used by the
// kinds that need them.
type fileOp struct {
	Kind   string        // open dup close pread pwrite append truncate fstat stat mkdir unlink rmdir rename link symlink readlink lock readdir
	Slot   int           // the descriptor, or the base directory of a path operation
	Slot2  int           // the second base directory (rename, link)
	Path   string        // the path, or the old path (rename, link)
	Path2  string        // the new path (rename, link), or a symlink's target
	Follow bool          // symlink-follow / no O_NOFOLLOW / AT_SYMLINK_FOLLOW
	Open   vfs.OpenFlags // open: create, directory, exclusive, truncate
	Access vfs.DescFlags // open: read, write, mutate-directory as requested
	Append bool          // open: the kernel descriptor gets O_APPEND
	Off    int64         // pread, pwrite offset; truncate size
	N      int           // pread length
	Data   string        // pwrite, append data
	Lock   vfs.LockKind  // lock: shared, exclusive, or none for unlock
}

func (o fileOp) String() string {
	switch o.Kind {
	case "open":
		s := fmt.Sprintf("open(#%d, %q, follow=%v, %q, %q", o.Slot, o.Path, o.Follow, o.Open.String(), o.Access.String())
		if o.Append {
			s += ", O_APPEND"
		}
		return s + ")"
	case "dup", "close", "fstat", "readdir":
		return fmt.Sprintf("%s(#%d)", o.Kind, o.Slot)
	case "pread":
		return fmt.Sprintf("pread(#%d, off=%d, n=%d)", o.Slot, o.Off, o.N)
	case "pwrite":
		return fmt.Sprintf("pwrite(#%d, off=%d, %q)", o.Slot, o.Off, o.Data)
	case "append":
		return fmt.Sprintf("append(#%d, %q)", o.Slot, o.Data)
	case "truncate":
		return fmt.Sprintf("truncate(#%d, %d)", o.Slot, o.Off)
	case "stat":
		return fmt.Sprintf("stat(#%d, %q, follow=%v)", o.Slot, o.Path, o.Follow)
	case "mkdir", "unlink", "rmdir", "readlink":
		return fmt.Sprintf("%s(#%d, %q)", o.Kind, o.Slot, o.Path)
	case "rename":
		return fmt.Sprintf("rename(#%d, %q, #%d, %q)", o.Slot, o.Path, o.Slot2, o.Path2)
	case "link":
		return fmt.Sprintf("link(#%d, %q, #%d, %q, follow=%v)", o.Slot, o.Path, o.Slot2, o.Path2, o.Follow)
	case "symlink":
		return fmt.Sprintf("symlink(target=%q, #%d, %q)", o.Path2, o.Slot, o.Path)
	case "lock":
		if o.Lock == vfs.LockNone {
			return fmt.Sprintf("flock(#%d, LOCK_UN)", o.Slot)
		}
		return fmt.Sprintf("flock(#%d, %s|LOCK_NB)", o.Slot, map[vfs.LockKind]string{vfs.LockShared: "LOCK_SH", vfs.LockExclusive: "LOCK_EX"}[o.Lock])
	}
	return o.Kind + "(?)"
}

// fslot is an open descriptor: a kernel fd and the vfs OFD it corresponds
// to. Dup'ed slots share the OFD (and the kernel open file description).
type fslot struct {
	kfd    int
	ofd    *vfs.OFD
	group  int  // the open file description; dups share it
	append bool // the kernel fd has O_APPEND (F6)
}

// mismatch is a difference between the kernel and vfs that no divergence
// row covers.
type mismatch struct {
	Step   int
	Op     fileOp
	Kernel string
	VFS    string
}

func (m *mismatch) Error() string {
	return fmt.Sprintf("step %d %s:\n\tkernel: %s\n\tvfs:    %s", m.Step, m.Op, m.Kernel, m.VFS)
}

// fileRun is one sequence on one fresh directory and one fresh vfs.FS.
type fileRun struct {
	dir       string // the base directory on the kernel
	fs        *vfs.FS
	slots     []*fslot
	groups    int
	step      int
	dirLinks  bool // the kernel file system counts subdirectories in a directory's link count
	logf      func(string, ...any)
	divergent func(id string)
}

func newFileRun(tmp string, dirLinks bool, logf func(string, ...any)) (*fileRun, error) {
	// The base lives inside a private directory, so even a path the harness
	// failed to recognize as escaping cannot touch anything but the test's.
	dir := filepath.Join(tmp, "base")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	kfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fs := vfs.New(vfs.Options{})
	r := &fileRun{dir: dir, fs: fs, dirLinks: dirLinks, logf: logf, divergent: countDivergence}
	r.slots = []*fslot{{kfd: kfd, ofd: fs.Root(vfs.MutateDirectory), group: 0}}
	r.groups = 1
	return r, nil
}

// closeAll closes every kernel descriptor (used on every exit path).
func (r *fileRun) closeAll() {
	for _, s := range r.slots {
		if s.kfd >= 0 {
			unix.Close(s.kfd)
			s.kfd = -1
		}
	}
}

func (r *fileRun) fail(op fileOp, k, v string) error {
	return &mismatch{Step: r.step, Op: op, Kernel: k, VFS: v}
}

// effAccess is the access mode vfs gives an open (F5).
func effAccess(op fileOp) vfs.DescFlags {
	df := op.Access
	if df&vfs.Write == 0 {
		df |= vfs.Read
	}
	if op.Open&(vfs.OpenCreate|vfs.OpenTruncate) != 0 {
		df |= vfs.Write
	}
	return df
}

// escapes reports whether path, resolved from the kernel descriptor base,
// leaves it (openat2 RESOLVE_BENEATH fails with EXDEV), and the error the
// probe got otherwise.
func escapes(base int, path string, follow bool) (bool, error) {
	fl := uint64(unix.O_PATH | unix.O_CLOEXEC)
	if !follow {
		fl |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat2(base, path, &unix.OpenHow{Flags: fl, Resolve: unix.RESOLVE_BENEATH})
	if err == nil {
		unix.Close(fd)
		return false, nil
	}
	return err == unix.EXDEV, err
}

// entryPath is the path open-at with create resolves: a trailing slash
// after the name does not make Linux or vfs follow a symlink there, so it
// must not make the escape check do it either. (The other operations on
// an entry — mkdir, rmdir, unlink, symlink, rename, link's new name —
// check a trailing slash after a symlink against the sandbox: F1.)
func entryPath(p string) string {
	t := strings.TrimRight(p, "/")
	last := t[strings.LastIndex(t, "/")+1:]
	if t == "" || last == "." || last == ".." {
		return p
	}
	return t
}

func (r *fileRun) isDir(s *fslot) bool     { return s.ofd.Type() == vfs.TypeDirectory }
func (r *fileRun) canMutate(s *fslot) bool { return s.ofd.Flags()&vfs.MutateDirectory != 0 }

// pathRules applies the rules every path operation shares, in vfs's
// order: a base that is not a directory is compared normally; a base
// without mutate-directory refuses changes (F3); a path that escapes is
// not-permitted (F1). It returns done when the step is decided (err is
// then the verdict).
func (r *fileRun) pathRules(op fileOp, base *fslot, mutate bool, path string, follow bool, v error) (done bool, err error) {
	if !r.isDir(base) {
		if strings.HasPrefix(path, "/") {
			// Never given to the kernel: it would ignore the base.
			r.divergent("F1")
			if vc := VFSCode(v); vc != vfs.ErrNotDirectory.String() {
				return true, r.fail(op, "(not run: F1 absolute path, and the base is not a directory)", vc)
			}
			return true, nil
		}
		return false, nil
	}
	if mutate && !r.canMutate(base) {
		r.divergent("F3")
		if vc := VFSCode(v); vc != vfs.ErrReadOnly.String() {
			return true, r.fail(op, "(not run: F3 base without mutate-directory)", vc)
		}
		return true, nil
	}
	if esc, _ := escapes(base.kfd, path, follow); esc {
		r.divergent("F1")
		if vc := VFSCode(v); vc != vfs.ErrNotPermitted.String() {
			return true, r.fail(op, "(not run: F1 path escapes the base)", vc)
		}
		return true, nil
	}
	return false, nil
}

// twoPathRules is pathRules for rename and link: the second base must be
// a directory (the generator only picks directories); old escaping is
// not-permitted; new escaping is not-permitted unless resolving old fails
// first.
func (r *fileRun) twoPathRules(op fileOp, b1, b2 *fslot, mutate1 bool, oldFollow bool, v error) (bool, error) {
	vc := VFSCode(v)
	if !r.isDir(b1) {
		if strings.HasPrefix(op.Path, "/") || strings.HasPrefix(op.Path2, "/") {
			// Never given to the kernel: it would ignore the base.
			r.divergent("F1")
			if vc != vfs.ErrNotDirectory.String() {
				return true, r.fail(op, "(not run: F1 absolute path, and the base is not a directory)", vc)
			}
			return true, nil
		}
		return false, nil
	}
	if (mutate1 && !r.canMutate(b1)) || !r.canMutate(b2) {
		r.divergent("F3")
		if vc != vfs.ErrReadOnly.String() {
			return true, r.fail(op, "(not run: F3 base without mutate-directory)", vc)
		}
		return true, nil
	}
	esc1, err1 := escapes(b1.kfd, op.Path, oldFollow)
	esc2, _ := escapes(b2.kfd, op.Path2, false)
	switch {
	case esc1:
		r.divergent("F1")
		if vc != vfs.ErrNotPermitted.String() {
			return true, r.fail(op, "(not run: F1 old path escapes the base)", vc)
		}
		return true, nil
	case esc2:
		r.divergent("F1")
		if vc != vfs.ErrNotPermitted.String() && (err1 == nil || vc != FileCode(err1)) {
			return true, r.fail(op, fmt.Sprintf("(not run: F1 new path escapes the base; old resolves to %s)", FileCode(err1)), vc)
		}
		return true, nil
	}
	return false, nil
}

// apply runs one step on both sides and compares.
func (r *fileRun) apply(op fileOp) error {
	r.step++
	if op.Slot < 0 || op.Slot >= len(r.slots) || op.Slot2 < 0 || op.Slot2 >= len(r.slots) {
		return fmt.Errorf("step %d %s: slot out of range (%d open)", r.step, op, len(r.slots))
	}
	s, s2 := r.slots[op.Slot], r.slots[op.Slot2]
	var err error
	switch op.Kind {
	case "open":
		err = r.open(op, s)
	case "dup":
		kfd, kerr := unix.FcntlInt(uintptr(s.kfd), unix.F_DUPFD_CLOEXEC, 0)
		verr := s.ofd.IncRef()
		if kerr != nil || verr != nil {
			return r.fail(op, FileCode(kerr), fmt.Sprint(verr))
		}
		r.slots = append(r.slots, &fslot{kfd: kfd, ofd: s.ofd, group: s.group, append: s.append})
		r.logf("  -> #%d (dup of #%d)", len(r.slots)-1, op.Slot)
	case "close":
		if op.Slot == 0 {
			return fmt.Errorf("step %d: the base is never closed", r.step)
		}
		kerr := unix.Close(s.kfd)
		s.kfd = -1
		verr := s.ofd.DecRef()
		r.slots = append(r.slots[:op.Slot], r.slots[op.Slot+1:]...)
		if kerr != nil || verr != nil {
			return r.fail(op, FileCode(kerr), fmt.Sprint(verr))
		}
	case "pread":
		kb := make([]byte, op.N)
		kn, kerr := unix.Pread(s.kfd, kb, op.Off)
		vb := make([]byte, op.N)
		vn, verr := s.ofd.ReadAt(vb, op.Off)
		k, v := readResult(kn, kb, kerr, FileCode), readResult(vn, vb, verr, VFSCode)
		if k != v {
			return r.fail(op, k, v)
		}
	case "pwrite", "append":
		err = r.write(op, s)
	case "truncate":
		kerr := unix.Ftruncate(s.kfd, op.Off)
		verr := s.ofd.SetSize(op.Off)
		k, v := FileCode(kerr), VFSCode(verr)
		if k != v {
			okF8 := k == vfs.ErrInvalid.String() &&
				((r.isDir(s) && v == vfs.ErrIsDirectory.String()) ||
					(!r.isDir(s) && s.ofd.Flags()&vfs.Write == 0 && v == vfs.ErrBadDescriptor.String()))
			if !okF8 {
				return r.fail(op, k, v)
			}
			r.divergent("F8")
		}
	case "fstat":
		var st unix.Stat_t
		kerr := unix.Fstat(s.kfd, &st)
		vst, verr := s.ofd.Stat()
		k, v := r.kstat(&st, kerr), r.vstat(vst, verr)
		if k != v {
			return r.fail(op, k, v)
		}
	case "stat":
		pf := vfs.PathFlags(0)
		if op.Follow {
			pf = vfs.SymlinkFollow
		}
		vst, verr := s.ofd.StatAt(pf, op.Path)
		if done, err := r.pathRules(op, s, false, op.Path, op.Follow, verr); done {
			return err
		}
		var st unix.Stat_t
		fl := unix.AT_SYMLINK_NOFOLLOW
		if op.Follow {
			fl = 0
		}
		kerr := unix.Fstatat(s.kfd, op.Path, &st, fl)
		k, v := r.kstat(&st, kerr), r.vstat(vst, verr)
		if k != v {
			return r.fail(op, k, v)
		}
	case "mkdir", "unlink", "rmdir":
		var verr error
		switch op.Kind {
		case "mkdir":
			verr = s.ofd.CreateDirectoryAt(op.Path)
		case "unlink":
			verr = s.ofd.UnlinkFileAt(op.Path)
		default:
			verr = s.ofd.RemoveDirectoryAt(op.Path)
		}
		if done, err := r.pathRules(op, s, true, op.Path, false, verr); done {
			return err
		}
		var kerr error
		switch op.Kind {
		case "mkdir":
			kerr = unix.Mkdirat(s.kfd, op.Path, 0o755)
		case "unlink":
			kerr = unix.Unlinkat(s.kfd, op.Path, 0)
		default:
			kerr = unix.Unlinkat(s.kfd, op.Path, unix.AT_REMOVEDIR)
		}
		if k, v := FileCode(kerr), VFSCode(verr); k != v {
			return r.fail(op, k, v)
		}
	case "rename":
		verr := s.ofd.RenameAt(op.Path, s2.ofd, op.Path2)
		if done, err := r.twoPathRules(op, s, s2, true, false, verr); done {
			return err
		}
		kerr := unix.Renameat(s.kfd, op.Path, s2.kfd, op.Path2)
		if k, v := FileCode(kerr), VFSCode(verr); k != v {
			if k == vfs.ErrBusy.String() && verr != nil && (isDots(op.Path) || isDots(op.Path2)) {
				r.divergent("F12")
				return nil
			}
			return r.fail(op, k, v)
		}
	case "link":
		pf, fl := vfs.PathFlags(0), 0
		if op.Follow {
			pf, fl = vfs.SymlinkFollow, unix.AT_SYMLINK_FOLLOW
		}
		verr := s.ofd.LinkAt(pf, op.Path, s2.ofd, op.Path2)
		if r.isDir(s) && !r.canMutate(s) {
			// F3: a link from a base without mutate-directory would be
			// a writable name for a file its holder may only read.
			r.divergent("F3")
			if vc := VFSCode(verr); vc != vfs.ErrNotPermitted.String() {
				return r.fail(op, "(not run: F3 link from a base without mutate-directory)", vc)
			}
			return nil
		}
		if done, err := r.twoPathRules(op, s, s2, false, op.Follow, verr); done {
			return err
		}
		kerr := unix.Linkat(s.kfd, op.Path, s2.kfd, op.Path2, fl)
		if k, v := FileCode(kerr), VFSCode(verr); k != v {
			return r.fail(op, k, v)
		}
	case "symlink":
		verr := s.ofd.SymlinkAt(op.Path2, op.Path)
		if done, err := r.pathRules(op, s, true, op.Path, false, verr); done {
			return err
		}
		kerr := unix.Symlinkat(op.Path2, s.kfd, op.Path)
		if k, v := FileCode(kerr), VFSCode(verr); k != v {
			return r.fail(op, k, v)
		}
	case "readlink":
		vt, verr := s.ofd.ReadlinkAt(op.Path)
		if done, err := r.pathRules(op, s, false, op.Path, false, verr); done {
			return err
		}
		buf := make([]byte, 256)
		kn, kerr := unix.Readlinkat(s.kfd, op.Path, buf)
		k, v := FileCode(kerr), VFSCode(verr)
		if kerr == nil {
			k += " " + string(buf[:kn])
		}
		if verr == nil {
			v += " " + vt
		}
		if k != v {
			return r.fail(op, k, v)
		}
	case "lock":
		err = r.lock(op, s)
	case "readdir":
		kl, kerr := r.klist(s.kfd, true)
		vl, verr := s.ofd.ReadDirectory()
		k, v := FileCode(kerr), VFSCode(verr)
		if kerr == nil {
			k += " " + strings.Join(kl, " ")
		}
		if verr == nil {
			names := make([]string, len(vl))
			for i, e := range vl {
				names[i] = e.Name + ":" + e.Type.String()
			}
			v += " " + strings.Join(names, " ")
		}
		if k != v {
			return r.fail(op, k, v)
		}
	default:
		return fmt.Errorf("step %d: unknown op %q", r.step, op.Kind)
	}
	if err != nil {
		return err
	}
	return r.checkLocks(op)
}

func isDots(p string) bool {
	p = strings.TrimRight(p, "/")
	return p == "." || p == ".." || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

// open runs an open-at.
func (r *fileRun) open(op fileOp, base *fslot) error {
	pf := vfs.PathFlags(0)
	if op.Follow {
		pf = vfs.SymlinkFollow
	}
	df := op.Access
	ofd, verr := base.ofd.OpenAt(pf, op.Path, op.Open, df)
	vc := VFSCode(verr)
	closeV := func() {
		if ofd != nil {
			ofd.DecRef()
		}
	}
	eff := effAccess(op)
	kflags := unix.O_CLOEXEC
	switch eff & (vfs.Read | vfs.Write) {
	case vfs.Read:
		kflags |= unix.O_RDONLY
	case vfs.Write:
		kflags |= unix.O_WRONLY
	default:
		kflags |= unix.O_RDWR
	}
	if op.Open&vfs.OpenCreate != 0 {
		kflags |= unix.O_CREAT
	}
	if op.Open&vfs.OpenExclusive != 0 {
		kflags |= unix.O_EXCL
	}
	if op.Open&vfs.OpenTruncate != 0 {
		kflags |= unix.O_TRUNC
	}
	if op.Open&vfs.OpenDirectory != 0 {
		kflags |= unix.O_DIRECTORY
	}
	if !op.Follow {
		kflags |= unix.O_NOFOLLOW
	}
	if op.Append {
		kflags |= unix.O_APPEND
	}
	if op.Access != eff {
		r.divergent("F5")
	}
	// F4: directory with create/exclusive/truncate is invalid in WASI
	// (vfs checks that the base is a directory first).
	if op.Open&vfs.OpenDirectory != 0 && op.Open&(vfs.OpenCreate|vfs.OpenExclusive|vfs.OpenTruncate) != 0 {
		want := vfs.ErrInvalid.String()
		if !r.isDir(base) {
			want = vfs.ErrNotDirectory.String()
		}
		closeV()
		if vc != want {
			return r.fail(op, "(not run: F4 directory with create, exclusive or truncate)", vc)
		}
		r.divergent("F4")
		return nil
	}
	mutating := eff&vfs.Write != 0 || df&vfs.MutateDirectory != 0
	follow := op.Follow && op.Open&(vfs.OpenCreate|vfs.OpenExclusive) != vfs.OpenCreate|vfs.OpenExclusive
	path := op.Path
	if op.Open&vfs.OpenCreate != 0 && entryPath(path) != path {
		// Create with a trailing slash after a name fails before the name
		// is looked up, so a symlink there is never followed.
		path, follow = entryPath(path), false
	}
	if done, err := r.pathRules(op, base, mutating, path, follow, verr); done {
		closeV()
		return err
	}
	kfd, kerr := unix.Openat(base.kfd, op.Path, kflags, 0o644)
	kc := FileCode(kerr)
	if kc != vc {
		if kerr == nil {
			unix.Close(kfd)
		}
		closeV()
		return r.fail(op, kc, vc)
	}
	if kerr != nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(kfd, &st); err != nil {
		return err
	}
	r.slots = append(r.slots, &fslot{kfd: kfd, ofd: ofd, group: r.groups, append: op.Append})
	r.groups++
	r.logf("  -> #%d", len(r.slots)-1)
	if kt := ktype(st.Mode); kt != ofd.Type().String() {
		return r.fail(op, "opened a "+kt, "opened a "+ofd.Type().String())
	}
	return nil
}

// write runs pwrite or append.
func (r *fileRun) write(op fileOp, s *fslot) error {
	data := []byte(op.Data)
	var kn, vn int
	var kerr, verr error
	switch {
	case op.Kind == "append":
		// F6: append is write(2) with O_APPEND set for this call.
		fl, err := unix.FcntlInt(uintptr(s.kfd), unix.F_GETFL, 0)
		if err != nil {
			return err
		}
		if _, err := unix.FcntlInt(uintptr(s.kfd), unix.F_SETFL, fl|unix.O_APPEND); err != nil {
			return err
		}
		kn, kerr = unix.Write(s.kfd, data)
		if _, err := unix.FcntlInt(uintptr(s.kfd), unix.F_SETFL, fl); err != nil {
			return err
		}
		vn, verr = s.ofd.Append(data)
		r.divergent("F6")
	case s.append:
		// F6: pwrite on an O_APPEND descriptor appends on Linux.
		kn, kerr = unix.Pwrite(s.kfd, data, op.Off)
		vn, verr = s.ofd.Append(data)
		r.divergent("F6")
	default:
		kn, kerr = unix.Pwrite(s.kfd, data, op.Off)
		vn, verr = s.ofd.WriteAt(data, op.Off)
	}
	k, v := FileCode(kerr), VFSCode(verr)
	if kerr == nil {
		k += fmt.Sprintf(" n=%d", kn)
	}
	if verr == nil {
		v += fmt.Sprintf(" n=%d", vn)
	}
	if k != v {
		if r.isDir(s) && kerr == unix.EBADF && v == vfs.ErrIsDirectory.String() {
			r.divergent("F7")
			return nil
		}
		return r.fail(op, k, v)
	}
	return nil
}

// lock runs flock / TryLock / Unlock.
func (r *fileRun) lock(op fileOp, s *fslot) error {
	before := s.ofd.LockState()
	var how int
	var verr error
	switch op.Lock {
	case vfs.LockShared:
		how = unix.LOCK_SH | unix.LOCK_NB
		verr = s.ofd.TryLock(vfs.LockShared)
	case vfs.LockExclusive:
		how = unix.LOCK_EX | unix.LOCK_NB
		verr = s.ofd.TryLock(vfs.LockExclusive)
	default:
		how = unix.LOCK_UN
		verr = s.ofd.Unlock()
	}
	kerr := unix.Flock(s.kfd, how)
	k, v := FileCode(kerr), VFSCode(verr)
	if k != v {
		return r.fail(op, k, v)
	}
	if op.Lock == vfs.LockExclusive && before == vfs.LockShared && k == WouldBlock {
		// F9: Linux dropped the shared lock; vfs kept it. Re-sync the kernel.
		r.divergent("F9")
		if got := kernelLock(s.kfd); got != "none" {
			return r.fail(op, "after the failed upgrade the kernel still holds "+got+" (F9 expects none)", "shared")
		}
		if err := unix.Flock(s.kfd, unix.LOCK_SH|unix.LOCK_NB); err != nil {
			return r.fail(op, "re-taking the shared lock after F9: "+FileCode(err), "shared")
		}
	}
	return nil
}

// checkLocks compares every open descriptor's lock with its OFD's.
func (r *fileRun) checkLocks(op fileOp) error {
	for i, s := range r.slots {
		k, v := kernelLock(s.kfd), s.ofd.LockState().String()
		if k != v {
			return r.fail(op, fmt.Sprintf("after the step #%d holds lock %s", i, k), fmt.Sprintf("#%d holds lock %s", i, v))
		}
	}
	return nil
}

// kernelLock reads the flock the open file description behind fd owns
// from /proc/self/fdinfo: "none", "shared" or "exclusive".
func kernelLock(fd int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return "fdinfo: " + err.Error()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "lock:") {
			continue
		}
		f := strings.Fields(line)
		// lock:  1: FLOCK  ADVISORY  WRITE 1234 00:2a:56 0 EOF
		if len(f) >= 5 && f[2] == "FLOCK" {
			switch f[4] {
			case "READ":
				return "shared"
			case "WRITE":
				return "exclusive"
			}
			return "unknown " + f[4]
		}
	}
	return "none"
}

func ktype(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return vfs.TypeDirectory.String()
	case unix.S_IFREG:
		return vfs.TypeRegularFile.String()
	case unix.S_IFLNK:
		return vfs.TypeSymbolicLink.String()
	}
	return fmt.Sprintf("mode %o", mode&unix.S_IFMT)
}

// kstat renders a kernel stat result in the terms vfs's is compared in
// (F11: no directory sizes, times or inode numbers).
func (r *fileRun) kstat(st *unix.Stat_t, err error) string {
	if err != nil {
		return FileCode(err)
	}
	t := ktype(st.Mode)
	s := "ok " + t
	if t != vfs.TypeDirectory.String() {
		s += fmt.Sprintf(" size=%d nlink=%d", st.Size, st.Nlink)
	} else if r.dirLinks {
		s += fmt.Sprintf(" nlink=%d", st.Nlink)
	}
	return s
}

func (r *fileRun) vstat(st vfs.Stat, err error) string {
	if err != nil {
		return VFSCode(err)
	}
	s := "ok " + st.Type.String()
	if st.Type != vfs.TypeDirectory {
		s += fmt.Sprintf(" size=%d nlink=%d", st.Size, st.LinkCount)
	} else if r.dirLinks {
		s += fmt.Sprintf(" nlink=%d", st.LinkCount)
	}
	return s
}

func readResult(n int, b []byte, err error, code func(error) string) string {
	if err != nil {
		return code(err)
	}
	return fmt.Sprintf("ok n=%d %q", n, b[:n])
}

// klist lists a kernel directory from its start with getdents64 and
// returns "name:type" entries sorted by name, without "." and ".." (F2).
func (r *fileRun) klist(fd int, count bool) ([]string, error) {
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return nil, err
	}
	var out []string
	buf := make([]byte, 4096)
	dots := 0
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		for b := buf[:n]; len(b) > 0; {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			typ := b[18]
			name := b[19:reclen]
			name = name[:bytes.IndexByte(name, 0)]
			b = b[reclen:]
			if string(name) == "." || string(name) == ".." {
				dots++
				continue
			}
			t := map[byte]string{unix.DT_DIR: "directory", unix.DT_REG: "regular-file", unix.DT_LNK: "symbolic-link"}[typ]
			if t == "" {
				t = fmt.Sprintf("dtype-%d", typ)
			}
			out = append(out, string(name)+":"+t)
		}
	}
	if count && dots > 0 {
		r.divergent("F2")
	}
	sort.Strings(out)
	return out, nil
}

// finish compares the final trees, closes everything and checks that vfs
// released it all.
func (r *fileRun) finish() error {
	kt, err := r.ktree()
	if err != nil {
		return fmt.Errorf("walking the kernel tree: %v", err)
	}
	vt, err := r.vtree()
	if err != nil {
		return fmt.Errorf("walking the vfs tree: %v", err)
	}
	if kt != vt {
		return fmt.Errorf("final trees differ after step %d:\nkernel:\n%s\nvfs:\n%s", r.step, kt, vt)
	}
	for len(r.slots) > 1 {
		if err := r.apply(fileOp{Kind: "close", Slot: len(r.slots) - 1}); err != nil {
			return err
		}
	}
	// Every inode left is reachable from the root (no unlinked inode
	// survives its last close); the root counts.
	inodes := int64(1)
	for _, line := range strings.Split(kt, "\n") {
		if line != "" && !strings.Contains(line, " link-of ") {
			inodes++
		}
	}
	if got, want := r.fs.Usage().Inodes, inodes; got != want {
		return fmt.Errorf("vfs holds %d inodes after every descriptor but the base was closed; the tree has %d", got, want)
	}
	if err := r.slots[0].ofd.DecRef(); err != nil {
		return err
	}
	unix.Close(r.slots[0].kfd)
	r.slots[0].kfd = -1
	if l := r.fs.Locks(); len(l) != 0 {
		return fmt.Errorf("vfs still holds locks after every descriptor was closed: %v", l)
	}
	if live := r.fs.Live(); len(live) != 0 {
		return fmt.Errorf("vfs OFDs still live: %v", live)
	}
	if e := r.fs.RefErrors(); len(e) != 0 {
		return fmt.Errorf("vfs reference-count misuse: %v", e)
	}
	return nil
}

// ktree renders the kernel tree: one line per entry, sorted by path, with
// type, size, link count and content or target; a later name of an inode
// already listed is "link-of <first name>".
func (r *fileRun) ktree() (string, error) {
	var lines []string
	seen := map[uint64]string{}
	var walk func(fd int, prefix string) error
	walk = func(fd int, prefix string) error {
		ents, err := r.klist(fd, false)
		if err != nil {
			return err
		}
		for _, e := range ents {
			name := e[:strings.LastIndexByte(e, ':')]
			p := prefix + name
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			t := ktype(st.Mode)
			if first, ok := seen[st.Ino]; ok {
				lines = append(lines, p+" link-of "+first)
				continue
			}
			seen[st.Ino] = p
			switch t {
			case vfs.TypeDirectory.String():
				line := p + " directory"
				if r.dirLinks {
					line += fmt.Sprintf(" nlink=%d", st.Nlink)
				}
				lines = append(lines, line)
				sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				err = walk(sub, p+"/")
				unix.Close(sub)
				if err != nil {
					return err
				}
			case vfs.TypeSymbolicLink.String():
				buf := make([]byte, 256)
				n, err := unix.Readlinkat(fd, name, buf)
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s symbolic-link nlink=%d -> %q", p, st.Nlink, buf[:n]))
			default:
				f, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				buf := make([]byte, st.Size)
				n, err := unix.Pread(f, buf, 0)
				unix.Close(f)
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s %s size=%d nlink=%d %q", p, t, st.Size, st.Nlink, buf[:n]))
			}
		}
		return nil
	}
	if err := walk(r.slots[0].kfd, ""); err != nil {
		return "", err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// vtree renders the vfs tree as ktree renders the kernel's.
func (r *fileRun) vtree() (string, error) {
	var lines []string
	seen := map[uint64]string{}
	var walk func(d *vfs.OFD, prefix string) error
	walk = func(d *vfs.OFD, prefix string) error {
		ents, err := d.ReadDirectory()
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := prefix + e.Name
			st, err := d.StatAt(0, e.Name)
			if err != nil {
				return err
			}
			if st.Type != e.Type {
				return fmt.Errorf("%s: read-directory says %s, stat-at %s", p, e.Type, st.Type)
			}
			if first, ok := seen[st.Inode]; ok {
				lines = append(lines, p+" link-of "+first)
				continue
			}
			seen[st.Inode] = p
			switch st.Type {
			case vfs.TypeDirectory:
				line := p + " directory"
				if r.dirLinks {
					line += fmt.Sprintf(" nlink=%d", st.LinkCount)
				}
				lines = append(lines, line)
				sub, err := d.OpenAt(0, e.Name, vfs.OpenDirectory, vfs.Read)
				if err != nil {
					return err
				}
				err = walk(sub, p+"/")
				sub.DecRef()
				if err != nil {
					return err
				}
			case vfs.TypeSymbolicLink:
				t, err := d.ReadlinkAt(e.Name)
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s symbolic-link nlink=%d -> %q", p, st.LinkCount, t))
			default:
				f, err := d.OpenAt(0, e.Name, 0, vfs.Read)
				if err != nil {
					return err
				}
				buf := make([]byte, st.Size)
				n, err := f.ReadAt(buf, 0)
				f.DecRef()
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s %s size=%d nlink=%d %q", p, st.Type, st.Size, st.LinkCount, buf[:n]))
			}
		}
		return nil
	}
	if err := walk(r.slots[0].ofd, ""); err != nil {
		return "", err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// Generators. A small alphabet makes operations collide.
var (
	pathComps   = []string{"a", "a", "a", "b", "d", "d", "d", "l", "e", ".", ".."}
	linkTargets = []string{"a", "b", "d", "d/a", "l", "e", "..", "../a", "/tmp", "d/..", "b/", ".", "d/../..", "a/x"}
)

func drawPath(t *rapid.T, label string) string {
	if rapid.IntRange(0, 40).Draw(t, label+"/abs") == 0 {
		return "/a"
	}
	n := rapid.IntRange(1, 6).Draw(t, label+"/depth")
	n = []int{1, 1, 1, 2, 2, 3, 3}[n]
	parts := make([]string, n)
	for i := range parts {
		parts[i] = rapid.SampledFrom(pathComps).Draw(t, label)
	}
	p := strings.Join(parts, "/")
	if rapid.IntRange(0, 7).Draw(t, label+"/slash") == 0 {
		p += "/"
	}
	return p
}

// drawFileOp draws a step for the current set of open slots.
func drawFileOp(t *rapid.T, r *fileRun) fileOp {
	kinds := []string{
		"open", "open", "open", "open", "open", "dup", "close", "close",
		"pread", "pwrite", "pwrite", "append", "truncate", "fstat", "stat",
		"mkdir", "mkdir", "unlink", "rmdir", "rename", "rename", "link", "symlink", "readlink",
		"lock", "lock", "lock", "lock", "readdir",
	}
	op := fileOp{Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
	n := len(r.slots)
	pick := func(label string) int { return rapid.IntRange(0, n-1).Draw(t, label) }
	var dirs []int
	for i, s := range r.slots {
		if r.isDir(s) {
			dirs = append(dirs, i)
		}
	}
	pickDir := func(label string) int { return rapid.SampledFrom(dirs).Draw(t, label) }
	switch op.Kind {
	case "open":
		op.Slot = pickDir("base")
		if rapid.IntRange(0, 9).Draw(t, "file base") == 0 {
			op.Slot = pick("base")
		}
		op.Path = drawPath(t, "path")
		op.Follow = rapid.Bool().Draw(t, "follow")
		op.Open = vfs.OpenFlags(rapid.SampledFrom([]uint8{0, 0, 1, 1, 1, 5, 5, 8, 9, 2, 2, 3, 10, 4, 13}).Draw(t, "oflags"))
		op.Access = vfs.DescFlags(rapid.SampledFrom([]uint8{0, 1, 1, 2, 3, 3, 33, 33, 32}).Draw(t, "access"))
		op.Append = rapid.IntRange(0, 7).Draw(t, "O_APPEND") == 0
	case "dup", "fstat", "readdir":
		op.Slot = pick("slot")
	case "close":
		if n == 1 {
			op.Kind = "fstat"
			return op
		}
		op.Slot = rapid.IntRange(1, n-1).Draw(t, "slot")
	case "pread":
		op.Slot = pick("slot")
		op.Off = int64(rapid.IntRange(0, 12).Draw(t, "off"))
		op.N = rapid.IntRange(0, 8).Draw(t, "n")
	case "pwrite", "append":
		op.Slot = pick("slot")
		op.Off = int64(rapid.IntRange(0, 12).Draw(t, "off"))
		op.Data = rapid.StringMatching(`[a-z]{0,6}`).Draw(t, "data")
	case "truncate":
		op.Slot = pick("slot")
		op.Off = int64(rapid.IntRange(0, 12).Draw(t, "size"))
	case "stat":
		op.Slot = pickDir("base")
		op.Path = drawPath(t, "path")
		op.Follow = rapid.Bool().Draw(t, "follow")
	case "mkdir", "unlink", "rmdir", "readlink":
		op.Slot = pickDir("base")
		op.Path = drawPath(t, "path")
	case "rename", "link":
		op.Slot = pickDir("base")
		op.Path = drawPath(t, "old")
		op.Slot2 = pickDir("base2")
		op.Path2 = drawPath(t, "new")
		op.Follow = op.Kind == "link" && rapid.Bool().Draw(t, "follow")
	case "symlink":
		op.Slot = pickDir("base")
		op.Path = drawPath(t, "path")
		op.Path2 = rapid.SampledFrom(linkTargets).Draw(t, "target")
	case "lock":
		op.Slot = pick("slot")
		if n > 1 && rapid.IntRange(0, 3).Draw(t, "prefer an opened file") > 0 {
			op.Slot = rapid.IntRange(1, n-1).Draw(t, "slot")
		}
		op.Lock = vfs.LockKind(rapid.SampledFrom([]uint8{1, 1, 2, 2, 0}).Draw(t, "lock"))
	}
	return op
}

// fsCountsDirLinks reports whether the file system holding dir counts
// subdirectories in a directory's link count (ext4, tmpfs, xfs do; btrfs
// does not).
func fsCountsDirLinks(dir string) bool {
	p := filepath.Join(dir, "probe")
	if os.MkdirAll(filepath.Join(p, "sub"), 0o755) != nil {
		return false
	}
	defer os.RemoveAll(p)
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil && st.Nlink == 3
}

// TestFilesAgainstLinux is the differential property test of vfs against
// the kernel's file system.
func TestFilesAgainstLinux(t *testing.T) {
	dirLinks := fsCountsDirLinks(t.TempDir())
	if !dirLinks {
		t.Log("the temporary directory's file system does not count directory links; directory link counts are not compared")
	}
	check(t, func(rt *rapid.T) {
		r, err := newFileRun(t.TempDir(), dirLinks, rt.Logf)
		if err != nil {
			rt.Fatalf("setting up: %v", err)
		}
		defer r.closeAll()
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			op := drawFileOp(rt, r)
			rt.Logf("%d: %s", r.step+1, op)
			if err := r.apply(op); err != nil {
				if kb := matchFileBug(r, err); kb != nil {
					noteKnownBug(kb.ID)
					rt.Logf("known bug %s reached (%s); the sequence stops here", kb.ID, kb.Summary)
					return
				}
				rt.Fatal(err)
			}
		}
		if err := r.finish(); err != nil {
			if kb := matchFileBug(r, err); kb != nil {
				noteKnownBug(kb.ID)
				return
			}
			rt.Fatal(err)
		}
	}, fileRegressions...)
	reportDivergences(t, "F")
}
