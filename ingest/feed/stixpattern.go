package feed

import (
	"errors"
	"fmt"
	"strings"

	"github.com/matchd/matchd/matcher"
)

// This file parses STIX 2.1 patterns and reduces them to the values an
// indicator list can hold. A pattern is representable when it is a
// disjunction (OR, IN) of equality comparisons on ipv4-addr:value,
// ipv6-addr:value, url:value, domain-name:value or file:hashes (MD5, SHA-1,
// SHA-256): each value then is one indicator, and a log record matching any
// of them matches the pattern. AND, FOLLOWEDBY, NOT, other operators, other
// object paths and qualifiers (WITHIN, REPEATS, START/STOP) constrain more
// than one value or more than a value, which independent indicators cannot
// express: such parts are unrepresentable. The OR branches of a pattern that
// are representable still yield indicators, since matching any of them
// satisfies the pattern.

// patNode is a node of a parsed pattern.
type patNode struct {
	kind  patKind
	kids  []*patNode // patObsAnd, patObsOr, patFollowedBy, patCmpAnd, patCmpOr; patObs: one comparison expression
	quals []string   // patObs: qualifiers, as written in canonical form

	// patCmp
	path  objectPath
	not   bool
	op    string // "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"
	lits  []patLit
	paren bool // the comparison expression was parenthesised (kept for printing)
}

type patKind uint8

const (
	patFollowedBy patKind = iota
	patObsOr
	patObsAnd
	patObs
	patCmpOr
	patCmpAnd
	patCmp
)

// objectPath is an object path such as file:hashes.'SHA-256': the object
// type and the property steps, each a name or a list index ("[0]", "[*]").
type objectPath struct {
	typ   string
	steps []string
}

// patLit is a literal: a string (kind 's'), a prefixed string (kind 'h',
// 'b' or 't', for hex, binary and timestamp), a number ('n') or a boolean
// ('B'). text is the unescaped string, or the number or boolean as written.
type patLit struct {
	kind byte
	text string
}

// maxPatDepth bounds the nesting of patterns, so that hostile input cannot
// exhaust the stack.
const maxPatDepth = 100

type patToken struct {
	kind byte   // '[', ']', '(', ')', ',', 'o' operator, 'k' keyword, 'p' object path, 'l' literal, 'i' other word
	text string // operator, keyword (upper-cased), word
	path objectPath
	lit  patLit
	off  int
}

// lexPattern cuts a pattern into tokens.
func lexPattern(s string) ([]patToken, error) {
	var toks []patToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case strings.IndexByte("[](),", c) >= 0:
			toks = append(toks, patToken{kind: c, off: i})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && (s[j] == '=' || c == '<' && s[j] == '>') {
				j++
			}
			op := s[i:j]
			switch op {
			case "!":
				return nil, fmt.Errorf("unexpected '!' at offset %d", i)
			case "==":
				op = "="
			case "<>":
				op = "!="
			}
			toks = append(toks, patToken{kind: 'o', text: op, off: i})
			i = j
		case c == '\'':
			text, n, err := patString(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%v at offset %d", err, i)
			}
			toks = append(toks, patToken{kind: 'l', lit: patLit{kind: 's', text: text}, off: i})
			i += n
		case c == '-' || c == '+' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			toks = append(toks, patToken{kind: 'l', lit: patLit{kind: 'n', text: s[i:j]}, off: i})
			i = j
		case isLetter(c) || c == '_':
			j := i
			for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-') {
				j++
			}
			word := s[i:j]
			switch {
			case j < len(s) && s[j] == ':':
				p, n, err := lexPath(s[j+1:])
				if err != nil {
					return nil, fmt.Errorf("%v at offset %d", err, j+1)
				}
				p.typ = word
				toks = append(toks, patToken{kind: 'p', path: p, off: i})
				i = j + 1 + n
			case len(word) == 1 && strings.IndexByte("hbt", word[0]) >= 0 && j < len(s) && s[j] == '\'':
				text, n, err := patString(s[j:])
				if err != nil {
					return nil, fmt.Errorf("%v at offset %d", err, j)
				}
				toks = append(toks, patToken{kind: 'l', lit: patLit{kind: word[0], text: text}, off: i})
				i = j + n
			default:
				up := strings.ToUpper(word)
				switch up {
				case "TRUE", "FALSE":
					toks = append(toks, patToken{kind: 'l', lit: patLit{kind: 'B', text: strings.ToLower(word)}, off: i})
				case "AND", "OR", "NOT", "FOLLOWEDBY", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS",
					"WITHIN", "SECONDS", "REPEATS", "TIMES", "START", "STOP":
					toks = append(toks, patToken{kind: 'k', text: up, off: i})
				default:
					return nil, fmt.Errorf("unexpected word %s at offset %d", quote(word), i)
				}
				i = j
			}
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
		}
	}
	return toks, nil
}

