package matcher

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// ACMatch is one occurrence of pattern Pattern at hay[Start:End].
type ACMatch struct {
	Pattern    uint32
	Start, End int32
}

// BuildError reports input that cannot be compiled, such as an empty
// pattern or a pattern set beyond the automaton's limits.
type BuildError struct {
	Msg string
}

func (e *BuildError) Error() string { return e.Msg }

// Automaton finds every occurrence of a fixed set of byte patterns in a
// haystack, with ASCII letters matched case-insensitively and every other
// byte matched exactly. It reports all matches, overlapping and nested ones
// included (not leftmost-first or leftmost-longest).
//
// An Automaton is immutable once compiled and safe for concurrent use. The
// zero value holds no patterns and matches nothing.
//
// States are numbered so that the first dense ones form the range
// [0, dense): each of them has a full transition row indexed by byte class,
// so one comparison tells the scan loop which representation to use. The
// other states are sparse: a packed word per state gives its first child,
// its child count and the label of the edge into it, and a mismatch follows
// the failure link. See DESIGN.md for the layout and its measurements.
//
// Every table is a slice of integers, so the garbage collector never scans
// them.
type Automaton struct {
	// class maps a byte to its byte class: A-Z share the class of a-z and
	// a byte that occurs in no pattern has class 0, which leads to the root
	// from every state.
	class [256]uint8
	// start marks the bytes that leave the root. The scan skips the others
	// while it is at the root; a skipped byte can begin no match.
	start [256]bool

	stride uint32 // classes per dense row (class 0 included)
	dense  uint32 // states below this id have a row in rows

	// rows holds the dense states' transitions: rows[s*stride+c] is the
	// next state's id, with acOutFlag set when that state reports matches.
	// Failure links are already resolved into the rows.
	rows []uint32

	// wide holds rows like those of rows for sparse states with many
	// children, where a child search would be slow: a state word's wide
	// index w > 0 selects wide[(w-1)*stride:w*stride].
	wide []uint32

	// nodes holds one packed word per state (see acNodeFirst and friends).
	// The children of a state have consecutive ids, sorted by label, and
	// below the dense states a chain of only children has consecutive ids,
	// so walking down the unshared tail of a pattern reads memory in order.
	nodes []uint64

	// fail is the failure link of each state: the state of the longest
	// proper suffix of its path that is also a path in the trie.
	fail []uint32

	// out is, for each state, 1 + the index of the first output record on
	// its failure chain (itself included), or 0 if the chain ends no
	// pattern. Record r lists ids[recStart[r]:recStart[r+1]], all patterns
	// ending at one state in ascending order, and continues with record
	// recNext[r]-1 (none if 0), the next shorter suffix that ends a pattern.
	out      []uint32
	recStart []uint32
	recNext  []uint32
	ids      []uint32

	patLen []uint32 // length of each pattern, by id
}

// Layout of a state word in Automaton.nodes.
const (
	acOutFlag   = 1 << 31       // in an id: the state reports matches
	acIDMask    = acOutFlag - 1 // the id bits
	acMaxStates = acIDMask      // so that every id fits under acIDMask

	acCountShift = 32 // 8 bits: number of children (at most 230 classes)
	acLabelShift = 40 // 8 bits: class of the edge into the state
	acWideShift  = 48 // 16 bits: 1 + index of the state's row in wide, or 0
	acMaxWide    = 1<<16 - 1
)

func acNodeFirst(w uint64) uint32 { return uint32(w) & acIDMask }
func acNodeCount(w uint64) uint32 { return uint32(w>>acCountShift) & 0xff }
func acNodeLabel(w uint64) uint8  { return uint8(w >> acLabelShift) }
func acNodeWide(w uint64) uint32  { return uint32(w >> acWideShift) }

// acConfig tunes the representation; tests use it to run every case on
// every configuration.
type acConfig struct {
	// denseBytes: the breadth-first first states get rows while they fit
	// in this many bytes (a whole group of siblings at a time); the root
	// always gets one. When all states fit, the automaton is a DFA.
	denseBytes int
	// wideBytes: sparse states with at least wideChildren children get a
	// row while rows fit in this many bytes, shallowest first.
	wideBytes    int
	wideChildren int
	// noPrefilter disables skipping non-starting bytes at the root.
	noPrefilter bool
}

// defaultACConfig holds the thresholds measured in DESIGN.md.
func defaultACConfig() acConfig {
	return acConfig{denseBytes: 4 << 20, wideBytes: 1 << 20, wideChildren: 16}
}

