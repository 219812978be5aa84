package kql

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/matchd/matchd/matcher"
)

// RuleID identifies a rule: its index in Rules.Rules, in file order.
type RuleID uint32

// Rule describes one compiled rule.
type Rule struct {
	Name  string
	File  string
	Pos   Pos
	Table matcher.Table
	Query *Query

	// Indexed counts the literals of the rule's prefilter: the entries in
	// the shared IP set, automaton and value tables whose hit makes the
	// rule a candidate for full evaluation.
	Indexed int
	// FullScan marks a rule with no indexable literal: it is evaluated on
	// every record of its table.
	FullScan bool
	// Feeds lists the matchd_* lists the rule reads, in order of first use.
	Feeds []string
}

// Source is one rule file.
type Source struct {
	Name string // the name in positions and default rule names
	Text []byte
}

// Program is parsed rule files: every query, independent of the feeds. It
// is immutable and may be compiled any number of times.
type Program struct {
	Queries []*Query
}

// ParseSources parses rule files into a Program. On error it returns an
// ErrorList with every error found (at most 20 per file); a file without
// a query is an error too.
func ParseSources(srcs ...Source) (*Program, error) {
	var errs ErrorList
	prog := &Program{}
	for _, s := range srcs {
		qs, err := Parse(s.Name, s.Text)
		prog.Queries = append(prog.Queries, qs...)
		if el, ok := err.(ErrorList); ok {
			errs = append(errs, el...)
		} else if err != nil {
			return nil, err
		} else if len(qs) == 0 {
			errs = append(errs, &ParseError{s.Name, 1, 1, "no query in the file"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return prog, nil
}

// Load reads and parses rule files.
func Load(paths ...string) (*Program, error) {
	var srcs []Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, Source{p, b})
	}
	return ParseSources(srcs...)
}

// Options configure Compile. The zero value compiles rules without feeds.
type Options struct {
	// Feeds fills the predefined lists matchd_ips (the addresses of ip and
	// ip:port indicators and the prefixes of cidr indicators), matchd_urls,
	// matchd_domains and matchd_hashes (md5, sha1 and sha256) with the
	// set's indicators, honouring its Config: indicators below
	// MinConfidence are absent and, with MaxAge, an indicator is a list
	// member only for records whose event time is within its validity.
	// A rule that names a matchd_* list when Feeds is nil is an error.
	Feeds *matcher.Set
}

// Rules is a compiled rule set: the rules' predicates compiled into one
// shared IP set, one automaton and two value tables, plus the
// per-rule evaluation trees. It is immutable and safe for concurrent use;
// each goroutine evaluates through its own Evaluator.
type Rules struct {
	rules []rule
	info  []Rule
	feeds *matcher.Set
	leafs []*leaf

	// The prefilter. Term ids index terms.
	terms   []term
	refs    []ref
	ips     *matcher.IPSet     // eq terms with address literals, range terms
	exact   map[string][]int32 // eq terms with other literals, by value
	fold    map[string][]int32 // eqFold terms with other literals, by lower-cased value
	ac      *matcher.Automaton // has, contains, startswith, endswith terms
	acTerms [][]int32          // automaton pattern -> terms
	scans   [numTables][]scan  // per table: the columns to look up
	full    [numTables][]int32 // per table: full-scan rules
	nSlots  int
}

const numTables = 4 // matcher tables, TableUnknown included

// scan is one column the prefilter looks up in every record of a table.
type scan struct {
	col   colRef
	slot  int32
	flags uint8
}

const (
	scanIP    = 1 << iota // parse as an address, look up ips
	scanExact             // look up exact
	scanFold              // lower-case, look up fold
	scanAC                // run the automaton
)

// term is one literal of the prefilter: an entry in ips, exact, fold or
// the automaton, for one column (slot) of one table.
type term struct {
	slot int32
	op   opKind // opEq, opEqFold, opRange or an automaton op
	lit  string
	edge uint8 // opHas: bit 0 the literal starts with a letter or digit, bit 1 it ends with one
	// refs[refOff:refOff+refN] are the leaf entries the term stands for.
	refOff, refN uint32
}

// ref is an entry of a leaf.
type ref struct {
	leaf, entry int32
}

// colRef is a column: a matcher.Field, or an Event.Extra name when field
// is FieldNone.
type colRef struct {
	field matcher.Field
	name  string
}

func resolve(name string) colRef {
	if f := matcher.LookupField([]byte(name)); f != matcher.FieldNone {
		return colRef{field: f, name: name}
	}
	return colRef{name: name}
}

// value returns the column's value in e, nil when absent. An Extra column
// that repeats takes its last value, as known columns do.
func (c colRef) value(e *matcher.Event) []byte {
	if c.field != matcher.FieldNone {
		return e.Get(c.field)
	}
	for i := len(e.Extra) - 1; i >= 0; i-- {
		if string(e.Extra[i].Name) == c.name {
			return e.Extra[i].Value
		}
	}
	return nil
}

type opKind uint8

const (
	opEq       opKind = iota // ==, in: case-sensitive string equality
	opEqFold                 // =~, in~: ASCII case-insensitive equality
	opHas                    // has, has_any: a term (phrase) occurs
	opHasAll                 // has_all: every term occurs
	opContains               // contains: substring, ASCII case-insensitive
	opStarts                 // startswith
	opEnds                   // endswith
	opRange                  // ipv4_is_in_range, ipv4_is_private
	opEmpty                  // isempty
	opNum                    // comparison with numbers
	opBool                   // == true/false
)

func (op opKind) usesAC() bool { return op >= opHas && op <= opEnds }

// node is a node of a compiled predicate.
type node struct {
	op   nodeOp
	kids []*node
	leaf *leaf
}

type nodeOp uint8

const (
	nLeaf nodeOp = iota
	nAnd
	nOr
	nNot
)

// leaf is one operator applied to one column.
type leaf struct {
	id      int32
	rule    int32
	op      opKind
	col     colRef
	slot    int32
	entries []entry
	pfxs    []netip.Prefix // opRange: the prefix of each entry
	// report marks leaves whose entries are literals worth reporting as
	// alert indicators (not ipv4_is_private's ranges).
	report bool
	// trigger marks a leaf of the rule's prefilter: its entries are terms
	// and its value comes from the term hits of the record.
	trigger bool

	num   string // opNum: "==", "<", "<=", ">", ">=", "in"
	nums  []float64
	boolv bool

	// Direct evaluation of non-trigger leaves with many entries.
	set     map[string][]int32 // opEq, opEqFold (lower-cased keys)
	ac      *matcher.Automaton // automaton ops: pattern i is entries[i]
	ipset   *matcher.IPSet     // opRange: ids are entries
	pos     Pos
	feedArg bool
}

// entry is one literal of a leaf.
type entry struct {
	lit        string
	list       string // the let or feed list it came from, "" when inline
	feed       int32  // feed indicator id (matcher.Set.Indicator), -1 for a literal
	validUntil int64
	term       int32 // prefilter term, -1 when the leaf is not a trigger
	edge       uint8
}

// smallLeaf is the entry count up to which a non-trigger leaf is evaluated
// by a loop over its entries rather than its own table.
const smallLeaf = 8

type rule struct {
	root  *node // nil: every record matches
	table matcher.Table
	proj  []projCol // nil: every column
	order []orderCol
	take  int64
	name  string
	feeds bool // reads a matchd_* list
}

type projCol struct {
	name string
	col  colRef
}

type orderCol struct {
	col        colRef
	desc       bool
	nullsFirst bool
}

// Compile compiles the program's queries into Rules.
func (p *Program) Compile(opts Options) (*Rules, error) {
	c := &compiler{r: &Rules{feeds: opts.Feeds}, slots: map[slotKey]int32{}, termIdx: map[termKey]int32{}}
	c.feedLists()
	for _, q := range p.Queries {
		c.query(q)
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	if err := c.build(); err != nil {
		return nil, err
	}
	return c.r, nil
}

// Compile parses and compiles rule sources.
func Compile(opts Options, srcs ...Source) (*Rules, error) {
	p, err := ParseSources(srcs...)
	if err != nil {
		return nil, err
	}
	return p.Compile(opts)
}

type slotKey struct {
	table matcher.Table
	col   colRef
}

type termKey struct {
	slot int32
	op   opKind
	lit  string
}

type compiler struct {
	r       *Rules
	errs    ErrorList
	slots   map[slotKey]int32
	termIdx map[termKey]int32
	feed    map[string][]entry
	ipb     matcher.IPSetBuilder
	pats    [][]byte
	patIdx  map[string]int32
	q       *Query
	rule    int32
}

func (c *compiler) errorAt(pos Pos, format string, a ...any) {
	c.errs = append(c.errs, &ParseError{c.q.File, pos.Line, pos.Col, fmt.Sprintf(format, a...)})
}

// feedLists builds the entries of the matchd_* lists.
func (c *compiler) feedLists() {
	c.feed = map[string][]entry{}
	s := c.r.feeds
	if s == nil {
		return
	}
	cfg := s.Config()
	for i := range s.Len() {
		in := s.Indicator(uint32(i))
		vu := int64(math.MaxInt64)
		if cfg.MaxAge > 0 {
			if t, ok := in.ValidUntil(cfg.MaxAge); ok {
				vu = t.UnixNano()
			}
		}
		e := entry{feed: int32(i), validUntil: vu, term: -1}
		var list string
		switch in.Type {
		case matcher.TypeIP, matcher.TypeIPPort:
			list, e.lit = FeedIPs, in.Addr.String()
		case matcher.TypeCIDR:
			list, e.lit = FeedIPs, in.Prefix.String()
		case matcher.TypeURL:
			list, e.lit = FeedURLs, in.Value
		case matcher.TypeDomain:
			list, e.lit = FeedDomains, in.Value
		case matcher.TypeMD5, matcher.TypeSHA1, matcher.TypeSHA256:
			list, e.lit = FeedHashes, in.Value
		default:
			continue
		}
		e.list = list
		c.feed[list] = append(c.feed[list], e)
	}
}

func (c *compiler) query(q *Query) {
	c.q = q
	c.rule = int32(len(c.r.rules))
	t := matcher.ParseTable([]byte(q.Table))
	info := Rule{Name: q.Name, File: q.File, Pos: q.Pos, Table: t, Query: q}
	ru := rule{table: t, take: q.Take, name: q.Name}
	nerr := len(c.errs)
	if q.Where != nil {
		ru.root = c.expr(q.Where, t, &info)
	}
	if q.Project != nil {
		ru.proj = []projCol{}
		for _, pc := range q.Project {
			ru.proj = append(ru.proj, projCol{pc.Name, resolve(pc.Col)})
		}
	}
	for _, k := range q.OrderBy {
		col := resolve(k.Col)
		for _, pc := range ru.proj {
			if pc.name == k.Col {
				col = pc.col
			}
		}
		ru.order = append(ru.order, orderCol{col, k.Desc, k.NullsFirst})
	}
	if len(c.errs) > nerr {
		return
	}
	ru.feeds = len(info.Feeds) > 0
	if ru.root == nil {
		info.FullScan = true
	} else if trig, _, ok := choose(ru.root); ok {
		for _, l := range trig {
			l.trigger = true
			info.Indexed += len(l.entries)
		}
	} else {
		info.FullScan = true
	}
	c.r.rules = append(c.r.rules, ru)
	c.r.info = append(c.r.info, info)
}

// expr compiles a predicate. Negated operators become not() of the
// positive one, which keeps Kusto's null semantics: not(null) is null.
func (c *compiler) expr(e Expr, t matcher.Table, info *Rule) *node {
	switch e := e.(type) {
	case *Logic:
		op := nAnd
		if e.Op == "or" {
			op = nOr
		}
		n := &node{op: op}
		for _, x := range []Expr{e.L, e.R} {
			k := c.expr(x, t, info)
			if k == nil {
				return nil
			}
			if k.op == op {
				n.kids = append(n.kids, k.kids...)
			} else {
				n.kids = append(n.kids, k)
			}
		}
		return n
	case *Not:
		k := c.expr(e.X, t, info)
		if k == nil {
			return nil
		}
		return &node{op: nNot, kids: []*node{k}}
	case *Call:
		l := c.newLeaf(t, e.Col, e.Pos)
		switch e.Fn {
		case "isempty", "isnotempty":
			l.op = opEmpty
			if e.Fn == "isnotempty" {
				return not(l)
			}
		case "ipv4_is_private":
			l.op = opRange
			for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
				l.entries = append(l.entries, entry{lit: s, feed: -1, validUntil: math.MaxInt64, term: -1})
				l.pfxs = append(l.pfxs, netip.MustParsePrefix(s))
			}
		case "ipv4_is_in_range":
			l.op, l.report = opRange, true
			c.entries(l, e.Args, info)
			ok := l.entries[:0]
			for _, en := range l.entries {
				p, valid := parseRange(en.lit)
				if !valid {
					if en.feed < 0 {
						c.errorAt(e.Args[0].Pos, "ipv4_is_in_range: %q is not an IPv4 address or prefix", en.lit)
					}
					continue // the IPv6 addresses of a feed list
				}
				l.pfxs = append(l.pfxs, p)
				ok = append(ok, en)
			}
			l.entries = ok
		}
		return &node{leaf: l}
	case *Cmp:
		return c.cmp(e, t, info)
	}
	panic(fmt.Sprintf("BUG: unexpected expression %T", e))
}

func not(l *leaf) *node { return &node{op: nNot, kids: []*node{{leaf: l}}} }

func (c *compiler) cmp(e *Cmp, t matcher.Table, info *Rule) *node {
	l := c.newLeaf(t, e.Col, e.ColPos)
	l.report = true
	neg := false
	numeric := false
	for _, it := range e.RHS {
		if !it.Feed && len(itemLits(it)) > 0 && itemLits(it)[0].Kind == LitNumber {
			numeric = true
		}
	}
	switch e.Op {
	case "==", "!=":
		neg = e.Op == "!="
		switch lit := e.RHS[0].Lit; lit.Kind {
		case LitNumber:
			l.op, l.num, l.nums = opNum, "==", []float64{lit.Num}
		case LitBool:
			l.op, l.boolv = opBool, lit.Bool
		default:
			l.op = opEq
		}
	case "<", "<=", ">", ">=":
		l.op, l.num, l.nums = opNum, e.Op, []float64{e.RHS[0].Lit.Num}
	case "=~", "!~":
		l.op, neg = opEqFold, e.Op == "!~"
	case "in", "!in":
		l.op, neg = opEq, e.Op == "!in"
		if numeric {
			l.op, l.num = opNum, "in"
			for _, it := range e.RHS {
				for _, lit := range itemLits(it) {
					l.nums = append(l.nums, lit.Num)
				}
			}
		}
	case "in~", "!in~":
		l.op, neg = opEqFold, e.Op == "!in~"
	case "has", "!has", "has_any":
		l.op, neg = opHas, e.Op == "!has"
	case "has_all":
		l.op = opHasAll
		for _, it := range e.RHS {
			if it.Feed {
				c.errorAt(it.Pos, "has_all with the feed list %s is not supported", it.List)
			}
		}
	case "contains", "!contains":
		l.op, neg = opContains, e.Op == "!contains"
	case "startswith":
		l.op = opStarts
	case "endswith":
		l.op = opEnds
	default:
		panic("BUG: operator " + e.Op)
	}
	if l.op != opNum && l.op != opBool {
		c.entries(l, e.RHS, info)
	}
	if neg {
		return not(l)
	}
	return &node{leaf: l}
}

func (c *compiler) newLeaf(t matcher.Table, col string, pos Pos) *leaf {
	ref := resolve(col)
	l := &leaf{id: int32(len(c.r.leafs)), rule: c.rule, col: ref, slot: c.slot(t, ref), pos: pos}
	c.r.leafs = append(c.r.leafs, l)
	return l
}

func (c *compiler) slot(t matcher.Table, col colRef) int32 {
	k := slotKey{t, col}
	if s, ok := c.slots[k]; ok {
		return s
	}
	s := int32(len(c.slots))
	c.slots[k] = s
	return s
}

// entries expands a right side into the leaf's entries: literals, let and
// inline lists and feed lists, without repeating a literal (or a feed
// indicator).
func (c *compiler) entries(l *leaf, items []Item, info *Rule) {
	seenLit := map[string]bool{}
	seenFeed := map[int32]bool{}
	add := func(e entry) {
		if e.feed >= 0 {
			if seenFeed[e.feed] {
				return
			}
			seenFeed[e.feed] = true
		} else {
			if seenLit[e.lit] {
				return
			}
			seenLit[e.lit] = true
		}
		if l.op == opHas || l.op == opHasAll {
			if isAlnum(e.lit[0]) {
				e.edge |= 1
			}
			if isAlnum(e.lit[len(e.lit)-1]) {
				e.edge |= 2
			}
		}
		l.entries = append(l.entries, e)
	}
	for _, it := range items {
		switch {
		case it.Feed:
			if c.r.feeds == nil {
				c.errorAt(it.Pos, "%s needs a loaded feed (give --iocs)", it.List)
				continue
			}
			l.feedArg = true
			if !slices.Contains(info.Feeds, it.List) {
				info.Feeds = append(info.Feeds, it.List)
			}
			for _, e := range c.feed[it.List] {
				add(e)
			}
		default:
			for _, lit := range itemLits(it) {
				add(entry{lit: lit.Str, list: it.List, feed: -1, validUntil: math.MaxInt64, term: -1})
			}
		}
	}
}

// parseRange parses an IPv4 address or prefix; host bits of a prefix are
// ignored, as Kusto's ipv4_is_in_range does.
func parseRange(s string) (netip.Prefix, bool) {
	if strings.Contains(s, ":") {
		return netip.Prefix{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return netip.PrefixFrom(a, 32), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// choose picks the prefilter of a predicate: leaves such that the
// predicate can be true only if one of them is. An and needs one of its
// children's prefilters (the most selective); an or needs all of them; a
// not has none (it is true where its operand is not). score estimates
// selectivity, higher being rarer.
func choose(n *node) (trig []*leaf, score int, ok bool) {
	switch n.op {
	case nLeaf:
		l := n.leaf
		switch l.op {
		case opEq, opEqFold:
			return []*leaf{l}, 4, true
		case opHas, opHasAll, opContains, opStarts, opEnds:
			if l.op == opHasAll && len(l.entries) == 0 {
				return nil, 0, false // vacuously true
			}
			s := 4
			for _, e := range l.entries {
				switch {
				case len(e.lit) < 4:
					s = min(s, 1)
				case len(e.lit) < 8:
					s = min(s, 3)
				}
			}
			return []*leaf{l}, s, true
		case opRange:
			s := 3
			if !l.report {
				s = 0 // ipv4_is_private: a third of most networks' traffic
			}
			for _, p := range l.pfxs {
				switch {
				case p.Bits() < 16:
					s = min(s, 1)
				case p.Bits() < 24:
					s = min(s, 2)
				}
			}
			return []*leaf{l}, s, true
		}
		return nil, 0, false
	case nAnd:
		best := -1
		for _, k := range n.kids {
			if t, s, ok := choose(k); ok && s > best {
				trig, score, best = t, s, s
			}
		}
		return trig, score, best >= 0
	case nOr:
		score = math.MaxInt
		for _, k := range n.kids {
			t, s, ok := choose(k)
			if !ok {
				return nil, 0, false
			}
			trig = append(trig, t...)
			score = min(score, s)
		}
		return trig, score, true
	}
	return nil, 0, false
}

// build creates the shared prefilter from the trigger leaves and the
// direct-evaluation tables of the others.
func (c *compiler) build() error {
	r := c.r
	r.exact = map[string][]int32{}
	r.fold = map[string][]int32{}
	c.patIdx = map[string]int32{}
	slotCol := make([]colRef, len(c.slots))
	slotTable := make([]matcher.Table, len(c.slots))
	for k, s := range c.slots {
		slotCol[s], slotTable[s] = k.col, k.table
	}
	flags := make([]uint8, len(c.slots))
	type termRef struct {
		term int32
		ref  ref
	}
	var refs []termRef
	for _, l := range r.leafs {
		if !l.trigger {
			if err := l.buildDirect(); err != nil {
				return err
			}
			continue
		}
		for i := range l.entries {
			e := &l.entries[i]
			op := l.op
			if op == opHasAll {
				op = opHas
			}
			lit := e.lit
			if op == opEqFold {
				lit = lower(lit)
			}
			k := termKey{l.slot, op, lit}
			id, ok := c.termIdx[k]
			if !ok {
				id = int32(len(r.terms))
				c.termIdx[k] = id
				r.terms = append(r.terms, term{slot: l.slot, op: op, lit: lit, edge: e.edge})
				c.index(id, &flags[l.slot])
			}
			e.term = id
			refs = append(refs, termRef{id, ref{l.id, int32(i)}})
		}
	}
	// Each term's refs, contiguous in r.refs.
	for _, tr := range refs {
		r.terms[tr.term].refN++
	}
	off := uint32(0)
	for i := range r.terms {
		r.terms[i].refOff = off
		off += r.terms[i].refN
		r.terms[i].refN = 0
	}
	r.refs = make([]ref, len(refs))
	for _, tr := range refs {
		t := &r.terms[tr.term]
		r.refs[t.refOff+t.refN] = tr.ref
		t.refN++
	}
	r.ips = c.ipb.Build()
	ac, err := matcher.CompileAC(c.pats)
	if err != nil {
		return err
	}
	r.ac = ac
	for s, f := range flags {
		if f != 0 {
			t := slotTable[s]
			r.scans[t] = append(r.scans[t], scan{slotCol[s], int32(s), f})
		}
	}
	for t := range r.scans {
		slices.SortFunc(r.scans[t], func(a, b scan) int { return int(a.slot - b.slot) })
	}
	for i, ru := range r.info {
		if ru.FullScan {
			r.full[ru.Table] = append(r.full[ru.Table], int32(i))
		}
	}
	r.nSlots = len(c.slots)
	return nil
}

// index adds term id to the structure that finds it.
func (c *compiler) index(id int32, flags *uint8) {
	r := c.r
	t := &r.terms[id]
	switch {
	case t.op == opRange:
		p, _ := parseRange(t.lit)
		c.ipb.AddPrefix(p, uint32(id))
		*flags |= scanIP
	case t.op == opEq || t.op == opEqFold:
		if a, ok := matcher.ParseAddr([]byte(t.lit)); ok && (t.op == opEq || !hasUpper(t.lit)) {
			// Equal strings parse to equal addresses, so the address
			// lookup finds every record value equal to the literal; the
			// hit is then checked against the string.
			c.ipb.AddAddr(a, uint32(id))
			*flags |= scanIP
		} else if t.op == opEq {
			r.exact[t.lit] = append(r.exact[t.lit], id)
			*flags |= scanExact
		} else {
			r.fold[t.lit] = append(r.fold[t.lit], id)
			*flags |= scanFold
		}
	default:
		k := lower(t.lit)
		p, ok := c.patIdx[k]
		if !ok {
			p = int32(len(c.pats))
			c.patIdx[k] = p
			c.pats = append(c.pats, []byte(t.lit))
			r.acTerms = append(r.acTerms, nil)
		}
		r.acTerms[p] = append(r.acTerms[p], id)
		*flags |= scanAC
	}
}

// buildDirect builds the tables of a non-trigger leaf with many entries.
func (l *leaf) buildDirect() error {
	if len(l.entries) <= smallLeaf {
		return nil
	}
	switch {
	case l.op == opEq || l.op == opEqFold:
		l.set = make(map[string][]int32, len(l.entries))
		for i, e := range l.entries {
			k := e.lit
			if l.op == opEqFold {
				k = lower(k)
			}
			l.set[k] = append(l.set[k], int32(i))
		}
	case l.op.usesAC():
		pats := make([][]byte, len(l.entries))
		for i, e := range l.entries {
			pats[i] = []byte(e.lit)
		}
		ac, err := matcher.CompileAC(pats)
		if err != nil {
			return err
		}
		l.ac = ac
	case l.op == opRange:
		var b matcher.IPSetBuilder
		for i, p := range l.pfxs {
			b.AddPrefix(p, uint32(i))
		}
		l.ipset = b.Build()
	}
	return nil
}

// Rules returns the rules in file order, indexed by RuleID. The slice must
// not be modified.
func (r *Rules) Rules() []Rule { return r.info }

// Len returns the number of rules.
func (r *Rules) Len() int { return len(r.info) }

// Feeds returns the set the matchd_* lists were filled from, or nil.
func (r *Rules) Feeds() *matcher.Set { return r.feeds }

// Stats counts the shared prefilter's contents.
type Stats struct {
	Terms    int // distinct (table, column, operator, literal) entries
	IPs      int // addresses and prefixes in the IP set
	Patterns int // automaton patterns
	Values   int // exact and case-insensitive value table keys
	FullScan int // rules evaluated on every record of their table
}

// Stats returns the prefilter's counts.
func (r *Rules) Stats() Stats {
	a, p := r.ips.Len()
	s := Stats{Terms: len(r.terms), IPs: a + p, Patterns: r.ac.Len(), Values: len(r.exact) + len(r.fold)}
	for _, f := range r.full {
		s.FullScan += len(f)
	}
	return s
}

// MemoryUsage estimates the bytes held by the prefilter.
func (r *Rules) MemoryUsage() int {
	n := r.ips.MemoryUsage() + r.ac.MemoryUsage()
	for i := range r.terms {
		n += int(unsafe.Sizeof(r.terms[i])) + len(r.terms[i].lit)
	}
	n += 8 * len(r.refs)
	return n + 48*(len(r.exact)+len(r.fold))
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// lower lower-cases ASCII letters only: every case-insensitive operator
// of matchd folds ASCII, as the automaton does.
func lower(s string) string {
	if !hasUpper(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
