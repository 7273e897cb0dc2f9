package host

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/vfs"
)

// descriptor is the object behind a descriptor handle: one reference to an
// open file description.
type descriptor struct {
	handleRef
	ofd *vfs.OFD
}

func (d *descriptor) String() string { return "descriptor " + d.r.Shared().Name() }

// newDescriptor puts a fresh OFD (one reference, from open-at) in the table.
func (in *Instance) newDescriptor(ofd *vfs.OFD) Handle {
	h := Handle(len(in.table) + 1)
	so := in.h.adopt(ofd, "ofd#"+strconv.FormatUint(ofd.ID(), 10), holder{what: "descriptor", inst: in, h: h})
	return in.insert(KindDescriptor, &descriptor{handleRef: handleRef{so.First()}, ofd: ofd})
}

// PreopenDir is one entry of get-directories.
type PreopenDir struct {
	Handle Handle
	Path   string
}

// Preopens is wasi:filesystem/preopens.get-directories: a new descriptor
// handle for each preopened directory. The handles share the host's open
// file descriptions; they are not reported as leaks if never dropped.
func (in *Instance) Preopens() ([]PreopenDir, error) {
	if err := in.check("get-directories"); err != nil {
		return nil, err
	}
	var out []PreopenDir
	for _, p := range in.h.pre {
		h := Handle(len(in.table) + 1)
		r := p.obj.Acquire(holder{what: "descriptor", inst: in, h: h, preopen: p.path})
		in.insert(KindDescriptor, &descriptor{handleRef: handleRef{r}, ofd: p.obj.Object().(*vfs.OFD)})
		out = append(out, PreopenDir{Handle: h, Path: p.path})
	}
	return out, nil
}

// asyncDesc starts an `async func` method on a descriptor: the handle is
// lent for the whole call, which has a scheduling point inside the lend,
// so another task of the instance may try to drop it meanwhile (and trap).
func (in *Instance) asyncDesc(fd Handle, call string) (*descriptor, func(), error) {
	d, end, err := lentSelf[*descriptor](in, fd, KindDescriptor, call)
	if err != nil {
		return nil, nil, err
	}
	in.h.w.Yield()
	// Another task of the instance may have trapped meanwhile: a trapped
	// instance's calls end with it.
	if err := in.check(call); err != nil {
		end()
		return nil, nil, err
	}
	return d, end, nil
}

// syncDesc starts a plain `func` method on a descriptor.
func (in *Instance) syncDesc(fd Handle, call string) (*descriptor, error) {
	return plainSelf[*descriptor](in, fd, KindDescriptor, call)
}

// ReadViaStream is descriptor.read-via-stream(offset): a stream of the
// file's bytes from offset and a future of the result. The stream and the
// future each keep the open file description alive until dropped; reading
// goes on if the descriptor is dropped. On a directory the stream is empty
// and the future err(is-directory); past the end, empty and ok.
func (in *Instance) ReadViaStream(fd Handle, offset uint64) (data, result Handle, err error) {
	const call = "descriptor.read-via-stream"
	d, err := in.syncDesc(fd, call)
	if err != nil {
		return 0, 0, err
	}
	s, f, data, result := output[byte](in, d.r.Shared(), "read-via-stream of "+d.r.Shared().Name())
	if offset > math.MaxInt64 {
		s.dropWriter()
		f.resolve(vfs.ErrInvalid)
		return data, result, nil
	}
	ofd, off := d.ofd, int64(offset)
	buf := make([]byte, in.h.opt.Chunk)
	produce(in, "read-via-stream "+d.r.Shared().Name(), s, f, func() ([]byte, error) {
		n, err := ofd.ReadAt(buf, off)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, io.EOF
		}
		off += int64(n)
		return buf[:n], nil
	}, nil)
	return data, result, nil
}