// CompileAC builds an automaton over patterns, matched ASCII
// case-insensitively: pattern id i is patterns[i]. Empty patterns are a
// *BuildError. Duplicate patterns are allowed and each id is reported.
// CompileAC does not retain patterns.
//
// It takes time linear in the total pattern length plus a sort of the
// patterns; MemoryUsage reports what the result holds.
func CompileAC(patterns [][]byte) (*Automaton, error) {
	return compileAC(patterns, defaultACConfig())
}

// Len returns the number of patterns.
func (a *Automaton) Len() int { return len(a.patLen) }

// PatternLen returns the length of pattern id. It panics if id is not below
// Len.
func (a *Automaton) PatternLen(id uint32) int { return int(a.patLen[id]) }

// MemoryUsage returns the bytes held by a's tables.
func (a *Automaton) MemoryUsage() int {
	return int(unsafe.Sizeof(*a)) + 4*cap(a.rows) + 4*cap(a.wide) + 8*cap(a.nodes) + 4*cap(a.fail) + 4*cap(a.out) +
		4*cap(a.recStart) + 4*cap(a.recNext) + 4*cap(a.ids) + 4*cap(a.patLen)
}

// AppendMatches appends every occurrence of every pattern in hay to dst and
// returns the extended slice: overlapping and nested occurrences are all
// reported, in order of End, then ascending pattern id. Only the first
// math.MaxInt32 bytes of hay are searched, so that positions fit an
// ACMatch.
//
// It never allocates when dst has room for the matches, is safe for
// concurrent use and never fails. It costs a table lookup or a short child
// search per byte, plus the matches reported.
func (a *Automaton) AppendMatches(dst []ACMatch, hay []byte) []ACMatch {
	if len(hay) > math.MaxInt32 {
		hay = hay[:math.MaxInt32]
	}
	var (
		class  = &a.class
		start  = &a.start
		rows   = a.rows
		wide   = a.wide
		nodes  = a.nodes
		fail   = a.fail
		dense  = a.dense
		stride = a.stride
		s      uint32 // current state
	)
	for i := 0; i < len(hay); i++ {
		if s == 0 {
			for i < len(hay) && !start[hay[i]] {
				i++
			}
			if i == len(hay) {
				break
			}
		}
		c := class[hay[i]]
		if c == 0 {
			s = 0
			continue
		}
		var e uint32 // next state with acOutFlag
	step:
		for {
			if s < dense {
				e = rows[s*stride+uint32(c)]
				break
			}
			w := nodes[s]
			if r := acNodeWide(w); r != 0 {
				e = wide[(r-1)*stride+uint32(c)]
				break
			}
			first := acNodeFirst(w)
			kids := nodes[first : first+acNodeCount(w)]
			for k, kw := range kids {
				if acNodeLabel(kw) == c {
					e = (first + uint32(k)) | uint32(kw)&acOutFlag
					break step
				}
			}
			s = fail[s]
		}
		s = e & acIDMask
		if e&acOutFlag != 0 {
			dst = a.appendOutputs(dst, s, int32(i+1))
		}
	}
	return dst
}

// appendOutputs appends the matches of state s, ending at end.
func (a *Automaton) appendOutputs(dst []ACMatch, s uint32, end int32) []ACMatch {
	base := len(dst)
	r := a.out[s]
	chained := a.recNext[r-1] != 0
	for ; r != 0; r = a.recNext[r-1] {
		for _, id := range a.ids[a.recStart[r-1]:a.recStart[r]] {
			dst = append(dst, ACMatch{Pattern: id, Start: end - int32(a.patLen[id]), End: end})
		}
	}
	if chained {
		// Each record is sorted, but the chain runs from the longest
		// pattern to the shortest, not by id.
		acSortByPattern(dst[base:])
	}
	return dst
}

func acSortByPattern(m []ACMatch) {
	if len(m) > 16 {
		slices.SortFunc(m, func(x, y ACMatch) int { return cmp.Compare(x.Pattern, y.Pattern) })
		return
	}
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].Pattern < m[j-1].Pattern; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

// acBuilder holds the scratch memory of one compilation.
type acBuilder struct {
	a     *Automaton
	buf   []byte   // all patterns, each byte replaced by its class
	off   []uint32 // pattern i is buf[off[i]:off[i+1]]
	order []uint32 // pattern ids sorted by buf content, then id
	lcp   []uint32 // lcp[i]: common prefix of patterns order[i-1] and order[i]
	next  uint32   // next free state id
}

