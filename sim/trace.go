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

// The bounds of a trace. Whatever the writer writes, the reader reads: the
// world clips what it records to these, and the reader refuses only lines
// (or a whole trace, for ReadTrace) larger than any writer makes, so a
// corrupt or hostile file cannot exhaust memory.
const (
	// maxLine bounds an event or end line.
	maxLine = 1 << 20
	// maxHeaderLine bounds the header line, which may carry a
	// configuration (a scenario's source, see Config.EmbedConfig).
	maxHeaderLine = 64 << 20
	// maxField bounds an event's Obj and Detail: longer ones are clipped
	// when recorded. With JSON escapes of up to 6 bytes a byte, an event
	// line stays under maxLine.
	maxField = 64 << 10
	// maxOutcome bounds the end line's outcome likewise.
	maxOutcome = 128 << 10
)

// MaxInputChunk is the most data one input event holds: World.Input
// delivers a larger read as several events, so that an event's base64
// fits in a trace line's field. A caller that frames its own messages in
// input events keeps each frame within it.
const MaxInputChunk = 32 << 10

// MaxTraceBytes bounds the trace ReadTrace loads into memory. A longer
// one is read with a TraceReader, one event at a time, and replayed with
// ReplayFrom, in memory that does not grow with its length.
const MaxTraceBytes = 128 << 20

// readTraceLimit is MaxTraceBytes, lowered by tests.
var readTraceLimit int64 = MaxTraceBytes

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
// writing a trace costs little next to the run. A header longer than
// ReadTrace reads (a hand-made one: the world's never are) is an error,
// and nothing is written.
func (tr *Trace) WriteTo(w io.Writer) (int64, error) {
	bp := encBufs.Get().(*[]byte)
	defer encBufs.Put(bp)
	buf := (*bp)[:0]
	buf = appendHeader(buf, &tr.Header)
	if len(buf) > maxHeaderLine+1 {
		*bp = buf[:0]
		return 0, fmt.Errorf("sim: the trace header is %d bytes, more than the %d a trace reader reads", len(buf)-1, maxHeaderLine)
	}
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
		buf = appendEnd(buf, tr.End)
	}
	err = flush()
	*bp = buf
	return n, err
}

// appendEnd encodes the end line.
func appendEnd(b []byte, e *End) []byte {
	b = append(b, `{"end":{"steps":`...)
	b = strconv.AppendInt(b, e.Steps, 10)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, e.Outcome)
	return append(b, "}}\n"...)
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

// jsonStringLen is len(appendJSONString(nil, s)), without building it.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20 || c == 0x7f:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += utf8.RuneLen(utf8.RuneError)
		} else {
			n += size
		}
		i += size
	}
	return n
}

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
// wrong-version file is a *TraceError naming the line; so is one larger
// than MaxTraceBytes (stream it with a TraceReader instead).
func ReadTrace(r io.Reader) (*Trace, error) {
	lr := &io.LimitedReader{R: r, N: readTraceLimit + 1}
	tr, err := NewTraceReader(lr)
	if err != nil {
		return nil, err
	}
	out := &Trace{Header: tr.Header()}
	for {
		ev, err := tr.Next()
		if lr.N <= 0 {
			return nil, &TraceError{tr.line, fmt.Sprintf("the trace is larger than %d MiB, the most ReadTrace loads into memory (ReplayFrom streams a trace of any length)", readTraceLimit>>20)}
		}
		if err == io.EOF {
			out.End = tr.End()
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, ev)
	}
}

// TraceReader reads a trace one event at a time, so that a trace of any
// length is read, checked and replayed (ReplayFrom) in bounded memory: one
// line at a time, a header line of at most 64 MiB and other lines of at
// most 1 MiB, more than any trace the world writes.
type TraceReader struct {
	br       *bufio.Reader
	buf      []byte
	hdr      Header
	line     int
	lastStep int64
	end      *End
	err      error    // sticky: what Next returns from now on
	names    interner // kinds, objects and details repeat: share them
}

