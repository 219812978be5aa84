// Package ingest holds everything that enters matchd: archive replay (files,
// directories, stdin; gzip and zstd detected by magic bytes, their expansion
// bounded: limit.go), line framing and batching, and the Decoder that sniffs
// each line as CEF or JSON and parses it into matcher.Events with the
// parsers in ingest/cef and ingest/jsonlog. Threat feeds live in
// ingest/feed.
package ingest
