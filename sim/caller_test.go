package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// A goroutine that a task starts is not the task: every world primitive
// it calls while the run goes on must refuse it (or do nothing), without
// touching the world's state — go test -race checks the "without".
func TestCallsFromAnotherGoroutineAreRefused(t *testing.T) {
	w := MustNew(Config{Seed: 1, Trace: true})
	q := w.NewWaitQueue("q")
	var got []string
	w.Go("peer", func(*Task) error { w.Yield(); return nil })
	w.Go("main", func(self *Task) error {
		done := make(chan []string)
		go func() {
			var out []string
			note := func(what string, err error) {
				if !errors.Is(err, ErrNotInTask) {
					out = append(out, what+": "+errString(err))
				}
			}
			note("CheckCaller", w.CheckCaller())
			note("Sleep", w.Sleep(time.Second))
			_, err := q.WaitTimeout("", time.Second)
			note("WaitTimeout", err)
			note("Join", self.Join())
			nt := w.Go("stray", func(*Task) error { return nil })
			note("Go", nt.Err())
			if !nt.Done() || nt.ID() != 0 {
				out = append(out, "Go started a task")
			}
			if w.Current() != nil {
				out = append(out, "Current is the running task")
			}
			if c := w.Choose("x", 3); c != 0 {
				out = append(out, "Choose asked the strategy")
			}
			w.Yield()
			w.Event("stray", "", "")
			done <- out
		}()
		got = <-done
		if w.Current() != self || w.CheckCaller() != nil {
			return errors.New("the task itself is refused")
		}
		return nil
	})
	res := w.Run()
	if err := res.Error(); err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		t.Fatalf("calls from another goroutine were not refused:\n%s", strings.Join(got, "\n"))
	}
	for _, ev := range w.Trace().Events {
		if ev.Kind == "stray" || ev.Obj == "stray" || ev.Obj == "x" {
			t.Fatalf("another goroutine's call reached the trace: %v", ev)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestGoAfterRunIsAnError(t *testing.T) {
	w := MustNew(Config{Seed: 1})
	w.Go("a", func(*Task) error { return nil })
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if !w.Ended() {
		t.Fatal("Ended is false after Run")
	}
	ran := false
	late := w.Go("late", func(*Task) error { ran = true; return nil })
	if !late.Done() || !errors.Is(late.Err(), ErrRunEnded) || !errors.Is(late.Join(), ErrRunEnded) {
		t.Fatalf("Go after Run: done %v, err %v", late.Done(), late.Err())
	}
	if ran {
		t.Fatal("a task started after Run ran")
	}
	if err := w.Sleep(time.Second); !errors.Is(err, ErrNotInTask) {
		t.Fatalf("Sleep after Run: %v", err)
	}
}

// Sleeps whose end is past the largest time.Duration saturate: the clock
// never wraps, so tasks wake in the order of their deadlines.
func TestSleepPastTheEndOfTimeSaturates(t *testing.T) {
	const long = 200 * 365 * 24 * time.Hour // twice is past 292 years
	w := MustNew(Config{Seed: 1})
	var order []string
	var times []time.Duration
	sleeper := func(name string, second time.Duration) {
		w.Go(name, func(*Task) error {
			for _, d := range []time.Duration{long, second} {
				if err := w.Sleep(d); err != nil {
					return err
				}
				times = append(times, w.Now())
			}
			order = append(order, name)
			return nil
		})
	}
	sleeper("far", long)
	sleeper("near", time.Hour)
	sleeper("max", math.MaxInt64)
	if err := w.Run().Error(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "near,far,max" {
		t.Fatalf("wake order %s, want near,far,max", got)
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Fatalf("the clock went back: %v", times)
		}
	}
	if w.Now() != math.MaxInt64 {
		t.Fatalf("clock ends at %v, want the largest duration", w.Now())
	}
}
