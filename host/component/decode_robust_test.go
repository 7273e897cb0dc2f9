package component

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// decMaxDecodeTime bounds one decode of a (possibly broken) input in the
// robustness tests; a full decode takes well under a millisecond.
const decMaxDecodeTime = 2 * time.Second

// decExhaustive makes the robustness tests try every offset of every
// suite component (slow: minutes) instead of a sample.
var decExhaustive = os.Getenv("WASISIM_DECODE_EXHAUSTIVE") != ""

// decTryDecode decodes b and checks the outcome: an error that is a
// one-line DecodeError or UnsupportedError, or a Body that keeps the
// invariants. It returns how long decoding took.
func decTryDecode(t *testing.T, b []byte, what string) time.Duration {
	t.Helper()
	start := time.Now()
	body, err := Decode(b)
	took := time.Since(start)
	if took > decMaxDecodeTime {
		t.Errorf("%s: decoding took %v", what, took)
	}
	if err != nil {
		var de *DecodeError
		var ue *UnsupportedError
		switch {
		case errors.As(err, &de):
			if strings.HasPrefix(de.Msg, "internal error") {
				t.Errorf("%s: %v", what, err)
			}
			if de.Offset < 0 || de.Offset > len(b) {
				t.Errorf("%s: error offset %d outside the %d-byte input", what, de.Offset, len(b))
			}
		case errors.As(err, &ue):
		default:
			t.Errorf("%s: error of type %T: %v", what, err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", what, err)
		}
		return took
	}
	if err := decCheckBody(body, nil); err != nil {
		t.Errorf("%s: decoded body breaks an invariant: %v", what, err)
	}
	return took
}

// decStructure lists the offsets of b that the decoder reads: all but
// the insides of core modules, which it only slices (their first bytes,
// the preamble it checks, are kept).
func decStructure(t *testing.T, b []byte) []int {
	t.Helper()
	body := decMust(t, b)
	skip := make([]bool, len(b)+1)
	var mark func(*Body)
	mark = func(body *Body) {
		for _, def := range body.Defs {
			switch d := def.(type) {
			case *CoreModuleDef:
				off := decOffsetIn(b, d.Bytes)
				if off < 0 {
					t.Fatal("core module bytes are not a sub-slice of the input")
				}
				for i := off + 9; i < off+len(d.Bytes); i++ {
					skip[i] = true
				}
			case *ComponentDef:
				mark(d.Body)
			}
		}
	}
	mark(body)
	var offs []int
	for i := 0; i <= len(b); i++ {
		if !skip[i] {
			offs = append(offs, i)
		}
	}
	return offs
}

// decSample picks every stride-th offset, and all when stride is 1.
func decSample(offs []int, stride int) []int {
	if stride <= 1 {
		return offs
	}
	var out []int
	for i := 0; i < len(offs); i += stride {
		out = append(out, offs[i])
	}
	return append(out, offs[len(offs)-1])
}

// decRobustInput is an input of the robustness tests with the strides at
// which its offsets are tried for truncation and corruption.
type decRobustInput struct {
	name           string
	data           []byte
	truncate, flip int
}

// decRobustInputs are the inputs of the robustness tests: every offset of
// the small fixtures, every offset the decoder reads of one suite
// component (every fifth for corruption), and a sample of the other
// components' (all of them with WASISIM_DECODE_EXHAUSTIVE=1). The samples
// thin out under -short and the race detector.
func decRobustInputs(t *testing.T) []decRobustInput {
	var inputs []decRobustInput
	fixtures, _ := filepath.Glob("testdata/*.wasm")
	for _, f := range fixtures {
		inputs = append(inputs, decRobustInput{filepath.Base(f), decRead(t, f), 1, 1})
	}
	slow := 1
	if decRaceEnabled {
		slow = 8
	}
	if testing.Short() {
		slow = 20
	}
	for _, f := range decSuiteFiles(t) {
		in := decRobustInput{filepath.Base(f), decRead(t, f), 53 * slow, 131 * slow}
		switch {
		case decExhaustive:
			in.truncate, in.flip = 1, 1
		case in.name == "wall-clock.wasm":
			in.truncate, in.flip = slow, 5*slow
		}
		inputs = append(inputs, in)
	}
	return inputs
}

// decOffsets are the offsets of an input to try at the given stride:
// all of a small input, else a sample of the ones the decoder reads.
func decOffsets(t *testing.T, in decRobustInput, stride int) []int {
	if len(in.data) < 4096 {
		var offs []int
		for i := 0; i < len(in.data); i++ {
			offs = append(offs, i)
		}
		return decSample(offs, stride)
	}
	return decSample(decStructure(t, in.data), stride)
}

// TestDecodeTruncated decodes prefixes of every fixture and suite
// component: each fails cleanly or (when it ends between sections) is a
// well-formed smaller component; none panics or takes long.
func TestDecodeTruncated(t *testing.T) {
	for _, in := range decRobustInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			offs := decOffsets(t, in, in.truncate)
			orig := slices.Clone(in.data)
			var worst time.Duration
			for _, n := range offs {
				if n >= len(in.data) {
					continue
				}
				worst = max(worst, decTryDecode(t, in.data[:n:n], "prefix of "+strconv.Itoa(n)+" bytes"))
			}
			if !bytes.Equal(orig, in.data) {
				t.Fatal("Decode modified its input")
			}
			t.Logf("%d prefixes, slowest %v", len(offs), worst)
		})
	}
}

// TestDecodeCorrupted flips single bytes of every fixture and suite
// component (at every offset the decoder reads, sampled for the large
// ones) to a few values that stress lengths, opcodes and LEB128
// continuation bits.
func TestDecodeCorrupted(t *testing.T) {
	for _, in := range decRobustInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			offs := decOffsets(t, in, in.flip)
			buf := slices.Clone(in.data)
			var worst time.Duration
			tries := 0
			for _, off := range offs {
				if off >= len(buf) {
					continue
				}
				orig := buf[off]
				for _, v := range []byte{0x00, 0xff, orig ^ 0x01, orig ^ 0x80} {
					if v == orig {
						continue
					}
					buf[off] = v
					worst = max(worst, decTryDecode(t, buf, "byte "+strconv.Itoa(off)+" set to "+strconv.Itoa(int(v))))
					tries++
				}
				buf[off] = orig
			}
			t.Logf("%d corruptions, slowest %v", tries, worst)
		})
	}
}

// FuzzDecode decodes arbitrary input: it must fail with a one-line
// DecodeError or UnsupportedError, or return a Body whose indices all
// point back at earlier items of the right space.
func FuzzDecode(f *testing.F) {
	fixtures, _ := filepath.Glob("testdata/*.wasm")
	for _, path := range fixtures {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(decComp())
	f.Add(decComp(decFuncTypeSec, decImportF, decVecSec(8, decCoreFunc0, []byte{0x01, 0x00, 0x00, 0x00})))
	f.Fuzz(func(t *testing.T, b []byte) {
		decTryDecode(t, b, "fuzz input")
	})
}
