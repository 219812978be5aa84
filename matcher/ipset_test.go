package matcher

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// slowLookup is the reference: a linear scan over every entry.
func slowLookup(addrs []addrID, pfxs []pfxID, a netip.Addr) []uint32 {
	var out []uint32
	for _, e := range addrs {
		if e.a == a {
			out = append(out, e.id)
		}
	}
	for _, e := range pfxs {
		if e.p.Contains(a) {
			out = append(out, e.id)
		}
	}
	slices.Sort(out)
	return out
}

func randAddr(r *rand.Rand) netip.Addr {
	if r.IntN(3) == 0 {
		var b [16]byte
		b[0], b[1], b[15] = 0x20, 0x01, byte(r.IntN(4))
		b[2] = byte(r.IntN(2))
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(3)), byte(r.IntN(4))})
}

func TestIPSetDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		var b IPSetBuilder
		var addrs []addrID
		var pfxs []pfxID
		for i := range r.IntN(40) {
			a := randAddr(r)
			if r.IntN(2) == 0 {
				b.AddAddr(a, uint32(i))
				addrs = append(addrs, addrID{a, uint32(i)})
			} else {
				p := netip.PrefixFrom(a, r.IntN(a.BitLen()+1)).Masked()
				b.AddPrefix(p, uint32(i))
				pfxs = append(pfxs, pfxID{p, uint32(i)})
			}
		}
		s := b.Build()
		for range 200 {
			a := randAddr(r)
			got := s.AppendLookup(nil, a)
			slices.Sort(got)
			if want := slowLookup(addrs, pfxs, a); !slices.Equal(got, want) {
				t.Fatalf("round %d: lookup %v = %v, want %v", round, a, got, want)
			}
		}
	}
}

func TestIPSetCases(t *testing.T) {
	var b IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"), 1)
	b.AddPrefix(netip.MustParsePrefix("10.0.0.0/8"), 2)
	b.AddPrefix(netip.MustParsePrefix("10.1.0.0/16"), 3)
	b.AddAddr(netip.MustParseAddr("10.1.2.3"), 4)
	b.AddAddr(netip.MustParseAddr("10.1.2.3"), 5)
	b.AddPrefix(netip.MustParsePrefix("::ffff:192.168.0.0/112"), 6) // mapped: becomes 192.168.0.0/16
	b.AddPrefix(netip.MustParsePrefix("2001:db8::/32"), 7)
	s := b.Build()
	for _, c := range []struct {
		a    string
		want []uint32
	}{
		{"10.1.2.3", []uint32{4, 5, 1, 2, 3}},
		{"10.2.0.0", []uint32{1, 2}},
		{"192.168.7.7", []uint32{1, 6}},
		{"2001:db8::1", []uint32{7}},
		{"2001:db9::1", nil},
	} {
		if got := s.AppendLookup(nil, netip.MustParseAddr(c.a)); !slices.Equal(got, c.want) {
			t.Errorf("lookup %s = %v, want %v", c.a, got, c.want)
		}
	}
	if a, p := s.Len(); a != 1 || p != 5 {
		t.Errorf("Len = %d, %d", a, p)
	}
	dst := make([]uint32, 0, 8)
	a := netip.MustParseAddr("10.1.2.3")
	if n := testing.AllocsPerRun(100, func() { dst = s.AppendLookup(dst[:0], a) }); n != 0 {
		t.Errorf("AppendLookup allocates %v times", n)
	}
}

// TestContentHash: the hash follows values and metadata, and computing it
// does not materialize the indicators.
func TestContentHash(t *testing.T) {
	mk := func(malware string) *Set {
		inds := []Indicator{
			{Value: "1.2.3.4", Type: TypeIP, Addr: netip.MustParseAddr("1.2.3.4"), Confidence: NoConfidence, Malware: malware},
			{Value: "http://a/x", Type: TypeURL, Confidence: 80},
		}
		s, err := Compile(inds, Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := mk("Mirai"), mk("Mirai"), mk("Gafgyt")
	if a.ContentHash() != b.ContentHash() {
		t.Error("same content, different hashes")
	}
	if a.ContentHash() == c.ContentHash() {
		t.Error("different malware, same hash")
	}
	if a.st.all != nil {
		t.Error("ContentHash materialized the indicators")
	}
}
