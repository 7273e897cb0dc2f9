package wasip1_test

import (
	"strings"
	"testing"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/sim"
)

func TestHello(t *testing.T) {
	w := sim.MustNew(sim.Config{Seed: 1, Trace: true})
	g, err := wasip1.Spawn(w, wasip1.Config{
		Name:   "hello",
		Module: guest(t, "hello"),
		Args:   []string{"a", "b c"},
		Env:    []string{"GREETING=hi", "EXIT=7"},
		Stdin:  []byte("input"),
	})
	if err != nil {
		t.Fatal(err)
	}
	res := w.Run()
	if err := res.Error(); err != nil {
		t.Fatal(err)
	}
	want := "hello from hello\narg a\narg b c\nenv GREETING = hi\nstdin \"input\"\n"
	if got := string(g.Stdout()); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got := string(g.Stderr()); !strings.Contains(got, "to stderr") {
		t.Errorf("stderr = %q", got)
	}
	if g.ExitCode() != 7 || g.Err() != nil {
		t.Errorf("exit code %d, err %v", g.ExitCode(), g.Err())
	}
	t.Logf("%d host calls, %d steps", g.Calls(), res.Steps)
}
