package cli

import (
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/wasmrun"
	"github.com/wasisim/wasisim/sim"
)

func (c *command) show(args []string) error {
	fs := c.flags("wasisim show TRACE --html OUT",
		`  wasisim show planted-bug-random-run0.trace --html run0.html
  wasisim show pr870.trace --html - > pr870.html
`)
	out := fs.String("html", "", "write the timeline to this file (- for stdout)")
	pos, err := c.parse(fs, args, 1, "TRACE file")
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("missing --html OUT: where to write the timeline")
	}
	tr, err := sim.ReadTraceFile(pos[0])
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("cannot read trace: %w", err)
		}
		return fmt.Errorf("bad trace: %w", err)
	}
	var b strings.Builder
	renderHTML(&b, pos[0], tr)
	if *out == "-" {
		_, err := io.WriteString(c.stdout, b.String())
		return err
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	fmt.Fprintf(c.stdout, "wrote %s (%d events, outcome: %s)\n", *out, len(tr.Events), tr.End.Outcome)
	return nil
}

var objRE = regexp.MustCompile(`\b(stream|future|ofd|tcp|udp)#[0-9]+\b`)

type lane struct {
	name        string
	task        bool
	y           int
	first, last int
	seen        bool
}

const (
	laneH  = 30
	colW   = 18
	labelW = 210
	topPad = 30
)

