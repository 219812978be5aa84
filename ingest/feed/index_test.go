package feed

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/matchd/matchd/matcher"
)

// TestValueIndex checks valueIndex against a map, from empty and from a
// size hint, through its growth.
func TestValueIndex(t *testing.T) {
	for _, hint := range []int{-1, 0, 10, 5000} {
		t.Run(fmt.Sprintf("hint=%d", hint), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(hint+2)))
			var x valueIndex
			if hint >= 0 {
				x.init(hint)
			}
			ref := make(map[key]int)
			var inds []matcher.Indicator
			for range 20000 {
				typ := matcher.IndicatorType(1 + r.IntN(3))
				v := fmt.Sprintf("v%d", r.IntN(8000))
				j, found := x.findOrAdd(inds, typ, v, len(inds))
				k := key{typ, v}
				want, ok := ref[k]
				if !ok {
					want = len(inds)
					ref[k] = want
					inds = append(inds, matcher.Indicator{Type: typ, Value: v})
				}
				if j != want || found != ok {
					t.Fatalf("findOrAdd(%s %q) = %d, %v; want %d, %v", typ, v, j, found, want, ok)
				}
			}
			if x.n != len(ref) || 2*x.n > len(x.slots) {
				t.Errorf("%d entries in %d slots, want %d at most half full", x.n, len(x.slots), len(ref))
			}
		})
	}
}

// randomFeeds returns feeds drawn from a small vocabulary, so that values
// repeat within and across feeds with conflicting metadata, and some types
// are found in one feed only.
func randomFeeds(t *testing.T, seed uint64) []*Feed {
	r := rand.New(rand.NewPCG(seed, 9))
	var feeds []*Feed
	for f := range 1 + r.IntN(4) {
		var sb strings.Builder
		for range r.IntN(300) {
			n := r.IntN(60)
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&sb, `{"ioc":"10.0.%d.%d","ioc_type":"ip",`, f%2, n)
			case 1:
				fmt.Fprintf(&sb, `{"ioc":"http://h%d.example/%d","ioc_type":"url",`, n%7, n)
			case 2:
				fmt.Fprintf(&sb, `{"ioc":"d%d.example","ioc_type":"domain",`, n)
			default:
				fmt.Fprintf(&sb, `{"ioc":"%032x","ioc_type":"md5_hash",`, n+f*1000)
			}
			fmt.Fprintf(&sb, `"threat_type":%q,"malware_printable":%q,"confidence_level":%d,"first_seen":"2026-0%d-01 00:00:00 UTC","tags":[%q,%q]}`+"\n",
				[]string{"", "botnet_cc", "payload"}[r.IntN(3)], []string{"", "Mirai", "Emotet"}[r.IntN(3)],
				r.IntN(101), 1+r.IntN(9), []string{"a", "b", "c"}[r.IntN(3)], []string{"b", "d"}[r.IntN(2)])
		}
		fd, err := Parse(fmt.Sprintf("f%d.ndjson", f), []byte(sb.String()), Options{Now: testNow})
		if err != nil && fd == nil {
			t.Fatal(err)
		}
		if r.IntN(5) == 0 {
			fd = nil
		}
		feeds = append(feeds, fd)
	}
	return feeds
}

// TestMergeDifferential checks Merge and MergeSeq against slowMerge.
func TestMergeDifferential(t *testing.T) {
	for seed := range uint64(200) {
		feeds := randomFeeds(t, seed)
		before := make([]string, len(feeds))
		for i, f := range feeds {
			if f != nil {
				before[i] = dump(f.Indicators)
			}
		}
		want := slowMerge(feeds...)
		got := Merge(feeds...)
		if len(got) != 0 || len(want) != 0 {
			checkIndicators(t, got, want)
		}
		n, seq := MergeSeq(feeds...)
		for range 2 { // the sequence may be ranged over again
			var fromSeq []matcher.Indicator
			for in := range seq {
				fromSeq = append(fromSeq, *in)
			}
			if n != len(want) {
				t.Errorf("seed %d: MergeSeq counts %d, want %d", seed, n, len(want))
			}
			if len(fromSeq) != 0 || len(want) != 0 {
				checkIndicators(t, fromSeq, want)
			}
		}
		for i, f := range feeds {
			if f != nil && dump(f.Indicators) != before[i] {
				t.Fatalf("seed %d: Merge modified feed %d", seed, i)
			}
		}
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// TestInterner checks that interned lists equal slices.Clone of the input,
// nil and empty alike, are clipped, and do not change when the input does.
func TestInterner(t *testing.T) {
	var in interner
	for _, l := range [][]string{nil, {}, {"a"}, {"a", "b"}, {"a"}, {"ab"}, {"a", "b"}, {"", "a"}, {"a", ""}, {"b", "a"}} {
		src := slices.Clone(l)
		got := in.list(src)
		if !reflect.DeepEqual(got, slices.Clone(l)) || cap(got) != len(got) {
			t.Errorf("list(%q) = %q (cap %d)", l, got, cap(got))
		}
		for i := range src {
			src[i] = "changed"
		}
		if !reflect.DeepEqual(got, slices.Clone(l)) {
			t.Errorf("list(%q) changed with its input: %q", l, got)
		}
	}
	a, b := in.list([]string{"x", "y"}), in.list([]string{"x", "y"})
	if &a[0] != &b[0] {
		t.Error("equal lists are not shared")
	}
	if s := strings.Clone("threat"); in.str(s) != "threat" || in.str("") != "" {
		t.Error("str")
	}
}
