package proptest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/internal/mutation"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// The file suite runs two guest tasks ("actors") of one component
// instance. Each executes a script of steps drawn up front by rapid; the
// world's scheduling choices are drawn from the same *rapid.T while it
// runs. A step names its targets by small indexes resolved at run time
// among what the actor holds and may legally use (so every program is
// legal and shrinks well): an index into the actor's live descriptors, or
// into its operations (writes, reads, directory reads) in a state the step
// applies to; a step with nothing to apply to is skipped.
//
// Every handle belongs to the actor that made it, so no actor can drop a
// handle another is blocked on; actors meet through the file system (same
// files, unlink, rename, locks) and through one guest stream from actor 0
// to actor 1 (the pipe).
//
// The harness tracks every reference to every open file description
// itself (descriptor handles, stream ends, future ends) and after each
// step, and at points of the schedule chosen by rapid (a monitor task),
// checks the invariants of the drop semantics against vfs; see checkAll.

// fileOp is the kind of a fileStep.
type fileOp string

// The file steps.
const (
	opOpen       fileOp = "open"        // open-at file A (create unless B=0), read|write
	opWrite      fileOp = "write"       // write-via-stream (append-via-stream on a log file) on descriptor A
	opPush       fileOp = "push"        // write N bytes into write A's stream
	opDropWriter fileOp = "drop-writer" // drop write A's stream (the writable end)
	opRead       fileOp = "read"        // read-via-stream(0) on descriptor A
	opReadDir    fileOp = "readdir"     // read-directory on the root
	opPull       fileOp = "pull"        // one stream read of up to N+1 elements from read A
	opDropReader fileOp = "drop-reader" // drop read A's stream early
	opAwait      fileOp = "await"       // read the future of operation A (only once it must resolve)
	opDropFuture fileOp = "drop-future" // drop the future (or, awaited, the subtask) of operation A
	opDropDesc   fileOp = "drop-desc"   // drop descriptor A
	opLock       fileOp = "lock"        // guest try-lock on descriptor A, exclusive if B=1
	opUnlock     fileOp = "unlock"      // guest unlock on descriptor A
	opHostLock   fileOp = "host-lock"   // the host opens file A and try-locks it (exclusive if B=1)
	opHostUnlock fileOp = "host-unlock" // the host unlocks and closes its open description A
	opUnlink     fileOp = "unlink"      // unlink-file-at file A
	opRename     fileOp = "rename"      // rename-at file A to file B
	opPipeWrite  fileOp = "pipe-write"  // actor 0: write N+1 bytes into the pipe
	opPipeDrop   fileOp = "pipe-drop"   // drop this actor's end of the pipe
	opPipeRead   fileOp = "pipe-read"   // actor 1: one read of up to N+1 bytes from the pipe
)

// fileStep is one step of an actor's script.
type fileStep struct {
	Op fileOp `json:"op"`
	A  int    `json:"a,omitempty"`
	B  int    `json:"b,omitempty"`
	N  int    `json:"n,omitempty"`
}

func (s fileStep) String() string { return fmt.Sprintf("%s(a=%d b=%d n=%d)", s.Op, s.A, s.B, s.N) }

// fileProgram is the scripts of the actors of a files case.
type fileProgram struct {
	Actors [][]fileStep `json:"actors"`
}

// fileNames are the names the programs use; files named "log…" are
// written with append-via-stream, the others with write-via-stream at
// offsets that never overlap (see regionSize).
var fileNames = []string{"a", "b", "log"}

const (
	regionSize = 64 // each write op owns [tag*regionSize, tag*regionSize+maxWrite)
	maxWrite   = 48 // bytes one write or append op may write
	maxTags    = 7  // write ops per actor (tags 1..14: the high nibble of each byte)
)

// patternByte is byte i of the op with the given tag: the tag in the high
// nibble and the position in the low one, so every byte of a file says
// which op wrote it and where.
func patternByte(tag, i int) byte { return byte(tag<<4 | i&15) }

// pipeByte is byte i of the pipe: never zero.
func pipeByte(i int) byte { return byte(i%251 + 1) }

// fileProgramGen generates file programs for two actors.
func fileProgramGen() *rapid.Generator[*fileProgram] {
	common := []fileOp{opOpen, opOpen, opOpen, opWrite, opWrite, opWrite, opPush, opPush, opPush, opPush, opDropWriter, opDropWriter,
		opRead, opReadDir, opPull, opPull, opDropReader, opAwait, opAwait, opDropFuture,
		opDropDesc, opDropDesc, opLock, opLock, opUnlock, opHostLock, opHostUnlock, opUnlink, opRename}
	perActor := [][]fileOp{
		append(slices.Clone(common), opPipeWrite, opPipeWrite, opPipeDrop),
		append(slices.Clone(common), opPipeRead, opPipeRead, opPipeDrop),
	}
	return rapid.Custom(func(t *rapid.T) *fileProgram {
		p := &fileProgram{Actors: make([][]fileStep, 2)}
		for a := range p.Actors {
			n := rapid.IntRange(6, 40).Draw(t, "steps")
			for range n {
				p.Actors[a] = append(p.Actors[a], fileStep{
					Op: rapid.SampledFrom(perActor[a]).Draw(t, "op"),
					A:  rapid.IntRange(0, 3).Draw(t, "a"),
					B:  rapid.IntRange(0, 2).Draw(t, "b"),
					N:  rapid.IntRange(0, 20).Draw(t, "n"),
				})
			}
		}
		return p
	})
}

