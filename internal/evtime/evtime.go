package evtime

// Parse returns the instant b denotes in Unix nanoseconds, and whether b is
// one of the accepted layouts:
//
//   - epoch seconds: exactly 10 digits;
//   - epoch milliseconds: 12 or 13 digits;
//   - ISO 8601 / RFC 3339: "2006-01-02T15:04:05", with 'T', 't' or a space
//     between date and time;
//   - CEF: "Jan 02 2006 15:04:05" (the day may be one digit or
//     space-padded, the month a three-letter abbreviation or a full name);
//   - day first: "2 January 2006 15:04:05" (full or abbreviated month).
//
// Month names are matched without regard to ASCII case. The seconds may carry
// a fraction, with '.' or ',' and any number of digits (digits past the
// ninth are ignored). A zone may follow:
//
//   - directly: "Z", "+hh", "+hhmm" or "+hh:mm" (or '-');
//   - after one space: "Z", a numeric offset as above, "UTC"/"GMT"/"UT"
//     alone or followed by an offset ("GMT+8", "GMT+08:00"), or one of the
//     unambiguous abbreviations of zoneOffset, each mapped to a fixed
//     offset (so "CET" means +01:00 even in summer).
//
// No zone means UTC. Ambiguous abbreviations (CST, IST, BST, AST) and
// anything else after the time make b unparseable, as do an out-of-range
// field (February 30, hour 24, second 60, offset hour above 23) and an
// instant outside the int64 nanosecond range (years 1678 to 2262 are safe).
//
// Parse does not allocate and is safe for concurrent use. Its cost is linear
// in len(b).
func Parse(b []byte) (unixNano int64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	if isDigit(b[0]) {
		n := digitRun(b)
		switch {
		case n == len(b):
			return parseEpoch(b)
		case n == 4 && b[4] == '-':
			return parseISO(b)
		case n <= 2 && b[n] == ' ':
			return parseDayFirst(b, n)
		}
		return 0, false
	}
	return parseMonthFirst(b)
}

// civil is a broken-down wall time; off is the zone offset in seconds east
// of UTC.
type civil struct {
	year, month, day     int
	hour, minute, second int
	nsec                 int
	off                  int
}

func parseEpoch(b []byte) (int64, bool) {
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	switch len(b) {
	case 10:
		return v * 1e9, true
	case 12, 13:
		return v * 1e6, true
	}
	return 0, false
}

// parseISO parses "2006-01-02T15:04:05" and what may follow it.
func parseISO(b []byte) (int64, bool) {
	if len(b) < 19 || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') {
		return 0, false
	}
	var c civil
	var ok bool
	if c.year, ok = num(b[0:4]); !ok {
		return 0, false
	}
	if c.month, ok = num(b[5:7]); !ok {
		return 0, false
	}
	if c.day, ok = num(b[8:10]); !ok {
		return 0, false
	}
	return c.clock(b[11:])
}

// parseMonthFirst parses "Jan 02 2006 15:04:05" and what may follow it.
func parseMonthFirst(b []byte) (int64, bool) {
	var c civil
	n := letterRun(b)
	if c.month = lookupMonth(b[:n]); c.month == 0 {
		return 0, false
	}
	b = b[n:]
	if len(b) < 2 || b[0] != ' ' {
		return 0, false
	}
	b = b[1:]
	if b[0] == ' ' { // space-padded day, as syslog writes it
		b = b[1:]
	}
	n = digitRun(b)
	if n < 1 || n > 2 || n == len(b) || b[n] != ' ' {
		return 0, false
	}
	c.day, _ = num(b[:n])
	return c.yearClock(b[n+1:])
}

// parseDayFirst parses "2 January 2006 15:04:05" and what may follow it; the
// day is b[:n].
func parseDayFirst(b []byte, n int) (int64, bool) {
	var c civil
	c.day, _ = num(b[:n])
	b = b[n+1:]
	n = letterRun(b)
	if c.month = lookupMonth(b[:n]); c.month == 0 || n == len(b) || b[n] != ' ' {
		return 0, false
	}
	return c.yearClock(b[n+1:])
}

// yearClock parses "2006 15:04:05" and what may follow it.
func (c *civil) yearClock(b []byte) (int64, bool) {
	if len(b) < 5 || b[4] != ' ' {
		return 0, false
	}
	var ok bool
	if c.year, ok = num(b[:4]); !ok {
		return 0, false
	}
	return c.clock(b[5:])
}

// clock parses "15:04:05", an optional fraction and an optional zone, then
// validates c and converts it.
func (c *civil) clock(b []byte) (int64, bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, false
	}
	var ok bool
	if c.hour, ok = num(b[0:2]); !ok {
		return 0, false
	}
	if c.minute, ok = num(b[3:5]); !ok {
		return 0, false
	}
	if c.second, ok = num(b[6:8]); !ok {
		return 0, false
	}
	b = b[8:]
	if len(b) >= 2 && (b[0] == '.' || b[0] == ',') && isDigit(b[1]) {
		n := 1 + digitRun(b[1:])
		scale := 100_000_000
		for _, d := range b[1:min(n, 10)] {
			c.nsec += int(d-'0') * scale
			scale /= 10
		}
		b = b[n:]
	}
	if c.off, ok = parseZone(b); !ok {
		return 0, false
	}
	return c.unixNano()
}

