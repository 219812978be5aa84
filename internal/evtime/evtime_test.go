package evtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixNano()
	}
	tests := []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{"epoch ms 13", "1543270652000", utc(2018, 11, 26, 22, 17, 32, 0), true},
		{"epoch ms 12", "100000000000", 100000000000 * 1e6, true},
		{"epoch s 10", "1305034099", utc(2011, 5, 10, 13, 28, 19, 0), true},
		{"epoch 11 digits", "13050340990", 0, false},
		{"epoch 9 digits", "130503409", 0, false},
		{"epoch 14 digits", "13050340990000", 0, false},
		{"rfc3339 Z", "2026-06-07T10:00:01Z", utc(2026, 6, 7, 10, 0, 1, 0), true},
		{"rfc3339 lower", "2026-06-07t10:00:01z", utc(2026, 6, 7, 10, 0, 1, 0), true},
		{"rfc3339 frac offset", "2026-06-07T10:00:01.123+02:00", utc(2026, 6, 7, 8, 0, 1, 123e6), true},
		{"rfc3339 nano", "2026-06-07T10:00:01.123456789Z", utc(2026, 6, 7, 10, 0, 1, 123456789), true},
		{"frac past ninth digit", "2026-06-07T10:00:01.1234567899Z", utc(2026, 6, 7, 10, 0, 1, 123456789), true},
		{"frac comma", "2026-06-07T10:00:01,5Z", utc(2026, 6, 7, 10, 0, 1, 5e8), true},
		{"iso basic offset", "2016-04-01T09:29:11.356-0400", utc(2016, 4, 1, 13, 29, 11, 356e6), true},
		{"iso hour offset", "2016-04-01T09:29:11-04", utc(2016, 4, 1, 13, 29, 11, 0), true},
		{"iso space no zone", "2026-06-07 10:00:01", utc(2026, 6, 7, 10, 0, 1, 0), true},
		{"iso space utc", "2026-06-07 10:00:01 UTC", utc(2026, 6, 7, 10, 0, 1, 0), true},
		{"iso plus00", "2016-08-19T21:51:08+00:00", utc(2016, 8, 19, 21, 51, 8, 0), true},
		{"iso no seconds", "2026-06-07T10:00Z", 0, false},
		{"iso date only", "2026-06-07", 0, false},
		{"iso trailing junk", "2026-06-07T10:00:01Zx", 0, false},
		{"iso bad sep", "2026-06-07X10:00:01", 0, false},
		{"iso dot no digit", "2026-06-07T10:00:01.Z", 0, false},
		{"cef", "Sep 10 2010 16:03:00", utc(2010, 9, 10, 16, 3, 0, 0), true},
		{"cef millis", "Sep 10 2010 16:03:00.250", utc(2010, 9, 10, 16, 3, 0, 250e6), true},
		{"cef UTC", "Apr 11 2020 10:42:13 UTC", utc(2020, 4, 11, 10, 42, 13, 0), true},
		{"cef GMT", "Apr 07 2017 00:10:10 GMT", utc(2017, 4, 7, 0, 10, 10, 0), true},
		{"cef Z", "Apr 07 2017 00:10:10 Z", utc(2017, 4, 7, 0, 10, 10, 0), true},
		{"cef numeric", "Apr 07 2017 00:10:10 +0200", utc(2017, 4, 6, 22, 10, 10, 0), true},
		{"cef numeric colon", "Apr 07 2017 00:10:10 -05:30", utc(2017, 4, 7, 5, 40, 10, 0), true},
		{"cef GMT offset", "Mar 09 2015 11:58:25 GMT+08:00", utc(2015, 3, 9, 3, 58, 25, 0), true},
		{"cef GMT short offset", "Mar 09 2015 11:58:25 GMT+8", utc(2015, 3, 9, 3, 58, 25, 0), true},
		{"cef CET", "Mar 09 2015 11:58:25 CET", utc(2015, 3, 9, 10, 58, 25, 0), true},
		{"cef EST", "Mar 09 2015 11:58:25 EST", utc(2015, 3, 9, 16, 58, 25, 0), true},
		{"cef millis zone", "Mar 09 2015 11:58:25.5 PDT", utc(2015, 3, 9, 18, 58, 25, 5e8), true},
		{"cef ambiguous CST", "Mar 09 2015 11:58:25 CST", 0, false},
		{"cef unknown zone", "Mar 09 2015 11:58:25 XYZ", 0, false},
		{"cef lowercase zone", "Mar 09 2015 11:58:25 utc", 0, false},
		{"cef two spaces before zone", "Mar 09 2015 11:58:25  UTC", 0, false},
		{"cef trailing space", "Mar 09 2015 11:58:25 ", 0, false},
		{"cef one digit day", "Mar 9 2015 11:58:25", utc(2015, 3, 9, 11, 58, 25, 0), true},
		{"cef padded day", "Apr  7 2017 10:10:10", utc(2017, 4, 7, 10, 10, 10, 0), true},
		{"cef lowercase month", "sep 10 2010 16:03:00", utc(2010, 9, 10, 16, 3, 0, 0), true},
		{"cef full month", "September 10 2010 16:03:00", utc(2010, 9, 10, 16, 3, 0, 0), true},
		{"cef no year", "Mar 21 14:05:02", 0, false},
		{"cef bad month", "Sepx 10 2010 16:03:00", 0, false},
		{"cef Sept", "Sept 10 2010 16:03:00", 0, false},
		{"day first full month", "31 March 2016 13:04:55", utc(2016, 3, 31, 13, 4, 55, 0), true},
		{"day first abbreviated", "1 Mar 2016 13:04:55", utc(2016, 3, 1, 13, 4, 55, 0), true},
		{"day first out of range", "31 April 2016 13:04:55", 0, false},
		{"feb 29 leap", "Feb 29 2024 00:00:00", utc(2024, 2, 29, 0, 0, 0, 0), true},
		{"feb 29 non leap", "Feb 29 2023 00:00:00", 0, false},
		{"feb 29 1900", "1900-02-29T00:00:00Z", 0, false},
		{"feb 29 2000", "2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0, 0, 0), true},
		{"hour 24", "2026-06-07T24:00:00Z", 0, false},
		{"second 60", "2026-06-07T23:59:60Z", 0, false},
		{"month 13", "2026-13-07T10:00:00Z", 0, false},
		{"day 0", "2026-06-00T10:00:00Z", 0, false},
		{"offset hour 24", "2026-06-07T10:00:00+24:00", 0, false},
		{"offset minute 60", "2026-06-07T10:00:00+01:60", 0, false},
		{"pre-epoch", "1969-12-31T23:59:59.5Z", -5e8, true},
		{"min int64", "1677-09-21T00:12:43.145224192Z", math.MinInt64, true},
		{"below min int64", "1677-09-21T00:12:43.145224191Z", 0, false},
		{"max int64", "2262-04-11T23:47:16.854775807Z", math.MaxInt64, true},
		{"above max int64", "2262-04-11T23:47:16.854775808Z", 0, false},
		{"year 9999", "9999-12-31T23:59:59Z", 0, false},
		{"year 0", "0000-01-01T00:00:00Z", 0, false},
		{"empty", "", 0, false},
		{"garbage", "now", 0, false},
		{"nul", "2026-06-07T10:00:01\x00", 0, false},
		{"invalid utf8", "\xff\xfe", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse([]byte(tt.in))
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("Parse(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok {
				if rgot, rok := refParse(tt.in); !rok || rgot != got {
					t.Errorf("refParse(%q) = %d, %v; want %d, true", tt.in, rgot, rok, got)
				}
			}
		})
	}
}

