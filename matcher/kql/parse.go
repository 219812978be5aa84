package kql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/matchd/matchd/matcher"
)

// ParseError is an error at a position of a rule file.
type ParseError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// ErrorList is every error found in the rule files, in file order. Parse
// and Compile report at most maxErrors per file.
type ErrorList []*ParseError

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

const maxErrors = 20

// Feed list names: predefined lists that hold the values of the loaded
// feed's indicators.
const (
	FeedIPs     = "matchd_ips"
	FeedURLs    = "matchd_urls"
	FeedDomains = "matchd_domains"
	FeedHashes  = "matchd_hashes"
)

func isFeedList(name string) bool {
	switch name {
	case FeedIPs, FeedURLs, FeedDomains, FeedHashes:
		return true
	}
	return false
}

// bailout unwinds the parse of one query after an error.
type bailout struct{}

type parser struct {
	lx    *lexer
	file  string
	tok   token
	errs  ErrorList
	scope map[string]Item
	// prevEnd is the line of the last token of the previous query, for
	// rule names.
	prevEnd int
	last    token // the last token consumed
	ahead   *token
	depth   int // nesting of parentheses and not()
}

// maxDepth bounds the nesting of predicates, so that a hostile rule file
// cannot exhaust the stack.
const maxDepth = 256

// Parse parses the queries of one rule file. name is the file name used in
// positions and default rule names. It returns the queries that parsed and,
// when any did not, an ErrorList; parsing resumes after an error at the
// next line that starts with let or a name in column 1.
func Parse(name string, src []byte) ([]*Query, error) {
	p := &parser{lx: newLexer(string(src)), file: name}
	if !utf8.Valid(src) {
		i := 0
		for i < len(src) {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		line := 1 + strings.Count(string(src[:i]), "\n")
		col := i - strings.LastIndexByte(string(src[:i]), '\n')
		return nil, ErrorList{{name, line, col, "invalid UTF-8"}}
	}
	p.advance()
	var qs []*Query
	for p.tok.kind != tokEOF && len(p.errs) < maxErrors {
		if q := p.query(); q != nil {
			qs = append(qs, q)
		}
	}
	if len(p.errs) > 0 {
		return qs, p.errs
	}
	return qs, nil
}

func (p *parser) advance() {
	p.last = p.tok
	if p.ahead != nil {
		p.tok, p.ahead = *p.ahead, nil
		return
	}
	p.tok = p.lx.next()
}

// peek returns the token after the current one.
func (p *parser) peek() token {
	if p.ahead == nil {
		t := p.lx.next()
		p.ahead = &t
	}
	return *p.ahead
}

func (p *parser) errorAt(pos Pos, format string, a ...any) {
	p.errs = append(p.errs, &ParseError{p.file, pos.Line, pos.Col, fmt.Sprintf(format, a...)})
	panic(bailout{})
}

// fail reports an error at the current token (a lexical error's own
// message when the token is one).
func (p *parser) fail(format string, a ...any) {
	if p.tok.kind == tokError {
		p.errorAt(p.tok.pos, "%s", p.tok.text)
	}
	p.errorAt(p.tok.pos, format, a...)
}

func (p *parser) expectOp(op, context string) Pos {
	if !p.tok.is(tokOp, op) {
		p.fail("expected %q %s, found %s", op, context, p.tok.describe())
	}
	pos := p.tok.pos
	p.advance()
	return pos
}

func (p *parser) isWord(w string) bool {
	return p.tok.kind == tokIdent && !p.tok.quoted && p.tok.text == w
}

// query parses one query, or records an error and skips to the next query.
func (p *parser) query() (q *Query) {
	first := p.tok
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			q = nil
			p.recover(first)
		}
		p.prevEnd = p.last.pos.Line
	}()
	p.depth = 0
	q = &Query{File: p.file, Pos: first.pos, Take: -1, Name: p.ruleName(first.pos)}
	p.scope = map[string]Item{}
	for p.isWord("let") {
		p.let()
	}
	if p.tok.kind != tokIdent {
		p.fail("expected a table name, found %s", p.tok.describe())
	}
	if !p.tok.quoted {
		switch p.tok.text {
		case "print", "union", "datatable", "search", "range", "find", "set", "declare", "evaluate", "materialize", "externaldata", "alias", "pattern", "restrict":
			p.fail("unsupported statement %q", p.tok.text)
		}
	}
	q.Table, q.TablePos = p.tok.text, p.tok.pos
	if matcher.ParseTable([]byte(q.Table)) == matcher.TableUnknown || matcher.ParseTable([]byte(q.Table)).String() != q.Table {
		p.fail("unknown table %q (matchd ingests %s)", q.Table, tableList())
	}
	p.advance()
	for p.tok.is(tokOp, "|") {
		p.advance()
		p.tabular(q)
	}
	if p.tok.is(tokOp, ";") {
		p.advance()
	} else if p.tok.kind != tokEOF && !p.tok.lineStart {
		p.fail("unexpected %s after the query (a query ends at the end of its last line)", p.tok.describe())
	}
	if p.tok.kind != tokEOF && !p.isWord("let") && p.tok.kind != tokIdent {
		p.fail("unexpected %s after the query", p.tok.describe())
	}
	return q
}

