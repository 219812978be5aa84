package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Decompression limits.
//
// Framing already bounds memory: a line is cut at MaxRecordBytes whatever
// the input expands to. What a decompression bomb still costs is time, one
// pass over everything it expands to, so two bounds stop it early:
//
//   - MaxDecompressedBytes, an absolute bound per input, high enough for
//     any real archive file (64 GiB);
//   - MaxCompressionRatio, decompressed over compressed bytes, checked once
//     an input has expanded past ratioFloor. Deflate cannot exceed about
//     1032:1 and reaches it only on a run of one byte; log archives stay
//     far below 100:1 (timestamps and addresses differ from line to line),
//     while a zstd bomb reaches 10,000:1 and more. At 1000:1 a gzip bomb is
//     stopped after 64 MiB, not after the absolute bound.
//
// The compressed count is what the decoder has taken from the input's
// buffer: the buffer's read-ahead (256 KiB) would hide a gzip bomb's
// 1032:1 behind 1000:1 for gigabytes.
const (
	DefaultMaxDecompressedBytes = 64 << 30
	DefaultMaxCompressionRatio  = 1000
	ratioFloor                  = 64 << 20
)

// ErrDecompressionLimit is the cause (check with errors.Is) of an
// InputError for an input that expanded past MaxDecompressedBytes or
// MaxCompressionRatio.
var ErrDecompressionLimit = errors.New("decompression limit exceeded")

// guard bounds the decompressing reader dec of input in, which reads the
// compressed bytes from buf.
func (r *Replay) guard(in *input, buf *bufio.Reader, dec io.Reader) io.Reader {
	return &expansionGuard{
		r:     dec,
		max:   r.cfg.MaxDecompressedBytes,
		ratio: r.cfg.MaxCompressionRatio,
		raw:   func() int64 { return r.readRaw.Load() - in.raw0 - int64(buf.Buffered()) },
	}
}

// expansionGuard passes reads through until the decompressed data exceeds
// max bytes or ratio times the compressed bytes read (a negative bound is
// none), then fails with ErrDecompressionLimit. An input of exactly max
// bytes passes.
type expansionGuard struct {
	r     io.Reader
	n     int64 // decompressed bytes returned
	max   int64
	ratio int64
	raw   func() int64 // compressed bytes read
	err   error        // sticky limit error
}

func (g *expansionGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.max >= 0 {
		left := g.max - g.n
		if left <= 0 {
			// At the bound: one more byte is one too many, EOF is fine.
			var one [1]byte
			n, err := g.r.Read(one[:])
			if n > 0 {
				g.err = fmt.Errorf("%w: more than %d bytes decompressed", ErrDecompressionLimit, g.max)
				return 0, g.err
			}
			return 0, err
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.ratio >= 0 && g.n > ratioFloor {
		if raw := g.raw(); g.n > g.ratio*max(raw, 1) {
			g.err = fmt.Errorf("%w: %d bytes decompressed from %d, a ratio over %d:1", ErrDecompressionLimit, g.n, raw, g.ratio)
			return n, g.err
		}
	}
	return n, err
}
