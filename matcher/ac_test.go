package matcher

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cloudflare/ahocorasick"
)

// acRefMatches is the slow reference for AppendMatches: at every end
// position, every pattern in id order, compared byte by byte with ASCII case
// folding.
//
// bytes.EqualFold is not used: it folds Unicode case and treats any two
// invalid UTF-8 bytes as equal, while the automaton folds ASCII only.
func acRefMatches(patterns [][]byte, hay []byte) []ACMatch {
	var ms []ACMatch
	for end := 1; end <= len(hay); end++ {
		for id, p := range patterns {
			if len(p) <= end && acRefEqualFold(hay[end-len(p):end], p) {
				ms = append(ms, ACMatch{Pattern: uint32(id), Start: int32(end - len(p)), End: int32(end)})
			}
		}
	}
	return ms
}

func acRefEqualFold(x, y []byte) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if acLower(x[i]) != acLower(y[i]) {
			return false
		}
	}
	return true
}

// acTestConfigs are the representations every case runs on.
var acTestConfigs = []struct {
	name string
	cfg  acConfig
}{
	{"dfa", acConfig{denseBytes: math.MaxInt}},
	{"dfa/noprefilter", acConfig{denseBytes: math.MaxInt, noPrefilter: true}},
	{"nfa", acConfig{}}, // only the root is dense
	{"nfa/noprefilter", acConfig{noPrefilter: true}},
	{"hybrid", acConfig{denseBytes: 3 * 4 * 256}},
	{"hybrid/noprefilter", acConfig{denseBytes: 3 * 4 * 256, noPrefilter: true}},
	{"wide", acConfig{wideBytes: math.MaxInt, wideChildren: 2}},
	{"hybrid/wide", acConfig{denseBytes: 3 * 4 * 256, wideBytes: 8 * 4 * 256, wideChildren: 2}},
	{"default", defaultACConfig()},
}

func acPatterns(ss ...string) [][]byte {
	ps := make([][]byte, len(ss))
	for i, s := range ss {
		ps[i] = []byte(s)
	}
	return ps
}

