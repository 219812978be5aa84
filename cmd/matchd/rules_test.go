package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/matcher"
	"github.com/matchd/matchd/matcher/kql"
)

const miraiRules = "../../testdata/rules/mirai.kql"

// ruleAlert is the part of a rule alert the tests read.
type ruleAlert struct {
	Table      string
	Rule       string
	Indicators []struct{ Value, Field, List string }
	Origin     struct {
		Path   string
		Line   int
		Record *int
	}
}

func parseRuleAlerts(t *testing.T, out string) ([]ruleAlert, []string) {
	t.Helper()
	var as []ruleAlert
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var a ruleAlert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert is not JSON: %v\n%s", err, line)
		}
		as = append(as, a)
		lines = append(lines, line)
	}
	return as, lines
}

// where names a demo record: "network-events.json:3" or ":7#0" in an
// envelope.
func (a *ruleAlert) where() string {
	s := fmt.Sprintf("%s:%d", filepath.Base(a.Origin.Path), a.Origin.Line)
	if a.Origin.Record != nil {
		s += fmt.Sprintf("#%d", *a.Origin.Record)
	}
	return s
}

// TestRulesGolden replays the demo logs against the seed's hunts in KQL
// and checks every alert byte for byte: the seed's three queries give the
// seed's projections, ordered by their order by.
func TestRulesGolden(t *testing.T) {
	r := runMatchd(t, "", "replay", "--rules", miraiRules, "--progress", "never", demoDir)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "rules-mirai.jsonl", r.stdout)
	as, lines := parseRuleAlerts(t, r.stdout)
	seedCols := map[string]string{
		"Hunt for network connections to known malicious IPs": `{"Table":"CommonSecurityLog","TimeGenerated":…,"SourceIP":…,"DestinationIP":…,"DestinationPort":…,"DeviceAction":…,"Activity":…,"Rule":…,"Indicators":…,"AlertId":…,"Origin":…}`,
		"Hunt in Defender for Endpoint network events":        `{"Table":"DeviceNetworkEvents","Timestamp":…,"DeviceName":…,"RemoteIP":…,"RemotePort":…,"InitiatingProcessFileName":…,"ActionType":…,"Rule":…,"Indicators":…,"AlertId":…,"Origin":…}`,
		"Hunt for access to known malicious URLs":             `{"Table":"UrlClickEvents","Timestamp":…,"AccountUpn":…,"Url":…,"ActionType":…,"IsClickedThrough":…,"Rule":…,"Indicators":…,"AlertId":…,"Origin":…}`,
	}
	var order []string
	for i, a := range as {
		if len(order) == 0 || order[len(order)-1] != a.Rule {
			order = append(order, a.Rule)
		}
		if want, ok := seedCols[a.Rule]; ok {
			if got := jsonShape(t, lines[i]); got != want {
				t.Errorf("alert columns:\n got %s\nwant %s", got, want)
			}
		}
	}
	// Rule by rule, in file order.
	prog, err := kql.Load(miraiRules)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range prog.Queries {
		names = append(names, q.Name)
	}
	if !slices.Equal(order, names) {
		t.Errorf("rules in output order:\n%q\nwant file order:\n%q", order, names)
	}
	if !strings.Contains(r.stderr, "replayed 19 records (CommonSecurityLog 6, DeviceNetworkEvents 8, UrlClickEvents 5), 34 alerts, 1 rejects") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// jsonShape returns a JSON object's keys in order with the values elided.
func jsonShape(t *testing.T, line string) string {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.Token() // {
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if k == "Table" {
			keys = append(keys, fmt.Sprintf("%q:%s", k, v))
			continue
		}
		keys = append(keys, fmt.Sprintf("%q:…", k))
	}
	return "{" + strings.Join(keys, ",") + "}"
}

