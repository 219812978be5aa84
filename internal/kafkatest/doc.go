// Package kafkatest gives tests a Kafka broker: an in-process
// Kafka-protocol cluster (franz-go's kfake), or the real broker whose
// address MATCHD_KAFKA_BROKERS holds (comma-separated host:port), plus
// helpers to create topics, produce and read committed offsets. Tests that
// need kfake (fault injection, no topic auto-creation) call RequireFake.
// Only tests import it.
package kafkatest