func tableList() string {
	var names []string
	for _, t := range matcher.Tables() {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// recover skips to the start of the next query: a token in column 1 at the
// start of its line that is a name (let or a table). It always moves past
// the query's first token so that parsing progresses.
func (p *parser) recover(first token) {
	if p.tok.pos == first.pos {
		p.advance()
	}
	for p.tok.kind != tokEOF {
		if p.tok.lineStart && p.tok.pos.Col == 1 && p.tok.kind == tokIdent && p.tok.pos != first.pos {
			return
		}
		p.advance()
	}
}

// ruleName returns the first non-empty line of the last block of
// consecutive comment lines between the previous query and the query
// starting at pos, else "file:line".
func (p *parser) ruleName(pos Pos) string {
	cs := p.lx.comments
	end := len(cs)
	for end > 0 && cs[end-1].line >= pos.Line {
		end--
	}
	start := end
	for start > 0 && cs[start-1].line > p.prevEnd && (start == end || cs[start-1].line == cs[start].line-1) {
		start--
	}
	for _, c := range cs[start:end] {
		if c.text != "" {
			return c.text
		}
	}
	return fmt.Sprintf("%s:%d", p.file, pos.Line)
}

// let parses "let NAME = VALUE;".
func (p *parser) let() {
	p.advance()
	if p.tok.kind != tokIdent {
		p.fail("expected a name after let, found %s", p.tok.describe())
	}
	name, npos := p.tok.text, p.tok.pos
	if isFeedList(name) {
		p.fail("%s is predefined (the loaded feeds' indicators); choose another name", name)
	}
	if isKeyword(name) && !p.tok.quoted {
		p.fail("%q is a keyword, not a name", name)
	}
	p.advance()
	p.expectOp("=", "after let "+name)
	var it Item
	switch {
	case p.isWord("dynamic"):
		it = p.dynamic()
		it.List = name
	case p.tok.kind == tokString || p.tok.kind == tokNumber || p.tok.is(tokOp, "-"):
		it = Item{Lit: p.literal(false), Pos: npos}
	default:
		p.fail("unsupported let value %s (matchd's KQL subset has dynamic([…]) lists of strings and numbers, strings and numbers)", p.tok.describe())
	}
	if !p.tok.is(tokOp, ";") {
		p.fail("expected \";\" after let %s, found %s", name, p.tok.describe())
	}
	p.advance()
	it.Pos = npos
	p.scope[name] = it
}

// dynamic parses dynamic([lit, …]).
func (p *parser) dynamic() Item {
	pos := p.tok.pos
	p.advance()
	p.expectOp("(", "after dynamic")
	if p.tok.kind == tokIdent && p.tok.quoted {
		// ["a"] lexes as a quoted name.
		it := Item{IsSeq: true, Pos: pos, Elems: []Literal{{Kind: LitString, Str: p.tok.text}}}
		p.advance()
		p.expectOp(")", "after dynamic list")
		return it
	}
	if !p.tok.is(tokOp, "[") {
		p.fail("unsupported dynamic value %s (matchd's KQL subset has dynamic([…]) lists of strings and numbers)", p.tok.describe())
	}
	p.advance()
	it := Item{IsSeq: true, Pos: pos, Elems: []Literal{}}
	for !p.tok.is(tokOp, "]") {
		if p.tok.kind == tokIdent && p.tok.quoted {
			p.fail("unsupported list element \"[\" (dynamic lists hold strings and numbers)")
		}
		if p.tok.kind != tokString && p.tok.kind != tokNumber && !p.tok.is(tokOp, "-") {
			p.fail("unsupported list element %s (dynamic lists hold strings and numbers)", p.tok.describe())
		}
		it.Elems = append(it.Elems, p.literal(false))
		if p.tok.is(tokOp, ",") {
			p.advance()
			continue
		}
		if !p.tok.is(tokOp, "]") {
			p.fail("expected \",\" or \"]\" in dynamic list, found %s", p.tok.describe())
		}
	}
	p.advance()
	p.expectOp(")", "after dynamic list")
	return it
}

// literal parses a string, a number (with an optional minus sign) or, when
// bools is set, true or false.
func (p *parser) literal(bools bool) Literal {
	switch {
	case p.tok.kind == tokString:
		l := Literal{Kind: LitString, Str: p.tok.text}
		p.advance()
		return l
	case p.tok.is(tokOp, "-") || p.tok.kind == tokNumber:
		neg := ""
		if p.tok.kind == tokOp {
			p.advance()
			if p.tok.kind != tokNumber {
				p.fail("expected a number after \"-\", found %s", p.tok.describe())
			}
			neg = "-"
		}
		f, _ := strconv.ParseFloat(p.tok.text, 64) // validated by the lexer
		l := Literal{Kind: LitNumber, Str: neg + p.tok.text, Num: f}
		if neg != "" {
			l.Num = -f
		}
		p.advance()
		return l
	case bools && (p.isWord("true") || p.isWord("false")):
		l := Literal{Kind: LitBool, Bool: p.tok.text == "true"}
		p.advance()
		return l
	}
	p.fail("expected a literal, found %s", p.tok.describe())
	return Literal{}
}

// tabular parses the operator after a '|'.
func (p *parser) tabular(q *Query) {
	if p.tok.kind != tokIdent || p.tok.quoted {
		p.fail("expected a tabular operator after \"|\", found %s", p.tok.describe())
	}
	op, pos := p.tok.text, p.tok.pos
	switch op {
	case "where":
		switch {
		case q.Project != nil:
			p.fail("where after project is not supported (filter before projecting)")
		case q.OrderBy != nil || q.Take >= 0:
			p.fail("where after order by or take is not supported")
		}
		p.advance()
		e := p.or()
		if q.Where == nil {
			q.Where = e
		} else {
			q.Where = &Logic{Op: "and", L: q.Where, R: e, Pos: pos}
		}
	case "project":
		switch {
		case q.Project != nil:
			p.fail("a second project is not supported")
		case q.OrderBy != nil || q.Take >= 0:
			p.fail("project after order by or take is not supported")
		}
		p.advance()
		p.project(q)
	case "order":
		switch {
		case q.OrderBy != nil:
			p.fail("a second order by is not supported")
		case q.Take >= 0:
			p.fail("take before order by is not supported")
		}
		p.advance()
		if !p.isWord("by") {
			p.fail("expected \"by\" after order, found %s", p.tok.describe())
		}
		p.advance()
		q.OrderAt = pos
		p.orderBy(q)
	case "take":
		if q.Take >= 0 {
			p.fail("a second take is not supported")
		}
		p.advance()
		if p.tok.kind != tokNumber {
			p.fail("expected a row count after take, found %s", p.tok.describe())
		}
		n, err := strconv.ParseInt(p.tok.text, 10, 64)
		if err != nil || n < 0 {
			p.fail("take needs a whole number of rows, found %s", p.tok.text)
		}
		q.Take, q.TakeAt = n, pos
		p.advance()
	case "sort":
		p.fail("unsupported tabular operator \"sort\" (matchd's KQL subset spells it order by)")
	case "limit":
		p.fail("unsupported tabular operator \"limit\" (matchd's KQL subset spells it take)")
	default:
		p.fail("unsupported tabular operator %q", op)
	}
}

func (p *parser) project(q *Query) {
	seen := map[string]bool{}
	q.Project = []ProjectCol{}
	for {
		if p.tok.kind != tokIdent {
			p.fail("expected a column name in project, found %s", p.tok.describe())
		}
		c := ProjectCol{Name: p.tok.text, Col: p.tok.text, Pos: p.tok.pos}
		p.advance()
		if p.tok.is(tokOp, "=") {
			p.advance()
			if p.tok.kind != tokIdent {
				p.fail("project supports columns and renames (NAME = COLUMN) only, found %s", p.tok.describe())
			}
			c.Col = p.tok.text
			p.advance()
		}
		if p.tok.is(tokOp, "(") {
			p.errorAt(p.last.pos, "unsupported function %q", p.last.text)
		}
		if p.tok.kind == tokOp && !p.tok.is(tokOp, ",") && !p.tok.is(tokOp, "|") && !p.tok.is(tokOp, ";") {
			p.fail("project supports columns and renames (NAME = COLUMN) only, found %s", p.tok.describe())
		}
		if seen[c.Name] {
			p.errorAt(c.Pos, "column %q appears twice in project", c.Name)
		}
		seen[c.Name] = true
		q.Project = append(q.Project, c)
		if !p.tok.is(tokOp, ",") {
			return
		}
		p.advance()
	}
}

func (p *parser) orderBy(q *Query) {
	q.OrderBy = []OrderKey{}
	for {
		if p.tok.kind != tokIdent {
			p.fail("expected a column name in order by, found %s", p.tok.describe())
		}
		k := OrderKey{Col: p.tok.text, Desc: true, Pos: p.tok.pos}
		if q.Project != nil {
			found := false
			for _, c := range q.Project {
				found = found || c.Name == k.Col
			}
			if !found {
				p.fail("order by %s: not a column of the project list", k.Col)
			}
		}
		p.advance()
		switch {
		case p.isWord("asc"):
			k.Desc = false
			p.advance()
		case p.isWord("desc"):
			p.advance()
		}
		k.NullsFirst = !k.Desc
		if p.isWord("nulls") {
			p.advance()
			switch {
			case p.isWord("first"):
				k.NullsFirst = true
			case p.isWord("last"):
				k.NullsFirst = false
			default:
				p.fail("expected first or last after nulls, found %s", p.tok.describe())
			}
			p.advance()
		}
		q.OrderBy = append(q.OrderBy, k)
		if !p.tok.is(tokOp, ",") {
			return
		}
		p.advance()
	}
}

// or parses a disjunction; and binds tighter than or, as in Kusto.
func (p *parser) or() Expr {
	e := p.and()
	for p.isWord("or") {
		pos := p.tok.pos
		p.advance()
		e = &Logic{Op: "or", L: e, R: p.and(), Pos: pos}
	}
	return e
}

func (p *parser) and() Expr {
	e := p.unary()
	for p.isWord("and") {
		pos := p.tok.pos
		p.advance()
		e = &Logic{Op: "and", L: e, R: p.unary(), Pos: pos}
	}
	return e
}

func (p *parser) unary() Expr {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		p.fail("predicate nested more than %d deep", maxDepth)
	}
	switch {
	case p.tok.is(tokOp, "("):
		p.advance()
		e := p.or()
		p.expectOp(")", "to close the parenthesis")
		return e
	case p.tok.kind == tokIdent && !p.tok.quoted:
		switch p.tok.text {
		case "not":
			pos := p.tok.pos
			p.advance()
			p.expectOp("(", "after not")
			e := p.or()
			p.expectOp(")", "to close not(")
			return &Not{X: e, Pos: pos}
		case "and", "or":
			p.fail("expected a predicate before %q", p.tok.text)
		case "true", "false":
			p.fail("unsupported constant predicate %q", p.tok.text)
		}
		name, pos := p.tok.text, p.tok.pos
		p.advance()
		if p.tok.is(tokOp, "(") {
			return p.call(name, pos)
		}
		return p.cmp(name, pos)
	case p.tok.kind == tokIdent:
		name, pos := p.tok.text, p.tok.pos
		p.advance()
		return p.cmp(name, pos)
	}
	p.fail("expected a predicate, found %s", p.tok.describe())
	return nil
}

func (p *parser) column(what string) (string, Pos) {
	if p.tok.kind != tokIdent {
		p.fail("%s: expected a column, found %s", what, p.tok.describe())
	}
	name, pos := p.tok.text, p.tok.pos
	if _, ok := p.scope[name]; ok || isFeedList(name) {
		p.fail("%s: expected a column, found the list or value %q", what, name)
	}
	p.advance()
	if p.tok.is(tokOp, "(") {
		p.errorAt(pos, "unsupported function %q", name)
	}
	return name, pos
}

func (p *parser) call(fn string, pos Pos) Expr {
	switch fn {
	case "isempty", "isnotempty", "ipv4_is_private", "ipv4_is_in_range":
	default:
		p.errorAt(pos, "unsupported function %q", fn)
	}
	p.advance() // (
	c := &Call{Fn: fn, Pos: pos}
	c.Col, c.ColPos = p.column(fn)
	if fn == "ipv4_is_in_range" {
		p.expectOp(",", "after the address of ipv4_is_in_range")
		it := p.item(false)
		p.checkStrings(fn, []Item{it}, false)
		c.Args = []Item{it}
	}
	p.expectOp(")", "to close "+fn+"(")
	return c
}

// cmp parses the operator and right side after the column col.
func (p *parser) cmp(col string, colPos Pos) Expr {
	if _, ok := p.scope[col]; ok || isFeedList(col) {
		p.errorAt(colPos, "the left side of a comparison must be a column, not the list or value %q", col)
	}
	op, opPos := p.tok.text, p.tok.pos
	if p.tok.kind != tokOp && p.tok.kind != tokIdent || p.tok.quoted {
		p.fail("expected an operator after column %s, found %s", col, p.tok.describe())
	}
	c := &Cmp{Col: col, ColPos: colPos, Op: op, OpPos: opPos}
	switch op {
	case "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "has", "!has", "contains", "!contains", "startswith", "endswith":
		p.advance()
		it := p.item(op == "==" || op == "!=")
		if it.IsSeq || it.Feed {
			p.errorAt(it.Pos, "%s needs a single value; %s is a list (use in or has_any)", op, itemName(it))
		}
		switch op {
		case "<", "<=", ">", ">=":
			if it.Lit.Kind != LitNumber {
				p.errorAt(it.Pos, "%s compares numbers, found %s", op, it.Lit.String())
			}
		case "==", "!=":
		default:
			p.checkStrings(op, []Item{it}, op != "=~" && op != "!~")
		}
		c.RHS = []Item{it}
	case "in", "!in", "in~", "!in~", "has_any", "has_all":
		p.advance()
		c.List = true
		p.expectOp("(", "after "+op)
		for !p.tok.is(tokOp, ")") {
			c.RHS = append(c.RHS, p.item(false))
			if p.tok.is(tokOp, ",") {
				p.advance()
				continue
			}
			if !p.tok.is(tokOp, ")") {
				p.fail("expected \",\" or \")\" in the list of %s, found %s", op, p.tok.describe())
			}
		}
		p.advance()
		switch op {
		case "in", "!in":
			p.checkUniform(op, c.RHS)
		default:
			p.checkStrings(op, c.RHS, op == "has_any" || op == "has_all")
		}
	case "=":
		p.fail("unsupported operator \"=\" (use ==)")
	case "|", ")", ",", ";", "":
		p.fail("expected an operator after column %s, found %s", col, p.tok.describe())
	default:
		if op == "and" || op == "or" {
			p.fail("expected an operator after column %s, found %q (a column alone is not a predicate)", col, op)
		}
		p.fail("unsupported operator %q", op)
	}
	return c
}

func itemName(it Item) string {
	if it.List != "" {
		return it.List
	}
	return "dynamic([…])"
}

// item parses one right-side element: a literal, dynamic([…]), a let name
// or a feed list name.
func (p *parser) item(bools bool) Item {
	pos := p.tok.pos
	switch {
	case p.tok.kind == tokString || p.tok.kind == tokNumber || p.tok.is(tokOp, "-"):
		return Item{Lit: p.literal(false), Pos: pos}
	case p.isWord("true") || p.isWord("false"):
		if !bools {
			p.fail("unexpected %s (true and false compare with == and != only)", p.tok.text)
		}
		return Item{Lit: p.literal(true), Pos: pos}
	case p.isWord("dynamic"):
		return p.dynamic()
	case p.tok.kind == tokIdent:
		name := p.tok.text
		if p.peek().is(tokOp, "(") {
			p.fail("unsupported function %q", name)
		}
		if isFeedList(name) {
			p.advance()
			return Item{List: name, IsSeq: true, Feed: true, Pos: pos}
		}
		v, ok := p.scope[name]
		if !ok {
			p.fail("unknown name %q (the right side must be a literal, a let name or a matchd_* feed list; comparing two columns is not supported)", name)
		}
		p.advance()
		v.Pos = pos
		return v
	}
	p.fail("expected a value, found %s", p.tok.describe())
	return Item{}
}

// checkStrings requires string elements, non-empty ones when nonEmpty is set
// (search operators: an empty term matches every value).
func (p *parser) checkStrings(op string, items []Item, nonEmpty bool) {
	for _, it := range items {
		if it.Feed {
			continue
		}
		for _, l := range itemLits(it) {
			if l.Kind != LitString {
				p.errorAt(it.Pos, "%s needs strings, found %s", op, l.String())
			}
			if nonEmpty && l.Str == "" {
				p.errorAt(it.Pos, "%s with an empty string is not supported (it matches every value)", op)
			}
		}
	}
}

// checkUniform requires in/!in elements to be all strings or all numbers.
func (p *parser) checkUniform(op string, items []Item) {
	var kind LitKind
	seen := false
	for _, it := range items {
		if it.Feed {
			if seen && kind != LitString {
				p.errorAt(it.Pos, "%s mixes numbers and strings", op)
			}
			kind, seen = LitString, true
			continue
		}
		for _, l := range itemLits(it) {
			if seen && l.Kind != kind {
				p.errorAt(it.Pos, "%s mixes numbers and strings", op)
			}
			kind, seen = l.Kind, true
		}
	}
}

func itemLits(it Item) []Literal {
	if it.IsSeq {
		return it.Elems
	}
	return []Literal{it.Lit}
}
