package gen

import (
	"bufio"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

// First octets of the IPv4 spaces (see the package documentation). All
// indicator spaces but cidrOctets are three digits long; none holds 10,
// 100, 127, 169, 172, 192 or 198.
var (
	ipOctets     = octets(101, 126, 128, 168, 170, 171, 173, 191)
	ipPortOctets = octets(193, 197, 199, 202)
	urlOctets    = octets(204, 223)
	cidrOctets   = octets(1, 9, 11, 99)
	// noisePublicOctets are the public first octets of noise: those of the
	// IP, ip:port and URL-host spaces (the address and its text prefixes
	// are checked against the indicators), never those of CIDRs.
	noisePublicOctets = append(append(append([]byte(nil), ipOctets...), ipPortOctets...), urlOctets...)
)

// octets expands inclusive ranges lo1, hi1, lo2, hi2, ...
func octets(r ...int) []byte {
	var o []byte
	for i := 0; i+1 < len(r); i += 2 {
		for v := r[i]; v <= r[i+1]; v++ {
			o = append(o, byte(v))
		}
	}
	return o
}

// c2Ports are ports that ip:port indicators typically carry.
var c2Ports = []int{80, 443, 8080, 2701, 6667, 1337, 23, 81, 5555, 7547, 4444, 3778, 9999, 8443, 1912}

// indicators holds the generated feeds and the lookups the record
// generator needs to keep noise clean and to judge lookalikes.
type indicators struct {
	urls    []string
	urlSet  map[string]struct{} // ASCII lower case
	urlMax  int                 // longest URL
	ip4     []netip.Addr
	ip6     []netip.Addr
	ipPorts []netip.AddrPort
	ipSet   map[netip.Addr]struct{} // IP and ip:port addresses
	cidrs   []netip.Prefix
	domains []string
	domSet  map[string]struct{}
	hashes  []string // lower-case hex; the length says the type
}

func newIndicators(cfg Config) *indicators {
	ind := &indicators{
		urlSet: map[string]struct{}{},
		ipSet:  map[netip.Addr]struct{}{},
		domSet: map[string]struct{}{},
	}
	ind.genURLs(newRNG(cfg.Seed, 1), cfg.URLs)
	if cfg.Kind == URLs {
		return ind
	}
	ind.genIPs(newRNG(cfg.Seed, 2), cfg.IPs)
	ind.genCIDRs(newRNG(cfg.Seed, 3), cfg.CIDRs)
	ind.genDomains(newRNG(cfg.Seed, 4), cfg.Domains)
	ind.genHashes(newRNG(cfg.Seed, 5), cfg.Hashes)
	return ind
}

// genURLs makes n URLs on hosts that carry one to eight of them each, IP
// hosts more than named ones, as in URL-hosting feeds.
func (ind *indicators) genURLs(r *rng, n int) {
	hosts := map[string]struct{}{}
	var b []byte
	for len(ind.urls) < n {
		b = b[:0]
		isIP := r.chance(0.45)
		if isIP {
			b = appendIP4(b, pick(r, urlOctets), r.uint64())
			if r.chance(0.15) {
				b = append(b, ':')
				b = strconv.AppendInt(b, int64(pick(r, []int{8080, 81, 8000, 8888, 3000})), 10)
			}
		} else {
			if r.chance(0.2) {
				b = append(b, pick(r, []string{"www.", "cdn.", "dl.", "update.", "secure-"})...)
			}
			b = r.appendLabel(b, r.rangeIn(5, 14))
			b = append(b, '.')
			b = append(b, pick(r, urlTLDs)...)
		}
		host := string(b)
		if _, dup := hosts[host]; dup {
			continue
		}
		hosts[host] = struct{}{}
		k := 1 + r.intn(3)
		if isIP {
			k = 1 + r.intn(8)
		}
		var mine []string
		for j := 0; j < k && len(ind.urls) < n; j++ {
			for try := 0; try < 8; try++ {
				b = b[:0]
				if r.chance(0.7) {
					b = append(b, "http://"...)
				} else {
					b = append(b, "https://"...)
				}
				b = append(b, host...)
				b = appendIndicatorPath(r, b, isIP)
				u := string(b)
				if prefixClash(mine, u) {
					continue
				}
				mine = append(mine, u)
				ind.urls = append(ind.urls, u)
				ind.urlSet[strings.ToLower(u)] = struct{}{}
				ind.urlMax = max(ind.urlMax, len(u))
				break
			}
		}
	}
}

// prefixClash reports whether u, ASCII case folded, is a prefix of one of
// urls or has one as a prefix.
func prefixClash(urls []string, u string) bool {
	for _, v := range urls {
		a, b := u, v
		if len(a) > len(b) {
			a, b = b, a
		}
		if strings.EqualFold(a, b[:len(a)]) {
			return true
		}
	}
	return false
}

// appendIndicatorPath appends the path (and query) of a malicious URL.
func appendIndicatorPath(r *rng, b []byte, ipHost bool) []byte {
	if ipHost {
		switch r.intn(6) {
		case 0, 1, 2:
			b = append(b, pick(r, []string{"/bins/", "/", "/bin/", "/x/", "/a/"})...)
			b = append(b, pick(r, botNames)...)
			b = append(b, '.')
			return append(b, pick(r, botArches)...)
		case 3:
			b = append(b, '/')
			b = append(b, pick(r, scriptNames)...)
			return append(b, ".sh"...)
		case 4:
			b = append(b, '/')
			b = appendToken(r, b, r.rangeIn(1, 8))
			return append(b, pick(r, []string{"", "/i", "/mips", ".exe", ".bin"})...)
		}
	}
	switch r.intn(7) {
	case 0:
		b = append(b, "/wp-content/uploads/"...)
		b = strconv.AppendInt(b, int64(r.rangeIn(2019, 2026)), 10)
		b = append(b, '/')
		b = appendInt2(b, r.rangeIn(1, 12))
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(6, 14))
		b = append(b, '.')
		return append(b, pick(r, []string{"php", "zip", "exe", "js", "doc"})...)
	case 1:
		b = append(b, '/')
		b = append(b, pick(r, []string{"wp-includes", "wp-admin", "wp-content/plugins", "wp-content/themes"})...)
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(4, 10))
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(4, 10))
		return append(b, ".php"...)
	case 2:
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(3, 8))
		b = append(b, pick(r, []string{"/gate.php", "/panel/login.php", "/index.php", "/api.php"})...)
		b = append(b, '?')
		b = append(b, pick(r, queryKeys)...)
		b = append(b, '=')
		return r.appendHex(b, r.rangeIn(6, 16))
	case 3:
		b = append(b, pick(r, []string{"/download/", "/files/", "/invoice/", "/docs/", "/update/"})...)
		b = appendToken(r, b, r.rangeIn(5, 12))
		b = append(b, '_')
		b = strconv.AppendInt(b, int64(r.rangeIn(100, 99999)), 10)
		b = append(b, '.')
		return append(b, pick(r, fileExts)...)
	case 4:
		for i, n := 0, r.rangeIn(1, 3); i < n; i++ {
			b = append(b, '/')
			b = append(b, pick(r, pathWords)...)
		}
		b = append(b, '/')
		return appendToken(r, b, r.rangeIn(8, 24))
	case 5:
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(6, 12))
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(6, 12))
		b = append(b, '.')
		return append(b, pick(r, fileExts)...)
	default:
		b = append(b, pick(r, []string{"/secure/", "/login/", "/account/", "/verify/"})...)
		b = appendToken(r, b, r.rangeIn(8, 20))
		b = append(b, '/')
		return b
	}
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// appendToken appends n random letters and digits.
func appendToken(r *rng, b []byte, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, tokenChars[r.intn(len(tokenChars))])
	}
	return b
}

