package kql

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // canonical form of each query
		names     []string // rule names, when checked
	}{
		{
			name: "seed",
			src: `// Hunt for network connections to known malicious IPs
// Source: ThreatFox - Mirai
let malicious_ips = dynamic(["176.65.139.126", "169.239.130.20"]);
CommonSecurityLog
| where DestinationIP in (malicious_ips) or SourceIP in (malicious_ips)
| project TimeGenerated, SourceIP, DestinationIP, DestinationPort, DeviceAction, Activity
| order by TimeGenerated desc
// Hunt in Defender for Endpoint network events
let malicious_ips = dynamic(["176.65.139.126"]);
DeviceNetworkEvents
| where RemoteIP in (malicious_ips)
| project Timestamp, DeviceName
`,
			want: []string{
				`CommonSecurityLog | where (DestinationIP in (dynamic(["176.65.139.126", "169.239.130.20"])) or SourceIP in (dynamic(["176.65.139.126", "169.239.130.20"]))) | project TimeGenerated, SourceIP, DestinationIP, DestinationPort, DeviceAction, Activity | order by TimeGenerated desc nulls last`,
				`DeviceNetworkEvents | where RemoteIP in (dynamic(["176.65.139.126"])) | project Timestamp, DeviceName`,
			},
			names: []string{"Hunt for network connections to known malicious IPs", "Hunt in Defender for Endpoint network events"},
		},
		{
			name:  "default name",
			src:   "// header\n\nUrlClickEvents | take 0\n\nDeviceNetworkEvents\n| take 5",
			want:  []string{"UrlClickEvents | take 0", "DeviceNetworkEvents | take 5"},
			names: []string{"header", "f.kql:5"},
		},
		{
			name: "and binds tighter than or",
			src:  `DeviceNetworkEvents | where A == "a" or B == "b" and not(C != "c")`,
			want: []string{`DeviceNetworkEvents | where (A == "a" or (B == "b" and not(C != "c")))`},
		},
		{
			name: "every operator",
			src: `let s = "x"; let n = 5; let l = dynamic(["p", "q"]);
DeviceNetworkEvents
| where A == s and B != "y" and C =~ "Z" and D !~ 'w' and E in ("a", l) and F !in (l) and G in~ (l) and H !in~ ("k")
| where I has "t" and J !has "u" and K has_any (l) and L has_all ("m", "n") and M contains "c" and N !contains "d"
| where O startswith "s" and P endswith "e" and isempty(Q) and isnotempty(R) and ipv4_is_private(S)
| where ipv4_is_in_range(T, "10.0.0.0/8") and U < n and V <= 1.5 and W > -2 and X >= 3e2 and Y == true and Z != false and AA in (1, 2)`,
			want: []string{`DeviceNetworkEvents | where ((((((((((A == "x" and B != "y") and C =~ "Z") and D !~ "w") and E in ("a", dynamic(["p", "q"]))) and F !in (dynamic(["p", "q"]))) and G in~ (dynamic(["p", "q"]))) and H !in~ ("k")) and (((((I has "t" and J !has "u") and K has_any (dynamic(["p", "q"]))) and L has_all ("m", "n")) and M contains "c") and N !contains "d")) and ((((O startswith "s" and P endswith "e") and isempty(Q)) and isnotempty(R)) and ipv4_is_private(S))) and (((((((ipv4_is_in_range(T, "10.0.0.0/8") and U < 5) and V <= 1.5) and W > -2) and X >= 3e2) and Y == true) and Z != false) and AA in (1, 2)))`},
		},
		{
			name: "let scope is per query and later lets shadow",
			src:  "let a = \"1\";\nlet a = \"2\";\nUrlClickEvents | where Url == a\nlet a = \"3\";\nUrlClickEvents | where Url == a",
			want: []string{`UrlClickEvents | where Url == "2"`, `UrlClickEvents | where Url == "3"`},
		},
		{
			name: "strings",
			src:  `UrlClickEvents | where Url == @"c:\temp" or Url == "a\"b\\c\n" or Url == 'it\'s' or Url == h"hidden" or Url == @'x''y' or Url == "\u00e9"`,
			want: []string{`UrlClickEvents | where (((((Url == "c:\\temp" or Url == "a\"b\\c\n") or Url == "it's") or Url == "hidden") or Url == "x'y") or Url == "é")`},
		},
		{
			name: "quoted names and semicolons",
			src:  `DeviceNetworkEvents | where ['Odd Name'] == "x" | project ['My Col'] = ['Odd Name'], DeviceName; UrlClickEvents | take 1;`,
			want: []string{`DeviceNetworkEvents | where ["Odd Name"] == "x" | project ["My Col"] = ["Odd Name"], DeviceName`, `UrlClickEvents | take 1`},
		},
		{
			name: "order by keys",
			src:  "DeviceNetworkEvents | project Timestamp, N = DeviceName | order by N asc, Timestamp nulls first, N desc nulls last | take 3",
			want: []string{"DeviceNetworkEvents | project Timestamp, N = DeviceName | order by N asc nulls first, Timestamp desc nulls first, N desc nulls last | take 3"},
		},
		{
			name: "feed lists",
			src:  "DeviceNetworkEvents | where RemoteIP in (matchd_ips) or RemoteUrl has_any (matchd_urls, matchd_domains) or InitiatingProcessSHA256 in~ (matchd_hashes)",
			want: []string{"DeviceNetworkEvents | where ((RemoteIP in (matchd_ips) or RemoteUrl has_any (matchd_urls, matchd_domains)) or InitiatingProcessSHA256 in~ (matchd_hashes))"},
		},
		{
			name: "single element dynamic",
			src:  `let l = dynamic(["a"]); UrlClickEvents | where Url in (l) and Url in (dynamic(["b"])) and Url in (dynamic([]))`,
			want: []string{`UrlClickEvents | where ((Url in (dynamic(["a"])) and Url in (dynamic(["b"]))) and Url in (dynamic([])))`},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			qs, err := Parse("f.kql", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != len(c.want) {
				t.Fatalf("%d queries, want %d", len(qs), len(c.want))
			}
			for i, q := range qs {
				if got := q.String(); got != c.want[i] {
					t.Errorf("query %d:\n got %s\nwant %s", i, got, c.want[i])
				}
				if c.names != nil && q.Name != c.names[i] {
					t.Errorf("query %d: name %q, want %q", i, q.Name, c.names[i])
				}
				// The canonical form parses to itself.
				again, err := Parse("g.kql", []byte(q.String()))
				if err != nil || len(again) != 1 || again[0].String() != q.String() {
					t.Errorf("canonical form does not round-trip: %v", err)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		{"unsupported tabular operator", "DeviceNetworkEvents\n| extend x = 1", `f.kql:2:3: unsupported tabular operator "extend"`},
		{"summarize", "DeviceNetworkEvents | summarize count() by DeviceName", `f.kql:1:23: unsupported tabular operator "summarize"`},
		{"project-away", "DeviceNetworkEvents | project-away DeviceName", `f.kql:1:23: unsupported tabular operator "project-away"`},
		{"sort", "DeviceNetworkEvents | sort by Timestamp", `f.kql:1:23: unsupported tabular operator "sort" (matchd's KQL subset spells it order by)`},
		{"unsupported operator", `UrlClickEvents | where Url contains_cs "x"`, `f.kql:1:28: unsupported operator "contains_cs"`},
		{"matches regex", `UrlClickEvents | where Url matches regex "x"`, `f.kql:1:28: unsupported operator "matches"`},
		{"negated startswith", `UrlClickEvents | where Url !startswith "x"`, `f.kql:1:28: unsupported operator "!startswith"`},
		{"has_cs", `UrlClickEvents | where Url has_cs "x"`, `f.kql:1:28: unsupported operator "has_cs"`},
		{"between", `DeviceNetworkEvents | where RemotePort between (1 .. 2)`, `f.kql:1:40: unsupported operator "between"`},
		{"single equals", `UrlClickEvents | where Url = "x"`, `f.kql:1:28: unsupported operator "=" (use ==)`},
		{"unsupported function", `UrlClickEvents | where tolower(Url) == "x"`, `f.kql:1:24: unsupported function "tolower"`},
		{"function in project", `UrlClickEvents | project U = tolower(Url)`, `f.kql:1:30: unsupported function "tolower"`},
		{"function on right", `UrlClickEvents | where Url == strcat("a", "b")`, `f.kql:1:31: unsupported function "strcat"`},
		{"ago", `UrlClickEvents | where Timestamp > ago(1d)`, `f.kql:1:36: unsupported function "ago"`},
		{"timespan", `UrlClickEvents | where Timestamp > 1d`, `f.kql:1:36: unsupported literal "1d" (timespans and typed literals are not in matchd's KQL subset)`},
		{"unknown table", "SecurityEvent | take 1", `f.kql:1:1: unknown table "SecurityEvent" (matchd ingests CommonSecurityLog, DeviceNetworkEvents, UrlClickEvents)`},
		{"table case", "devicenetworkevents | take 1", `f.kql:1:1: unknown table "devicenetworkevents" (matchd ingests CommonSecurityLog, DeviceNetworkEvents, UrlClickEvents)`},
		{"union", "union DeviceNetworkEvents, UrlClickEvents", `f.kql:1:1: unsupported statement "union"`},
		{"unknown name", "UrlClickEvents | where Url in (bad_urls)", `f.kql:1:32: unknown name "bad_urls" (the right side must be a literal, a let name or a matchd_* feed list; comparing two columns is not supported)`},
		{"let scope ends with its query", "let l = dynamic([\"a\"]);\nUrlClickEvents | take 1\nUrlClickEvents | where Url in (l)", `f.kql:3:32: unknown name "l" (the right side must be a literal, a let name or a matchd_* feed list; comparing two columns is not supported)`},
		{"list for scalar", "let l = dynamic([\"a\"]); UrlClickEvents | where Url has l", `f.kql:1:56: has needs a single value; l is a list (use in or has_any)`},
		{"number for has", "UrlClickEvents | where Url has 5", `f.kql:1:32: has needs strings, found 5`},
		{"string for <", `DeviceNetworkEvents | where RemotePort < "5"`, `f.kql:1:42: < compares numbers, found "5"`},
		{"mixed in", `DeviceNetworkEvents | where RemotePort in (1, "2")`, `f.kql:1:47: in mixes numbers and strings`},
		{"empty has", `UrlClickEvents | where Url has_any ("a", "")`, `f.kql:1:42: has_any with an empty string is not supported (it matches every value)`},
		{"let value", "let x = toscalar(1); UrlClickEvents", `f.kql:1:9: unsupported let value "toscalar" (matchd's KQL subset has dynamic([…]) lists of strings and numbers, strings and numbers)`},
		{"dynamic object", `let x = dynamic({"a": 1}); UrlClickEvents`, `f.kql:1:17: unsupported dynamic value "{" (matchd's KQL subset has dynamic([…]) lists of strings and numbers)`},
		{"nested list", `let x = dynamic([["a"]]); UrlClickEvents`, `f.kql:1:18: unsupported list element "[" (dynamic lists hold strings and numbers)`},
		{"missing semicolon", "let x = \"a\"\nUrlClickEvents", `f.kql:2:1: expected ";" after let x, found "UrlClickEvents"`},
		{"predefined", `let matchd_ips = dynamic([]); UrlClickEvents`, `f.kql:1:5: matchd_ips is predefined (the loaded feeds' indicators); choose another name`},
		{"where after project", "UrlClickEvents | project Url | where Url has \"x\"", `f.kql:1:32: where after project is not supported (filter before projecting)`},
		{"take before order", "UrlClickEvents | take 5 | order by Timestamp", `f.kql:1:27: take before order by is not supported`},
		{"order by unprojected", "UrlClickEvents | project Url | order by Timestamp", `f.kql:1:41: order by Timestamp: not a column of the project list`},
		{"duplicate project column", "UrlClickEvents | project Url, U = Url, Url", `f.kql:1:40: column "Url" appears twice in project`},
		{"column alone", "UrlClickEvents | where IsClickedThrough", `f.kql:1:40: expected an operator after column IsClickedThrough, found end of file`},
		{"column alone with and", `UrlClickEvents | where IsClickedThrough and Url has "x"`, `f.kql:1:41: expected an operator after column IsClickedThrough, found "and" (a column alone is not a predicate)`},
		{"unterminated string", "UrlClickEvents | where Url == \"abc\n", `f.kql:1:31: unterminated string literal`},
		{"bad escape", `UrlClickEvents | where Url == "a\qb"`, `f.kql:1:31: unsupported escape \q in string literal`},
		{"trailing junk", `UrlClickEvents | take 1 )`, `f.kql:1:25: unexpected ")" after the query (a query ends at the end of its last line)`},
		{"two queries on a line", `UrlClickEvents | take 1 UrlClickEvents`, `f.kql:1:25: unexpected "UrlClickEvents" after the query (a query ends at the end of its last line)`},
		{"left side literal", `UrlClickEvents | where "x" == Url`, `f.kql:1:24: expected a predicate, found string "x"`},
		{"left side let", `let a = "x"; UrlClickEvents | where a == Url`, `f.kql:1:37: the left side of a comparison must be a column, not the list or value "a"`},
		{"invalid range", `DeviceNetworkEvents | where ipv4_is_in_range(RemoteIP, "10.0.0.0/33")`, ""},
		{"invalid utf-8", "UrlClickEvents | where Url == \"\xff\"", `f.kql:1:32: invalid UTF-8`},
		{"backquote", "UrlClickEvents | where Url == ```x```", "f.kql:1:31: unsupported multi-line string literal"},
		{"bool with has", "UrlClickEvents | where Url has true", `f.kql:1:32: unexpected true (true and false compare with == and != only)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.kql", []byte(c.src))
			if c.want == "" {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				return
			}
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("got %v, want an ErrorList", err)
			}
			if el[0].Error() != c.want {
				t.Errorf("got  %s\nwant %s", el[0], c.want)
			}
		})
	}
}

// TestCompileErrors covers the errors found after parsing.
func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"invalid range", `DeviceNetworkEvents | where ipv4_is_in_range(RemoteIP, "10.0.0.0/33")`, `f.kql:1:56: ipv4_is_in_range: "10.0.0.0/33" is not an IPv4 address or prefix`},
		{"ipv6 range", `DeviceNetworkEvents | where ipv4_is_in_range(RemoteIP, "2001:db8::/32")`, `f.kql:1:56: ipv4_is_in_range: "2001:db8::/32" is not an IPv4 address or prefix`},
		{"feed list without feeds", `DeviceNetworkEvents | where RemoteIP in (matchd_ips)`, `f.kql:1:42: matchd_ips needs a loaded feed (give --iocs)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(Options{}, Source{"f.kql", []byte(c.src)})
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

// TestParseRecovers checks that the parser reports one error per broken
// query and goes on with the next.
func TestParseRecovers(t *testing.T) {
	src := "UrlClickEvents | extend x = 1\n| where Url has \"a\"\nDeviceNetworkEvents | take 1\nCommonSecurityLog | where x ==\nUrlClickEvents | where Url has \"b\"\n"
	qs, err := Parse("f.kql", []byte(src))
	want := "f.kql:1:18: unsupported tabular operator \"extend\"\nf.kql:5:1: unknown name \"UrlClickEvents\" (the right side must be a literal, a let name or a matchd_* feed list; comparing two columns is not supported)"
	if err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	if len(qs) != 2 || qs[0].Table != "DeviceNetworkEvents" || qs[1].String() != `UrlClickEvents | where Url has "b"` {
		t.Errorf("queries: %v", qs)
	}
}

func TestMiraiRules(t *testing.T) {
	src, err := os.ReadFile("../../testdata/rules/mirai.kql")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := Parse("mirai.kql", src)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's three queries come first, verbatim.
	seed, err := os.ReadFile("../../testdata/seed/000_7b1a7b71cc467a56.txt")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(seed), "// Hunt for network connections")
	j := strings.Index(string(seed), "| Sentinel Table |")
	if i < 0 || j < 0 || !strings.HasPrefix(string(src), string(seed[i:j])) {
		t.Errorf("mirai.kql does not start with the seed's queries verbatim")
	}
	if len(qs) < 8 {
		t.Fatalf("%d queries", len(qs))
	}
	for _, q := range qs {
		if strings.Contains(q.Name, ".kql:") {
			t.Errorf("query at %v has no name", q.Pos)
		}
	}
}
