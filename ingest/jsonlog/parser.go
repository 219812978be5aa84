package jsonlog

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// DefaultMaxDepth is the nesting limit of a Parser built without MaxDepth.
const DefaultMaxDepth = 512

// categoryPrefix starts the category of a Defender streaming record.
const categoryPrefix = "AdvancedHunting-"

// Opt configures a Parser.
type Opt func(*Parser)

// MaxDepth sets how deeply objects and arrays may nest in a line, counting
// the line's own object as 1 (a records envelope puts each record at 3 and
// its properties at 4). A deeper line is a *SyntaxError. n < 1 selects
// DefaultMaxDepth.
func MaxDepth(n int) Opt {
	return func(p *Parser) { p.maxDepth = n }
}

// Parser parses JSON log lines into matcher.Event. Reset it with a line, then
// call Next until it reports ok == false.
//
// The zero value is a Parser with no default table and DefaultMaxDepth. A
// Parser is not safe for concurrent use; use one per goroutine. It keeps a
// reference to the line until the next Reset.
type Parser struct {
	defaultTable matcher.Table
	maxDepth     int

	line  []byte // as given to Reset, up to its trailing whitespace
	state uint8
	multi bool
	pos   int // in stateRecords: where the records array continues
	index int // index of the next record of an envelope

	fail scanFail

	// Per-record scratch: the table member (Type or category), the
	// envelope's time, the last "records" array and the properties state.
	table     []byte
	tableKind kind
	time      []byte
	timeKind  kind
	recordsAt int
	props     kind
	// tooMany is set when the record has more than matcher.MaxExtra
	// Extra members or UrlChain URLs; the rest are not kept.
	tooMany bool

	// stack holds one bit per nesting level for skip: set for objects.
	// The inline array covers DefaultMaxDepth.
	stack    []uint64
	stackBuf [(DefaultMaxDepth + 63) / 64]uint64
}

const (
	stateDone    = iota // no more records in the line
	stateStart          // Reset was called, Next was not
	stateRecords        // inside an envelope's records array
)

