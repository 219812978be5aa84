package kql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokIdent          // a name or keyword; text is the name ("['a b']" unquoted)
	tokString         // a string literal; text is its decoded value
	tokNumber         // a number literal; text is as written
	tokOp             // an operator or punctuation: | ( ) [ ] , ; = == != =~ !~ < <= > >= and "!word" / "word~" forms
	tokError          // a lexical error; text is the message
)

// token is one lexical token. Pos is where it starts.
type token struct {
	kind tokKind
	text string
	pos  Pos
	// quoted marks an identifier written as ['name'], which is never a
	// keyword.
	quoted bool
	// lineStart marks the first token of its line.
	lineStart bool
}

func (t token) is(kind tokKind, text string) bool { return t.kind == kind && t.text == text }

// describe names the token in an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokString:
		return "string " + quote(t.text)
	case tokNumber:
		return "number " + t.text
	}
	return quote(t.text)
}

// comment is one // comment that is alone on its line.
type comment struct {
	line int
	text string // after "//", trimmed
}

// lexer splits a rule file into tokens. Comments alone on their line are
// kept, in order, for rule names.
type lexer struct {
	src      string
	i        int
	line     int
	lineOff  int // offset of the current line's first byte
	lastLine int // line of the last token returned
	comments []comment
}

func newLexer(src string) *lexer {
	return &lexer{src: src, line: 1, lastLine: 0}
}

// Pos is a position in a rule file: 1-based line and column, the column
// counted in bytes.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

func (l *lexer) pos() Pos { return Pos{l.line, l.i - l.lineOff + 1} }

func (l *lexer) newline() {
	l.line++
	l.lineOff = l.i
}

// skip passes over white space and comments.
func (l *lexer) skip() {
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\n':
			l.i++
			l.newline()
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.i++
		case c == '/' && l.i+1 < len(l.src) && l.src[l.i+1] == '/':
			start := l.i
			alone := strings.TrimSpace(l.src[l.lineOff:start]) == ""
			end := strings.IndexByte(l.src[start:], '\n')
			if end < 0 {
				end = len(l.src)
			} else {
				end += start
			}
			if alone {
				l.comments = append(l.comments, comment{l.line, strings.TrimSpace(strings.TrimRight(l.src[start+2:end], "\r"))})
			}
			l.i = end
		case c == 0xef && strings.HasPrefix(l.src[l.i:], "\xef\xbb\xbf") && l.i == 0:
			l.i += 3
			l.lineOff = l.i
		default:
			return
		}
	}
}

func isIdentStart(c byte) bool { return c == '_' || c|0x20 >= 'a' && c|0x20 <= 'z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() token {
	l.skip()
	t := token{pos: l.pos()}
	t.lineStart = l.line != l.lastLine
	l.lastLine = l.line
	if l.i >= len(l.src) {
		t.kind = tokEOF
		return t
	}
	s := l.src
	c := s[l.i]
	switch {
	case (c == '@' || c == 'h' || c == 'H') && l.i+1 < len(s) && (s[l.i+1] == '"' || s[l.i+1] == '\''):
		// @"verbatim" and h"hidden" strings.
		l.i++
		if c == '@' {
			return l.verbatim(t)
		}
		return l.str(t)
	case c == 'h' && strings.HasPrefix(s[l.i:], "h@") || c == 'H' && strings.HasPrefix(s[l.i:], "H@"):
		if l.i+2 < len(s) && (s[l.i+2] == '"' || s[l.i+2] == '\'') {
			l.i += 2
			return l.verbatim(t)
		}
	}
	switch {
	case isIdentStart(c):
		j := l.i
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		// Kusto operators with dashes (project-away, !has_cs) and the
		// case-insensitive "~" forms read as one word.
		for j < len(s) && s[j] == '-' && j+1 < len(s) && isIdentStart(s[j+1]) && isKeywordPrefix(s[l.i:j]) {
			j++
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
		}
		t.kind, t.text = tokIdent, s[l.i:j]
		if j < len(s) && s[j] == '~' {
			t.kind, t.text = tokOp, s[l.i:j+1]
			j++
		}
		l.i = j
		return t
	case isDigit(c) || c == '.' && l.i+1 < len(s) && isDigit(s[l.i+1]):
		return l.number(t)
	case c == '"' || c == '\'':
		return l.str(t)
	case c == '`':
		return l.errorf(t, 1, "unsupported multi-line string literal")
	case c == '[' && l.i+1 < len(s) && (s[l.i+1] == '\'' || s[l.i+1] == '"'):
		// ['column name'], unless the string is the first of a list:
		// dynamic(["a"]) is told apart by the parser.
		save := l.i
		l.i++
		st := l.str(token{pos: t.pos})
		if st.kind == tokString && l.i < len(s) && s[l.i] == ']' {
			l.i++
			t.kind, t.text, t.quoted = tokIdent, st.text, true
			return t
		}
		l.i = save
	case c == '!':
		if l.i+1 < len(s) && isIdentStart(s[l.i+1]) {
			j := l.i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '~' {
				j++
			}
			t.kind, t.text = tokOp, s[l.i:j]
			l.i = j
			return t
		}
	}
	for _, op := range [...]string{"==", "!=", "=~", "!~", "<=", ">=", "<>", "=>", "..", "|", "(", ")", "[", "]", "{", "}", ",", ";", "=", "<", ">", "!", "+", "-", "*", "/", "%", ".", ":", "~", "@", "$", "#", "?"} {
		if strings.HasPrefix(s[l.i:], op) {
			t.kind, t.text = tokOp, op
			l.i += len(op)
			return t
		}
	}
	r, size := utf8.DecodeRuneInString(s[l.i:])
	if r == utf8.RuneError && size <= 1 {
		return l.errorf(t, 1, "invalid UTF-8 byte 0x%02x", s[l.i])
	}
	return l.errorf(t, size, "unexpected character %q", r)
}

