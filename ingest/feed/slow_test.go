package feed

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/matchd/matchd/matcher"
)

// This file holds slow, obviously correct references for Refang, type
// detection, the value index and Merge, for the differential and fuzz
// tests.

var (
	slowDefang = regexp.MustCompile(`(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[:\]|\(:\)|\[://\]|\[/\]`)
	slowScheme = regexp.MustCompile(`(?i)^hxxp(s?)://`)
)

// slowRefang replaces separators until none is left, then the scheme.
func slowRefang(s string) string {
	for {
		r := slowDefang.ReplaceAllStringFunc(s, func(m string) string {
			switch {
			case strings.Contains(m, "://"):
				return "://"
			case strings.Contains(m, ":"):
				return ":"
			case strings.Contains(m, "/"):
				return "/"
			}
			return "."
		})
		if r == s {
			break
		}
		s = r
	}
	if m := slowScheme.FindStringSubmatch(s); m != nil {
		s = "http" + strings.ToLower(m[1]) + "://" + s[len(m[0]):]
	}
	return s
}

const (
	reOctet  = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	reIPv4   = reOctet + `(?:\.` + reOctet + `){3}`
	reLabel  = `[A-Za-z0-9_-]{1,63}`
	reDomain = `(?:` + reLabel + `\.)+[A-Za-z0-9_-]*[A-Za-z_-][A-Za-z0-9_-]*`
)

var (
	slowHash     = regexp.MustCompile(`^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$`)
	slowIPv4     = regexp.MustCompile(`^` + reIPv4 + `$`)
	slowCIDR4    = regexp.MustCompile(`^` + reIPv4 + `/(?:3[0-2]|[12]?[0-9])$`)
	slowBadCIDR  = regexp.MustCompile(`^[^/]*/[0-9]+$`)
	slowIPPort4  = regexp.MustCompile(`^` + reIPv4 + `:([0-9]{1,5})$`)
	slowDomainRe = regexp.MustCompile(`^` + reDomain + `\.?$`)
	slowURLParts = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)`)
	slowHostPort = regexp.MustCompile(`^[^/?#:\[\]@\\"<>]+(?::[0-9]*)?$`)
	slowPort     = regexp.MustCompile(`^(?::[0-9]*)?$`)
)

func slowV6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

func slowIsDomain(s string) bool {
	if !slowDomainRe.MatchString(s) || len(strings.TrimSuffix(s, ".")) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(l) > 63 {
			return false
		}
	}
	return true
}

// slowURLOK checks a URL with a scheme.
func slowURLOK(v string) bool {
	m := slowURLParts.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	auth := m[1]
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		auth = auth[i+1:]
	}
	if strings.HasPrefix(auth, "[") {
		i := strings.Index(auth, "]")
		return i > 0 && slowV6(auth[1:i]) && slowPort.MatchString(auth[i+1:])
	}
	return slowHostPort.MatchString(auth)
}

// slowSchemelessOK checks a URL without a scheme: an IPv4 address, a
// bracketed IPv6 address or a dotted domain, an optional port, then a path.
func slowSchemelessOK(v string) bool {
	if strings.HasPrefix(v, "[") {
		i := strings.Index(v, "]")
		if i < 0 || !slowV6(v[1:i]) {
			return false
		}
		rest := v[i+1:]
		j := strings.IndexAny(rest, "/?#")
		return slowPort.MatchString(rest[:j])
	}
	end := strings.IndexAny(v, "/?#")
	hp := v[:end]
	host := hp
	if i := strings.LastIndex(hp, ":"); i >= 0 {
		host = hp[:i]
		if !slowPort.MatchString(hp[i:]) {
			return false
		}
	}
	return slowIPv4.MatchString(host) || slowIsDomain(host)
}

// slowDetect is the type ParseValue detects for s, by regular expressions
// (and netip for IPv6, whose grammar is too long for one).
func slowDetect(s string) matcher.IndicatorType {
	v := slowRefang(strings.TrimSpace(s))
	if v == "" || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return matcher.TypeInvalid
	}
	v6 := slowV6
	port := func(p string) bool {
		n, err := strconv.Atoi(p)
		return err == nil && len(p) <= 5 && n >= 1 && n <= 65535
	}
	switch {
	case strings.Contains(v, "://"):
		if slowURLOK(v) {
			return matcher.TypeURL
		}
	case slowHash.MatchString(v):
		switch len(v) {
		case 32:
			return matcher.TypeMD5
		case 40:
			return matcher.TypeSHA1
		}
		return matcher.TypeSHA256
	case slowCIDR4.MatchString(v):
		if strings.HasSuffix(v, "/32") {
			return matcher.TypeIP
		}
		return matcher.TypeCIDR
	case strings.Contains(v, "/"):
		if p, err := netip.ParsePrefix(v); err == nil {
			if p.IsSingleIP() || p.Addr().Is4In6() && p.Bits() == 128 {
				return matcher.TypeIP
			}
			return matcher.TypeCIDR
		}
		if _, err := netip.ParseAddr(v[:strings.Index(v, "/")]); err == nil && slowBadCIDR.MatchString(v) {
			return matcher.TypeInvalid
		}
		if slowSchemelessOK(v) {
			return matcher.TypeURL
		}
	case slowIPv4.MatchString(v) || v6(v):
		return matcher.TypeIP
	case slowIPPort4.MatchString(v):
		if port(slowIPPort4.FindStringSubmatch(v)[1]) {
			return matcher.TypeIPPort
		}
	case strings.HasPrefix(v, "["):
		if i := strings.Index(v, "]:"); i > 0 && v6(v[1:i]) && port(v[i+2:]) {
			return matcher.TypeIPPort
		}
	case strings.Contains(v, ":"):
		i := strings.LastIndex(v, ":")
		if v6(v[:i]) && port(v[i+1:]) {
			return matcher.TypeIPPort
		}
	case slowIsDomain(v):
		return matcher.TypeDomain
	}
	return matcher.TypeInvalid
}

// key identifies an indicator in the slow references: its Type and Value.
type key struct {
	typ   matcher.IndicatorType
	value string
}

// slowMerge is Merge with a map and a copy of every indicator: the
// implementation valueIndex and merger replaced.
func slowMerge(feeds ...*Feed) []matcher.Indicator {
	var out []matcher.Indicator
	index := make(map[key]int)
	for _, f := range feeds {
		if f == nil {
			continue
		}
		for i := range f.Indicators {
			in := &f.Indicators[i]
			k := key{in.Type, in.Value}
			if j, ok := index[k]; ok {
				out[j].Merge(in)
				continue
			}
			index[k] = len(out)
			out = append(out, *in)
		}
	}
	return out
}

// slowSpecialRange is the address check of Hygiene as a linear scan of
// every special range: what specialByOctet and specialV6 narrow down.
func slowSpecialRange(a netip.Addr) string {
	for _, r := range specialRanges {
		if r.prefix.Contains(a) {
			return r.what
		}
	}
	return ""
}