// TestRulesScenarios: the seed's Defender hunt reports the four
// false-positive scenarios of network-events.json (lines 2-5); each
// exclusion variant suppresses its own scenario and nothing else, the
// combined variant suppresses all four, and the true positives (line 1 and
// the envelope's first record on line 7) alert in every variant.
func TestRulesScenarios(t *testing.T) {
	r := runMatchd(t, "", "replay", "--rules", miraiRules, demoDir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	as, _ := parseRuleAlerts(t, r.stdout)
	got := map[string][]string{}
	for _, a := range as {
		if a.Table == "DeviceNetworkEvents" {
			got[a.Rule] = append(got[a.Rule], a.where())
		}
	}
	const (
		tp1, tp2                          = "network-events.json:1", "network-events.json:7#0"
		backup, admin, logship, container = "network-events.json:2", "network-events.json:3", "network-events.json:4", "network-events.json:5"
	)
	// Ordered by Timestamp desc.
	want := map[string][]string{
		"Hunt in Defender for Endpoint network events":                                               {tp2, container, logship, tp1, admin, backup},
		"Hunt in Defender for Endpoint network events, excluding scheduled backups":                  {tp2, container, logship, tp1, admin},
		"Hunt in Defender for Endpoint network events, excluding admin remote management with nc":    {tp2, container, logship, tp1, backup},
		"Hunt in Defender for Endpoint network events, excluding log collection with tcpdump and nc": {tp2, container, tp1, admin, backup},
		"Hunt in Defender for Endpoint network events, excluding DevOps container management":        {tp2, logship, tp1, admin, backup},
		"Hunt in Defender for Endpoint network events, excluding all four false-positive scenarios":  {tp2, tp1},
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s:\n got %v\nwant %v", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("DeviceNetworkEvents rules: %v", got)
	}
}

// TestRulesWithFeeds: with --iocs and --rules both, feed alerts (no Rule)
// stream first and rule alerts follow; rules read the feed through the
// matchd_* lists, whose indicators the alerts report with their metadata.
func TestRulesWithFeeds(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "ti.kql")
	writeFile(t, rules, []byte(`// TI map: IPs in network events
DeviceNetworkEvents
| where RemoteIP in (matchd_ips) and not(ipv4_is_private(RemoteIP))
| project Timestamp, Host = DeviceName, RemoteIP, RemotePort
| order by RemotePort asc, Timestamp desc
| take 3
// TI map: URLs anywhere in a click
UrlClickEvents
| where Url has_any (matchd_urls) or UrlChain has_any (matchd_urls)
| project Timestamp, Url
`))
	r := runMatchd(t, "", "replay", "--iocs", seed, "--rules", rules, demoDir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "rules-ti-map.jsonl", stableSetTime(r.stdout))
	as, lines := parseRuleAlerts(t, r.stdout)
	feedAlerts := 0
	for i, a := range as {
		if a.Rule == "" {
			feedAlerts++
			if i >= 14 {
				t.Errorf("feed alert after the rule alerts: %s", lines[i])
			}
		}
	}
	if feedAlerts != 14 {
		t.Errorf("%d feed alerts, want the demo's 14", feedAlerts)
	}
	// take 3 of the ordered DeviceNetworkEvents alerts, and the three
	// clicks whose Url or UrlChain holds the URL.
	if n := len(as) - feedAlerts; n != 6 {
		t.Errorf("%d rule alerts, want 6:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stdout, `"Host":"jump-01","RemoteIP":"176.65.139.126","RemotePort":22,"Rule":"TI map: IPs in network events","Indicators":[{"Value":"176.65.139.126","Type":"ip","Field":"RemoteIP","List":"matchd_ips","Malware":"Mirai","Sources":["ThreatFox"]},{"Value":"176.65.139.126:2701","Type":"ip:port","Field":"RemoteIP","List":"matchd_ips","ThreatType":"botnet_cc"`) {
		t.Errorf("the first ordered alert does not report both feed indicators:\n%s", r.stdout)
	}

	// --feed-alerts=false leaves only the rule alerts.
	r2 := runMatchd(t, "", "replay", "--iocs", seed, "--rules", rules, "--feed-alerts=false", demoDir)
	if as2, _ := parseRuleAlerts(t, r2.stdout); len(as2) != 6 {
		t.Errorf("--feed-alerts=false: %d alerts, want 6", len(as2))
	}
}

func TestRulesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.kql")
	writeFile(t, bad, []byte("DeviceNetworkEvents\n| where RemoteIP in (\"1.2.3.4\")\n| extend Score = 1\n"))
	ti := filepath.Join(dir, "ti.kql")
	writeFile(t, ti, []byte("DeviceNetworkEvents | where RemoteIP in (matchd_ips)\n"))
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unsupported operator", []string{"replay", "--rules", bad, demoDir}, 2, bad + `:3:3: unsupported tabular operator "extend"`},
		{"check reports it", []string{"check", "--rules", bad}, 2, bad + `:3:3: unsupported tabular operator "extend"`},
		{"feed list without feed", []string{"replay", "--rules", ti, demoDir}, 2, ti + ":1:42: matchd_ips needs a loaded feed (give --iocs)"},
		{"missing file", []string{"replay", "--rules", filepath.Join(dir, "nope.kql"), demoDir}, 2, "nope.kql: no such file or directory"},
		{"neither feeds nor rules", []string{"replay", demoDir}, 2, "no threat feed or rules"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runMatchd(t, "", c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, c.msg) {
				t.Errorf("output lacks %q:\n%s%s", c.msg, r.stdout, r.stderr)
			}
		})
	}
}

