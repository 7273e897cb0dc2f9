package vfs

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
)

func TestUnlinkWhileOpen(t *testing.T) {
	f, r := newTestFS(t, Options{})
	base := f.Usage()
	writeFile(t, r, "f", strings.Repeat("x", 1000))
	if u := f.Usage(); u.Bytes != base.Bytes+1000 || u.Inodes != base.Inodes+1 {
		t.Fatalf("usage after write %+v", u)
	}
	a, err := r.OpenAt(0, "f", 0, Read|Write)
	must(t, err)
	b, err := r.OpenAt(0, "f", 0, Read)
	must(t, err)
	must(t, a.IncRef()) // a second reference, as an in-flight stream would hold
	must(t, r.UnlinkFileAt("f"))
	if _, err := r.StatAt(0, "f"); err != ErrNoEntry {
		t.Error("name still present")
	}
	// Still readable and writable through the open descriptions.
	if _, err := a.Append([]byte("yz")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	n, err := b.ReadAt(buf, 0)
	if err != nil || n != 1002 || string(buf[1000:n]) != "yz" {
		t.Fatalf("read after unlink: %d %v", n, err)
	}
	if st, _ := a.Stat(); st.LinkCount != 0 {
		t.Errorf("link count %d", st.LinkCount)
	}
	steps := []struct {
		drop  *OFD
		freed bool
	}{{b, false}, {a, false}, {a, true}}
	for i, s := range steps {
		must(t, s.drop.DecRef())
		u := f.Usage()
		if freed := u.Bytes == base.Bytes && u.Inodes == base.Inodes; freed != s.freed {
			t.Fatalf("step %d: usage %+v, want freed=%v", i, u, s.freed)
		}
	}
	if err := a.DecRef(); !errors.Is(err, ErrRefCount) {
		t.Errorf("DecRef past zero: %v", err)
	}
	if u := f.Usage(); u != base {
		t.Errorf("DecRef past zero changed usage %+v", u)
	}
	if len(f.RefErrors()) != 1 {
		t.Errorf("ref errors %v", f.RefErrors())
	}
}

func TestRenameOverOpenFile(t *testing.T) {
	f, r := newTestFS(t, Options{})
	writeFile(t, r, "old", "OLD")
	writeFile(t, r, "new", "NEW!")
	victim, err := r.OpenAt(0, "new", 0, Read)
	must(t, err)
	base := f.Usage()
	must(t, r.RenameAt("old", r, "new"))
	if readFile(t, r, "new") != "OLD" {
		t.Error("rename")
	}
	// The replaced inode lives on while open.
	buf := make([]byte, 10)
	n, _ := victim.ReadAt(buf, 0)
	if string(buf[:n]) != "NEW!" {
		t.Errorf("replaced file read %q", buf[:n])
	}
	if f.Usage() != base {
		t.Errorf("freed too early: %+v vs %+v", f.Usage(), base)
	}
	must(t, victim.DecRef())
	if u := f.Usage(); u.Bytes != base.Bytes-4 || u.Inodes != base.Inodes-1 {
		t.Errorf("not freed at last DecRef: %+v", u)
	}
	// A hard link keeps data alive after the original name and all OFDs go.
	writeFile(t, r, "h1", "HH")
	must(t, r.LinkAt(0, "h1", r, "h2"))
	before := f.Usage()
	must(t, r.UnlinkFileAt("h1"))
	if f.Usage() != before {
		t.Error("freed with a link left")
	}
	must(t, r.UnlinkFileAt("h2"))
	if u := f.Usage(); u.Bytes != before.Bytes-2 || u.Inodes != before.Inodes-1 {
		t.Errorf("not freed after last unlink: %+v", u)
	}
}

func TestRefCountAndHooks(t *testing.T) {
	f, r := newTestFS(t, Options{})
	d, err := r.OpenAt(0, "f", OpenCreate, Write)
	must(t, err)
	var order []string
	d.OnRelease(func() { order = append(order, "first") })
	d.OnRelease(func() {
		order = append(order, "second")
		// Hooks run outside the FS lock: they may call into the FS.
		if _, err := r.StatAt(0, "f"); err != nil {
			t.Error(err)
		}
	})
	must(t, d.IncRef())
	must(t, d.IncRef())
	if d.Refs() != 3 {
		t.Errorf("refs %d", d.Refs())
	}
	if live := f.Live(); len(live) != 2 || live[1] != "ofd#2 /f refs=3" {
		t.Errorf("Live = %q", live)
	}
	must(t, d.DecRef())
	must(t, d.DecRef())
	if len(order) != 0 {
		t.Error("released early")
	}
	must(t, d.DecRef())
	if strings.Join(order, ",") != "first,second" {
		t.Errorf("hooks %v", order)
	}
	if err := d.IncRef(); !errors.Is(err, ErrRefCount) {
		t.Errorf("IncRef of released: %v", err)
	}
	if d.Refs() != 0 {
		t.Error("resurrected")
	}
	ran := false
	d.OnRelease(func() { ran = true })
	if !ran {
		t.Error("OnRelease on released OFD did not run at once")
	}
	if live := f.Live(); len(live) != 1 || live[0] != "ofd#1 / refs=1" {
		t.Errorf("Live = %q", live)
	}
	if got := f.RefErrors(); len(got) != 1 || !strings.Contains(got[0], "IncRef on released ofd#2") {
		t.Errorf("RefErrors %q", got)
	}
}

func TestQuota(t *testing.T) {
	f, r := newTestFS(t, Options{MaxBytes: 100, MaxInodes: 4})
	d, err := r.OpenAt(0, "a", OpenCreate, Read|Write)
	must(t, err)
	defer d.DecRef()
	_, err = d.WriteAt(bytes.Repeat([]byte("a"), 60), 0)
	must(t, err)
	_, err = d.WriteAt(bytes.Repeat([]byte("b"), 50), 60)
	wantErr(t, "over quota", err, ErrInsufficientSpace)
	_, err = d.Append(bytes.Repeat([]byte("b"), 41))
	wantErr(t, "append over quota", err, ErrInsufficientSpace)
	_, err = d.WriteAt([]byte("x"), 200) // the zero fill counts too
	wantErr(t, "gap over quota", err, ErrInsufficientSpace)
	// Overwriting in place needs no space.
	_, err = d.WriteAt(bytes.Repeat([]byte("c"), 60), 0)
	must(t, err)
	if got := readFile(t, r, "a"); got != strings.Repeat("c", 60) {
		t.Errorf("data after failed writes: %q", got)
	}
	_, err = d.Append(bytes.Repeat([]byte("d"), 40))
	must(t, err) // exactly at the limit
	if u := f.Usage(); u.Bytes != 100 {
		t.Errorf("usage %+v", u)
	}
	wantErr(t, "symlink over quota", r.SymlinkAt("target", "l"), ErrInsufficientSpace)
	must(t, d.SetSize(50))
	must(t, r.SymlinkAt("target", "l"))
	must(t, r.CreateDirectoryAt("dir")) // inode 4 of 4
	wantErr(t, "inode quota mkdir", r.CreateDirectoryAt("dir2"), ErrQuota)
	_, err = r.OpenAt(0, "b", OpenCreate, Write)
	wantErr(t, "inode quota create", err, ErrQuota)
	if u := f.Usage(); u.Inodes != 4 {
		t.Errorf("inodes %+v", u)
	}
	must(t, r.UnlinkFileAt("l"))
	must(t, r.CreateDirectoryAt("dir2"))
	if got := readFile(t, r, "a"); got != strings.Repeat("c", 50) {
		t.Errorf("data lost: %q", got)
	}
}

// Without a World, Lock blocks the calling goroutine until the lock is
// free, on the same kind of wait queue as vnet's blocking calls.
func TestLockWaitsWithoutWorld(t *testing.T) {
	_, r := newTestFS(t, Options{})
	writeFile(t, r, "f", "x")
	a, _ := r.OpenAt(0, "f", 0, Read)
	defer a.DecRef()
	b, _ := r.OpenAt(0, "f", 0, Read)
	defer b.DecRef()
	must(t, a.TryLock(LockExclusive))
	done := make(chan error, 1)
	go func() { done <- b.Lock(LockShared) }()
	select {
	case err := <-done:
		t.Fatalf("Lock did not wait: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	must(t, a.Unlock())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.LockState() != LockShared {
		t.Errorf("b holds %v", b.LockState())
	}
}

func TestLocks(t *testing.T) {
	f, r := newTestFS(t, Options{})
	writeFile(t, r, "f", "x")
	a, _ := r.OpenAt(0, "f", 0, Read)
	b, _ := r.OpenAt(0, "f", 0, Read)
	c, _ := r.OpenAt(0, "f", 0, Read)
	defer c.DecRef()
	ino := inoOf(t, r, "f")

	steps := []struct {
		name string
		err  error
		want error
	}{
		{"a shared", a.TryLock(LockShared), nil},
		{"b shared", b.TryLock(LockShared), nil},
		{"c exclusive blocked", c.TryLock(LockExclusive), ErrWouldBlock},
		{"a upgrade blocked", a.TryLock(LockExclusive), ErrWouldBlock},
		{"a still shared", lockIs(a, LockShared), nil},
		{"b unlock", b.Unlock(), nil},
		{"b unlock again", b.Unlock(), nil},
		{"a upgrade", a.TryLock(LockExclusive), nil},
		{"a exclusive again", a.TryLock(LockExclusive), nil},
		{"b shared blocked", b.TryLock(LockShared), ErrWouldBlock},
		{"bad kind", a.TryLock(LockNone), ErrInvalid},
	}
	for _, s := range steps {
		wantErr(t, s.name, s.err, s.want)
	}
	if h := a.LockHolders(); len(h) != 1 || h[0] != (LockInfo{Inode: ino, OFD: a.ID(), Kind: LockExclusive}) {
		t.Errorf("holders %+v", h)
	}
	if h, err := r.LockHoldersAt(0, "f"); err != nil || len(h) != 1 || h[0].OFD != a.ID() {
		t.Errorf("holders at path %+v %v", h, err)
	}
	if _, err := r.LockHoldersAt(0, "nope"); err != ErrNoEntry {
		t.Errorf("holders of missing: %v", err)
	}
	must(t, a.TryLock(LockShared)) // downgrade
	must(t, b.TryLock(LockShared))
	want := []LockInfo{{ino, a.ID(), LockShared}, {ino, b.ID(), LockShared}}
	if got := f.Locks(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Locks %+v", got)
	}
	// Two OFDs of one file are independent: dropping b does not release a's lock.
	must(t, b.DecRef())
	if a.LockState() != LockShared {
		t.Error("a lost its lock when b was dropped")
	}
	wantErr(t, "c blocked by a", c.TryLock(LockExclusive), ErrWouldBlock)
	// A second reference to a keeps the lock; the last DecRef releases it.
	must(t, a.IncRef())
	must(t, a.DecRef())
	wantErr(t, "still held", c.TryLock(LockExclusive), ErrWouldBlock)
	must(t, a.DecRef())
	must(t, c.TryLock(LockExclusive))
	if got := f.Locks(); len(got) != 1 || got[0].OFD != c.ID() {
		t.Errorf("Locks %+v", got)
	}
	// Directories lock too.
	must(t, r.TryLock(LockExclusive))
	must(t, r.Unlock())
}

func lockIs(d *OFD, k LockKind) error {
	if d.LockState() != k {
		return errors.New("lock is " + d.LockState().String())
	}
	return nil
}

// events returns the trace events of the given kinds, as "kind obj detail".
func events(w *sim.World, kinds ...string) []string {
	var out []string
	for _, e := range w.Trace().Events {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, e.Kind+" "+e.Obj+" "+e.Detail)
			}
		}
	}
	return out
}

