// Command kafka times `matchd consume` against `kcat -C` on a real Kafka
// broker: it produces the bench corpus into a fresh topic with kcat, then,
// in turns, drains the topic with `kcat -C -e -o beginning` to /dev/null
// and with `matchd consume` (alerts to a file, matching on) until matchd's
// metrics show every record consumed, and prints both rates and their
// ratio. See bench/kafka/README.md.
//
//	go run ./bench/kafka [-brokers HOST:PORT] [-records N] [-partitions N] [-runs N]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matchd/matchd/bench/gen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	brokers    string
	records    int
	partitions int
	runs       int
	dir        string
	matchd     string
	target     float64
	keep       bool
	poll       time.Duration
	verbose    bool
	topic      string
	args       string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench/kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.brokers, "brokers", os.Getenv("MATCHD_KAFKA_BROKERS"), "broker `HOST:PORT` (default $MATCHD_KAFKA_BROKERS)")
	fs.IntVar(&o.records, "records", 500_000, "records in the corpus (one message each)")
	fs.IntVar(&o.partitions, "partitions", 4, "partitions of the topic")
	fs.IntVar(&o.runs, "runs", 3, "timed runs per tool; the median counts")
	fs.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "matchd-bench-kafka"), "corpus `DIR`")
	fs.StringVar(&o.matchd, "matchd", "", "time this matchd binary (default: build ./cmd/matchd)")
	fs.Float64Var(&o.target, "target", 0.8, "exit 1 when matchd's records/s are below `X` times kcat's")
	fs.BoolVar(&o.keep, "keep-topic", false, "do not delete the topic at the end")
	fs.DurationVar(&o.poll, "poll", 5*time.Millisecond, "how often matchd's /metrics are read to see it reach the end")
	fs.StringVar(&o.topic, "topic", "", "time this existing `TOPIC` (holding the corpus of -records and -partitions, e.g. left by -keep-topic) instead of producing a new one")
	fs.StringVar(&o.args, "args", "", "extra `FLAGS` for matchd consume, space-separated (e.g. \"--batch-bytes 4MiB\")")
	fs.BoolVar(&o.verbose, "v", false, "print matchd's logs (info level) after each run")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.brokers == "" {
		fmt.Fprintln(stderr, "bench/kafka: no broker: give -brokers or set MATCHD_KAFKA_BROKERS (scripts/kafka/kafka.sh start prints it)")
		return 2
	}
	if _, err := exec.LookPath("kcat"); err != nil {
		fmt.Fprintln(stderr, "bench/kafka: kcat is not installed (Debian: apt-get install kcat)")
		return 2
	}
	if err := bench(o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "bench/kafka: %v\n", err)
		return 1
	}
	return 0
}

func bench(o options, stdout, stderr io.Writer) error {
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench/kafka: "+format+"\n", a...) }

	// The corpus: the mixed bench corpus at the short sizes of bench/run.sh.
	cfg := gen.DefaultConfig(gen.Mixed)
	cfg.Dir, cfg.Records = o.dir, o.records
	cfg.URLs, cfg.IPs, cfg.CIDRs, cfg.Domains, cfg.Hashes = 10_000, 100_000, 1_000, 1_000, 1_000
	exp, err := gen.ReadExpected(o.dir)
	if err != nil || exp.Config.Records != cfg.Records || exp.Config.URLs != cfg.URLs || exp.Config.IPs != cfg.IPs {
		logf("generating %d records into %s", o.records, o.dir)
		if exp, err = gen.Generate(cfg); err != nil {
			return err
		}
	}

	matchd := o.matchd
	if matchd == "" {
		matchd = filepath.Join(o.dir, "matchd")
		logf("building ./cmd/matchd")
		b := exec.Command("go", "build", "-o", matchd, "./cmd/matchd")
		b.Stdout, b.Stderr = stderr, stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}

	brokers := strings.Split(o.brokers, ",")
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 30 * time.Second}
	ctx := context.Background()
	topic := o.topic
	if topic == "" {
		var err error
		topic, err = produce(ctx, o, cl, exp, stderr, logf)
		if topic != "" && !o.keep {
			defer cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: []string{topic}})
		}
		if err != nil {
			return err
		}
	}
	n, err := messages(ctx, cl, topic, o.partitions)
	if err != nil {
		return err
	}
	if n != int64(exp.Records) {
		return fmt.Errorf("the topic holds %d messages, want %d", n, exp.Records)
	}
	var feeds []string
	for _, f := range exp.Feeds {
		feeds = append(feeds, "--iocs", filepath.Join(o.dir, f))
	}
	var kcatTimes, matchdTimes, kcatCPU, matchdCPU []time.Duration
	for i := range o.runs + 1 { // run 0 warms the page cache and is not counted
		d, dc, err := timeKcat(o.brokers, topic)
		if err != nil {
			return err
		}
		m, mc, err := timeMatchd(o, matchd, topic, feeds, exp, filepath.Join(o.dir, "alerts.jsonl"), stderr)
		if err != nil {
			return err
		}
		logf("run %d: kcat %.2fs (cpu %.2fs), matchd %.2fs (cpu %.2fs, until stopped)", i, d.Seconds(), dc.Seconds(), m.Seconds(), mc.Seconds())
		if i > 0 {
			kcatTimes, matchdTimes = append(kcatTimes, d), append(matchdTimes, m)
			kcatCPU, matchdCPU = append(kcatCPU, dc), append(matchdCPU, mc)
		}
	}
	kt, mt := median(kcatTimes), median(matchdTimes)
	kr, mr := float64(exp.Records)/kt.Seconds(), float64(exp.Records)/mt.Seconds()
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(stdout, "consume benchmark: %d records (%.0f MB), topic of %d partitions on %s; %s, load %s\n",
		exp.Records, float64(exp.Bytes)/1e6, o.partitions, o.brokers, host, strings.Fields(string(load) + " ?")[0])
	fmt.Fprintf(stdout, "%-40s %8s %14s %8s\n", "tool (median of "+strconv.Itoa(o.runs)+")", "wall", "records/s", "cpu")
	fmt.Fprintf(stdout, "%-40s %7.2fs %14.0f %7.2fs\n", "kcat -C -e -o beginning >/dev/null", kt.Seconds(), kr, median(kcatCPU).Seconds())
	fmt.Fprintf(stdout, "%-40s %7.2fs %14.0f %7.2fs\n", "matchd consume (matching, alerts file)", mt.Seconds(), mr, median(matchdCPU).Seconds())
	ratio := mr / kr
	fmt.Fprintf(stdout, "ratio matchd/kcat: %.2f (target %.2f)\n", ratio, o.target)
	if ratio < o.target {
		return fmt.Errorf("matchd is at %.2f of kcat's records/s, below the target %.2f", ratio, o.target)
	}
	return nil
}

