package sim

import (
	"bytes"
	"errors"
	"testing"
)

// A trace written as the run goes is byte for byte the trace the world
// keeps in memory for the same run, under every tracing mode, and its
// hash is the trace's: so `run --trace` can stream without changing what
// replay and comparisons see.
func TestTraceWriterWritesTheTrace(t *testing.T) {
	sc := func(w *World) error {
		if err := spinner(300)(w); err != nil {
			return err
		}
		w.Go("sleeper", func(tk *Task) error {
			for i := 0; i < 10; i++ {
				if err := w.Sleep(7); err != nil {
					return err
				}
				_ = w.Choose("coin", 3)
			}
			return nil
		})
		return nil
	}
	pct := func() Strategy {
		st, err := NewPCT(5, PCTOptions{Depth: 3, Steps: 400})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, mk := range []func() Config{
		func() Config { return Config{Seed: 3, Trace: true} },
		func() Config { return Config{Seed: 4, TraceChoices: true} },
		func() Config {
			return Config{Seed: 5, Trace: true, Strategy: pct(), Config: []byte("cfg"), EmbedConfig: true, Scenario: "s"}
		},
	} {
		cfg := mk()
		_, want, err := RunOnce(cfg, sc)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		var tw *TraceWriter
		scfg := mk()
		scfg.OnEvent = func(e Event) { tw.Event(e) }
		w, err := New(scfg)
		if err != nil {
			t.Fatal(err)
		}
		if tw, err = NewTraceWriter(&buf, w.TraceHeader()); err != nil {
			t.Fatal(err)
		}
		if err := sc(w); err != nil {
			t.Fatal(err)
		}
		w.Run()
		if err := tw.End(w.Trace().End); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want.Bytes()) {
			t.Fatalf("seed %d: the streamed trace differs from the kept one:\n%.400s\nwant\n%.400s", cfg.Seed, buf.Bytes(), want.Bytes())
		}
		if tw.Hash() != want.Hash() {
			t.Fatalf("seed %d: hash %s, want %s", cfg.Seed, tw.Hash(), want.Hash())
		}
		if len(w.Trace().Events) != 0 {
			t.Fatalf("the world kept %d events", len(w.Trace().Events))
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// A write error is reported by End, not lost.
func TestTraceWriterReportsWriteErrors(t *testing.T) {
	w := MustNew(Config{Trace: true})
	tw, err := NewTraceWriter(&failWriter{n: 1}, w.TraceHeader())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		tw.Event(Event{Kind: "x", Detail: "some detail to fill the buffer"})
	}
	if err := tw.End(&End{}); err == nil || err.Error() != "disk full" {
		t.Fatalf("End: %v, want the write error", err)
	}
	if _, err := NewTraceWriter(&failWriter{}, w.TraceHeader()); err == nil {
		t.Fatal("a header that cannot be written is not an error")
	}
}
