package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/matchd/matchd/internal/kafkatest"
)

// The Kafka tests run `matchd consume` through run() against kfake, or
// against the real broker in MATCHD_KAFKA_BROKERS (see internal/kafkatest).

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// consumeRun is one `matchd consume` running in the test process.
type consumeRun struct {
	cancel context.CancelFunc
	code   chan int
	stderr *lockedBuffer
	stdout *lockedBuffer
}

// startConsume runs matchd consume with args plus test defaults (fast
// group timers, no metrics listener unless args set one).
func startConsume(t *testing.T, b *kafkatest.Broker, args ...string) *consumeRun {
	t.Helper()
	return startConsumeAt(t, b.Addrs, args...)
}

// startConsumeAt is startConsume against the brokers at addrs.
func startConsumeAt(t *testing.T, addrs []string, args ...string) *consumeRun {
	t.Helper()
	all := consumeArgs(addrs, args...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &consumeRun{cancel: cancel, code: make(chan int, 1), stderr: &lockedBuffer{}, stdout: &lockedBuffer{}}
	go func() { r.code <- run(ctx, all, strings.NewReader(""), r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.code:
		case <-time.After(60 * time.Second):
		}
		if t.Failed() {
			t.Logf("stderr of consume %v:\n%s", args, r.stderr.String())
		}
	})
	return r
}

// stop sends the equivalent of SIGTERM and returns the exit code.
func (r *consumeRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.code:
		r.code <- code // for the cleanup
		return code
	case <-time.After(60 * time.Second):
		t.Fatalf("consume did not stop within 60s:\n%s", r.stderr.String())
	}
	return -1
}

type testAlert struct {
	Table        string
	IndicatorSet string
	AlertId      string
	Repeats      int
	Origin       struct {
		Topic     string
		Partition int
		Offset    int64
		Line      int64
	}
	Indicators []struct{ Value string }
	line       string
}

func readAlerts(t *testing.T, path string) []testAlert {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return parseAlerts(t, string(data))
}

func parseAlerts(t *testing.T, data string) []testAlert {
	var out []testAlert
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasSuffix(sc.Text(), "}") {
			break // a line being written
		}
		var a testAlert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alert is not JSON: %v\n%s", err, sc.Text())
		}
		a.line = sc.Text()
		out = append(out, a)
	}
	return out
}

func uniqueIDs(as []testAlert) map[string]bool {
	m := map[string]bool{}
	for _, a := range as {
		m[a.AlertId] = true
	}
	return m
}

// hitLine is a CEF record that alerts on the seed's 176.65.139.126;
// i makes it unique.
func hitLine(i int) string {
	return fmt.Sprintf("CEF:0|Vendor|FW|1|100|conn|3|rt=%d src=10.1.%d.%d spt=40000 dst=176.65.139.126 dpt=2701 act=allow",
		1780826400000+int64(i)*1000, i/250%250, i%250)
}

// produceHits produces n hitLines to each partition, numbered from 'from'.
func produceHits(t *testing.T, b *kafkatest.Broker, topic string, partitions, n, from int) {
	t.Helper()
	var msgs []kafkatest.Message
	for i := from; i < from+n; i++ {
		for p := range partitions {
			msgs = append(msgs, kafkatest.Message{Partition: p, Value: []byte(hitLine(i*partitions + p))})
		}
	}
	b.Produce(t, topic, 0, msgs...)
}

// demoMessages returns the demo logs' lines in replay's order (file names
// sorted), or whole files as multi-record messages.
func demoMessages(t *testing.T, whole bool) []kafkatest.Message {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(demoDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var msgs []kafkatest.Message
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if whole {
			msgs = append(msgs, kafkatest.Message{Value: data})
			continue
		}
		for _, ln := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			msgs = append(msgs, kafkatest.Message{Value: []byte(ln)})
		}
	}
	return msgs
}

// withoutIDs cuts alert lines before AlertId, with a stable IndicatorSet.
func withoutIDs(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		l = stableSetTime(l)
		out[i] = l[:strings.Index(l, `,"AlertId"`)]
	}
	return out
}

func goldenLines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "demo.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

var codecs = []struct {
	name  string
	codec kafkago.Compression
}{{"none", 0}, {"gzip", kafkago.Gzip}, {"snappy", kafkago.Snappy}, {"lz4", kafkago.Lz4}, {"zstd", kafkago.Zstd}}

