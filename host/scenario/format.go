package scenario

import (
	"strconv"
	"strings"
)

// Format prints a script in canonical form: header settings in a fixed
// order (variant, seed, chunk, max-steps, then files and directories in
// their order), a blank line, then each task with four-space indentation.
// Comments are not kept. Parsing the output gives an equal script.
func (s *Script) Format() []byte {
	var b strings.Builder
	if s.VariantSet {
		b.WriteString("variant " + s.Variant.String() + "\n")
	}
	if s.SeedSet {
		b.WriteString("seed " + strconv.FormatUint(s.Seed, 10) + "\n")
	}
	if s.Chunk != 0 {
		b.WriteString("chunk " + strconv.Itoa(s.Chunk) + "\n")
	}
	if s.MaxSteps != 0 {
		b.WriteString("max-steps " + strconv.FormatInt(s.MaxSteps, 10) + "\n")
	}
	for _, f := range s.Files {
		if f.Dir {
			b.WriteString("dir " + strconv.Quote(f.Path) + "\n")
			continue
		}
		b.WriteString("file " + strconv.Quote(f.Path))
		if f.Content != "" {
			b.WriteString(" " + strconv.Quote(f.Content))
		}
		b.WriteString("\n")
	}
	for _, t := range s.Tasks {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("task " + t.Name)
		if t.In != "" {
			b.WriteString(" in " + t.In)
		}
		b.WriteString(":\n")
		for _, st := range t.Body {
			b.WriteString("    " + st.String() + "\n")
		}
	}
	return []byte(b.String())
}

// String is the statement as it would be written.
func (st *Stmt) String() string {
	var b strings.Builder
	if len(st.Results) > 0 {
		b.WriteString(strings.Join(st.Results, ", ") + " = ")
	}
	b.WriteString(st.Verb)
	for _, a := range st.Args {
		b.WriteString(" ")
		if a.Kind == ArgString {
			b.WriteString(strconv.Quote(a.Text))
		} else {
			b.WriteString(a.Text)
		}
	}
	return b.String()
}
