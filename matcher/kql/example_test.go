package kql_test

import (
	"fmt"
	"os"

	"github.com/matchd/matchd/matcher"
	"github.com/matchd/matchd/matcher/kql"
)

func Example() {
	src := `// Hunt in Defender for Endpoint network events, excluding admin nc
let malicious_ips = dynamic(["176.65.139.126", "169.239.130.20"]);
DeviceNetworkEvents
| where RemoteIP in (malicious_ips)
| where not(InitiatingProcessFileName =~ "nc" and InitiatingProcessCommandLine has "ssh")
| project Timestamp, Host = DeviceName, RemoteIP
`
	rules, err := kql.Compile(kql.Options{}, kql.Source{Name: "hunt.kql", Text: []byte(src)})
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := kql.NewEvaluator(rules) // one per goroutine

	e := &matcher.Event{Table: matcher.DeviceNetworkEvents}
	e.Set(matcher.Timestamp, []byte("2026-06-07T11:00:00Z"))
	e.Set(matcher.DeviceName, []byte("cam-gw-03"))
	e.Set(matcher.RemoteIP, []byte("176.65.139.126"))
	e.Set(matcher.InitiatingProcessFileName, []byte("busybox"))
	for _, id := range ev.Match(e) {
		os.Stdout.Write(ev.AppendAlert(nil, id, &matcher.Origin{Path: "events.json", Line: 1}))
	}

	// Unsupported KQL is an error naming the construct and its position.
	_, err = kql.Compile(kql.Options{}, kql.Source{Name: "bad.kql", Text: []byte("UrlClickEvents\n| where Url contains_cs \"Sakura\"")})
	fmt.Println(err)
	// Output:
	// {"Table":"DeviceNetworkEvents","Timestamp":"2026-06-07T11:00:00Z","Host":"cam-gw-03","RemoteIP":"176.65.139.126","Rule":"Hunt in Defender for Endpoint network events, excluding admin nc","Indicators":[{"Value":"176.65.139.126","Field":"RemoteIP","List":"malicious_ips"}],"AlertId":"9f95bca0079b9abb7c0ef22489087925","Origin":{"Path":"events.json","Line":1}}
	// bad.kql:2:13: unsupported operator "contains_cs"
}
