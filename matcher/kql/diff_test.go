package kql

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// chooser drives the generators: from fuzz bytes (0 once they run out) or
// from a random source.
type chooser struct {
	b   []byte
	rnd *rand.Rand
}

func (c *chooser) intn(n int) int {
	if c.rnd != nil {
		return c.rnd.IntN(n)
	}
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0]) % n
	c.b = c.b[1:]
	return v
}

func pick[T any](c *chooser, xs []T) T { return xs[c.intn(len(xs))] }

// The vocabulary: addresses in several spellings, words that are prefixes,
// suffixes and case variants of each other, numbers, bools, non-ASCII.
var (
	genPieces = []string{"10.0.0.1", "10.0.0.10", "192.168.1.5", "172.16.0.1", "8.8.8.8", "1.2.3.4", "::ffff:10.0.0.1",
		"2001:db8::1", "2001:DB8::1", "abc", "ABC", "Abc", "abcd", "bc", "a", "x.y", "http://x.y/p", "HTTP://X.Y/p?q",
		"80", "443", "-1", "1e2", "5.", "08", "true", "False", "é", "É", "d41d8cd98f00b204e9800998ecf8427e", ""}
	genSeps   = []string{"", " ", "-", ".", "/", "_", ":", "?"}
	genCols   = []string{"RemoteIP", "DeviceName", "Url", "RemotePort", "InitiatingProcessCommandLine", "X1", "X2"}
	genRanges = []string{"10.0.0.0/8", "10.0.0.1", "192.168.0.0/16", "1.2.3.0/24", "0.0.0.0/0", "172.16.0.1/12", "8.8.8.8/32"}
	genNums   = []string{"80", "443", "-1", "100", "5", "1.5", "0"}
	genSearch = []string{"abc", "ABC", "bc", "a", "x.y", "http://x.y/p", "10.0.0.1", "0.1", "-", "é", "2001:db8::1", "abc-", ".y/"}
)

func genValue(c *chooser) string {
	var b strings.Builder
	for i := range 1 + c.intn(3) {
		if i > 0 {
			b.WriteString(pick(c, genSeps))
		}
		b.WriteString(pick(c, genPieces))
	}
	return b.String()
}

func genEvent(c *chooser) *matcher.Event {
	e := &matcher.Event{Table: pick(c, matcher.Tables())}
	if c.intn(3) > 0 {
		e.Time, e.HasTime = genT0.Add(time.Duration(c.intn(4))*time.Hour).UnixNano(), true
	}
	for _, col := range genCols {
		if c.intn(3) == 0 {
			continue
		}
		v := []byte(genValue(c))
		if f := matcher.LookupField([]byte(col)); f != matcher.FieldNone {
			e.Set(f, v)
		} else {
			e.Extra = append(e.Extra, matcher.KV{Name: []byte(col), Value: v})
		}
	}
	if c.intn(4) == 0 {
		e.Extra = append(e.Extra, matcher.KV{Name: []byte("X1"), Value: []byte(genValue(c))})
	}
	return e
}

var genT0 = time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)

