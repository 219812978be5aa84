package gen

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Record formats, in the order of Config.Shares.
const (
	fmtCEF = iota
	fmtCSLJSON
	fmtDNE
	fmtUCE
)

// slot is a field a plant goes into.
type slot int

const (
	slotNone slot = iota
	slotSrc
	slotDst
	slotRequest
	slotDhost
	slotNAT // CommonSecurityLog DestinationTranslatedAddress: not matched
	slotRemoteIP
	slotRemoteURL
	slotSHA256
	slotSHA1
	slotMD5
	slotCmdline // DeviceNetworkEvents InitiatingProcessCommandLine: not matched
	slotURL
	slotURLChain
	slotClientIP // UrlClickEvents IPAddress: not matched
)

// plant is what a record carries besides noise: nothing, an indicator in a
// matched field (hit), or an indicator string that must not match
// (lookalike).
type plant struct {
	slot    slot
	hit     bool
	look    bool
	label   string // for Expected.AlertsByKind and LookalikesByKind
	value   string // the field's text
	port    int    // the port field's value when non-zero
	pattern string // the patterns-file line the value stems from
}

// recordGen writes records one by one and keeps the counts.
type recordGen struct {
	cfg     Config
	r       *rng
	ind     *indicators
	exp     *Expected
	shares  []int
	b       []byte
	tmp     []byte
	ms      int64 // the record's time, Unix milliseconds
	alerts  int
	literal int
	lookN   int
	tables  [4]TableCount
	// near-miss candidates
	ip4Short []netip.Addr // IPv4 indicators whose last octet is below 26
}

func newRecordGen(cfg Config, ind *indicators, exp *Expected) *recordGen {
	g := &recordGen{cfg: cfg, r: newRNG(cfg.Seed, 10), ind: ind, exp: exp, shares: cfg.Shares[:]}
	if cfg.Kind == URLs {
		g.shares = []int{0, 0, 0, 1}
	}
	for _, a := range ind.ip4 {
		if a.As4()[3] < 26 {
			g.ip4Short = append(g.ip4Short, a)
		}
	}
	return g
}

// record returns line i with its newline. The slice is valid until the
// next call.
func (g *recordGen) record(i int) []byte {
	r := g.r
	g.ms = baseTime + int64(i)*86 + int64(r.intn(86))
	f := r.weighted(g.shares)
	var p plant
	switch {
	case r.chance(g.cfg.HitRate):
		p = g.hitPlant(f)
	case r.chance(g.cfg.LookalikeRate):
		p = g.lookalikePlant(f)
	}
	g.b = g.b[:0]
	switch f {
	case fmtCEF, fmtCSLJSON:
		g.csl(f == fmtCEF, &p)
	case fmtDNE:
		g.dne(&p)
	default:
		g.uce(&p)
	}
	g.tables[f].Records++
	if p.hit {
		g.alerts++
		g.tables[f].Alerts++
		g.exp.AlertsByKind[p.label]++
	}
	literal := (p.hit || p.look) && bytes.Contains(g.b, []byte(p.pattern))
	if literal {
		g.literal++
	}
	// A lookalike whose indicator CEF escaping hid ('=' in a URL) is
	// noise for every tool.
	if p.look && literal {
		g.lookN++
		g.exp.LookalikesByKind[p.label]++
	}
	if n := i + 1; n%g.exp.PrefixStep == 0 {
		g.exp.AlertsPrefix = append(g.exp.AlertsPrefix, g.alerts)
	}
	g.b = append(g.b, '\n')
	return g.b
}

// finish stores the counts in Expected.
func (g *recordGen) finish() {
	e := g.exp
	e.Alerts, e.LiteralLines, e.Lookalikes = g.alerts, g.literal, g.lookN
	if g.cfg.Kind == URLs {
		e.Tables[UrlClickEvents] = &g.tables[fmtUCE]
		return
	}
	csl := TableCount{
		Records: g.tables[fmtCEF].Records + g.tables[fmtCSLJSON].Records,
		Alerts:  g.tables[fmtCEF].Alerts + g.tables[fmtCSLJSON].Alerts,
	}
	e.Tables[CommonSecurityLog] = &csl
	e.Tables["CEF"] = &g.tables[fmtCEF]
	e.Tables[DeviceNetworkEvents] = &g.tables[fmtDNE]
	e.Tables[UrlClickEvents] = &g.tables[fmtUCE]
}

