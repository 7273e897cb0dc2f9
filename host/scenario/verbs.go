package scenario

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// verb is one statement of the language: how it is written (its spec),
// what the checker requires of it beyond that, and what it does when a
// task runs it. The checker gives every statement its verb, so a statement
// that parsed has an implementation.
type verb struct {
	spec
	// args, if set, checks the arguments instead of spec.args (expect,
	// whose arguments come in several forms).
	args func(c *checker, st *Stmt) error
	// check, if set, checks what depends on the rest of the script once
	// the arguments are known: the task join names, the statement an
	// expect error or trap checks.
	check func(c *checker, st *Stmt) error
	// use, if set, checks variable argument i, of type vi.ty, instead of
	// requiring a handle; exec then reads its variables itself.
	use  func(c *checker, st *Stmt, i int, vi varInfo) error
	exec func(x *call) ([]any, error)
}

// do makes the verb written as s that runs exec.
func do(s spec, exec func(x *call) ([]any, error)) *verb { return &verb{spec: s, exec: exec} }

// checked adds a check of the statement against the script.
func (v *verb) checked(check func(c *checker, st *Stmt) error) *verb { v.check = check; return v }

// anyValue lets the verb's variables hold any value, not just handles.
func (v *verb) anyValue() *verb {
	v.use = func(*checker, *Stmt, int, varInfo) error { return nil }
	return v
}

// verbs is every statement of the language.
var verbs = map[string]*verb{
	"open": do(sp("h", v("base"), str("path"), flagsOf("flag", openFlags)),
		execOpen),
	"stream": do(sp("hh"),
		func(x *call) ([]any, error) { return two(x.in.NewStream()) }),
	"write-via-stream": do(opt(sp("h", v("descriptor"), v("stream"), num("offset")), 2),
		func(x *call) ([]any, error) { return one(x.in.WriteViaStream(x.hs[0], x.hs[1], x.intArg(2, 0))) }),
	"append-via-stream": do(sp("h", v("descriptor"), v("stream")),
		func(x *call) ([]any, error) { return one(x.in.AppendViaStream(x.hs[0], x.hs[1])) }),
	"read-via-stream": do(opt(sp("hh", v("descriptor"), num("offset")), 1),
		func(x *call) ([]any, error) { return two(x.in.ReadViaStream(x.hs[0], x.intArg(1, 0))) }),
	"read-directory": do(sp("hh", v("descriptor")),
		func(x *call) ([]any, error) { return two(x.in.ReadDirectory(x.hs[0])) }),
	"write": do(optRes(sp("c", v("writable end"), str("data"))),
		execWrite),
	"start-write": do(sp("", v("writable end"), str("data")),
		func(x *call) ([]any, error) { return nil, x.in.StartWrite(x.hs[0], []byte(x.a[1].s)) }),
	"finish-write": do(optRes(sp("c", v("writable end"))),
		func(x *call) ([]any, error) { return written(x.in.FinishWrite(x.hs[0])) }),
	"cancel-write": do(optRes(sp("c", v("writable end"))),
		func(x *call) ([]any, error) { return written(x.in.CancelWrite(x.hs[0])) }),
	"read": do(optRes(opt(sp("c", v("readable end"), num("length")), 1)),
		execRead),
	"read-all": do(optRes(opt(sp("c", v("readable end"), num("length")), 1)),
		execReadAll),
	"start-read": do(sp("", v("readable end"), num("length")),
		func(x *call) ([]any, error) { return nil, x.in.StartRead(x.hs[0], int(min(x.a[1].n, 1<<31))) }),
	"finish-read": do(optRes(sp("c", v("readable end"))),
		func(x *call) ([]any, error) { return read(x.in.FinishRead(x.hs[0])) }),
	"cancel-read": do(optRes(sp("c", v("readable end"))),
		func(x *call) ([]any, error) { return read(x.in.CancelRead(x.hs[0])) }),
	"read-entries": do(optRes(sp("c", v("read-directory stream"))),
		execReadEntries),
	"drop": do(sp("", vars("handle")),
		execDrop),
	"drop-all": do(sp(""),
		func(x *call) ([]any, error) { return nil, x.in.DropAll() }),
	"await": do(optRes(sp("r", v("future"))),
		execAwait),
	"lock": do(sp("", v("descriptor"), kws("lock kind", lockKinds)),
		func(x *call) ([]any, error) { return nil, x.in.Lock(x.hs[0], lockKind(x.a[1].s)) }),
	"trylock": do(optRes(sp("r", v("descriptor"), kws("lock kind", lockKinds))),
		func(x *call) ([]any, error) { return x.result(x.in.TryLock(x.hs[0], lockKind(x.a[1].s))) }),
	"unlock": do(sp("", v("descriptor")),
		func(x *call) ([]any, error) { return nil, x.in.Unlock(x.hs[0]) }),
	"unlink": do(sp("", v("base"), str("path")),
		func(x *call) ([]any, error) { return nil, x.in.UnlinkFileAt(x.hs[0], x.a[1].s) }),
	"mkdir": do(sp("", v("base"), str("path")),
		func(x *call) ([]any, error) { return nil, x.in.CreateDirectoryAt(x.hs[0], x.a[1].s) }),
	"rmdir": do(sp("", v("base"), str("path")),
		func(x *call) ([]any, error) { return nil, x.in.RemoveDirectoryAt(x.hs[0], x.a[1].s) }),
	"rename": do(sp("", v("base"), str("old path"), str("new path")),
		func(x *call) ([]any, error) { return nil, x.in.RenameAt(x.hs[0], x.a[1].s, x.hs[0], x.a[2].s) }),
	"set-size": do(sp("", v("descriptor"), num("size")),
		func(x *call) ([]any, error) { return nil, x.in.SetSize(x.hs[0], x.a[1].n) }),
	"yield": do(sp(""),
		func(x *call) ([]any, error) { x.r.w.YieldBoundary(); return nil, nil }),
	"sleep": do(sp("", dur("duration")),
		func(x *call) ([]any, error) { return nil, x.r.w.Sleep(x.a[0].d) }),
	"join": do(sp("", taskName("task")),
		execJoin).checked(checkJoin),
	"wait": do(sp("", v("variable")),
		execWait).anyValue(),
	"tcp-socket": do(opt(sp("h", kws("family", families)), 0),
		execTCPSocket),
	"bind": do(sp("", v("socket"), addr("address")),
		func(x *call) ([]any, error) { return nil, x.in.Bind(x.hs[0], x.a[1].a) }),
	"connect": do(sp("", v("socket"), addr("address")),
		func(x *call) ([]any, error) { return nil, x.in.Connect(x.hs[0], x.a[1].a) }),
	"listen": do(sp("h", v("socket")),
		func(x *call) ([]any, error) { return one(x.in.Listen(x.hs[0])) }),
	"accept": do(sp("h", v("listen stream")),
		execAccept),
	"send": do(sp("h", v("socket"), v("stream")),
		func(x *call) ([]any, error) { return one(x.in.Send(x.hs[0], x.hs[1])) }),
	"receive": do(sp("hh", v("socket")),
		func(x *call) ([]any, error) { return two(x.in.Receive(x.hs[0])) }),
	"local-address": do(sp("a", v("socket")),
		func(x *call) ([]any, error) { return address(x.in.LocalAddress(x.hs[0])) }),
	"remote-address": do(sp("a", v("socket")),
		func(x *call) ([]any, error) { return address(x.in.RemoteAddress(x.hs[0])) }),
	"resolve": do(optRes(sp("l", str("name"))),
		execResolve),
	"write-stdout": do(sp("h", v("stream")),
		func(x *call) ([]any, error) { return one(x.in.WriteStdout(x.hs[0])) }),
	"write-stderr": do(sp("h", v("stream")),
		func(x *call) ([]any, error) { return one(x.in.WriteStderr(x.hs[0])) }),
	"expect": {
		args:  (*checker).expect,
		check: checkExpectPlace,
		use:   checkExpectUse,
		exec:  func(x *call) ([]any, error) { return nil, x.r.expect(x.st, x.ri) },
	},
}

