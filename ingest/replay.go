package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/matchd/matchd/matcher"
)

// ErrEndOfInput ends a replay: ReadBatch returns it after the last batch.
var ErrEndOfInput = errors.New("end of input")

// AckFunc is called once a batch's alerts are written (err == nil) or could
// not be (err != nil). Replay has nothing to acknowledge; the Kafka source
// commits offsets.
type AckFunc func(err error)

// Line is one input line without its newline.
type Line struct {
	B      []byte
	Origin matcher.Origin
	// Reject, when not empty, says why the line cannot be parsed at all
	// (over --max-record-bytes, cut off by a broken input); B then holds its
	// first bytes only.
	Reject string
}

// Batch is a run of consecutive lines of one input, in order. Err, when set,
// is an input error met after the lines (a missing file, a corrupt or
// truncated archive): the input could not be read to its end.
type Batch struct {
	Seq   uint64
	Lines []Line
	Err   error
	// Gate, when set, must return before the batch's alerts are written:
	// nil to write them; ErrNotWritten to drop them unwritten (the source
	// delivers the records again elsewhere), after which the batch is
	// acknowledged with that error; any other error is a write error.
	Gate func() error
}

// ErrNotWritten is what a Gate returns for a batch that must not be
// written.
var ErrNotWritten = errors.New("batch dropped unwritten: its records are delivered again")

// InputError says which input could not be read to its end, and where.
type InputError struct {
	Path string
	// Offset is the byte offset in the (decompressed) input where reading
	// stopped; -1 when the input could not be opened.
	Offset int64
	Err    error
}

func (e *InputError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: at offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// ReplayConfig configures a Replay. The zero value is usable.
type ReplayConfig struct {
	// BatchBytes is the target size of a batch (default 1 MiB).
	BatchBytes int
	// MaxRecordBytes bounds one line; longer lines are rejected (default
	// 16 MiB).
	MaxRecordBytes int
	// Stdin is read for the path "-" (default os.Stdin).
	Stdin io.Reader
	// MaxDecompressedBytes bounds what one gzip or zstd input may expand
	// to (default 64 GiB; negative: no bound). Past it the input fails
	// with ErrDecompressionLimit and the replay goes on with the next one.
	// Plain inputs are not bounded: they hold what they hold.
	MaxDecompressedBytes int64
	// MaxCompressionRatio bounds decompressed/compressed bytes of one
	// input once it has expanded past 64 MiB (default 1000; negative: no
	// bound); see limit.go.
	MaxCompressionRatio int64
}

func (c *ReplayConfig) validate() error {
	if c.BatchBytes == 0 {
		c.BatchBytes = 1 << 20
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = 16 << 20
	}
	if c.Stdin == nil {
		c.Stdin = os.Stdin
	}
	if c.MaxDecompressedBytes == 0 {
		c.MaxDecompressedBytes = DefaultMaxDecompressedBytes
	}
	if c.MaxCompressionRatio == 0 {
		c.MaxCompressionRatio = DefaultMaxCompressionRatio
	}
	if c.BatchBytes < 1 || c.MaxRecordBytes < 1 {
		return fmt.Errorf("batch and record sizes must be positive")
	}
	return nil
}

// Replay reads archived logs: files in the order given, a directory's files
// recursively in name order (links followed, each directory once: see
// listDir), "-" for stdin. It is not safe for concurrent
// use; one goroutine calls ReadBatch.
type Replay struct {
	cfg   ReplayConfig
	paths []string // expanded lazily: directories are walked when reached
	seq   uint64

	cur      *input
	pending  []byte // start of a line carried over to the next batch
	readRaw  atomic.Int64
	skipping bool            // discarding the rest of an over-long line
	listed   map[string]bool // directories listed, by resolved path (walk.go)
	// lastLines is the line count of the previous batch.
	lastLines int
}

// NewReplay returns a Replay over paths.
func NewReplay(paths []string, cfg ReplayConfig) (*Replay, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Replay{cfg: cfg, paths: slices.Clone(paths)}, nil
}

// BytesRead returns the raw (compressed) bytes read so far; safe to call
// from any goroutine.
func (r *Replay) BytesRead() int64 { return r.readRaw.Load() }

// TotalBytes returns the summed size of the regular files among paths
// (directories walked), for progress reporting.
func TotalBytes(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if p == "-" {
			continue
		}
		filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					n += fi.Size()
				}
			}
			return nil
		})
	}
	return n
}

type input struct {
	path   string
	f      io.Closer
	r      io.Reader
	dec    io.Closer // zstd decoder
	line   int64
	offset int64 // decompressed bytes consumed into lines
	eof    bool
	raw0   int64 // BytesRead when the input was opened
}

