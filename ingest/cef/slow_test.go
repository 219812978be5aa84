package cef

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// The slow reference parser: regular expressions and strings functions,
// written from the grammar in doc.go without sharing code with the parser
// (only the key-to-column table and evtime are shared).

var (
	refMarkerRE = regexp.MustCompile(`CEF: *([0-9]+)\|`)
	// refFieldRE matches one header field and the '|' that ends it.
	refFieldRE = regexp.MustCompile(`^((?:[^|\\]|\\[\s\S])*)\|`)
	// refKeyRE matches a key and its '='.
	refKeyRE = regexp.MustCompile(`(?:^| )([A-Za-z0-9_.\[\]-]+)=`)
	// refHeaderEscRE matches a header escape.
	refHeaderEscRE = regexp.MustCompile(`\\[\s\S]`)
	refValueEsc    = strings.NewReplacer(`\\`, `\`, `\=`, `=`, `\|`, `|`, `\n`, "\n", `\r`, "\r")
)

const refBlanks = " \t\r\n"

type refHeader struct {
	version string
	fields  [6]string // unescaped
	ext     string
}

func refSplit(line string) (refHeader, error) {
	var h refHeader
	first := strings.Index(line, "CEF:")
	if first < 0 {
		return h, ErrNotCEF
	}
	quote := func(at int) string {
		q := line[at:]
		if len(q) > 64 {
			return strconv.Quote(q[:64]) + "..."
		}
		return strconv.Quote(q)
	}
	loc := refMarkerRE.FindStringSubmatchIndex(line)
	if loc == nil {
		return h, &ParseError{Col: first + 1, Msg: `cannot parse CEF version ` + quote(first) + `: want digits and '|' after "CEF:"`}
	}
	at := loc[0]
	h.version = line[loc[2]:loc[3]]
	rest := line[loc[1]:]
	for i := range 6 {
		m := refFieldRE.FindStringSubmatch(rest)
		if m == nil {
			if i == 5 {
				h.fields[5] = refHeaderUnescape(strings.TrimRight(rest, refBlanks))
				return h, nil
			}
			return refHeader{}, &ParseError{Col: at + 1, Msg: "cannot parse CEF header " + quote(at) + ": want 7 fields, have " + strconv.Itoa(i+2)}
		}
		h.fields[i] = refHeaderUnescape(m[1])
		rest = rest[len(m[0]):]
	}
	h.ext = rest
	return h, nil
}

func refHeaderUnescape(s string) string {
	return refHeaderEscRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == `\|` || m == `\\` {
			return m[1:]
		}
		return m
	})
}

// refPairs splits an extension into keys and unescaped values.
func refPairs(ext string) (keys, values []string) {
	locs := refKeyRE.FindAllStringSubmatchIndex(ext, -1)
	for i, l := range locs {
		end := len(ext)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		keys = append(keys, ext[l[2]:l[3]])
		values = append(values, refValueEsc.Replace(strings.TrimRight(ext[l[1]:end], refBlanks)))
	}
	return keys, values
}

var refTimeKeys = [][]string{{"rt", "deviceReceiptTime", "receiptTime"}, {"start", "startTime"}, {"end", "endTime"}}

// refParse returns the snapshot Parse should produce for line.
func refParse(line []byte) (snap, error) {
	h, err := refSplit(string(line))
	if err != nil {
		return snap{}, err
	}
	s := snap{Table: matcher.CommonSecurityLog, Fields: map[string]string{"CEFVersion": h.version}}
	for i, name := range []string{"DeviceVendor", "DeviceProduct", "DeviceVersion", "DeviceEventClassID", "Activity", "LogSeverity"} {
		s.Fields[name] = h.fields[i]
	}
	keys, values := refPairs(h.ext)
	times := make([]string, len(refTimeKeys))
	for i, k := range keys {
		v := values[i]
		col, ok := ColumnName([]byte(k))
		switch {
		case !ok:
			s.Extra = append(s.Extra, k+"="+v)
		case matcher.LookupField([]byte(col)) != matcher.FieldNone:
			s.Fields[col] = v
		default:
			s.Extra = append(s.Extra, col+"="+v)
		}
		for j, names := range refTimeKeys {
			for _, n := range names {
				if k == n {
					times[j] = v
				}
			}
		}
	}
	if len(s.Extra) > matcher.MaxExtra {
		return snap{}, newParseError(line, len(line)-len(h.ext), "extension", msgTooManyExtensions)
	}
	first := ""
	for _, v := range times {
		if v == "" {
			continue
		}
		if first == "" {
			first = v
		}
		if ns, ok := evtime.Parse([]byte(v)); ok {
			s.Time, s.HasTime, first = ns, true, v
			break
		}
	}
	if first != "" {
		s.Fields["TimeGenerated"] = first
	}
	return s, nil
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	if errors.Is(a, ErrNotCEF) || errors.Is(b, ErrNotCEF) {
		return errors.Is(a, ErrNotCEF) && errors.Is(b, ErrNotCEF)
	}
	var pa, pb *ParseError
	return errors.As(a, &pa) && errors.As(b, &pb) && *pa == *pb
}

// checkAgainstRef parses line with Parse and the reference and compares.
func checkAgainstRef(t *testing.T, e *matcher.Event, line []byte) {
	t.Helper()
	err := Parse(e, line)
	want, werr := refParse(line)
	if !sameError(err, werr) {
		t.Fatalf("Parse(%q) error = %v, reference %v", line, err, werr)
	}
	if err != nil {
		if e.Table != matcher.TableUnknown || len(e.Extra) != 0 {
			t.Fatalf("Parse(%q) failed but left %v", line, snapshot(e))
		}
		return
	}
	if got := snapshot(e); !equalSnap(got, want) {
		t.Fatalf("Parse(%q)\ngot:\n%v\nreference:\n%v", line, got, want)
	}
}

// Generated lines are built from pieces that stress the grammar.
var (
	genPrefixes = []string{"", "<14>", "<14>Mar 21 14:05:02 HOST ", "Mar 21 14:05:02 HOST tag[1]: ",
		"<34>1 2026-06-07T10:00:01Z host app - - - ", "host ASM:", "CEF: ", "x CEF:y ", "2016-04-01T09:29:11.356-0400 "}
	genMarkers = []string{"CEF:0|", "CEF: 0|", "CEF:1|", "CEF:|", "CEF:0", "CEF:x|", "CEF:  23|"}
	genHeader  = []string{"a", "b c", `\|`, `\\`, `\`, "=", "|", "CEF:0|", " ", "é", "\xff", "\x00", "High", ""}
	genKeys    = []string{"src", "dst", "sourceAddress", "cs1", "cs1Label", "rt", "start", "end", "msg", "request",
		"ad.Key", "[x]", "a-b", "deviceCustomString1", "FTNTFGTx", "k", "in", "proto", "Error_,Code", ""}
	genValues = []string{"10.0.0.1", " ", "a b", `\=`, "=", `\\`, `\`, `\n`, `\r`, `\|`, "|", `\x`, "x=y", " k=v",
		"1543270652000", "Apr 11 2020 10:42:13 UTC", "2026-06-07T10:00:01Z", "31 March 2016 13:04:55", "\t", "\r\n", "é", "\xff", ""}
)

func genLine(r *rand.Rand) []byte {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	var b strings.Builder
	b.WriteString(pick(genPrefixes))
	b.WriteString(pick(genMarkers))
	nf := 6
	if r.IntN(8) == 0 {
		nf = r.IntN(6)
	}
	for i := range nf {
		for range r.IntN(3) {
			b.WriteString(pick(genHeader))
		}
		if i < 5 || r.IntN(8) != 0 {
			b.WriteByte('|')
		}
	}
	for i := range r.IntN(8) {
		if i > 0 || r.IntN(4) == 0 {
			b.WriteString(strings.Repeat(" ", 1+r.IntN(2)))
		}
		b.WriteString(pick(genKeys))
		b.WriteByte('=')
		pieces := 1
		if r.IntN(2) == 0 {
			pieces = r.IntN(4)
		}
		for range pieces {
			b.WriteString(pick(genValues))
		}
	}
	if r.IntN(4) == 0 {
		b.WriteString(pick([]string{" ", "  ", "\r", "\t"}))
	}
	return []byte(b.String())
}

// TestDifferential compares Parse with the reference on generated lines.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var e matcher.Event // reused on purpose: stale state must not leak
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	for range n {
		checkAgainstRef(t, &e, genLine(r))
	}
}

// escapeHeader and escapeValue write unescaped text back in CEF syntax.
func escapeHeader(v []byte) string {
	return strings.NewReplacer(`\`, `\\`, `|`, `\|`).Replace(string(v))
}

func escapeValue(v []byte) string {
	return strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`).Replace(string(v))
}

