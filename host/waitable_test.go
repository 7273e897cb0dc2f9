package host

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// A task waits on a set holding a pending read of a file's stream and of
// a stream another task writes: every byte of both arrives through
// events, whatever the schedule.
func TestWaitableSetDeliversStreamEvents(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		fd, err := in.OpenAt(root, 0, "f", vfs.OpenCreate, vfs.Read|vfs.Write)
		if err != nil {
			return err
		}
		ofd, _ := in.OFD(fd)
		if _, err := ofd.WriteAt([]byte("file!"), 0); err != nil {
			return err
		}
		fileData, fileRes, err := in.ReadViaStream(fd, 0)
		if err != nil {
			return err
		}
		r, w, _ := in.NewStream()
		set, _ := in.NewWaitableSet()
		for _, x := range []Handle{fileData, r} {
			if err := in.Join(x, set); err != nil {
				return err
			}
		}
		writer := h.World().Go("writer", func(*sim.Task) error {
			if _, _, err := in.WriteAll(w, []byte("pipe!")); err != nil {
				return err
			}
			return in.Drop(w)
		})
		got := map[Handle][]byte{}
		open := 2
		// handle takes one read's event; it reports whether to read on.
		handle := func(ev Event) (bool, error) {
			if ev.Code != EventStreamRead {
				return false, fmt.Errorf("event %v", ev)
			}
			got[ev.Handle] = append(got[ev.Handle], ev.Data.([]byte)...)
			if ev.Copy.Status == Dropped {
				open--
				return false, in.Drop(ev.Handle)
			}
			return true, nil
		}
		// read starts reads on x until one stays pending (a read may
		// complete at once when the writer is waiting).
		read := func(x Handle) error {
			for {
				ev, done, err := in.StartCopy(x, 2, nil)
				if err != nil || !done {
					return err
				}
				if more, err := handle(ev); !more || err != nil {
					return err
				}
			}
		}
		for _, x := range []Handle{fileData, r} {
			if err := read(x); err != nil {
				return err
			}
		}
		for open > 0 {
			ev, err := in.WaitEvent(set)
			if err != nil {
				return err
			}
			more, err := handle(ev)
			if err != nil {
				return err
			}
			if more {
				if err := read(ev.Handle); err != nil {
					return err
				}
			}
		}
		if !bytes.Equal(got[fileData], []byte("file!")) || !bytes.Equal(got[r], []byte("pipe!")) {
			return fmt.Errorf("got %q and %q", got[fileData], got[r])
		}
		if res, trap := in.Await(fileRes); res != nil || trap != nil {
			return errors.Join(res, trap)
		}
		if err := writer.Join(); err != nil {
			return err
		}
		return errors.Join(in.Drop(fileRes), in.Drop(set), in.Drop(fd))
	}))
}

// A future a guest makes: the write waits for the reader; the reader
// gets the value; the writer's event says COMPLETED.
func TestGuestFuture(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		r, w, err := in.NewFuture("test future")
		if err != nil {
			return err
		}
		if ev, done, err := in.StartCopy(w, 1, "value"); err != nil || done {
			return fmt.Errorf("write: %v %v %v", ev, done, err)
		}
		ev, done, err := in.StartCopy(r, 1, nil)
		if err != nil || !done || ev.Data != "value" || ev.Copy.Status != Completed {
			return fmt.Errorf("read: %v %v %v", ev, done, err)
		}
		ev, err = in.WaitCopy(w)
		if err != nil || ev.Code != EventFutureWrite || ev.Copy.Status != Completed {
			return fmt.Errorf("write's event: %v %v", ev, err)
		}
		return errors.Join(in.Drop(r), in.Drop(w))
	}))
}

// Dropping the readable end ends a pending write with DROPPED; dropping
// the writable end before it wrote traps.
func TestGuestFutureDrops(t *testing.T) {
	explore(t, scenario(P3, func(h *Host, in *Instance, root Handle) error {
		r, w, _ := in.NewFuture("f1")
		if _, _, err := in.StartCopy(w, 1, 7); err != nil {
			return err
		}
		if err := in.Drop(r); err != nil {
			return err
		}
		ev, err := in.WaitCopy(w)
		if err != nil || ev.Copy.Status != Dropped {
			return fmt.Errorf("write after the reader dropped: %v %v", ev, err)
		}
		if err := in.Drop(w); err != nil {
			return err
		}
		_, w2, _ := in.NewFuture("f2")
		in.AcceptTrap()
		err = in.Drop(w2)
		var tr *Trap
		if !errors.As(err, &tr) {
			return fmt.Errorf("dropping an unwritten future's writer: %v, want a trap", err)
		}
		return nil
	}))
}

