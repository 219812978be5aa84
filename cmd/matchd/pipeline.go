package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/matcher"
)

// stats counts what a run did. Workers fill one per batch; the writer sums
// them in input order.
type stats struct {
	records  [4]int64 // per matcher.Table
	matched  [4]int64 // records that alerted, per matcher.Table
	alerts   int64
	rejects  int64
	filtered int64 // outside --since/--until
}

func (s *stats) add(o *stats) {
	for i := range s.records {
		s.records[i] += o.records[i]
		s.matched[i] += o.matched[i]
	}
	s.alerts += o.alerts
	s.rejects += o.rejects
	s.filtered += o.filtered
}

func (s *stats) total() int64 {
	var n int64
	for _, r := range s.records {
		n += r
	}
	return n
}

// filter narrows records by event time; bounds are Unix nanoseconds, until
// exclusive. Records without a time pass.
type filter struct {
	since, until       int64
	hasSince, hasUntil bool
}

func (f *filter) keep(e *matcher.Event) bool {
	if !e.HasTime {
		return true
	}
	if f.hasSince && e.Time < f.since {
		return false
	}
	if f.hasUntil && e.Time >= f.until {
		return false
	}
	return true
}

// result is one processed batch.
type result struct {
	seq     uint64
	alerts  []byte
	rejects []byte
	samples []string // reject messages for stderr, at most maxSamples
	st      stats
	err     error
	ack     ingest.AckFunc
	gate    func() error // see ingest.Batch.Gate
	last    bool         // the last piece of its batch
	rules   ruleBatch    // rule alerts, when --rules is given
	marks   []alertMark  // one per alert, when deduplicating
	raw     []rejected   // the rejected records, when a rejects topic takes them
}

// rejected is one rejected record for a rejects topic; Raw aliases the
// batch.
type rejected struct {
	Origin matcher.Origin
	Reason string
	Raw    []byte
}

const maxSamples = 10

// worker parses and matches batches; one per goroutine.
type worker struct {
	dec    *ingest.Decoder
	sc     *matcher.Scanner
	filter filter
	// live, when not nil, holds the indicator set and rules in force; a
	// reload swaps them together and the worker takes both up at its next
	// batch.
	live    *atomic.Pointer[inForce]
	rules   *ruleMatcher // nil: no --rules
	dedup   bool         // mark each alert for the pipeline's deduper
	keepRaw bool         // keep rejected records for pipeline.rawRejects
}

func (w *worker) process(b *ingest.Batch) *result {
	res := &result{err: b.Err}
	if w.live != nil {
		// One load per batch: the batch sees one whole set and rules pair.
		f := w.live.Load()
		if f.scan != w.sc.Set() {
			w.sc = matcher.NewScanner(f.scan)
		}
		if w.rules != nil {
			w.rules.use(f.rules)
		}
	}
	set := w.sc.Set()
	reject := func(o *matcher.Origin, reason string, raw []byte) {
		res.st.rejects++
		res.rejects = matcher.AppendReject(res.rejects, o, reason, raw)
		if w.keepRaw {
			res.raw = append(res.raw, rejected{*o, reason, raw})
		}
		if len(res.samples) < maxSamples {
			res.samples = append(res.samples, fmt.Sprintf("%s: %s", originString(o), reason))
		}
	}
	for i := range b.Lines {
		ln := &b.Lines[i]
		if ln.Reject != "" {
			reject(&ln.Origin, ln.Reject, ln.B)
			continue
		}
		w.dec.Reset(ln.B)
		for {
			ev, err := w.dec.Next()
			o := ln.Origin
			if rec, env := w.dec.Index(); env {
				o.Record, o.InEnvelope = rec, true
			}
			if err != nil {
				reject(&o, err.Error(), ln.B)
				continue
			}
			if ev == nil {
				break
			}
			if ev.Table < matcher.Table(len(res.st.records)) {
				res.st.records[ev.Table]++
			}
			if !w.filter.keep(ev) {
				res.st.filtered++
				continue
			}
			if w.rules != nil {
				w.rules.match(ev, &o, &res.rules)
			}
			hits := w.sc.Match(ev)
			if len(hits) == 0 {
				continue
			}
			res.st.alerts++
			res.st.matched[ev.Table]++
			res.alerts = set.AppendAlert(res.alerts, ev, hits, &o)
			if w.dedup {
				res.marks = append(res.marks, alertMark{end: len(res.alerts), key: dedupKey(ev, hits, set), time: ev.Time, hasTime: ev.HasTime})
			}
		}
	}
	return res
}

func originString(o *matcher.Origin) string {
	var s string
	if o.Topic != "" {
		s = fmt.Sprintf("%s[%d]@%d", o.Topic, o.Partition, o.Offset)
		if o.Line > 0 {
			s += fmt.Sprintf(":%d", o.Line)
		}
	} else {
		s = fmt.Sprintf("%s:%d", o.Path, o.Line)
	}
	if o.InEnvelope {
		s += fmt.Sprintf(" record %d", o.Record)
	}
	return s
}

// source is what the pipeline reads from.
type source interface {
	ReadBatch(ctx context.Context) (*ingest.Batch, ingest.AckFunc, error)
}

// pipeline runs parse and match on several goroutines and writes alerts and
// rejects in input order.
type pipeline struct {
	workers  int
	newWork  func() *worker
	alerts   io.Writer
	rejects  io.Writer // nil: rejects are counted and sampled only
	stderr   io.Writer
	progress func(st *stats) // called by the writer after each batch; may be nil

	// rawRejects, when set, also takes the rejected records themselves.
	rawRejects func([]rejected) error
	dedup      *deduper // nil: every alert is written
	// rules, when set, holds rule alerts until the input ends (replay).
	rules *ruleSink

	st        stats
	inputErrs []error
	samples   int
}

