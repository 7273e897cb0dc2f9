package host

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// callEveryMethod calls every exported method of in that returns an
// error, with arguments of the right types (handles are h), and returns
// the calls whose error is not want.
func callEveryMethod(in *Instance, h Handle, want error) []string {
	var bad []string
	v := reflect.ValueOf(in)
	errType := reflect.TypeFor[error]()
	for i := 0; i < v.NumMethod(); i++ {
		m := v.Type().Method(i)
		ft := m.Type
		if ft.NumOut() == 0 || !ft.Out(ft.NumOut()-1).Implements(errType) || m.Name == "Abort" || m.Name == "Trapped" {
			continue // inspection methods (KindOf, Live, Trapped, …); Close and Abort are tested apart
		}
		args := make([]reflect.Value, ft.NumIn()-1)
		for j := range args {
			args[j] = argOf(ft.In(j+1), h)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					bad = append(bad, fmt.Sprintf("%s: panic %v", m.Name, r))
				}
			}()
			out := v.Method(i).Call(args)
			// Await returns (result, trap): the refusal is the trap.
			err, _ := out[len(out)-1].Interface().(error)
			if !errors.Is(err, want) {
				bad = append(bad, fmt.Sprintf("%s: %v", m.Name, err))
			}
		}()
	}
	return bad
}

func argOf(t reflect.Type, h Handle) reflect.Value {
	switch {
	case t == reflect.TypeFor[Handle]():
		return reflect.ValueOf(h)
	case t == reflect.TypeFor[netip.AddrPort]():
		return reflect.ValueOf(netip.MustParseAddrPort("127.0.0.1:80"))
	case t == reflect.TypeFor[time.Duration]():
		return reflect.ValueOf(time.Second)
	case t == reflect.TypeFor[vfs.OpenFlags]():
		return reflect.ValueOf(vfs.OpenCreate | vfs.OpenTruncate)
	case t == reflect.TypeFor[vfs.DescFlags]():
		return reflect.ValueOf(vfs.Write)
	}
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf("x").Convert(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return reflect.ValueOf([]byte("x")).Convert(t)
		}
	case reflect.Int, reflect.Int64, reflect.Uint8, reflect.Uint32, reflect.Uint64:
		return reflect.ValueOf(1).Convert(t)
	}
	return reflect.Zero(t)
}

// A goroutine that is not the world's running task must not use an
// instance: every call returns sim.ErrNotInTask and changes nothing
// (go test -race checks that it does not even read what the task
// writes). After the run every call returns sim.ErrRunEnded.
func TestCallsFromOtherGoroutinesAndAfterTheRun(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	h, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := h.NewInstance("guest")
	var fd Handle
	var stray []string
	w.Go("guest", func(*sim.Task) error {
		pre, err := in.Preopens()
		if err != nil {
			return err
		}
		if fd, err = in.OpenAt(pre[0].Handle, 0, "f", vfs.OpenCreate, vfs.Write); err != nil {
			return err
		}
		live := in.Live()
		done := make(chan struct{})
		go func() {
			defer close(done)
			stray = callEveryMethod(in, fd, sim.ErrNotInTask)
			in.Close()
			in.Abort("stray", "from another goroutine")
		}()
		<-done
		if in.Trapped() != nil {
			return fmt.Errorf("another goroutine trapped the instance: %v", in.Trapped())
		}
		if got := in.Live(); !slices.Equal(got, live) {
			return fmt.Errorf("another goroutine changed the handle table: %v, was %v", got, live)
		}
		if _, err := in.Stat(fd); err != nil {
			return err
		}
		return in.DropAll()
	})
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if len(stray) > 0 {
		t.Errorf("calls from another goroutine, want %v:\n%s", sim.ErrNotInTask, strings.Join(stray, "\n"))
	}
	if late := callEveryMethod(in, fd, sim.ErrRunEnded); len(late) > 0 {
		t.Errorf("calls after the run, want %v:\n%s", sim.ErrRunEnded, strings.Join(late, "\n"))
	}
	for _, ev := range w.Trace().Events {
		if ev.Kind == "trap" {
			t.Errorf("trap in the trace: %v", ev)
		}
	}
}