// patString reads the quoted string at the start of s, where \' and \\ are
// the only escapes, and returns it and the bytes it took.
func patString(s string) (string, int, error) {
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || s[i+1] != '\'' && s[i+1] != '\\' {
				return "", 0, errors.New(`invalid escape in string (only \' and \\)`)
			}
			i++
			sb.WriteByte(s[i])
		case '\'':
			return sb.String(), i + 1, nil
		default:
			sb.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated string")
}

// lexPath reads the property part of an object path (after the ':').
func lexPath(s string) (objectPath, int, error) {
	var p objectPath
	i := 0
	name := func() error {
		if i < len(s) && s[i] == '\'' {
			text, n, err := patString(s[i:])
			if err != nil {
				return err
			}
			p.steps = append(p.steps, text)
			i += n
			return nil
		}
		j := i
		for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-') {
			j++
		}
		if j == i {
			return errors.New("missing property name in object path")
		}
		p.steps = append(p.steps, s[i:j])
		i = j
		return nil
	}
	if err := name(); err != nil {
		return p, 0, err
	}
	for i < len(s) {
		switch {
		case s[i] == '.':
			i++
			if err := name(); err != nil {
				return p, 0, err
			}
		case s[i] == '[' && i+2 < len(s) && (s[i+1] == '*' || s[i+1] >= '0' && s[i+1] <= '9'):
			j := i + 1
			for j < len(s) && s[j] != ']' {
				if s[j] != '*' && (s[j] < '0' || s[j] > '9') {
					return p, 0, errors.New("invalid list index in object path")
				}
				j++
			}
			if j == len(s) {
				return p, 0, errors.New("unclosed list index in object path")
			}
			p.steps = append(p.steps, s[i:j+1])
			i = j + 1
		default:
			return p, i, nil
		}
	}
	return p, i, nil
}

// patParser is a recursive-descent parser over the tokens of a pattern.
type patParser struct {
	toks  []patToken
	pos   int
	depth int
}

// parsePattern parses a STIX 2.1 pattern.
func parsePattern(s string) (*patNode, error) {
	toks, err := lexPattern(s)
	if err != nil {
		return nil, err
	}
	p := &patParser{toks: toks}
	n, err := p.followedBy()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.unexpected()
	}
	return n, nil
}

func (p *patParser) peek() *patToken {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *patParser) isKeyword(kw string) bool {
	t := p.peek()
	return t != nil && t.kind == 'k' && t.text == kw
}

func (p *patParser) unexpected() error {
	t := p.peek()
	if t == nil {
		return errors.New("unexpected end of pattern")
	}
	return fmt.Errorf("unexpected token at offset %d", t.off)
}

func (p *patParser) expect(kind byte) error {
	if t := p.peek(); t == nil || t.kind != kind {
		if t == nil {
			return fmt.Errorf("missing %q at end of pattern", kind)
		}
		return fmt.Errorf("want %q at offset %d", kind, t.off)
	}
	p.pos++
	return nil
}

func (p *patParser) enter() error {
	p.depth++
	if p.depth > maxPatDepth {
		return errors.New("pattern nested too deeply")
	}
	return nil
}

// binary parses a left-associative chain of sub separated by keyword kw.
func (p *patParser) binary(kind patKind, kw string, sub func() (*patNode, error)) (*patNode, error) {
	n, err := sub()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword(kw) {
		return n, nil
	}
	node := &patNode{kind: kind, kids: []*patNode{n}}
	for p.isKeyword(kw) {
		p.pos++
		k, err := sub()
		if err != nil {
			return nil, err
		}
		node.kids = append(node.kids, k)
	}
	return node, nil
}

func (p *patParser) followedBy() (*patNode, error) {
	return p.binary(patFollowedBy, "FOLLOWEDBY", p.obsOr)
}

func (p *patParser) obsOr() (*patNode, error) { return p.binary(patObsOr, "OR", p.obsAnd) }

func (p *patParser) obsAnd() (*patNode, error) { return p.binary(patObsAnd, "AND", p.observation) }

// observation parses '[' comparison ']' or '(' observations ')', then
// qualifiers.
func (p *patParser) observation() (*patNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	var n *patNode
	switch {
	case t == nil:
		return nil, p.unexpected()
	case t.kind == '[':
		p.pos++
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		n = &patNode{kind: patObs, kids: []*patNode{c}}
	case t.kind == '(':
		p.pos++
		inner, err := p.followedBy()
		if err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		// Qualifiers on a parenthesised expression qualify it as a whole:
		// keep them on an observation node wrapping it.
		n = inner
		if p.isKeyword("WITHIN") || p.isKeyword("REPEATS") || p.isKeyword("START") {
			n = &patNode{kind: patObs, kids: []*patNode{inner}}
		}
	default:
		return nil, p.unexpected()
	}
	for {
		q, ok, err := p.qualifier()
		if err != nil {
			return nil, err
		}
		if !ok {
			return n, nil
		}
		n.quals = append(n.quals, q)
	}
}