func TestReleaseEvents(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	f, r := newTestFS(t, Options{World: w})
	writeFile(t, r, "f", "abc")
	d, _ := r.OpenAt(0, "f", 0, Read)
	must(t, d.TryLock(LockExclusive))
	must(t, d.IncRef())
	must(t, r.UnlinkFileAt("f"))
	must(t, d.DecRef())
	if got := events(w, "release", "free"); len(got) != 1 { // only writeFile's close
		t.Fatalf("released early: %q", got)
	}
	must(t, d.DecRef())
	got := events(w, "release", "free")
	want := []string{
		"release ofd#2 close /f",
		"release ofd#3 close /f",
		"release ofd#3 unlock exclusive inode 2",
		"free inode#2 3 bytes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_ = f
}

// TestLockBlockingInSim runs two tasks contending for an exclusive lock;
// the world decides who gets it first, and the waiter proceeds only after
// the holder's last reference is dropped.
func TestLockBlockingInSim(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		w := sim.MustNew(sim.Config{Seed: seed, Trace: true})
		f, r := newTestFS(t, Options{World: w, LeakCheck: true})
		writeFile(t, r, "f", "")
		var order []string
		worker := func(name string) func(*sim.Task) error {
			return func(tk *sim.Task) error {
				d, err := r.OpenAt(0, "f", 0, Write)
				if err != nil {
					return err
				}
				if err := d.Lock(LockExclusive); err != nil {
					return err
				}
				order = append(order, name+" in")
				w.Yield()
				if _, err := d.Append([]byte(name)); err != nil {
					return err
				}
				order = append(order, name+" out")
				return d.DecRef() // releases the lock
			}
		}
		ta := w.Go("a", worker("a"))
		tb := w.Go("b", worker("b"))
		w.Go("closer", func(*sim.Task) error {
			ta.Join()
			tb.Join()
			return r.DecRef()
		})
		res := w.Run()
		if res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Error())
		}
		if len(order) != 4 || order[0][0] != order[1][0] || order[2][0] != order[3][0] {
			t.Fatalf("seed %d: critical sections interleaved: %v", seed, order)
		}
		if live := f.Live(); len(live) != 0 {
			t.Fatalf("leaks %v", live)
		}
	}
}

