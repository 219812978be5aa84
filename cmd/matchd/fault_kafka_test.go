package main

// Crash and fault tests of `matchd consume`: kill -9, broker restarts,
// alert sinks that fail, reload storms and SIGTERM under load. They run the
// matchd binary as a subprocess, so that it can be killed and signalled
// like the deployed daemon, against kfake or the real broker in
// MATCHD_KAFKA_BROKERS (see internal/kafkatest). Each prints its figures;
// docs/RELIABILITY.md records them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matchd/matchd/internal/kafkatest"
)

// buildMatchd builds the matchd binary into the test's temporary directory.
func buildMatchd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "matchd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// faultProc is one matchd subprocess.
type faultProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	code   int // valid once done is closed
}

// consumeArgs returns consume's arguments for brokers, with the test
// defaults of startConsume, then extra.
func consumeArgs(brokers []string, extra ...string) []string {
	return append([]string{"consume", "--brokers", strings.Join(brokers, ","),
		"--heartbeat-interval", "200ms", "--session-timeout", "10s", "--rebalance-timeout", "10s",
		"--fetch-max-wait", "100ms", "--metrics-addr", "", "--reload-interval", "0", "--workers", "2"}, extra...)
}

// startProc runs argv (a program and its arguments); the test's cleanup
// kills it if it still runs.
func startProc(t *testing.T, argv ...string) *faultProc {
	t.Helper()
	p := &faultProc{cmd: exec.Command(argv[0], argv[1:]...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode() // -1 when killed by a signal
		} else if err != nil {
			p.code = -2
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", argv[1:], p.stderr.String())
		}
	})
	return p
}

func (p *faultProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *faultProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("matchd did not exit within %v:\n%s", timeout, p.stderr.String())
	}
	return 0
}

func (p *faultProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// term sends SIGTERM once matchd listens for it (it logs "consuming"
// after installing its handlers; before that, SIGTERM would kill it).
func (p *faultProc) term(t *testing.T) {
	t.Helper()
	kafkatest.Eventually(t, 30*time.Second, "matchd did not start consuming", func() bool {
		return p.exited() || strings.Contains(p.stderr.String(), "msg=consuming")
	})
	p.signal(t, syscall.SIGTERM)
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *faultProc) kill9(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	p.wait(t, 30*time.Second)
}

// alertFile is an alerts file as the tests read it.
type alertFile struct {
	alerts []testAlert
	torn   int // lines that are not a whole JSON object
}

// readAlertFile reads every line of path; unlike readAlerts it goes on
// past a torn line and counts it (only the last line, being written, may
// be incomplete while matchd runs).
func readAlertFile(t *testing.T, path string) alertFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var f alertFile
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // being written
		}
		line := data[:i]
		data = data[i+1:]
		var a testAlert
		if err := json.Unmarshal(line, &a); err != nil || a.AlertId == "" {
			f.torn++
			continue
		}
		a.line = string(line)
		f.alerts = append(f.alerts, a)
	}
	return f
}

// countLines counts the complete lines in path.
func countLines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte{'\n'})
}

// multiLineMessages returns perPartition messages of lines hitLines for
// each of the partitions; every line alerts once.
func multiLineMessages(partitions, perPartition, lines int) []kafkatest.Message {
	var msgs []kafkatest.Message
	for i := range perPartition {
		for p := range partitions {
			var m []byte
			for j := range lines {
				m = append(m, hitLine(((i*partitions+p)*lines+j)%1000000)...)
				m = append(m, '\n')
			}
			msgs = append(msgs, kafkatest.Message{Partition: p, Value: m})
		}
	}
	return msgs
}

// originKey names a record: partition, offset, line.
type originKey struct {
	p    int
	off  int64
	line int64
}

func keyOf(a testAlert) originKey {
	return originKey{a.Origin.Partition, a.Origin.Offset, a.Origin.Line}
}

// committedAll polls until the group committed want on every partition.
func committedAll(t *testing.T, b *kafkatest.Broker, group, topic string, partitions int, want int64, timeout time.Duration) {
	t.Helper()
	var got []int64
	kafkatest.Eventually(t, timeout, "offsets not committed to the end", func() bool {
		got = b.Committed(t, group, topic, partitions)
		for _, c := range got {
			if c != want {
				return false
			}
		}
		return true
	})
}