// qualifier parses WITHIN n SECONDS, REPEATS n TIMES or START t'…' STOP
// t'…' into its canonical text.
func (p *patParser) qualifier() (string, bool, error) {
	lit := func(kind byte) (string, error) {
		t := p.peek()
		if t == nil || t.kind != 'l' || t.lit.kind != kind {
			return "", p.unexpected()
		}
		p.pos++
		return t.lit.text, nil
	}
	word := func(kw string) error {
		if !p.isKeyword(kw) {
			return p.unexpected()
		}
		p.pos++
		return nil
	}
	switch {
	case p.isKeyword("WITHIN"):
		p.pos++
		n, err := lit('n')
		if err != nil {
			return "", false, err
		}
		return "WITHIN " + n + " SECONDS", true, word("SECONDS")
	case p.isKeyword("REPEATS"):
		p.pos++
		n, err := lit('n')
		if err != nil {
			return "", false, err
		}
		return "REPEATS " + n + " TIMES", true, word("TIMES")
	case p.isKeyword("START"):
		p.pos++
		a, err := lit('t')
		if err != nil {
			return "", false, err
		}
		if err := word("STOP"); err != nil {
			return "", false, err
		}
		z, err := lit('t')
		if err != nil {
			return "", false, err
		}
		return "START " + stixQuote("t", a) + " STOP " + stixQuote("t", z), true, nil
	}
	return "", false, nil
}

func (p *patParser) cmpOr() (*patNode, error) { return p.binary(patCmpOr, "OR", p.cmpAnd) }

func (p *patParser) cmpAnd() (*patNode, error) { return p.binary(patCmpAnd, "AND", p.propTest) }

// propTest parses one comparison, EXISTS, or a parenthesised comparison
// expression.
func (p *patParser) propTest() (*patNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	switch {
	case t == nil:
		return nil, p.unexpected()
	case t.kind == '(':
		p.pos++
		n, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		n.paren = true
		return n, nil
	case t.kind == 'k' && t.text == "EXISTS":
		p.pos++
		pt := p.peek()
		if pt == nil || pt.kind != 'p' {
			return nil, p.unexpected()
		}
		p.pos++
		return &patNode{kind: patCmp, op: "EXISTS", path: pt.path}, nil
	case t.kind != 'p':
		return nil, p.unexpected()
	}
	p.pos++
	n := &patNode{kind: patCmp, path: t.path}
	if p.isKeyword("NOT") {
		p.pos++
		n.not = true
	}
	op := p.peek()
	switch {
	case op == nil:
		return nil, p.unexpected()
	case op.kind == 'o':
		n.op = op.text
	case op.kind == 'k' && (op.text == "IN" || op.text == "LIKE" || op.text == "MATCHES" || op.text == "ISSUBSET" || op.text == "ISSUPERSET"):
		n.op = op.text
	default:
		return nil, p.unexpected()
	}
	p.pos++
	if n.op != "IN" {
		l := p.peek()
		if l == nil || l.kind != 'l' {
			return nil, p.unexpected()
		}
		p.pos++
		n.lits = []patLit{l.lit}
		return n, nil
	}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	for {
		l := p.peek()
		if l == nil || l.kind != 'l' {
			return nil, p.unexpected()
		}
		p.pos++
		n.lits = append(n.lits, l.lit)
		if t := p.peek(); t != nil && t.kind == ',' {
			p.pos++
			continue
		}
		return n, p.expect(')')
	}
}

// String prints the node as a canonical pattern, which parses back to the
// same tree.
func (n *patNode) String() string {
	var sb strings.Builder
	n.write(&sb)
	return sb.String()
}

