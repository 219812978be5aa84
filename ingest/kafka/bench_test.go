package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/matchd/matchd/ingest/kafka"
	"github.com/matchd/matchd/internal/kafkatest"
)

// BenchmarkConsumerDrain drains a 4-partition topic of 100k CEF records,
// one per message, through a new group member per iteration: the Kafka
// side of matchd consume alone (join, fetch, decode, framing, batching,
// commit), without parsing or matching. Against kfake the broker's work is
// in the profile too; set MATCHD_KAFKA_BROKERS for a real broker.
func BenchmarkConsumerDrain(b *testing.B) {
	br := kafkatest.Start(b)
	topic := br.Topic(b, 4)
	const records = 100_000
	msgs := make([]kafkatest.Message, records)
	size := 0
	for i := range msgs {
		v := fmt.Appendf(nil, "<134>1 2026-06-07T10:00:00Z fw01 CEF:0|Vendor|FW|1|100|conn|3|rt=%d src=10.1.%d.%d spt=40000 dst=176.65.139.%d dpt=443 act=allow "+
			"request=http://cdn.example.com/static/app.js?v=%d requestClientApplication=Mozilla/5.0 (X11; Linux x86_64) cs1Label=rule cs1=allow-web",
			1780826400000+int64(i), i/250%250, i%250, i%200, i)
		msgs[i] = kafkatest.Message{Partition: i % 4, Value: v}
		size += len(v)
	}
	br.Produce(b, topic, 0, msgs...)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		c, err := kafka.NewConsumer(kafka.Config{
			Brokers: br.Addrs, Topics: []string{topic}, Group: kafkatest.Name(b, "g"),
			MaxWait: 100 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second,
		})
		if err != nil {
			b.Fatal(err)
		}
		for got := 0; got < records; {
			batch, ack, err := c.ReadBatch(ctx)
			if err != nil {
				b.Fatal(err)
			}
			got += len(batch.Lines)
			ack(nil)
		}
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
