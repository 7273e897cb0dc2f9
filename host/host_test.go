package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// scenario builds a host on the world and runs guest as one task of a
// fresh instance.
func scenario(v Variant, guest func(h *Host, in *Instance, root Handle) error) sim.Scenario {
	return func(w *sim.World) error {
		h, err := New(w, Options{Variant: v, Chunk: 4})
		if err != nil {
			return err
		}
		in := h.NewInstance("guest")
		w.Go("guest", func(t *sim.Task) error {
			pre, err := in.Preopens()
			if err != nil {
				return err
			}
			return guest(h, in, pre[0].Handle)
		})
		return nil
	}
}

// explore runs sc under many schedules of several strategies and fails on
// the first failing run, printing its trace.
func explore(t *testing.T, sc sim.Scenario) {
	t.Helper()
	for _, st := range []string{"random", "pct", "dfs"} {
		opt := sim.ExploreOptions{Strategy: st, Seed: 1, Runs: 200, Workers: 1,
			Options: sim.StrategyOptions{PCT: sim.PCTOptions{Depth: 3, Steps: 200}, DFS: sim.DFSOptions{MaxSchedules: 200}}}
		rep, err := sim.Explore(context.Background(), opt, sc)
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		if len(rep.Failures) > 0 {
			f := rep.Failures[0]
			t.Fatalf("%s run %d failed: %v\ntrace:\n%s", st, f.Run, f.Err, f.Trace.Bytes())
		}
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// TestDropDescriptorMidWriteP3 drops the descriptor before write-via-stream
// has consumed anything: under p3 every byte still lands in the file.
func TestDropDescriptorMidWriteP3(t *testing.T) {
	data := []byte("every byte of this write lands in the file")
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, err := in.OpenAt(root, 0, "f.txt", vfs.OpenCreate, vfs.Write)
		if err != nil {
			return err
		}
		r, w, _ := in.NewStream()
		fut, err := in.WriteViaStream(fd, r, 0)
		if err != nil {
			return err
		}
		// Drop the descriptor while the write has not even started.
		if err := in.Drop(fd); err != nil {
			return fmt.Errorf("drop during write: %w", err)
		}
		for i := 0; i < len(data); i += 5 {
			n, st, err := in.WriteAll(w, data[i:min(i+5, len(data))])
			if err != nil || st == Dropped || n != min(5, len(data)-i) {
				return fmt.Errorf("write chunk: %d %v %v", n, st, err)
			}
		}
		must(in.Drop(w))
		res, err := in.Await(fut)
		if err != nil || res != nil {
			return fmt.Errorf("future: %v %v", res, err)
		}
		must(in.Drop(fut))
		fd2, err := in.OpenAt(root, 0, "f.txt", 0, vfs.Read)
		if err != nil {
			return err
		}
		s, f2, _ := in.ReadViaStream(fd2, 0)
		got, err := in.ReadAll(s, 7)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, data) {
			return fmt.Errorf("file holds %q", got)
		}
		if res, _ := in.Await(f2); res != nil {
			return res
		}
		return in.DropAll()
	}))
}

func TestDropDescriptorMidWriteAsyncWriteTraps(t *testing.T) {
	res, tr, err := sim.RunOnce(sim.Config{Seed: 1, Trace: true}, scenario(P3AsyncWrite, func(h *Host, in *Instance, root Handle) error {
		fd, err := in.OpenAt(root, 0, "f.txt", vfs.OpenCreate, vfs.Write)
		if err != nil {
			return err
		}
		r, w, _ := in.NewStream()
		sub, err := in.WriteViaStream(fd, r, 0)
		if err != nil {
			return err
		}
		err = in.Drop(fd)
		var trap *Trap
		if !errors.As(err, &trap) || trap.Kind != TrapDropWithLends {
			return fmt.Errorf("drop of a lent descriptor: got %v, want a trap", err)
		}
		// The instance is poisoned now.
		if _, err := in.Write(w, []byte("x")); !errors.Is(err, &Trap{Kind: TrapInstanceTrapped}) {
			return fmt.Errorf("call after trap: %v", err)
		}
		_ = sub
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range res.Tasks {
		if tk.Name == "guest#1" && tk.Err != nil {
			t.Fatal(tk.Err)
		}
	}
	if !bytes.Contains(tr.Bytes(), []byte(`"kind":"trap"`)) {
		t.Fatal("trap not in the trace")
	}
}

func TestLockReleasedAfterLastReference(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, err := in.OpenAt(root, 0, "locked", vfs.OpenCreate, vfs.Write|vfs.Read)
		if err != nil {
			return err
		}
		if err := in.TryLock(fd, vfs.LockExclusive); err != nil {
			return err
		}
		// Another open file description of the same file (standing for
		// another process, or the host) probes the lock.
		other, err := in.OpenAt(root, 0, "locked", 0, vfs.Read)
		if err != nil {
			return err
		}
		probe := func() bool {
			err := in.TryLock(other, vfs.LockShared)
			if err == nil {
				must(in.Unlock(other))
				return true
			}
			if !errors.Is(err, vfs.ErrWouldBlock) {
				panic(err)
			}
			return false
		}
		r, w, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		must(in.Drop(fd))
		if probe() {
			return errors.New("lock released while the write stream and future live")
		}
		in.WriteAll(w, []byte("data"))
		must(in.Drop(w))
		if _, err := in.Await(fut); err != nil {
			return err
		}
		if probe() {
			return errors.New("lock released while the future's readable end lives")
		}
		must(in.Drop(fut))
		// The host consumer drops the stream after its last write; wait
		// for it (blocking, so every strategy lets the consumer run).
		for range 100 {
			if probe() {
				return in.DropAll()
			}
			h.World().Sleep(1)
		}
		return errors.New("lock never released after the last reference dropped")
	}))
}

