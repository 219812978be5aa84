package matcher

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Config sets how a Set matches. The zero value matches every indicator
// with no age limit and reports ip:port indicators whatever the port.
type Config struct {
	// MinConfidence drops indicators whose confidence is below it; an
	// indicator without a confidence always passes. 0 keeps all.
	MinConfidence int
	// MaxAge, when positive, makes an indicator valid until its LastSeen
	// (else FirstSeen) plus MaxAge, compared with the record's event time.
	// A record without a time, or an indicator without either time, is
	// matched without the age check.
	MaxAge time.Duration
	// StrictPorts makes an ip:port indicator require its port to match.
	StrictPorts bool
}

// Set is a compiled, immutable indicator set: the IP radix set, the URL
// automaton and the domain and hash tables, with the indicators they point
// to. It is safe for concurrent use; each goroutine matches through its own
// Scanner.
//
// Matching semantics, per table and field:
//
//   - CommonSecurityLog: SourceIP and DestinationIP against IP indicators;
//     RequestURL against URL and domain indicators; DestinationHostName
//     against domain indicators.
//   - DeviceNetworkEvents: RemoteIP (IP); RemoteUrl (URL, domain);
//     InitiatingProcessSHA256, InitiatingProcessSHA1 and InitiatingProcessMD5
//     against hash indicators.
//   - UrlClickEvents: Url and each URL of UrlChain (URL, domain).
//
// IP: exact IPv4/IPv6 equality; a CIDR matches every address it contains,
// and when several prefixes cover an address all are reported. An ip:port
// indicator matches on the address, as the seed's hunting queries do; the
// hit records whether the port matched too (DestinationPort or RemotePort
// for destination fields, SourcePort for SourceIP), and Config.StrictPorts
// makes the port required.
//
// URL: like KQL's `Url has_any (urls)`: ASCII case-insensitive; the
// indicator occurs anywhere inside the field; where the indicator begins
// (ends) with an ASCII letter or digit, the byte before (after) it in the
// field, if any, must not be an ASCII letter or digit. Every indicator found
// is reported, overlapping and nested ones included. This is the
// Aho-Corasick automaton.
//
// Domain: the host of the URL field — the authority after "scheme://", or
// for a value without a scheme the text before the first '/', '?', '#' or
// ':', or the whole value when it is a bare host name — equals the domain or
// ends with "." + domain, ASCII case-insensitive, a trailing dot ignored.
//
// Hashes: hex equality, ASCII case-insensitive.
//
// A field whose value is not a valid IP (or URL) does not match; that is not
// an error.
type Set struct {
	st      *store
	ips     *IPSet
	ac      *Automaton
	acInd   []uint32 // automaton pattern -> indicator
	acEdge  []uint8  // per pattern: bit 0 first byte is alnum, bit 1 last byte is alnum
	names   map[string]span
	nameIDs []uint32
	cfg     Config
	counts  [numTypes]int

	// Version names the set in alerts (their IndicatorSet column), e.g. a
	// content hash and the load time. Set it before the Set is shared;
	// empty leaves the column out.
	Version string
}

// Compile builds a Set from deduplicated indicators (one per Value). The
// indicators are copied; ids in Hits index Indicators().
func Compile(inds []Indicator, cfg Config) (*Set, error) {
	return CompileSeq(len(inds), func(yield func(*Indicator) bool) {
		for i := range inds {
			if !yield(&inds[i]) {
				return
			}
		}
	}, cfg)
}

// CompileSeq is Compile over the indicators seq yields, in order, so that
// a caller holding them in several places (feed.MergeSeq) need not first
// copy them into one slice. n is their number, a size hint. The indicators
// are copied and need not stay valid after CompileSeq returns.
func CompileSeq(n int, seq iter.Seq[*Indicator], cfg Config) (*Set, error) {
	n = max(n, 0)
	s := &Set{cfg: cfg, names: map[string]span{}}
	sb := newStoreBuilder(n, cfg.MaxAge)
	// Sized for the worst case, every indicator an address: the builder
	// is dropped after Build, and growing it by doubling would copy (and
	// allocate) several times as much on large IP feeds.
	ipb := IPSetBuilder{addrs: make([]addrID, 0, n)}
	byName := map[string][]uint32{}
	for in := range seq {
		if cfg.MinConfidence > 0 && in.Confidence != NoConfidence && in.Confidence < cfg.MinConfidence {
			continue
		}
		id := uint32(sb.s.len())
		switch in.Type {
		case TypeIP, TypeIPPort:
			if !in.Addr.IsValid() {
				return nil, fmt.Errorf("indicator %q: no address", in.Value)
			}
			ipb.AddAddr(in.Addr, id)
		case TypeCIDR:
			if !in.Prefix.IsValid() {
				return nil, fmt.Errorf("indicator %q: no prefix", in.Value)
			}
			ipb.AddPrefix(in.Prefix, id)
		case TypeURL:
			if in.Value == "" {
				return nil, fmt.Errorf("empty URL indicator")
			}
			s.acInd = append(s.acInd, id)
			var edge uint8
			if isAlnum(in.Value[0]) {
				edge |= 1
			}
			if isAlnum(in.Value[len(in.Value)-1]) {
				edge |= 2
			}
			s.acEdge = append(s.acEdge, edge)
		case TypeDomain, TypeMD5, TypeSHA1, TypeSHA256:
			k := strings.ToLower(in.Value)
			byName[k] = append(byName[k], id)
		default:
			return nil, fmt.Errorf("indicator %q: unknown type %d", in.Value, in.Type)
		}
		sb.add(in)
		s.counts[in.Type]++
	}
	s.st = sb.s
	s.ips = ipb.Build()
	// The automaton's patterns are the URL values in the store's arena
	// (CompileAC does not retain them), not one copy each.
	patterns := make([][]byte, len(s.acInd))
	for i, id := range s.acInd {
		patterns[i] = s.st.value(id)
	}
	ac, err := CompileAC(patterns)
	if err != nil {
		return nil, err
	}
	s.ac = ac
	keys := make([]string, 0, len(byName))
	for k := range byName {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ids := byName[k]
		s.names[k] = span{uint32(len(s.nameIDs)), uint32(len(ids))}
		s.nameIDs = append(s.nameIDs, ids...)
	}
	return s, nil
}

