package feed

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/matchd/matchd/matcher"
)

// Refang undoes the usual defanging of indicators in reports: the bracketed
// separators "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}" (any case) become
// ".", "[:]" and "(:)" become ":", "[://]" becomes "://", "[/]" becomes "/",
// and a leading "hxxp://" or "hxxps://" (any case) becomes "http://" or
// "https://". Other spellings ("meow://", " dot ") are left alone: they are
// too rare to be worth the false rewrites.
//
// Replacements apply to their own output too ("[[.]]" becomes "."), so
// Refang(Refang(s)) == Refang(s). Refang is safe for concurrent use and
// allocates only when s changes.
func Refang(s string) string {
	if !maybeDefanged(s) && !hasDefangedScheme(s) {
		return s
	}
	// Each separator ends in ']', ')' or '}', and each replacement ends in
	// '.', ':' or '/'. Reducing the output's tail whenever a closing byte
	// is appended therefore leaves no separator anywhere in the output, in
	// one pass: nested forms such as "[[.]]" need no second round.
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		out = append(out, c)
		if c == ']' || c == ')' || c == '}' {
			out = reduceDefang(out)
		}
	}
	r := string(out)
	if hasDefangedScheme(r) {
		if r[4] == 's' || r[4] == 'S' {
			return "https" + r[5:]
		}
		return "http" + r[4:]
	}
	return r
}

// maybeDefanged reports whether s may hold a bracketed separator: a
// closing ']', ')' or '}' right after the '.', ':', '/' or 't' every
// separator has there. Until the first such byte the output of Refang is
// its input, so without one nothing is reduced; bracketed IPv6 hosts
// ("[2a02:cf40:1::5]:80") are then not copied.
func maybeDefanged(s string) bool {
	for i := 1; i < len(s); i++ {
		if c := s[i]; c == ']' || c == ')' || c == '}' {
			switch s[i-1] {
			case '.', ':', '/', 't', 'T':
				return true
			}
		}
	}
	return false
}

// defangs lists the bracketed separators and what they stand for.
var defangs = [...]struct{ from, to string }{
	{"[.]", "."}, {"(.)", "."}, {"{.}", "."},
	{"[dot]", "."}, {"(dot)", "."}, {"{dot}", "."},
	{"[:]", ":"}, {"(:)", ":"},
	{"[://]", "://"},
	{"[/]", "/"},
}

func reduceDefang(out []byte) []byte {
	for _, d := range defangs {
		n := len(d.from)
		if len(out) >= n && strings.EqualFold(string(out[len(out)-n:]), d.from) {
			return append(out[:len(out)-n], d.to...)
		}
	}
	return out
}

// hasDefangedScheme reports whether s starts with "hxxp://" or "hxxps://"
// in any case.
func hasDefangedScheme(s string) bool {
	if len(s) < 7 || !strings.EqualFold(s[:4], "hxxp") {
		return false
	}
	rest := s[4:]
	if rest[0] == 's' || rest[0] == 'S' {
		rest = rest[1:]
	}
	return strings.HasPrefix(rest, "://")
}

// ParseValue parses one indicator value, refanging it first, and returns the
// indicator with its canonical Value, Type, Addr, Port and Prefix set and
// Confidence set to matcher.NoConfidence; the other fields are empty.
//
// With typ == matcher.TypeInvalid the type is detected, in this order:
//   - a value with a scheme ("xxx://") is a URL;
//   - 32, 40 or 64 hex digits are an MD5, SHA-1 or SHA-256 hash;
//   - a value with a '/' is a CIDR when it parses as one, otherwise a
//     schemeless URL ("evil.example/path", host lower-cased, kept without a
//     scheme so that it matches under any scheme);
//   - an IPv4 or IPv6 address is an IP (so "2a02:cf40:1::5:4066", a valid
//     IPv6 address, is an IP);
//   - "[v6]:port", "v4:port" and otherwise the last colon splitting an
//     address from a port ("2a02:cf40:1::5:40669") make an ip:port;
//   - a dotted host name whose last label is not all digits is a domain.
//
// With typ set, the value must be of that type, except that TypeIP and
// TypeCIDR both accept an address or a prefix (feeds such as STIX mix them),
// and an ip:port without brackets always splits at the last colon (the
// ThreatFox spelling). A single-label domain ("com") is accepted only when
// typ is TypeDomain: detection would mistake words for domains.
//
// A /32 or /128 prefix becomes a TypeIP, a prefix with host bits set is
// masked, IPv4-mapped IPv6 addresses are unmapped, and zones are rejected.
//
// Canonical values are fixed points: for an indicator in it returns,
// ParseValue(in.Value, in.Type) returns in again. ParseValue is safe for
// concurrent use and allocates the canonical value when it differs from s.
func ParseValue(s string, typ matcher.IndicatorType) (matcher.Indicator, error) {
	in, _, err := parseValue(s, typ)
	return in, err
}

