package gen

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Kind selects the corpus.
type Kind string

const (
	// Mixed is CEF and the three JSON tables against every feed type.
	Mixed Kind = "mixed"
	// URLs is UrlClickEvents JSON against a URL feed only.
	URLs Kind = "urls"
)

// Config says what to generate. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Dir receives the files; it is created if missing. Existing files of
	// the same names are replaced.
	Dir  string
	Kind Kind
	Seed uint64
	// Records is the number of log records (lines).
	Records int
	// Files splits the corpus into that many files of consecutive records,
	// so that tools that search files in parallel can; the concatenation
	// is the same for every value. Default 1.
	Files int
	// Indicator counts. For Kind URLs only URLs is used. IPs holds about
	// 93% IPv4, 4% IPv6 and 3% ip:port indicators; CIDRs about 95% IPv4,
	// mostly /16 to /28 with some as broad as /8; Hashes half SHA-256 and a
	// quarter each SHA-1 and MD5.
	URLs, IPs, CIDRs, Domains, Hashes int
	// HitRate is the probability that a record holds an indicator in a
	// matched field. Default 0.005.
	HitRate float64
	// LookalikeRate is the probability that a record that is not a hit
	// holds an indicator string where it must not match (see the package
	// documentation). Default 0.001.
	LookalikeRate float64
	// Shares are the relative weights of CEF lines, CommonSecurityLog JSON,
	// DeviceNetworkEvents JSON and UrlClickEvents JSON in a Mixed corpus.
	// Default 40, 25, 20, 15.
	Shares [4]int
}

// DefaultConfig returns the full benchmark configuration of the given kind:
// one million records against 100k URLs, and for Mixed 1M IPs, 10k CIDRs,
// 10k domains and 10k hashes.
func DefaultConfig(kind Kind) Config {
	c := Config{
		Kind:          kind,
		Seed:          1,
		Records:       1_000_000,
		Files:         1,
		URLs:          100_000,
		HitRate:       0.005,
		LookalikeRate: 0.001,
		Shares:        [4]int{40, 25, 20, 15},
	}
	if kind == Mixed {
		c.IPs, c.CIDRs, c.Domains, c.Hashes = 1_000_000, 10_000, 10_000, 10_000
	}
	return c
}

func (c *Config) validate() error {
	switch {
	case c.Dir == "":
		return errors.New("no output directory")
	case c.Kind != Mixed && c.Kind != URLs:
		return fmt.Errorf("kind %q: want mixed or urls", c.Kind)
	case c.Records < 0 || c.URLs < 0 || c.IPs < 0 || c.CIDRs < 0 || c.Domains < 0 || c.Hashes < 0:
		return errors.New("negative count")
	case c.Files < 1 || c.Files > 10000:
		return fmt.Errorf("files %d: want 1-10000", c.Files)
	case c.IPs > 50_000_000 || c.URLs > 50_000_000 || c.CIDRs > 1_000_000 || c.Domains > 50_000_000 || c.Hashes > 50_000_000:
		return errors.New("indicator count too large")
	case !(c.HitRate >= 0 && c.HitRate <= 1) || !(c.LookalikeRate >= 0 && c.LookalikeRate <= 1):
		return errors.New("rates must be in [0, 1]")
	}
	if c.Kind == URLs {
		if c.HitRate > 0 && c.URLs == 0 {
			return errors.New("urls corpus with hits needs URL indicators")
		}
		return nil
	}
	sum := 0
	for _, s := range c.Shares {
		if s < 0 {
			return errors.New("negative share")
		}
		sum += s
	}
	if sum == 0 {
		return errors.New("all shares are zero")
	}
	if c.HitRate > 0 && c.URLs+c.IPs+c.CIDRs+c.Domains+c.Hashes == 0 {
		return errors.New("hits need indicators")
	}
	return nil
}

// Table names, as matchd and Sentinel spell them.
const (
	CommonSecurityLog   = "CommonSecurityLog"
	DeviceNetworkEvents = "DeviceNetworkEvents"
	UrlClickEvents      = "UrlClickEvents"
)

