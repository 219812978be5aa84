package main

import (
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/bench/gen"
)

func TestSumCounts(t *testing.T) {
	for _, c := range []struct {
		out  string
		want int
		err  bool
	}{
		{"", 0, false},
		{"12\n", 12, false},
		{"3\n0\n4\n", 7, false},
		{"file:3\n", 0, true},
	} {
		got, err := sumCounts([]byte(c.out))
		if got != c.want || (err != nil) != c.err {
			t.Errorf("sumCounts(%q) = %d, %v; want %d, error %v", c.out, got, err, c.want, c.err)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/tmp/a.log": "/tmp/a.log", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "--regex-size-limit": "--regex-size-limit"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	r := &row{wall: []time.Duration{3, 1, 2}, cpu: []time.Duration{1, 1, 1}}
	if r.median() != 2 {
		t.Errorf("median of 3, 1, 2 = %v", r.median())
	}
	r.wall = append(r.wall, 10)
	if r.median() != 2 { // (2+3)/2 in integer nanoseconds
		t.Errorf("median of 3, 1, 2, 10 = %v", r.median())
	}
}

func TestNaiveLimit(t *testing.T) {
	e := &gen.Expected{Records: 1_000_000, PrefixStep: 1000, Indicators: map[string]int{"url": 100_000}}
	b := &bench{}
	if n := b.naiveLimit(gen.Mixed, e); n != 20_000 {
		t.Errorf("mixed at 100k URLs: %d records, want 20000", n)
	}
	if n := b.naiveLimit(gen.URLs, e); n != 5_000 {
		t.Errorf("URLs at 100k URLs: %d records, want 5000", n)
	}
	e.Indicators["url"] = 10
	if n := b.naiveLimit(gen.Mixed, e); n != e.Records {
		t.Errorf("few URLs: %d records, want all", n)
	}
	b.o.naiveRecords = 1500
	if n := b.naiveLimit(gen.Mixed, e); n != 1000 {
		t.Errorf("--naive-records 1500: %d, want 1000 (a multiple of the prefix step)", n)
	}
}

func TestWriteTable(t *testing.T) {
	var s strings.Builder
	writeTable(&s, [][]string{{"tool", "time", "count"}, {"matchd", "1.5 s", "ok"}, {"rg", "skipped (not installed)"}})
	want := "   tool     time  count\n   matchd  1.5 s  ok\n   rg      skipped (not installed)\n"
	if s.String() != want {
		t.Errorf("got\n%s\nwant\n%s", s.String(), want)
	}
}
