package jsonlog

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/matchd/matchd/matcher"
)

// This file holds the byte scanner. Its functions take the text b and the
// index i of the first byte of a token, and return the index just past the
// token, or -1 after recording the failure in p.fail. Failures carry constant
// messages so that a failed scan does not allocate; Next turns the first one
// into a *SyntaxError.

// Scan failure messages.
const (
	msgEOF        = "unexpected end of input"
	msgValue      = "expected a value"
	msgString     = "unterminated string"
	msgControl    = "control character in string"
	msgEscape     = "invalid escape"
	msgUnicode    = `invalid \u escape`
	msgNumber     = "invalid number"
	msgLiteral    = "invalid literal"
	msgName       = "expected a member name"
	msgColon      = "expected ':' after a member name"
	msgObjectNext = "expected ',' or '}'"
	msgArrayNext  = "expected ',' or ']'"
	msgTrailing   = "unexpected data after the record"
	msgDeep       = "nesting too deep"
)

// msgTooMany is the reason of a record with more than matcher.MaxExtra
// members outside the table's columns or URLs in its UrlChain.
var msgTooMany = "more than " + strconv.Itoa(matcher.MaxExtra) + " members outside the table's columns or URLs in UrlChain"

// scanFail is the first failure of a scan. The zero value is no failure.
type scanFail struct {
	at  int
	msg string
}

// kind is the JSON type of a scanned value.
type kind uint8

const (
	kindAbsent kind = iota // no member at all
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

var (
	// isSpace marks JSON whitespace.
	isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

	// strStop marks the bytes that end the fast loop over a string body:
	// the closing quote, a backslash and the control characters JSON
	// forbids unescaped.
	strStop = func() (t [256]bool) {
		for c := range 0x20 {
			t[c] = true
		}
		t['"'], t['\\'] = true, true
		return t
	}()

	// hexVal maps hex digits to their value and every other byte to -1.
	hexVal = func() (t [256]int8) {
		for c := range t {
			t[c] = -1
		}
		for c := '0'; c <= '9'; c++ {
			t[c] = int8(c - '0')
		}
		for c := 'a'; c <= 'f'; c++ {
			t[c] = int8(c - 'a' + 10)
			t[c-'a'+'A'] = int8(c - 'a' + 10)
		}
		return t
	}()

	// unescapeByte maps the byte after a backslash to the byte it stands
	// for; zero marks escapes other than the single-byte ones.
	unescapeByte = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
)

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace[b[i]] {
		i++
	}
	return i
}

// failAt records the first failure and returns -1.
func (p *Parser) failAt(i int, msg string) int {
	if p.fail.msg == "" {
		p.fail = scanFail{at: i, msg: msg}
	}
	return -1
}

// isHex4 reports whether b starts with four hex digits.
func isHex4(b []byte) bool {
	return len(b) >= 4 && hexVal[b[0]]|hexVal[b[1]]|hexVal[b[2]]|hexVal[b[3]] >= 0
}

// hex4 returns the value of the four hex digits b starts with; the caller
// has checked them with isHex4.
func hex4(b []byte) rune {
	return rune(hexVal[b[0]])<<12 | rune(hexVal[b[1]])<<8 | rune(hexVal[b[2]])<<4 | rune(hexVal[b[3]])
}

