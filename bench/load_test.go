// Package bench holds matchd's end-to-end benchmarks; this file measures
// loading feeds: parse, merge and compile, memory per indicator, and the
// garbage collector's pauses with the full set alive.
package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/ingest/feed"
	"github.com/matchd/matchd/matcher"
)

// ipList is a plain feed of n distinct IPv4 addresses (seeded).
func ipList(n int) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	var b bytes.Buffer
	seen := make(map[uint32]bool, n)
	for len(seen) < n {
		v := r.Uint32()
		if seen[v] || v>>24 == 0 || v>>24 >= 224 {
			continue
		}
		seen[v] = true
		fmt.Fprintf(&b, "%d.%d.%d.%d\n", v>>24, v>>16&255, v>>8&255, v&255)
	}
	return b.Bytes()
}

// urlList is a plain feed of n distinct URLs (seeded).
func urlList(n int) []byte {
	r := rand.New(rand.NewPCG(2, 2))
	words := []string{"bins", "wp-content", "uploads", "mirai", "arm7", "x86", "admin", "login", "update", "gate", "panel", "files"}
	var b bytes.Buffer
	for i := range n {
		host := fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), r.IntN(256))
		if r.IntN(2) == 0 {
			host = fmt.Sprintf("%s%d.%s", words[r.IntN(len(words))], i, []string{"top", "xyz", "ru", "cn", "com"}[r.IntN(5)])
		}
		fmt.Fprintf(&b, "%s://%s/%s/%s%d.%s\n", []string{"http", "https"}[r.IntN(2)], host,
			words[r.IntN(len(words))], words[r.IntN(len(words))], i, []string{"sh", "php", "bin", "exe"}[r.IntN(4)])
	}
	return b.Bytes()
}

// load parses, merges and compiles one feed, as matchd does at start-up.
func load(tb testing.TB, name string, data []byte) *matcher.Set {
	f, err := feed.Parse(name, data, feed.Options{Now: time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := matcher.Compile(feed.Merge(f), matcher.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func benchmarkLoad(b *testing.B, name string, data []byte, n int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var s *matcher.Set
	for b.Loop() {
		s = load(b, name, data)
	}
	if s.Len() != n {
		b.Fatalf("%d indicators, want %d", s.Len(), n)
	}
	b.ReportMetric(float64(s.MemoryUsage())/float64(n), "B/indicator")
}

// BenchmarkLoad1MIPs: the target is 1M IPs in ≤ 1 s at ≤ 64 B each.
func BenchmarkLoad1MIPs(b *testing.B) { benchmarkLoad(b, "ips.txt", ipList(1_000_000), 1_000_000) }

// BenchmarkLoad100kURLs: the target is ≤ 2 s into ≤ 300 MB.
func BenchmarkLoad100kURLs(b *testing.B) { benchmarkLoad(b, "urls.txt", urlList(100_000), 100_000) }

// BenchmarkGCPauseFullSet loads 1M IPs and 100k URLs, keeps them alive and
// reports the longest stop-the-world pause of the collections that follow
// (the target is under 10 ms: the set's tables hold no pointers).
func BenchmarkGCPauseFullSet(b *testing.B) {
	ips := load(b, "ips.txt", ipList(1_000_000))
	urls := load(b, "urls.txt", urlList(100_000))
	runtime.GC()
	var st debug.GCStats
	debug.ReadGCStats(&st)
	before := st.NumGC
	for b.Loop() {
		runtime.GC()
	}
	debug.ReadGCStats(&st)
	n := int(st.NumGC - before)
	pauses := slices.Clone(st.Pause[:min(n, len(st.Pause))])
	slices.Sort(pauses)
	if len(pauses) > 0 {
		b.ReportMetric(float64(pauses[len(pauses)-1].Microseconds())/1000, "max-pause-ms")
		b.ReportMetric(float64(pauses[len(pauses)/2].Microseconds())/1000, "median-pause-ms")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(ips)
	runtime.KeepAlive(urls)
}

// TestLoadSmall keeps the generators and the load path honest in make test.
func TestLoadSmall(t *testing.T) {
	if s := load(t, "ips.txt", ipList(1000)); s.Len() != 1000 || s.Count(matcher.TypeIP) != 1000 {
		t.Errorf("ips: %d indicators", s.Len())
	}
	if s := load(t, "urls.txt", urlList(1000)); s.Len() != 1000 || s.Count(matcher.TypeURL) != 1000 {
		t.Errorf("urls: %d indicators", s.Len())
	}
}