// fileCaseGen generates files cases: a program, an API variant, a host
// chunk size and a world seed. variants restricts the variants drawn
// (nil: both).
func fileCaseGen(variants []string) *rapid.Generator[*testCase] {
	if variants == nil {
		variants = []string{"p3", "p3-async-write"}
	}
	return rapid.Custom(func(t *rapid.T) *testCase {
		return &testCase{
			Suite:   "files",
			Variant: rapid.SampledFrom(variants).Draw(t, "variant"),
			Chunk:   rapid.IntRange(1, 8).Draw(t, "chunk"),
			Seed:    rapid.Uint64Range(0, 3).Draw(t, "seed"),
			Files:   fileProgramGen().Draw(t, "program"),
		}
	})
}

// ---- harness state ----

type inodeRec struct {
	ino    uint64
	name   string // the name it was created as
	append bool   // written with append-via-stream
	links  int    // names in the tree model
	ofds   []*ofdRec
	ops    []*opRec // write and append ops, for the content rules
}

type ofdRec struct {
	ofd        *vfs.OFD
	node       *inodeRec
	owner      int         // actor; -1 for host-side descriptions
	h          host.Handle // guest handle (0 for host-side)
	handleLive bool
	lock       vfs.LockKind // the lock the harness believes the description holds
	ops        []*opRec
}

type opKind uint8

const (
	kWrite opKind = iota + 1
	kAppend
	kRead
	kReadDir
)

type opRec struct {
	kind  opKind
	ofd   *ofdRec
	tag   int
	off   int
	end   host.Handle // the guest's stream end: writable for writes, readable for reads
	fut   host.Handle // future (p3) or subtask (p3-async-write)
	sub   bool        // fut is a subtask
	endOK bool        // the guest still holds end
	futOK bool        // the guest still holds fut
	// writes
	written  int // bytes the guest's writes reported as taken
	offering int // bytes offered by a write in progress
	// reads
	got      []byte
	gotDir   []vfs.DirEntry
	listing  []string // readdir: the tree at the call
	eof      bool     // the read reported DROPPED
	resolved bool     // the guest read the future's value
	result   error
}

// streamRefs is the stream's reference to the description: certain
// (lo=hi=1), gone (0,0) or unknown (0,1) while the host may still hold it.
func (o *opRec) streamRefs() (lo, hi int) {
	switch o.kind {
	case kWrite, kAppend:
		if o.endOK {
			return 1, 1
		}
		if o.resolved {
			return 0, 0 // the host resolves only after dropping its end
		}
		return 0, 1
	}
	if o.endOK {
		return 1, 1
	}
	return 0, 0 // a host-produced stream dies with the guest's readable end
}

type filesRun struct {
	w     *sim.World
	h     *host.Host
	in    *host.Instance
	v     host.Variant
	prog  *fileProgram
	root  *vfs.OFD // host-side probe on the root, for stats
	tree  map[string]*inodeRec
	nodes []*inodeRec
	ofds  []*ofdRec
	// per actor
	roots   []host.Handle
	descs   [][]*ofdRec
	ops     [][]*opRec
	nextTag []int
	hostDs  []*ofdRec // host-side descriptions from opHostLock
	// the pipe
	pipeR, pipeW   host.Handle
	pipeROK        bool
	pipeWOK        bool
	pipeWritten    int
	pipeOffering   int
	pipeGot        []byte
	pipeEOF        bool // the writer saw DROPPED
	pipeEOFRead    bool // the reader saw DROPPED
	rootRecs       []*ofdRec
	trapped        *host.Trap
	done           int
	violations     []string
	seen           map[string]bool
	checksDisabled bool
}

func (r *filesRun) failf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(r.violations) < 8 && !r.seen[msg] {
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[msg] = true // report each finding once, at its first step
		r.violations = append(r.violations, fmt.Sprintf("step %d: %s", r.w.Step(), msg))
	}
}

func setupFiles(w *sim.World, c *testCase, v host.Variant) (judge, error) {
	mutation.Enable(w, c.Mutations)
	h, err := host.New(w, host.Options{Variant: v, Chunk: c.Chunk})
	if err != nil {
		return nil, err
	}
	r := &filesRun{w: w, h: h, v: v, prog: c.Files, tree: map[string]*inodeRec{}}
	r.in = h.NewInstance("guest")
	r.root = h.FS().Root(vfs.Read)
	n := len(c.Files.Actors)
	r.roots = make([]host.Handle, n)
	r.descs = make([][]*ofdRec, n)
	r.ops = make([][]*opRec, n)
	r.nextTag = make([]int, n)
	r.rootRecs = make([]*ofdRec, n)
	if r.pipeR, r.pipeW, err = r.in.NewStream(); err != nil {
		return nil, err
	}
	r.pipeROK, r.pipeWOK = true, true
	for a, script := range c.Files.Actors {
		w.Go(fmt.Sprintf("actor%d", a), func(*sim.Task) error { return r.actor(a, script) })
	}
	total := 0
	for _, s := range c.Files.Actors {
		total += len(s)
	}
	w.Go("monitor", func(*sim.Task) error {
		for range total + 4 {
			if r.done == n || r.trapped != nil {
				return nil
			}
			w.Yield()
			r.checkAll()
		}
		return nil
	})
	w.AddLeakCheck("proptest", r.endChecks)
	return r.judge, nil
}

