package feed

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"slices"

	"github.com/matchd/matchd/matcher"
)

// valueIndex finds an indicator by Type and Value among the indicators of a
// slice, for deduplication within a feed (builder) and across feeds
// (Merge). It replaces a map[key]int: it stores no key, only the position
// and 32 bits of the hash in one word per slot, so a million-entry index
// takes 16 MB instead of about 40 MB plus a string header per entry, and
// the memory it touches for every new value (the slot, and the indicator
// only when the hash bits agree) is what loading a large list is bound by.
//
// The zero value is empty and ready to use. It is not safe for concurrent
// use.
type valueIndex struct {
	seed  maphash.Seed
	slots []uint64 // hash>>32 << 32 | position+1; 0 is an empty slot
	n     int
}

// init sizes the index for about hint entries.
func (x *valueIndex) init(hint int) {
	x.seed = maphash.MakeSeed()
	x.n = 0
	x.slots = make([]uint64, slotsFor(hint))
}

// slotsFor returns the table size that keeps n entries at most half full: a
// power of two, at least 16.
func slotsFor(n int) int {
	if n < 8 {
		return 16
	}
	return 1 << bits.Len(uint(2*n-1))
}

func (x *valueIndex) hash(typ matcher.IndicatorType, value string) uint32 {
	h := maphash.String(x.seed, value) ^ uint64(typ)*0x9E3779B97F4A7C15
	return uint32(h >> 32)
}

// findOrAdd returns the position in inds of the indicator of type typ and
// value value, and true; or, when there is none, records pos as its
// position and returns pos and false. The caller then puts the indicator
// at inds[pos] before the next call.
func (x *valueIndex) findOrAdd(inds []matcher.Indicator, typ matcher.IndicatorType, value string, pos int) (int, bool) {
	if x.slots == nil {
		x.init(0)
	}
	h := x.hash(typ, value)
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			if 2*(x.n+1) > len(x.slots) {
				x.grow()
				return x.add(h, pos), false
			}
			x.slots[i] = uint64(h)<<32 | uint64(pos+1)
			x.n++
			return pos, false
		}
		if uint32(s>>32) == h {
			j := int(uint32(s)) - 1
			if in := &inds[j]; in.Type == typ && in.Value == value {
				return j, true
			}
		}
	}
}

// add inserts a position known to be absent.
func (x *valueIndex) add(h uint32, pos int) int {
	mask := uint32(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = uint64(h)<<32 | uint64(pos+1)
	x.n++
	return pos
}

// grow doubles the table, placing every entry again from its stored hash.
func (x *valueIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	x.n = 0
	for _, s := range old {
		if s != 0 {
			x.add(uint32(s>>32), int(uint32(s))-1)
		}
	}
}

// interner deduplicates the metadata strings and string lists of a feed's
// indicators, which repeat across entries (a threat type, a malware family,
// a tag set, the feed's source), so that a feed holds one copy of each
// instead of one per indicator. Lists it returns are clipped, so appending
// to one copies it (Indicator.Merge clips too).
//
// The zero value is ready to use. It is not safe for concurrent use.
type interner struct {
	strs  map[string]string
	lists map[string][]string
	last  []string // the list returned last: consecutive entries often share it
	key   []byte   // scratch for list keys
}

// maxInterned bounds each table: metadata vocabularies are small, and a
// field unique to each entry (a reference URL) must not grow the tables
// without bound. Values past the bound are returned as they are.
const maxInterned = 1 << 12

// str returns s, or an equal string returned before.
func (t *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if u, ok := t.strs[s]; ok {
		return u
	}
	if t.strs == nil {
		t.strs = make(map[string]string)
	}
	if len(t.strs) < maxInterned {
		t.strs[s] = s
	}
	return s
}

// list returns a clipped list equal to l (nil for nil, empty for empty),
// shared with earlier calls for the same strings; the caller may reuse l.
func (t *interner) list(l []string) []string {
	if len(l) == 0 {
		return l[:0:0] // as slices.Clone: nil stays nil, empty stays non-nil
	}
	if slices.Equal(l, t.last) {
		return t.last
	}
	k := t.key[:0]
	for _, s := range l {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	t.key = k
	if u, ok := t.lists[string(k)]; ok {
		t.last = u
		return u
	}
	u := make([]string, len(l))
	for i, s := range l {
		u[i] = t.str(s)
	}
	if t.lists == nil {
		t.lists = make(map[string][]string)
	}
	if len(t.lists) < maxInterned {
		t.lists[string(k)] = u
	}
	t.last = u
	return u
}
