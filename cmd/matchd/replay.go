package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/matchd/matchd/ingest"
	"github.com/matchd/matchd/matcher"
)

// matchFlags are the flags every matching command shares.
type matchFlags struct {
	iocs          listFlag
	table         string
	minConfidence int
	maxAge        ageFlag
	strictPorts   bool
	out           string
	rejects       string
}

func (m *matchFlags) register(fs *flag.FlagSet) {
	fs.Var(&m.iocs, "iocs", "threat feed `FILE` (repeatable; ThreatFox CSV/JSON, STIX 2.1, plain or defanged lists, the seed document)")
	fs.StringVar(&m.table, "table", "", "table of JSON records that name none (CommonSecurityLog, DeviceNetworkEvents, UrlClickEvents)")
	fs.IntVar(&m.minConfidence, "min-confidence", 0, "ignore indicators whose confidence is below `N` (indicators without one pass)")
	fs.Var(&m.maxAge, "max-age", "an indicator is valid until its last (else first) seen time plus `DURATION` (h, d, w), judged at the record's event time")
	fs.BoolVar(&m.strictPorts, "strict-ports", false, "require the port of an ip:port indicator to match too")
	fs.StringVar(&m.out, "out", "", "write alerts to `FILE` instead of stdout")
	fs.StringVar(&m.rejects, "rejects", "", "write rejected records to `FILE` as JSON lines")
}

func (m *matchFlags) config() (matcher.Config, matcher.Table, error) {
	cfg := matcher.Config{MinConfidence: m.minConfidence, MaxAge: time.Duration(m.maxAge), StrictPorts: m.strictPorts}
	if m.minConfidence < 0 || m.minConfidence > 100 {
		return cfg, 0, fmt.Errorf("--min-confidence %d: want 0-100", m.minConfidence)
	}
	t := matcher.TableUnknown
	if m.table != "" {
		if t = matcher.ParseTable([]byte(m.table)); t == matcher.TableUnknown {
			return cfg, 0, fmt.Errorf("--table %q: want CommonSecurityLog, DeviceNetworkEvents or UrlClickEvents", m.table)
		}
	}
	return cfg, t, nil
}

