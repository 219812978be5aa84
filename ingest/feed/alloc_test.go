package feed

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/matchd/matchd/matcher"
)

// TestNoAllocs checks that ParseValue does not allocate for values that
// are already canonical: their Value is the input.
func TestNoAllocs(t *testing.T) {
	for _, v := range []string{
		"1.2.3.4", "2a02:cf40:1::5", "10.0.0.0/8", "2001:db8::/32", "1.2.3.4:80", "[2a02:cf40:1::5]:40669",
		"http://evil.example/x.sh", "https://1.2.3.4:8080/a?b#c", "evil.example/gate.php", "evil.example",
		"d41d8cd98f00b204e9800998ecf8427e",
	} {
		t.Run(v, func(t *testing.T) {
			in, err := ParseValue(v, matcher.TypeInvalid)
			if err != nil || in.Value != v {
				t.Fatalf("ParseValue(%q) = %q, %v", v, in.Value, err)
			}
			if n := testing.AllocsPerRun(100, func() { ParseValue(v, matcher.TypeInvalid) }); n != 0 {
				t.Errorf("%v allocations", n)
			}
		})
	}
}

// TestMayBeAddr checks that mayBeAddr passes every address netip accepts,
// on random strings over the bytes addresses are made of.
func TestMayBeAddr(t *testing.T) {
	const alphabet = "0123456789abcdefABCDEFx.:%/[]z"
	r := rand.New(rand.NewPCG(3, 3))
	cases := []string{"", "1.2.3.4", "::", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", "fe80::1%", "1.2.3.4:80", "a:b", "1::2:3:4:5:6:7", "evil.example"}
	for range 200000 {
		b := make([]byte, r.IntN(16))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		_, err := netip.ParseAddr(s)
		if err == nil && !mayBeAddr(s) {
			t.Errorf("mayBeAddr(%q) = false, but netip.ParseAddr accepts it", s)
		}
		a, ok := parseAddr(s)
		if want, err := netip.ParseAddr(s); ok != (err == nil) || a != want {
			t.Errorf("parseAddr(%q) = %v, %v; want %v, %v", s, a, ok, want, err)
		}
		_, errP := netip.ParsePrefix(s)
		if isPrefix(s) != (errP == nil) {
			t.Errorf("isPrefix(%q) = %v, netip.ParsePrefix error %v", s, isPrefix(s), errP)
		}
	}
}

// TestParseAllocs checks that a plain list costs a bounded number of
// allocations whatever its length: none per canonical entry.
func TestParseAllocs(t *testing.T) {
	var list []byte
	for i := range 3000 {
		switch i % 3 {
		case 0:
			list = fmt.Appendf(list, "%d.%d.%d.%d\n", 1+i%200, i/256%256, i%256, 7)
		case 1:
			list = fmt.Appendf(list, "http://h%d.example/bin/x%d.sh\n", i, i)
		default:
			list = fmt.Appendf(list, "d%d.example\n", i)
		}
	}
	n := testing.AllocsPerRun(5, func() {
		if _, err := Parse("list.txt", list, Options{Now: testNow}); err != nil {
			t.Fatal(err)
		}
	})
	if n > 50 {
		t.Errorf("%v allocations for 3000 entries", n)
	}
	t.Logf("%v allocations for 3000 entries", n)
}