func appendInt2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// appendIP4 appends first.x.y.z with x, y, z from the low bits of v and z
// never 0 or 255.
func appendIP4(b []byte, first byte, v uint64) []byte {
	b = strconv.AppendUint(b, uint64(first), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, v&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, v>>8&0xff, 10)
	b = append(b, '.')
	return strconv.AppendUint(b, 1+(v>>16)%254, 10)
}

func ip4From(first byte, v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{first, byte(v), byte(v >> 8), byte(1 + (v>>16)%254)})
}

// ip6Shape returns g1:g2:g3:g4::n with the given first group and g2..g4
// and n drawn non-zero, so that the text has exactly that shape.
func ip6Shape(r *rng, g1 uint16) netip.Addr {
	var a [16]byte
	a[0], a[1] = byte(g1>>8), byte(g1)
	for i := 2; i < 8; i += 2 {
		g := 1 + r.intn(0xffff)
		a[i], a[i+1] = byte(g>>8), byte(g)
	}
	n := 1 + r.intn(0xffff)
	a[14], a[15] = byte(n>>8), byte(n)
	return netip.AddrFrom16(a)
}

// genIPs makes n IP indicators: 93% IPv4, 4% IPv6 and 3% ip:port.
func (ind *indicators) genIPs(r *rng, n int) {
	for i := 0; i < n; {
		var a netip.Addr
		port := 0
		switch x := r.intn(100); {
		case x < 93:
			a = ip4From(pick(r, ipOctets), r.uint64())
		case x < 97:
			a = ip6Shape(r, 0x2a00+uint16(r.intn(8)))
		default:
			port = pick(r, c2Ports)
			if r.chance(0.3) {
				port = r.rangeIn(1024, 65535)
			}
			if r.chance(0.1) {
				a = ip6Shape(r, 0x2a08+uint16(r.intn(2)))
			} else {
				a = ip4From(pick(r, ipPortOctets), r.uint64())
			}
		}
		if _, dup := ind.ipSet[a]; dup {
			continue
		}
		ind.ipSet[a] = struct{}{}
		switch {
		case port != 0:
			ind.ipPorts = append(ind.ipPorts, netip.AddrPortFrom(a, uint16(port)))
		case a.Is4():
			ind.ip4 = append(ind.ip4, a)
		default:
			ind.ip6 = append(ind.ip6, a)
		}
		i++
	}
}