// Hit kinds and their weights per record format.
const (
	kIP4 = iota
	kIP6
	kIPPort
	kCIDR
	kURL
	kDomain
	kHash
	numKinds
)

var kindWeights = [4][numKinds]int{
	fmtCEF:     {30, 3, 4, 13, 30, 12, 0},
	fmtCSLJSON: {30, 3, 4, 13, 30, 12, 0},
	fmtDNE:     {30, 3, 4, 13, 20, 10, 20},
	fmtUCE:     {0, 0, 0, 0, 75, 25, 0},
}

func (g *recordGen) kindCount(k int) int {
	switch k {
	case kIP4:
		return len(g.ind.ip4)
	case kIP6:
		return len(g.ind.ip6)
	case kIPPort:
		return len(g.ind.ipPorts)
	case kCIDR:
		return len(g.ind.cidrs)
	case kURL:
		return len(g.ind.urls)
	case kDomain:
		return len(g.ind.domains)
	default:
		return len(g.ind.hashes)
	}
}

// hitPlant returns an indicator for a matched field of format f, or no
// plant when the feeds hold nothing that fits.
func (g *recordGen) hitPlant(f int) plant {
	r := g.r
	var w [numKinds]int
	some := false
	for k := range w {
		if g.kindCount(k) > 0 {
			w[k] = kindWeights[f][k]
			some = some || w[k] > 0
		}
	}
	if !some {
		return plant{}
	}
	k := r.weighted(w[:])
	p := plant{hit: true}
	ipSlot := func() slot {
		if f == fmtDNE {
			return slotRemoteIP
		}
		if r.chance(0.75) {
			return slotDst
		}
		return slotSrc
	}
	switch k {
	case kIP4, kIP6:
		a := pick(r, g.ind.ip4)
		p.label = "ipv4"
		if k == kIP6 {
			a = pick(r, g.ind.ip6)
			p.label = "ipv6"
		}
		p.slot, p.value = ipSlot(), a.String()
		p.pattern = p.value
	case kIPPort:
		ap := pick(r, g.ind.ipPorts)
		p.label = "ip:port"
		p.slot, p.value, p.pattern = ipSlot(), ap.Addr().String(), ap.String()
		if p.slot != slotSrc && r.chance(0.6) {
			p.port = int(ap.Port())
		}
	case kCIDR:
		pf := pick(r, g.ind.cidrs)
		p.label = "cidr"
		p.slot, p.value, p.pattern = ipSlot(), randomIn(r, pf).String(), pf.String()
	case kURL:
		u := pick(r, g.ind.urls)
		p.label, p.pattern = "url", u
		p.value = g.urlVariant(u)
		switch f {
		case fmtDNE:
			p.slot = slotRemoteURL
		case fmtUCE:
			p.slot = slotURL
			if r.chance(0.4) {
				p.slot = slotURLChain
			}
		default:
			p.slot = slotRequest
		}
	case kDomain:
		d := pick(r, g.ind.domains)
		p.label, p.pattern = "domain", d
		host := d
		if r.chance(0.5) {
			host = pick(r, []string{"www.", "cdn.", "mail.", "api.", "login.", "update."}) + d
		}
		switch {
		case f == fmtDNE && r.chance(0.5), (f == fmtCEF || f == fmtCSLJSON) && r.chance(0.5):
			p.value = host
			p.slot = slotDhost
			if f == fmtDNE {
				p.slot = slotRemoteURL
			}
		default:
			g.tmp = append(g.tmp[:0], "https://"...)
			g.tmp = append(g.tmp, host...)
			g.tmp = g.appendNoisePath(g.tmp)
			p.value = string(g.tmp)
			p.slot = urlSlot(f)
		}
	case kHash:
		h := pick(r, g.ind.hashes)
		p.label, p.value, p.pattern = "hash", h, h
		switch len(h) {
		case 32:
			p.slot = slotMD5
		case 40:
			p.slot = slotSHA1
		default:
			p.slot = slotSHA256
		}
	}
	p.label += "/" + slotNames[p.slot]
	return p
}

// urlSlot returns the URL field of a record format.
func urlSlot(f int) slot {
	switch f {
	case fmtDNE:
		return slotRemoteURL
	case fmtUCE:
		return slotURL
	default:
		return slotRequest
	}
}