// NewParser returns a Parser that gives the records that name no table the
// table defaultTable. With TableUnknown, or a value that is not a table,
// such records are *RecordErrors.
func NewParser(defaultTable matcher.Table, opts ...Opt) *Parser {
	if defaultTable.String() == "" {
		defaultTable = matcher.TableUnknown
	}
	p := &Parser{defaultTable: defaultTable}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Reset starts parsing one line. The line may carry leading and trailing
// whitespace, including the \r of a CRLF line ending. Parsed values alias the
// line, so the caller must not modify it while it uses the Events parsed from
// it. Reset does no work beyond remembering the line.
func (p *Parser) Reset(line []byte) {
	p.line = line
	p.state = stateStart
	p.multi = false
	p.pos, p.index = 0, 0
}

// Multi reports whether the current line is a records envelope, whose
// records the caller numbers from 0 in its diagnostics. It is valid after
// the line's first call to Next; before it, and for a line that is not valid
// JSON, it reports false.
func (p *Parser) Multi() bool { return p.multi }

// Next parses the line's next record into dst, which it resets first.
//
// The results mean:
//
//   - ok && err == nil: dst holds the next record.
//   - ok && err != nil: err is a *RecordError; that record was skipped and
//     dst holds nothing useful. Count a reject and call Next again: the
//     line's other records, if any, are still to come (after the only
//     record of a line that is not an envelope, the next call reports the
//     end).
//   - !ok && err != nil: err is a *SyntaxError; the line is not valid JSON
//     (or nests deeper than the limit) and yields no record at all, even
//     for an envelope whose first records are well formed. Later calls
//     report !ok with a nil error.
//   - !ok && err == nil: the line has no more records. A line of only
//     whitespace has none.
//
// So a caller counts a reject whenever err != nil and stops when !ok.
//
// dst's values, Chain and Extra alias the line or dst.Buf, which Next sizes
// once to the line's length and grows again only for a UrlChain string whose
// URLs need decoding twice; they stay valid until the next Next into dst or
// reset of dst, or until the line is modified. Next does not allocate once the Parser and dst have grown to
// the input, except to build a returned error. Its cost is linear in the
// line: a records envelope is scanned twice, other lines once.
func (p *Parser) Next(dst *matcher.Event) (ok bool, err error) {
	switch p.state {
	case stateStart:
		return p.first(dst)
	case stateRecords:
		return p.nextRecord(dst)
	}
	return false, nil
}

// first parses a line as one record, which validates the whole line, and
// switches to the records of an envelope when it finds one.
func (p *Parser) first(dst *matcher.Event) (bool, error) {
	p.state = stateDone
	if p.maxDepth < 1 {
		p.maxDepth = DefaultMaxDepth
	}
	if len(p.stack) <= len(p.stackBuf) {
		p.stack = p.stackBuf[:] // also after a copy of the Parser
	}
	p.fail = scanFail{}
	b := p.line
	end := len(b)
	for end > 0 && isSpace[b[end-1]] {
		end--
	}
	b = b[:end]
	p.line = b
	i := skipSpace(b, 0)
	if i == len(b) {
		return false, nil
	}
	p.resetRecord(dst)
	if b[i] != '{' {
		if i = p.skip(b, i, 0); i < 0 {
			return false, p.syntaxError()
		}
		if i = skipSpace(b, i); i != len(b) {
			return false, p.syntaxErrorAt(i, msgTrailing)
		}
		return true, &RecordError{Index: 0, Msg: "record is not a JSON object"}
	}
	p.recordsAt = -1
	if i = p.columns(dst, b, i, 0, true); i < 0 {
		return false, p.syntaxError()
	}
	if i = skipSpace(b, i); i != len(b) {
		return false, p.syntaxErrorAt(i, msgTrailing)
	}
	if p.recordsAt >= 0 {
		p.multi = true
		p.state = stateRecords
		p.pos = p.recordsAt + 1
		return p.nextRecord(dst)
	}
	return p.finish(dst, 0, "Type")
}

// nextRecord parses the next element of an envelope's records array. first
// has validated the line, so the failures here cannot happen; they are
// reported as syntax errors rather than trusted away.
func (p *Parser) nextRecord(dst *matcher.Event) (bool, error) {
	b := p.line
	i := skipSpace(b, p.pos)
	if i < len(b) && b[i] == ']' {
		p.state = stateDone
		return false, nil
	}
	if p.index > 0 {
		if i >= len(b) || b[i] != ',' {
			p.state = stateDone
			return false, p.syntaxErrorAt(i, msgArrayNext)
		}
		i = skipSpace(b, i+1)
	}
	index := p.index
	p.index++
	p.resetRecord(dst)
	if i >= len(b) || b[i] != '{' {
		if i = p.skip(b, i, 2); i < 0 {
			p.state = stateDone
			return false, p.syntaxError()
		}
		p.pos = i
		return true, &RecordError{Index: index, Msg: "record is not a JSON object"}
	}
	if i = p.envelopeRecord(dst, b, i); i < 0 {
		p.state = stateDone
		return false, p.syntaxError()
	}
	p.pos = i
	if p.props != kindObject {
		return true, &RecordError{Index: index, Msg: `record has no "properties" object`}
	}
	return p.finish(dst, index, "category")
}

// resetRecord empties dst for the next record, sizes its Buf so that
// unescaped strings fit without moving, and clears the record scratch.
func (p *Parser) resetRecord(dst *matcher.Event) {
	dst.Reset()
	if n := len(p.line); cap(dst.Buf) < n {
		dst.Buf = make([]byte, 0, max(n, 2*cap(dst.Buf)))
	}
	p.table, p.tableKind = nil, kindAbsent
	p.time, p.timeKind = nil, kindAbsent
	p.props = kindAbsent
	p.tooMany = false
}

// finish sets the record's table and time. member names the member the table
// came from, for the error message.
func (p *Parser) finish(dst *matcher.Event, index int, member string) (bool, error) {
	if p.tooMany {
		return true, &RecordError{Index: index, Msg: msgTooMany}
	}
	t := p.defaultTable
	name := p.table
	switch p.tableKind {
	case kindAbsent, kindNull:
	case kindString:
		if member == "category" && len(name) >= len(categoryPrefix) && bytes.EqualFold(name[:len(categoryPrefix)], []byte(categoryPrefix)) {
			name = name[len(categoryPrefix):]
		}
		if len(p.table) > 0 {
			t = matcher.ParseTable(name)
		}
	default:
		t = matcher.TableUnknown
	}
	if t == matcher.TableUnknown {
		msg := "no known table: record names none and there is no default table"
		if p.tableKind != kindAbsent && p.tableKind != kindNull && len(p.table) > 0 {
			msg = "no known table: " + member + " " + quote(p.table)
		}
		return true, &RecordError{Index: index, Msg: msg}
	}
	dst.Table = t

	var when []byte
	switch {
	case t == matcher.CommonSecurityLog:
		when = dst.Get(matcher.TimeGenerated)
	case dst.Has(matcher.Timestamp):
		when = dst.Get(matcher.Timestamp)
	case dst.Has(matcher.TimeGenerated):
		when = dst.Get(matcher.TimeGenerated)
	case p.timeKind != kindAbsent && p.timeKind != kindNull:
		when = p.time
	}
	if when != nil {
		dst.Time, dst.HasTime = evtime.Parse(when)
		if !dst.HasTime {
			dst.Time = 0
		}
	}
	return true, nil
}

// columns parses the object at b[i] == '{' as columns of dst: known columns
// with dst.Set, the others into dst.Extra. depth is the depth of the object's
// container. top marks the line's own object, whose Type member names the
// table and whose "records" array makes the line an envelope.
func (p *Parser) columns(dst *matcher.Event, b []byte, i, depth int, top bool) int {
	depth++
	if depth > p.maxDepth {
		return p.failAt(i, msgDeep)
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return p.failAt(i, msgName)
		}
		var name []byte
		if name, i = p.str(dst, b, i); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return p.failAt(i, msgColon)
		}
		i = skipSpace(b, i+1)
		start := i
		var v []byte
		var k kind
		if v, k, i = p.value(dst, b, i, depth); i < 0 {
			return -1
		}
		p.column(dst, name, v, k, depth)
		if top {
			if string(name) == "Type" {
				p.table, p.tableKind = v, k
			} else if string(name) == "records" {
				p.recordsAt = -1
				if k == kindArray {
					p.recordsAt = start
				}
			}
		}
		if i = skipSpace(b, i); i >= len(b) {
			return p.failAt(i, msgEOF)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return p.failAt(i, msgObjectNext)
		}
	}
}

