package wasip3

import (
	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/vfs"
)

// Host flag names in the bit order of vfs's types.
var (
	descFlagNames = []string{"read", "write", "file-integrity-sync", "data-integrity-sync", "requested-write-sync", "mutate-directory"}
	pathFlagNames = []string{"symlink-follow"}
	openFlagNames = []string{"create", "directory", "exclusive", "truncate"}
	adviceNames   = []string{"normal", "sequential", "random", "will-need", "dont-need", "no-reuse"}
)

// args decodes a call's arguments with their declared types.
type args struct {
	c   *component.Call
	a   []value
	err error
}

func (x *args) typ(i int) *ctype {
	t, err := paramType(x.c, i)
	if err != nil && x.err == nil {
		x.err = err
	}
	return t
}

func (x *args) handle(i int) host.Handle { return hd(x.a[i]) }

func (x *args) u64(i int) uint64 {
	v, ok := x.a[i].(uint64)
	if !ok && x.err == nil {
		x.err = errType("argument %d of %s is a %T, want u64", i, x.c.Name(), x.a[i])
	}
	return v
}

func (x *args) str(i int) string {
	v, ok := x.a[i].(string)
	if !ok && x.err == nil {
		x.err = errType("argument %d of %s is a %T, want a string", i, x.c.Name(), x.a[i])
	}
	return v
}

func (x *args) flags(i int, names []string) uint32 {
	t := x.typ(i)
	if x.err != nil {
		return 0
	}
	v, err := flagsFrom(t, x.a[i], names)
	if err != nil && x.err == nil {
		x.err = err
	}
	return v
}

func (x *args) timestamp(i int) vfs.NewTimestamp {
	t := x.typ(i)
	if x.err != nil {
		return vfs.NewTimestamp{}
	}
	name, payload, err := caseName(t, x.a[i])
	if err != nil {
		x.err = err
		return vfs.NewTimestamp{}
	}
	switch name {
	case "no-change":
		return vfs.NewTimestamp{Kind: vfs.NoChange}
	case "now":
		return vfs.NewTimestamp{Kind: vfs.Now}
	case "timestamp":
		k, _ := caseIndex(t, name)
		tm, err := fromInstant(t.Cases[k].Type, payload)
		if err != nil {
			x.err = err
		}
		return vfs.NewTimestamp{Kind: vfs.Timestamp, Time: tm}
	}
	x.err = errType("new-timestamp case %q", name)
	return vfs.NewTimestamp{}
}

// ret makes the call's result<T, error-code> from a value and an error.
func ret(c *component.Call, v value, err error) (value, error) {
	t, terr := resultTypeOf(c)
	if terr != nil {
		return nil, terr
	}
	return result(t, v, err)
}

// retWith is ret for a value that needs the result's ok type to build.
func retWith(c *component.Call, err error, build func(ok *ctype) (value, error)) (value, error) {
	t, terr := resultTypeOf(c)
	if terr != nil {
		return nil, terr
	}
	if err != nil {
		return result(t, nil, err)
	}
	v, err := build(t.Ok)
	if err != nil {
		return nil, err
	}
	return component.Ok(v), nil
}

