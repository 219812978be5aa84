package feed

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/matchd/matchd/matcher"
)

// The fuzz targets check three things: nothing panics; every indicator's
// canonical Value parses back to itself (round trip); and, where a slow
// reference exists (slow_test.go), the fast code agrees with it. Seeds are
// committed under testdata/fuzz/ and the shared corpus is added when present.
//
// Corpus files are up to 90 KB, and the fuzzer minimises every new
// interesting input for up to -fuzzminimizetime (60 s by default), one run
// per byte removed: bound it (-fuzzminimizetime=2s) for short runs, or the
// run spends its time minimising.

// addCorpus adds the corpus files matching pattern (relative to the corpus
// directory) as seeds, when the corpus is there.
func addCorpus(f *testing.F, patterns ...string) {
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join(dir, p))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
}

func addSeed(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "seeds", "000_7b1a7b71cc467a56.txt")); err == nil {
		f.Add(data)
	}
}

// checkRoundTrip checks that in's Value is canonical: it parses, with its
// type, to the same identity.
func checkRoundTrip(t *testing.T, in *matcher.Indicator) {
	t.Helper()
	again, err := ParseValue(in.Value, in.Type)
	if err != nil {
		t.Fatalf("canonical %s %q does not parse: %v", in.Type, in.Value, err)
	}
	if again.Value != in.Value || again.Type != in.Type || again.Addr != in.Addr || again.Port != in.Port || again.Prefix != in.Prefix {
		t.Fatalf("canonical %s %q parses to %s %q", in.Type, in.Value, again.Type, again.Value)
	}
}

// checkFeed checks the invariants of a parsed feed.
func checkFeed(t *testing.T, f *Feed, err error) {
	t.Helper()
	if err != nil {
		var fe *FeedError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FeedError", err)
		}
		if f == nil {
			return
		}
		if !errors.Is(err, ErrNoIndicators) || len(f.Indicators) != 0 {
			t.Fatalf("feed returned with error %v", err)
		}
	}
	if f.BadCount < len(f.Bad) || len(f.Bad) > maxCollected || len(f.Warnings) > maxCollected || f.WarningCount < len(f.Warnings) {
		t.Fatalf("counts: bad %d/%d, warnings %d/%d", len(f.Bad), f.BadCount, len(f.Warnings), f.WarningCount)
	}
	for _, e := range f.Bad {
		if e.Line < 1 {
			t.Fatalf("bad entry without a line: %v", e)
		}
	}
	seen := make(map[key]bool)
	for i := range f.Indicators {
		in := &f.Indicators[i]
		checkRoundTrip(t, in)
		k := key{in.Type, in.Value}
		if seen[k] {
			t.Fatalf("duplicate indicator %s %q", in.Type, in.Value)
		}
		seen[k] = true
		if len(in.Sources) == 0 || in.Confidence < matcher.NoConfidence || in.Confidence > 100 {
			t.Fatalf("indicator %q: sources %q, confidence %d", in.Value, in.Sources, in.Confidence)
		}
		Hygiene(in)
	}
}

func FuzzParsePlain(f *testing.F) {
	f.Add([]byte("1.2.3.4\n# c\nhxxp://evil[.]example/x # t\n10.1.2.3/8\n[::1]:80\n"))
	addSeed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBuilder("plain.txt", testNow)
		b.parsePlain(string(data))
		b.finish()
		checkFeed(t, b.feed, nil)
	})
}

// csvHead is the ThreatFox CSV column line the CSV fuzz input follows.
const csvHead = `# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable","last_seen_utc","confidence_level","is_compromised","reference","tags","anonymous","reporter"` + "\n"

func FuzzParseThreatFoxCSV(f *testing.F) {
	f.Add([]byte(`"2026-06-07 10:11:12", "1234", "http://x/y", "url", "payload_delivery", "elf.mirai", "None", "Mirai", "None", "90", "False", "None", "Mirai,elf", "0", "r"` + "\n"))
	f.Add([]byte(`"2026-06-07 10:11:12", "1", "2a02:cf40:1::5:40669", "ip:port", "botnet_cc", "x", "None", "X", "2026-06-08", "1""00", "False", "None", "", "0", "r"` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse("full.csv", append([]byte(csvHead), data...), Options{Now: testNow})
		checkFeed(t, fd, err)
		if fd != nil && fd.Format != FormatThreatFoxCSV {
			t.Fatalf("format %q", fd.Format)
		}
	})
}

func FuzzParseThreatFoxJSON(f *testing.F) {
	f.Add([]byte(`{"1234":[{"ioc_value":"1.2.3.4:80","ioc_type":"ip:port","confidence_level":80,"tags":"a,b"}]}`))
	f.Add([]byte(`{"query_status":"ok","data":[{"ioc":"x.example","ioc_type":"domain","tags":["a"],"first_seen":"2026-06-07 10:11:12 UTC"}]}`))
	f.Add([]byte("{\"ioc\":\"1.2.3.4:1\",\"ioc_type\":\"ip:port\"}\n{\"url\":\"http://u/\"}\n"))
	addCorpus(f, "threatfox/*/*.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse("feed.json", data, Options{Now: testNow})
		checkFeed(t, fd, err)
	})
}

func FuzzParseSTIX(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4' OR url:value IN ('http://a/', 'b')]","valid_until":"2030-01-01T00:00:00Z"}]}`))
	addCorpus(f, "stix/*/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse("bundle.json", data, Options{Now: testNow})
		checkFeed(t, fd, err)
	})
}

