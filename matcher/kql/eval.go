package kql

import (
	"math"
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/matchd/matchd/matcher"
)

// tri is a value of Kusto's three-valued logic: a where keeps a record only
// when its predicate is true, not when it is null.
type tri uint8

const (
	fls tri = iota
	tru
	nul
)

func triOf(b bool) tri {
	if b {
		return tru
	}
	return fls
}

// Evaluator matches events against Rules, reusing its scratch memory. It
// is not safe for concurrent use; use one per goroutine.
type Evaluator struct {
	r *Rules
	e *matcher.Event // the event of the last Match

	// Generation stamps: an entry equal to gen was set for the current
	// record, so nothing is cleared between records.
	gen     uint32
	termGen []uint32
	leafGen []uint32
	leafCnt []int32
	ruleGen []uint32

	cands []int32
	hits  []ref // trigger leaf entries hit by the current record
	out   []RuleID
	found []ref // AppendAlert: the entries that made the predicate true

	ids  []uint32
	acm  []matcher.ACMatch
	low  []byte
	keys []byte
}

// NewEvaluator returns an Evaluator over r.
func NewEvaluator(r *Rules) *Evaluator {
	return &Evaluator{
		r:       r,
		termGen: make([]uint32, len(r.terms)),
		leafGen: make([]uint32, len(r.leafs)),
		leafCnt: make([]int32, len(r.leafs)),
		ruleGen: make([]uint32, len(r.rules)),
		cands:   make([]int32, 0, 16),
		hits:    make([]ref, 0, 16),
		out:     make([]RuleID, 0, 8),
		ids:     make([]uint32, 0, 16),
		acm:     make([]matcher.ACMatch, 0, 64),
		low:     make([]byte, 0, 256),
	}
}

// Rules returns the rules the evaluator matches against.
func (ev *Evaluator) Rules() *Rules { return ev.r }

// Match returns the rules whose query selects e, in ascending RuleID
// order. The slice is valid until the next call. AppendAlert reads the
// state Match leaves, so it must follow Match on the same event.
//
// Match does not allocate once its scratch memory has grown. Its cost is
// one lookup per indexed column of e's table (an address parse and IP set
// lookup, a hash lookup, or an automaton pass over the value), plus the
// evaluation of the rules whose prefilter literals e contains and of the
// full-scan rules of e's table.
func (ev *Evaluator) Match(e *matcher.Event) []RuleID {
	ev.out = ev.out[:0]
	ev.e = e
	t := e.Table
	r := ev.r
	if t >= numTables || len(r.scans[t]) == 0 && len(r.full[t]) == 0 {
		return ev.out
	}
	ev.gen++
	if ev.gen == 0 {
		clear(ev.termGen)
		clear(ev.leafGen)
		clear(ev.ruleGen)
		ev.gen = 1
	}
	ev.cands = ev.cands[:0]
	ev.hits = ev.hits[:0]
	for i := range r.scans[t] {
		ev.scan(e, &r.scans[t][i])
	}
	if len(ev.cands) == 0 && len(r.full[t]) == 0 {
		return ev.out
	}
	ev.cands = append(ev.cands, r.full[t]...)
	sortInt32(ev.cands)
	for _, id := range ev.cands {
		if root := r.rules[id].root; root == nil || ev.eval(root) == tru {
			ev.out = append(ev.out, RuleID(id))
		}
	}
	return ev.out
}