// Expected describes what was generated and what a correct matcher finds.
// It is written to expected.json.
type Expected struct {
	Kind    Kind   `json:"kind"`
	Seed    uint64 `json:"seed"`
	Records int    `json:"records"`
	Bytes   int64  `json:"bytes"`
	// Files are the corpus files, relative to the output directory, in
	// record order.
	Files []string `json:"files"`
	// Feeds are the plain-list feed files, relative to the output
	// directory.
	Feeds []string `json:"feeds"`
	// Patterns is the file with every indicator string, one a line.
	Patterns     string         `json:"patterns"`
	PatternCount int            `json:"pattern_count"`
	Indicators   map[string]int `json:"indicators"`
	// Tables counts records and alerts per table; CEF lines count under
	// CommonSecurityLog and again under CEF.
	Tables map[string]*TableCount `json:"tables"`
	// Alerts is the number of records that must alert (one alert each).
	Alerts int `json:"alerts"`
	// AlertsByKind splits Alerts by the planted indicator's type and
	// field.
	AlertsByKind map[string]int `json:"alerts_by_kind"`
	// LiteralLines is the number of lines that contain at least one line
	// of the patterns file: what grep -c -F -f finds.
	LiteralLines int `json:"literal_lines"`
	// Lookalikes is the number of records that hold an indicator string
	// but must not alert.
	Lookalikes       int            `json:"lookalikes"`
	LookalikesByKind map[string]int `json:"lookalikes_by_kind"`
	// AlertsPrefix[i] is the number of records among the first
	// (i+1)*PrefixStep that must alert, for checking a run over a prefix
	// of the corpus.
	PrefixStep   int   `json:"prefix_step"`
	AlertsPrefix []int `json:"alerts_prefix"`
	// Config is the configuration that produced the files, Dir aside.
	Config Config `json:"config"`
}

// TableCount counts the records of one table.
type TableCount struct {
	Records int `json:"records"`
	Alerts  int `json:"alerts"`
}

// AlertsInFirst returns the number of alerts among the first n records, and
// false when n is not a multiple of PrefixStep (or the whole corpus).
func (e *Expected) AlertsInFirst(n int) (int, bool) {
	if n >= e.Records {
		return e.Alerts, true
	}
	if n <= 0 {
		return 0, true
	}
	if e.PrefixStep <= 0 || n%e.PrefixStep != 0 || n/e.PrefixStep > len(e.AlertsPrefix) {
		return 0, false
	}
	return e.AlertsPrefix[n/e.PrefixStep-1], true
}

// ExpectedFile is the name of the file Generate writes Expected to.
const ExpectedFile = "expected.json"

// ReadExpected reads dir/expected.json.
func ReadExpected(dir string) (*Expected, error) {
	b, err := os.ReadFile(filepath.Join(dir, ExpectedFile))
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ExpectedFile), err)
	}
	return &e, nil
}

// Generate writes the feeds, the patterns file, the corpus and
// expected.json into cfg.Dir, and returns what it wrote. It takes a few
// seconds per million records.
func Generate(cfg Config) (*Expected, error) {
	if cfg.Files == 0 {
		cfg.Files = 1
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "iocs"), 0o755); err != nil {
		return nil, err
	}
	ind := newIndicators(cfg)
	exp := &Expected{
		Kind:             cfg.Kind,
		Seed:             cfg.Seed,
		Records:          cfg.Records,
		Patterns:         "patterns.txt",
		Indicators:       map[string]int{},
		Tables:           map[string]*TableCount{},
		AlertsByKind:     map[string]int{},
		LookalikesByKind: map[string]int{},
		PrefixStep:       1000,
		Config:           cfg,
	}
	exp.Config.Dir = ""
	if err := ind.write(cfg.Dir, exp); err != nil {
		return nil, err
	}
	if err := writeCorpus(cfg, ind, exp); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, ExpectedFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return exp, nil
}

// writeCorpus writes the records into cfg.Files files.
func writeCorpus(cfg Config, ind *indicators, exp *Expected) error {
	g := newRecordGen(cfg, ind, exp)
	name := "mixed"
	if cfg.Kind == URLs {
		name = "urls"
	}
	rec := 0
	for f := 0; f < cfg.Files; f++ {
		fn := fmt.Sprintf("%s-%03d.log", name, f)
		if cfg.Files == 1 {
			fn = name + ".log"
		}
		end := int(int64(cfg.Records) * int64(f+1) / int64(cfg.Files))
		n, err := writeFile(filepath.Join(cfg.Dir, fn), func(w *bufio.Writer) error {
			for ; rec < end; rec++ {
				if _, err := w.Write(g.record(rec)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		exp.Files = append(exp.Files, fn)
		exp.Bytes += n
	}
	g.finish()
	return nil
}

// writeFile creates path and fills it through fill, returning its size.
func writeFile(path string, fill func(*bufio.Writer) error) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	var n int64
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			n = st.Size()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	return n, nil
}

// baseTime is the time of the first record; records follow at about
// 86 ms, one day per million records.
var baseTime = time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC).UnixMilli()

// bufFile is a file written through a buffer.
type bufFile struct {
	f    *os.File
	w    *bufio.Writer
	path string
}

func createBuffered(path string) (*bufFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &bufFile{f: f, w: bufio.NewWriterSize(f, 1<<20), path: path}, nil
}

func (b *bufFile) close() error {
	err := b.w.Flush()
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", b.path, err)
	}
	return nil
}
