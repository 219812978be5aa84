package main

import (
	"regexp"
)

var setTime = regexp.MustCompile(`("IndicatorSet":"[0-9a-f]{16})@[^"]*"`)

// stableSetTime replaces the load time in alerts' IndicatorSet, which
// differs from run to run, with "LOADED".
func stableSetTime(s string) string {
	return setTime.ReplaceAllString(s, `$1@LOADED"`)
}
