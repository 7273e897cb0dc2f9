package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestMainRun(t *testing.T) {
	var o, e bytes.Buffer
	if code := run([]string{"run", "../../testdata/scenarios/port-release.wsim"}, &o, &e); code != 0 {
		t.Fatalf("exit %d: %s%s", code, o.String(), e.String())
	}
	if code := run([]string{"run", "nope.wsim"}, &o, &e); code != 2 || !strings.Contains(e.String(), "cannot read scenario") {
		t.Fatalf("exit %d: %s", code, e.String())
	}
}