// run processes src until it ends or ctx is cancelled. It returns the first
// write error; input errors are collected in p.inputErrs.
func (p *pipeline) run(ctx context.Context, src source) error {
	inflight := make(chan struct{}, p.workers*4)
	jobs := make(chan jobItem, p.workers*2)
	results := make(chan *result, p.workers*4)
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()

	var readErr error
	go func() {
		defer close(jobs)
		var seq uint64
		for {
			select {
			case inflight <- struct{}{}:
			case <-readCtx.Done():
				return
			}
			b, ack, err := src.ReadBatch(readCtx)
			if err != nil {
				<-inflight
				if !errors.Is(err, ingest.ErrEndOfInput) && !errors.Is(err, context.Canceled) {
					readErr = err
				}
				return
			}
			// A large batch is split so that every worker takes part: a
			// Kafka partition has one batch in flight at a time. The
			// batch's ack and input error go with its last piece, which
			// the writer writes last.
			gate := b.Gate // with the first piece
			for len(b.Lines) > chunkLines {
				seq++
				jobs <- jobItem{b: &ingest.Batch{Lines: b.Lines[:chunkLines:chunkLines]}, seq: seq, gate: gate}
				b = &ingest.Batch{Lines: b.Lines[chunkLines:], Err: b.Err}
				gate = nil
				inflight <- struct{}{} // the writer releases it; never blocks for long
			}
			seq++
			jobs <- jobItem{b: b, ack: ack, seq: seq, gate: gate, last: true}
		}
	}()
	var wg sync.WaitGroup
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := p.newWork()
			for j := range jobs {
				r := w.process(j.b)
				r.ack, r.seq, r.gate, r.last = j.ack, j.seq, j.gate, j.last
				results <- r
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	pending := map[uint64]*result{}
	next := uint64(1)
	var werr error
	dropping := false // the source's gate dropped the batch these pieces belong to
	for r := range results {
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if werr == nil && r.gate != nil {
				if err := r.gate(); errors.Is(err, ingest.ErrNotWritten) {
					dropping = true
				} else if err != nil {
					werr = err
				}
			}
			switch {
			case dropping:
				if r.ack != nil {
					r.ack(ingest.ErrNotWritten)
				}
			case werr == nil:
				werr = p.write(r)
				fallthrough
			default:
				if r.ack != nil {
					r.ack(werr)
				}
			}
			if r.last {
				dropping = false
			}
			<-inflight
			if werr != nil {
				cancelRead()
			}
		}
	}
	if readErr != nil {
		p.inputErrs = append(p.inputErrs, readErr)
	}
	return werr
}

type jobItem struct {
	b    *ingest.Batch
	ack  ingest.AckFunc // nil on all but a batch's last piece
	gate func() error   // the batch's Gate, on its first piece
	last bool           // the batch's last piece
	seq  uint64         // the order the writer writes in
}

// chunkLines is the most lines one worker takes at once.
const chunkLines = 2048

func (p *pipeline) write(r *result) error {
	alerts := r.alerts
	if p.dedup != nil {
		alerts = p.dedup.filter(r.alerts, r.marks)
	}
	if len(alerts) > 0 {
		if _, err := p.alerts.Write(alerts); err != nil {
			return fmt.Errorf("writing alerts: %w", err)
		}
	}
	if p.rejects != nil && len(r.rejects) > 0 {
		if _, err := p.rejects.Write(r.rejects); err != nil {
			return fmt.Errorf("writing rejects: %w", err)
		}
	}
	if len(r.rules.items) > 0 {
		if err := p.writeRules(&r.rules); err != nil {
			return err
		}
	}
	if p.rawRejects != nil && len(r.raw) > 0 {
		if err := p.rawRejects(r.raw); err != nil {
			return fmt.Errorf("writing rejects: %w", err)
		}
	}
	for _, s := range r.samples {
		if p.samples < maxSamples {
			fmt.Fprintf(p.stderr, "matchd: reject: %s\n", s)
		} else if p.samples == maxSamples {
			fmt.Fprintf(p.stderr, "matchd: further rejects are counted only%s\n", rejectsHint(p.rejects != nil))
		}
		p.samples++
	}
	if r.err != nil {
		p.inputErrs = append(p.inputErrs, r.err)
		fmt.Fprintf(p.stderr, "matchd: %v\n", r.err)
	}
	p.st.add(&r.st)
	if p.progress != nil {
		p.progress(&p.st)
	}
	return nil
}

func rejectsHint(haveFile bool) string {
	if haveFile {
		return " (all are in the --rejects file)"
	}
	return " (use --rejects FILE to keep them)"
}

// summary is the one-line account printed on stderr at the end.
func summary(verb string, st *stats, secs float64) string {
	var per []string
	for _, t := range matcher.Tables() {
		per = append(per, fmt.Sprintf("%s %d", t, st.records[t]))
	}
	rate := 0.0
	if secs > 0 {
		rate = float64(st.total()) / secs
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "matchd: %s %d records (%s), %d alerts, %d rejects", verb, st.total(), strings.Join(per, ", "), st.alerts, st.rejects)
	if st.filtered > 0 {
		fmt.Fprintf(&b, ", %d outside --since/--until", st.filtered)
	}
	fmt.Fprintf(&b, " in %.2fs (%s records/s)", secs, humanCount(rate))
	return b.String()
}

func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
