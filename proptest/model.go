package proptest

import (
	"sort"
	"strings"

	"github.com/wasisim/wasisim/vfs"
)

// Model is a small, obviously-correct reference for vfs: a tree of
// map-based directories, byte slices and link targets, with open
// descriptions that count as references and hold flock-style locks. The
// vfs-vs-model suite runs the same operations on both and requires equal
// results (error codes) and equal trees after every step. It covers the
// paths the suite generates (relative names without "." or ".."), with
// symbolic links resolved component by component relative to the
// directory holding them, as vfs and WASI do.
type Model struct {
	Root *MNode
	live []*MNode // every inode, for usage
}

// MNode is an inode of the model.
type MNode struct {
	Type   vfs.DescType
	Data   []byte // files: bytes held (the rest up to Size reads as zeros); links: the target
	Size   int64
	Ents   map[string]*MNode
	Links  int
	Opens  int
	Parent *MNode
	Locks  map[*MOFD]vfs.LockKind
}

// MOFD is an open file description of the model.
type MOFD struct {
	Node  *MNode
	Flags vfs.DescFlags
	Lock  vfs.LockKind
	Open  bool
}

// NewModel makes a model with an empty root.
func NewModel() *Model {
	r := &MNode{Type: vfs.TypeDirectory, Ents: map[string]*MNode{}, Links: 1}
	return &Model{Root: r, live: []*MNode{r}}
}

func (m *Model) newNode(t vfs.DescType) *MNode {
	n := &MNode{Type: t}
	if t == vfs.TypeDirectory {
		n.Ents = map[string]*MNode{}
	}
	m.live = append(m.live, n)
	return n
}

func (m *Model) link(dir *MNode, name string, n *MNode) {
	dir.Ents[name] = n
	n.Links++
	if n.Type == vfs.TypeDirectory {
		n.Parent = dir
	}
}

func (m *Model) unlink(dir *MNode, name string, n *MNode) {
	delete(dir.Ents, name)
	n.Links--
	if n.Type == vfs.TypeDirectory {
		n.Links = 0
		n.Parent = nil
	}
}

type mlookup struct {
	dir  *MNode
	name string
	node *MNode
}

