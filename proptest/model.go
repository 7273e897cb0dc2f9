package proptest

import (
	"sort"
	"strings"

	"github.com/wasisim/wasisim/vfs"
)

// model is a small, obviously-correct reference for vfs: a tree of
// map-based directories, byte slices and link targets, with open
// descriptions that count as references and hold flock-style locks. The
// vfs-vs-model suite runs the same operations on both and requires equal
// results (error codes) and equal trees after every step. It covers the
// paths the suite generates (relative names without "." or ".."), with
// symbolic links resolved component by component relative to the
// directory holding them, as vfs and WASI do.
type model struct {
	model *modelNode
	live  []*modelNode // every inode, for usage
}

// modelNode is an inode of the model.
type modelNode struct {
	typ    vfs.DescType
	data   []byte // files: bytes held (the rest up to Size reads as zeros); links: the target
	size   int64
	ents   map[string]*modelNode
	links  int
	opens  int
	parent *modelNode
	locks  map[*modelOFD]vfs.LockKind
}

// modelOFD is an open file description of the model.
type modelOFD struct {
	node  *modelNode
	flags vfs.DescFlags
	lock  vfs.LockKind
	open  bool
}

// newModel makes a model with an empty root.
func newModel() *model {
	r := &modelNode{typ: vfs.TypeDirectory, ents: map[string]*modelNode{}, links: 1}
	return &model{model: r, live: []*modelNode{r}}
}

func (m *model) newNode(t vfs.DescType) *modelNode {
	n := &modelNode{typ: t}
	if t == vfs.TypeDirectory {
		n.ents = map[string]*modelNode{}
	}
	m.live = append(m.live, n)
	return n
}

func (m *model) link(dir *modelNode, name string, n *modelNode) {
	dir.ents[name] = n
	n.links++
	if n.typ == vfs.TypeDirectory {
		n.parent = dir
	}
}

func (m *model) unlink(dir *modelNode, name string, n *modelNode) {
	delete(dir.ents, name)
	n.links--
	if n.typ == vfs.TypeDirectory {
		n.links = 0
		n.parent = nil
	}
}

type mlookup struct {
	dir  *modelNode
	name string
	node *modelNode
}

// resolve follows the vfs rules for the paths the suite makes.
func (m *model) resolve(p string, follow bool) (mlookup, error) {
	if p == "" {
		return mlookup{}, vfs.ErrNoEntry
	}
	stack := []*modelNode{m.model}
	hops := 0
	s := p
	for {
		s = strings.TrimLeft(s, "/")
		comp, rest, _ := strings.Cut(s, "/")
		if rest != "" || strings.HasSuffix(s, "/") {
			rest = "/" + rest
		}
		last := strings.Trim(rest, "/") == ""
		top := stack[len(stack)-1]
		child := top.ents[comp]
		if child == nil {
			if last {
				return mlookup{dir: top, name: comp}, nil
			}
			return mlookup{}, vfs.ErrNoEntry
		}
		switch child.typ {
		case vfs.TypeSymbolicLink:
			if last && !follow {
				return mlookup{dir: top, name: comp, node: child}, nil
			}
			hops++
			if hops > vfs.MaxSymlinkHops {
				return mlookup{}, vfs.ErrLoop
			}
			s = string(child.data) + rest
		case vfs.TypeDirectory:
			if last {
				return mlookup{dir: top, name: comp, node: child}, nil
			}
			stack = append(stack, child)
			s = rest
		default:
			if last {
				return mlookup{dir: top, name: comp, node: child}, nil
			}
			return mlookup{}, vfs.ErrNotDirectory
		}
	}
}

func (m *model) newOFD(n *modelNode, f vfs.DescFlags) *modelOFD {
	n.opens++
	return &modelOFD{node: n, flags: f, open: true}
}

