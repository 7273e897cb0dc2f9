package sim

import "testing"

func TestSmoke(t *testing.T) {
	w := MustNew(Config{Seed: 1, Trace: true})
	q := w.NewWaitQueue("q")
	n := 0
	w.Go("a", func(t *Task) error { for n == 0 { q.Wait("") }; return nil })
	w.Go("b", func(t *Task) error { w.Yield(); n = 1; q.Broadcast(); return w.Sleep(5) })
	res := w.Run()
	if res.Failed() { t.Fatal(res.Error()) }
	t.Logf("%s", w.Trace().Bytes())
}
