package cef

import (
	"bytes"
	"errors"
	"iter"
	"strconv"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// ErrNotCEF is returned for a line that contains no "CEF:" marker.
var ErrNotCEF = errors.New("not a CEF line: no \"CEF:\" marker")

// ParseError reports a line that has a "CEF:" marker but no valid header.
// Col is the 1-based byte column of the marker; Msg is a lowercase
// description quoting the header, truncated, such as
//
//	cannot parse CEF header "CEF:0|a|b": want 7 fields, have 3
//
// Error returns Msg; callers that know where the line came from prefix their
// location (file and line, topic and offset).
type ParseError struct {
	Col int
	Msg string
}

func (e *ParseError) Error() string { return e.Msg }

// msgTooManyExtensions is the reason of a line with more than
// matcher.MaxExtra extensions that become Event.Extra.
var msgTooManyExtensions = "more than " + strconv.Itoa(matcher.MaxExtra) + " extensions outside the CommonSecurityLog columns"

// maxQuote bounds the input quoted in a ParseError.
const maxQuote = 64

// newParseError builds "cannot parse CEF <what> <quoted line[at:]>: <detail>".
// It runs only for rejected lines, so it may allocate.
func newParseError(line []byte, at int, what, detail string) *ParseError {
	q := line[at:]
	more := ""
	if len(q) > maxQuote {
		q, more = q[:maxQuote], "..."
	}
	return &ParseError{
		Col: at + 1,
		Msg: "cannot parse CEF " + what + " " + strconv.Quote(string(q)) + more + ": " + detail,
	}
}

var marker = []byte("CEF:")

// Header is the split header of one CEF line. All slices alias the line.
// The six named fields hold the raw text between the separators, still
// escaped; AppendUnescapedHeader decodes them. The zero value is an empty
// header.
type Header struct {
	// Prefix is the text before the marker (a syslog header, a tag), with
	// trailing blanks removed; it may be empty.
	Prefix []byte
	// Version is the CEF version, the digits after "CEF:".
	Version []byte

	DeviceVendor       []byte
	DeviceProduct      []byte
	DeviceVersion      []byte
	DeviceEventClassID []byte
	Name               []byte
	Severity           []byte

	// Extension is everything after the seventh field's '|', unparsed; it
	// is empty, not nil, when the line has none. Scan it with
	// ScanExtensions.
	Extension []byte
}

// ParseHeader finds the CEF marker in line and splits the header after it.
// It returns ErrNotCEF when line has no "CEF:" and a *ParseError when no
// "CEF:" is followed by a version and '|' or the header has fewer than
// seven fields. It does not allocate unless it fails, is safe for
// concurrent use, and is linear in len(line).
func ParseHeader(line []byte) (Header, error) {
	var h Header
	at, verStart, verEnd, ok := findMarker(line)
	if at < 0 {
		return h, ErrNotCEF
	}
	if !ok {
		return h, newParseError(line, at, "version", `want digits and '|' after "CEF:"`)
	}
	h.Prefix = bytes.TrimRight(line[:at], " \t")
	h.Version = line[verStart:verEnd]

	fields := [6]*[]byte{&h.DeviceVendor, &h.DeviceProduct, &h.DeviceVersion, &h.DeviceEventClassID, &h.Name, &h.Severity}
	pos := verEnd + 1
	for i, f := range fields {
		start := pos
		for pos < len(line) && line[pos] != '|' {
			if line[pos] == '\\' {
				pos++ // "\|" does not end the field
			}
			pos++
		}
		if pos >= len(line) {
			if i < len(fields)-1 {
				return Header{}, newParseError(line, at, "header",
					"want 7 fields, have "+strconv.Itoa(i+2))
			}
			// The severity ends the line: no extension.
			*f = bytes.TrimRight(line[start:], " \t\r\n")
			h.Extension = line[len(line):]
			return h, nil
		}
		*f = line[start:pos]
		pos++
	}
	h.Extension = line[pos:]
	return h, nil
}

// findMarker returns the index of the first "CEF:" in line (-1 if none)
// and, when some "CEF:" is followed by spaces, digits and '|', the index of
// that one and the bounds of its digits, with ok set.
func findMarker(line []byte) (at, verStart, verEnd int, ok bool) {
	first := -1
	for i := 0; i <= len(line)-len(marker); {
		j := bytes.Index(line[i:], marker)
		if j < 0 {
			break
		}
		p := i + j
		if first < 0 {
			first = p
		}
		// The runs of spaces and digits scanned here end before the next
		// "CEF:", so the whole search stays linear.
		q := p + len(marker)
		for q < len(line) && line[q] == ' ' {
			q++
		}
		vs := q
		for q < len(line) && isDigit(line[q]) {
			q++
		}
		if q > vs && q < len(line) && line[q] == '|' {
			return p, vs, q, true
		}
		i = p + len(marker)
	}
	return first, 0, 0, false
}

// Extensions scans the key=value pairs of a CEF extension. Use it as
//
//	x := ScanExtensions(h.Extension)
//	for x.Next() {
//		key, raw := x.Key(), x.Raw()
//	}
//
// Key and Raw alias the extension and stay valid as long as it does. The
// zero value scans nothing. Scanning is linear in the extension's length
// and does not allocate; an Extensions is not safe for concurrent use.
type Extensions struct {
	ext      []byte
	k, eq    int // next key's start and '=' index; k < 0 at the end
	key, raw []byte
}

// ScanExtensions returns a scanner over ext, positioned before the first
// pair. Text before the first key is skipped.
func ScanExtensions(ext []byte) Extensions {
	x := Extensions{ext: ext}
	x.k, x.eq = findKey(ext, 0)
	return x
}

// Next advances to the next pair and reports whether there is one.
func (x *Extensions) Next() bool {
	if x.k < 0 || x.ext == nil {
		return false
	}
	x.key = x.ext[x.k:x.eq]
	vs := x.eq + 1
	k, eq := findKey(x.ext, vs)
	ve := len(x.ext)
	if k >= 0 {
		ve = k - 1 // the space before the next key
	}
	// Trailing blanks are padding, not data: "src=10.0.0.1  dst=..." must
	// yield an address that matches.
	for ve > vs && isBlank(x.ext[ve-1]) {
		ve--
	}
	x.raw = x.ext[vs:ve]
	x.k, x.eq = k, eq
	return true
}

// Key returns the current pair's key.
func (x *Extensions) Key() []byte { return x.key }

// Raw returns the current pair's value as it appears in the line, still
// escaped, without trailing blanks (space, tab, CR, LF); leading blanks are
// kept. It is empty, not nil, for "key=".
func (x *Extensions) Raw() []byte { return x.raw }

// AppendValue appends the current pair's unescaped value to dst.
func (x *Extensions) AppendValue(dst []byte) []byte { return AppendUnescapedValue(dst, x.raw) }

// Pairs returns an iterator over the unescaped pairs of ext. Keys, and
// values without escapes, alias ext; each unescaped value is a new slice.
// It allocates, so Parse does not use it.
func Pairs(ext []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		x := ScanExtensions(ext)
		for x.Next() {
			v := x.Raw()
			if bytes.IndexByte(v, '\\') >= 0 {
				v = x.AppendValue(nil)
			}
			if !yield(x.Key(), v) {
				return
			}
		}
	}
}

