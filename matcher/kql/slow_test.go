package kql

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/matchd/matchd/matcher"
)

// The reference evaluator: it evaluates a parsed query on one record by
// walking the syntax tree, with every operator written out naively from
// its documented semantics, sharing no code with the compiler or the
// evaluator. Differential tests and FuzzEval compare the two.

// refIndicator is one reported indicator: "Field\x00Value\x00List".
type refIndicator = string

// refMatch reports whether q selects e, and the indicators that made its
// predicate true.
func refMatch(q *Query, feeds *matcher.Set, e *matcher.Event) (bool, []refIndicator) {
	if e.Table.String() != q.Table {
		return false, nil
	}
	if q.Where == nil {
		return true, nil
	}
	r := &refEval{feeds: feeds, e: e}
	if r.eval(q.Where) != tru {
		return false, nil
	}
	var inds []refIndicator
	r.collect(q.Where, &inds)
	slices.Sort(inds)
	return true, inds
}

type refEval struct {
	feeds *matcher.Set
	e     *matcher.Event
}

// refEntry is one literal of a right side with where it came from.
type refEntry struct {
	lit   Literal
	list  string
	value string // the reported value: the literal, or the feed indicator's
	ok    bool   // a member at the record's time
}

func (r *refEval) column(name string) string {
	if f := matcher.LookupField([]byte(name)); f != matcher.FieldNone {
		return string(r.e.Get(f))
	}
	v := ""
	for _, kv := range r.e.Extra {
		if string(kv.Name) == name {
			v = string(kv.Value)
		}
	}
	return v
}

// entries expands a right side, first occurrence of a literal (or feed
// indicator) winning.
func (r *refEval) entries(items []Item) []refEntry {
	var out []refEntry
	seen := map[string]bool{}
	for _, it := range items {
		if it.Feed {
			for i := range r.feeds.Len() {
				in := r.feeds.Indicator(uint32(i))
				var s string
				switch {
				case it.List == FeedIPs && (in.Type == matcher.TypeIP || in.Type == matcher.TypeIPPort):
					s = in.Addr.String()
				case it.List == FeedIPs && in.Type == matcher.TypeCIDR:
					s = in.Prefix.String()
				case it.List == FeedURLs && in.Type == matcher.TypeURL,
					it.List == FeedDomains && in.Type == matcher.TypeDomain,
					it.List == FeedHashes && (in.Type == matcher.TypeMD5 || in.Type == matcher.TypeSHA1 || in.Type == matcher.TypeSHA256):
					s = in.Value
				default:
					continue
				}
				k := "\x01" + in.Value + "\x00" + in.Type.String()
				if seen[k] {
					continue
				}
				seen[k] = true
				ok := true
				if age := r.feeds.Config().MaxAge; age > 0 && r.e.HasTime {
					if until, has := in.ValidUntil(age); has && r.e.Time > until.UnixNano() {
						ok = false
					}
				}
				out = append(out, refEntry{Literal{Kind: LitString, Str: s}, it.List, in.Value, ok})
			}
			continue
		}
		lits := []Literal{it.Lit}
		if it.IsSeq {
			lits = it.Elems
		}
		for _, l := range lits {
			if seen[l.Str] {
				continue
			}
			seen[l.Str] = true
			out = append(out, refEntry{l, it.List, l.Str, true})
		}
	}
	return out
}

func refNot(v tri) tri {
	switch v {
	case tru:
		return fls
	case fls:
		return tru
	}
	return nul
}

func (r *refEval) eval(e Expr) tri {
	switch e := e.(type) {
	case *Logic:
		a, b := r.eval(e.L), r.eval(e.R)
		if e.Op == "and" {
			if a == fls || b == fls {
				return fls
			}
			if a == nul || b == nul {
				return nul
			}
			return tru
		}
		if a == tru || b == tru {
			return tru
		}
		if a == nul || b == nul {
			return nul
		}
		return fls
	case *Not:
		return refNot(r.eval(e.X))
	case *Call:
		v := r.column(e.Col)
		switch e.Fn {
		case "isempty":
			return triOf(v == "")
		case "isnotempty":
			return triOf(v != "")
		}
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			return nul
		}
		if e.Fn == "ipv4_is_private" {
			for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
				if netip.MustParsePrefix(p).Contains(a) {
					return tru
				}
			}
			return fls
		}
		return triOf(len(r.rangeHits(e, a)) > 0)
	case *Cmp:
		return r.cmp(e)
	}
	panic("unreachable")
}

func refRange(s string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, 32), a.Is4()
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err == nil && p.Addr().Is4()
}

