package main

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matchd/matchd/matcher"
)

// The deduper throttles alerts (--dedup-window). Alerts are keyed by
// (indicators, entity, table): the indicator values the alert names, the
// entity on the other side of the match (the other IP of a
// CommonSecurityLog pair — the source unless only the source matched —,
// the DeviceName of DeviceNetworkEvents, the AccountUpn of UrlClickEvents)
// and the table. Time is cut into aligned windows of the record's event
// time. The first alert of a key in a window is written; later ones in the
// same window are counted. When the key's window closes, one summary alert
// is written if the key repeated: the first alert with a new AlertId and
// "Repeats" (the count), "WindowStart" and "WindowEnd" added.
//
// A key's window closes when an alert of the key arrives from a later
// window, when the watermark (the latest event time seen) passes the
// window's end by the grace period, when the key is evicted to keep the
// state under --dedup-max-keys (oldest windows first), and at the end of
// the run. A record older than its key's open window is counted in that
// window; a record without an event time belongs to the watermark's window.
//
// The deduper is used by the pipeline's writer goroutine only.
type deduper struct {
	window  int64 // ns
	grace   int64 // ns; < 0: windows close only by key, eviction or flush
	maxKeys int

	keys      map[string]*dedupState
	watermark int64
	swept     int64 // window index of the last sweep
	hasMark   bool
	buf       []byte

	suppressed, summaries, evicted int64
}

type dedupState struct {
	win     int64  // window index
	first   []byte // the window's first alert line, newline included
	repeats int64
}

// alertMark describes one alert of a result's alert bytes for the deduper.
type alertMark struct {
	end     int // offset just after the alert line
	key     string
	time    int64
	hasTime bool
}

