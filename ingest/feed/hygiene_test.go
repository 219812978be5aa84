package feed

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/matchd/matchd/matcher"
)

func TestHygiene(t *testing.T) {
	for _, tc := range []struct {
		value string
		typ   matcher.IndicatorType
		msg   string // "" for clean
	}{
		{"8.8.8.8", matcher.TypeIP, ""},
		{"10.1.2.3", matcher.TypeIP, "private (RFC 1918)"},
		{"172.16.0.1", matcher.TypeIP, "private (RFC 1918)"},
		{"192.168.1.1:80", matcher.TypeIPPort, "private (RFC 1918)"},
		{"fd00::1", matcher.TypeIP, "private (unique local, fc00::/7)"},
		{"127.0.0.1", matcher.TypeIP, "loopback"},
		{"::1", matcher.TypeIP, "loopback"},
		{"169.254.1.1", matcher.TypeIP, "link-local"},
		{"fe80::1", matcher.TypeIP, "link-local"},
		{"0.0.0.0", matcher.TypeIP, "unspecified address"},
		{"::", matcher.TypeIP, "unspecified address"},
		{"0.1.2.3", matcher.TypeIP, `reserved ("this network", 0.0.0.0/8)`},
		{"224.0.0.1", matcher.TypeIP, "multicast"},
		{"ff02::1", matcher.TypeIP, "multicast"},
		{"240.0.0.1", matcher.TypeIP, "reserved (240.0.0.0/4)"},
		{"255.255.255.255", matcher.TypeIP, "broadcast address"},
		{"192.0.2.1", matcher.TypeIP, "documentation (192.0.2.0/24)"},
		{"198.51.100.1", matcher.TypeIP, "documentation (198.51.100.0/24)"},
		{"203.0.113.1:443", matcher.TypeIPPort, "documentation (203.0.113.0/24)"},
		{"2001:db8::1", matcher.TypeIP, "documentation (2001:db8::/32)"},
		{"100.64.0.1", matcher.TypeIP, "shared address space (carrier-grade NAT, 100.64.0.0/10)"},
		{"8.0.0.0/8", matcher.TypeCIDR, "very broad /8 — would flood alerts"},
		{"0.0.0.0/0", matcher.TypeCIDR, "very broad /0 — would flood alerts"},
		{"10.0.0.0/8", matcher.TypeCIDR, "very broad /8 — would flood alerts; private (RFC 1918)"},
		{"1.2.0.0/16", matcher.TypeCIDR, ""},
		{"2a00::/16", matcher.TypeCIDR, "very broad /16 — would flood alerts"},
		{"2a00::/32", matcher.TypeCIDR, ""},
		{"192.168.0.0/24", matcher.TypeCIDR, "private (RFC 1918)"},
		{"com", matcher.TypeDomain, `TLD-only domain "com" — would match every host under it`},
		{"localhost", matcher.TypeDomain, "internal name (localhost)"},
		{"printer.local", matcher.TypeDomain, "internal name (local)"},
		{"evil.example", matcher.TypeDomain, ""},
		{"http://a", matcher.TypeURL, "very short URL — would match too much; TLD-only domain \"a\" — would match every host under it"},
		{"http://10.0.0.1/x.sh", matcher.TypeURL, "private (RFC 1918)"},
		{"http://[::1]:8080/x", matcher.TypeURL, "loopback"},
		{"http://user@evil.example:80/x", matcher.TypeURL, ""},
		{"d41d8cd98f00b204e9800998ecf8427e", matcher.TypeMD5, "hash of empty input"},
		{"0000000000000000000000000000000000000000", matcher.TypeSHA1, "all-zero placeholder hash"},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", matcher.TypeSHA256, "hash of empty input"},
	} {
		in, err := ParseValue(tc.value, tc.typ)
		if err != nil {
			t.Errorf("ParseValue(%q): %v", tc.value, err)
			continue
		}
		msg, ok := Hygiene(&in)
		if ok != (tc.msg == "") || msg != tc.msg {
			t.Errorf("Hygiene(%s) = %q, %v; want %q", tc.value, msg, ok, tc.msg)
		}
	}
}

// TestAddrFindingsDifferential checks the address check against the linear
// scan, on random addresses and on every range's edges.
func TestAddrFindingsDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var addrs []netip.Addr
	for _, sr := range specialRanges {
		p := sr.prefix
		addrs = append(addrs, p.Addr(), p.Addr().Prev(), lastAddr(p), lastAddr(p).Next())
	}
	for range 100000 {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		addrs = append(addrs, netip.AddrFrom4([4]byte(b[:4])), netip.AddrFrom16(b))
		if r.IntN(4) == 0 { // under a special IPv6 prefix
			b[0], b[1] = []byte{0xfc, 0xfe, 0xff, 0x20, 0x3f}[r.IntN(5)], byte(r.IntN(16))
			addrs = append(addrs, netip.AddrFrom16(b))
		}
	}
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			continue
		}
		var got string
		if f := appendAddrFindings(nil, a); len(f) > 0 {
			got = f[0]
		}
		if want := slowSpecialRange(a); got != want {
			t.Errorf("%v: %q, want %q", a, got, want)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
