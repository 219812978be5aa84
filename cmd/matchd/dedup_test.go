package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// dline is an alert line as AppendAlert writes it, id making it unique.
func dline(id int) string {
	return fmt.Sprintf(`{"Table":"CommonSecurityLog","AlertId":"%032x","Origin":{"Path":"x","Line":%d}}`+"\n", id, id)
}

type dalert struct {
	id   int
	key  string
	t    time.Duration // event time after the epoch; <0: none
	want string        // what filter writes on this alert: "first" (the alert), "S<first>x<repeats>" (a summary), or "" (counted)
}

func TestDeduper(t *testing.T) {
	const h = time.Hour
	for _, c := range []struct {
		name      string
		grace     time.Duration
		maxKeys   int
		batches   [][]dalert
		wantFlush string // summaries at the end, as "S<first id>x<repeats>" joined by " "
	}{
		{
			name: "one window", grace: -1, maxKeys: 10,
			batches:   [][]dalert{{{1, "a", 10 * time.Minute, "first"}, {2, "a", 20 * time.Minute, ""}, {3, "a", 59 * time.Minute, ""}}},
			wantFlush: "S1x2",
		},
		{
			name: "keys apart", grace: -1, maxKeys: 10,
			batches:   [][]dalert{{{1, "a", 0, "first"}, {2, "b", 0, "first"}, {3, "a", 1, ""}}},
			wantFlush: "S1x1",
		},
		{
			name: "next window closes the key's window", grace: -1, maxKeys: 10,
			batches: [][]dalert{
				{{1, "a", 10 * time.Minute, "first"}, {2, "a", 20 * time.Minute, ""}},
				{{3, "a", h + time.Minute, "S1x1 first"}, {4, "a", h + 2*time.Minute, ""}},
			},
			wantFlush: "S3x1",
		},
		{
			name: "no repeat, no summary", grace: -1, maxKeys: 10,
			batches:   [][]dalert{{{1, "a", 0, "first"}, {2, "a", h, "first"}}},
			wantFlush: "",
		},
		{
			name: "late record counts in the open window", grace: -1, maxKeys: 10,
			batches:   [][]dalert{{{1, "a", 2 * h, "first"}, {2, "a", 30 * time.Minute, ""}}},
			wantFlush: "S1x1",
		},
		{
			name: "record without time is in the watermark's window", grace: -1, maxKeys: 10,
			batches:   [][]dalert{{{1, "b", 5 * time.Minute, "first"}, {2, "a", 10 * time.Minute, "first"}, {3, "a", -1, ""}}},
			wantFlush: "S2x1",
		},
		{
			name: "watermark closes windows after a grace window", grace: h, maxKeys: 10,
			batches: [][]dalert{
				{{1, "a", 10 * time.Minute, "first"}, {2, "a", 20 * time.Minute, ""}},
				{{3, "b", h + 30*time.Minute, "first"}},        // a's window ended, grace not over
				{{4, "b", 2*h + 30*time.Minute, "first S1x1"}}, // then the sweep closes a's window
			},
			wantFlush: "",
		},
		{
			name: "eviction closes the oldest windows", grace: -1, maxKeys: 2,
			batches:   [][]dalert{{{1, "a", 0, "first"}, {2, "a", 1, ""}, {3, "b", h, "first"}, {4, "c", 2 * h, "S1x1 first"}}},
			wantFlush: "",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDeduper(h, c.grace, c.maxKeys)
			for bi, batch := range c.batches {
				var alerts []byte
				var marks []alertMark
				var want []string
				for _, a := range batch {
					alerts = append(alerts, dline(a.id)...)
					marks = append(marks, alertMark{end: len(alerts), key: a.key, time: int64(a.t), hasTime: a.t >= 0})
					for _, w := range strings.Fields(a.want) {
						if w == "first" {
							w = fmt.Sprintf("%d", a.id)
						}
						want = append(want, w)
					}
				}
				got := describe(t, string(d.filter(alerts, marks)))
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("batch %d: wrote %v, want %v", bi, got, want)
				}
			}
			if got := strings.Join(describe(t, string(d.flush())), " "); got != c.wantFlush {
				t.Errorf("flush wrote %q, want %q", got, c.wantFlush)
			}
		})
	}
}

