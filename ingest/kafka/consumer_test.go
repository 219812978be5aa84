package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/ingest/kafka"
	"github.com/matchd/matchd/internal/kafkatest"
	"github.com/matchd/matchd/matcher"
)

func testConfig(b *kafkatest.Broker, topic, group string) kafka.Config {
	cfg := kafka.Config{
		Brokers:           b.Addrs,
		Topics:            []string{topic},
		Group:             group,
		BatchRecords:      50,
		MaxWait:           100 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		RetryBackoff:      20 * time.Millisecond,
		MaxRetryBackoff:   200 * time.Millisecond,
		PartitionWatch:    100 * time.Millisecond,
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg
}

// collector drains a consumer like the pipeline does, acknowledging each
// batch after recording its lines.
type collector struct {
	mu    sync.Mutex
	lines map[string]int // "topic[p]@off:line" -> times seen
	body  map[string]string
}

func (c *collector) run(ctx context.Context, t *testing.T, src *kafka.Consumer) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var seq uint64
		for {
			b, ack, err := src.ReadBatch(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, ingest.ErrEndOfInput) {
					t.Errorf("ReadBatch: %v", err)
				}
				return
			}
			seq++
			if b.Seq != seq {
				t.Errorf("batch seq %d, want %d", b.Seq, seq)
			}
			if err := b.Gate(); err != nil {
				ack(err)
				continue
			}
			c.mu.Lock()
			for _, ln := range b.Lines {
				k := key(&ln.Origin)
				c.lines[k]++
				c.body[k] = string(ln.B)
			}
			c.mu.Unlock()
			ack(nil)
		}
	}()
	return done
}