// call is a statement being run: what a verb's exec works with.
type call struct {
	r  *runner
	ri *runInst
	in *host.Instance
	st *Stmt
	a  []pval        // the checked arguments
	hs []host.Handle // the handles of the variable arguments, in order (verbs without use)
}

// intArg is integer argument i, or def when the statement leaves it out.
func (x *call) intArg(i int, def uint64) uint64 {
	if i < len(x.a) {
		return x.a[i].n
	}
	return def
}

// result turns a WASI error into a value when the statement names a
// result; traps always fail the statement.
func (x *call) result(err error) ([]any, error) {
	var tr *host.Trap
	if len(x.st.Results) == 0 || errors.As(err, &tr) {
		return nil, err
	}
	return []any{resultVal{err}}, nil
}

func one(h host.Handle, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{h}, nil
}

func two(x, y host.Handle, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{x, y}, nil
}

func cp(data []byte, res host.CopyResult, read bool, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{copyVal{data: data, res: res, read: read}}, nil
}

// written is the value of a stream write.
func written(res host.CopyResult, err error) ([]any, error) { return cp(nil, res, false, err) }

// read is the value of a stream read and the bytes it read.
func read(data []byte, res host.CopyResult, err error) ([]any, error) {
	return cp(data, res, true, err)
}

func address(ap netip.AddrPort, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{addrVal(ap)}, nil
}

const defaultReadLen = 4096

