package scenario

import (
	"os"
	"testing"

	"github.com/wasisim/wasisim/sim"
)

func TestQuick(t *testing.T) {
	name := os.Getenv("WSIM")
	if name == "" {
		t.Skip()
	}
	src, _ := os.ReadFile(name)
	s, err := Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", s.Format())
	res, tr, err := sim.RunOnce(sim.Config{Seed: 1, Trace: true}, s.Scenario(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", tr.Bytes())
	t.Log(res.Outcome())
}