// parseValue is ParseValue that also returns a note about a repair made on
// the way (a masked prefix), which feeds report as a warning.
func parseValue(s string, typ matcher.IndicatorType) (in matcher.Indicator, note string, err error) {
	in.Confidence = matcher.NoConfidence
	v := Refang(strings.TrimSpace(s))
	if v == "" {
		return in, "", errors.New("empty value")
	}
	if msg := badBytes(v); msg != "" {
		if typ == matcher.TypeInvalid {
			return in, "", fmt.Errorf("%s in %s", msg, quote(s))
		}
		return in, "", fmt.Errorf("invalid %s %s: %s", typ, quote(s), msg)
	}
	if typ == matcher.TypeInvalid {
		typ, err = detect(v)
		if err != nil {
			return in, "", fmt.Errorf("%v: %s", err, quote(s))
		}
	}
	switch typ {
	case matcher.TypeIP, matcher.TypeCIDR:
		err = parseAddrOrPrefix(&in, v, &note)
	case matcher.TypeIPPort:
		err = parseIPPort(&in, v)
	case matcher.TypeURL:
		in.Type = matcher.TypeURL
		in.Value, err = canonicalURL(v)
	case matcher.TypeDomain:
		in.Type = matcher.TypeDomain
		in.Value, err = canonicalDomain(v, false)
	case matcher.TypeMD5, matcher.TypeSHA1, matcher.TypeSHA256:
		in.Type = typ
		in.Value, err = canonicalHash(v, typ)
	default:
		err = fmt.Errorf("unknown indicator type %d", typ)
	}
	if err != nil {
		return matcher.Indicator{Confidence: matcher.NoConfidence}, "", fmt.Errorf("invalid %s %s: %v", typ, quote(s), err)
	}
	return in, note, nil
}

// badBytes says what is wrong with a value holding bytes no indicator may
// hold: invalid UTF-8, spaces or control characters.
func badBytes(v string) string {
	if !utf8.ValidString(v) {
		return "invalid UTF-8"
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return "space or control character"
		}
	}
	return ""
}

// detect returns the type of the refanged value v, following ParseValue.
func detect(v string) (matcher.IndicatorType, error) {
	if strings.Contains(v, "://") {
		return matcher.TypeURL, nil
	}
	if t := hashType(v); t != matcher.TypeInvalid {
		return t, nil
	}
	if strings.IndexByte(v, '/') >= 0 {
		if isPrefix(v) || looksLikePrefix(v) {
			return matcher.TypeCIDR, nil
		}
		return matcher.TypeURL, nil
	}
	if isAddr(v) {
		return matcher.TypeIP, nil
	}
	if v[0] == '[' {
		return matcher.TypeIPPort, nil
	}
	if h, _, ok := splitLastColon(v); ok {
		if isAddr(h) {
			return matcher.TypeIPPort, nil
		}
		return matcher.TypeInvalid, errors.New("cannot detect indicator type (a port needs an IP host)")
	}
	if _, err := canonicalDomain(v, true); err == nil {
		return matcher.TypeDomain, nil
	}
	return matcher.TypeInvalid, errors.New("cannot detect indicator type")
}

// looksLikePrefix reports whether v is an address, a '/' and digits: a
// malformed CIDR ("10.0.0.0/33") rather than a schemeless URL.
func looksLikePrefix(v string) bool {
	i := strings.IndexByte(v, '/')
	if i < 0 || i == len(v)-1 || !allDigits(v[i+1:]) {
		return false
	}
	return isAddr(v[:i])
}

// mayBeAddr reports whether s passes a quick test every address that
// netip.ParseAddr accepts passes: hex digits, '.' and ':' (not exactly one)
// up to an optional '%' zone. Values that fail it, such as domains and
// ip:port pairs, are then not handed to netip, whose errors allocate.
func mayBeAddr(s string) bool {
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colons++
		case c != '.' && !isHex(c):
			return false
		}
	}
	return colons != 1
}