// openFlagBits are open's flags, in the order messages list them, and
// what each one sets.
var openFlagBits = []struct {
	name string
	pf   vfs.PathFlags
	of   vfs.OpenFlags
	df   vfs.DescFlags
}{
	{name: "read", df: vfs.Read},
	{name: "write", df: vfs.Write},
	{name: "create", of: vfs.OpenCreate},
	{name: "exclusive", of: vfs.OpenExclusive},
	{name: "truncate", of: vfs.OpenTruncate},
	{name: "directory", of: vfs.OpenDirectory},
	{name: "mutate", df: vfs.MutateDirectory},
	{name: "follow", pf: vfs.SymlinkFollow},
}

// openFlags are the names of open's flags.
var openFlags = func() []string {
	names := make([]string, len(openFlagBits))
	for i, f := range openFlagBits {
		names[i] = f.name
	}
	return names
}()

func execOpen(x *call) ([]any, error) {
	var pf vfs.PathFlags
	var of vfs.OpenFlags
	var df vfs.DescFlags
	for _, a := range x.a[2:] {
		for _, f := range openFlagBits {
			if f.name == a.s {
				pf, of, df = pf|f.pf, of|f.of, df|f.df
			}
		}
	}
	return one(x.in.OpenAt(x.hs[0], pf, x.a[1].s, of, df))
}

func execWrite(x *call) ([]any, error) {
	n, status, err := x.in.WriteAll(x.hs[0], []byte(x.a[1].s))
	return written(host.CopyResult{Progress: n, Status: status}, err)
}

func execRead(x *call) ([]any, error) {
	n := x.intArg(1, defaultReadLen)
	return read(x.in.Read(x.hs[0], int(min(n, 1<<30))))
}

// execReadAll reads until the writer drops its end.
func execReadAll(x *call) ([]any, error) {
	n := int(min(x.intArg(1, defaultReadLen), 1<<30))
	var all []byte
	total := 0
	for {
		data, res, err := x.in.Read(x.hs[0], n)
		if err != nil {
			return nil, err
		}
		all = append(all, data...)
		total += res.Progress
		if res.Status == host.Dropped {
			return read(all, host.CopyResult{Progress: total, Status: host.Dropped}, nil)
		}
	}
}

// execReadEntries reads a read-directory stream to its end; the value's
// bytes are the names, one a line.
func execReadEntries(x *call) ([]any, error) {
	var names []string
	total := 0
	for {
		es, res, err := x.in.ReadDirEntries(x.hs[0], 64)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
		total += res.Progress
		if res.Status == host.Dropped {
			return read([]byte(strings.Join(names, "\n")), host.CopyResult{Progress: total, Status: host.Dropped}, nil)
		}
	}
}

func execDrop(x *call) ([]any, error) {
	for _, h := range x.hs {
		if err := x.in.Drop(h); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func execAwait(x *call) ([]any, error) {
	v, trap := x.in.Await(x.hs[0])
	if trap != nil {
		return nil, trap
	}
	return x.result(v)
}

func lockKind(s string) vfs.LockKind {
	if s == "exclusive" {
		return vfs.LockExclusive
	}
	return vfs.LockShared
}

func execJoin(x *call) ([]any, error) {
	t := x.r.tasks[x.a[0].s]
	if t == nil {
		return nil, fmt.Errorf("no task %s", x.a[0].s)
	}
	t.Join() //nolint:errcheck // the joined task's error is its own
	return nil, nil
}

// checkJoin: join names another task of the script.
func checkJoin(c *checker, st *Stmt) error {
	n := st.args[0].s
	if !c.taskNames[n] {
		return c.msgAt(st.args[0].pos, "no task named %s", n)
	}
	if n == c.task.Name {
		return c.msgAt(st.args[0].pos, "task %s cannot join itself", n)
	}
	return nil
}

// execWait waits until the variable is set, whatever it holds.
func execWait(x *call) ([]any, error) {
	_, err := x.r.get(x.ri, x.a[0].s)
	return nil, err
}

func execTCPSocket(x *call) ([]any, error) {
	f := vnet.IPv4
	if len(x.a) > 0 && x.a[0].s == "ipv6" {
		f = vnet.IPv6
	}
	return one(x.in.NewTCPSocket(f))
}

// execAccept takes the next connection of a listen stream; the stream
// ending instead fails the statement.
func execAccept(x *call) ([]any, error) {
	h, res, err := x.in.Accept(x.hs[0])
	if err == nil && h == 0 {
		err = fmt.Errorf("accept: the listen stream ended (%s)", res.Status)
	}
	return one(h, err)
}

func execResolve(x *call) ([]any, error) {
	addrs, err := x.in.ResolveAddresses(x.a[0].s)
	if err != nil {
		return nil, err
	}
	if len(x.st.Results) == 0 {
		return nil, nil
	}
	return []any{listVal(addrs)}, nil
}
