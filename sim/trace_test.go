package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/wasisim/wasisim/internal/soak"
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

func TestChoicesTraceReplaysExactly(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		_, compact, err := RunOnce(Config{Seed: seed, TraceChoices: true}, lostUpdate(3))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range compact.Events {
			if e.Of == 0 {
				t.Fatalf("a choices trace holds a non-choice event %v", e)
			}
		}
		_, full, _ := RunOnce(Config{Seed: seed, Trace: true}, lostUpdate(3))
		tr, err := ReadTrace(bytes.NewReader(compact.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		res, replayed, err := Replay(tr, Config{}, nil, lostUpdate(3))
		if err != nil || res.Divergence != nil {
			t.Fatalf("seed %d: replay of a choices trace: %v %v", seed, err, res.Divergence)
		}
		// The replay yields the full trace of the same run.
		if replayed.End.Outcome != full.End.Outcome || len(replayed.Events) != len(full.Events) {
			t.Fatalf("seed %d: replay of the compact trace differs from the full run", seed)
		}
		if len(compact.Bytes()) >= len(full.Bytes()) {
			t.Fatalf("compact trace (%d B) is not smaller than the full one (%d B)", len(compact.Bytes()), len(full.Bytes()))
		}
	}
	// A different program diverges.
	_, compact, _ := RunOnce(Config{Seed: 1, TraceChoices: true}, lostUpdate(3))
	res, _, _ := Replay(compact, Config{}, nil, lostUpdate(6))
	if res.Divergence == nil {
		t.Fatal("a choices trace replayed against another program did not diverge")
	}
}

func TestHeaderEncodingMatchesJSON(t *testing.T) {
	soak.Check(t, 100, func(rt *rapid.T) {
		str := rapid.String()
		h := Header{Format: 1, Seed: rapid.Uint64().Draw(rt, "seed"), Run: rapid.Uint64().Draw(rt, "run"),
			Strategy: str.Draw(rt, "strategy"), Variant: str.Draw(rt, "variant"), Scenario: str.Draw(rt, "scenario"),
			ConfigHash: str.Draw(rt, "hash"), Config: str.Draw(rt, "config"), Mode: rapid.SampledFrom([]string{"", ModeChoices}).Draw(rt, "mode"),
			Params: rapid.MapOf(str, str).Draw(rt, "params")}
		want, err := json.Marshal(h)
		if err != nil {
			rt.Fatal(err)
		}
		// encoding/json escapes <, > and & for HTML; both forms are valid JSON
		// and decode to the same header, which is what matters.
		got := appendHeader(nil, &h)
		var a, b Header
		if err := json.Unmarshal(got, &a); err != nil {
			rt.Fatalf("hand-encoded header is not JSON: %v\n%s", err, got)
		}
		json.Unmarshal(want, &b)
		if len(a.Params) == 0 && len(b.Params) == 0 {
			a.Params, b.Params = nil, nil
		}
		if !reflect.DeepEqual(a, b) {
			rt.Fatalf("decoded headers differ:\n%+v\n%+v", a, b)
		}
	})
}

func TestEmptyConfigHash(t *testing.T) {
	sum := sha256.Sum256(nil)
	if want := hex.EncodeToString(sum[:8]); ConfigHash(nil) != want || ConfigHash([]byte{}) != want {
		t.Fatalf("ConfigHash(nil) = %s, want %s", ConfigHash(nil), want)
	}
}

// The fast event decoder agrees with encoding/json on every line it
// accepts, and accepts every line appendEvent writes.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range []Event{
		{Step: 3, Task: 2, Kind: "sched", Choice: 1, Of: 2},
		{Step: 1 << 40, Task: 7, Kind: "copy", Obj: "stream#4", Detail: "8 bytes é"},
		{Step: 0, Kind: "input", Obj: "stdin", Detail: "aGVsbG8="},
		{Step: 5, Task: 1, Kind: "exit", Obj: "a#1", Detail: "quote \" and \\ and \n"},
	} {
		f.Add(appendEvent(nil, &e))
	}
	f.Add([]byte(`{"step":01,"task":1,"kind":"x"}`))
	f.Add([]byte(`{"step":1,"task":1,"kind":"x","of":2,"choice":1}`))
	f.Add([]byte(`{"step":99999999999999999999,"task":1,"kind":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Event
		var names interner
		if !decodeEvent(b, &fast, &names) {
			return
		}
		var slow Event
		if err := strictUnmarshal(b, &slow); err != nil {
			t.Fatalf("fast decoder accepted %q, encoding/json refuses it: %v", b, err)
		}
		if fast != slow {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
		// And every event it decodes re-encodes to a line it accepts.
		var again Event
		if enc := appendEvent(nil, &fast); !bytes.Contains(enc, []byte(`\`)) && !decodeEvent(enc[:len(enc)-1], &again, &names) {
			t.Fatalf("fast decoder refuses the encoding of %+v", fast)
		}
	})
}