// column stores one member of a columns object. Later members win over
// earlier ones of the same known column; Extra keeps every non-null member.
func (p *Parser) column(dst *matcher.Event, name, v []byte, k kind, depth int) {
	f := matcher.LookupField(name)
	switch {
	case f == matcher.UrlChain:
		dst.Chain = dst.Chain[:0]
		dst.Set(f, v) // nil for null
		p.chain(dst, v, k, depth)
	case f != matcher.FieldNone:
		dst.Set(f, v)
	case k != kindNull:
		if len(dst.Extra) == matcher.MaxExtra {
			p.tooMany = true
			return
		}
		dst.Extra = append(dst.Extra, matcher.KV{Name: name, Value: v})
	}
}

// chain appends the URLs of a UrlChain value to dst.Chain: the string
// elements of an array, the string elements of a string that holds a JSON
// array (as Log Analytics exports dynamic columns), or a non-empty string
// that holds anything else as the single URL. Other elements and values
// carry no URL.
func (p *Parser) chain(dst *matcher.Event, v []byte, k kind, depth int) {
	switch k {
	case kindArray:
		p.elements(dst, v, depth)
	case kindString:
		if i := skipSpace(v, 0); i < len(v) && v[i] == '[' {
			saved := p.fail
			end := p.skip(v, i, 0)
			p.fail = saved
			if end >= 0 && skipSpace(v, end) == len(v) {
				p.elements(dst, v[i:end], 0)
				return
			}
		}
		if len(v) > 0 {
			p.appendChain(dst, v)
		}
	}
}

// appendChain appends a URL to dst.Chain, up to matcher.MaxExtra of them.
func (p *Parser) appendChain(dst *matcher.Event, url []byte) {
	if len(dst.Chain) == matcher.MaxExtra {
		p.tooMany = true
		return
	}
	dst.Chain = append(dst.Chain, url)
}

// elements appends the string elements of the validated array a to dst.Chain.
// depth is the depth of a's container.
func (p *Parser) elements(dst *matcher.Event, a []byte, depth int) {
	i := skipSpace(a, 1)
	for i < len(a) && a[i] != ']' {
		if a[i] == '"' {
			var s []byte
			if s, i = p.str(dst, a, i); i < 0 {
				return
			}
			p.appendChain(dst, s)
		} else if i = p.skip(a, i, depth+1); i < 0 {
			return
		}
		if i = skipSpace(a, i); i < len(a) && a[i] == ',' {
			i = skipSpace(a, i+1)
		}
	}
}

