package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// merge combines the reports of the shards of one exploration (explore
// --shard i/n --report FILE, or its --json output) into one: the runs and
// outcomes added up, the exploration exhausted if every shard's was, and
// the first failure of the fixed order — the failure a single process
// would have reported.
func (c *command) merge(args []string) error {
	fs := c.flags("wasisim merge REPORT... [--json]",
		`  wasisim explore s.wsim --strategy dfs --runs 0 --shard 0/2 --report s0.json
  wasisim explore s.wsim --strategy dfs --runs 0 --shard 1/2 --report s1.json
  wasisim merge s0.json s1.json
`)
	asJSON := fs.Bool("json", false, "print the merged report as JSON")
	var files []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp // Parse printed the usage
			}
			return usagef("%v (see wasisim merge --help)", err)
		}
		args = fs.Args()
		if len(args) > 0 {
			files = append(files, args[0])
			args = args[1:]
		}
	}
	if len(files) == 0 {
		return usagef("missing the shards' reports (see wasisim merge --help)")
	}
	var reps []exploreJSON
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("cannot read report: %w", err)
		}
		var r exploreJSON
		d := json.NewDecoder(bytes.NewReader(b))
		if err := d.Decode(&r); err != nil {
			return fmt.Errorf("%s: not an explore report: %v", f, err)
		}
		if r.Shards < 1 || r.Shard < 0 || r.Shard >= r.Shards || r.Strategy == "" || r.ConfigHash == "" {
			return fmt.Errorf("%s: not an explore report (no strategy, configuration hash or shard i/n)", f)
		}
		reps = append(reps, r)
	}
	m, err := mergeReports(files, reps)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(c.stdout, m); err != nil {
			return err
		}
	} else {
		w := c.stdout
		fmt.Fprintf(w, "merge of %d shards: %s  variant %s  strategy %s  seed %d\n", m.Shards, m.Scenario, m.Variant, m.Strategy, m.Seed)
		fmt.Fprintf(w, "%s, %s", plural(m.Runs, "run"), plural(len(m.Outcomes), "distinct outcome"))
		if m.Exhausted {
			fmt.Fprint(w, ", every schedule explored")
		}
		fmt.Fprintf(w, " (slowest shard %.0f ms)\n", m.ElapsedMS)
		if m.Pruned > 0 {
			fmt.Fprintf(w, "  (%d more stopped early as redundant)\n", m.Pruned)
		}
		for _, o := range m.Outcomes {
			fmt.Fprintf(w, "  %6d  %s\n", o.Count, shorten(o.Outcome, 150))
		}
		if m.Failure == nil {
			fmt.Fprintln(w, "no failure found")
		} else {
			f := m.Failure
			fmt.Fprintf(w, "FAIL: %s fails:\n", failWhere(m.Strategy, f))
			for _, l := range strings.Split(f.Error, "\n") {
				fmt.Fprintf(w, "  %s\n", l)
			}
			fmt.Fprintf(w, "trace written to %s\nreproduce with: %s\n", f.Trace, f.Replay)
		}
	}
	if m.Failure != nil {
		return errFailed
	}
	return nil
}

// mergeReports checks that the reports are the shards of one exploration,
// each once, and combines them.
func mergeReports(files []string, reps []exploreJSON) (*exploreJSON, error) {
	first := reps[0]
	key := func(r exploreJSON) exploreJSON {
		// What must agree: everything but the shard's own results.
		return exploreJSON{Variant: r.Variant, Strategy: r.Strategy, Seed: r.Seed, scaleJSON: scaleJSON{
			ConfigHash: r.ConfigHash, Budget: r.Budget, TimeMS: r.TimeMS, Shards: r.Shards, Reduced: r.Reduced,
			Split: r.Split, Jobs: r.Jobs, MaxDepth: r.MaxDepth, Depth: r.Depth, Steps: r.Steps}}
	}
	want := key(first)
	seen := make([]string, first.Shards)
	for i, r := range reps {
		if got := key(r); fmt.Sprint(got) != fmt.Sprint(want) {
			return nil, fmt.Errorf("%s and %s are not shards of one exploration (scenario, strategy, seed, budget, split or shard count differ)", files[0], files[i])
		}
		if seen[r.Shard] != "" {
			return nil, fmt.Errorf("%s and %s are both shard %d/%d", seen[r.Shard], files[i], r.Shard, r.Shards)
		}
		seen[r.Shard] = files[i]
	}
	var missing []string
	for i, f := range seen {
		if f == "" {
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shards))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing shard(s) %s", strings.Join(missing, ", "))
	}
	m := want
	m.Scenario, m.Exhausted = first.Scenario, true
	counts := map[string]int{}
	for _, r := range reps {
		m.Runs += r.Runs
		m.Pruned += r.Pruned
		m.ElapsedMS = max(m.ElapsedMS, r.ElapsedMS)
		m.Exhausted = m.Exhausted && r.Exhausted
		for _, o := range r.Outcomes {
			counts[o.Outcome] += o.Count
		}
		if f := r.Failure; f != nil && (m.Failure == nil || f.Job < m.Failure.Job || f.Job == m.Failure.Job && f.Index < m.Failure.Index) {
			m.Failure = f
		}
	}
	m.RunsPerSec = float64(m.Runs) / max(m.ElapsedMS/1000, 1e-9)
	for o, n := range counts {
		m.Outcomes = append(m.Outcomes, outcomeJSON{o, n})
	}
	sort.Slice(m.Outcomes, func(i, j int) bool {
		a, b := m.Outcomes[i], m.Outcomes[j]
		return a.Count > b.Count || a.Count == b.Count && a.Outcome < b.Outcome
	})
	return &m, nil
}
