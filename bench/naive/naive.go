package naive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// Set holds indicators. The zero value is not usable; use NewSet.
type Set struct {
	ips   map[netip.Addr]struct{}
	cidrs map[netip.Prefix]struct{}
	bits4 []int // distinct prefix lengths of IPv4 CIDRs
	bits6 []int
	urls  []string // ASCII lower case
	names map[string]struct{}
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{ips: map[netip.Addr]struct{}{}, cidrs: map[netip.Prefix]struct{}{}, names: map[string]struct{}{}}
}

// LoadFile adds every indicator of a plain list: one a line, blank lines
// and '#' comment lines ignored.
func (s *Set) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		v := strings.TrimSpace(sc.Text())
		if v == "" || v[0] == '#' {
			continue
		}
		if err := s.Add(v); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// Add adds one indicator, its type told by its shape.
func (s *Set) Add(v string) error {
	switch {
	case strings.Contains(v, "://"):
		s.urls = append(s.urls, lower(v))
	case isHash(v):
		s.names[lower(v)] = struct{}{}
	case strings.Contains(v, "/"):
		p, err := netip.ParsePrefix(v)
		if err != nil {
			s.urls = append(s.urls, lower(v)) // a URL without a scheme
			return nil
		}
		p = p.Masked()
		if p.IsSingleIP() {
			s.ips[p.Addr().Unmap()] = struct{}{}
			return nil
		}
		if _, dup := s.cidrs[p]; !dup {
			s.cidrs[p] = struct{}{}
			if p.Addr().Is4() {
				s.bits4 = addInt(s.bits4, p.Bits())
			} else {
				s.bits6 = addInt(s.bits6, p.Bits())
			}
		}
	default:
		if a, err := netip.ParseAddr(v); err == nil {
			s.ips[a.Unmap()] = struct{}{}
			return nil
		}
		if ap, err := netip.ParseAddrPort(v); err == nil {
			s.ips[ap.Addr().Unmap()] = struct{}{}
			return nil
		}
		if !strings.Contains(v, ".") {
			return fmt.Errorf("cannot tell the type of %q", v)
		}
		s.names[strings.TrimSuffix(lower(v), ".")] = struct{}{}
	}
	return nil
}

func addInt(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func isHash(v string) bool {
	if len(v) != 32 && len(v) != 40 && len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ErrNotRecord is returned for a line that is neither JSON nor CEF.
var ErrNotRecord = errors.New("not a CEF or JSON record")

// MatchLine reports whether the record on line matches an indicator.
func (s *Set) MatchLine(line string) (bool, error) {
	t := strings.TrimSpace(line)
	if t == "" {
		return false, nil
	}
	if t[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return false, err
		}
		return s.matchJSON(m), nil
	}
	i := strings.Index(line, "CEF:")
	if i < 0 {
		return false, ErrNotRecord
	}
	ext, err := cefExtension(line[i:])
	if err != nil {
		return false, err
	}
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := ext[k]; ok {
				return v
			}
		}
		return ""
	}
	return s.ip(get("src", "sourceAddress")) || s.ip(get("dst", "destinationAddress")) ||
		s.url(get("request", "requestUrl")) || s.host(get("dhost", "destinationHostName")), nil
}

func (s *Set) matchJSON(m map[string]any) bool {
	str := func(k string) string {
		v, _ := m[k].(string)
		return v
	}
	switch str("Type") {
	case "CommonSecurityLog":
		return s.ip(str("SourceIP")) || s.ip(str("DestinationIP")) || s.url(str("RequestURL")) || s.host(str("DestinationHostName"))
	case "DeviceNetworkEvents":
		return s.ip(str("RemoteIP")) || s.url(str("RemoteUrl")) ||
			s.name(str("InitiatingProcessSHA256")) || s.name(str("InitiatingProcessSHA1")) || s.name(str("InitiatingProcessMD5"))
	case "UrlClickEvents":
		if s.url(str("Url")) {
			return true
		}
		var chain []any
		switch c := m["UrlChain"].(type) {
		case []any:
			chain = c
		case string:
			if json.Unmarshal([]byte(c), &chain) != nil {
				chain = nil
			}
		}
		for _, e := range chain {
			if u, ok := e.(string); ok && s.url(u) {
				return true
			}
		}
	}
	return false
}

