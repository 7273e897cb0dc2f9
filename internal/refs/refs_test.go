package refs

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

type name string

func (n name) String() string { return string(n) }

// obj is a reference-counted object as vfs and vnet build them: a Count
// guarded by the owner's mutex.
type obj struct {
	mu       *sync.Mutex
	rc       Count
	released int
}

func (o *obj) String() string { return "obj#1" }

// newObj makes an object with one reference whose misuses go to log.
func newObj(log *Log) *obj {
	o := &obj{mu: new(sync.Mutex)}
	o.rc.Init(log)
	return o
}

// misused is the object's misuse count.
func (o *obj) misused() uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rc.MisusedLocked()
}

func (o *obj) IncRef() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rc.IncRefLocked(o)
}

func (o *obj) DecRef() error {
	o.mu.Lock()
	last, err := o.rc.DecRefLocked(o)
	var hooks []func()
	if last {
		o.released++
		hooks = o.rc.TakeHooksLocked()
	}
	o.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	return err
}

func TestCountReleasesAtTheLastReference(t *testing.T) {
	var log Log
	o := newObj(&log)
	mu := o.mu
	var order []string
	mu.Lock()
	o.rc.OnReleaseLocked(func() { order = append(order, "a") })
	o.rc.OnReleaseLocked(func() { order = append(order, "b") })
	mu.Unlock()
	if err := o.IncRef(); err != nil {
		t.Fatal(err)
	}
	if err := o.DecRef(); err != nil || o.released != 0 {
		t.Fatalf("released early: %v", err)
	}
	if err := o.DecRef(); err != nil || o.released != 1 || strings.Join(order, "") != "ab" {
		t.Fatalf("released %d, hooks %v, err %v", o.released, order, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !o.rc.ReleasedLocked() || o.rc.RefsLocked() != 0 || o.rc.OnReleaseLocked(func() {}) {
		t.Error("not released")
	}
}

func TestMisuseIsRecordedNotApplied(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	var log Log
	o := newObj(&log)
	mu := o.mu
	log.Register(w, "test", mu)
	w.Go("t", func(*sim.Task) error {
		if err := o.DecRef(); err != nil {
			return err
		}
		var me *MisuseError
		if err := o.DecRef(); !errors.As(err, &me) || me.Op != "DecRef" || me.Obj != "obj#1" {
			t.Errorf("DecRef after release: %v", err)
		}
		if err := o.IncRef(); !errors.As(err, &me) || me.Op != "IncRef" {
			t.Errorf("IncRef after release: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if o.rc.TryIncRefLocked() || o.rc.MisusedLocked() != 2 {
			t.Errorf("resurrected, or %d misuses", o.rc.MisusedLocked())
		}
		return nil
	})
	res := w.Run()
	if o.released != 1 {
		t.Errorf("released %d times", o.released)
	}
	want := []sim.Misuse{{Layer: "test", What: "DecRef on released obj#1"}, {Layer: "test", What: "IncRef on released obj#1"}}
	if len(res.Misuses) != 2 || res.Misuses[0] != want[0] || res.Misuses[1] != want[1] || !res.Failed() {
		t.Fatalf("misuses %v", res.Misuses)
	}
	if !strings.Contains(string(w.Trace().Bytes()), `"kind":"misuse","obj":"obj#1","detail":"DecRef on released"`) {
		t.Error("no misuse event")
	}
}

func TestSharedNamesItsHolders(t *testing.T) {
	o := newObj(nil)
	s := Adopt[name](o, "obj#1", "handle 1")
	stream := s.Acquire("stream#2")
	if got := strings.Join(s.Holders(), ", "); got != "handle 1, stream#2" {
		t.Errorf("holders %q", got)
	}
	s.First().Release()
	s.First().Release() // now stream#2's: still one reference
	stream.Release()    // already given back: nothing
	if o.released != 1 || s.Held() {
		t.Errorf("released %d, held %v", o.released, s.Held())
	}
	s.Acquire("late").Release()
	if o.misused() != 1 {
		t.Errorf("IncRef on a released object: %d misuses", o.misused())
	}
}

func TestReleaseAll(t *testing.T) {
	o := newObj(nil)
	s := Adopt[name](o, "obj#1", "a")
	b := s.Acquire("b")
	s.ReleaseAll()
	b.Release()
	if o.released != 1 || s.Held() || s.HeldOnlyBy(func(name) bool { return true }) {
		t.Errorf("released %d", o.released)
	}
	if o.misused() != 0 {
		t.Error("ReleaseAll then Release was a misuse")
	}
}