func TestCheckRules(t *testing.T) {
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.kql")
	writeFile(t, extra, []byte("// Odd processes\nDeviceNetworkEvents | where RemotePort > 60000\n| take 10\nUrlClickEvents | where Url has_any (matchd_urls)\n"))
	r := runMatchd(t, "", "check", "--iocs", seed, "--rules", miraiRules, "--rules", extra)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"rules ../../testdata/rules/mirai.kql, " + extra + ": 10 rules,",
		`../../testdata/rules/mirai.kql:3: "Hunt for network connections to known malicious IPs": CommonSecurityLog, 4 indexed literals; order by TimeGenerated desc: applied by replay, ignored on a stream (consume)`,
		`../../testdata/rules/mirai.kql:16: "Hunt for access to known malicious URLs": UrlClickEvents, 1 indexed literal; order by Timestamp desc: applied by replay, ignored on a stream (consume)`,
		extra + `:2: "Odd processes": DeviceNetworkEvents, FULL SCAN (no indexable literal: evaluated on every DeviceNetworkEvents record); take 10: applied by replay, ignored on a stream (consume)`,
		extra + `:4: "` + extra + `:4": UrlClickEvents, 1 indexed literal, reads matchd_urls`,
		"1 full-scan",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestRuleSinkSpills orders and cuts rule alerts through spilled runs
// exactly as in memory.
func TestRuleSinkSpills(t *testing.T) {
	src := `// a
DeviceNetworkEvents | where RemotePort >= 0 | project RemotePort, DeviceName | order by DeviceName asc, RemotePort desc | take 50
// b
DeviceNetworkEvents | where RemotePort >= 0 | project RemotePort
// c
DeviceNetworkEvents | where RemotePort >= 0 | project DeviceName | take 7
`
	rules, err := kql.Compile(kql.Options{}, kql.Source{Name: "t.kql", Text: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 400 {
		lines = append(lines, fmt.Sprintf(`{"Type":"DeviceNetworkEvents","DeviceName":"host-%d","RemotePort":%d}`, i%13, i))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	writeFile(t, in, []byte(strings.Join(lines, "\n")))
	write := func(maxMem int) string {
		p := &pipeline{workers: 2, alerts: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		sink := newRuleSink(rules, maxMem)
		sink.tmpDir = dir
		p.rules = sink
		p.newWork = func() *worker {
			w := newTestWorker()
			w.rules = newRuleMatcher(rules)
			return w
		}
		src := newTestReplay(t, in)
		if err := p.run(t.Context(), src); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		n, err := sink.finish(&out)
		if err != nil {
			t.Fatal(err)
		}
		if maxMem < 1000 && len(sink.runs) != 0 {
			t.Errorf("runs not released")
		}
		if n != 50+400+7 {
			t.Errorf("%d alerts written, want %d", n, 50+400+7)
		}
		return out.String()
	}
	mem, disk := write(1<<30), write(500)
	if mem != disk {
		t.Errorf("spilled output differs from in-memory output")
	}
	as, _ := parseRuleAlerts(t, mem)
	// Rule a: host-0 first (asc), ports descending within a host.
	if as[0].Rule != "a" || !strings.Contains(mem[:200], `"RemotePort":390,"DeviceName":"host-0"`) {
		t.Errorf("rule a is not ordered: %s", mem[:200])
	}
	// Rule b keeps input order; rule c the first seven.
	var bPorts, cHosts []string
	for _, line := range strings.Split(strings.TrimSpace(mem), "\n") {
		var a struct {
			Rule       string
			RemotePort int
			DeviceName string
		}
		json.Unmarshal([]byte(line), &a)
		switch a.Rule {
		case "b":
			bPorts = append(bPorts, fmt.Sprint(a.RemotePort))
		case "c":
			cHosts = append(cHosts, a.DeviceName)
		}
	}
	if len(bPorts) != 400 || bPorts[0] != "0" || bPorts[399] != "399" {
		t.Errorf("rule b: %d alerts, %v…", len(bPorts), bPorts[:3])
	}
	if strings.Join(cHosts, ",") != "host-0,host-1,host-2,host-3,host-4,host-5,host-6" {
		t.Errorf("rule c: %v", cHosts)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary runs left behind: %v", entries)
	}
}

func newTestWorker() *worker {
	empty, err := matcher.Compile(nil, matcher.Config{})
	if err != nil {
		panic(err)
	}
	return &worker{dec: ingest.NewDecoder(matcher.TableUnknown), sc: matcher.NewScanner(empty)}
}

func newTestReplay(t *testing.T, paths ...string) source {
	src, err := ingest.NewReplay(paths, ingest.ReplayConfig{MaxRecordBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestRulesStream: without a sink (as on a stream), rule alerts are written
// with their batch, in input order, order by and take not applied.
func TestRulesStream(t *testing.T) {
	rules, err := loadRules([]string{miraiRules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := &pipeline{workers: 1, alerts: &out, stderr: &bytes.Buffer{}}
	p.newWork = func() *worker {
		w := newTestWorker()
		w.rules = newRuleMatcher(rules)
		return w
	}
	if err := p.run(t.Context(), newTestReplay(t, filepath.Join(demoDir, "network-events.json"))); err != nil {
		t.Fatal(err)
	}
	as, _ := parseRuleAlerts(t, out.String())
	// The plain hunt 6, each single-scenario variant 5, the combined one 2.
	if len(as) != 28 || p.st.alerts != 28 {
		t.Fatalf("%d alerts (%d counted), want 28", len(as), p.st.alerts)
	}
	if as[0].where() != "network-events.json:1" || as[len(as)-1].where() != "network-events.json:7#0" {
		t.Errorf("not in input order: first %s, last %s", as[0].where(), as[len(as)-1].where())
	}
}

func TestRuleMatcherUse(t *testing.T) {
	a, err := loadRules([]string{miraiRules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadRules([]string{miraiRules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newRuleMatcher(a)
	ev := m.ev
	if m.use(a); m.ev != ev {
		t.Error("use of the rules in force replaced the evaluator")
	}
	if m.use(b); m.ev.Rules() != b {
		t.Error("use of new rules kept the old ones")
	}
}
