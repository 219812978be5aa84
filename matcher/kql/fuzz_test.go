package kql

import (
	"os"
	"testing"
)

// FuzzParse checks that parsing and compiling never panic, that every
// error carries a position, and that a parsed query's canonical form parses
// to the same canonical form.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/rules/mirai.kql"); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{
		`DeviceNetworkEvents | where RemoteIP in (matchd_ips) | project T = Timestamp | order by T asc nulls first | take 3`,
		`let l = dynamic(["a", 1]); UrlClickEvents | where Url has_any (l)`,
		`UrlClickEvents | where not(Url !contains @"x""y") and ['a b'] =~ h'z' or isempty(Url)`,
		`CommonSecurityLog | where ipv4_is_in_range(SourceIP, "10.0.0.0/8") and DestinationPort >= -1.5e3`,
		"UrlClickEvents\n| where Url has \"\\u00e9\"\n// c\nDeviceNetworkEvents | take 1;",
		`UrlClickEvents | where Url in (dynamic(["a"]), dynamic([]), "b")`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		qs, err := Parse("f.kql", []byte(src))
		if el, ok := err.(ErrorList); ok {
			for _, e := range el {
				if e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Errorf("error without position or message: %#v", e)
				}
			}
		} else if err != nil {
			t.Fatalf("error of type %T: %v", err, err)
		}
		for _, q := range qs {
			canon := q.String()
			again, err := Parse("g.kql", []byte(canon))
			if err != nil || len(again) != 1 {
				t.Fatalf("canonical form %q does not parse: %v", canon, err)
			}
			if got := again[0].String(); got != canon {
				t.Fatalf("canonical form changes:\n%s\n%s", canon, got)
			}
		}
		if err == nil {
			(&Program{Queries: qs}).Compile(Options{Feeds: genFeeds(t, 0)})
		}
	})
}