func key(o *matcher.Origin) string {
	return fmt.Sprintf("%s[%d]@%d:%d", o.Topic, o.Partition, o.Offset, o.Line)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

func newCollector() *collector {
	return &collector{lines: map[string]int{}, body: map[string]string{}}
}

func produceN(t *testing.T, b *kafkatest.Broker, topic string, partitions, perPartition, from int, codec kafkago.Compression) {
	var msgs []kafkatest.Message
	for i := from; i < from+perPartition; i++ {
		for p := range partitions {
			msgs = append(msgs, kafkatest.Message{Partition: p, Value: fmt.Appendf(nil, "p%d m%d", p, i)})
		}
	}
	b.Produce(t, topic, codec, msgs...)
}

// consumeAll runs a consumer with cfg until want lines arrived, closes it
// and returns what it collected.
func consumeAll(t *testing.T, cfg kafka.Config, want int) *collector {
	t.Helper()
	c, err := kafka.NewConsumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := col.run(ctx, t, c)
	kafkatest.Eventually(t, 30*time.Second, "not every message arrived", func() bool { return col.count() == want })
	cancel()
	<-done
	closeConsumer(t, c)
	return col
}

func closeConsumer(t *testing.T, c *kafka.Consumer) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestKafkaConsumeCommit: every message of every partition arrives once,
// framed with its origin, and Close commits the end of each partition.
func TestKafkaConsumeCommit(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 3)
	group := kafkatest.Name(t, "g")
	produceN(t, b, topic, 3, 100, 0, 0)
	b.Produce(t, topic, 0, kafkatest.Message{Partition: 0, Value: []byte("a\nb\n\nc\n")})

	col := consumeAll(t, testConfig(b, topic, group), 300+4)

	for k, n := range col.lines {
		if n != 1 {
			t.Errorf("%s seen %d times", k, n)
		}
	}
	want := map[string]string{
		topic + "[0]@0:0":   "p0 m0",
		topic + "[2]@99:0":  "p2 m99",
		topic + "[0]@100:1": "a",
		topic + "[0]@100:2": "b",
		topic + "[0]@100:3": "",
		topic + "[0]@100:4": "c",
	}
	for k, v := range want {
		if got, ok := col.body[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if got := b.Committed(t, group, topic, 3); got[0] != 101 || got[1] != 100 || got[2] != 100 {
		t.Errorf("committed %v, want [101 100 100]", got)
	}
}

// TestKafkaCodecs: compressed messages of every codec are decompressed.
func TestKafkaCodecs(t *testing.T) {
	b := kafkatest.Start(t)
	for _, codec := range []kafkago.Compression{kafkago.Gzip, kafkago.Snappy, kafkago.Lz4, kafkago.Zstd} {
		t.Run(codec.String(), func(t *testing.T) {
			topic := b.Topic(t, 1)
			produceN(t, b, topic, 1, 200, 0, codec)
			col := consumeAll(t, testConfig(b, topic, kafkatest.Name(t, "g")), 200)
			if got := col.body[topic+"[0]@123:0"]; got != "p0 m123" {
				t.Errorf("offset 123 = %q", got)
			}
		})
	}
}

// TestKafkaFaults: dropped fetch and commit connections and error codes are
// retried; nothing is lost and the offsets reach the end.
func TestKafkaFaults(t *testing.T) {
	b := kafkatest.Start(t)
	b.RequireFake(t, "injected faults")
	topic := b.Topic(t, 2)
	group := kafkatest.Name(t, "g")

	var mu sync.Mutex
	faults := map[string]int{}
	count := func(k string) {
		mu.Lock()
		faults[k]++
		mu.Unlock()
	}
	// The first fetches lose their connection, later ones get an error code.
	fetches := 0
	b.Fake.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.Fake.KeepControl()
		fetches++
		switch {
		case fetches <= 2:
			count("fetch-drop")
			return nil, errors.New("dropped"), true
		case fetches <= 4:
			count("fetch-code")
			r := req.(*kmsg.FetchRequest)
			resp := r.ResponseKind().(*kmsg.FetchResponse)
			for _, rt := range r.Topics {
				st := kmsg.NewFetchResponseTopic()
				st.Topic = rt.Topic
				st.TopicID = rt.TopicID
				for _, rp := range rt.Partitions {
					sp := kmsg.NewFetchResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.NotLeaderForPartition.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		}
		b.Fake.DropControl()
		return nil, nil, false
	})
	commits := 0
	b.Fake.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.Fake.KeepControl()
		commits++
		switch commits {
		case 1:
			count("commit-drop")
			return nil, errors.New("dropped"), true
		case 2, 3:
			count("commit-code")
			r := req.(*kmsg.OffsetCommitRequest)
			resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
			for _, rt := range r.Topics {
				st := kmsg.NewOffsetCommitResponseTopic()
				st.Topic = rt.Topic
				for _, rp := range rt.Partitions {
					sp := kmsg.NewOffsetCommitResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		}
		b.Fake.DropControl()
		return nil, nil, false
	})

	produceN(t, b, topic, 2, 150, 0, 0)
	c, err := kafka.NewConsumer(testConfig(b, topic, group))
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := col.run(ctx, t, c)
	kafkatest.Eventually(t, 30*time.Second, "not every message arrived", func() bool { return col.count() == 300 })
	kafkatest.Eventually(t, 30*time.Second, "offsets not committed to the end", func() bool {
		got := b.Committed(t, group, topic, 2)
		return got[0] == 150 && got[1] == 150
	})
	cancel()
	<-done
	closeConsumer(t, c)
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"fetch-drop", "fetch-code", "commit-drop", "commit-code"} {
		if faults[k] == 0 {
			t.Errorf("fault %s was never injected: %v", k, faults)
		}
	}
}

// TestKafkaTopicCreatedLater: a consumer started before its topic exists
// picks the topic up once it is created. (kfake only: the real test broker
// creates a topic with one partition when a client first asks for it.)
func TestKafkaTopicCreatedLater(t *testing.T) {
	b := kafkatest.Start(t)
	b.RequireFake(t, "the real test broker creates a topic when a client first asks for it")
	topic := kafkatest.Name(t, "t")
	c, err := kafka.NewConsumer(testConfig(b, topic, kafkatest.Name(t, "g")))
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.Eventually(t, 30*time.Second, "never joined", c.Ready)
	col := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := col.run(ctx, t, c)
	b.CreateTopic(t, topic, 2)
	produceN(t, b, topic, 2, 10, 0, 0)
	kafkatest.Eventually(t, 30*time.Second, "the new topic's messages did not arrive", func() bool { return col.count() == 20 })
	cancel()
	<-done
	closeConsumer(t, c)
}

// TestKafkaPartitionsAdded: partitions added to a topic under a running
// consumer are assigned to it and read from their start.
func TestKafkaPartitionsAdded(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	c, err := kafka.NewConsumer(testConfig(b, topic, kafkatest.Name(t, "g")))
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := col.run(ctx, t, c)
	produceN(t, b, topic, 1, 10, 0, 0)
	kafkatest.Eventually(t, 30*time.Second, "the first partition's messages did not arrive", func() bool { return col.count() == 10 })
	b.AddPartitions(t, topic, 3)
	produceN(t, b, topic, 3, 10, 10, 0)
	kafkatest.Eventually(t, 30*time.Second, "the new partitions' messages did not arrive", func() bool { return col.count() == 40 })
	cancel()
	<-done
	closeConsumer(t, c)
}

// TestKafkaLongMessages: messages longer than the room left in a batch's
// buffer (the 64 KiB kept free, and more than the whole batch bound) are
// fetched on their own and arrive whole, in order, between short ones; a
// partition's batch never holds more than one message past its bounds.
func TestKafkaLongMessages(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	group := kafkatest.Name(t, "g")
	var msgs []kafkatest.Message
	want := map[string]string{}
	for i := range 40 {
		v := fmt.Sprintf("short %d", i)
		switch i % 10 {
		case 3:
			v = strings.Repeat("l", 100<<10) + fmt.Sprint(i) // longer than the slack
		case 7:
			v = strings.Repeat("L", 300<<10) + fmt.Sprint(i) // longer than a whole batch
		}
		msgs = append(msgs, kafkatest.Message{Partition: 0, Value: []byte(v)})
		want[fmt.Sprintf("%s[0]@%d:0", topic, i)] = v
	}
	b.Produce(t, topic, 0, msgs...)
	cfg := testConfig(b, topic, group)
	cfg.BatchBytes = 128 << 10
	col := consumeAll(t, cfg, len(msgs))
	for k, v := range want {
		if got := col.body[k]; got != v {
			t.Errorf("%s: %d bytes (%.20q…), want %d bytes", k, len(got), got, len(v))
		}
		if col.lines[k] != 1 {
			t.Errorf("%s seen %d times", k, col.lines[k])
		}
	}
	if got := b.Committed(t, group, topic, 1); got[0] != int64(len(msgs)) {
		t.Errorf("committed %v, want [%d]", got, len(msgs))
	}
}

// TestKafkaOffsetOutOfRange: a committed offset past the partition's end
// (the topic was recreated, say) moves to the partition's first offset
// with a warning, and everything is delivered.
func TestKafkaOffsetOutOfRange(t *testing.T) {
	b := kafkatest.Start(t)
	topic := b.Topic(t, 1)
	group := kafkatest.Name(t, "g")
	produceN(t, b, topic, 1, 20, 0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := b.Client().OffsetCommit(ctx, &kafkago.OffsetCommitRequest{GroupID: group, GenerationID: -1,
		Topics: map[string][]kafkago.OffsetCommit{topic: {{Partition: 0, Offset: 1000}}}})
	if err == nil {
		for _, p := range resp.Topics[topic] {
			err = errors.Join(err, p.Error)
		}
	}
	if err != nil {
		t.Fatalf("committing offset 1000: %v", err)
	}
	cfg := testConfig(b, topic, group)
	var logs lockedLog
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	consumeAll(t, cfg, 20)
	if !strings.Contains(logs.String(), `msg="offset outside the partition's log, moving" group=`+group+` generation=1 topic=`+topic+` partition=0 offset=1000 first=0 last=20 to=0`) {
		t.Errorf("no warning naming the move; log:\n%s", logs.String())
	}
	if got := b.Committed(t, group, topic, 1); got[0] != 20 {
		t.Errorf("committed %v, want [20]", got)
	}
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