func (r *refEval) rangeHits(e *Call, a netip.Addr) []refEntry {
	var out []refEntry
	for _, en := range r.entries(e.Args) {
		if p, ok := refRange(en.lit.Str); ok && en.ok && p.Contains(a) {
			out = append(out, en)
		}
	}
	return out
}

var refNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func refNum(v string) (float64, bool) {
	if !refNumber.MatchString(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func refBool(v string) (bool, bool) {
	switch v {
	case "true", "True", "TRUE", "1":
		return true, true
	case "false", "False", "FALSE", "0":
		return false, true
	}
	return false, false
}

// asciiLower folds ASCII letters only, as matchd's case-insensitive
// operators do.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func refAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// refHas: the literal occurs, ASCII case-insensitive, at a position where
// an alphanumeric first (last) byte is not preceded (followed) by one.
func refHas(v, lit string) bool {
	lv, ll := asciiLower(v), asciiLower(lit)
	for i := 0; i+len(ll) <= len(lv); i++ {
		if lv[i:i+len(ll)] != ll {
			continue
		}
		if refAlnum(ll[0]) && i > 0 && refAlnum(lv[i-1]) {
			continue
		}
		if end := i + len(ll); refAlnum(ll[len(ll)-1]) && end < len(lv) && refAlnum(lv[end]) {
			continue
		}
		return true
	}
	return false
}

// holds reports whether one entry satisfies the positive operator op.
func holds(op, v string, en refEntry) bool {
	if !en.ok {
		return false
	}
	lit := en.lit.Str
	switch op {
	case "==", "!=", "in", "!in":
		return v == lit
	case "=~", "!~", "in~", "!in~":
		return asciiLower(v) == asciiLower(lit)
	case "has", "!has", "has_any", "has_all":
		return refHas(v, lit)
	case "contains", "!contains":
		return strings.Contains(asciiLower(v), asciiLower(lit))
	case "startswith":
		return strings.HasPrefix(asciiLower(v), asciiLower(lit))
	case "endswith":
		return strings.HasSuffix(asciiLower(v), asciiLower(lit))
	}
	panic(op)
}

func negated(op string) bool { return op[0] == '!' }

func (r *refEval) cmp(e *Cmp) tri {
	v := r.column(e.Col)
	if !e.List && e.RHS[0].Lit.Kind != LitString || e.List && len(r.entries(e.RHS)) > 0 && r.entries(e.RHS)[0].lit.Kind == LitNumber {
		// Numbers and bools: a missing or unparseable value is null.
		var res tri
		if !e.List && e.RHS[0].Lit.Kind == LitBool {
			b, ok := refBool(v)
			if !ok {
				return nul
			}
			res = triOf(b == e.RHS[0].Lit.Bool)
		} else {
			x, ok := refNum(v)
			if !ok {
				return nul
			}
			res = fls
			for _, en := range r.entries(e.RHS) {
				y := en.lit.Num
				switch e.Op {
				case "==", "!=", "in", "!in":
					if x == y {
						res = tru
					}
				case "<":
					res = triOf(x < y)
				case "<=":
					res = triOf(x <= y)
				case ">":
					res = triOf(x > y)
				case ">=":
					res = triOf(x >= y)
				}
			}
		}
		if negated(e.Op) {
			return refNot(res)
		}
		return res
	}
	ens := r.entries(e.RHS)
	n := 0
	for _, en := range ens {
		if holds(e.Op, v, en) {
			n++
		}
	}
	res := n > 0
	if e.Op == "has_all" {
		res = n == len(ens)
	}
	if negated(e.Op) {
		res = !res
	}
	return triOf(res)
}

// collect appends the indicators of true positive leaves on the path that
// makes e true.
func (r *refEval) collect(e Expr, out *[]refIndicator) {
	add := func(col string, en refEntry) {
		*out = append(*out, col+"\x00"+en.value+"\x00"+en.list)
	}
	switch e := e.(type) {
	case *Logic:
		for _, x := range []Expr{e.L, e.R} {
			if e.Op == "and" || r.eval(x) == tru {
				r.collect(x, out)
			}
		}
	case *Call:
		if e.Fn == "ipv4_is_in_range" {
			a, _ := netip.ParseAddr(r.column(e.Col))
			for _, en := range r.rangeHits(e, a) {
				add(e.Col, en)
			}
		}
	case *Cmp:
		if negated(e.Op) || strings.ContainsAny(e.Op, "<>") {
			return
		}
		ens := r.entries(e.RHS)
		if len(ens) > 0 && ens[0].lit.Kind != LitString {
			return
		}
		v := r.column(e.Col)
		for _, en := range ens {
			if holds(e.Op, v, en) {
				add(e.Col, en)
			}
		}
	}
}