// produce creates a topic and produces the corpus into it with kcat.
func produce(ctx context.Context, o options, cl *kafkago.Client, exp *gen.Expected, stderr io.Writer, logf func(string, ...any)) (string, error) {
	topic := fmt.Sprintf("matchd-bench-%d", time.Now().UnixNano())
	resp, err := cl.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{Topic: topic, NumPartitions: o.partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		return "", fmt.Errorf("creating topic %s: %w", topic, err)
	}

	logf("producing the corpus into %s (%d partitions) with kcat", topic, o.partitions)
	start := time.Now()
	for _, f := range exp.Files {
		p := exec.Command("kcat", "-P", "-b", o.brokers, "-t", topic, "-X", "linger.ms=20", "-X", "batch.num.messages=10000",
			"-X", "queue.buffering.max.kbytes=1048576", "-l", filepath.Join(o.dir, f))
		p.Stderr = stderr
		if err := p.Run(); err != nil {
			return topic, fmt.Errorf("kcat -P: %w", err)
		}
	}
	logf("produced the corpus in %.1fs", time.Since(start).Seconds())
	return topic, nil
}

// messages returns the number of messages in the topic.
func messages(ctx context.Context, cl *kafkago.Client, topic string, partitions int) (int64, error) {
	var reqs []kafkago.OffsetRequest
	for p := range partitions {
		reqs = append(reqs, kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p))
	}
	resp, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return 0, po.Error
		}
		n += po.LastOffset - po.FirstOffset
	}
	return n, nil
}

func timeKcat(brokers, topic string) (wall, cpu time.Duration, err error) {
	c := exec.Command("kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q")
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer devnull.Close()
	c.Stdout = devnull
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, 0, fmt.Errorf("kcat -C: %w", err)
	}
	return time.Since(start), c.ProcessState.UserTime() + c.ProcessState.SystemTime(), nil
}

// timeMatchd runs matchd consume in a new group and returns the time from
// its start until its metrics count every record of the topic as consumed
// (its alerts are written by then); it then stops matchd with SIGTERM and
// checks the exit status and the alert count.
func timeMatchd(o options, bin, topic string, feeds []string, exp *gen.Expected, out string, stderr io.Writer) (wall, cpu time.Duration, err error) {
	brokers := o.brokers
	level := "warn"
	if o.verbose {
		level = "info"
	}
	os.Remove(out)
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		return 0, 0, lerr
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"consume", "--brokers", brokers, "--topic", topic, "--group", fmt.Sprintf("bench-%d", time.Now().UnixNano()),
		"--out", out, "--metrics-addr", addr, "--log-level", level}, feeds...)
	args = append(args, strings.Fields(o.args)...)
	c := exec.Command(bin, args...)
	var logs bytes.Buffer
	c.Stderr = &logs
	start := time.Now()
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	defer c.Process.Kill()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := start.Add(10 * time.Minute)
	var took time.Duration
	for {
		if n, err := consumed(client, addr); err == nil && n >= int64(exp.Records) {
			took = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("matchd did not consume %d records in 10 minutes:\n%s", exp.Records, logs.String())
		}
		time.Sleep(o.poll)
	}
	c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		return 0, 0, fmt.Errorf("matchd consume: %v\n%s", err, logs.String())
	}
	f, err := os.Open(out)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines++
	}
	if o.verbose {
		fmt.Fprintf(stderr, "started %s, at the end after %v\n%s", start.UTC().Format("15:04:05.000"), took, logs.String())
	}
	if lines != exp.Alerts {
		return 0, 0, fmt.Errorf("matchd wrote %d alerts, want %d", lines, exp.Alerts)
	}
	return took, c.ProcessState.UserTime() + c.ProcessState.SystemTime(), nil
}

// consumed reads matchd's records_consumed and records_rejected totals.
func consumed(c *http.Client, addr string) (int64, error) {
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "matchd_records_consumed_total{") || strings.HasPrefix(l, "matchd_records_rejected_total{") {
			f := strings.Fields(l)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				return 0, err
			}
			n += v
		}
	}
	return int64(n), sc.Err()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
