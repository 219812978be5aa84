package ingest

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/matchd/matchd/matcher"
)

func demoLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "demo", "*"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
	if len(lines) < 10 {
		t.Fatalf("demo data not found: %d lines", len(lines))
	}
	return lines
}

func demoSet(t testing.TB) *matcher.Set {
	inds := []matcher.Indicator{
		{Value: "176.65.139.126", Type: matcher.TypeIP, Addr: netip.MustParseAddr("176.65.139.126"), Confidence: matcher.NoConfidence},
		{Value: "169.239.130.20:80", Type: matcher.TypeIPPort, Addr: netip.MustParseAddr("169.239.130.20"), Port: 80, Confidence: 75},
		{Value: "10.0.0.0/8", Type: matcher.TypeCIDR, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Confidence: matcher.NoConfidence},
		{Value: "http://176.65.139.151/Sakura.sh", Type: matcher.TypeURL, Confidence: 90},
		{Value: "contoso.com", Type: matcher.TypeDomain, Confidence: matcher.NoConfidence},
	}
	s, err := matcher.Compile(inds, matcher.Config{MaxAge: 24 * 365 * 86400e9})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHotPathNoAllocs: decoding and matching a record — CEF with a syslog
// prefix, each JSON table, a records envelope, hits and misses — allocates
// nothing once the decoder and scanner have warmed up. Alerts may allocate;
// they are not part of this path.
func TestHotPathNoAllocs(t *testing.T) {
	d := NewDecoder(matcher.TableUnknown)
	sc := matcher.NewScanner(demoSet(t))
	hits := 0
	for _, line := range demoLines(t) {
		run := func() {
			d.Reset(line)
			for {
				ev, err := d.Next()
				if err != nil {
					continue
				}
				if ev == nil {
					break
				}
				hits += len(sc.Match(ev))
			}
		}
		run()
		if n := testing.AllocsPerRun(50, run); n != 0 {
			t.Errorf("%d allocations per record for %.80q", int(n), line)
		}
	}
	if hits == 0 {
		t.Fatal("no hits: the test data does not exercise the hit path")
	}
}

// BenchmarkHotPath measures decode+match per record on the demo lines.
func BenchmarkHotPath(b *testing.B) {
	lines := demoLines(b)
	d := NewDecoder(matcher.TableUnknown)
	sc := matcher.NewScanner(demoSet(b))
	var size int
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, line := range lines {
			d.Reset(line)
			for {
				ev, err := d.Next()
				if err != nil {
					continue
				}
				if ev == nil {
					break
				}
				sc.Match(ev)
			}
		}
	}
}
