package ingest

import (
	"bytes"
	"errors"

	"github.com/matchd/matchd/ingest/cef"
	"github.com/matchd/matchd/ingest/jsonlog"
	"github.com/matchd/matchd/matcher"
)

// Decoder turns lines into events: a line that starts with '{' is JSON, one
// that contains "CEF:" is CEF (any syslog prefix before it), a blank line is
// skipped, and anything else is rejected.
//
// A Decoder is not safe for concurrent use; use one per goroutine. The
// events it returns are valid until the next call of Reset or Next.
type Decoder struct {
	json  *jsonlog.Parser
	ev    matcher.Event
	line  []byte
	kind  uint8
	done  bool
	index int
	// lineErr is set when the whole line was rejected.
	lineErr bool
}

const (
	kindBlank = iota
	kindJSON
	kindCEF
	kindOther
)

// ErrNotRecord is the reject reason of a line that is neither CEF nor JSON.
var ErrNotRecord = errors.New("not a CEF or JSON record")

// NewDecoder returns a Decoder; defaultTable is the table of JSON records
// that name none (TableUnknown: such records are rejected).
func NewDecoder(defaultTable matcher.Table) *Decoder {
	return &Decoder{json: jsonlog.NewParser(defaultTable)}
}

// Reset starts decoding line, which must not end in '\n'.
func (d *Decoder) Reset(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	d.line, d.done, d.index, d.lineErr = line, false, -1, false
	t := trimSpaceLeft(line)
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	switch {
	case isBlank(t):
		d.kind = kindBlank
	case t[0] == '{':
		d.kind = kindJSON
		d.json.Reset(t)
	case bytes.Contains(line, []byte("CEF:")):
		d.kind = kindCEF
	default:
		d.kind = kindOther
	}
}

// Next returns the line's next event. It returns (nil, nil) when the line
// has no more. A non-nil error is a reject: of the whole line when the
// returned event is nil and Index reports no envelope, else of the record
// at Index; decoding continues with the next call either way.
func (d *Decoder) Next() (*matcher.Event, error) {
	if d.done {
		return nil, nil
	}
	switch d.kind {
	case kindJSON:
		d.index++
		ok, err := d.json.Next(&d.ev)
		if !ok {
			d.done = true
			if err != nil {
				d.index, d.lineErr = 0, true
			}
			return nil, err
		}
		if re, isRec := err.(*jsonlog.RecordError); isRec {
			// The origin names the record; the reason needs no index.
			return nil, errors.New(re.Msg)
		}
		if err != nil {
			return nil, err
		}
		return &d.ev, nil
	case kindCEF:
		d.done = true
		d.index = 0
		if err := cef.Parse(&d.ev, d.line); err != nil {
			return nil, err
		}
		return &d.ev, nil
	case kindOther:
		d.done = true
		d.index = 0
		return nil, ErrNotRecord
	}
	d.done = true
	return nil, nil
}

// Index returns the 0-based index of the record last returned inside a
// records envelope, and whether the line is such an envelope.
func (d *Decoder) Index() (record int, envelope bool) {
	if d.kind == kindJSON && !d.lineErr && d.json.Multi() {
		return d.index, true
	}
	return 0, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