// TestKafkaDemoCorpus consumes the demo logs, one record per message and
// then one file per message, in every compression codec, and expects
// exactly the replay golden's alerts with Kafka origins, the reject with
// its position, and offsets committed to the end.
func TestKafkaDemoCorpus(t *testing.T) {
	b := kafkatest.Start(t)
	golden := withoutIDs(goldenLines(t))
	var goldenOrigins []struct {
		Path string
		Line int64
	}
	for _, l := range goldenLines(t) {
		var a struct {
			Origin struct {
				Path string
				Line int64
			}
		}
		json.Unmarshal([]byte(l), &a)
		goldenOrigins = append(goldenOrigins, a.Origin)
	}
	demoLines := map[string]int64{}
	files, _ := filepath.Glob(filepath.Join(demoDir, "*"))
	for _, f := range files {
		demoLines[f] = int64(strings.Count(strings.TrimSuffix(readFileString(t, f), "\n"), "\n") + 1)
	}
	for _, c := range codecs {
		for _, whole := range []bool{false, true} {
			name := c.name + "/record-per-message"
			if whole {
				name = c.name + "/file-per-message"
			}
			t.Run(name, func(t *testing.T) {
				topic := b.Topic(t, 1)
				msgs := demoMessages(t, whole)
				b.Produce(t, topic, c.codec, msgs...)
				dir := t.TempDir()
				out, rej := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "rejects.jsonl")
				group := kafkatest.Name(t, "g")
				r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--rejects", rej)
				kafkatest.Eventually(t, 30*time.Second, "not every alert arrived", func() bool { return len(readAlerts(t, out)) >= len(golden) })
				kafkatest.Eventually(t, 30*time.Second, "offsets not committed to the end", func() bool {
					return b.Committed(t, group, topic, 1)[0] == int64(len(msgs))
				})
				if code := r.stop(t); code != 0 {
					t.Fatalf("exit %d", code)
				}
				alerts := readAlerts(t, out)
				var lines []string
				for i, a := range alerts {
					lines = append(lines, a.line)
					if a.Origin.Topic != topic || a.Origin.Partition != 0 {
						t.Errorf("origin %+v", a.Origin)
					}
					// A file per message: the message's line is the file's line,
					// unless the file has one line (a message of one record).
					if i < len(goldenOrigins) {
						g := goldenOrigins[i]
						wantLine := int64(0)
						if whole && demoLines[g.Path] > 1 {
							wantLine = g.Line
						}
						if a.Origin.Line != wantLine {
							t.Errorf("alert %d: origin %+v, want Line %d", i, a.Origin, wantLine)
						}
					}
				}
				if got := withoutIDs(lines); !slices.Equal(got, golden) {
					t.Errorf("alerts differ from replay's golden\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(golden, "\n"))
				}
				rejData, err := os.ReadFile(rej)
				if err != nil {
					t.Fatal(err)
				}
				wantRej := fmt.Sprintf(`{"Origin":{"Topic":%q,"Partition":0,"Offset":5},"Reason":"not a CEF or JSON record"`, topic)
				if whole {
					wantRej = fmt.Sprintf(`{"Origin":{"Topic":%q,"Partition":0,"Offset":0,"Line":6},"Reason":"not a CEF or JSON record"`, topic)
				}
				if strings.Count(string(rejData), "\n") != 1 || !strings.HasPrefix(string(rejData), wantRej) {
					t.Errorf("rejects file:\n%s\nwant a line starting %s", rejData, wantRej)
				}
			})
		}
	}
}

// TestKafkaRedeliverySameIDs: a second group re-reading the topic gets the
// same alerts, AlertIds included.
func TestKafkaRedeliverySameIDs(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	produceHits(t, b, topic, 2, 50, 0)
	var runs [2][]string
	for i := range runs {
		out := filepath.Join(t.TempDir(), "alerts.jsonl")
		r := startConsume(t, b, "--topic", topic, "--group", kafkatest.Name(t, "g"), "--iocs", seed, "--out", out)
		kafkatest.Eventually(t, 30*time.Second, "not every alert arrived", func() bool { return len(readAlerts(t, out)) == 100 })
		r.stop(t)
		for _, a := range readAlerts(t, out) {
			runs[i] = append(runs[i], stableSetTime(a.line))
		}
		slices.Sort(runs[i])
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Errorf("the two groups' alerts differ")
	}
}

