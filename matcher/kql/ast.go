package kql

import (
	"strconv"
	"strings"
)

// Query is one parsed query: a table, its where predicate, projection,
// ordering and row limit, with its let statements already substituted.
type Query struct {
	// Name is the first line of the comment block above the query, else
	// "file:line".
	Name string
	File string
	Pos  Pos // of the query's first token (its first let, else its table)

	Table    string
	TablePos Pos

	// Where is the conjunction of the query's where operators; nil when
	// it has none (every record of the table matches).
	Where Expr

	// Project is the project list in order; nil when the query has no
	// project operator (alerts then carry every column of the record).
	Project []ProjectCol

	OrderBy []OrderKey
	OrderAt Pos // of "order", when OrderBy is set

	// Take is the take operator's row count, -1 when there is none.
	Take   int64
	TakeAt Pos
}

// ProjectCol is one column of a project list: Name = Col, or Col alone
// (Name == Col).
type ProjectCol struct {
	Name, Col string
	Pos       Pos
}

// OrderKey is one key of an order by: Col [asc|desc] [nulls first|last].
// Kusto's defaults apply: descending, nulls last when descending and first
// when ascending.
type OrderKey struct {
	Col        string
	Desc       bool
	NullsFirst bool
	Pos        Pos
}

// Expr is a node of a where predicate: *Logic, *Not, *Cmp or *Call.
type Expr interface {
	exprPos() Pos
	write(b *strings.Builder)
}

// Logic is a conjunction (Op "and") or disjunction (Op "or").
type Logic struct {
	Op   string
	L, R Expr
	Pos  Pos
}

// Not is not(X).
type Not struct {
	X   Expr
	Pos Pos
}

// Cmp is Col OP RHS: a comparison, string or list operator. Op is spelled as
// in the query ("==", "in~", "!has", "has_any", …).
type Cmp struct {
	Col    string
	ColPos Pos
	Op     string
	OpPos  Pos
	RHS    []Item
	// List marks an operator whose right side is a parenthesized list
	// (in, !in, in~, !in~, has_any, has_all).
	List bool
}

// Call is one of the functions of the subset applied to a column:
// isempty, isnotempty, ipv4_is_private (no Args) or ipv4_is_in_range (one
// Arg, the range or list of ranges).
type Call struct {
	Fn     string
	Col    string
	ColPos Pos
	Args   []Item
	Pos    Pos
}

func (e *Logic) exprPos() Pos { return e.Pos }
func (e *Not) exprPos() Pos   { return e.Pos }
func (e *Cmp) exprPos() Pos   { return e.ColPos }
func (e *Call) exprPos() Pos  { return e.Pos }

// Item is one element of a right side: a literal, the elements of a
// dynamic list (from a let or written inline), or one of the predefined
// feed lists (matchd_ips, …), which are filled when rules are compiled.
type Item struct {
	Lit Literal
	// List is the name of the let that held Elems, or of the feed list;
	// "" for an inline literal or dynamic([…]).
	List  string
	Elems []Literal
	IsSeq bool // Elems is a list (a dynamic([…]) or a list let)
	Feed  bool // List names a feed list; Elems is empty until compiled
	Pos   Pos
}

// Literal is a string, number or bool constant.
type Literal struct {
	Kind LitKind
	Str  string  // the string; for numbers, the text as written
	Num  float64 // numbers
	Bool bool
}

// LitKind is the type of a Literal.
type LitKind uint8

const (
	LitString LitKind = iota
	LitNumber
	LitBool
)

// String returns the query in matchd's canonical KQL form: lets
// substituted, one line, operators and literals normalised. Parsing the
// result gives a query with the same canonical form.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString(ident(q.Table))
	if q.Where != nil {
		b.WriteString(" | where ")
		q.Where.write(&b)
	}
	if q.Project != nil {
		b.WriteString(" | project ")
		for i, p := range q.Project {
			if i > 0 {
				b.WriteString(", ")
			}
			if p.Name != p.Col {
				b.WriteString(ident(p.Name))
				b.WriteString(" = ")
			}
			b.WriteString(ident(p.Col))
		}
	}
	if q.OrderBy != nil {
		b.WriteString(" | order by ")
		for i, k := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ident(k.Col))
			if k.Desc {
				b.WriteString(" desc")
			} else {
				b.WriteString(" asc")
			}
			if k.NullsFirst {
				b.WriteString(" nulls first")
			} else {
				b.WriteString(" nulls last")
			}
		}
	}
	if q.Take >= 0 {
		b.WriteString(" | take ")
		b.WriteString(strconv.FormatInt(q.Take, 10))
	}
	return b.String()
}

func (e *Logic) write(b *strings.Builder) {
	b.WriteByte('(')
	e.L.write(b)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	b.WriteByte(' ')
	e.R.write(b)
	b.WriteByte(')')
}

func (e *Not) write(b *strings.Builder) {
	b.WriteString("not(")
	e.X.write(b)
	b.WriteByte(')')
}

func (e *Cmp) write(b *strings.Builder) {
	b.WriteString(ident(e.Col))
	b.WriteByte(' ')
	b.WriteString(e.Op)
	b.WriteByte(' ')
	if e.List {
		b.WriteByte('(')
		writeItems(b, e.RHS)
		b.WriteByte(')')
		return
	}
	writeItems(b, e.RHS)
}

func (e *Call) write(b *strings.Builder) {
	b.WriteString(e.Fn)
	b.WriteByte('(')
	b.WriteString(ident(e.Col))
	for _, a := range e.Args {
		b.WriteString(", ")
		writeItems(b, []Item{a})
	}
	b.WriteByte(')')
}

func writeItems(b *strings.Builder, items []Item) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case it.Feed:
			b.WriteString(it.List)
		case it.IsSeq:
			b.WriteString("dynamic([")
			for j, l := range it.Elems {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(l.String())
			}
			b.WriteString("])")
		default:
			b.WriteString(it.Lit.String())
		}
	}
}

// String returns the literal as KQL source.
func (l Literal) String() string {
	switch l.Kind {
	case LitNumber:
		return l.Str
	case LitBool:
		return strconv.FormatBool(l.Bool)
	}
	return quote(l.Str)
}

// ident returns name as KQL source: bare when it is a plain identifier and
// not a keyword, else ['name'].
func ident(name string) string {
	plain := name != "" && isIdentStart(name[0]) && !isKeyword(name)
	for i := 0; plain && i < len(name); i++ {
		plain = isIdentChar(name[i])
	}
	if plain {
		return name
	}
	return "[" + quote(name) + "]"
}

// isKeyword reports words that cannot be bare column or table names.
func isKeyword(w string) bool {
	switch w {
	case "and", "or", "not", "let", "where", "project", "order", "by", "take", "asc", "desc", "nulls", "first", "last",
		"in", "has", "has_any", "has_all", "contains", "startswith", "endswith", "true", "false", "dynamic",
		"isempty", "isnotempty", "ipv4_is_in_range", "ipv4_is_private":
		return true
	}
	return false
}
