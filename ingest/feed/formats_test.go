package feed

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

const none = matcher.NoConfidence

var zero time.Time

// formatCase is one feed and what Parse must make of it.
type formatCase struct {
	name     string
	file     string // the name given to Parse
	input    string
	format   string
	want     []matcher.Indicator
	bad      []int // lines of the bad entries
	skipped  map[string]int
	warnings []string // "line: value: msg"
}

func runFormatCases(t *testing.T, cases []formatCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.file, []byte(tc.input), Options{Now: testNow})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Format != tc.format {
				t.Errorf("Format = %q, want %q", f.Format, tc.format)
			}
			checkIndicators(t, f.Indicators, tc.want)
			if got := badLines(f); !reflect.DeepEqual(got, tc.bad) || f.BadCount != len(tc.bad) {
				t.Errorf("bad entries at lines %v (count %d), want %v; errors: %v", got, f.BadCount, tc.bad, f.Bad)
			}
			if !reflect.DeepEqual(f.Skipped, tc.skipped) {
				t.Errorf("Skipped = %v, want %v", f.Skipped, tc.skipped)
			}
			if tc.warnings != nil {
				var got []string
				for _, w := range f.Warnings {
					got = append(got, strings.TrimPrefix(w.String(), tc.file+":"))
				}
				if !reflect.DeepEqual(got, tc.warnings) {
					t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.warnings, "\n"))
				}
			}
		})
	}
}

