package main

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/matchd/matchd/matcher/kql"
)

// defaultSortMemory bounds the rule alerts a replay holds in memory before
// it spills a sorted run to a temporary file.
const defaultSortMemory = 256 << 20

// ruleSink holds a replay's rule alerts until the input ends, then writes
// them rule by rule in file order, each rule's alerts sorted by its order
// by (stable: ties keep input order) and cut to its take. Past maxMem
// bytes it sorts what it holds into a run on disk; the runs are merged at
// the end.
type ruleSink struct {
	rules  *kql.Rules
	maxMem int
	tmpDir string // "" for os.TempDir()

	seq   uint64
	held  []sortItem
	arena []byte
	taken []int64 // per rule: alerts kept (rules with take and no order)
	runs  []*os.File
}

// sortItem is one alert: key and line are arena[off:off+keyLen] and
// arena[off+keyLen:end].
type sortItem struct {
	rule        uint32
	seq         uint64
	off, keyLen int
	end         int
}

func newRuleSink(r *kql.Rules, maxMem int) *ruleSink {
	return &ruleSink{rules: r, maxMem: maxMem, taken: make([]int64, r.Len())}
}

// add takes a batch's rule alerts, in input order.
func (s *ruleSink) add(b *ruleBatch) error {
	for i, it := range b.items {
		if s.rules.Take(it.rule) >= 0 && len(s.rules.Rules()[it.rule].Query.OrderBy) == 0 {
			// take without order by keeps the first alerts.
			if s.taken[it.rule] >= s.rules.Take(it.rule) {
				continue
			}
			s.taken[it.rule]++
		}
		key, line := b.key(i), b.line(i)
		off := len(s.arena)
		s.arena = append(s.arena, key...)
		s.arena = append(s.arena, line...)
		s.held = append(s.held, sortItem{uint32(it.rule), s.seq, off, len(key), len(s.arena)})
		s.seq++
		if len(s.arena)+48*len(s.held) > s.maxMem {
			if err := s.spill(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *ruleSink) key(it *sortItem) []byte  { return s.arena[it.off : it.off+it.keyLen] }
func (s *ruleSink) line(it *sortItem) []byte { return s.arena[it.off+it.keyLen : it.end] }

func (s *ruleSink) sortHeld() {
	slices.SortFunc(s.held, func(a, b sortItem) int {
		if a.rule != b.rule {
			return int(a.rule) - int(b.rule)
		}
		if c := bytes.Compare(s.key(&a), s.key(&b)); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// spill writes the held alerts, sorted, as a run: per alert the uvarints
// rule, seq, key length and line length, then key and line.
func (s *ruleSink) spill() error {
	if len(s.held) == 0 {
		return nil
	}
	s.sortHeld()
	f, err := os.CreateTemp(s.tmpDir, "matchd-rules-*.run")
	if err != nil {
		return fmt.Errorf("spilling rule alerts: %w", err)
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [4 * binary.MaxVarintLen64]byte
	for i := range s.held {
		it := &s.held[i]
		n := binary.PutUvarint(hdr[:], uint64(it.rule))
		n += binary.PutUvarint(hdr[n:], it.seq)
		n += binary.PutUvarint(hdr[n:], uint64(it.keyLen))
		n += binary.PutUvarint(hdr[n:], uint64(it.end-it.off-it.keyLen))
		w.Write(hdr[:n])
		w.Write(s.arena[it.off:it.end])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spilling rule alerts: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spilling rule alerts: %w", err)
	}
	s.held, s.arena = s.held[:0], s.arena[:0]
	return nil
}

// finish writes every held alert to w and returns how many it wrote. The
// sink is spent afterwards.
func (s *ruleSink) finish(w io.Writer) (int64, error) {
	defer s.close()
	count := make([]int64, s.rules.Len())
	keep := func(rule uint32) bool {
		t := s.rules.Take(kql.RuleID(rule))
		if t >= 0 && count[rule] >= t {
			return false
		}
		count[rule]++
		return true
	}
	var n int64
	if len(s.runs) == 0 {
		s.sortHeld()
		for i := range s.held {
			it := &s.held[i]
			if !keep(it.rule) {
				continue
			}
			if _, err := w.Write(s.line(it)); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
	if err := s.spill(); err != nil {
		return 0, err
	}
	h := &runHeap{}
	for _, f := range s.runs {
		r := &runReader{r: bufio.NewReaderSize(f, 256<<10)}
		if ok, err := r.next(); err != nil {
			return 0, err
		} else if ok {
			h.rs = append(h.rs, r)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		r := h.rs[0]
		if keep(r.rule) {
			if _, err := w.Write(r.line); err != nil {
				return n, err
			}
			n++
		}
		ok, err := r.next()
		if err != nil {
			return n, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return n, nil
}

func (s *ruleSink) close() {
	for _, f := range s.runs {
		f.Close()
		os.Remove(f.Name())
	}
	s.runs, s.held, s.arena = nil, nil, nil
}

// runReader reads one spilled run.
type runReader struct {
	r         *bufio.Reader
	rule      uint32
	seq       uint64
	key, line []byte
	buf       []byte
}

func (r *runReader) next() (bool, error) {
	rule, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	var seq, kl, ll uint64
	if err == nil {
		seq, err = binary.ReadUvarint(r.r)
	}
	if err == nil {
		kl, err = binary.ReadUvarint(r.r)
	}
	if err == nil {
		ll, err = binary.ReadUvarint(r.r)
	}
	if err == nil {
		r.buf = slices.Grow(r.buf[:0], int(kl+ll))[:kl+ll]
		_, err = io.ReadFull(r.r, r.buf)
	}
	if err != nil {
		return false, fmt.Errorf("reading spilled rule alerts: %w", err)
	}
	r.rule, r.seq, r.key, r.line = uint32(rule), seq, r.buf[:kl], r.buf[kl:]
	return true, nil
}

// runHeap orders run readers by (rule, key, seq).
type runHeap struct{ rs []*runReader }

func (h *runHeap) Len() int { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool {
	a, b := h.rs[i], h.rs[j]
	if a.rule != b.rule {
		return a.rule < b.rule
	}
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}
func (h *runHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)    { h.rs = append(h.rs, x.(*runReader)) }
func (h *runHeap) Pop() any {
	r := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return r
}
