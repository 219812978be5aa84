package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsListenerLoopbackByDefault: consume's metrics and health
// listener binds to a loopback address unless told otherwise.
func TestMetricsListenerLoopbackByDefault(t *testing.T) {
	r := runMatchd(t, "", "consume", "-h")
	m := regexp.MustCompile(`-metrics-addr ADDR\n[^\n]*\(default "([^"]*)"\)`).FindStringSubmatch(r.stderr)
	if r.code != exitOK || m == nil {
		t.Fatalf("exit %d; no --metrics-addr default in the usage:\n%s", r.code, r.stderr)
	}
	host, port, err := net.SplitHostPort(m[1])
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		t.Fatalf("--metrics-addr defaults to %q, not a loopback address", m[1])
	}
	t.Logf("--metrics-addr default %s", m[1])
	bound, shutdown, err := serveMetrics(net.JoinHostPort(host, "0"), newMetrics(), func() bool { return true }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown()
	if ap, err := net.ResolveTCPAddr("tcp", bound); err != nil || !ap.IP.IsLoopback() {
		t.Errorf("listening on %s (default port %s)", bound, port)
	}
}

// TestMetricsEndpointsReadOnly: no request, whatever its method, path or
// body, changes what the listener reports; only /metrics, /healthz and
// /readyz exist, for GET and HEAD (other methods: 405).
func TestMetricsEndpointsReadOnly(t *testing.T) {
	m := newMetrics()
	m.alerts.Add(3)
	bound, shutdown, err := serveMetrics("127.0.0.1:0", m, func() bool { return true }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown()
	base := "http://" + bound
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The process and Go collectors change by themselves; matchd's own
	// metrics must not.
	own := func() string {
		_, body := get("/metrics")
		var keep []string
		for line := range strings.Lines(body) {
			if strings.HasPrefix(line, "matchd_") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "")
	}
	before := own()
	if !strings.Contains(before, "matchd_alerts_emitted_total 3") {
		t.Fatalf("metrics:\n%s", before)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/", "/debug/pprof/", "/metrics/reset", "/quitquitquit"} {
		for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"} {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(`{"alerts":0,"ready":false}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			known := path == "/metrics" || path == "/healthz" || path == "/readyz"
			read := method == "GET" || method == "HEAD"
			switch {
			case !known && resp.StatusCode != http.StatusNotFound:
				t.Errorf("%s %s: status %d, want 404", method, path, resp.StatusCode)
			case known && read && resp.StatusCode != http.StatusOK:
				t.Errorf("%s %s: status %d, want 200", method, path, resp.StatusCode)
			case known && !read && resp.StatusCode != http.StatusMethodNotAllowed:
				t.Errorf("%s %s: status %d, want 405", method, path, resp.StatusCode)
			}
		}
	}
	if after := own(); after != before {
		t.Errorf("requests changed the metrics:\n%s\n---\n%s", before, after)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := get(path); code != http.StatusOK {
			t.Errorf("GET %s: %d after the requests", path, code)
		}
	}
}