var assignedRE = regexp.MustCompile(`msg="partitions assigned" .*generation=(\d+) .*partitions="\[([0-9 ]*)\]"`)

// assignment returns the partitions the latest generation in a consume's
// log assigned to it, and the generation.
func assignment(stderr string) (gen string, parts []string) {
	for _, m := range assignedRE.FindAllStringSubmatch(stderr, -1) {
		gen, parts = m[1], strings.Fields(m[2])
	}
	return gen, parts
}

// TestKafkaScaleOut: two instances in one group split a 4-partition topic;
// when one leaves, the other takes its partitions over; together they emit
// every alert, without duplicates across the clean hand-over.
func TestKafkaScaleOut(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 4)
	group := kafkatest.Name(t, "g")
	dir := t.TempDir()
	outA, outB := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	a := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", outA)
	kafkatest.Eventually(t, 30*time.Second, "instance A did not join", func() bool { _, p := assignment(a.stderr.String()); return len(p) == 4 })
	bb := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", outB)
	kafkatest.Eventually(t, 30*time.Second, "the group did not split the partitions 2+2", func() bool {
		ga, pa := assignment(a.stderr.String())
		gb, pb := assignment(bb.stderr.String())
		return ga == gb && len(pa) == 2 && len(pb) == 2
	})
	produceHits(t, b, topic, 4, 100, 0)
	kafkatest.Eventually(t, 30*time.Second, "not every alert arrived", func() bool {
		return len(readAlerts(t, outA))+len(readAlerts(t, outB)) >= 400
	})
	alertsA, alertsB := readAlerts(t, outA), readAlerts(t, outB)
	partsOf := func(as []testAlert) map[int]bool {
		m := map[int]bool{}
		for _, a := range as {
			m[a.Origin.Partition] = true
		}
		return m
	}
	pa, pb := partsOf(alertsA), partsOf(alertsB)
	if len(pa) != 2 || len(pb) != 2 {
		t.Errorf("partitions with alerts: A %v, B %v; want two each", pa, pb)
	}
	if code := bb.stop(t); code != 0 {
		t.Errorf("B exited %d", code)
	}
	kafkatest.Eventually(t, 30*time.Second, "A did not take over all 4 partitions", func() bool { _, p := assignment(a.stderr.String()); return len(p) == 4 })
	produceHits(t, b, topic, 4, 100, 100)
	kafkatest.Eventually(t, 30*time.Second, "not every alert arrived after the take-over", func() bool {
		return len(uniqueIDs(append(readAlerts(t, outA), readAlerts(t, outB)...))) >= 800
	})
	if code := a.stop(t); code != 0 {
		t.Errorf("A exited %d", code)
	}
	all := append(readAlerts(t, outA), readAlerts(t, outB)...)
	if n := len(uniqueIDs(all)); n != 800 {
		t.Errorf("%d distinct alerts, want 800", n)
	}
	if d := len(all) - 800; d != 0 {
		t.Errorf("%d duplicates across a clean hand-over", d)
	}
	for p, off := range b.Committed(t, group, topic, 4) {
		if off != 200 {
			t.Errorf("partition %d committed at %d, want 200", p, off)
		}
	}
}

// TestKafkaRestartResumes: a stopped consumer restarted with the same group
// goes on from the committed offsets: nothing lost, nothing repeated.
func TestKafkaRestartResumes(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	args := []string{"--topic", topic, "--group", group, "--iocs", seed, "--out", out}
	produceHits(t, b, topic, 2, 150, 0)
	r := startConsume(t, b, args...)
	kafkatest.Eventually(t, 30*time.Second, "first run incomplete", func() bool { return len(readAlerts(t, out)) == 300 })
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	produceHits(t, b, topic, 2, 150, 150)
	r = startConsume(t, b, args...)
	kafkatest.Eventually(t, 30*time.Second, "second run incomplete", func() bool { return len(uniqueIDs(readAlerts(t, out))) == 600 })
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := len(readAlerts(t, out)); n != 600 {
		t.Errorf("%d alerts, want 600 (no duplicates after a clean stop)", n)
	}
	if got := b.Committed(t, group, topic, 2); got[0] != 300 || got[1] != 300 {
		t.Errorf("committed %v", got)
	}
}

