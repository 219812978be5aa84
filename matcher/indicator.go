package matcher

import (
	"net/netip"
	"slices"
	"time"
)

// IndicatorType is the kind of an indicator of compromise.
type IndicatorType uint8

const (
	TypeInvalid IndicatorType = iota
	TypeIP                    // a single IPv4 or IPv6 address
	TypeCIDR                  // an address prefix
	TypeIPPort                // an address plus a port
	TypeURL                   // a URL, matched inside URL fields
	TypeDomain                // a domain, matched against URL hosts and host names
	TypeMD5
	TypeSHA1
	TypeSHA256
	numTypes
)

var typeNames = [numTypes]string{"", "ip", "cidr", "ip:port", "url", "domain", "md5", "sha1", "sha256"}

// String returns the type as alerts and reports spell it ("ip:port", "sha256").
func (t IndicatorType) String() string {
	if t >= numTypes {
		return ""
	}
	return typeNames[t]
}

// IndicatorTypes lists every valid type in report order.
func IndicatorTypes() []IndicatorType {
	return []IndicatorType{TypeIP, TypeCIDR, TypeIPPort, TypeURL, TypeDomain, TypeMD5, TypeSHA1, TypeSHA256}
}

// NoConfidence is the Confidence of an indicator whose feed gives none.
const NoConfidence = -1

// Indicator is one indicator of compromise with its feed metadata.
//
// Value is canonical: addresses in netip's form, IPv6 ip:port bracketed
// ("[2a02:cf40:1::5]:40669"), CIDRs masked ("10.0.0.0/8"), URLs refanged with
// scheme and host lower-cased, domains lower-case without a trailing dot,
// hashes lower-case hex. Two indicators with the same Value are the same
// indicator (see Merge).
type Indicator struct {
	Value string
	Type  IndicatorType

	// Addr is the address of TypeIP and TypeIPPort; Port the port of
	// TypeIPPort; Prefix the prefix of TypeCIDR.
	Addr   netip.Addr
	Port   uint16
	Prefix netip.Prefix

	ThreatType string
	Malware    string
	Confidence int // 0-100, or NoConfidence
	FirstSeen  time.Time
	LastSeen   time.Time
	Tags       []string
	Reference  string
	Sources    []string
}

// Merge folds other, an indicator with the same Value, into in: sources and
// tags are united (first appearance order), the earliest FirstSeen, the latest
// LastSeen and the highest Confidence are kept, and empty descriptive fields
// are filled from other.
func (in *Indicator) Merge(other *Indicator) {
	in.Sources = unite(slices.Clip(in.Sources), other.Sources)
	in.Tags = unite(slices.Clip(in.Tags), other.Tags)
	if !other.FirstSeen.IsZero() && (in.FirstSeen.IsZero() || other.FirstSeen.Before(in.FirstSeen)) {
		in.FirstSeen = other.FirstSeen
	}
	if other.LastSeen.After(in.LastSeen) {
		in.LastSeen = other.LastSeen
	}
	if other.Confidence > in.Confidence {
		in.Confidence = other.Confidence
	}
	if in.ThreatType == "" {
		in.ThreatType = other.ThreatType
	}
	if in.Malware == "" {
		in.Malware = other.Malware
	}
	if in.Reference == "" {
		in.Reference = other.Reference
	}
}

func unite(a, b []string) []string {
next:
	for _, s := range b {
		for _, t := range a {
			if s == t {
				continue next
			}
		}
		a = append(a, s)
	}
	return a
}

// ValidUntil returns the end of the indicator's validity under maxAge: its
// LastSeen, else its FirstSeen, plus maxAge. ok is false when the indicator
// has neither time, in which case it never expires.
func (in *Indicator) ValidUntil(maxAge time.Duration) (t time.Time, ok bool) {
	switch {
	case !in.LastSeen.IsZero():
		return in.LastSeen.Add(maxAge), true
	case !in.FirstSeen.IsZero():
		return in.FirstSeen.Add(maxAge), true
	}
	return time.Time{}, false
}
