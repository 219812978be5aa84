// Command naive is the baseline of the end-to-end benchmark: it counts the
// records that match the feeds the way package bench/naive does, in one
// goroutine, and prints "records N alerts A rejects R".
//
//	naive --iocs FEED [--iocs FEED ...] [--limit N] PATH...
//
// PATH is a file or a directory (its files in name order). --limit stops
// after N records, for feeds that would make a full run take hours.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matchd/matchd/bench/naive"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("naive", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var iocs listFlag
	fset.Var(&iocs, "iocs", "plain-list feed `FILE` (repeatable)")
	limit := fset.Int("limit", 0, "stop after `N` records (0: all)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(iocs) == 0 || fset.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: naive --iocs FEED [--iocs FEED ...] [--limit N] PATH...")
		return 2
	}
	set := naive.NewSet()
	for _, f := range iocs {
		if err := set.LoadFile(f); err != nil {
			fmt.Fprintf(stderr, "naive: %v\n", err)
			return 2
		}
	}
	files, err := expand(fset.Args())
	if err != nil {
		fmt.Fprintf(stderr, "naive: %v\n", err)
		return 2
	}
	var records, alerts, rejects int
	for _, path := range files {
		done, err := scan(path, set, *limit, &records, &alerts, &rejects)
		if err != nil {
			fmt.Fprintf(stderr, "naive: %v\n", err)
			return 1
		}
		if done {
			break
		}
	}
	fmt.Fprintf(stdout, "records %d alerts %d rejects %d\n", records, alerts, rejects)
	return 0
}

func scan(path string, set *naive.Set, limit int, records, alerts, rejects *int) (done bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if limit > 0 && *records >= limit {
			return true, nil
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		*records++
		hit, err := set.MatchLine(line)
		if err != nil {
			*rejects++
		}
		if hit {
			*alerts++
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return false, nil
}

// expand replaces directories by their regular files, in name order.
func expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var sub []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				sub = append(sub, q)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(sub)
		out = append(out, sub...)
	}
	return out, nil
}
