package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// refLine is what the reference framing expects of one line.
type refLine struct {
	b       []byte
	partial bool // cut off by the decompression limit
}

// refFrame is the reference framing: bytes.Split on '\n', the empty piece
// after a final newline dropped. When limit cuts data short, the lines are
// those of data[:limit] and the last one is partial unless the cut falls
// just after a newline.
func refFrame(data []byte, limit int) (lines []refLine, failed bool) {
	if limit >= 0 && limit < len(data) {
		data, failed = data[:limit], true
	}
	if len(data) == 0 {
		return nil, failed
	}
	parts := bytes.Split(data, []byte{'\n'})
	last := len(parts) - 1
	if len(parts[last]) == 0 {
		parts = parts[:last]
		last = -1
	}
	for i, p := range parts {
		lines = append(lines, refLine{b: p, partial: failed && i == last})
	}
	return lines, failed
}

// FuzzReplay checks the framing of Replay against refFrame: every line in
// order with its number, over-long lines rejected with a prefix of their
// bytes, a decompressed input cut at MaxDecompressedBytes failing there,
// whatever the batch size, record limit and compression.
func FuzzReplay(f *testing.F) {
	for _, s := range []string{"a\nb", "a\r\nb\r\n", "\n\n\x00\n", "CEF:0|a|b|1|2|n|1|src=10.0.0.1\n{\"x\":1}\n", strings.Repeat("x", 300) + "\nshort\n"} {
		for mode := range uint8(3) {
			f.Add([]byte(s), mode, uint16(8), uint16(16), uint32(0))
			f.Add([]byte(s), mode, uint16(1000), uint16(3), uint32(4*7+1))
		}
	}
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cef", "*", "*.cef"))
	more, _ := filepath.Glob(filepath.Join(dir, "cef", "*", "*", "*.log"))
	files = append(append(files, more...), filepath.Join(dir, "sentinel", "RadiflowIsid_RawLogs.txt"))
	for i, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data, uint8(i%3), uint16(64+i*37), uint16(100+i*53), uint32(i*1009))
		}
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, maxRec, batch uint16, limitSel uint32) {
		cfg := ReplayConfig{
			MaxRecordBytes:       1 + int(maxRec%600),
			BatchBytes:           1 + int(batch%200),
			MaxDecompressedBytes: -1,
			MaxCompressionRatio:  -1,
		}
		limit := -1
		var in []byte
		switch mode % 3 {
		case 0:
			if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				return // would be read as compressed
			}
			in = data
		case 1:
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(data)
			w.Close()
			in = b.Bytes()
		case 2:
			in = enc.EncodeAll(data, nil)
		}
		if mode%3 != 0 && limitSel%4 != 0 {
			limit = 1 + int(limitSel>>2)%(len(data)+1)
			cfg.MaxDecompressedBytes = int64(limit)
		}
		cfg.Stdin = bytes.NewReader(in)
		r, err := NewReplay([]string{"-"}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []Line
		var errs []error
		for {
			b, _, err := r.ReadBatch(context.Background())
			if errors.Is(err, ErrEndOfInput) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range b.Lines {
				l.B = bytes.Clone(l.B)
				got = append(got, l)
			}
			if b.Err != nil {
				errs = append(errs, b.Err)
			}
		}

		want, failed := refFrame(data, limit)
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d (cfg %+v, limit %d)", len(got), len(want), cfg, limit)
		}
		tooLong := "record longer than " + strconv.Itoa(cfg.MaxRecordBytes) + " bytes"
		for i, w := range want {
			g := got[i]
			if g.Origin.Line != int64(i+1) || g.Origin.Path != "-" {
				t.Fatalf("line %d: origin %+v", i+1, g.Origin)
			}
			switch {
			case w.partial && len(w.b) <= cfg.MaxRecordBytes:
				if !strings.HasPrefix(g.Reject, "input ends inside this record: ") || !bytes.Equal(g.B, w.b) {
					t.Fatalf("partial line %d: %q %q, want the cut line %q", i+1, g.Reject, g.B, w.b)
				}
			case len(w.b) > cfg.MaxRecordBytes:
				if g.Reject != tooLong && !(w.partial && strings.HasPrefix(g.Reject, "input ends inside this record: ")) {
					t.Fatalf("line %d of %d bytes: reject %q", i+1, len(w.b), g.Reject)
				}
				if !bytes.HasPrefix(w.b, g.B) ||
					g.Reject == tooLong && (len(g.B) < min(len(w.b), cfg.MaxRecordBytes+1, 4<<10) || len(g.B) > 4<<10) {
					t.Fatalf("line %d: rejected with %d bytes %q of %q", i+1, len(g.B), g.B, w.b)
				}
			default:
				if g.Reject != "" || !bytes.Equal(g.B, w.b) {
					t.Fatalf("line %d: %q %q, want %q", i+1, g.Reject, g.B, w.b)
				}
			}
		}
		if !failed {
			if len(errs) != 0 {
				t.Fatalf("errors %v", errs)
			}
			return
		}
		var ie *InputError
		if len(errs) != 1 || !errors.As(errs[0], &ie) || ie.Offset != int64(limit) || !errors.Is(ie, ErrDecompressionLimit) {
			t.Fatalf("errors %v, want the decompression limit at %d", errs, limit)
		}
	})
}