// NewTraceReader reads and checks the header of the trace r holds. A
// malformed or wrong-version header is a *TraceError.
func NewTraceReader(r io.Reader) (*TraceReader, error) {
	tr := &TraceReader{br: bufio.NewReaderSize(r, 64<<10)}
	b, err := tr.readLine(maxHeaderLine)
	if err == io.EOF {
		return nil, &TraceError{0, "empty file"}
	}
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, &TraceError{1, "not a wasisim trace: " + jsonMsg(err)}
	}
	if _, ok := probe["wasisim_trace"]; !ok {
		return nil, &TraceError{1, `not a wasisim trace: the header has no "wasisim_trace" version`}
	}
	if err := strictUnmarshal(b, &tr.hdr); err != nil {
		return nil, &TraceError{1, "bad header: " + jsonMsg(err)}
	}
	if m := tr.hdr.Mode; m != "" && m != ModeChoices {
		return nil, &TraceError{1, fmt.Sprintf("unknown trace mode %q", m)}
	}
	if tr.hdr.Format != FormatVersion {
		return nil, &TraceError{1, fmt.Sprintf("trace format version %d; this wasisim reads version %d", tr.hdr.Format, FormatVersion)}
	}
	tr.buf = nil // the header's buffer may be large: let it go
	return tr, nil
}

// Header is the trace's header.
func (r *TraceReader) Header() Header { return r.hdr }

// End is the trace's end line, once Next has returned io.EOF (nil before).
func (r *TraceReader) End() *End { return r.end }

// Next returns the next event. After the last one it returns io.EOF and
// End returns the end line. A malformed event, a missing end line
// (truncation) or anything after the end line is a *TraceError naming the
// line; Next then keeps returning it.
func (r *TraceReader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	ev, err := r.next()
	if err != nil {
		r.err = err
	}
	return ev, err
}

func (r *TraceReader) next() (Event, error) {
	b, err := r.readLine(maxLine)
	if err == io.EOF {
		return Event{}, &TraceError{r.line, "no end line: the trace is truncated"}
	}
	if err != nil {
		return Event{}, err
	}
	if bytes.HasPrefix(b, []byte(`{"end"`)) {
		var e struct {
			End *End `json:"end"`
		}
		if err := strictUnmarshal(b, &e); err != nil || e.End == nil {
			return Event{}, &TraceError{r.line, "bad end line"}
		}
		switch _, err := r.readLine(maxLine); {
		case err == io.EOF:
			r.end = e.End
			return Event{}, io.EOF
		case err != nil:
			return Event{}, err
		}
		return Event{}, &TraceError{r.line, "data after the end line"}
	}
	var ev Event
	if !decodeEvent(b, &ev, &r.names) {
		if err := strictUnmarshal(b, &ev); err != nil {
			return Event{}, &TraceError{r.line, "bad event: " + jsonMsg(err)}
		}
	}
	switch {
	case ev.Kind == "":
		return Event{}, &TraceError{r.line, "event has no kind"}
	case ev.Step < r.lastStep:
		return Event{}, &TraceError{r.line, fmt.Sprintf("step %d comes after step %d", ev.Step, r.lastStep)}
	case ev.Of < 0 || ev.Of == 1 || ev.Choice < 0 || (ev.Of > 0 && ev.Choice >= ev.Of) || (ev.Of == 0 && ev.Choice != 0):
		return Event{}, &TraceError{r.line, fmt.Sprintf("choice %d of %d is out of range", ev.Choice, ev.Of)}
	case ev.Task < 0:
		return Event{}, &TraceError{r.line, "negative task id"}
	}
	r.lastStep = ev.Step
	return ev, nil
}

// readLine reads the next line, without its newline (or "\r\n"), of at
// most limit bytes; io.EOF when there is none. A blank line or a longer
// one is a *TraceError.
func (r *TraceReader) readLine(limit int) ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(chunk) > limit+2 { // the newline and a CR do not count
			return nil, &TraceError{r.line + 1, fmt.Sprintf("line longer than %d bytes", limit)}
		}
		r.buf = append(r.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == io.EOF && len(r.buf) == 0 {
			return nil, io.EOF
		}
		r.line++
		b := bytes.TrimSuffix(bytes.TrimSuffix(r.buf, []byte("\n")), []byte("\r"))
		if len(b) > limit {
			return nil, &TraceError{r.line, fmt.Sprintf("line longer than %d bytes", limit)}
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, &TraceError{r.line, "empty line"}
		}
		return b, nil
	}
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

