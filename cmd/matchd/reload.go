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
	"sync"
	"sync/atomic"
	"time"

	"github.com/matchd/matchd/matcher"
)

// loadSet loads the feeds, compiles them with cfg and names the set
// (Version): "<content hash>@<load time>". The hash covers every indicator
// in force with the fields alerts show, and cfg, so the same feeds give the
// same hash on every load. Bad feed entries are reported to log.
func loadSet(paths []string, cfg matcher.Config, now time.Time, log io.Writer) (*matcher.Set, error) {
	_, inds, err := loadFeeds(paths, now, log)
	if err != nil {
		return nil, err
	}
	set, err := matcher.Compile(inds, cfg)
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
	str := func(s string) {
		writeInt(h, int64(len(s)))
		io.WriteString(h, s)
	}
	cfg := set.Config()
	writeInt(h, int64(cfg.MinConfidence))
	writeInt(h, int64(cfg.MaxAge))
	if cfg.StrictPorts {
		writeInt(h, 1)
	} else {
		writeInt(h, 0)
	}
	for _, in := range set.Indicators() {
		str(in.Value)
		writeInt(h, int64(in.Type))
		str(in.ThreatType)
		str(in.Malware)
		writeInt(h, int64(in.Confidence))
		writeInt(h, in.FirstSeen.UnixNano())
		writeInt(h, in.LastSeen.UnixNano())
		str(in.Reference)
		writeInt(h, int64(len(in.Tags)))
		for _, t := range in.Tags {
			str(t)
		}
		writeInt(h, int64(len(in.Sources)))
		for _, s := range in.Sources {
			str(s)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func writeInt(h hash.Hash, v int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	h.Write(b[:])
}

// reloader keeps the indicator set in force and rebuilds it, off the hot
// path, on SIGHUP and when a feed file changes. Workers load cur once per
// batch, so a batch is matched against one whole set; a failed reload
// keeps the old set.
type reloader struct {
	paths []string
	cfg   matcher.Config
	log   *slog.Logger
	now   func() time.Time
	// observe is called after every reload attempt with its outcome ("ok",
	// "unchanged", "failed") and the set in force; may be nil.
	observe func(result string, set *matcher.Set)

	cur atomic.Pointer[matcher.Set]

	mu     sync.Mutex // serialises reloads
	hash   string     // content hash of cur
	stamps []fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
	err   bool
}

func newReloader(paths []string, cfg matcher.Config, set *matcher.Set, log *slog.Logger) *reloader {
	r := &reloader{paths: paths, cfg: cfg, log: log, now: time.Now, hash: setHash(set)}
	r.cur.Store(set)
	r.stamps = r.stat()
	return r
}

func (r *reloader) stat() []fileStamp {
	st := make([]fileStamp, len(r.paths))
	for i, p := range r.paths {
		fi, err := os.Stat(p)
		if err != nil {
			st[i].err = true
			continue
		}
		st[i] = fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	}
	return st
}

// reload builds a new set from the feeds and swaps it in when its content
// differs from the set in force.
func (r *reloader) reload(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := r.now()
	set, err := loadSet(r.paths, r.cfg, start, slogWriter{r.log.With("reason", reason), slog.LevelWarn})
	old := r.cur.Load()
	if err != nil {
		r.log.Error("reload failed; the indicator set in force stays", "reason", reason, "set", old.Version, "err", err)
		r.report("failed", old)
		return
	}
	h := setHash(set)
	if h == r.hash {
		r.log.Info("feeds reloaded, indicators unchanged", "reason", reason, "set", old.Version)
		r.report("unchanged", old)
		return
	}
	r.cur.Store(set)
	r.hash = h
	r.log.Info("indicator set swapped", "reason", reason, "set", set.Version, "previous", old.Version,
		"indicators", len(set.Indicators()), "took", time.Since(start).Round(time.Millisecond))
	r.report("ok", set)
}

func (r *reloader) report(result string, set *matcher.Set) {
	if r.observe != nil {
		r.observe(result, set)
	}
}

// watch reloads on every signal from hup and when a feed file's size or
// modification time changed and then held still for one poll interval (so
// a file being written is not loaded half-way). interval <= 0 disables
// polling. It returns when ctx ends.
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
				r.reload("feed file changed")
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