// describe names each written line: the first alert's number, or
// "S<number>x<repeats>" for a summary.
func describe(t *testing.T, out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var line, id int
		fmt.Sscanf(l[strings.Index(l, `"Line":`)+7:], "%d", &line)
		fmt.Sscanf(l[strings.Index(l, `"AlertId":"`)+11:], "%x", &id)
		if i := strings.Index(l, `"Repeats":`); i >= 0 {
			var n int
			fmt.Sscanf(l[i+10:], "%d", &n)
			if id == line {
				t.Errorf("summary keeps the first alert's AlertId: %s", l)
			}
			if !strings.Contains(l, `"WindowStart":"`) || !strings.HasSuffix(l, `"}`) {
				t.Errorf("summary shape: %s", l)
			}
			got = append(got, fmt.Sprintf("S%dx%d", line, n))
			continue
		}
		got = append(got, fmt.Sprint(line))
	}
	return got
}

func TestDedupKey(t *testing.T) {
	set, err := matcher.Compile([]matcher.Indicator{
		{Value: "176.65.139.126", Type: matcher.TypeIP, Addr: netip.MustParseAddr("176.65.139.126"), Confidence: matcher.NoConfidence},
		{Value: "176.65.139.126:2701", Type: matcher.TypeIPPort, Addr: netip.MustParseAddr("176.65.139.126"), Port: 2701, Confidence: matcher.NoConfidence},
	}, matcher.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(table matcher.Table, kv ...string) *matcher.Event {
		e := &matcher.Event{Table: table}
		for i := 0; i < len(kv); i += 2 {
			e.Set(lookupField(kv[i]), []byte(kv[i+1]))
		}
		return e
	}
	key := func(e *matcher.Event) string {
		return strings.ReplaceAll(dedupKey(e, matcher.NewScanner(set).Match(e), set), "\x00", "|")
	}
	for _, c := range []struct {
		name string
		e    *matcher.Event
		want string
	}{
		{"outbound: the source", ev(matcher.CommonSecurityLog, "SourceIP", "10.0.0.5", "DestinationIP", "176.65.139.126", "DestinationPort", "2701"),
			"CommonSecurityLog|10.0.0.5|176.65.139.126|176.65.139.126:2701"},
		{"other port, same key", ev(matcher.CommonSecurityLog, "SourceIP", "10.0.0.5", "DestinationIP", "176.65.139.126", "DestinationPort", "80"),
			"CommonSecurityLog|10.0.0.5|176.65.139.126|176.65.139.126:2701"},
		{"inbound: the destination", ev(matcher.CommonSecurityLog, "SourceIP", "176.65.139.126", "DestinationIP", "10.0.0.23"),
			"CommonSecurityLog|10.0.0.23|176.65.139.126|176.65.139.126:2701"},
		{"device", ev(matcher.DeviceNetworkEvents, "DeviceName", "cam-gw-03", "RemoteIP", "176.65.139.126"),
			"DeviceNetworkEvents|cam-gw-03|176.65.139.126|176.65.139.126:2701"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := key(c.e); got != c.want {
				t.Errorf("key %q, want %q", got, c.want)
			}
		})
	}
}

func lookupField(name string) matcher.Field { return matcher.LookupField([]byte(name)) }

// TestReplayDedup: repeated (indicators, entity, table) in one window are
// one alert and a summary at the end.
func TestReplayDedup(t *testing.T) {
	var in strings.Builder
	for i := range 5 {
		fmt.Fprintf(&in, "CEF:0|V|FW|1|1|c|3|rt=%d src=10.0.0.5 spt=%d dst=176.65.139.126 dpt=2701\n", 1780826400000+int64(i)*60000, 40000+i)
	}
	fmt.Fprintf(&in, "CEF:0|V|FW|1|1|c|3|rt=1780826400000 src=10.0.0.6 spt=1 dst=176.65.139.126 dpt=2701\n")
	r := runMatchd(t, in.String(), "replay", "--iocs", seed, "--dedup-window", "1h", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	as := parseAlerts(t, r.stdout)
	if len(as) != 3 || as[0].Repeats != 0 || as[1].Repeats != 0 || as[2].Repeats != 4 {
		t.Fatalf("want two first alerts and one summary with Repeats 4:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "--dedup-window: 4 alerts counted into 1 summaries") {
		t.Errorf("stderr: %s", r.stderr)
	}
}
