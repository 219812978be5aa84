package jsonlog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/matchd/matchd/matcher"
)

// FuzzParse checks that Next never panics and agrees with the reference on
// success, failure, and every table, time, column, chain URL and extra
// member. table picks the default table.
func FuzzParse(f *testing.F) {
	for _, tc := range typical {
		f.Add([]byte(tc.line), uint8(0))
	}
	g := newGen(1)
	for range 200 {
		f.Add(g.line(), uint8(g.r.IntN(4)))
	}
	// The JSON of the shared corpus, when present: every file whole, and
	// each line of the NDJSON ones. None is a log record of ours, which is
	// the point: the parser must reject them cleanly.
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	var files []string
	for _, pat := range []string{"threatfox/*/*.log", "cef/*/*/*.json", "cef/*/*.json", "stix/*/*.json"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		f.Add(data, uint8(i%4))
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		for line := range bytes.Lines(data) {
			f.Add(bytes.TrimRight(line, "\r\n"), uint8(i%4))
		}
	}
	p := NewParser(matcher.TableUnknown)
	f.Fuzz(func(t *testing.T, line []byte, table uint8) {
		def := matcher.Table(table % 4)
		p.defaultTable = def
		if d := diffLine(p, line, def); d != "" {
			t.Fatalf("%s\nline: %q", d, line)
		}
	})
}

// TestDifferential compares the parser with the reference on generated lines.
func TestDifferential(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := newGen(2)
	p := NewParser(matcher.TableUnknown)
	for i := range n {
		line := g.line()
		def := matcher.Table(g.r.IntN(4))
		p.defaultTable = def
		if d := diffLine(p, line, def); d != "" {
			t.Fatalf("line %d, default table %v: %s\nline: %q", i, def, d, line)
		}
	}
}

// gen generates JSON log lines: mostly well-formed records of the three
// tables in both shapes, with escapes, odd types, repeated members and
// UrlChain in every form, and some broken ones.
type gen struct {
	r   *rand.Rand
	buf []byte
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) pct(n int) bool { return g.r.IntN(100) < n }

var genColumns = [...][]string{
	matcher.CommonSecurityLog: {
		"TimeGenerated", "DeviceVendor", "DeviceProduct", "SourceIP", "DestinationIP", "SourcePort",
		"DestinationPort", "DeviceAction", "Activity", "RequestURL", "DestinationHostName", "Message",
		"AdditionalExtensions", "ReceivedBytes", "Computer",
	},
	matcher.DeviceNetworkEvents: {
		"Timestamp", "TimeGenerated", "DeviceId", "DeviceName", "ActionType", "RemoteIP", "RemotePort",
		"RemoteUrl", "LocalIP", "LocalPort", "Protocol", "InitiatingProcessFileName",
		"InitiatingProcessCommandLine", "InitiatingProcessAccountName", "InitiatingProcessParentFileName",
		"InitiatingProcessSHA256", "InitiatingProcessSHA1", "InitiatingProcessMD5", "ReportId", "RemoteIPType",
	},
	matcher.UrlClickEvents: {
		"Timestamp", "TimeGenerated", "Url", "UrlChain", "AccountUpn", "ActionType", "IsClickedThrough",
		"NetworkMessageId", "ThreatTypes", "Workload", "DetectionMethods", "ReportId",
	},
}

var genTimes = []string{
	"2026-06-07T10:00:01Z", "2026-06-07T10:00:01.1234567Z", "2026-06-07 10:00:01", "2026-06-07T12:00:01+02:00",
	"1780826401000", "1780826401", "Jun 07 2026 10:00:01", "2026-02-30T10:00:01Z", "yesterday", "",
}

var genStrings = []string{
	"10.0.0.1", "2001:db8::1", "https://example.com/a?b=c&d=e", "C:\\Windows\\System32\\cmd.exe",
	`"quoted" text`, "line\nbreak\ttab", "caf\u00e9 \u4e2d\u6587 \U0001F600", "", " ", "x",
	"[\"https://a.example/\",\"https://b.example/\"]", "[not json", "\x00\x01\x1f", "\xff\xfe bad utf-8 \xc3",
	"\ud7ff", "CommonSecurityLog", "AdvancedHunting-UrlClickEvents",
}

