package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/matchd/matchd/matcher"
)

// TestReloaderRules drives reloads by hand: the set and the rules are
// published together, a rule file that does not parse keeps the rules in
// force, recompiled against new feeds when they changed, and a rule file
// that compiles again is taken up.
func TestReloaderRules(t *testing.T) {
	dir := t.TempDir()
	feedPath, rulePath := filepath.Join(dir, "feed.txt"), filepath.Join(dir, "ti.kql")
	writeFile(t, feedPath, []byte("176.65.139.126\n"))
	writeFile(t, rulePath, []byte("// TI map\nCommonSecurityLog | where DestinationIP in (matchd_ips)\n"))
	var results []string
	r, err := newReloader([]string{feedPath}, []string{rulePath}, matcher.Config{}, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.observe = func(result string, _ *matcher.Set) { results = append(results, result) }
	consistent := func(step string, f *inForce) {
		t.Helper()
		if f.rules.Feeds() != f.set {
			t.Errorf("%s: rules compiled against another set than the one in force", step)
		}
		if f.scan == f.set || f.scan.Count(matcher.TypeIP) != 0 {
			t.Errorf("%s: feed alerts are off, but the scan set is not empty", step)
		}
	}
	first := r.cur.Load()
	consistent("start", first)

	r.reload("test")
	if r.cur.Load() != first {
		t.Error("an unchanged reload published")
	}

	writeFile(t, feedPath, []byte("169.239.130.20\n"))
	writeFile(t, rulePath, []byte("CommonSecurityLog | where DestinationIP in (matchd_ips) | extend x = 1\n"))
	r.reload("test")
	second := r.cur.Load()
	if second.set == first.set || second.rules == first.rules || second.rules.Len() != 1 || second.rules.Rules()[0].Name != "TI map" {
		t.Errorf("feeds changed, rules broken: want the new set and the old rule recompiled against it")
	}
	consistent("broken rules", second)

	writeFile(t, rulePath, []byte("// A\nCommonSecurityLog | where DestinationIP in (matchd_ips)\n// B\nUrlClickEvents | where Url has \"sakura\"\n"))
	r.reload("test")
	third := r.cur.Load()
	if third.set != second.set || third.rules.Len() != 2 {
		t.Errorf("rules fixed: want the same set and both rules")
	}
	consistent("fixed rules", third)

	want := []string{"unchanged", "failed", "ok"}
	if len(results) != len(want) || results[0] != want[0] || results[1] != want[1] || results[2] != want[2] {
		t.Errorf("results %v, want %v", results, want)
	}
}