// parseZone parses what follows the time and returns its offset in seconds.
func parseZone(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case 'Z', 'z':
		return 0, len(b) == 1
	case '+', '-':
		return parseOffset(b, false)
	case ' ':
	default:
		return 0, false
	}
	b = b[1:]
	if len(b) == 0 {
		return 0, false
	}
	switch b[0] {
	case 'Z':
		return 0, len(b) == 1
	case '+', '-':
		return parseOffset(b, false)
	}
	n := 0
	for n < len(b) && 'A' <= b[n] && b[n] <= 'Z' {
		n++
	}
	name := b[:n]
	if n < len(b) {
		if s := string(name); s != "UTC" && s != "GMT" && s != "UT" {
			return 0, false
		}
		return parseOffset(b[n:], true)
	}
	return zoneOffset(name)
}

// parseOffset parses "+hh", "+hhmm" or "+hh:mm" (or '-'), which must be all
// of b; loose also accepts a one-digit hour, as in "GMT+8".
func parseOffset(b []byte, loose bool) (int, bool) {
	if len(b) < 2 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	sign := 1
	if b[0] == '-' {
		sign = -1
	}
	b = b[1:]
	n := digitRun(b)
	var hh, mm int
	switch {
	case n == 1 && loose && len(b) == 1:
		hh = int(b[0] - '0')
	case n == 2 && len(b) == 2:
		hh, _ = num(b)
	case n == 4 && len(b) == 4:
		hh, _ = num(b[:2])
		mm, _ = num(b[2:])
	case n == 2 && len(b) == 5 && b[2] == ':' && digitRun(b[3:]) == 2:
		hh, _ = num(b[:2])
		mm, _ = num(b[3:])
	default:
		return 0, false
	}
	if hh > 23 || mm > 59 {
		return 0, false
	}
	return sign * (hh*3600 + mm*60), true
}

// zoneOffset maps the zone abbreviations matchd accepts to fixed offsets.
// Abbreviations that name two common zones (CST: US Central or China; IST:
// India, Israel or Ireland; BST; AST) are left out on purpose: a wrong guess
// would shift events by hours, an absent time is visible.
func zoneOffset(name []byte) (int, bool) {
	const h = 3600
	switch string(name) {
	case "UTC", "UT", "GMT", "WET":
		return 0, true
	case "WEST", "CET", "MET":
		return 1 * h, true
	case "CEST", "MEST", "EET":
		return 2 * h, true
	case "EEST", "MSK":
		return 3 * h, true
	case "HKT", "SGT", "AWST":
		return 8 * h, true
	case "JST", "KST":
		return 9 * h, true
	case "ACST":
		return 9*h + h/2, true
	case "AEST":
		return 10 * h, true
	case "ACDT":
		return 10*h + h/2, true
	case "AEDT":
		return 11 * h, true
	case "NZST":
		return 12 * h, true
	case "NZDT":
		return 13 * h, true
	case "EDT":
		return -4 * h, true
	case "EST", "CDT":
		return -5 * h, true
	case "MDT":
		return -6 * h, true
	case "MST", "PDT":
		return -7 * h, true
	case "PST", "AKDT":
		return -8 * h, true
	case "AKST":
		return -9 * h, true
	case "HST":
		return -10 * h, true
	}
	return 0, false
}

// unixNano validates c and converts it, reporting false when the instant
// does not fit in int64 nanoseconds.
func (c *civil) unixNano() (int64, bool) {
	if c.month < 1 || c.month > 12 || c.day < 1 || c.day > daysIn(c.month, c.year) ||
		c.hour > 23 || c.minute > 59 || c.second > 59 {
		return 0, false
	}
	sec := daysFromCivil(c.year, c.month, c.day)*86400 +
		int64(c.hour*3600+c.minute*60+c.second-c.off)
	// math.MaxInt64 is 9223372036_854775807 and math.MinInt64 is
	// -9223372037_000000000 + 145224192; check before multiplying.
	const maxSec, minSec = 9223372036, -9223372037
	if sec > maxSec || sec < minSec ||
		(sec == maxSec && c.nsec > 854775807) || (sec == minSec && c.nsec < 145224192) {
		return 0, false
	}
	return sec*1e9 + int64(c.nsec), true
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (the era-based count of H. Hinnant's "chrono-
// compatible low-level date algorithms").
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1    // [0, 365], March-based
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var monthNames = [12]string{
	"january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december",
}

// lookupMonth returns 1..12 for a month's three-letter abbreviation or full
// name in any ASCII case, else 0.
func lookupMonth(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	for i, name := range monthNames {
		if len(b) != 3 && len(b) != len(name) {
			continue
		}
		match := true
		for j, c := range b {
			if c|0x20 != name[j] {
				match = false
				break
			}
		}
		if match {
			return i + 1
		}
	}
	return 0
}

// num parses b, which must be all ASCII digits.
func num(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func digitRun(b []byte) int {
	n := 0
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	return n
}

func letterRun(b []byte) int {
	n := 0
	for n < len(b) && ('a' <= b[n]|0x20 && b[n]|0x20 <= 'z') {
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
