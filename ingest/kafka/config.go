package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config configures a Consumer. Brokers, Topics and Group are required;
// every other field has the default its comment gives.
type Config struct {
	Brokers  []string
	Topics   []string
	Group    string
	Security Security

	// StartAtEnd makes a partition without a committed offset start at its
	// end rather than at its beginning (the default).
	StartAtEnd bool

	// BatchRecords and BatchBytes bound one batch of one partition (default
	// 16384 messages, 4 MiB of values). A partition has at most one batch
	// beyond its committed offset. Linger is how long a fetch waits for more
	// messages while the partition's previous batch is being committed
	// (default 10ms).
	BatchRecords int
	BatchBytes   int
	Linger       time.Duration

	// MaxWait is the fetch long-poll of a partition with nothing waiting
	// to be handed out (default 250ms).
	MaxWait time.Duration
	// FetchBytes bounds one fetch response of one partition (default 4 MiB;
	// a larger message is still fetched whole).
	FetchBytes int
	// MaxRecordBytes bounds one record; longer records are rejected with
	// their first 4 KiB (default 16 MiB).
	MaxRecordBytes int

	// CommitTimeout bounds every request to the group coordinator, commits
	// included, and every Sync call (default 5s).
	CommitTimeout time.Duration
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are the
	// consumer-group timers (default 30s, 3s, 30s).
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// RetryBackoff is the first delay before a failed fetch, commit or join
	// is retried (default 100ms); it doubles up to MaxRetryBackoff (default
	// 5s). Errors are retried for as long as the consumer runs.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// PartitionWatch is how often the topics' partition counts are read;
	// when one changes (a topic created after the member joined, partitions
	// added), the member rejoins so that the group assigns them (default
	// 5s; negative: never).
	PartitionWatch time.Duration

	// Sync must make durable everything written so far (flush and fsync a
	// file, wait for the acks of produced messages). It runs before every
	// commit, on the committing goroutine, never concurrently with itself;
	// offsets are committed only when it returns nil. nil: acknowledged
	// batches are taken as durable.
	Sync func(ctx context.Context) error

	// Logger receives the consumer's logs (default: discarded).
	Logger *slog.Logger
	// Hooks observe the consumer, e.g. for metrics. Each may be nil.
	Hooks Hooks
}

// Hooks are called from the consumer's goroutines; they must be cheap and
// safe for concurrent use.
type Hooks struct {
	// Assigned is called when a generation starts with the partitions it
	// assigns to this member; Revoked when it ends, after its final commit.
	Assigned func(generation int32, topic string, partitions []int)
	Revoked  func(generation int32, topic string, partitions []int)
	// Lag reports a partition's lag (high watermark minus next offset) as of
	// its last fetched message.
	Lag func(topic string, partition int, lag int64)
	// Committed reports each commit attempt: its duration, the number of
	// partitions, and its error.
	Committed func(d time.Duration, partitions int, err error)
	// Error reports an error that is being retried: op is "fetch", "join"
	// or "sync".
	Error func(op string, err error)
}

func (c *Config) validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("no brokers")
	case len(c.Topics) == 0:
		return errors.New("no topic")
	case c.Group == "":
		return errors.New("no consumer group")
	}
	for _, t := range c.Topics {
		if t == "" {
			return errors.New("empty topic name")
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&c.BatchRecords, 16384)
	defInt(&c.BatchBytes, 4<<20)
	defInt(&c.FetchBytes, 4<<20)
	defInt(&c.MaxRecordBytes, 16<<20)
	def(&c.Linger, 10*time.Millisecond)
	def(&c.MaxWait, 250*time.Millisecond)
	def(&c.CommitTimeout, 5*time.Second)
	def(&c.SessionTimeout, 30*time.Second)
	def(&c.HeartbeatInterval, 3*time.Second)
	def(&c.RebalanceTimeout, 30*time.Second)
	def(&c.RetryBackoff, 100*time.Millisecond)
	def(&c.MaxRetryBackoff, 5*time.Second)
	def(&c.PartitionWatch, 5*time.Second)
	if c.BatchRecords < 1 || c.BatchBytes < 1 || c.FetchBytes < 1 || c.MaxRecordBytes < 1 {
		return errors.New("batch, fetch and record sizes must be positive")
	}
	for _, d := range []time.Duration{c.Linger, c.MaxWait, c.CommitTimeout, c.SessionTimeout, c.HeartbeatInterval, c.RebalanceTimeout, c.RetryBackoff, c.MaxRetryBackoff} {
		if d < 0 {
			return fmt.Errorf("negative duration %v", d)
		}
	}
	if c.HeartbeatInterval >= c.SessionTimeout {
		return fmt.Errorf("heartbeat interval %v must be below the session timeout %v", c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.MaxRetryBackoff < c.RetryBackoff {
		c.MaxRetryBackoff = c.RetryBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// backoff returns the delay before retry n (0-based).
func (c *Config) backoff(n int) time.Duration {
	d := c.RetryBackoff
	for range min(n, 30) {
		d *= 2
		if d >= c.MaxRetryBackoff {
			return c.MaxRetryBackoff
		}
	}
	return d
}
