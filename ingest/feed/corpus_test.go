package feed

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// TestSeed checks the seed document: its IOC table and its KQL lists.
func TestSeed(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "seeds", "000_7b1a7b71cc467a56.txt")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("seed not found: %v", err)
	}
	f, err := Load(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != FormatDocument || f.BadCount != 0 || len(f.Skipped) != 0 || f.WarningCount != 0 {
		t.Errorf("format %q, bad %v, skipped %v, warnings %v", f.Format, f.Bad, f.Skipped, f.Warnings)
	}
	day := tm("2026-06-07")
	tf := []string{SourceThreatFox}
	checkIndicators(t, f.Indicators, []matcher.Indicator{
		with(id(matcher.TypeURL, "http://176.65.139.151/Sakura.sh"), "payload_delivery", "Mirai", 90, day, zero, nil, "", tf...),
		with(id(matcher.TypeIPPort, "169.239.130.20:80"), "botnet_cc", "Mirai", 75, day, zero, nil, "", tf...),
		with(id(matcher.TypeIPPort, "176.65.139.126:2701"), "botnet_cc", "Mirai", 80, day, zero, nil, "", tf...),
		with(id(matcher.TypeIP, "176.65.139.126"), "", "Mirai", none, zero, zero, nil, "", tf...),
		with(id(matcher.TypeIP, "169.239.130.20"), "", "Mirai", none, zero, zero, nil, "", tf...),
	})
}

// get walks a decoded JSON document along keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func getString(v any, keys ...string) string {
	s, _ := get(v, keys...).(string)
	return s
}

// TestCorpusAbusech compares the ThreatFox and URLhaus records of the corpus
// with the pipeline output published alongside them.
func TestCorpusAbusech(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "threatfox")
	expected, _ := filepath.Glob(filepath.Join(dir, "*", "*-expected.json"))
	if len(expected) == 0 {
		t.Skip("no expected files in corpus")
	}
	for _, exp := range expected {
		log := strings.TrimSuffix(exp, "-expected.json")
		t.Run(filepath.Base(log), func(t *testing.T) {
			data, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Expected []any }
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			f, err := Load(log, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if f.BadCount != 0 {
				t.Errorf("bad entries: %v", f.Bad)
			}
			if len(f.Indicators) != len(doc.Expected) {
				t.Fatalf("%d indicators, expected file has %d", len(f.Indicators), len(doc.Expected))
			}
			for i, e := range doc.Expected {
				in := f.Indicators[i]
				ind := get(e, "threat", "indicator")
				if ip := getString(ind, "ip"); ip != "" {
					port, _ := get(ind, "port").(float64)
					if in.Type != matcher.TypeIPPort || in.Addr.String() != ip || int(in.Port) != int(port) {
						t.Errorf("%d: %s %s, want ip %s port %v", i, in.Type, in.Value, ip, port)
					}
				} else if name := getString(ind, "name"); in.Value != name {
					t.Errorf("%d: value %q, want %q", i, in.Value, name)
				}
				wantType := map[string]matcher.IndicatorType{"domain-name": matcher.TypeDomain, "url": matcher.TypeURL, "ipv6-addr": matcher.TypeIPPort, "ipv4-addr": matcher.TypeIPPort}[getString(ind, "type")]
				if in.Type != wantType {
					t.Errorf("%d: type %v, want %v", i, in.Type, wantType)
				}
				threat := first(getString(e, "abusech", "threatfox", "threat_type"), getString(e, "abusech", "url", "threat"))
				if in.ThreatType != threat {
					t.Errorf("%d: threat type %q, want %q", i, in.ThreatType, threat)
				}
				if want := getString(e, "threat", "software", "name"); in.Malware != want {
					t.Errorf("%d: malware %q, want %q", i, in.Malware, want)
				}
				wantConf := none
				if c, ok := get(e, "abusech", "threatfox", "confidence_level").(float64); ok {
					wantConf = int(c)
				}
				if in.Confidence != wantConf {
					t.Errorf("%d: confidence %d, want %d", i, in.Confidence, wantConf)
				}
				for _, tc := range []struct {
					got  time.Time
					name string
				}{{in.FirstSeen, "first_seen"}, {in.LastSeen, "last_seen"}} {
					var want time.Time
					if s := getString(ind, tc.name); s != "" {
						want, _ = time.Parse(time.RFC3339, s)
					}
					if !tc.got.Equal(want) {
						t.Errorf("%d: %s %v, want %v", i, tc.name, tc.got, want)
					}
				}
				var wantTags []string
				tags, _ := get(e, "tags").([]any)
				for _, tag := range tags {
					if tag != "preserve_original_event" {
						wantTags = append(wantTags, tag.(string))
					}
				}
				if !reflect.DeepEqual(in.Tags, wantTags) {
					t.Errorf("%d: tags %q, want %q", i, in.Tags, wantTags)
				}
				if want := getString(ind, "reference"); in.Reference != want {
					t.Errorf("%d: reference %q, want %q", i, in.Reference, want)
				}
			}
		})
	}
}

