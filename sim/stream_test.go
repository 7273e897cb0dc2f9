package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// spinner is a run of two tasks that yield n times each: about 2n
// scheduling choices, so its trace grows with n.
func spinner(n int) Scenario {
	return func(w *World) error {
		for _, name := range []string{"a", "b"} {
			w.Go(name, func(*Task) error {
				for i := 0; i < n; i++ {
					w.Event("spin", name, "")
					w.Yield()
				}
				return nil
			})
		}
		return nil
	}
}

// Whatever the writer writes, the reader reads: a header that embeds a
// large configuration (a 10 MiB scenario, quotes and newlines included)
// reads back and replays.
func TestLargeEmbeddedConfigReadsBack(t *testing.T) {
	cfgText := strings.Repeat("task \"x\":\n    yield # é\n", 10<<20/24)
	cfg := Config{Seed: 3, Trace: true, Config: []byte(cfgText), EmbedConfig: true}
	_, tr, err := RunOnce(cfg, lostUpdate(2))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadTrace(bytes.NewReader(tr.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Config != cfgText {
		t.Fatal("the embedded configuration changed on the way")
	}
	res, _, err := Replay(got, Config{Config: []byte(got.Header.Config)}, nil, lostUpdate(2))
	if err != nil || res.Divergence != nil {
		t.Fatalf("replay: %v %v", err, res.Divergence)
	}
	// One whose encoding would pass the header's bound is not embedded:
	// its hash still names it, and the trace still reads.
	huge := strings.Repeat("\x01", maxHeaderLine/6+1)
	_, tr, _ = RunOnce(Config{Seed: 3, Trace: true, Config: []byte(huge), EmbedConfig: true}, lostUpdate(2))
	if tr.Header.Config != "" || tr.Header.ConfigHash != ConfigHash([]byte(huge)) {
		t.Fatalf("a configuration too large for the header: embedded %d bytes, hash %s", len(tr.Header.Config), tr.Header.ConfigHash)
	}
	if _, err := ReadTrace(bytes.NewReader(tr.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// Long event details, error texts and outcomes are clipped when recorded,
// so every line stays readable and the replay, which clips the same way,
// matches.
func TestLongFieldsAreClippedAndReplay(t *testing.T) {
	long := strings.Repeat("\x01\"é", 400<<10)
	sc := func(w *World) error {
		w.Go("talker", func(*Task) error {
			w.Event("say", long, long)
			w.Yield()
			return errors.New(long)
		})
		return nil
	}
	res, tr, err := RunOnce(Config{Seed: 1, Trace: true}, sc)
	if err != nil || !res.Failed() {
		t.Fatal(err, res.Error())
	}
	b := tr.Bytes()
	got, err := ReadTrace(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), b) {
		t.Fatal("the trace does not read back as written")
	}
	if n := len(got.End.Outcome); n > maxOutcome+64 || !strings.Contains(got.End.Outcome, "clipped") {
		t.Fatalf("outcome of %d bytes", n)
	}
	if res, _, err := Replay(got, Config{}, nil, sc); err != nil || res.Divergence != nil {
		t.Fatalf("replay: %v %v", err, res.Divergence)
	}
}

// The end line's step count is part of what a replay reproduces.
func TestEditedEndStepsDiverge(t *testing.T) {
	_, tr, err := RunOnce(Config{Seed: 1, Trace: true}, lostUpdate(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, steps := range []int64{tr.End.Steps + 1, tr.End.Steps - 1, 0} {
		edited := strings.Replace(string(tr.Bytes()), fmt.Sprintf(`{"end":{"steps":%d,`, tr.End.Steps), fmt.Sprintf(`{"end":{"steps":%d,`, steps), 1)
		got, err := ReadTrace(strings.NewReader(edited))
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := Replay(got, Config{}, nil, lostUpdate(2))
		if err != nil {
			t.Fatal(err)
		}
		if res.Divergence == nil || !strings.Contains(res.Divergence.Error(), fmt.Sprintf("the trace says %d", steps)) {
			t.Errorf("end.steps %d (ran %d): divergence %v", steps, tr.End.Steps, res.Divergence)
		}
	}
}

// countingReader counts what has been read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// ReplayFrom reads the trace as the run reaches it: halfway through the
// run, about half the trace has been read, not all of it; with OnEvent,
// the replayed run keeps no events either.
func TestReplayFromStreams(t *testing.T) {
	const n = 20000
	cr := &countingReader{} // the recording run reads nothing
	var atHalf, events int
	var out bytes.Buffer
	sc := func(w *World) error {
		if err := spinner(n)(w); err != nil {
			return err
		}
		w.Go("watch", func(*Task) error {
			for w.Step() < int64(n) {
				w.Yield()
			}
			atHalf = cr.n
			return nil
		})
		return nil
	}
	cfg := Config{OnEvent: func(e Event) { events++; out.Write(appendEvent(nil, &e)) }}
	_, tr, err := RunOnce(Config{Seed: 1, Trace: true}, sc)
	if err != nil {
		t.Fatal(err)
	}
	b := tr.Bytes()
	cr = &countingReader{r: bytes.NewReader(b)}
	r, err := NewTraceReader(cr)
	if err != nil {
		t.Fatal(err)
	}
	res, got, err := ReplayFrom(r, cfg, sc)
	if err != nil || res.Divergence != nil {
		t.Fatalf("replay: %v %v", err, res.Divergence)
	}
	if len(got.Events) != 0 || events != len(tr.Events) {
		t.Fatalf("with OnEvent the replay kept %d events and passed on %d of %d", len(got.Events), events, len(tr.Events))
	}
	if !bytes.Contains(b, out.Bytes()) {
		t.Fatal("the events passed on are not the trace's")
	}
	if atHalf > len(b)/2+128<<10 {
		t.Fatalf("halfway through the run %d of %d bytes were read", atHalf, len(b))
	}
}

// A trace that ends early or breaks in the middle is an error of
// ReplayFrom (a *TraceError), not a divergence.
func TestReplayFromBadTraces(t *testing.T) {
	_, tr, _ := RunOnce(Config{Seed: 1, Trace: true}, spinner(50))
	lines := strings.SplitAfter(string(tr.Bytes()), "\n")
	for name, text := range map[string]string{
		"truncated": strings.Join(lines[:len(lines)-10], ""),
		"corrupt":   strings.Join(lines[:40], "") + "{oops\n" + strings.Join(lines[40:], ""),
	} {
		r, err := NewTraceReader(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ReplayFrom(r, Config{}, spinner(50))
		var te *TraceError
		if !errors.As(err, &te) {
			t.Errorf("%s: %v, want a TraceError", name, err)
		}
	}
}

// Outside input is recorded in chunks of at most 32 KiB, and nothing a
// read returns is lost (data that came with an error included); the
// compact trace of such a run replays strictly.
func TestInputIsChunkedAndReplays(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes
	sc := func(live bool) Scenario {
		return func(w *World) error {
			var got []byte
			done := false
			q := w.NewWaitQueue("input")
			reads := 0
			w.OnIdle(func() bool {
				if done || q.Len() == 0 {
					return false
				}
				data, err := w.Input("in", func() ([]byte, error) {
					reads++
					if !live || reads > 1 {
						return nil, errors.New("read again")
					}
					return payload, io.EOF
				})
				got = append(got, data...)
				done = err != nil
				q.Broadcast()
				return true
			})
			w.Go("reader", func(*Task) error {
				for !done {
					if err := q.Wait(""); err != nil {
						return err
					}
				}
				if !bytes.Equal(got, payload) {
					return fmt.Errorf("read %d bytes, want %d", len(got), len(payload))
				}
				return nil
			})
			w.Go("other", func(*Task) error { w.Yield(); w.Yield(); return nil })
			return nil
		}
	}
	for _, compact := range []bool{false, true} {
		res, tr, err := RunOnce(Config{Seed: 2, Trace: !compact, TraceChoices: compact}, sc(true))
		if err != nil || res.Failed() {
			t.Fatal(err, res.Error())
		}
		inputs := 0
		for _, e := range tr.Events {
			if e.Kind == "input" {
				inputs++
				if len(e.Detail) > maxField {
					t.Fatalf("an input event of %d bytes", len(e.Detail))
				}
			}
		}
		if inputs != 4 { // three chunks and the end
			t.Fatalf("%d input events, want 4", inputs)
		}
		back, err := ReadTrace(bytes.NewReader(tr.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		res, _, err = Replay(back, Config{}, nil, sc(false))
		if err != nil || res.Divergence != nil || res.Failed() {
			t.Fatalf("compact %v: replay: %v %v %v", compact, err, res.Divergence, res.Error())
		}
	}
}

// ReadTrace loads at most MaxTraceBytes: a longer trace is refused with a
// TraceError before more is read, while a TraceReader reads it to the end.
func TestReadTraceIsBounded(t *testing.T) {
	hdr := `{"wasisim_trace":1,"seed":1,"run":0,"strategy":"random","config_hash":"e3b0c44298fc1c14"}` + "\n"
	defer func(l int64) { readTraceLimit = l }(readTraceLimit)
	readTraceLimit = 2 << 20
	line := `{"step":1,"task":1,"kind":"spin","obj":"a","detail":"` + strings.Repeat("x", 4000) + `"}` + "\n"
	n := int(readTraceLimit)/len(line) + 2
	body := io.MultiReader(strings.NewReader(hdr), &repeatReader{line: line, n: n}, strings.NewReader(`{"end":{"steps":1,"outcome":"ok"}}`+"\n"))
	cr := &countingReader{r: body}
	_, err := ReadTrace(cr)
	var te *TraceError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "the most ReadTrace loads") {
		t.Fatalf("got %v", err)
	}
	if cr.n > int(readTraceLimit)+len(line)+64<<10 {
		t.Fatalf("read %d bytes before refusing", cr.n)
	}
	r, err := NewTraceReader(io.MultiReader(strings.NewReader(hdr), &repeatReader{line: line, n: n}, strings.NewReader(`{"end":{"steps":1,"outcome":"ok"}}`+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		events++
	}
	if events != n || r.End() == nil {
		t.Fatalf("read %d events of %d, end %v", events, n, r.End())
	}
}

// repeatReader yields line n times.
type repeatReader struct {
	line string
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n > 0 {
		k := copy(p, r.line[r.off:])
		p, total, r.off = p[k:], total+k, r.off+k
		if r.off == len(r.line) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return total, nil
}

// OnEvent gets the events a trace would hold, in order, in either trace
// mode, and nothing without one.
func TestOnEventStreamsTheTrace(t *testing.T) {
	for _, cfg := range []Config{{Trace: true}, {TraceChoices: true}, {}} {
		_, want, _ := RunOnce(Config{Seed: 4, Trace: cfg.Trace, TraceChoices: cfg.TraceChoices}, lostUpdate(3))
		var got []Event
		cfg.Seed = 4
		cfg.OnEvent = func(e Event) { got = append(got, e) }
		_, tr, err := RunOnce(cfg, lostUpdate(3))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			if tr != nil || got != nil {
				t.Fatalf("untraced run: trace %v, %d events", tr, len(got))
			}
			continue
		}
		if len(tr.Events) != 0 || !reflect.DeepEqual(got, want.Events) || *tr.End != *want.End {
			t.Fatalf("trace %v choices %v: kept %d events, passed on %d of %d", cfg.Trace, cfg.TraceChoices, len(tr.Events), len(got), len(want.Events))
		}
	}
}
