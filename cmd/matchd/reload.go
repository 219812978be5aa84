package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matchd/matchd/ingest/feed"
	"github.com/matchd/matchd/matcher"
	"github.com/matchd/matchd/matcher/kql"
)

// loadSet loads the feeds, compiles them with cfg and names the set
// (Version): "<content hash>@<load time>". The hash covers every indicator
// in force with the fields alerts show, and cfg, so the same feeds give the
// same hash on every load. Bad feed entries are reported to log.
func loadSet(paths []string, cfg matcher.Config, now time.Time, log io.Writer) (*matcher.Set, error) {
	feeds, err := loadFeeds(paths, now, log)
	if err != nil {
		return nil, err
	}
	// Compile from the feeds in place: a merged copy of a million
	// indicators would cost a few hundred megabytes.
	n, inds := feed.MergeSeq(feeds...)
	set, err := matcher.CompileSeq(n, inds, cfg)
	if err != nil {
		return nil, err
	}
	set.Version = setHash(set) + "@" + now.UTC().Format(time.RFC3339)
	return set, nil
}

// setHash returns the first 8 bytes, in hex, of a SHA-256 over the set's
// indicators and configuration.
func setHash(set *matcher.Set) string {
	h := sha256.New()
	cfg := set.Config()
	writeInt(h, int64(cfg.MinConfidence))
	writeInt(h, int64(cfg.MaxAge))
	if cfg.StrictPorts {
		writeInt(h, 1)
	} else {
		writeInt(h, 0)
	}
	sum := set.ContentHash()
	h.Write(sum[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func writeInt(h hash.Hash, v int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	h.Write(b[:])
}

// inForce is what workers match with, published whole by one atomic
// pointer so that no record is matched against new feeds and old rules, or
// against a half-built pair.
type inForce struct {
	set   *matcher.Set // the feeds; names the alerts' IndicatorSet
	scan  *matcher.Set // feed alerts are matched with: set, or an empty set (--feed-alerts=false)
	rules *kql.Rules   // compiled against set; nil without --rules
}

// reloader keeps the indicator set and the rules in force and rebuilds
// them, off the hot path, on SIGHUP and when a feed or rule file changes.
// Workers load cur once per batch, so a batch is matched against one whole
// set and the rules compiled against it. A feed that fails to load keeps
// the old set; a rule file that fails to parse or compile keeps the old
// rules (recompiled against the new set when the feeds changed, since
// their matchd_* lists follow the feeds).
type reloader struct {
	paths     []string // feeds; none: rules only
	rulePaths []string
	watched   []string // paths and rulePaths
	cfg       matcher.Config
	empty     *matcher.Set // scan set when feed alerts are off; else nil
	log       *slog.Logger
	now       func() time.Time
	// observe is called after every reload attempt with its outcome ("ok",
	// "unchanged", "failed") and the set in force; may be nil.
	observe func(result string, set *matcher.Set)

	cur atomic.Pointer[inForce]

	mu       sync.Mutex   // serialises reloads
	hash     string       // content hash of cur's set
	prog     *kql.Program // the rule files cur's rules were compiled from
	progHash string       // content hash of those files
	stamps   []fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
	err   bool
}

// newReloader loads the feeds (none: an empty set, for rules only) and
// the rule files and compiles the rules against the feeds. Without
// feedAlerts the workers' feed matcher gets an empty set, so only rule
// alerts are written. Bad feed entries are logged as warnings.
func newReloader(feeds, rules []string, cfg matcher.Config, feedAlerts bool, log *slog.Logger) (*reloader, error) {
	r := &reloader{paths: feeds, rulePaths: rules, cfg: cfg, log: log, now: time.Now}
	r.watched = append(append(r.watched, feeds...), rules...)
	set, err := r.loadSet(r.now(), slogWriter{log, slog.LevelWarn})
	if err != nil {
		return nil, err
	}
	f := &inForce{set: set, scan: set}
	if len(rules) > 0 {
		prog, h, err := readRules(rules)
		if err != nil {
			return nil, err
		}
		if f.rules, err = prog.Compile(kql.Options{Feeds: r.feeds(set)}); err != nil {
			return nil, err
		}
		r.prog, r.progHash = prog, h
		if !feedAlerts && len(feeds) > 0 {
			if r.empty, err = matcher.Compile(nil, cfg); err != nil {
				return nil, err
			}
			f.scan = r.empty
		}
	}
	r.hash = setHash(set)
	r.cur.Store(f)
	r.stamps = r.stat()
	return r, nil
}

// loadSet loads the feeds, or names an empty set when there are none.
func (r *reloader) loadSet(now time.Time, log io.Writer) (*matcher.Set, error) {
	if len(r.paths) > 0 {
		return loadSet(r.paths, r.cfg, now, log)
	}
	set, err := matcher.Compile(nil, r.cfg)
	if err != nil {
		return nil, err
	}
	set.Version = setHash(set) + "@" + now.UTC().Format(time.RFC3339)
	return set, nil
}

// feeds is the set the rules' matchd_* lists are filled from: nil when no
// feed is loaded, so that a rule naming one is an error.
func (r *reloader) feeds(set *matcher.Set) *matcher.Set {
	if len(r.paths) == 0 {
		return nil
	}
	return set
}

// readRules reads and parses the rule files and hashes their names and
// contents, read once so that the hash describes what was parsed.
func readRules(paths []string) (*kql.Program, string, error) {
	h := sha256.New()
	srcs := make([]kql.Source, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, "", err
		}
		writeInt(h, int64(len(p)))
		io.WriteString(h, p)
		writeInt(h, int64(len(b)))
		h.Write(b)
		srcs[i] = kql.Source{Name: p, Text: b}
	}
	prog, err := kql.ParseSources(srcs...)
	if err != nil {
		return nil, "", err
	}
	return prog, hex.EncodeToString(h.Sum(nil)[:8]), nil
}

func (r *reloader) stat() []fileStamp {
	st := make([]fileStamp, len(r.watched))
	for i, p := range r.watched {
		fi, err := os.Stat(p)
		if err != nil {
			st[i].err = true
			continue
		}
		st[i] = fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	}
	return st
}

// reload builds a new set from the feeds and new rules from the rule
// files and publishes them together when either differs from what is in
// force.
func (r *reloader) reload(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.now()
	log := r.log.With("reason", reason)
	old := r.cur.Load()
	next := *old
	failed := false

	set, err := r.loadSet(start, slogWriter{log, slog.LevelWarn})
	hash := r.hash
	if err != nil {
		log.Error("reload failed; the indicator set in force stays", "set", old.set.Version, "err", err)
		failed = true
	} else if hash = setHash(set); hash != r.hash {
		next.set = set
	}

	if len(r.rulePaths) > 0 {
		prog, progHash := r.prog, r.progHash
		p, h, err := readRules(r.rulePaths)
		if err == nil && h != r.progHash {
			var rules *kql.Rules
			if rules, err = p.Compile(kql.Options{Feeds: r.feeds(next.set)}); err == nil {
				next.rules, prog, progHash = rules, p, h
			}
		}
		if err != nil {
			log.Error("rules reload failed; the rules in force stay", "rules", strings.Join(r.rulePaths, ","), "err", err)
			failed = true
		}
		if next.set != old.set && next.rules == old.rules {
			// The rules in force, with matchd_* lists from the new feeds.
			rules, err := r.prog.Compile(kql.Options{Feeds: r.feeds(next.set)})
			if err != nil {
				log.Error("reload failed: the rules do not compile against the new feeds; the indicator set and rules in force stay",
					"set", old.set.Version, "err", err)
				next, failed, hash = *old, true, r.hash
			} else {
				next.rules = rules
			}
		}
		// prog is new only when its rules are in next, which is published.
		r.prog, r.progHash = prog, progHash
	}

	if next == *old {
		if failed {
			r.report("failed", old.set)
		} else {
			log.Info("feeds reloaded, indicators unchanged", "set", old.set.Version)
			r.report("unchanged", old.set)
		}
		return
	}
	if r.empty == nil {
		next.scan = next.set
	}
	r.cur.Store(&next)
	r.hash = hash
	took := time.Since(start).Round(time.Millisecond)
	if next.set != old.set {
		log.Info("indicator set swapped", "set", next.set.Version, "previous", old.set.Version,
			"indicators", next.set.Len(), "took", took)
	}
	if next.rules != old.rules {
		log.Info("rules swapped", "rules", next.rules.Len(), "previous", old.rules.Len(), "set", next.set.Version, "took", took)
	}
	if failed {
		r.report("failed", next.set)
	} else {
		r.report("ok", next.set)
	}
}

func (r *reloader) report(result string, set *matcher.Set) {
	if r.observe != nil {
		r.observe(result, set)
	}
}

// watch reloads on every signal from hup and when a feed or rule file's
// size or modification time changed and then held still for one poll
// interval (so a file being written is not loaded half-way). interval <= 0
// disables polling. It returns when ctx ends.
func (r *reloader) watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	var changed []fileStamp // seen at the previous poll, not yet loaded
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload("SIGHUP")
			r.stamps, changed = r.stat(), nil
		case <-tick:
			now := r.stat()
			switch {
			case changed != nil && equalStamps(now, changed):
				r.reload("file changed")
				r.stamps, changed = now, nil
			case !equalStamps(now, r.stamps):
				changed = now
			default:
				changed = nil
			}
		}
	}
}

func equalStamps(a, b []fileStamp) bool {
	for i := range a {
		if a[i].err != b[i].err || a[i].size != b[i].size || !a[i].mtime.Equal(b[i].mtime) {
			return false
		}
	}
	return len(a) == len(b)
}

// slogWriter turns each line written to it into a log record; it lets code
// that reports to an io.Writer (feed loading, reject samples) log through
// slog.
type slogWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range splitLines(p) {
		w.l.Log(context.Background(), w.level, line)
	}
	return len(p), nil
}

func splitLines(p []byte) []string {
	var out []string
	start := 0
	for i, c := range p {
		if c == '\n' {
			if i > start {
				out = append(out, trimMatchd(string(p[start:i])))
			}
			start = i + 1
		}
	}
	if start < len(p) {
		out = append(out, trimMatchd(string(p[start:])))
	}
	return out
}

func trimMatchd(s string) string {
	const prefix = "matchd: "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}