// TestCorpusThreatFoxNDJSON checks the 76-record ThreatFox API log.
func TestCorpusThreatFoxNDJSON(t *testing.T) {
	path := filepath.Join(corpusDir(t), "threatfox", "elastic-integrations-ti_abusech", "test-threatfox-ndjson.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	f, err := Parse(path, data, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	// The reference: distinct ioc values, by a plain JSON decode.
	distinct := map[string]bool{}
	records := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct{ IOC string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		records++
		distinct[r.IOC] = true
	}
	if records != 76 || len(f.Indicators) != len(distinct) || f.BadCount != 0 {
		t.Errorf("%d records, %d distinct values; got %d indicators, %d bad", records, len(distinct), len(f.Indicators), f.BadCount)
	}
	types := map[matcher.IndicatorType]int{}
	byValue := map[string]matcher.Indicator{}
	for _, in := range f.Indicators {
		types[in.Type]++
		byValue[in.Value] = in
	}
	if want := map[matcher.IndicatorType]int{matcher.TypeIPPort: 16, matcher.TypeURL: 31, matcher.TypeDomain: 1, matcher.TypeSHA256: 5, matcher.TypeSHA1: 1, matcher.TypeMD5: 1}; !reflect.DeepEqual(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	v6 := byValue["[2a02:cf40:1::5]:40669"]
	if v6.Type != matcher.TypeIPPort || v6.Addr.String() != "2a02:cf40:1::5" || v6.Port != 40669 {
		t.Errorf("IPv6 ip:port: %+v", v6)
	}
	// Lines 75 and 76 are one record, 76 without confidence_level.
	lines := strings.Split(string(data), "\n")
	one, err := Parse("line76", []byte(lines[75]), Options{Now: testNow})
	if err != nil || len(one.Indicators) != 1 || one.Indicators[0].Confidence != matcher.NoConfidence {
		t.Errorf("record without confidence_level: %v %v", one, err)
	}
	sha1 := byValue["872ff530d50579ae6bdc7cb4d658324b1d0e7a3e"]
	if sha1.Confidence != 75 || sha1.Malware != "Vidar" || !reflect.DeepEqual(sha1.Tags, []string{"Vidar"}) {
		t.Errorf("merged duplicate: %s", dump([]matcher.Indicator{sha1}))
	}
	// tags:null gives no tags; reference:"" no reference.
	for _, in := range f.Indicators {
		for _, tag := range in.Tags {
			if tag == "" {
				t.Errorf("%s: empty tag", in.Value)
			}
		}
	}
}

// TestCorpusSTIX checks every STIX file of the corpus: the values it yields
// and what it skips.
func TestCorpusSTIX(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "stix")
	hashes := func(h ...string) []string { return h }
	for _, tc := range []struct {
		file    string
		values  []string // canonical values, in order
		bad     int
		unrep   int
		sources []string // of the first indicator
		malware string   // of the first indicator
	}{
		{"cti-stix-elevator/composite.json", []string{"026871ea3d6cbbeb90fea6bf2906cc12", "219.90.112.203", "202.65.222.45"}, 0, 2, []string{"composite.json"}, ""},
		{"cti-stix-elevator/hostname.json", []string{"mini99.wikipedia.org"}, 1, 0, []string{"ACME"}, ""},
		{"cti-stix-elevator/indicator-for-malicious-url.json", []string{"http://x4z9arb.cn/4712"}, 0, 0, nil, ""},
		{"cti-stix-elevator/issue-271.json", append(append([]string{
			"https://r20.rs6.net/tn.jsp?f=", "https://usaid.theyardservice.com/d/",
			"usaid.theyardservice.com", "worldhomeoutlet.com", "static.theyardservice.com", "cdn.theyardservice.com", "theyardservice.com", "dataplane.theyardservice.com"},
			hashes("7edf943ed251fa480c5ca5abb2446c75", "1380d7c44efde64f471ae70563372efe18f43026", "ee44c0692fd2ab2f01d17ca4b58ca6c7f79388cbc681f885bb17ec946514088c")...),
			"192.99.221.77", "83.171.237.173"), 0, 6, nil, ""},
		{"cti-stix-elevator/list-as-string.json", []string{"http://example.com/foo/malicious1.html", "http://example.com/foo/malicious2.html", "http://example.com/foo/malicious3.html"}, 0, 0, nil, ""},
		// The second value is "'http://…" (an escaped quote opens it): not a URL.
		{"cti-stix-elevator/or-instead-of-list-as-string.json", []string{"http://example.com/foo/malicious1.html", "http://example.com/foo/malicious3.html"}, 1, 0, nil, ""},
		{"cti-stix-elevator/sighting.json", []string{"http://x4z9arb.cn/4712", "http://foo.bar/1234", "http://bar.foo/7890", "10.0.0.0", "20.0.0.1", "255.0.0.1"}, 0, 1, nil, ""},
		{"cti-stix2-json-schemas/apt1.json", []string{"223.166.0.0/15", "58.246.0.0/15", "112.64.0.0/15", "139.226.0.0/15", "hugesoft.org", "arrowservice.net", "msnhome.org",
			"001dd76872d80801692ff942308c64e6", "002325a0a67fded0381b5648d7fe9b8e", "00dbb9e1c09dbdafb360f3163ba5a3de"}, 0, 2, nil, "HUC Packet Transmit Tool (HTRAN)"},
		{"cti-stix2-json-schemas/indicator-for-c2-ip-address.json", []string{"10.0.0.0"}, 0, 0, nil, ""},
		{"cti-stix2-json-schemas/indicator-to-campaign-relationship.json", []string{"10.0.0.0"}, 0, 0, nil, ""},
		{"cti-stix2-json-schemas/indicators-for-C2-with-COA.json", []string{"10.0.0.0", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"}, 0, 0, []string{"The MITRE Corporation - DHS Support Team"}, "Poison Ivy"},
		// 'domain autuo.xicp.net' has a space: a bad entry; file:name
		// patterns are unrepresentable.
		{"cti-stix2-json-schemas/poisonivy.json", nil, 1, 2, nil, "PIVY Variant (808e21d6efa2884811fbd0adf67fda78)"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(tc.file))
			f, err := Load(path, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != FormatSTIX {
				t.Errorf("format %q", f.Format)
			}
			var values []string
			for _, in := range f.Indicators {
				values = append(values, in.Value)
			}
			if tc.values != nil && !reflect.DeepEqual(values, tc.values) {
				t.Errorf("values:\n%q\nwant\n%q", values, tc.values)
			}
			if tc.values == nil && len(values) != 42 {
				t.Errorf("%d values, want 42", len(values))
			}
			if f.BadCount != tc.bad || f.Skipped[skipUnrepresentable] != tc.unrep || len(f.Unrepresentable) != tc.unrep {
				t.Errorf("bad %d (%v), unrepresentable %d (%v); want %d, %d", f.BadCount, f.Bad, f.Skipped[skipUnrepresentable], f.Unrepresentable, tc.bad, tc.unrep)
			}
			want := tc.sources
			if want == nil {
				want = []string{filepath.Base(path)}
			}
			if got := f.Indicators[0].Sources; !reflect.DeepEqual(got, want) {
				t.Errorf("sources %q, want %q", got, want)
			}
			if got := f.Indicators[0].Malware; got != tc.malware {
				t.Errorf("malware %q, want %q", got, tc.malware)
			}
		})
	}
}
