package scenario

import (
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host"
)

// DefaultInstance is the instance a task runs in when its header names none.
const DefaultInstance = "guest"

// Script is a parsed scenario.
type Script struct {
	// Name is the file name given to Parse, used in error positions.
	Name string
	// Source is the text the script was parsed from; tools hash it into
	// trace headers (sim.Config.Config).
	Source []byte

	Variant    host.Variant
	VariantSet bool
	Seed       uint64
	SeedSet    bool
	Chunk      int // 0: host.DefaultChunk
	MaxSteps   int64
	// Files are the initial files and directories, in order.
	Files []FileDecl
	Tasks []*Task
}

// FileDecl is a "file" or "dir" header line.
type FileDecl struct {
	Pos     Pos
	Dir     bool
	Path    string
	Content string
}

// Task is a "task NAME [in INSTANCE]:" block.
type Task struct {
	Pos  Pos
	Name string
	// In is the instance named in the header ("" means DefaultInstance).
	In   string
	Body []*Stmt
}

// Instance is the instance the task runs in.
func (t *Task) Instance() string {
	if t.In == "" {
		return DefaultInstance
	}
	return t.In
}

// Stmt is one statement: optional result names, a verb and its arguments.
type Stmt struct {
	Pos     Pos
	Results []string
	Verb    string
	Args    []Arg

	verb    *verb  // what the statement is and does (set by the checker)
	args    []pval // checked arguments
	checks  *Stmt  // for "expect error/trap": the statement it checks
	outcome *Stmt  // for a statement: the "expect error/trap" that follows it
}

// ArgKind is how an argument was written.
type ArgKind uint8

// Argument kinds.
const (
	ArgWord   ArgKind = iota + 1 // a bare word: name, keyword, number, duration, address
	ArgString                    // a quoted string; Text is its value
)

// Arg is one argument of a statement.
type Arg struct {
	Pos  Pos
	Kind ArgKind
	Text string
}

func (a Arg) describe() string {
	if a.Kind == ArgString {
		return "string " + strconv.Quote(a.Text)
	}
	return strconv.Quote(a.Text)
}

// Parse parses a scenario. name is used in error positions. A malformed
// scenario is an *Error.
func Parse(name string, src []byte) (*Script, error) {
	if len(src) > MaxSource {
		return nil, &Error{File: name, Pos: Pos{1, 1}, Msg: fmt.Sprintf("the scenario is %d bytes, more than the %d a scenario may have", len(src), MaxSource)}
	}
	p := &parser{file: name, s: &Script{Name: name, Source: src}}
	if err := p.parse(lex(name, src)); err != nil {
		return nil, err
	}
	if err := check(p.s); err != nil {
		return nil, err
	}
	return p.s, nil
}

type parser struct {
	file string
	s    *Script
}

func (p *parser) errAt(pos Pos, expected string, found string) *Error {
	return &Error{File: p.file, Pos: pos, Expected: expected, Found: found}
}

