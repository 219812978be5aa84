package matcher

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
)

// store holds a Set's indicators compactly: every value in one byte arena,
// the per-indicator columns in parallel integer slices, and the descriptive
// metadata (threat type, malware, times, tags, sources…) deduplicated into a
// small table, since a feed gives the same metadata to thousands of
// indicators. A million IPs thus cost a few tens of bytes each, and the
// garbage collector sees a handful of pointer-free slices instead of a
// million structs full of strings.
type store struct {
	vals []byte
	ends []uint32 // value i is vals[ends[i-1]:ends[i]] (ends[-1] = 0)
	typ  []IndicatorType
	port []uint16
	meta []uint32
	mts  []indMeta

	once sync.Once
	all  []Indicator // Indicators(), built on first use
}

// indMeta is metadata shared by indicators.
type indMeta struct {
	threatType, malware string
	confidence          int
	firstSeen, lastSeen time.Time
	tags                []string
	reference           string
	sources             []string

	validUntil int64  // unix ns; math.MaxInt64: never expires
	json       []byte // the alert's indicator members after Field/PortMatched
}

func (m *indMeta) sameAs(in *Indicator) bool {
	return m.threatType == in.ThreatType && m.malware == in.Malware && m.confidence == in.Confidence &&
		m.firstSeen.Equal(in.FirstSeen) && m.lastSeen.Equal(in.LastSeen) && m.reference == in.Reference &&
		slices.Equal(m.tags, in.Tags) && slices.Equal(m.sources, in.Sources)
}

func (m *indMeta) key() string {
	b := make([]byte, 0, 128)
	b = append(b, m.threatType...)
	b = append(b, 0)
	b = append(b, m.malware...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(m.confidence), 10)
	b = append(b, 0)
	b = m.firstSeen.AppendFormat(b, time.RFC3339Nano)
	b = append(b, 0)
	b = m.lastSeen.AppendFormat(b, time.RFC3339Nano)
	b = append(b, 0)
	b = append(b, m.reference...)
	for _, t := range m.tags {
		b = append(b, 1)
		b = append(b, t...)
	}
	for _, t := range m.sources {
		b = append(b, 2)
		b = append(b, t...)
	}
	return string(b)
}

// storeBuilder appends indicators to a store.
type storeBuilder struct {
	s      *store
	maxAge time.Duration
	index  map[string]uint32
	last   uint32
}

func newStoreBuilder(n int, maxAge time.Duration) *storeBuilder {
	return &storeBuilder{
		s: &store{
			vals: make([]byte, 0, 16*n), ends: make([]uint32, 0, n), typ: make([]IndicatorType, 0, n),
			port: make([]uint16, 0, n), meta: make([]uint32, 0, n),
		},
		maxAge: maxAge,
		index:  map[string]uint32{},
	}
}

// add appends in and returns its id.
func (b *storeBuilder) add(in *Indicator) uint32 {
	s := b.s
	id := uint32(len(s.ends))
	s.vals = append(s.vals, in.Value...)
	s.ends = append(s.ends, uint32(len(s.vals)))
	s.typ = append(s.typ, in.Type)
	s.port = append(s.port, in.Port)
	if len(s.mts) == 0 || !s.mts[b.last].sameAs(in) {
		m := indMeta{
			threatType: in.ThreatType, malware: in.Malware, confidence: in.Confidence,
			firstSeen: in.FirstSeen, lastSeen: in.LastSeen, tags: slices.Clone(in.Tags),
			reference: in.Reference, sources: slices.Clone(in.Sources), validUntil: math.MaxInt64,
		}
		k := m.key()
		mid, ok := b.index[k]
		if !ok {
			mid = uint32(len(s.mts))
			if b.maxAge > 0 {
				if t, ok := in.ValidUntil(b.maxAge); ok {
					m.validUntil = t.UnixNano()
				}
			}
			m.json = m.appendJSON(nil)
			s.mts = append(s.mts, m)
			b.index[k] = mid
		}
		b.last = mid
	}
	s.meta = append(s.meta, b.last)
	return id
}

