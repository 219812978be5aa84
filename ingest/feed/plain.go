package feed

import (
	"strings"

	"github.com/matchd/matchd/matcher"
)

// parsePlain reads a plain list: one indicator a line, its type detected by
// ParseValue. Blank lines, whole-line '#' comments and trailing comments
// (whitespace then '#') are ignored; a '#' right after a non-space byte is
// part of the value, as in a URL fragment. The source is the file's base
// name.
func (b *builder) parsePlain(s string) {
	meta := matcher.Indicator{Confidence: matcher.NoConfidence}
	for n, line := range lines(s) {
		v := stripComment(line)
		if v == "" {
			continue
		}
		b.addValue(n, v, matcher.TypeInvalid, &meta)
	}
}

// stripComment removes a whole-line or trailing '#' comment and the
// surrounding whitespace.
func stripComment(line string) string {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "#") {
		return ""
	}
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}
