package scenario

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// vtype is the type of a variable's value.
type vtype byte

const (
	tyHandle vtype = 'h' // a handle of the instance's table
	tyCopy   vtype = 'c' // a stream read or write result (and the bytes read)
	tyResult vtype = 'r' // ok or err(code)
	tyAddr   vtype = 'a' // an IP address and port
	tyList   vtype = 'l' // a list of addresses
)

func (t vtype) String() string {
	switch t {
	case tyHandle:
		return "a handle"
	case tyCopy:
		return "a copy result"
	case tyResult:
		return "a result"
	case tyAddr:
		return "an address"
	case tyList:
		return "an address list"
	}
	return "a value"
}

type aspec struct {
	k     pkind
	name  string
	words []string // pWord: allowed keywords
	rest  bool     // repeats to the end of the line
}

// spec is how a verb is written: what it returns and what arguments it
// takes.
type spec struct {
	res    string // result types, one letter each
	optRes bool   // the results may be left out
	args   []aspec
	req    int // required args; the others are optional (-1: all)
}

var (
	lockKinds  = []string{"shared", "exclusive"}
	families   = []string{"ipv4", "ipv6"}
	protocols  = []string{"tcp", "udp"}
	lockStates = []string{"free", "shared", "exclusive"}
	portStates = []string{"bound", "free"}
)

func v(name string) aspec                    { return aspec{k: pVar, name: name} }
func str(name string) aspec                  { return aspec{k: pStr, name: name} }
func num(name string) aspec                  { return aspec{k: pInt, name: name} }
func kw(name string, ws ...string) aspec     { return aspec{k: pWord, name: name, words: ws} }
func addr(name string) aspec                 { return aspec{k: pAddr, name: name} }
func restOf(a aspec) aspec                   { a.rest = true; return a }
func sp(res string, args ...aspec) spec      { return spec{res: res, args: args, req: -1} }
func opt(s spec, req int) spec               { s.req = req; return s }
func optRes(s spec) spec                     { s.optRes = true; return s }
func dur(name string) aspec                  { return aspec{k: pDur, name: name} }
func taskName(name string) aspec             { return aspec{k: pWord, name: name} }
func kws(name string, ws []string) aspec     { return aspec{k: pWord, name: name, words: ws} }
func vars(name string) aspec                 { return restOf(v(name)) }
func flagsOf(name string, ws []string) aspec { return restOf(kws(name, ws)) }

// verbList is the sorted verb names, for messages.
func verbList() string { return strings.Join(sortedKeys(verbs), ", ") }

// reserved cannot be variable names: they start expect forms.
var reserved = map[string]bool{"file": true, "lock": true, "port": true, "error": true, "trap": true, "stdout": true, "stderr": true, "root": true}

// trapKinds maps the names "expect trap" accepts to host trap kinds.
var trapKinds = map[string]host.TrapKind{
	"forged-handle":      host.TrapForgedHandle,
	"dead-handle":        host.TrapDeadHandle,
	"wrong-type":         host.TrapWrongType,
	"lent-handle":        host.TrapDropWithLends,
	"busy-end":           host.TrapBusyEnd,
	"after-dropped":      host.TrapAfterDropped,
	"unresolved-subtask": host.TrapUnresolvedSubtask,
	"instance-trapped":   host.TrapInstanceTrapped,
	"bad-argument":       host.TrapBadArgument,
}

