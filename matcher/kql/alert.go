package kql

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"unsafe"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// AppendAlert appends the alert line (JSON and a newline) of rule id for
// the event of the last Match, which must have returned id: Table, the
// query's project list in order under its (renamed) names, Rule,
// Indicators, IndicatorSet (the feeds' Version, when the rule reads a
// matchd_* list and the version is set), AlertId and Origin.
//
// Values are typed as matcher's alerts type them (ports as numbers,
// IsClickedThrough as a boolean, times as RFC 3339 UTC, UrlChain as an
// array); other columns, Extra ones included, are strings, and an absent
// column is null. A query without project writes every column the record
// has: known columns in matcher.Field order, then the others in record
// order.
//
// Indicators lists the literals that made the predicate true: for every
// string, list and range operator on the path that made the predicate true
// (every operand of a true and, the true operands of an or, nothing under
// not()), each list entry or literal that holds, as
// {"Value","Field","List"} — List naming the let or matchd_* list it came
// from — and, for a feed indicator, its Type and feed metadata as feed
// alerts write them. Numeric, bool and isempty comparisons are conditions,
// not indicators.
//
// AlertId is a stable hash of the origin, the rule name and the
// indicators.
func (ev *Evaluator) AppendAlert(dst []byte, id RuleID, o *matcher.Origin) []byte {
	r := ev.r
	ru := &r.rules[id]
	e := ev.e
	ev.found = ev.found[:0]
	if ru.root != nil {
		ev.collect(ru.root)
		ev.found = ev.found[:dedupeRefs(ev.found)]
		r.sortIndicators(ev.found)
	}
	dst = append(dst, `{"Table":`...)
	dst = matcher.AppendJSONString(dst, e.Table.String())
	if ru.proj == nil {
		dst = appendAllColumns(dst, e)
	} else {
		for _, pc := range ru.proj {
			dst = append(dst, ',')
			dst = matcher.AppendJSONString(dst, pc.name)
			dst = append(dst, ':')
			dst = appendValue(dst, e, pc.col)
		}
	}
	dst = append(dst, `,"Rule":`...)
	dst = matcher.AppendJSONString(dst, ru.name)
	dst = append(dst, `,"Indicators":[`...)
	for i, f := range ev.found {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.appendIndicator(dst, f)
	}
	dst = append(dst, ']')
	if ru.feeds && r.feeds.Version != "" {
		dst = append(dst, `,"IndicatorSet":`...)
		dst = matcher.AppendJSONString(dst, r.feeds.Version)
	}
	dst = append(dst, `,"AlertId":"`...)
	dst = ev.appendAlertID(dst, ru, o)
	dst = append(dst, `","Origin":`...)
	dst = o.AppendJSON(dst)
	return append(dst, "}\n"...)
}

// collect appends to ev.found the entries of the true leaves that make n
// true; n is true.
func (ev *Evaluator) collect(n *node) {
	switch n.op {
	case nAnd:
		for _, k := range n.kids {
			ev.collect(k)
		}
	case nOr:
		for _, k := range n.kids {
			if ev.eval(k) == tru {
				ev.collect(k)
			}
		}
	case nLeaf:
		l := n.leaf
		if !l.report {
			return
		}
		if l.trigger {
			for _, h := range ev.hits {
				if h.leaf == l.id {
					ev.found = append(ev.found, h)
				}
			}
			return
		}
		ev.direct(l, l.col.value(ev.e), true)
	}
}