// decodeEvent decodes an event line as appendEvent writes it — the
// fields in order, no spaces, strings without escapes — without
// reflection, several times faster than encoding/json. It reports false
// for any other line, which the caller decodes with encoding/json: both
// give the same event for every line decodeEvent accepts (FuzzDecodeEvent).
func decodeEvent(b []byte, ev *Event, names *interner) bool {
	p := lineParser{b: b}
	var e Event
	var ok bool
	if !p.lit(`{"step":`) {
		return false
	}
	if e.Step, ok = p.int(64); !ok || !p.lit(`,"task":`) {
		return false
	}
	task, ok := p.int(32)
	if !ok || !p.lit(`,"kind":`) {
		return false
	}
	e.Task = int32(task)
	if e.Kind, ok = p.str(names); !ok {
		return false
	}
	if p.lit(`,"obj":`) {
		if e.Obj, ok = p.str(names); !ok {
			return false
		}
	}
	if p.lit(`,"detail":`) {
		if e.Detail, ok = p.str(names); !ok {
			return false
		}
	}
	if p.lit(`,"choice":`) {
		c, ok := p.int(32)
		if !ok {
			return false
		}
		e.Choice = int32(c)
	}
	if p.lit(`,"of":`) {
		n, ok := p.int(32)
		if !ok {
			return false
		}
		e.Of = int32(n)
	}
	if !p.lit("}") || p.i != len(b) {
		return false
	}
	*ev = e
	return true
}

// lineParser reads the canonical encoding of an event line.
type lineParser struct {
	b []byte
	i int
}

// lit consumes s if the line goes on with it.
func (p *lineParser) lit(s string) bool {
	if !bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		return false
	}
	p.i += len(s)
	return true
}

// int consumes a JSON integer (no leading zeros) that fits in bits.
func (p *lineParser) int(bits int) (int64, bool) {
	j := p.i
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	d := j
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	if j == d || (p.b[d] == '0' && j > d+1) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[p.i:j]), 10, bits)
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}

// str consumes a JSON string without escapes or control characters, in
// valid UTF-8: what encoding/json would decode to the same bytes.
func (p *lineParser) str(names *interner) (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	j := p.i + 1
	for j < len(p.b) && p.b[j] != '"' {
		if c := p.b[j]; c < 0x20 || c == '\\' {
			return "", false
		}
		j++
	}
	if j >= len(p.b) || !utf8.Valid(p.b[p.i+1:j]) {
		return "", false
	}
	s := names.get(p.b[p.i+1 : j])
	p.i = j + 1
	return s, true
}

// interner shares the strings of a trace that repeat (kinds, objects,
// short details), so a trace in memory does not hold one copy per event.
// It keeps at most 4096 strings of at most 64 bytes.
type interner struct{ m map[string]string }

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 64 && len(in.m) < 4096 {
		if in.m == nil {
			in.m = map[string]string{}
		}
		in.m[s] = s
	}
	return s
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
// event must match, and so must the end line (the outcome and the number
// of steps); the result's Divergence says where it first did not. With
// then non-nil, choices past the end of the trace come from then and
// events are no longer compared.
func Replay(tr *Trace, cfg Config, then Strategy, setup func(w *World) error) (*Result, *Trace, error) {
	if tr == nil {
		return nil, nil, errors.New("sim: nil trace")
	}
	if then != nil {
		cfg.Strategy = NewReplay(tr, then)
		return runReplay(tr.Header, cfg, inputEvents(tr), setup)
	}
	cfg.expect = &expectation{src: &traceEvents{tr: tr}}
	return runReplay(tr.Header, cfg, nil, setup)
}

