package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// TraceWriter writes a run's trace as the run goes — the header, each
// event as Config.OnEvent passes it on, then the end line — so that the
// trace of a long run goes to a file without the world holding its
// events. What it writes is byte for byte what Trace.WriteTo writes for
// the same run.
//
//	w, _ := sim.New(cfg) // cfg.Trace set, cfg.OnEvent calling tw.Event
//	tw, _ := sim.NewTraceWriter(f, w.TraceHeader())
//	res := w.Run()
//	err := tw.End(w.Trace().End)
type TraceWriter struct {
	w   io.Writer
	sum hash.Hash
	buf []byte
	err error // the first write error; later writes are skipped
}

// NewTraceWriter writes the header line to w and returns the writer of
// the rest. A header longer than a trace reader reads is an error, and
// nothing is written.
func NewTraceWriter(w io.Writer, h Header) (*TraceWriter, error) {
	tw := &TraceWriter{w: w, sum: sha256.New(), buf: make([]byte, 0, 64<<10)}
	tw.buf = appendHeader(tw.buf, &h)
	if len(tw.buf) > maxHeaderLine+1 {
		return nil, fmt.Errorf("sim: the trace header is %d bytes, more than the %d a trace reader reads", len(tw.buf)-1, maxHeaderLine)
	}
	tw.flush()
	return tw, tw.err
}

// Event writes one event (buffered). A write error is kept for End.
func (tw *TraceWriter) Event(e Event) {
	tw.buf = appendEvent(tw.buf, &e)
	if len(tw.buf) >= 32<<10 {
		tw.flush()
	}
}

// End writes the end line (none if end is nil: a run cut short) and
// flushes. It returns the first error any write met.
func (tw *TraceWriter) End(end *End) error {
	if end != nil {
		tw.buf = appendEnd(tw.buf, end)
	}
	tw.flush()
	return tw.err
}

// Hash is Trace.Hash of what was written: valid after End.
func (tw *TraceWriter) Hash() string {
	return hex.EncodeToString(tw.sum.Sum(nil)[:12])
}

func (tw *TraceWriter) flush() {
	tw.sum.Write(tw.buf)
	if tw.err == nil {
		_, tw.err = tw.w.Write(tw.buf)
	}
	tw.buf = tw.buf[:0]
}

// TraceHeader is the header the world's trace carries, known before the
// run starts (it does not change as the run goes), for a TraceWriter.
func (w *World) TraceHeader() Header {
	if w.trace != nil && w.trace.Header.Format != 0 {
		return w.trace.Header
	}
	h := w.header()
	if !w.full {
		h.Mode = ModeChoices
	}
	return h
}