// str appends s as a JSON string literal, escaping each character in one of
// the ways JSON allows, at random. Most strings get only the escapes JSON
// requires, so that the parser's path without decoding is exercised too.
func (g *gen) str(s string) {
	optional := g.pct(30)
	g.buf = append(g.buf, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		raw := s[i : i+size]
		i += size
		switch {
		case r == '"' || r == '\\':
			if !optional || g.pct(80) {
				g.buf = append(g.buf, '\\', byte(r))
			} else {
				g.buf = fmt.Appendf(g.buf, `\u%04x`, r)
			}
		case r < 0x20:
			if (!optional || g.pct(50)) && strings.ContainsRune("\b\f\n\r\t", r) {
				g.buf = append(g.buf, '\\', "btnfr"[strings.IndexRune("\b\t\n\f\r", r)])
			} else {
				g.buf = fmt.Appendf(g.buf, `\u%04X`, r)
			}
		case r == utf8.RuneError && size == 1:
			g.buf = append(g.buf, raw...) // invalid UTF-8 as is
		case optional && g.pct(15) && r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			g.buf = fmt.Appendf(g.buf, `\u%04x\u%04X`, r1, r2)
		case optional && g.pct(10) && r < 0x10000:
			g.buf = fmt.Appendf(g.buf, `\u%04x`, r)
		case optional && r == '/' && g.pct(30):
			g.buf = append(g.buf, `\/`...)
		default:
			g.buf = append(g.buf, raw...)
		}
	}
	if optional && g.pct(5) { // a lone or reversed surrogate
		g.buf = append(g.buf, []string{`\ud83d`, `\ude00`, `\ude00\ud83d`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`}[g.r.IntN(5)]...)
	}
	g.buf = append(g.buf, '"')
}

func (g *gen) space() {
	if g.pct(10) {
		g.buf = append(g.buf, " \t\r\n"[g.r.IntN(4)])
	}
}

// value appends a random value for column name.
func (g *gen) value(name string, depth int) {
	switch n := g.r.IntN(100); {
	case n < 4:
		g.buf = append(g.buf, "null"...)
	case n < 8:
		g.buf = append(g.buf, []string{"true", "false", "0", "-1.5e+10", "443", "1780826401000", "0.25"}[g.r.IntN(7)]...)
	case n < 12 && depth < 6:
		g.nested(depth)
	case name == "UrlChain" && n < 40:
		g.buf = append(g.buf, '[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.buf = append(g.buf, ',')
			}
			if g.pct(10) {
				g.value("", depth+1)
			} else {
				g.str(genStrings[g.r.IntN(3)] + strconv.Itoa(i))
			}
		}
		g.buf = append(g.buf, ']')
	case name == "UrlChain" && n < 70:
		var inner gen
		inner.r = g.r
		inner.buf = append(inner.buf, '[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				inner.buf = append(inner.buf, ',')
			}
			inner.space()
			inner.str(genStrings[g.r.IntN(len(genStrings))])
		}
		inner.buf = append(inner.buf, ']')
		g.str(string(inner.buf))
	case name == "Timestamp" || name == "TimeGenerated" || name == "time":
		g.str(genTimes[g.r.IntN(len(genTimes))])
	default:
		g.str(genStrings[g.r.IntN(len(genStrings))])
	}
}

// nested appends an object or array of random values.
func (g *gen) nested(depth int) {
	open, close := byte('['), byte(']')
	obj := g.pct(50)
	if obj {
		open, close = '{', '}'
	}
	g.buf = append(g.buf, open)
	for i := range g.r.IntN(4) {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		g.space()
		if obj { // names unique within the object, mostly
			g.str(genStrings[g.r.IntN(len(genStrings))] + strconv.Itoa(i))
			g.buf = append(g.buf, ':')
		}
		g.value("", depth+1)
	}
	g.buf = append(g.buf, close)
}

// columns appends the members of a record of table t.
func (g *gen) columns(t matcher.Table, typeMember bool) {
	g.buf = append(g.buf, '{')
	first := true
	member := func(name string) {
		if !first {
			g.buf = append(g.buf, ',')
		}
		first = false
		g.space()
		g.str(name)
		g.space()
		g.buf = append(g.buf, ':')
		g.space()
	}
	names := genColumns[matcher.UrlClickEvents]
	if t != matcher.TableUnknown {
		names = genColumns[t]
	}
	for _, name := range names {
		if g.pct(20) {
			continue
		}
		member(name)
		g.value(name, 2)
		if g.pct(1) { // a repeated member
			member(name)
			g.value(name, 2)
		}
	}
	for range g.r.IntN(3) {
		member("Extra" + strconv.Itoa(g.r.IntN(20)))
		g.value("", 2)
	}
	if typeMember {
		member("Type")
		switch n := g.r.IntN(100); {
		case n < 80 && t != matcher.TableUnknown:
			g.str(t.String())
		case n < 85:
			g.buf = append(g.buf, "null"...)
		case n < 90:
			g.str("")
		case n < 95:
			g.str("DeviceProcessEvents")
		default:
			g.buf = append(g.buf, "42"...)
		}
	}
	g.buf = append(g.buf, '}')
}

// line returns a new line; it is valid until the next call.
func (g *gen) line() []byte {
	g.buf = g.buf[:0]
	if g.pct(5) {
		g.space()
	}
	t := matcher.Table(g.r.IntN(4))
	switch n := g.r.IntN(100); {
	case n < 2:
		g.nested(0)
	case n < 70:
		g.columns(t, g.pct(90))
	default:
		g.buf = append(g.buf, `{"records":[`...)
		for i := range 1 + g.r.IntN(4) {
			if i > 0 {
				g.buf = append(g.buf, ',')
			}
			if g.pct(3) {
				g.value("", 3)
				continue
			}
			rt := matcher.Table(g.r.IntN(4))
			g.buf = append(g.buf, `{"time":`...)
			g.value("time", 3)
			g.buf = append(g.buf, `,"tenantId":"5f1c2a9e","operationName":"Publish","category":`...)
			switch n := g.r.IntN(100); {
			case n < 85 && rt != matcher.TableUnknown:
				prefix := categoryPrefix
				if g.pct(10) {
					prefix = ""
				}
				g.str(prefix + rt.String())
			case n < 90:
				g.buf = append(g.buf, "null"...)
			default:
				g.str("AdvancedHunting-DeviceProcessEvents")
			}
			if !g.pct(3) {
				g.buf = append(g.buf, `,"properties":`...)
				if g.pct(97) {
					g.columns(rt, false)
				} else {
					g.value("", 3)
				}
			}
			g.buf = append(g.buf, '}')
		}
		g.buf = append(g.buf, "]}"...)
	}
	if g.pct(5) {
		g.buf = append(g.buf, "\r"...)
	}
	if g.pct(5) && len(g.buf) > 0 { // break it
		i := g.r.IntN(len(g.buf))
		switch g.r.IntN(3) {
		case 0:
			g.buf = g.buf[:i]
		case 1:
			g.buf[i] = `{}[]",:\x0`[g.r.IntN(10)]
		default:
			g.buf = append(g.buf, " x"...)
		}
	}
	return g.buf
}