// refZone splits a timestamp into its body and zone suffix.
var refZone = regexp.MustCompile(`^(.*?)(?:([Zz])|([+-]\d\d(?::?\d\d)?)| (?:(Z)|([+-]\d\d(?::?\d\d)?)|(UTC|GMT|UT)([+-]\d\d?(?::?\d\d)?)|([A-Z]+)))?$`)

var refLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02t15:04:05",
	"2006-01-02 15:04:05",
	"Jan _2 2006 15:04:05",
	"January _2 2006 15:04:05",
	"_2 January 2006 15:04:05",
	"_2 Jan 2006 15:04:05",
}

var refAbbrev = map[string]string{
	"UTC": "+00", "UT": "+00", "GMT": "+00", "WET": "+00",
	"WEST": "+01", "CET": "+01", "MET": "+01",
	"CEST": "+02", "MEST": "+02", "EET": "+02",
	"EEST": "+03", "MSK": "+03",
	"HKT": "+08", "SGT": "+08", "AWST": "+08",
	"JST": "+09", "KST": "+09", "ACST": "+09:30",
	"AEST": "+10", "ACDT": "+10:30", "AEDT": "+11",
	"NZST": "+12", "NZDT": "+13",
	"EDT": "-04", "EST": "-05", "CDT": "-05", "MDT": "-06",
	"MST": "-07", "PDT": "-07", "PST": "-08", "AKDT": "-08",
	"AKST": "-09", "HST": "-10",
}