func (b *binder) filesystem() {
	m := func(name string, f fnImpl) { b.fn(ifFilesystem, "[method]descriptor."+name, f) }

	m("read-via-stream", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, off := x.handle(0), x.u64(1)
		if x.err != nil {
			return nil, x.err
		}
		data, res, err := c.Instance().ReadViaStream(fd, off)
		if err != nil {
			return nil, err
		}
		return []value{uint32(data), uint32(res)}, nil
	})
	writing := func(name string, f fnImpl) {
		b.l.Func(ifFilesystem, "[method]descriptor."+name, component.HostFunc{Call: f, Blocks: true})
	}
	writing("write-via-stream", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, data, off := x.handle(0), x.handle(1), x.u64(2)
		if x.err != nil {
			return nil, x.err
		}
		f, err := c.Instance().WriteViaStream(fd, data, off)
		return writeResult(c, f, err)
	})
	writing("append-via-stream", func(c *component.Call, a []value) (value, error) {
		f, err := c.Instance().AppendViaStream(hd(a[0]), hd(a[1]))
		return writeResult(c, f, err)
	})
	m("advise", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, off, n := x.handle(0), x.u64(1), x.u64(2)
		t := x.typ(3)
		if x.err != nil {
			return nil, x.err
		}
		name, _, err := caseName(t, a[3])
		if err != nil {
			return nil, err
		}
		adv := -1
		for i, n := range adviceNames {
			if n == name {
				adv = i
			}
		}
		if adv < 0 {
			return ret(c, nil, vfs.ErrInvalid)
		}
		return ret(c, nil, c.Instance().Advise(fd, off, n, vfs.Advice(adv)))
	})
	m("sync-data", func(c *component.Call, a []value) (value, error) {
		return ret(c, nil, c.Instance().SyncData(hd(a[0])))
	})
	m("sync", func(c *component.Call, a []value) (value, error) {
		return ret(c, nil, c.Instance().Sync(hd(a[0])))
	})
	m("get-flags", func(c *component.Call, a []value) (value, error) {
		fl, err := c.Instance().GetFlags(hd(a[0]))
		return retWith(c, err, func(ok *ctype) (value, error) { return flagsTo(ok, uint32(fl), descFlagNames) })
	})
	m("get-type", func(c *component.Call, a []value) (value, error) {
		dt, err := c.Instance().GetType(hd(a[0]))
		return retWith(c, err, func(ok *ctype) (value, error) { return descType(ok, dt) })
	})
	m("set-size", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, size := x.handle(0), x.u64(1)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().SetSize(fd, size))
	})
	m("set-times", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, at, mt := x.handle(0), x.timestamp(1), x.timestamp(2)
		if x.err != nil {
			return failed(c, x.err)
		}
		return ret(c, nil, c.Instance().SetTimes(fd, at, mt))
	})
	m("read-directory", func(c *component.Call, a []value) (value, error) {
		entries, res, err := c.Instance().ReadDirectory(hd(a[0]))
		if err != nil {
			return nil, err
		}
		return []value{uint32(entries), uint32(res)}, nil
	})
	m("create-directory-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, path := x.handle(0), x.str(1)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().CreateDirectoryAt(fd, path))
	})
	m("stat", func(c *component.Call, a []value) (value, error) {
		st, err := c.Instance().Stat(hd(a[0]))
		return retWith(c, err, func(ok *ctype) (value, error) { return statValue(ok, st) })
	})
	m("stat-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, pf, path := x.handle(0), x.flags(1, pathFlagNames), x.str(2)
		if x.err != nil {
			return nil, x.err
		}
		st, err := c.Instance().StatAt(fd, vfs.PathFlags(pf), path)
		return retWith(c, err, func(ok *ctype) (value, error) { return statValue(ok, st) })
	})
	m("set-times-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, pf, path, at, mt := x.handle(0), x.flags(1, pathFlagNames), x.str(2), x.timestamp(3), x.timestamp(4)
		if x.err != nil {
			return failed(c, x.err)
		}
		return ret(c, nil, c.Instance().SetTimesAt(fd, vfs.PathFlags(pf), path, at, mt))
	})
	m("link-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, pf, old, nfd, nw := x.handle(0), x.flags(1, pathFlagNames), x.str(2), x.handle(3), x.str(4)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().LinkAt(fd, vfs.PathFlags(pf), old, nfd, nw))
	})
	m("open-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, pf, path, of, df := x.handle(0), x.flags(1, pathFlagNames), x.str(2), x.flags(3, openFlagNames), x.flags(4, descFlagNames)
		if x.err != nil {
			return failed(c, x.err)
		}
		h, err := c.Instance().OpenAt(fd, vfs.PathFlags(pf), path, vfs.OpenFlags(of), vfs.DescFlags(df))
		return ret(c, uint32(h), err)
	})
	m("readlink-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, path := x.handle(0), x.str(1)
		if x.err != nil {
			return nil, x.err
		}
		target, err := c.Instance().ReadlinkAt(fd, path)
		return ret(c, target, err)
	})
	m("remove-directory-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, path := x.handle(0), x.str(1)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().RemoveDirectoryAt(fd, path))
	})
	m("rename-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, old, nfd, nw := x.handle(0), x.str(1), x.handle(2), x.str(3)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().RenameAt(fd, old, nfd, nw))
	})
	m("symlink-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, old, nw := x.handle(0), x.str(1), x.str(2)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().SymlinkAt(fd, old, nw))
	})
	m("unlink-file-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, path := x.handle(0), x.str(1)
		if x.err != nil {
			return nil, x.err
		}
		return ret(c, nil, c.Instance().UnlinkFileAt(fd, path))
	})
	m("is-same-object", func(c *component.Call, a []value) (value, error) {
		same, err := c.Instance().IsSameObject(hd(a[0]), hd(a[1]))
		if err != nil && !isWASIError(err) {
			return nil, err
		}
		return same, nil
	})
	m("metadata-hash", func(c *component.Call, a []value) (value, error) {
		mh, err := c.Instance().MetadataHash(hd(a[0]))
		return retWith(c, err, func(ok *ctype) (value, error) {
			return record(ok, map[string]value{"lower": mh.Lower, "upper": mh.Upper})
		})
	})
	m("metadata-hash-at", func(c *component.Call, a []value) (value, error) {
		x := &args{c: c, a: a}
		fd, pf, path := x.handle(0), x.flags(1, pathFlagNames), x.str(2)
		if x.err != nil {
			return nil, x.err
		}
		mh, err := c.Instance().MetadataHashAt(fd, vfs.PathFlags(pf), path)
		return retWith(c, err, func(ok *ctype) (value, error) {
			return record(ok, map[string]value{"lower": mh.Lower, "upper": mh.Upper})
		})
	})

	b.fn(ifPreopens, "get-directories", func(c *component.Call, a []value) (value, error) {
		pre, err := c.Instance().Preopens()
		if err != nil {
			return nil, err
		}
		out := make([]value, len(pre))
		for i, p := range pre {
			out[i] = []value{uint32(p.Handle), p.Path}
		}
		return out, nil
	})
}

