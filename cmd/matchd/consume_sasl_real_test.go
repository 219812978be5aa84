package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/ingest/kafka"
	"github.com/matchd/matchd/internal/kafkatest"
)

// saslListener is one SASL listener of the real broker.
type saslListener struct {
	name string   // security protocol: SASL_PLAINTEXT or SASL_SSL
	addr string   // host:port list
	tls  []string // matchd's TLS flags for it
}

// saslAuthFailure is what matchd's log must name when the broker refuses
// the credentials (kafka-go: "could not successfully authenticate to ...
// with SASL: [58] SASL Authentication Failed: ...").
var saslAuthFailure = regexp.MustCompile(`(?i)SASL authentication failed|could not successfully authenticate`)

// TestKafkaSASLRealBroker consumes through the real broker's SASL listeners
// (kafka.sh start --sasl: SASL_PLAINTEXT, plus SASL_SSL with --tls) with
// each SASL mechanism, and checks that a wrong password is refused:
// nothing consumed, nothing committed, the failure named in the log. The
// records are produced over the plaintext listener (MATCHD_KAFKA_BROKERS),
// as in TestKafkaTLSBroker.
func TestKafkaSASLRealBroker(t *testing.T) {
	addr := os.Getenv("MATCHD_KAFKA_SASL_BROKERS")
	if !kafkatest.Real() || addr == "" {
		t.Skip("needs the real broker's SASL listener: MATCHD_KAFKA_SASL_BROKERS, MATCHD_KAFKA_SASL_USER and MATCHD_KAFKA_SASL_PASSWORD from kafka.sh start --sasl (TestKafkaSASLTLS covers SASL on kfake)")
	}
	user, password := os.Getenv("MATCHD_KAFKA_SASL_USER"), os.Getenv("MATCHD_KAFKA_SASL_PASSWORD")
	if user == "" || password == "" {
		t.Fatal("MATCHD_KAFKA_SASL_BROKERS is set but MATCHD_KAFKA_SASL_USER or MATCHD_KAFKA_SASL_PASSWORD is not")
	}
	listeners := []saslListener{{name: "SASL_PLAINTEXT", addr: addr}}
	if a := os.Getenv("MATCHD_KAFKA_SASL_SSL_BROKERS"); a != "" {
		ca := os.Getenv("MATCHD_KAFKA_CA_PEM")
		if ca == "" {
			t.Fatal("MATCHD_KAFKA_SASL_SSL_BROKERS is set but MATCHD_KAFKA_CA_PEM is not")
		}
		listeners = append(listeners, saslListener{name: "SASL_SSL", addr: a, tls: []string{"--tls-ca", ca}})
	}
	b := kafkatest.Start(t)
	for _, l := range listeners {
		for _, mech := range kafka.SASLMechanisms {
			t.Run(l.name+"/"+mech, func(t *testing.T) { saslConsumeAll(t, b, l, mech, user, password) })
		}
		for _, mech := range kafka.SASLMechanisms {
			t.Run(l.name+"/wrong-password/"+mech, func(t *testing.T) { saslWrongPassword(t, b, l, mech, user, password+"-wrong") })
		}
	}
}

// saslConsumeAll consumes 2 × 50 records through listener l with mech:
// every alert once, offsets committed to the end, exit 0 on stop.
func saslConsumeAll(t *testing.T, b *kafkatest.Broker, l saslListener, mech, user, password string) {
	const partitions, perPartition = 2, 50
	topic := b.Topic(t, partitions)
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, partitions, perPartition, 0)
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	t.Setenv("MATCHD_SASL_PASSWORD", password) // as deployed: not on the command line
	start := time.Now()
	r := startConsumeAt(t, strings.Split(l.addr, ","), append([]string{"--topic", topic, "--group", group, "--iocs", seed, "--out", out,
		"--sasl-mechanism", mech, "--sasl-username", user}, l.tls...)...)
	committedAll(t, b, group, topic, partitions, perPartition, 60*time.Second)
	took := time.Since(start)
	if c := r.stop(t); c != 0 {
		t.Errorf("exit %d after the stop, want 0", c)
	}
	f := readAlertFile(t, out)
	n := len(uniqueIDs(f.alerts))
	if want := partitions * perPartition; n != want || len(f.alerts) != want || f.torn != 0 {
		t.Errorf("%d alerts (%d distinct, %d torn lines) over %s with %s, want %d", len(f.alerts), n, f.torn, l.name, mech, want)
	}
	t.Logf("%s %s on %s: records %d consumed, alerts %d, offsets at the end after %v",
		l.name, mech, l.addr, partitions*perPartition, n, took.Round(time.Millisecond))
}

