package matcher

import (
	"net/netip"
	"slices"
)

// span is a range of a flat id list: ids[off : off+n].
type span struct{ off, n uint32 }

// IPSet maps addresses to the ids of the indicators that cover them: exact
// addresses in hash maps, prefixes in one binary radix trie per family whose
// nodes sit in a slice and point to each other by uint32 index, so the
// garbage collector never scans them.
//
// An IPSet is immutable once built and safe for concurrent use.
type IPSet struct {
	v4    addrTable
	v6    map[[16]byte]span
	t4    trie
	t6    trie
	ids   []uint32
	nAddr int
	nPfx  int
}

// trie is a binary radix trie over address bits. Node 0 is the root. A node's
// val is a span of prefix ids ending there (n == 0: none).
type trie struct {
	child [][2]uint32 // 0: no child (the root is never a child)
	val   []span
}

func (t *trie) init() {
	t.child = append(t.child[:0], [2]uint32{})
	t.val = append(t.val[:0], span{})
}

// IPSetBuilder collects addresses and prefixes for an IPSet. The zero value
// is ready to use.
type IPSetBuilder struct {
	addrs []addrID
	pfxs  []pfxID
}

type addrID struct {
	a  netip.Addr
	id uint32
}

type pfxID struct {
	p  netip.Prefix
	id uint32
}

// AddAddr maps a to id. An address may carry several ids.
func (b *IPSetBuilder) AddAddr(a netip.Addr, id uint32) {
	b.addrs = append(b.addrs, addrID{a.Unmap(), id})
}

// AddPrefix maps every address of p to id.
func (b *IPSetBuilder) AddPrefix(p netip.Prefix, id uint32) {
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	b.pfxs = append(b.pfxs, pfxID{p.Masked(), id})
}