// A subtask lends its borrowed handle until its resolution is delivered:
// dropping it meanwhile traps; afterwards it is fine.
func TestSubtaskLendsUntilDelivered(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 3, Trace: true})
	h, _ := New(w, Options{})
	in := h.NewInstance("guest")
	var dropErr error
	w.Go("guest", func(*sim.Task) error {
		pre, _ := in.Preopens()
		fd := pre[0].Handle
		st, sh, err := in.NewSubtask("stat")
		if err != nil {
			return err
		}
		if err := st.Lend(fd); err != nil {
			return err
		}
		w.Go("callee", func(*sim.Task) error {
			w.Yield()
			st.Return("done")
			return nil
		})
		set, _ := in.NewWaitableSet()
		if err := in.Join(sh, set); err != nil {
			return err
		}
		ev, err := in.WaitEvent(set)
		if err != nil {
			return err
		}
		if ev.Code != EventSubtask || ev.Subtask != SubtaskReturned || ev.Value != "done" {
			return fmt.Errorf("event %v", ev)
		}
		dropErr = in.Drop(fd)
		return errors.Join(in.Drop(sh), in.Drop(set))
	})
	if res := w.Run(); res.Failed() {
		t.Fatal(res.Error())
	}
	if dropErr != nil {
		t.Fatalf("dropping the handle after delivery: %v", dropErr)
	}

	// Before delivery the drop traps.
	w = sim.MustNew(sim.Config{Seed: 3})
	h, _ = New(w, Options{})
	in = h.NewInstance("guest")
	w.Go("guest", func(*sim.Task) error {
		pre, _ := in.Preopens()
		st, sh, _ := in.NewSubtask("stat")
		if err := st.Lend(pre[0].Handle); err != nil {
			return err
		}
		st.Return(nil)
		dropErr = in.Drop(pre[0].Handle)
		_ = sh
		return nil
	})
	w.Run()
	if !errors.Is(dropErr, &Trap{Kind: TrapDropWithLends}) {
		t.Fatalf("dropping a handle lent to an undelivered subtask: %v, want a drop-with-lends trap", dropErr)
	}
}

// Cancelling a subtask runs its cancel hook; a subtask resolved before
// the cancel reports its resolution at once; cancelling twice traps.
func TestCancelSubtask(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := New(w, Options{})
	in := h.NewInstance("guest")
	w.Go("guest", func(*sim.Task) error {
		st, sh, _ := in.NewSubtask("wait")
		st.OnCancel(st.ReturnCancelled)
		ev, done, err := in.CancelSubtask(sh)
		if err != nil || !done || ev.Subtask != SubtaskCancelledBeforeReturned {
			return fmt.Errorf("cancel: %v %v %v", ev, done, err)
		}
		if err := in.Drop(sh); err != nil {
			return err
		}
		st2, sh2, _ := in.NewSubtask("slow")
		if _, done, err := in.CancelSubtask(sh2); err != nil || done {
			return fmt.Errorf("cancel of a call that ignores it: %v %v", done, err)
		}
		if _, _, err := in.CancelSubtask(sh2); !errors.Is(err, &Trap{Kind: TrapBusyEnd}) {
			return fmt.Errorf("second cancel: %v, want a trap", err)
		}
		_ = st2
		return nil
	})
	res := w.Run()
	if res.Failed() && len(res.Tasks) > 0 && res.Tasks[0].Err != nil {
		t.Fatal(res.Tasks[0].Err)
	}
}

// A waitable set with members cannot be dropped; a stream end leaves its
// set when dropped.
func TestWaitableSetDropRules(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := New(w, Options{})
	in := h.NewInstance("guest")
	w.Go("guest", func(*sim.Task) error {
		r, wr, _ := in.NewStream()
		set, _ := in.NewWaitableSet()
		if err := in.Join(r, set); err != nil {
			return err
		}
		if in.InSet(r) != set {
			return fmt.Errorf("InSet = %d", in.InSet(r))
		}
		if err := in.Drop(r); err != nil {
			return err
		}
		if err := in.Drop(set); err != nil {
			return fmt.Errorf("dropping an empty set: %v", err)
		}
		set2, _ := in.NewWaitableSet()
		if err := in.Join(wr, set2); err != nil {
			return err
		}
		if err := in.Drop(set2); !errors.Is(err, &Trap{Kind: TrapBadArgument}) {
			return fmt.Errorf("dropping a set with a member: %v, want a trap", err)
		}
		return nil
	})
	res := w.Run()
	for _, tr := range res.Tasks {
		if tr.Err != nil {
			t.Fatal(tr.Err)
		}
	}
}

// Host and guest resources and error contexts live in the same table.
func TestResourcesInTheTable(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1})
	h, _ := New(w, Options{})
	in := h.NewInstance("guest")
	var dropped []string
	w.Go("guest", func(*sim.Task) error {
		hr, _ := in.NewResource("test:pkg/i#thing", 42, func() { dropped = append(dropped, "host") })
		if v, err := in.Resource(hr, "test:pkg/i#thing"); err != nil || v != 42 {
			return fmt.Errorf("Resource: %v %v", v, err)
		}
		typ := new(int)
		gr, _ := in.NewGuestResource(typ, "res", 9, func(rep uint32) error { dropped = append(dropped, fmt.Sprint("guest ", rep)); return nil })
		if rep, err := in.GuestResourceRep(gr, typ); err != nil || rep != 9 {
			return fmt.Errorf("rep: %v %v", rep, err)
		}
		ec, _ := in.NewErrorContext("boom")
		if m, _ := in.ErrorContextMessage(ec); m != "boom" {
			return fmt.Errorf("message %q", m)
		}
		if _, err := in.Resource(hr, "other"); !errors.Is(err, &Trap{Kind: TrapWrongType}) {
			return fmt.Errorf("wrong resource type: %v", err)
		}
		return nil
	})
	w.Run()
	if len(dropped) != 2 || dropped[0] != "host" || dropped[1] != "guest 9" {
		t.Fatalf("teardown after the trap dropped %v, want both resources", dropped)
	}
}
