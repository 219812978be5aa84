package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/matchd/matchd/internal/memtest"
)

// replayed is everything a replay yielded, copied out of its batches.
type replayed struct {
	lines []Line
	errs  []error
}

// lineStrings returns "path:line text" or "path:line REJECT reason" per line.
func (r *replayed) lineStrings() []string {
	var out []string
	for _, l := range r.lines {
		s := filepath.Base(l.Origin.Path) + ":" + strconv.FormatInt(l.Origin.Line, 10) + " "
		if l.Reject != "" {
			s += "REJECT " + l.Reject
		} else {
			s += string(l.B)
		}
		out = append(out, s)
	}
	return out
}

// replayAll reads paths to the end, keeping up to 1 MiB of each line.
func replayAll(t testing.TB, paths []string, cfg ReplayConfig) *replayed {
	t.Helper()
	r, err := NewReplay(paths, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out replayed
	var seq uint64
	for {
		b, ack, err := r.ReadBatch(context.Background())
		if errors.Is(err, ErrEndOfInput) {
			return &out
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Seq != seq+1 {
			t.Fatalf("batch %d after %d", b.Seq, seq)
		}
		seq = b.Seq
		for _, l := range b.Lines {
			l.B = bytes.Clone(l.B[:min(len(l.B), 1<<20)])
			out.lines = append(out.lines, l)
		}
		if b.Err != nil {
			out.errs = append(out.errs, b.Err)
		}
		ack(nil)
	}
}

func write(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayFraming: lines are cut at '\n' only; everything else in a line,
// '\r', NUL and invalid UTF-8 included, reaches the decoder as it is, and
// a line over MaxRecordBytes is a reject with its reason and line number.
func TestReplayFraming(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    string
		max   int
		batch int
		want  []string
	}{
		{"no newline at EOF", "a\nb", 0, 0, []string{"-:1 a", "-:2 b"}},
		{"CRLF", "a\r\nb\r\n", 0, 0, []string{"-:1 a\r", "-:2 b\r"}},
		{"NUL bytes", "a\x00b\n\x00\n", 0, 0, []string{"-:1 a\x00b", "-:2 \x00"}},
		{"invalid UTF-8", "\xff\xfe\xc3\n", 0, 0, []string{"-:1 \xff\xfe\xc3"}},
		{"blank lines", "\n\n", 0, 0, []string{"-:1 ", "-:2 "}},
		{"empty input", "", 0, 0, nil},
		{"over-long line", "abcdefgh\nok\n", 4, 0, []string{"-:1 REJECT record longer than 4 bytes", "-:2 ok"}},
		{"over-long last line without newline", "ok\nabcdefgh", 4, 0, []string{"-:1 ok", "-:2 REJECT record longer than 4 bytes"}},
		{"at the limit", "abcd\n", 4, 0, []string{"-:1 abcd"}},
		{"over-long across batches", "abcdefghijklmnop\nq\nrstuvwxyz", 5, 4,
			[]string{"-:1 REJECT record longer than 5 bytes", "-:2 q", "-:3 REJECT record longer than 5 bytes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := replayAll(t, []string{"-"}, ReplayConfig{MaxRecordBytes: c.max, BatchBytes: c.batch, Stdin: strings.NewReader(c.in)})
			if len(got.errs) > 0 {
				t.Fatalf("errors: %v", got.errs)
			}
			if g := got.lineStrings(); strings.Join(g, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got  %q\nwant %q", g, c.want)
			}
		})
	}
}

// longLine streams head, then n bytes of 'A' with no newline, then tail,
// without holding the long line in memory.
type longLine struct {
	head, tail []byte
	n          int64
}

func (l *longLine) Read(p []byte) (int, error) {
	if len(l.head) > 0 {
		k := copy(p, l.head)
		l.head = l.head[k:]
		return k, nil
	}
	if l.n > 0 {
		k := int(min(int64(len(p)), l.n))
		for i := range k {
			p[i] = 'A'
		}
		l.n -= int64(k)
		return k, nil
	}
	if len(l.tail) > 0 {
		k := copy(p, l.tail)
		l.tail = l.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestReplayRecord100MB: a 100 MB line is rejected once --max-record-bytes
// is reached and skipped to its end without being held; the lines around
// it are read. The heap stays near the record limit, not the line.
func TestReplayRecord100MB(t *testing.T) {
	const size = 100 << 20
	for _, limit := range []int{1 << 20, 16 << 20} {
		t.Run(strconv.Itoa(limit>>20)+"MiB", func(t *testing.T) {
			size := size
			if s := os.Getenv("MATCHD_LONG_LINE_MIB"); s != "" {
				n, _ := strconv.Atoi(s)
				size = n << 20
			}
			in := &longLine{head: []byte("first\n"), n: int64(size), tail: []byte("\nlast")}
			w := memtest.Start()
			got := replayAll(t, []string{"-"}, ReplayConfig{MaxRecordBytes: limit, Stdin: in})
			st := w.Stop()
			t.Logf("%d MiB line, --max-record-bytes %d MiB: %v", size>>20, limit>>20, st)
			want := []string{"-:1 first", "-:2 REJECT record longer than " + strconv.Itoa(limit) + " bytes", "-:3 last"}
			if g := got.lineStrings(); strings.Join(g, "\n") != strings.Join(want, "\n") {
				t.Errorf("got  %q\nwant %q", g, want)
			}
			if n := len(got.lines[1].B); n != 4<<10 {
				t.Errorf("rejected line keeps %d bytes, want its first 4 KiB", n)
			}
			// The pending buffer grows to twice the limit at most; with
			// the batch buffers handed on and garbage not yet collected
			// the heap peaks at about six times the limit, whatever the
			// line's length (MATCHD_LONG_LINE_MIB=2048 shows it). Holding
			// the line would take 100 MiB.
			if bound := uint64(max(48<<20, 8*limit)); st.Growth() > bound {
				t.Errorf("heap grew by %d bytes, bound %d", st.Growth(), bound)
			}
		})
	}
}

// bomb returns 1 GiB of zeros compressed: 128 gzip members or zstd frames
// of 8 MiB each, concatenated (about 1 MB of gzip, 1031:1, and 30 KB of
// zstd). One member or frame of 1 GiB expands the same way but takes
// seconds to write, and minutes under the race detector.
func bomb(t testing.TB, format string) []byte {
	t.Helper()
	zeros := make([]byte, 8<<20)
	var one bytes.Buffer
	switch format {
	case "gzip":
		w, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
		w.Write(zeros)
		w.Close()
	case "zstd":
		w, err := zstd.NewWriter(&one, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
		w.Close()
	}
	return bytes.Repeat(one.Bytes(), 128)
}

// TestReplayDecompressionBomb: 1 GiB of zeros in a small gzip or zstd file
// is stopped at MaxDecompressedBytes or by the ratio bound, reported as an
// InputError naming the file and the offset, and the next input is read.
func TestReplayDecompressionBomb(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"gzip", "zstd"} {
		data := bomb(t, f)
		t.Logf("%s bomb: %d bytes, expands to 1 GiB (%.0f:1)", f, len(data), float64(1<<30)/float64(len(data)))
		write(t, filepath.Join(dir, "a-bomb."+f), data)
	}
	write(t, filepath.Join(dir, "b-ok.log"), []byte("after the bombs\n"))
	for _, c := range []struct {
		name       string
		cfg        ReplayConfig
		minOff     int64
		maxOff     int64
		reasonPart string
	}{
		{"size bound", ReplayConfig{MaxDecompressedBytes: 32 << 20, MaxCompressionRatio: -1}, 32 << 20, 32 << 20, "more than 33554432 bytes decompressed"},
		{"ratio bound", ReplayConfig{}, ratioFloor, ratioFloor + 2<<20, "a ratio over 1000:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := memtest.Start()
			got := replayAll(t, []string{dir}, c.cfg)
			st := w.Stop()
			t.Logf("%s: %v", c.name, st)
			if len(got.errs) != 2 {
				t.Fatalf("errors %v, want one per bomb", got.errs)
			}
			for i, f := range []string{"gzip", "zstd"} {
				var ie *InputError
				if !errors.As(got.errs[i], &ie) || filepath.Base(ie.Path) != "a-bomb."+f || !errors.Is(ie, ErrDecompressionLimit) {
					t.Fatalf("error %d: %v", i, got.errs[i])
				}
				if ie.Offset < c.minOff || ie.Offset > c.maxOff || !strings.Contains(ie.Error(), c.reasonPart) {
					t.Errorf("%v: want offset in [%d, %d] and %q", ie, c.minOff, c.maxOff, c.reasonPart)
				}
				t.Logf("%v", ie)
			}
			// Each bomb is one over-long line of zeros: rejected once.
			want := []string{"a-bomb.gzip:1 REJECT record longer than 16777216 bytes", "a-bomb.zstd:1 REJECT record longer than 16777216 bytes", "b-ok.log:1 after the bombs"}
			if g := got.lineStrings(); strings.Join(g, "\n") != strings.Join(want, "\n") {
				t.Errorf("got  %q\nwant %q", g, want)
			}
			if st.Growth() > 256<<20 {
				t.Errorf("heap grew by %d bytes", st.Growth())
			}
		})
	}
}

// TestReplayDecompressedLimitExact: an input that expands to exactly
// MaxDecompressedBytes passes; one byte less fails at that offset, with the
// line cut there rejected.
func TestReplayDecompressedLimitExact(t *testing.T) {
	plain := bytes.Repeat([]byte("CEF:0|v|p|1|1|n|1|src=10.0.0.1\n"), 1000)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(plain)
	w.Close()
	path := write(t, filepath.Join(t.TempDir(), "x.gz"), z.Bytes())
	n := int64(len(plain))

	got := replayAll(t, []string{path}, ReplayConfig{MaxDecompressedBytes: n})
	if len(got.errs) != 0 || len(got.lines) != 1000 {
		t.Fatalf("at the limit: %d lines, errors %v", len(got.lines), got.errs)
	}
	got = replayAll(t, []string{path}, ReplayConfig{MaxDecompressedBytes: n - 1})
	var ie *InputError
	if len(got.errs) != 1 || !errors.As(got.errs[0], &ie) || ie.Offset != n-1 || !errors.Is(ie, ErrDecompressionLimit) {
		t.Fatalf("one byte under: errors %v", got.errs)
	}
	last := got.lines[len(got.lines)-1]
	if len(got.lines) != 1000 || last.Reject != "input ends inside this record: "+ie.Err.Error() || last.Origin.Line != 1000 {
		t.Errorf("one byte under: %d lines, last %+v", len(got.lines), last)
	}
}

// TestReplayPaths: what a path can be besides a regular file.
func TestReplayPaths(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(filepath.Join(logs, "sub"), 0o755)
	write(t, filepath.Join(logs, "a.log"), []byte("a1\n"))
	write(t, filepath.Join(logs, "sub", "b.log"), []byte("b1\n"))
	mustSymlink(t, "..", filepath.Join(logs, "sub", "up"))     // a loop to the parent
	mustSymlink(t, ".", filepath.Join(logs, "self"))           // a loop to itself
	mustSymlink(t, "a.log", filepath.Join(logs, "c-link.log")) // a link to a file
	mustSymlink(t, "loop2", filepath.Join(dir, "loop1"))       // a loop of links
	mustSymlink(t, "loop1", filepath.Join(dir, "loop2"))
	mustSymlink(t, "logs", filepath.Join(dir, "logs-link"))
	if err := syscall.Mkfifo(filepath.Join(logs, "d-fifo"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("directory with symlink loops", func(t *testing.T) {
		done := make(chan *replayed)
		go func() { done <- replayAll(t, []string{logs}, ReplayConfig{}) }()
		var got *replayed
		select {
		case got = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("replay of a directory with symlink loops does not end")
		}
		// Each directory once; the FIFO inside is left out.
		want := []string{"a.log:1 a1", "c-link.log:1 a1", "b.log:1 b1"}
		if g := got.lineStrings(); strings.Join(g, "\n") != strings.Join(want, "\n") || len(got.errs) != 0 {
			t.Errorf("got %q, errors %v; want %q", g, got.errs, want)
		}
	})
	t.Run("symlink to a directory", func(t *testing.T) {
		got := replayAll(t, []string{filepath.Join(dir, "logs-link")}, ReplayConfig{})
		if len(got.lines) != 3 || len(got.errs) != 0 {
			t.Errorf("got %q, errors %v", got.lineStrings(), got.errs)
		}
	})
	t.Run("loop of links", func(t *testing.T) {
		got := replayAll(t, []string{filepath.Join(dir, "loop1"), filepath.Join(logs, "a.log")}, ReplayConfig{})
		var ie *InputError
		if len(got.errs) != 1 || !errors.As(got.errs[0], &ie) || ie.Path != filepath.Join(dir, "loop1") || ie.Offset != -1 ||
			!errors.Is(ie, syscall.ELOOP) {
			t.Fatalf("errors %v", got.errs)
		}
		t.Logf("%v", ie)
		if len(got.lines) != 1 {
			t.Errorf("the input after the loop was not read: %q", got.lineStrings())
		}
	})
	t.Run("FIFO named as a path", func(t *testing.T) {
		fifo := filepath.Join(logs, "d-fifo")
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write([]byte("through the pipe\n"))
			f.Close()
		}()
		got := replayAll(t, []string{fifo}, ReplayConfig{})
		if g := got.lineStrings(); len(g) != 1 || g[0] != "d-fifo:1 through the pipe" || len(got.errs) != 0 {
			t.Errorf("got %q, errors %v", g, got.errs)
		}
	})
	t.Run("read error after open", func(t *testing.T) {
		// Root reads any file whatever its mode, so a permission error
		// cannot be staged when the tests run as root; /proc/self/mem
		// opens but fails its first read (EIO at address 0).
		if _, err := os.Stat("/proc/self/mem"); err != nil {
			t.Skip("no /proc/self/mem")
		}
		got := replayAll(t, []string{"/proc/self/mem", filepath.Join(logs, "a.log")}, ReplayConfig{})
		var ie *InputError
		if len(got.errs) != 1 || !errors.As(got.errs[0], &ie) || ie.Offset != 0 || !errors.Is(ie, syscall.EIO) {
			t.Fatalf("errors %v", got.errs)
		}
		t.Logf("%v", ie)
		if len(got.lines) != 1 {
			t.Errorf("the input after the failed one was not read: %q", got.lineStrings())
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, which reads files whatever their mode; see the read error case")
		}
		p := write(t, filepath.Join(dir, "secret.log"), []byte("x\n"))
		os.Chmod(p, 0)
		got := replayAll(t, []string{p}, ReplayConfig{})
		var ie *InputError
		if len(got.errs) != 1 || !errors.As(got.errs[0], &ie) || ie.Offset != -1 || !errors.Is(ie, os.ErrPermission) {
			t.Fatalf("errors %v", got.errs)
		}
	})
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
