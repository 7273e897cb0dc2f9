package sim

import (
	"encoding/base64"
	"errors"
	"io"
)

// This file is how input from outside the simulation (a terminal, a pipe,
// a peer on the machine's network) enters a world without making it
// nondeterministic. A model that needs outside input waits for it on a
// wait queue and registers an idle hook; the world calls the hook only
// when no task can run and no timer is due, and the hook reads the input
// with World.Input. The input is recorded in the trace (in both trace
// modes), and a replay of the trace gets it from there, so a run that
// read a terminal replays exactly without one.

// OnIdle registers fn, which the world calls when no task can run and no
// timer is due, before it gives up (deadlock). fn reports whether it
// made a task runnable (for example by reading outside input and waking
// its reader); hooks run in registration order until one does.
func (w *World) OnIdle(fn func() bool) {
	w.TouchAll()
	w.idle = append(w.idle, fn)
}

// runIdle runs the idle hooks until one makes progress.
func (w *World) runIdle() bool {
	for _, fn := range w.idle {
		if fn() {
			return true
		}
	}
	return false
}

// Input reads the next chunk of the outside input called name. In a live
// run it calls read (which may block the whole world in real time: call
// it from an idle hook) and records what it returned as an "input" event;
// replaying a trace, it returns what the trace recorded instead, and read
// is not called. It returns io.EOF at the end of the input.
//
// One input event carries at most 32 KiB: the rest of a larger read, and
// an error that came with data, are delivered by the next calls for the
// same name, without calling read. Nothing read is lost.
func (w *World) Input(name string, read func() ([]byte, error)) ([]byte, error) {
	w.TouchAll()
	if w.exp != nil {
		return w.expectedInput(name)
	}
	if w.replayInput != nil {
		return w.replayedInput(name)
	}
	var data []byte
	var err error
	if p := w.pendingInput[name]; p != nil {
		data, err = p.data, p.err
		delete(w.pendingInput, name)
	} else {
		data, err = read()
	}
	if len(data) > MaxInputChunk || (len(data) > 0 && err != nil) {
		if w.pendingInput == nil {
			w.pendingInput = map[string]*pendingInput{}
		}
		n := min(len(data), MaxInputChunk)
		w.pendingInput[name] = &pendingInput{data: data[n:], err: err}
		data, err = data[:n], nil
	}
	detail := base64.StdEncoding.EncodeToString(data)
	if err != nil {
		detail = "eof"
		if err != io.EOF {
			detail = "error " + err.Error()
		}
		data = nil
	}
	w.recordExternal(Event{Step: w.step, Task: w.taskID(), Kind: "input", Obj: name, Detail: detail})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// pendingInput is what a read returned that Input has not delivered yet.
type pendingInput struct {
	data []byte
	err  error
}

// expectedInput is Input in a strict replay: the input the trace holds
// next. If it holds something else, the recorded input ("eof") differs
// from it and the replay diverges there.
func (w *World) expectedInput(name string) ([]byte, error) {
	detail := "eof"
	if e, ok := w.exp.peek(); ok && w.divergence == nil && e.Kind == "input" && e.Obj == name {
		detail = e.Detail
	}
	w.recordExternal(Event{Step: w.step, Task: w.taskID(), Kind: "input", Obj: name, Detail: detail})
	return decodeInput(detail)
}

// decodeInput is what an input event's detail delivers.
func decodeInput(detail string) ([]byte, error) {
	switch {
	case detail == "eof":
		return nil, io.EOF
	case len(detail) >= 6 && detail[:6] == "error ":
		return nil, errInputError
	}
	data, err := base64.StdEncoding.DecodeString(detail)
	if err != nil {
		return nil, errInputError
	}
	return data, nil
}

// recordExternal records an event in either trace mode: replay needs it.
func (w *World) recordExternal(ev Event) {
	if w.trace != nil {
		w.record(ev)
	}
}

// errInputError is the error of a recorded input that failed.
var errInputError = errors.New("sim: outside input failed when the trace was recorded")

// replayedInput returns the next input event of the trace being replayed.
func (w *World) replayedInput(name string) ([]byte, error) {
	for len(w.replayInput) > 0 {
		ev := w.replayInput[0]
		w.replayInput = w.replayInput[1:]
		if ev.Obj != name {
			continue
		}
		w.recordExternal(Event{Step: w.step, Task: w.taskID(), Kind: "input", Obj: name, Detail: ev.Detail})
		return decodeInput(ev.Detail)
	}
	return nil, io.EOF // the trace ends before more input came
}

// inputEvents extracts the input events of a trace.
func inputEvents(tr *Trace) []Event {
	out := []Event{}
	for _, ev := range tr.Events {
		if ev.Kind == "input" {
			out = append(out, ev)
		}
	}
	return out
}