// ReplayFrom is Replay in strict mode for a trace read as the run goes:
// each event is read when the run reaches it, so memory does not grow
// with the trace's length. Read the header first (r.Header) to build what
// setup needs. With cfg.OnEvent set the replayed run's events go there
// instead of into the returned trace, so neither side of the comparison
// is held in memory. A trace that turns out malformed or truncated ends
// the run and is returned as the error (a *TraceError), not as a
// divergence.
func ReplayFrom(r *TraceReader, cfg Config, setup func(w *World) error) (*Result, *Trace, error) {
	if r == nil {
		return nil, nil, errors.New("sim: nil trace reader")
	}
	cfg.expect = &expectation{src: r}
	res, tr, err := runReplay(r.Header(), cfg, nil, setup)
	if err == nil && cfg.expect.err != nil {
		return nil, nil, cfg.expect.err
	}
	return res, tr, err
}

// runReplay runs a replay of a trace with header h: strict when cfg.expect
// is set, else with cfg.Strategy and the trace's input events.
func runReplay(h Header, cfg Config, input []Event, setup func(w *World) error) (*Result, *Trace, error) {
	cfg.Seed = h.Seed
	cfg.Run = h.Run
	cfg.Trace = true
	if cfg.Variant == "" {
		cfg.Variant = h.Variant
	}
	if cfg.Scenario == "" {
		cfg.Scenario = h.Scenario
	}
	if got := ConfigHash(cfg.Config); got != h.ConfigHash {
		return nil, nil, fmt.Errorf("sim: trace was recorded with configuration %s, this one is %s", h.ConfigHash, got)
	}
	if cfg.expect != nil {
		cfg.expect.choices = h.Mode == ModeChoices
	}
	w, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	// Keep the recorded header so a faithful replay is byte-identical; a
	// replay records every event, so the replay of a choices-only trace
	// is the full trace of the same run.
	w.trace.Header = h
	w.trace.Header.Mode = ""
	w.replayInput = input
	if err := setup(w); err != nil {
		return nil, nil, err
	}
	res := w.Run()
	return res, w.Trace(), nil
}

// expectation is the trace a strict replay compares its run with, read
// one event ahead: the next event is what the run must do next — the
// choice its strategy is about to make, the input it is about to read.
type expectation struct {
	src eventSource
	// choices: the trace holds only choices and inputs (ModeChoices), so
	// only those are compared.
	choices bool
	ev      Event
	have    bool  // ev is the next event
	done    bool  // no event is left: src.End() is the end line
	err     error // the source failed (a malformed or truncated trace)
}

// eventSource is where an expectation reads events: a TraceReader, or a
// trace in memory.
type eventSource interface {
	// Next returns the next event, io.EOF after the last one.
	Next() (Event, error)
	// End is the end line once Next has returned io.EOF.
	End() *End
}

// peek returns the next event of the trace, or false at its end or when
// it cannot be read (err then says why).
func (x *expectation) peek() (*Event, bool) {
	if !x.have && !x.done && x.err == nil {
		ev, err := x.src.Next()
		switch {
		case err == io.EOF:
			x.done = true
		case err != nil:
			x.err = err
		default:
			x.ev, x.have = ev, true
		}
	}
	return &x.ev, x.have
}

// advance consumes the event peek returned.
func (x *expectation) advance() { x.have = false }

// traceEvents is a trace in memory as an eventSource.
type traceEvents struct {
	tr *Trace
	i  int
}

func (t *traceEvents) Next() (Event, error) {
	if t.i >= len(t.tr.Events) {
		return Event{}, io.EOF
	}
	t.i++
	return t.tr.Events[t.i-1], nil
}

func (t *traceEvents) End() *End { return t.tr.End }

// strictReplay makes a strict replay's choices: each is the choice event
// its expectation holds next, since every event before it has been
// compared already. Where the trace holds something else the run has
// diverged: it takes alternative 0, and the comparison of the choice's
// own event reports the divergence.
type strictReplay struct{ w *World }

func (s strictReplay) Choose(cp ChoicePoint) int {
	if s.w.divergence != nil {
		return 0
	}
	e, ok := s.w.exp.peek()
	if !ok || e.Of != int32(cp.N) {
		return 0
	}
	return int(e.Choice)
}

func (strictReplay) Spec() Spec { return Spec{Name: "replay"} }

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