// judge accepts a run without failures, or one that ended with the
// expected trap (dropping a lent descriptor under p3-async-write): the
// trapped instance is torn down (its handles dropped, in-flight copies
// cancelled), so such a run must still end without leaks or deadlocks.
func (r *filesRun) judge(res *sim.Result) error {
	if r.trapped == nil {
		return res.Error()
	}
	return trappedRunError(res)
}

// ---- actors ----

func (r *filesRun) actor(a int, script []fileStep) error {
	defer func() { r.done++ }()
	pre, err := r.in.Preopens()
	if err != nil {
		return r.handleErr(a, fileStep{Op: "get-directories"}, err)
	}
	r.roots[a] = pre[0].Handle
	for _, st := range script {
		if r.trapped != nil {
			return nil
		}
		if err := r.step(a, st); err != nil {
			return r.handleErr(a, st, err)
		}
		r.checkAll()
	}
	if r.trapped != nil {
		return nil
	}
	if err := r.cleanup(a); err != nil {
		return r.handleErr(a, fileStep{Op: "cleanup"}, err)
	}
	return nil
}

// handleErr turns a trap seen by an actor into the end of the run for
// every actor when it is the expected one (dropping a lent descriptor
// under p3-async-write, checked where it happens) or when another actor
// already trapped; anything else is a failure.
func (r *filesRun) handleErr(a int, st fileStep, err error) error {
	var tr *host.Trap
	if errors.As(err, &tr) && r.trapped != nil {
		return nil
	}
	return fmt.Errorf("actor %d %v: %w", a, st, err)
}

func pick[T any](xs []T, i int, ok func(T) bool) (T, bool) {
	var c []T
	for _, x := range xs {
		if ok(x) {
			c = append(c, x)
		}
	}
	var zero T
	if len(c) == 0 {
		return zero, false
	}
	return c[i%len(c)], true
}

func (r *filesRun) liveDesc(a, i int) (*ofdRec, bool) {
	return pick(r.descs[a], i, func(d *ofdRec) bool { return d.handleLive })
}

// mustResolve reports whether op's future will resolve without anything
// more from the guest, so awaiting it cannot deadlock.
func (o *opRec) mustResolve() bool { return !o.endOK || o.eof }

