package matcher

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/ahocorasick"
)

var (
	acTLDs = []string{"com", "net", "org", "ru", "cn", "xyz", "top", "info", "io", "biz",
		"online", "site", "club", "br", "in", "de", "su", "pw", "cc", "co.uk"}
	acWords = []string{"login", "secure", "account", "update", "verify", "paypal", "apple",
		"microsoft", "office", "bank", "mail", "cdn", "static", "files", "download", "drive",
		"cloud", "support", "service", "portal", "auth", "id", "my", "web", "app", "shop",
		"free", "bonus", "gift", "track", "invoice", "docs", "share", "admin", "panel", "wp",
		"content", "uploads", "includes", "img", "js", "css", "api", "v1", "v2", "bins", "mozi",
		"mips", "arm7", "x86", "i", "payload", "dropper", "stage", "gate", "index", "home",
		"user", "session", "confirm", "billing", "wallet", "crypto", "token", "sso", "signin"}
	acExts = []string{".exe", ".php", ".zip", ".apk", ".bin", ".sh", ".js", ".html", ".doc",
		".xls", ".jar", ".dll", ".ps1", ".hta", ".m", ".arm"}
	// acBenign are hosts of the benign part of the scan corpus.
	acBenign = []string{"www.google.com", "login.microsoftonline.com", "www.youtube.com",
		"github.com", "cdn.jsdelivr.net", "www.amazon.com", "outlook.office365.com",
		"s3.amazonaws.com", "www.bing.com", "t.co", "www.facebook.com", "en.wikipedia.org",
		"api.twitter.com", "update.googleapis.com", "www.linkedin.com", "docs.google.com",
		"teams.microsoft.com", "static.xx.fbcdn.net", "www.reddit.com", "news.ycombinator.com",
		"10.12.0.5:8443", "192.168.1.20"}
)

const (
	acAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	acToken = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
	acHex   = "0123456789abcdef"
)

// acGenURLs returns n URL indicators shaped like a threat feed's: http or
// https; an IPv4 host, often with a port, or a generated domain; a path of
// words, tokens, hex and file names. A third of them reuse the host of an
// earlier one, so that hosts carry several paths and some indicators nest.
// The same r state gives the same URLs.
func acGenURLs(r *rand.Rand, n int) [][]byte {
	var hosts []string
	ps := make([][]byte, 0, n)
	var b []byte
	for range n {
		b = b[:0]
		if r.IntN(10) < 6 {
			b = append(b, "http://"...)
		} else {
			b = append(b, "https://"...)
		}
		if len(hosts) > 0 && r.IntN(3) == 0 {
			b = append(b, hosts[r.IntN(len(hosts))]...)
		} else {
			h := len(b)
			b = acGenHost(r, b)
			hosts = append(hosts, string(b[h:]))
		}
		b = acGenPath(r, b)
		ps = append(ps, bytes.Clone(b))
	}
	return ps
}

func acGenHost(r *rand.Rand, b []byte) []byte {
	if r.IntN(4) == 0 {
		b = fmt.Appendf(b, "%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		if r.IntN(2) == 0 {
			b = fmt.Appendf(b, ":%d", 1024+r.IntN(60000))
		}
		return b
	}
	switch r.IntN(4) {
	case 0:
		b = append(b, acWords[r.IntN(len(acWords))]...)
		b = append(b, '.')
	case 1:
		b = append(b, "www."...)
	}
	switch r.IntN(3) {
	case 0:
		b = append(b, acWords[r.IntN(len(acWords))]...)
		b = append(b, '-')
		b = append(b, acWords[r.IntN(len(acWords))]...)
	case 1:
		b = append(b, acWords[r.IntN(len(acWords))]...)
		b = append(b, acRandBytes(r, acAlnum, 2+r.IntN(6))...)
	default:
		b = append(b, acRandBytes(r, acAlnum, 5+r.IntN(10))...)
	}
	b = append(b, '.')
	return append(b, acTLDs[r.IntN(len(acTLDs))]...)
}