// TestKafkaDrain stops a consumer in the middle of a backlog: it exits 0,
// and what it committed is exactly what it wrote — for every partition,
// the alerts of the messages below the committed offset, no more, no
// fewer.
func TestKafkaDrain(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 4)
	group := kafkatest.Name(t, "g")
	const perPartition, perMessage = 300, 200
	var msgs []kafkatest.Message
	for i := range perPartition {
		for p := range 4 {
			var m []byte
			for j := range perMessage {
				m = append(m, hitLine((i*4+p)*perMessage+j)...)
				m = append(m, '\n')
			}
			msgs = append(msgs, kafkatest.Message{Partition: p, Value: m})
		}
	}
	b.Produce(t, topic, 0, msgs...)
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--shutdown-timeout", "20s")
	kafkatest.Eventually(t, 30*time.Second, "no alert written", func() bool {
		fi, err := os.Stat(out)
		return err == nil && fi.Size() > 0
	})
	start := time.Now()
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("stopping took %v", d)
	}
	committed := b.Committed(t, group, topic, 4)
	seen := map[int]map[[2]int64]bool{}
	for _, a := range readAlerts(t, out) {
		p := a.Origin.Partition
		if seen[p] == nil {
			seen[p] = map[[2]int64]bool{}
		}
		k := [2]int64{a.Origin.Offset, a.Origin.Line}
		if seen[p][k] || a.Origin.Offset >= committed[p] || a.Origin.Line < 1 || a.Origin.Line > perMessage {
			t.Errorf("alert at %+v: duplicate or beyond the committed offset %d", a.Origin, committed[p])
		}
		seen[p][k] = true
	}
	total := 0
	for p := range 4 {
		if want := int(max(committed[p], 0)) * perMessage; len(seen[p]) != want {
			t.Errorf("partition %d: %d alerts, want %d for committed offset %d", p, len(seen[p]), want, committed[p])
		}
		total += len(seen[p])
	}
	t.Logf("stopped after %d of %d records", total, 4*perPartition*perMessage)
	if !strings.Contains(r.stderr.String(), "msg=stopped") {
		t.Errorf("no stop message:\n%s", r.stderr.String())
	}
}