func TestTwoOpenAtAreIndependent(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		a, _ := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Write)
		b, _ := in.OpenAt(root, 0, "f", 0, vfs.Read)
		c, _ := in.OpenAt(root, 0, "f", 0, vfs.Read)
		must(in.TryLock(b, vfs.LockShared))
		must(in.Drop(a))
		if err := in.TryLock(c, vfs.LockExclusive); !errors.Is(err, vfs.ErrWouldBlock) {
			return fmt.Errorf("dropping one OFD released another's lock: %v", err)
		}
		same, _ := in.IsSameObject(b, c)
		if !same {
			return errors.New("is-same-object false for one file")
		}
		return in.DropAll()
	}))
}

func TestReadAfterUnlink(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, _ := in.OpenAt(root, 0, "gone", vfs.OpenCreate, vfs.Write|vfs.Read)
		r, w, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		in.WriteAll(w, []byte("still here"))
		must(in.Drop(w))
		in.Await(fut)
		must(in.Drop(fut))
		s, f, _ := in.ReadViaStream(fd, 0)
		must(in.UnlinkFileAt(root, "gone"))
		must(in.Drop(fd))
		if _, err := in.StatAt(root, 0, "gone"); !errors.Is(err, vfs.ErrNoEntry) {
			return fmt.Errorf("stat after unlink: %v", err)
		}
		got, _ := in.ReadAll(s, 3)
		if string(got) != "still here" {
			return fmt.Errorf("read after unlink got %q", got)
		}
		if u := h.FS().Usage(); u.Bytes == 0 {
			return errors.New("unlinked data freed while the read stream lives")
		}
		in.Await(f)
		must(in.Drop(s))
		must(in.Drop(f))
		if u := h.FS().Usage(); u.Bytes != 0 {
			return fmt.Errorf("unlinked data not freed after the last reference: %+v", u)
		}
		return in.DropAll()
	}))
}

func TestTrapsOnBadHandles(t *testing.T) {
	cases := []struct {
		name string
		kind TrapKind
		f    func(in *Instance, root Handle) error
	}{
		{"forged", TrapForgedHandle, func(in *Instance, root Handle) error { _, err := in.Stat(999); return err }},
		{"zero", TrapForgedHandle, func(in *Instance, root Handle) error { return in.Drop(0) }},
		{"dead", TrapDeadHandle, func(in *Instance, root Handle) error {
			fd, _ := in.OpenAt(root, 0, "x", vfs.OpenCreate, vfs.Write)
			in.Drop(fd)
			_, err := in.Stat(fd)
			return err
		}},
		{"wrong type", TrapWrongType, func(in *Instance, root Handle) error {
			r, _, _ := in.NewStream()
			_, err := in.Stat(r)
			return err
		}},
		{"drop busy end", TrapBusyEnd, func(in *Instance, root Handle) error {
			_, w, _ := in.NewStream()
			in.StartWrite(w, []byte("x"))
			return in.Drop(w)
		}},
		{"second read", TrapBusyEnd, func(in *Instance, root Handle) error {
			r, _, _ := in.NewStream()
			in.StartRead(r, 1)
			return in.StartRead(r, 1)
		}},
		{"read after dropped", TrapAfterDropped, func(in *Instance, root Handle) error {
			r, w, _ := in.NewStream()
			in.Drop(w)
			in.Read(r, 1)
			_, _, err := in.Read(r, 1)
			return err
		}},
		{"future read twice", TrapAfterDropped, func(in *Instance, root Handle) error {
			fd, _ := in.OpenAt(root, 0, "x", vfs.OpenCreate, vfs.Read)
			_, f, _ := in.ReadViaStream(fd, 0)
			in.Await(f)
			_, err := in.Await(f)
			return err
		}},
		{"huge read", TrapBadArgument, func(in *Instance, root Handle) error {
			r, _, _ := in.NewStream()
			return in.StartRead(r, -1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got error
			res, _, err := sim.RunOnce(sim.Config{Seed: 1}, scenario(P3, func(h *Host, in *Instance, root Handle) error {
				got = tc.f(in, root)
				return nil
			}))
			if err != nil || res.Err != nil {
				t.Fatal(err, res.Err)
			}
			var trap *Trap
			if !errors.As(got, &trap) || trap.Kind != tc.kind {
				t.Fatalf("got %v, want a %s trap", got, tc.kind)
			}
			if !strings.Contains(trap.Error(), "guest") {
				t.Errorf("trap does not name the instance: %v", trap)
			}
		})
	}
}

func TestCancelRacesWithCompletion(t *testing.T) {
	// A cancel after the copy happened reports COMPLETED, not CANCELLED.
	res, _, _ := sim.RunOnce(sim.Config{Seed: 1}, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		r, w, _ := in.NewStream()
		must(in.StartRead(r, 10))
		must(in.StartWrite(w, []byte("abc")))
		got, cr, err := in.CancelRead(r)
		if err != nil || cr.Status != Completed || string(got) != "abc" {
			return fmt.Errorf("cancel after copy: %q %v %v", got, cr, err)
		}
		cw, _ := in.CancelWrite(w)
		if cw.Status != Completed || cw.Progress != 3 {
			return fmt.Errorf("write result %v", cw)
		}
		must(in.StartRead(r, 10))
		_, cr, _ = in.CancelRead(r)
		if cr.Status != Cancelled {
			return fmt.Errorf("cancel of a pending read: %v", cr)
		}
		return in.DropAll()
	}))
	if res.Failed() {
		t.Fatal(res.Error())
	}
}