func TestLockUpgradeInSim(t *testing.T) {
	// Two shared holders both upgrade with Lock: as with flock, a blocked
	// upgrader drops its shared lock first, so they do not deadlock.
	w := sim.MustNew(sim.Config{Seed: 3, Trace: true})
	_, r := newTestFS(t, Options{World: w})
	writeFile(t, r, "f", "")
	up := func(*sim.Task) error {
		d, err := r.OpenAt(0, "f", 0, Read)
		if err != nil {
			return err
		}
		defer d.DecRef()
		if err := d.Lock(LockShared); err != nil {
			return err
		}
		w.Yield()
		if err := d.Lock(LockExclusive); err != nil {
			return err
		}
		w.Yield()
		return d.Lock(LockShared) // downgrade wakes the other
	}
	w.Go("u1", up)
	w.Go("u2", up)
	if res := w.Run(); res.Failed() {
		t.Fatal(res.Error())
	}
}

func TestLockDeadlockReport(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 7, Trace: true})
	_, r := newTestFS(t, Options{World: w})
	writeFile(t, r, "f", "")
	holder, _ := r.OpenAt(0, "f", 0, Read)
	must(t, holder.TryLock(LockExclusive)) // never released
	w.Go("waiter", func(*sim.Task) error {
		d, err := r.OpenAt(0, "f", 0, Read)
		if err != nil {
			return err
		}
		defer d.DecRef()
		return d.Lock(LockShared)
	})
	res := w.Run()
	if len(res.Deadlock) != 1 {
		t.Fatalf("want one deadlocked task, got %+v (%v)", res.Deadlock, res.Error())
	}
	if got := res.Deadlock[0].WaitingOn; got != "flock shared inode 2 for ofd#4" {
		t.Errorf("waiting on %q", got)
	}
	var de *sim.DeadlockError
	if !errors.As(res.Error(), &de) {
		t.Errorf("error %v", res.Error())
	}
}

