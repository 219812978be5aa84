package jsonlog

import (
	"encoding/json"
	"testing"

	"github.com/matchd/matchd/matcher"
)

// BenchmarkParse parses each typical line with a reused Parser and Event.
func BenchmarkParse(b *testing.B) {
	for _, tc := range typical {
		b.Run(tc.name, func(b *testing.B) {
			p := NewParser(matcher.TableUnknown)
			var ev matcher.Event
			line := []byte(tc.line)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				p.Reset(line)
				for {
					ok, err := p.Next(&ev)
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
				}
			}
		})
	}
}

// BenchmarkEncodingJSON decodes the same lines into map[string]any with
// encoding/json, for comparison; it does no more than decode.
func BenchmarkEncodingJSON(b *testing.B) {
	for _, tc := range typical {
		b.Run(tc.name, func(b *testing.B) {
			line := []byte(tc.line)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
