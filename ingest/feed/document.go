package feed

import (
	"strings"

	"github.com/matchd/matchd/matcher"
)

// A document is a threat report or hunting rule in Markdown: prose, an IOC
// table and KQL queries with `let x = dynamic([...])` lists. Only the IOC
// tables and the dynamic lists are read; every other line is ignored, not a
// bad entry.
//
// Metadata comes from the document itself:
//   - "Source: NAME" or "Source: NAME - MALWARE" (as in a KQL comment
//     `// Source: ThreatFox - Mirai`): the first one names the source of
//     every indicator of the document (else the file's base name), and each
//     one names the malware of the dynamic lists that follow it;
//   - "Malware Family: NAME" names the malware of the table rows, and of
//     the lists no Source line names one for;
//   - table columns, found by header name: Value (or IOC, Indicator), Type,
//     Threat Type, First Seen, Last Seen, Confidence, Malware, Tags,
//     Reference.

// isDocument reports whether s has an IOC table or a KQL dynamic list.
func isDocument(s string) bool {
	if dynamicAt(s, 0) >= 0 {
		return true
	}
	var prev string
	for _, line := range lines(s) {
		if isSeparatorRow(line) {
			if cols, ok := tableHeader(prev); ok && cols.value >= 0 {
				return true
			}
		}
		prev = line
	}
	return false
}

// docMeta is what the document says about its indicators.
type docMeta struct {
	source  string // from the first Source line
	malware string // from the Malware Family line
}

func scanDocMeta(s string) docMeta {
	var m docMeta
	for _, line := range lines(s) {
		if src, _, ok := sourceLine(line); ok && m.source == "" {
			m.source = src
		}
		if m.malware == "" {
			m.malware = malwareFamily(line)
		}
	}
	return m
}

// sourceLine reads a "Source: NAME - MALWARE" line, after any comment or
// list marker and Markdown emphasis.
func sourceLine(line string) (source, malware string, ok bool) {
	t := strings.TrimLeft(line, " \t/#*->")
	if len(t) < 7 || !strings.EqualFold(t[:7], "source:") {
		return "", "", false
	}
	v := strings.Trim(t[7:], " \t*_`")
	source, malware, _ = strings.Cut(v, " - ")
	source = strings.TrimSpace(source)
	return source, strings.TrimSpace(malware), source != ""
}

// docLabels are labels that may follow "Malware Family: NAME" on the same
// line, ending the name.
var docLabels = []string{"total iocs:", "ioc types:", "ioc count:", "threat type:", "confidence:", "first seen:", "last seen:", "tags:", "reporter:", "reference:"}

// malwareFamily returns NAME from a line with "Malware Family: NAME".
func malwareFamily(line string) string {
	// lowerASCII keeps line's length, so its indexes are line's
	// (strings.ToLower turns invalid UTF-8 into U+FFFD, three bytes for one).
	low := lowerASCII(line)
	i := strings.Index(low, "malware family:")
	if i < 0 {
		return ""
	}
	v := line[i+len("malware family:"):]
	lv := low[i+len("malware family:"):]
	end := len(v)
	for _, l := range docLabels {
		if j := strings.Index(lv, l); j >= 0 && j < end {
			end = j
		}
	}
	if j := strings.IndexAny(v[:end], "|;"); j >= 0 {
		end = j
	}
	return strings.Trim(v[:end], " \t*_`")
}

// tableCols are the column indexes of an IOC table, -1 when absent.
type tableCols struct {
	n                                                            int
	value, typ, threatType, firstSeen, lastSeen, confidence, mal int
	tags, reference                                              int
}