func TestACMatches(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		input    string
		want     []ACMatch
	}{
		{
			name:     "overlapping",
			patterns: []string{"abc", "bcd", "cde"},
			input:    "abcde",
			want:     []ACMatch{{0, 0, 3}, {1, 1, 4}, {2, 2, 5}},
		},
		{
			name:     "self overlapping",
			patterns: []string{"aa"},
			input:    "aaaa",
			want:     []ACMatch{{0, 0, 2}, {0, 1, 3}, {0, 2, 4}},
		},
		{
			name:     "nested urls",
			patterns: []string{"http://a/x", "http://a/x/y", "a/x"},
			input:    "http://a/x/y",
			want:     []ACMatch{{0, 0, 10}, {2, 7, 10}, {1, 0, 12}},
		},
		{
			name:     "same end ascending id",
			patterns: []string{"abc", "c", "bc", "zabc"},
			input:    "zabc",
			want:     []ACMatch{{0, 1, 4}, {1, 3, 4}, {2, 2, 4}, {3, 0, 4}},
		},
		{
			name:     "case folding",
			patterns: []string{"HTTP://Evil.COM/a", "evil"},
			input:    "see http://EVIL.com/A now",
			want:     []ACMatch{{1, 11, 15}, {0, 4, 21}},
		},
		{
			name:     "folding is ascii only",
			patterns: []string{"caf\xc3\xa9", "\xc3\xa9"},
			input:    "CAF\xc3\x89 caf\xc3\xa9",
			want:     []ACMatch{{0, 6, 11}, {1, 9, 11}},
		},
		{
			name:     "non-ascii and control bytes",
			patterns: []string{"\xff\x00", "\x00\x80", "\xfe"},
			input:    "a\xff\x00\x80\xfe\xdf",
			want:     []ACMatch{{0, 1, 3}, {1, 2, 4}, {2, 4, 5}},
		},
		{
			name:     "invalid utf-8 matched exactly",
			patterns: []string{"\xff"},
			input:    "\xfe\xfd",
		},
		{
			name:     "duplicates",
			patterns: []string{"ab", "AB", "x", "ab"},
			input:    "xaB",
			want:     []ACMatch{{2, 0, 1}, {0, 1, 3}, {1, 1, 3}, {3, 1, 3}},
		},
		{
			name:     "single bytes",
			patterns: []string{"a", "b"},
			input:    "abA",
			want:     []ACMatch{{0, 0, 1}, {1, 1, 2}, {0, 2, 3}},
		},
		{
			name:     "pattern equals haystack",
			patterns: []string{"http://example.com/", "example"},
			input:    "http://example.com/",
			want:     []ACMatch{{1, 7, 14}, {0, 0, 19}},
		},
		{
			name:     "empty haystack",
			patterns: []string{"a"},
			input:    "",
		},
		{
			name:  "no patterns",
			input: "abc",
		},
		{
			name:     "byte in no pattern resets",
			patterns: []string{"ab"},
			input:    "a-b a\xffb ab",
			want:     []ACMatch{{0, 8, 10}},
		},
		{
			name:     "failure to a suffix",
			patterns: []string{"abcd", "bce", "ce"},
			input:    "abce",
			want:     []ACMatch{{1, 1, 4}, {2, 2, 4}},
		},
		{
			name:     "pattern longer than haystack",
			patterns: []string{"abcdef"},
			input:    "abc",
		},
		{
			name:     "prefix patterns",
			patterns: []string{"a", "ab", "abc", "abcd"},
			input:    "abcd",
			want:     []ACMatch{{0, 0, 1}, {1, 0, 2}, {2, 0, 3}, {3, 0, 4}},
		},
	}
	for _, tc := range tests {
		for _, c := range acTestConfigs {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				ps := acPatterns(tc.patterns...)
				a, err := compileAC(ps, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := a.AppendMatches(nil, []byte(tc.input))
				if !slices.Equal(got, tc.want) {
					t.Errorf("AppendMatches(%q) = %v, want %v", tc.input, got, tc.want)
				}
				if ref := acRefMatches(ps, []byte(tc.input)); !slices.Equal(ref, tc.want) {
					t.Errorf("reference(%q) = %v, want %v", tc.input, ref, tc.want)
				}
			})
		}
	}
}