// resolve follows the vfs rules for the paths the suite makes.
func (m *Model) resolve(p string, follow bool) (mlookup, error) {
	if p == "" {
		return mlookup{}, vfs.ErrNoEntry
	}
	stack := []*MNode{m.Root}
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
		child := top.Ents[comp]
		if child == nil {
			if last {
				return mlookup{dir: top, name: comp}, nil
			}
			return mlookup{}, vfs.ErrNoEntry
		}
		switch child.Type {
		case vfs.TypeSymbolicLink:
			if last && !follow {
				return mlookup{dir: top, name: comp, node: child}, nil
			}
			hops++
			if hops > vfs.MaxSymlinkHops {
				return mlookup{}, vfs.ErrLoop
			}
			s = string(child.Data) + rest
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

func (m *Model) newOFD(n *MNode, f vfs.DescFlags) *MOFD {
	n.Opens++
	return &MOFD{Node: n, Flags: f, Open: true}
}

// OpenAt is vfs OFD.OpenAt on the root (which has mutate-directory).
func (m *Model) OpenAt(pf vfs.PathFlags, path string, of vfs.OpenFlags, df vfs.DescFlags) (*MOFD, error) {
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
	case n.Type == vfs.TypeSymbolicLink && of&vfs.OpenDirectory != 0:
		return nil, vfs.ErrNotDirectory // O_DIRECTORY before O_NOFOLLOW
	case n.Type == vfs.TypeSymbolicLink:
		return nil, vfs.ErrLoop
	case n.Type == vfs.TypeDirectory:
		if df&vfs.Write != 0 {
			return nil, vfs.ErrIsDirectory
		}
	default:
		if of&vfs.OpenDirectory != 0 {
			return nil, vfs.ErrNotDirectory
		}
		if of&vfs.OpenTruncate != 0 {
			n.Data, n.Size = nil, 0
		}
	}
	if n.Type != vfs.TypeDirectory {
		df &^= vfs.MutateDirectory
	}
	return m.newOFD(n, df), nil
}

func (o *MOFD) writable() error {
	if o.Node.Type == vfs.TypeDirectory {
		return vfs.ErrIsDirectory
	}
	if o.Flags&vfs.Write == 0 {
		return vfs.ErrBadDescriptor
	}
	return nil
}

// WriteAt is vfs OFD.WriteAt.
func (o *MOFD) WriteAt(p []byte, off int64) error {
	if err := o.writable(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	n := o.Node
	end := off + int64(len(p))
	if end > int64(len(n.Data)) {
		grown := make([]byte, end)
		copy(grown, n.Data)
		n.Data = grown
	}
	copy(n.Data[off:], p)
	n.Size = max(n.Size, end)
	return nil
}

// Append is vfs OFD.Append.
func (o *MOFD) Append(p []byte) error {
	if err := o.writable(); err != nil {
		return err
	}
	return o.WriteAt(p, o.Node.Size)
}

// SetSize is vfs OFD.SetSize.
func (o *MOFD) SetSize(size int64) error {
	if err := o.writable(); err != nil {
		return err
	}
	n := o.Node
	if size < int64(len(n.Data)) {
		n.Data = n.Data[:size:size]
	}
	n.Size = size
	return nil
}

// Content is the file's bytes as a read sees them.
func (n *MNode) Content() []byte {
	b := make([]byte, n.Size)
	copy(b, n.Data)
	return b
}

// UnlinkFileAt is vfs OFD.UnlinkFileAt on the root.
func (m *Model) UnlinkFileAt(path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	switch {
	case lk.node == nil:
		return vfs.ErrNoEntry
	case lk.node.Type == vfs.TypeDirectory:
		return vfs.ErrIsDirectory
	}
	m.unlink(lk.dir, lk.name, lk.node)
	return nil
}

// CreateDirectoryAt is vfs OFD.CreateDirectoryAt on the root.
func (m *Model) CreateDirectoryAt(path string) error {
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

// RemoveDirectoryAt is vfs OFD.RemoveDirectoryAt on the root.
func (m *Model) RemoveDirectoryAt(path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	n := lk.node
	switch {
	case n == nil:
		return vfs.ErrNoEntry
	case n.Type != vfs.TypeDirectory:
		return vfs.ErrNotDirectory
	case len(n.Ents) > 0:
		return vfs.ErrNotEmpty
	}
	m.unlink(lk.dir, lk.name, n)
	return nil
}

// RenameAt is vfs OFD.RenameAt with both bases the root.
func (m *Model) RenameAt(oldPath, newPath string) error {
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
	if n.Type == vfs.TypeDirectory {
		for d := to.dir; d != nil; d = d.Parent {
			if d == n {
				return vfs.ErrInvalid
			}
		}
	}
	if t := to.node; t != nil && t.Type == vfs.TypeDirectory {
		for d := from.dir; d != nil; d = d.Parent {
			if d == t {
				return vfs.ErrNotEmpty // onto a directory that contains the source
			}
		}
	}
	if n == to.node {
		return nil
	}
	if t := to.node; t != nil {
		if n.Type == vfs.TypeDirectory {
			if t.Type != vfs.TypeDirectory {
				return vfs.ErrNotDirectory
			}
			if len(t.Ents) > 0 {
				return vfs.ErrNotEmpty
			}
		} else if t.Type == vfs.TypeDirectory {
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

// LinkAt is vfs OFD.LinkAt with both bases the root.
func (m *Model) LinkAt(pf vfs.PathFlags, oldPath, newPath string) error {
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
	if n.Type == vfs.TypeDirectory {
		return vfs.ErrNotPermitted
	}
	m.link(to.dir, to.name, n)
	return nil
}

// SymlinkAt is vfs OFD.SymlinkAt on the root.
func (m *Model) SymlinkAt(target, path string) error {
	lk, err := m.resolve(path, false)
	if err != nil {
		return err
	}
	if lk.node != nil {
		return vfs.ErrExist
	}
	n := m.newNode(vfs.TypeSymbolicLink)
	n.Data = []byte(target)
	n.Size = int64(len(target))
	m.link(lk.dir, lk.name, n)
	return nil
}

// ReadDirectory is vfs OFD.ReadDirectory: sorted entries.
func (o *MOFD) ReadDirectory() ([]vfs.DirEntry, error) {
	if o.Node.Type != vfs.TypeDirectory {
		return nil, vfs.ErrNotDirectory
	}
	if o.Node.Links == 0 {
		return nil, vfs.ErrNoEntry // a removed directory (getdents: ENOENT)
	}
	return o.Node.entries(), nil
}

func (n *MNode) entries() []vfs.DirEntry {
	out := []vfs.DirEntry{}
	for name, c := range n.Ents {
		out = append(out, vfs.DirEntry{Name: name, Type: c.Type})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TryLock is vfs OFD.TryLock (flock rules; a failed upgrade keeps the
// shared lock).
func (o *MOFD) TryLock(kind vfs.LockKind) error {
	if o.Lock == kind {
		return nil
	}
	n := o.Node
	for other, k := range n.Locks {
		if other != o && (kind == vfs.LockExclusive || k == vfs.LockExclusive) {
			return vfs.ErrWouldBlock
		}
	}
	if n.Locks == nil {
		n.Locks = map[*MOFD]vfs.LockKind{}
	}
	n.Locks[o] = kind
	o.Lock = kind
	return nil
}

// Unlock releases o's lock.
func (o *MOFD) Unlock() {
	delete(o.Node.Locks, o)
	o.Lock = vfs.LockNone
}

// Close drops the (only) reference: locks go, and an unlinked inode with
// no other open description is freed.
func (o *MOFD) Close() {
	o.Unlock()
	o.Open = false
	o.Node.Opens--
}

// Usage is what vfs FS.Usage should report.
func (m *Model) Usage() vfs.Usage {
	var u vfs.Usage
	for _, n := range m.live {
		if n.Links == 0 && n.Opens == 0 && n != m.Root {
			continue
		}
		u.Inodes++
		u.Bytes += int64(len(n.Data))
	}
	return u
}

// LinkCount is what stat reports for n.
func (n *MNode) LinkCount() uint64 {
	if n.Type == vfs.TypeDirectory {
		if n.Links == 0 {
			return 0
		}
		sub := 0
		for _, c := range n.Ents {
			if c.Type == vfs.TypeDirectory {
				sub++
			}
		}
		return uint64(2 + sub)
	}
	return uint64(n.Links)
}
