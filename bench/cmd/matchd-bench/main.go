// Command matchd-bench is the end-to-end benchmark: it builds matchd,
// generates the mixed and URL-only corpora, and times, in the same run and
// on the same uncompressed files, matchd replay, grep -c -F -f, rg -c -F -f
// and the naive Go baseline, checking every tool's count against
// expected.json. It prints a table per corpus and writes it, with a
// description of the machine, to bench/results/<date>-<commit>.txt.
//
//	go run ./bench/cmd/matchd-bench [--short] [--floor X] [--url-floor X] [--runs N] ...
//
// See bench/README.md.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/matchd/matchd/bench/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	short        bool
	floor        float64
	urlFloor     float64
	runs         int
	dir          string
	files        int
	corpora      string
	naiveRecords int
	seed         uint64
	results      string
	matchd       string
	hyperfine    bool
	clean        bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("matchd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.short, "short", false, "CI sizes: 200k mixed records against 10k URLs, 100k IPs, 1k CIDRs, 1k domains, 1k hashes; 200k URL-only lines against 10k URLs")
	fs.Float64Var(&o.floor, "floor", 0, "exit 1 when matchd is less than `X` times as fast as the faster of grep and rg on the mixed corpus (0: no check)")
	fs.Float64Var(&o.urlFloor, "url-floor", 0, "exit 1 when matchd is less than `X` times as fast as grep on the URL-only corpus (0: no check)")
	fs.IntVar(&o.runs, "runs", 3, "timed runs per tool, after one checked warm-up run; the table shows the median")
	defDir := os.Getenv("MATCHD_BENCH_DIR")
	if defDir == "" {
		defDir = filepath.Join(os.TempDir(), "matchd-bench")
	}
	fs.StringVar(&o.dir, "dir", defDir, "corpus `DIR`, reused across runs while the configuration is the same (default $MATCHD_BENCH_DIR, else under the temp dir)")
	fs.IntVar(&o.files, "files", min(max(runtime.NumCPU(), 1), 16), "split each corpus into `N` files, so that rg can search them in parallel")
	fs.StringVar(&o.corpora, "corpus", "mixed,urls", "corpora to run: mixed, urls or both")
	fs.IntVar(&o.naiveRecords, "naive-records", 0, "records the naive baseline reads (0: as many as take about 20 s, rounded to thousands; -1: skip it)")
	fs.Uint64Var(&o.seed, "seed", 1, "generator seed")
	fs.StringVar(&o.results, "results", "", "results `DIR` (default bench/results of the repository; - for none)")
	fs.StringVar(&o.matchd, "matchd", "", "time this matchd binary instead of building ./cmd/matchd")
	fs.BoolVar(&o.hyperfine, "hyperfine", false, "time with hyperfine (--output=pipe) instead of the built-in timer")
	fs.BoolVar(&o.clean, "clean", false, "remove the generated corpora at the end")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || o.runs < 1 || o.files < 1 {
		fmt.Fprintln(stderr, "matchd-bench: bad arguments; see -h")
		return 2
	}
	b := &bench{o: o, ctx: ctx, log: stderr}
	return b.main(stdout)
}

// bench holds one run of the benchmark.
type bench struct {
	o        options
	ctx      context.Context
	log      io.Writer
	root     string // repository root
	bin      string // bench/.bin
	matchd   string // "" when it could not be built
	buildErr string
	naive    string
	tools    map[string]string // tool -> path, "" when not installed
	report   strings.Builder   // what goes to the results file besides the machine
	benchfmt strings.Builder   // Go benchmark lines, for benchstat
	failed   bool
}

func (b *bench) logf(format string, a ...any) { fmt.Fprintf(b.log, format+"\n", a...) }