func newDeduper(window, grace time.Duration, maxKeys int) *deduper {
	return &deduper{window: int64(window), grace: int64(grace), maxKeys: maxKeys, keys: map[string]*dedupState{}}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// filter returns the lines of alerts to write: the first alert of each key
// and window, and the summaries of the windows that closed. The result is
// valid until the next call.
func (d *deduper) filter(alerts []byte, marks []alertMark) []byte {
	dst := d.buf[:0]
	start := 0
	for _, m := range marks {
		line := alerts[start:m.end]
		start = m.end
		t := m.time
		if m.hasTime {
			if !d.hasMark || t > d.watermark {
				d.watermark, d.hasMark = t, true
			}
		} else {
			t = d.watermark
		}
		w := floorDiv(t, d.window)
		st := d.keys[m.key]
		switch {
		case st == nil:
			if len(d.keys) >= d.maxKeys {
				dst = d.evict(dst)
			}
			d.keys[m.key] = &dedupState{win: w, first: slices.Clone(line)}
			dst = append(dst, line...)
		case w > st.win:
			dst = d.summary(dst, st)
			st.win, st.first, st.repeats = w, slices.Clone(line), 0
			dst = append(dst, line...)
		default:
			st.repeats++
			d.suppressed++
		}
	}
	if d.grace >= 0 && d.hasMark {
		if w := floorDiv(d.watermark, d.window); w != d.swept {
			d.swept = w
			for k, st := range d.keys {
				if (st.win+1)*d.window+d.grace <= d.watermark {
					dst = d.summary(dst, st)
					delete(d.keys, k)
				}
			}
		}
	}
	d.buf = dst
	return dst
}

// flush closes every window, as at the end of a run, and returns the
// summaries.
func (d *deduper) flush() []byte {
	var dst []byte
	for _, k := range slices.Sorted(maps.Keys(d.keys)) {
		dst = d.summary(dst, d.keys[k])
		delete(d.keys, k)
	}
	return dst
}

// evict closes the oldest eighth of the windows (at least one) to make
// room.
func (d *deduper) evict(dst []byte) []byte {
	type kw struct {
		k string
		w int64
	}
	all := make([]kw, 0, len(d.keys))
	for k, st := range d.keys {
		all = append(all, kw{k, st.win})
	}
	slices.SortFunc(all, func(a, b kw) int {
		if c := cmp.Compare(a.w, b.w); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	for _, e := range all[:max(1, len(all)/8)] {
		dst = d.summary(dst, d.keys[e.k])
		delete(d.keys, e.k)
		d.evicted++
	}
	return dst
}

// summary appends the summary alert of st's window if the key repeated.
func (d *deduper) summary(dst []byte, st *dedupState) []byte {
	if st.repeats == 0 {
		return dst
	}
	d.summaries++
	line := bytes.TrimSuffix(st.first, []byte("\n"))
	const idKey = `,"AlertId":"`
	i := bytes.LastIndex(line, []byte(idKey))
	if i < 0 || len(line) < i+len(idKey)+32 || line[len(line)-1] != '}' {
		panic("BUG: alert line without AlertId: " + string(line))
	}
	idStart := i + len(idKey)
	idEnd := idStart + 32
	from := time.Unix(0, st.win*d.window).UTC()
	to := time.Unix(0, (st.win+1)*d.window).UTC()
	sum := sha256.Sum256(append(slices.Clip(line[idStart:idEnd]), "repeats@"+from.Format(time.RFC3339Nano)...))
	dst = append(dst, line[:idStart]...)
	dst = hex.AppendEncode(dst, sum[:16])
	dst = append(dst, line[idEnd:len(line)-1]...)
	dst = append(dst, `,"Repeats":`...)
	dst = strconv.AppendInt(dst, st.repeats, 10)
	dst = append(dst, `,"WindowStart":"`...)
	dst = from.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","WindowEnd":"`...)
	dst = to.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

// dedupKey returns the deduplication key of an alert for e and hits.
func dedupKey(e *matcher.Event, hits []matcher.Hit, set *matcher.Set) string {
	var entity []byte
	switch e.Table {
	case matcher.CommonSecurityLog:
		src, dst := false, false
		for _, h := range hits {
			src = src || h.Field == matcher.SourceIP
			dst = dst || h.Field == matcher.DestinationIP
		}
		if src && !dst {
			entity = e.Get(matcher.DestinationIP)
		} else {
			entity = e.Get(matcher.SourceIP)
		}
	case matcher.DeviceNetworkEvents:
		entity = e.Get(matcher.DeviceName)
	case matcher.UrlClickEvents:
		entity = e.Get(matcher.AccountUpn)
	}
	vals := make([]string, 0, len(hits))
	for _, h := range hits {
		vals = append(vals, string(set.Value(h.Indicator)))
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	b := make([]byte, 0, 64)
	b = append(b, e.Table.String()...)
	b = append(b, 0)
	b = append(b, entity...)
	for _, v := range vals {
		b = append(b, 0)
		b = append(b, v...)
	}
	return string(b)
}

// dedupFlags are the alert-throttling flags of replay and consume.
type dedupFlags struct {
	window  ageFlag
	maxKeys int
}

func (d *dedupFlags) register(fs *flag.FlagSet) {
	fs.Var(&d.window, "dedup-window", "write the first alert per (indicators, entity, table) in each event-time window of `DURATION`, and one summary alert with Repeats for the rest (0: every alert)")
	fs.IntVar(&d.maxKeys, "dedup-max-keys", 1_000_000, "keep --dedup-window state for at most `N` keys (the oldest windows close early)")
}

// deduper returns the deduper the flags ask for, nil when --dedup-window
// is off. grace is how far past a window's end the watermark must be for
// the window to close (< 0: never by the watermark).
func (d *dedupFlags) deduper(grace time.Duration) (*deduper, error) {
	if d.window < 0 {
		return nil, fmt.Errorf("--dedup-window %v: want a positive duration", time.Duration(d.window))
	}
	if d.maxKeys < 1 {
		return nil, fmt.Errorf("--dedup-max-keys %d: want at least 1", d.maxKeys)
	}
	if d.window == 0 {
		return nil, nil
	}
	if grace == graceOneWindow {
		grace = time.Duration(d.window)
	}
	return newDeduper(time.Duration(d.window), grace, d.maxKeys), nil
}

// graceOneWindow asks deduper for a grace period of one window.
const graceOneWindow = time.Duration(-2)
