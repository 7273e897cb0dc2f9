package wasip1

import (
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasisim/wasisim/internal/refs"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// Rights bits (witx `rights`).
const (
	rightFdDatasync uint64 = 1 << iota
	rightFdRead
	rightFdSeek
	rightFdFdstatSetFlags
	rightFdSync
	rightFdTell
	rightFdWrite
	rightFdAdvise
	rightFdAllocate
	rightPathCreateDirectory
	rightPathCreateFile
	rightPathLinkSource
	rightPathLinkTarget
	rightPathOpen
	rightFdReaddir
	rightPathReadlink
	rightPathRenameSource
	rightPathRenameTarget
	rightPathFilestatGet
	rightPathFilestatSetSize
	rightPathFilestatSetTimes
	rightFdFilestatGet
	rightFdFilestatSetSize
	rightFdFilestatSetTimes
	rightPathSymlink
	rightPathRemoveDirectory
	rightPathUnlinkFile
	rightPollFdReadwrite
	rightSockShutdown
	rightSockAccept
	allRights = 1<<30 - 1
)

// The rights each kind of descriptor can have.
const (
	fileRights = rightFdDatasync | rightFdRead | rightFdSeek | rightFdFdstatSetFlags | rightFdSync |
		rightFdTell | rightFdWrite | rightFdAdvise | rightFdAllocate | rightFdFilestatGet |
		rightFdFilestatSetSize | rightFdFilestatSetTimes | rightPollFdReadwrite
	dirRights = rightFdFdstatSetFlags | rightFdSync | rightFdAdvise | rightPathCreateDirectory |
		rightPathCreateFile | rightPathLinkSource | rightPathLinkTarget | rightPathOpen |
		rightFdReaddir | rightPathReadlink | rightPathRenameSource | rightPathRenameTarget |
		rightPathFilestatGet | rightPathFilestatSetSize | rightPathFilestatSetTimes |
		rightFdFilestatGet | rightFdFilestatSetTimes | rightPathSymlink |
		rightPathRemoveDirectory | rightPathUnlinkFile
	sockRights = rightFdRead | rightFdWrite | rightFdFdstatSetFlags | rightFdFilestatGet |
		rightPollFdReadwrite | rightSockShutdown | rightSockAccept
	stdinRights  = rightFdRead | rightFdFdstatSetFlags | rightFdFilestatGet | rightPollFdReadwrite
	stdoutRights = rightFdWrite | rightFdFdstatSetFlags | rightFdFilestatGet | rightPollFdReadwrite
)

// fdflags bits.
const (
	fdflagAppend   uint16 = 1
	fdflagDsync    uint16 = 2
	fdflagNonblock uint16 = 4
	fdflagRsync    uint16 = 8
	fdflagSync     uint16 = 16
)

// filetype values.
const (
	filetypeUnknown         uint8 = 0
	filetypeBlockDevice     uint8 = 1
	filetypeCharacterDevice uint8 = 2
	filetypeDirectory       uint8 = 3
	filetypeRegularFile     uint8 = 4
	filetypeSocketDgram     uint8 = 5
	filetypeSocketStream    uint8 = 6
	filetypeSymbolicLink    uint8 = 7
)

// fdEntry is one slot of a guest's descriptor table: a descriptor of one
// of four kinds, each its own type — stdioFD, fileFD, dirFD, sockFD — so
// that a call takes the kind it works on with a type switch. A kind that
// refers to a shared object (a vfs open file description, a vnet socket)
// holds exactly one reference on it through package refs (fdRef); closing
// the fd (fd_close, the target of fd_renumber, or process exit) gives it
// back, so the object's release — its locks, its port — happens when the
// last holder anywhere in the world lets go (docs/semantics.md §1). Preview 1
// has no dup, so no two slots share an entry.
type fdEntry interface {
	// state is what every kind has: fdflags and rights.
	state() *fdState
	// filetype is the filetype fd_fdstat_get and fd_filestat_get report.
	filetype() uint8
	// close gives back the entry's reference, if it holds one.
	close()
}

// fdState is what every descriptor has, whatever its kind.
type fdState struct {
	flags uint16 // fdflags
	// base and inh are the reported rights; dropped are the rights the
	// guest removed with fd_fdstat_set_rights, which are then refused.
	base, inh, dropped uint64
}

func (s *fdState) state() *fdState { return s }

// need checks that the guest did not drop right r.
func (s *fdState) need(r uint64) Errno {
	if s.dropped&r != 0 {
		return ENOTCAPABLE
	}
	return ESUCCESS
}

// stdioFD is fd 0, 1 or 2: the guest's stdin, stdout or stderr. It holds
// no reference.
type stdioFD struct {
	fdState
	stream uint32 // 0 stdin, 1 stdout, 2 stderr
}

func (*stdioFD) filetype() uint8 { return filetypeCharacterDevice }
func (*stdioFD) close()          {}

// ofdFD is what file and directory descriptors share: one reference on a
// vfs open file description.
type ofdFD struct {
	fdState
	ofd *vfs.OFD
	ref *fdRef
}

func (d *ofdFD) filetype() uint8 { return fileType(d.ofd.Type()) }
func (d *ofdFD) close()          { d.ref.Release() }

// fileFD is an open file that is not a directory, with the file offset
// that preview 1 keeps per descriptor (vfs OFDs are offset-free).
type fileFD struct {
	ofdFD
	pos int64
}

// dirFD is an open directory, possibly a preopen.
type dirFD struct {
	ofdFD
	preopen string         // the guest path of a preopened directory, else ""
	snap    []vfs.DirEntry // the listing fd_readdir continues (cookie > 0)
}

// sockFD is a TCP socket: one reference on a vnet socket, and the socket
// options the host keeps itself.
type sockFD struct {
	fdState
	sock               *vnet.TCPSocket
	ref                *fdRef
	sockErr            Errno // SO_ERROR, cleared by reading it
	rcvTimeo, sndTimeo time.Duration
	reuseAddr          bool
	broadcast          bool
}

func (*sockFD) filetype() uint8 { return filetypeSocketStream }
func (s *sockFD) close()        { s.ref.Release() }

// fdRef is the reference a descriptor holds, through the one mechanism of
// package refs that host's handles, streams and futures use too.
type fdRef = refs.Ref[fdHolder]

// fdHolder names a descriptor in reports: "fd 4 of client#2". It finds
// the fd when formatted, as fd_renumber may move the entry.
type fdHolder struct {
	g  *Guest
	st *fdState
}

func (h fdHolder) String() string {
	name := "guest"
	if h.g.task != nil {
		name = h.g.task.Name()
	}
	for fd, e := range h.g.fds.fds {
		if e != nil && e.state() == h.st {
			return "fd " + strconv.Itoa(fd) + " of " + name
		}
	}
	return "closed fd of " + name
}

// hold makes the entry's reference: it takes over the one the caller has
// on obj (from OpenAt, Accept, NewTCP, or an IncRef for the guest).
func (g *Guest) hold(obj refs.Object, st *fdState) *fdRef {
	return refs.Adopt(obj, obj.String(), fdHolder{g: g, st: st}).First()
}

// newOFDEntry makes the entry of an OFD (its reference is the entry's):
// a dirFD for a directory, else a fileFD.
func (g *Guest) newOFDEntry(ofd *vfs.OFD, st fdState, preopen string) fdEntry {
	o := ofdFD{fdState: st, ofd: ofd}
	var e fdEntry
	if ofd.Type() == vfs.TypeDirectory {
		d := &dirFD{ofdFD: o, preopen: preopen}
		d.ref = g.hold(ofd, &d.fdState)
		e = d
	} else {
		f := &fileFD{ofdFD: o}
		f.ref = g.hold(ofd, &f.fdState)
		e = f
	}
	return e
}

// newSockFD makes the entry of a socket (its reference is the entry's).
func (g *Guest) newSockFD(s *vnet.TCPSocket, st fdState) *sockFD {
	e := &sockFD{fdState: st, sock: s}
	e.ref = g.hold(s, &e.fdState)
	return e
}

// install puts a new entry at the lowest free fd and writes the fd to
// resPtr. When the table is full the entry is closed, giving its reference
// back.
func (g *Guest) install(m api.Memory, e fdEntry, resPtr uint32) Errno {
	fd, errno := g.fds.put(e)
	if errno != ESUCCESS {
		e.close()
		return errno
	}
	return putU32(m, resPtr, fd)
}

// leaks lists the descriptors still open, with their holders (the run's
// leak check: a guest closes every descriptor when it ends).
func (g *Guest) leaks() []string {
	var out []string
	for _, e := range g.fds.fds {
		var r *fdRef
		switch e := e.(type) {
		case *fileFD:
			r = e.ref
		case *dirFD:
			r = e.ref
		case *sockFD:
			r = e.ref
		}
		if r != nil && r.Shared().Held() {
			out = append(out, r.Shared().Name()+" held by "+strings.Join(r.Shared().Holders(), ", "))
		}
	}
	return out
}

func fileType(t vfs.DescType) uint8 {
	switch t {
	case vfs.TypeDirectory:
		return filetypeDirectory
	case vfs.TypeRegularFile:
		return filetypeRegularFile
	case vfs.TypeSymbolicLink:
		return filetypeSymbolicLink
	case vfs.TypeBlockDevice:
		return filetypeBlockDevice
	case vfs.TypeCharacterDevice:
		return filetypeCharacterDevice
	case vfs.TypeSocket:
		return filetypeSocketStream
	}
	return filetypeUnknown
}

// maxFDs bounds a guest's descriptor table (EMFILE beyond).
const maxFDs = 1 << 16

// fdTable is a guest's descriptor table: preview 1 reuses the lowest free
// fd, unlike component handles.
type fdTable struct {
	fds  []fdEntry
	free int // lowest index that may be free
}

// put stores e at the lowest free fd.
func (t *fdTable) put(e fdEntry) (uint32, Errno) {
	for i := t.free; i < len(t.fds); i++ {
		if t.fds[i] == nil {
			t.fds[i] = e
			t.free = i + 1
			return uint32(i), ESUCCESS
		}
	}
	if len(t.fds) >= maxFDs {
		return 0, EMFILE
	}
	t.fds = append(t.fds, e)
	t.free = len(t.fds)
	return uint32(len(t.fds) - 1), ESUCCESS
}

// get is the entry at fd (EBADF if none).
func (t *fdTable) get(fd uint32) (fdEntry, Errno) {
	if uint64(fd) >= uint64(len(t.fds)) || t.fds[fd] == nil {
		return nil, EBADF
	}
	return t.fds[fd], ESUCCESS
}

// remove empties fd and returns its entry, which the caller closes.
func (t *fdTable) remove(fd uint32) fdEntry {
	e := t.fds[fd]
	t.fds[fd] = nil
	if int(fd) < t.free {
		t.free = int(fd)
	}
	return e
}