func (p *parser) msgAt(pos Pos, format string, args ...any) *Error {
	return &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

const headerWords = "a header line (variant, seed, chunk, max-steps, file, dir) or a task"

func (p *parser) parse(lines iter.Seq2[line, error]) error {
	var cur *Task
	seen := map[string]Pos{}
	tasks := map[string]bool{}
	end := Pos{1, 1} // the end of the last line, for "found end of file"
	for l, err := range lines {
		if err != nil {
			return err
		}
		end = l.toks[len(l.toks)-1].pos
		t0 := l.toks[0]
		if l.indented {
			if cur == nil {
				return p.errAt(t0.pos, headerWords, "an indented line")
			}
			st, err := p.stmt(l.toks)
			if err != nil {
				return err
			}
			cur.Body = append(cur.Body, st)
			continue
		}
		if cur != nil && len(cur.Body) == 0 {
			return p.errAt(t0.pos, "an indented statement in task "+cur.Name, t0.describe())
		}
		cur = nil
		if t0.kind != tWord {
			return p.errAt(t0.pos, headerWords, t0.describe())
		}
		kw := t0.text
		args := l.toks[1:]
		switch kw {
		case "variant", "seed", "chunk", "max-steps":
			if prev, ok := seen[kw]; ok {
				return p.msgAt(t0.pos, "%s is set twice (first at line %d)", kw, prev.Line)
			}
			seen[kw] = t0.pos
			if args[0].kind != tWord {
				return p.errAt(args[0].pos, "a value for "+kw, args[0].describe())
			}
			v := args[0]
			if args[1].kind != tEOL {
				return p.errAt(args[1].pos, "end of line", args[1].describe())
			}
			switch kw {
			case "variant":
				vv, err := host.ParseVariant(v.text)
				if err != nil || v.text == "" {
					return p.errAt(v.pos, "p3 or p3-async-write", v.describe())
				}
				p.s.Variant, p.s.VariantSet = vv, true
			case "seed":
				n, err := strconv.ParseUint(v.text, 10, 64)
				if err != nil {
					return p.errAt(v.pos, "a seed (an integer from 0 to 2^64-1)", v.describe())
				}
				p.s.Seed, p.s.SeedSet = n, true
			case "chunk":
				n, err := strconv.Atoi(v.text)
				if err != nil || n < 1 || n > 1<<20 {
					return p.errAt(v.pos, "a chunk size from 1 to 1048576", v.describe())
				}
				p.s.Chunk = n
			case "max-steps":
				n, err := strconv.ParseInt(v.text, 10, 64)
				if err != nil || n < 1 {
					return p.errAt(v.pos, "a positive step limit", v.describe())
				}
				p.s.MaxSteps = n
			}
		case "file", "dir":
			if args[0].kind != tString {
				return p.errAt(args[0].pos, "a quoted path", args[0].describe())
			}
			d := FileDecl{Pos: t0.pos, Dir: kw == "dir", Path: args[0].text}
			if err := checkPath(d.Path); err != "" {
				return p.msgAt(args[0].pos, "bad path %q: %s", d.Path, err)
			}
			rest := args[1:]
			if kw == "file" && rest[0].kind == tString {
				d.Content = rest[0].text
				rest = rest[1:]
			}
			if rest[0].kind != tEOL {
				exp := "end of line"
				if kw == "file" {
					exp = "the file's content (a quoted string) or end of line"
				}
				return p.errAt(rest[0].pos, exp, rest[0].describe())
			}
			p.s.Files = append(p.s.Files, d)
		case "task":
			if args[0].kind != tWord || !isIdent(args[0].text) {
				return p.errAt(args[0].pos, "a task name (letters, digits, _ and -)", args[0].describe())
			}
			t := &Task{Pos: t0.pos, Name: args[0].text}
			if tasks[t.Name] {
				return p.msgAt(args[0].pos, "task %s is defined twice", t.Name)
			}
			tasks[t.Name] = true
			rest := args[1:]
			if rest[0].kind == tWord && rest[0].text == "in" {
				if rest[1].kind != tWord || !isIdent(rest[1].text) {
					return p.errAt(rest[1].pos, "an instance name", rest[1].describe())
				}
				t.In = rest[1].text
				rest = rest[2:]
			}
			if rest[0].kind != tColon {
				exp := "':' (or \"in INSTANCE:\")"
				if t.In != "" {
					exp = "':'"
				}
				return p.errAt(rest[0].pos, exp, rest[0].describe())
			}
			if rest[1].kind != tEOL {
				return p.errAt(rest[1].pos, "end of line after ':' (statements go on the indented lines below)", rest[1].describe())
			}
			p.s.Tasks = append(p.s.Tasks, t)
			cur = t
		default:
			return p.errAt(t0.pos, headerWords, t0.describe())
		}
	}
	if cur != nil && len(cur.Body) == 0 {
		return p.msgAt(cur.Pos, "task %s has no statements (indent them below the task line)", cur.Name)
	}
	if len(p.s.Tasks) == 0 {
		return p.errAt(end, "at least one task (\"task NAME:\" followed by indented statements)", "end of file")
	}
	return nil
}

// checkPath rejects paths the initial tree cannot hold.
func checkPath(p string) string {
	switch {
	case p == "":
		return "empty"
	case strings.HasPrefix(p, "/"):
		return "must be relative to the root"
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return "must not contain empty, . or .. elements"
		}
	}
	return ""
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// stmt parses "[NAME {, NAME} =] VERB {ARG}".
func (p *parser) stmt(toks []token) (*Stmt, error) {
	st := &Stmt{Pos: toks[0].pos}
	// Results: look for '=' among the leading tokens.
	hasEq := false
	for _, t := range toks {
		if t.kind == tEq {
			hasEq = true
			break
		}
		if t.kind != tWord && t.kind != tComma {
			break
		}
	}
	i := 0
	if hasEq {
		for {
			t := toks[i]
			if t.kind != tWord || !isIdent(t.text) {
				return nil, p.errAt(t.pos, "a variable name", t.describe())
			}
			st.Results = append(st.Results, t.text)
			i++
			if toks[i].kind == tComma {
				i++
				continue
			}
			if toks[i].kind != tEq {
				return nil, p.errAt(toks[i].pos, "',' or '='", toks[i].describe())
			}
			i++
			break
		}
	}
	vt := toks[i]
	if vt.kind != tWord {
		return nil, p.errAt(vt.pos, "a statement (e.g. open, write, drop, await, expect)", vt.describe())
	}
	st.Verb = vt.text
	st.Pos = toks[0].pos
	for _, t := range toks[i+1:] {
		switch t.kind {
		case tEOL:
			return st, nil
		case tWord:
			st.Args = append(st.Args, Arg{Pos: t.pos, Kind: ArgWord, Text: t.text})
		case tString:
			st.Args = append(st.Args, Arg{Pos: t.pos, Kind: ArgString, Text: t.text})
		case tEqEq:
			st.Args = append(st.Args, Arg{Pos: t.pos, Kind: ArgWord, Text: "=="})
		default:
			return nil, p.errAt(t.pos, "an argument", t.describe())
		}
	}
	return st, nil
}

// ---- checked arguments ----

type pkind uint8

const (
	pVar pkind = iota + 1
	pStr
	pInt
	pDur
	pAddr
	pWord // a keyword
)

type pval struct {
	kind pkind
	pos  Pos
	s    string // variable name, string value or keyword
	n    uint64
	d    time.Duration
	a    netip.AddrPort
}