// faultSeed returns the seed of the random choices, from
// MATCHD_FAULT_SEED or the clock; the test logs it to replay a run.
func faultSeed(t *testing.T) uint64 {
	if s := os.Getenv("MATCHD_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MATCHD_FAULT_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestKafkaKill9 kills matchd consume with SIGKILL at three random points
// of a backlog with a known alert set, restarting it with the same group
// each time. At the end every expected alert is in the file (no torn
// line), the offsets are committed to the end, no run writes a record
// below the offsets committed when it started, and the duplicates are the
// records written after the last commit before each kill: at most one
// batch per partition (--batch-bytes of message values, plus the message
// that crossed the bound), asserted per partition and kill.
func TestKafkaKill9(t *testing.T) {
	bin := buildMatchd(t)
	b := kafkatest.Start(t)
	const partitions, perPartition, lines, workers = 4, 750, 50, 1
	const total = partitions * perPartition * lines
	topic := b.Topic(t, partitions)
	msgs := multiLineMessages(partitions, perPartition, lines)
	size := map[[2]int64]int{} // partition, offset → message bytes
	next := make([]int64, partitions)
	inputBytes, largest := 0, 0
	for _, m := range msgs {
		size[[2]int64{int64(m.Partition), next[m.Partition]}] = len(m.Value)
		next[m.Partition]++
		inputBytes += len(m.Value)
		largest = max(largest, len(m.Value))
	}
	b.Produce(t, topic, 0, msgs...)
	dir := t.TempDir()
	group := kafkatest.Name(t, "g")
	out := filepath.Join(dir, "alerts.jsonl")
	// A killed member stays in the group until its session times out, so
	// each restart waits that long (6s: the brokers' minimum) to be assigned.
	const batchBytes = 256 << 10
	common := []string{"--topic", topic, "--iocs", seed, "--session-timeout", "6s", "--workers", strconv.Itoa(workers),
		"--batch-bytes", strconv.Itoa(batchBytes)}

	// The expected alerts: a clean run of another group.
	refOut := filepath.Join(dir, "ref.jsonl")
	refGroup := kafkatest.Name(t, "ref")
	ref := startProc(t, append([]string{bin}, consumeArgs(b.Addrs, append(common, "--group", refGroup, "--out", refOut)...)...)...)
	committedAll(t, b, refGroup, topic, partitions, perPartition, 60*time.Second)
	ref.term(t)
	if code := ref.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("reference run exited %d", code)
	}
	want := uniqueIDs(readAlertFile(t, refOut).alerts)
	if len(want) != total {
		t.Fatalf("reference run: %d alerts, want %d", len(want), total)
	}
	// The kill points are polled as file sizes (reading the file to count
	// its lines would be too slow to land them where they are meant to).
	fi, err := os.Stat(refOut)
	if err != nil {
		t.Fatal(err)
	}
	lineBytes := float64(fi.Size()) / total
	fileSize := func() int64 {
		fi, err := os.Stat(out)
		if err != nil {
			return 0
		}
		return fi.Size()
	}

	s := faultSeed(t)
	rng := rand.New(rand.NewPCG(s, 0))
	var points []float64 // how far into what is left to commit each kill lands
	for range 3 {
		points = append(points, 0.1+0.5*rng.Float64())
	}
	t.Logf("seed %d (MATCHD_FAULT_SEED replays it): kills at %.2f, %.2f, %.2f of the records not committed yet", s, points[0], points[1], points[2])

	argv := append([]string{bin}, consumeArgs(b.Addrs, append(common, "--group", group, "--out", out)...)...)
	type kill struct {
		lines     int     // lines in the file when the process was gone
		committed []int64 // offsets committed then
	}
	var kills []kill
	restarts := 0
	for i, frac := range points {
		left := total
		for _, c := range b.Committed(t, group, topic, partitions) {
			left -= int(max(c, 0)) * lines
		}
		n := int64(max(frac*float64(left), 1) * lineBytes)
		before := fileSize()
		p := startProc(t, argv...)
		if i > 0 {
			restarts++
		}
		kafkatest.Eventually(t, 60*time.Second, "matchd did not reach the kill point", func() bool {
			if p.exited() {
				t.Fatalf("matchd exited %d before the kill point:\n%s", p.code, p.stderr.String())
			}
			return fileSize()-before >= n
		})
		p.kill9(t)
		k := kill{lines: countLines(out), committed: b.Committed(t, group, topic, partitions)}
		kills = append(kills, k)
		t.Logf("kill %d at %d alert lines in the file; committed %v of %d", i+1, k.lines, k.committed, perPartition)
	}
	p := startProc(t, argv...)
	restarts++
	committedAll(t, b, group, topic, partitions, perPartition, 60*time.Second)
	p.term(t)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("last run exited %d", code)
	}

	f := readAlertFile(t, out)
	if f.torn > 0 {
		t.Errorf("%d torn lines in the alerts file", f.torn)
	}
	seen := map[string]int{}
	for _, a := range f.alerts {
		seen[a.AlertId]++
	}
	missing, unexpected := 0, 0
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	for id := range seen {
		if !want[id] {
			unexpected++
		}
	}
	dups := len(f.alerts) - len(seen)
	if missing > 0 || unexpected > 0 {
		t.Errorf("%d expected alerts missing, %d unexpected", missing, unexpected)
	}

	// Where the duplicates come from. Run r (r ≥ 1) starts at the offsets
	// committed when run r-1 was killed and must write nothing below them;
	// a killed run's lines at or past the offsets committed at its kill
	// are what the next run delivers again.
	bound := batchBytes + largest // per partition
	maxPast, pastLines := 0, 0
	start := 0
	// A line's position in the file no longer matches the kill counts if
	// the restart dropped a torn line; alerts are whole lines, so count
	// them: the lines a run wrote are those after the previous kill's.
	for r := 0; r <= len(kills); r++ {
		end := len(f.alerts)
		if r < len(kills) {
			end = min(kills[r].lines, len(f.alerts))
		}
		if start > end {
			start = end
		}
		pastBytes := make([]int, partitions)
		past := map[[2]int64]bool{}
		for _, a := range f.alerts[start:end] {
			if r > 0 && a.Origin.Offset < kills[r-1].committed[a.Origin.Partition] {
				t.Errorf("run %d wrote %+v, below the offset %d committed before it started", r+1, a.Origin, kills[r-1].committed[a.Origin.Partition])
			}
			if r < len(kills) && a.Origin.Offset >= kills[r].committed[a.Origin.Partition] {
				pastLines++
				k := [2]int64{int64(a.Origin.Partition), a.Origin.Offset}
				if !past[k] {
					past[k] = true
					pastBytes[a.Origin.Partition] += size[k]
				}
			}
		}
		for p, n := range pastBytes {
			if n > bound {
				t.Errorf("kill %d: partition %d: %d input bytes written past the commit; the bound is one batch, %d", r+1, p, n, bound)
			}
			maxPast = max(maxPast, n)
		}
		start = end
	}
	if dups > pastLines {
		t.Errorf("%d duplicates, but only %d alerts were written past a commit", dups, pastLines)
	}
	t.Logf("records %d (%.1f MiB), alerts expected %d / seen %d (distinct), duplicates %d, restarts %d; "+
		"at most %d bytes of one partition's input written past its commit at a kill (bound: one batch, %d bytes)",
		total, float64(inputBytes)/(1<<20), len(want), len(seen), dups, restarts, maxPast, bound)
}

