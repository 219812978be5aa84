package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/matchd/matchd/matcher"
)

// Options configures Load and Parse. The zero value is ready to use.
type Options struct {
	// Now is the time STIX valid_until is compared with: an indicator valid
	// until Now or earlier is skipped as expired. Zero means the time of the
	// Load or Parse call, read once there; the parsers never read the clock.
	Now time.Time
}

// Feed is one parsed feed file.
//
// A Feed is not modified after Parse returns and may be read concurrently.
type Feed struct {
	Path   string // as given to Load or Parse
	Format string // see the Format constants

	// Indicators holds one indicator per canonical Value (and Type), in the
	// order of first appearance; repeats within the feed are merged with
	// (*matcher.Indicator).Merge.
	Indicators []matcher.Indicator

	// Bad holds the first maxCollected bad entries; BadCount counts all.
	Bad      []*EntryError
	BadCount int

	// Skipped counts entries left out on purpose, by reason: "revoked",
	// "expired" (STIX), "unrepresentable" (a STIX pattern that is not a
	// disjunction of values, or another pattern language). Nil when none
	// was. A pattern whose OR branches are partly representable still yields
	// its representable indicators and is counted here once.
	Skipped map[string]int

	// Unrepresentable says, for the first maxCollected entries counted as
	// Skipped["unrepresentable"], where they are and why.
	Unrepresentable []*EntryError

	// Warnings holds the first maxCollected hygiene warnings (see Hygiene)
	// and repairs (a masked CIDR, an unreadable time or confidence);
	// WarningCount counts all.
	Warnings     []Warning
	WarningCount int
}

// Format names, as found in Feed.Format.
const (
	FormatPlain          = "plain"
	FormatDocument       = "document"
	FormatThreatFoxCSV   = "threatfox-csv"
	FormatThreatFoxJSON  = "threatfox-json"   // full export: id → records
	FormatThreatFoxAPI   = "threatfox-api"    // {"query_status":…,"data":[…]}
	FormatThreatFoxLines = "threatfox-ndjson" // one record a line
	FormatURLhausCSV     = "urlhaus-csv"
	FormatURLhausJSON    = "urlhaus-json"
	FormatURLhausLines   = "urlhaus-ndjson"
	FormatSTIX           = "stix"
)

// Source names of the feeds that name themselves.
const (
	SourceThreatFox = "ThreatFox"
	SourceURLhaus   = "URLhaus"
)

// maxCollected caps Feed.Bad, Feed.Unrepresentable and Feed.Warnings, so
// that a feed of garbage costs bounded memory; the counts stay exact.
const maxCollected = 1000

// EntryError is a bad entry: a value that does not parse, an unknown type, a
// malformed line or record. It is counted and collected, never fatal.
type EntryError struct {
	Path string
	Line int // 1-based; for JSON, the line where the record starts
	Msg  string
}

func (e *EntryError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg) }

// FeedError is a fatal error for a whole feed: it cannot be read, its format
// is not recognised, or it holds no indicator. Err may be ErrUnknownFormat or
// ErrNoIndicators (check with errors.Is) or an error from reading the file.
type FeedError struct {
	Path string
	Err  error
}

func (e *FeedError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FeedError) Unwrap() error { return e.Err }

var (
	// ErrUnknownFormat is a feed in none of the formats, such as binary
	// content or JSON of an unknown shape.
	ErrUnknownFormat = errors.New("unrecognised feed format")
	// ErrNoIndicators is a feed that parsed but yielded no indicator.
	ErrNoIndicators = errors.New("no indicators")
)

// Warning is a hygiene warning about one indicator, or a note about a repair
// made while reading it.
type Warning struct {
	Path  string
	Line  int
	Value string // the indicator's canonical value
	Msg   string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s: %s", w.Path, w.Line, w.Value, w.Msg) }

// Load reads and parses the feed file at path; see Parse.
func Load(path string, opt Options) (*Feed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is FeedError's
		}
		return nil, &FeedError{Path: path, Err: fmt.Errorf("cannot read feed: %w", err)}
	}
	return Parse(path, data, opt)
}