// genFeeds compiles a small feed with every indicator type, some expiring
// within the generated events' times under maxAge.
func genFeeds(t testing.TB, maxAge time.Duration) *matcher.Set {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	inds := []matcher.Indicator{
		{Value: "10.0.0.1", Type: matcher.TypeIP, Addr: ip("10.0.0.1"), FirstSeen: genT0},
		{Value: "10.0.0.1:80", Type: matcher.TypeIPPort, Addr: ip("10.0.0.1"), Port: 80, FirstSeen: genT0.Add(-time.Hour)},
		{Value: "1.2.3.4", Type: matcher.TypeIP, Addr: ip("1.2.3.4")},
		{Value: "2001:db8::1", Type: matcher.TypeIP, Addr: ip("2001:db8::1"), FirstSeen: genT0.Add(2 * time.Hour)},
		{Value: "192.168.0.0/16", Type: matcher.TypeCIDR, Prefix: netip.MustParsePrefix("192.168.0.0/16")},
		{Value: "http://x.y/p", Type: matcher.TypeURL, FirstSeen: genT0},
		{Value: "x.y", Type: matcher.TypeDomain},
		{Value: "d41d8cd98f00b204e9800998ecf8427e", Type: matcher.TypeMD5, FirstSeen: genT0.Add(time.Hour)},
	}
	for i := range inds {
		inds[i].Confidence = matcher.NoConfidence
		inds[i].Sources = []string{"test"}
	}
	s, err := matcher.Compile(inds, matcher.Config{MaxAge: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func genList(c *chooser, from []string, feeds []string) string {
	var parts []string
	for range 1 + c.intn(3) {
		switch c.intn(4) {
		case 0:
			if len(feeds) > 0 {
				parts = append(parts, pick(c, feeds))
				continue
			}
			fallthrough
		case 1:
			var el []string
			for range c.intn(11) {
				el = append(el, quote(pick(c, from)))
			}
			parts = append(parts, "dynamic(["+strings.Join(el, ", ")+"])")
		default:
			parts = append(parts, quote(pick(c, from)))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func genPred(c *chooser, depth int) string {
	if depth > 0 {
		switch c.intn(5) {
		case 0:
			return "(" + genPred(c, depth-1) + " and " + genPred(c, depth-1) + ")"
		case 1:
			return "(" + genPred(c, depth-1) + " or " + genPred(c, depth-1) + ")"
		case 2:
			return "not(" + genPred(c, depth-1) + ")"
		}
	}
	col := pick(c, genCols)
	switch c.intn(12) {
	case 0, 1:
		op := pick(c, []string{"==", "!=", "=~", "!~"})
		return col + " " + op + " " + quote(pick(c, genPieces))
	case 2, 3:
		op := pick(c, []string{"has", "!has", "contains", "!contains", "startswith", "endswith"})
		return col + " " + op + " " + quote(pick(c, genSearch))
	case 4:
		op := pick(c, []string{"in", "!in", "in~", "!in~"})
		feeds := []string{FeedIPs, FeedURLs, FeedDomains, FeedHashes}
		if op == "in" || op == "!in" {
			return col + " " + op + " " + genList(c, genPieces, feeds)
		}
		return col + " " + op + " " + genList(c, genPieces, feeds)
	case 5, 6:
		op := pick(c, []string{"has_any", "has_all"})
		feeds := []string{FeedURLs, FeedDomains, FeedIPs}
		if op == "has_all" {
			feeds = nil
		}
		return col + " " + op + " " + genList(c, genSearch, feeds)
	case 7:
		return pick(c, []string{"isempty", "isnotempty", "ipv4_is_private"}) + "(" + col + ")"
	case 8:
		arg := quote(pick(c, genRanges))
		switch c.intn(3) {
		case 0:
			arg = FeedIPs
		case 1:
			var el []string
			for range 1 + c.intn(10) {
				el = append(el, quote(pick(c, genRanges)))
			}
			arg = "dynamic([" + strings.Join(el, ", ") + "])"
		}
		return "ipv4_is_in_range(" + col + ", " + arg + ")"
	case 9:
		op := pick(c, []string{"==", "!=", "<", "<=", ">", ">="})
		return col + " " + op + " " + pick(c, genNums)
	case 10:
		op := pick(c, []string{"in", "!in"})
		var el []string
		for range 1 + c.intn(4) {
			el = append(el, pick(c, genNums))
		}
		return col + " " + op + " (" + strings.Join(el, ", ") + ")"
	}
	return col + " " + pick(c, []string{"==", "!="}) + " " + pick(c, []string{"true", "false"})
}

func genSource(c *chooser, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "// rule %d\n", i)
		if c.intn(3) == 0 {
			fmt.Fprintf(&b, "let l = dynamic([%s, %s]);\n", quote(pick(c, genSearch)), quote(pick(c, genSearch)))
		}
		b.WriteString(pick(c, matcher.Tables()).String())
		if c.intn(8) > 0 {
			pred := genPred(c, c.intn(4))
			if strings.Contains(b.String()[strings.LastIndex(b.String(), "// rule"):], "let l") && c.intn(2) == 0 {
				pred = "(" + pred + " or " + pick(c, genCols) + " has_any (l))"
			}
			b.WriteString("\n| where " + pred)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// compiledIndicators returns the indicators of an alert line in the
// reference's form.
func compiledIndicators(t testing.TB, line []byte) []refIndicator {
	var a struct {
		Indicators []struct{ Field, Value, List string }
	}
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatalf("alert is not JSON: %v\n%s", err, line)
	}
	var out []refIndicator
	for _, in := range a.Indicators {
		out = append(out, in.Field+"\x00"+in.Value+"\x00"+in.List)
	}
	slices.Sort(out)
	return out
}

// checkDiff compares the compiled rules with the reference on one event.
func checkDiff(t testing.TB, src string, qs []*Query, r *Rules, ev *Evaluator, e *matcher.Event) {
	t.Helper()
	got := slices.Clone(ev.Match(e))
	o := matcher.Origin{Path: "x", Line: 1}
	var want []RuleID
	for i, q := range qs {
		if ok, _ := refMatch(q, r.Feeds(), e); ok {
			want = append(want, RuleID(i))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("event %s:\nmatched %v, reference %v\nrules:\n%s", describeEvent(e), got, want, src)
	}
	for _, id := range got {
		line := ev.AppendAlert(nil, id, &o)
		_, wantInds := refMatch(qs[id], r.Feeds(), e)
		if gotInds := compiledIndicators(t, line); !slices.Equal(gotInds, wantInds) {
			t.Fatalf("event %s:\nrule %d (%s) indicators\n got %q\nwant %q", describeEvent(e), id, qs[id], gotInds, wantInds)
		}
	}
}

func describeEvent(e *matcher.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.Table)
	if e.HasTime {
		fmt.Fprintf(&b, " @%s", time.Unix(0, e.Time).UTC().Format(time.RFC3339))
	}
	for f := matcher.Field(1); f < matcher.NumFields; f++ {
		if e.Has(f) {
			fmt.Fprintf(&b, " %s=%q", f, e.Get(f))
		}
	}
	for _, kv := range e.Extra {
		fmt.Fprintf(&b, " %s=%q", kv.Name, kv.Value)
	}
	return b.String()
}

// runDiff generates rules and events from c and compares.
func runDiff(t testing.TB, c *chooser, nRules, nEvents int) {
	src := genSource(c, nRules)
	feeds := genFeeds(t, time.Duration(c.intn(2))*90*time.Minute)
	qs, err := Parse("gen.kql", []byte(src))
	if err != nil {
		t.Fatalf("generated rules do not parse: %v\n%s", err, src)
	}
	r, err := (&Program{Queries: qs}).Compile(Options{Feeds: feeds})
	if err != nil {
		t.Fatalf("generated rules do not compile: %v\n%s", err, src)
	}
	ev := NewEvaluator(r)
	for range nEvents {
		checkDiff(t, src, qs, r, ev, genEvent(c))
	}
}

func TestDifferential(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 60
	}
	for i := range n {
		c := &chooser{rnd: rand.New(rand.NewPCG(uint64(i), 7))}
		runDiff(t, c, 1+c.intn(30), 40)
	}
}

func FuzzEval(f *testing.F) {
	f.Add([]byte{3, 1, 0, 4, 2, 7, 9, 1, 1, 5, 3})
	f.Add([]byte("\x05\x00\x02\x04\x00\x01\x03\x07\x02\x09\x01\x00\x05\x05"))
	f.Add([]byte("kql rules against events, driven by these bytes"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &chooser{b: b}
		runDiff(t, c, 1+c.intn(8), 1+c.intn(8))
	})
}

// TestAppendAllColumnsRepeatedNames: the indexed path for many extra
// columns keeps the same columns as the pairwise one (the last value of a
// repeated name wins), for few and many columns.
func TestAppendAllColumnsRepeatedNames(t *testing.T) {
	ref := func(e *matcher.Event) []byte {
		var dst []byte
		for i, kv := range e.Extra {
			dup := false
			for _, later := range e.Extra[i+1:] {
				dup = dup || string(later.Name) == string(kv.Name)
			}
			if !dup {
				dst = append(dst, ',')
				dst = matcher.AppendJSONString(dst, kv.Name)
				dst = append(dst, ':')
				dst = matcher.AppendJSONString(dst, kv.Value)
			}
		}
		return dst
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 5, 32, 33, 200, 2000} {
		var e matcher.Event
		for i := range n {
			name := fmt.Sprintf("X%d", rnd.IntN(max(n/2, 1)))
			e.Extra = append(e.Extra, matcher.KV{Name: []byte(name), Value: fmt.Appendf(nil, "v%d", i)})
		}
		if got, want := appendAllColumns(nil, &e), ref(&e); string(got) != string(want) {
			t.Errorf("%d extras:\n got %s\nwant %s", n, got, want)
		}
	}
}