// writeResult finishes a writing method (write-via-stream,
// append-via-stream, send, stdout): a component built against the
// current WIT gets the future; one built against the WIT before WASI PR
// #870, where the method is an `async func` returning the result, gets
// the result once the stream is consumed. Such a component lowers the
// call async, and the Component Model lends `self` to the call until
// then: dropping the descriptor meanwhile traps, as it did.
func writeResult(c *component.Call, f host.Handle, err error) (value, error) {
	if err != nil {
		return nil, err
	}
	if !c.Type().Async {
		return uint32(f), nil
	}
	in := c.Instance()
	res, trap := in.Await(f)
	if trap != nil {
		return nil, trap
	}
	if err := in.Drop(f); err != nil {
		return nil, err
	}
	return ret(c, nil, res)
}

// failed answers an argument the host cannot use (a flag or a timestamp
// it does not know) with err(invalid), as a host whose WIT lacks it would.
func failed(c *component.Call, err error) (value, error) {
	if !isWASIError(err) {
		err = vfs.ErrInvalid
	}
	return ret(c, nil, err)
}

// statValue is the descriptor-stat record of a vfs.Stat.
func statValue(t *ctype, st vfs.Stat) (value, error) {
	fields := map[string]value{"link-count": st.LinkCount, "size": st.Size}
	tt, err := fieldType(t, "type")
	if err != nil {
		return nil, err
	}
	if fields["type"], err = descType(tt, st.Type); err != nil {
		return nil, err
	}
	for _, f := range []string{"data-access-timestamp", "data-modification-timestamp", "status-change-timestamp"} {
		ft, err := fieldType(t, f)
		if err != nil {
			return nil, err
		}
		tm := st.Atime
		switch f {
		case "data-modification-timestamp":
			tm = st.Mtime
		case "status-change-timestamp":
			tm = st.Ctime
		}
		if tm.IsZero() || ft.Kind != component.Option {
			fields[f] = component.None()
			continue
		}
		inst, err := instant(ft.Elem, tm)
		if err != nil {
			return nil, err
		}
		fields[f] = component.Some(inst)
	}
	return record(t, fields)
}