var slotNames = map[slot]string{
	slotSrc: "SourceIP", slotDst: "DestinationIP", slotRequest: "RequestURL",
	slotDhost: "DestinationHostName", slotNAT: "DestinationTranslatedAddress",
	slotRemoteIP: "RemoteIP", slotRemoteURL: "RemoteUrl", slotSHA256: "InitiatingProcessSHA256",
	slotSHA1: "InitiatingProcessSHA1", slotMD5: "InitiatingProcessMD5",
	slotCmdline: "InitiatingProcessCommandLine", slotURL: "Url", slotURLChain: "UrlChain",
	slotClientIP: "IPAddress",
}

// randomIn returns a random address of p.
func randomIn(r *rng, p netip.Prefix) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits / 8; i < 16; i++ {
		v := byte(r.uint64())
		if i == bits/8 && bits%8 != 0 {
			v &= 0xff >> (bits % 8)
		}
		a[i] |= v
	}
	x := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		return x.Unmap()
	}
	return x
}

// urlVariant returns u as a record would hold it: as it is, followed by
// more query, or with its scheme and host in upper case.
func (g *recordGen) urlVariant(u string) string {
	r := g.r
	switch x := r.intn(10); {
	case x < 6:
		return u
	case x < 8:
		b := append(g.tmp[:0], u...)
		if strings.IndexByte(u, '?') >= 0 {
			b = append(b, '&')
		} else {
			b = append(b, '?')
		}
		b = append(b, pick(r, queryKeys)...)
		b = append(b, '=')
		b = r.appendHex(b, 8)
		g.tmp = b
		return string(b)
	default:
		i := strings.Index(u, "://") + 3
		end := len(u)
		if j := strings.IndexAny(u[i:], "/?#"); j >= 0 {
			end = i + j
		}
		return strings.ToUpper(u[:end]) + u[end:]
	}
}

// lookalikePlant returns an indicator string for a place where it must not
// match, or no plant when the feeds hold nothing that fits.
func (g *recordGen) lookalikePlant(f int) plant {
	r := g.r
	var w []int
	switch f {
	case fmtCEF, fmtCSLJSON:
		w = []int{0: 3, 2: 2, 3: 2, 4: 2} // NAT decoy, near IP, near URL, near domain
	case fmtDNE:
		w = []int{1: 4, 2: 2, 3: 2}
	default:
		w = []int{0: 3, 3: 4, 4: 2}
	}
	for len(w) < 5 {
		w = append(w, 0)
	}
	if g.cfg.Kind == URLs {
		w = []int{0, 0, 0, 1, 0}
	}
	ip4, urls, doms := len(g.ind.ip4) > 0, len(g.ind.urls) > 0, len(g.ind.domains) > 0
	if !ip4 {
		w[0], w[2] = 0, 0
		if f == fmtDNE && !urls && !doms {
			w[1] = 0
		}
	}
	if !urls {
		w[3] = 0
	}
	if !doms {
		w[4] = 0
	}
	if len(g.ip4Short) == 0 {
		w[2] = 0
	}
	if w[0]+w[1]+w[2]+w[3]+w[4] == 0 {
		return plant{}
	}
	p := plant{look: true}
	switch r.weighted(w) {
	case 0: // an IP indicator where IPs are not matched
		a := pick(r, g.ind.ip4).String()
		p.value, p.pattern = a, a
		p.slot = slotNAT
		if f == fmtUCE {
			p.slot = slotClientIP
		}
	case 1: // an indicator in a command line
		p.slot = slotCmdline
		var choices []int
		if ip4 {
			choices = append(choices, 0)
		}
		if urls {
			choices = append(choices, 1)
		}
		if doms {
			choices = append(choices, 2)
		}
		switch pick(r, choices) {
		case 0:
			p.pattern = pick(r, g.ind.ip4).String()
		case 1:
			p.pattern = pick(r, g.ind.urls)
		default:
			p.pattern = pick(r, g.ind.domains)
		}
		p.value = p.pattern
	case 2: // an IPv4 indicator and one more digit
		for try := 0; try < 8; try++ {
			a := pick(r, g.ip4Short)
			s := a.String()
			v := s + string(rune('0'+r.intn(10)))
			na, err := netip.ParseAddr(v)
			if err != nil || g.ind.ipHit(na) {
				continue
			}
			p.pattern, p.value = s, v
			p.slot = slotDst
			if f == fmtDNE {
				p.slot = slotRemoteIP
			}
			break
		}
	case 3: // a URL indicator and more letters or digits
		for try := 0; try < 8; try++ {
			u := pick(r, g.ind.urls)
			if !isAlnum(u[len(u)-1]) {
				continue
			}
			v := u + pick(r, []string{"x", "1", "2", "bak", "old", "ell", "z", "0"})
			if g.ind.urlHit(v) || g.ind.hostHit(urlHost(v)) {
				continue
			}
			p.pattern, p.value = u, v
			p.slot = urlSlot(f)
			break
		}
	case 4: // a domain with a letter in front or a benign zone behind
		for try := 0; try < 8; try++ {
			d := pick(r, g.ind.domains)
			var h string
			if r.chance(0.5) {
				h = string(lowerAlnum[r.intn(26)]) + d
			} else {
				h = d + "." + pick(r, noiseZones)
			}
			if g.ind.hostHit(h) {
				continue
			}
			p.pattern = d
			if f == fmtUCE {
				g.tmp = append(append(g.tmp[:0], "https://"...), h...)
				g.tmp = g.appendNoisePath(g.tmp)
				p.value, p.slot = string(g.tmp), slotURL
			} else {
				p.value, p.slot = h, slotDhost
			}
			break
		}
	}
	if p.slot == slotNone {
		return plant{}
	}
	p.label = slotNames[p.slot]
	if p.slot == slotNAT || p.slot == slotClientIP || p.slot == slotCmdline {
		p.label = "unmatched-field/" + p.label
	} else {
		p.label = "near-miss/" + p.label
	}
	return p
}