// Build returns the set. The builder may be reused afterwards.
func (b *IPSetBuilder) Build() *IPSet {
	s := &IPSet{v6: map[[16]byte]span{}}
	s.t4.init()
	s.t6.init()
	// IPv4 addresses go straight into the open-addressing table; IPv6
	// ones, fewer, are grouped by sorting.
	n4 := 0
	for _, e := range b.addrs {
		if e.a.Is4() {
			n4++
		}
	}
	s.v4.init(n4)
	multi := map[uint32][]uint32{}
	v6 := b.addrs[:0:0]
	for _, e := range b.addrs {
		if !e.a.Is4() {
			v6 = append(v6, e)
			continue
		}
		k := v4key(e.a)
		if first, ok := s.v4.insert(k, e.id); !ok {
			if multi[k] == nil {
				multi[k] = []uint32{first}
			}
			multi[k] = append(multi[k], e.id)
		} else {
			s.nAddr++
		}
	}
	for k, ids := range multi {
		s.v4.setMulti(k, span{uint32(len(s.ids)), uint32(len(ids))})
		s.ids = append(s.ids, ids...)
	}
	slices.SortStableFunc(v6, func(x, y addrID) int { return x.a.Compare(y.a) })
	for i := 0; i < len(v6); {
		j := i
		off := uint32(len(s.ids))
		for ; j < len(v6) && v6[j].a == v6[i].a; j++ {
			s.ids = append(s.ids, v6[j].id)
		}
		s.v6[v6[i].a.As16()] = span{off, uint32(j - i)}
		s.nAddr++
		i = j
	}
	slices.SortStableFunc(b.pfxs, func(x, y pfxID) int { return x.p.Addr().Compare(y.p.Addr())*64 + (x.p.Bits() - y.p.Bits()) })
	for i := 0; i < len(b.pfxs); {
		j := i
		off := uint32(len(s.ids))
		for ; j < len(b.pfxs) && b.pfxs[j].p == b.pfxs[i].p; j++ {
			s.ids = append(s.ids, b.pfxs[j].id)
		}
		p := b.pfxs[i].p
		t := &s.t6
		if p.Addr().Is4() {
			t = &s.t4
		}
		t.insert(addrBytes(p.Addr()), p.Bits(), span{off, uint32(j - i)})
		s.nPfx++
		i = j
	}
	return s
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrBytes(a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

func bit(b []byte, i int) int { return int(b[i>>3]>>(7-uint(i&7))) & 1 }

func (t *trie) insert(addr []byte, bits int, v span) {
	n := uint32(0)
	for i := 0; i < bits; i++ {
		c := bit(addr, i)
		next := t.child[n][c]
		if next == 0 {
			next = uint32(len(t.child))
			t.child = append(t.child, [2]uint32{})
			t.val = append(t.val, span{})
			t.child[n][c] = next
		}
		n = next
	}
	t.val[n] = v
}

// Len returns the number of distinct addresses and prefixes in the set.
func (s *IPSet) Len() (addrs, prefixes int) { return s.nAddr, s.nPfx }

// AppendLookup appends to dst the ids of every exact address equal to a and
// of every prefix containing a (all of them, shortest prefix first, after
// the exact ids). It does not allocate when dst has room.
func (s *IPSet) AppendLookup(dst []uint32, a netip.Addr) []uint32 {
	var sp span
	var ok bool
	t := &s.t6
	var buf [16]byte
	var key []byte
	if a.Is4() {
		var one uint32
		var single bool
		one, sp, single, ok = s.v4.lookup(v4key(a))
		if single {
			dst = append(dst, one)
			ok = false
		}
		t = &s.t4
		b4 := a.As4()
		copy(buf[:], b4[:])
		key = buf[:4]
	} else {
		buf = a.As16()
		sp, ok = s.v6[buf]
		key = buf[:]
	}
	if ok {
		dst = append(dst, s.ids[sp.off:sp.off+sp.n]...)
	}
	if len(t.child) == 1 && t.val[0].n == 0 {
		return dst
	}
	n := uint32(0)
	for i := 0; ; i++ {
		if v := t.val[n]; v.n != 0 {
			dst = append(dst, s.ids[v.off:v.off+v.n]...)
		}
		if i == len(key)*8 {
			break
		}
		n = t.child[n][bit(key, i)]
		if n == 0 {
			break
		}
	}
	return dst
}

// MemoryUsage estimates the bytes the set holds.
func (s *IPSet) MemoryUsage() int {
	const mapEntry = 1.5 // average load overhead of Go's swiss tables
	m := float64(8*len(s.v4.slots)+12*len(s.v4.multi)) + float64(len(s.v6))*(16+8)*mapEntry
	return int(m) + 4*cap(s.ids) + (8+8)*(cap(s.t4.child)+cap(s.t6.child))
}

// addrTable maps IPv4 addresses to indicator ids: open addressing with
// linear probing over one []uint64 of key<<32|value, at most half full, so
// a lookup is usually one cache miss and the garbage collector never scans
// it. A value with the top bit clear is the address's only id; with it set,
// the rest indexes multi, the spans of addresses with several ids.
type addrTable struct {
	slots []uint64
	shift uint
	multi []span
	// filter is a blocked Bloom filter over the keys, 8 bits a key (two
	// bits in one word each): most lookups of an address that is not in
	// the table end in this small array, which stays in cache, instead
	// of a cache miss on slots (1M keys: 1 MiB of filter, 16 MiB of
	// slots). About 5% of absent keys get past it.
	filter []uint64
	fshift uint
}

const filterMul = 0xC2B2AE3D27D4EB4F

// filterBits returns the filter word of k and the two bits it sets.
func (t *addrTable) filterBits(k uint32) (int, uint64) {
	h := uint64(k) * filterMul
	return int(h >> t.fshift), 1<<((h>>20)&63) | 1<<((h>>26)&63)
}

const (
	emptySlot = ^uint64(0)
	multiBit  = 1 << 31
)

func (t *addrTable) init(n int) {
	size, shift := 16, uint(64-4)
	for size < 2*n {
		size <<= 1
		shift--
	}
	t.slots = make([]uint64, size)
	for i := range t.slots {
		t.slots[i] = emptySlot
	}
	// size/16 words of 64 bits: 8 to 16 bits a key.
	words, fshift := 1, uint(64)
	for words < size/16 {
		words <<= 1
		fshift--
	}
	t.filter, t.fshift = make([]uint64, words), fshift
	t.shift = shift
}

func (t *addrTable) home(k uint32) int { return int((uint64(k) * 0x9E3779B97F4A7C15) >> t.shift) }

// insert adds k -> id; when k is present it returns its first id and false.
func (t *addrTable) insert(k, id uint32) (uint32, bool) {
	if id >= multiBit {
		panic("BUG: indicator id out of range")
	}
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == emptySlot {
			t.slots[i] = uint64(k)<<32 | uint64(id)
			w, bits := t.filterBits(k)
			t.filter[w] |= bits
			return 0, true
		}
		if uint32(s>>32) == k {
			return uint32(s), false
		}
	}
}

// setMulti points k, already present, at a span of ids.
func (t *addrTable) setMulti(k uint32, sp span) {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		if s := t.slots[i]; s != emptySlot && uint32(s>>32) == k {
			t.slots[i] = uint64(k)<<32 | uint64(multiBit|len(t.multi))
			t.multi = append(t.multi, sp)
			return
		}
	}
}

// lookup finds k: its only id (single), or the span of its ids.
func (t *addrTable) lookup(k uint32) (id uint32, sp span, single, ok bool) {
	if len(t.slots) == 0 {
		return 0, span{}, false, false
	}
	if w, bits := t.filterBits(k); t.filter[w]&bits != bits {
		return 0, span{}, false, false
	}
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == emptySlot {
			return 0, span{}, false, false
		}
		if uint32(s>>32) == k {
			v := uint32(s)
			if v&multiBit == 0 {
				return v, span{}, true, true
			}
			return 0, t.multi[v&^multiBit], false, true
		}
	}
}