// TestKafkaBrokerStopStart stops the real broker process while matchd
// works through a backlog, keeps it down until matchd has noticed, and
// starts it again: matchd recovers by itself and loses nothing.
// (TestKafkaBrokerRestart restarts the broker between two bursts.)
func TestKafkaBrokerStopStart(t *testing.T) {
	if !kafkatest.Real() || os.Getenv("MATCHD_KAFKA_RESTART") != "1" {
		t.Skip("needs a real broker that may be stopped and started: MATCHD_KAFKA_RESTART=1 with scripts/kafka/kafka.sh's broker (kfake cannot restart)")
	}
	bin := buildMatchd(t)
	b := kafkatest.Start(t)
	const partitions, perPartition, lines = 4, 300, 100
	const total = partitions * perPartition * lines
	const batchBytes = 256 << 10
	topic := b.Topic(t, partitions)
	msgs := multiLineMessages(partitions, perPartition, lines)
	largest := 0
	size := map[[2]int64]int{} // partition, offset → message bytes
	next := make([]int64, partitions)
	for _, m := range msgs {
		largest = max(largest, len(m.Value))
		size[[2]int64{int64(m.Partition), next[m.Partition]}] = len(m.Value)
		next[m.Partition]++
	}
	b.Produce(t, topic, 0, msgs...)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	p := startProc(t, append([]string{bin}, consumeArgs(b.Addrs, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--workers", "1",
		"--batch-bytes", strconv.Itoa(batchBytes))...)...)
	kafkatest.Eventually(t, 60*time.Second, "no alert before the stop", func() bool { return countLines(out) > 0 })
	kafkaSh := func(args ...string) {
		cmd := exec.Command("../../scripts/kafka/kafka.sh", args...)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kafka.sh %v: %v", args, err)
		}
	}
	// Start it again as it runs now: same ports, TLS and SASL listeners
	// included.
	status, err := exec.Command("../../scripts/kafka/kafka.sh", "status").Output()
	if err != nil {
		t.Fatalf("kafka.sh status: %v", err)
	}
	startArgs := []string{"start"}
	for _, ln := range strings.Fields(string(status)) {
		k, v, _ := strings.Cut(ln, "=")
		_, port, _ := strings.Cut(v, ":")
		switch k {
		case "MATCHD_KAFKA_BROKERS":
			startArgs = append(startArgs, "--port", port)
		case "MATCHD_KAFKA_TLS_BROKERS":
			startArgs = append(startArgs, "--tls-port", port)
		case "MATCHD_KAFKA_SASL_BROKERS":
			startArgs = append(startArgs, "--sasl-port", port)
		case "MATCHD_KAFKA_SASL_SSL_BROKERS":
			startArgs = append(startArgs, "--sasl-ssl-port", port)
		}
	}
	atStop := countLines(out)
	retries := strings.Count(p.stderr.String(), "retrying")
	stopping := time.Now()
	kafkaSh("stop")
	kafkatest.Eventually(t, 60*time.Second, "matchd did not notice the broker was gone", func() bool {
		return strings.Count(p.stderr.String(), "retrying") > retries
	})
	kafkaSh(startArgs...)
	down := time.Since(stopping) // from the stop command to the restarted broker answering
	// The broker restarted: drop the connections the test's own clients
	// pooled to the old process.
	kafkago.DefaultTransport.(*kafkago.Transport).CloseIdleConnections()
	committedAll(t, b, group, topic, partitions, perPartition, 120*time.Second)
	p.term(t)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	f := readAlertFile(t, out)
	seen := uniqueIDs(f.alerts)
	if len(seen) != total || f.torn > 0 {
		t.Errorf("%d distinct alerts, want %d; %d torn lines", len(seen), total, f.torn)
	}
	// One outage re-delivers at most one batch per partition: the messages
	// with a duplicated alert, per partition, fit one batch.
	count := map[string]int{}
	for _, a := range f.alerts {
		count[a.AlertId]++
	}
	again := make([]map[int64]bool, partitions)
	for i := range again {
		again[i] = map[int64]bool{}
	}
	for _, a := range f.alerts {
		if count[a.AlertId] > 1 {
			again[a.Origin.Partition][a.Origin.Offset] = true
		}
	}
	maxAgain := 0
	for part, offs := range again {
		n := 0
		for off := range offs {
			n += size[[2]int64{int64(part), off}]
		}
		if n > batchBytes+largest {
			t.Errorf("partition %d: %d messages (%d bytes) delivered again; the bound is one batch, %d bytes", part, len(offs), n, batchBytes+largest)
		}
		maxAgain = max(maxAgain, n)
	}
	t.Logf("records %d; broker stopped at %d alerts, down %v (stop to ready); matchd logged %d retries; alerts seen %d (distinct), duplicates %d (at most %d bytes of one partition's input delivered again; bound: one batch, %d bytes); matchd never restarted",
		total, atStop, down.Round(time.Millisecond), strings.Count(p.stderr.String(), "retrying")-retries, len(seen), len(f.alerts)-len(seen), maxAgain, batchBytes+largest)
}

