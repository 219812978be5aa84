// Command matchd-gen writes a benchmark corpus, its threat feeds, a
// patterns file for literal scanners and expected.json; see bench/README.md.
//
//	matchd-gen -out DIR [-kind mixed|urls] [-records N] [-urls N] [-ips N]
//	           [-cidrs N] [-domains N] [-hashes N] [-seed S] [-files N]
//	           [-hit-rate P] [-lookalike-rate P] [-shares CEF,CSL,DNE,UCE]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/matchd/matchd/bench/gen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matchd-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write into `DIR` (created if missing)")
	kind := fs.String("kind", "mixed", "corpus: mixed (CEF and three JSON tables, every feed type) or urls (UrlClickEvents, URL feed only)")
	def := gen.DefaultConfig(gen.Mixed)
	records := fs.Int("records", def.Records, "records (lines) in the corpus")
	files := fs.Int("files", 1, "split the corpus into `N` files")
	urls := fs.Int("urls", def.URLs, "URL indicators")
	ips := fs.Int("ips", def.IPs, "IP indicators (about 93% IPv4, 4% IPv6, 3% ip:port); mixed only")
	cidrs := fs.Int("cidrs", def.CIDRs, "CIDR indicators; mixed only")
	domains := fs.Int("domains", def.Domains, "domain indicators; mixed only")
	hashes := fs.Int("hashes", def.Hashes, "hash indicators (MD5, SHA-1, SHA-256); mixed only")
	seed := fs.Uint64("seed", def.Seed, "random seed")
	hitRate := fs.Float64("hit-rate", def.HitRate, "share of records with an indicator in a matched field")
	lookRate := fs.Float64("lookalike-rate", def.LookalikeRate, "share of records with an indicator string where it must not match")
	shares := fs.String("shares", "40,25,20,15", "relative shares of CEF, CommonSecurityLog JSON, DeviceNetworkEvents JSON, UrlClickEvents JSON")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "matchd-gen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := gen.DefaultConfig(gen.Kind(*kind))
	cfg.Dir, cfg.Seed, cfg.Records, cfg.Files = *out, *seed, *records, *files
	cfg.URLs, cfg.HitRate, cfg.LookalikeRate = *urls, *hitRate, *lookRate
	if cfg.Kind == gen.Mixed {
		cfg.IPs, cfg.CIDRs, cfg.Domains, cfg.Hashes = *ips, *cidrs, *domains, *hashes
	}
	parts := strings.Split(*shares, ",")
	if len(parts) != 4 {
		fmt.Fprintf(stderr, "matchd-gen: -shares %q: want four comma-separated integers\n", *shares)
		return 2
	}
	for i, s := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(stderr, "matchd-gen: -shares %q: %v\n", *shares, err)
			return 2
		}
		cfg.Shares[i] = n
	}
	start := time.Now()
	exp, err := gen.Generate(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "matchd-gen: %v\n", err)
		return 2
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "%s: %d records, %.1f MB in %d file(s), %d patterns, %d alerts expected, %d literal lines, %d lookalikes (%.1fs)\n",
		cfg.Dir, exp.Records, float64(exp.Bytes)/1e6, len(exp.Files), exp.PatternCount, exp.Alerts, exp.LiteralLines, exp.Lookalikes, el.Seconds())
	return 0
}