// sortInt32 sorts the few candidates of a record (insertion sort: no
// allocation, and they arrive nearly sorted).
func sortInt32(a []int32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// scan looks one column of e up in the prefilter.
func (ev *Evaluator) scan(e *matcher.Event, s *scan) {
	r := ev.r
	v := s.col.value(e)
	if s.flags&scanIP != 0 {
		if a, ok := matcher.ParseAddr(v); ok {
			ev.ids = r.ips.AppendLookup(ev.ids[:0], a)
			for _, id := range ev.ids {
				t := &r.terms[id]
				if t.slot != s.slot {
					continue
				}
				switch t.op {
				case opEq:
					if string(v) != t.lit {
						continue
					}
				case opEqFold:
					if !equalFold(v, t.lit) {
						continue
					}
				case opRange:
					if !isIPv4Text(v, a) {
						continue
					}
				}
				ev.hit(int32(id))
			}
		}
	}
	if s.flags&scanExact != 0 {
		for _, id := range r.exact[string(v)] {
			if r.terms[id].slot == s.slot {
				ev.hit(id)
			}
		}
	}
	if s.flags&scanFold != 0 {
		ev.low = appendLower(ev.low[:0], v)
		for _, id := range r.fold[string(ev.low)] {
			if r.terms[id].slot == s.slot {
				ev.hit(id)
			}
		}
	}
	if s.flags&scanAC != 0 && len(v) > 0 {
		ev.acm = r.ac.AppendMatches(ev.acm[:0], v)
		for _, m := range ev.acm {
			for _, id := range r.acTerms[m.Pattern] {
				t := &r.terms[id]
				if t.slot == s.slot && acOK(t.op, t.edge, v, m) {
					ev.hit(id)
				}
			}
		}
	}
}

// hit records that the current record holds term id: each leaf entry of
// the term that is valid at the record's time is hit, and the leaf's rule
// becomes a candidate.
func (ev *Evaluator) hit(id int32) {
	if ev.termGen[id] == ev.gen {
		return
	}
	ev.termGen[id] = ev.gen
	r := ev.r
	t := &r.terms[id]
	for _, rf := range r.refs[t.refOff : t.refOff+t.refN] {
		l := r.leafs[rf.leaf]
		if !ev.valid(&l.entries[rf.entry]) {
			continue
		}
		ev.hits = append(ev.hits, rf)
		if ev.leafGen[rf.leaf] != ev.gen {
			ev.leafGen[rf.leaf] = ev.gen
			ev.leafCnt[rf.leaf] = 0
			if ev.ruleGen[l.rule] != ev.gen {
				ev.ruleGen[l.rule] = ev.gen
				ev.cands = append(ev.cands, l.rule)
			}
		}
		ev.leafCnt[rf.leaf]++
	}
}

// valid reports whether a feed entry is a list member at the current
// record's time (--max-age); literals always are.
func (ev *Evaluator) valid(en *entry) bool {
	return en.validUntil == math.MaxInt64 || !ev.e.HasTime || ev.e.Time <= en.validUntil
}

// acOK checks an automaton match against its operator: has needs term
// boundaries, startswith and endswith the value's ends.
func acOK(op opKind, edge uint8, v []byte, m matcher.ACMatch) bool {
	switch op {
	case opHas, opHasAll:
		if edge&1 != 0 && m.Start > 0 && isAlnum(v[m.Start-1]) {
			return false
		}
		if edge&2 != 0 && int(m.End) < len(v) && isAlnum(v[m.End]) {
			return false
		}
	case opStarts:
		return m.Start == 0
	case opEnds:
		return int(m.End) == len(v)
	}
	return true
}

func (ev *Evaluator) eval(n *node) tri {
	switch n.op {
	case nAnd:
		res := tru
		for _, k := range n.kids {
			switch ev.eval(k) {
			case fls:
				return fls
			case nul:
				res = nul
			}
		}
		return res
	case nOr:
		res := fls
		for _, k := range n.kids {
			switch ev.eval(k) {
			case tru:
				return tru
			case nul:
				res = nul
			}
		}
		return res
	case nNot:
		switch ev.eval(n.kids[0]) {
		case tru:
			return fls
		case fls:
			return tru
		}
		return nul
	}
	return ev.leaf(n.leaf)
}

func (ev *Evaluator) leaf(l *leaf) tri {
	v := l.col.value(ev.e)
	switch l.op {
	case opRange:
		a, ok := matcher.ParseAddr(v)
		if !ok || !isIPv4Text(v, a) {
			return nul
		}
		if l.trigger {
			return triOf(ev.leafGen[l.id] == ev.gen)
		}
		return triOf(ev.direct(l, v, false))
	case opEmpty:
		return triOf(len(v) == 0)
	case opNum:
		x, ok := parseNum(v)
		if !ok {
			return nul
		}
		switch l.num {
		case "<":
			return triOf(x < l.nums[0])
		case "<=":
			return triOf(x <= l.nums[0])
		case ">":
			return triOf(x > l.nums[0])
		case ">=":
			return triOf(x >= l.nums[0])
		}
		for _, y := range l.nums {
			if x == y {
				return tru
			}
		}
		return fls
	case opBool:
		b, ok := parseBool(v)
		if !ok {
			return nul
		}
		return triOf(b == l.boolv)
	}
	if l.trigger {
		if ev.leafGen[l.id] != ev.gen {
			return fls
		}
		return triOf(l.op != opHasAll || int(ev.leafCnt[l.id]) >= len(l.entries))
	}
	return triOf(ev.direct(l, v, false))
}

// direct evaluates a non-trigger string or range leaf on v. With collect
// it appends every entry that holds to ev.found.
func (ev *Evaluator) direct(l *leaf, v []byte, collect bool) bool {
	switch l.op {
	case opEq, opEqFold:
		if l.set != nil {
			k := v
			if l.op == opEqFold {
				ev.keys = appendLower(ev.keys[:0], v)
				k = ev.keys
			}
			return ev.found1(l, l.set[string(k)], collect)
		}
		any := false
		for i := range l.entries {
			en := &l.entries[i]
			eq := string(v) == en.lit
			if l.op == opEqFold {
				eq = equalFold(v, en.lit)
			}
			if eq && ev.valid(en) {
				if !collect {
					return true
				}
				any = true
				ev.found = append(ev.found, ref{l.id, int32(i)})
			}
		}
		return any
	case opRange:
		a, ok := matcher.ParseAddr(v)
		if !ok || !isIPv4Text(v, a) {
			return false
		}
		if l.ipset != nil {
			ev.ids = l.ipset.AppendLookup(ev.ids[:0], a)
			any := false
			for _, id := range ev.ids {
				if ev.valid(&l.entries[id]) {
					if !collect {
						return true
					}
					any = true
					ev.found = append(ev.found, ref{l.id, int32(id)})
				}
			}
			return any
		}
		any := false
		for i := range l.entries {
			en := &l.entries[i]
			if l.pfxs[i].Contains(a) && ev.valid(en) {
				if !collect {
					return true
				}
				any = true
				ev.found = append(ev.found, ref{l.id, int32(i)})
			}
		}
		return any
	}
	// Automaton operators: has, has_any, has_all, contains, startswith,
	// endswith. has_all collects to count the entries it saw.
	want := collect
	if l.op == opHasAll {
		collect = true
	}
	base := len(ev.found)
	any := false
	if l.ac != nil {
		ev.acm = l.ac.AppendMatches(ev.acm[:0], v)
		for _, m := range ev.acm {
			en := &l.entries[m.Pattern]
			if acOK(l.op, en.edge, v, m) && ev.valid(en) {
				if !collect {
					return true
				}
				any = true
				ev.found = append(ev.found, ref{l.id, int32(m.Pattern)})
			}
		}
	} else {
		for i := range l.entries {
			en := &l.entries[i]
			if searchOK(l.op, en, v) && ev.valid(en) {
				if !collect {
					return true
				}
				any = true
				ev.found = append(ev.found, ref{l.id, int32(i)})
			}
		}
	}
	if l.op != opHasAll {
		return any
	}
	n := dedupeRefs(ev.found[base:])
	ok := n == len(l.entries)
	if ok && want {
		ev.found = ev.found[:base+n]
	} else {
		ev.found = ev.found[:base]
	}
	return ok
}

func (ev *Evaluator) found1(l *leaf, ids []int32, collect bool) bool {
	any := false
	for _, i := range ids {
		if ev.valid(&l.entries[i]) {
			if !collect {
				return true
			}
			any = true
			ev.found = append(ev.found, ref{l.id, i})
		}
	}
	return any
}

// searchOK reports whether an automaton operator holds for one entry, by
// a direct search of v.
func searchOK(op opKind, en *entry, v []byte) bool {
	lit := en.lit
	switch op {
	case opStarts:
		return len(v) >= len(lit) && equalFold(v[:len(lit)], lit)
	case opEnds:
		return len(v) >= len(lit) && equalFold(v[len(v)-len(lit):], lit)
	}
	for i := 0; i+len(lit) <= len(v); i++ {
		if !equalFold(v[i:i+len(lit)], lit) {
			continue
		}
		if op == opContains || acOK(opHas, en.edge, v, matcher.ACMatch{Start: int32(i), End: int32(i + len(lit))}) {
			return true
		}
	}
	return false
}

// dedupeRefs sorts refs by entry and drops repeats, returning the new
// length.
func dedupeRefs(a []ref) int {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && less(a[j], a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
	n := 0
	for i := range a {
		if n == 0 || a[i] != a[n-1] {
			a[n] = a[i]
			n++
		}
	}
	return n
}

func less(a, b ref) bool { return a.leaf < b.leaf || a.leaf == b.leaf && a.entry < b.entry }

// isIPv4Text reports whether v, which parsed as a, is written as an IPv4
// address (the ipv4_* functions do not accept IPv4-mapped IPv6).
func isIPv4Text(v []byte, a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	for _, c := range v {
		if c == ':' {
			return false
		}
	}
	return true
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// parseNum parses a number: a decimal integer or a float as strconv
// accepts it. It does not allocate.
func parseNum(v []byte) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	i := 0
	neg := v[0] == '-'
	if neg || v[0] == '+' {
		i++
	}
	if i < len(v) && len(v)-i <= 18 {
		j := i
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			n = n*10 + int64(v[j]-'0')
			j++
		}
		if j == len(v) && j > i {
			if neg {
				n = -n
			}
			return float64(n), true
		}
	}
	if !isFloat(v) {
		return 0, false
	}
	// Checked first so that ParseFloat fails, and allocates its error, only
	// on overflow; the unsafe string does not outlive the call.
	f, err := strconv.ParseFloat(unsafe.String(&v[0], len(v)), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func parseBool(v []byte) (bool, bool) {
	switch string(v) {
	case "true", "True", "TRUE", "1":
		return true, true
	case "false", "False", "FALSE", "0":
		return false, true
	}
	return false, false
}

// isFloat reports whether v is [+-]digits[.digits][(e|E)[+-]digits] with at
// least one digit before the exponent.
func isFloat(v []byte) bool {
	i := 0
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		i++
	}
	digits := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
		digits++
	}
	if i < len(v) && v[i] == '.' {
		i++
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			i++
		}
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(v)
}
