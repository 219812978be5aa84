package jsonlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// This file holds the slow reference: the same rules applied to the output of
// encoding/json, decoded into map[string]any. It keeps no order and folds
// repeated members into the last one, which is why diffLine compares Extra
// loosely on lines with repeated member names.

// refLine is the reference outcome of one line.
type refLine struct {
	syntax  bool // the line is not valid JSON or nests too deep
	multi   bool
	records []refRecord
	dups    bool // some object of the line repeats a member name
}

// refRecord is the reference outcome of one record.
type refRecord struct {
	err     bool // a *RecordError
	table   matcher.Table
	fields  [matcher.NumFields]any
	chain   []string
	extra   map[string]any  // members without a Field, null ones left out
	names   map[string]bool // all members without a Field
	time    int64
	hasTime bool
}

func refParse(line []byte, def matcher.Table, maxDepth int) refLine {
	b := bytes.Trim(line, " \t\r\n")
	if len(b) == 0 {
		return refLine{}
	}
	if !json.Valid(b) || refDepth(b) > maxDepth {
		return refLine{syntax: true}
	}
	v := refDecode(b)
	l := refLine{dups: refDups(b)}
	m, ok := v.(map[string]any)
	if !ok {
		l.records = []refRecord{{err: true}}
		return l
	}
	recs, ok := m["records"].([]any)
	if !ok {
		r := refColumns(m, maxDepth)
		r.setTable(m["Type"], def, "")
		r.setTime(nil)
		l.records = []refRecord{r}
		return l
	}
	l.multi = true
	for _, e := range recs {
		em, ok := e.(map[string]any)
		if !ok {
			l.records = append(l.records, refRecord{err: true})
			continue
		}
		props, ok := em["properties"].(map[string]any)
		if !ok {
			l.records = append(l.records, refRecord{err: true})
			continue
		}
		r := refColumns(props, maxDepth)
		r.setTable(em["category"], def, categoryPrefix)
		r.setTime(em["time"])
		l.records = append(l.records, r)
	}
	return l
}

func refDecode(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		panic("BUG: reference cannot decode valid JSON: " + err.Error())
	}
	return v
}

