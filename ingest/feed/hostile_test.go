package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/internal/memtest"
	"github.com/matchd/matchd/matcher"
)

// TestDuplicatesConflictingMetadata: the same IOC three times in one
// ThreatFox NDJSON feed, once defanged, with conflicting confidence, tags,
// times, threat type and malware, is one indicator under the merge rules:
// highest confidence, earliest first seen, latest last seen, tags united in
// order of appearance, and the first non-empty threat type, malware and
// reference. A second feed with the same IOC adds its source the same way.
func TestDuplicatesConflictingMetadata(t *testing.T) {
	ndjson := `{"ioc":"1.2.3.4:80","ioc_type":"ip:port","threat_type":"botnet_cc","malware_printable":"Mirai","confidence_level":50,"first_seen":"2026-06-01 10:00:00 UTC","last_seen":null,"tags":["a","x"],"reference":""}
{"ioc":"1.2.3[.]4:80","ioc_type":"ip:port","threat_type":"payload_delivery","malware_printable":"Gafgyt","confidence_level":90,"first_seen":"2026-05-01 10:00:00 UTC","last_seen":"2026-06-05 00:00:00 UTC","tags":["b","a"],"reference":"https://r.example/1"}
{"ioc":"1.2.3.4:80","ioc_type":"ip:port","confidence_level":70,"first_seen":"2026-05-15 10:00:00 UTC","tags":null}
`
	f, err := Parse("tf.json", []byte(ndjson), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != FormatThreatFoxLines || f.BadCount != 0 {
		t.Fatalf("format %s, bad %v", f.Format, f.Bad)
	}
	want := with(id(matcher.TypeIPPort, "1.2.3.4:80"), "botnet_cc", "Mirai", 90,
		tm("2026-05-01 10:00:00 UTC"), tm("2026-06-05 00:00:00 UTC"), []string{"a", "x", "b"}, "https://r.example/1", SourceThreatFox)
	checkIndicators(t, f.Indicators, []matcher.Indicator{want})

	plain, err := Parse("local.txt", []byte("1.2.3.4:80\n"), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want.Sources = []string{SourceThreatFox, "local.txt"}
	checkIndicators(t, Merge(f, plain), []matcher.Indicator{want})
	want.Sources = []string{"local.txt", SourceThreatFox}
	want.ThreatType, want.Malware = "botnet_cc", "Mirai" // the plain list has none: filled in
	checkIndicators(t, Merge(plain, f), []matcher.Indicator{want})
}

// TestTruncatedFeed: a feed cut off mid-line. A line-based format loses
// (at most) its last line, as a bad entry, or parses it when the cut leaves
// a valid value; a JSON document is rejected whole. Never a panic.
func TestTruncatedFeed(t *testing.T) {
	const csvRow = `"2026-06-07 10:11:12", "1234", "http://x.example/y", "url", "payload_delivery", "elf.mirai", "None", "Mirai", "None", "90", "False", "None", "Mirai,elf", "0", "r"` + "\n"
	for _, c := range []struct {
		name    string
		input   string
		values  []string // canonical values parsed
		bad     string   // the bad entry, "" for none
		feedErr string   // the whole feed's error, "" for none
	}{
		{"plain, cut in a value that stays valid", "1.2.3.4\n5.6.7.8\nhttp://evil.exam", []string{"1.2.3.4", "5.6.7.8", "http://evil.exam"}, "", ""},
		{"plain, cut in a value that breaks", "1.2.3.4\n5.6.7.8\n10.0.0.", []string{"1.2.3.4", "5.6.7.8"}, `plain.txt:3: cannot detect indicator type: "10.0.0."`, ""},
		{"ThreatFox CSV", csvHead + csvRow + csvRow[:60], []string{"http://x.example/y"},
			`plain.txt:3: malformed CSV row: 5 fields, want 15: "\"2026-06-07 10:11:12\", \"1234\", \"http://x.example/y\", \"url\","`, ""},
		{"ThreatFox NDJSON", `{"ioc":"1.2.3.4:80","ioc_type":"ip:port"}` + "\n" + `{"ioc":"5.6.7.8:8`, []string{"1.2.3.4:80"},
			`plain.txt:2: invalid JSON: unexpected end of JSON input: "{\"ioc\":\"5.6.7.8:8"`, ""},
		{"ThreatFox JSON export", `{"1234":[{"ioc_value":"1.2.3.4:80","ioc_type":"ip:port"}],"1235":[{"ioc_value":"5.6`, nil, "",
			"plain.txt: unrecognised feed format: invalid JSON at line 1: unexpected end of JSON input"},
		{"STIX bundle", `{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4']"},{"type":"ind`, nil, "",
			"plain.txt: unrecognised feed format: invalid JSON at line 1: unexpected end of JSON input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("plain.txt", []byte(c.input), Options{Now: testNow})
			if c.feedErr != "" {
				var fe *FeedError
				if !errors.As(err, &fe) || err.Error() != c.feedErr || f != nil {
					t.Fatalf("error %v, want %s", err, c.feedErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range f.Indicators {
				got = append(got, in.Value)
			}
			if strings.Join(got, " ") != strings.Join(c.values, " ") {
				t.Errorf("indicators %q, want %q", got, c.values)
			}
			var bad string
			if f.BadCount > 0 {
				bad = f.Bad[0].Error()
			}
			if bad != c.bad || f.BadCount > 1 {
				t.Errorf("bad entries %v, want %s", f.Bad, c.bad)
			}
		})
	}
}

// TestWrongFormat: files that are not feeds are rejected whole with a
// *FeedError that names the file and says what is wrong.
func TestWrongFormat(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("1.2.3.4\n5.6.7.8\n"))
	w.Close()
	dir := t.TempDir()
	for _, c := range []struct {
		name, file string
		data       []byte
		want       string
		is         error
	}{
		{"gzip", "iocs.txt.gz", gz.Bytes(), "binary content (compressed or not a feed?)", ErrUnknownFormat},
		{"PNG", "iocs.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), "binary content (compressed or not a feed?)", ErrUnknownFormat},
		{"CEF log", "firewall.cef", []byte("<134>Jun  7 10:00:01 fw01 CEF:0|Palo Alto Networks|PAN-OS|10.2.4|TRAFFIC|Traffic|3|src=10.0.0.5 dst=176.65.139.126\n"),
			"a CEF log, not a threat feed", ErrNoIndicators},
		{"JSON log records", "events.json", []byte(`{"Type":"DeviceNetworkEvents","TimeGenerated":"2026-06-07T10:00:01Z","RemoteIP":"176.65.139.126"}` + "\n"),
			"log records, not a threat feed", ErrUnknownFormat},
		{"JSON log lines", "events.json", []byte(strings.Repeat(`{"Type":"DeviceNetworkEvents","TimeGenerated":"2026-06-07T10:00:01Z","RemoteIP":"176.65.139.126"}`+"\n", 2)),
			"log records, not a threat feed", ErrNoIndicators},
		{"empty", "empty.txt", nil, "no indicators", ErrNoIndicators},
		{"JSON of another shape", "other.json", []byte(`{"hello":"world"}`), "unrecognised feed format", ErrUnknownFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, Options{Now: testNow})
			var fe *FeedError
			if !errors.As(err, &fe) || fe.Path != path || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a *FeedError for %s with %q", err, path, c.want)
			}
			t.Logf("%v", err)
		})
	}
	t.Run("directory", func(t *testing.T) {
		_, err := Load(dir, Options{Now: testNow})
		var fe *FeedError
		if !errors.As(err, &fe) || fe.Path != dir || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v", err)
		}
		t.Logf("%v", err)
	})
}