func runReplay(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", "replay [flags] PATH...", stderr)
	var mf matchFlags
	mf.register(fs)
	var df dedupFlags
	df.register(fs)
	var since, until timeFlag
	fs.Var(&since, "since", "skip records whose event time is before `TIME` (RFC 3339 or YYYY-MM-DD)")
	fs.Var(&until, "until", "skip records whose event time is at or after `TIME`")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parse and match on `N` goroutines")
	maxRecord := fs.Int("max-record-bytes", 16<<20, "reject records longer than `N` bytes")
	maxDecompressed := sizeFlag(ingest.DefaultMaxDecompressedBytes)
	fs.Var(&maxDecompressed, "max-decompressed-bytes", "fail a gzip or zstd input that expands past `SIZE` (bytes, KiB, MiB, GiB, TiB)")
	maxRatio := fs.Int64("max-compression-ratio", ingest.DefaultMaxCompressionRatio, "fail a gzip or zstd input that expands more than `N` times its size once past 64 MiB (0: no bound)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (on a terminal), always, never")
	var rf ruleFlags
	rf.register(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the replay (after feeds are loaded) to `FILE`")
	paths, err := parseArgs(fs, args, env)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "matchd replay: "+format+"\n", a...)
		return exitUsage
	}
	if len(paths) == 0 {
		return usageErr("no input: give files, directories or - for stdin")
	}
	cfg, table, err := mf.config()
	if err != nil {
		return usageErr("%v", err)
	}
	if *workers < 1 {
		return usageErr("--workers %d: want at least 1", *workers)
	}
	if *maxRecord < 1 {
		return usageErr("--max-record-bytes %d: want at least 1", *maxRecord)
	}
	if *maxRatio < 0 {
		return usageErr("--max-compression-ratio %d: want 0 (no bound) or more", *maxRatio)
	}
	if *maxRatio == 0 {
		*maxRatio = -1 // ReplayConfig's zero is the default
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		return usageErr("--progress %q: want auto, always or never", *progress)
	}
	if since.set && until.set && !since.t.Before(until.t) {
		return usageErr("--since %s is not before --until %s", since.String(), until.String())
	}
	// An archive's files may overlap in time, so windows close by key, by
	// eviction and at the end, never by the watermark.
	dd, err := df.deduper(-1)
	if err != nil {
		return usageErr("%v", err)
	}
	_, set, rules, err := rf.load(mf.iocs, cfg, time.Now(), stderr)
	if err != nil {
		return usageErr("%v", err)
	}

	out := stdout
	var outFile *os.File
	if mf.out != "" {
		if outFile, err = os.Create(mf.out); err != nil {
			return usageErr("%v", err)
		}
		defer outFile.Close()
		out = outFile
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	var rejects io.Writer
	var rejFile *os.File
	var rw *bufio.Writer
	if mf.rejects != "" {
		if rejFile, err = os.Create(mf.rejects); err != nil {
			return usageErr("%v", err)
		}
		defer rejFile.Close()
		rw = bufio.NewWriterSize(rejFile, 64<<10)
		rejects = rw
	}

	src, err := ingest.NewReplay(paths, ingest.ReplayConfig{MaxRecordBytes: *maxRecord, Stdin: stdin,
		MaxDecompressedBytes: int64(maxDecompressed), MaxCompressionRatio: *maxRatio})
	if err != nil {
		return usageErr("%v", err)
	}
	flt := filter{}
	if since.set {
		flt.since, flt.hasSince = since.t.UnixNano(), true
	}
	if until.set {
		flt.until, flt.hasUntil = until.t.UnixNano(), true
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return usageErr("%v", err)
		}
		defer stop()
	}
	start := time.Now()
	p := &pipeline{
		workers: *workers,
		newWork: func() *worker {
			w := &worker{dec: ingest.NewDecoder(table), sc: matcher.NewScanner(set), filter: flt, dedup: dd != nil}
			if rules != nil {
				w.rules = newRuleMatcher(rules)
			}
			return w
		},
		alerts:  bw,
		rejects: rejects,
		stderr:  stderr,
		dedup:   dd,
	}
	if rules != nil {
		p.rules = newRuleSink(rules, defaultSortMemory)
	}
	var bar *progressBar
	if *progress == "always" || *progress == "auto" && isTerminal(stderr) {
		bar = newProgressBar(stderr, ingest.TotalBytes(paths), src.BytesRead, start)
		p.progress = bar.update
	}
	werr := p.run(ctx, src)
	if bar != nil {
		bar.clear()
	}
	if dd != nil && werr == nil {
		if _, err := bw.Write(dd.flush()); err != nil {
			werr = fmt.Errorf("writing alerts: %w", err)
		}
	}
	if p.rules != nil {
		// Rule alerts follow the input, rule by rule (order by, take).
		n, err := p.rules.finish(bw)
		p.st.alerts += n
		if err != nil && werr == nil {
			werr = fmt.Errorf("writing rule alerts: %w", err)
		}
	}
	if err := bw.Flush(); err != nil && werr == nil {
		werr = fmt.Errorf("writing alerts: %w", err)
	}
	if outFile != nil && werr == nil {
		if err := outFile.Sync(); err != nil {
			werr = fmt.Errorf("writing alerts: %w", err)
		}
	}
	if rw != nil {
		if err := rw.Flush(); err != nil && werr == nil {
			werr = fmt.Errorf("writing rejects: %w", err)
		}
	}
	fmt.Fprintln(stderr, summary("replayed", &p.st, time.Since(start).Seconds()))
	if dd != nil {
		fmt.Fprintf(stderr, "matchd: --dedup-window: %d alerts counted into %d summaries\n", dd.suppressed, dd.summaries)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "matchd: interrupted")
		return exitInterrupted
	case werr != nil:
		fmt.Fprintf(stderr, "matchd: %v\n", werr)
		return exitInputFailed
	case len(p.inputErrs) > 0:
		fmt.Fprintf(stderr, "matchd: %d input(s) could not be read to the end\n", len(p.inputErrs))
		return exitInputFailed
	}
	return exitOK
}
