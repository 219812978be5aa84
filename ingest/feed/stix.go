package feed

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/matchd/matchd/matcher"
)

// stixObject holds the fields of STIX 2.1 objects that feeds use.
type stixObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`

	// indicator
	Pattern        *string    `json:"pattern"`
	PatternType    string     `json:"pattern_type"`
	ValidFrom      string     `json:"valid_from"`
	ValidUntil     string     `json:"valid_until"`
	Revoked        flexString `json:"revoked"`
	IndicatorTypes []string   `json:"indicator_types"`
	Labels         []string   `json:"labels"`
	Confidence     flexString `json:"confidence"`
	CreatedByRef   string     `json:"created_by_ref"`
	ExternalRefs   []struct {
		URL string `json:"url"`
	} `json:"external_references"`

	// relationship
	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
}

// parseSTIX reads the indicators among the STIX objects elems. Identity
// objects name the source (an indicator's created_by_ref), and "indicates"
// relationships to malware objects name its malware; both are looked up in
// the same elems.
//
// Metadata: indicator_types[0] is the ThreatType, labels the Tags, confidence
// the Confidence, valid_from the FirstSeen, the first external reference's
// URL the Reference. A revoked indicator, or one whose valid_until is at or
// before Options.Now, is skipped and counted.
func (b *builder) parseSTIX(elems []jsonElem) {
	objs := make([]stixObject, len(elems))
	errs := make([]error, len(elems))
	names := make(map[string]string)   // identity id → name
	malware := make(map[string]string) // malware id → name
	indicates := make(map[string]string)
	for i, e := range elems {
		o := &objs[i]
		errs[i] = json.Unmarshal(e.raw, o)
		switch o.Type {
		case "identity":
			names[o.ID] = o.Name
		case "malware":
			malware[o.ID] = o.Name
		}
	}
	for i := range objs {
		o := &objs[i]
		if errs[i] == nil && o.Type == "relationship" && o.RelationshipType == "indicates" {
			if name := malware[o.TargetRef]; name != "" && indicates[o.SourceRef] == "" {
				indicates[o.SourceRef] = name
			}
		}
	}
	for i, e := range elems {
		o := &objs[i]
		if o.Type != "indicator" {
			if errs[i] != nil && o.Type == "" {
				b.bad(e.line, "malformed STIX object: %v", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			b.bad(e.line, "malformed STIX indicator: %v", errs[i])
			continue
		}
		b.addSTIXIndicator(e.line, o, names, indicates[o.ID])
	}
}

func (b *builder) addSTIXIndicator(line int, o *stixObject, names map[string]string, malware string) {
	if o.Revoked.s == "true" {
		b.skip(skipRevoked)
		return
	}
	if o.ValidUntil != "" {
		t, err := parseTime(o.ValidUntil)
		if err != nil {
			b.bad(line, "%s: valid_until: %v", o.ID, err)
			return
		}
		if !t.IsZero() && !b.now.Before(t) {
			b.skip(skipExpired)
			return
		}
	}
	if pt := strings.ToLower(o.PatternType); pt != "" && pt != "stix" {
		b.unrepresentable(line, fmt.Sprintf("%s: pattern_type %s is not supported", o.ID, quote(o.PatternType)))
		return
	}
	if o.Pattern == nil {
		b.bad(line, "%s: indicator has no pattern", o.ID)
		return
	}
	pat, err := parsePattern(*o.Pattern)
	if err != nil {
		b.bad(line, "%s: cannot parse pattern %s: %v", o.ID, quote(*o.Pattern), err)
		return
	}
	meta := matcher.Indicator{Malware: malware, Tags: dedupTags(o.Labels)}
	if len(o.IndicatorTypes) > 0 {
		meta.ThreatType = o.IndicatorTypes[0]
	}
	var notes []string
	if meta.Confidence, err = parseConfidence(o.Confidence.s); err != nil {
		notes = append(notes, err.Error()+"; ignored")
	}
	if meta.FirstSeen, err = parseTime(o.ValidFrom); err != nil {
		notes = append(notes, "valid_from: "+err.Error()+"; ignored")
	}
	for _, r := range o.ExternalRefs {
		if r.URL != "" {
			meta.Reference = r.URL
			break
		}
	}
	if name := names[o.CreatedByRef]; name != "" {
		meta.Sources = []string{name}
	}
	vals, unrep := pat.reduce(nil, nil)
	for _, v := range vals {
		if v.family != 0 {
			if err := checkFamily(v); err != nil {
				b.bad(line, "%s: %v", o.ID, err)
				continue
			}
		}
		b.addValue(line, v.value, v.typ, &meta, notes...)
	}
	if len(unrep) > 0 {
		what := "pattern"
		if len(vals) > 0 {
			what = "pattern partly"
		}
		b.unrepresentable(line, fmt.Sprintf("%s: %s unrepresentable (%s): %s", o.ID, what, strings.Join(unrep, ", "), quote(*o.Pattern)))
	}
}

// checkFamily rejects an ipv4-addr value that is not IPv4 and an ipv6-addr
// value that is not IPv6. Values that do not parse are left to addValue.
func checkFamily(v patValue) error {
	s := strings.TrimSpace(Refang(v.value))
	var a netip.Addr
	if p, err := netip.ParsePrefix(s); err == nil {
		a = p.Addr()
	} else if a, err = netip.ParseAddr(s); err != nil {
		return nil
	}
	if (v.family == 4) != a.Unmap().Is4() {
		return fmt.Errorf("ipv%d-addr value %s is of the other address family", v.family, quote(v.value))
	}
	return nil
}

func dedupTags(in []string) []string {
	var tags []string
	for _, t := range in {
		tags = appendTag(tags, t)
	}
	return tags
}