func (b *bench) main(stdout io.Writer) int {
	root, err := repoRoot()
	if err != nil {
		b.logf("matchd-bench: %v", err)
		return 2
	}
	b.root, b.bin = root, filepath.Join(root, "bench", ".bin")
	if err := os.MkdirAll(b.bin, 0o755); err != nil {
		b.logf("matchd-bench: %v", err)
		return 1
	}
	b.findTools()
	b.build()
	machine := b.describeMachine()
	fmt.Fprint(stdout, machine)
	var corpora []gen.Kind
	for _, c := range strings.Split(b.o.corpora, ",") {
		switch k := gen.Kind(strings.TrimSpace(c)); k {
		case gen.Mixed, gen.URLs:
			corpora = append(corpora, k)
		default:
			b.logf("matchd-bench: --corpus %q: want mixed, urls or both", c)
			return 2
		}
	}
	type ratio struct {
		value float64
		peer  string
		ok    bool
	}
	ratios := map[gen.Kind]ratio{}
	var twoCPU string
	for _, kind := range corpora {
		if b.ctx.Err() != nil {
			break
		}
		dir, exp, err := b.corpus(kind)
		if err != nil {
			b.logf("matchd-bench: %v", err)
			return 1
		}
		rows := b.measure(kind, dir, exp)
		text := b.table(kind, exp, rows)
		fmt.Fprint(stdout, text)
		b.report.WriteString(text)
		m := find(rows, "matchd")
		peers := []string{"grep", "rg"}
		if kind == gen.URLs {
			peers = []string{"grep"}
		}
		var best *row
		for _, p := range peers {
			if r := find(rows, p); r.ok() && (best == nil || r.median() < best.median()) {
				best = r
			}
		}
		if m.ok() && best != nil {
			ratios[kind] = ratio{best.median().Seconds() / m.median().Seconds(), best.name, true}
		}
		if kind == gen.Mixed {
			r := find(rows, "matchd-2")
			if r == nil && runtime.NumCPU() == 2 {
				r = find(rows, "matchd")
			}
			if r.ok() {
				twoCPU = fmt.Sprintf("mixed: matchd on 2 CPUs reads %s records/s (goal: 2,000,000)\n", thousands(int(float64(r.records)/r.median().Seconds())))
				// Scaling: matching time only (the feeds-only row's time
				// taken off), one worker against two.
				if one, load := find(rows, "matchd-1w"), find(rows, "matchd-load"); one.ok() && load.ok() {
					t1 := one.median().Seconds() - load.median().Seconds()
					t2 := r.median().Seconds() - load.median().Seconds()
					if t1 > 0 && t2 > 0 {
						twoCPU += fmt.Sprintf("mixed: matching alone, %s records/s with 1 worker, %s with 2: the second core adds %.0f%% (target 70%%)\n",
							thousands(int(float64(r.records)/t1)), thousands(int(float64(r.records)/t2)), (t1/t2-1)*100)
					}
				}
			}
		}
		if b.o.clean {
			os.RemoveAll(dir)
		}
	}
	var summary strings.Builder
	check := func(kind gen.Kind, floor float64, what string) {
		r, ok := ratios[kind]
		switch {
		case !ok && floor > 0:
			fmt.Fprintf(&summary, "FAIL %s: no ratio to check against the floor %.2f (matchd or every peer missing, failed or wrong)\n", what, floor)
			b.failed = true
		case !ok:
		case floor > 0 && r.value < floor:
			fmt.Fprintf(&summary, "FAIL %s: matchd is %.2fx as fast as %s, below the floor %.2fx\n", what, r.value, r.peer, floor)
			b.failed = true
		case floor > 0:
			fmt.Fprintf(&summary, "ok   %s: matchd is %.2fx as fast as %s (floor %.2fx)\n", what, r.value, r.peer, floor)
		default:
			fmt.Fprintf(&summary, "%s: matchd is %.2fx as fast as %s\n", what, r.value, r.peer)
		}
	}
	if slices.Contains(corpora, gen.Mixed) {
		check(gen.Mixed, b.o.floor, "mixed vs the faster of grep and rg")
	}
	if slices.Contains(corpora, gen.URLs) {
		check(gen.URLs, b.o.urlFloor, "URL-only vs grep")
	}
	summary.WriteString(twoCPU)
	if b.matchd == "" {
		fmt.Fprintf(&summary, "FAIL matchd could not be built: %s\n", b.buildErr)
		b.failed = true
	}
	fmt.Fprintf(&summary, "load average at the end: %s\n", loadavg())
	fmt.Fprint(stdout, summary.String())
	b.report.WriteString(summary.String())
	if b.ctx.Err() != nil {
		b.logf("matchd-bench: interrupted")
		return 130
	}
	if path, err := b.writeResults(machine); err != nil {
		b.logf("matchd-bench: writing results: %v", err)
		b.failed = true
	} else if path != "" {
		fmt.Fprintf(stdout, "results: %s\n", path)
	}
	if b.failed {
		return 1
	}
	return 0
}