// cefExtension splits the extension of a line starting at "CEF:" into
// keys and unescaped values.
func cefExtension(s string) (map[string]string, error) {
	// Skip the seven header fields, honouring "\|" and "\\".
	bars := 0
	i := 0
	for ; i < len(s) && bars < 7; i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			bars++
		}
	}
	if bars < 7 {
		return nil, errors.New("short CEF header")
	}
	ext := map[string]string{}
	key := ""
	var val []string
	flush := func() {
		if key != "" {
			ext[key] = unescapeCEF(strings.TrimRight(strings.Join(val, " "), " "))
		}
	}
	for _, tok := range strings.Split(s[i:], " ") {
		if k, v, ok := strings.Cut(tok, "="); ok && isCEFKey(k) {
			flush()
			key, val = k, []string{v}
			continue
		}
		val = append(val, tok)
	}
	flush()
	return ext, nil
}

func isCEFKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(isAlnum(c) || c == '_' || c == '.' || c == '[' || c == ']' || c == '-') {
			return false
		}
	}
	return true
}

func unescapeCEF(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	r := strings.NewReplacer(`\=`, "=", `\\`, `\`, `\|`, "|", `\n`, "\n", `\r`, "\r")
	return r.Replace(v)
}

// ip reports whether v is an address in the IP indicators or a CIDR.
func (s *Set) ip(v string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return false
	}
	a = a.Unmap()
	if _, ok := s.ips[a]; ok {
		return true
	}
	bits := s.bits6
	if a.Is4() {
		bits = s.bits4
	}
	for _, b := range bits {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		if _, ok := s.cidrs[p]; ok {
			return true
		}
	}
	return false
}

// url reports whether a URL indicator occurs in v, ASCII case folded and
// not inside a run of letters and digits, or v's host is under a domain.
func (s *Set) url(v string) bool {
	if v == "" {
		return false
	}
	lv := lower(v)
	for _, u := range s.urls {
		for from := 0; ; {
			i := strings.Index(lv[from:], u)
			if i < 0 {
				break
			}
			start := from + i
			end := start + len(u)
			okStart := !isAlnum(u[0]) || start == 0 || !isAlnum(lv[start-1])
			okEnd := !isAlnum(u[len(u)-1]) || end == len(lv) || !isAlnum(lv[end])
			if okStart && okEnd {
				return true
			}
			from = start + 1
		}
	}
	return s.host(urlHost(v))
}

// urlHost returns the host of a URL field as the documentation of
// matcher.URLHost describes it.
func urlHost(v string) string {
	if i := strings.Index(v, "://"); i > 0 && isScheme(v[:i]) {
		v = v[i+3:]
	}
	if i := strings.IndexAny(v, `/?#\`); i >= 0 {
		v = v[:i]
	}
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		v = v[i+1:]
	}
	if strings.HasPrefix(v, "[") {
		if i := strings.IndexByte(v, ']'); i > 0 {
			return v[1:i]
		}
		return ""
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[:i]
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && c != '-' && c != '.' && c != '_' {
			return ""
		}
	}
	return v
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || i > 0 && (c == '+' || c == '-' || c == '.')) || i == 0 && c >= '0' && c <= '9' {
			return false
		}
	}
	return s != ""
}

// host reports whether h or a parent domain of it is a domain indicator.
func (s *Set) host(h string) bool {
	h = lower(strings.TrimSuffix(h, "."))
	for h != "" {
		if _, ok := s.names[h]; ok {
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

// name reports whether v is a hash (or name) indicator.
func (s *Set) name(v string) bool {
	if v == "" {
		return false
	}
	_, ok := s.names[lower(v)]
	return ok
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lower lower-cases ASCII letters only, as matchd compares.
func lower(s string) string {
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
