package feed

import (
	"fmt"
	"slices"
	"strings"

	"github.com/matchd/matchd/matcher"
)

// record is one ThreatFox or URLhaus entry, whatever its container (CSV row,
// JSON object), with its fields as text: "None" and JSON null are empty.
type record struct {
	value      string
	typ        string // ThreatFox ioc_type; "url" for URLhaus
	threatType string
	malware    string
	confidence string
	firstSeen  string
	lastSeen   string
	reference  string
	tags       []string
}

// addRecord adds the indicator of r with source as its source. A value that
// does not parse or an unknown ioc_type is a bad entry; an unreadable time or
// confidence only drops that field, with a warning, because losing the
// indicator for its metadata would be the worse failure.
func (b *builder) addRecord(line int, r *record, source string) {
	if r.value == "" {
		b.bad(line, "record has no indicator value")
		return
	}
	typ, ok := threatFoxType(r.typ)
	if !ok {
		b.bad(line, "unknown ioc_type %s for %s", quote(r.typ), quote(r.value))
		return
	}
	meta := matcher.Indicator{
		ThreatType: r.threatType,
		Malware:    r.malware,
		Tags:       r.tags,
		Reference:  r.reference,
		Sources:    []string{source},
	}
	var notes []string
	var err error
	if meta.Confidence, err = parseConfidence(r.confidence); err != nil {
		notes = append(notes, err.Error()+"; ignored")
	}
	if meta.FirstSeen, err = parseTime(r.firstSeen); err != nil {
		notes = append(notes, "first seen: "+err.Error()+"; ignored")
	}
	if meta.LastSeen, err = parseTime(r.lastSeen); err != nil {
		notes = append(notes, "last seen: "+err.Error()+"; ignored")
	}
	b.addValue(line, r.value, typ, &meta, notes...)
}

// threatFoxType maps a ThreatFox ioc_type to an indicator type. matchd's own
// type names are accepted too, and an empty type means "detect".
func threatFoxType(s string) (matcher.IndicatorType, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return matcher.TypeInvalid, true
	case "ip:port":
		return matcher.TypeIPPort, true
	case "ip", "ipv4", "ipv6":
		return matcher.TypeIP, true
	case "cidr":
		return matcher.TypeCIDR, true
	case "domain":
		return matcher.TypeDomain, true
	case "url":
		return matcher.TypeURL, true
	case "md5_hash", "md5":
		return matcher.TypeMD5, true
	case "sha1_hash", "sha1":
		return matcher.TypeSHA1, true
	case "sha256_hash", "sha256":
		return matcher.TypeSHA256, true
	}
	return matcher.TypeInvalid, false
}

// splitTags splits a comma-separated tag field, dropping empty tags, "None"
// and repeats.
func splitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		tags = appendTag(tags, t)
	}
	return tags
}

func appendTag(tags []string, t string) []string {
	t = strings.TrimSpace(t)
	if t == "" || t == "None" || slices.Contains(tags, t) {
		return tags
	}
	return append(tags, t)
}

// noneToEmpty maps the CSV exports' "None" to "".
func noneToEmpty(s string) string {
	s = strings.TrimSpace(s)
	if s == "None" {
		return ""
	}
	return s
}

// csvHeader is the column line of a ThreatFox or URLhaus CSV export.
type csvHeader struct {
	line    int
	cols    map[string]int
	ncols   int
	urlhaus bool
}

// findCSVHeader looks for the column line among the leading '#' comments:
// `# "first_seen_utc","ioc_id","ioc_value","ioc_type",…` for ThreatFox,
// `# id,dateadded,url,url_status,…` for URLhaus.
func findCSVHeader(s string) (csvHeader, bool) {
	for n, line := range lines(s) {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if t[0] != '#' {
			break
		}
		fields, err := splitCSVLine(strings.TrimLeft(t, "# \t"))
		if err != nil || len(fields) < 3 {
			continue
		}
		h := csvHeader{line: n, cols: make(map[string]int, len(fields)), ncols: len(fields)}
		for i, f := range fields {
			h.cols[strings.ToLower(strings.TrimSpace(f))] = i
		}
		if h.has("ioc_value") && h.has("ioc_type") {
			return h, true
		}
		if h.has("url") && (h.has("url_status") || h.has("threat")) {
			h.urlhaus = true
			return h, true
		}
	}
	return csvHeader{}, false
}

