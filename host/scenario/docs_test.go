package scenario

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsNameEverything keeps docs/scenarios.md, the language reference,
// complete: every statement, open flag, trap kind, header line and
// expectation the parser accepts is shown there in code.
func TestDocsNameEverything(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	// Code spans of the document, and of its indented and fenced blocks.
	var code []string
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(string(doc), -1) {
		code = append(code, m[1])
	}
	shown := func(re string) bool {
		r := regexp.MustCompile(re)
		for _, c := range code {
			if r.MatchString(c) {
				return true
			}
		}
		return false
	}
	// Table cells escape | as \|.
	word := func(w string) string { return `(^|[ =\[|])` + regexp.QuoteMeta(w) + `($|[ \]|\\])` }
	for _, v := range sortedKeys(verbs) {
		if !shown(`(^|= |\] )` + regexp.QuoteMeta(v) + `($| )`) {
			t.Errorf("statement %s is not shown as one", v)
		}
	}
	for _, f := range openFlags {
		if !shown("^" + regexp.QuoteMeta(f) + "$") {
			t.Errorf("open flag %s is not listed", f)
		}
	}
	for _, k := range sortedKeys(trapKinds) {
		if !shown("^" + regexp.QuoteMeta(k) + "$") {
			t.Errorf("trap kind %s is not listed", k)
		}
	}
	for _, h := range []string{"variant", "seed", "chunk", "max-steps", "file", "dir", "task"} {
		if !shown("^" + regexp.QuoteMeta(h) + " ") {
			t.Errorf("header line %s is not shown", h)
		}
	}
	for _, w := range append([]string{"ok", "err", "==", "completed", "dropped", "cancelled", "missing", "exists",
		"stdout", "stderr", "error", "trap"}, append(append(lockStates, portStates...), protocols...)...) {
		if !shown(`^expect.*[ =\[|]` + regexp.QuoteMeta(w) + `($|[ \]|\\])`) {
			t.Errorf("expect form with %s is not shown", w)
		}
	}
	for _, w := range append(lockKinds, families...) {
		if !shown(word(w)) {
			t.Errorf("keyword %s is not shown", w)
		}
	}
}
