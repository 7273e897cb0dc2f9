package sim

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadTraceRejectsBadInput(t *testing.T) {
	good := string(tracedRun(t, NewRandom(1), lostUpdate(1)))
	lines := strings.SplitAfter(good, "\n")
	for _, tc := range []struct {
		name, in, want string
		line           int
	}{
		{"empty", "", "empty file", 0},
		{"not json", "hello\n", "not a wasisim trace", 1},
		{"no version", `{"seed":1}` + "\n", `no "wasisim_trace"`, 1},
		{"future version", strings.Replace(good, `"wasisim_trace":1`, `"wasisim_trace":9`, 1), "version 9", 1},
		{"truncated", strings.Join(lines[:len(lines)-2], ""), "truncated", len(lines) - 2},
		{"cut mid-line", good[:len(good)-len(lines[len(lines)-2])-5], "bad", len(lines) - 2},
		{"bad event", lines[0] + `{"step":"x"}` + "\n", "bad event", 2},
		{"unknown field", lines[0] + `{"step":1,"task":1,"kind":"x","bogus":1}` + "\n", "bad event", 2},
		{"no kind", lines[0] + `{"step":1,"task":1}` + "\n", "no kind", 2},
		{"choice out of range", lines[0] + `{"step":1,"task":1,"kind":"sched","choice":3,"of":2}` + "\n", "out of range", 2},
		{"steps go back", lines[0] + `{"step":5,"task":1,"kind":"a"}` + "\n" + `{"step":4,"task":1,"kind":"a"}` + "\n", "after step 5", 3},
		{"after end", good + `{"step":1,"task":1,"kind":"a"}` + "\n", "after the end", len(lines)},
		{"blank line", lines[0] + "\n", "empty line", 2},
		{"huge line", lines[0] + strings.Repeat("x", maxLine+10) + "\n", "longer than", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tc.in))
			var te *TraceError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a TraceError", err)
			}
			if !strings.Contains(te.Error(), tc.want) || te.Line != tc.line {
				t.Fatalf("got %q (line %d), want %q on line %d", te.Error(), te.Line, tc.want, tc.line)
			}
		})
	}
}

func TestTraceRoundTrip(t *testing.T) {
	tr := &Trace{
		Header: Header{Format: 1, Seed: 3, Strategy: "pct", Params: map[string]string{"b": "2", "a": "1"}, ConfigHash: ConfigHash(nil)},
		Events: []Event{{Step: 1, Task: 2, Kind: "copy", Obj: "stream#1", Detail: "quote \" tab \t nl \n ctl \x01 bad \xff é", Choice: 1, Of: 3}},
		End:    &End{Steps: 1, Outcome: "ok"},
	}
	b := tr.Bytes()
	got, err := ReadTrace(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), b) {
		t.Fatalf("round trip changed the trace:\n%s\n%s", b, got.Bytes())
	}
	if got.Events[0].Detail != "quote \" tab \t nl \n ctl \x01 bad \uFFFD é" {
		t.Fatalf("detail %q", got.Events[0].Detail)
	}
}

func FuzzReadTrace(f *testing.F) {
	f.Add(tracedRunF(lostUpdate(1)))
	f.Add([]byte(`{"wasisim_trace":1,"seed":1,"run":0,"strategy":"random","config_hash":"x"}` + "\n" + `{"end":{"steps":0,"outcome":"ok"}}` + "\n"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadTrace(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever parses must re-encode to something that parses the same.
		again, err := ReadTrace(bytes.NewReader(tr.Bytes()))
		if err != nil {
			t.Fatalf("re-encoded trace does not parse: %v", err)
		}
		if !bytes.Equal(again.Bytes(), tr.Bytes()) {
			t.Fatal("re-encoding is not stable")
		}
		// Replaying garbage must end with a result, not a panic or a hang.
		Replay(tr, Config{MaxSteps: 1000}, nil, lostUpdate(1)) //nolint:errcheck
	})
}

func tracedRunF(sc Scenario) []byte {
	_, tr, _ := RunOnce(Config{Seed: 5, Trace: true}, sc)
	return tr.Bytes()
}