// acSpan is a trie state under construction: the patterns order[lo:hi] are
// those that begin with the state's path, of length depth.
type acSpan struct {
	id, lo, hi, depth uint32
}

func (b *acBuilder) pattern(i uint32) []byte { return b.buf[b.off[i]:b.off[i+1]] }

// patLenAt returns the length of the pattern at sorted position i.
func (b *acBuilder) patLenAt(i uint32) uint32 { return b.a.patLen[b.order[i]] }

func compileAC(patterns [][]byte, cfg acConfig) (*Automaton, error) {
	if len(patterns) >= acMaxStates {
		return nil, &BuildError{Msg: fmt.Sprintf("too many patterns: %d, limit %d", len(patterns), acMaxStates-1)}
	}
	total := 0
	for i, p := range patterns {
		if len(p) == 0 {
			return nil, &BuildError{Msg: fmt.Sprintf("pattern %d is empty", i)}
		}
		total += len(p)
		if total >= acMaxStates {
			return nil, &BuildError{Msg: fmt.Sprintf("patterns too long: more than %d bytes in all", acMaxStates-1)}
		}
	}
	a := &Automaton{patLen: make([]uint32, len(patterns))}
	if len(patterns) == 0 {
		return a, nil
	}

	// Byte classes, numbered in byte order so that sorting by class
	// sequence sorts by lower-cased bytes.
	var seen [256]bool
	for _, p := range patterns {
		for _, c := range p {
			seen[acLower(c)] = true
		}
	}
	a.stride = 1
	for c := range 256 {
		if seen[c] {
			a.class[c] = uint8(a.stride)
			a.stride++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}

	b := &acBuilder{
		a:     a,
		buf:   make([]byte, 0, total),
		off:   make([]uint32, 0, len(patterns)+1),
		order: make([]uint32, len(patterns)),
		lcp:   make([]uint32, len(patterns)),
	}
	for i, p := range patterns {
		b.off = append(b.off, uint32(len(b.buf)))
		for _, c := range p {
			b.buf = append(b.buf, a.class[c])
		}
		a.patLen[i] = uint32(len(p))
		b.order[i] = uint32(i)
	}
	b.off = append(b.off, uint32(len(b.buf)))
	slices.SortFunc(b.order, func(x, y uint32) int {
		if c := bytes.Compare(b.pattern(x), b.pattern(y)); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})

	// The trie has one state per distinct prefix. In sorted order, the
	// prefixes of a pattern not shared with its predecessor are new.
	numStates := uint64(1)
	for i := range b.order {
		if i > 0 {
			b.lcp[i] = acCommonPrefix(b.pattern(b.order[i-1]), b.pattern(b.order[i]))
		}
		numStates += uint64(b.patLenAt(uint32(i)) - b.lcp[i])
	}

	a.nodes = make([]uint64, numStates)
	a.fail = make([]uint32, numStates)
	a.out = make([]uint32, numStates)
	a.ids = make([]uint32, 0, len(patterns))
	a.recStart = append(make([]uint32, 0, len(patterns)+1), 0)

	rowBytes := 4 * uint64(a.stride)
	// Row indexes s*stride+c must fit a uint32, with room for the last
	// group of siblings to overshoot.
	maxDense := min(uint64(cfg.denseBytes)/rowBytes, numStates, math.MaxUint32/uint64(a.stride)-256)
	b.number(uint32(max(maxDense, 1)))
	if uint64(b.next) != numStates {
		panic(fmt.Sprintf("BUG: numbered %d states of %d", b.next, numStates))
	}
	a.recNext = make([]uint32, len(a.recStart)-1)
	a.rows = make([]uint32, uint64(a.dense)*uint64(a.stride))
	if cfg.wideChildren > 0 {
		n := 0
		for _, w := range a.nodes[a.dense:] {
			if int(acNodeCount(w)) >= cfg.wideChildren {
				n++
			}
		}
		n = min(n, cfg.wideBytes/int(rowBytes), acMaxWide)
		a.wide = make([]uint32, 0, n*int(a.stride))
	}
	b.link(cfg.wideChildren)

	for c := range 256 {
		a.start[c] = cfg.noPrefilter || a.rows[a.class[c]] != 0
	}
	return a, nil
}

// number assigns state ids and fills nodes and the output records.
//
// The first states, in breadth-first order, become dense until maxDense is
// reached (a whole group of siblings at a time). The remaining states are
// numbered depth-first, a whole group of siblings at a time, so that a
// single child follows its parent.
func (b *acBuilder) number(maxDense uint32) {
	root := acSpan{id: 0, lo: 0, hi: uint32(len(b.order)), depth: 0}
	b.next = 1

	queue := []acSpan{root}
	qi := 0
	for ; qi < len(queue) && b.next < maxDense; qi++ {
		queue = b.expand(queue, queue[qi])
	}
	b.a.dense = b.next

	var stack []acSpan
	for _, x := range queue[qi:] {
		stack = append(stack[:0], x)
		for len(stack) > 0 {
			y := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			start := len(stack)
			stack = b.expand(stack, y)
			slices.Reverse(stack[start:]) // visit the first child next
		}
	}
}

// expand records the patterns ending at x, gives x's children consecutive
// ids and appends them to dst.
func (b *acBuilder) expand(dst []acSpan, x acSpan) []acSpan {
	a := b.a
	i := x.lo
	for i < x.hi && b.patLenAt(i) == x.depth {
		a.ids = append(a.ids, b.order[i])
		i++
	}
	if i > x.lo {
		a.recStart = append(a.recStart, uint32(len(a.ids)))
		a.out[x.id] = uint32(len(a.recStart) - 1)
		a.nodes[x.id] |= acOutFlag // link relies on it
	}
	first := b.next
	for i < x.hi {
		j := i + 1
		for j < x.hi && b.lcp[j] > x.depth {
			j++
		}
		label := b.buf[b.off[b.order[i]]+x.depth]
		a.nodes[b.next] = uint64(label) << acLabelShift
		dst = append(dst, acSpan{id: b.next, lo: i, hi: j, depth: x.depth + 1})
		b.next++
		i = j
	}
	a.nodes[x.id] |= uint64(first) | uint64(b.next-first)<<acCountShift
	return dst
}

// link computes failure links, output chains and rows, visiting states
// breadth-first so that every state a link can point to is done first.
// Sparse states with at least wideChildren children get a row in wide
// while its capacity lasts.
func (b *acBuilder) link(wideChildren int) {
	a := b.a
	queue := make([]uint32, 1, len(a.nodes))
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		w := a.nodes[u]
		first, count := acNodeFirst(w), acNodeCount(w)
		for t := first; t < first+count; t++ {
			var f uint32
			if u != 0 {
				f = a.next(a.fail[u], acNodeLabel(a.nodes[t]))
			}
			a.fail[t] = f
			// So far acOutFlag marks the states that end a pattern;
			// testing it spares a cache miss on out for the others.
			if a.nodes[t]&acOutFlag != 0 {
				a.recNext[a.out[t]-1] = a.out[f]
			} else if a.out[f] != 0 {
				a.out[t] = a.out[f]
				a.nodes[t] |= acOutFlag
			}
			queue = append(queue, t)
		}
		if u < a.dense {
			row := a.rows[u*a.stride : (u+1)*a.stride]
			if u != 0 {
				f := a.fail[u]
				copy(row, a.rows[f*a.stride:(f+1)*a.stride])
			}
			for t := first; t < first+count; t++ {
				row[acNodeLabel(a.nodes[t])] = t | uint32(a.nodes[t])&acOutFlag
			}
		} else if wideChildren > 0 && int(count) >= wideChildren && len(a.wide) < cap(a.wide) {
			// Computed before the state is marked wide: a.next must
			// search its children.
			for c := range a.stride {
				t := uint32(0)
				if c != 0 {
					t = a.next(u, uint8(c))
				}
				a.wide = append(a.wide, t|uint32(a.nodes[t])&acOutFlag)
			}
			a.nodes[u] |= uint64(len(a.wide)/int(a.stride)) << acWideShift
		}
	}
}

// next returns the state after class c from state s, following failure
// links. It is the scan loop's transition, used at build time.
func (a *Automaton) next(s uint32, c uint8) uint32 {
	for {
		if s < a.dense {
			return a.rows[s*a.stride+uint32(c)] & acIDMask
		}
		w := a.nodes[s]
		if r := acNodeWide(w); r != 0 {
			return a.wide[(r-1)*a.stride+uint32(c)] & acIDMask
		}
		first := acNodeFirst(w)
		for t := first; t < first+acNodeCount(w); t++ {
			if acNodeLabel(a.nodes[t]) == c {
				return t
			}
		}
		s = a.fail[s]
	}
}

func acCommonPrefix(x, y []byte) uint32 {
	n := min(len(x), len(y))
	i := 0
	for i < n && x[i] == y[i] {
		i++
	}
	return uint32(i)
}

func acLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