// isKeywordPrefix reports whether w begins a Kusto operator spelled with
// dashes (project-away, mv-expand, make-series, …), so that such operators
// are named whole in errors. Column names never contain dashes.
func isKeywordPrefix(w string) bool {
	switch w {
	case "project", "mv", "make", "parse", "top", "order", "sort", "find", "evaluate":
		return true
	}
	return false
}

func (l *lexer) errorf(t token, skip int, format string, a ...any) token {
	l.i = min(l.i+skip, len(l.src))
	t.kind, t.text = tokError, fmt.Sprintf(format, a...)
	return t
}

func (l *lexer) number(t token) token {
	s := l.src
	j := l.i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]) {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(s) && isIdentChar(s[j]) {
		k := j
		for k < len(s) && isIdentChar(s[k]) {
			k++
		}
		text := s[l.i:k]
		l.i = k
		t.kind, t.text = tokError, fmt.Sprintf("unsupported literal %q (timespans and typed literals are not in matchd's KQL subset)", text)
		return t
	}
	t.kind, t.text = tokNumber, s[l.i:j]
	l.i = j
	if _, err := strconv.ParseFloat(t.text, 64); err != nil {
		t.kind, t.text = tokError, fmt.Sprintf("number %s out of range", t.text)
	}
	return t
}

// str reads a quoted string with backslash escapes at l.src[l.i].
func (l *lexer) str(t token) token {
	s := l.src
	q := s[l.i]
	var b strings.Builder
	j := l.i + 1
	for {
		if j >= len(s) || s[j] == '\n' {
			l.i = j
			t.kind, t.text = tokError, "unterminated string literal"
			return t
		}
		c := s[j]
		if c == q {
			j++
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(s) {
			j++ // reported as unterminated
			continue
		}
		e := s[j+1]
		j += 2
		switch e {
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'u':
			if j+4 > len(s) {
				l.i = j
				return l.errorf(t, 0, "invalid \\u escape in string literal")
			}
			n, err := strconv.ParseUint(s[j:j+4], 16, 32)
			if err != nil {
				l.i = j
				return l.errorf(t, 0, "invalid \\u escape in string literal")
			}
			b.WriteRune(rune(n))
			j += 4
		default:
			l.i = j
			return l.errorf(t, 0, "unsupported escape \\%c in string literal", e)
		}
	}
	l.i = j
	t.kind, t.text = tokString, b.String()
	return t
}

// verbatim reads @"…" (a doubled quote stands for one) at l.src[l.i].
func (l *lexer) verbatim(t token) token {
	s := l.src
	q := s[l.i]
	var b strings.Builder
	j := l.i + 1
	for {
		if j >= len(s) || s[j] == '\n' {
			l.i = j
			t.kind, t.text = tokError, "unterminated string literal"
			return t
		}
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			j++
			break
		}
		b.WriteByte(s[j])
		j++
	}
	l.i = j
	t.kind, t.text = tokString, b.String()
	return t
}

// quote quotes s for error messages and the canonical form of a query.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == utf8.RuneError {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