// repoRoot returns the directory holding go.mod, from the working
// directory up.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("no go.mod above the working directory: run from the matchd repository")
		}
		d = p
	}
}

func (b *bench) findTools() {
	b.tools = map[string]string{}
	for _, t := range []string{"grep", "rg", "hyperfine", "taskset", "git", "go"} {
		p, err := exec.LookPath(t)
		if err != nil {
			p = ""
		}
		b.tools[t] = p
	}
	if b.o.hyperfine && b.tools["hyperfine"] == "" {
		b.logf("matchd-bench: hyperfine: skipped (not installed); using the built-in timer")
		b.o.hyperfine = false
	}
}

// build builds matchd and the naive baseline into bench/.bin.
func (b *bench) build() {
	goBin := b.tools["go"]
	if goBin == "" {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	gobuild := func(out, pkg string) error {
		cmd := exec.CommandContext(b.ctx, goBin, "build", "-o", out, pkg)
		cmd.Dir = b.root
		var eb bytes.Buffer
		cmd.Stderr = &eb
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(eb.String())
			if lines := strings.Split(msg, "\n"); len(lines) > 6 {
				msg = strings.Join(lines[:6], "\n") + "\n..."
			}
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
		}
		return nil
	}
	if b.o.matchd != "" {
		b.matchd = b.o.matchd
	} else {
		b.logf("building matchd")
		if err := gobuild(filepath.Join(b.bin, "matchd"), "./cmd/matchd"); err != nil {
			b.buildErr = firstLine(err.Error())
			b.logf("matchd-bench: %v", err)
		} else {
			b.matchd = filepath.Join(b.bin, "matchd")
		}
	}
	if b.o.naiveRecords >= 0 {
		if err := gobuild(filepath.Join(b.bin, "naive"), "./bench/cmd/naive"); err != nil {
			b.logf("matchd-bench: %v", err)
		} else {
			b.naive = filepath.Join(b.bin, "naive")
		}
	}
}

// sizes returns the generator configuration of a corpus.
func (b *bench) sizes(kind gen.Kind) gen.Config {
	c := gen.DefaultConfig(kind)
	c.Seed, c.Files = b.o.seed, b.o.files
	if b.o.short {
		c.Records, c.URLs = 200_000, 10_000
		if kind == gen.Mixed {
			c.IPs, c.CIDRs, c.Domains, c.Hashes = 100_000, 1_000, 1_000, 1_000
		}
	}
	return c
}

// corpus generates a corpus, or reuses the one a previous run generated
// with the same configuration.
func (b *bench) corpus(kind gen.Kind) (string, *gen.Expected, error) {
	c := b.sizes(kind)
	key, _ := json.Marshal(c)
	sum := sha256.Sum256(key)
	dir := filepath.Join(b.o.dir, string(kind)+"-"+hex.EncodeToString(sum[:6]))
	c.Dir = dir
	if e, err := gen.ReadExpected(dir); err == nil && complete(dir, e) {
		b.logf("reusing %s", dir)
		return dir, e, nil
	}
	b.logf("generating %s", dir)
	start := time.Now()
	e, err := gen.Generate(c)
	if err != nil {
		return "", nil, err
	}
	b.logf("generated %d records, %.1f MB in %.1fs", e.Records, float64(e.Bytes)/1e6, time.Since(start).Seconds())
	return dir, e, nil
}

// complete reports whether every corpus file of e is in dir with its size.
func complete(dir string, e *gen.Expected) bool {
	var n int64
	for _, f := range e.Files {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			return false
		}
		n += st.Size()
	}
	for _, f := range append(slices.Clone(e.Feeds), e.Patterns) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return n == e.Bytes
}