// isAddr reports whether netip.ParseAddr accepts s.
func isAddr(s string) bool {
	_, ok := parseAddr(s)
	return ok
}

// parseAddr is netip.ParseAddr without the error.
func parseAddr(s string) (netip.Addr, bool) {
	if !mayBeAddr(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// isPrefix reports whether netip.ParsePrefix accepts s.
func isPrefix(s string) bool {
	i := strings.LastIndexByte(s, '/')
	if i < 0 || !mayBeAddr(s[:i]) {
		return false
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

func parseAddrOrPrefix(in *matcher.Indicator, v string, note *string) error {
	if strings.IndexByte(v, '/') < 0 {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return errors.New("not an IP address")
		}
		if a.Zone() != "" {
			return errors.New("address has a zone")
		}
		a = a.Unmap()
		in.Type = matcher.TypeIP
		in.Addr = a
		var buf [64]byte
		in.Value = reuse(v, a.AppendTo(buf[:0]))
		return nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return errors.New("not a CIDR prefix")
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	m := p.Masked()
	if m != p {
		*note = fmt.Sprintf("host bits set in %s: masked to %s", v, m)
	}
	if m.IsSingleIP() {
		setAddr(in, m.Addr())
		return nil
	}
	in.Type = matcher.TypeCIDR
	in.Prefix = m
	var buf [64]byte
	in.Value = reuse(v, m.AppendTo(buf[:0]))
	return nil
}

func setAddr(in *matcher.Indicator, a netip.Addr) {
	in.Type = matcher.TypeIP
	in.Addr = a
	in.Value = a.String()
}

// reuse returns v when it is already the canonical text canon, sparing the
// copy: most feeds spell their values canonically, and the value is then a
// substring of the feed's text. Otherwise it returns canon as a string.
func reuse(v string, canon []byte) string {
	if string(canon) == v {
		return v
	}
	return string(canon)
}

func parseIPPort(in *matcher.Indicator, v string) error {
	var host, port string
	if v[0] == '[' {
		end := strings.IndexByte(v, ']')
		if end < 0 || end+1 >= len(v) || v[end+1] != ':' {
			return errors.New("want [address]:port")
		}
		host, port = v[1:end], v[end+2:]
	} else {
		var ok bool
		if host, port, ok = splitLastColon(v); !ok {
			return errors.New("missing port")
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return errors.New("not an IP address before the port")
	}
	if a.Zone() != "" {
		return errors.New("address has a zone")
	}
	if v[0] == '[' && !a.Is6() {
		return errors.New("brackets around an IPv4 address")
	}
	p, ok := parsePort(port)
	if !ok {
		return errors.New("port must be 1-65535")
	}
	ap := netip.AddrPortFrom(a.Unmap(), p)
	in.Type = matcher.TypeIPPort
	in.Addr = ap.Addr()
	in.Port = p
	var buf [64]byte
	in.Value = reuse(v, ap.AppendTo(buf[:0]))
	return nil
}

func splitLastColon(v string) (host, port string, ok bool) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

func parsePort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 || !allDigits(s) {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// canonicalURL lower-cases the scheme and host of v and keeps the rest. A
// value without a scheme is a schemeless URL: a host (a dotted domain or an
// address, with an optional port) followed by a '/'.
func canonicalURL(v string) (string, error) {
	i := strings.Index(v, "://")
	if i < 0 {
		if strings.IndexByte(v, '/') < 0 {
			return "", errors.New("no scheme and no path")
		}
		if isPrefix(v) || looksLikePrefix(v) {
			return "", errors.New("a CIDR, not a URL")
		}
		end := strings.IndexAny(v, "/?#")
		host, err := canonicalHostPort(v[:end], true)
		if err != nil {
			return "", err
		}
		if host == v[:end] { // already canonical: no copy
			return v, nil
		}
		return host + v[end:], nil
	}
	scheme := v[:i]
	if !validScheme(scheme) {
		return "", errors.New("invalid scheme")
	}
	rest := v[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	user := ""
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, auth = auth[:at+1], auth[at+1:]
	}
	host, err := canonicalHostPort(auth, false)
	if err != nil {
		return "", err
	}
	if ls := lowerASCII(scheme); ls != scheme || host != auth {
		return ls + "://" + user + host + rest[end:], nil
	}
	return v, nil // already canonical: no copy
}

func validScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// canonicalHostPort lower-cases a URL authority's host[:port]. strict, for
// schemeless URLs, demands a host that is an address or a dotted domain, so
// that words followed by a '/' are not taken for URLs.
func canonicalHostPort(hp string, strict bool) (string, error) {
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", errors.New("unclosed '[' in host")
		}
		host, port = hp[:end+1], hp[end+1:]
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("invalid IPv6 host")
		}
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i:]
	}
	if port != "" && (port[0] != ':' || (port != ":" && !allDigits(port[1:]))) {
		return "", errors.New("invalid port")
	}
	if host == "" {
		return "", errors.New("empty host")
	}
	if !strings.HasPrefix(host, "[") {
		for i := 0; i < len(host); i++ {
			c := host[i]
			if c == '[' || c == ']' || c == '@' || c == ':' || c == '\\' || c == '"' || c == '<' || c == '>' {
				return "", fmt.Errorf("invalid character %q in host", c)
			}
		}
		if strict {
			if a, ok := parseAddr(host); !ok || !a.Is4() {
				if _, err := canonicalDomain(host, true); err != nil {
					return "", errors.New("host is neither an address nor a dotted domain")
				}
			}
		}
	}
	if lh := lowerASCII(host); lh != host {
		return lh + port, nil
	}
	return hp, nil // host+port, without a copy
}

// canonicalDomain lower-cases v and strips one trailing dot. Labels are 1-63
// bytes of ASCII letters, digits, '-' and '_' (found in real host names),
// at most 253 bytes in all; the last label may not be all digits, so that
// version numbers and truncated addresses are not domains. needDot demands
// two labels or more.
func canonicalDomain(v string, needDot bool) (string, error) {
	v = strings.TrimSuffix(v, ".")
	if v == "" {
		return "", errors.New("empty domain")
	}
	if len(v) > 253 {
		return "", errors.New("domain longer than 253 bytes")
	}
	labels := 0
	for l := range strings.SplitSeq(v, ".") {
		labels++
		if l == "" || len(l) > 63 {
			return "", errors.New("empty or over-long label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !isLetter(c) && (c < '0' || c > '9') && c != '-' && c != '_' {
				return "", fmt.Errorf("invalid character %q in domain", c)
			}
		}
	}
	if needDot && labels < 2 {
		return "", errors.New("domain without a dot")
	}
	last := v[strings.LastIndexByte(v, '.')+1:]
	if allDigits(last) {
		return "", errors.New("numeric top-level label")
	}
	return lowerASCII(v), nil
}

func hashType(v string) matcher.IndicatorType {
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return matcher.TypeInvalid
		}
	}
	switch len(v) {
	case 32:
		return matcher.TypeMD5
	case 40:
		return matcher.TypeSHA1
	case 64:
		return matcher.TypeSHA256
	}
	return matcher.TypeInvalid
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func canonicalHash(v string, typ matcher.IndicatorType) (string, error) {
	if hashType(v) != typ {
		n := map[matcher.IndicatorType]int{matcher.TypeMD5: 32, matcher.TypeSHA1: 40, matcher.TypeSHA256: 64}[typ]
		return "", fmt.Errorf("want %d hex digits", n)
	}
	return lowerASCII(v), nil
}

// lowerASCII lower-cases ASCII letters only: hosts are compared byte-wise,
// and Unicode case mapping could change their length.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// parseTime reads the time spellings feeds use: "2006-01-02 15:04:05",
// the same followed by " UTC", RFC 3339 and "2006-01-02", the zone-less ones
// as UTC. An empty value, "None" and "null" are the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "None", "null", "none", "-":
		return time.Time{}, nil
	}
	s = strings.TrimSuffix(s, " UTC")
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse time %s", quote(s))
}

// parseConfidence reads "90%", "90" and "90.0" as 90; an empty value and
// "None" as matcher.NoConfidence. Values outside 0-100 are an error.
func parseConfidence(s string) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "None", "null", "none", "-":
		return matcher.NoConfidence, nil
	}
	t := strings.TrimSpace(strings.TrimSuffix(s, "%"))
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != f || f < 0 || f > 100 {
		return matcher.NoConfidence, fmt.Errorf("confidence %s is not a number in 0-100", quote(s))
	}
	return int(f + 0.5), nil
}

// maxQuote is how much of an input error messages quote.
const maxQuote = 80

// quote quotes s for an error message, truncated to about maxQuote bytes.
func quote(s string) string {
	if len(s) <= maxQuote {
		return strconv.Quote(s)
	}
	n := maxQuote
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}