// tableHeader reads a Markdown table header row.
func tableHeader(line string) (tableCols, bool) {
	cells, ok := tableCells(line)
	if !ok {
		return tableCols{}, false
	}
	c := tableCols{n: len(cells), value: -1, typ: -1, threatType: -1, firstSeen: -1, lastSeen: -1, confidence: -1, mal: -1, tags: -1, reference: -1}
	for i, h := range cells {
		h = strings.ToLower(strings.Join(strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '_' }), " "))
		var p *int
		switch h {
		case "value", "ioc", "ioc value", "indicator", "indicator value", "observable":
			p = &c.value
		case "type", "ioc type", "indicator type":
			p = &c.typ
		case "threat type", "threat":
			p = &c.threatType
		case "first seen", "first seen utc", "first seen (utc)":
			p = &c.firstSeen
		case "last seen", "last seen utc", "last seen (utc)":
			p = &c.lastSeen
		case "confidence", "confidence level":
			p = &c.confidence
		case "malware", "malware family", "family":
			p = &c.mal
		case "tags":
			p = &c.tags
		case "reference":
			p = &c.reference
		}
		if p != nil && *p < 0 {
			*p = i
		}
	}
	return c, true
}

// tableCells splits a Markdown table row into its trimmed cells, without
// Markdown code and emphasis marks; "\|" is a '|' inside a cell.
func tableCells(line string) ([]string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "|") {
		return nil, false
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "|"), "|")
	t = strings.ReplaceAll(t, `\|`, "\x00")
	cells := strings.Split(t, "|")
	for i, c := range cells {
		cells[i] = strings.Trim(strings.ReplaceAll(c, "\x00", "|"), " \t`*")
	}
	return cells, true
}