// row is one tool's measurements on one corpus.
type row struct {
	name    string
	label   string
	skip    string // why the tool did not run
	wrong   string // why its output is wrong
	note    string // about its count
	records int    // records the tool read (fewer than the corpus for naive)
	bytes   int64
	wall    []time.Duration
	cpu     []time.Duration
	peer    bool // a literal scanner, whose count is not an alert count
}

func (r *row) ok() bool { return r != nil && r.skip == "" && r.wrong == "" && len(r.wall) > 0 }

func (r *row) median() time.Duration {
	s := slices.Clone(r.wall)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func (r *row) medianCPU() time.Duration {
	s := slices.Clone(r.cpu)
	slices.Sort(s)
	return s[len(s)/2]
}

func find(rows []*row, name string) *row {
	for _, r := range rows {
		if r.name == name {
			return r
		}
	}
	return nil
}

// tool is a command to time and the check of its output.
type tool struct {
	row   *row
	argv  []string
	check func(out []byte) (note, wrong string)
}

// measure runs every tool on the corpus: one checked warm-up run each, then
// o.runs timed runs, the tools taking turns so that a change in the
// machine's load spreads over all of them.
func (b *bench) measure(kind gen.Kind, dir string, e *gen.Expected) []*row {
	files := make([]string, len(e.Files))
	for i, f := range e.Files {
		files[i] = filepath.Join(dir, f)
	}
	patterns := filepath.Join(dir, e.Patterns)
	var iocs []string
	for _, f := range e.Feeds {
		iocs = append(iocs, "--iocs", filepath.Join(dir, f))
	}
	var tools []*tool
	add := func(name, label string, argv []string, check func([]byte) (string, string)) *row {
		r := &row{name: name, label: label, records: e.Records, bytes: e.Bytes}
		tools = append(tools, &tool{row: r, argv: argv, check: check})
		return r
	}
	alertsCheck := func(path string, want int) func([]byte) (string, string) {
		return func([]byte) (string, string) {
			n, err := countLines(path)
			if err != nil {
				return "", err.Error()
			}
			if n != want {
				return "", fmt.Sprintf("%d alerts, want %d", n, want)
			}
			return fmt.Sprintf("%d alerts ok", n), ""
		}
	}
	literalCheck := func(out []byte) (string, string) {
		n, err := sumCounts(out)
		if err != nil {
			return "", err.Error()
		}
		if n != e.LiteralLines {
			return fmt.Sprintf("%d lines (expected.json: %d)", n, e.LiteralLines), ""
		}
		return fmt.Sprintf("%d lines ok", n), ""
	}

	outDir := filepath.Join(dir, "out")
	os.MkdirAll(outDir, 0o755)
	if b.matchd != "" {
		alerts := filepath.Join(outDir, "alerts.jsonl")
		argv := append(append([]string{b.matchd, "replay", "--progress", "never", "--out", alerts}, iocs...), files...)
		add("matchd", fmt.Sprintf("matchd (%d CPUs)", runtime.NumCPU()), argv, alertsCheck(alerts, e.Alerts))
		// The same with an empty input: what loading the feeds and
		// compiling them costs, out of the row above.
		empty := filepath.Join(outDir, "empty.log")
		os.WriteFile(empty, nil, 0o644)
		alerts0 := filepath.Join(outDir, "alerts-empty.jsonl")
		argv0 := append(append([]string{b.matchd, "replay", "--progress", "never", "--out", alerts0}, iocs...), empty)
		r0 := add("matchd-load", "matchd, empty input (feeds only)", argv0, alertsCheck(alerts0, 0))
		r0.records, r0.bytes = 0, 0
		// One worker, for the scaling figure (records/s with 1 and 2).
		alerts1 := filepath.Join(outDir, "alerts-1w.jsonl")
		argv1 := append(append([]string{b.matchd, "replay", "--workers", "1", "--progress", "never", "--out", alerts1}, iocs...), files...)
		add("matchd-1w", "matchd --workers 1", argv1, alertsCheck(alerts1, e.Alerts))
		if runtime.NumCPU() > 2 && b.tools["taskset"] != "" {
			alerts2 := filepath.Join(outDir, "alerts-2cpu.jsonl")
			argv := append(append([]string{b.tools["taskset"], "-c", "0,1", b.matchd, "replay", "--workers", "2", "--progress", "never", "--out", alerts2}, iocs...), files...)
			add("matchd-2", "matchd (2 CPUs)", argv, alertsCheck(alerts2, e.Alerts))
		}
	} else {
		tools = append(tools, &tool{row: &row{name: "matchd", label: "matchd", skip: "skipped (build failed)"}})
	}
	if p := b.tools["grep"]; p != "" {
		r := add("grep", "grep -c -F -f", append([]string{p, "-c", "-h", "-F", "-f", patterns}, files...), literalCheck)
		r.peer = true
	} else {
		tools = append(tools, &tool{row: &row{name: "grep", label: "grep", skip: "skipped (not installed)"}})
	}
	if p := b.tools["rg"]; p != "" {
		argv := append([]string{p, "-c", "--no-filename", "-F", "-f", patterns, "--regex-size-limit", "4G", "--dfa-size-limit", "4G"}, files...)
		r := add("rg", "rg -c -F -f", argv, literalCheck)
		r.peer = true
	} else {
		tools = append(tools, &tool{row: &row{name: "rg", label: "rg", skip: "skipped (not installed)"}})
	}
	if b.naive != "" {
		n := b.naiveLimit(kind, e)
		want, _ := e.AlertsInFirst(n)
		argv := append(append([]string{b.naive, "--limit", strconv.Itoa(n)}, iocs...), files...)
		label := "naive Go"
		if n < e.Records {
			label = fmt.Sprintf("naive Go (first %s records)", thousands(n))
		}
		r := add("naive", label, argv, func(out []byte) (string, string) {
			var recs, alerts, rejects int
			if _, err := fmt.Sscanf(string(out), "records %d alerts %d rejects %d", &recs, &alerts, &rejects); err != nil {
				return "", fmt.Sprintf("cannot read %q", out)
			}
			if recs != n || alerts != want {
				return "", fmt.Sprintf("%d records %d alerts, want %d and %d", recs, alerts, n, want)
			}
			return fmt.Sprintf("%d alerts ok", alerts), ""
		})
		r.records = n
		r.bytes = int64(float64(e.Bytes) * float64(n) / float64(max(e.Records, 1)))
	} else if b.o.naiveRecords >= 0 {
		tools = append(tools, &tool{row: &row{name: "naive", label: "naive Go", skip: "skipped (build failed)"}})
	}

	env := cleanEnv()
	// Warm-up and check.
	for _, t := range tools {
		if t.row.skip != "" || b.ctx.Err() != nil {
			continue
		}
		b.logf("%s %s: checking", kind, t.row.label)
		wall, cpu, out, err := b.exec(t.argv, env, t.row.peer)
		if err != nil {
			t.row.wrong = err.Error()
			continue
		}
		t.row.note, t.row.wrong = t.check(out)
		if t.row.name == "naive" {
			// Its run takes long: count the checked run as its only one.
			t.row.wall, t.row.cpu = []time.Duration{wall}, []time.Duration{cpu}
		}
	}
	if b.o.hyperfine {
		for _, t := range tools {
			if t.row.ok() || t.row.skip != "" || t.row.wrong != "" || b.ctx.Err() != nil {
				continue
			}
			b.logf("%s %s: hyperfine, %d runs", kind, t.row.label, b.o.runs)
			if err := b.hyperfine(t, env); err != nil {
				t.row.wrong = err.Error()
			}
		}
	} else {
		for i := 0; i < b.o.runs && b.ctx.Err() == nil; i++ {
			for _, t := range tools {
				if t.row.skip != "" || t.row.wrong != "" || t.row.name == "naive" || b.ctx.Err() != nil {
					continue
				}
				b.logf("%s %s: run %d/%d", kind, t.row.label, i+1, b.o.runs)
				wall, cpu, _, err := b.exec(t.argv, env, t.row.peer)
				if err != nil {
					t.row.wrong = err.Error()
					continue
				}
				t.row.wall = append(t.row.wall, wall)
				t.row.cpu = append(t.row.cpu, cpu)
			}
		}
	}
	var rows []*row
	for _, t := range tools {
		rows = append(rows, t.row)
		if t.row.name == "matchd" && t.row.wrong != "" {
			b.failed = true
		}
		if t.row.ok() {
			name := strings.ReplaceAll(t.row.name, "-", "_")
			for i, w := range t.row.wall {
				fmt.Fprintf(&b.benchfmt, "BenchmarkEndToEnd/corpus=%s/tool=%s \t1\t%d ns/op", kind, name, w.Nanoseconds())
				if t.row.records > 0 {
					fmt.Fprintf(&b.benchfmt, "\t%.2f MB/s\t%.0f records/s", float64(t.row.bytes)/1e6/w.Seconds(), float64(t.row.records)/w.Seconds())
				}
				fmt.Fprintf(&b.benchfmt, "\t%d cpu-ns/op\n", t.row.cpu[i].Nanoseconds())
			}
		}
	}
	return rows
}

// naiveLimit returns how many records the naive baseline reads: about 20
// seconds' worth (5 with --short), since its URL loop costs O(URL indicators) per URL field.
func (b *bench) naiveLimit(kind gen.Kind, e *gen.Expected) int {
	n := b.o.naiveRecords
	if n == 0 {
		urls := max(e.Indicators["url"], 1)
		budget := 2e9 // URL comparisons: about 20 s
		if kind == gen.URLs {
			budget = 5e8 // every record holds URLs
		}
		if b.o.short {
			budget /= 4
		}
		n = int(budget / float64(urls))
	}
	if n >= e.Records {
		return e.Records
	}
	return max(n/e.PrefixStep, 1) * e.PrefixStep
}

// exec runs argv with its stdout going through a pipe (GNU grep stops at
// the first match when its output is /dev/null) and returns the wall and
// CPU time and what it printed.
func (b *bench) exec(argv, env []string, exit1OK bool) (wall, cpu time.Duration, out []byte, err error) {
	cmd := exec.CommandContext(b.ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var ob, eb limitedBuffer
	ob.max, eb.max = 1<<20, 64<<10
	cmd.Stdout, cmd.Stderr = &ob, &eb
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		// grep and rg exit 1 when nothing matched: a count of zero.
		var ee *exec.ExitError
		if exit1OK && errors.As(err, &ee) && ee.ExitCode() == 1 {
			return wall, cpu, ob.Bytes(), nil
		}
		return wall, cpu, nil, fmt.Errorf("%v: %s", err, firstLine(strings.TrimSpace(eb.String())))
	}
	return wall, cpu, ob.Bytes(), nil
}

// hyperfine times t with hyperfine, output through a pipe.
func (b *bench) hyperfine(t *tool, env []string) error {
	f, err := os.CreateTemp("", "matchd-bench-*.json")
	if err != nil {
		return err
	}
	f.Close()
	defer os.Remove(f.Name())
	var quoted []string
	for _, a := range t.argv {
		quoted = append(quoted, shellQuote(a))
	}
	argv := []string{b.tools["hyperfine"], "--runs", strconv.Itoa(b.o.runs), "-N", "--output=pipe", "--style", "none", "--export-json", f.Name()}
	if t.row.peer {
		argv = append(argv, "-i") // grep exits 1 when nothing matched
	}
	argv = append(argv, strings.Join(quoted, " "))
	if _, _, _, err := b.exec(argv, env, false); err != nil {
		return fmt.Errorf("hyperfine: %w", err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return err
	}
	var res struct {
		Results []struct {
			Times  []float64 `json:"times"`
			User   float64   `json:"user"`
			System float64   `json:"system"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &res); err != nil || len(res.Results) != 1 {
		return fmt.Errorf("cannot read hyperfine's JSON: %v", err)
	}
	r := res.Results[0]
	cpu := time.Duration((r.User + r.System) * 1e9)
	for _, s := range r.Times {
		t.row.wall = append(t.row.wall, time.Duration(s*1e9))
		t.row.cpu = append(t.row.cpu, cpu)
	}
	return nil
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cleanEnv returns the environment without MATCHD_ settings, which would
// change what matchd matches.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MATCHD_") {
			env = append(env, kv)
		}
	}
	return env
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// countLines counts the lines of a file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// sumCounts adds the per-file counts grep -c -h and rg -c --no-filename
// print (rg omits files without a match; no output at all means zero).
func sumCounts(out []byte) (int, error) {
	n := 0
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.Atoi(l)
		if err != nil {
			return 0, fmt.Errorf("cannot read count %q", l)
		}
		n += v
	}
	return n, nil
}

// table renders the rows of one corpus.
func (b *bench) table(kind gen.Kind, e *gen.Expected, rows []*row) string {
	var s strings.Builder
	fmt.Fprintf(&s, "\n== %s corpus: %s records, %.1f MB in %d file(s); %s patterns (%s)\n",
		kind, thousands(e.Records), float64(e.Bytes)/1e6, len(e.Files), thousands(e.PatternCount), indicatorSummary(e))
	fmt.Fprintf(&s, "   expected: %s alerts; %s lines hold an indicator string (%s lookalikes that must not alert)\n",
		thousands(e.Alerts), thousands(e.LiteralLines), thousands(e.Lookalikes))
	var m *row
	if r := find(rows, "matchd"); r.ok() {
		m = r
	}
	cells := [][]string{{"tool", "time (median)", "min-max s", "CPU", "records/s", "MB/s", "vs matchd", "count"}}
	for _, r := range rows {
		switch {
		case r.skip != "":
			cells = append(cells, []string{r.label, r.skip})
			continue
		case r.wrong != "" && len(r.wall) == 0:
			cells = append(cells, []string{r.label, "FAILED", "", "", "", "", "", r.wrong})
			continue
		}
		med := r.median()
		lo, hi := slices.Min(r.wall), slices.Max(r.wall)
		vs := "-"
		if m != nil {
			// How many times matchd's time the tool takes for the whole
			// corpus; the naive row is extrapolated from its prefix.
			full := med.Seconds()
			if r.records > 0 {
				full *= float64(e.Records) / float64(r.records)
			}
			vs = fmt.Sprintf("%.2fx", full/m.median().Seconds())
			if r.records > 0 && r.records < e.Records {
				vs = "~" + vs
			}
		}
		count := r.note
		if r.wrong != "" {
			count = "WRONG: " + r.wrong
		}
		rps, mbps := "-", "-"
		if r.records > 0 {
			rps = thousands(int(math.Round(float64(r.records) / med.Seconds())))
			mbps = fmt.Sprintf("%.1f", float64(r.bytes)/1e6/med.Seconds())
		}
		cells = append(cells, []string{r.label, fmt.Sprintf("%.3f s", med.Seconds()), fmt.Sprintf("%.2f-%.2f", lo.Seconds(), hi.Seconds()),
			fmt.Sprintf("%.2f s", r.medianCPU().Seconds()), rps, mbps, vs, count})
	}
	writeTable(&s, cells)
	s.WriteString("   vs matchd: the tool's time over matchd's (above 1: matchd is faster); CPU: user+system time;\n   feeds only: matchd loading and compiling the feeds, part of its time above\n")
	return s.String()
}

// writeTable writes cells in columns: the first and last left-aligned, the
// others right-aligned. A short row's last cell spans the rest.
func writeTable(w io.Writer, cells [][]string) {
	var width []int
	for _, row := range cells {
		for i, c := range row {
			if i == len(row)-1 && len(row) < len(cells[0]) {
				break
			}
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(c))
		}
	}
	for _, row := range cells {
		var line strings.Builder
		line.WriteString("   ")
		for i, c := range row {
			switch {
			case i == len(row)-1 && len(row) < len(cells[0]):
				line.WriteString(c)
			case i == 0 || i == len(cells[0])-1:
				fmt.Fprintf(&line, "%-*s", width[i], c)
			default:
				fmt.Fprintf(&line, "%*s", width[i], c)
			}
			line.WriteString("  ")
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}

func indicatorSummary(e *gen.Expected) string {
	var parts []string
	for _, k := range []struct{ key, name string }{{"url", "URLs"}, {"ip", "IPs"}, {"cidr", "CIDRs"}, {"domain", "domains"}, {"hash", "hashes"}} {
		if n := e.Indicators[k.key]; n > 0 {
			parts = append(parts, thousands(n)+" "+k.name)
		}
	}
	return strings.Join(parts, ", ")
}

// thousands formats n with commas.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// describeMachine returns the header of the results: date, commit, Go,
// CPU, memory, tools and the run's options.
func (b *bench) describeMachine() string {
	var s strings.Builder
	now := time.Now().UTC()
	fmt.Fprintf(&s, "matchd end-to-end benchmark\n")
	fmt.Fprintf(&s, "date:      %s\n", now.Format(time.RFC3339))
	fmt.Fprintf(&s, "commit:    %s\n", b.commit(true))
	fmt.Fprintf(&s, "go:        %s\n", b.output(b.tools["go"], "version"))
	fmt.Fprintf(&s, "cpu:       %s\n", cpuModel())
	fmt.Fprintf(&s, "nproc:     %d\n", runtime.NumCPU())
	fmt.Fprintf(&s, "memory:    %s\n", memTotal())
	fmt.Fprintf(&s, "kernel:    %s\n", strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")))
	fmt.Fprintf(&s, "load:      %s (at the start)\n", loadavg())
	for _, t := range []string{"grep", "rg", "hyperfine"} {
		v := "skipped (not installed)"
		if p := b.tools[t]; p != "" {
			v = firstLine(b.output(p, "--version"))
		}
		fmt.Fprintf(&s, "%-10s %s\n", t+":", v)
	}
	timer := "built-in: one checked warm-up run, then the tools take turns"
	if b.o.hyperfine {
		timer = "hyperfine --output=pipe, after one checked warm-up run"
	}
	mode := "full"
	if b.o.short {
		mode = "short"
	}
	fmt.Fprintf(&s, "options:   %s, %d timed runs per tool, %d file(s) per corpus, seed %d; timer: %s\n", mode, b.o.runs, b.o.files, b.o.seed, timer)
	return s.String()
}

func (b *bench) output(name string, args ...string) string {
	if name == "" {
		return "unknown"
	}
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Dir = b.root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// commit returns the short commit hash, "+dirty" when the tree has
// changes and long is set, or "nocommit".
func (b *bench) commit(long bool) string {
	if b.tools["git"] == "" {
		return "nocommit"
	}
	c := b.output(b.tools["git"], "rev-parse", "--short=12", "HEAD")
	if c == "unknown" || c == "" {
		return "nocommit"
	}
	if long && b.output(b.tools["git"], "status", "--porcelain", "--untracked-files=no") != "" {
		c += "+dirty"
	}
	return c
}

func cpuModel() string {
	for _, l := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	for _, l := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

func loadavg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// writeResults writes the machine description, the tables and the Go
// benchmark lines to <results>/<date>-<commit>.txt, with a numeric suffix
// when that file exists.
func (b *bench) writeResults(machine string) (string, error) {
	dir := b.o.results
	if dir == "-" {
		return "", nil
	}
	if dir == "" {
		dir = filepath.Join(b.root, "bench", "results")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := time.Now().UTC().Format("2006-01-02") + "-" + b.commit(false)
	path := filepath.Join(dir, base+".txt")
	for i := 2; ; i++ {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			break
		}
		path = filepath.Join(dir, fmt.Sprintf("%s-%d.txt", base, i))
	}
	var s strings.Builder
	s.WriteString(machine)
	s.WriteString(b.report.String())
	s.WriteString("\n# Go benchmark format, for benchstat:\n")
	fmt.Fprintf(&s, "goos: %s\ngoarch: %s\npkg: github.com/matchd/matchd/bench\ncpu: %s\n", runtime.GOOS, runtime.GOARCH, cpuModel())
	s.WriteString(b.benchfmt.String())
	return path, os.WriteFile(path, []byte(s.String()), 0o644)
}
