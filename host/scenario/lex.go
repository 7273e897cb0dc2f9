package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pos is a position in a scenario file: 1-based line and column (columns
// count bytes).
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a malformed scenario: where, what the parser expected and what
// it found instead. Error() is "file:line:col: expected X, found Y", or
// "file:line:col: message" for errors that are not about a token.
type Error struct {
	File     string
	Pos      Pos
	Expected string
	Found    string
	Msg      string
}

func (e *Error) Error() string {
	if e.Expected != "" {
		return fmt.Sprintf("%s:%d:%d: expected %s, found %s", e.File, e.Pos.Line, e.Pos.Col, e.Expected, e.Found)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

type tokKind uint8

const (
	tWord tokKind = iota + 1
	tString
	tEq    // =
	tEqEq  // ==
	tComma // ,
	tColon // a ':' ending a word, as in "task writer:"
	tEOL
)

type token struct {
	kind tokKind
	pos  Pos
	text string // word text, or the string's value
	raw  string // the source text of the token
}

// describe is how a token is named in "found X".
func (t token) describe() string {
	switch t.kind {
	case tWord:
		return strconv.Quote(t.text)
	case tString:
		return "string " + t.raw
	case tEq:
		return "'='"
	case tEqEq:
		return "'=='"
	case tComma:
		return "','"
	case tColon:
		return "':'"
	}
	return "end of line"
}

// line is one non-blank source line, tokenized.
type line struct {
	num      int
	indented bool
	toks     []token // always ends with tEOL
}

// isWordByte reports whether c may appear in a word.
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '`', ',', '=', '#':
		return false
	}
	return true
}

// lex splits the source into lines of tokens. Blank and comment-only lines
// are dropped.
func lex(file string, src []byte) ([]line, error) {
	var out []line
	text := string(src)
	if !utf8.ValidString(text) {
		// Find the first bad byte for the position.
		for ln, l := range strings.Split(text, "\n") {
			if !utf8.ValidString(l) {
				col := 1
				for i := 0; i < len(l); {
					r, n := utf8.DecodeRuneInString(l[i:])
					if r == utf8.RuneError && n == 1 {
						col = i + 1
						break
					}
					i += n
				}
				return nil, &Error{File: file, Pos: Pos{ln + 1, col}, Msg: "invalid UTF-8"}
			}
		}
	}
	for ln, l := range strings.Split(text, "\n") {
		num := ln + 1
		l = strings.TrimSuffix(l, "\r")
		i := 0
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		indented := i > 0
		var toks []token
		for i < len(l) {
			c := l[i]
			pos := Pos{num, i + 1}
			switch {
			case c == ' ' || c == '\t' || c == '\r':
				i++
				continue
			case c == '#':
				i = len(l)
				continue
			case c == ',':
				toks = append(toks, token{kind: tComma, pos: pos, raw: ","})
				i++
			case c == '=':
				if i+1 < len(l) && l[i+1] == '=' {
					toks = append(toks, token{kind: tEqEq, pos: pos, raw: "=="})
					i += 2
				} else {
					toks = append(toks, token{kind: tEq, pos: pos, raw: "="})
					i++
				}
			case c == '"' || c == '`':
				j := i + 1
				for j < len(l) && l[j] != c {
					if c == '"' && l[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(l) {
					return nil, &Error{File: file, Pos: pos, Expected: "closing " + string(c), Found: "end of line"}
				}
				raw := l[i : j+1]
				v, err := strconv.Unquote(raw)
				if err != nil {
					return nil, &Error{File: file, Pos: pos, Msg: "bad string " + raw + ": use Go escapes (\\n, \\t, \\\", \\\\, \\xNN, \\u1234)"}
				}
				toks = append(toks, token{kind: tString, pos: pos, text: v, raw: raw})
				i = j + 1
			default:
				j := i
				for j < len(l) && isWordByte(l[j]) {
					j++
				}
				w := l[i:j]
				if len(w) > 1 && strings.HasSuffix(w, ":") && !strings.HasSuffix(w, "::") {
					toks = append(toks, token{kind: tWord, pos: pos, text: w[:len(w)-1], raw: w[:len(w)-1]})
					toks = append(toks, token{kind: tColon, pos: Pos{num, j}, raw: ":"})
				} else if w == ":" {
					toks = append(toks, token{kind: tColon, pos: pos, raw: ":"})
				} else {
					toks = append(toks, token{kind: tWord, pos: pos, text: w, raw: w})
				}
				i = j
			}
		}
		if len(toks) == 0 {
			continue
		}
		toks = append(toks, token{kind: tEOL, pos: Pos{num, len(l) + 1}})
		out = append(out, line{num: num, indented: indented, toks: toks})
	}
	return out, nil
}