// TestKafkaAlertsTopicUnavailable: the alerts topic does not exist (auto
// creation off) while matchd consumes: nothing is committed; once the
// topic is created, every alert reaches it and the offsets reach the end.
func TestKafkaAlertsTopicUnavailable(t *testing.T) {
	b := kafkatest.Start(t)
	const partitions, perPartition = 2, 200
	topic := b.Topic(t, partitions)
	alertsTopic := kafkatest.Name(t, "alerts")
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, partitions, perPartition, 0)
	r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--alerts-topic", alertsTopic)
	kafkatest.Eventually(t, 60*time.Second, "no failed produce logged", func() bool {
		s := r.stderr.String()
		return strings.Contains(s, "commit failed, retrying") || strings.Contains(s, "producing to the topic failed")
	})
	// The pipeline has read the whole backlog by now; give the committer
	// a few of its retries, then check it committed nothing.
	kafkatest.Eventually(t, 30*time.Second, "too few retries", func() bool {
		return strings.Count(r.stderr.String(), "commit failed, retrying") >= 2
	})
	if c := b.Committed(t, group, topic, partitions); c[0] != -1 || c[1] != -1 {
		t.Fatalf("committed %v while no alert could be produced", c)
	}
	b.CreateTopic(t, alertsTopic, 2)
	committedAll(t, b, group, topic, partitions, perPartition, 90*time.Second)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	ids := map[string]bool{}
	msgs := readTopic(t, b, alertsTopic, 2, partitions*perPartition)
	for _, m := range msgs {
		var a testAlert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("alert message: %v: %s", err, m.Value)
		}
		ids[a.AlertId] = true
	}
	if len(ids) != partitions*perPartition {
		t.Errorf("%d distinct alerts in the alerts topic, want %d", len(ids), partitions*perPartition)
	}
	t.Logf("records %d; alerts topic missing: %d failed commits, nothing committed; created: alerts %d distinct of %d messages, offsets at the end",
		partitions*perPartition, strings.Count(r.stderr.String(), "commit failed, retrying"),
		len(ids), len(msgs))
}