// findKey returns the start of the first key at or after i in s, and the
// index of the '=' ending it; (-1, -1) if there is none. A key is a
// non-empty run of key bytes that starts s or follows a space and is
// followed by '='.
func findKey(s []byte, i int) (k, eq int) {
	// Jump to each '=' and look back for its key: a key run ends at a
	// byte that is not a key byte, and '=' is not one, so every byte is
	// looked back over at most once.
	for from := i; ; {
		e := bytes.IndexByte(s[from:], '=')
		if e < 0 {
			return -1, -1
		}
		e += from
		k := e
		for k > i && keyByte[s[k-1]] {
			k--
		}
		if k < e && (k == 0 || s[k-1] == ' ') {
			return k, e
		}
		from = e + 1
	}
}

// keyByte reports the bytes allowed in an extension key.
var keyByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_.[]-" {
		t[c] = true
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// AppendUnescapedHeader appends the header field raw to dst with "\|" and
// "\\" decoded; any other backslash is kept. It is linear in len(raw) and
// allocates only when dst must grow.
func AppendUnescapedHeader(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 || i+1 == len(raw) {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		switch c := raw[i+1]; c {
		case '|', '\\':
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', c)
		}
		raw = raw[i+2:]
	}
}

// AppendUnescapedValue appends the extension value raw to dst with "\=",
// "\\", "\|", "\n" and "\r" decoded; any other backslash is kept, so a
// Windows path written without escaping ("C:\Temp") survives. It is linear
// in len(raw) and allocates only when dst must grow.
func AppendUnescapedValue(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 || i+1 == len(raw) {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		switch c := raw[i+1]; c {
		case '=', '\\', '|':
			dst = append(dst, c)
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		default:
			dst = append(dst, '\\', c)
		}
		raw = raw[i+2:]
	}
}