// Len returns the number of indicators in force; ids run from 0 to Len()-1.
func (s *Set) Len() int { return s.st.len() }

// Indicator returns indicator id, materialized (it allocates).
func (s *Set) Indicator(id uint32) Indicator { return s.st.indicator(id) }

// Value returns the canonical value of indicator id. The slice aliases the
// set and must not be modified.
func (s *Set) Value(id uint32) []byte { return s.st.value(id) }

// Type returns the type of indicator id.
func (s *Set) Type(id uint32) IndicatorType { return s.st.typ[id] }

// Indicators returns every indicator in force, indexed by Hit.Indicator.
// The set keeps its indicators compactly; the first call materializes them
// all (a few hundred bytes each), so prefer Len, Value and Indicator on
// large sets. The slice must not be modified.
func (s *Set) Indicators() []Indicator { return s.st.indicators() }

// Count returns the number of indicators of type t in force.
func (s *Set) Count(t IndicatorType) int { return s.counts[t] }

// Config returns the configuration the set was compiled with.
func (s *Set) Config() Config { return s.cfg }

// MemoryUsage estimates the bytes held by the matching structures.
func (s *Set) MemoryUsage() int {
	return s.st.memoryUsage() + s.ips.MemoryUsage() + s.ac.MemoryUsage() + 4*len(s.acInd) + len(s.acEdge) + 4*len(s.nameIDs) + 48*len(s.names)
}

// Hit is one indicator matched in one field of a record.
type Hit struct {
	Indicator   uint32 // index into Set.Indicators
	Field       Field
	PortMatched bool // meaningful for ip:port indicators only
}

// Scanner matches events against a Set, reusing its scratch memory. A
// Scanner is not safe for concurrent use; use one per goroutine.
type Scanner struct {
	set  *Set
	acm  []ACMatch
	ids  []uint32
	host []byte
	hits []Hit
}

// NewScanner returns a Scanner over s.
func NewScanner(s *Set) *Scanner {
	return &Scanner{set: s, acm: make([]ACMatch, 0, 64), ids: make([]uint32, 0, 16), host: make([]byte, 0, 256), hits: make([]Hit, 0, 16)}
}

// Set returns the set the scanner matches against.
func (sc *Scanner) Set() *Set { return sc.set }

// Match returns the hits of e, deduplicated per (indicator, field) and
// sorted by field name, then indicator value. The slice is valid until the
// next call. Match does not allocate once its scratch has grown.
func (sc *Scanner) Match(e *Event) []Hit {
	sc.hits = sc.hits[:0]
	switch e.Table {
	case CommonSecurityLog:
		sc.matchIP(e, SourceIP, SourcePort)
		sc.matchIP(e, DestinationIP, DestinationPort)
		sc.matchURL(e, RequestURL, e.Get(RequestURL))
		sc.matchHost(e, DestinationHostName, e.Get(DestinationHostName))
	case DeviceNetworkEvents:
		sc.matchIP(e, RemoteIP, RemotePort)
		sc.matchURL(e, RemoteUrl, e.Get(RemoteUrl))
		sc.matchName(e, InitiatingProcessSHA256, e.Get(InitiatingProcessSHA256))
		sc.matchName(e, InitiatingProcessSHA1, e.Get(InitiatingProcessSHA1))
		sc.matchName(e, InitiatingProcessMD5, e.Get(InitiatingProcessMD5))
	case UrlClickEvents:
		sc.matchURL(e, Url, e.Get(Url))
		for _, u := range e.Chain {
			sc.matchURL(e, UrlChain, u)
		}
	}
	if len(sc.hits) > 1 {
		sc.sortHits()
	}
	return sc.hits
}

