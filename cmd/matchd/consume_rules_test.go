package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/internal/kafkatest"
)

// The KQL rules on a stream: matchd consume --rules, against kfake or the
// real broker in MATCHD_KAFKA_BROKERS.

// ruleLines returns the alert lines that carry a Rule, and those that do
// not (feed alerts).
func ruleLines(t *testing.T, data string) (rule, feed []string) {
	t.Helper()
	for _, a := range parseAlerts(t, data) {
		var r struct{ Rule *string }
		if err := json.Unmarshal([]byte(a.line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Rule != nil {
			rule = append(rule, a.line)
		} else {
			feed = append(feed, a.line)
		}
	}
	return rule, feed
}

// TestKafkaRulesDemoCorpus consumes the demo logs with the seed's hunts in
// KQL and expects exactly the rule alerts of matchd replay --rules, up to
// order (a stream applies no order by) and the Origin and AlertId that
// differ between a file and a topic; the feed alerts still stream beside
// them.
func TestKafkaRulesDemoCorpus(t *testing.T) {
	rr := runMatchd(t, "", "replay", "--iocs", seed, "--rules", miraiRules, "--progress", "never", demoDir)
	if rr.code != 0 {
		t.Fatalf("replay exit %d:\n%s", rr.code, rr.stderr)
	}
	wantRules, wantFeed := ruleLines(t, rr.stdout)
	want := withoutIDs(wantRules)
	slices.Sort(want)
	if len(want) == 0 || len(wantFeed) != len(goldenLines(t)) {
		t.Fatalf("replay gave %d rule and %d feed alerts", len(want), len(wantFeed))
	}

	b := kafkatest.Start(t)
	for _, whole := range []bool{false, true} {
		name := "record-per-message"
		if whole {
			name = "file-per-message"
		}
		t.Run(name, func(t *testing.T) {
			topic := b.Topic(t, 1)
			msgs := demoMessages(t, whole)
			b.Produce(t, topic, 0, msgs...)
			out := filepath.Join(t.TempDir(), "alerts.jsonl")
			group := kafkatest.Name(t, "g")
			r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--rules", miraiRules, "--out", out)
			kafkatest.Eventually(t, 30*time.Second, "offsets not committed to the end", func() bool {
				return b.Committed(t, group, topic, 1)[0] == int64(len(msgs))
			})
			if code := r.stop(t); code != 0 {
				t.Fatalf("exit %d", code)
			}
			all := readAlerts(t, out)
			for _, a := range all {
				if a.Origin.Topic != topic {
					t.Errorf("origin %+v", a.Origin)
				}
			}
			gotRules, gotFeed := ruleLines(t, readFileString(t, out))
			got := withoutIDs(gotRules)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("rule alerts differ from replay's\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(gotFeed) != len(wantFeed) {
				t.Errorf("%d feed alerts, want %d", len(gotFeed), len(wantFeed))
			}
		})
	}
}

// TestKafkaRulesReload reloads rules and feeds under a running consumer:
// a rule dropped from the file stops alerting, a matchd_ips rule follows
// the feed, and a rule file that does not compile keeps the rules in
// force and is counted as a failed reload.
func TestKafkaRulesReload(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	dir := t.TempDir()
	feedPath, rulePath, out := filepath.Join(dir, "feed.txt"), filepath.Join(dir, "c2.kql"), filepath.Join(dir, "alerts.jsonl")
	const known = "// Known C2\nCommonSecurityLog\n| where DestinationIP in (\"176.65.139.126\")\n| project DestinationIP\n"
	const other = "// Other C2\nCommonSecurityLog\n| where DestinationIP == \"169.239.130.20\"\n| project DestinationIP\n"
	const tiMap = "// TI map\nCommonSecurityLog\n| where DestinationIP in (matchd_ips)\n| project DestinationIP\n| take 1\n"
	writeFile(t, feedPath, []byte("176.65.139.126\n"))
	writeFile(t, rulePath, []byte(known+other+tiMap))
	r := startConsume(t, b, "--topic", topic, "--group", kafkatest.Name(t, "g"), "--iocs", feedPath, "--rules", rulePath,
		"--feed-alerts=false", "--out", out, "--reload-interval", "20ms", "--metrics-addr", "127.0.0.1:0")
	produced := 0
	produce := func() {
		var msgs []kafkatest.Message
		for i := range 10 {
			for _, ip := range []string{"176.65.139.126", "169.239.130.20"} {
				msgs = append(msgs, kafkatest.Message{Value: fmt.Appendf(nil, "CEF:0|V|FW|1|1|c|3|src=10.2.0.%d dst=%s dpt=80", i, ip)})
			}
		}
		b.Produce(t, topic, 0, msgs...)
		produced += len(msgs)
	}
	type phase struct {
		name string
		want map[string]string // rule -> DestinationIP of its alerts
	}
	var phases []phase
	waitFor := func(n int) {
		t.Helper()
		kafkatest.Eventually(t, 30*time.Second, fmt.Sprintf("want %d alerts", n), func() bool { return len(readAlerts(t, out)) >= n })
	}
	logged := func(msg string, n int) {
		t.Helper()
		kafkatest.Eventually(t, 30*time.Second, fmt.Sprintf("%q not logged %d times", msg, n), func() bool {
			return strings.Count(r.stderr.String(), msg) >= n
		})
	}

	produce()
	phases = append(phases, phase{"start", map[string]string{"Known C2": "176.65.139.126", "Other C2": "169.239.130.20", "TI map": "176.65.139.126"}})
	waitFor(30)

	writeFile(t, rulePath, []byte(known+tiMap))
	logged(`msg="rules swapped"`, 1)
	produce()
	phases = append(phases, phase{"rule dropped", map[string]string{"Known C2": "176.65.139.126", "TI map": "176.65.139.126"}})
	waitFor(50)

	writeFile(t, feedPath, []byte("169.239.130.20\n"))
	logged(`msg="indicator set swapped"`, 1)
	logged(`msg="rules swapped"`, 2) // the TI map follows the feed
	produce()
	phases = append(phases, phase{"feed changed", map[string]string{"Known C2": "176.65.139.126", "TI map": "169.239.130.20"}})
	waitFor(70)

	writeFile(t, rulePath, []byte(known+"CommonSecurityLog\n| extend x = 1\n"))
	logged(`msg="rules reload failed; the rules in force stay"`, 1)
	produce()
	phases = append(phases, phase{"broken rules", phases[2].want})
	waitFor(90)
	metrics := scrape(t, r, "/metrics")
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	alerts := readAlerts(t, out)
	if len(alerts) != 90 {
		t.Errorf("%d alerts, want 90", len(alerts))
	}
	got := make([]map[string][]string, len(phases))
	for _, a := range alerts {
		var ra struct{ Rule, DestinationIP string }
		if err := json.Unmarshal([]byte(a.line), &ra); err != nil {
			t.Fatal(err)
		}
		p := int(a.Origin.Offset) / 20
		if p >= len(phases) {
			t.Fatalf("alert beyond the produced records: %s", a.line)
		}
		if got[p] == nil {
			got[p] = map[string][]string{}
		}
		got[p][ra.Rule] = append(got[p][ra.Rule], ra.DestinationIP)
	}
	for i, ph := range phases {
		if len(got[i]) != len(ph.want) {
			t.Errorf("%s: rules alerting %v, want %v", ph.name, sortedKeys(got[i]), sortedKeys(ph.want))
		}
		for rule, ip := range ph.want {
			ips := got[i][rule]
			if len(ips) != 10 || slices.ContainsFunc(ips, func(s string) bool { return s != ip }) {
				t.Errorf("%s: rule %q alerted on %v, want 10 times %s", ph.name, rule, ips, ip)
			}
		}
	}
	for _, want := range []string{`matchd_feed_reloads_total{result="ok"} 2`, `matchd_feed_reloads_total{result="failed"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestConsumeRulesSettings: --rules is read from the flag, MATCHD_RULES
// and the --config file, and rules that do not compile are a usage error
// before consume connects.
func TestConsumeRulesSettings(t *testing.T) {
	dir := t.TempDir()
	bad, ti := filepath.Join(dir, "bad.kql"), filepath.Join(dir, "ti.kql")
	writeFile(t, bad, []byte("CommonSecurityLog\n| where DestinationIP == \"1.2.3.4\"\n| extend x = 1\n"))
	writeFile(t, ti, []byte("CommonSecurityLog | where DestinationIP in (matchd_ips)\n"))
	cfg := filepath.Join(dir, "matchd.yaml")
	writeFile(t, cfg, []byte("rules:\n  - "+bad+"\n"))
	base := []string{"consume", "--brokers", "127.0.0.1:1", "--topic", "t", "--group", "g", "--metrics-addr", ""}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"flag", nil, []string{"--iocs", seed, "--rules", bad}, bad + `:3:3: unsupported tabular operator "extend"`},
		{"environment", map[string]string{"MATCHD_RULES": bad}, []string{"--iocs", seed}, bad + `:3:3: unsupported tabular operator "extend"`},
		{"config file", nil, []string{"--iocs", seed, "--config", cfg}, bad + `:3:3: unsupported tabular operator "extend"`},
		{"feed list without feed", nil, []string{"--rules", ti}, "matchd_ips needs a loaded feed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			r := runMatchd(t, "", append(base, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", r.code, r.stderr, c.msg)
			}
		})
	}
}