// genIndicators writes n distinct indicators, one a line, deterministically:
// 60% IPv4, 5% IPv6, 5% CIDRs, 5% ip:port, 15% URLs, 10% domains. It
// returns the file's size.
func genIndicators(t testing.TB, path string, n int) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(6, 10))
	var b []byte
	for i := range n {
		// A bijection of i over 32 bits keeps the addresses distinct and
		// spread over the whole space.
		x := uint32(i)*2654435761 + 0x9e3779b9
		b = b[:0]
		switch k := i % 20; {
		case k < 12:
			b = fmt.Appendf(b, "%d.%d.%d.%d", x>>24, x>>16&255, x>>8&255, x&255)
		case k == 12:
			b = fmt.Appendf(b, "2001:db8:%x:%x::%x", x>>16, x&0xffff, r.IntN(1<<16))
		case k == 13:
			b = fmt.Appendf(b, "%d.%d.%d.0/24", x>>24, x>>16&255, x>>8&255)
			b = append(b, "\n"...)
			b = fmt.Appendf(b, "# cidr %d", i) // comments are skipped
		case k == 14:
			b = fmt.Appendf(b, "%d.%d.%d.%d:%d", x>>24, x>>16&255, x>>8&255, x&255, 1+r.IntN(65535))
		case k < 18:
			b = fmt.Appendf(b, "http://h%x.example/%s/p%d", x, []string{"a", "bin", "x.sh", "gate.php"}[r.IntN(4)], i)
		default:
			b = fmt.Appendf(b, "d%x-%d.example", x, i)
		}
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	return fi.Size()
}