// refOffset parses a numeric offset with strconv.
func refOffset(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	hs, ms := s, "0"
	switch {
	case len(s) == 5 && s[2] == ':':
		hs, ms = s[:2], s[3:]
	case len(s) == 4:
		hs, ms = s[:2], s[2:]
	case len(s) == 4 && s[1] == ':' || len(s) == 3:
		return 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// refParse is the slow reference: a regexp splits off the zone and
// time.Parse reads the rest.
func refParse(s string) (int64, bool) {
	if regexp.MustCompile(`^\d+$`).MatchString(s) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		switch len(s) {
		case 10:
			return time.Unix(v, 0).UnixNano(), true
		case 12, 13:
			return time.UnixMilli(v).UnixNano(), true
		}
		return 0, false
	}
	m := refZone.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	body := m[1]
	offStr := m[3] + m[5] + m[7]
	if m[8] != "" {
		var ok bool
		if offStr, ok = refAbbrev[m[8]]; !ok {
			return 0, false
		}
	}
	if m[7] != "" && len(m[7]) == 2 {
		offStr = m[7][:1] + "0" + m[7][1:] // "GMT+8"
	}
	off, ok := refOffset(offStr)
	if !ok {
		return 0, false
	}
	for _, layout := range refLayouts {
		tm, err := time.ParseInLocation(layout, body, time.UTC)
		if err != nil {
			continue
		}
		tm = tm.Add(-time.Duration(off) * time.Second)
		if tm.Before(time.Unix(0, math.MinInt64)) || tm.After(time.Unix(0, math.MaxInt64)) {
			return 0, false
		}
		return tm.UnixNano(), true
	}
	return 0, false
}

// genLayouts are the layouts Parse accepts, as time.Format writes them; each
// must parse back to the formatted instant.
var genLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02 15:04:05-07",
	"2006-01-02 15:04:05 -07:00",
	"Jan 02 2006 15:04:05 -0700",
	"Jan _2 2006 15:04:05.000 -07:00",
	"January 2 2006 15:04:05,000000 -0700",
	"2 January 2006 15:04:05 -07:00",
	"02 Jan 2006 15:04:05.000000000 -07:00",
}

func genTime(r *rand.Rand) time.Time {
	// Years 1678..2261 stay inside the int64 nanosecond range.
	sec := r.Int64N(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).Unix()-time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) +
		time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	off := (r.IntN(47) - 23) * 3600
	if r.IntN(4) == 0 {
		off += 30 * 60
	}
	return time.Unix(sec, r.Int64N(1e9)).In(time.FixedZone("", off))
}

func TestParseGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		tm := genTime(r)
		for _, layout := range genLayouts {
			s := tm.Format(layout)
			want, err := time.Parse(layout, s) // the layout may drop sub-seconds
			if err != nil {
				t.Fatalf("time.Parse(%q, %q): %v", layout, s, err)
			}
			got, ok := Parse([]byte(s))
			if !ok || got != want.UnixNano() {
				t.Fatalf("Parse(%q) = %d, %v; want %d, true", s, got, ok, want.UnixNano())
			}
			if rgot, rok := refParse(s); !rok || rgot != got {
				t.Fatalf("refParse(%q) = %d, %v; want %d, true", s, rgot, rok, got)
			}
		}
	}
}

// FuzzParse checks that Parse never panics and agrees with the reference on
// every input it accepts. The reference accepts a few inputs Parse rejects
// on purpose (time.Parse takes a one-digit hour), so the check is one-way;
// TestParseGenerated covers the other direction.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1543270652000", "1305034099", "2026-06-07T10:00:01.123+02:00",
		"2026-06-07 10:00:01", "Apr 07 2017 00:10:10 GMT", "Sep 10 2010 16:03:00.250",
		"31 March 2016 13:04:55", "Mar 09 2015 11:58:25 GMT+08:00", "Mar 21 14:05:02",
		"2016-04-01T09:29:11.356-0400", "Mar 09 2015 11:58:25 CET",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := Parse(b)
		if !ok {
			return
		}
		if want, rok := refParse(string(b)); !rok || want != got {
			t.Errorf("Parse(%q) = %d, true; reference %d, %v", b, got, want, rok)
		}
	})
}

func TestNoAllocs(t *testing.T) {
	for _, s := range []string{"1543270652000", "2026-06-07T10:00:01.123+02:00", "Apr 07 2017 00:10:10 GMT+08:00", "31 March 2016 13:04:55 CET"} {
		b := []byte(s)
		if n := testing.AllocsPerRun(100, func() { Parse(b) }); n != 0 {
			t.Errorf("Parse(%q): %v allocs, want 0", s, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"1543270652000", "2026-06-07T10:00:01.123+02:00", "Apr 07 2017 00:10:10 GMT"} {
		in := []byte(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				Parse(in)
			}
		})
	}
}

func ExampleParse() {
	ns, ok := Parse([]byte("Apr 11 2020 10:42:13 UTC"))
	fmt.Println(time.Unix(0, ns).UTC().Format(time.RFC3339), ok)
	_, ok = Parse([]byte("Mar 21 14:05:02")) // no year: ambiguous
	fmt.Println(ok)
	// Output:
	// 2020-04-11T10:42:13Z true
	// false
}