// Parse parses the feed content data; name is the path used in messages and,
// by its base name, as the source of feeds that do not name one.
//
// On a fatal error Parse returns a *FeedError. When the error is
// ErrNoIndicators the returned Feed is non-nil too, so that its bad entries
// can be reported; otherwise it is nil. The Feed does not alias data.
//
// Parse is safe for concurrent use. It holds a copy of data while it runs,
// and its cost is linear in the size of data for every format.
func Parse(name string, data []byte, opt Options) (*Feed, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	b := newBuilder(name, now)
	// Size the tables once: at most one indicator a line (a few bytes
	// at least each), so large lists do not regrow them repeatedly.
	if hint := min(bytes.Count(data, []byte{'\n'})+1, len(data)/8); hint > 1024 {
		b.feed.Indicators = make([]matcher.Indicator, 0, hint)
		b.index.init(hint)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := b.parse(string(data)); err != nil {
		if what := looksLikeLog(data); what != "" {
			err = fmt.Errorf("%w: it looks like %s, not a threat feed", err, what)
		}
		return nil, &FeedError{Path: name, Err: err}
	}
	b.finish()
	f := b.feed
	if len(f.Indicators) == 0 {
		err := ErrNoIndicators
		if f.BadCount > 0 || len(f.Skipped) > 0 {
			err = fmt.Errorf("%w (%d bad entries, %d skipped)", ErrNoIndicators, f.BadCount, sumValues(f.Skipped))
		}
		if what := looksLikeLog(data); what != "" {
			err = fmt.Errorf("%w: it looks like %s, not a threat feed", err, what)
		}
		return f, &FeedError{Path: name, Err: err}
	}
	return f, nil
}

// looksLikeLog says what kind of log data's first non-blank line is — "a
// CEF log" or "log records" (JSON naming a Sentinel table or a
// records envelope) — or "" if it looks like neither. It is asked only of
// a feed without indicators, to say why.
func looksLikeLog(data []byte) string {
	line := data
	for len(line) > 0 {
		var rest []byte
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, rest = line[:i], line[i+1:]
		}
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
		line = rest
	}
	switch {
	case bytes.Contains(line, []byte("CEF:")):
		return "a CEF log"
	case bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")):
		for _, m := range []string{`"records"`, `"TimeGenerated"`, `"Timestamp"`, `"CommonSecurityLog"`, `"DeviceNetworkEvents"`, `"UrlClickEvents"`} {
			if bytes.Contains(line, []byte(m)) {
				return "log records"
			}
		}
	}
	return ""
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// parse sniffs the format of s and parses it.
func (b *builder) parse(s string) error {
	head := s[:min(len(s), 8192)]
	if strings.IndexByte(head, 0) >= 0 {
		return fmt.Errorf("%w: binary content (compressed or not a feed?)", ErrUnknownFormat)
	}
	t := strings.TrimLeft(s, " \t\r\n")
	if t != "" && (t[0] == '{' || t[0] == '[' && looksLikeJSONArray(t)) {
		return b.parseJSON(s)
	}
	if h, ok := findCSVHeader(s); ok {
		return b.parseCSV(s, h)
	}
	if isDocument(s) {
		b.feed.Format = FormatDocument
		b.parseDocument(s)
		return nil
	}
	b.feed.Format = FormatPlain
	b.parsePlain(s)
	return nil
}

// looksLikeJSONArray tells a JSON array from a plain list whose first line
// is a bracketed IPv6 address ("[2001:db8::1]:443").
func looksLikeJSONArray(t string) bool {
	rest := strings.TrimLeft(t[1:], " \t\r\n")
	return rest == "" || strings.IndexByte("{[]\"", rest[0]) >= 0
}

// builder accumulates one feed.
type builder struct {
	feed    *Feed
	source  string   // default source: the file's base name
	sources []string // []string{source}, shared by the indicators that have no other
	now     time.Time
	// index finds an indicator by its Type and Value (both are the key: a
	// value typed by its feed could in principle collide with another
	// type's value).
	index valueIndex
	meta  interner
	// hygiene holds the first maxCollected indicators that fail Hygiene,
	// in order, with the line of their first appearance, and hygieneMore
	// counts the others: the check runs as an indicator is added, while it
	// is in cache, and finish reports them after the other warnings.
	hygiene     []hygieneNote
	hygieneMore int
}

type hygieneNote struct {
	line int
	ind  int // index in feed.Indicators
	msg  string
}

func newBuilder(name string, now time.Time) *builder {
	source := filepath.Base(name)
	return &builder{
		feed:    &Feed{Path: name},
		source:  source,
		sources: []string{source},
		now:     now,
	}
}

// bad records a bad entry.
func (b *builder) bad(line int, format string, args ...any) {
	f := b.feed
	f.BadCount++
	if len(f.Bad) < maxCollected {
		f.Bad = append(f.Bad, &EntryError{Path: f.Path, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

func (b *builder) skip(reason string) {
	if b.feed.Skipped == nil {
		b.feed.Skipped = make(map[string]int)
	}
	b.feed.Skipped[reason]++
}

func (b *builder) unrepresentable(line int, msg string) {
	b.skip(skipUnrepresentable)
	if f := b.feed; len(f.Unrepresentable) < maxCollected {
		f.Unrepresentable = append(f.Unrepresentable, &EntryError{Path: f.Path, Line: line, Msg: msg})
	}
}

// Skip reasons, the keys of Feed.Skipped.
const (
	skipRevoked         = "revoked"
	skipExpired         = "expired"
	skipUnrepresentable = "unrepresentable"
)

func (b *builder) warn(line int, value, msg string) {
	f := b.feed
	f.WarningCount++
	if len(f.Warnings) < maxCollected {
		f.Warnings = append(f.Warnings, Warning{Path: f.Path, Line: line, Value: value, Msg: msg})
	}
}

// addValue parses raw as an indicator of type typ (TypeInvalid: detect) and
// adds it with the metadata of meta; a value that does not parse is a bad
// entry. notes, problems found in the entry's metadata, become warnings on
// the indicator. It reports whether an indicator was added.
func (b *builder) addValue(line int, raw string, typ matcher.IndicatorType, meta *matcher.Indicator, notes ...string) bool {
	in, note, err := parseValue(raw, typ)
	if err != nil {
		b.bad(line, "%v", err)
		return false
	}
	if note != "" {
		b.warn(line, in.Value, note)
	}
	for _, n := range notes {
		b.warn(line, in.Value, n)
	}
	// Metadata repeats across entries (a plain list has none but its
	// source): the indicators share one copy of each string and list.
	in.ThreatType = b.meta.str(meta.ThreatType)
	in.Malware = b.meta.str(meta.Malware)
	in.Confidence = meta.Confidence
	in.FirstSeen = meta.FirstSeen
	in.LastSeen = meta.LastSeen
	in.Tags = b.meta.list(meta.Tags)
	in.Reference = b.meta.str(meta.Reference)
	if len(meta.Sources) == 0 {
		in.Sources = b.meta.list(b.sources)
	} else {
		in.Sources = b.meta.list(meta.Sources)
	}
	b.add(line, in)
	return true
}

// add adds in, merging it into an earlier indicator with the same key.
func (b *builder) add(line int, in matcher.Indicator) {
	if i, ok := b.index.findOrAdd(b.feed.Indicators, in.Type, in.Value, len(b.feed.Indicators)); ok {
		b.feed.Indicators[i].Merge(&in)
		return
	}
	b.feed.Indicators = append(b.feed.Indicators, in)
	// Hygiene reads the Type, Value and address only, which merging a
	// repeat leaves as they are.
	if msg, ok := Hygiene(&in); !ok {
		if len(b.hygiene) < maxCollected {
			b.hygiene = append(b.hygiene, hygieneNote{line, len(b.feed.Indicators) - 1, msg})
		} else {
			b.hygieneMore++
		}
	}
}

// finish adds the hygiene warnings, once per indicator, at the line of its
// first appearance.
func (b *builder) finish() {
	for _, h := range b.hygiene {
		b.warn(h.line, b.feed.Indicators[h.ind].Value, h.msg)
	}
	b.feed.WarningCount += b.hygieneMore // past the cap of Warnings
}

// Merge folds the indicators of feeds into one list, one indicator per
// canonical Value (and Type), merged with (*matcher.Indicator).Merge in the
// order of feeds, in order of first appearance. Nil feeds are ignored. The
// feeds are not modified; the result may share memory with them (with a
// single feed it is that feed's clipped Indicators), so treat it as
// read-only. MergeSeq gives the same indicators without copying them.
func Merge(feeds ...*Feed) []matcher.Indicator {
	m := newMerger(feeds)
	if len(m.feeds) == 1 { // a feed holds each indicator once already
		return slices.Clip(m.feeds[0].Indicators)
	}
	out := make([]matcher.Indicator, 0, m.n)
	for in := range m.all {
		out = append(out, *in)
	}
	return out
}

// MergeSeq returns the number of indicators Merge would return and a
// sequence of them in the same order, for matcher.CompileSeq: the
// indicators of a type found in one feed only are yielded in place, and
// only those of a type found in several feeds are copied, to merge their
// repeats, so that large feeds are not copied whole. The feeds must not be
// modified while the sequence is in use; it may be ranged over more than
// once, and the indicators it yields must not be modified.
func MergeSeq(feeds ...*Feed) (int, iter.Seq[*matcher.Indicator]) {
	m := newMerger(feeds)
	return m.n, m.all
}

// merger holds what Merge and MergeSeq need beyond the feeds: the merged
// indicators of the types found in two or more feeds.
type merger struct {
	feeds  []*Feed // non-nil
	shared uint64  // bit t: type t is found in two or more feeds
	n      int     // indicators after merging
	// merged holds one indicator per Type and Value of the shared types,
	// in order of first appearance, merged with its repeats; dup[f] marks
	// the repeats in feeds[f] (nil when feed f has no shared type).
	merged []matcher.Indicator
	dup    [][]uint64
}

func newMerger(feeds []*Feed) *merger {
	m := &merger{}
	var seen uint64
	var count [64]int // indicators by type
	for _, f := range feeds {
		if f == nil {
			continue
		}
		m.feeds = append(m.feeds, f)
		m.n += len(f.Indicators)
		var mask uint64
		for i := range f.Indicators {
			t := f.Indicators[i].Type
			mask |= 1 << t
			if t < 64 {
				count[t]++
			}
		}
		m.shared |= seen & mask
		seen |= mask
	}
	if m.shared == 0 {
		return m
	}
	// Only a type found in two or more feeds can hold duplicates: index
	// those.
	shared := 0
	for t, c := range count {
		if m.shared&(1<<t) != 0 {
			shared += c
		}
	}
	var index valueIndex
	index.init(shared)
	m.merged = make([]matcher.Indicator, 0, shared)
	m.dup = make([][]uint64, len(m.feeds))
	for fi, f := range m.feeds {
		for i := range f.Indicators {
			in := &f.Indicators[i]
			if m.shared&(1<<in.Type) == 0 {
				continue
			}
			if j, ok := index.findOrAdd(m.merged, in.Type, in.Value, len(m.merged)); ok {
				m.merged[j].Merge(in)
				if m.dup[fi] == nil {
					m.dup[fi] = make([]uint64, (len(f.Indicators)+63)/64)
				}
				m.dup[fi][i/64] |= 1 << (i % 64)
				m.n--
				continue
			}
			m.merged = append(m.merged, *in)
		}
	}
	return m
}

// all yields the merged indicators in order.
func (m *merger) all(yield func(*matcher.Indicator) bool) {
	next := 0 // in merged
	for fi, f := range m.feeds {
		var dup []uint64
		if m.dup != nil {
			dup = m.dup[fi]
		}
		for i := range f.Indicators {
			in := &f.Indicators[i]
			if m.shared&(1<<in.Type) != 0 {
				if dup != nil && dup[i/64]&(1<<(i%64)) != 0 {
					continue
				}
				in = &m.merged[next]
				next++
			}
			if !yield(in) {
				return
			}
		}
	}
}

// lines iterates over the lines of s, 1-based, without their "\n" or
// "\r\n".
func lines(s string) func(yield func(int, string) bool) {
	return func(yield func(int, string) bool) {
		n := 0
		for len(s) > 0 {
			n++
			i := strings.IndexByte(s, '\n')
			var line string
			if i < 0 {
				line, s = s, ""
			} else {
				line, s = s[:i], s[i+1:]
			}
			if !yield(n, strings.TrimSuffix(line, "\r")) {
				return
			}
		}
	}
}
