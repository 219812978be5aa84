package gen_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matchd/matchd/bench/gen"
	"github.com/matchd/matchd/bench/naive"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.sha256")

// small is a configuration that generates in milliseconds and still has
// every kind of hit and lookalike.
func small(t *testing.T, kind gen.Kind) gen.Config {
	c := gen.DefaultConfig(kind)
	c.Dir = t.TempDir()
	c.Records = 20_000
	c.URLs = 2_000
	c.HitRate = 0.05
	c.LookalikeRate = 0.03
	if kind == gen.Mixed {
		c.IPs, c.CIDRs, c.Domains, c.Hashes = 20_000, 300, 300, 300
	}
	return c
}

func generate(t *testing.T, c gen.Config) *gen.Expected {
	t.Helper()
	e, err := gen.Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// digest hashes every file Generate wrote, names included.
func digest(t *testing.T, dir string, e *gen.Expected) string {
	t.Helper()
	h := sha256.New()
	names := append(append(append([]string{}, e.Feeds...), e.Patterns, gen.ExpectedFile), e.Files...)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	for _, kind := range []gen.Kind{gen.Mixed, gen.URLs} {
		t.Run(string(kind), func(t *testing.T) {
			a := small(t, kind)
			b := small(t, kind)
			c := small(t, kind)
			c.Seed = 2
			da := digest(t, a.Dir, generate(t, a))
			db := digest(t, b.Dir, generate(t, b))
			dc := digest(t, c.Dir, generate(t, c))
			if da != db {
				t.Errorf("same seed, different output: %s and %s", da, db)
			}
			if da == dc {
				t.Errorf("seeds 1 and 2 gave the same output")
			}
		})
	}
}

// TestGolden pins the bytes of a small corpus, so that a change to the
// generator that changes benchmark inputs is a deliberate one (go test
// -update).
func TestGolden(t *testing.T) {
	var got strings.Builder
	for _, kind := range []gen.Kind{gen.Mixed, gen.URLs} {
		c := small(t, kind)
		got.WriteString(string(kind) + " " + digest(t, c.Dir, generate(t, c)) + "\n")
	}
	path := filepath.Join("testdata", "golden.sha256")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("corpus digests changed (run go test -update if intended):\ngot:\n%swant:\n%s", got.String(), want)
	}
}

// TestFilesSplit checks that splitting changes file boundaries only.
func TestFilesSplit(t *testing.T) {
	one := small(t, gen.Mixed)
	three := small(t, gen.Mixed)
	three.Files = 3
	e1, e3 := generate(t, one), generate(t, three)
	cat := func(dir string, files []string) []byte {
		var b []byte
		for _, f := range files {
			x, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, x...)
		}
		return b
	}
	if len(e3.Files) != 3 {
		t.Fatalf("got %d files, want 3", len(e3.Files))
	}
	if !bytes.Equal(cat(one.Dir, e1.Files), cat(three.Dir, e3.Files)) {
		t.Error("the three files do not concatenate to the single file")
	}
	if e1.Alerts != e3.Alerts || e1.LiteralLines != e3.LiteralLines || e1.Bytes != e3.Bytes {
		t.Errorf("counts differ: %+v and %+v", e1, e3)
	}
}

// TestExpected checks expected.json against an independent reading of the
// corpus: the naive matcher for the alerts, a plain substring search for
// the literal lines.
func TestExpected(t *testing.T) {
	for _, kind := range []gen.Kind{gen.Mixed, gen.URLs} {
		t.Run(string(kind), func(t *testing.T) {
			c := small(t, kind)
			e := generate(t, c)
			checkExpected(t, c.Dir, e)
		})
	}
}

// TestNoiseAtScale generates noise only against feeds large enough that
// accidental collisions would show (IP text prefixes, CIDR coverage), and
// checks that nothing matches and no indicator string occurs.
func TestNoiseAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	c := gen.DefaultConfig(gen.Mixed)
	c.Dir = t.TempDir()
	c.Records = 40_000
	c.URLs, c.IPs, c.CIDRs, c.Domains, c.Hashes = 5_000, 1_000_000, 10_000, 10_000, 10_000
	c.HitRate, c.LookalikeRate = 0, 0
	e := generate(t, c)
	if e.Alerts != 0 || e.LiteralLines != 0 || e.Lookalikes != 0 {
		t.Fatalf("noise-only corpus expects %d alerts, %d literal lines, %d lookalikes", e.Alerts, e.LiteralLines, e.Lookalikes)
	}
	checkExpected(t, c.Dir, e)
}