func (n *patNode) write(sb *strings.Builder) {
	join := func(sep string) {
		for i, k := range n.kids {
			if i > 0 {
				sb.WriteString(sep)
			}
			k.write(sb)
		}
	}
	switch n.kind {
	case patFollowedBy, patObsOr, patObsAnd:
		sb.WriteByte('(')
		join(map[patKind]string{patFollowedBy: " FOLLOWEDBY ", patObsOr: " OR ", patObsAnd: " AND "}[n.kind])
		sb.WriteByte(')')
	case patObs:
		switch k := n.kids[0]; {
		case k.kind >= patCmpOr:
			sb.WriteByte('[')
			k.write(sb)
			sb.WriteByte(']')
		case k.kind == patObs:
			sb.WriteByte('(')
			k.write(sb)
			sb.WriteByte(')')
		default:
			k.write(sb)
		}
	case patCmpOr, patCmpAnd:
		if n.paren {
			sb.WriteByte('(')
		}
		join(map[patKind]string{patCmpOr: " OR ", patCmpAnd: " AND "}[n.kind])
		if n.paren {
			sb.WriteByte(')')
		}
	case patCmp:
		if n.paren {
			sb.WriteByte('(')
		}
		if n.op == "EXISTS" {
			sb.WriteString("EXISTS ")
			sb.WriteString(n.path.String())
		} else {
			sb.WriteString(n.path.String())
			if n.not {
				sb.WriteString(" NOT")
			}
			sb.WriteString(" " + n.op + " ")
			if n.op == "IN" {
				sb.WriteByte('(')
			}
			for i, l := range n.lits {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(l.String())
			}
			if n.op == "IN" {
				sb.WriteByte(')')
			}
		}
		if n.paren {
			sb.WriteByte(')')
		}
	}
	for _, q := range n.quals {
		sb.WriteString(" " + q)
	}
}

func (p objectPath) String() string {
	var sb strings.Builder
	sb.WriteString(p.typ)
	for i, s := range p.steps {
		switch {
		case strings.HasPrefix(s, "[") && i > 0:
			sb.WriteString(s)
			continue
		case i == 0:
			sb.WriteByte(':')
		default:
			sb.WriteByte('.')
		}
		if plainName(s) {
			sb.WriteString(s)
		} else {
			sb.WriteString(stixQuote("", s))
		}
	}
	return sb.String()
}

// plainName reports whether a property name can be printed unquoted. The
// grammar quotes names with '-' ('SHA-256'); the lexer accepts them bare too,
// as some producers write them.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func (l patLit) String() string {
	switch l.kind {
	case 's':
		return stixQuote("", l.text)
	case 'h', 'b', 't':
		return stixQuote(string(l.kind), l.text)
	}
	return l.text
}

func stixQuote(prefix, s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return prefix + "'" + strings.ReplaceAll(s, `'`, `\'`) + "'"
}

// patValue is one representable value of a pattern.
type patValue struct {
	typ    matcher.IndicatorType
	value  string
	family int // 4 or 6 for ipv4-addr and ipv6-addr values, else 0
}

// reduce collects the representable values of the pattern n and the reasons
// its other parts are unrepresentable.
func (n *patNode) reduce(vals []patValue, unrep []string) ([]patValue, []string) {
	switch n.kind {
	case patObsOr, patCmpOr:
		for _, k := range n.kids {
			vals, unrep = k.reduce(vals, unrep)
		}
		if len(n.quals) > 0 {
			return vals, append(unrep, "qualifier "+n.quals[0])
		}
		return vals, unrep
	case patFollowedBy:
		return vals, append(unrep, "observations joined by FOLLOWEDBY")
	case patObsAnd:
		return vals, append(unrep, "observations joined by AND")
	case patCmpAnd:
		return vals, append(unrep, "comparisons joined by AND")
	case patObs:
		if len(n.quals) > 0 {
			return vals, append(unrep, "qualifier "+n.quals[0])
		}
		return n.kids[0].reduce(vals, unrep)
	}
	typ, family := n.path.indicatorType()
	switch {
	case typ == matcher.TypeInvalid:
		return vals, append(unrep, "object path "+n.path.String())
	case n.not:
		return vals, append(unrep, "NOT "+n.op+" on "+n.path.String())
	case n.op == "=" || n.op == "IN" || n.op == "ISSUBSET" && family != 0:
	default:
		return vals, append(unrep, "operator "+n.op+" on "+n.path.String())
	}
	for _, l := range n.lits {
		if l.kind != 's' {
			unrep = append(unrep, "non-string value "+l.String()+" for "+n.path.String())
			continue
		}
		vals = append(vals, patValue{typ: typ, value: l.text, family: family})
	}
	return vals, unrep
}

// indicatorType maps a representable object path to its indicator type, and
// for addresses the required family.
func (p objectPath) indicatorType() (matcher.IndicatorType, int) {
	switch {
	case len(p.steps) == 1 && p.steps[0] == "value":
		switch p.typ {
		case "ipv4-addr":
			return matcher.TypeIP, 4
		case "ipv6-addr":
			return matcher.TypeIP, 6
		case "url":
			return matcher.TypeURL, 0
		case "domain-name":
			return matcher.TypeDomain, 0
		}
	case len(p.steps) == 2 && p.typ == "file" && p.steps[0] == "hashes":
		h := strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(p.steps[1]))
		switch h {
		case "MD5":
			return matcher.TypeMD5, 0
		case "SHA1":
			return matcher.TypeSHA1, 0
		case "SHA256":
			return matcher.TypeSHA256, 0
		}
	}
	return matcher.TypeInvalid, 0
}