// openAt is vfs OFD.openAt on the root (which has mutate-directory).
func (m *model) openAt(pf vfs.PathFlags, path string, of vfs.OpenFlags, df vfs.DescFlags) (*modelOFD, error) {
	if of&vfs.OpenDirectory != 0 && of&(vfs.OpenCreate|vfs.OpenExclusive|vfs.OpenTruncate) != 0 {
		return nil, vfs.ErrInvalid
	}
	if df&vfs.Write == 0 {
		df |= vfs.Read
	}
	if of&(vfs.OpenCreate|vfs.OpenTruncate) != 0 {
		df |= vfs.Write
	}
	excl := of&vfs.OpenCreate != 0 && of&vfs.OpenExclusive != 0
	lk, err := m.resolve(path, pf&vfs.SymlinkFollow != 0 && !excl)
	if err != nil {
		return nil, err
	}
	n := lk.node
	switch {
	case n == nil:
		if of&vfs.OpenCreate == 0 {
			return nil, vfs.ErrNoEntry
		}
		n = m.newNode(vfs.TypeRegularFile)
		m.link(lk.dir, lk.name, n)
	case excl:
		return nil, vfs.ErrExist
	case n.typ == vfs.TypeSymbolicLink && of&vfs.OpenDirectory != 0:
		return nil, vfs.ErrNotDirectory // O_DIRECTORY before O_NOFOLLOW
	case n.typ == vfs.TypeSymbolicLink:
		return nil, vfs.ErrLoop
	case n.typ == vfs.TypeDirectory:
		if df&vfs.Write != 0 {
			return nil, vfs.ErrIsDirectory
		}
	default:
		if of&vfs.OpenDirectory != 0 {
			return nil, vfs.ErrNotDirectory
		}
		if of&vfs.OpenTruncate != 0 {
			n.data, n.size = nil, 0
		}
	}
	if n.typ != vfs.TypeDirectory {
		df &^= vfs.MutateDirectory
	}
	return m.newOFD(n, df), nil
}

func (o *modelOFD) writable() error {
	if o.node.typ == vfs.TypeDirectory {
		return vfs.ErrIsDirectory
	}
	if o.flags&vfs.Write == 0 {
		return vfs.ErrBadDescriptor
	}
	return nil
}