// ipHit reports whether a is an IP or ip:port indicator or lies in a CIDR.
// Only the indicator spaces can hold CIDRs, so the CIDR scan runs only for
// addresses in them.
func (ind *indicators) ipHit(a netip.Addr) bool {
	if _, ok := ind.ipSet[a]; ok {
		return true
	}
	if a.Is4() && a.As4()[0] >= 100 {
		return false
	}
	for _, p := range ind.cidrs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// urlHit reports whether a URL indicator occurs in v under matchd's rule:
// ASCII case folded, and not inside a run of letters and digits. Every
// URL indicator starts with "http", so only the places where v has "http"
// are tried, each with every length up to the longest indicator.
func (ind *indicators) urlHit(v string) bool {
	lv := strings.ToLower(v)
	for i := 0; i+4 <= len(lv); i++ {
		if lv[i:i+4] != "http" || i > 0 && isAlnum(lv[i-1]) {
			continue
		}
		for j := i + 5; j <= len(lv) && j-i <= ind.urlMax; j++ {
			if _, ok := ind.urlSet[lv[i:j]]; !ok {
				continue
			}
			if !isAlnum(lv[j-1]) || j == len(lv) || !isAlnum(lv[j]) {
				return true
			}
		}
	}
	return false
}

// hostHit reports whether host or one of its parent domains is a domain
// indicator.
func (ind *indicators) hostHit(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for h != "" {
		if _, ok := ind.domSet[h]; ok {
			return true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return false
}

// urlHost returns the host of a URL with a scheme, without port.
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Noise values.

func (g *recordGen) appendPrivate4(b []byte) []byte {
	r := g.r
	v := r.uint64()
	switch r.intn(10) {
	case 0, 1, 2, 3, 4:
		return appendIP4(b, 10, v)
	case 5, 6, 7:
		b = append(b, "192.168."...)
	default:
		b = append(b, "172."...)
		b = strconv.AppendUint(b, 16+v>>24%16, 10)
		b = append(b, '.')
	}
	b = strconv.AppendUint(b, v&0xff, 10)
	b = append(b, '.')
	return strconv.AppendUint(b, 1+(v>>8)%254, 10)
}

// appendPublic4 appends a public noise address: from 198.18/15, or from
// the IP, ip:port and URL-host first octets when the address is no
// indicator and no IP indicator is a prefix of its text.
func (g *recordGen) appendPublic4(b []byte) []byte {
	r := g.r
	if r.chance(0.3) {
		v := r.uint64()
		b = append(b, "198."...)
		b = strconv.AppendUint(b, 18+v&1, 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, v>>8&0xff, 10)
		b = append(b, '.')
		return strconv.AppendUint(b, 1+(v>>16)%254, 10)
	}
	for {
		a := ip4From(pick(r, noisePublicOctets), r.uint64())
		if g.ind.ipHit(a) || g.ind.ipPrefixHit(a) {
			continue
		}
		return a.AppendTo(b)
	}
}

// ipPrefixHit reports whether the text of a without its last one or two
// digits is an IP indicator ("1.2.3.4" in "1.2.3.45").
func (ind *indicators) ipPrefixHit(a netip.Addr) bool {
	last := a.As4()[3]
	for d := 10; d <= 100; d *= 10 {
		if int(last) < d {
			break
		}
		b := a.As4()
		b[3] = byte(int(last) / d)
		if _, ok := ind.ipSet[netip.AddrFrom4(b)]; ok {
			return true
		}
	}
	return false
}

// appendNoise6 appends 2001:db8:a:b::c.
func (g *recordGen) appendNoise6(b []byte) []byte {
	r := g.r
	b = append(b, "2001:db8:"...)
	b = strconv.AppendUint(b, uint64(1+r.intn(0xffff)), 16)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(1+r.intn(0xffff)), 16)
	b = append(b, "::"...)
	return strconv.AppendUint(b, uint64(1+r.intn(0xffff)), 16)
}

func (g *recordGen) appendNoiseHost(b []byte) []byte {
	r := g.r
	if r.chance(0.6) {
		return append(b, pick(r, noiseHosts)...)
	}
	b = append(b, pick(r, noiseSubdomains)...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(r.intn(100)), 10)
	b = append(b, '.')
	return append(b, pick(r, noiseZones)...)
}

// appendNoisePath appends a benign path, maybe with a query.
func (g *recordGen) appendNoisePath(b []byte) []byte {
	r := g.r
	for i, n := 0, r.rangeIn(1, 3); i < n; i++ {
		b = append(b, '/')
		b = append(b, pick(r, pathWords)...)
	}
	switch r.intn(4) {
	case 0:
		b = append(b, '/')
		b = appendToken(r, b, r.rangeIn(4, 12))
		b = append(b, '.')
		b = append(b, pick(r, fileExts)...)
	case 1:
		b = append(b, '/')
	}
	if r.chance(0.3) {
		b = append(b, '?')
		b = append(b, pick(r, queryKeys)...)
		b = append(b, '=')
		b = appendToken(r, b, r.rangeIn(2, 10))
		if r.chance(0.5) {
			b = append(b, "&lang=en"...)
		}
	}
	return b
}

func (g *recordGen) appendNoiseURL(b []byte) []byte {
	if g.r.chance(0.85) {
		b = append(b, "https://"...)
	} else {
		b = append(b, "http://"...)
	}
	b = g.appendNoiseHost(b)
	return g.appendNoisePath(b)
}

func (g *recordGen) appendGUID(b []byte) []byte {
	b = g.r.appendHex(b, 8)
	b = append(b, '-')
	b = g.r.appendHex(b, 4)
	b = append(b, '-')
	b = g.r.appendHex(b, 4)
	b = append(b, '-')
	b = g.r.appendHex(b, 4)
	b = append(b, '-')
	return g.r.appendHex(b, 12)
}

func (g *recordGen) user() string { return pick(g.r, userNames) }

// Time formats.

func (g *recordGen) time() time.Time { return time.UnixMilli(g.ms).UTC() }

func appendRFC3339Milli(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
}

// appendSyslogTime appends "Jun  7 10:00:01".
func appendSyslogTime(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "Jan _2 15:04:05")
}

// JSON and CEF writing.

// jsonStr appends "key":"value", escaping value.
func jsonStr(b []byte, key, value string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":"`...)
	b = appendJSONEscaped(b, value)
	return append(b, `",`...)
}

func jsonNum(b []byte, key string, v int) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b = strconv.AppendInt(b, int64(v), 10)
	return append(b, ',')
}

func jsonBool(b []byte, key string, v bool) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b = strconv.AppendBool(b, v)
	return append(b, ',')
}

// jsonRaw appends "key":raw.
func jsonRaw(b []byte, key string, raw []byte) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b = append(b, raw...)
	return append(b, ',')
}

// jsonEnd replaces the trailing comma with the closing brace.
func jsonEnd(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ',' {
		b = b[:n-1]
	}
	return append(b, '}')
}

func appendJSONEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

// cef appends key=value and a space, escaping value as CEF extensions
// require ('\', '=' and newlines).
func cef(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, '=')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '=':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, ' ')
}

func cefNum(b []byte, key string, v int64) []byte {
	b = append(b, key...)
	b = append(b, '=')
	b = strconv.AppendInt(b, v, 10)
	return append(b, ' ')
}

func cefEnd(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ' ' {
		b = b[:n-1]
	}
	return b
}
