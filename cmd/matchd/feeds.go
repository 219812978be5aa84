package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/matchd/matchd/ingest/feed"
)

// loadFeeds loads every feed, printing bad entries (at most maxSamples per
// feed) to log. It fails when a feed is unreadable, of no known format, or
// holds no indicator. feed.MergeSeq merges them.
func loadFeeds(paths []string, now time.Time, log io.Writer) ([]*feed.Feed, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no threat feed: give --iocs FILE")
	}
	// Feeds load in parallel (a million-line list takes a second or so);
	// the results are used in the order given.
	feeds := make([]*feed.Feed, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() { feeds[i], errs[i] = feed.Load(p, feed.Options{Now: now}) })
	}
	wg.Wait()
	for i, p := range paths {
		f, err := feeds[i], errs[i]
		if err != nil {
			return nil, err
		}
		for i, e := range f.Bad {
			if i == maxSamples {
				fmt.Fprintf(log, "matchd: %s: %d more bad entries (matchd check --iocs %s lists them)\n", p, f.BadCount-maxSamples, p)
				break
			}
			fmt.Fprintf(log, "matchd: bad entry: %v\n", e)
		}
	}
	return feeds, nil
}