// sortIndicators orders indicators as feed alerts do, by field name and
// value, then by list name (insertion sort: no allocation, few entries).
func (r *Rules) sortIndicators(a []ref) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && r.indicatorLess(a[j], a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (r *Rules) indicatorLess(x, y ref) bool {
	lx, ly := r.leafs[x.leaf], r.leafs[y.leaf]
	if lx.col.name != ly.col.name {
		return lx.col.name < ly.col.name
	}
	ex, ey := &lx.entries[x.entry], &ly.entries[y.entry]
	if vx, vy := r.entryValue(ex), r.entryValue(ey); string(vx) != string(vy) {
		return string(vx) < string(vy)
	}
	return ex.list < ey.list
}

// entryValue is the value an indicator reports: the literal, or the feed
// indicator's canonical value.
func (r *Rules) entryValue(en *entry) []byte {
	if en.feed >= 0 {
		return r.feeds.Value(uint32(en.feed))
	}
	return unsafe.Slice(unsafe.StringData(en.lit), len(en.lit)) // read only
}

func (r *Rules) appendIndicator(dst []byte, f ref) []byte {
	l := r.leafs[f.leaf]
	en := &l.entries[f.entry]
	dst = append(dst, `{"Value":`...)
	if en.feed >= 0 {
		dst = matcher.AppendJSONString(dst, r.feeds.Value(uint32(en.feed)))
		dst = append(dst, `,"Type":"`...)
		dst = append(dst, r.feeds.Type(uint32(en.feed)).String()...)
		dst = append(dst, '"')
	} else {
		dst = matcher.AppendJSONString(dst, en.lit)
	}
	dst = append(dst, `,"Field":`...)
	dst = matcher.AppendJSONString(dst, l.col.name)
	if en.list != "" {
		dst = append(dst, `,"List":`...)
		dst = matcher.AppendJSONString(dst, en.list)
	}
	if en.feed >= 0 {
		return r.feeds.AppendIndicatorDetails(dst, uint32(en.feed))
	}
	return append(dst, '}')
}

// appendAlertID appends the first 16 bytes, in hex, of the SHA-256 of the
// origin, the rule name and the (field, value) pairs of the indicators.
func (ev *Evaluator) appendAlertID(dst []byte, ru *rule, o *matcher.Origin) []byte {
	var buf [512]byte
	b := o.AppendJSON(buf[:0])
	b = append(b, 0)
	b = append(b, ru.name...)
	for _, f := range ev.found {
		l := ev.r.leafs[f.leaf]
		en := &l.entries[f.entry]
		b = append(b, 0)
		b = append(b, l.col.name...)
		b = append(b, 0)
		if en.feed >= 0 {
			b = append(b, ev.r.feeds.Value(uint32(en.feed))...)
		} else {
			b = append(b, en.lit...)
		}
	}
	sum := sha256.Sum256(b)
	return hex.AppendEncode(dst, sum[:16])
}

func appendValue(dst []byte, e *matcher.Event, c colRef) []byte {
	if c.field != matcher.FieldNone {
		return matcher.AppendValue(dst, e, c.field)
	}
	v := c.value(e)
	if v == nil {
		return append(dst, "null"...)
	}
	return matcher.AppendJSONString(dst, v)
}

func appendAllColumns(dst []byte, e *matcher.Event) []byte {
	for f := matcher.Field(1); f < matcher.NumFields; f++ {
		if !e.Has(f) && !(f == matcher.UrlChain && len(e.Chain) > 0) {
			continue
		}
		dst = append(dst, ',')
		dst = matcher.AppendJSONString(dst, f.String())
		dst = append(dst, ':')
		dst = matcher.AppendValue(dst, e, f)
	}
	// The last value of a repeated name wins, as for known columns. Few
	// extra columns: compare with the later ones; many (up to
	// matcher.MaxExtra): index the last position of each name instead of
	// a quadratic scan.
	var last map[string]int
	if len(e.Extra) > 32 {
		last = make(map[string]int, len(e.Extra))
		for i, kv := range e.Extra {
			last[string(kv.Name)] = i
		}
	}
	for i, kv := range e.Extra {
		dup := false
		if last != nil {
			dup = last[string(kv.Name)] != i
		} else {
			for _, later := range e.Extra[i+1:] {
				dup = dup || string(later.Name) == string(kv.Name)
			}
		}
		if dup {
			continue
		}
		dst = append(dst, ',')
		dst = matcher.AppendJSONString(dst, kv.Name)
		dst = append(dst, ':')
		dst = matcher.AppendJSONString(dst, kv.Value)
	}
	return dst
}

// Ordered reports whether rule id has an order by or a take, whose alerts
// a replay must hold back until the input ends.
func (r *Rules) Ordered(id RuleID) bool {
	ru := &r.rules[id]
	return len(ru.order) > 0 || ru.take >= 0
}

// Take returns the take row count of rule id, -1 when it has none.
func (r *Rules) Take(id RuleID) int64 { return r.rules[id].take }

// AppendSortKey appends the sort key of e under rule id's order by: keys
// of two events compare with bytes.Compare as the query orders them (ties
// compare equal, so a stable sort keeps input order). It appends nothing
// for a rule without order by.
//
// Each key column is typed as AppendAlert types it: times (TimeGenerated,
// Timestamp) by instant, ports and IsClickedThrough as numbers, other
// columns as strings in byte order; a value that does not parse as its
// type, or is absent, is null, placed per the key's nulls first/last.
func (r *Rules) AppendSortKey(dst []byte, e *matcher.Event, id RuleID) []byte {
	for _, k := range r.rules[id].order {
		start := len(dst)
		v := k.col.value(e)
		var num uint64
		isNum := true
		ok := v != nil
		switch colKind(k.col) {
		case kindTime:
			var ns int64
			ns, ok = evtime.Parse(v)
			num = uint64(ns) ^ 1<<63
		case kindNum:
			var f float64
			f, ok = parseNum(v)
			num = orderedFloat(f)
		case kindBool:
			var b bool
			b, ok = parseBool(v)
			if b {
				num = 1
			}
		default:
			isNum = false
		}
		// Null sorts below every value; inverting a descending key's
		// bytes then puts it last, which nulls first undoes.
		nullByte, valByte := byte(0x01), byte(0x02)
		if k.nullsFirst == k.desc {
			nullByte = 0x03
		}
		switch {
		case !ok:
			dst = append(dst, nullByte)
		case isNum:
			dst = append(dst, valByte)
			dst = binary.BigEndian.AppendUint64(dst, num)
		default:
			// Escaped and terminated so that the encoding is prefix-free:
			// 0x00 becomes 0x00 0xff, and 0x00 0x01 ends the string.
			dst = append(dst, valByte)
			for _, c := range v {
				dst = append(dst, c)
				if c == 0 {
					dst = append(dst, 0xff)
				}
			}
			dst = append(dst, 0, 1)
		}
		if k.desc {
			for i := start; i < len(dst); i++ {
				dst[i] = ^dst[i]
			}
		}
	}
	return dst
}

// orderedFloat maps f to an unsigned integer of the same order.
func orderedFloat(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

type valueKind uint8

const (
	kindString valueKind = iota
	kindTime
	kindNum
	kindBool
)

// colKind returns the type AppendAlert gives a column.
func colKind(c colRef) valueKind {
	switch c.field {
	case matcher.TimeGenerated, matcher.Timestamp:
		return kindTime
	case matcher.SourcePort, matcher.DestinationPort, matcher.RemotePort, matcher.LocalPort:
		return kindNum
	case matcher.IsClickedThrough:
		return kindBool
	}
	return kindString
}