func isSeparatorRow(line string) bool {
	cells, ok := tableCells(line)
	if !ok {
		return false
	}
	for _, c := range cells {
		c = strings.Trim(c, ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// parseDocument reads the IOC tables and KQL dynamic lists of s.
func (b *builder) parseDocument(s string) {
	meta := scanDocMeta(s)
	var sources []string
	if meta.source != "" {
		sources = []string{meta.source}
	}
	all := make([]string, 0, 64)
	for _, line := range lines(s) {
		all = append(all, line)
	}
	// Table rows.
	for i := 1; i < len(all); i++ {
		if !isSeparatorRow(all[i]) {
			continue
		}
		cols, ok := tableHeader(all[i-1])
		if !ok || cols.value < 0 {
			continue
		}
		for i++; i < len(all); i++ {
			cells, ok := tableCells(all[i])
			if !ok {
				break
			}
			b.addTableRow(i+1, cells, cols, meta.malware, sources)
		}
	}
	// Dynamic lists, with the malware of the latest Source line.
	type mark struct {
		line    int
		malware string
	}
	var marks []mark
	for n, line := range all {
		if _, m, ok := sourceLine(line); ok && m != "" {
			marks = append(marks, mark{n + 1, m})
		}
	}
	li := newLineIndex(s)
	for off := dynamicAt(s, 0); off >= 0; off = dynamicAt(s, off+1) {
		n := li.line(off)
		malware := meta.malware
		for _, m := range marks {
			if m.line <= n {
				malware = m.malware
			}
		}
		start := strings.LastIndexByte(s[:off], '\n') + 1
		b.addDynamicList(s, off, li, listName(s[start:off]), &matcher.Indicator{
			Malware:    malware,
			Confidence: matcher.NoConfidence,
			Sources:    sources,
		})
	}
}

func (b *builder) addTableRow(line int, cells []string, cols tableCols, malware string, sources []string) {
	if len(cells) != cols.n {
		b.bad(line, "table row has %d cells, its header %d", len(cells), cols.n)
		return
	}
	cell := func(i int) string {
		if i < 0 {
			return ""
		}
		return cells[i]
	}
	value := cell(cols.value)
	if value == "" {
		return
	}
	typ, ok := docType(cell(cols.typ))
	if !ok {
		b.bad(line, "unknown indicator type %s for %s", quote(cell(cols.typ)), quote(value))
		return
	}
	meta := matcher.Indicator{
		ThreatType: cell(cols.threatType),
		Malware:    first(cell(cols.mal), malware),
		Tags:       splitTags(cell(cols.tags)),
		Reference:  cell(cols.reference),
		Sources:    sources,
	}
	var notes []string
	var err error
	if meta.Confidence, err = parseConfidence(cell(cols.confidence)); err != nil {
		notes = append(notes, err.Error()+"; ignored")
	}
	if meta.FirstSeen, err = parseTime(cell(cols.firstSeen)); err != nil {
		notes = append(notes, "first seen: "+err.Error()+"; ignored")
	}
	if meta.LastSeen, err = parseTime(cell(cols.lastSeen)); err != nil {
		notes = append(notes, "last seen: "+err.Error()+"; ignored")
	}
	b.addValue(line, value, typ, &meta, notes...)
}

// docType maps a table's type cell to an indicator type: the ThreatFox
// names, matchd's, and a few common spellings; empty or "hash" mean detect.
func docType(s string) (matcher.IndicatorType, bool) {
	if t, ok := threatFoxType(s); ok {
		return t, true
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ip address", "ip-dst", "ip-src", "ipv4-addr", "ipv6-addr":
		return matcher.TypeIP, true
	case "domain name", "domain-name", "hostname", "fqdn":
		return matcher.TypeDomain, true
	case "hash", "file hash", "filehash", "sha-1", "sha-256":
		return matcher.TypeInvalid, true
	}
	return matcher.TypeInvalid, false
}

// dynamicAt returns the offset of the next "dynamic([" (spaces allowed
// around the parenthesis) at or after from, or -1.
func dynamicAt(s string, from int) int {
	for from < len(s) {
		i := strings.Index(s[from:], "dynamic")
		if i < 0 {
			return -1
		}
		at := from + i
		j := at + len("dynamic")
		j = skipSpace(s, j)
		if j < len(s) && s[j] == '(' {
			if k := skipSpace(s, j+1); k < len(s) && s[k] == '[' {
				return at
			}
		}
		from = at + 1
	}
	return -1
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// listName returns NAME when before, the text before "dynamic(" on its line,
// ends in "let NAME =".
func listName(before string) string {
	t := strings.TrimRight(before, " \t")
	if !strings.HasSuffix(t, "=") {
		return ""
	}
	t = strings.TrimRight(t[:len(t)-1], " \t")
	j := len(t)
	for j > 0 && (isLetter(t[j-1]) || t[j-1] >= '0' && t[j-1] <= '9' || t[j-1] == '_') {
		j--
	}
	name := t[j:]
	if rest := strings.TrimRight(t[:j], " \t"); name == "" || !strings.HasSuffix(rest, "let") {
		return ""
	}
	return name
}

// listKinds returns the indicator types a list named name may hold, judged
// by the words of its name ("malicious_ips", "BadDomains"); nil means the
// name says nothing of indicators, and the list is not read. An unnamed
// list may hold any type.
func listKinds(name string) []matcher.IndicatorType {
	if name == "" {
		return matcher.IndicatorTypes()
	}
	addrs := []matcher.IndicatorType{matcher.TypeIP, matcher.TypeCIDR, matcher.TypeIPPort}
	var kinds []matcher.IndicatorType
	for _, w := range nameWords(name) {
		switch w {
		case "ioc", "iocs", "indicator", "indicators", "observable", "observables", "c2", "cnc":
			return matcher.IndicatorTypes()
		case "ip", "ips", "ipaddr", "ipaddrs", "ipaddress", "ipaddresses", "ipv4", "ipv6", "ipv4s", "ipv6s",
			"addr", "addrs", "address", "addresses", "cidr", "cidrs", "subnet", "subnets":
			kinds = append(kinds, addrs...)
		case "url", "urls", "uri", "uris", "link", "links":
			kinds = append(kinds, matcher.TypeURL, matcher.TypeDomain, matcher.TypeIP, matcher.TypeIPPort)
		case "domain", "domains", "host", "hosts", "hostname", "hostnames", "fqdn", "fqdns", "dns":
			kinds = append(kinds, matcher.TypeDomain, matcher.TypeIP)
		case "hash", "hashes", "md5", "md5s", "sha1", "sha1s", "sha256", "sha256s", "filehash", "filehashes":
			kinds = append(kinds, matcher.TypeMD5, matcher.TypeSHA1, matcher.TypeSHA256)
		}
	}
	return kinds
}

// nameWords splits an identifier into lower-case words at '_', digits to
// letters, and case changes ("BadIPList" → bad, ip, list).
func nameWords(name string) []string {
	var words []string
	start := 0
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	flush := func(end int) {
		if end > start {
			words = append(words, strings.ToLower(name[start:end]))
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-':
			flush(i)
			start = i + 1
		case i > start && isUpper(c) && (isLower(name[i-1]) || isUpper(name[i-1]) && startsWord(name[i+1:])):
			flush(i)
			start = i
		}
	}
	flush(len(name))
	return words
}

// startsWord reports whether rest, what follows an upper-case letter after
// another, makes that letter start a word ("IPList": "ist") rather than end
// an acronym's plural ("IPs": "s", "IPsBad": "sBad").
func startsWord(rest string) bool {
	if rest == "" || rest[0] < 'a' || rest[0] > 'z' {
		return false
	}
	return rest[0] != 's' || len(rest) > 1 && rest[1] >= 'a' && rest[1] <= 'z'
}

// addDynamicList adds the string elements of the KQL dynamic list at offset
// at of s ("dynamic(["…). Elements that are not strings are ignored.
func (b *builder) addDynamicList(s string, at int, li lineIndex, name string, meta *matcher.Indicator) {
	kinds := listKinds(name)
	if kinds == nil {
		return
	}
	i := strings.IndexByte(s[at:], '[') + at + 1
	for i < len(s) {
		i = skipSpace(s, i)
		if i >= len(s) {
			return
		}
		switch c := s[i]; {
		case c == ']':
			return
		case c == ',':
			i++
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return
			}
			i += j
		case c == '"' || c == '\'' || c == '@' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\''):
			line := li.line(i)
			v, n, ok := kqlString(s[i:])
			if !ok {
				b.bad(line, "unterminated string in dynamic list")
				return
			}
			i += n
			b.addListValue(line, v, name, kinds, meta)
		default:
			// A number, a nested value or a comment: skip to the next
			// element.
			j := strings.IndexAny(s[i:], ",]")
			if j < 0 {
				return
			}
			i += j
		}
	}
}

func (b *builder) addListValue(line int, v, name string, kinds []matcher.IndicatorType, meta *matcher.Indicator) {
	in, _, err := parseValue(v, matcher.TypeInvalid)
	if err != nil {
		b.bad(line, "%v", err)
		return
	}
	for _, k := range kinds {
		if k == in.Type {
			b.addValue(line, v, matcher.TypeInvalid, meta)
			return
		}
	}
	b.bad(line, "%s %s does not belong in list %s", in.Type, quote(v), name)
}

// kqlString reads the KQL string literal at the start of s: "…" or '…' with
// backslash escapes, or verbatim @"…" / @'…' where a doubled quote is a
// quote. It returns the value and the bytes taken.
func kqlString(s string) (string, int, bool) {
	verbatim := s[0] == '@'
	i := 0
	if verbatim {
		i = 1
	}
	q := s[i]
	var sb strings.Builder
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			return "", 0, false
		case c == q && verbatim && i+1 < len(s) && s[i+1] == q:
			sb.WriteByte(q)
			i++
		case c == q:
			return sb.String(), i + 1, true
		case c == '\\' && !verbatim && i+1 < len(s):
			i++
			sb.WriteByte(s[i])
		default:
			sb.WriteByte(c)
		}
	}
	return "", 0, false
}
