package feed

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// testNow is the Options.Now of the tests.
var testNow = time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)

// id builds the identity fields of an indicator from its canonical value,
// independently of ParseValue.
func id(typ matcher.IndicatorType, value string) matcher.Indicator {
	in := matcher.Indicator{Value: value, Type: typ, Confidence: matcher.NoConfidence}
	switch typ {
	case matcher.TypeIP:
		in.Addr = netip.MustParseAddr(value)
	case matcher.TypeCIDR:
		in.Prefix = netip.MustParsePrefix(value)
	case matcher.TypeIPPort:
		ap := netip.MustParseAddrPort(value)
		in.Addr, in.Port = ap.Addr(), ap.Port()
	}
	return in
}

// with returns in with its metadata set.
func with(in matcher.Indicator, threatType, malware string, confidence int, first, last time.Time, tags []string, ref string, sources ...string) matcher.Indicator {
	in.ThreatType, in.Malware, in.Confidence = threatType, malware, confidence
	in.FirstSeen, in.LastSeen, in.Tags, in.Reference, in.Sources = first, last, tags, ref, sources
	return in
}

// tm parses a test time in any spelling parseTime reads.
func tm(s string) time.Time {
	t, err := parseTime(s)
	if err != nil || t.IsZero() {
		panic("bad test time " + s)
	}
	return t
}

func dump(ins []matcher.Indicator) string {
	var sb strings.Builder
	for _, in := range ins {
		fmt.Fprintf(&sb, "\t%s %s addr=%v port=%d prefix=%v tt=%q mal=%q conf=%d first=%v last=%v tags=%q ref=%q src=%q\n",
			in.Type, in.Value, in.Addr, in.Port, in.Prefix, in.ThreatType, in.Malware, in.Confidence,
			in.FirstSeen.Format(time.RFC3339), in.LastSeen.Format(time.RFC3339), in.Tags, in.Reference, in.Sources)
	}
	return sb.String()
}

func checkIndicators(t *testing.T, got, want []matcher.Indicator) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indicators:\ngot:\n%swant:\n%s", dump(got), dump(want))
	}
}

func badLines(f *Feed) []int {
	var ls []int
	for _, e := range f.Bad {
		ls = append(ls, e.Line)
	}
	return ls
}

// corpusDir returns the shared corpus directory, or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not found at %s (set MATCHD_CORPUS)", dir)
	}
	return dir
}
