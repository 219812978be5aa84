package matcher

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/matchd/matchd/internal/evtime"
)

// Origin says where a record came from: a file line (Path, Line) or a Kafka
// message (Topic, Partition, Offset, and Line inside a multi-record
// message). Record is the record's index inside a line that holds a records
// envelope, valid when InEnvelope is set.
type Origin struct {
	Path       string
	Topic      string
	Partition  int32
	Offset     int64
	Line       int64 // 1-based; 0: none
	Record     int
	InEnvelope bool
}

// AppendJSON appends the origin as a JSON object.
func (o *Origin) AppendJSON(dst []byte) []byte {
	if o.Topic != "" {
		dst = append(dst, `{"Topic":`...)
		dst = AppendJSONString(dst, o.Topic)
		dst = append(dst, `,"Partition":`...)
		dst = strconv.AppendInt(dst, int64(o.Partition), 10)
		dst = append(dst, `,"Offset":`...)
		dst = strconv.AppendInt(dst, o.Offset, 10)
		if o.Line > 0 {
			dst = append(dst, `,"Line":`...)
			dst = strconv.AppendInt(dst, o.Line, 10)
		}
	} else {
		dst = append(dst, `{"Path":`...)
		dst = AppendJSONString(dst, o.Path)
		dst = append(dst, `,"Line":`...)
		dst = strconv.AppendInt(dst, o.Line, 10)
	}
	if o.InEnvelope {
		dst = append(dst, `,"Record":`...)
		dst = strconv.AppendInt(dst, int64(o.Record), 10)
	}
	return append(dst, '}')
}

// Projection returns the alert columns of table t: the columns the seed's
// hunting query for t projects, in its order.
func Projection(t Table) []Field {
	switch t {
	case CommonSecurityLog:
		return []Field{TimeGenerated, SourceIP, DestinationIP, DestinationPort, DeviceAction, Activity}
	case DeviceNetworkEvents:
		return []Field{Timestamp, DeviceName, RemoteIP, RemotePort, InitiatingProcessFileName, ActionType}
	case UrlClickEvents:
		return []Field{Timestamp, AccountUpn, Url, ActionType, IsClickedThrough}
	}
	return nil
}

// matchedExtras lists, per table, the matched fields that are not in the
// projection and are added to an alert when they hold a hit, in this order.
var matchedExtras = [numTables][]Field{
	CommonSecurityLog:   {RequestURL, DestinationHostName},
	DeviceNetworkEvents: {RemoteUrl, InitiatingProcessSHA256, InitiatingProcessSHA1, InitiatingProcessMD5},
	UrlClickEvents:      {UrlChain},
}

type colKind uint8

const (
	kindString colKind = iota
	kindInt
	kindBool
	kindTime
	kindArray
)

var colKinds = func() [NumFields]colKind {
	var k [NumFields]colKind
	for _, f := range []Field{SourcePort, DestinationPort, RemotePort, LocalPort} {
		k[f] = kindInt
	}
	k[IsClickedThrough] = kindBool
	k[TimeGenerated] = kindTime
	k[Timestamp] = kindTime
	k[UrlChain] = kindArray
	return k
}()

// AppendAlert appends one alert line (JSON and a newline) for e and its hits:
// Table, the table's projection columns, the matched columns outside the
// projection, Indicators, IndicatorSet (s.Version, when set), AlertId and
// Origin. Every projection column is
// present; a missing value is null.
func (s *Set) AppendAlert(dst []byte, e *Event, hits []Hit, o *Origin) []byte {
	dst = append(dst, `{"Table":`...)
	dst = AppendJSONString(dst, e.Table.String())
	for _, f := range Projection(e.Table) {
		dst = appendColumn(dst, e, f)
	}
	for _, f := range matchedExtras[e.Table] {
		for _, h := range hits {
			if h.Field == f {
				dst = appendColumn(dst, e, f)
				break
			}
		}
	}
	dst = append(dst, `,"Indicators":[`...)
	for i, h := range hits {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = s.appendIndicator(dst, h)
	}
	dst = append(dst, ']')
	if s.Version != "" {
		dst = append(dst, `,"IndicatorSet":`...)
		dst = AppendJSONString(dst, s.Version)
	}
	dst = append(dst, `,"AlertId":"`...)
	dst = s.appendAlertID(dst, hits, o)
	dst = append(dst, `","Origin":`...)
	dst = o.AppendJSON(dst)
	return append(dst, "}\n"...)
}

