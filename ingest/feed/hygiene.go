package feed

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/matchd/matchd/matcher"
)

// specialRange is an address range an indicator should not normally name:
// matching it alerts on the network's own or impossible traffic.
type specialRange struct {
	prefix netip.Prefix
	what   string
}

var specialRanges = func() []specialRange {
	var rs []specialRange
	for _, r := range []struct{ prefix, what string }{
		{"0.0.0.0/8", "reserved (\"this network\", 0.0.0.0/8)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space (carrier-grade NAT, 100.64.0.0/10)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "reserved (IETF protocol assignments, 192.0.0.0/24)"},
		{"192.0.2.0/24", "documentation (192.0.2.0/24)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "reserved (benchmarking, 198.18.0.0/15)"},
		{"198.51.100.0/24", "documentation (198.51.100.0/24)"},
		{"203.0.113.0/24", "documentation (203.0.113.0/24)"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved (240.0.0.0/4)"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"64:ff9b:1::/48", "reserved (local-use NAT64, 64:ff9b:1::/48)"},
		{"100::/64", "reserved (discard-only, 100::/64)"},
		{"2001:db8::/32", "documentation (2001:db8::/32)"},
		{"3fff::/20", "documentation (3fff::/20)"},
		{"fc00::/7", "private (unique local, fc00::/7)"},
		{"fe80::/10", "link-local"},
		{"ff00::/8", "multicast"},
	} {
		rs = append(rs, specialRange{netip.MustParsePrefix(r.prefix), r.what})
	}
	return rs
}()

// specialByOctet lists, for each first octet of an IPv4 address, the
// indexes of the IPv4 specialRanges that can hold such an address, in
// their order; specialV6 the IPv6 ones. Hygiene checks every address of a
// feed, and most IPv4 addresses are thus checked against no range at all.
var specialByOctet, specialV6 = func() (by [256][]int, v6 []int) {
	for i, r := range specialRanges {
		a := r.prefix.Addr()
		if !a.Is4() {
			v6 = append(v6, i)
			continue
		}
		first := int(a.As4()[0])
		last := first
		if bits := r.prefix.Bits(); bits < 8 {
			last = first | (1<<(8-bits) - 1)
		}
		for o := first; o <= last; o++ {
			by[o] = append(by[o], i)
		}
	}
	return by, v6
}()

// emptyHashes are the hashes of empty input: a feed listing one flags every
// empty file.
var emptyHashes = map[string]bool{
	"d41d8cd98f00b204e9800998ecf8427e":                                 true,
	"da39a3ee5e6b4b0d3255bfef95601890afd80709":                         true,
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855": true,
}

// Hygiene checks an indicator for the mistakes that make a feed alert on
// harmless or impossible traffic: addresses that are private, loopback,
// link-local, unspecified, multicast, reserved or for documentation (also as
// a URL's host); very broad CIDRs (IPv4 shorter than /16, IPv6 shorter than
// /32); domains that are a bare top-level label ("com") or an internal name;
// very short URLs; hashes of empty input or of all zeros. ok is true when
// the indicator passes; otherwise msg says why, the findings joined by "; ".
//
// Hygiene is for `matchd check` and feed reports: it does not stop an
// indicator from being used. It is safe for concurrent use.
func Hygiene(in *matcher.Indicator) (msg string, ok bool) {
	var found []string
	switch in.Type {
	case matcher.TypeIP, matcher.TypeIPPort:
		found = appendAddrFindings(found, in.Addr)
	case matcher.TypeCIDR:
		p := in.Prefix
		if (p.Addr().Is4() && p.Bits() < 16) || (p.Addr().Is6() && p.Bits() < 32) {
			found = append(found, fmt.Sprintf("very broad /%d — would flood alerts", p.Bits()))
		}
		for _, r := range specialRanges {
			if r.prefix.Bits() <= p.Bits() && r.prefix.Contains(p.Addr()) {
				found = append(found, r.what)
				break
			}
		}
	case matcher.TypeDomain:
		found = appendNameFindings(found, in.Value)
	case matcher.TypeURL:
		rest := in.Value
		if i := strings.Index(rest, "://"); i >= 0 {
			rest = rest[i+3:]
		}
		if len(strings.TrimRight(rest, "/")) < 4 {
			found = append(found, "very short URL — would match too much")
		}
		if host := urlHost(in.Value); host != "" {
			if a, ok := parseAddr(strings.Trim(host, "[]")); ok {
				found = appendAddrFindings(found, a.Unmap())
			} else {
				found = appendNameFindings(found, host)
			}
		}
	case matcher.TypeMD5, matcher.TypeSHA1, matcher.TypeSHA256:
		if emptyHashes[in.Value] {
			found = append(found, "hash of empty input")
		} else if strings.Trim(in.Value, "0") == "" {
			found = append(found, "all-zero placeholder hash")
		}
	}
	if len(found) == 0 {
		return "", true
	}
	return strings.Join(found, "; "), false
}

func appendAddrFindings(found []string, a netip.Addr) []string {
	if !a.IsValid() {
		return found
	}
	if a.IsUnspecified() {
		return append(found, "unspecified address")
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return append(found, "broadcast address")
	}
	cand := specialV6
	if a.Is4() {
		cand = specialByOctet[a.As4()[0]]
	}
	for _, i := range cand {
		if r := &specialRanges[i]; r.prefix.Contains(a) {
			return append(found, r.what)
		}
	}
	return found
}

// appendNameFindings checks a domain or URL host name.
func appendNameFindings(found []string, name string) []string {
	name = strings.TrimSuffix(name, ".")
	if name != "" && !strings.Contains(name, ".") {
		if name == "localhost" {
			return append(found, "internal name (localhost)")
		}
		return append(found, fmt.Sprintf("TLD-only domain %q — would match every host under it", name))
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".corp"} {
		if strings.HasSuffix(name, suffix) {
			return append(found, "internal name ("+suffix[1:]+")")
		}
	}
	return found
}

// urlHost returns the host of a canonical URL, schemeless or not, without
// user info or port; IPv6 hosts keep their brackets.
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i >= 0 {
			return u[:i+1]
		}
		return u
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u
}
