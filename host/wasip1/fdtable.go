package wasip1

import (
	"time"

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

type fdKind uint8

const (
	kindStdin fdKind = iota
	kindStdout
	kindStderr
	kindFile
	kindDir
	kindSocket
)

// fdEntry is one slot of a guest's descriptor table. It holds exactly one
// reference on its vfs OFD or vnet socket; closing the fd (fd_close, the
// target of fd_renumber, or process exit) drops that reference, so the
// object's release — its locks, its port — happens when the last holder
// anywhere in the world lets go (package doc). Preview 1 has no dup,
// so no two slots share an entry.
type fdEntry struct {
	kind  fdKind
	ofd   *vfs.OFD
	sock  *vnet.TCPSocket
	pos   int64  // file offset (files only)
	flags uint16 // fdflags
	// base and inh are the reported rights; dropped are the rights the
	// guest removed with fd_fdstat_set_rights, which are then refused.
	base, inh, dropped uint64
	preopen            string // the guest path of a preopened directory
	dirSnap            []vfs.DirEntry

	// socket options kept by the host.
	sockErr            Errno
	rcvTimeo, sndTimeo time.Duration
	reuseAddr          bool
	broadcast          bool
}

func (e *fdEntry) release() {
	switch {
	case e.ofd != nil:
		_ = e.ofd.DecRef()
	case e.sock != nil:
		_ = e.sock.DecRef()
	}
}

func (e *fdEntry) filetype() uint8 {
	switch e.kind {
	case kindStdin, kindStdout, kindStderr:
		return filetypeCharacterDevice
	case kindSocket:
		return filetypeSocketStream
	}
	return fileType(e.ofd.Type())
}

// need checks that the guest did not drop right r.
func (e *fdEntry) need(r uint64) Errno {
	if e.dropped&r != 0 {
		return ENOTCAPABLE
	}
	return ESUCCESS
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

type fdTable struct {
	fds  []*fdEntry
	free int // lowest index that may be free
}

func (t *fdTable) put(e *fdEntry) (uint32, Errno) {
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

func (t *fdTable) get(fd uint32) (*fdEntry, Errno) {
	if uint64(fd) >= uint64(len(t.fds)) || t.fds[fd] == nil {
		return nil, EBADF
	}
	return t.fds[fd], ESUCCESS
}

func (t *fdTable) remove(fd uint32) *fdEntry {
	e := t.fds[fd]
	t.fds[fd] = nil
	if int(fd) < t.free {
		t.free = int(fd)
	}
	return e
}