func (sc *Scanner) sortHits() {
	st := sc.set.st
	slices.SortFunc(sc.hits, func(a, b Hit) int {
		if c := strings.Compare(fieldNames[a.Field], fieldNames[b.Field]); c != 0 {
			return c
		}
		return bytes.Compare(st.value(a.Indicator), st.value(b.Indicator))
	})
	// Drop duplicates (the same indicator in several UrlChain entries).
	out := sc.hits[:1]
	for _, h := range sc.hits[1:] {
		last := &out[len(out)-1]
		if h.Field == last.Field && h.Indicator == last.Indicator {
			last.PortMatched = last.PortMatched || h.PortMatched
			continue
		}
		out = append(out, h)
	}
	sc.hits = out
}

func (sc *Scanner) valid(e *Event, id uint32) bool {
	st := sc.set.st
	return !e.HasTime || e.Time <= st.mts[st.meta[id]].validUntil
}

func (sc *Scanner) matchIP(e *Event, f, portField Field) {
	v := e.Get(f)
	if len(v) == 0 {
		return
	}
	a, ok := ParseAddr(v)
	if !ok {
		return
	}
	sc.ids = sc.set.ips.AppendLookup(sc.ids[:0], a)
	if len(sc.ids) == 0 {
		return
	}
	port, hasPort := ParsePort(e.Get(portField))
	for _, id := range sc.ids {
		if !sc.valid(e, id) {
			continue
		}
		h := Hit{Indicator: id, Field: f}
		if sc.set.st.typ[id] == TypeIPPort {
			h.PortMatched = hasPort && port == sc.set.st.port[id]
			if sc.set.cfg.StrictPorts && !h.PortMatched {
				continue
			}
		}
		sc.hits = append(sc.hits, h)
	}
}

func (sc *Scanner) matchURL(e *Event, f Field, v []byte) {
	if len(v) == 0 {
		return
	}
	if sc.set.ac.Len() > 0 {
		sc.acm = sc.set.ac.AppendMatches(sc.acm[:0], v)
		for _, m := range sc.acm {
			edge := sc.set.acEdge[m.Pattern]
			if edge&1 != 0 && m.Start > 0 && isAlnum(v[m.Start-1]) {
				continue
			}
			if edge&2 != 0 && int(m.End) < len(v) && isAlnum(v[m.End]) {
				continue
			}
			id := sc.set.acInd[m.Pattern]
			if sc.valid(e, id) {
				sc.hits = append(sc.hits, Hit{Indicator: id, Field: f})
			}
		}
	}
	sc.matchHost(e, f, URLHost(v))
}

// matchHost looks up the host and each parent domain.
func (sc *Scanner) matchHost(e *Event, f Field, host []byte) {
	if len(host) == 0 || len(sc.set.names) == 0 {
		return
	}
	if host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	sc.host = appendLower(sc.host[:0], host)
	h := sc.host
	for {
		sc.lookupName(e, f, h, true)
		i := bytes.IndexByte(h, '.')
		if i < 0 {
			return
		}
		h = h[i+1:]
	}
}

func (sc *Scanner) matchName(e *Event, f Field, v []byte) {
	if len(v) == 0 || len(sc.set.names) == 0 {
		return
	}
	sc.host = appendLower(sc.host[:0], v)
	sc.lookupName(e, f, sc.host, false)
}

// lookupName reports the domain indicators (domain true) or the hash
// indicators (domain false) equal to k: both kinds share one table, and a
// host name made of hex digits must not match a hash, nor a hash column a
// domain.
func (sc *Scanner) lookupName(e *Event, f Field, k []byte, domain bool) {
	sp, ok := sc.set.names[string(k)]
	if !ok {
		return
	}
	for _, id := range sc.set.nameIDs[sp.off : sp.off+sp.n] {
		if (sc.set.st.typ[id] == TypeDomain) != domain {
			continue
		}
		if sc.valid(e, id) {
			sc.hits = append(sc.hits, Hit{Indicator: id, Field: f})
		}
	}
}

// URLHost returns the host of a URL field: the authority after "scheme://"
// without user info and port (IPv6 brackets removed), or for a value
// without a scheme the text before the first '/', '?', '#' or ':'. It
// returns nil when that text is not a plausible host name or address.
func URLHost(v []byte) []byte {
	if i := bytes.Index(v, []byte("://")); i >= 0 && isScheme(v[:i]) {
		v = v[i+3:]
	}
	end := len(v)
	for i, c := range v {
		if c == '/' || c == '?' || c == '#' || c == '\\' {
			end = i
			break
		}
	}
	v = v[:end]
	if i := bytes.LastIndexByte(v, '@'); i >= 0 {
		v = v[i+1:]
	}
	if len(v) > 0 && v[0] == '[' {
		if i := bytes.IndexByte(v, ']'); i > 0 {
			return v[1:i]
		}
		return nil
	}
	if i := bytes.IndexByte(v, ':'); i >= 0 {
		v = v[:i]
	}
	for _, c := range v {
		if !isAlnum(c) && c != '-' && c != '.' && c != '_' {
			return nil
		}
	}
	return v
}

func isScheme(b []byte) bool {
	if len(b) == 0 || !isAlpha(b[0]) {
		return false
	}
	for _, c := range b {
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
