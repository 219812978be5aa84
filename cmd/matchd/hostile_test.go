package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/matchd/matchd/internal/memtest"
)

// hit is a CEF record that alerts on the seed's 169.239.130.20.
const hit = "CEF:0|V|P|1|1|n|1|src=169.239.130.20 spt=80"

// hostileRun replays paths with extra flags, collecting alerts' origins as
// "file:line" and the rejects file as "file:line: reason".
type hostileRun struct {
	runResult
	alerts  []string
	rejects []string
	mem     memtest.Stats
}

func replayHostile(t *testing.T, extra []string, paths ...string) hostileRun {
	t.Helper()
	rej := filepath.Join(t.TempDir(), "rejects.jsonl")
	args := append([]string{"replay", "--iocs", seed, "--progress", "never", "--workers", "2", "--rejects", rej}, extra...)
	w := memtest.Start()
	r := runMatchd(t, "", append(args, paths...)...)
	h := hostileRun{runResult: r, mem: w.Stop()}
	for line := range strings.Lines(r.stdout) {
		if !utf8.ValidString(line) {
			t.Errorf("alert is not valid UTF-8: %q", line)
		}
		var a struct {
			Origin struct{ Path, Line json.RawMessage }
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert is not JSON: %v: %.200s", err, line)
		}
		h.alerts = append(h.alerts, filepath.Base(strings.Trim(string(a.Origin.Path), `"`))+":"+string(a.Origin.Line))
	}
	data, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(data) {
		var x struct {
			Origin struct {
				Path string
				Line int
			}
			Reason, Raw string
		}
		if err := json.Unmarshal(line, &x); err != nil || !utf8.Valid(line) {
			t.Fatalf("reject is not valid JSON: %v: %.200s", err, line)
		}
		if len(x.Raw) > 64<<10 {
			t.Errorf("reject keeps %d bytes of its record", len(x.Raw))
		}
		h.rejects = append(h.rejects, filepath.Base(x.Origin.Path)+":"+strconv.Itoa(x.Origin.Line)+": "+x.Reason)
	}
	return h
}

// writeBig writes head, n bytes of 'A' and tail to path, a MiB at a time.
func writeBig(t *testing.T, path, head string, n int, tail string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(head)
	chunk := bytes.Repeat([]byte{'A'}, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		w.Write(chunk[:k])
		n -= k
	}
	w.WriteString(tail)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestHostileRecords replays broken and malicious records end to end and
// checks each outcome exactly (alerts and rejects with their origins, exit
// status) and that time and memory stay bounded.
func TestHostileRecords(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, []byte(content))
		return p
	}
	big := filepath.Join(dir, "big.cef")
	writeBig(t, big, hit+"\n", 100<<20, "\n"+hit)
	var ext strings.Builder
	ext.WriteString("CEF:0|V|P|1|1|n|1|")
	for i := range 100_000 {
		ext.WriteString("k" + strconv.Itoa(i) + "=v" + strconv.Itoa(i) + " ")
	}
	ext.WriteString("src=169.239.130.20\n")
	pairs := filepath.Join(dir, "pairs.cef")
	var pb strings.Builder
	pb.WriteString("CEF:0|V|P|1|1|n|1|")
	for pb.Len() < 16<<20-64 {
		pb.WriteString("a=b ")
	}
	pb.WriteString("src=169.239.130.20\n" + hit + "\n")
	writeFile(t, pairs, []byte(pb.String()))
	deep := `{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20","x":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "}\n" +
		`{"records":[` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "]}\n" +
		// The line's object and 511 arrays: at the limit, parsed.
		`{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20","x":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + "}\n"

	for _, c := range []struct {
		name    string
		path    string
		extra   []string
		alerts  []string
		rejects []string
		heap    uint64 // bound on the heap's growth
		elapsed time.Duration
	}{
		{
			name: "100 MB record", path: big, extra: []string{"--max-record-bytes", "1048576"},
			alerts: []string{"big.cef:1", "big.cef:3"}, rejects: []string{"big.cef:2: record longer than 1048576 bytes"},
			heap: 64 << 20, elapsed: 20 * time.Second,
		},
		{
			name: "100 MB record, default limit", path: big,
			alerts: []string{"big.cef:1", "big.cef:3"}, rejects: []string{"big.cef:2: record longer than 16777216 bytes"},
			heap: 192 << 20, elapsed: 20 * time.Second,
		},
		{
			name: "no newline at EOF", path: file("eof.cef", hit+"\n"+hit),
			alerts: []string{"eof.cef:1", "eof.cef:2"},
		},
		{
			name: "NUL bytes", path: file("nul.log", hit+" msg=a\x00b\n"+
				`{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20","Message":"a`+"\x00"+`b"}`+"\n\x00\x00\x00\n"),
			alerts: []string{"nul.log:1"},
			rejects: []string{`nul.log:2: invalid JSON at byte 68: control character in string at "\x00b\"}"`,
				"nul.log:3: not a CEF or JSON record"},
		},
		{
			name: "invalid UTF-8", path: file("utf8.log", hit+" msg=\xff\xfe\xc3\n"+
				`{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20","Message":"`+"\xff\xfe"+`"}`+"\n\xff\xfe\n"),
			alerts: []string{"utf8.log:1", "utf8.log:2"}, rejects: []string{"utf8.log:3: not a CEF or JSON record"},
		},
		{
			name: "JSON nested 10,000 deep", path: file("deep.json", deep),
			alerts: []string{"deep.json:3"},
			rejects: []string{`deep.json:1: invalid JSON at byte 571: nesting deeper than 512 at "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[..."`,
				`deep.json:2: invalid JSON at byte 522: nesting deeper than 512 at "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[..."`},
			elapsed: 5 * time.Second,
		},
		{
			name: "CEF with 100,000 extensions", path: file("ext.cef", ext.String()),
			rejects: []string{`ext.cef:1: cannot parse CEF extension "k0=v0 k1=v1 k2=v2 k3=v3 k4=v4 k5=v5 k6=v6 k7=v7 k8=v8 k9=v9 k10="...: ` +
				"more than 10000 extensions outside the CommonSecurityLog columns"},
			heap: 64 << 20, elapsed: 5 * time.Second,
		},
		{
			name: "CEF line of 16 MiB of pairs", path: pairs,
			rejects: []string{`pairs.cef:1: cannot parse CEF extension "a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b a=b "...: ` +
				"more than 10000 extensions outside the CommonSecurityLog columns"},
			alerts: []string{"pairs.cef:2"}, heap: 192 << 20, elapsed: 10 * time.Second,
		},
		{
			name: "JSON record with 1,000,000 members", path: file("members.json", `{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20",`+
				strings.Repeat(`"x":1,`, 1_000_000)+`"y":2}`+"\n"+`{"Type":"CommonSecurityLog","SourceIP":"169.239.130.20"}`),
			alerts:  []string{"members.json:2"},
			rejects: []string{"members.json:1: more than 10000 members outside the table's columns or URLs in UrlChain"},
			heap:    64 << 20, elapsed: 5 * time.Second,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := replayHostile(t, c.extra, c.path)
			t.Logf("%s: %v", c.name, h.mem)
			if h.code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", h.code, h.stderr)
			}
			if strings.Join(h.alerts, " ") != strings.Join(c.alerts, " ") {
				t.Errorf("alerts at %q, want %q", h.alerts, c.alerts)
			}
			if strings.Join(h.rejects, "\n") != strings.Join(c.rejects, "\n") {
				t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(h.rejects, "\n"), strings.Join(c.rejects, "\n"))
			}
			if c.heap > 0 && h.mem.Growth() > c.heap {
				t.Errorf("heap grew by %.1f MiB, bound %.0f MiB", float64(h.mem.Growth())/(1<<20), float64(c.heap)/(1<<20))
			}
			if c.elapsed > 0 && h.mem.Elapsed > c.elapsed {
				t.Errorf("took %v, bound %v", h.mem.Elapsed, c.elapsed)
			}
		})
	}
}

