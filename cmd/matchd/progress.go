package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws bytes and records done, records/s, alerts, rejects and
// the ETA on one terminal line, at most five times a second.
type progressBar struct {
	w     io.Writer
	total int64
	read  func() int64
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, total int64, read func() int64, start time.Time) *progressBar {
	return &progressBar{w: w, total: total, read: read, start: start}
}

func (p *progressBar) update(st *stats) {
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	secs := now.Sub(p.start).Seconds()
	done := p.read()
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	const width = 24
	n := int(frac * width)
	eta := "--"
	if frac > 0 && frac < 1 {
		eta = (time.Duration(secs/frac*(1-frac)) * time.Second).Round(time.Second).String()
	}
	rate := float64(st.total()) / max(secs, 1e-9)
	fmt.Fprintf(p.w, "\r[%s%s] %5.1f%% %s/%s %s records %s/s %d alerts %d rejects ETA %s\x1b[K",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, humanBytes(done), humanBytes(p.total),
		humanCount(float64(st.total())), humanCount(rate), st.alerts, st.rejects, eta)
}

func (p *progressBar) clear() { fmt.Fprint(p.w, "\r\x1b[K") }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