// TestKafkaDiskFull gives matchd a file-size limit (RLIMIT_FSIZE, set and
// lifted with prlimit; Go programs ignore SIGXFSZ, so write returns EFBIG)
// and fills it, twice:
//
//  1. records arrive in rounds, each committed before the next; the
//     limit is hit when a sync flushes: matchd keeps running and commits
//     nothing more; once the limit is lifted, it resumes by itself;
//  2. a backlog whose alerts overflow the write buffer under a new limit:
//     the pipeline's write fails and matchd exits 1; restarted with room,
//     it delivers the rest.
//
// Each time, every record below a committed offset has its alert in the
// file, and at the end every alert is there, whole, and the offsets are
// at the end.
func TestKafkaDiskFull(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not found")
	}
	bin := buildMatchd(t)
	b := kafkatest.Start(t)
	const partitions, round = 2, 50
	const limit = 256 << 10 // about 370 alerts
	topic := b.Topic(t, partitions)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	setLimit := func(pid int, n string) {
		if o, err := exec.Command(prlimit, "--pid", strconv.Itoa(pid), "--fsize="+n+":unlimited").CombinedOutput(); err != nil {
			t.Fatalf("prlimit: %v: %s", err, o)
		}
	}
	// Every record below a committed offset has its alert in the file.
	checkCommitted := func(phase string) []int64 {
		committed := b.Committed(t, group, topic, partitions)
		have := map[originKey]bool{}
		for _, a := range readAlertFile(t, out).alerts {
			have[keyOf(a)] = true
		}
		for part, c := range committed {
			for off := int64(0); off < c; off++ {
				if !have[originKey{part, off, 0}] {
					t.Errorf("%s: partition %d offset %d is below the committed %d, but its alert is not in the file", phase, part, off, c)
					break
				}
			}
		}
		return committed
	}
	args := consumeArgs(b.Addrs, "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--commit-timeout", "1s")
	p := startProc(t, append([]string{prlimit, fmt.Sprintf("--fsize=%d:unlimited", limit), bin}, args...)...)

	// Phase 1.
	perPartition := 0
	for {
		if perPartition > 40*round {
			t.Fatalf("no sync failed with %d alerts in a file limited to %d bytes", countLines(out), limit)
		}
		produceHits(t, b, topic, partitions, round, perPartition)
		perPartition += round
		var c []int64
		kafkatest.Eventually(t, 60*time.Second, "round neither committed nor failed", func() bool {
			c = b.Committed(t, group, topic, partitions)
			return p.exited() || strings.Contains(p.stderr.String(), "file too large") ||
				c[0] == int64(perPartition) && c[1] == int64(perPartition)
		})
		if p.exited() {
			t.Fatalf("matchd exited %d when a sync failed", p.code)
		}
		if strings.Contains(p.stderr.String(), "file too large") {
			break
		}
	}
	fi, _ := os.Stat(out)
	kafkatest.Eventually(t, 30*time.Second, "no retried commit", func() bool { return strings.Count(p.stderr.String(), "file too large") >= 3 })
	stuck := checkCommitted("disk full")
	if stuck[0] == int64(perPartition) && stuck[1] == int64(perPartition) {
		t.Errorf("committed %v, the end, with the disk full", stuck)
	}
	setLimit(p.cmd.Process.Pid, "unlimited")
	committedAll(t, b, group, topic, partitions, int64(perPartition), 60*time.Second)
	phase1 := perPartition * partitions
	t.Logf("phase 1: disk full at %d bytes after %d records; %d failed syncs, committed %v, still running; limit lifted: resumed, committed to %d",
		fi.Size(), phase1, strings.Count(p.stderr.String(), "file too large"), stuck, perPartition)

	// Phase 2.
	fi, _ = os.Stat(out)
	setLimit(p.cmd.Process.Pid, strconv.FormatInt(fi.Size()+limit, 10))
	const backlog = 1500
	produceHits(t, b, topic, partitions, backlog, perPartition)
	perPartition += backlog
	total := partitions * perPartition
	if code := p.wait(t, 60*time.Second); code != 1 {
		t.Errorf("with the disk full under a backlog: exit %d, want 1", code)
	}
	full := readAlertFile(t, out)
	fi, _ = os.Stat(out)
	committed := checkCommitted("exit 1")
	t.Logf("phase 2: %d records more; disk full at %d bytes: exit 1 with %d alerts written, committed %v", partitions*backlog, fi.Size(), len(full.alerts), committed)

	p = startProc(t, append([]string{bin}, args...)...)
	committedAll(t, b, group, topic, partitions, int64(perPartition), 60*time.Second)
	p.term(t)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("after the disk was freed: exit %d", code)
	}
	f := readAlertFile(t, out)
	seen := uniqueIDs(f.alerts)
	if len(seen) != total {
		t.Errorf("%d distinct alerts, want %d", len(seen), total)
	}
	if f.torn > 0 {
		t.Errorf("%d torn lines in the alerts file", f.torn)
	}
	t.Logf("records %d; at the end: alerts seen %d (distinct), duplicates %d, torn lines %d, offsets at the end",
		total, len(seen), len(f.alerts)-len(seen), f.torn)
}