// TestFeedScale loads a plain list of generated indicators and compiles it,
// printing time and memory per indicator. It uses 200,000 indicators (20,000
// with -short); MATCHD_FEED_SCALE=10000000 runs the 10 million of the
// reliability figures (about a minute and 6 GB of memory).
func TestFeedScale(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	if s := os.Getenv("MATCHD_FEED_SCALE"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("MATCHD_FEED_SCALE=%q", s)
		}
	}
	path := filepath.Join(t.TempDir(), "iocs.txt")
	size := genIndicators(t, path, n)

	w := memtest.Start()
	f, err := Load(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	load := w.Stop()
	if len(f.Indicators) != n || f.BadCount != 0 {
		t.Fatalf("%d indicators, %d bad (%v), want %d", len(f.Indicators), f.BadCount, f.Bad, n)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	feedHeap := m.HeapAlloc - load.Base

	w = memtest.Start()
	set, err := matcher.Compile(Merge(f), matcher.Config{})
	if err != nil {
		t.Fatal(err)
	}
	comp := w.Stop()
	f = nil
	runtime.GC()
	runtime.ReadMemStats(&m)
	setHeap := m.HeapAlloc - min(m.HeapAlloc, load.Base)
	runtime.KeepAlive(set)

	per := func(b uint64) float64 { return float64(b) / float64(n) }
	t.Logf("%d indicators, %.1f MB plain list (%.1f bytes a line)", n, float64(size)/1e6, float64(size)/float64(n))
	t.Logf("load: %v; %.0f ns and %.0f bytes of Feed per indicator", load, float64(load.Elapsed.Nanoseconds())/float64(n), per(feedHeap))
	t.Logf("compile: %v; the Set alone holds %.0f bytes per indicator (matching structures %.1f MiB)",
		comp, per(setHeap), float64(set.MemoryUsage())/(1<<20))
	// Generous bounds, an order of magnitude above what was measured, to
	// catch a regression to quadratic time or to per-indicator garbage.
	if d := load.Elapsed + comp.Elapsed; d > time.Duration(n)*20*time.Microsecond+5*time.Second {
		t.Errorf("load and compile took %v", d)
	}
	if per(setHeap) > 400 {
		t.Errorf("the Set holds %.0f bytes per indicator", per(setHeap))
	}
}

// TestMalwareFamilyInvalidUTF8: bytes that are not UTF-8 before the label
// do not shift where the name is read (a fuzz crasher: the lower-cased
// copy was longer than the line).
func TestMalwareFamilyInvalidUTF8(t *testing.T) {
	for line, want := range map[string]string{
		"\xc4Malware Family: Mirai | Total IOCs: 3": "Mirai",
		"\xc4\xc4\xc4MAlwAre FAmilY:":               "",
		"x\xffMalware Family: **Gafgyt**; tags: a":  "Gafgyt",
	} {
		if got := malwareFamily(line); got != want {
			t.Errorf("malwareFamily(%q) = %q, want %q", line, got, want)
		}
	}
}