// genCIDRs makes n prefixes: IPv4 under cidrOctets, mostly /16 to /28
// with a few /8 to /15, and 5% IPv6 under 2a10::/12.
func (ind *indicators) genCIDRs(r *rng, n int) {
	seen := map[netip.Prefix]struct{}{}
	for len(ind.cidrs) < n {
		var p netip.Prefix
		if r.chance(0.05) {
			a := ip6Shape(r, 0x2a10+uint16(r.intn(16)))
			p = netip.PrefixFrom(a, pick(r, []int{32, 40, 48, 48, 56, 64})).Masked()
		} else {
			var bits int
			switch x := r.intn(100); {
			case x < 3:
				bits = r.rangeIn(8, 15)
			case x < 20:
				bits = r.rangeIn(16, 20)
			case x < 75:
				bits = r.rangeIn(21, 24)
			default:
				bits = r.rangeIn(25, 28)
			}
			v := r.uint64()
			a := netip.AddrFrom4([4]byte{pick(r, cidrOctets), byte(v), byte(v >> 8), byte(v >> 16)})
			p = netip.PrefixFrom(a, bits).Masked()
		}
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		ind.cidrs = append(ind.cidrs, p)
	}
}

// genDomains makes n domains under domainTLDs, a fifth of them with a
// subdomain.
func (ind *indicators) genDomains(r *rng, n int) {
	var b []byte
	for len(ind.domains) < n {
		b = b[:0]
		if r.chance(0.2) {
			b = r.appendLabel(b, r.rangeIn(3, 8))
			b = append(b, '.')
		}
		b = r.appendLabel(b, r.rangeIn(5, 14))
		if r.chance(0.15) {
			b = append(b, '-')
			b = r.appendLabel(b, r.rangeIn(3, 6))
		}
		b = append(b, '.')
		b = append(b, pick(r, domainTLDs)...)
		d := string(b)
		if _, dup := ind.domSet[d]; dup {
			continue
		}
		ind.domSet[d] = struct{}{}
		ind.domains = append(ind.domains, d)
	}
}

// genHashes makes n hashes: half SHA-256, a quarter each SHA-1 and MD5.
func (ind *indicators) genHashes(r *rng, n int) {
	seen := map[string]struct{}{}
	var b []byte
	for len(ind.hashes) < n {
		size := 64
		switch r.intn(4) {
		case 0:
			size = 40
		case 1:
			size = 32
		}
		b = r.appendHex(b[:0], size)
		h := string(b)
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		ind.hashes = append(ind.hashes, h)
	}
}

// write writes the feeds and the patterns file and records them in exp.
func (ind *indicators) write(dir string, exp *Expected) error {
	type feed struct {
		name  string
		kind  string
		n     int
		value func(i int) string
	}
	feeds := []feed{
		{"urls.txt", "url", len(ind.urls), func(i int) string { return ind.urls[i] }},
		{"ips.txt", "ip", len(ind.ip4) + len(ind.ip6) + len(ind.ipPorts), func(i int) string {
			if i < len(ind.ip4) {
				return ind.ip4[i].String()
			}
			if i -= len(ind.ip4); i < len(ind.ip6) {
				return ind.ip6[i].String()
			}
			return ind.ipPorts[i-len(ind.ip6)].String()
		}},
		{"cidrs.txt", "cidr", len(ind.cidrs), func(i int) string { return ind.cidrs[i].String() }},
		{"domains.txt", "domain", len(ind.domains), func(i int) string { return ind.domains[i] }},
		{"hashes.txt", "hash", len(ind.hashes), func(i int) string { return ind.hashes[i] }},
	}
	exp.Indicators["ipv4"] = len(ind.ip4)
	exp.Indicators["ipv6"] = len(ind.ip6)
	exp.Indicators["ip:port"] = len(ind.ipPorts)
	pf, err := createBuffered(filepath.Join(dir, exp.Patterns))
	if err != nil {
		return err
	}
	for _, f := range feeds {
		if f.n == 0 {
			continue
		}
		exp.Indicators[f.kind] = f.n
		rel := filepath.Join("iocs", f.name)
		_, err := writeFile(filepath.Join(dir, rel), func(w *bufio.Writer) error {
			for i := 0; i < f.n; i++ {
				v := f.value(i)
				w.WriteString(v)
				w.WriteByte('\n')
				pf.w.WriteString(v)
				pf.w.WriteByte('\n')
			}
			return nil
		})
		if err != nil {
			pf.close()
			return err
		}
		exp.Feeds = append(exp.Feeds, rel)
		exp.PatternCount += f.n
	}
	return pf.close()
}