// TestKafkaReload swaps the feed under a running consumer: records after
// the swap match the new indicators only and name the new set; a broken
// feed keeps the set in force.
func TestKafkaReload(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	dir := t.TempDir()
	feedPath, out := filepath.Join(dir, "feed.txt"), filepath.Join(dir, "alerts.jsonl")
	writeFile(t, feedPath, []byte("176.65.139.126\n"))
	r := startConsume(t, b, "--topic", topic, "--group", kafkatest.Name(t, "g"), "--iocs", feedPath, "--out", out,
		"--reload-interval", "20ms", "--metrics-addr", "127.0.0.1:0")
	lineFor := func(ip string, i int) []byte {
		return fmt.Appendf(nil, "CEF:0|V|FW|1|1|c|3|src=10.2.0.%d dst=%s dpt=80", i, ip)
	}
	produce := func(from int) {
		var msgs []kafkatest.Message
		for i := from; i < from+10; i++ {
			msgs = append(msgs, kafkatest.Message{Value: lineFor("176.65.139.126", i)}, kafkatest.Message{Value: lineFor("169.239.130.20", i)})
		}
		b.Produce(t, topic, 0, msgs...)
	}
	produce(0)
	kafkatest.Eventually(t, 30*time.Second, "first alerts missing", func() bool { return len(readAlerts(t, out)) == 10 })
	first := readAlerts(t, out)[0].IndicatorSet

	writeFile(t, feedPath, []byte("169.239.130.20\n"))
	kafkatest.Eventually(t, 30*time.Second, "no swap logged", func() bool { return strings.Contains(r.stderr.String(), "indicator set swapped") })
	produce(10)
	kafkatest.Eventually(t, 30*time.Second, "alerts after the swap missing", func() bool { return len(readAlerts(t, out)) == 20 })

	// A feed with nothing usable: the reload fails and the set stays.
	writeFile(t, feedPath, []byte("# emptied by mistake\n"))
	kafkatest.Eventually(t, 30*time.Second, "no failed reload logged", func() bool { return strings.Contains(r.stderr.String(), "reload failed") })
	produce(20)
	kafkatest.Eventually(t, 30*time.Second, "alerts after the failed reload missing", func() bool { return len(readAlerts(t, out)) == 30 })
	metrics := scrape(t, r, "/metrics")
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	alerts := readAlerts(t, out)
	second := alerts[10].IndicatorSet
	if first == second || first[:16] == second[:16] {
		t.Errorf("IndicatorSet did not change: %s, %s", first, second)
	}
	for i, a := range alerts {
		wantIP, wantSet := "176.65.139.126", first
		if i >= 10 {
			wantIP, wantSet = "169.239.130.20", second
		}
		if len(a.Indicators) != 1 || a.Indicators[0].Value != wantIP || a.IndicatorSet != wantSet {
			t.Errorf("alert %d: indicators %v, set %s; want %s from %s", i, a.Indicators, a.IndicatorSet, wantIP, wantSet)
		}
	}
	for _, want := range []string{`matchd_feed_reloads_total{result="ok"} 1`, `matchd_feed_reloads_total{result="failed"} 1`,
		`matchd_indicators{type="ip"} 1`, `matchd_indicator_set_info{version="` + second + `"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

var metricsAddrRE = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// scrape GETs path from the run's metrics listener.
func scrape(t *testing.T, r *consumeRun, path string) string {
	t.Helper()
	m := metricsAddrRE.FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Fatalf("no metrics address logged:\n%s", r.stderr.String())
	}
	resp, err := http.Get("http://" + m[1] + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return string(body)
}

// TestKafkaMetrics checks /healthz, /readyz and the consume counters.
func TestKafkaMetrics(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, 2, 100, 0)
	b.Produce(t, topic, 0, kafkatest.Message{Partition: 1, Value: []byte("garbage")})
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--metrics-addr", "127.0.0.1:0")
	kafkatest.Eventually(t, 30*time.Second, "not every alert arrived", func() bool { return len(readAlerts(t, out)) == 200 })
	kafkatest.Eventually(t, 30*time.Second, "offsets not committed", func() bool {
		c := b.Committed(t, group, topic, 2)
		return c[0] == 100 && c[1] == 101
	})
	if got := scrape(t, r, "/healthz"); got != "ok\n" {
		t.Errorf("/healthz: %q", got)
	}
	scrape(t, r, "/readyz")
	var body string
	kafkatest.Eventually(t, 10*time.Second, "counters incomplete", func() bool {
		body = scrape(t, r, "/metrics")
		return strings.Contains(body, `matchd_records_consumed_total{table="CommonSecurityLog"} 200`)
	})
	for _, want := range []string{
		`matchd_records_matched_total{table="CommonSecurityLog"} 200`,
		`matchd_records_rejected_total{table="unknown"} 1`,
		`matchd_alerts_emitted_total 200`,
		`matchd_consumer_lag{partition="0",topic="` + topic + `"} 0`,
		`matchd_indicators{type="ip:port"} 2`,
		`matchd_commits_total{result="ok"}`,
		`matchd_commit_duration_seconds_count`,
		`matchd_rebalances_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestKafkaDedup: a scanner hitting the C2 in one window is one alert and,
// at shutdown, one summary with the repeat count.
func TestKafkaDedup(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	var msgs []kafkatest.Message
	for i := range 100 {
		// One source, one C2, one second apart: all in one 1h window.
		msgs = append(msgs, kafkatest.Message{Value: fmt.Appendf(nil,
			"CEF:0|V|FW|1|1|c|3|rt=%d src=10.9.9.9 spt=%d dst=176.65.139.126 dpt=2701", 1780826400000+int64(i)*1000, 40000+i)})
	}
	b.Produce(t, topic, 0, msgs...)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--dedup-window", "1h")
	kafkatest.Eventually(t, 30*time.Second, "offsets not committed", func() bool { return b.Committed(t, group, topic, 1)[0] == 100 })
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	alerts := readAlerts(t, out)
	if len(alerts) != 2 || alerts[0].Repeats != 0 || alerts[1].Repeats != 99 || alerts[0].AlertId == alerts[1].AlertId {
		t.Fatalf("want the first alert and a summary with Repeats 99, got:\n%s", readFileString(t, out))
	}
	if !strings.Contains(alerts[1].line, `"WindowStart":"2026-06-07T10:00:00Z","WindowEnd":"2026-06-07T11:00:00Z"`) {
		t.Errorf("summary window: %s", alerts[1].line)
	}
}

func readFileString(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestKafkaTopicsOut sends alerts and raw rejects to topics, through
// injected produce and fetch faults.
func TestKafkaTopicsOut(t *testing.T) {
	b := kafkatest.Start(t)
	topic, alertsTopic, rejectsTopic := b.Topic(t, 2), b.Topic(t, 3), b.Topic(t, 1)
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, 2, 50, 0)
	b.Produce(t, topic, 0, kafkatest.Message{Partition: 1, Value: []byte("first\nCEF:0|x\nlast")})
	var produces atomic.Int32
	var fetchDropped atomic.Bool
	if b.Fake != nil {
		// matchd's first produce loses its connection, the next is refused
		// with a retriable error code; the first fetch loses its connection.
		b.Fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
			b.Fake.KeepControl()
			switch produces.Add(1) {
			case 1:
				return nil, errors.New("dropped"), true
			case 2:
				r := req.(*kmsg.ProduceRequest)
				resp := r.ResponseKind().(*kmsg.ProduceResponse)
				for _, rt := range r.Topics {
					st := kmsg.NewProduceResponseTopic()
					st.Topic = rt.Topic
					for _, rp := range rt.Partitions {
						sp := kmsg.NewProduceResponseTopicPartition()
						sp.Partition = rp.Partition
						sp.ErrorCode = kerr.NotEnoughReplicas.Code
						st.Partitions = append(st.Partitions, sp)
					}
					resp.Topics = append(resp.Topics, st)
				}
				return resp, nil, true
			}
			b.Fake.DropControl()
			return nil, nil, false
		})
		b.Fake.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
			fetchDropped.Store(true)
			return nil, errors.New("dropped"), true
		})
	}
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--alerts-topic", alertsTopic, "--rejects-topic", rejectsTopic)
	kafkatest.Eventually(t, 30*time.Second, "offsets not committed", func() bool {
		c := b.Committed(t, group, topic, 2)
		return c[0] == 50 && c[1] == 51
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if b.Fake != nil && (produces.Load() < 3 || !fetchDropped.Load()) {
		t.Errorf("faults not all injected: %d produces, fetch dropped %v", produces.Load(), fetchDropped.Load())
	}
	got := readTopic(t, b, alertsTopic, 3, 100)
	ids := map[string]bool{}
	for _, m := range got {
		var a testAlert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("alert message: %v: %s", err, m.Value)
		}
		if string(m.Key) != a.AlertId {
			t.Errorf("key %q, AlertId %q", m.Key, a.AlertId)
		}
		ids[a.AlertId] = true
	}
	if len(ids) != 100 {
		t.Errorf("%d distinct alerts in the alerts topic, want 100", len(ids))
	}
	rej := readTopic(t, b, rejectsTopic, 1, 3)
	wantRaw := []string{"first", "CEF:0|x", "last"}
	for i, m := range rej {
		h := map[string]string{}
		for _, kv := range m.Headers {
			h[kv.Key] = string(kv.Value)
		}
		if string(m.Value) != wantRaw[i] || h["matchd-topic"] != topic || h["matchd-partition"] != "1" || h["matchd-offset"] != "50" ||
			h["matchd-line"] != fmt.Sprint(i+1) || h["matchd-reason"] == "" {
			t.Errorf("reject %d: %q headers %v", i, m.Value, h)
		}
	}
}

