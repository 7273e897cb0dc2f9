package wasmrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wasisim/wasisim/vfs"
)

// MaxWriteBackFile bounds the logical size of a file written back. Up to
// it, a file's runs of zero bytes become holes, so a sparse file stays
// sparse on the host; a larger one is refused before anything is
// written.
const MaxWriteBackFile = 16 << 30

// writeBlock is the unit in which files are compared and written.
const writeBlock = 1 << 20

// CheckWriteBack refuses mounts that cannot be written back safely:
// two mounts of the same host directory, or one inside another (what the
// guest wrote through one would be overwritten from the other). Call it
// before the run.
func (p *Program) CheckWriteBack() error {
	for i, a := range p.roots {
		for j, b := range p.roots {
			if i < j && (a == b || within(a, b) || within(b, a)) {
				return fmt.Errorf("--dir %s and --dir %s overlap (%s, %s): they cannot both be written back", p.Spec.Dirs[i].Host, p.Spec.Dirs[j].Host, a, b)
			}
		}
	}
	return nil
}

// within reports whether dir is strictly inside root.
func within(dir, root string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// WriteBackReport says what a write-back did.
type WriteBackReport struct {
	// Written, Removed count the entries created or replaced, and removed.
	Written, Removed int
}

// WriteBack copies each mount's tree in the guest's file system back to
// its host directory. It never loses what it was not asked to change:
//
//   - it changes only what the guest changed: entries the guest created,
//     modified or removed since the tree was copied in;
//   - before it changes anything it checks the whole plan, and refuses it
//     all if the host changed an entry the guest also changed (or added
//     one where the guest writes), if a symbolic link the guest made
//     leads out of its mount (absolute, or through ".." above the mount
//     root), or if a file is larger than MaxWriteBackFile;
//   - it writes through an os.Root of the mount, so no path, and no
//     symbolic link on the host, takes a write outside the mount;
//   - each file is written to a temporary file next to it, synced and
//     renamed over the old one, so a failure leaves the old file or the
//     new one, never half of one; runs of zero blocks become holes;
//   - it removes nothing until every file and directory was written: a
//     failure part-way leaves everything that existed in place.
func (p *Program) WriteBack(fsys *vfs.FS) (*WriteBackReport, error) {
	rep := &WriteBackReport{}
	root := fsys.Root(vfs.Read | vfs.MutateDirectory)
	defer func() { _ = root.DecRef() }()
	var plans []*plan
	for i := range p.Spec.Dirs {
		pl, err := p.planMount(root, i)
		if err != nil {
			return rep, fmt.Errorf("write-back refused, nothing was written back: --dir %s: %w", p.Spec.Dirs[i].Host, err)
		}
		plans = append(plans, pl)
	}
	for _, pl := range plans {
		if err := pl.apply(rep); err != nil {
			return rep, fmt.Errorf("write-back of %s stopped after %d entries written and %d removed (every file is whole, nothing else was removed): %w", pl.hostDir, rep.Written, rep.Removed, err)
		}
	}
	return rep, nil
}

// vEntry is an entry of the guest's tree at the end of the run.
type vEntry struct {
	rel    string
	kind   byte // 'd', 'f', 'l'
	size   int64
	target string
	vpath  string // in the world's file system
}

// plan is what writing one mount back does, checked before any of it.
type plan struct {
	hostDir string
	vroot   *vfs.OFD
	root    *os.Root
	// first are the writes of entries whose kind did not change; then
	// the removals (deepest first) and the writes that had to wait for
	// one (a file where a directory was, and what lies below it).
	first, removals, last []vEntry
}

func (p *Program) planMount(vroot *vfs.OFD, i int) (*plan, error) {
	hostDir := p.roots[i]
	vdir := "dir" + strconv.Itoa(i)
	var final []vEntry
	if err := walkVFS(vroot, vdir, "", &final); err != nil {
		return nil, err
	}
	orig := map[string]treeEntry{}
	for _, e := range p.dirs[i] {
		orig[e.rel] = e
	}
	root, err := os.OpenRoot(hostDir)
	if err != nil {
		return nil, err
	}
	pl := &plan{hostDir: hostDir, vroot: vroot, root: root}
	seen := map[string]bool{}
	retyped := map[string]bool{} // paths whose kind the guest changed
	var conflicts []string
	checkHost := func(rel string) {
		if msg := hostChanged(root, rel, orig); msg != "" {
			conflicts = append(conflicts, msg)
		}
	}
	for _, e := range final {
		seen[e.rel] = true
		o, had := orig[e.rel]
		if had && o.kind == e.kind {
			same, err := unchanged(vroot, e, o)
			if err != nil {
				return nil, err
			}
			if same {
				continue
			}
		}
		switch e.kind {
		case 'l':
			if escapes(e.rel, e.target) {
				return nil, fmt.Errorf("%s is a symbolic link to %q, which leads out of the mount", e.rel, e.target)
			}
		case 'f':
			if e.size > MaxWriteBackFile {
				return nil, fmt.Errorf("%s: %d bytes is more than the %d a file written back may have", e.rel, e.size, int64(MaxWriteBackFile))
			}
		}
		checkHost(e.rel)
		if had && (o.kind == 'd') != (e.kind == 'd') {
			retyped[e.rel] = true
		}
		if underAny(e.rel, retyped) {
			pl.last = append(pl.last, e)
		} else {
			pl.first = append(pl.first, e)
		}
	}
	for _, o := range p.dirs[i] {
		if seen[o.rel] && !retyped[o.rel] {
			continue
		}
		checkHost(o.rel)
		if o.kind == 'd' {
			if msg := hostAdded(root, o.rel, orig); msg != "" {
				conflicts = append(conflicts, msg)
			}
		}
		pl.removals = append(pl.removals, vEntry{rel: o.rel, kind: o.kind})
	}
	if len(conflicts) > 0 {
		_ = root.Close()
		sort.Strings(conflicts)
		if len(conflicts) > 5 {
			conflicts = append(conflicts[:5], fmt.Sprintf("and %d more", len(conflicts)-5))
		}
		return nil, fmt.Errorf("the host changed what the guest changed: %s", strings.Join(conflicts, "; "))
	}
	// Deepest first, so a directory is empty when it goes.
	sort.SliceStable(pl.removals, func(a, b int) bool { return pl.removals[a].rel > pl.removals[b].rel })
	return pl, nil
}

// underAny reports whether rel or one of its ancestors is in set.
func underAny(rel string, set map[string]bool) bool {
	for d := rel; d != "."; d = path.Dir(d) {
		if set[d] {
			return true
		}
	}
	return false
}

// escapes reports whether a symbolic link at rel with target leads out of
// the mount root (or is absolute, which on the host would mean anywhere).
func escapes(rel, target string) bool {
	if target == "" || path.IsAbs(target) || filepath.IsAbs(target) || strings.ContainsRune(target, '\\') {
		return true
	}
	j := path.Join(path.Dir(rel), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

// walkVFS lists the guest's tree below vdir, parents first.
func walkVFS(vroot *vfs.OFD, vdir, rel string, out *[]vEntry) error {
	dpath := vdir
	if rel != "" {
		dpath = vdir + "/" + rel
	}
	d, err := vroot.OpenAt(0, dpath, vfs.OpenDirectory, vfs.Read)
	if err != nil {
		return err
	}
	ents, err := d.ReadDirectory()
	_ = d.DecRef()
	if err != nil {
		return err
	}
	sort.Slice(ents, func(a, b int) bool { return ents[a].Name < ents[b].Name })
	for _, e := range ents {
		r := e.Name
		if rel != "" {
			r = rel + "/" + e.Name
		}
		v := vEntry{rel: r, vpath: vdir + "/" + r}
		switch e.Type {
		case vfs.TypeDirectory:
			v.kind = 'd'
			*out = append(*out, v)
			if err := walkVFS(vroot, vdir, r, out); err != nil {
				return err
			}
			continue
		case vfs.TypeSymbolicLink:
			v.kind = 'l'
			if v.target, err = vroot.ReadlinkAt(v.vpath); err != nil {
				return err
			}
		case vfs.TypeRegularFile:
			v.kind = 'f'
			st, err := vroot.StatAt(0, v.vpath)
			if err != nil {
				return err
			}
			v.size = int64(st.Size)
		default:
			continue
		}
		*out = append(*out, v)
	}
	return nil
}

// unchanged reports whether the guest's entry e is still what was copied
// in as o (same kind).
func unchanged(vroot *vfs.OFD, e vEntry, o treeEntry) (bool, error) {
	switch e.kind {
	case 'd':
		return true, nil
	case 'l':
		return e.target == string(o.data), nil
	}
	if e.size != int64(len(o.data)) {
		return false, nil
	}
	f, err := vroot.OpenAt(0, e.vpath, 0, vfs.Read)
	if err != nil {
		return false, err
	}
	defer func() { _ = f.DecRef() }()
	buf := make([]byte, min(writeBlock, max(e.size, 1)))
	for off := int64(0); off < e.size; off += int64(len(buf)) {
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if !bytes.Equal(buf[:n], o.data[off:off+int64(n)]) {
			return false, nil
		}
	}
	return true, nil
}

// hostChanged says how the host entry at rel differs from what was
// copied in ("" when it does not).
func hostChanged(root *os.Root, rel string, orig map[string]treeEntry) string {
	o, had := orig[rel]
	st, err := root.Lstat(filepath.FromSlash(rel))
	if errors.Is(err, fs.ErrNotExist) {
		if had {
			return rel + " was removed on the host"
		}
		return ""
	}
	if err != nil {
		return rel + ": " + err.Error()
	}
	if !had {
		return rel + " was created on the host"
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		t, err := root.Readlink(filepath.FromSlash(rel))
		if err == nil && o.kind == 'l' && t == string(o.data) {
			return ""
		}
	case st.IsDir():
		if o.kind == 'd' {
			return ""
		}
	case st.Mode().IsRegular():
		if o.kind == 'f' && st.Size() == int64(len(o.data)) {
			b, err := root.ReadFile(filepath.FromSlash(rel))
			if err == nil && bytes.Equal(b, o.data) {
				return ""
			}
		}
	}
	return rel + " was changed on the host"
}

// hostAdded names an entry of the host directory rel that was not copied
// in ("" when there is none): removing the directory would lose it.
func hostAdded(root *os.Root, rel string, orig map[string]treeEntry) string {
	d, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return ""
	}
	names, _ := d.Readdirnames(-1)
	_ = d.Close()
	for _, n := range names {
		if _, ok := orig[rel+"/"+n]; !ok {
			return rel + "/" + n + " was created on the host"
		}
	}
	return ""
}

// apply carries out a checked plan.
func (pl *plan) apply(rep *WriteBackReport) error {
	defer func() { _ = pl.root.Close() }()
	for _, e := range pl.first {
		if err := pl.write(e); err != nil {
			return err
		}
		rep.Written++
	}
	for _, e := range pl.removals {
		if err := pl.root.Remove(filepath.FromSlash(e.rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		rep.Removed++
	}
	for _, e := range pl.last {
		if err := pl.write(e); err != nil {
			return err
		}
		rep.Written++
	}
	return nil
}

// testHookWrite, when set by a test, runs before each entry is written
// and can fail it.
var testHookWrite func(rel string) error

// tmpSeq names temporary files.
var tmpSeq atomic.Uint64

// write creates or replaces one entry on the host.
func (pl *plan) write(e vEntry) error {
	if testHookWrite != nil {
		if err := testHookWrite(e.rel); err != nil {
			return err
		}
	}
	name := filepath.FromSlash(e.rel)
	switch e.kind {
	case 'd':
		st, err := pl.root.Lstat(name)
		if err == nil && st.IsDir() {
			return nil
		}
		return pl.root.Mkdir(name, 0o755)
	case 'l':
		tmp := pl.tmpName(e.rel)
		if err := pl.root.Symlink(e.target, tmp); err != nil {
			return err
		}
		if err := pl.root.Rename(tmp, name); err != nil {
			_ = pl.root.Remove(tmp)
			return err
		}
		return nil
	}
	mode := fs.FileMode(0o644)
	if st, err := pl.root.Lstat(name); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	tmp := pl.tmpName(e.rel)
	f, err := pl.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = pl.copyFile(f, e)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = pl.root.Rename(tmp, name)
	}
	if err != nil {
		_ = pl.root.Remove(tmp)
		return fmt.Errorf("%s: %w", e.rel, err)
	}
	return nil
}

// copyFile writes the guest's file to f, leaving holes for zero blocks.
func (pl *plan) copyFile(f *os.File, e vEntry) error {
	src, err := pl.vroot.OpenAt(0, e.vpath, 0, vfs.Read)
	if err != nil {
		return err
	}
	defer func() { _ = src.DecRef() }()
	buf := make([]byte, min(writeBlock, max(e.size, 1)))
	for off := int64(0); off < e.size; {
		n, err := src.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if n == 0 {
			break
		}
		if !allZero(buf[:n]) {
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
	}
	return f.Truncate(e.size)
}

// zeros is a block of zero bytes to compare blocks with.
var zeros = make([]byte, writeBlock)

func allZero(b []byte) bool { return bytes.Equal(b, zeros[:len(b)]) }

// tmpName is a name for a temporary entry next to rel.
func (pl *plan) tmpName(rel string) string {
	dir, base := path.Split(rel)
	return filepath.FromSlash(fmt.Sprintf("%s.%s.wasisim-%d-%d.tmp", dir, base, os.Getpid(), tmpSeq.Add(1)))
}
