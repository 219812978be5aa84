package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/matchd/matchd/matcher"
)

// metrics are consume's Prometheus metrics, in a registry of their own (so
// that tests can run several consumers in one process).
type metrics struct {
	reg *prometheus.Registry

	records, matched, rejected *prometheus.CounterVec // by table
	alerts                     prometheus.Counter
	suppressed, summaries      prometheus.Counter
	commitSeconds              prometheus.Histogram
	commits                    *prometheus.CounterVec // by result
	lag                        *prometheus.GaugeVec   // by topic, partition
	retries                    *prometheus.CounterVec // by op
	generations                prometheus.Counter
	indicators                 *prometheus.GaugeVec // by type
	reloads                    *prometheus.CounterVec
	setLoaded                  prometheus.Gauge
	setInfo                    *prometheus.GaugeVec
	dedupKeys                  prometheus.Gauge

	last        stats // the pipeline's totals at the last observe
	lastDedup   [2]int64
	lastVersion string
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{
		reg: reg,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_records_consumed_total",
			Help: "Records parsed, by table."}, []string{"table"}),
		matched: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_records_matched_total",
			Help: "Records that matched an indicator (one alert each before deduplication), by table."}, []string{"table"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_records_rejected_total",
			Help: "Records that could not be parsed, by table (unknown: no table could be told)."}, []string{"table"}),
		alerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "matchd_alerts_emitted_total",
			Help: "Alerts written, summaries included."}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "matchd_alerts_suppressed_total",
			Help: "Alerts counted into a summary by --dedup-window instead of written."}),
		summaries: prometheus.NewCounter(prometheus.CounterOpts{Name: "matchd_alert_summaries_total",
			Help: "Summary alerts (Repeats) written by --dedup-window."}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "matchd_commit_duration_seconds",
			Help: "Offset commit latency.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_commits_total",
			Help: "Offset commits, by result (ok, error)."}, []string{"result"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "matchd_consumer_lag",
			Help: "Messages behind the high watermark, per assigned partition, as of its last fetch."}, []string{"topic", "partition"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_kafka_errors_total",
			Help: "Kafka errors that were retried, by operation (fetch, join, sync)."}, []string{"op"}),
		generations: prometheus.NewCounter(prometheus.CounterOpts{Name: "matchd_rebalances_total",
			Help: "Consumer-group generations this member joined."}),
		indicators: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "matchd_indicators",
			Help: "Indicators in force, by type."}, []string{"type"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matchd_feed_reloads_total",
			Help: "Feed and rule reloads, by result (ok: swapped, unchanged, failed: the old set or rules stay)."}, []string{"result"}),
		setLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "matchd_indicator_set_loaded_timestamp_seconds",
			Help: "When the indicator set in force was loaded."}),
		setInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "matchd_indicator_set_info",
			Help: "The indicator set in force (1), named as in alerts' IndicatorSet."}, []string{"version"}),
		dedupKeys: prometheus.NewGauge(prometheus.GaugeOpts{Name: "matchd_dedup_keys",
			Help: "Keys with an open --dedup-window window."}),
	}
	for _, c := range []prometheus.Collector{m.records, m.matched, m.rejected, m.alerts, m.suppressed, m.summaries,
		m.commitSeconds, m.commits, m.lag, m.retries, m.generations, m.indicators, m.reloads, m.setLoaded, m.setInfo, m.dedupKeys,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	for _, t := range matcher.Tables() {
		m.records.WithLabelValues(t.String())
		m.matched.WithLabelValues(t.String())
	}
	m.rejected.WithLabelValues("unknown")
	for _, r := range []string{"ok", "unchanged", "failed"} {
		m.reloads.WithLabelValues(r)
	}
	return m
}

// observe adds the growth of the pipeline's totals since the last call.
// It runs on the pipeline's writer goroutine.
func (m *metrics) observe(st *stats, d *deduper) {
	for _, t := range matcher.Tables() {
		m.records.WithLabelValues(t.String()).Add(float64(st.records[t] - m.last.records[t]))
		m.matched.WithLabelValues(t.String()).Add(float64(st.matched[t] - m.last.matched[t]))
	}
	m.rejected.WithLabelValues("unknown").Add(float64(st.rejects - m.last.rejects))
	m.last = *st
	if d != nil {
		m.suppressed.Add(float64(d.suppressed - m.lastDedup[0]))
		m.summaries.Add(float64(d.summaries - m.lastDedup[1]))
		m.lastDedup = [2]int64{d.suppressed, d.summaries}
		m.dedupKeys.Set(float64(len(d.keys)))
	}
}

// setInForce describes the indicator set in force.
func (m *metrics) setInForce(set *matcher.Set, loaded time.Time) {
	for _, t := range matcher.IndicatorTypes() {
		m.indicators.WithLabelValues(t.String()).Set(float64(set.Count(t)))
	}
	if m.lastVersion != "" {
		m.setInfo.DeleteLabelValues(m.lastVersion)
	}
	m.lastVersion = set.Version
	m.setInfo.WithLabelValues(set.Version).Set(1)
	m.setLoaded.Set(float64(loaded.UnixNano()) / 1e9)
}

func (m *metrics) committed(d time.Duration, _ int, err error) {
	if err != nil {
		m.commits.WithLabelValues("error").Inc()
		return
	}
	m.commits.WithLabelValues("ok").Inc()
	m.commitSeconds.Observe(d.Seconds())
}

func (m *metrics) setLag(topic string, partition int, lag int64) {
	m.lag.WithLabelValues(topic, strconv.Itoa(partition)).Set(float64(lag))
}

func (m *metrics) revoked(_ int32, topic string, partitions []int) {
	for _, p := range partitions {
		m.lag.DeleteLabelValues(topic, strconv.Itoa(p))
	}
}

// serveMetrics serves /metrics, /healthz and /readyz on addr until
// shutdown is called. ready says whether the consumer can do its work.
func serveMetrics(addr string, m *metrics, ready func() bool, log *slog.Logger) (bound string, shutdown func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	// GET (and HEAD) only: the mux answers other methods with 405.
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