func trapKindName(k host.TrapKind) string {
	for n, kk := range trapKinds {
		if kk == k {
			return n
		}
	}
	return k.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// validCode reports whether s names a WASI error code (filesystem or
// sockets) or "would-block".
func validCode(s string) bool {
	if s == "would-block" {
		return true
	}
	if _, ok := vfs.ParseErrorCode(s); ok {
		return true
	}
	_, err := vnet.ParseErrorCode(s)
	return err == nil
}

// checker checks a script, one statement at a time.
type checker struct {
	file      string
	taskNames map[string]bool
	task      *Task // the task of the statement being checked
	prev      *Stmt // the statement before it in its task (nil: none)
}

func (c *checker) errAt(pos Pos, expected, found string) error {
	return &Error{File: c.file, Pos: pos, Expected: expected, Found: found}
}

func (c *checker) msgAt(pos Pos, format string, args ...any) error {
	return &Error{File: c.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func usage(verb string, s spec) string {
	var b strings.Builder
	if s.res != "" {
		names := make([]string, len(s.res))
		for i := range s.res {
			names[i] = string('a' + rune(i))
		}
		if s.optRes {
			b.WriteString("[")
		}
		b.WriteString(strings.Join(names, ", ") + " = ")
		if s.optRes {
			b.WriteString("] ")
		}
	}
	b.WriteString(verb)
	for i, a := range s.args {
		n := strings.ToUpper(strings.ReplaceAll(a.name, " ", "-"))
		if a.k == pWord && len(a.words) > 0 && len(a.words) <= 3 && !a.rest {
			n = strings.Join(a.words, "|")
		}
		if a.rest {
			n += "..."
		}
		if a.rest || (s.req >= 0 && i >= s.req) {
			n = "[" + n + "]"
		}
		b.WriteString(" " + n)
	}
	return b.String()
}

func (c *checker) arg(a Arg, s aspec) (pval, error) {
	what := s.name
	switch s.k {
	case pVar:
		if a.Kind != ArgWord || !isIdent(a.Text) {
			return pval{}, c.errAt(a.Pos, "a variable ("+what+")", a.describe())
		}
		return pval{kind: pVar, pos: a.Pos, s: a.Text}, nil
	case pStr:
		if a.Kind != ArgString {
			return pval{}, c.errAt(a.Pos, "a quoted string ("+what+")", a.describe())
		}
		return pval{kind: pStr, pos: a.Pos, s: a.Text}, nil
	case pInt:
		n, err := strconv.ParseUint(a.Text, 10, 64)
		if a.Kind != ArgWord || err != nil {
			return pval{}, c.errAt(a.Pos, "a non-negative integer ("+what+")", a.describe())
		}
		return pval{kind: pInt, pos: a.Pos, n: n}, nil
	case pDur:
		d, err := time.ParseDuration(a.Text)
		if a.Kind != ArgWord || err != nil || d < 0 {
			return pval{}, c.errAt(a.Pos, "a duration like 10ms or 2s ("+what+")", a.describe())
		}
		return pval{kind: pDur, pos: a.Pos, d: d}, nil
	case pAddr:
		ap, err := netip.ParseAddrPort(a.Text)
		if a.Kind != ArgWord || err != nil {
			return pval{}, c.errAt(a.Pos, "an address like 127.0.0.1:8080 or [::1]:80 ("+what+")", a.describe())
		}
		return pval{kind: pAddr, pos: a.Pos, a: ap}, nil
	case pWord:
		if a.Kind != ArgWord || (len(s.words) > 0 && !contains(s.words, a.Text)) || (len(s.words) == 0 && !isIdent(a.Text)) {
			exp := "a " + what
			if len(s.words) > 0 {
				exp = oneOf(s.words)
			}
			return pval{}, c.errAt(a.Pos, exp, a.describe())
		}
		return pval{kind: pWord, pos: a.Pos, s: a.Text}, nil
	}
	return pval{}, c.msgAt(a.Pos, "internal: bad argument spec")
}

func contains(ws []string, s string) bool {
	for _, w := range ws {
		if w == s {
			return true
		}
	}
	return false
}

func oneOf(ws []string) string {
	if len(ws) == 1 {
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
}

// endPos is where a missing argument would go.
func endPos(st *Stmt) Pos {
	if len(st.Args) > 0 {
		a := st.Args[len(st.Args)-1]
		n := len(a.Text)
		if a.Kind == ArgString {
			n = len(strconv.Quote(a.Text))
		}
		return Pos{a.Pos.Line, a.Pos.Col + n}
	}
	return Pos{st.Pos.Line, st.Pos.Col + len(st.Verb)}
}

// stmt checks a statement's results and arguments and gives it its verb.
func (c *checker) stmt(st *Stmt) error {
	vb, ok := verbs[st.Verb]
	if !ok {
		return c.errAt(st.Pos, "a statement ("+verbList()+")", strconv.Quote(st.Verb))
	}
	st.verb = vb
	if vb.args != nil {
		return vb.args(c, st)
	}
	s := vb.spec
	switch {
	case len(st.Results) == 0 && s.res != "" && !s.optRes:
		return c.msgAt(st.Pos, "%s returns %d value(s): write %s", st.Verb, len(s.res), usage(st.Verb, s))
	case len(st.Results) > 0 && len(st.Results) != len(s.res):
		if s.res == "" {
			return c.msgAt(st.Pos, "%s returns nothing: write %s", st.Verb, usage(st.Verb, s))
		}
		return c.msgAt(st.Pos, "%s returns %d value(s), not %d: write %s", st.Verb, len(s.res), len(st.Results), usage(st.Verb, s))
	}
	for _, r := range st.Results {
		if reserved[r] {
			return c.msgAt(st.Pos, "%q is reserved and cannot be a variable name", r)
		}
	}
	st.args = st.args[:0]
	ai := 0
	for i, as := range s.args {
		if as.rest {
			for ai < len(st.Args) {
				pv, err := c.arg(st.Args[ai], as)
				if err != nil {
					return err
				}
				st.args = append(st.args, pv)
				ai++
			}
			if as.k == pVar && len(st.args) == 0 {
				return c.errAt(endPos(st), "a variable ("+as.name+"): write "+usage(st.Verb, s), "end of line")
			}
			break
		}
		if ai >= len(st.Args) {
			if s.req >= 0 && i >= s.req {
				break
			}
			return c.errAt(endPos(st), as.what()+": write "+usage(st.Verb, s), "end of line")
		}
		pv, err := c.arg(st.Args[ai], as)
		if err != nil {
			return err
		}
		st.args = append(st.args, pv)
		ai++
	}
	if ai < len(st.Args) {
		return c.errAt(st.Args[ai].Pos, "end of line: write "+usage(st.Verb, s), st.Args[ai].describe())
	}
	return nil
}

func (a aspec) what() string {
	switch a.k {
	case pVar:
		return "a variable (" + a.name + ")"
	case pStr:
		return "a quoted string (" + a.name + ")"
	case pInt:
		return "an integer (" + a.name + ")"
	case pDur:
		return "a duration (" + a.name + ")"
	case pAddr:
		return "an address (" + a.name + ")"
	case pWord:
		if len(a.words) > 0 {
			return oneOf(a.words)
		}
		return "a " + a.name
	}
	return a.name
}

// expect forms:
//
//	expect VAR ok | err CODE | == "text" | completed [N] | dropped [N] | cancelled [N]
//	expect file "path" == "content" | missing | exists
//	expect lock "path" free | shared | exclusive
//	expect port tcp|udp ADDR bound | free
//	expect stdout == "text"     expect stderr == "text"
//	expect error CODE           expect trap [KIND]
func (c *checker) expect(st *Stmt) error {
	if len(st.Results) > 0 {
		return c.msgAt(st.Pos, "expect returns nothing")
	}
	args := st.Args
	st.args = st.args[:0]
	need := func(i int, s aspec) (pval, error) {
		if i >= len(args) {
			return pval{}, c.errAt(endPos(st), s.what(), "end of line")
		}
		return c.arg(args[i], s)
	}
	end := func(i int) error {
		if i < len(args) {
			return c.errAt(args[i].Pos, "end of line", args[i].describe())
		}
		return nil
	}
	add := func(pv pval, err error) error {
		if err == nil {
			st.args = append(st.args, pv)
		}
		return err
	}
	first, err := need(0, kw("what to check: a variable, file, lock, port, stdout, stderr, error or trap"))
	if err != nil {
		if len(args) > 0 && args[0].Kind == ArgWord && args[0].Text != "==" {
			return c.errAt(args[0].Pos, "a variable, file, lock, port, stdout, stderr, error or trap", args[0].describe())
		}
		return err
	}
	st.args = append(st.args, first)
	switch first.s {
	case "file":
		if err := add(need(1, str("path"))); err != nil {
			return err
		}
		if err := checkPathArg(c, st.args[1]); err != nil {
			return err
		}
		if err := add(need(2, kw("file state", "==", "missing", "exists"))); err != nil {
			return err
		}
		if st.args[2].s == "==" {
			if err := add(need(3, str("content"))); err != nil {
				return err
			}
			return end(4)
		}
		return end(3)
	case "lock":
		if err := add(need(1, str("path"))); err != nil {
			return err
		}
		if err := checkPathArg(c, st.args[1]); err != nil {
			return err
		}
		if err := add(need(2, kws("lock state", lockStates))); err != nil {
			return err
		}
		return end(3)
	case "port":
		if err := add(need(1, kws("protocol", protocols))); err != nil {
			return err
		}
		if err := add(need(2, addr("address"))); err != nil {
			return err
		}
		if err := add(need(3, kws("port state", portStates))); err != nil {
			return err
		}
		return end(4)
	case "stdout", "stderr":
		if err := add(need(1, kw("'=='", "=="))); err != nil {
			return err
		}
		if err := add(need(2, str("text"))); err != nil {
			return err
		}
		return end(3)
	case "error":
		if err := add(need(1, kw("error code"))); err != nil {
			return err
		}
		if !validCode(st.args[1].s) {
			return c.errAt(st.args[1].pos, "a WASI error code (e.g. no-entry, address-in-use, would-block)", strconv.Quote(st.args[1].s))
		}
		return end(2)
	case "trap":
		if len(args) > 1 {
			if err := add(need(1, kws("trap kind", sortedKeys(trapKinds)))); err != nil {
				return err
			}
		}
		return end(2)
	}
	// A variable.
	if !isIdent(first.s) {
		return c.errAt(first.pos, "a variable, file, lock, port, stdout, stderr, error or trap", strconv.Quote(first.s))
	}
	st.args[0].kind = pVar
	if err := add(need(1, kw("a check", "ok", "err", "==", "completed", "dropped", "cancelled"))); err != nil {
		return err
	}
	switch st.args[1].s {
	case "ok":
		return end(2)
	case "err":
		if err := add(need(2, kw("error code"))); err != nil {
			return err
		}
		if !validCode(st.args[2].s) {
			return c.errAt(st.args[2].pos, "a WASI error code (e.g. no-entry, address-in-use, would-block)", strconv.Quote(st.args[2].s))
		}
		return end(3)
	case "==":
		if err := add(need(2, str("expected value"))); err != nil {
			return err
		}
		return end(3)
	default: // completed, dropped, cancelled [N]
		if len(args) > 2 {
			if err := add(need(2, num("progress"))); err != nil {
				return err
			}
		}
		return end(3)
	}
}

func checkPathArg(c *checker, pv pval) error {
	if msg := checkPath(pv.s); msg != "" {
		return c.msgAt(pv.pos, "bad path %q: %s", pv.s, msg)
	}
	return nil
}

// varInfo is what the checker knows of a variable of an instance.
type varInfo struct {
	ty  vtype
	pos Pos
}

// check validates every statement and the variables of each instance.
func check(s *Script) error {
	c := &checker{file: s.Name, taskNames: map[string]bool{}}
	for _, t := range s.Tasks {
		c.taskNames[t.Name] = true
	}
	// Pass 1: statements, result types.
	insts := map[string]map[string]varInfo{}
	for _, t := range s.Tasks {
		vs := insts[t.Instance()]
		if vs == nil {
			vs = map[string]varInfo{"root": {ty: tyHandle}}
			insts[t.Instance()] = vs
		}
		c.task, c.prev = t, nil
		for _, st := range t.Body {
			if err := c.stmt(st); err != nil {
				return err
			}
			if st.verb.check != nil {
				if err := st.verb.check(c, st); err != nil {
					return err
				}
			}
			for i, r := range st.Results {
				ty := vtype(st.verb.res[i])
				if old, ok := vs[r]; ok && old.ty != ty {
					if r == "root" || old.pos.Line == 0 {
						return c.msgAt(st.Pos, "%s is the preopened root directory and cannot be assigned", r)
					}
					return c.msgAt(st.Pos, "%s is %s here but %s at line %d", r, ty, old.ty, old.pos.Line)
				}
				if _, ok := vs[r]; !ok {
					vs[r] = varInfo{ty: ty, pos: st.Pos}
				}
			}
			c.prev = st
		}
	}
	// Pass 2: uses.
	for _, t := range s.Tasks {
		vs := insts[t.Instance()]
		for _, st := range t.Body {
			for i, a := range st.args {
				if a.kind != pVar {
					continue
				}
				vi, ok := vs[a.s]
				if !ok {
					return c.msgAt(a.pos, "variable %s is never assigned in instance %s", a.s, t.Instance())
				}
				if st.verb.use != nil {
					if err := st.verb.use(c, st, i, vi); err != nil {
						return err
					}
					continue
				}
				if vi.ty != tyHandle {
					return c.msgAt(a.pos, "%s is %s (line %d), not a handle", a.s, vi.ty, vi.pos.Line)
				}
			}
		}
	}
	return nil
}

// checkExpectPlace: expect error and expect trap check the statement
// before them, which must not be an expect.
func checkExpectPlace(c *checker, st *Stmt) error {
	if (st.args[0].s == "error" || st.args[0].s == "trap") && st.args[0].kind == pWord {
		if c.prev == nil || c.prev.Verb == "expect" {
			return c.msgAt(st.Pos, "expect %s must follow the statement it checks", st.args[0].s)
		}
		st.checks = c.prev
		c.prev.outcome = st
	}
	return nil
}

// checkExpectUse: the variable an expect checks holds a value the check
// applies to.
func checkExpectUse(c *checker, st *Stmt, i int, vi varInfo) error {
	if i != 0 {
		return nil
	}
	return checkExpectType(c, st, vi.ty)
}

func checkExpectType(c *checker, st *Stmt, ty vtype) error {
	v := st.args[0]
	what := st.args[1].s
	ok := false
	switch what {
	case "ok", "err":
		ok = ty == tyResult
	case "==":
		ok = ty == tyCopy || ty == tyAddr || ty == tyList
	default:
		ok = ty == tyCopy
	}
	if !ok {
		return c.msgAt(st.args[1].pos, "%s is %s: \"expect %s %s\" does not apply", v.s, ty, v.s, what)
	}
	return nil
}