func appendColumn(dst []byte, e *Event, f Field) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, fieldNames[f]...)
	dst = append(dst, '"', ':')
	return AppendValue(dst, e, f)
}

// AppendValue appends the value of column f of e as alerts write it: ports
// as JSON numbers, IsClickedThrough as a boolean, times as RFC 3339 UTC
// strings, UrlChain as an array of strings, other columns as strings, and
// null when the column is absent or does not parse as its type.
func AppendValue(dst []byte, e *Event, f Field) []byte {
	v := e.Get(f)
	if v == nil && !(f == UrlChain && len(e.Chain) > 0) {
		return append(dst, "null"...)
	}
	switch colKinds[f] {
	case kindInt:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return append(dst, "null"...)
		}
		return strconv.AppendInt(dst, n, 10)
	case kindBool:
		switch string(v) {
		case "true", "True", "TRUE", "1":
			return append(dst, "true"...)
		case "false", "False", "FALSE", "0":
			return append(dst, "false"...)
		}
		return append(dst, "null"...)
	case kindTime:
		if ns, ok := evtime.Parse(v); ok {
			return appendTime(dst, time.Unix(0, ns))
		}
	case kindArray:
		dst = append(dst, '[')
		for i, u := range e.Chain {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, u)
		}
		return append(dst, ']')
	}
	return AppendJSONString(dst, v)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

func (s *Set) appendIndicator(dst []byte, h Hit) []byte {
	st := s.st
	dst = append(dst, `{"Value":`...)
	dst = AppendJSONString(dst, st.value(h.Indicator))
	dst = append(dst, `,"Type":"`...)
	dst = append(dst, st.typ[h.Indicator].String()...)
	dst = append(dst, `","Field":"`...)
	dst = append(dst, fieldNames[h.Field]...)
	dst = append(dst, '"')
	if st.typ[h.Indicator] == TypeIPPort {
		dst = append(dst, `,"PortMatched":`...)
		dst = strconv.AppendBool(dst, h.PortMatched)
	}
	return append(dst, st.mts[st.meta[h.Indicator]].json...)
}

// AppendIndicatorDetails appends the feed metadata of indicator id as the
// members an alert's indicator object holds after Value, Type and Field
// (",\"ThreatType\":…" and the like, then ",\"Sources\":[…]"), and the
// object's closing brace.
func (s *Set) AppendIndicatorDetails(dst []byte, id uint32) []byte {
	return append(dst, s.st.mts[s.st.meta[id]].json...)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendAlertID appends a stable id: the first 16 bytes, in hex, of the
// SHA-256 of the origin and the matched (field, indicator) pairs. The same
// record matched against the same indicators gets the same id on every run,
// so consumers can drop the duplicates that at-least-once delivery brings.
func (s *Set) appendAlertID(dst []byte, hits []Hit, o *Origin) []byte {
	var buf [512]byte
	b := o.AppendJSON(buf[:0])
	for _, h := range hits {
		b = append(b, 0)
		b = append(b, fieldNames[h.Field]...)
		b = append(b, 0)
		b = append(b, s.st.value(h.Indicator)...)
	}
	sum := sha256.Sum256(b)
	return hex.AppendEncode(dst, sum[:16])
}

// AppendReject appends one rejects line: {"Origin":…,"Reason":…,"Raw":…},
// Raw being the record's first 4 KiB as a JSON string (invalid UTF-8
// replaced).
func AppendReject(dst []byte, o *Origin, reason string, raw []byte) []byte {
	const maxRaw = 4 << 10
	if len(raw) > maxRaw {
		raw = raw[:maxRaw]
	}
	dst = append(dst, `{"Origin":`...)
	dst = o.AppendJSON(dst)
	dst = append(dst, `,"Reason":`...)
	dst = AppendJSONString(dst, reason)
	dst = append(dst, `,"Raw":`...)
	dst = AppendJSONString(dst, raw)
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaping as encoding/json
// does (HTML characters included) and replacing invalid UTF-8 with U+FFFD.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	var b [utf8.UTFMax]byte
	n := copy(b[:], s[:min(len(s), utf8.UTFMax)])
	return utf8.DecodeRune(b[:n])
}
