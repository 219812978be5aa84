package main

import (
	"fmt"
	"io"
	"time"

	"github.com/matchd/matchd/ingest/feed"
	"github.com/matchd/matchd/matcher"
)

// loadFeeds loads every feed, printing bad entries (at most maxSamples per
// feed) to log. It fails when a feed is unreadable, of no known format, or
// holds no indicator.
func loadFeeds(paths []string, now time.Time, log io.Writer) ([]*feed.Feed, []matcher.Indicator, error) {
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no threat feed: give --iocs FILE")
	}
	var feeds []*feed.Feed
	for _, p := range paths {
		f, err := feed.Load(p, feed.Options{Now: now})
		if err != nil {
			return nil, nil, err
		}
		for i, e := range f.Bad {
			if i == maxSamples {
				fmt.Fprintf(log, "matchd: %s: %d more bad entries (matchd check --iocs %s lists them)\n", p, f.BadCount-maxSamples, p)
				break
			}
			fmt.Fprintf(log, "matchd: bad entry: %v\n", e)
		}
		feeds = append(feeds, f)
	}
	return feeds, feed.Merge(feeds...), nil
}