func (in *input) close() {
	if in.dec != nil {
		in.dec.Close()
	}
	if in.f != nil {
		in.f.Close()
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// open opens the next path; directories are expanded in place.
func (r *Replay) open() (*input, error) {
	for len(r.paths) > 0 {
		p := r.paths[0]
		r.paths = r.paths[1:]
		var f io.ReadCloser
		if p == "-" {
			f = io.NopCloser(r.cfg.Stdin)
		} else {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, &InputError{Path: p, Offset: -1, Err: errors.Unwrap(err)}
			}
			if fi.IsDir() {
				files, err := r.listDir(p)
				if err != nil {
					return nil, &InputError{Path: p, Offset: -1, Err: unwrapPath(err)}
				}
				r.paths = append(files, r.paths...)
				continue
			}
			of, err := os.Open(p)
			if err != nil {
				return nil, &InputError{Path: p, Offset: -1, Err: errors.Unwrap(err)}
			}
			f = of
		}
		in := &input{path: p, f: f, raw0: r.readRaw.Load()}
		br := bufio.NewReaderSize(countingReader{f, &r.readRaw}, 256<<10)
		magic, _ := br.Peek(4)
		switch {
		case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
			zr, err := gzip.NewReader(br)
			if err != nil {
				in.close()
				return nil, &InputError{Path: p, Offset: 0, Err: fmt.Errorf("gzip: %w", err)}
			}
			in.r = r.guard(in, br, zr)
		case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
			if err != nil {
				in.close()
				return nil, &InputError{Path: p, Offset: 0, Err: fmt.Errorf("zstd: %w", err)}
			}
			in.r, in.dec = r.guard(in, br, zr), zstdCloser{zr}
		default:
			in.r = br
		}
		return in, nil
	}
	return nil, io.EOF
}

type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Close() error { z.d.Close(); return nil }

// ReadBatch returns the next batch of lines. Each batch holds lines of one
// input only. It returns ErrEndOfInput after the last input, and a batch
// with Err set (and possibly no lines) when an input fails; reading goes on
// with the next input. ctx cancels between reads.
func (r *Replay) ReadBatch(ctx context.Context) (*Batch, AckFunc, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if r.cur == nil {
			in, err := r.open()
			if err == io.EOF {
				return nil, nil, ErrEndOfInput
			}
			if err != nil {
				r.seq++
				return &Batch{Seq: r.seq, Err: err}, noAck, nil
			}
			r.cur = in
			r.pending = r.pending[:0]
			r.skipping = false
		}
		b, done := r.fill()
		if done {
			r.cur.close()
			r.cur = nil
		}
		if len(b.Lines) > 0 || b.Err != nil {
			r.seq++
			b.Seq = r.seq
			return b, noAck, nil
		}
	}
}

func noAck(error) {}

// fill reads about one batch of the current input. done reports that the
// input has ended (at EOF or on an error, which is then in the batch).
func (r *Replay) fill() (b *Batch, done bool) {
	in := r.cur
	// Size the line table like the last batch's, so it is not regrown
	// (and copied) a dozen times per batch.
	b = &Batch{Lines: make([]Line, 0, r.lastLines+r.lastLines/8+16)}
	defer func() { r.lastLines = len(b.Lines) }()
	size := max(r.cfg.BatchBytes, 2*len(r.pending))
	buf := make([]byte, 0, size)
	buf = append(buf, r.pending...)
	r.pending = r.pending[:0]
	var rerr error
	for len(buf) < cap(buf) {
		n, err := in.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			rerr = err
			break
		}
		if n == 0 {
			continue
		}
		if bytes.IndexByte(buf[len(buf)-n:], '\n') >= 0 && len(buf) >= cap(buf)/2 {
			break
		}
	}
	// Split complete lines.
	rest := buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		r.emit(b, rest[:i], i+1)
		rest = rest[i+1:]
	}
	switch {
	case rerr == io.EOF:
		if len(rest) > 0 { // last line without a newline
			r.emit(b, rest, len(rest))
		}
		return b, true
	case rerr != nil:
		rerr = unwrapPath(rerr)
		if len(rest) > 0 && !r.skipping {
			in.line++
			b.Lines = append(b.Lines, Line{B: rest, Origin: matcher.Origin{Path: in.path, Line: in.line}, Reject: "input ends inside this record: " + rerr.Error()})
		}
		b.Err = &InputError{Path: in.path, Offset: in.offset + int64(len(rest)), Err: rerr}
		return b, true
	}
	// Carry the unfinished line over.
	if r.skipping {
		in.offset += int64(len(rest))
		return b, false
	}
	if len(rest) > r.cfg.MaxRecordBytes {
		in.line++
		in.offset += int64(len(rest))
		b.Lines = append(b.Lines, Line{B: rest[:min(len(rest), 4<<10)], Origin: matcher.Origin{Path: in.path, Line: in.line},
			Reject: fmt.Sprintf("record longer than %d bytes", r.cfg.MaxRecordBytes)})
		r.skipping = true
		return b, false
	}
	r.pending = append(r.pending, rest...)
	return b, false
}

// emit adds one complete line of n input bytes (newline included).
func (r *Replay) emit(b *Batch, line []byte, n int) {
	in := r.cur
	in.offset += int64(n)
	if r.skipping { // the tail of an over-long line, already rejected
		r.skipping = false
		return
	}
	in.line++
	if len(line) > r.cfg.MaxRecordBytes {
		b.Lines = append(b.Lines, Line{B: line[:min(len(line), 4<<10)], Origin: matcher.Origin{Path: in.path, Line: in.line},
			Reject: fmt.Sprintf("record longer than %d bytes", r.cfg.MaxRecordBytes)})
		return
	}
	b.Lines = append(b.Lines, Line{B: line, Origin: matcher.Origin{Path: in.path, Line: in.line}})
}
