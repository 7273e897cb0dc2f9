//go:build ignore

// benchreport prints the headline table of the performance suite from the
// raw output of scripts/bench: the median of every (benchmark, unit) over -count runs,
// next to its peer, with the ratio and whether the goal holds.
//
//	go run ./scripts/benchreport/main.go RAWFILE
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var vals = map[string][]float64{} // "name unit" -> samples

// med is the median of a benchmark's unit, or NaN-free 0 if absent.
func med(name, unit string) float64 {
	v := append([]float64(nil), vals[name+" "+unit]...)
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	suffix := regexp.MustCompile(`-\d+$`)
	var pct string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "PCT found"); i >= 0 {
			pct = strings.TrimSpace(line[strings.Index(line, ": ")+2:])
		}
		fs := strings.Fields(line)
		if len(fs) < 4 || !strings.HasPrefix(fs[0], "Benchmark") {
			continue
		}
		name := suffix.ReplaceAllString(strings.TrimPrefix(fs[0], "Benchmark"), "")
		for i := 2; i+1 < len(fs); i += 2 {
			if v, err := strconv.ParseFloat(fs[i], 64); err == nil {
				vals[name+" "+fs[i+1]] = append(vals[name+" "+fs[i+1]], v)
			}
		}
	}

	fmt.Println("| figure | wasisim | peer | ratio | goal | holds |")
	fmt.Println("|---|---|---|---|---|---|")
	row := func(fig, got, peer string, ratio float64, rfmt, goal string, ok bool) {
		yes := "no"
		if ok {
			yes = "yes"
		}
		fmt.Printf("| %s | %s | %s | "+rfmt+" | %s | %s |\n", fig, got, peer, ratio, goal, yes)
	}
	ns := func(v float64) string {
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.1f ns", v)
	}
	mixed := med("Mixed/vfs", "ns/op")
	mm, osv := med("Mixed/afero-memmap", "ns/op"), med("Mixed/os", "ns/op")
	row("mixed small-file workload vs MemMapFs", ns(mixed)+"/iter", "MemMapFs "+ns(mm), mm/mixed, "%.1f×", "≥ 3×", mm/mixed >= 3)
	row("mixed small-file workload vs the OS", ns(mixed)+"/iter", "OS tmpdir "+ns(osv), osv/mixed, "%.1f×", "≥ 10×", osv/mixed >= 10)
	va := med("Mixed/vfs-afero", "ns/op")
	row("same, vfs through the afero adapter", ns(va)+"/iter", "MemMapFs "+ns(mm), mm/va, "%.1f×", "≥ 3×", mm/va >= 3)

	mv := med("Memmove", "MB/s")
	for _, c := range []string{"8KiB", "64KiB", "1024KiB"} {
		v := med("WriteViaStream64MiB/chunk="+c, "MB/s")
		row("64 MiB write-via-stream, chunk "+c, fmt.Sprintf("%.0f MB/s", v), fmt.Sprintf("memmove %.0f MB/s", mv), 100*v/mv, "%.0f%%", "≥ 30%", v/mv >= 0.3)
	}
	v := med("TCP64MiB", "MB/s")
	row("64 MiB over TCP (host streams)", fmt.Sprintf("%.0f MB/s", v), fmt.Sprintf("memmove %.0f MB/s", mv), 100*v/mv, "%.0f%%", "≥ 30%", v/mv >= 0.3)
	vm := med("Memmove64MiB", "MB/s")
	v = med("Throughput64MiB", "MB/s")
	row("64 MiB over a vnet connection (world mode)", fmt.Sprintf("%.0f MB/s", v), fmt.Sprintf("memmove %.0f MB/s", vm), 100*v/vm, "%.0f%%", "≥ 30%", v/vm >= 0.3)

	baton := med("Switch/channel-baton", "ns/op")
	for _, s := range []string{"random", "round-robin", "pct"} {
		v := med("Step/"+s, "ns/op")
		row("step, 3 tasks, "+s, ns(v), "channel baton "+ns(baton), baton/v, "%.1f× faster", "≤ 100 ns", v <= 100)
	}
	v = med("Switch/iter-pull", "ns/op")
	row("(one iter.Pull round trip)", ns(v), "channel baton "+ns(baton), baton/v, "%.1f× faster", "—", true)

	d := med("DropScenario/trace=false", "runs/s")
	row(fmt.Sprintf("drop scenario (%.0f steps, 3 tasks), 1 core", med("DropScenario/trace=false", "steps/run")), fmt.Sprintf("%.0f runs/s", d), "—", d/20000, "%.2f of goal", "≥ 20,000/s per core", d >= 20000)
	s := med("Schedules/trace=off", "runs/s")
	row(fmt.Sprintf("sim-only 3-task scenario (%.0f steps)", med("Schedules/trace=off", "steps/run")), fmt.Sprintf("%.0f runs/s", s), "—", s/20000, "%.2f of goal", "≥ 20,000/s per core", s >= 20000)
	for _, e := range []string{"ExploreDrop", "Explore"} {
		w1, w2 := med(e+"/workers=1", "runs/s"), med(e+"/workers=2", "runs/s")
		row(e+", 2 workers vs 1", fmt.Sprintf("%.0f runs/s", w2), fmt.Sprintf("1 worker %.0f runs/s", w1), w2/w1, "%.2f×", "2× (linear to 2 cores)", w2/w1 >= 1.8)
	}
	if pct != "" {
		var run, bound int
		if i := strings.Index(pct, "PCT found it at run "); i >= 0 {
			fmt.Sscanf(pct[i:], "PCT found it at run %d (bound %d)", &run, &bound)
		}
		row("PCT (d=2) on the planted drop bug", fmt.Sprintf("run %d", run), fmt.Sprintf("bound n·k = %d", bound), float64(run)/float64(bound), "%.2f of bound", "within the bound", run > 0 && run <= bound)
	}
	ws, wz := med("ManyFiles/wasisim", "ns/op"), med("ManyFiles/wazero", "ns/op")
	row("file-heavy wasip1 guest", ns(ws), "wazero WASI on tmpdir "+ns(wz), wz/ws, "%.1f×", "≥ 2×", wz/ws >= 2)
	for _, k := range []string{"file", "dir"} {
		v := med("EmptyInode/"+k, "B/inode")
		row("memory per empty inode ("+k+")", fmt.Sprintf("%.0f B", v), "—", v/200, "%.2f of goal", "≤ 200 B", v <= 200)
	}
	v = med("IdleConn/conns=1000", "B/conn")
	row("memory per idle TCP connection (both ends)", fmt.Sprintf("%.0f B", v), "—", v/2048, "%.2f of goal", "≤ 2 KiB + buffers", v <= 2048)
	off, on := med("DropScenario/trace=false", "ns/op"), med("DropScenario/trace=true", "ns/op")
	row("tracing, full trace (record + write) vs off, drop scenario", ns(on)+"/run", "off "+ns(off)+"/run", 100*(on/off-1), "%+.0f%%", "≤ +10%", on/off-1 <= 0.10)
	choff, ch := med("DropTrace/off", "ns/op"), med("DropTrace/choices", "ns/op")
	row("tracing, compact (choices) trace recorded", ns(ch)+"/run", "off "+ns(choff)+"/run", 100*(ch/choff-1), "%+.0f%%", "≤ +10%", ch/choff-1 <= 0.10)
	chw := med("DropTrace/choices+write", "ns/op")
	row("tracing, compact trace recorded + written", ns(chw)+"/run", "off "+ns(choff)+"/run", 100*(chw/choff-1), "%+.0f%%", "≤ +10%", chw/choff-1 <= 0.10)
	rec := med("DropTrace/record", "ns/op")
	row("tracing, full trace, record only", ns(rec)+"/run", "off "+ns(med("DropTrace/off", "ns/op"))+"/run", 100*(rec/med("DropTrace/off", "ns/op")-1), "%+.0f%%", "≤ +10%", rec/med("DropTrace/off", "ns/op")-1 <= 0.10)
	fmt.Printf("\ntrace size %.0f B/run (%.0f events), encode %.0f ns/event (drop scenario); sim scenario %.0f B/run, %.0f ns/event\n",
		med("DropTrace/encode", "trace-bytes/run"), med("DropTrace/encode", "events/run"), med("DropTrace/encode", "ns/event"),
		med("TraceEncode", "trace-bytes/run"), med("TraceEncode", "ns/event"))

	fmt.Println("\ngrowth curves (medians):")
	fmt.Println("| curve | size | figure |")
	fmt.Println("|---|---|---|")
	for _, n := range []string{"10", "100", "1000"} {
		b := "ScheduleGrowth/steps=" + n
		fmt.Printf("| schedules/s vs steps | %s (%.0f actual) | %.0f runs/s, %.0f ns/step |\n", n, med(b, "steps/run"), med(b, "runs/s"), med(b, "ns/step"))
	}
	for _, n := range []string{"1000", "10000", "100000", "1000000"} {
		b := "FilesGrowth/files=" + n
		if med(b, "ops/s") > 0 {
			fmt.Printf("| vfs ops/s vs files in the directory | %s | %.0f ops/s, populate %.0f ns/file, %.0f B/inode |\n", n, med(b, "ops/s"), med(b, "populate-ns/file"), med(b, "B/inode"))
		}
	}
	for _, k := range []string{"inodes", "ofds"} {
		for _, n := range []string{"1000", "10000", "100000"} {
			fmt.Printf("| memory vs %s | %s | %.0f B/%s |\n", k, n, med("ObjectMemory/"+k+"/n="+n, "B/"+k[:len(k)-1]), k[:len(k)-1])
		}
	}
	for _, n := range []string{"100", "1000", "10000"} {
		fmt.Printf("| memory vs idle TCP connections | %s | %.0f B/conn |\n", n, med("IdleConn/conns="+n, "B/conn"))
	}
}
