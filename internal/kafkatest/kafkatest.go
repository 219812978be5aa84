package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// EnvBrokers names the variable that points the Kafka tests at a real
// broker. It is test-only; matchd's own variables are named after its flags.
const EnvBrokers = "MATCHD_KAFKA_BROKERS"

// Broker is a broker for one test.
type Broker struct {
	Addrs []string
	// Fake is the in-process cluster, nil on a real broker.
	Fake *kfake.Cluster
	// Transport, when set, carries the test's own requests (e.g. with
	// SASL or TLS).
	Transport *kafkago.Transport
}

// Start returns the real broker when MATCHD_KAFKA_BROKERS is set, else a
// fresh kfake cluster (with opts) that the test's cleanup closes.
func Start(t testing.TB, opts ...kfake.Opt) *Broker {
	t.Helper()
	if Real() {
		return &Broker{Addrs: strings.Split(os.Getenv(EnvBrokers), ",")}
	}
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &Broker{Addrs: c.ListenAddrs(), Fake: c}
}

// Real reports whether the tests run against a real broker.
func Real() bool { return os.Getenv(EnvBrokers) != "" }

// RequireFake skips the test on a real broker; why says what it needs
// kfake for.
func (b *Broker) RequireFake(t testing.TB, why string) {
	t.Helper()
	if b.Fake == nil {
		t.Skip("runs on kfake only (" + why + "); " + EnvBrokers + " points at a real broker")
	}
}

// Client returns a kafka-go client for the broker.
func (b *Broker) Client() *kafkago.Client {
	c := &kafkago.Client{Addr: kafkago.TCP(b.Addrs...), Timeout: 15 * time.Second}
	if b.Transport != nil {
		c.Transport = b.Transport
	}
	return c
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Name returns a topic or group name unique to this run of the test.
func Name(t testing.TB, kind string) string {
	var r [4]byte
	rand.Read(r[:])
	n := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(n) > 80 {
		n = n[:80]
	}
	return "matchd-" + kind + "-" + n + "-" + hex.EncodeToString(r[:])
}

// Topic creates a topic with a unique name and the given partition count,
// waits until every partition has a leader, and returns its name.
func (b *Broker) Topic(t testing.TB, partitions int) string {
	t.Helper()
	name := Name(t, "t")
	b.CreateTopic(t, name, partitions)
	return name
}

// CreateTopic creates the topic and waits until every partition has a
// leader.
func (b *Broker) CreateTopic(t testing.TB, name string, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := b.Client()
	resp, err := cl.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	b.waitLeaders(ctx, t, name, partitions)
}

func (b *Broker) waitLeaders(ctx context.Context, t testing.TB, name string, partitions int) {
	t.Helper()
	cl := b.Client()
	for {
		md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{name}})
		if err == nil && len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) == partitions {
			ok := true
			for _, p := range md.Topics[0].Partitions {
				ok = ok && p.Error == nil && p.Leader.Host != ""
			}
			if ok {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s has no leaders after 30s: %v", name, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *Broker) transport() kafkago.RoundTripper {
	if b.Transport != nil {
		return b.Transport
	}
	return nil
}

// AddPartitions grows the topic to total partitions and waits until each
// has a leader.
func (b *Broker) AddPartitions(t testing.TB, topic string, total int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := b.Client().CreatePartitions(ctx, &kafkago.CreatePartitionsRequest{Topics: []kafkago.TopicPartitionsConfig{{Name: topic, Count: int32(total)}}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		t.Fatalf("add partitions to %s: %v", topic, err)
	}
	b.waitLeaders(ctx, t, topic, total)
}

// Message is a message to produce to a given partition.
type Message struct {
	Partition int
	Value     []byte
}

// Produce writes msgs with acks=all, each to its partition, compressed
// with codec (0: none), in order per partition.
func (b *Broker) Produce(t testing.TB, topic string, codec kafkago.Compression, msgs ...Message) {
	t.Helper()
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(b.Addrs...),
		Topic:        topic,
		RequiredAcks: kafkago.RequireAll,
		Compression:  codec,
		BatchSize:    1000,
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  20,
		Transport:    b.transport(),
		Balancer: kafkago.BalancerFunc(func(m kafkago.Message, _ ...int) int {
			return m.WriterData.(int)
		}),
	}
	defer w.Close()
	kms := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		kms[i] = kafkago.Message{Value: m.Value, WriterData: m.Partition}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(kms) > 0 {
		n := min(len(kms), 1000)
		if err := w.WriteMessages(ctx, kms[:n]...); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
		kms = kms[n:]
	}
}

// Committed returns the group's committed offset of each of the topic's
// partitions (-1: none).
func (b *Broker) Committed(t testing.TB, group, topic string, partitions int) []int64 {
	t.Helper()
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		resp, err := b.Client().OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
		if err == nil && errors.Is(resp.Error, kafkago.GroupIdNotFound) {
			resp.Error = nil // a group that never committed
		}
		if err == nil && resp.Error == nil {
			out := make([]int64, partitions)
			for i := range out {
				out[i] = -1
			}
			for _, p := range resp.Topics[topic] {
				if p.Error == nil && p.Partition < partitions {
					out[p.Partition] = p.CommittedOffset
				}
			}
			return out
		}
		if err == nil {
			err = resp.Error
		}
		// The coordinator may be loading or moving; ask again.
		if ctx.Err() != nil || !retriable(err) {
			t.Fatalf("offset fetch for group %s: %v", group, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func retriable(err error) bool {
	var ke kafkago.Error
	return errors.As(err, &ke) && ke.Temporary()
}

// Eventually polls cond every few milliseconds until it holds or timeout
// passes, and then fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
