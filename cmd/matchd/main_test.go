package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	seed    = "../../testdata/seed/000_7b1a7b71cc467a56.txt"
	demoDir = "../../testdata/demo"
)

type runResult struct {
	code           int
	stdout, stderr string
}

func runMatchd(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return runResult{code, out.String(), errb.String()}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestDemoGolden replays the embedded demo logs against the seed document
// and checks every alert, byte for byte.
func TestDemoGolden(t *testing.T) {
	r := runMatchd(t, "", "replay", "--iocs", seed, "--progress", "never", demoDir)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "demo.jsonl", stableSetTime(r.stdout))
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("alert is not JSON: %v\n%s", err, line)
		}
	}
	if !strings.Contains(r.stderr, "matchd: reject: ../../testdata/demo/firewall.cef:6: not a CEF or JSON record") {
		t.Errorf("stderr does not report the reject with file:line:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "replayed 19 records (CommonSecurityLog 6, DeviceNetworkEvents 8, UrlClickEvents 5), 14 alerts, 1 rejects") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// TestDemoWorkersSameOutput checks output order does not depend on workers.
func TestDemoWorkersSameOutput(t *testing.T) {
	one := runMatchd(t, "", "replay", "--iocs", seed, "--workers", "1", demoDir)
	many := runMatchd(t, "", "replay", "--iocs", seed, "--workers", "8", demoDir)
	if stableSetTime(one.stdout) != stableSetTime(many.stdout) || one.stdout == "" {
		t.Errorf("--workers 1 and 8 differ:\n%s\n---\n%s", one.stdout, many.stdout)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func zst(t *testing.T, data []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

// TestCompressedByMagic: gzip and zstd are detected by content, whatever
// the file name, and give the same alerts as the plain file (Origin aside).
func TestCompressedByMagic(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(demoDir, "firewall.cef"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.log"), plain)
	writeFile(t, filepath.Join(dir, "b.txt"), gz(t, plain))
	writeFile(t, filepath.Join(dir, "c"), zst(t, plain))
	r := runMatchd(t, "", "replay", "--iocs", seed, dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	byFile := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var a struct {
			Origin struct{ Path string }
		}
		json.Unmarshal([]byte(line), &a)
		i := strings.Index(line, `,"AlertId"`)
		byFile[filepath.Base(a.Origin.Path)] = append(byFile[filepath.Base(a.Origin.Path)], line[:i])
	}
	if len(byFile["a.log"]) == 0 || strings.Join(byFile["a.log"], "\n") != strings.Join(byFile["b.txt"], "\n") ||
		strings.Join(byFile["a.log"], "\n") != strings.Join(byFile["c"], "\n") {
		t.Errorf("plain, gzip and zstd alerts differ: %v", byFile)
	}
}

func TestTruncatedGzip(t *testing.T) {
	plain, _ := os.ReadFile(filepath.Join(demoDir, "firewall.cef"))
	var big []byte
	for range 200 {
		big = append(big, plain...)
	}
	z := gz(t, big)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a-cut.cef.gz"), z[:len(z)/2])
	writeFile(t, filepath.Join(dir, "b-ok.cef"), plain)
	r := runMatchd(t, "", "replay", "--iocs", seed, dir)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "a-cut.cef.gz: at offset ") || !strings.Contains(r.stderr, "unexpected EOF") {
		t.Errorf("stderr does not name the file and offset:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "b-ok.cef") {
		t.Errorf("the intact file after the broken one was not processed")
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	writeFile(t, empty, []byte("# nothing here\n\n"))
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "Usage"},
		{"help", []string{"replay", "-h"}, 0, "Usage: matchd replay"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no feed", []string{"replay", demoDir}, 2, "no threat feed"},
		{"no input", []string{"replay", "--iocs", seed}, 2, "no input"},
		{"missing feed", []string{"replay", "--iocs", filepath.Join(dir, "nope.txt"), demoDir}, 2, "nope.txt"},
		{"empty feed", []string{"replay", "--iocs", empty, demoDir}, 2, "empty.txt"},
		{"bad max-age", []string{"replay", "--iocs", seed, "--max-age", "soon", demoDir}, 2, "invalid duration"},
		{"bad table", []string{"replay", "--iocs", seed, "--table", "Syslog", demoDir}, 2, "--table"},
		{"missing input", []string{"replay", "--iocs", seed, filepath.Join(dir, "missing.cef"), demoDir}, 1, "missing.cef: no such file or directory"},
		{"check unusable", []string{"check", "--iocs", seed, "--iocs", empty}, 2, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runMatchd(t, "", c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, c.code, r.stderr)
			}
			if !strings.Contains(r.stderr+r.stdout, c.msg) {
				t.Errorf("output lacks %q:\n%s%s", c.msg, r.stdout, r.stderr)
			}
		})
	}
}

func TestStdinAndRejectsFile(t *testing.T) {
	rej := filepath.Join(t.TempDir(), "rejects.jsonl")
	in := "not a record\n\n" + `{"Type":"Syslog","SyslogMessage":"x"}` + "\n" +
		`CEF:0|V|P|1|1|n|1|src=169.239.130.20 spt=80` + "\n\xff\xfe bad utf8\n"
	r := runMatchd(t, in, "replay", "--iocs", seed, "--rejects", rej, "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != 1 || !strings.Contains(r.stdout, `"Origin":{"Path":"-","Line":4}`) {
		t.Errorf("alerts:\n%s", r.stdout)
	}
	got, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Origin":{"Path":"-","Line":1},"Reason":"not a CEF or JSON record","Raw":"not a record"}` + "\n" +
		`{"Origin":{"Path":"-","Line":3},"Reason":"no known table: Type \"Syslog\"","Raw":"{\"Type\":\"Syslog\",\"SyslogMessage\":\"x\"}"}` + "\n" +
		`{"Origin":{"Path":"-","Line":5},"Reason":"not a CEF or JSON record","Raw":"\ufffd\ufffd bad utf8"}` + "\n"
	if string(got) != want {
		t.Errorf("rejects file:\n%s\nwant:\n%s", got, want)
	}
}

func TestSinceUntil(t *testing.T) {
	r := runMatchd(t, "", "replay", "--iocs", seed, "--since", "2026-06-08", demoDir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.Contains(line, `"Table":"UrlClickEvents"`) {
			t.Errorf("alert before --since: %s", line)
		}
	}
	if !strings.Contains(r.stderr, "outside --since/--until") {
		t.Errorf("summary lacks the filtered count: %s", r.stderr)
	}
}

// TestInterrupted: a replay whose context is cancelled (SIGINT/SIGTERM)
// flushes what it emitted, prints its summary and exits 130.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"replay", "--iocs", seed, demoDir}, strings.NewReader(""), &out, &errb)
	if code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "matchd: replayed ") || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("no summary or interruption notice:\n%s", errb.String())
	}
}
