package kafka

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/matcher"
)

// fetcher reads one assigned partition for one generation on a connection
// to the partition's leader, straight into the batch it is filling.
//
// A partition has at most one batch written and not committed: a batch's
// gate holds its write until the previous batch of its partition is
// committed, so a crash re-delivers at most one batch per partition. The
// fetcher hands out a batch while its predecessor waits for that commit
// (the pipeline parses and matches it meanwhile), but not a third: it goes
// on filling the next batch (up to the batch bounds, then it waits), so the
// broker round trips overlap the pipeline's work and the commit.
type fetcher struct {
	c         *Consumer
	g         *generation
	tp        topicPartition
	log       *slog.Logger
	dialer    *kafkago.Dialer
	released  chan struct{} // a commit moved the partition's offset
	offset    int64         // next offset to read
	handedOut int64         // the offset after the last batch handed out; 0: none
	before    int64         // the offset after the batch handed out before that one
	fails     int
	// outOfRange: the broker said offset is outside the partition's log;
	// the next connection moves it.
	outOfRange bool
}

// readTimeout bounds each read of a fetch response once it has started to
// arrive (kafka-go's Reader uses the same).
const readTimeout = 10 * time.Second

// arenaSlack is the room kept free in a batch's buffer for the next
// message; a longer message is read on its own (readLong).
const arenaSlack = 64 << 10

func (f *fetcher) run(ctx context.Context) {
	var conn *kafkago.Conn
	unwatch := func() bool { return false }
	closeConn := func() {
		unwatch()
		conn.Close()
		conn = nil
	}
	defer func() {
		if conn != nil {
			closeConn()
		}
	}()
	cur := f.newPending()
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = f.connect(ctx); err == nil {
				// A cancelled generation interrupts a read in progress.
				c := conn
				unwatch = context.AfterFunc(ctx, func() { c.Close() })
			} else {
				if ctx.Err() != nil {
					return
				}
				f.retry(ctx, "cannot reach the partition's leader", err)
				continue
			}
		}
		wait := f.c.cfg.MaxWait
		if len(cur.b.Lines) > 0 {
			wait = f.c.cfg.Linger // a batch is waiting: come back soon
		}
		added, hwm, err := f.fetchInto(conn, &cur, wait, func() bool {
			// cur is full in the middle of a response: hand it out (this
			// may wait for a commit, see free) and go on reading.
			if !f.handOut(ctx, cur) {
				return false
			}
			cur = f.newPending()
			return true
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			closeConn()
			if errors.Is(err, kafkago.OffsetOutOfRange) {
				// The next connection looks up where the log is now.
				f.outOfRange = true
				f.c.hookError("fetch", err)
				continue
			}
			f.retry(ctx, "fetch failed", err)
			continue
		}
		f.fails = 0
		if hwm >= 0 && f.c.cfg.Hooks.Lag != nil {
			f.c.cfg.Hooks.Lag(f.tp.topic, f.tp.partition, max(0, hwm-f.offset))
		}
		// Hand the batch out when it may go at once (free), when it is
		// full, or when the partition has nothing more right now (the
		// last two wait until it may go).
		if len(cur.b.Lines) > 0 && (added == 0 || f.full(cur) || f.free()) {
			if !f.handOut(ctx, cur) {
				return
			}
			cur = f.newPending()
		}
	}
}

// fetchInto sends one fetch request and reads the response into *curp.
// When that batch fills up it calls full, which hands it out and replaces
// *curp (false: stop). It returns how many messages it added and the
// partition's high watermark (-1: unknown).
func (f *fetcher) fetchInto(conn *kafkago.Conn, curp **pending, wait time.Duration, full func() bool) (added int, hwm int64, err error) {
	conn.SetReadDeadline(time.Now().Add(wait + readTimeout))
	if _, err := conn.Seek(f.offset, kafkago.SeekAbsolute|kafkago.SeekDontCheck); err != nil {
		return 0, -1, err
	}
	batch := conn.ReadBatchWith(kafkago.ReadBatchConfig{MinBytes: 1, MaxBytes: f.c.cfg.FetchBytes, MaxWait: wait})
	defer batch.Close()
	hwm = batch.HighWaterMark()
	for {
		cur := *curp
		if f.full(cur) {
			if !full() {
				return added, hwm, nil
			}
			cur = *curp
			conn.SetReadDeadline(time.Now().Add(readTimeout))
		}
		b := cur.arena[len(cur.arena):cap(cur.arena)]
		n, err := batch.Read(b)
		switch {
		case err == nil:
		case errors.Is(err, io.ErrShortBuffer):
			// The message does not fit the room left: read it again on
			// its own (the batch rolled back to it).
			batch.Close()
			m, err := f.readLong(conn)
			if err != nil {
				return added, hwm, err
			}
			if m.Offset >= f.offset {
				f.c.add(cur, m.Offset, m.Value)
				f.offset = m.Offset + 1
				added++
			}
			return added, hwm, nil
		case errors.Is(err, io.EOF), errors.Is(err, kafkago.RequestTimedOut):
			return added, hwm, nil // the response's end; or the long poll ended empty
		default:
			return added, hwm, err
		}
		off := batch.Offset() - 1
		if off < f.offset {
			continue // a compressed set can start before the offset asked for
		}
		v := b[:n:n]
		cur.arena = cur.arena[:len(cur.arena)+n]
		f.c.add(cur, off, v)
		f.offset = off + 1
		added++
	}
}

