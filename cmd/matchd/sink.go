package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matchd/matchd/ingest/kafka"
)

// sink takes consume's alert or reject lines. write buffers them; prepare
// runs under outputs.mu and returns the step, run outside the lock, that
// makes everything written before it durable.
type sink interface {
	write(p []byte) error
	prepare() (durable func(ctx context.Context) error, err error)
	close() error
}

// fileSink appends lines to a file, or writes them to stdout.
type fileSink struct {
	f      *os.File
	w      *retryBuffer
	isFile bool
}

// retryBuffer buffers writes to out. Unlike bufio.Writer, whose first
// error is permanent, a failed flush keeps what was not written, so the
// next flush — the next sync, once the full disk has room again —
// continues where it stopped, and the consumer resumes committing.
type retryBuffer struct {
	out  io.Writer
	buf  []byte
	size int
}

func newRetryBuffer(out io.Writer, size int) *retryBuffer {
	return &retryBuffer{out: out, buf: make([]byte, 0, size), size: size}
}

// Write buffers p and flushes once size bytes are waiting. p stays
// buffered even if that flush fails.
func (b *retryBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) >= b.size {
		if err := b.Flush(); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// Flush writes what is buffered; on an error it keeps the rest.
func (b *retryBuffer) Flush() error {
	n, err := b.out.Write(b.buf)
	b.buf = b.buf[:copy(b.buf, b.buf[n:])]
	return err
}

// openFileSink opens path for appending ("" or "-": stdout). Appending
// keeps the alerts of earlier runs: a restarted consumer continues the
// file.
func openFileSink(path string, stdout io.Writer) (*fileSink, error) {
	if path == "" || path == "-" {
		if f, ok := stdout.(*os.File); ok {
			return &fileSink{f: f, w: newRetryBuffer(f, 256<<10)}, nil
		}
		return &fileSink{w: newRetryBuffer(stdout, 256<<10)}, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := dropTornLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &fileSink{f: f, w: newRetryBuffer(f, 256<<10), isFile: true}, nil
}

// dropTornLine cuts an incomplete last line off f: the start of a write
// that never completed, because the process was killed between two
// writes of a buffer or the disk filled up. Appending after it would glue
// the next line onto it, breaking both. Nothing was committed past it — a
// commit follows a flush and fsync that succeeded, and that flush would
// have completed the line — so its records are delivered again and their
// lines written whole.
func dropTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return err
	}
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if pos+int64(i)+1 == end {
				return nil
			}
			return f.Truncate(pos + int64(i) + 1)
		}
	}
	return f.Truncate(0)
}

func (s *fileSink) write(p []byte) error {
	_, err := s.w.Write(p)
	return err
}

// prepare flushes; a file is then fsynced outside the lock (stdout is only
// flushed: a pipe or terminal cannot be synced).
func (s *fileSink) prepare() (func(context.Context) error, error) {
	if err := s.w.Flush(); err != nil {
		return nil, err
	}
	if !s.isFile {
		return func(context.Context) error { return nil }, nil
	}
	return func(context.Context) error { return s.f.Sync() }, nil
}

func (s *fileSink) close() error {
	err := s.w.Flush()
	if s.isFile {
		if e := s.f.Sync(); err == nil {
			err = e
		}
		if e := s.f.Close(); err == nil {
			err = e
		}
	}
	return err
}

// topicSink produces to a Kafka topic with acks=all. Messages collect in
// memory and are produced by the durable step of prepare, or by write once
// maxBuffered bytes are waiting (write then blocks until they are
// acknowledged, holding the pipeline back while the topic is unavailable).
type topicSink struct {
	w           *kafkago.Writer
	log         *slog.Logger
	toMessages  func(p []byte) []kafkago.Message
	maxBuffered int
	stop        <-chan struct{} // write gives up retrying once it is closed

	buf      []kafkago.Message // under outputs.mu
	buffered int
	failed   []kafkago.Message // taken by a durable step that failed; under outputs.syncMu

	produceMu sync.Mutex // one produce at a time, so a sync waits for write's
}

func newTopicSink(brokers []string, topic string, sec kafka.Security, toMessages func([]byte) []kafkago.Message, log *slog.Logger, stop <-chan struct{}) *topicSink {
	return &topicSink{
		w: &kafkago.Writer{
			Addr:         kafkago.TCP(brokers...),
			Topic:        topic,
			Transport:    sec.Transport(),
			RequiredAcks: kafkago.RequireAll,
			Balancer:     &kafkago.Hash{},
			BatchSize:    10000,
			// Below the brokers' default message.max.bytes (1 MiB and a little).
			BatchBytes:   1000000,
			BatchTimeout: time.Millisecond,
			MaxAttempts:  5,
			WriteTimeout: 10 * time.Second,
		},
		log:         log,
		toMessages:  toMessages,
		maxBuffered: 32 << 20,
		stop:        stop,
	}
}