// envelopeRecord parses the record object at b[i] == '{' of an envelope: its
// properties become dst's columns, its category and time go to the scratch,
// and its other members are skipped. A repeated member replaces the earlier
// one, as for columns.
func (p *Parser) envelopeRecord(dst *matcher.Event, b []byte, i int) int {
	const depth = 3 // line object, records array, record
	if depth > p.maxDepth {
		return p.failAt(i, msgDeep) // unreachable: first checked the line
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return p.failAt(i, msgName)
		}
		var name []byte
		if name, i = p.str(dst, b, i); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return p.failAt(i, msgColon)
		}
		i = skipSpace(b, i+1)
		switch {
		case string(name) == "properties":
			p.clearColumns(dst)
			if i < len(b) && b[i] == '{' {
				p.props = kindObject
				i = p.columns(dst, b, i, depth, false)
			} else {
				_, p.props, i = p.value(dst, b, i, depth)
			}
		case string(name) == "category":
			p.table, p.tableKind, i = p.value(dst, b, i, depth)
		case string(name) == "time":
			p.time, p.timeKind, i = p.value(dst, b, i, depth)
		default:
			i = p.skip(b, i, depth)
		}
		if i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) {
			return p.failAt(i, msgEOF)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return p.failAt(i, msgObjectNext)
		}
	}
}

// clearColumns drops the columns parsed so far but keeps dst.Buf, which the
// record scratch may still reference.
func (p *Parser) clearColumns(dst *matcher.Event) {
	buf := dst.Buf
	dst.Reset()
	dst.Buf = buf
}

// value scans the value at b[i] and returns it as a column holds it: a
// string decoded, other types as their JSON text, null as nil.
func (p *Parser) value(dst *matcher.Event, b []byte, i, depth int) (v []byte, k kind, next int) {
	if i >= len(b) {
		return nil, kindAbsent, p.failAt(i, msgEOF)
	}
	switch c := b[i]; c {
	case '"':
		v, next = p.str(dst, b, i)
		return v, kindString, next
	case '{', '[':
		k = kindObject
		if c == '[' {
			k = kindArray
		}
		next = p.skip(b, i, depth)
	case 't':
		k, next = kindBool, p.scanLiteral(b, i, "true")
	case 'f':
		k, next = kindBool, p.scanLiteral(b, i, "false")
	case 'n':
		return nil, kindNull, p.scanLiteral(b, i, "null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return nil, kindAbsent, p.failAt(i, msgValue)
		}
		k, next = kindNumber, p.scanNumber(b, i)
	}
	if next < 0 {
		return nil, kindAbsent, -1
	}
	return b[i:next:next], k, next
}

// str scans the string at b[i] == '"' and returns its decoded body: a slice
// of b when it holds no escape, else a slice of dst.Buf. The slice's capacity
// ends with it, so appending to it cannot overwrite what follows.
func (p *Parser) str(dst *matcher.Event, b []byte, i int) ([]byte, int) {
	next, escaped := p.scanString(b, i)
	if next < 0 {
		return nil, -1
	}
	if !escaped {
		return b[i+1 : next-1 : next-1], next
	}
	start := len(dst.Buf)
	dst.Buf = appendUnescaped(dst.Buf, b[i+1:next-1])
	return dst.Buf[start:len(dst.Buf):len(dst.Buf)], next
}

func (p *Parser) syntaxError() error {
	return p.syntaxErrorAt(p.fail.at, p.fail.msg)
}

func (p *Parser) syntaxErrorAt(at int, msg string) error {
	switch {
	case msg == msgDeep:
		msg = fmt.Sprintf("nesting deeper than %d", p.maxDepth)
	case msg == "":
		msg = "invalid JSON" // unreachable: every failure has a message
	}
	if at < len(p.line) {
		msg += " at " + quote(p.line[at:])
	}
	return &SyntaxError{Offset: at, Msg: msg}
}

// quoteMax bounds how much input an error message quotes.
const quoteMax = 40

// quote returns b as a Go string literal, cut to quoteMax bytes with "..."
// appended when longer.
func quote(b []byte) string {
	if len(b) > quoteMax {
		return strconv.Quote(string(b[:quoteMax]) + "...")
	}
	return strconv.Quote(string(b))
}

// SyntaxError reports a line that is not valid JSON, or that nests deeper
// than the Parser's limit. It concerns the whole line: none of its records
// were parsed.
type SyntaxError struct {
	Offset int    // byte offset in the line given to Reset
	Msg    string // what is wrong, quoting the input at Offset
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// RecordError reports a record of a valid JSON line that cannot be parsed as
// an event: its table is unknown, or it is not an object.
type RecordError struct {
	Index int    // the record's index in its envelope; 0 on a one-record line
	Msg   string // what is wrong, quoting the input
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d: %s", e.Index, e.Msg)
}
