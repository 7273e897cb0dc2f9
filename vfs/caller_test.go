package vfs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

// A goroutine that is not the world's running task gets sim.ErrNotInTask
// from every OFD call that can fail, and the call changes nothing: the
// file system is the run's, and its events, clock and randomness are the
// world's (go test -race checks that nothing is touched).
func TestCallsFromAnotherGoroutineAreRefused(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	f := New(Options{World: w})
	root := f.Root(Read | MutateDirectory)
	file, err := root.OpenAt(0, "f", OpenCreate, Read|Write)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	w.Go("task", func(*sim.Task) error {
		before := f.Usage()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, d := range []*OFD{root, file} {
				bad = append(bad, callOFDMethods(d, root)...)
			}
		}()
		<-done
		if f.Usage() != before || file.Refs() != 1 || root.Refs() != 1 {
			return fmt.Errorf("another goroutine changed the file system: usage %+v, was %+v; refs %d %d",
				f.Usage(), before, file.Refs(), root.Refs())
		}
		return nil
	})
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("calls from another goroutine, want %v:\n%s", sim.ErrNotInTask, strings.Join(bad, "\n"))
	}
	// After the run the file system is the caller's again (to read what
	// the run left, as wasisim run's write-back does).
	if _, err := file.WriteAt([]byte("after"), 0); err != nil {
		t.Errorf("a write after the run: %v", err)
	}
}

// callOFDMethods calls every method of d that returns an error, with
// arguments of the right types (other for an *OFD), and lists the calls
// that did not return sim.ErrNotInTask.
func callOFDMethods(d, other *OFD) []string {
	var bad []string
	v := reflect.ValueOf(d)
	errType := reflect.TypeFor[error]()
	for i := 0; i < v.NumMethod(); i++ {
		m := v.Type().Method(i)
		ft := m.Type
		if ft.NumOut() == 0 || !ft.Out(ft.NumOut()-1).Implements(errType) {
			continue
		}
		args := make([]reflect.Value, ft.NumIn()-1)
		for j := range args {
			at := ft.In(j + 1)
			switch {
			case at == reflect.TypeFor[*OFD]():
				args[j] = reflect.ValueOf(other)
			case at.Kind() == reflect.String:
				args[j] = reflect.ValueOf("g").Convert(at)
			case at.Kind() == reflect.Slice:
				args[j] = reflect.ValueOf([]byte("data")).Convert(at)
			case at == reflect.TypeFor[OpenFlags]():
				args[j] = reflect.ValueOf(OpenCreate)
			case at == reflect.TypeFor[LockKind]():
				args[j] = reflect.ValueOf(LockExclusive)
			default:
				args[j] = reflect.Zero(at)
			}
		}
		out := v.Method(i).Call(args)
		if err, _ := out[len(out)-1].Interface().(error); !errors.Is(err, sim.ErrNotInTask) {
			bad = append(bad, fmt.Sprintf("%s of %v: %v", m.Name, d, err))
		}
	}
	return bad
}