// writeAt is vfs OFD.writeAt.
func (o *modelOFD) writeAt(p []byte, off int64) error {
	if err := o.writable(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	n := o.node
	end := off + int64(len(p))
	if end > int64(len(n.data)) {
		grown := make([]byte, end)
		copy(grown, n.data)
		n.data = grown
	}
	copy(n.data[off:], p)
	n.size = max(n.size, end)
	return nil
}

// append is vfs OFD.append.
func (o *modelOFD) append(p []byte) error {
	if err := o.writable(); err != nil {
		return err
	}
	return o.writeAt(p, o.node.size)
}

// setSize is vfs OFD.setSize.
func (o *modelOFD) setSize(size int64) error {
	if err := o.writable(); err != nil {
		return err
	}
	n := o.node
	if size < int64(len(n.data)) {
		n.data = n.data[:size:size]
	}
	n.size = size
	return nil
}

// content is the file's bytes as a read sees them.
func (n *modelNode) content() []byte {
	b := make([]byte, n.size)
	copy(b, n.data)
	return b
}

// unlinkFileAt is vfs OFD.unlinkFileAt on the root.
func (m *model) unlinkFileAt(path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	switch {
	case lk.node == nil:
		return vfs.ErrNoEntry
	case lk.node.typ == vfs.TypeDirectory:
		return vfs.ErrIsDirectory
	}
	m.unlink(lk.dir, lk.name, lk.node)
	return nil
}

// createDirectoryAt is vfs OFD.createDirectoryAt on the root.
func (m *model) createDirectoryAt(path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	if lk.node != nil {
		return vfs.ErrExist
	}
	m.link(lk.dir, lk.name, m.newNode(vfs.TypeDirectory))
	return nil
}

// removeDirectoryAt is vfs OFD.removeDirectoryAt on the root.
func (m *model) removeDirectoryAt(path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	n := lk.node
	switch {
	case n == nil:
		return vfs.ErrNoEntry
	case n.typ != vfs.TypeDirectory:
		return vfs.ErrNotDirectory
	case len(n.ents) > 0:
		return vfs.ErrNotEmpty
	}
	m.unlink(lk.dir, lk.name, n)
	return nil
}

// renameAt is vfs OFD.renameAt with both bases the root.
func (m *model) renameAt(oldPath, newPath string) error {
	from, err := m.resolve(oldPath, false)
	if err != nil {
		return err
	}
	to, err := m.resolve(newPath, false)
	if err != nil {
		return err
	}
	n := from.node
	if n == nil {
		return vfs.ErrNoEntry
	}
	// Linux's order: a directory into its own subtree is refused first.
	if n.typ == vfs.TypeDirectory {
		for d := to.dir; d != nil; d = d.parent {
			if d == n {
				return vfs.ErrInvalid
			}
		}
	}
	if t := to.node; t != nil && t.typ == vfs.TypeDirectory {
		for d := from.dir; d != nil; d = d.parent {
			if d == t {
				return vfs.ErrNotEmpty // onto a directory that contains the source
			}
		}
	}
	if n == to.node {
		return nil
	}
	if t := to.node; t != nil {
		if n.typ == vfs.TypeDirectory {
			if t.typ != vfs.TypeDirectory {
				return vfs.ErrNotDirectory
			}
			if len(t.ents) > 0 {
				return vfs.ErrNotEmpty
			}
		} else if t.typ == vfs.TypeDirectory {
			return vfs.ErrIsDirectory
		}
	}
	m.unlink(from.dir, from.name, n)
	if t := to.node; t != nil {
		m.unlink(to.dir, to.name, t)
	}
	m.link(to.dir, to.name, n)
	return nil
}

// linkAt is vfs OFD.linkAt with both bases the root.
func (m *model) linkAt(pf vfs.PathFlags, oldPath, newPath string) error {
	from, err := m.resolve(oldPath, pf&vfs.SymlinkFollow != 0)
	if err != nil {
		return err
	}
	n := from.node
	if n == nil {
		return vfs.ErrNoEntry
	}
	to, err := m.resolve(newPath, false)
	if err != nil {
		return err
	}
	// Linux's order: the new name is checked before a directory is refused.
	if to.node != nil {
		return vfs.ErrExist
	}
	if n.typ == vfs.TypeDirectory {
		return vfs.ErrNotPermitted
	}
	m.link(to.dir, to.name, n)
	return nil
}

// symlinkAt is vfs OFD.symlinkAt on the root.
func (m *model) symlinkAt(target, path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	if lk.node != nil {
		return vfs.ErrExist
	}
	n := m.newNode(vfs.TypeSymbolicLink)
	n.data = []byte(target)
	n.size = int64(len(target))
	m.link(lk.dir, lk.name, n)
	return nil
}

// readDirectory is vfs OFD.readDirectory: sorted entries.
func (o *modelOFD) readDirectory() ([]vfs.DirEntry, error) {
	if o.node.typ != vfs.TypeDirectory {
		return nil, vfs.ErrNotDirectory
	}
	if o.node.links == 0 {
		return nil, vfs.ErrNoEntry // a removed directory (getdents: ENOENT)
	}
	return o.node.entries(), nil
}

func (n *modelNode) entries() []vfs.DirEntry {
	out := []vfs.DirEntry{}
	for name, c := range n.ents {
		out = append(out, vfs.DirEntry{Name: name, Type: c.typ})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// tryLock is vfs OFD.tryLock (flock rules; a failed upgrade keeps the
// shared lock).
func (o *modelOFD) tryLock(kind vfs.LockKind) error {
	if o.lock == kind {
		return nil
	}
	n := o.node
	for other, k := range n.locks {
		if other != o && (kind == vfs.LockExclusive || k == vfs.LockExclusive) {
			return vfs.ErrWouldBlock
		}
	}
	if n.locks == nil {
		n.locks = map[*modelOFD]vfs.LockKind{}
	}
	n.locks[o] = kind
	o.lock = kind
	return nil
}

// unlock releases o's lock.
func (o *modelOFD) unlock() {
	delete(o.node.locks, o)
	o.lock = vfs.LockNone
}

// close drops the (only) reference: locks go, and an unlinked inode with
// no other open description is freed.
func (o *modelOFD) close() {
	o.unlock()
	o.open = false
	o.node.opens--
}

// usage is what vfs FS.usage should report.
func (m *model) usage() vfs.Usage {
	var u vfs.Usage
	for _, n := range m.live {
		if n.links == 0 && n.opens == 0 && n != m.model {
			continue
		}
		u.Inodes++
		u.Bytes += int64(len(n.data))
	}
	return u
}

// linkCount is what stat reports for n.
func (n *modelNode) linkCount() uint64 {
	if n.typ == vfs.TypeDirectory {
		if n.links == 0 {
			return 0
		}
		sub := 0
		for _, c := range n.ents {
			if c.typ == vfs.TypeDirectory {
				sub++
			}
		}
		return uint64(2 + sub)
	}
	return uint64(n.links)
}