// readTopic reads n messages from the topic's partitions.
func readTopic(t *testing.T, b *kafkatest.Broker, topic string, partitions, n int) []kafkago.Message {
	t.Helper()
	var out []kafkago.Message
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for p := range partitions {
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: b.Addrs, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		hw, err := highWatermark(ctx, b, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(0); i < hw; i++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("reading %s[%d]: %v", topic, p, err)
			}
			out = append(out, m)
		}
		r.Close()
	}
	if len(out) < n {
		t.Fatalf("%s holds %d messages, want at least %d", topic, len(out), n)
	}
	return out
}

func highWatermark(ctx context.Context, b *kafkatest.Broker, topic string, p int) (int64, error) {
	resp, err := b.Client().ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: {kafkago.LastOffsetOf(p)}}})
	if err != nil {
		return 0, err
	}
	for _, po := range resp.Topics[topic] {
		if po.Partition == p {
			return po.LastOffset, po.Error
		}
	}
	return 0, fmt.Errorf("no offset for %s[%d]", topic, p)
}

func TestConsumeUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no brokers", []string{"consume", "--topic", "t", "--group", "g", "--iocs", seed}, "no brokers"},
		{"no topic", []string{"consume", "--brokers", "h:1", "--group", "g", "--iocs", seed}, "no topic"},
		{"no group", []string{"consume", "--brokers", "h:1", "--topic", "t", "--iocs", seed}, "no consumer group"},
		{"no feed", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g"}, "no threat feed"},
		{"two outs", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--out", "x", "--alerts-topic", "a"}, "exclude each other"},
		{"bad sasl", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--sasl-mechanism", "GSSAPI", "--sasl-username", "u"}, "unknown SASL mechanism"},
		{"sasl without mechanism", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--sasl-username", "u"}, "need --sasl-mechanism"},
		{"bad log format", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--log-format", "xml"}, "--log-format"},
		{"missing CA", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--tls-ca", filepath.Join(dir, "nope.pem")}, "nope.pem"},
		{"bad dedup", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "--dedup-max-keys", "0"}, "--dedup-max-keys"},
		{"positional", []string{"consume", "--brokers", "h:1", "--topic", "t", "--group", "g", "--iocs", seed, "file.log"}, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runMatchd(t, "", c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", r.code, r.stderr, c.msg)
			}
		})
	}
}

// TestKafkaBrokerRestart restarts the real broker under a running
// consumer (with MATCHD_KAFKA_RESTART=1, which CI sets for the broker it
// started with scripts/kafka/kafka.sh): fetch, join and commit errors are
// retried until the broker is back, and no alert is lost.
func TestKafkaBrokerRestart(t *testing.T) {
	if !kafkatest.Real() || os.Getenv("MATCHD_KAFKA_RESTART") != "1" {
		t.Skip("needs a real broker that may be restarted: MATCHD_KAFKA_RESTART=1 with scripts/kafka/kafka.sh's broker")
	}
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	produceHits(t, b, topic, 2, 500, 0)
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out)
	kafkatest.Eventually(t, 30*time.Second, "first alerts missing", func() bool { return len(readAlerts(t, out)) == 1000 })
	cmd := exec.Command("../../scripts/kafka/kafka.sh", "restart")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kafka.sh restart: %v", err)
	}
	produceHits(t, b, topic, 2, 500, 500)
	kafkatest.Eventually(t, 90*time.Second, "alerts after the restart missing", func() bool { return len(uniqueIDs(readAlerts(t, out))) == 2000 })
	kafkatest.Eventually(t, 30*time.Second, "offsets not committed to the end", func() bool {
		c := b.Committed(t, group, topic, 2)
		return c[0] == 1000 && c[1] == 1000
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	t.Logf("%d duplicates after the restart", len(readAlerts(t, out))-2000)
}

// TestKafkaSIGHUP: with file polling off, SIGHUP reloads the feeds.
func TestKafkaSIGHUP(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	feedPath := filepath.Join(t.TempDir(), "feed.txt")
	writeFile(t, feedPath, []byte("176.65.139.126\n"))
	r := startConsume(t, b, "--topic", topic, "--group", kafkatest.Name(t, "g"), "--iocs", feedPath, "--reload-interval", "0")
	// runConsume listens for SIGHUP before it logs "consuming".
	kafkatest.Eventually(t, 30*time.Second, "consume did not start", func() bool { return strings.Contains(r.stderr.String(), "msg=consuming") })
	writeFile(t, feedPath, []byte("176.65.139.126\n169.239.130.20\n"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	kafkatest.Eventually(t, 30*time.Second, "no reload on SIGHUP", func() bool {
		return strings.Contains(r.stderr.String(), `msg="indicator set swapped" reason=SIGHUP`)
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