// saslWrongPassword runs matchd with a wrong password for a few seconds (3 s,
// or up to 15 s until the failure is logged): the log must name the SASL
// authentication failure, and nothing may be consumed or committed. matchd
// may give up (then with a non-zero exit) or keep retrying (it does:
// kafka-go's error is logged at WARN and the group join retried); the test
// then stops it.
func saslWrongPassword(t *testing.T, b *kafkatest.Broker, l saslListener, mech, user, wrong string) {
	topic := b.Topic(t, 1)
	group := kafkatest.Name(t, "g")
	produceHits(t, b, topic, 1, 10, 0)
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	t.Setenv("MATCHD_SASL_PASSWORD", wrong)
	start := time.Now()
	r := startConsumeAt(t, strings.Split(l.addr, ","), append([]string{"--topic", topic, "--group", group, "--iocs", seed, "--out", out,
		"--sasl-mechanism", mech, "--sasl-username", user}, l.tls...)...)
	const atLeast, atMost = 3 * time.Second, 15 * time.Second
	exited, exit := false, 0
	deadline := time.After(atMost)
	var named time.Duration
wait:
	for {
		if named == 0 && saslAuthFailure.MatchString(r.stderr.String()) {
			named = time.Since(start)
		}
		if named != 0 && time.Since(start) >= atLeast {
			break
		}
		select {
		case exit = <-r.code:
			r.code <- exit // for the cleanup
			exited = true
			break wait
		case <-deadline:
			break wait
		case <-time.After(50 * time.Millisecond):
		}
	}
	ran := time.Since(start)
	if !exited {
		exit = r.stop(t)
	}
	logged := r.stderr.String()
	line := ""
	if m := saslAuthFailure.FindStringIndex(logged); m != nil {
		from := strings.LastIndexByte(logged[:m[0]], '\n') + 1
		to := len(logged)
		if i := strings.IndexByte(logged[m[0]:], '\n'); i >= 0 {
			to = m[0] + i
		}
		line = logged[from:to]
	} else {
		t.Errorf("after %v, stderr does not name the SASL authentication failure (want %v):\n%s", ran.Round(time.Millisecond), saslAuthFailure, logged)
	}
	if exited && exit == 0 {
		t.Errorf("matchd exited 0 with a wrong password")
	}
	if as := readAlertFile(t, out).alerts; len(as) != 0 {
		t.Errorf("%d alerts with a wrong password, want none", len(as))
	}
	if c := b.Committed(t, group, topic, 1); c[0] != -1 {
		t.Errorf("group %s committed %v with a wrong password, want nothing", group, c)
	}
	if t.Failed() {
		return
	}
	failures := 0
	for _, ln := range strings.Split(logged, "\n") {
		if saslAuthFailure.MatchString(ln) {
			failures++
		}
	}
	how := "kept retrying, stopped by the test"
	if exited {
		how = "gave up by itself"
	}
	t.Logf("%s %s with a wrong password on %s: failure logged after %v, %s after %v (exit %d), %d log lines name it, 0 alerts, nothing committed; first: %s",
		l.name, mech, l.addr, named.Round(time.Millisecond), how, ran.Round(time.Millisecond), exit, failures, line)
}
