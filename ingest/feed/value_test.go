package feed

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

func TestRefang(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1[.]2[.]3[.]4", "1.2.3.4"},
		{"evil(.)example{.}org", "evil.example.org"},
		{"evil[dot]example[DOT]org(dot)x{Dot}y", "evil.example.org.x.y"},
		{"hxxp://evil[.]example/x", "http://evil.example/x"},
		{"HXXPS://evil[.]example/x", "https://evil.example/x"},
		{"hXXp[://]evil.example", "http://evil.example"},
		{"hxxp[:]//evil.example", "http://evil.example"},
		{"http://evil.example[/]x", "http://evil.example/x"},
		{"1.2.3.4[:]80", "1.2.3.4:80"},
		{"[[.]]", "."},
		{"[[[.]]]x", ".x"},
		{"[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"meow://evil.example", "meow://evil.example"},
		{"xhxxp://a", "xhxxp://a"},
		{"hxxpx://a", "hxxpx://a"},
		{"", ""},
	} {
		if got := Refang(tc.in); got != tc.want {
			t.Errorf("Refang(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := slowRefang(tc.in); got != tc.want {
			t.Errorf("slowRefang(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	const none = matcher.TypeInvalid
	for _, tc := range []struct {
		name string
		in   string
		typ  matcher.IndicatorType
		want matcher.Indicator
	}{
		{"ipv4", "1.2.3.4", none, id(matcher.TypeIP, "1.2.3.4")},
		{"ipv4 defanged", " 1[.]2[.]3[.]4 ", none, id(matcher.TypeIP, "1.2.3.4")},
		{"ipv6", "2001:DB8:0::1", none, id(matcher.TypeIP, "2001:db8::1")},
		{"ipv4-mapped", "::ffff:1.2.3.4", none, id(matcher.TypeIP, "1.2.3.4")},
		{"ipv6 valid wins over ip:port", "2a02:cf40:1::5:4066", none, id(matcher.TypeIP, "2a02:cf40:1::5:4066")},
		{"cidr", "10.0.0.0/8", none, id(matcher.TypeCIDR, "10.0.0.0/8")},
		{"cidr host bits", "10.1.2.3/8", none, id(matcher.TypeCIDR, "10.0.0.0/8")},
		{"cidr /32 is ip", "1.2.3.4/32", none, id(matcher.TypeIP, "1.2.3.4")},
		{"cidr /128 is ip", "2001:db8::1/128", none, id(matcher.TypeIP, "2001:db8::1")},
		{"cidr v6", "2001:DB8::1/32", none, id(matcher.TypeCIDR, "2001:db8::/32")},
		{"cidr mapped", "::ffff:10.0.0.0/104", none, id(matcher.TypeCIDR, "10.0.0.0/8")},
		{"ip typed accepts prefix", "10.0.0.0/8", matcher.TypeIP, id(matcher.TypeCIDR, "10.0.0.0/8")},
		{"cidr typed accepts address", "1.2.3.4", matcher.TypeCIDR, id(matcher.TypeIP, "1.2.3.4")},
		{"ip:port v4", "1.2.3.4:80", none, id(matcher.TypeIPPort, "1.2.3.4:80")},
		{"ip:port v4 leading zero", "1.2.3.4:080", none, id(matcher.TypeIPPort, "1.2.3.4:80")},
		{"ip:port v6 bracketed", "[2001:DB8::1]:443", none, id(matcher.TypeIPPort, "[2001:db8::1]:443")},
		{"ip:port v6 last colon", "2a02:cf40:1::5:40669", none, id(matcher.TypeIPPort, "[2a02:cf40:1::5]:40669")},
		{"ip:port typed last colon", "2a02:cf40:1::5:4066", matcher.TypeIPPort, id(matcher.TypeIPPort, "[2a02:cf40:1::5]:4066")},
		{"ip:port mapped", "[::ffff:1.2.3.4]:80", none, id(matcher.TypeIPPort, "1.2.3.4:80")},
		{"url", "hxxp://176[.]65[.]139[.]151/Sakura.sh", none, id(matcher.TypeURL, "http://176.65.139.151/Sakura.sh")},
		{"url case", "HTTPS://User@Evil.EXAMPLE:8443/A/B?C=D#E", none, id(matcher.TypeURL, "https://User@evil.example:8443/A/B?C=D#E")},
		{"url v6 host", "http://[2001:DB8::1]:80/x", none, id(matcher.TypeURL, "http://[2001:db8::1]:80/x")},
		{"url no path", "http://Evil.Example", none, id(matcher.TypeURL, "http://evil.example")},
		{"url schemeless", "Evil.Example/Path", none, id(matcher.TypeURL, "evil.example/Path")},
		{"url schemeless ip port", "1.2.3.4:8080/x.sh", none, id(matcher.TypeURL, "1.2.3.4:8080/x.sh")},
		{"url typed schemeless", "evil.example/x", matcher.TypeURL, id(matcher.TypeURL, "evil.example/x")},
		{"domain", "Evil.Example.", none, id(matcher.TypeDomain, "evil.example")},
		{"domain underscore", "_dmarc.evil-1.example", none, id(matcher.TypeDomain, "_dmarc.evil-1.example")},
		{"domain typed single label", "com", matcher.TypeDomain, id(matcher.TypeDomain, "com")},
		{"md5", "D41D8CD98F00B204E9800998ECF8427E", none, id(matcher.TypeMD5, "d41d8cd98f00b204e9800998ecf8427e")},
		{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", none, id(matcher.TypeSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")},
		{"sha256", strings.Repeat("Ab", 32), none, id(matcher.TypeSHA256, strings.Repeat("ab", 32))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValue(tc.in, tc.typ)
			if err != nil {
				t.Fatalf("ParseValue(%q, %v): %v", tc.in, tc.typ, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseValue(%q, %v):\ngot  %s\nwant %s", tc.in, tc.typ, dump([]matcher.Indicator{got}), dump([]matcher.Indicator{tc.want}))
			}
			again, err := ParseValue(got.Value, got.Type)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: %v, %v", got.Value, again, err)
			}
		})
	}
}

func TestParseValueErrors(t *testing.T) {
	const none = matcher.TypeInvalid
	for _, tc := range []struct {
		in  string
		typ matcher.IndicatorType
		msg string
	}{
		{"", none, "empty value"},
		{"not a value", none, `space or control character in "not a value"`},
		{"com", none, `cannot detect indicator type: "com"`},
		{"evil.example:8080", none, "a port needs an IP host"},
		{"1.2.3", none, "cannot detect"},
		{"10.0.0.0/33", none, `invalid cidr "10.0.0.0/33": not a CIDR prefix`},
		{"1.2.3.4:0", none, "port must be 1-65535"},
		{"1.2.3.4:65536", none, "port must be 1-65535"},
		{"[1.2.3.4]:80", none, "brackets around an IPv4 address"},
		{"fe80::1%eth0", none, "zone"},
		{"abc", matcher.TypeMD5, "want 32 hex digits"},
		{strings.Repeat("a", 40), matcher.TypeSHA256, "want 64 hex digits"},
		{"x.example", matcher.TypeIPPort, "missing port"},
		{"http:///x", none, "empty host"},
		{"1http://x", none, "invalid scheme"},
		{"word/path", none, "neither an address nor a dotted domain"},
		{"evil..example", matcher.TypeDomain, "empty or over-long label"},
		{"evil.example", matcher.TypeURL, "no scheme and no path"},
		{"10.0.0.0/8", matcher.TypeURL, "a CIDR, not a URL"},
		{"http://a:b:c/", none, "invalid port"},
		{"\xff.example", none, "invalid UTF-8"},
		{strings.Repeat("x", 200), none, `"...`}, // quoted input is truncated
	} {
		_, err := ParseValue(tc.in, tc.typ)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseValue(%q, %v) = %v, want error containing %q", tc.in, tc.typ, err, tc.msg)
		}
	}
}

// TestDetectReference compares type detection with the regular-expression
// reference of slow_test.go.
func TestDetectReference(t *testing.T) {
	for _, s := range []string{
		"1.2.3.4", "01.2.3.4", "1.2.3.4:80", "1.2.3.4/24", "1.2.3", "::1", "[::1]:80", "2a02:cf40:1::5:40669",
		"evil.example", "evil.example:80", "evil.example/x", "http://x", "hxxp://x[.]y", "d41d8cd98f00b204e9800998ecf8427e",
		"d41d8cd98f00b204e9800998ecf8427", "x", "x.1", "1.x", "a_b.c-d", "a b", "-", "/", "a/", "ftp://u@h/p",
	} {
		got := matcher.TypeInvalid
		if in, err := ParseValue(s, matcher.TypeInvalid); err == nil {
			got = in.Type
		}
		if want := slowDetect(s); got != want {
			t.Errorf("detected %q as %v, reference says %v", s, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 6, 7, 10, 11, 12, 0, time.UTC)
	for _, s := range []string{"2026-06-07 10:11:12", "2026-06-07 10:11:12 UTC", "2026-06-07T10:11:12Z", "2026-06-07T12:11:12+02:00", "2026-06-07T10:11:12"} {
		got, err := parseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v", s, got, err)
		}
	}
	if got, _ := parseTime("2026-06-07"); !got.Equal(time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parseTime(date) = %v", got)
	}
	for _, s := range []string{"", "None", "null"} {
		if got, err := parseTime(s); err != nil || !got.IsZero() {
			t.Errorf("parseTime(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := parseTime("yesterday"); err == nil {
		t.Error("parseTime(yesterday): no error")
	}
}

func TestParseConfidence(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"90%", 90, true}, {"90", 90, true}, {" 90 % ", 90, true}, {"75.0", 75, true}, {"0", 0, true}, {"100", 100, true},
		{"", matcher.NoConfidence, true}, {"None", matcher.NoConfidence, true},
		{"101", matcher.NoConfidence, false}, {"-1", matcher.NoConfidence, false}, {"high", matcher.NoConfidence, false},
	} {
		got, err := parseConfidence(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseConfidence(%q) = %d, %v", tc.in, got, err)
		}
	}
}