func checkExpected(t *testing.T, dir string, e *gen.Expected) {
	t.Helper()
	set := naive.NewSet()
	for _, f := range e.Feeds {
		if err := set.LoadFile(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	lit := newLiteral(t, filepath.Join(dir, e.Patterns))
	if lit.n != e.PatternCount {
		t.Errorf("patterns file has %d lines, expected.json says %d", lit.n, e.PatternCount)
	}
	records, alerts, literal := 0, 0, 0
	tables := map[string]*gen.TableCount{}
	var prefix []int
	for _, f := range e.Files {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			records++
			hit, err := set.MatchLine(line)
			if err != nil {
				t.Errorf("%s:%d: %v", f, records, err)
			}
			tab := table(line)
			if tables[tab] == nil {
				tables[tab] = &gen.TableCount{}
			}
			tables[tab].Records++
			if hit {
				alerts++
				tables[tab].Alerts++
			}
			if lit.contains(line) {
				literal++
			}
			if records%e.PrefixStep == 0 {
				prefix = append(prefix, alerts)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if records != e.Records {
		t.Errorf("records: counted %d, expected.json says %d", records, e.Records)
	}
	if alerts != e.Alerts {
		t.Errorf("alerts: naive matcher finds %d, expected.json says %d", alerts, e.Alerts)
	}
	if literal != e.LiteralLines {
		t.Errorf("literal lines: substring search finds %d, expected.json says %d", literal, e.LiteralLines)
	}
	if e.Alerts > 0 && e.Alerts == e.LiteralLines {
		t.Logf("literal lines equal alerts (%d): lookalikes and hidden hits cancel out", e.Alerts)
	}
	for name, want := range e.Tables {
		if name == "CEF" {
			continue
		}
		got := tables[name]
		if got == nil || *got != *want {
			t.Errorf("table %s: counted %+v, expected.json says %+v", name, got, want)
		}
	}
	if len(prefix) != len(e.AlertsPrefix) {
		t.Fatalf("alerts_prefix has %d entries, want %d", len(e.AlertsPrefix), len(prefix))
	}
	for i := range prefix {
		if prefix[i] != e.AlertsPrefix[i] {
			t.Fatalf("alerts_prefix[%d] = %d, counted %d", i, e.AlertsPrefix[i], prefix[i])
		}
	}
	if n, ok := e.AlertsInFirst(e.PrefixStep * len(prefix)); len(prefix) > 0 && (!ok || n != prefix[len(prefix)-1]) {
		t.Errorf("AlertsInFirst(%d) = %d, %v", e.PrefixStep*len(prefix), n, ok)
	}
}

// table returns the Type of a JSON line, or CommonSecurityLog for CEF.
func table(line string) string {
	i := strings.Index(line, `"Type":"`)
	if !strings.HasPrefix(line, "{") || i < 0 {
		return gen.CommonSecurityLog
	}
	rest := line[i+8:]
	return rest[:strings.IndexByte(rest, '"')]
}

// literal finds whether a line contains any pattern, indexing patterns by
// their first seven bytes (no indicator is shorter).
type literal struct {
	n     int
	byKey map[string][]string
}

const keyLen = 7

func newLiteral(t *testing.T, path string) *literal {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := &literal{byKey: map[string][]string{}}
	for _, p := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if p == "" {
			continue
		}
		l.n++
		if len(p) < keyLen {
			t.Fatalf("pattern %q shorter than %d bytes", p, keyLen)
		}
		l.byKey[p[:keyLen]] = append(l.byKey[p[:keyLen]], p)
	}
	return l
}

func (l *literal) contains(line string) bool {
	for i := 0; i+keyLen <= len(line); i++ {
		for _, p := range l.byKey[line[i:i+keyLen]] {
			if strings.HasPrefix(line[i:], p) {
				return true
			}
		}
	}
	return false
}
