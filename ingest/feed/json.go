package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// jsonElem is one value of a JSON document with the line it starts on.
type jsonElem struct {
	line int
	raw  json.RawMessage
}

// jsonMember is one member of a top-level JSON object. When its value is an
// array, elems holds the array's elements, each with its own line.
type jsonMember struct {
	key     string
	elem    jsonElem
	isArray bool
	elems   []jsonElem
}

// jsonTop is a JSON document cut one or two levels deep, so that records
// keep the line they start on.
type jsonTop struct {
	isArray bool
	elems   []jsonElem   // the top-level array's elements
	members []jsonMember // the top-level object's members
}

func (t *jsonTop) member(key string) *jsonMember {
	for i := range t.members {
		if t.members[i].key == key {
			return &t.members[i]
		}
	}
	return nil
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // offsets of '\n'

func newLineIndex(s string) lineIndex {
	var li lineIndex
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			li = append(li, i)
		}
	}
	return li
}

func (li lineIndex) line(off int) int { return sort.SearchInts(li, off) + 1 }

// skipSep returns the offset of the first byte at or after off that is not
// JSON whitespace or a ',' or ':' separator.
func skipSep(s string, off int) int {
	for off < len(s) && strings.IndexByte(" \t\r\n,:", s[off]) >= 0 {
		off++
	}
	return off
}

// walkJSON cuts the valid JSON document s into a jsonTop.
func walkJSON(s string, li lineIndex) (jsonTop, error) {
	var top jsonTop
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if err != nil {
		return top, err
	}
	array := func() ([]jsonElem, error) {
		var elems []jsonElem
		for dec.More() {
			off := skipSep(s, int(dec.InputOffset()))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			elems = append(elems, jsonElem{line: li.line(off), raw: raw})
		}
		_, err := dec.Token() // ']'
		return elems, err
	}
	switch tok {
	case json.Delim('['):
		top.isArray = true
		top.elems, err = array()
		return top, err
	case json.Delim('{'):
	default:
		return top, errors.New("JSON document is neither an object nor an array")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return top, err
		}
		key, _ := tok.(string)
		off := skipSep(s, int(dec.InputOffset()))
		m := jsonMember{key: key}
		if off < len(s) && s[off] == '[' {
			if _, err := dec.Token(); err != nil {
				return top, err
			}
			m.isArray = true
			if m.elems, err = array(); err != nil {
				return top, err
			}
		} else {
			m.elem.line = li.line(off)
			if err := dec.Decode(&m.elem.raw); err != nil {
				return top, err
			}
		}
		top.members = append(top.members, m)
	}
	return top, nil
}

// parseJSON reads a JSON feed: a STIX bundle, object or object array, a
// ThreatFox API response, a ThreatFox or URLhaus full export (id → array of
// records) or array of records, or NDJSON.
func (b *builder) parseJSON(s string) error {
	li := newLineIndex(s)
	if !json.Valid([]byte(s)) {
		return b.parseNDJSON(s, li)
	}
	top, err := walkJSON(s, li)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnknownFormat, err)
	}
	if top.isArray {
		k := b.addObjects(top.elems)
		b.feed.Format = k.format(FormatThreatFoxJSON, FormatURLhausJSON)
		return nil
	}
	if len(top.members) == 0 {
		return fmt.Errorf("%w: empty JSON object", ErrUnknownFormat)
	}
	str := func(key string) string {
		var v flexString
		if m := top.member(key); m != nil && !m.isArray {
			_ = json.Unmarshal(m.elem.raw, &v)
		}
		return v.s
	}
	switch typ := str("type"); {
	case typ == "bundle":
		b.feed.Format = FormatSTIX
		if m := top.member("objects"); m != nil && m.isArray {
			b.parseSTIX(m.elems)
		}
		return nil
	case typ != "" && strings.Contains(str("id"), "--"):
		// A bare STIX object: re-read it whole.
		b.feed.Format = FormatSTIX
		b.parseSTIX([]jsonElem{{line: li.line(skipSep(s, 0)), raw: json.RawMessage(strings.TrimSpace(s))}})
		return nil
	}
	if m := top.member("query_status"); m != nil {
		b.feed.Format = FormatThreatFoxAPI
		data := top.member("data")
		if data == nil || !data.isArray {
			return fmt.Errorf("%w: ThreatFox query_status %s", ErrNoIndicators, quote(str("query_status")))
		}
		b.addObjects(data.elems)
		return nil
	}
	allArrays := true
	for _, m := range top.members {
		allArrays = allArrays && m.isArray
	}
	if allArrays {
		var elems []jsonElem
		for _, m := range top.members {
			elems = append(elems, m.elems...)
		}
		k := b.addObjects(elems)
		b.feed.Format = k.format(FormatThreatFoxJSON, FormatURLhausJSON)
		return nil
	}
	if top.member("ioc") != nil || top.member("ioc_value") != nil || top.member("url") != nil {
		k := b.addObjects([]jsonElem{{line: li.line(skipSep(s, 0)), raw: json.RawMessage(strings.TrimSpace(s))}})
		b.feed.Format = k.format(FormatThreatFoxJSON, FormatURLhausJSON)
		return nil
	}
	return fmt.Errorf("%w: JSON object of unknown shape", ErrUnknownFormat)
}