var reloadLogRE = regexp.MustCompile(`msg="(indicator set swapped|reload failed; the indicator set in force stays|feeds reloaded, indicators unchanged)"`)

// TestKafkaReloadStorm reloads the feed 100 times (SIGHUP and file
// rewrites, every fifth a broken feed) while matchd consumes a stream of
// records that each hit both feeds' indicators: every record gets exactly
// one alert, matched against a whole set that was in force (one of the
// two good feeds), the broken feeds are rejected with the set in force
// kept, and the final feed is in force afterwards.
func TestKafkaReloadStorm(t *testing.T) {
	bin := buildMatchd(t)
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")
	dir := t.TempDir()
	feed, out := filepath.Join(dir, "feed.txt"), filepath.Join(dir, "alerts.jsonl")
	const ipA, ipB = "176.65.139.126", "169.239.130.20"
	// The watch sees a change of size or modification time. The two good
	// feeds have one size, and the file system's clock ticks every few
	// milliseconds, so each version gets a modification time of its own,
	// a second after the last, as feeds written minutes apart would.
	stamp := time.Now().Add(-time.Hour)
	writeFeed := func(content string) { // atomically, as a deployment should
		tmp := feed + ".tmp"
		writeFile(t, tmp, []byte(content))
		stamp = stamp.Add(time.Second)
		if err := os.Chtimes(tmp, stamp, stamp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, feed); err != nil {
			t.Fatal(err)
		}
	}
	writeFeed(ipA + "\n")
	p := startProc(t, append([]string{bin}, consumeArgs(b.Addrs, "--topic", topic, "--group", group, "--iocs", feed, "--out", out,
		"--reload-interval", "5ms", "--metrics-addr", "127.0.0.1:0")...)...)
	kafkatest.Eventually(t, 30*time.Second, "consume did not start", func() bool { return strings.Contains(p.stderr.String(), "msg=consuming") })

	// Records hit A on the source and B on the destination.
	produced := 0
	produce := func(n int) {
		var msgs []kafkatest.Message
		for i := produced; i < produced+n; i++ {
			msgs = append(msgs, kafkatest.Message{Partition: i % 2, Value: fmt.Appendf(nil,
				"CEF:0|V|FW|1|1|c|3|rt=%d src=%s spt=%d dst=%s dpt=80", 1780826400000+int64(i)*1000, ipA, 1024+i%60000, ipB)})
		}
		b.Produce(t, topic, 0, msgs...)
		produced += n
	}
	reloads := func() int { return len(reloadLogRE.FindAllString(p.stderr.String(), -1)) }
	const storm = 100
	broken := 0
	for i := range storm {
		before := reloads()
		switch {
		case i%5 == 4:
			writeFeed("# emptied by mistake\n")
			broken++
		case i%2 == 0:
			writeFeed(ipB + "\n")
		default:
			writeFeed(ipA + "\n")
		}
		if i%2 == 1 {
			p.signal(t, syscall.SIGHUP) // besides the file watch
		}
		produce(20)
		kafkatest.Eventually(t, 30*time.Second, fmt.Sprintf("reload %d not logged", i+1), func() bool { return reloads() > before })
	}
	writeFeed(ipA + "\n" + ipB + "\n")
	p.signal(t, syscall.SIGHUP)
	kafkatest.Eventually(t, 30*time.Second, "final feed not in force", func() bool {
		m := regexp.MustCompile(`msg="indicator set swapped" .*`).FindAllString(p.stderr.String(), -1)
		return len(m) > 0 && strings.Contains(m[len(m)-1], "indicators=2")
	})
	final := produced
	produce(100)
	committedAll(t, b, group, topic, 2, int64(produced/2), 60*time.Second)
	metrics := scrapeProc(t, p)
	p.term(t)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}

	f := readAlertFile(t, out)
	if len(f.alerts) != produced || f.torn > 0 {
		t.Errorf("%d alerts (%d torn lines) for %d records; want one each", len(f.alerts), f.torn, produced)
	}
	setIP := map[string]string{} // set hash → the indicator it holds
	byOrigin := map[originKey]bool{}
	var finalSet string
	for _, a := range f.alerts {
		byOrigin[keyOf(a)] = true
		hash, _, _ := strings.Cut(a.IndicatorSet, "@")
		var ips []string
		for _, in := range a.Indicators {
			ips = append(ips, in.Value)
		}
		slices.Sort(ips)
		got := strings.Join(ips, ",")
		if prev, ok := setIP[hash]; ok && prev != got {
			t.Errorf("set %s matched %s and %s", hash, prev, got)
		}
		setIP[hash] = got
		if got != ipA && got != ipB && got != ipB+","+ipA {
			t.Errorf("alert at %+v matched %s", a.Origin, got)
		}
		idx := int(a.Origin.Offset)*2 + a.Origin.Partition
		if idx >= final && got != ipB+","+ipA {
			t.Errorf("record %d, after the final reload, matched %s with set %s", idx, got, a.IndicatorSet)
		}
		if got == ipB+","+ipA {
			finalSet = a.IndicatorSet
		}
	}
	if len(byOrigin) != produced {
		t.Errorf("%d records alerted, want %d", len(byOrigin), produced)
	}
	if len(setIP) != 3 {
		t.Errorf("%d distinct sets in the alerts, want 3 (A, B, final): %v", len(setIP), setIP)
	}
	okReloads := strings.Count(p.stderr.String(), `msg="indicator set swapped"`)
	failed := strings.Count(p.stderr.String(), `msg="reload failed; the indicator set in force stays"`)
	if failed < broken {
		t.Errorf("%d failed reloads logged, want at least %d", failed, broken)
	}
	for _, w := range []string{`matchd_feed_reloads_total{result="failed"} ` + strconv.Itoa(failed),
		`matchd_indicator_set_info{version="` + finalSet + `"} 1`, `matchd_indicators{type="ip"} 2`} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	t.Logf("records %d, alerts %d (one each); reload attempts %d (%d swapped, %d broken feeds rejected, %d unchanged), %d distinct sets; final set %s in force",
		produced, len(f.alerts), reloads(), okReloads, failed, reloads()-okReloads-failed, len(setIP), finalSet)
}