// readLong reads the one message at f.offset whatever its size (up to the
// broker's own limits).
func (f *fetcher) readLong(conn *kafkago.Conn) (kafkago.Message, error) {
	conn.SetReadDeadline(time.Now().Add(f.c.cfg.MaxWait + readTimeout))
	if _, err := conn.Seek(f.offset, kafkago.SeekAbsolute|kafkago.SeekDontCheck); err != nil {
		return kafkago.Message{}, err
	}
	batch := conn.ReadBatchWith(kafkago.ReadBatchConfig{MinBytes: 1, MaxBytes: f.c.cfg.FetchBytes, MaxWait: f.c.cfg.MaxWait})
	defer batch.Close()
	return batch.ReadMessage()
}

// connect dials the partition's leader (trying each broker for its
// metadata) and resolves a start offset given as kafka-go's FirstOffset or
// LastOffset.
func (f *fetcher) connect(ctx context.Context) (*kafkago.Conn, error) {
	var errs []error
	for _, broker := range f.c.cfg.Brokers {
		conn, err := f.dialer.DialLeader(ctx, "tcp", broker, f.tp.topic, f.tp.partition)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if f.offset < 0 || f.outOfRange {
			conn.SetDeadline(time.Now().Add(f.c.cfg.CommitTimeout))
			first, last, err := conn.ReadOffsets()
			conn.SetDeadline(time.Time{})
			if err != nil {
				conn.Close()
				errs = append(errs, err)
				continue
			}
			switch {
			case f.outOfRange:
				// Where the consumer's start offset would put a new
				// member: the partition's first offset, or its end with
				// StartAtEnd.
				to := first
				if f.c.cfg.StartAtEnd && f.offset > last {
					to = last
				}
				f.log.Warn("offset outside the partition's log, moving", "offset", f.offset, "first", first, "last", last, "to", to)
				f.offset, f.outOfRange = to, false
			case f.offset == kafkago.LastOffset:
				f.offset = last
			default:
				f.offset = first
			}
		}
		return conn, nil
	}
	return nil, errors.Join(errs...)
}

func (f *fetcher) retry(ctx context.Context, msg string, err error) {
	f.log.Warn(msg+", retrying", "offset", f.offset, "err", err)
	f.c.hookError("fetch", err)
	sleep(ctx, f.c.cfg.backoff(f.fails))
	f.fails++
}

func (f *fetcher) newPending() *pending {
	return &pending{
		b:     &ingest.Batch{Lines: make([]ingest.Line, 0, 256)},
		g:     f.g,
		topic: f.tp.topic, partition: f.tp.partition,
		arena: make([]byte, 0, f.c.cfg.BatchBytes+arenaSlack),
	}
}

// full reports whether p is at its bounds (or has too little room left for
// the next message).
func (f *fetcher) full(p *pending) bool {
	return p.messages >= f.c.cfg.BatchRecords || len(p.arena) >= f.c.cfg.BatchBytes
}

// free reports whether another batch may be handed out: the one before
// the last handed out is committed.
func (f *fetcher) free() bool {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	return f.before <= f.g.committed[f.tp]
}

// handOut waits until the batch before the last handed out is committed,
// then queues p for ReadBatch. It returns false when ctx ends first.
func (f *fetcher) handOut(ctx context.Context, p *pending) bool {
	for !f.free() {
		select {
		case <-f.released:
		case <-ctx.Done():
			return false
		}
	}
	p.after, p.abort = f.handedOut, f.c.abort
	f.before, f.handedOut = f.handedOut, p.next
	select {
	case f.c.batches <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

// add frames the message at offset with value v into p's batch.
func (c *Consumer) add(p *pending, offset int64, v []byte) {
	p.next = offset + 1
	p.messages++
	o := matcher.Origin{Topic: p.topic, Partition: int32(p.partition), Offset: offset}
	body := bytes.TrimSuffix(v, []byte{'\n'})
	if bytes.IndexByte(body, '\n') < 0 {
		p.b.Lines = append(p.b.Lines, c.line(body, o))
		return
	}
	for o.Line = 1; ; o.Line++ {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			p.b.Lines = append(p.b.Lines, c.line(body, o))
			return
		}
		p.b.Lines = append(p.b.Lines, c.line(body[:i], o))
		body = body[i+1:]
	}
}

func (c *Consumer) line(b []byte, o matcher.Origin) ingest.Line {
	if len(b) > c.cfg.MaxRecordBytes {
		return ingest.Line{B: b[:min(len(b), 4<<10)], Origin: o, Reject: fmt.Sprintf("record longer than %d bytes", c.cfg.MaxRecordBytes)}
	}
	return ingest.Line{B: b, Origin: o}
}

// fetchDialer is d for fetch connections: reads from the socket go through
// a large buffer (kafka-go's own is 4 KiB, a system call per 4 KiB of
// records otherwise).
func fetchDialer(d *kafkago.Dialer) *kafkago.Dialer {
	fd := *d
	nd := &net.Dialer{Timeout: d.Timeout, KeepAlive: d.KeepAlive}
	fd.DialFunc = func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := nd.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 256<<10)}, nil
	}
	return &fd
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
