package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/ingest/kafka"
	"github.com/matchd/matchd/matcher"
	"github.com/matchd/matchd/matcher/kql"
)

// consumeFlags are consume's own flags.
type consumeFlags struct {
	brokers, topics             listFlag
	group                       string
	alertsTopic, rejectsTopic   string
	shutdownTimeout             time.Duration
	metricsAddr                 string
	tls                         bool
	tlsCA, tlsCert, tlsKey      string
	saslMechanism               string
	saslUsername, saslPassword  string
	logFormat, logLevel         string
	workers, maxRecord          int
	reloadInterval              time.Duration
	startOffset                 string
	commitTimeout               time.Duration
	sessionTimeout, heartbeat   time.Duration
	rebalanceTimeout, fetchWait time.Duration
	batchRecords                int
	batchBytes                  sizeFlag
	cpuProfile                  string
}

func (c *consumeFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.brokers, "brokers", "Kafka bootstrap brokers, `HOST:PORT` (repeatable or comma-separated)")
	fs.Var(&c.topics, "topic", "`TOPIC` to consume (repeatable or comma-separated)")
	fs.StringVar(&c.group, "group", "", "consumer group `ID`; instances with the same group split the partitions")
	fs.StringVar(&c.alertsTopic, "alerts-topic", "", "produce alerts to `TOPIC` (acks=all, keyed by AlertId) instead of --out or stdout")
	fs.StringVar(&c.rejectsTopic, "rejects-topic", "", "produce rejected records, raw, to `TOPIC` (reason and source position in headers)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, finish in-flight records, flush, commit and leave the group within `DURATION`")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "127.0.0.1:9464", "serve Prometheus /metrics, /healthz and /readyz on `ADDR` (empty: none)")
	fs.BoolVar(&c.tls, "tls", false, "connect to the brokers with TLS (implied by --tls-ca and --tls-cert)")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "trust the broker certificates signed by the CA in `FILE` (PEM) instead of the system roots")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "client certificate `FILE` (PEM), with --tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "client key `FILE` (PEM)")
	fs.StringVar(&c.saslMechanism, "sasl-mechanism", "", "authenticate with SASL `MECHANISM`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&c.saslUsername, "sasl-username", "", "SASL `USER`")
	fs.StringVar(&c.saslPassword, "sasl-password", "", "SASL `PASSWORD` (prefer MATCHD_SASL_PASSWORD or the --config file)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "parse and match on `N` goroutines")
	fs.IntVar(&c.maxRecord, "max-record-bytes", 16<<20, "reject records longer than `N` bytes")
	fs.DurationVar(&c.reloadInterval, "reload-interval", 10*time.Second, "check the feed files for changes every `DURATION` (0: reload on SIGHUP only)")
	fs.StringVar(&c.startOffset, "start-offset", "earliest", "where a partition without a committed offset starts: earliest or latest")
	fs.DurationVar(&c.commitTimeout, "commit-timeout", 5*time.Second, "bound each offset commit, and each flush of the alerts before it, to `DURATION`")
	fs.DurationVar(&c.sessionTimeout, "session-timeout", 30*time.Second, "consumer-group session timeout `DURATION`")
	fs.DurationVar(&c.heartbeat, "heartbeat-interval", 3*time.Second, "consumer-group heartbeat `DURATION`")
	fs.DurationVar(&c.rebalanceTimeout, "rebalance-timeout", 30*time.Second, "how long a rebalance waits for members to rejoin, `DURATION`")
	fs.DurationVar(&c.fetchWait, "fetch-max-wait", 250*time.Millisecond, "fetch long-poll `DURATION` of a quiet partition")
	fs.IntVar(&c.batchRecords, "batch-records", 16384, "at most `N` Kafka messages in one partition's batch")
	c.batchBytes = 4 << 20
	fs.Var(&c.batchBytes, "batch-bytes", "at most `SIZE` of message values in one partition's batch; a partition has at most one batch beyond its committed offset, so a crash re-delivers at most one batch per partition")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile (from after the feeds are loaded until the stop) to `FILE`")
}

func (c *consumeFlags) security() (kafka.Security, error) {
	var sec kafka.Security
	if c.tls || c.tlsCA != "" || c.tlsCert != "" || c.tlsKey != "" {
		t, err := kafka.LoadTLS(c.tlsCA, c.tlsCert, c.tlsKey)
		if err != nil {
			return sec, err
		}
		sec.TLS = t
	}
	switch {
	case c.saslMechanism != "":
		m, err := kafka.NewSASL(c.saslMechanism, c.saslUsername, c.saslPassword)
		if err != nil {
			return sec, fmt.Errorf("--sasl-mechanism: %w", err)
		}
		sec.SASL = m
	case c.saslUsername != "" || c.saslPassword != "":
		return sec, errors.New("--sasl-username and --sasl-password need --sasl-mechanism")
	}
	return sec, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// runConsume is `matchd consume`: a member of a Kafka consumer group that
// writes an alert per matching record, commits offsets only after the
// alerts before them are durable, reloads feeds on SIGHUP and file change,
// and on SIGINT/SIGTERM (ctx) drains, flushes, commits, leaves the group
// and exits 0.
func runConsume(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("consume", "consume --brokers HOST:PORT[,...] --topic T[,...] --group G --iocs FILE... [--rules FILE.kql...] [flags]", stderr)
	var mf matchFlags
	mf.register(fs)
	var df dedupFlags
	df.register(fs)
	var cf consumeFlags
	cf.register(fs)
	var rf ruleFlags
	rf.register(fs)
	fs.Lookup("rules").Usage = "KQL rule `FILE` (repeatable): one alert per record a query selects, shaped by its project, written as records match (order by and take do not apply on a stream); reloaded with the feeds"
	// A restarted consumer continues its files.
	fs.Lookup("out").Usage = "append alerts to `FILE` (flushed and fsynced before each commit) instead of writing them to stdout"
	fs.Lookup("rejects").Usage = "append rejected records to `FILE` as JSON lines"
	rest, err := parseArgs(fs, args, env)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "matchd consume: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case len(rest) > 0:
		return usageErr("unexpected argument %q (consume reads from Kafka; see matchd replay for files)", rest[0])
	case len(cf.brokers) == 0:
		return usageErr("no brokers: give --brokers HOST:PORT")
	case len(cf.topics) == 0:
		return usageErr("no topic: give --topic NAME")
	case cf.group == "":
		return usageErr("no consumer group: give --group ID")
	case len(mf.iocs) == 0 && len(rf.rules) == 0:
		return usageErr("no threat feed or rules: give --iocs FILE, --rules FILE or both")
	case mf.out != "" && cf.alertsTopic != "":
		return usageErr("--out and --alerts-topic exclude each other")
	case mf.rejects != "" && cf.rejectsTopic != "":
		return usageErr("--rejects and --rejects-topic exclude each other")
	case cf.shutdownTimeout <= 0:
		return usageErr("--shutdown-timeout %v: want a positive duration", cf.shutdownTimeout)
	case cf.workers < 1:
		return usageErr("--workers %d: want at least 1", cf.workers)
	case cf.maxRecord < 1:
		return usageErr("--max-record-bytes %d: want at least 1", cf.maxRecord)
	case cf.batchRecords < 1 || cf.batchBytes < 1:
		return usageErr("--batch-records and --batch-bytes must be positive")
	case cf.startOffset != "earliest" && cf.startOffset != "latest":
		return usageErr("--start-offset %q: want earliest or latest", cf.startOffset)
	case cf.commitTimeout <= 0 || cf.sessionTimeout <= 0 || cf.heartbeat <= 0 || cf.rebalanceTimeout <= 0 || cf.fetchWait <= 0:
		return usageErr("--commit-timeout, --session-timeout, --heartbeat-interval, --rebalance-timeout and --fetch-max-wait must be positive")
	case cf.reloadInterval < 0:
		return usageErr("--reload-interval %v: want 0 or a positive duration", cf.reloadInterval)
	}
	cfg, table, err := mf.config()
	if err != nil {
		return usageErr("%v", err)
	}
	dd, err := df.deduper(graceOneWindow)
	if err != nil {
		return usageErr("%v", err)
	}
	sec, err := cf.security()
	if err != nil {
		return usageErr("%v", err)
	}
	log, err := newLogger(stderr, cf.logFormat, cf.logLevel)
	if err != nil {
		return usageErr("%v", err)
	}
	m := newMetrics()

	// Sinks. giveUp ends the retries of a blocked produce at the shutdown
	// deadline.
	giveUp := make(chan struct{})
	out := &outputs{}
	if cf.alertsTopic != "" {
		out.alerts = newTopicSink(cf.brokers, cf.alertsTopic, sec, alertMessages, log, giveUp)
	} else {
		f, err := openFileSink(mf.out, stdout)
		if err != nil {
			return usageErr("%v", err)
		}
		out.alerts = f
	}
	if mf.rejects != "" {
		f, err := openFileSink(mf.rejects, stdout)
		if err != nil {
			out.close()
			return usageErr("%v", err)
		}
		out.rejects = f
	}
	if cf.rejectsTopic != "" {
		out.rawRej = newTopicSink(cf.brokers, cf.rejectsTopic, sec, nil, log, giveUp)
	}
	if out.rejects == nil && out.rawRej == nil {
		log.Warn("no --rejects or --rejects-topic: rejected records are only counted and sampled in this log")
	}

	var stopping atomic.Bool
	var running atomic.Pointer[kafka.Consumer]
	if cf.metricsAddr != "" {
		ready := func() bool {
			c := running.Load()
			return c != nil && c.Ready() && !stopping.Load()
		}
		addr, shutdown, err := serveMetrics(cf.metricsAddr, m, ready, log)
		if err != nil {
			out.close()
			return usageErr("--metrics-addr: %v", err)
		}
		defer shutdown()
		log.Info("serving metrics", "addr", addr)
	}

	var lastGen atomic.Int32
	lastGen.Store(-1)
	consumer, err := kafka.NewConsumer(kafka.Config{
		Brokers:           cf.brokers,
		Topics:            cf.topics,
		Group:             cf.group,
		Security:          sec,
		StartAtEnd:        cf.startOffset == "latest",
		MaxWait:           cf.fetchWait,
		MaxRecordBytes:    cf.maxRecord,
		BatchRecords:      cf.batchRecords,
		BatchBytes:        int(cf.batchBytes),
		CommitTimeout:     cf.commitTimeout,
		SessionTimeout:    cf.sessionTimeout,
		HeartbeatInterval: cf.heartbeat,
		RebalanceTimeout:  cf.rebalanceTimeout,
		Sync:              out.sync,
		Logger:            log,
		Hooks: kafka.Hooks{
			Assigned: func(gen int32, _ string, _ []int) {
				if lastGen.Swap(gen) != gen {
					m.generations.Inc()
				}
			},
			Revoked:   m.revoked,
			Lag:       m.setLag,
			Committed: m.committed,
			Error:     func(op string, _ error) { m.retries.WithLabelValues(op).Inc() },
		},
	})
	if err != nil {
		out.close()
		return usageErr("%v", err)
	}
	// The member joins its group and fetches while the feeds load; the
	// batches wait for the indicator set.
	rl, err := newReloader(mf.iocs, rf.rules, cfg, rf.feedAlerts, log)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.Background(), cf.shutdownTimeout)
		consumer.Close(cctx)
		cancel()
		out.close()
		return usageErr("%v", err)
	}
	first := rl.cur.Load()
	set := first.set
	m.setInForce(set, time.Now())
	shown := set
	rl.observe = func(result string, s *matcher.Set) {
		m.reloads.WithLabelValues(result).Inc()
		if s != shown { // also after a failed rules reload that swapped the feeds
			shown = s
			m.setInForce(s, time.Now())
		}
	}
	running.Store(consumer)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log.Info("consuming", "brokers", strings.Join(cf.brokers, ","), "topics", strings.Join(cf.topics, ","), "group", cf.group,
		"indicator_set", set.Version, "indicators", set.Len(), "rules", nRules(first.rules))

	if cf.cpuProfile != "" {
		stop, err := startCPUProfile(cf.cpuProfile)
		if err != nil {
			consumer.Close(context.Background())
			out.close()
			return usageErr("%v", err)
		}
		defer stop()
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go rl.watch(watchCtx, cf.reloadInterval, hup)

	p := &pipeline{
		workers: cf.workers,
		newWork: func() *worker {
			f := rl.cur.Load()
			w := &worker{dec: ingest.NewDecoder(table), sc: matcher.NewScanner(f.scan), live: &rl.cur,
				dedup: dd != nil, keepRaw: out.rawRej != nil}
			if f.rules != nil {
				// Rule alerts go out with their batch (p.rules is nil).
				w.rules = newRuleMatcher(f.rules)
			}
			return w
		},
		alerts:   countingWriter{alertsWriter{out}, m.alerts},
		stderr:   slogWriter{log, slog.LevelWarn},
		dedup:    dd,
		progress: func(st *stats) { m.observe(st, dd) },
	}
	if out.rejects != nil {
		p.rejects = rejectsWriter{out}
	}
	if out.rawRej != nil {
		p.rawRejects = out.writeRaw
	}
	start := time.Now()
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- p.run(runCtx, consumer) }()

	var werr error
	select {
	case werr = <-ran: // only a write error ends the pipeline by itself
	case <-ctx.Done():
	}
	stopping.Store(true)
	deadline := time.Now().Add(cf.shutdownTimeout)
	log.Info("stopping: finishing in-flight records, then flush, commit and leave the group", "timeout", cf.shutdownTimeout)

	stopped := make(chan error, 1)
	go func() {
		stopRun()
		err := werr
		if err == nil {
			err = <-ran
		}
		if err == nil && dd != nil {
			if sum := dd.flush(); len(sum) > 0 {
				_, err = p.alerts.Write(sum)
				m.observe(&p.st, dd)
			}
		}
		sctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		if err == nil {
			if e := out.sync(sctx); e != nil {
				err = fmt.Errorf("flushing alerts: %w", e)
			}
		}
		if e := consumer.Close(sctx); e != nil && err == nil {
			err = fmt.Errorf("leaving the group: %w", e)
		}
		stopWatch()
		if e := out.close(); e != nil && err == nil {
			err = fmt.Errorf("closing outputs: %w", e)
		}
		stopped <- err
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case err := <-stopped:
		log.Info(strings.TrimPrefix(summary("consumed", &p.st, time.Since(start).Seconds()), "matchd: "))
		if err != nil {
			log.Error("stopped with an error; records after the last commit will be delivered again", "err", err)
			return exitInputFailed
		}
		log.Info("stopped")
		return exitOK
	case <-timer.C:
		close(giveUp)
		log.Error("shutdown timed out; records after the last commit will be delivered again", "timeout", cf.shutdownTimeout)
		return exitInputFailed
	}
}

func nRules(r *kql.Rules) int {
	if r == nil {
		return 0
	}
	return r.Len()
}

// countingWriter counts the lines written through it.
type countingWriter struct {
	w io.Writer
	c prometheus.Counter
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.c.Add(float64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}