// WriteViaStream is descriptor.write-via-stream(data, offset). It takes the
// readable end data and consumes it in chunks, writing at offset onward.
//
// Under P3 it returns a future of the result at once; the descriptor may
// be dropped while the write goes on, and every byte still lands. Under
// P3AsyncWrite it returns a subtask handle (await it with Await) and the
// descriptor stays lent until the stream is consumed, so dropping it
// meanwhile traps.
func (in *Instance) WriteViaStream(fd, data Handle, offset uint64) (Handle, error) {
	return in.writeVia(fd, data, int64(min(offset, math.MaxInt64)), false, "descriptor.write-via-stream")
}

// AppendViaStream is descriptor.append-via-stream(data): like
// WriteViaStream, each chunk appended atomically at the current end.
func (in *Instance) AppendViaStream(fd, data Handle) (Handle, error) {
	return in.writeVia(fd, data, 0, true, "descriptor.append-via-stream")
}

func (in *Instance) writeVia(fd, data Handle, off int64, appendMode bool, call string) (Handle, error) {
	d, endLend, err := writerSelf[*descriptor](in, fd, KindDescriptor, call)
	if err != nil {
		return 0, err
	}
	what := call[len("descriptor."):]
	s, f, result, err := in.input(data, call, d.r.Shared(), what+" of "+d.r.Shared().Name(), endLend)
	if err != nil {
		return 0, err
	}
	ofd := d.ofd
	// Errors known at call time.
	switch {
	case ofd.Type() == vfs.TypeDirectory:
		refuse(s, f, vfs.ErrIsDirectory)
		return result, nil
	case ofd.Flags()&vfs.Write == 0 || off < 0:
		refuse(s, f, vfs.ErrBadDescriptor)
		return result, nil
	}
	if in.h.mut.Has(mutation.ResolveWriteEarly) {
		// Mutation: report ok as soon as the guest drops the stream, while
		// the consumer may still hold a chunk it has not written.
		s.whenWriterDropped(func() { f.resolve(nil) })
	}
	in.consume(what+" "+d.r.Shared().Name(), s, f, func(buf []byte) error {
		var n int
		var err error
		if appendMode {
			n, err = ofd.Append(buf)
		} else {
			n, err = ofd.WriteAt(buf, off)
		}
		off += int64(n)
		if in.h.w.Tracing() {
			in.h.w.Event("write", d.r.Shared().Name(), strconv.Itoa(n)+" bytes")
		}
		return err
	}, nil)
	return result, nil
}

// ReadDirectory is descriptor.read-directory: a stream of the directory's
// entries (without . and ..; sorted, or shuffled from the seed if the FS is
// configured so) and a future of the result. Each call starts from the
// beginning; the listing is a snapshot taken at the call.
func (in *Instance) ReadDirectory(fd Handle) (entries, result Handle, err error) {
	const call = "descriptor.read-directory"
	d, err := in.syncDesc(fd, call)
	if err != nil {
		return 0, 0, err
	}
	s, f, entries, result := output[vfs.DirEntry](in, d.r.Shared(), "read-directory of "+d.r.Shared().Name())
	list, lerr := d.ofd.ReadDirectory() // a snapshot at the call
	if lerr == nil {
		lerr = io.EOF
	}
	produce(in, "read-directory "+d.r.Shared().Name(), s, f, func() ([]vfs.DirEntry, error) {
		l := list
		list = nil
		return l, lerr
	}, nil)
	return entries, result, nil
}

// ReadDirEntries reads up to n entries from a read-directory stream.
func (in *Instance) ReadDirEntries(h Handle, n int) ([]vfs.DirEntry, CopyResult, error) {
	if err := startRead[vfs.DirEntry](in, h, n); err != nil {
		return nil, CopyResult{}, err
	}
	return finishRead[vfs.DirEntry](in, h, false)
}

// OpenAt is descriptor.open-at: a new descriptor for a new open file
// description (never shared with the base).
func (in *Instance) OpenAt(fd Handle, pf vfs.PathFlags, path string, of vfs.OpenFlags, df vfs.DescFlags) (Handle, error) {
	d, end, err := in.asyncDesc(fd, "descriptor.open-at")
	if err != nil {
		return 0, err
	}
	defer end()
	ofd, err := d.ofd.OpenAt(pf, path, of, df)
	if err != nil {
		return 0, err
	}
	return in.newDescriptor(ofd), nil
}

