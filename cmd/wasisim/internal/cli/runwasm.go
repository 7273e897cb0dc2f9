package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/wasmrun"
)

// maxCaptured bounds the stdout and stderr a --json report carries.
const maxCaptured = 1 << 20

type wasmRunJSON struct {
	Binary        string `json:"binary"`
	Kind          string `json:"kind"`
	SHA256        string `json:"sha256"`
	Seed          uint64 `json:"seed"`
	OK            bool   `json:"ok"`
	ExitCode      int    `json:"exit_code"`
	GuestExitCode uint32 `json:"guest_exit_code"`
	Error         string `json:"error,omitempty"`
	Outcome       string `json:"outcome"`
	Steps         int64  `json:"steps"`
	Stdout        string `json:"stdout"`
	Stderr        string `json:"stderr"`
	// StdoutTruncated and StderrTruncated: the output was longer than
	// the report keeps (its first MiB).
	StdoutTruncated bool   `json:"stdout_truncated,omitempty"`
	StderrTruncated bool   `json:"stderr_truncated,omitempty"`
	WrittenBack     bool   `json:"written_back,omitempty"`
	WriteBack       string `json:"write_back,omitempty"`
	Interrupted     bool   `json:"interrupted,omitempty"`
	Trace           string `json:"trace,omitempty"`
	TraceHash       string `json:"trace_hash,omitempty"`
}

// capture keeps the first maxCaptured bytes written to it.
type capture struct {
	b         []byte
	truncated bool
}

func (c *capture) Write(p []byte) (int, error) {
	room := maxCaptured - len(c.b)
	if len(p) > room {
		c.truncated = true
		p = p[:max(room, 0)]
	}
	c.b = append(c.b, p...)
	return len(p), nil
}

// runWasm runs a wasm binary once. Its messages go to stderr, since
// stdout is the guest's (with --json, the report is all of stdout).
func (c *command) runWasm(bin string, guest []string, f *runFlags) error {
	spec, err := f.wasm.spec(bin, guest)
	if err != nil {
		return err
	}
	if f.timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	spec.Listen, spec.LiveStdin = f.listen, spec.Stdin == nil
	defer c.interruptible()()
	ctx := c.context()
	var budget *wasmrun.Budget
	if f.timeout > 0 {
		ctx, budget = wasmrun.WithBudget(ctx, f.timeout)
		defer budget.Stop()
		budget.Pause() // compiling is not running
	}
	p, err := wasmrun.Load(spec, wasmrun.LoadOptions{Stop: ctx, Live: true})
	budget.Resume()
	if err != nil {
		return err
	}
	defer p.Close()
	if f.writeBack != "" {
		if err := p.CheckWriteBack(); err != nil {
			return err
		}
	}
	stdio := wasmrun.Stdio{Stdout: c.stdout, Stderr: c.stderr}
	if spec.LiveStdin {
		stdio.Stdin = wasmrun.NewLiveStdin(ctx, c.stdin, budget)
	}
	var out, errb capture
	if f.asJSON {
		stdio.Stdout, stdio.Stderr = &out, &errb
	}
	ro := wasmrun.RunOptions{Seed: f.seed, Stdio: stdio}
	var tf *traceFile
	if f.traceOut != "" {
		if tf, err = createTrace(f.traceOut); err != nil {
			return err
		}
		defer tf.abandon()
		ro.TraceTo = tf
	}
	o, err := p.Run(ro)
	if err != nil {
		return err
	}
	code, msgs := o.ExitCode, []string(nil)
	if o.Err != nil {
		msgs = append(msgs, o.Err.Error())
	}
	if tf != nil {
		if err := tf.close(o.TraceErr); err != nil {
			return err
		}
		msgs = append(msgs, fmt.Sprintf("trace written to %s (replay: wasisim replay %s)", f.traceOut, f.traceOut))
	}
	wroteBack, wbMsg := false, ""
	switch {
	case f.writeBack == "" || len(spec.Dirs) == 0:
	case !o.Succeeded && f.writeBack != "always":
		wbMsg = "the run did not succeed: the --dir trees were not written back (--dir-write-back=always writes them anyway)"
	default:
		if _, err := p.WriteBack(o.Guest.FS); err != nil {
			wbMsg = err.Error()
			if code == 0 {
				code = wasmrun.ExitFailed
			}
		} else {
			wroteBack = true
		}
	}
	if wbMsg != "" {
		msgs = append(msgs, wbMsg)
	}
	c.code = &code
	if f.asJSON {
		r := wasmRunJSON{Binary: bin, Kind: p.Spec.Kind, SHA256: p.Spec.SHA256, Seed: f.seed, OK: code == 0, ExitCode: code,
			GuestExitCode: o.Guest.ExitCode(), Outcome: o.Result.Outcome(), Steps: o.Result.Steps,
			Stdout: string(out.b), Stderr: string(errb.b), StdoutTruncated: out.truncated, StderrTruncated: errb.truncated,
			WrittenBack: wroteBack, WriteBack: wbMsg, Interrupted: c.interrupted(), Trace: f.traceOut}
		if o.Err != nil {
			r.Error = o.Err.Error()
		}
		r.TraceHash = o.TraceHash
		return writeJSON(c.stdout, r)
	}
	for _, m := range msgs {
		fmt.Fprintf(c.stderr, "wasisim run: %s\n", m)
	}
	return nil
}

// traceFile is a trace being written as the run goes: into a temporary
// file beside its name, renamed over it once complete, so that an
// existing file of that name is replaced only by a whole trace.
type traceFile struct {
	*bufio.Writer
	f    *os.File
	name string
}

func createTrace(name string) (*traceFile, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name means nothing to the user
		}
		return nil, fmt.Errorf("cannot write trace %s: %w", name, err)
	}
	_ = f.Chmod(0o644) // as a file written in place would be, not private
	return &traceFile{Writer: bufio.NewWriterSize(f, 256<<10), f: f, name: name}, nil
}

// close completes the trace (werr: an error writing it met) and puts it
// in place.
func (t *traceFile) close(werr error) error {
	err := werr
	if err == nil {
		err = t.Flush()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(t.f.Name(), t.name)
	}
	if err != nil {
		_ = os.Remove(t.f.Name())
	}
	t.f = nil
	if err != nil {
		return fmt.Errorf("cannot write trace: %w", err)
	}
	return nil
}

// abandon removes the temporary file of a trace never completed.
func (t *traceFile) abandon() {
	if t.f != nil {
		t.f.Close()
		_ = os.Remove(t.f.Name())
	}
}