func TestACAppends(t *testing.T) {
	a, err := CompileAC(acPatterns("b"))
	if err != nil {
		t.Fatal(err)
	}
	dst := []ACMatch{{7, 7, 7}}
	got := a.AppendMatches(dst, []byte("abb"))
	want := []ACMatch{{7, 7, 7}, {0, 1, 2}, {0, 2, 3}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestACEmptyPattern(t *testing.T) {
	_, err := CompileAC(acPatterns("a", "", "b"))
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("CompileAC with an empty pattern: err = %v, want *BuildError", err)
	}
	if want := "pattern 1 is empty"; be.Msg != want {
		t.Errorf("Msg = %q, want %q", be.Msg, want)
	}
}

func TestACAccessors(t *testing.T) {
	var zero Automaton
	if got := zero.AppendMatches(nil, []byte("anything")); len(got) != 0 {
		t.Errorf("zero Automaton matched %v", got)
	}
	if zero.Len() != 0 {
		t.Errorf("zero Automaton Len = %d", zero.Len())
	}

	ps := acPatterns("http://a/", "b", "http://a/")
	a, err := CompileAC(ps)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 {
		t.Errorf("Len = %d, want 3", a.Len())
	}
	for id, p := range ps {
		if got := a.PatternLen(uint32(id)); got != len(p) {
			t.Errorf("PatternLen(%d) = %d, want %d", id, got, len(p))
		}
	}
	if a.MemoryUsage() <= 0 {
		t.Errorf("MemoryUsage = %d", a.MemoryUsage())
	}

	empty, err := CompileAC(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.AppendMatches(nil, []byte("abc")); len(got) != 0 {
		t.Errorf("empty automaton matched %v", got)
	}
}

// TestACWideFanout covers states with a child for every byte class.
func TestACWideFanout(t *testing.T) {
	var ps [][]byte
	for c := range 256 {
		ps = append(ps, []byte{'x', byte(c)}, []byte{byte(c), 'x', byte(c)})
	}
	var hay []byte
	for c := 255; c >= 0; c-- {
		hay = append(hay, 'X', byte(c), 'x', byte(c))
	}
	acCheckAllConfigs(t, ps, [][]byte{hay})
}

// acCheckAllConfigs compares every configuration with the reference.
func acCheckAllConfigs(t *testing.T, ps [][]byte, hays [][]byte) {
	t.Helper()
	for _, c := range acTestConfigs {
		a, err := compileAC(ps, c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, h := range hays {
			got := a.AppendMatches(nil, h)
			if want := acRefMatches(ps, h); !slices.Equal(got, want) {
				t.Fatalf("%s: patterns %q\nhay %q\ngot  %v\nwant %v", c.name, ps, h, got, want)
			}
		}
	}
}

// acRandBytes returns n bytes drawn from alphabet.
func acRandBytes(r *rand.Rand, alphabet string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func TestACDifferential(t *testing.T) {
	alphabets := []string{
		"ab",
		"aAbB",
		"abc/:.",
		"aB\x00\xff\xc3\xa9",
		"http://evil.com/AbC",
	}
	r := rand.New(rand.NewPCG(1, 2))
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for _, alphabet := range alphabets {
		for range iters {
			ps := make([][]byte, 1+r.IntN(24))
			for i := range ps {
				ps[i] = acRandBytes(r, alphabet, 1+r.IntN(7))
			}
			if r.IntN(4) == 0 { // duplicate one
				ps = append(ps, slices.Clone(ps[r.IntN(len(ps))]))
			}
			hays := make([][]byte, 4)
			for i := range hays {
				hays[i] = acRandBytes(r, alphabet, r.IntN(80))
			}
			acCheckAllConfigs(t, ps, hays)
			acCheckCloudflare(t, ps, hays)
		}
	}
}

// TestACDifferentialURLs runs URL-shaped sets, large enough for the default
// configuration to be neither all dense nor all sparse.
func TestACDifferentialURLs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ps := acGenURLs(r, 2000)
	hays := acGenHays(r, ps, 32<<10)
	for _, c := range acTestConfigs {
		a, err := compileAC(ps, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "default" && (a.dense == 1 || int(a.dense) == len(a.nodes)) {
			t.Errorf("default configuration: %d dense states of %d, want a hybrid", a.dense, len(a.nodes))
		}
		total := 0
		for _, h := range hays {
			got := a.AppendMatches(nil, h)
			total += len(got)
			if want := acRefMatchesFast(ps, h); !slices.Equal(got, want) {
				t.Fatalf("%s: hay %q\ngot  %v\nwant %v", c.name, h, got, want)
			}
		}
		if total == 0 {
			t.Fatalf("%s: no matches in the corpus", c.name)
		}
	}
	acCheckCloudflare(t, ps, hays)
}

// acRefMatchesFast is acRefMatches for many patterns: it compares only the
// patterns whose first byte folds to the byte at each position.
func acRefMatchesFast(patterns [][]byte, hay []byte) []ACMatch {
	var byFirst [256][]int
	for id, p := range patterns {
		byFirst[acLower(p[0])] = append(byFirst[acLower(p[0])], id)
	}
	var ms []ACMatch
	for start := range hay {
		for _, id := range byFirst[acLower(hay[start])] {
			p := patterns[id]
			if start+len(p) <= len(hay) && acRefEqualFold(hay[start:start+len(p)], p) {
				ms = append(ms, ACMatch{Pattern: uint32(id), Start: int32(start), End: int32(start + len(p))})
			}
		}
	}
	slices.SortFunc(ms, func(x, y ACMatch) int {
		if x.End != y.End {
			return int(x.End - y.End)
		}
		return int(x.Pattern) - int(y.Pattern)
	})
	return ms
}

// acCheckCloudflare compares the set of patterns found in each hay with
// github.com/cloudflare/ahocorasick's. That matcher is case-sensitive and
// keeps one id per distinct pattern, so it gets distinct lower-cased
// patterns and a lower-cased hay. Its Match is not safe for concurrent use.
func acCheckCloudflare(t *testing.T, ps [][]byte, hays [][]byte) {
	t.Helper()
	var distinct []string
	for _, p := range ps {
		s := string(acASCIILower(p))
		if !slices.Contains(distinct, s) {
			distinct = append(distinct, s)
		}
	}
	cf := ahocorasick.NewStringMatcher(distinct)
	a, err := CompileAC(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hays {
		var want []string
		for _, i := range cf.Match(acASCIILower(h)) {
			want = append(want, distinct[i])
		}
		var got []string
		for _, m := range a.AppendMatches(nil, h) {
			got = append(got, string(acASCIILower(ps[m.Pattern])))
		}
		slices.Sort(want)
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q\nhay %q\nmatchd found     %q\ncloudflare found %q", ps, h, got, want)
		}
	}
}

func TestACNoAllocs(t *testing.T) {
	ps := acPatterns("http://a/x", "http://a/x/y", "a/x", "x", "/", "/y")
	for i := range 20 { // a long output chain, sorted with slices.SortFunc
		ps = append(ps, bytes.Repeat([]byte("z"), i+1))
	}
	hay := []byte("GET http://A/x/y?u=http://a/x zzzzzzzzzzzzzzzzzzzzzzzzzz")
	for _, c := range acTestConfigs {
		a, err := compileAC(ps, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]ACMatch, 0, 1024)
		if n := len(a.AppendMatches(dst, hay)); n == 0 || n > cap(dst) {
			t.Fatalf("%s: %d matches", c.name, n)
		}
		allocs := testing.AllocsPerRun(100, func() {
			dst = a.AppendMatches(dst[:0], hay)
		})
		if allocs != 0 {
			t.Errorf("%s: AppendMatches allocated %v times per run, want 0", c.name, allocs)
		}
	}
}

// TestACConcurrent scans from many goroutines at once; run it with -race.
func TestACConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ps := acGenURLs(r, 2000)
	hays := acGenHays(r, ps, 32<<10)
	a, err := CompileAC(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]ACMatch, len(hays))
	for i, h := range hays {
		want[i] = a.AppendMatches(nil, h)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var dst []ACMatch
			for k := range len(hays) {
				i := (k + g*len(hays)/8) % len(hays)
				dst = a.AppendMatches(dst[:0], hays[i])
				if !slices.Equal(dst, want[i]) {
					errs <- fmt.Errorf("goroutine %d, hay %d: got %v, want %v", g, i, dst, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestACScale builds 100k URL patterns and logs the figures DESIGN.md
// quotes. Larger sets are in BenchmarkACBuild.
func TestACScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100k patterns")
	}
	ps := acCachedURLs(100_000)
	a, d := acTimedBuild(t, ps)
	t.Logf("%s", acFigures(ps, a, d))
	if mem := a.MemoryUsage(); mem > 300<<20 {
		t.Errorf("100k patterns hold %d MB, want at most 300 MB", mem>>20)
	}
}

// acASCIILower returns a copy of b with A-Z lower-cased. bytes.ToLower would
// replace invalid UTF-8 with U+FFFD.
func acASCIILower(b []byte) []byte {
	l := make([]byte, len(b))
	for i, c := range b {
		l[i] = acLower(c)
	}
	return l
}

func ExampleAutomaton_AppendMatches() {
	a, err := CompileAC([][]byte{
		[]byte("http://evil.example/x"),
		[]byte("http://evil.example/x/y"),
		[]byte("evil.example"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	hay := []byte("GET HTTP://EVIL.example/x/y?q=1")
	for _, m := range a.AppendMatches(nil, hay) {
		fmt.Printf("pattern %d at [%d:%d] %s\n", m.Pattern, m.Start, m.End, hay[m.Start:m.End])
	}
	// Output:
	// pattern 2 at [11:23] EVIL.example
	// pattern 0 at [4:25] HTTP://EVIL.example/x
	// pattern 1 at [4:27] HTTP://EVIL.example/x/y
}