// rebuild writes the record in line back as a canonical CEF line: no
// prefix, re-escaped header fields and pairs.
func rebuild(line []byte) ([]byte, error) {
	var e matcher.Event
	if err := Parse(&e, line); err != nil {
		return nil, err
	}
	h, _ := ParseHeader(line)
	var b bytes.Buffer
	b.WriteString("CEF:")
	b.Write(e.Get(matcher.CEFVersion))
	for _, f := range []matcher.Field{matcher.DeviceVendor, matcher.DeviceProduct, matcher.DeviceVersion, matcher.DeviceEventClassID, matcher.Activity, matcher.LogSeverity} {
		b.WriteByte('|')
		b.WriteString(escapeHeader(e.Get(f)))
	}
	b.WriteByte('|')
	sep := ""
	for k, v := range Pairs(h.Extension) {
		b.WriteString(sep)
		b.Write(k)
		b.WriteByte('=')
		b.WriteString(escapeValue(v))
		sep = " "
	}
	return b.Bytes(), nil
}

// checkRoundTrip parses line, writes the record back and parses it again.
func checkRoundTrip(t *testing.T, line []byte) {
	t.Helper()
	var e1, e2 matcher.Event
	if Parse(&e1, line) != nil {
		return
	}
	again, err := rebuild(line)
	if err != nil {
		t.Fatal(err)
	}
	if err := Parse(&e2, again); err != nil {
		t.Fatalf("Parse(rebuild(%q) = %q): %v", line, again, err)
	}
	if s1, s2 := snapshot(&e1), snapshot(&e2); !equalSnap(s1, s2) {
		t.Fatalf("round trip of %q via %q\nfirst:\n%v\nsecond:\n%v", line, again, s1, s2)
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 20_000 {
		checkRoundTrip(t, genLine(r))
	}
}

// FuzzParse checks the three parser invariants: no panic, agreement with
// the reference, and the round trip. The corpus lines seed it when present.
func FuzzParse(f *testing.F) {
	f.Add([]byte(typicalLine))
	f.Add([]byte(`CEF:0|a\|b|c\\d|e|f|g|h|k=v\=w\\x\ny k2= v2 `))
	if dir, ok := corpusDir(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "cef", "*", "*.log"))
		more, _ := filepath.Glob(filepath.Join(dir, "cef", "*", "*.cef"))
		files = append(files, more...)
		files = append(files, filepath.Join(dir, "sentinel", "RadiflowIsid_RawLogs.txt"))
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				continue
			}
			for line := range bytes.Lines(data) {
				f.Add(bytes.TrimRight(line, "\r\n"))
			}
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var e matcher.Event
		checkAgainstRef(t, &e, line)
		checkRoundTrip(t, line)
	})
}