// alertMessages turns alert lines into messages keyed by AlertId, so the
// duplicates of a redelivery land in the same partition.
func alertMessages(p []byte) []kafkago.Message {
	var out []kafkago.Message
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p)
		}
		line := bytes.Clone(p[:i])
		p = p[min(i+1, len(p)):]
		m := kafkago.Message{Value: line}
		const idKey = `,"AlertId":"`
		if j := bytes.LastIndex(line, []byte(idKey)); j >= 0 && len(line) >= j+len(idKey)+32 {
			m.Key = line[j+len(idKey) : j+len(idKey)+32]
		}
		out = append(out, m)
	}
	return out
}

// rejectMessages turns rejected records into messages: the raw record as
// value; the reason and the source position as headers.
func rejectMessages(rs []rejected) []kafkago.Message {
	out := make([]kafkago.Message, 0, len(rs))
	for _, r := range rs {
		o := &r.Origin
		h := []kafkago.Header{{Key: "matchd-reason", Value: []byte(r.Reason)}}
		if o.Topic != "" {
			h = append(h,
				kafkago.Header{Key: "matchd-topic", Value: []byte(o.Topic)},
				kafkago.Header{Key: "matchd-partition", Value: strconv.AppendInt(nil, int64(o.Partition), 10)},
				kafkago.Header{Key: "matchd-offset", Value: strconv.AppendInt(nil, o.Offset, 10)})
		} else {
			h = append(h, kafkago.Header{Key: "matchd-path", Value: []byte(o.Path)})
		}
		if o.Line > 0 {
			h = append(h, kafkago.Header{Key: "matchd-line", Value: strconv.AppendInt(nil, o.Line, 10)})
		}
		if o.InEnvelope {
			h = append(h, kafkago.Header{Key: "matchd-record", Value: strconv.AppendInt(nil, int64(o.Record), 10)})
		}
		out = append(out, kafkago.Message{Value: bytes.Clone(r.Raw), Headers: h})
	}
	return out
}

func (s *topicSink) write(p []byte) error {
	return s.add(s.toMessages(p))
}

func (s *topicSink) add(ms []kafkago.Message) error {
	s.buf = append(s.buf, ms...)
	for _, m := range ms {
		s.buffered += len(m.Value) + len(m.Key)
	}
	if s.buffered < s.maxBuffered {
		return nil
	}
	msgs := s.take()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.produce(ctx, msgs)
		cancel()
		if err == nil {
			return nil
		}
		s.log.Warn("producing to the topic failed, retrying", "topic", s.w.Topic, "err", err)
		select {
		case <-s.stop:
			return err
		case <-time.After(min(time.Duration(attempt+1)*500*time.Millisecond, 5*time.Second)):
		}
	}
}

func (s *topicSink) take() []kafkago.Message {
	msgs := s.buf
	s.buf, s.buffered = nil, 0
	return msgs
}

func (s *topicSink) produce(ctx context.Context, msgs []kafkago.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	s.produceMu.Lock()
	defer s.produceMu.Unlock()
	return s.w.WriteMessages(ctx, msgs...)
}

// prepare takes the buffered messages; the durable step produces them, with
// those a failed step left behind first.
func (s *topicSink) prepare() (func(context.Context) error, error) {
	msgs := s.take()
	return func(ctx context.Context) error {
		s.failed = append(s.failed, msgs...)
		if err := s.produce(ctx, s.failed); err != nil {
			return fmt.Errorf("producing to %s: %w", s.w.Topic, err)
		}
		s.failed = nil
		return nil
	}, nil
}

func (s *topicSink) close() error { return s.w.Close() }

// outputs are consume's sinks: alerts, and optionally rejects as lines (a
// file) or as raw records (a topic). The pipeline's writer writes through
// them; the consumer calls sync before it commits.
type outputs struct {
	mu      sync.Mutex
	alerts  sink
	rejects sink       // a rejects file; nil if none
	rawRej  *topicSink // a rejects topic; nil if none

	syncMu sync.Mutex // one sync at a time
}

func (o *outputs) sinks() []sink {
	s := []sink{o.alerts}
	if o.rejects != nil {
		s = append(s, o.rejects)
	}
	if o.rawRej != nil {
		s = append(s, o.rawRej)
	}
	return s
}

type alertsWriter struct{ o *outputs }

func (w alertsWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if err := w.o.alerts.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

type rejectsWriter struct{ o *outputs }

func (w rejectsWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if err := w.o.rejects.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (o *outputs) writeRaw(rs []rejected) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rawRej.add(rejectMessages(rs))
}

// sync makes every line written before it durable: under the lock each
// sink flushes or hands over its buffer, and outside it the files are
// fsynced and the topics' messages produced, so the pipeline keeps writing
// meanwhile.
func (o *outputs) sync(ctx context.Context) error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	o.mu.Lock()
	var steps []func(context.Context) error
	var err error
	for _, s := range o.sinks() {
		step, e := s.prepare()
		if e != nil {
			err = e
			break
		}
		steps = append(steps, step)
	}
	o.mu.Unlock()
	if err != nil {
		return err
	}
	for _, step := range steps {
		if err := step(ctx); err != nil && !errors.Is(err, syscall.EINVAL) {
			return err
		}
	}
	return nil
}

func (o *outputs) close() error {
	var err error
	for _, s := range o.sinks() {
		if e := s.close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
