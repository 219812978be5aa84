package matcher

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// corpusTokens returns, from the shared corpus when present (MATCHD_CORPUS
// or ../../shared/corpus), the tokens of its CEF and ThreatFox files that
// look like addresses, URLs and host names, for the fuzz targets' seeds.
// Each list is sorted, without repeats, and capped at max entries.
func corpusTokens(max int) (addrs, urls, hosts []string) {
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	var files []string
	for _, pat := range []string{"cef/*/*.cef", "cef/*/*/*.log", "threatfox/*/*.log"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	split := func(r rune) bool { return strings.ContainsRune(" \t\r\n\"'|=,{}", r) }
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, tok := range strings.FieldsFunc(string(data), split) {
			switch {
			case strings.Contains(tok, "://"):
				urls = append(urls, tok)
			case strings.Trim(tok, "0123456789abcdefABCDEF.:[]/") == "" && strings.ContainsAny(tok, ".:") && len(tok) >= 3:
				addrs = append(addrs, tok)
			case strings.Count(tok, ".") >= 1 && strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == "":
				hosts = append(hosts, tok)
			}
		}
	}
	clean := func(s []string) []string {
		slices.Sort(s)
		s = slices.Compact(s)
		return s[:min(len(s), max)]
	}
	return clean(addrs), clean(urls), clean(hosts)
}