// parseNDJSON reads one JSON object a line; a line that is not one is a bad
// entry. The first non-blank line must be one, or the file is not NDJSON.
func (b *builder) parseNDJSON(s string, li lineIndex) error {
	var elems []jsonElem
	for n, line := range lines(s) {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if len(elems) == 0 && (t[0] != '{' || !json.Valid([]byte(t))) {
			var v any
			err := json.Unmarshal([]byte(s), &v)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%w: invalid JSON at line %d: %v", ErrUnknownFormat, li.line(int(se.Offset)-1), err)
			}
			return fmt.Errorf("%w: invalid JSON at line %d", ErrUnknownFormat, n)
		}
		elems = append(elems, jsonElem{line: n, raw: json.RawMessage(t)})
	}
	k := b.addObjects(elems)
	b.feed.Format = k.format(FormatThreatFoxLines, FormatURLhausLines)
	return nil
}

// kinds counts the kinds of records added by addObjects.
type kinds struct{ threatFox, urlhaus, stix int }

func (k kinds) format(threatFox, urlhaus string) string {
	if k.stix > 0 && k.threatFox+k.urlhaus == 0 {
		return FormatSTIX
	}
	if k.urlhaus > k.threatFox {
		return urlhaus
	}
	return threatFox
}

// addObjects adds ThreatFox and URLhaus records. STIX objects among them
// (a "type" and an "id" with "--") are read as one bundle at the end.
func (b *builder) addObjects(elems []jsonElem) kinds {
	var k kinds
	var stix []jsonElem
	for _, e := range elems {
		t := bytes.TrimSpace(e.raw)
		if len(t) == 0 || t[0] != '{' {
			b.bad(e.line, "record is not a JSON object: %s", quote(string(t)))
			continue
		}
		var j jsonRecord
		if err := json.Unmarshal(t, &j); err != nil {
			if !json.Valid(t) {
				b.bad(e.line, "invalid JSON: %v: %s", err, quote(string(t)))
			} else {
				b.bad(e.line, "malformed record: %v", err)
			}
			continue
		}
		switch {
		case j.Type.s != "" && strings.Contains(j.ID.s, "--"):
			stix = append(stix, e)
		case j.IOC.set || j.IOCValue.set || !j.URL.set:
			k.threatFox++
			r := j.threatFox()
			b.addRecord(e.line, &r, SourceThreatFox)
		default:
			k.urlhaus++
			r := j.urlhaus()
			b.addRecord(e.line, &r, SourceURLhaus)
		}
	}
	if len(stix) > 0 {
		k.stix = len(stix)
		b.parseSTIX(stix)
	}
	return k
}

// jsonRecord is a ThreatFox record in any of its shapes (API: ioc,
// first_seen, tags array; full export: ioc_value, first_seen_utc, tags
// string) or a URLhaus record. Fields take any JSON scalar, because feeds
// write numbers as strings and the other way round.
type jsonRecord struct {
	IOC              flexString `json:"ioc"`
	IOCValue         flexString `json:"ioc_value"`
	IOCType          flexString `json:"ioc_type"`
	ThreatType       flexString `json:"threat_type"`
	Malware          flexString `json:"malware"`
	MalwarePrintable flexString `json:"malware_printable"`
	Confidence       flexString `json:"confidence_level"`
	FirstSeen        flexString `json:"first_seen"`
	FirstSeenUTC     flexString `json:"first_seen_utc"`
	LastSeen         flexString `json:"last_seen"`
	LastSeenUTC      flexString `json:"last_seen_utc"`
	Reference        flexString `json:"reference"`
	Tags             flexTags   `json:"tags"`

	URL         flexString `json:"url"`
	Threat      flexString `json:"threat"`
	DateAdded   flexString `json:"dateadded"`
	LastOnline  flexString `json:"last_online"`
	URLhausLink flexString `json:"urlhaus_link"`

	Type flexString `json:"type"`
	ID   flexString `json:"id"`
}

func (j *jsonRecord) threatFox() record {
	r := record{
		value:      first(j.IOC.s, j.IOCValue.s),
		typ:        j.IOCType.s,
		threatType: j.ThreatType.s,
		malware:    first(j.MalwarePrintable.s, j.Malware.s),
		confidence: j.Confidence.s,
		firstSeen:  first(j.FirstSeen.s, j.FirstSeenUTC.s),
		lastSeen:   first(j.LastSeen.s, j.LastSeenUTC.s),
		reference:  j.Reference.s,
		tags:       j.Tags,
	}
	return r
}

func (j *jsonRecord) urlhaus() record {
	return record{
		value:      j.URL.s,
		typ:        "url",
		threatType: j.Threat.s,
		firstSeen:  j.DateAdded.s,
		lastSeen:   j.LastOnline.s,
		reference:  j.URLhausLink.s,
		tags:       j.Tags,
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// flexString is a JSON scalar as text: a string as is, a number or boolean
// as written, null and "None" as "". set records that the field was present
// and not null.
type flexString struct {
	s   string
	set bool
}

func (f *flexString) UnmarshalJSON(data []byte) error {
	switch {
	case string(data) == "null":
		*f = flexString{}
		return nil
	case data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*f = flexString{s: noneToEmpty(s), set: true}
		return nil
	case data[0] == '{' || data[0] == '[':
		return fmt.Errorf("want a string or number, got %s", quote(string(data)))
	}
	*f = flexString{s: string(data), set: true}
	return nil
}

// flexTags is a tag list written as an array of scalars, a comma-separated
// string or null.
type flexTags []string

func (t *flexTags) UnmarshalJSON(data []byte) error {
	*t = nil
	switch data[0] {
	case 'n':
		return nil
	case '[':
		var list []flexString
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		var tags []string
		for _, f := range list {
			tags = appendTag(tags, f.s)
		}
		*t = tags
		return nil
	}
	var f flexString
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	*t = splitTags(f.s)
	return nil
}
