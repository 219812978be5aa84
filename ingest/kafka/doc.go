// Package kafka owns matchd's Kafka input: a member of a consumer group
// that fetches the partitions Kafka assigns to it, frames each message into
// records (one, or several separated by newlines), hands them out as
// ingest.Batches, and commits a partition's offset only after the batches
// before it have been acknowledged as written and the writer's Sync hook
// has made them durable. It is built on github.com/segmentio/kafka-go:
// the low-level ConsumerGroup for membership, generations and commits, and
// one partition Reader per assigned partition for fetching. DESIGN.md
// explains the delivery guarantee and the choices behind it.
//
// It also builds the TLS and SASL settings that every Kafka connection of
// matchd shares (Security).
package kafka