// renderHTML draws a trace as a self-contained HTML page with an SVG
// timeline: a lane per task and per stream, future, open file description
// and socket; one column per event; markers for copies, drops, releases of
// locks and ports, traps, and failing task exits.
func renderHTML(w *strings.Builder, name string, tr *sim.Trace) {
	names := taskNames(tr)
	var lanes []*lane
	byName := map[string]*lane{}
	get := func(n string, task bool) *lane {
		if l, ok := byName[n]; ok {
			return l
		}
		l := &lane{name: n, task: task}
		byName[n] = l
		lanes = append(lanes, l)
		return l
	}
	// Columns: every event but the choice points and the world's setup.
	var evs []sim.Event
	for _, e := range tr.Events {
		if e.Of > 0 || (e.Task == 0 && e.Step == 0 && e.Kind != "spawn") {
			continue
		}
		evs = append(evs, e)
	}
	// Lanes in order of appearance: tasks first, then objects.
	for _, e := range evs {
		if e.Kind == "spawn" {
			get(e.Obj, true)
		}
	}
	objOf := func(e sim.Event) string {
		if objRE.MatchString(e.Obj) && objRE.FindString(e.Obj) == e.Obj {
			return e.Obj
		}
		if e.Kind == "drop" {
			return objRE.FindString(e.Detail)
		}
		return ""
	}
	for _, e := range evs {
		if o := objOf(e); o != "" {
			get(o, false)
		}
	}
	for i, l := range lanes {
		l.y = topPad + i*laneH + laneH/2
	}
	width := labelW + len(evs)*colW + 460 // room for a failure label at the end
	height := topPad + len(lanes)*laneH + 20
	var svg strings.Builder
	var failures []string
	marks := func(i int, e sim.Event) {
		x := labelW + i*colW + colW/2
		actor := byName[names[int(e.Task)]]
		if e.Kind == "spawn" {
			actor = byName[e.Obj]
		}
		target := actor
		if o := objOf(e); o != "" {
			target = byName[o]
		}
		for _, l := range []*lane{actor, target} {
			if l == nil {
				continue
			}
			if !l.seen {
				l.first, l.seen = x, true
			}
			l.last = x
		}
		title := html.EscapeString(fmt.Sprintf("step %d · %s · %s %s %s", e.Step, names[int(e.Task)], e.Kind, e.Obj, e.Detail))
		if actor != nil && target != nil && actor != target {
			fmt.Fprintf(&svg, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="link"/>`, x, actor.y, x, target.y)
			fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="2.5" class="actor"/>`, x, actor.y)
		}
		if target == nil {
			return
		}
		y := target.y
		fmt.Fprintf(&svg, `<g><title>%s</title>`, title)
		switch e.Kind {
		case "copy", "write":
			cls := "copy"
			if e.Kind == "write" {
				cls = "write"
			}
			fmt.Fprintf(&svg, `<rect x="%d" y="%d" width="12" height="12" rx="2" class="%s"/>`, x-6, y-6, cls)
			fmt.Fprintf(&svg, `<text x="%d" y="%d" class="num">%s</text>`, x, y-8, html.EscapeString(strings.TrimSuffix(e.Detail, " bytes")))
		case "drop", "drop-readable", "drop-writable":
			fmt.Fprintf(&svg, `<path d="M%d %d l10 10 M%d %d l-10 10" class="drop"/>`, x-5, y-5, x+5, y-5)
		case "release", "free":
			fmt.Fprintf(&svg, `<path d="M%d %d l7 7 l-7 7 l-7 -7 z" class="release"/>`, x, y-7)
			lbl := "release"
			if strings.HasPrefix(e.Detail, "unbind") {
				lbl = "port"
			} else if strings.Contains(e.Detail, "lock") || strings.Contains(e.Detail, "shared") || strings.Contains(e.Detail, "exclusive") {
				lbl = "lock"
			}
			fmt.Fprintf(&svg, `<text x="%d" y="%d" class="num">%s</text>`, x, y+17, lbl)
		case "lock":
			fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="6" class="lock"/>`, x, y)
		case "trap":
			fmt.Fprintf(&svg, `<path d="M%d %d l8 14 l-16 0 z" class="trap"/>`, x, y-8)
			fmt.Fprintf(&svg, `<text x="%d" y="%d" class="bad">trap</text>`, x+9, y-6)
		case "resolve", "deliver":
			cls := "resolve"
			if strings.HasPrefix(e.Detail, "err") {
				cls = "reserr"
			}
			fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="5" class="%s"/>`, x, y, cls)
		case "exit":
			if e.Detail != "ok" {
				failures = append(failures, e.Obj+": "+e.Detail)
				fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="8" class="fail"/><text x="%d" y="%d" class="failx">✗</text>`, x, y, x, y+4)
				fmt.Fprintf(&svg, `<text x="%d" y="%d" class="bad">%s</text>`, x+11, y-8, html.EscapeString(shorten(e.Detail, 70)))
			} else {
				fmt.Fprintf(&svg, `<rect x="%d" y="%d" width="8" height="8" class="exit"/>`, x-4, y-4)
			}
		case "spawn", "stream.new", "future.new", "socket", "open":
			fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="4" class="new"/>`, x, y)
		default:
			fmt.Fprintf(&svg, `<circle cx="%d" cy="%d" r="3.5" class="other"/>`, x, y)
		}
		svg.WriteString("</g>")
	}
	for i, e := range evs {
		marks(i, e)
	}
	h := tr.Header
	fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wasisim trace %s</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:17px;margin:0 0 6px} .meta{color:#555;margin-bottom:8px}
.outcome{padding:6px 10px;border-radius:4px;margin:8px 0;display:inline-block}
.ok{background:#e6f4ea;color:#1e6b34} .failbox{background:#fde8e8;color:#9b1c1c}
.scroll{overflow-x:auto;border:1px solid #ddd;border-radius:4px}
svg text{font:11px system-ui,sans-serif}
.lanelabel{fill:#333} .tasklabel{fill:#0b3d91;font-weight:600}
.life{stroke:#bbb;stroke-width:2} .tasklife{stroke:#7aa2e3;stroke-width:3}
.link{stroke:#ccc;stroke-width:1;stroke-dasharray:2 2} .actor{fill:#7aa2e3}
.copy{fill:#2b6cb0} .write{fill:#2c9c8f} .drop{stroke:#e07b00;stroke-width:2.5;fill:none}
.release{fill:#2f9e44} .lock{fill:#8e44ad} .trap{fill:#d00} .resolve{fill:#555} .reserr{fill:#d00}
.fail{fill:#d00} .failx{fill:#fff;text-anchor:middle;font-weight:700} .exit{fill:#888} .new{fill:#fff;stroke:#555;stroke-width:1.5}
.other{fill:#aaa} .num{text-anchor:middle;fill:#444;font-size:9px} .bad{fill:#b00;font-weight:600}
.legend span{margin-right:14px} .sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>wasisim trace: %s</h1>
<div class="meta">%s · seed %d · run %d · strategy %s · %d steps · %d events</div>
`, html.EscapeString(name), html.EscapeString(name), html.EscapeString(traceSubject(h)),
		h.Seed, h.Run, html.EscapeString(h.Strategy), tr.End.Steps, len(tr.Events))
	if tr.End.Outcome == "ok" {
		w.WriteString(`<div class="outcome ok">outcome: ok</div>`)
	} else {
		fmt.Fprintf(w, `<div class="outcome failbox">outcome: %s</div>`, html.EscapeString(tr.End.Outcome))
	}
	w.WriteString(`<div class="legend">
<span><i class="sw" style="background:#2b6cb0"></i>stream copy</span>
<span><i class="sw" style="background:#2c9c8f"></i>host write</span>
<span><i class="sw" style="background:#e07b00"></i>drop</span>
<span><i class="sw" style="background:#2f9e44"></i>release (lock, port, description)</span>
<span><i class="sw" style="background:#8e44ad"></i>lock taken</span>
<span><i class="sw" style="background:#555"></i>future resolved / read</span>
<span><i class="sw" style="background:#d00"></i>trap / failure</span>
</div>
`)
	fmt.Fprintf(w, `<div class="scroll"><svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, width, height, width, height)
	for i := range evs {
		if i%10 == 0 {
			x := labelW + i*colW + colW/2
			fmt.Fprintf(w, `<text x="%d" y="14" class="num">#%d·s%d</text>`, x, i, evs[i].Step)
		}
	}
	for _, l := range lanes {
		cls, lc := "life", "lanelabel"
		if l.task {
			cls, lc = "tasklife", "tasklabel"
		}
		fmt.Fprintf(w, `<text x="6" y="%d" class="%s">%s</text>`, l.y+4, lc, html.EscapeString(shorten(l.name, 30)))
		if l.seen {
			fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="%s"/>`, l.first, l.y, l.last, l.y, cls)
		}
	}
	w.WriteString(svg.String())
	w.WriteString("</svg></div>\n")
	if len(failures) > 0 {
		w.WriteString("<h2 style=\"font-size:15px\">Failures</h2><ul>")
		for _, f := range failures {
			fmt.Fprintf(w, "<li class=\"bad\">%s</li>", html.EscapeString(f))
		}
		w.WriteString("</ul>")
	}
	w.WriteString("</body></html>\n")
}

// traceSubject says what a trace was recorded from: a scenario and its
// variant, or a wasm binary, its kind and content hash.
func traceSubject(h sim.Header) string {
	if spec, ok, err := wasmrun.ParseSpec(h.Config); ok && err == nil {
		return fmt.Sprintf("%s %s · sha256 %s", spec.Kind, spec.Path, spec.SHA256[:min(16, len(spec.SHA256))])
	}
	return fmt.Sprintf("scenario %s · variant %s", h.Scenario, h.Variant)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
