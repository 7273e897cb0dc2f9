package sim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"
)

// FormatVersion is the trace format this package writes and reads.
const FormatVersion = 1

// ModeChoices marks a trace that holds only the choices of its run
// (Config.TraceChoices); the empty mode is a full trace.
const ModeChoices = "choices"

// maxLine bounds one trace line so a corrupt file cannot exhaust memory.
const maxLine = 1 << 20

// Header is the first line of a trace.
type Header struct {
	Format     int               `json:"wasisim_trace"`
	Seed       uint64            `json:"seed"`
	Run        uint64            `json:"run"`
	Strategy   string            `json:"strategy"`
	Params     map[string]string `json:"params,omitempty"`
	Variant    string            `json:"variant,omitempty"`
	Scenario   string            `json:"scenario,omitempty"`
	ConfigHash string            `json:"config_hash"`
	// Config is the configuration blob itself, when the run was made with
	// Config.EmbedConfig: a trace that carries its scenario replays
	// without the file it came from.
	Config string `json:"config,omitempty"`
	// Mode is "" for a full trace, ModeChoices for a compact one.
	Mode string `json:"mode,omitempty"`
}

// Event is one line of a trace: something that happened at a step. A
// scheduling decision ("sched") or a value choice ("choose") carries the
// index chosen and the number of alternatives (Of > 0).
type Event struct {
	Step   int64  `json:"step"`
	Task   int32  `json:"task"`
	Kind   string `json:"kind"`
	Obj    string `json:"obj,omitempty"`
	Detail string `json:"detail,omitempty"`
	Choice int32  `json:"choice,omitempty"`
	Of     int32  `json:"of,omitempty"`
}

func (e Event) String() string {
	s := fmt.Sprintf("step %d task %d %s", e.Step, e.Task, e.Kind)
	if e.Obj != "" {
		s += " " + e.Obj
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Of > 0 {
		s += fmt.Sprintf(" [choice %d of %d]", e.Choice, e.Of)
	}
	return s
}

// End is the last line of a complete trace.
type End struct {
	Steps   int64  `json:"steps"`
	Outcome string `json:"outcome"`
}

// Trace is a recorded run: a header, its events and how it ended.
type Trace struct {
	Header Header
	Events []Event
	End    *End
}

// ConfigHash is the hash recorded in the header for a configuration blob.
func ConfigHash(cfg []byte) string {
	if len(cfg) == 0 {
		return emptyConfigHash
	}
	sum := sha256.Sum256(cfg)
	return hex.EncodeToString(sum[:8])
}

// emptyConfigHash is ConfigHash(nil), which most runs of Go scenarios use.
const emptyConfigHash = "e3b0c44298fc1c14"

// WriteTo writes the trace as JSON Lines: the header, one line per event,
// then the end line if the run ended. The encoding is hand-rolled so that
// writing a trace costs little next to the run.
func (tr *Trace) WriteTo(w io.Writer) (int64, error) {
	bp := encBufs.Get().(*[]byte)
	defer encBufs.Put(bp)
	buf := (*bp)[:0]
	buf = appendHeader(buf, &tr.Header)
	var n int64
	var err error
	flush := func() error {
		k, err := w.Write(buf)
		n += int64(k)
		buf = buf[:0]
		return err
	}
	for i := range tr.Events {
		buf = appendEvent(buf, &tr.Events[i])
		if len(buf) >= 32<<10 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if tr.End != nil {
		buf = append(buf, `{"end":{"steps":`...)
		buf = strconv.AppendInt(buf, tr.End.Steps, 10)
		buf = append(buf, `,"outcome":`...)
		buf = appendJSONString(buf, tr.End.Outcome)
		buf = append(buf, "}}\n"...)
	}
	err = flush()
	*bp = buf
	return n, err
}

// encBufs recycles encoding buffers across traces.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Bytes is the encoded trace.
func (tr *Trace) Bytes() []byte {
	var b bytes.Buffer
	tr.WriteTo(&b) //nolint:errcheck // bytes.Buffer does not fail
	return b.Bytes()
}

// Hash is a short hash of the encoded trace, to compare runs.
func (tr *Trace) Hash() string {
	sum := sha256.Sum256(tr.Bytes())
	return hex.EncodeToString(sum[:12])
}

// WriteFile writes the trace to a file.
func (tr *Trace) WriteFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := tr.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// appendHeader encodes h as encoding/json would (same field order, params
// with sorted keys), without reflection.
func appendHeader(b []byte, h *Header) []byte {
	b = append(b, `{"wasisim_trace":`...)
	b = strconv.AppendInt(b, int64(h.Format), 10)
	b = append(b, `,"seed":`...)
	b = strconv.AppendUint(b, h.Seed, 10)
	b = append(b, `,"run":`...)
	b = strconv.AppendUint(b, h.Run, 10)
	b = append(b, `,"strategy":`...)
	b = appendJSONString(b, h.Strategy)
	if len(h.Params) > 0 {
		b = append(b, `,"params":{`...)
		keys := make([]string, 0, len(h.Params))
		for k := range h.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, h.Params[k])
		}
		b = append(b, '}')
	}
	for _, f := range [...]struct{ key, val string }{{"variant", h.Variant}, {"scenario", h.Scenario}} {
		if f.val != "" {
			b = append(b, `,"`+f.key+`":`...)
			b = appendJSONString(b, f.val)
		}
	}
	b = append(b, `,"config_hash":`...)
	b = appendJSONString(b, h.ConfigHash)
	if h.Config != "" {
		b = append(b, `,"config":`...)
		b = appendJSONString(b, h.Config)
	}
	if h.Mode != "" {
		b = append(b, `,"mode":`...)
		b = appendJSONString(b, h.Mode)
	}
	return append(b, "}\n"...)
}

func appendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, e.Step, 10)
	b = append(b, `,"task":`...)
	b = strconv.AppendInt(b, int64(e.Task), 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, e.Kind)
	if e.Obj != "" {
		b = append(b, `,"obj":`...)
		b = appendJSONString(b, e.Obj)
	}
	if e.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, e.Detail)
	}
	if e.Choice != 0 {
		b = append(b, `,"choice":`...)
		b = strconv.AppendInt(b, int64(e.Choice), 10)
	}
	if e.Of != 0 {
		b = append(b, `,"of":`...)
		b = strconv.AppendInt(b, int64(e.Of), 10)
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// TraceError is a malformed trace file, with the line at fault.
type TraceError struct {
	Line int
	Msg  string
}

func (e *TraceError) Error() string {
	if e.Line == 0 {
		return "trace: " + e.Msg
	}
	return fmt.Sprintf("trace line %d: %s", e.Line, e.Msg)
}

// ReadTrace parses a trace written by WriteTo. A truncated, corrupt or
// wrong-version file is a *TraceError naming the line.
func ReadTrace(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	tr := &Trace{}
	line := 0
	var lastStep int64
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, &TraceError{line, "empty line"}
		}
		if tr.End != nil {
			return nil, &TraceError{line, "data after the end line"}
		}
		if line == 1 {
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(b, &probe); err != nil {
				return nil, &TraceError{line, "not a wasisim trace: " + jsonMsg(err)}
			}
			if _, ok := probe["wasisim_trace"]; !ok {
				return nil, &TraceError{line, `not a wasisim trace: the header has no "wasisim_trace" version`}
			}
			if err := strictUnmarshal(b, &tr.Header); err != nil {
				return nil, &TraceError{line, "bad header: " + jsonMsg(err)}
			}
			if m := tr.Header.Mode; m != "" && m != ModeChoices {
				return nil, &TraceError{line, fmt.Sprintf("unknown trace mode %q", m)}
			}
			if tr.Header.Format != FormatVersion {
				return nil, &TraceError{line, fmt.Sprintf("trace format version %d; this wasisim reads version %d", tr.Header.Format, FormatVersion)}
			}
			continue
		}
		if bytes.HasPrefix(b, []byte(`{"end"`)) {
			var e struct {
				End *End `json:"end"`
			}
			if err := strictUnmarshal(b, &e); err != nil || e.End == nil {
				return nil, &TraceError{line, "bad end line"}
			}
			tr.End = e.End
			continue
		}
		var ev Event
		if err := strictUnmarshal(b, &ev); err != nil {
			return nil, &TraceError{line, "bad event: " + jsonMsg(err)}
		}
		switch {
		case ev.Kind == "":
			return nil, &TraceError{line, "event has no kind"}
		case ev.Step < lastStep:
			return nil, &TraceError{line, fmt.Sprintf("step %d comes after step %d", ev.Step, lastStep)}
		case ev.Of < 0 || ev.Of == 1 || ev.Choice < 0 || (ev.Of > 0 && ev.Choice >= ev.Of) || (ev.Of == 0 && ev.Choice != 0):
			return nil, &TraceError{line, fmt.Sprintf("choice %d of %d is out of range", ev.Choice, ev.Of)}
		case ev.Task < 0:
			return nil, &TraceError{line, "negative task id"}
		}
		lastStep = ev.Step
		tr.Events = append(tr.Events, ev)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &TraceError{line + 1, fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		return nil, err
	}
	if line == 0 {
		return nil, &TraceError{0, "empty file"}
	}
	if tr.End == nil {
		return nil, &TraceError{line, "no end line: the trace is truncated"}
	}
	return tr, nil
}

// ReadTraceFile reads a trace from a file.
func ReadTraceFile(name string) (*Trace, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := ReadTrace(f)
	if err != nil {
		var te *TraceError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, err
	}
	return tr, nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

func jsonMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}

// Replay re-runs a recorded trace in strict mode: setup must build the same
// scenario the trace was recorded from (it is called with a fresh world
// configured from the header). Every choice comes from the trace and every
// event must match; the result's Divergence says where it first did not.
// With then non-nil, choices past the end of the trace come from then and
// events are no longer compared.
func Replay(tr *Trace, cfg Config, then Strategy, setup func(w *World) error) (*Result, *Trace, error) {
	if tr == nil {
		return nil, nil, errors.New("sim: nil trace")
	}
	cfg.Seed = tr.Header.Seed
	cfg.Run = tr.Header.Run
	cfg.Trace = true
	if cfg.Variant == "" {
		cfg.Variant = tr.Header.Variant
	}
	if cfg.Scenario == "" {
		cfg.Scenario = tr.Header.Scenario
	}
	if got := ConfigHash(cfg.Config); got != tr.Header.ConfigHash {
		return nil, nil, fmt.Errorf("sim: trace was recorded with configuration %s, this one is %s", tr.Header.ConfigHash, got)
	}
	cfg.Strategy = NewReplay(tr, then)
	if then == nil {
		cfg.expect = tr
	}
	w, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	// Keep the recorded header so a faithful replay is byte-identical; a
	// replay records every event, so the replay of a choices-only trace
	// is the full trace of the same run.
	w.trace.Header = tr.Header
	w.trace.Header.Mode = ""
	w.replayInput = inputEvents(tr)
	if err := setup(w); err != nil {
		return nil, nil, err
	}
	res := w.Run()
	return res, w.Trace(), nil
}

// SortedParams lists a header's parameters as key=value, sorted.
func (h Header) SortedParams() []string {
	keys := make([]string, 0, len(h.Params))
	for k := range h.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + h.Params[k]
	}
	return out
}
