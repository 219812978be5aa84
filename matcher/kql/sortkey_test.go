package kql

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matchd/matchd/internal/evtime"
	"github.com/matchd/matchd/matcher"
)

// refCompare orders two events under order-by keys as Kusto documents it:
// per key, nulls first or last whatever the direction, values by type
// (times by instant, ports numerically, strings by bytes), descending
// keys reversed.
func refCompare(keys []OrderKey, a, b *matcher.Event) int {
	for _, k := range keys {
		va, na := refSortValue(k.Col, a)
		vb, nb := refSortValue(k.Col, b)
		var c int
		switch {
		case na && nb:
			c = 0
		case na || nb:
			c = 1
			if na == k.NullsFirst {
				c = -1
			}
		default:
			c = refCmpValues(va, vb)
			if k.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func refSortValue(col string, e *matcher.Event) (any, bool) {
	f := matcher.LookupField([]byte(col))
	var v []byte
	if f != matcher.FieldNone {
		v = e.Get(f)
	} else {
		for _, kv := range e.Extra {
			if string(kv.Name) == col {
				v = kv.Value
			}
		}
	}
	if v == nil {
		return nil, true
	}
	switch col {
	case "Timestamp":
		ns, ok := evtime.Parse(v)
		return ns, !ok
	case "RemotePort":
		n, ok := refNum(string(v))
		return n, !ok
	}
	return string(v), false
}

func refCmpValues(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return cmp.Compare(a, b.(float64))
	}
	return strings.Compare(a.(string), b.(string))
}

func TestSortKey(t *testing.T) {
	times := []string{"2026-06-07T11:00:00Z", "2026-06-07T10:59:59.5Z", "2026-06-07T12:00:00+01:00", "1969-12-31T23:59:59Z", "not a time", ""}
	ports := []string{"80", "443", "-1", "1e3", "8080", "x", "0", ""}
	strs := []string{"a", "b", "ab", "a\x00", "a\x00b", "", "B", "é"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var keys []string
		cols := []string{"Timestamp", "RemotePort", "DeviceName", "X1"}
		for range 1 + rnd.IntN(3) {
			k := cols[rnd.IntN(len(cols))]
			k += []string{"", " asc", " desc"}[rnd.IntN(3)]
			k += []string{"", " nulls first", " nulls last"}[rnd.IntN(3)]
			keys = append(keys, k)
		}
		src := "DeviceNetworkEvents | order by " + strings.Join(keys, ", ")
		r := mustCompile(t, nil, src)
		q := r.Rules()[0].Query
		var evs []*matcher.Event
		for range 30 {
			e := &matcher.Event{Table: matcher.DeviceNetworkEvents}
			set := func(f matcher.Field, vals []string) {
				if v := vals[rnd.IntN(len(vals))]; v != "" || rnd.IntN(2) == 0 {
					e.Set(f, []byte(v))
				}
			}
			set(matcher.Timestamp, times)
			set(matcher.RemotePort, ports)
			set(matcher.DeviceName, strs)
			if rnd.IntN(3) > 0 {
				e.Extra = append(e.Extra, matcher.KV{Name: []byte("X1"), Value: []byte(strs[rnd.IntN(len(strs))])})
			}
			evs = append(evs, e)
		}
		for i, a := range evs {
			for _, b := range evs[i:] {
				ka := r.AppendSortKey(nil, a, 0)
				kb := r.AppendSortKey(nil, b, 0)
				if got, want := bytes.Compare(ka, kb), refCompare(q.OrderBy, a, b); got != want {
					t.Fatalf("round %d, %s:\n%s\n%s\nkeys compare %d, want %d", round, src, describeEvent(a), describeEvent(b), got, want)
				}
			}
		}
	}
	// An absent or unparseable value is null; an empty string is a value.
	r := mustCompile(t, nil, "DeviceNetworkEvents | order by DeviceName asc nulls first")
	empty := event(matcher.DeviceNetworkEvents, "DeviceName", "")
	absent := event(matcher.DeviceNetworkEvents)
	if bytes.Compare(r.AppendSortKey(nil, absent, 0), r.AppendSortKey(nil, empty, 0)) >= 0 {
		t.Errorf("null does not sort before the empty string")
	}
}
