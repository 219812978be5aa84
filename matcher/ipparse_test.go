package matcher

import (
	"net/netip"
	"testing"
)

// slowParseAddr is the reference: netip itself, zones refused, unmapped.
func slowParseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

var addrCases = []string{
	"", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3",
	"1.2.3.4 ", " 1.2.3.4", "::", "::1", "1::", "2001:db8::1", "2a02:cf40:1::5", "2001:db8:0:0:0:0:0:1",
	"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "::1.2.3.4", "1::2::3",
	"12345::1", ":1", "1:", "fe80::1%eth0", "::ffff:1.2.3", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	"FFFF::AbCd", "1.2.3.4:80", "[::1]", "g::1", "0:0:0:0:0:0:0:0", "::0:0:0:0:0:0:0", "::0:0:0:0:0:0:0:0",
}

func TestParseAddr(t *testing.T) {
	for _, s := range addrCases {
		t.Run(s, func(t *testing.T) {
			got, gok := ParseAddr([]byte(s))
			want, wok := slowParseAddr(s)
			if got != want || gok != wok {
				t.Errorf("ParseAddr(%q) = %v, %v; want %v, %v", s, got, gok, want, wok)
			}
		})
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range addrCases {
		f.Add(s)
	}
	addrs, _, _ := corpusTokens(200)
	for _, s := range addrs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gok := ParseAddr([]byte(s))
		want, wok := slowParseAddr(s)
		if got != want || gok != wok {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v, %v", s, got, gok, want, wok)
		}
	})
}

func TestParsePort(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint16
		ok   bool
	}{{"80", 80, true}, {"0", 0, true}, {"65535", 65535, true}, {"65536", 0, false}, {"", 0, false}, {"8a", 0, false}, {"000080", 0, false}} {
		got, ok := ParsePort([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("ParsePort(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestLookupField(t *testing.T) {
	for f := Field(1); f < NumFields; f++ {
		if got := LookupField([]byte(f.String())); got != f {
			t.Errorf("LookupField(%q) = %v", f.String(), got)
		}
	}
	for _, s := range []string{"", "x", "sourceip", "SourceIPs", "Type", "TimeGenerated ", "UrlChainX"} {
		if got := LookupField([]byte(s)); got != FieldNone {
			t.Errorf("LookupField(%q) = %v, want none", s, got)
		}
	}
	b := []byte("InitiatingProcessCommandLine")
	if n := testing.AllocsPerRun(100, func() { LookupField(b) }); n != 0 {
		t.Errorf("LookupField allocates %v times", n)
	}
}