// appendJSON renders the metadata members of an alert's indicator and the
// closing brace.
func (m *indMeta) appendJSON(dst []byte) []byte {
	if m.threatType != "" {
		dst = append(dst, `,"ThreatType":`...)
		dst = AppendJSONString(dst, m.threatType)
	}
	if m.malware != "" {
		dst = append(dst, `,"Malware":`...)
		dst = AppendJSONString(dst, m.malware)
	}
	if m.confidence != NoConfidence {
		dst = append(dst, `,"Confidence":`...)
		dst = strconv.AppendInt(dst, int64(m.confidence), 10)
	}
	if !m.firstSeen.IsZero() {
		dst = append(dst, `,"FirstSeen":`...)
		dst = appendTime(dst, m.firstSeen)
	}
	if !m.lastSeen.IsZero() {
		dst = append(dst, `,"LastSeen":`...)
		dst = appendTime(dst, m.lastSeen)
	}
	if len(m.tags) > 0 {
		dst = append(dst, `,"Tags":`...)
		dst = appendStrings(dst, m.tags)
	}
	if m.reference != "" {
		dst = append(dst, `,"Reference":`...)
		dst = AppendJSONString(dst, m.reference)
	}
	dst = append(dst, `,"Sources":`...)
	dst = appendStrings(dst, m.sources)
	return append(dst, '}')
}

func (s *store) len() int { return len(s.ends) }

// value returns the canonical value of indicator id; the slice must not be
// modified.
func (s *store) value(id uint32) []byte {
	start := uint32(0)
	if id > 0 {
		start = s.ends[id-1]
	}
	return s.vals[start:s.ends[id]:s.ends[id]]
}

// indicator materializes indicator id.
func (s *store) indicator(id uint32) Indicator {
	m := &s.mts[s.meta[id]]
	in := Indicator{
		Value: string(s.value(id)), Type: s.typ[id], Port: s.port[id],
		ThreatType: m.threatType, Malware: m.malware, Confidence: m.confidence,
		FirstSeen: m.firstSeen, LastSeen: m.lastSeen, Tags: slices.Clip(m.tags),
		Reference: m.reference, Sources: slices.Clip(m.sources),
	}
	switch in.Type {
	case TypeIP:
		in.Addr, _ = netip.ParseAddr(in.Value)
	case TypeIPPort:
		if ap, err := netip.ParseAddrPort(in.Value); err == nil {
			in.Addr = ap.Addr()
		}
	case TypeCIDR:
		in.Prefix, _ = netip.ParsePrefix(in.Value)
	}
	return in
}

func (s *store) indicators() []Indicator {
	s.once.Do(func() {
		s.all = make([]Indicator, s.len())
		for i := range s.all {
			s.all[i] = s.indicator(uint32(i))
		}
	})
	return s.all
}

func (s *store) memoryUsage() int {
	n := cap(s.vals) + 4*cap(s.ends) + cap(s.typ) + 2*cap(s.port) + 4*cap(s.meta)
	for i := range s.mts {
		n += 200 + len(s.mts[i].json)
	}
	return n
}

// ContentHash returns a SHA-256 of the indicators in force — values, types,
// ports and every metadata field — without materializing them.
func (s *Set) ContentHash() [sha256.Size]byte {
	st := s.st
	h := sha256.New()
	var n [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	word(uint64(st.len()))
	h.Write(st.vals)
	for i := range st.ends {
		word(uint64(st.ends[i])<<32 | uint64(st.typ[i])<<16 | uint64(st.port[i]))
		word(uint64(st.meta[i]))
	}
	word(uint64(len(st.mts)))
	for i := range st.mts {
		word(uint64(len(st.mts[i].json)))
		h.Write(st.mts[i].json)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
