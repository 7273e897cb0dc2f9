package scenario

import (
	"fmt"
	"iter"
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

// MaxSource bounds the size of a scenario: Parse refuses a larger one
// before reading it, so a huge file costs nothing. A trace embeds its
// scenario's source in its header, and this bound keeps that header within
// what sim reads back.
const MaxSource = 8 << 20

// MaxLineTokens bounds the tokens of one line (a statement needs a few; a
// drop of many handles a few hundred): a longer line is an error at the
// token past the bound, so the lexer holds at most this many tokens.
const MaxLineTokens = 4096

// lex splits the source into lines of tokens, one line at a time, so that
// only the line being parsed is held as tokens. Blank and comment-only
// lines are skipped. An error ends the sequence.
func lex(file string, src []byte) iter.Seq2[line, error] {
	return func(yield func(line, error) bool) {
		text := string(src)
		if !utf8.ValidString(text) {
			yield(line{}, invalidUTF8(file, text))
			return
		}
		for num, rest := 1, text; rest != ""; num++ {
			l, after, _ := strings.Cut(rest, "\n")
			rest = after
			toks, err := lexLine(file, num, strings.TrimSuffix(l, "\r"))
			if err != nil {
				yield(line{}, err)
				return
			}
			if len(toks) == 0 {
				continue
			}
			indented := l[0] == ' ' || l[0] == '\t'
			if !yield(line{num: num, indented: indented, toks: toks}, nil) {
				return
			}
		}
	}
}

// invalidUTF8 is the error at the first byte of text that is not UTF-8.
func invalidUTF8(file, text string) error {
	num, col := 1, 1
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		if r == '\n' {
			num, col = num+1, 0
		}
		i += n
		col += n
	}
	return &Error{File: file, Pos: Pos{num, col}, Msg: "invalid UTF-8"}
}

// lexLine tokenizes one line (without its newline): no tokens for a blank
// or comment-only line, else the tokens and a final tEOL.
func lexLine(file string, num int, l string) ([]token, error) {
	i := 0
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	var toks []token
	for i < len(l) {
		c := l[i]
		pos := Pos{num, i + 1}
		if len(toks) >= MaxLineTokens && c != ' ' && c != '\t' && c != '\r' && c != '#' {
			return nil, &Error{File: file, Pos: pos, Msg: fmt.Sprintf("more than %d tokens on one line", MaxLineTokens)}
		}
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
		return nil, nil
	}
	return append(toks, token{kind: tEOL, pos: Pos{num, len(l) + 1}}), nil
}