func TestLeakCheckNamesHolders(t *testing.T) {
	res, _, _ := sim.RunOnce(sim.Config{Seed: 1}, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, _ := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Read)
		in.ReadViaStream(fd, 0)
		return nil
	}))
	out := fmt.Sprint(res.Leaks)
	for _, want := range []string{"descriptor", "stream#", "future#"} {
		if !strings.Contains(out, want) {
			t.Errorf("leak report %s does not mention %s", out, want)
		}
	}
}

func TestDeterministicTraces(t *testing.T) {
	sc := scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, _ := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Write|vfs.Read)
		r, w, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		h.World().Go("writer", func(t *sim.Task) error {
			in.WriteAll(w, bytes.Repeat([]byte("ab"), 20))
			return in.Drop(w)
		})
		in.Drop(fd)
		in.Await(fut)
		return in.Drop(fut)
	})
	for seed := uint64(1); seed < 20; seed++ {
		_, a, _ := sim.RunOnce(sim.Config{Seed: seed, Trace: true}, sc)
		_, b, _ := sim.RunOnce(sim.Config{Seed: seed, Trace: true}, sc)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("seed %d: traces differ", seed)
		}
		res, _, err := sim.Replay(a, sim.Config{}, nil, sc)
		if err != nil || res.Divergence != nil {
			t.Fatalf("seed %d: replay: %v %v", seed, err, res.Divergence)
		}
	}
}

func TestTrapEndsBlockedCallsOfTheInstance(t *testing.T) {
	// One task of the instance waits on a future while another traps: the
	// instance is torn down and the waiting call returns the trap, not a
	// value about objects the teardown released.
	var awaited error
	res, _, err := sim.RunOnce(sim.Config{Seed: 1}, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, _ := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Write)
		r, w, _ := in.NewStream()
		fut, _ := in.WriteViaStream(fd, r, 0)
		waiter := h.World().Go("waiter", func(*sim.Task) error {
			_, awaited = in.Await(fut)
			return nil
		})
		h.World().Yield()
		in.AcceptTrap()
		in.Drop(999) // trap: forged handle
		waiter.Join()
		_ = w
		return nil
	}))
	if err != nil || res.Failed() {
		t.Fatal(err, res.Error())
	}
	if !errors.Is(awaited, &Trap{Kind: TrapInstanceTrapped}) {
		t.Fatalf("await in a trapped instance returned %v, want an instance-trapped trap", awaited)
	}
}

// A trapped instance fails the run even when the task that got the trap
// ignores it; a trap a task returns is reported once; a closed instance
// (its guest exited) and a trap provoked on purpose (AcceptTrap) do not
// fail it.
func TestTrappedInstanceFailsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		guest func(in *Instance) error
		want  string // the run's error, "" for none
	}{
		{"ignored", func(in *Instance) error { in.Drop(4242); return nil },
			"host: instance guest trapped and no task returned the trap: trap in guest: drop: forged handle of handle 4242"},
		{"returned", func(in *Instance) error { return in.Drop(4242) },
			"task guest#1: trap in guest: drop: forged handle of handle 4242"},
		{"wrapped", func(in *Instance) error { return fmt.Errorf("step 3: %w", errors.Join(nil, in.Drop(4242))) },
			"task guest#1: step 3: trap in guest: drop: forged handle of handle 4242"},
		{"closed", func(in *Instance) error { in.Close(); in.Drop(4242); return nil }, ""},
		{"accepted", func(in *Instance) error { in.AcceptTrap(); in.Drop(4242); return nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.MustNew(sim.Config{Seed: 1})
			h, err := New(w, Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := h.NewInstance("guest")
			w.Go("guest", func(*sim.Task) error { return tc.guest(in) })
			got := ""
			if err := w.Run().Error(); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("run error\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}