// scenario is a small concurrent workload used for the determinism check.
func scenario(seed uint64, shuffle bool) (*sim.World, *sim.Result, []string) {
	w := sim.MustNew(sim.Config{Seed: seed, Trace: true})
	f := New(Options{World: w, ShuffleReaddir: shuffle, LeakCheck: true})
	r := f.Root(Read | MutateDirectory)
	var listings []string
	for i := 0; i < 3; i++ {
		name := "w" + itoa(uint64(i))
		w.Go(name, func(*sim.Task) error {
			d, err := r.OpenAt(0, name, OpenCreate, Write)
			if err != nil {
				return err
			}
			if err := d.Lock(LockExclusive); err != nil {
				return err
			}
			w.Yield()
			if _, err := d.Append([]byte(name)); err != nil {
				return err
			}
			shared, err := r.OpenAt(0, "shared", OpenCreate, Write)
			if err != nil {
				return err
			}
			if err := shared.Lock(LockExclusive); err != nil {
				return err
			}
			w.Yield()
			shared.Append([]byte(name))
			shared.DecRef()
			w.Yield()
			ents, _ := r.ReadDirectory()
			var names []string
			for _, e := range ents {
				names = append(names, e.Name)
			}
			listings = append(listings, strings.Join(names, ","))
			if err := r.UnlinkFileAt(name); err != nil {
				return err
			}
			return d.DecRef()
		})
	}
	w.Go("closer", func(*sim.Task) error {
		for len(listings) < 3 {
			w.Yield()
		}
		return r.DecRef()
	})
	res := w.Run()
	return w, res, listings
}

func TestDeterminism(t *testing.T) {
	for _, shuffle := range []bool{false, true} {
		for seed := uint64(1); seed <= 5; seed++ {
			w1, res1, l1 := scenario(seed, shuffle)
			w2, res2, l2 := scenario(seed, shuffle)
			if res1.Failed() || res2.Failed() {
				t.Fatalf("seed %d: %v / %v", seed, res1.Error(), res2.Error())
			}
			if !bytes.Equal(w1.Trace().Bytes(), w2.Trace().Bytes()) {
				t.Fatalf("seed %d shuffle %v: traces differ", seed, shuffle)
			}
			if strings.Join(l1, ";") != strings.Join(l2, ";") {
				t.Fatalf("listings differ")
			}
			if len(events(w1, "release")) == 0 || len(events(w1, "free")) != 3 {
				t.Fatalf("expected release and free events: %q", events(w1, "release", "free"))
			}
		}
	}
	// Shuffling actually changes the order for some seed.
	changed := false
	for seed := uint64(1); seed <= 10 && !changed; seed++ {
		_, _, l := scenario(seed, true)
		for _, s := range l {
			if !sortedCSV(s) {
				changed = true
			}
		}
	}
	if !changed {
		t.Error("ShuffleReaddir never changed the order")
	}
}

func sortedCSV(s string) bool {
	p := strings.Split(s, ",")
	for i := 1; i < len(p); i++ {
		if p[i-1] > p[i] {
			return false
		}
	}
	return true
}