// descCall runs a simple async method that returns only an error.
func (in *Instance) descCall(fd Handle, call string, fn func(o *vfs.OFD) error) error {
	d, end, err := in.asyncDesc(fd, "descriptor."+call)
	if err != nil {
		return err
	}
	defer end()
	return in.ended("descriptor."+call, fn(d.ofd)) // a lock may block
}

// Stat is descriptor.stat.
func (in *Instance) Stat(fd Handle) (st vfs.Stat, err error) {
	err = in.descCall(fd, "stat", func(o *vfs.OFD) (e error) { st, e = o.Stat(); return })
	return
}

// StatAt is descriptor.stat-at.
func (in *Instance) StatAt(fd Handle, pf vfs.PathFlags, path string) (st vfs.Stat, err error) {
	err = in.descCall(fd, "stat-at", func(o *vfs.OFD) (e error) { st, e = o.StatAt(pf, path); return })
	return
}

// SetSize is descriptor.set-size.
func (in *Instance) SetSize(fd Handle, size uint64) error {
	return in.descCall(fd, "set-size", func(o *vfs.OFD) error {
		if size > math.MaxInt64 {
			return vfs.ErrFileTooLarge
		}
		return o.SetSize(int64(size))
	})
}

// SetTimes is descriptor.set-times.
func (in *Instance) SetTimes(fd Handle, atime, mtime vfs.NewTimestamp) error {
	return in.descCall(fd, "set-times", func(o *vfs.OFD) error { return o.SetTimes(atime, mtime) })
}

// SetTimesAt is descriptor.set-times-at.
func (in *Instance) SetTimesAt(fd Handle, pf vfs.PathFlags, path string, atime, mtime vfs.NewTimestamp) error {
	return in.descCall(fd, "set-times-at", func(o *vfs.OFD) error { return o.SetTimesAt(pf, path, atime, mtime) })
}

// Sync is descriptor.sync.
func (in *Instance) Sync(fd Handle) error {
	return in.descCall(fd, "sync", func(o *vfs.OFD) error { return o.Sync() })
}

// SyncData is descriptor.sync-data.
func (in *Instance) SyncData(fd Handle) error {
	return in.descCall(fd, "sync-data", func(o *vfs.OFD) error { return o.SyncData() })
}

// Advise is descriptor.advise.
func (in *Instance) Advise(fd Handle, offset, length uint64, advice vfs.Advice) error {
	return in.descCall(fd, "advise", func(o *vfs.OFD) error {
		if offset > math.MaxInt64 || length > math.MaxInt64 {
			return vfs.ErrInvalid
		}
		return o.Advise(int64(offset), int64(length), advice)
	})
}

// GetFlags is descriptor.get-flags.
func (in *Instance) GetFlags(fd Handle) (fl vfs.DescFlags, err error) {
	err = in.descCall(fd, "get-flags", func(o *vfs.OFD) error { fl = o.Flags(); return nil })
	return
}

// GetType is descriptor.get-type.
func (in *Instance) GetType(fd Handle) (t vfs.DescType, err error) {
	err = in.descCall(fd, "get-type", func(o *vfs.OFD) error { t = o.Type(); return nil })
	return
}

// CreateDirectoryAt is descriptor.create-directory-at.
func (in *Instance) CreateDirectoryAt(fd Handle, path string) error {
	return in.descCall(fd, "create-directory-at", func(o *vfs.OFD) error { return o.CreateDirectoryAt(path) })
}

// RemoveDirectoryAt is descriptor.remove-directory-at.
func (in *Instance) RemoveDirectoryAt(fd Handle, path string) error {
	return in.descCall(fd, "remove-directory-at", func(o *vfs.OFD) error { return o.RemoveDirectoryAt(path) })
}

// UnlinkFileAt is descriptor.unlink-file-at.
func (in *Instance) UnlinkFileAt(fd Handle, path string) error {
	return in.descCall(fd, "unlink-file-at", func(o *vfs.OFD) error { return o.UnlinkFileAt(path) })
}