// scrapeProc GETs /metrics from a matchd subprocess.
func scrapeProc(t *testing.T, p *faultProc) string {
	t.Helper()
	return scrape(t, &consumeRun{stderr: p.stderr}, "/metrics")
}

// TestKafkaSIGTERMUnderLoad sends SIGTERM to matchd in the middle of a
// backlog of multi-record messages: it exits 0 within --shutdown-timeout,
// what it committed is exactly what it wrote, and a restart delivers the
// rest without a duplicate.
func TestKafkaSIGTERMUnderLoad(t *testing.T) {
	bin := buildMatchd(t)
	b := kafkatest.Start(t)
	const partitions, perPartition, lines = 4, 300, 100
	const total = partitions * perPartition * lines
	topic := b.Topic(t, partitions)
	b.Produce(t, topic, 0, multiLineMessages(partitions, perPartition, lines)...)
	group := kafkatest.Name(t, "g")
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	const timeout = 20 * time.Second
	argv := append([]string{bin}, consumeArgs(b.Addrs, "--topic", topic, "--group", group, "--iocs", seed, "--out", out,
		"--shutdown-timeout", timeout.String())...)
	p := startProc(t, argv...)
	kafkatest.Eventually(t, 60*time.Second, "no alert written", func() bool { return countLines(out) > 0 })
	atTerm := countLines(out)
	start := time.Now()
	p.term(t)
	code := p.wait(t, timeout+10*time.Second)
	took := time.Since(start)
	if code != 0 || took > timeout {
		t.Fatalf("exit %d after %v; want 0 within %v", code, took, timeout)
	}
	committed := b.Committed(t, group, topic, partitions)
	first := readAlertFile(t, out)
	perPart := map[int]map[originKey]bool{}
	for _, a := range first.alerts {
		k := keyOf(a)
		if perPart[k.p] == nil {
			perPart[k.p] = map[originKey]bool{}
		}
		if perPart[k.p][k] || a.Origin.Offset >= committed[k.p] {
			t.Errorf("alert at %+v: duplicate or beyond the committed offset %d", a.Origin, committed[k.p])
		}
		perPart[k.p][k] = true
	}
	done := 0
	for part := range partitions {
		if want := int(max(committed[part], 0)) * lines; len(perPart[part]) != want {
			t.Errorf("partition %d: %d alerts, want %d for committed offset %d", part, len(perPart[part]), want, committed[part])
		}
		done += len(perPart[part])
	}
	if done == total {
		t.Logf("SIGTERM landed after the backlog was done; the check is weaker")
	}
	p = startProc(t, argv...)
	committedAll(t, b, group, topic, partitions, perPartition, 60*time.Second)
	p.term(t)
	if code := p.wait(t, timeout+10*time.Second); code != 0 {
		t.Fatalf("second run: exit %d", code)
	}
	f := readAlertFile(t, out)
	seen := uniqueIDs(f.alerts)
	if len(seen) != total || len(f.alerts) != total || f.torn > 0 {
		t.Errorf("%d alerts, %d distinct, %d torn; want %d, no duplicates", len(f.alerts), len(seen), f.torn, total)
	}
	t.Logf("records %d; SIGTERM at %d alerts written, exit 0 after %v (timeout %v), %d records committed and written; after the restart alerts %d distinct, duplicates %d",
		total, atTerm, took.Round(time.Millisecond), timeout, done, len(seen), len(f.alerts)-len(seen))
}