// TestCRLF: CRLF line endings give the same alerts as LF, for CEF and
// every JSON shape of the demo.
func TestCRLF(t *testing.T) {
	lf, crlf := filepath.Join(t.TempDir(), "d"), filepath.Join(t.TempDir(), "d")
	os.Mkdir(lf, 0o755)
	os.Mkdir(crlf, 0o755)
	files, _ := filepath.Glob(filepath.Join(demoDir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(lf, filepath.Base(f)), data)
		writeFile(t, filepath.Join(crlf, filepath.Base(f)), bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")))
	}
	a := replayHostile(t, nil, lf)
	b := replayHostile(t, nil, crlf)
	if a.code != 0 || b.code != 0 || len(a.alerts) != 14 {
		t.Fatalf("exit %d and %d, %d alerts", a.code, b.code, len(a.alerts))
	}
	// AlertId hashes the Origin, whose path differs.
	alertID := regexp.MustCompile(`"AlertId":"[0-9a-f]+"`)
	got := alertID.ReplaceAllString(strings.ReplaceAll(stableSetTime(b.stdout), filepath.Dir(crlf), ""), "")
	want := alertID.ReplaceAllString(strings.ReplaceAll(stableSetTime(a.stdout), filepath.Dir(lf), ""), "")
	if got != want {
		t.Errorf("CRLF alerts differ from LF:\n%s\n---\n%s", got, want)
	}
	if strings.Join(a.rejects, "\n") != strings.Join(b.rejects, "\n") {
		t.Errorf("rejects differ: %q vs %q", a.rejects, b.rejects)
	}
}

// zeros returns 1 GiB of zeros compressed, as 128 gzip members or zstd
// frames of 8 MiB (see ingest's bomb).
func zeros(t *testing.T, format string) []byte {
	var one bytes.Buffer
	z := make([]byte, 8<<20)
	if format == "gzip" {
		w, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
		w.Write(z)
		w.Close()
	} else {
		w, err := zstd.NewWriter(&one)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(z)
		w.Close()
	}
	return bytes.Repeat(one.Bytes(), 128)
}

// TestDecompressionBomb: a small archive that expands to 1 GiB is stopped
// at --max-decompressed-bytes, or by the compression ratio bound; the
// failure names the file and offset, exit status 1, and the other inputs
// are replayed.
func TestDecompressionBomb(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.gz"), zeros(t, "gzip"))
	writeFile(t, filepath.Join(dir, "b.zst"), zeros(t, "zstd"))
	writeFile(t, filepath.Join(dir, "c.cef"), []byte(hit+"\n"))
	for _, c := range []struct {
		name  string
		extra []string
		msgs  []string
	}{
		{"size bound", []string{"--max-decompressed-bytes", "32MiB", "--max-compression-ratio", "0"}, []string{
			"a.gz: at offset 33554432: decompression limit exceeded: more than 33554432 bytes decompressed",
			"b.zst: at offset 33554432: decompression limit exceeded: more than 33554432 bytes decompressed",
		}},
		{"ratio bound", nil, []string{"a.gz: at offset 67", "a ratio over 1000:1", "b.zst: at offset 67"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := replayHostile(t, c.extra, dir)
			t.Logf("%s: %v", c.name, h.mem)
			if h.code != exitInputFailed {
				t.Fatalf("exit %d, want 1; stderr:\n%s", h.code, h.stderr)
			}
			for _, m := range append(c.msgs, "matchd: 2 input(s) could not be read to the end") {
				if !strings.Contains(h.stderr, m) {
					t.Errorf("stderr lacks %q:\n%s", m, h.stderr)
				}
			}
			if strings.Join(h.alerts, " ") != "c.cef:1" {
				t.Errorf("alerts %q: the input after the bombs was not replayed", h.alerts)
			}
			if len(h.rejects) != 2 || !strings.HasSuffix(h.rejects[0], "record longer than 16777216 bytes") {
				t.Errorf("rejects %q", h.rejects)
			}
			if h.mem.Growth() > 512<<20 {
				t.Errorf("heap grew by %d MiB", h.mem.Growth()>>20)
			}
		})
	}
	for _, bad := range []string{"0", "-1", "1XB", "lots"} {
		r := runMatchd(t, "", "replay", "--iocs", seed, "--max-decompressed-bytes", bad, dir)
		if r.code != exitUsage || !strings.Contains(r.stderr, "invalid size") {
			t.Errorf("--max-decompressed-bytes %s: exit %d, %s", bad, r.code, r.stderr)
		}
	}
	if r := runMatchd(t, "", "replay", "--iocs", seed, "--max-compression-ratio", "-5", dir); r.code != exitUsage {
		t.Errorf("--max-compression-ratio -5: exit %d", r.code)
	}
}

// TestHostilePaths: a directory with a symlink loop is replayed once and
// ends; a loop of links given as a path is a failed input.
func TestHostilePaths(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	writeFile(t, filepath.Join(logs, "a.cef"), []byte(hit+"\n"))
	os.Symlink("..", filepath.Join(logs, "up"))
	os.Symlink("self", filepath.Join(dir, "self"))
	done := make(chan hostileRun, 1)
	go func() { done <- replayHostile(t, nil, logs, filepath.Join(dir, "self")) }()
	var h hostileRun
	select {
	case h = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("replay of a directory with a symlink loop does not end")
	}
	if h.code != exitInputFailed || !strings.Contains(h.stderr, "self: too many levels of symbolic links") {
		t.Errorf("exit %d, stderr:\n%s", h.code, h.stderr)
	}
	// logs is read once: directly, not again through logs/up/logs.
	if strings.Join(h.alerts, " ") != "a.cef:1" {
		t.Errorf("alerts %q", h.alerts)
	}
}

// TestFeedWrongFormat: a file that is not a feed given as --iocs is a usage
// error naming the file and saying what it is.
func TestFeedWrongFormat(t *testing.T) {
	dir := t.TempDir()
	cefLog := filepath.Join(demoDir, "firewall.cef")
	seedData, _ := os.ReadFile(seed)
	gzFeed := filepath.Join(dir, "iocs.txt.gz")
	writeFile(t, gzFeed, gz(t, seedData))
	png := filepath.Join(dir, "logo.png")
	writeFile(t, png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"))
	for _, c := range []struct{ path, msg string }{
		{gzFeed, gzFeed + ": unrecognised feed format: binary content (compressed or not a feed?)"},
		{png, png + ": unrecognised feed format: binary content (compressed or not a feed?)"},
		{cefLog, cefLog + ": no indicators (6 bad entries, 0 skipped): it looks like a CEF log, not a threat feed"},
		{filepath.Join(demoDir, "network-events.json"), "network-events.json: no indicators (7 bad entries, 0 skipped): it looks like log records, not a threat feed"},
	} {
		for _, cmd := range []string{"replay", "check"} {
			r := runMatchd(t, "", cmd, "--iocs", c.path, demoDir)
			if r.code != exitUsage || !strings.Contains(r.stderr+r.stdout, c.msg) {
				t.Errorf("%s --iocs %s: exit %d, output:\n%s%s\nwant %q", cmd, c.path, r.code, r.stdout, r.stderr, c.msg)
			}
		}
	}
}