func (h *csvHeader) has(col string) bool { _, ok := h.cols[col]; return ok }

// get returns the named column of a row, "" when the column is absent.
func (h *csvHeader) get(fields []string, col string) string {
	if i, ok := h.cols[col]; ok {
		return noneToEmpty(fields[i])
	}
	return ""
}

// parseCSV reads a ThreatFox or URLhaus CSV export after its column line.
// Rows are quoted fields separated by commas and optional spaces (ThreatFox
// writes `"a", "b"`), "" escaping a quote; a row that does not split into as
// many fields as the column line is a bad entry.
func (b *builder) parseCSV(s string, h csvHeader) error {
	b.feed.Format = FormatThreatFoxCSV
	if h.urlhaus {
		b.feed.Format = FormatURLhausCSV
	}
	for n, line := range lines(s) {
		t := strings.TrimSpace(line)
		if n <= h.line || t == "" || t[0] == '#' {
			continue
		}
		fields, err := splitCSVLine(t)
		if err != nil {
			b.bad(n, "malformed CSV row: %v: %s", err, quote(t))
			continue
		}
		if len(fields) != h.ncols {
			b.bad(n, "malformed CSV row: %d fields, want %d: %s", len(fields), h.ncols, quote(t))
			continue
		}
		var r record
		if h.urlhaus {
			r = record{
				value:      h.get(fields, "url"),
				typ:        "url",
				threatType: h.get(fields, "threat"),
				firstSeen:  h.get(fields, "dateadded"),
				lastSeen:   h.get(fields, "last_online"),
				reference:  h.get(fields, "urlhaus_link"),
				tags:       splitTags(h.get(fields, "tags")),
			}
			b.addRecord(n, &r, SourceURLhaus)
			continue
		}
		r = record{
			value:      h.get(fields, "ioc_value"),
			typ:        h.get(fields, "ioc_type"),
			threatType: h.get(fields, "threat_type"),
			malware:    h.get(fields, "malware_printable"),
			confidence: h.get(fields, "confidence_level"),
			firstSeen:  h.get(fields, "first_seen_utc"),
			lastSeen:   h.get(fields, "last_seen_utc"),
			reference:  h.get(fields, "reference"),
			tags:       splitTags(h.get(fields, "tags")),
		}
		if r.malware == "" {
			r.malware = h.get(fields, "fk_malware")
		}
		b.addRecord(n, &r, SourceThreatFox)
	}
	return nil
}

// splitCSVLine splits one CSV line. Fields are quoted ("" escapes a quote)
// or bare (trimmed); spaces around separators are ignored.
func splitCSVLine(line string) ([]string, error) {
	var fields []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i < len(line) && line[i] == '"' {
			f, n, err := quotedField(line[i:])
			if err != nil {
				return nil, err
			}
			fields = append(fields, f)
			i += n
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			if i == len(line) {
				return fields, nil
			}
			if line[i] != ',' {
				return nil, fmt.Errorf("%q after a quoted field", line[i])
			}
			i++
			continue
		}
		j := strings.IndexByte(line[i:], ',')
		if j < 0 {
			return append(fields, strings.TrimSpace(line[i:])), nil
		}
		fields = append(fields, strings.TrimSpace(line[i:i+j]))
		i += j + 1
	}
}

// quotedField reads the quoted field at the start of s and returns it and
// the number of bytes it took.
func quotedField(s string) (string, int, error) {
	var sb strings.Builder
	start := 1
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			sb.WriteString(s[start : i+1])
			i++
			start = i + 1
			continue
		}
		if sb.Len() == 0 {
			return s[1:i], i + 1, nil
		}
		sb.WriteString(s[start:i])
		return sb.String(), i + 1, nil
	}
	return "", 0, fmt.Errorf("unterminated quoted field")
}