func (r *filesRun) step(a int, st fileStep) error {
	in := r.in
	switch st.Op {
	case opOpen:
		return r.open(a, fileNames[st.A%len(fileNames)], st.B != 0)
	case opWrite:
		d, ok := r.liveDesc(a, st.A)
		if !ok || r.nextTag[a] >= maxTags {
			return nil
		}
		tag := 1 + a*maxTags + r.nextTag[a]
		r.nextTag[a]++
		return r.startWrite(a, d, tag)
	case opPush:
		o, ok := pick(r.ops[a], st.A, func(o *opRec) bool {
			return (o.kind == kWrite || o.kind == kAppend) && o.endOK && !o.eof && o.written < maxWrite
		})
		if !ok {
			return nil
		}
		n := min(st.N+1, maxWrite-o.written)
		data := make([]byte, n)
		for i := range data {
			data[i] = patternByte(o.tag, o.written+i)
		}
		o.offering = n
		res, err := in.Write(o.end, data)
		o.offering = 0
		if err != nil {
			return err
		}
		o.written += res.Progress
		if res.Status == host.Dropped {
			o.eof = true
		}
		return nil
	case opDropWriter, opDropReader:
		o, ok := pick(r.ops[a], st.A, func(o *opRec) bool {
			return o.endOK && (o.kind == kWrite || o.kind == kAppend) == (st.Op == opDropWriter)
		})
		if !ok {
			return nil
		}
		if err := in.Drop(o.end); err != nil {
			return err
		}
		o.endOK = false
		return nil
	case opRead:
		d, ok := r.liveDesc(a, st.A)
		if !ok {
			return nil
		}
		s, f, err := in.ReadViaStream(d.h, 0)
		if err != nil {
			return err
		}
		o := &opRec{kind: kRead, ofd: d, end: s, fut: f, endOK: true, futOK: true}
		d.ops = append(d.ops, o)
		r.ops[a] = append(r.ops[a], o)
		return nil
	case opReadDir:
		root := r.rootRec(a)
		s, f, err := in.ReadDirectory(r.roots[a])
		if err != nil {
			return err
		}
		o := &opRec{kind: kReadDir, ofd: root, end: s, fut: f, endOK: true, futOK: true, listing: r.listing()}
		root.ops = append(root.ops, o)
		r.ops[a] = append(r.ops[a], o)
		return nil
	case opPull:
		o, ok := pick(r.ops[a], st.A, func(o *opRec) bool { return (o.kind == kRead || o.kind == kReadDir) && o.endOK && !o.eof })
		if !ok {
			return nil
		}
		return r.pull(o, st.N+1)
	case opAwait:
		o, ok := pick(r.ops[a], st.A, func(o *opRec) bool { return o.futOK && !o.resolved && o.mustResolve() })
		if !ok {
			return nil
		}
		return r.await(o)
	case opDropFuture:
		o, ok := pick(r.ops[a], st.A, func(o *opRec) bool { return o.futOK && (!o.sub || o.resolved) })
		if !ok {
			return nil
		}
		if err := in.Drop(o.fut); err != nil {
			return err
		}
		o.futOK = false
		return nil
	case opDropDesc:
		d, ok := r.liveDesc(a, st.A)
		if !ok {
			return nil
		}
		return r.dropDesc(d)
	case opLock:
		d, ok := r.liveDesc(a, st.A)
		if !ok {
			return nil
		}
		return r.lock(d, st.B == 1)
	case opUnlock:
		d, ok := r.liveDesc(a, st.A)
		if !ok {
			return nil
		}
		if err := in.Unlock(d.h); err != nil {
			return err
		}
		d.lock = vfs.LockNone
		return nil
	case opHostLock:
		return r.hostLock(fileNames[st.A%len(fileNames)], st.B == 1)
	case opHostUnlock:
		d, ok := pick(r.hostDs, st.A, func(d *ofdRec) bool { return d.handleLive })
		if !ok {
			return nil
		}
		r.hostClose(d)
		return nil
	case opUnlink:
		name := fileNames[st.A%len(fileNames)]
		err := in.UnlinkFileAt(r.roots[a], name)
		if isTrap(err) {
			return err
		}
		n := r.tree[name]
		if n == nil {
			if !errors.Is(err, vfs.ErrNoEntry) {
				r.failf("unlink of missing %q: %v, want no-entry", name, err)
			}
			return nil
		}
		if err != nil {
			r.failf("unlink %q: %v", name, err)
			return nil
		}
		delete(r.tree, name)
		n.links--
		return nil
	case opRename:
		from, to := fileNames[st.A%len(fileNames)], fileNames[st.B%len(fileNames)]
		err := in.RenameAt(r.roots[a], from, r.roots[a], to)
		if isTrap(err) {
			return err
		}
		n := r.tree[from]
		switch {
		case n == nil:
			if !errors.Is(err, vfs.ErrNoEntry) {
				r.failf("rename of missing %q: %v, want no-entry", from, err)
			}
		case err != nil:
			r.failf("rename %q to %q: %v", from, to, err)
		case from != to:
			if old := r.tree[to]; old != nil {
				old.links--
			}
			r.tree[to] = n
			delete(r.tree, from)
		}
		return nil
	case opPipeWrite:
		if a != 0 || !r.pipeWOK || r.pipeEOF {
			return nil
		}
		data := make([]byte, st.N+1)
		for i := range data {
			data[i] = pipeByte(r.pipeWritten + i)
		}
		r.pipeOffering = len(data)
		res, err := in.Write(r.pipeW, data)
		r.pipeOffering = 0
		if err != nil {
			return err
		}
		r.pipeWritten += res.Progress
		if res.Status == host.Dropped {
			r.pipeEOF = true
		}
		return nil
	case opPipeRead:
		if a != 1 || !r.pipeROK || r.pipeEOFRead {
			return nil
		}
		return r.pipeRead(st.N + 1)
	case opPipeDrop:
		return r.pipeDrop(a)
	}
	return fmt.Errorf("unknown step %q", st.Op)
}

func isTrap(err error) bool {
	var tr *host.Trap
	return errors.As(err, &tr)
}

// rootRec is the actor's preopen descriptor; it is not among the
// descriptors steps pick, so it lives until the actor's cleanup.
func (r *filesRun) rootRec(a int) *ofdRec {
	if r.rootRecs[a] == nil {
		ofd, _ := r.in.OFD(r.roots[a])
		r.rootRecs[a] = &ofdRec{ofd: ofd, owner: a, h: r.roots[a], handleLive: true}
	}
	return r.rootRecs[a]
}