// Parse resets dst and fills it with the CEF record in line: the header
// fields, the extension pairs (filed under the CommonSecurityLog column
// ColumnName reports, or in dst.Extra under their CEF key when it reports
// none), the table and the event time.
//
// The event time is that of the first of rt, start and end (or their full
// names) that evtime.Parse accepts (epoch seconds or milliseconds, RFC 3339,
// "Jan 02 2006 15:04:05" with an optional zone, no zone meaning UTC); dst.Time and dst.HasTime are set from it
// and TimeGenerated holds its text. When none parses, HasTime is false and
// TimeGenerated holds the text of the first one present: an unparseable
// time is not an error.
//
// Values alias line or dst.Buf (unescaped values), and Extra names may
// alias read-only package data, so dst is valid until the next Parse into
// it or until line is reused; callers must not modify them. dst.Buf is
// grown at most once per call, to len(line), so that earlier slices into it
// stay valid. With a reused dst Parse does not allocate. When a key repeats,
// a column takes the last value while Extra keeps every pair.
//
// Parse returns ErrNotCEF or a *ParseError as ParseHeader does, leaving dst
// reset. It is linear in len(line) and safe for concurrent use with distinct
// dst.
func Parse(dst *matcher.Event, line []byte) error {
	dst.Reset()
	h, err := ParseHeader(line)
	if err != nil {
		return err
	}
	p := parser{e: dst, n: len(line)}
	dst.Table = matcher.CommonSecurityLog
	dst.Set(matcher.CEFVersion, h.Version)
	dst.Set(matcher.DeviceVendor, p.header(h.DeviceVendor))
	dst.Set(matcher.DeviceProduct, p.header(h.DeviceProduct))
	dst.Set(matcher.DeviceVersion, p.header(h.DeviceVersion))
	dst.Set(matcher.DeviceEventClassID, p.header(h.DeviceEventClassID))
	dst.Set(matcher.Activity, p.header(h.Name))
	dst.Set(matcher.LogSeverity, p.header(h.Severity))

	var times [numTimeKinds][]byte
	x := ScanExtensions(h.Extension)
	for x.Next() {
		key := x.Key()
		v := p.value(x.Raw())
		c, ok := columns[string(key)]
		if (!ok || c.field == matcher.FieldNone) && len(dst.Extra) == matcher.MaxExtra {
			dst.Reset()
			return newParseError(line, len(line)-len(h.Extension), "extension", msgTooManyExtensions)
		}
		switch {
		case !ok:
			dst.Extra = append(dst.Extra, matcher.KV{Name: key, Value: v})
		case c.field != matcher.FieldNone:
			dst.Set(c.field, v)
		default:
			dst.Extra = append(dst.Extra, matcher.KV{Name: c.name, Value: v})
		}
		if ok && c.time != timeNone {
			times[c.time-1] = v
		}
	}

	var first []byte
	for _, v := range times {
		if len(v) == 0 {
			continue
		}
		if first == nil {
			first = v
		}
		if ns, ok := evtime.Parse(v); ok {
			dst.Time, dst.HasTime, first = ns, true, v
			break
		}
	}
	if first != nil {
		dst.Set(matcher.TimeGenerated, first)
	}
	return nil
}

// parser holds the per-call state of Parse.
type parser struct {
	e     *matcher.Event
	n     int  // len(line): the most unescaped bytes one line can produce
	sized bool // e.Buf has been checked for capacity n
}

func (p *parser) header(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	start := p.reserve()
	p.e.Buf = AppendUnescapedHeader(p.e.Buf, raw)
	return p.done(start)
}

func (p *parser) value(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	start := p.reserve()
	p.e.Buf = AppendUnescapedValue(p.e.Buf, raw)
	return p.done(start)
}

// reserve makes sure e.Buf can take the unescaped text of the whole line
// and returns where the next text starts. Unescaping never lengthens text
// and the header fields and values are disjoint parts of the line, so a Buf
// of capacity len(line) holds all of them and append never moves it: the
// slices handed out earlier stay valid.
func (p *parser) reserve() int {
	if !p.sized {
		if cap(p.e.Buf) < p.n {
			p.e.Buf = make([]byte, 0, p.n)
		}
		p.sized = true
	}
	return len(p.e.Buf)
}

// done returns the text appended to e.Buf since start, capped so that an
// append by the caller cannot overwrite what follows.
func (p *parser) done(start int) []byte {
	end := len(p.e.Buf)
	return p.e.Buf[start:end:end]
}