func acGenPath(r *rand.Rand, b []byte) []byte {
	b = append(b, '/')
	segs := 1 + r.IntN(4)
	if r.IntN(10) == 0 {
		segs = 0
	}
	for i := range segs {
		if i > 0 {
			b = append(b, '/')
		}
		switch r.IntN(4) {
		case 0:
			b = append(b, acWords[r.IntN(len(acWords))]...)
		case 1:
			b = append(b, acRandBytes(r, acToken, 6+r.IntN(12))...)
		case 2:
			b = append(b, acRandBytes(r, acHex, 8+r.IntN(24))...)
		default:
			b = append(b, acWords[r.IntN(len(acWords))]...)
			b = append(b, acExts[r.IntN(len(acExts))]...)
		}
	}
	if r.IntN(10) == 0 {
		b = append(b, '?')
		b = append(b, acWords[r.IntN(len(acWords))]...)
		b = append(b, '=')
		b = append(b, acRandBytes(r, acToken, 4+r.IntN(16))...)
	}
	return b
}

// acGenHays returns URL fields of log records, about size bytes in all.
// Most are benign; about 3% hold an indicator, sometimes with scheme and
// host upper-cased, a path appended or inside a redirect parameter.
func acGenHays(r *rand.Rand, ps [][]byte, size int) [][]byte {
	var hays [][]byte
	for total := 0; total < size; {
		var b []byte
		if r.IntN(100) < 3 {
			p := ps[r.IntN(len(ps))]
			switch r.IntN(4) {
			case 0:
				b = append(b, p...)
			case 1: // scheme and host upper-cased
				host := bytes.Index(p, []byte("://")) + 3
				end := host + bytes.IndexByte(p[host:], '/')
				b = append(b, bytes.ToUpper(p[:end])...)
				b = append(b, p[end:]...)
			case 2:
				b = append(b, p...)
				b = acGenPath(r, b)
			default:
				b = append(b, "https://www.google.com/url?sa=t&url="...)
				b = append(b, p...)
				b = append(b, "&usg=AOvVaw"...)
			}
		} else {
			if r.IntN(5) == 0 {
				b = append(b, "http://"...)
			} else {
				b = append(b, "https://"...)
			}
			b = append(b, acBenign[r.IntN(len(acBenign))]...)
			b = acGenPath(r, b)
			b = acGenPath(r, b[:len(b)-1])
			if r.IntN(2) == 0 {
				b = append(b, "?utm_source="...)
				b = append(b, acWords[r.IntN(len(acWords))]...)
				b = append(b, "&sid="...)
				b = append(b, acRandBytes(r, acToken, 16+r.IntN(32))...)
			}
		}
		hays = append(hays, b)
		total += len(b)
	}
	return hays
}

var acCache struct {
	sync.Mutex
	urls map[int][][]byte
}

// acCachedURLs returns acGenURLs(n) from a fixed seed, generated once.
func acCachedURLs(n int) [][]byte {
	acCache.Lock()
	defer acCache.Unlock()
	if ps, ok := acCache.urls[n]; ok {
		return ps
	}
	if acCache.urls == nil {
		acCache.urls = make(map[int][][]byte)
	}
	ps := acGenURLs(rand.New(rand.NewPCG(uint64(n), 42)), n)
	acCache.urls[n] = ps
	return ps
}

// acTimedBuild compiles ps and returns the build time, after a collection
// so that earlier garbage is not charged to it.
func acTimedBuild(tb testing.TB, ps [][]byte) (*Automaton, time.Duration) {
	runtime.GC()
	start := time.Now()
	a, err := CompileAC(ps)
	d := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
	return a, d
}

func acFigures(ps [][]byte, a *Automaton, d time.Duration) string {
	total := 0
	for _, p := range ps {
		total += len(p)
	}
	return fmt.Sprintf("%d patterns, %.1f bytes on average: built in %v; %d states (%d dense, %d wide, %d classes); %.1f MB, %.0f bytes/pattern",
		len(ps), float64(total)/float64(len(ps)), d.Round(time.Millisecond),
		len(a.nodes), a.dense, len(a.wide)/int(a.stride), a.stride, float64(a.MemoryUsage())/(1<<20),
		float64(a.MemoryUsage())/float64(len(ps)))
}

var acBenchSizes = []int{1_000, 10_000, 100_000}

func acSizeName(n int) string {
	if n >= 1_000_000 {
		return strconv.Itoa(n/1_000_000) + "M"
	}
	return strconv.Itoa(n/1_000) + "k"
}