// scanString scans the string literal at b[i] == '"', validating its escapes.
// It reports whether the body holds an escape, so that unescaped strings can
// alias the input.
func (p *Parser) scanString(b []byte, i int) (next int, escaped bool) {
	j := i + 1
	for {
		// Eight bytes at a time while none of them is a stop byte, then
		// the table finds the one that is.
		for j+8 <= len(b) && !hasStop(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		for j < len(b) && !strStop[b[j]] {
			j++
		}
		if j >= len(b) {
			return p.failAt(i, msgString), false
		}
		switch b[j] {
		case '"':
			return j + 1, escaped
		case '\\':
			escaped = true
			if j+1 >= len(b) {
				return p.failAt(i, msgString), false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if !isHex4(b[j+2:]) {
					return p.failAt(j, msgUnicode), false
				}
				j += 6
			default:
				return p.failAt(j, msgEscape), false
			}
		default:
			return p.failAt(j, msgControl), false
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasStop reports whether one of the eight bytes in x is a strStop byte: a
// quote, a backslash or below 0x20. (v-lsb)&^v&msb is nonzero exactly when
// a byte of v is zero, (x-0x20·lsb)&^x&msb when a byte of x is below 0x20.
func hasStop(x uint64) bool {
	q := x ^ ('"' * lsb)
	s := x ^ ('\\' * lsb)
	return ((q-lsb)&^q|(s-lsb)&^s|(x-0x20*lsb)&^x)&msb != 0
}

// appendUnescaped appends the string body s, which scanString has validated,
// with its escapes decoded. A \u escape of half a surrogate pair that is not
// completed by the next escape becomes U+FFFD, as in encoding/json. Bytes
// that are not valid UTF-8 are copied unchanged. The result never exceeds
// len(s) bytes.
func appendUnescaped(dst, s []byte) []byte {
	for len(s) > 0 {
		j := bytes.IndexByte(s, '\\')
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j]...)
		s = s[j:]
		if len(s) < 2 {
			return append(dst, s...) // unreachable after scanString
		}
		if c := unescapeByte[s[1]]; c != 0 {
			dst = append(dst, c)
			s = s[2:]
			continue
		}
		if s[1] != 'u' || !isHex4(s[2:]) {
			return append(dst, s...) // unreachable after scanString
		}
		r := hex4(s[2:])
		s = s[6:]
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' && isHex4(s[2:]) {
				r2 = hex4(s[2:])
			}
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				r = pair
				s = s[6:]
			} else {
				r = utf8.RuneError
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// scanNumber scans a JSON number.
func (p *Parser) scanNumber(b []byte, i int) int {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = skipDigits(b, j+1)
	default:
		return p.failAt(i, msgNumber)
	}
	if j < len(b) && b[j] == '.' {
		k := skipDigits(b, j+1)
		if k == j+1 {
			return p.failAt(i, msgNumber)
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := skipDigits(b, j)
		if k == j {
			return p.failAt(i, msgNumber)
		}
		j = k
	}
	return j
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral scans true, false or null.
func (p *Parser) scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return p.failAt(i, msgLiteral)
	}
	return i + len(lit)
}

// scanName scans a member name and its colon, up to the start of the value.
// It does not decode the name.
func (p *Parser) scanName(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return p.failAt(i, msgName)
	}
	if i, _ = p.scanString(b, i); i < 0 {
		return -1
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return p.failAt(i, msgColon)
	}
	return skipSpace(b, i+1)
}

// skip scans the value at b[i] whatever its type, validating it. depth is the
// nesting depth of the value's container (0 at the top of b); a value nested
// deeper than p.maxDepth fails. Nested values are walked with an explicit
// stack of container kinds, one bit per level, so that hostile nesting costs
// neither Go stack nor time beyond one pass.
func (p *Parser) skip(b []byte, i, depth int) int {
	base := depth
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return p.failAt(i, msgEOF)
		}
		switch c := b[i]; c {
		case '{', '[':
			depth++
			if depth > p.maxDepth {
				return p.failAt(i, msgDeep)
			}
			p.push(depth, c == '{')
			if i = skipSpace(b, i+1); i < len(b) && (b[i] == '}' && c == '{' || b[i] == ']' && c == '[') {
				depth--
				i++
				break // an empty container is a complete value
			}
			if c == '{' {
				if i = p.scanName(b, i); i < 0 {
					return -1
				}
			}
			continue // the container's first value
		case '"':
			i, _ = p.scanString(b, i)
		case 't':
			i = p.scanLiteral(b, i, "true")
		case 'f':
			i = p.scanLiteral(b, i, "false")
		case 'n':
			i = p.scanLiteral(b, i, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return p.failAt(i, msgValue)
			}
			i = p.scanNumber(b, i)
		}
		if i < 0 {
			return -1
		}
		// A value ended at i: close the containers that end with it and
		// move to the next value.
		for {
			if depth == base {
				return i
			}
			if i = skipSpace(b, i); i >= len(b) {
				return p.failAt(i, msgEOF)
			}
			obj := p.isObject(depth)
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if obj {
					if i = p.scanName(b, i); i < 0 {
						return -1
					}
				}
				break
			}
			switch {
			case obj && b[i] == '}', !obj && b[i] == ']':
				depth--
				i++
			case obj:
				return p.failAt(i, msgObjectNext)
			default:
				return p.failAt(i, msgArrayNext)
			}
		}
	}
}

// push records whether the container at depth (1-based) is an object.
func (p *Parser) push(depth int, obj bool) {
	w, bit := (depth-1)/64, uint64(1)<<((depth-1)%64)
	for w >= len(p.stack) {
		p.stack = append(p.stack, 0) // only past the inline capacity
	}
	if obj {
		p.stack[w] |= bit
	} else {
		p.stack[w] &^= bit
	}
}

func (p *Parser) isObject(depth int) bool {
	return p.stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
}