// TestKafkaTLSBroker consumes over TLS from the real broker's TLS listener
// (scripts/kafka/kafka.sh start --tls prints MATCHD_KAFKA_TLS_BROKERS and
// MATCHD_KAFKA_CA_PEM); the test produces over plaintext.
func TestKafkaTLSBroker(t *testing.T) {
	addr, ca := os.Getenv("MATCHD_KAFKA_TLS_BROKERS"), os.Getenv("MATCHD_KAFKA_CA_PEM")
	if !kafkatest.Real() || addr == "" || ca == "" {
		t.Skip("needs the real broker's TLS listener: MATCHD_KAFKA_TLS_BROKERS and MATCHD_KAFKA_CA_PEM from kafka.sh start --tls (TestKafkaSASLTLS covers TLS on kfake)")
	}
	b := kafkatest.Start(t)
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, 2, 100, 0)
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	stderr := &lockedBuffer{}
	go func() {
		code <- run(ctx, consumeArgs(strings.Split(addr, ","), "--topic", topic, "--group", group, "--iocs", seed, "--out", out, "--tls-ca", ca),
			strings.NewReader(""), &lockedBuffer{}, stderr)
	}()
	defer func() {
		cancel()
		<-code
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	}()
	committedAll(t, b, group, topic, 2, 100, 60*time.Second)
	if n := len(uniqueIDs(readAlertFile(t, out).alerts)); n != 200 {
		t.Errorf("%d alerts over TLS, want 200", n)
	}
	t.Logf("records 200 consumed over TLS from %s, alerts 200, offsets at the end", addr)
}