func TestParsePlain(t *testing.T) {
	src := []string{"list.txt"}
	plain := func(typ matcher.IndicatorType, v string) matcher.Indicator {
		return with(id(typ, v), "", "", none, zero, zero, nil, "", src...)
	}
	runFormatCases(t, []formatCase{{
		name: "mixed",
		file: "feeds/list.txt",
		input: "# a comment\n" +
			"1.2.3.4\n" +
			"  5.6.7.8   # trailing comment\n" +
			"hxxp://evil[.]example/a#frag\n" +
			"hxxps://Evil[.]Example[:]8443/Path?q=1\r\n" +
			"evil[dot]example[.]org.\n" +
			"\n" +
			"10.1.2.3/8\n" +
			"2001:db8::1\n" +
			"[2001:db8::1]:443\n" +
			"2a02:cf40:1::5:40669\n" +
			"1.2.3.4:80\n" +
			"evil.example/path\n" +
			"D41D8CD98F00B204E9800998ECF8427E\n" +
			"da39a3ee5e6b4b0d3255bfef95601890afd80709\n" +
			"::ffff:1.2.3.4\n" +
			"not a value\n" +
			"evil.example:8080\n" +
			"192.0.2.1/32",
		format: FormatPlain,
		want: []matcher.Indicator{
			plain(matcher.TypeIP, "1.2.3.4"),
			plain(matcher.TypeIP, "5.6.7.8"),
			plain(matcher.TypeURL, "http://evil.example/a#frag"),
			plain(matcher.TypeURL, "https://evil.example:8443/Path?q=1"),
			plain(matcher.TypeDomain, "evil.example.org"),
			plain(matcher.TypeCIDR, "10.0.0.0/8"),
			plain(matcher.TypeIP, "2001:db8::1"),
			plain(matcher.TypeIPPort, "[2001:db8::1]:443"),
			plain(matcher.TypeIPPort, "[2a02:cf40:1::5]:40669"),
			plain(matcher.TypeIPPort, "1.2.3.4:80"),
			plain(matcher.TypeURL, "evil.example/path"),
			plain(matcher.TypeMD5, "d41d8cd98f00b204e9800998ecf8427e"),
			plain(matcher.TypeSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
			plain(matcher.TypeIP, "192.0.2.1"),
		},
		bad: []int{17, 18},
		warnings: []string{
			"8: 10.0.0.0/8: host bits set in 10.1.2.3/8: masked to 10.0.0.0/8",
			"8: 10.0.0.0/8: very broad /8 — would flood alerts; private (RFC 1918)",
			"9: 2001:db8::1: documentation (2001:db8::/32)",
			"10: [2001:db8::1]:443: documentation (2001:db8::/32)",
			"14: d41d8cd98f00b204e9800998ecf8427e: hash of empty input",
			"15: da39a3ee5e6b4b0d3255bfef95601890afd80709: hash of empty input",
			"19: 192.0.2.1: documentation (192.0.2.0/24)",
		},
	}})
}

func TestParseThreatFoxCSV(t *testing.T) {
	tf := []string{SourceThreatFox}
	runFormatCases(t, []formatCase{{
		name: "export",
		file: "full.csv",
		input: `################################################################
# ThreatFox IOCs: CSV export                                   #
#                                                              #
# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable","last_seen_utc","confidence_level","is_compromised","reference","tags","anonymous","reporter"
"2026-06-07 10:11:12", "1234", "http://X.example/y", "url", "payload_delivery", "elf.mirai", "Katana", "Mirai", "None", "90", "False", "None", "Mirai,elf", "0", "someone"
"2026-06-06 09:00:00", "1235", "2a02:cf40:1::5:40669", "ip:port", "botnet_cc", "win.redline_stealer", "None", "RedLine Stealer", "2026-06-08 01:02:03", "100", "False", "https://ref.example/1", "RedLineStealer", "0", "abuse_ch"
"2026-06-05 00:00:00", "1236", "x.example", "email", "botnet_cc", "win.x", "None", "X", "None", "50", "False", "None", "None", "0", "r"
"2026-06-05 00:00:00", "1237", "short row"
"2026-06-04 00:00:00", "1238", "http://x.example/y", "url", "payload_delivery", "elf.mirai", "None", "Mirai", "2026-06-09 00:00:00", "75", "False", "https://ref.example/2", "sh", "0", "someone"
"2026-06-04 00:00:00", "1239", "ABCDEF0123456789ABCDEF0123456789", "md5_hash", "payload", "None", "None", "None", "None", "None", "False", "None", "None", "0", "someone"
"2026-06-04 00:00:00", "1240", "1.2.3.4:80, "ip:port"
`,
		format: FormatThreatFoxCSV,
		want: []matcher.Indicator{
			with(id(matcher.TypeURL, "http://x.example/y"), "payload_delivery", "Mirai", 90, tm("2026-06-04 00:00:00"), tm("2026-06-09 00:00:00"), []string{"Mirai", "elf", "sh"}, "https://ref.example/2", tf...),
			with(id(matcher.TypeIPPort, "[2a02:cf40:1::5]:40669"), "botnet_cc", "RedLine Stealer", 100, tm("2026-06-06 09:00:00"), tm("2026-06-08 01:02:03"), []string{"RedLineStealer"}, "https://ref.example/1", tf...),
			with(id(matcher.TypeMD5, "abcdef0123456789abcdef0123456789"), "payload", "", none, tm("2026-06-04 00:00:00"), zero, nil, "", tf...),
		},
		bad: []int{7, 8, 11},
	}, {
		name: "urlhaus",
		file: "csv.txt",
		input: `# abuse.ch URLhaus Database Dump (CSV)
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3308735","2024-12-16 07:55:09","http://203.0.113.9:80/x","online","2024-12-16 08:00:00","malware_download","elf,mips","https://urlhaus.abuse.ch/url/3308735/","geenensp"
`,
		format: FormatURLhausCSV,
		want: []matcher.Indicator{
			with(id(matcher.TypeURL, "http://203.0.113.9:80/x"), "malware_download", "", none, tm("2024-12-16 07:55:09"), tm("2024-12-16 08:00:00"), []string{"elf", "mips"}, "https://urlhaus.abuse.ch/url/3308735/", SourceURLhaus),
		},
		warnings: []string{"4: http://203.0.113.9:80/x: documentation (203.0.113.0/24)"},
	}})
}

func TestParseThreatFoxJSON(t *testing.T) {
	tf := []string{SourceThreatFox}
	runFormatCases(t, []formatCase{{
		name: "full export",
		file: "full.json",
		input: `{
 "1234": [
  {"ioc_value": "Evil.Example.", "ioc_type": "domain", "threat_type": "botnet_cc", "malware": "win.x", "malware_printable": "Mirai", "confidence_level": 80, "first_seen_utc": "2026-06-07 10:11:12", "last_seen_utc": null, "tags": "Mirai,elf", "reference": null}
 ],
 "1235": [
  {"ioc_value": "1.2.3.4:8080", "ioc_type": "ip:port", "threat_type": "botnet_cc", "malware_printable": "Unknown malware", "confidence_level": "75", "first_seen_utc": "2026-06-07 10:11:12", "last_seen_utc": "2026-06-08T00:00:00Z", "tags": null, "reference": "https://r.example/"},
  {"ioc_value": "x", "ioc_type": "sha3_384_hash"},
  {"ioc_value": "x.example", "ioc_type": "domain", "tags": {"a": 1}}
 ]
}`,
		format: FormatThreatFoxJSON,
		want: []matcher.Indicator{
			with(id(matcher.TypeDomain, "evil.example"), "botnet_cc", "Mirai", 80, tm("2026-06-07 10:11:12"), zero, []string{"Mirai", "elf"}, "", tf...),
			with(id(matcher.TypeIPPort, "1.2.3.4:8080"), "botnet_cc", "Unknown malware", 75, tm("2026-06-07 10:11:12"), tm("2026-06-08 00:00:00"), nil, "https://r.example/", tf...),
		},
		bad: []int{7, 8},
	}, {
		name: "api",
		file: "api.json",
		input: `{"query_status":"ok","data":[
 {"id":"1","ioc":"hxxp://a[.]example/x","ioc_type":"url","threat_type":"payload_delivery","malware_printable":"Mirai","confidence_level":90,"first_seen":"2026-06-07 10:11:12 UTC","last_seen":null,"tags":["a","b","a"],"reference":""},
 {"id":2,"ioc":"1.2.3.4:99999","ioc_type":"ip:port","threat_type":"botnet_cc","malware_printable":"X","confidence_level":50,"first_seen":"2026-06-07 10:11:12 UTC","last_seen":null,"tags":null,"reference":null},
 {"id":3,"ioc":"b.example","ioc_type":"domain","confidence_level":"high","first_seen":"yesterday"}
]}`,
		format: FormatThreatFoxAPI,
		want: []matcher.Indicator{
			with(id(matcher.TypeURL, "http://a.example/x"), "payload_delivery", "Mirai", 90, tm("2026-06-07 10:11:12"), zero, []string{"a", "b"}, "", tf...),
			with(id(matcher.TypeDomain, "b.example"), "", "", none, zero, zero, nil, "", tf...),
		},
		bad: []int{3},
		warnings: []string{
			`4: b.example: confidence "high" is not a number in 0-100; ignored`,
			`4: b.example: first seen: cannot parse time "yesterday"; ignored`,
		},
	}, {
		name: "ndjson",
		file: "recent.ndjson",
		input: `{"ioc":"5.6.7.8:443","ioc_type":"ip:port","threat_type":"botnet_cc","malware_printable":"Y","confidence_level":100,"first_seen":"2026-06-07 10:11:12 UTC","last_seen":null,"tags":["t"],"reference":null}
{not json

{"ioc":"5.6.7.8:443","ioc_type":"ip:port","threat_type":"botnet_cc","malware_printable":"Y","first_seen":"2026-06-01 00:00:00 UTC","tags":["u"]}
[1]
`,
		format: FormatThreatFoxLines,
		want: []matcher.Indicator{
			with(id(matcher.TypeIPPort, "5.6.7.8:443"), "botnet_cc", "Y", 100, tm("2026-06-01 00:00:00"), zero, []string{"t", "u"}, "", tf...),
		},
		bad: []int{2, 5},
	}, {
		name:   "urlhaus export",
		file:   "urlhaus.json",
		input:  `{"2786904":[{"dateadded":"2024-03-19 11:34:09 UTC","url":"http://115.55.244.160:41619/Mozi.m","url_status":"online","last_online":"2024-03-19 11:34:09 UTC","threat":"malware_download","tags":"elf,Mozi","urlhaus_link":"https://urlhaus.abuse.ch/url/2786904/","reporter":"lrz_urlhaus"}]}`,
		format: FormatURLhausJSON,
		want: []matcher.Indicator{
			with(id(matcher.TypeURL, "http://115.55.244.160:41619/Mozi.m"), "malware_download", "", none, tm("2024-03-19 11:34:09"), tm("2024-03-19 11:34:09"), []string{"elf", "Mozi"}, "https://urlhaus.abuse.ch/url/2786904/", SourceURLhaus),
		},
	}, {
		name:   "array of records",
		file:   "records.json",
		input:  `[{"ioc":"9.9.9.9:53","ioc_type":"ip:port"}, {"url":"http://u.example/"}]`,
		format: FormatThreatFoxJSON,
		want: []matcher.Indicator{
			with(id(matcher.TypeIPPort, "9.9.9.9:53"), "", "", none, zero, zero, nil, "", tf...),
			with(id(matcher.TypeURL, "http://u.example/"), "", "", none, zero, zero, nil, "", SourceURLhaus),
		},
	}})
}

func TestParseSTIX(t *testing.T) {
	acme := []string{"Acme CTI"}
	from := tm("2026-01-02T03:04:05Z")
	runFormatCases(t, []formatCase{{
		name: "bundle",
		file: "bundle.json",
		input: stixHashes.Replace(`{
  "type": "bundle",
  "id": "bundle--1",
  "objects": [
    {"type": "identity", "id": "identity--1", "name": "Acme CTI"},
    {"type": "malware", "id": "malware--1", "name": "Mirai", "is_family": true},
    {"type": "indicator", "id": "indicator--a", "created_by_ref": "identity--1", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '198.51.100.7/24' OR ipv6-addr:value = '2001:DB8::1']",
     "indicator_types": ["malicious-activity", "attribution"], "labels": ["l1"], "confidence": 85,
     "valid_from": "2026-01-02T03:04:05Z", "external_references": [{"source_name": "x"}, {"source_name": "y", "url": "https://ref.example/a"}]},
    {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates", "source_ref": "indicator--a", "target_ref": "malware--1"},
    {"type": "indicator", "id": "indicator--b", "valid_from": "2026-01-02T03:04:05Z",
     "pattern": "[file:hashes.'SHA-256' = 'AB${sha256}' OR file:hashes.MD5 = '026871ea3d6cbbeb90fea6bf2906cc12' OR file:hashes.'SHA-1' = '${sha1}']"},
    {"type": "indicator", "id": "indicator--c", "valid_from": "2026-01-02T03:04:05Z",
     "pattern": "[ url:value IN ('http://a.example/1', 'http://a.example/it\\'s', 'http://a.example/back\\\\slash') ]"},
    {"type": "indicator", "id": "indicator--d", "revoked": true, "pattern": "[ipv4-addr:value = '9.9.9.9']", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--e", "valid_until": "2026-01-01T00:00:00Z", "pattern": "[ipv4-addr:value = '9.9.9.8']", "valid_from": "2025-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--f", "pattern": "[domain-name:value = 'x.example'] AND [domain-name:value = 'y.example']", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--g", "pattern_type": "yara", "pattern": "rule x { condition: true }", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--h", "pattern": "[ipv4-addr:value = '2001:db8::2']", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--i", "pattern": "[ipv4-addr:value = ", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--j", "pattern": "[domain-name:value = 'Ok.Example' OR file:name = 'x.exe']", "valid_from": "2026-01-02T03:04:05Z", "valid_until": "2027-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--k", "pattern": "[url:value = 'http://w.example/'] WITHIN 5 SECONDS", "valid_from": "2026-01-02T03:04:05Z"},
    {"type": "indicator", "id": "indicator--l", "pattern": "[url:value != 'http://w.example/' OR url:value LIKE 'http://%' OR url:value MATCHES '^http']", "valid_from": "2026-01-02T03:04:05Z"}
  ]
}`),
		format: FormatSTIX,
		want: []matcher.Indicator{
			with(id(matcher.TypeCIDR, "198.51.100.0/24"), "malicious-activity", "Mirai", 85, from, zero, []string{"l1"}, "https://ref.example/a", acme...),
			with(id(matcher.TypeIP, "2001:db8::1"), "malicious-activity", "Mirai", 85, from, zero, []string{"l1"}, "https://ref.example/a", acme...),
			with(id(matcher.TypeSHA256, "ab"+strings.Repeat("cd", 31)), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeMD5, "026871ea3d6cbbeb90fea6bf2906cc12"), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeSHA1, strings.Repeat("ef", 20)), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeURL, "http://a.example/1"), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeURL, "http://a.example/it's"), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeURL, `http://a.example/back\slash`), "", "", none, from, zero, nil, "", "bundle.json"),
			with(id(matcher.TypeDomain, "ok.example"), "", "", none, from, zero, nil, "", "bundle.json"),
		},
		bad:     []int{20, 21},
		skipped: map[string]int{"revoked": 1, "expired": 1, "unrepresentable": 5},
	}, {
		name:   "bare indicator",
		file:   "one.json",
		input:  `{"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "pattern": "[url:value = 'http://one.example/']", "valid_from": "2026-01-02T03:04:05Z"}`,
		format: FormatSTIX,
		want:   []matcher.Indicator{with(id(matcher.TypeURL, "http://one.example/"), "", "", none, from, zero, nil, "", "one.json")},
	}, {
		name:   "array of objects",
		file:   "objs.json",
		input:  "[\n{\"type\": \"identity\", \"id\": \"identity--1\", \"name\": \"Acme CTI\"},\n{\"type\": \"indicator\", \"id\": \"indicator--1\", \"created_by_ref\": \"identity--1\", \"pattern\": \"[domain-name:value = 'two.example']\", \"valid_from\": \"2026-01-02T03:04:05Z\"}\n]",
		format: FormatSTIX,
		want:   []matcher.Indicator{with(id(matcher.TypeDomain, "two.example"), "", "", none, from, zero, nil, "", acme...)},
	}})
}