func (r *filesRun) listing() []string {
	var names []string
	for n := range r.tree {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *filesRun) open(a int, name string, create bool) error {
	var of vfs.OpenFlags
	if create {
		of = vfs.OpenCreate
	}
	fd, err := r.in.OpenAt(r.roots[a], 0, name, of, vfs.Read|vfs.Write)
	n := r.tree[name]
	if err != nil {
		var tr *host.Trap
		if errors.As(err, &tr) {
			return err
		}
		if n != nil || create || !errors.Is(err, vfs.ErrNoEntry) {
			r.failf("open %q create=%v: %v (exists: %v)", name, create, err, n != nil)
		}
		return nil
	}
	if n == nil && !create {
		r.failf("open of missing %q without create succeeded", name)
	}
	ofd, err := r.in.OFD(fd)
	if err != nil {
		return err
	}
	st, err := ofd.Stat()
	if err != nil {
		return err
	}
	if n == nil {
		n = &inodeRec{ino: st.Inode, name: name, append: strings.HasPrefix(name, "log"), links: 1}
		r.tree[name] = n
		r.nodes = append(r.nodes, n)
	} else if n.ino != st.Inode {
		r.failf("open %q reached inode %d, the tree says %d", name, st.Inode, n.ino)
	}
	d := &ofdRec{ofd: ofd, node: n, owner: a, h: fd, handleLive: true}
	n.ofds = append(n.ofds, d)
	r.ofds = append(r.ofds, d)
	r.descs[a] = append(r.descs[a], d)
	return nil
}

func (r *filesRun) startWrite(a int, d *ofdRec, tag int) error {
	s, w, err := r.in.NewStream()
	if err != nil {
		return err
	}
	o := &opRec{kind: kWrite, ofd: d, tag: tag, off: tag * regionSize, end: w, endOK: true, futOK: true}
	if d.node.append {
		o.kind = kAppend
		o.off = 0
		o.fut, err = r.in.AppendViaStream(d.h, s)
	} else {
		o.fut, err = r.in.WriteViaStream(d.h, s, uint64(o.off))
	}
	if err != nil {
		return err
	}
	o.sub = r.v == host.P3AsyncWrite
	if k := r.in.KindOf(o.fut); (k == host.KindSubtask) != o.sub {
		r.failf("write under %s returned a %s", r.v, k)
	}
	d.ops = append(d.ops, o)
	d.node.ops = append(d.node.ops, o)
	r.ops[a] = append(r.ops[a], o)
	return nil
}

func (r *filesRun) pull(o *opRec, n int) error {
	if o.kind == kReadDir {
		ents, res, err := r.in.ReadDirEntries(o.end, n)
		if err != nil {
			return err
		}
		o.gotDir = append(o.gotDir, ents...)
		if res.Progress != len(ents) {
			r.failf("read-directory progress %d for %d entries", res.Progress, len(ents))
		}
		if res.Status == host.Dropped {
			o.eof = true
		}
		r.checkListing(o)
		return nil
	}
	b, res, err := r.in.Read(o.end, n)
	if err != nil {
		return err
	}
	if res.Progress != len(b) {
		r.failf("read progress %d for %d bytes", res.Progress, len(b))
	}
	o.got = append(o.got, b...)
	if res.Status == host.Dropped {
		o.eof = true
	}
	r.checkRead(o)
	return nil
}

func (r *filesRun) await(o *opRec) error {
	res, err := r.in.Await(o.fut)
	if err != nil {
		return err
	}
	o.resolved = true
	o.result = res
	if res != nil {
		r.failf("%s future of %s resolved %v, want ok", o.kindName(), o.ofd.ofd, res)
		return nil
	}
	// Every byte of a write whose future resolved ok is in the file.
	switch o.kind {
	case kWrite:
		got := make([]byte, o.written)
		k, err := o.ofd.ofd.ReadAt(got, int64(o.off))
		if err != nil || k != o.written {
			r.failf("reading back write tag %d: %d bytes, %v", o.tag, k, err)
			return nil
		}
		for i, b := range got {
			if b != patternByte(o.tag, i) {
				r.failf("write tag %d resolved ok but byte %d at offset %d is %#x, want %#x", o.tag, i, o.off+i, b, patternByte(o.tag, i))
				return nil
			}
		}
	case kAppend:
		content := r.content(o.ofd)
		cnt := 0
		for _, b := range content {
			if int(b>>4) == o.tag {
				cnt++
			}
		}
		if cnt != o.written {
			r.failf("append tag %d resolved ok with %d of its %d bytes in the file", o.tag, cnt, o.written)
		}
	case kRead, kReadDir:
		// nothing more: ok is what a read that ended or was dropped gives
	}
	return nil
}

func (o *opRec) kindName() string {
	return [...]string{"", "write-via-stream", "append-via-stream", "read-via-stream", "read-directory"}[o.kind]
}

func (r *filesRun) dropDesc(d *ofdRec) error {
	// Under p3-async-write a descriptor with a write in progress is lent to
	// it: dropping it traps and changes nothing else.
	lent := false
	for _, o := range d.ops {
		if o.sub && !o.resolved {
			lent = true
		}
	}
	if lent {
		r.in.AcceptTrap() // expected: it must not fail the run as an ignored trap
	}
	err := r.in.Drop(d.h)
	var tr *host.Trap
	if errors.As(err, &tr) {
		if !lent || tr.Kind != host.TrapDropWithLends {
			return err
		}
		// The trapping drop itself did nothing before the instance was torn
		// down: the trap names the lent descriptor, and teardown left the
		// instance without any handle.
		if tr.Handle != d.h {
			r.failf("trap names handle %d, the drop was of %d", tr.Handle, d.h)
		}
		if live := r.in.Live(); len(live) != 0 {
			r.failf("trapped instance not torn down: handles %v still live", live)
		}
		r.trapped = tr
		return nil
	}
	if err != nil {
		return err
	}
	if lent {
		// The drop succeeded: every subtask on d must have resolved.
		for _, o := range d.ops {
			if o.sub && o.futOK && !o.resolved {
				if ok, err := r.in.Resolved(o.fut); err != nil || !ok {
					r.failf("dropping %s succeeded while write tag %d (subtask) is unresolved", d.ofd, o.tag)
				}
			}
		}
	}
	d.handleLive = false
	return nil
}

// conflicts reports whether another live description of d's inode holds
// a lock that conflicts with kind, by the harness's own records.
func (r *filesRun) conflicts(d *ofdRec, excl bool) bool {
	for _, o := range d.node.ofds {
		if o != d && o.lock != vfs.LockNone && o.ofd.Refs() > 0 && (excl || o.lock == vfs.LockExclusive) {
			return true
		}
	}
	return false
}

func (r *filesRun) lock(d *ofdRec, excl bool) error {
	kind := vfs.LockShared
	if excl {
		kind = vfs.LockExclusive
	}
	err := r.in.TryLock(d.h, kind)
	var tr *host.Trap
	if errors.As(err, &tr) {
		return err
	}
	// The call yields before it runs and not after: the other
	// descriptions' locks are now what they were when it ran.
	want := !r.conflicts(d, excl)
	switch {
	case err == nil && !want:
		r.failf("try-lock %v on %s succeeded against a conflicting lock", kind, d.ofd)
	case errors.Is(err, vfs.ErrWouldBlock) && want:
		r.failf("try-lock %v on %s would block with no conflicting lock held", kind, d.ofd)
	case err != nil && !errors.Is(err, vfs.ErrWouldBlock):
		r.failf("try-lock %v on %s: %v", kind, d.ofd, err)
	}
	if err == nil {
		d.lock = kind
	}
	return nil
}

// hostLock is a host (not the guest) opening the file and taking a lock:
// it must succeed exactly when no live description holds a conflicting
// lock, so locks released late (or early) show up here too.
func (r *filesRun) hostLock(name string, excl bool) error {
	n := r.tree[name]
	if n == nil {
		return nil
	}
	ofd, err := r.root.OpenAt(0, name, 0, vfs.Read)
	if err != nil {
		r.failf("host open %q: %v", name, err)
		return nil
	}
	d := &ofdRec{ofd: ofd, node: n, owner: -1, handleLive: true}
	n.ofds = append(n.ofds, d)
	r.ofds = append(r.ofds, d)
	r.hostDs = append(r.hostDs, d)
	kind := vfs.LockShared
	if excl {
		kind = vfs.LockExclusive
	}
	want := !r.conflicts(d, excl)
	err = ofd.TryLock(kind)
	switch {
	case err == nil && !want:
		r.failf("host try-lock %v on %q succeeded against a conflicting lock", kind, name)
	case err != nil && want:
		r.failf("host try-lock %v on %q: %v with no conflicting lock held", kind, name, err)
	}
	if err == nil {
		d.lock = kind
	}
	return nil
}

func (r *filesRun) hostClose(d *ofdRec) {
	if err := d.ofd.DecRef(); err != nil {
		r.failf("host close %s: %v", d.ofd, err)
	}
	d.handleLive = false
}

func (r *filesRun) pipeRead(n int) error {
	b, res, err := r.in.Read(r.pipeR, n)
	if err != nil {
		return err
	}
	r.pipeGot = append(r.pipeGot, b...)
	if res.Progress != len(b) {
		r.failf("pipe read progress %d for %d bytes", res.Progress, len(b))
	}
	for i := len(r.pipeGot) - len(b); i < len(r.pipeGot); i++ {
		if r.pipeGot[i] != pipeByte(i) {
			r.failf("pipe byte %d is %#x, want %#x", i, r.pipeGot[i], pipeByte(i))
			break
		}
	}
	if len(r.pipeGot) > r.pipeWritten+r.pipeOffering {
		r.failf("pipe delivered %d bytes, the writer wrote %d (+%d in flight)", len(r.pipeGot), r.pipeWritten, r.pipeOffering)
	}
	if res.Status == host.Dropped {
		r.pipeEOFRead = true
		if r.pipeWOK || len(r.pipeGot) != r.pipeWritten {
			r.failf("pipe ended (writer dropped: %v) after %d bytes, the writer wrote %d", !r.pipeWOK, len(r.pipeGot), r.pipeWritten)
		}
	}
	return nil
}

func (r *filesRun) pipeDrop(a int) error {
	switch {
	case a == 0 && r.pipeWOK:
		if err := r.in.Drop(r.pipeW); err != nil {
			return err
		}
		r.pipeWOK = false
	case a == 1 && r.pipeROK:
		if err := r.in.Drop(r.pipeR); err != nil {
			return err
		}
		r.pipeROK = false
	}
	return nil
}

// cleanup drops everything the actor still holds, in an order that is
// always legal: stream ends first (so every future resolves), then the
// futures (awaiting subtasks, which must resolve before they are dropped),
// then descriptors and host-side descriptions.
func (r *filesRun) cleanup(a int) error {
	in := r.in
	for _, o := range r.ops[a] {
		if o.endOK {
			if err := in.Drop(o.end); err != nil {
				return err
			}
			o.endOK = false
			r.checkAll()
		}
	}
	if err := r.pipeDrop(a); err != nil {
		return err
	}
	for _, o := range r.ops[a] {
		if !o.futOK {
			continue
		}
		if o.sub && !o.resolved {
			if err := r.await(o); err != nil {
				return err
			}
		}
		if err := in.Drop(o.fut); err != nil {
			return err
		}
		o.futOK = false
		r.checkAll()
	}
	for _, d := range r.descs[a] {
		if d.handleLive {
			if err := r.dropDesc(d); err != nil {
				return err
			}
			if r.trapped != nil {
				return nil
			}
			r.checkAll()
		}
	}
	if err := in.Drop(r.roots[a]); err != nil {
		return err
	}
	if r.done == len(r.prog.Actors)-1 { // the last actor closes the host's descriptions
		for _, d := range r.hostDs {
			if d.handleLive {
				r.hostClose(d)
			}
		}
	}
	return nil
}

// ---- invariants ----

// refBounds is what the harness knows of d's reference count.
func (d *ofdRec) refBounds() (lo, hi int) {
	if d.handleLive {
		lo, hi = 1, 1
	}
	for _, o := range d.ops {
		l, h := o.streamRefs()
		lo, hi = lo+l, hi+h
		if o.futOK {
			lo, hi = lo+1, hi+1
		}
	}
	return lo, hi
}

// checkAll checks the invariants that hold at every point of the run.
func (r *filesRun) checkAll() {
	if r.trapped != nil || r.checksDisabled {
		return
	}
	for _, d := range r.ofds {
		refs := int(d.ofd.Refs())
		lo, hi := d.refBounds()
		if refs < lo || refs > hi {
			what := "released early"
			if refs > hi {
				what = "kept alive late"
			}
			r.failf("%s (%s) %s: %d references, the harness counts %d..%d", d.ofd, d.ofd.Name(), what, refs, lo, hi)
		}
		// Locks go exactly with the last reference.
		want := d.lock
		if refs == 0 {
			want = vfs.LockNone
		}
		if got := d.ofd.LockState(); got != want {
			r.failf("%s (%s) with %d references holds lock %v, want %v", d.ofd, d.ofd.Name(), refs, got, want)
		}
	}
	r.checkUsage()
	for _, n := range r.nodes {
		if c, ok := r.contentOfNode(n); ok {
			r.checkContent(n, c)
		}
	}
}

// liveOFD returns a referenced description of n, if any.
func (n *inodeRec) liveOFD() *vfs.OFD {
	for _, d := range n.ofds {
		if d.ofd.Refs() > 0 {
			return d.ofd
		}
	}
	return nil
}

func (r *filesRun) nameOf(n *inodeRec) string {
	for name, x := range r.tree {
		if x == n {
			return name
		}
	}
	return ""
}

// statNode stats an inode through a live description or its name.
func (r *filesRun) statNode(n *inodeRec) (vfs.Stat, bool) {
	if o := n.liveOFD(); o != nil {
		st, err := o.Stat()
		return st, err == nil
	}
	if name := r.nameOf(n); name != "" {
		st, err := r.root.StatAt(0, name)
		return st, err == nil
	}
	return vfs.Stat{}, false
}

// checkUsage: an inode's data is freed exactly when its last link and its
// last reference are gone.
func (r *filesRun) checkUsage() {
	want := vfs.Usage{Inodes: 1}
	for _, n := range r.nodes {
		if n.links == 0 && n.liveOFD() == nil {
			continue
		}
		st, ok := r.statNode(n)
		if !ok {
			r.failf("inode %d (%s) is linked or open but cannot be stat'ed", n.ino, n.name)
			continue
		}
		want.Inodes++
		want.Bytes += int64(st.Size)
	}
	if got := r.h.FS().Usage(); got != want {
		r.failf("usage %+v, want %+v (linked or referenced inodes only)", got, want)
	}
}

func (r *filesRun) content(d *ofdRec) []byte {
	st, err := d.ofd.Stat()
	if err != nil {
		return nil
	}
	b := make([]byte, st.Size)
	d.ofd.ReadAt(b, 0) //nolint:errcheck // sized from Stat
	return b
}

func (r *filesRun) contentOfNode(n *inodeRec) ([]byte, bool) {
	o := n.liveOFD()
	if o == nil {
		return nil, false
	}
	st, err := o.Stat()
	if err != nil {
		return nil, false
	}
	b := make([]byte, st.Size)
	if _, err := o.ReadAt(b, 0); err != nil {
		return nil, false
	}
	return b, true
}

// checkContent: every byte of a file was written by one of its ops, at its
// place, at most once (and for writes, no further than the op got).
func (r *filesRun) checkContent(n *inodeRec, c []byte) {
	byTag := map[int]*opRec{}
	for _, o := range n.ops {
		byTag[o.tag] = o
	}
	if !n.append {
		limit := 0
		for _, o := range n.ops {
			limit = max(limit, o.off+o.written+o.offering)
		}
		if len(c) > limit {
			r.failf("inode %d (%s) is %d bytes, its writes reach at most %d", n.ino, n.name, len(c), limit)
		}
		for p, b := range c {
			if b == 0 {
				continue
			}
			o := byTag[p/regionSize]
			i := p % regionSize
			if o == nil || i >= o.written+o.offering || b != patternByte(o.tag, i) {
				r.failf("inode %d (%s) byte %d is %#x: no write put it there", n.ino, n.name, p, b)
				return
			}
		}
		return
	}
	seen := map[int]int{}
	for p, b := range c {
		tag := int(b >> 4)
		o := byTag[tag]
		if o == nil {
			r.failf("inode %d (%s) byte %d is %#x: no append wrote it", n.ino, n.name, p, b)
			return
		}
		if b != patternByte(tag, seen[tag]) {
			r.failf("inode %d (%s) byte %d is %#x: append tag %d out of order (want its byte %d)", n.ino, n.name, p, b, tag, seen[tag])
			return
		}
		seen[tag]++
		if seen[tag] > o.written+o.offering {
			r.failf("inode %d (%s) holds %d bytes of append tag %d, the guest wrote %d", n.ino, n.name, seen[tag], tag, o.written)
			return
		}
	}
}

// checkRead: a read stream delivers the file's bytes, and nothing past
// its end.
func (r *filesRun) checkRead(o *opRec) {
	c := r.content(o.ofd)
	if len(o.got) > len(c) {
		r.failf("read of %s delivered %d bytes, the file has %d", o.ofd.ofd, len(o.got), len(c))
		return
	}
	for p, b := range o.got {
		if b != c[p] && (o.ofd.node.append || b != 0) {
			r.failf("read of %s byte %d is %#x, the file has %#x", o.ofd.ofd, p, b, c[p])
			return
		}
	}
}

// checkListing: a directory stream delivers the snapshot taken at the
// call, in order, and nothing after its end.
func (r *filesRun) checkListing(o *opRec) {
	var got []string
	for _, e := range o.gotDir {
		got = append(got, e.Name)
	}
	if len(got) > len(o.listing) || !slices.Equal(got, o.listing[:len(got)]) || o.eof && len(got) != len(o.listing) {
		r.failf("read-directory delivered %q (ended: %v), the tree held %q", got, o.eof, o.listing)
	}
}

// endChecks runs when the world ends (as a leak check, so its findings are
// in the outcome and the trace).
func (r *filesRun) endChecks() []string {
	out := slices.Clone(r.violations)
	r.checksDisabled = true
	if r.trapped != nil {
		// Torn down: every reference must be gone by the end, and with
		// them every lock; the tree itself is not tracked past the trap.
		for _, d := range r.ofds {
			if slices.Contains(r.hostDs, d) && d.handleLive {
				continue // the harness's own description, not the instance's
			}
			if refs := d.ofd.Refs(); refs != 0 {
				out = append(out, fmt.Sprintf("%s (%s) still has %d references after teardown", d.ofd, d.ofd.Name(), refs))
			}
		}
		return out
	}
	for _, d := range r.ofds {
		if refs := d.ofd.Refs(); refs != 0 {
			out = append(out, fmt.Sprintf("%s (%s) still has %d references at the end", d.ofd, d.ofd.Name(), refs))
		}
	}
	if l := r.h.FS().Locks(); len(l) > 0 {
		out = append(out, fmt.Sprintf("locks held at the end: %v", l))
	}
	want := vfs.Usage{Inodes: 1}
	for name, n := range r.tree {
		st, err := r.root.StatAt(0, name)
		if err != nil || st.Inode != n.ino {
			out = append(out, fmt.Sprintf("%q: %v (inode %d, want %d)", name, err, st.Inode, n.ino))
			continue
		}
		want.Inodes++
		want.Bytes += int64(st.Size)
	}
	if got := r.h.FS().Usage(); got != want {
		out = append(out, fmt.Sprintf("usage at the end %+v, want %+v", got, want))
	}
	out = append(out, futuresResolvedOnce(r.w.Trace())...)
	r.root.DecRef() //nolint:errcheck
	return out
}

// futuresResolvedOnce checks, on the trace, that every future the host
// made resolved exactly once.
func futuresResolvedOnce(tr *sim.Trace) []string {
	if tr == nil {
		return nil
	}
	count := map[string]int{}
	var order []string
	for _, e := range tr.Events {
		switch e.Kind {
		case "future.new":
			order = append(order, e.Obj)
			count[e.Obj] += 0
		case "resolve":
			count[e.Obj]++
		}
	}
	var out []string
	for _, f := range order {
		if count[f] != 1 {
			out = append(out, fmt.Sprintf("%s resolved %d times", f, count[f]))
		}
	}
	return out
}
