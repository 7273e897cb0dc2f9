package wasip1_test

import (
	"strings"
	"testing"
)

// TestPreview1Conformance runs raw preview 1 checks modelled on the
// WebAssembly/wasi-testsuite wasm32-wasip1 tests (see
// testdata/guests/p1conformance). Every check must pass on wasisim; the
// same guest on wazero's own WASI is run for comparison and its
// deviations are logged.
func TestPreview1Conformance(t *testing.T) {
	wasm := guest(t, "p1conformance")
	g, _, _ := runSim(t, 1, wasm)
	out := string(g.Stdout())
	if g.ExitCode() != 0 || !strings.HasSuffix(out, "all ok\n") {
		t.Fatalf("exit %d\n%s%s", g.ExitCode(), out, g.Stderr())
	}
	checks := strings.Count(out, "\nok ") + 1
	wout, _ := runWazero(t, wasm, t.TempDir())
	for _, line := range strings.Split(wout, "\n") {
		if strings.HasPrefix(line, "FAIL") {
			t.Logf("wazero deviates: %s", line)
		}
	}
	t.Logf("%d checks pass", checks)
}
