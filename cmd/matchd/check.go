package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/matchd/matchd/ingest/feed"
	"github.com/matchd/matchd/matcher"
)

// runCheck loads every feed and prints, on stdout, the counts per type and
// per feed, every bad entry, unrepresentable STIX patterns and hygiene
// warnings. It exits 2 when any feed is unusable.
func runCheck(_ context.Context, args, env []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check --iocs FILE...", stderr)
	var iocs listFlag
	fs.Var(&iocs, "iocs", "threat feed `FILE` (repeatable)")
	var rulePaths listFlag
	fs.Var(&rulePaths, "rules", "KQL rule `FILE` (repeatable): compile each rule and report its prefilter")
	minConf := fs.Int("min-confidence", 0, "count only indicators whose confidence is at least `N`")
	rest, err := parseArgs(fs, args, env)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	iocs = append(iocs, rest...)
	if len(iocs) == 0 && len(rulePaths) == 0 {
		fmt.Fprintln(stderr, "matchd check: no threat feed or rules: give --iocs FILE, --rules FILE or both")
		return exitUsage
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()

	var feeds []*feed.Feed
	failed := 0
	for _, p := range iocs {
		f, err := feed.Load(p, feed.Options{Now: time.Now()})
		if err != nil {
			failed++
			fmt.Fprintf(w, "feed %s: UNUSABLE: %v\n", p, err)
			continue
		}
		feeds = append(feeds, f)
		fmt.Fprintf(w, "feed %s: format %s, %d indicators (%s), %d bad %s", p, f.Format, len(f.Indicators),
			typeCounts(f.Indicators), f.BadCount, plural(f.BadCount, "entry", "entries"))
		for _, k := range sortedKeys(f.Skipped) {
			fmt.Fprintf(w, ", %d %s", f.Skipped[k], k)
		}
		fmt.Fprintln(w)
	}
	n, merged := feed.MergeSeq(feeds...)
	set, err := matcher.CompileSeq(n, merged, matcher.Config{MinConfidence: *minConf})
	if err != nil {
		fmt.Fprintf(w, "cannot compile indicators: %v\n", err)
		return exitUsage
	}
	if len(iocs) > 0 {
		fmt.Fprintf(w, "total: %d indicators after merging (%s); %.1f MiB matching structures\n",
			set.Len(), setTypeCounts(set), float64(set.MemoryUsage())/(1<<20))
	}

	for _, f := range feeds {
		if f.BadCount == 0 {
			continue
		}
		fmt.Fprintf(w, "\nbad entries in %s (%d):\n", f.Path, f.BadCount)
		for _, e := range f.Bad {
			fmt.Fprintf(w, "  %v\n", e)
		}
		if n := f.BadCount - len(f.Bad); n > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", n)
		}
	}
	for _, f := range feeds {
		if len(f.Unrepresentable) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nunrepresentable patterns in %s (%d):\n", f.Path, len(f.Unrepresentable))
		for _, e := range f.Unrepresentable {
			fmt.Fprintf(w, "  %v\n", e)
		}
	}
	var warns []string
	for _, f := range feeds {
		for _, wn := range f.Warnings {
			warns = append(warns, fmt.Sprintf("  %s:%d: %s: %s", wn.Path, wn.Line, wn.Value, wn.Msg))
		}
	}
	if len(warns) > 0 {
		fmt.Fprintf(w, "\nwarnings (%d):\n%s\n", len(warns), strings.Join(warns, "\n"))
	}
	if len(rulePaths) > 0 {
		var feeds *matcher.Set
		if len(iocs) > 0 {
			feeds = set
		}
		if !checkRules(w, rulePaths, feeds) {
			failed++
		}
	}
	if failed > 0 {
		return exitUsage
	}
	return exitOK
}

func typeCounts(inds []matcher.Indicator) string {
	var n [16]int
	for i := range inds {
		n[inds[i].Type]++
	}
	return formatCounts(func(t matcher.IndicatorType) int { return n[t] })
}

// setTypeCounts is typeCounts for a compiled set, without materializing it.
func setTypeCounts(set *matcher.Set) string { return formatCounts(set.Count) }

func formatCounts(count func(matcher.IndicatorType) int) string {
	var parts []string
	for _, t := range matcher.IndicatorTypes() {
		if c := count(t); c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, c))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