// stixHashes spells out the long hashes of the STIX case.
var stixHashes = strings.NewReplacer("${sha256}", strings.Repeat("CD", 31), "${sha1}", strings.Repeat("EF", 20))

func TestParseDocument(t *testing.T) {
	src := []string{"Acme"}
	runFormatCases(t, []formatCase{{
		name: "table and lists",
		file: "report.md",
		input: "# Report\n" +
			"Malware Family: Cobalt Strike Total IOCs: 4\n" +
			"| Indicator | Type | Confidence | First Seen | Tags |\n" +
			"|:---|---|--:|---|---|\n" +
			"| `evil[.]example` | domain | 70 | 2026-06-01 | a, b |\n" +
			"| 1.2.3.4:443 | ip:port |  |  |  |\n" +
			"| x | weird |  |  |  |\n" +
			"| too | few |\n" +
			"\n" +
			"| Table | Notes |\n" +
			"|---|---|\n" +
			"| x | y |\n" +
			"// Source: Acme - Mirai\n" +
			"let bad_ips = dynamic([\"1.2.3.4\", \"evil.example\",\n" +
			"   \"5.6.7.8\" // a comment with \"9.9.9.9\"\n" +
			"]);\n" +
			"let procs = dynamic([\"cmd.exe\"]);\n" +
			"T | where Url has_any (dynamic(['hxxp://q[.]example/p', 42]))\n" +
			"let MaliciousIPs = dynamic([@\"6.6.6.6\"]);\n",
		format: FormatDocument,
		want: []matcher.Indicator{
			with(id(matcher.TypeDomain, "evil.example"), "", "Cobalt Strike", 70, tm("2026-06-01"), zero, []string{"a", "b"}, "", src...),
			with(id(matcher.TypeIPPort, "1.2.3.4:443"), "", "Cobalt Strike", none, zero, zero, nil, "", src...),
			with(id(matcher.TypeIP, "1.2.3.4"), "", "Mirai", none, zero, zero, nil, "", src...),
			with(id(matcher.TypeIP, "5.6.7.8"), "", "Mirai", none, zero, zero, nil, "", src...),
			with(id(matcher.TypeURL, "http://q.example/p"), "", "Mirai", none, zero, zero, nil, "", src...),
			with(id(matcher.TypeIP, "6.6.6.6"), "", "Mirai", none, zero, zero, nil, "", src...),
		},
		bad: []int{7, 8, 14},
	}})
}

func TestNameWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"malicious_ips", []string{"malicious", "ips"}},
		{"MaliciousIPs", []string{"malicious", "ips"}},
		{"BadIPList", []string{"bad", "ip", "list"}},
		{"IPsBad", []string{"ips", "bad"}},
		{"c2-domains", []string{"c2", "domains"}},
	} {
		if got := nameWords(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("nameWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFatal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		is    error
		feed  bool // a Feed comes back with the error
	}{
		{"empty", "", ErrNoIndicators, true},
		{"comments only", "# nothing\n\n", ErrNoIndicators, true},
		{"all bad", "not a value\nalso not\n", ErrNoIndicators, true},
		{"binary", "\x1f\x8b\x08\x00\x00\x00", ErrUnknownFormat, false},
		{"unknown json", `{"hello": "world"}`, ErrUnknownFormat, false},
		{"broken json", "{\n\"type\": \"bundle\",\n", ErrUnknownFormat, false},
		{"api no result", `{"query_status": "no_result", "data": "Your search did not yield any results"}`, ErrNoIndicators, false},
		{"stix all unrepresentable", `{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","pattern":"[file:name = 'x']"}]}`, ErrNoIndicators, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("feed.txt", []byte(tc.input), Options{Now: testNow})
			var fe *FeedError
			if !errors.As(err, &fe) || !errors.Is(err, tc.is) || fe.Path != "feed.txt" {
				t.Fatalf("Parse error = %v, want a *FeedError wrapping %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), "feed.txt: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if (f != nil) != tc.feed {
				t.Errorf("feed returned = %v, want %v", f != nil, tc.feed)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(p, []byte("1.2.3.4\nbad value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != p || len(f.Indicators) != 1 || f.Indicators[0].Sources[0] != "iocs.txt" {
		t.Errorf("Load: %+v", f)
	}
	if len(f.Bad) != 1 || f.Bad[0].Error() != p+`:2: space or control character in "bad value"` {
		t.Errorf("bad entry: %v", f.Bad)
	}
	_, err = Load(filepath.Join(dir, "missing.txt"), Options{})
	var fe *FeedError
	if !errors.As(err, &fe) || !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), "missing.txt") != 1 {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestBadEntryCap(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("1.2.3.4\n")
	for range maxCollected + 500 {
		sb.WriteString("bad value\n")
	}
	f, err := Parse("big.txt", []byte(sb.String()), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if f.BadCount != maxCollected+500 || len(f.Bad) != maxCollected || f.Bad[maxCollected-1].Line != maxCollected+1 {
		t.Errorf("BadCount %d, len(Bad) %d", f.BadCount, len(f.Bad))
	}
}

func TestMerge(t *testing.T) {
	a, err := Parse("a.txt", []byte("1.2.3.4\nevil.example\n"), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.ndjson", []byte(`{"ioc":"evil.example","ioc_type":"domain","threat_type":"botnet_cc","confidence_level":60,"first_seen":"2026-06-01 00:00:00 UTC","tags":["x"]}
{"ioc":"1.2.3.4:80","ioc_type":"ip:port","confidence_level":50}
{"ioc":"0.0.0.0/0","ioc_type":"cidr"}`), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	aBefore := dump(a.Indicators)
	got := Merge(a, nil, b)
	checkIndicators(t, got, []matcher.Indicator{
		with(id(matcher.TypeIP, "1.2.3.4"), "", "", none, zero, zero, nil, "", "a.txt"),
		with(id(matcher.TypeDomain, "evil.example"), "botnet_cc", "", 60, tm("2026-06-01"), zero, []string{"x"}, "", "a.txt", SourceThreatFox),
		with(id(matcher.TypeIPPort, "1.2.3.4:80"), "", "", 50, zero, zero, nil, "", SourceThreatFox),
		with(id(matcher.TypeCIDR, "0.0.0.0/0"), "", "", none, zero, zero, nil, "", SourceThreatFox),
	})
	if dump(a.Indicators) != aBefore {
		t.Error("Merge modified its input")
	}
}