// otherDesc lends a second descriptor argument (borrow<descriptor>).
func (in *Instance) otherDesc(h Handle, call string) (*descriptor, func(), error) {
	return lendAs[*descriptor](in, h, KindDescriptor, call)
}

// RenameAt is descriptor.rename-at.
func (in *Instance) RenameAt(fd Handle, oldPath string, newFd Handle, newPath string) error {
	return in.descCall(fd, "rename-at", func(o *vfs.OFD) error {
		nd, end, err := in.otherDesc(newFd, "descriptor.rename-at")
		if err != nil {
			return err
		}
		defer end()
		return o.RenameAt(oldPath, nd.ofd, newPath)
	})
}

// LinkAt is descriptor.link-at.
func (in *Instance) LinkAt(fd Handle, pf vfs.PathFlags, oldPath string, newFd Handle, newPath string) error {
	return in.descCall(fd, "link-at", func(o *vfs.OFD) error {
		nd, end, err := in.otherDesc(newFd, "descriptor.link-at")
		if err != nil {
			return err
		}
		defer end()
		return o.LinkAt(pf, oldPath, nd.ofd, newPath)
	})
}

// SymlinkAt is descriptor.symlink-at.
func (in *Instance) SymlinkAt(fd Handle, target, path string) error {
	return in.descCall(fd, "symlink-at", func(o *vfs.OFD) error { return o.SymlinkAt(target, path) })
}

// ReadlinkAt is descriptor.readlink-at.
func (in *Instance) ReadlinkAt(fd Handle, path string) (target string, err error) {
	err = in.descCall(fd, "readlink-at", func(o *vfs.OFD) (e error) { target, e = o.ReadlinkAt(path); return })
	return
}

// IsSameObject is descriptor.is-same-object.
func (in *Instance) IsSameObject(fd, other Handle) (same bool, err error) {
	err = in.descCall(fd, "is-same-object", func(o *vfs.OFD) error {
		od, end, err := in.otherDesc(other, "descriptor.is-same-object")
		if err != nil {
			return err
		}
		defer end()
		same = o.IsSameObject(od.ofd)
		return nil
	})
	return
}

// MetadataHash is descriptor.metadata-hash.
func (in *Instance) MetadataHash(fd Handle) (mh vfs.MetadataHash, err error) {
	err = in.descCall(fd, "metadata-hash", func(o *vfs.OFD) (e error) { mh, e = o.MetadataHash(); return })
	return
}

// MetadataHashAt is descriptor.metadata-hash-at.
func (in *Instance) MetadataHashAt(fd Handle, pf vfs.PathFlags, path string) (mh vfs.MetadataHash, err error) {
	err = in.descCall(fd, "metadata-hash-at", func(o *vfs.OFD) (e error) { mh, e = o.MetadataHashAt(pf, path); return })
	return
}

// ---- wasisim extensions: advisory locks (WASI 0.3 has no lock API) ----

// TryLock takes a flock-style lock on the open file description behind fd,
// or fails at once with vfs.ErrWouldBlock.
func (in *Instance) TryLock(fd Handle, kind vfs.LockKind) error {
	return in.descCall(fd, "lock", func(o *vfs.OFD) error { return o.TryLock(kind) })
}

// Lock takes a lock, waiting (a world wait the scheduler orders) while
// another open file description holds a conflicting one.
func (in *Instance) Lock(fd Handle, kind vfs.LockKind) error {
	return in.descCall(fd, "lock", func(o *vfs.OFD) error { return o.Lock(kind) })
}

// Unlock releases the lock held through fd's open file description.
func (in *Instance) Unlock(fd Handle) error {
	return in.descCall(fd, "unlock", func(o *vfs.OFD) error { return o.Unlock() })
}

// OFD returns the open file description behind a descriptor handle (for
// tests and host code; it does not lend the handle).
func (in *Instance) OFD(fd Handle) (*vfs.OFD, error) {
	if err := in.h.enter(); err != nil {
		return nil, err
	}
	if in.KindOf(fd) != KindDescriptor {
		return nil, fmt.Errorf("host: handle %d of %s is not a live descriptor", fd, in.name)
	}
	return in.table[fd-1].obj.(*descriptor).ofd, nil
}