// refDepth returns the nesting depth of the valid JSON text b.
func refDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// refDups reports whether an object in the valid JSON text b repeats a
// member name.
func refDups(b []byte) bool {
	type frame struct {
		names   map[string]bool // nil for arrays
		wantKey bool
	}
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].wantKey = true
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if name, ok := tok.(string); ok {
				top := stack[n-1]
				if top.names[name] {
					return true
				}
				top.names[name] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func refColumns(m map[string]any, maxDepth int) refRecord {
	r := refRecord{extra: map[string]any{}, names: map[string]bool{}}
	for name, v := range m {
		f := matcher.LookupField([]byte(name))
		switch {
		case f == matcher.UrlChain:
			r.fields[f] = v
			r.chain = refChain(v, maxDepth)
		case f != matcher.FieldNone:
			r.fields[f] = v
		default:
			r.names[name] = true
			if v != nil {
				r.extra[name] = v
			}
		}
	}
	return r
}

func refChain(v any, maxDepth int) []string {
	var elems []any
	switch v := v.(type) {
	case []any:
		elems = v
	case string:
		var inner any
		if err := json.Unmarshal([]byte(v), &inner); err == nil && refDepth([]byte(v)) <= maxDepth {
			if a, ok := inner.([]any); ok {
				elems = a
				break
			}
		}
		if v != "" {
			return []string{v}
		}
	}
	var chain []string
	for _, e := range elems {
		if s, ok := e.(string); ok {
			chain = append(chain, s)
		}
	}
	return chain
}

func (r *refRecord) setTable(named any, def matcher.Table, prefix string) {
	t := def
	switch v := named.(type) {
	case nil:
	case string:
		if v != "" {
			if len(v) >= len(prefix) && bytes.EqualFold([]byte(v[:len(prefix)]), []byte(prefix)) {
				v = v[len(prefix):]
			}
			t = matcher.ParseTable([]byte(v))
		}
	default:
		t = matcher.TableUnknown
	}
	if t == matcher.TableUnknown {
		*r = refRecord{err: true}
		return
	}
	r.table = t
}

func (r *refRecord) setTime(envelope any) {
	if r.err {
		return
	}
	var when any
	switch {
	case r.table == matcher.CommonSecurityLog:
		when = r.fields[matcher.TimeGenerated]
	case r.fields[matcher.Timestamp] != nil:
		when = r.fields[matcher.Timestamp]
	case r.fields[matcher.TimeGenerated] != nil:
		when = r.fields[matcher.TimeGenerated]
	default:
		when = envelope
	}
	if when == nil {
		return
	}
	if r.time, r.hasTime = evtime.Parse(refText(when)); !r.hasTime {
		r.time = 0
	}
}

// refText returns v as a column holds it.
func refText(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case json.Number:
		return []byte(v)
	case bool:
		return strconv.AppendBool(nil, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return b
}

// norm replaces each byte that is not part of valid UTF-8 with U+FFFD, as
// encoding/json does when it decodes a string.
func norm(b []byte) string { return string([]rune(string(b))) }

// sameValue reports whether the column value got equals the reference value
// want.
func sameValue(got []byte, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case string:
		return got != nil && norm(got) == w
	case json.Number:
		return string(got) == string(w)
	case bool:
		return string(got) == strconv.FormatBool(w)
	}
	d := json.NewDecoder(bytes.NewReader(got))
	d.UseNumber()
	var v any
	return d.Decode(&v) == nil && reflect.DeepEqual(v, want)
}

// diffLine parses line with p and with the reference and describes the first
// difference, or returns "".
func diffLine(p *Parser, line []byte, def matcher.Table) string {
	want := refParse(line, def, DefaultMaxDepth)
	var ev matcher.Event
	p.Reset(line)
	for i := 0; ; i++ {
		ok, err := p.Next(&ev)
		var syn *SyntaxError
		var rec *RecordError
		switch {
		case errors.As(err, &syn):
			if ok {
				return "syntax error with ok"
			}
			if !want.syntax {
				return fmt.Sprintf("got %v, want no syntax error", err)
			}
			if ok, err := p.Next(&ev); ok || err != nil {
				return "Next after a syntax error did not report the end"
			}
			return ""
		case want.syntax:
			return fmt.Sprintf("got ok=%v err=%v, want a syntax error", ok, err)
		case err != nil && !errors.As(err, &rec):
			return fmt.Sprintf("error of type %T", err)
		case !ok && err == nil:
			if i != len(want.records) {
				return fmt.Sprintf("got %d records, want %d", i, len(want.records))
			}
			if p.Multi() != want.multi {
				return fmt.Sprintf("Multi() = %v, want %v", p.Multi(), want.multi)
			}
			return ""
		case !ok:
			return "record error with !ok"
		case i >= len(want.records):
			return fmt.Sprintf("got more than %d records", len(want.records))
		}
		w := want.records[i]
		if rec != nil && rec.Msg == msgTooMany {
			// The reference keeps every member; the bound is checked by
			// TestTooManyMembers. Each member or URL takes 3 bytes or more.
			if len(line) < 3*matcher.MaxExtra {
				return fmt.Sprintf("record %d: %v on a line of %d bytes", i, err, len(line))
			}
			continue
		}
		if rec != nil {
			if !w.err {
				return fmt.Sprintf("record %d: got %v, want a record", i, err)
			}
			if rec.Index != i {
				return fmt.Sprintf("record %d: error index %d", i, rec.Index)
			}
			continue
		}
		if w.err {
			return fmt.Sprintf("record %d: got a record, want a record error", i)
		}
		if d := diffRecord(&ev, &w, want.dups); d != "" {
			return fmt.Sprintf("record %d: %s", i, d)
		}
	}
}

func diffRecord(ev *matcher.Event, w *refRecord, dups bool) string {
	if ev.Table != w.table {
		return fmt.Sprintf("table %v, want %v", ev.Table, w.table)
	}
	if ev.HasTime != w.hasTime || ev.Time != w.time {
		return fmt.Sprintf("time %d/%v, want %d/%v", ev.Time, ev.HasTime, w.time, w.hasTime)
	}
	for f := matcher.Field(1); f < matcher.NumFields; f++ {
		if !sameValue(ev.Get(f), w.fields[f]) {
			return fmt.Sprintf("%v = %q, want %#v", f, ev.Get(f), w.fields[f])
		}
	}
	if len(ev.Chain) != len(w.chain) {
		return fmt.Sprintf("chain %q, want %q", ev.Chain, w.chain)
	}
	for i, u := range ev.Chain {
		if norm(u) != w.chain[i] {
			return fmt.Sprintf("chain %q, want %q", ev.Chain, w.chain)
		}
	}
	last := map[string][]byte{}
	for _, kv := range ev.Extra {
		name := norm(kv.Name)
		if _, seen := last[name]; seen && !dups {
			return fmt.Sprintf("extra %q twice", name)
		}
		if !w.names[name] {
			return fmt.Sprintf("extra %q, want none", name)
		}
		if kv.Value == nil {
			return fmt.Sprintf("extra %q is nil", name)
		}
		last[name] = kv.Value
	}
	for name, v := range w.extra {
		if !sameValue(last[name], v) {
			return fmt.Sprintf("extra %q = %q, want %#v", name, last[name], v)
		}
	}
	if !dups && len(last) != len(w.extra) {
		return fmt.Sprintf("%d extra, want %d", len(last), len(w.extra))
	}
	return ""
}