func BenchmarkACBuild(b *testing.B) {
	for _, n := range append(acBenchSizes, 1_000_000) {
		ps := acCachedURLs(n)
		b.Run("matchd/"+acSizeName(n), func(b *testing.B) {
			b.ReportAllocs()
			var a *Automaton
			for b.Loop() {
				var err error
				if a, err = CompileAC(ps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(a.MemoryUsage())/float64(n), "bytes/pattern")
			b.ReportMetric(float64(a.MemoryUsage())/(1<<20), "MB")
		})
		if n > 10_000 {
			continue // cloudflare needs 4 KB per pattern byte
		}
		b.Run("cloudflare/"+acSizeName(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ahocorasick.NewMatcher(ps)
			}
		})
	}
}

// acScanCorpus is the scan benchmark's input for one pattern set.
type acScanCorpus struct {
	ps        [][]byte
	hays      [][]byte
	lowerHays [][]byte
	size      int
	matches   int // occurrences, as AppendMatches counts them
	distinct  int // distinct lower-cased patterns per hay, summed
}

var acCorpora sync.Map // int → *acScanCorpus

func acCorpus(n int) *acScanCorpus {
	if c, ok := acCorpora.Load(n); ok {
		return c.(*acScanCorpus)
	}
	ps := acCachedURLs(n)
	c := &acScanCorpus{ps: ps, hays: acGenHays(rand.New(rand.NewPCG(uint64(n), 7)), ps, 1<<20)}
	for _, h := range c.hays {
		c.lowerHays = append(c.lowerHays, acASCIILower(h))
		c.size += len(h)
	}
	c.matches, c.distinct = acCountRef(ps, c.hays)
	acCorpora.Store(n, c)
	return c
}

// acCountRef counts the matches in hays with a hash of the lower-cased
// patterns, independently of the automaton: occurrences (duplicates
// counted once per id) and distinct lower-cased patterns per hay.
func acCountRef(ps [][]byte, hays [][]byte) (matches, distinct int) {
	dup := make(map[string]int)
	var lens [256][]int
	for _, p := range ps {
		k := string(acASCIILower(p))
		if dup[k] == 0 && !slices.Contains(lens[k[0]], len(k)) {
			lens[k[0]] = append(lens[k[0]], len(k))
		}
		dup[k]++
	}
	var buf []byte
	for _, h := range hays {
		seen := make(map[string]bool)
		for i := range h {
			for _, l := range lens[acLower(h[i])] {
				if i+l > len(h) {
					continue
				}
				buf = append(buf[:0], h[i:i+l]...)
				for j, c := range buf {
					buf[j] = acLower(c)
				}
				if n := dup[string(buf)]; n > 0 {
					matches += n
					seen[string(buf)] = true
				}
			}
		}
		distinct += len(seen)
	}
	return matches, distinct
}

func BenchmarkACScan(b *testing.B) {
	for _, n := range acBenchSizes {
		c := acCorpus(n)
		b.Run("matchd/"+acSizeName(n), func(b *testing.B) {
			a, err := CompileAC(c.ps)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]ACMatch, 0, 1024)
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				for _, h := range c.hays {
					dst = a.AppendMatches(dst[:0], h)
					got += len(dst)
				}
				if got != c.matches {
					b.Fatalf("%d matches, want %d", got, c.matches)
				}
			}
		})
		if n > 10_000 {
			continue
		}
		b.Run("cloudflare/"+acSizeName(n), func(b *testing.B) {
			// Case-sensitive: it gets lower-cased patterns and hays.
			var lower [][]byte
			seen := make(map[string]bool)
			for _, p := range c.ps {
				if k := string(acASCIILower(p)); !seen[k] {
					seen[k] = true
					lower = append(lower, []byte(k))
				}
			}
			m := ahocorasick.NewMatcher(lower)
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				for _, h := range c.lowerHays {
					got += len(m.Match(h))
				}
				if got != c.distinct {
					b.Fatalf("%d matches, want %d", got, c.distinct)
				}
			}
		})
	}
}

func BenchmarkACScanParallel(b *testing.B) {
	c := acCorpus(100_000)
	a, err := CompileAC(c.ps)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(c.size))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]ACMatch, 0, 1024)
		for pb.Next() {
			got := 0
			for _, h := range c.hays {
				dst = a.AppendMatches(dst[:0], h)
				got += len(dst)
			}
			if got != c.matches {
				b.Errorf("%d matches, want %d", got, c.matches)
				return
			}
		}
	})
}