func FuzzSTIXPattern(f *testing.F) {
	for _, p := range []string{
		"[ipv4-addr:value = '10.0.0.0']",
		"([a:b = 'x'] AND [c:d = 'y']) OR [file:hashes.'SHA-256' = 'z'] WITHIN 5 SECONDS",
		"[url:value IN ('a', 'b\\'c') AND NOT file:name LIKE 'x%']",
		"[x:y[*].z = h'00'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		n, err := parsePattern(pattern)
		if err != nil {
			return
		}
		n.reduce(nil, nil)
		checkPatternRoundTrip(t, n)
	})
}

func FuzzRefang(f *testing.F) {
	for _, s := range []string{"hxxps[:]//evil[.]example[/]x", "[[.]]", "1(.)2{dot}3[DOT]4", "hXXp[://]a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Refang(s)
		if slow := slowRefang(s); r != slow {
			t.Fatalf("Refang(%q) = %q, reference %q", s, r, slow)
		}
		if again := Refang(r); again != r {
			t.Fatalf("Refang not idempotent: %q → %q → %q", s, r, again)
		}
	})
}

func FuzzIndicator(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4", "2a02:cf40:1::5:40669", "[2001:db8::1]:443", "10.1.2.3/8", "::ffff:1.2.3.4/120",
		"hxxp://Evil[.]Example/A", "evil.example/x", "Evil.Example.", "d41d8cd98f00b204e9800998ecf8427e", "1.2.3.4:8080/x",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, typ uint8) {
		in, err := ParseValue(s, matcher.IndicatorType(typ%9))
		if err == nil {
			checkRoundTrip(t, &in)
		}
		// Detection agrees with the reference and is stable on the
		// canonical value.
		got := matcher.TypeInvalid
		in, err = ParseValue(s, matcher.TypeInvalid)
		if err == nil {
			got = in.Type
			again, err := ParseValue(in.Value, matcher.TypeInvalid)
			if err != nil || again.Type != in.Type || again.Value != in.Value {
				t.Fatalf("canonical %q detected as %v %q (%v)", in.Value, again.Type, again.Value, err)
			}
		}
		if want := slowDetect(s); got != want {
			t.Fatalf("detected %q as %v, reference says %v", s, got, want)
		}
	})
}

// urlhausHead is the URLhaus CSV column line the URLhaus fuzz input follows.
const urlhausHead = "# abuse.ch URLhaus Database Dump (CSV)\n# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"

func FuzzParseURLhausCSV(f *testing.F) {
	f.Add([]byte(`"3308735","2024-12-16 07:55:09","http://203.0.113.9:80/x","online","2024-12-16 08:00:00","malware_download","elf,mips","https://urlhaus.abuse.ch/url/3308735/","geenensp"` + "\n"))
	f.Add([]byte(`"1","2024-12-16","hxxp://a[.]example/x","offline","None","","","",""` + "\n" + `"2",`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse("urlhaus.csv", append([]byte(urlhausHead), data...), Options{Now: testNow})
		checkFeed(t, fd, err)
		if fd != nil && fd.Format != FormatURLhausCSV {
			t.Fatalf("format %q", fd.Format)
		}
	})
}

// FuzzParse feeds Parse anything, seeded with every format it sniffs (the
// seed document and the shared corpus included): whatever it makes of the
// input, the feed's invariants hold.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4\nhxxp://evil[.]example/a\n",
		csvHead + `"2026-06-07 10:11:12", "1234", "http://x/y", "url", "payload_delivery", "elf.mirai", "None", "Mirai", "None", "90", "False", "None", "Mirai,elf", "0", "r"` + "\n",
		urlhausHead + `"3308735","2024-12-16 07:55:09","http://203.0.113.9:80/x","online","2024-12-16 08:00:00","malware_download","elf,mips","https://urlhaus.abuse.ch/url/3308735/","geenensp"` + "\n",
		`{"1234":[{"ioc_value":"1.2.3.4:80","ioc_type":"ip:port","confidence_level":80,"tags":"a,b"}]}`,
		`{"query_status":"ok","data":[{"ioc":"x.example","ioc_type":"domain","tags":["a"]}]}`,
		"{\"ioc\":\"1.2.3.4:1\",\"ioc_type\":\"ip:port\"}\n{\"ioc\":\"1.2.3[.]4:1\",\"ioc_type\":\"ip:port\",\"confidence_level\":90}\n",
		`{"2786904":[{"dateadded":"2024-03-19 11:34:09 UTC","url":"http://115.55.244.160:41619/Mozi.m","url_status":"online","threat":"malware_download","tags":"elf,Mozi"}]}`,
		"{\"url\":\"http://a.example/x\",\"url_status\":\"online\",\"threat\":\"malware_download\"}\n{\"url\":\"http://b.example/\",\"url_status\":\"offline\"}\n",
		`{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '1.2.3.4' OR url:value IN ('http://a/', 'b')]"}]}`,
		"| IOC | Type |\n|---|---|\n| hxxp://176.65.139[.]151/Sakura.sh | url |\nlet malicious_ips = dynamic([\"169.239.130.20\"]);\n",
	} {
		f.Add([]byte(s))
	}
	addSeed(f)
	addCorpus(f, "threatfox/*/*.log", "stix/*/*.json")
	formats := map[string]bool{FormatPlain: true, FormatDocument: true, FormatThreatFoxCSV: true, FormatThreatFoxJSON: true,
		FormatThreatFoxAPI: true, FormatThreatFoxLines: true, FormatURLhausCSV: true, FormatURLhausJSON: true,
		FormatURLhausLines: true, FormatSTIX: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse("feed", data, Options{Now: testNow})
		checkFeed(t, fd, err)
		if fd != nil && !formats[fd.Format] {
			t.Fatalf("format %q", fd.Format)
		}
	})
}
