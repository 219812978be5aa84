package feed

import (
	"reflect"
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		values  []string // the representable values
		unrep   []string // the reasons for the rest
		printed string   // String(), when it differs from pattern
	}{
		{pattern: "[ipv4-addr:value = '10.0.0.0']", values: []string{"10.0.0.0"}},
		{pattern: "[ ipv4-addr:value = '10.0.0.0' ]", values: []string{"10.0.0.0"}, printed: "[ipv4-addr:value = '10.0.0.0']"},
		{pattern: "[ipv6-addr:value == '::1']", values: []string{"::1"}, printed: "[ipv6-addr:value = '::1']"},
		{pattern: "[url:value = 'http://a/it\\'s' OR domain-name:value = 'b\\\\c']", values: []string{"http://a/it's", `b\c`}},
		{pattern: "[url:value IN ('a', 'b')]", values: []string{"a", "b"}},
		{pattern: "[file:hashes.'SHA-256' = 'x' OR file:hashes.MD5 = 'y' OR file:hashes.sha1 = 'z' OR file:hashes.'SHA-1' = 'w']", values: []string{"x", "y", "z", "w"}},
		{pattern: "[file:hashes.'SHA-512' = 'x']", unrep: []string{"object path file:hashes.'SHA-512'"}},
		{pattern: "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", values: []string{"10.0.0.0/8"}},
		{pattern: "[a:value = 'x'] AND [b:value = 'y']", unrep: []string{"observations joined by AND"}, printed: "([a:value = 'x'] AND [b:value = 'y'])"},
		{pattern: "[url:value = 'x'] FOLLOWEDBY [url:value = 'y']", unrep: []string{"observations joined by FOLLOWEDBY"}, printed: "([url:value = 'x'] FOLLOWEDBY [url:value = 'y'])"},
		{pattern: "([url:value = 'x'] AND [url:value = 'y']) OR [url:value = 'z']", values: []string{"z"}, unrep: []string{"observations joined by AND"},
			printed: "(([url:value = 'x'] AND [url:value = 'y']) OR [url:value = 'z'])"},
		{pattern: "[(url:value = 'x' OR url:value = 'y') AND file:name = 'n']", unrep: []string{"comparisons joined by AND"}},
		{pattern: "[url:value = 'x'] WITHIN 5 SECONDS", unrep: []string{"qualifier WITHIN 5 SECONDS"}},
		{pattern: "[url:value = 'x'] REPEATS 2 TIMES", unrep: []string{"qualifier REPEATS 2 TIMES"}},
		{pattern: "[url:value = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", unrep: []string{"qualifier START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"}},
		{pattern: "([url:value = 'x'] WITHIN 1 SECONDS) REPEATS 2 TIMES", unrep: []string{"qualifier REPEATS 2 TIMES"}},
		{pattern: "[url:value != 'x']", unrep: []string{"operator != on url:value"}},
		{pattern: "[url:value NOT = 'x']", unrep: []string{"NOT = on url:value"}},
		{pattern: "[url:value LIKE 'x%']", unrep: []string{"operator LIKE on url:value"}},
		{pattern: "[url:value MATCHES '^x']", unrep: []string{"operator MATCHES on url:value"}},
		{pattern: "[network-traffic:extensions.'icmp-ext'.icmp_type_hex = h'08']", unrep: []string{"object path network-traffic:extensions.'icmp-ext'.icmp_type_hex"}},
		{pattern: "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", unrep: []string{"object path file:extensions.'windows-pebinary-ext'.sections[*].entropy"}},
		{pattern: "[url:value = 5]", unrep: []string{"non-string value 5 for url:value"}},
		{pattern: "[EXISTS url:value]", unrep: []string{"operator EXISTS on url:value"}},
		{pattern: "[((url:value = 'x'))]", values: []string{"x"}, printed: "[(url:value = 'x')]"},
	} {
		n, err := parsePattern(tc.pattern)
		if err != nil {
			t.Errorf("parsePattern(%q): %v", tc.pattern, err)
			continue
		}
		vals, unrep := n.reduce(nil, nil)
		var got []string
		for _, v := range vals {
			got = append(got, v.value)
		}
		if !reflect.DeepEqual(got, tc.values) || !reflect.DeepEqual(unrep, tc.unrep) {
			t.Errorf("%q: values %q, unrepresentable %q; want %q, %q", tc.pattern, got, unrep, tc.values, tc.unrep)
		}
		want := tc.printed
		if want == "" {
			want = tc.pattern
		}
		if s := n.String(); s != want {
			t.Errorf("%q printed as %q, want %q", tc.pattern, s, want)
		}
		checkPatternRoundTrip(t, n)
	}
}

// checkPatternRoundTrip checks that a parsed pattern prints as a pattern
// that parses to the same tree.
func checkPatternRoundTrip(t testing.TB, n *patNode) {
	t.Helper()
	s := n.String()
	again, err := parsePattern(s)
	if err != nil {
		t.Fatalf("printed pattern %q does not parse: %v", s, err)
	}
	if !reflect.DeepEqual(again, n) {
		t.Fatalf("printed pattern %q parses to another tree: %q", s, again.String())
	}
}

func TestPatternErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, msg string }{
		{"", "unexpected end"},
		{"[", "unexpected end"},
		{"[url:value = 'x'", "missing"},
		{"[url:value = 'x]", "unterminated string"},
		{"[url:value = 'x\\n']", "invalid escape"},
		{"[url:value = 'x'] AND", "unexpected end"},
		{"[url:value IN ('x', )]", "unexpected token"},
		{"[url:value = 'x'] WITHIN 'a' SECONDS", "unexpected token"},
		{"[url: = 'x']", "missing property name"},
		{"[url:value ! 'x']", "unexpected '!'"},
		{"[url:value = 'x'] ]", "unexpected token"},
		{"[foo = 'x']", "unexpected word"},
		{strings.Repeat("(", 200) + "[url:value = 'x']" + strings.Repeat(")", 200), "nested too deeply"},
	} {
		_, err := parsePattern(tc.pattern)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parsePattern(%q) = %v, want error containing %q", tc.pattern, err, tc.msg)
		}
	}
}
